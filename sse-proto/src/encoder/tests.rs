//! The encoder's rules, one unit test each, and the properties that tie it to the
//! parser: lossless round trips in any chunking, and no injection from any input.
//!
//! Expectations are computed by small oracles written here from the spec's wording,
//! not by calling back into the encoder.

use core::time::Duration;
use std::borrow::ToOwned;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use proptest::collection::vec as prop_vec;
use proptest::prelude::*;

use crate::{
    Comment, Config, Encode, EncodeError, Item, KEEP_ALIVE, LastEventId, Message, Parser, Retry,
};
use crate::{SliceStorage, strategies};

/// What a client sees, owned, for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    Event {
        event_type: String,
        data: String,
        last_event_id: String,
    },
    Retry(u64),
    Comment(String),
}

/// The outcome of parsing a whole stream.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    items: Vec<Got>,
    last_event_id: String,
    retry: Option<u64>,
    /// `finish` found an unterminated block.
    pending: bool,
}

fn text(t: crate::Text<'_>) -> String {
    t.to_str().expect("test streams are UTF-8").to_owned()
}

/// Parses `chunks` as one stream, with comments reported.
fn parse_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Parsed {
    let mut parser = Parser::with_config(Config::new().comments(true));
    let mut items = Vec::new();
    for chunk in chunks {
        let mut input = chunk;
        while let Some(item) = parser.parse(&mut input).expect("within limits") {
            match item {
                Item::Event(event) => items.push(Got::Event {
                    event_type: text(event.event_type()),
                    data: text(event.data()),
                    last_event_id: text(event.last_event_id()),
                }),
                Item::Retry(time) => items.push(Got::Retry(time.as_millis() as u64)),
                Item::Comment(comment) => items.push(Got::Comment(text(comment))),
                other => panic!("unexpected item {other:?}"),
            }
        }
    }
    let pending = parser.finish();
    Parsed {
        items,
        last_event_id: text(parser.last_event_id()),
        retry: parser.retry().map(|time| time.as_millis() as u64),
        pending,
    }
}

fn parse(bytes: &[u8]) -> Parsed {
    parse_chunks([bytes])
}

