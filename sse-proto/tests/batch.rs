//! `OwnedParser::next_batch` (and `next_batch_into`, one batch reused): the same
//! events as `next`, held together.

#![cfg(feature = "std")]

use sse_proto::{Config, EventBatch, OwnedEvent, OwnedItem, OwnedParser, Parser};

/// The events of `chunks` through `next`, and through `next_batch` (each batch
/// event also owned, and the batches' owned iterators), with the skipped counts
/// (`next`'s as items, `next_batch`'s as the parser counts them).
#[allow(clippy::type_complexity)]
fn both(config: Config, chunks: &[&[u8]]) -> ((Vec<OwnedEvent>, u64), (Vec<OwnedEvent>, u64)) {
    let mut one = OwnedParser::new(Parser::with_config(config));
    let mut batched = OwnedParser::new(Parser::with_config(config));
    let (mut reused, mut batch) = (
        OwnedParser::new(Parser::with_config(config)),
        EventBatch::default(),
    );
    let (mut want, mut want_skipped) = (Vec::new(), 0);
    let (mut got, mut got_reused) = (Vec::new(), Vec::new());
    for chunk in chunks {
        reused.push(chunk.to_vec());
        while reused.next_batch_into(&mut batch) {
            assert!(!batch.is_empty(), "an empty batch");
            got_reused.extend(batch.iter().map(|e| e.into_owned()));
        }
        assert!(batch.is_empty(), "emptied when the chunk is used up");
        one.push(chunk.to_vec());
        while let Some(item) = one.next() {
            match item {
                OwnedItem::Event(event) => want.push(event),
                OwnedItem::Skipped(_) => want_skipped += 1,
                _ => {}
            }
        }
        batched.push(chunk.to_vec());
        while let Some(batch) = batched.next_batch() {
            assert!(!batch.is_empty(), "an empty batch");
            let borrowed: Vec<OwnedEvent> = batch.iter().map(|e| e.into_owned()).collect();
            for (event, owned) in batch.iter().zip(&borrowed) {
                assert!(event == *owned, "{event:?} owned is {owned:?}");
            }
            assert_eq!(batch.len(), borrowed.len());
            let owned: Vec<OwnedEvent> = batch.into_iter().collect();
            assert_eq!(owned, borrowed);
            got.extend(owned);
        }
    }
    assert_eq!(
        one.parser().last_event_id(),
        batched.parser().last_event_id()
    );
    assert_eq!(one.parser().retry(), batched.parser().retry());
    assert_eq!(one.skipped(), want_skipped, "next counts what it skips");
    assert_eq!(got_reused, got, "one batch, reused");
    assert_eq!(reused.skipped(), batched.skipped());
    ((want, want_skipped), (got, batched.skipped()))
}

#[test]
fn events_that_inherit_ids_in_one_batch_keep_each_their_own() {
    // Two IDs, each set in the chunk and then inherited by the event after it, then
    // one inherited from an earlier chunk.
    let chunks: [&[u8]; 2] = [
        b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\ndata: d\n\n",
        b"data: e\n\nid\ndata: f\n\n",
    ];
    let (want, got) = both(Config::new(), &chunks);
    assert_eq!(want, got);
    let ids: Vec<&str> = got.0.iter().map(|e| e.last_event_id()).collect();
    assert_eq!(ids, ["1", "1", "2", "2", "2", ""]);
}

#[test]
fn a_batch_holds_assembled_copied_and_shared_events_in_stream_order() {
    // An event cut by the first chunk's end (assembled), one with two data lines
    // (assembled), one with invalid UTF-8 (copied), and events whole in the chunk.
    let chunks: [&[u8]; 2] = [
        b"data: a\n\nevent: t\ndata: cut",
        b" here\n\ndata: x\ndata: y\n\ndata: \xff\n\nid: 9\ndata: z\n\n: note\nretry: 5\n\n",
    ];
    let (want, got) = both(Config::new(), &chunks);
    assert_eq!(want, got);
    let data: Vec<&str> = got.0.iter().map(|e| e.data()).collect();
    assert_eq!(data, ["a", "cut here", "x\ny", "\u{FFFD}", "z"]);
    assert_eq!(got.0[1].event_type(), "t");
}

#[test]
fn events_over_the_limit_are_counted_and_passed_over() {
    let config = Config::new().max_event_size(8);
    let chunks: [&[u8]; 1] = [b"data: 12345678901234\n\ndata: ok\n\n"];
    let (want, got) = both(config, &chunks);
    assert_eq!(want, got);
    assert_eq!(got.1, 1);
    assert_eq!(got.0.len(), 1);
}

