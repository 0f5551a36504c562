//! The event streams' behaviour beyond the vectors: limits, transport errors, the
//! parser's state across streams, and streams that are not `Unpin`.

use std::io;
use std::pin::pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use sse_io::{EventStream, OwnedItem};
use sse_proto::{Config, Parser};

fn chunks(list: &[&'static str]) -> impl futures_core::Stream<Item = io::Result<Bytes>> + Unpin {
    let list: Vec<io::Result<Bytes>> = list
        .iter()
        .map(|c| Ok(Bytes::from_static(c.as_bytes())))
        .collect();
    futures_util::stream::iter(list)
}

#[test]
fn an_event_over_the_limit_is_skipped_and_the_stream_goes_on() {
    futures_executor::block_on(async {
        let input = chunks(&[
            "data: 0123456789abcdef",
            "0123456789\n\n",
            "data: small\n\n",
        ]);
        let mut events = EventStream::with_config(input, Config::new().max_event_size(16));
        // No error: a `try_next()?` loop goes on past it.
        assert_eq!(events.next().await.unwrap().unwrap().data(), "small");
        assert_eq!(events.skipped(), 1);
        assert!(events.next().await.is_none());
    });
}

#[test]
fn a_transport_error_ends_the_stream_and_drops_the_unfinished_event() {
    futures_executor::block_on(async {
        let input = futures_util::stream::iter([
            Ok(Bytes::from_static(b"data: one\n\ndata: unfini")),
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")),
            Ok(Bytes::from_static(b"shed\n\ndata: after\n\n")),
        ]);
        let mut events = EventStream::new(input);
        assert_eq!(events.next().await.unwrap().unwrap().data(), "one");
        let err = events.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        // Nothing after the error, not even what was pending before it.
        assert!(events.next().await.is_none());
        assert!(events.next().await.is_none());
    });
}

#[test]
fn the_parser_keeps_the_last_event_id_and_retry() {
    futures_executor::block_on(async {
        let mut parser = Parser::new();
        parser.set_last_event_id(b"41").unwrap();
        let input = chunks(&["data: a\n\nretry: 2500\n", "\n: note\nid: 42\ndata: b\n\n"]);
        let mut events = EventStream::with_parser(input, parser);
        let a = events.next().await.unwrap().unwrap();
        assert_eq!((a.data(), a.last_event_id()), ("a", "41"));
        assert_eq!(events.parser().retry(), None);

        // The rest as items: the parser's config (no comments) carries over.
        let mut items = events.into_items();
        assert_eq!(
            items.next().await.unwrap().unwrap(),
            OwnedItem::Retry(Duration::from_millis(2500))
        );
        let Some(Ok(OwnedItem::Event(b))) = items.next().await else {
            panic!()
        };
        assert_eq!((b.data(), b.last_event_id()), ("b", "42"));
        assert!(items.next().await.is_none());
        let (_chunks, parser) = items.into_parts();
        assert_eq!(
            (parser.last_event_id(), parser.retry()),
            ("42".into(), Some(Duration::from_millis(2500)))
        );
    });
}

/// A reconnecting client hands the parser to the next connection's stream: what the
/// last one left unfinished must not leak into it, while the last event ID carries on.
#[test]
fn the_parser_handed_back_after_the_end_starts_clean() {
    futures_executor::block_on(async {
        let first = futures_util::stream::iter([
            Ok(Bytes::from_static(
                b"id: 7
data: whole

id: 8
event: half
data: unfini",
            )),
            Err(io::Error::other("gone")),
        ]);
        let mut events = EventStream::new(first);
        assert_eq!(events.next().await.unwrap().unwrap().data(), "whole");
        assert!(events.next().await.unwrap().is_err());
        assert!(events.next().await.is_none());
        let (_, parser) = events.into_items().into_parts();

        let second = chunks(&["shed\n\ndata: fresh\n\n"]);
        let mut events = EventStream::with_parser(second, parser);
        let event = events.next().await.unwrap().unwrap();
        assert_eq!(
            (event.event_type(), event.data(), event.last_event_id()),
            ("message", "fresh", "7")
        );
        assert!(events.next().await.is_none());
    });
}

#[test]
fn a_stream_that_is_not_unpin_works_pinned() {
    futures_executor::block_on(async {
        let chunks = futures_util::stream::unfold(0, |n| async move {
            (n < 3).then(|| {
                (
                    Ok::<_, io::Error>(format!("data: {n}\n\n").into_bytes()),
                    n + 1,
                )
            })
        });
        let mut events = pin!(EventStream::new(chunks));
        let mut seen = Vec::new();
        while let Some(event) = events.next().await {
            seen.push(event.unwrap().into_data());
        }
        assert_eq!(seen, ["0", "1", "2"]);
    });
}

#[test]
fn batches_go_on_from_where_the_events_were_and_back() {
    futures_executor::block_on(async {
        let input = chunks(&[
            "data: 1\n\ndata: 2\n\nid: 7\ndata: 3\n\ndata: 4",
            "\n\n: only a comment\n\n",
            "data: 5\n\ndata: 6\n\n",
        ]);
        let mut events = EventStream::new(input);
        assert_eq!(events.next().await.unwrap().unwrap().data(), "1");
        // The rest of the first chunk, then the event the second one finishes;
        // the third chunk's are left for the events again.
        let mut batches = events.batches();
        let batch = batches.next().await.unwrap().unwrap();
        let data: Vec<&str> = batch.iter().map(|e| e.data()).collect();
        assert_eq!(data, ["2", "3"]);
        assert_eq!(batch.get(1).unwrap().last_event_id(), "7");
        let batch = batches.next().await.unwrap().unwrap();
        assert_eq!(batch.len(), 1);
        assert_eq!(batch.get(0).unwrap().last_event_id(), "7");
        assert_eq!(batches.parser().last_event_id(), "7");
        let mut events = batches.into_events();
        assert_eq!(events.next().await.unwrap().unwrap().data(), "5");
        assert_eq!(events.next().await.unwrap().unwrap().data(), "6");
        assert!(events.next().await.is_none());
    });
}

#[test]
fn a_transport_error_ends_the_batches_and_skips_are_counted() {
    futures_executor::block_on(async {
        let input = futures_util::stream::iter([
            Ok(Bytes::from_static(
                b"data: 0123456789abcdef0\n\ndata: one\n\ndata: unfini",
            )),
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")),
            Ok(Bytes::from_static(b"shed\n\ndata: after\n\n")),
        ]);
        let config = Config::new().max_event_size(16);
        let mut batches = EventStream::with_config(input, config).batches();
        let batch = batches.next().await.unwrap().unwrap();
        assert_eq!(batch.len(), 1);
        assert_eq!(batches.skipped(), 1);
        let err = batches.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        assert!(batches.next().await.is_none());
        assert!(batches.next().await.is_none());
    });
}

#[test]
fn a_transport_error_ends_the_batches_read_into_one() {
    futures_executor::block_on(async {
        let input = futures_util::stream::iter([
            Ok(Bytes::from_static(
                b"data: one\n\ndata: two\n\ndata: unfini",
            )),
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")),
            Ok(Bytes::from_static(b"shed\n\ndata: after\n\n")),
        ]);
        let mut events = EventStream::new(input);
        let mut batch = sse_io::EventBatch::default();
        assert!(events.next_batch_into(&mut batch).await.unwrap());
        let data: Vec<&str> = batch.iter().map(|e| e.data()).collect();
        assert_eq!(data, ["one", "two"]);
        let err = events.next_batch_into(&mut batch).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        assert!(batch.is_empty(), "emptied before the error");
        // The error ended the stream: the unfinished event is discarded.
        assert!(!events.next_batch_into(&mut batch).await.unwrap());
        assert!(events.next().await.is_none());
    });
}
