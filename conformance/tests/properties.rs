//! Property tests: the parser agrees with the naive reference on arbitrary streams,
//! and no chunking of any stream changes what comes out, in any configuration.

use conformance::{Outcome, reference};
use proptest::prelude::*;
use sse_proto::{Config, Diagnostic, Item, OwnedItem, OwnedParser, Parser};

/// Byte streams that look like SSE often enough to reach every state: field names
/// and fragments of them, every line end, BOMs, UTF-8 fragments, NUL, digits.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(&b"data"[..]),
        Just(&b"data:"[..]),
        Just(&b"data: "[..]),
        Just(&b"dat"[..]),
        Just(&b"a:"[..]),
        Just(&b"event:"[..]),
        Just(&b"event: "[..]),
        Just(&b"id:"[..]),
        Just(&b"id: "[..]),
        Just(&b"retry:"[..]),
        Just(&b"retry: "[..]),
        Just(&b"Data:"[..]),
        Just(&b":"[..]),
        Just(&b" "[..]),
        Just(&b"\n"[..]),
        Just(&b"\n"[..]),
        Just(&b"\r"[..]),
        Just(&b"\r\n"[..]),
        Just(&b"\n\n"[..]),
        Just(&b"\xEF\xBB\xBF"[..]),
        Just(&b"\xEF\xBB"[..]),
        Just(&b"\xC3\xA9"[..]),
        Just(&b"\xC3"[..]),
        Just(&b"\xE2\x82"[..]),
        Just(&b"\0"[..]),
        Just(&b"12"[..]),
        Just(&b"x"[..]),
        Just(&b"hello world"[..]),
    ];
    let piece = prop_oneof![
        4 => token.prop_map(<[u8]>::to_vec),
        1 => prop::collection::vec(any::<u8>(), 0..8),
    ];
    prop::collection::vec(piece, 0..48).prop_map(|pieces| pieces.concat())
}

/// Split points for a stream of length `len`, as chunk lengths.
fn chunks_of(input: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut last = 0;
    for p in points {
        chunks.push(input[last..p].to_vec());
        last = p;
    }
    chunks.push(input[last..].to_vec());
    chunks
}

/// Everything the parser says, as comparable strings; consecutive streamed data
/// pieces are merged, since how data is cut into pieces depends on the chunks.
fn run(config: Config, chunks: &[Vec<u8>]) -> (Vec<String>, String, Option<u64>, bool) {
    let mut parser = Parser::with_config(config);
    let mut out: Vec<String> = Vec::new();
    let mut piece: Option<Vec<u8>> = None;
    let flush = |out: &mut Vec<String>, piece: &mut Option<Vec<u8>>| {
        if let Some(p) = piece.take() {
            out.push(format!("data piece {:?}", p.escape_ascii().to_string()));
        }
    };
    for chunk in chunks {
        let mut input: &[u8] = chunk;
        loop {
            match parser.parse(&mut input) {
                Ok(None) => break,
                Ok(Some(Item::Data(text))) => {
                    piece
                        .get_or_insert_with(Vec::new)
                        .extend_from_slice(text.as_bytes());
                    continue;
                }
                Ok(Some(item)) => {
                    flush(&mut out, &mut piece);
                    out.push(match item {
                        Item::Diagnostic(Diagnostic::UnknownField { name }) => {
                            format!("unknown field {name:?}")
                        }
                        other => format!("{other:?}"),
                    });
                }
                Err(e) => {
                    flush(&mut out, &mut piece);
                    out.push(format!("error {e:?}"));
                }
            }
        }
    }
    flush(&mut out, &mut piece);
    let discarded = parser.finish();
    (
        out,
        parser.last_event_id().to_string(),
        parser.retry().map(conformance::millis),
        discarded,
    )
}

fn owned_parser(config: Config) -> OwnedParser {
    OwnedParser::new(Parser::with_config(config))
}