/// The spec's line splitting of a value: CR, LF and CRLF each end a line.
fn normalise(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            out.push('\n');
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whole milliseconds of `d`, saturating.
fn ms(d: Duration) -> u64 {
    let ms = d
        .as_secs()
        .checked_mul(1000)
        .and_then(|ms| ms.checked_add(u64::from(d.subsec_millis())))
        .unwrap_or(u64::MAX);
    // Never `retry: 0` for a time that is not zero.
    if ms == 0 && d > Duration::ZERO { 1 } else { ms }
}

/// Anything the encoder writes, for mixed streams.
#[derive(Debug, Clone)]
enum Block {
    Message(Message<String>),
    Comment(String),
    Retry(Duration),
    LastEventId(String),
    KeepAlive,
}

impl Block {
    fn encode(&self) -> Vec<u8> {
        match self {
            Block::Message(m) => m.to_vec().unwrap(),
            Block::Comment(c) => Comment::new(c).to_vec().unwrap(),
            Block::Retry(d) => Retry::new(*d).to_vec().unwrap(),
            Block::LastEventId(id) => LastEventId::new(id).to_vec().unwrap(),
            Block::KeepAlive => KEEP_ALIVE.to_vec(),
        }
    }
}

/// What a client must see for `blocks`, from the spec's processing model.
fn expected(blocks: &[Block]) -> Parsed {
    let mut items = Vec::new();
    let mut last_event_id = String::new();
    let mut retry = None;
    let comments = |items: &mut Vec<Got>, c: &str| {
        for line in normalise(c).split('\n') {
            items.push(Got::Comment(line.to_owned()));
        }
    };
    for block in blocks {
        match block {
            Block::Message(m) => {
                if let Some(c) = &m.comment {
                    comments(&mut items, c);
                }
                if let Some(r) = m.retry {
                    retry = Some(ms(r));
                    items.push(Got::Retry(ms(r)));
                }
                if let Some(id) = &m.id {
                    last_event_id = id.clone();
                }
                let event_type = match &m.event {
                    Some(e) if !e.is_empty() => e.clone(),
                    _ => "message".to_owned(),
                };
                items.push(Got::Event {
                    event_type,
                    data: normalise(&m.data),
                    last_event_id: last_event_id.clone(),
                });
            }
            Block::Comment(c) => comments(&mut items, c),
            Block::Retry(r) => {
                retry = Some(ms(*r));
                items.push(Got::Retry(ms(*r)));
            }
            // No event, but the last event ID is set.
            Block::LastEventId(id) => last_event_id = id.clone(),
            Block::KeepAlive => items.push(Got::Comment(String::new())),
        }
    }
    Parsed {
        items,
        last_event_id,
        retry,
        pending: false,
    }
}

fn event(event_type: &str, data: &str, last_event_id: &str) -> Got {
    Got::Event {
        event_type: event_type.to_owned(),
        data: data.to_owned(),
        last_event_id: last_event_id.to_owned(),
    }
}

/// Encodes with every API, checks they agree with `encoded_len`, and returns the bytes.
fn encode_all_ways(item: &impl Encode) -> Vec<u8> {
    let len = item.encoded_len();
    let mut buf = vec![0xAA; len + 7];
    let n = item.encode(&mut buf).unwrap();
    assert_eq!(n, len);
    assert!(buf[len..].iter().all(|&b| b == 0xAA), "wrote past the end");
    buf.truncate(len);
    // With room for any data of this length, `encode` copies the data and checks
    // it in one pass, and writes again if it has a line end: the same bytes.
    let mut roomy = vec![0xAA; 8 * len + 64];
    assert_eq!(item.encode(&mut roomy), Ok(len));
    assert_eq!(&roomy[..len], &buf[..]);
    assert!(
        roomy[len..].iter().all(|&b| b == 0xAA),
        "wrote past the end"
    );
    assert_eq!(item.to_vec().unwrap(), buf);
    #[cfg(feature = "bytes")]
    {
        let mut out = bytes::BytesMut::new();
        assert_eq!(item.encode_buf(&mut out).unwrap(), len);
        assert_eq!(&out[..], &buf[..]);
        assert_eq!(&item.to_bytes().unwrap()[..], &buf[..]);
    }
    buf
}

/// Asserts that `bytes` is the stream `wire` and that a client reads exactly `items`
/// from it; returns all it read.
#[track_caller]
fn assert_stream(bytes: &[u8], wire: &[u8], items: &[Got]) -> Parsed {
    assert_eq!(bytes, wire);
    let parsed = parse(bytes);
    assert_eq!(parsed.items, items);
    parsed
}

/// Asserts that `encode` refuses `item` with `error` and leaves the buffer untouched.
#[track_caller]
fn assert_refused(item: &impl Encode, error: EncodeError) {
    let mut buf = [0xAAu8; 64];
    assert_eq!(item.encode(&mut buf), Err(error));
    assert_eq!(buf, [0xAA; 64], "nothing written");
}

// ---------------------------------------------------------------------------------
// Wire format.

#[test]
fn every_field_in_order() {
    let message = Message::new("d")
        .comment("c")
        .event("e")
        .id("i")
        .retry(Duration::from_millis(7));
    assert_eq!(
        encode_all_ways(&message),
        b": c\nevent: e\nid: i\nretry: 7\ndata: d\n\n"
    );
}

#[test]
fn data_line_ends_each_combination() {
    // (data, wire, data at the client)
    let cases: &[(&str, &str, &str)] = &[
        ("a", "data: a\n\n", "a"),
        ("a\nb", "data: a\ndata: b\n\n", "a\nb"),
        ("a\rb", "data: a\ndata: b\n\n", "a\nb"),
        // A CRLF is one line end: one LF, not two.
        ("a\r\nb", "data: a\ndata: b\n\n", "a\nb"),
        // LF then CR is two line ends.
        ("a\n\rb", "data: a\ndata: \ndata: b\n\n", "a\n\nb"),
        ("a\r\rb", "data: a\ndata: \ndata: b\n\n", "a\n\nb"),
        ("a\n\nb", "data: a\ndata: \ndata: b\n\n", "a\n\nb"),
        ("a\r\n\r\nb", "data: a\ndata: \ndata: b\n\n", "a\n\nb"),
        ("a\r\r\nb", "data: a\ndata: \ndata: b\n\n", "a\n\nb"),
        ("a\r\n\nb", "data: a\ndata: \ndata: b\n\n", "a\n\nb"),
        ("a\r\n\rb", "data: a\ndata: \ndata: b\n\n", "a\n\nb"),
        ("a\n\r\nb", "data: a\ndata: \ndata: b\n\n", "a\n\nb"),
        // Leading and trailing line ends survive as empty lines.
        ("\na", "data: \ndata: a\n\n", "\na"),
        ("a\n", "data: a\ndata: \n\n", "a\n"),
        ("a\r", "data: a\ndata: \n\n", "a\n"),
        ("a\r\n", "data: a\ndata: \n\n", "a\n"),
        ("\n", "data: \ndata: \n\n", "\n"),
        ("\r\n", "data: \ndata: \n\n", "\n"),
        ("\n\r", "data: \ndata: \ndata: \n\n", "\n\n"),
    ];
    for &(data, wire, received) in cases {
        let bytes = encode_all_ways(&Message::new(data));
        assert_eq!(bytes, wire.as_bytes(), "wire for {data:?}");
        assert_eq!(
            parse(&bytes).items,
            [event("message", received, "")],
            "received for {data:?}"
        );
    }
}

#[test]
fn empty_data_still_dispatches() {
    let bytes = encode_all_ways(&Message::new(""));
    assert_eq!(bytes, b"data: \n\n");
    assert_eq!(parse(&bytes).items, [event("message", "", "")]);
}

#[test]
fn only_cr_data() {
    for (data, wire, received) in [
        ("\r", "data: \ndata: \n\n", "\n"),
        ("\r\r", "data: \ndata: \ndata: \n\n", "\n\n"),
        ("\r\r\r", "data: \ndata: \ndata: \ndata: \n\n", "\n\n\n"),
    ] {
        let bytes = encode_all_ways(&Message::new(data));
        assert_eq!(bytes, wire.as_bytes());
        assert_eq!(parse(&bytes).items, [event("message", received, "")]);
    }
}

#[test]
fn leading_spaces_survive_in_every_field() {
    for value in [" x", "  x", " ", "  "] {
        let message = Message::new(value).event(value).id(value).comment(value);
        let bytes = encode_all_ways(&message);
        assert_eq!(
            parse(&bytes).items,
            [Got::Comment(value.to_owned()), event(value, value, value)],
            "{value:?}"
        );
    }
    assert_eq!(
        encode_all_ways(&Message::new(" x").event(" e").id(" i")),
        b"event:  e\nid:  i\ndata:  x\n\n"
    );
}

#[test]
fn leading_spaces_survive_on_every_data_line() {
    let bytes = encode_all_ways(&Message::new(" a\n  b\r\n c"));
    assert_eq!(bytes, b"data:  a\ndata:   b\ndata:  c\n\n");
    assert_eq!(parse(&bytes).items, [event("message", " a\n  b\n c", "")]);
}

#[test]
fn nul_allowed_in_data_event_and_comment() {
    let message = Message::new("a\0b").event("\0").comment("\0");
    let bytes = encode_all_ways(&message);
    assert_eq!(
        parse(&bytes).items,
        [Got::Comment("\0".to_owned()), event("\0", "a\0b", "")]
    );
}

#[test]
fn nul_in_id_rejected() {
    for (id, index) in [("\0", 0), ("1\0", 1), ("ab\0c\0", 2)] {
        let message = Message::new("x").id(id);
        assert_eq!(message.validate(), Err(EncodeError::NulInId { index }));
        assert_eq!(message.to_vec(), Err(EncodeError::NulInId { index }));
    }
}

#[test]
fn line_breaks_in_id_rejected() {
    for (id, index) in [("\r", 0), ("\n", 0), ("1\r\n", 1), ("12\ndata: x", 2)] {
        let message = Message::new("x").id(id);
        assert_eq!(message.to_vec(), Err(EncodeError::LineBreakInId { index }));
    }
    // The first offending byte is reported, whichever kind it is.
    assert_eq!(
        Message::new("x").id("a\nb\0").to_vec(),
        Err(EncodeError::LineBreakInId { index: 1 })
    );
    assert_eq!(
        Message::new("x").id("a\0b\n").to_vec(),
        Err(EncodeError::NulInId { index: 1 })
    );
}

#[test]
fn last_event_id_sets_the_id_without_an_event() {
    let blocks = [
        Block::Message(Message::new("1".to_owned())),
        Block::LastEventId("42".to_owned()),
        Block::Message(Message::new("2".to_owned())),
        Block::LastEventId(" spaced".to_owned()),
        Block::LastEventId(String::new()),
        Block::Message(Message::new("3".to_owned())),
        Block::LastEventId("last".to_owned()),
    ];
    let bytes: Vec<u8> = blocks.iter().flat_map(Block::encode).collect();
    let parsed = assert_stream(
        &bytes,
        b"data: 1\n\nid: 42\n\ndata: 2\n\nid:  spaced\n\nid: \n\ndata: 3\n\nid: last\n\n",
        &[
            event("message", "1", ""),
            event("message", "2", "42"),
            event("message", "3", ""),
        ],
    );
    assert_eq!(parsed.last_event_id, "last");
    assert_eq!(parsed, expected(&blocks));
    for id in ["", "7", " spaced", "caf\u{e9}", "x\ty"] {
        let item = LastEventId::new(id);
        assert_eq!(encode_all_ways(&item), format!("id: {id}\n\n").as_bytes());
        check_too_small(&item);
    }
}

#[test]
fn last_event_id_checked_like_an_id() {
    for (id, error) in [
        ("\r", EncodeError::LineBreakInId { index: 0 }),
        ("1\r\n", EncodeError::LineBreakInId { index: 1 }),
        (
            "12\n\ndata: forged",
            EncodeError::LineBreakInId { index: 2 },
        ),
        ("\0", EncodeError::NulInId { index: 0 }),
        ("a\0b\n", EncodeError::NulInId { index: 1 }),
    ] {
        let item = LastEventId::new(id);
        assert_eq!(item.validate(), Err(error), "{id:?}");
        assert_eq!(Message::new("").id(id).validate(), Err(error), "{id:?}");
        assert_refused(&item, error);
        assert_eq!(item.to_vec(), Err(error));
    }
}

#[test]
fn line_breaks_in_event_rejected() {
    for (event, index) in [("\r", 0), ("a\r", 1), ("a\n", 1), ("ab\r\n", 2)] {
        let message = Message::new("x").event(event);
        assert_eq!(
            message.validate(),
            Err(EncodeError::LineBreakInEvent { index })
        );
        assert_refused(&message, EncodeError::LineBreakInEvent { index });
    }
}

#[test]
fn validation_comes_before_size() {
    let mut buf = [0u8; 1];
    assert_eq!(
        Message::new("x").event("\n").encode(&mut buf),
        Err(EncodeError::LineBreakInEvent { index: 0 })
    );
}

#[test]
fn empty_id_resets_and_differs_from_no_id() {
    let blocks = [
        Message::new("1").id("a"),
        Message::new("2"),
        Message::new("3").id(""),
        Message::new("4"),
    ];
    let bytes: Vec<u8> = blocks.iter().flat_map(encode_all_ways).collect();
    let parsed = assert_stream(
        &bytes,
        b"id: a\ndata: 1\n\ndata: 2\n\nid: \ndata: 3\n\ndata: 4\n\n",
        &[
            event("message", "1", "a"),
            event("message", "2", "a"),
            event("message", "3", ""),
            event("message", "4", ""),
        ],
    );
    assert_eq!(parsed.last_event_id, "");
}

#[test]
fn empty_event_type_is_message() {
    let bytes = encode_all_ways(&Message::new("x").event(""));
    assert_eq!(bytes, b"event: \ndata: x\n\n");
    assert_eq!(parse(&bytes).items, [event("message", "x", "")]);
}

#[test]
fn comments_split_into_lines() {
    let comment = Comment::new("a\r\nb\rc\n");
    let bytes = encode_all_ways(&comment);
    assert_eq!(bytes, b": a\n: b\n: c\n:\n\n");
    assert_eq!(
        parse(&bytes).items,
        ["a", "b", "c", ""].map(|c| Got::Comment(c.to_owned()))
    );
    // A comment cannot smuggle in an event.
    let bytes = encode_all_ways(&Comment::new("x\n\ndata: forged\n"));
    assert!(
        !parse(&bytes)
            .items
            .iter()
            .any(|i| matches!(i, Got::Event { .. }))
    );
}

#[test]
fn keep_alive_is_an_empty_comment_block() {
    assert_eq!(KEEP_ALIVE, b":\n\n");
    assert_eq!(encode_all_ways(&Comment::new("")), KEEP_ALIVE);
    assert_eq!(parse(KEEP_ALIVE).items, [Got::Comment(String::new())]);
    // Between two halves of nothing: it never completes or splits an event.
    let mut bytes = encode_all_ways(&Message::new("a"));
    bytes.extend_from_slice(KEEP_ALIVE);
    bytes.extend(encode_all_ways(&Message::new("b")));
    assert_eq!(
        parse(&bytes).items,
        [
            event("message", "a", ""),
            Got::Comment(String::new()),
            event("message", "b", "")
        ]
    );
}

#[test]
fn retry_written_in_milliseconds() {
    let cases = [
        (Duration::from_secs(5), "5000"),
        (Duration::from_millis(0), "0"),
        (Duration::from_millis(1), "1"),
        // Under a millisecond but not zero: 1, not the 0 that means "reconnect now".
        (Duration::from_micros(999), "1"),
        (Duration::from_nanos(1), "1"),
        (Duration::ZERO, "0"),
        (Duration::from_nanos(1_999_999), "1"),
        (Duration::from_secs(3600), "3600000"),
        (Duration::from_millis(u64::MAX), "18446744073709551615"),
        (Duration::MAX, "18446744073709551615"),
    ];
    for (time, wire) in cases {
        let bytes = encode_all_ways(&Retry::new(time));
        assert_eq!(bytes, format!("retry: {wire}\n\n").as_bytes());
        let parsed = parse(&bytes);
        let ms: u64 = wire.parse().unwrap();
        assert_eq!(parsed.items, [Got::Retry(ms)]);
        assert_eq!(parsed.retry, Some(ms));

        let bytes = encode_all_ways(&Message::new("x").retry(time));
        assert_eq!(bytes, format!("retry: {wire}\ndata: x\n\n").as_bytes());
        assert_eq!(parse(&bytes).retry, Some(ms));
    }
    assert_eq!(Retry::from_millis(1234).millis(), 1234);
    assert_eq!(
        Retry::from(Duration::from_secs(1)),
        Retry::from_millis(1000)
    );
}

/// Every buffer shorter than `encoded_len` is refused with that size and left
/// untouched; one of exactly that size is filled.
fn check_too_small(item: &impl Encode) {
    let len = item.encoded_len();
    for size in 0..len {
        let mut buf = vec![0xAAu8; size];
        assert_eq!(
            item.encode(&mut buf),
            Err(EncodeError::InsufficientSize { required_size: len })
        );
        assert!(buf.iter().all(|&b| b == 0xAA), "buffer touched at {size}");
    }
    let mut buf = vec![0xAAu8; len];
    assert_eq!(item.encode(&mut buf), Ok(len));
    assert!(buf.ends_with(b"\n\n"));
}

#[test]
fn buffer_too_small_names_the_exact_size_and_writes_nothing() {
    check_too_small(&Message::new("a\r\nb").event("e").id("").comment("c\nd"));
    check_too_small(&Message::new(""));
    // Data alone, which has a path of its own: one line, and lines.
    check_too_small(&Message::new("one line of data"));
    check_too_small(&Message::new("a\nb\r\nc\rd"));
    check_too_small(&Comment::new("x\ry"));
    check_too_small(&Retry::from_millis(15_000));
    check_too_small(&LastEventId::new("99"));
    let mut buf = [0u8; 0];
    assert_eq!(
        Message::new("hello").encode(&mut buf),
        Err(EncodeError::InsufficientSize { required_size: 13 })
    );
}

/// Any buffer at least `encoded_len` long gets the same bytes and nothing past them,
/// across the size at which `encode` starts copying data before it has checked it
/// (room for the longest block data of that length could make, which data made of
/// line ends reaches exactly).
#[test]
fn every_buffer_size_from_the_exact_one_up_writes_the_same() {
    let messages = [
        Message::new("\r\r\r"),
        Message::new("\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"),
        Message::new("a\r\nb").event("e").id("1").comment("c"),
        Message::new("tab\tbut one line"),
        Message::new("plain data alone, one line, some way past sixteen bytes"),
        Message::new("short"),
        Message::new("plain data, one line, some way past sixteen bytes").id("7"),
    ];
    for message in messages {
        let want = message.to_vec().unwrap();
        let len = want.len();
        for size in len..8 * len + 8 {
            let mut buf = vec![0xAAu8; size];
            assert_eq!(message.encode(&mut buf), Ok(len), "{message:?} into {size}");
            assert_eq!(&buf[..len], &want[..], "{message:?} into {size}");
            assert!(
                buf[len..].iter().all(|&b| b == 0xAA),
                "{message:?} into {size}"
            );
        }
    }
}

/// Encodes through the `&E` impl, as generic code holding a reference would.
fn via_generic(item: impl Encode) -> (usize, Vec<u8>) {
    (item.encoded_len(), item.to_vec().unwrap())
}

#[test]
fn encoded_len_is_exact_for_every_rule() {
    let messages = [
        Message::new(""),
        Message::new("\r"),
        Message::new("\r\n"),
        Message::new("\n\r"),
        Message::new("a\r\n\r\n\n\rb"),
        Message::new(" x").event(" e").id(" i").comment(" c"),
        Message::new("x").id(""),
        Message::new("x").comment(""),
        Message::new("x").comment("\r\n\r\n"),
        Message::new("x").retry(Duration::MAX),
        Message::new("caf\u{e9} \u{1F600}\u{FEFF}").event("\0"),
    ];
    for message in messages {
        let bytes = encode_all_ways(&message);
        #[allow(
            clippy::needless_borrows_for_generic_args,
            reason = "tests `impl Encode for &E`"
        )]
        let by_reference = via_generic(&message);
        assert_eq!(by_reference, (bytes.len(), bytes.clone()));
        assert_eq!(message.encoded_len(), bytes.len(), "{message:?}");
    }
}