#[test]
fn a_chunk_that_finishes_no_event_gives_no_batch() {
    let mut parser = OwnedParser::new(Parser::with_config(Config::new().max_event_size(8)));
    assert!(parser.next_batch().is_none());
    parser.push(&b"data: not yet"[..]);
    assert!(parser.next_batch().is_none());
    parser.push(&b"\n\n"[..]);
    assert_eq!(
        parser.next_batch().unwrap().get(0).unwrap().data(),
        "not yet"
    );
    assert!(parser.next_batch().is_none());
    // Only an event over the limit: counted, and no batch.
    parser.push(&b"data: 12345678901234\n\n"[..]);
    assert!(parser.next_batch().is_none());
    assert_eq!(parser.skipped(), 1);
    let empty = sse_proto::EventBatch::default();
    assert!(empty.is_empty() && empty.get(0).is_none() && empty.iter().next().is_none());
}

#[test]
fn batch_events_outlive_the_parser_and_share_the_chunk() {
    let chunk = sse_proto::Bytes::from_static(b"event: e\ndata: shared\n\n");
    let mut parser = OwnedParser::new(Parser::new());
    parser.push(chunk.clone());
    let batch = parser.next_batch().unwrap();
    drop(parser);
    let event = batch.get(0).unwrap();
    assert_eq!(event.data().as_ptr(), chunk[15..].as_ptr());
    let owned = event.into_owned();
    drop(batch);
    assert_eq!(owned, OwnedEvent::new("e", "shared", ""));
    assert_eq!(owned.data().as_ptr(), chunk[15..].as_ptr());
}

#[test]
fn a_chunk_of_more_events_than_a_batch_holds_gives_several_batches() {
    use sse_proto::EventBatch;
    for event in [
        &b"data: x\n\n"[..],
        b"data: a\ndata: b\n\n",
        b"id: 1\ndata: y\n\n",
    ] {
        let chunk = event.repeat(EventBatch::MAX_EVENTS + 904);
        let mut parser = OwnedParser::new(Parser::new());
        parser.push(chunk);
        let mut sizes = Vec::new();
        while let Some(batch) = parser.next_batch() {
            sizes.push(batch.len());
        }
        assert_eq!(sizes, [EventBatch::MAX_EVENTS, 904], "{event:?}");
    }
}

#[test]
fn batches_can_go_to_another_thread() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<sse_proto::EventBatch>();
    send_sync::<sse_proto::BatchIntoIter>();
}

#[test]
fn batches_iterate_from_either_end() {
    // A batch that lists its events (the first one is in the chunk's text), and
    // one of assembled events alone (which it does not list).
    for chunks in [
        [&b"data: 1\n\ndata: 2\ndata: 2\n\ndata: 3\n\n"[..], b""],
        [
            b"data: 1\ndata: 1\n\ndata: 2\ndata: 2\n\ndata: 3\ndata: ",
            b"3\n\n",
        ],
    ] {
        let mut parser = OwnedParser::new(Parser::new());
        let mut forward = Vec::new();
        let mut backward = Vec::new();
        for chunk in chunks {
            parser.push(chunk);
            while let Some(batch) = parser.next_batch() {
                forward.extend(batch.iter().map(|e| e.data().to_owned()));
                let mut back: Vec<String> = batch.iter().rev().map(|e| e.data().into()).collect();
                let owned: Vec<String> = batch.into_iter().rev().map(|e| e.data().into()).collect();
                assert_eq!(back, owned);
                back.reverse();
                backward.extend(back);
            }
        }
        assert_eq!(forward, backward);
        assert_eq!(forward.len(), 3, "{forward:?}");
    }
}

#[test]
fn a_reused_batch_lists_the_assembled_events_before_its_first_event_in_the_text() {
    // The first chunk leaves the batch's list with room; the second begins with
    // an assembled event (two data lines), held by itself, then one in the text:
    // the list must name the first one too, in its place.
    let mut parser = OwnedParser::new(Parser::new());
    let mut batch = EventBatch::default();
    let mut seen = Vec::new();
    for chunk in [
        &b"data: 1\n\ndata: 2\n\n"[..],
        b"data: a\ndata: b\n\ndata: c\n\n",
    ] {
        parser.push(chunk);
        while parser.next_batch_into(&mut batch) {
            let data: Vec<String> = batch.iter().map(|e| e.data().to_owned()).collect();
            assert_eq!(data.len(), batch.len());
            let back: Vec<String> = batch.iter().rev().map(|e| e.data().to_owned()).collect();
            assert!(data.iter().eq(back.iter().rev()));
            assert_eq!(
                batch.get(0).map(|e| e.data().to_owned()),
                data.first().cloned()
            );
            seen.extend(data);
        }
    }
    assert_eq!(seen, ["1", "2", "a\nb", "c"]);
}