fn configs() -> impl Strategy<Value = Config> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(usize::MAX), 0usize..40],
    )
        .prop_map(|(comments, diagnostics, stream_data, max)| {
            Config::new()
                .comments(comments)
                .diagnostics(diagnostics)
                .stream_data(stream_data)
                .max_event_size(max)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any chunking gives the same items as feeding the stream whole, in every
    /// configuration, including tiny limits and streamed data.
    #[test]
    fn chunking_does_not_change_items(
        input in stream(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        config in configs(),
    ) {
        let whole = run(config, std::slice::from_ref(&input));
        let split = run(config, &chunks_of(&input, &cuts));
        prop_assert_eq!(&whole, &split);
        let bytewise: Vec<Vec<u8>> = input.iter().map(|b| vec![*b]).collect();
        prop_assert_eq!(&whole, &run(config, &bytewise));
    }

    /// The fast parser agrees with the naive, literal reference implementation.
    #[test]
    fn parser_matches_reference(
        input in stream(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        seed_id in prop_oneof![Just(String::new()), Just("seed".to_string())],
    ) {
        let expected = reference::parse(&input, &seed_id);
        let mut parser = Parser::with_config(Config::new().comments(true));
        parser.set_last_event_id(seed_id.as_bytes()).unwrap();
        let mut items = Vec::new();
        for chunk in chunks_of(&input, &cuts) {
            let mut input: &[u8] = &chunk;
            while let Some(item) = parser.parse(&mut input).unwrap() {
                items.extend(Outcome::from_item(&item));
            }
        }
        parser.finish();
        prop_assert_eq!(items, expected.items);
        prop_assert_eq!(parser.last_event_id().to_string(), expected.last_event_id);
        prop_assert_eq!(parser.retry().map(conformance::millis), expected.retry);
    }

    /// `OwnedParser::next_batch` holds the events that `next` hands out (and counts
    /// the ones it skips), however the stream is cut; so does `next_batch_into`,
    /// one batch reused.
    #[test]
    fn batches_hold_the_events_next_hands_out(
        input in stream(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        config in configs(),
    ) {
        let config = config.stream_data(false);
        let (mut one, mut batched) = (owned_parser(config), owned_parser(config));
        let (mut reused, mut batch) = (owned_parser(config), sse_proto::EventBatch::default());
        let (mut want, mut got, mut got_reused) = (Vec::new(), Vec::new(), Vec::new());
        for chunk in chunks_of(&input, &cuts) {
            reused.push(chunk.clone());
            while reused.next_batch_into(&mut batch) {
                prop_assert!(!batch.is_empty());
                got_reused.extend(batch.iter().map(|event| event.into_owned()));
            }
            one.push(chunk.clone());
            while let Some(item) = one.next() {
                match item {
                    OwnedItem::Event(event) => want.push(Ok(event)),
                    OwnedItem::Skipped(_) => want.push(Err(())),
                    _ => {}
                }
            }
            batched.push(chunk);
            while let Some(batch) = batched.next_batch() {
                prop_assert!(!batch.is_empty());
                for event in &batch {
                    let owned = event.into_owned();
                    prop_assert!(event == owned);
                    got.push(Ok(owned));
                }
            }
        }
        // One batch reused holds the same events as a batch per chunk.
        let placed: Vec<_> = got.iter().map(|event: &Result<_, ()>| event.clone().unwrap()).collect();
        prop_assert_eq!(&got_reused, &placed);
        prop_assert_eq!(reused.skipped(), batched.skipped());
        // Skipped events are counted, not placed: compare them as a count.
        got.extend((0..batched.skipped()).map(|_| Err(())));
        want.sort_by_key(Result::is_ok);
        got.sort_by_key(Result::is_ok);
        prop_assert_eq!(want, got);
        prop_assert_eq!(one.parser().last_event_id(), batched.parser().last_event_id());
    }

    /// Streamed data, joined, is the data the buffered parser would dispatch.
    #[test]
    fn streamed_data_equals_buffered_data(input in stream()) {
        let mut buffered = Vec::new();
        let mut parser = Parser::new();
        let mut rest: &[u8] = &input;
        while let Some(item) = parser.parse(&mut rest).unwrap() {
            if let Item::Event(e) = item {
                buffered.push((e.event_type().to_string(), e.data().as_bytes().to_vec(), e.last_event_id().to_string()));
            }
        }
        let mut streamed = Vec::new();
        let mut data = Vec::new();
        let mut parser = Parser::with_config(Config::new().stream_data(true));
        let mut rest: &[u8] = &input;
        while let Some(item) = parser.parse(&mut rest).unwrap() {
            match item {
                Item::Data(piece) => data.extend_from_slice(piece.as_bytes()),
                Item::EventEnd(e) => {
                    prop_assert!(e.data().is_empty());
                    streamed.push((e.event_type().to_string(), std::mem::take(&mut data), e.last_event_id().to_string()));
                }
                _ => {}
            }
        }
        prop_assert_eq!(buffered, streamed);
    }
}