#[test]
fn owned_and_shared_string_types() {
    let owned: Message<String> = Message::new("x".to_string()).event("e").id("1");
    let shared: Message<std::sync::Arc<str>> = Message::new("x".into()).event("e").id("1");
    let borrowed = owned.as_deref();
    assert_eq!(borrowed, Message::new("x").event("e").id("1"));
    assert_eq!(owned.to_vec(), shared.to_vec());
    assert_eq!(owned.to_vec(), borrowed.to_vec());
}

#[test]
fn works_with_a_parser_that_never_allocates() {
    let message = Message::new("a\r\nb").event("e").id("7");
    let mut out = [0u8; 64];
    let n = message.encode(&mut out).unwrap();
    let mut memory = [0u8; 256];
    let mut parser = Parser::<SliceStorage<'_>>::from_slice(Config::new(), &mut memory);
    let mut input = &out[..n];
    let Ok(Some(Item::Event(event))) = parser.parse(&mut input) else {
        panic!("no event");
    };
    assert_eq!(event.data(), "a\nb");
    assert_eq!(event.event_type(), "e");
    assert_eq!(event.last_event_id(), "7");
}

#[test]
fn errors_display_and_are_errors() {
    let errors = [
        EncodeError::LineBreakInEvent { index: 3 },
        EncodeError::LineBreakInId { index: 3 },
        EncodeError::NulInId { index: 3 },
        EncodeError::InsufficientSize { required_size: 3 },
        EncodeError::AllocationFailed { required_size: 3 },
    ];
    for error in errors {
        let dynamic: &dyn core::error::Error = &error;
        assert!(dynamic.to_string().contains('3'), "{error}");
    }
}

#[cfg(feature = "bytes")]
#[test]
fn buf_mut_too_small_writes_nothing() {
    use bytes::BufMut;

    let message = Message::new("hello");
    let mut storage = [0xAAu8; 8];
    let mut buf: &mut [u8] = &mut storage;
    assert_eq!(
        message.encode_buf(&mut buf),
        Err(EncodeError::InsufficientSize { required_size: 13 })
    );
    assert_eq!(buf.remaining_mut(), 8);
    assert_eq!(storage, [0xAA; 8]);

    let mut storage = [0u8; 16];
    let mut buf: &mut [u8] = &mut storage;
    assert_eq!(message.encode_buf(&mut buf), Ok(13));
    assert_eq!(buf.remaining_mut(), 3);
    assert_eq!(&storage[..13], b"data: hello\n\n");

    let mut vec = b"prefix".to_vec();
    assert_eq!(message.encode_buf(&mut vec), Ok(13));
    assert_eq!(vec, b"prefixdata: hello\n\n");
}

#[cfg(feature = "serde")]
#[test]
fn json_data() {
    let message = Message::json(&serde_json::json!({ "text": "a\r\nb", "n": [1, 2] }))
        .unwrap()
        .event("update");
    let bytes = encode_all_ways(&message);
    assert_eq!(
        parse(&bytes).items,
        [event("update", r#"{"n":[1,2],"text":"a\r\nb"}"#, "")]
    );
    let mut map = std::collections::BTreeMap::new();
    map.insert((1, 2), 3);
    assert!(Message::json(&map).is_err(), "non-string keys");
}

// ---------------------------------------------------------------------------------
// The fast paths: the low-byte filter and the SIMD and word-at-a-time code behind it.

/// `has_low_byte` agrees with a byte loop for every length up to several 64-byte
/// blocks, with one chosen byte at every position, among fillers that stress the
/// word trick (bytes just above the bound, and bytes with the top bit set).
#[test]
fn has_low_byte_matches_a_byte_loop() {
    let naive = |bytes: &[u8]| bytes.iter().any(|&b| b < super::LOW);
    for fill in [b'a', 0x0E, 0x80, 0x8D, 0xFF] {
        for len in 0..=200 {
            let mut bytes = vec![fill; len];
            assert!(!super::has_low_byte(&bytes), "fill {fill:#x} len {len}");
            for at in 0..len {
                for byte in [
                    0, 1, 9, b'\n', 11, 12, b'\r', 14, 0x20, 0x7F, 0x80, 0x8A, 0xFF,
                ] {
                    bytes[at] = byte;
                    assert_eq!(
                        super::has_low_byte(&bytes),
                        naive(&bytes),
                        "fill {fill:#x} len {len} byte {byte:#x} at {at}"
                    );
                }
                bytes[at] = fill;
            }
        }
    }
}

/// Long values take the SIMD path; a line end or NUL anywhere in them is still found,
/// at the right index, and data with one anywhere is still split there.
#[test]
fn long_values_are_checked_and_split_at_every_position() {
    for len in [15, 16, 17, 31, 33, 63, 64, 65, 127, 128, 129, 200] {
        let plain = "x".repeat(len);
        let bytes = encode_all_ways(
            &Message::new(plain.as_str())
                .event(plain.as_str())
                .id(plain.as_str()),
        );
        assert_eq!(parse(&bytes).items, [event(&plain, &plain, &plain)]);
        for at in 0..len {
            for bad in ["\r", "\n", "\0", "\t"] {
                let mut value = plain.clone();
                value.replace_range(at..=at, bad);
                let event_error = match bad {
                    "\r" | "\n" => Err(EncodeError::LineBreakInEvent { index: at }),
                    _ => Ok(()),
                };
                assert_eq!(
                    Message::new("").event(value.as_str()).validate(),
                    event_error
                );
                let id_error = match bad {
                    "\r" | "\n" => Err(EncodeError::LineBreakInId { index: at }),
                    "\0" => Err(EncodeError::NulInId { index: at }),
                    _ => Ok(()),
                };
                assert_eq!(Message::new("").id(value.as_str()).validate(), id_error);

                let message = Message::new(value.clone());
                let bytes = encode_all_ways(&message);
                assert_eq!(
                    parse(&bytes),
                    expected(&[Block::Message(message)]),
                    "{value:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Properties.

fn block() -> impl Strategy<Value = Block> {
    prop_oneof![
        6 => strategies::message().prop_map(Block::Message),
        1 => strategies::text().prop_map(Block::Comment),
        1 => any::<u64>().prop_map(|ms| Block::Retry(Duration::from_millis(ms))),
        1 => strategies::text()
            .prop_map(|id| Block::LastEventId(id.replace(['\r', '\n', '\0'], ""))),
        1 => Just(Block::KeepAlive),
    ]
}

/// Blocks, their encoding, and a chunking of it.
fn encoded_blocks() -> impl Strategy<Value = (Vec<Block>, Vec<Vec<u8>>)> {
    prop_vec(block(), 0..8).prop_flat_map(|blocks| {
        let bytes: Vec<u8> = blocks.iter().flat_map(Block::encode).collect();
        (Just(blocks), strategies::chunks(bytes))
    })
}

/// A well-formed stream and a chunking of it.
fn chunked_stream() -> impl Strategy<Value = (Vec<u8>, Vec<Vec<u8>>)> {
    strategies::event_stream().prop_flat_map(|body| (Just(body.clone()), strategies::chunks(body)))
}

proptest! {
    /// Encoding then parsing gives back the same events (data with line ends
    /// normalised to LF), comments, retry values and last event ID, however the bytes
    /// are chunked.
    #[test]
    fn round_trip((blocks, chunks) in encoded_blocks()) {
        let parsed = parse_chunks(chunks.iter().map(Vec::as_slice));
        prop_assert_eq!(parsed, expected(&blocks));
    }

    /// Any values at all: either the encoder refuses them, naming the first byte that
    /// is not allowed, or the bytes parse into exactly one event with those values.
    #[test]
    fn no_injection(message in strategies::hostile_message()) {
        let forbidden_at = |value: &Option<String>, bytes: &[u8]| {
            value.as_deref().and_then(|v| v.bytes().position(|b| bytes.contains(&b)))
        };
        let event_bad = forbidden_at(&message.event, b"\r\n");
        let id_bad = forbidden_at(&message.id, b"\r\n\0");
        match message.to_vec() {
            Ok(bytes) => {
                prop_assert_eq!(event_bad, None);
                prop_assert_eq!(id_bad, None);
                let parsed = parse(&bytes);
                let events = parsed.items.iter().filter(|i| matches!(i, Got::Event { .. }));
                prop_assert_eq!(events.count(), 1);
                prop_assert_eq!(parsed, expected(&[Block::Message(message)]));
            }
            Err(EncodeError::LineBreakInEvent { index }) => {
                prop_assert_eq!(event_bad, Some(index));
            }
            Err(EncodeError::LineBreakInId { index }) => {
                prop_assert_eq!(event_bad, None);
                prop_assert_eq!(id_bad, Some(index));
                prop_assert!(message.id.unwrap().as_bytes()[index] != 0);
            }
            Err(EncodeError::NulInId { index }) => {
                prop_assert_eq!(event_bad, None);
                prop_assert_eq!(id_bad, Some(index));
                prop_assert_eq!(message.id.unwrap().as_bytes()[index], 0);
            }
            Err(e) => prop_assert!(false, "unexpected {:?}", e),
        }
    }

    /// Long messages (several pieces of arbitrary text, so the fast paths for values
    /// of 16 and 64 bytes and more run, with line ends and NULs anywhere) round-trip,
    /// and their length is exact.
    #[test]
    fn long_messages_round_trip(
        message in strategies::message(),
        extra in prop_vec(strategies::text(), 1..8),
    ) {
        let mut message = message;
        let extra = extra.concat();
        message.data.push_str(&extra);
        if let Some(event) = &mut message.event {
            event.push_str(&extra.replace(['\r', '\n'], ""));
        }
        if let Some(id) = &mut message.id {
            id.push_str(&extra.replace(['\r', '\n', '\0'], ""));
        }
        let bytes = encode_all_ways(&message);
        prop_assert_eq!(parse(&bytes), expected(&[Block::Message(message)]));
    }

    /// `has_low_byte` agrees with a byte loop on any bytes.
    #[test]
    fn has_low_byte_is_exact(bytes in prop_vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(super::has_low_byte(&bytes), bytes.iter().any(|&b| b < super::LOW));
    }

    /// `encoded_len` is what every API writes, and one byte less is refused with that
    /// size, untouched.
    #[test]
    fn encoded_len_is_exact(message in strategies::message()) {
        let bytes = encode_all_ways(&message);
        prop_assert_eq!(message.encoded_len(), bytes.len());
        let mut short = vec![0xAAu8; bytes.len() - 1];
        prop_assert_eq!(
            message.encode(&mut short),
            Err(EncodeError::InsufficientSize { required_size: bytes.len() })
        );
        prop_assert!(short.iter().all(|&b| b == 0xAA));
    }

    /// Whatever a well-formed stream delivers, the encoder can send again: every
    /// event, comment and retry the parser produces re-encodes without error and
    /// parses back to the same thing.
    #[test]
    fn parsed_streams_reencode(body in strategies::event_stream()) {
        let parsed = parse(&body);
        let mut again = Vec::new();
        for item in &parsed.items {
            match item {
                Got::Event { event_type, data, last_event_id } => {
                    let message = Message::new(data.as_str())
                        .event(event_type.as_str())
                        .id(last_event_id.as_str());
                    again.extend(message.to_vec().expect("parser output is encodable"));
                }
                Got::Retry(ms) => again.extend(Retry::from_millis(*ms).to_vec().unwrap()),
                Got::Comment(c) => again.extend(Comment::new(c).to_vec().unwrap()),
            }
        }
        prop_assert_eq!(parse(&again).items, parsed.items);
    }

    /// The parser gives the same items and state however a well-formed stream is
    /// chunked, and has nothing pending at its end.
    #[test]
    fn streams_parse_the_same_in_any_chunking((body, chunks) in chunked_stream()) {
        let whole = parse(&body);
        prop_assert!(!whole.pending);
        prop_assert_eq!(parse_chunks(chunks.iter().map(Vec::as_slice)), whole);
    }
}
