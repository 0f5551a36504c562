//! [Proptest](https://docs.rs/proptest) strategies for Server-Sent Events, to
//! property-test any code that writes or reads event streams.
//!
//! The inputs that break SSE code are specific: CR against LF against CRLF, a CRLF
//! split across two reads, a value that begins with a space, NUL in an `id`, a
//! leading BOM, an empty `data`. Uniformly random Unicode almost never produces them,
//! so these strategies weight them heavily. They are what this crate's own property
//! tests use.
//!
//! - [`text`]: any Unicode, rich in line ends, NUL, spaces, colons and BOMs.
//! - [`message`]: [`Message`]s that encode (any data; `event` and `id` without the
//!   characters the encoder refuses).
//! - [`hostile_message`]: [`Message`]s with any values at all, to test that bad ones
//!   are refused rather than injected.
//! - [`event_stream`]: well-formed `text/event-stream` bodies, written the many ways
//!   the spec allows (all three line ends, with and without the space after the colon,
//!   comments, unknown and colonless fields, invalid `retry` values, a BOM).
//! - [`chunks`]: a byte string cut into pieces at arbitrary points, as a network
//!   delivers it.

use core::time::Duration;
use std::string::String;
use std::vec::Vec;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use crate::Message;

/// Text with any Unicode, weighted toward what SSE code gets wrong: CR, LF, CRLF,
/// NUL, spaces (leading ones especially), `:`, U+FEFF and field-like fragments.
/// Often empty.
///
/// ```
/// use proptest::prelude::*;
/// use proptest::test_runner::TestRunner;
/// use sse_proto::{Encode, Message, strategies};
///
/// // Any text is valid data.
/// TestRunner::default()
///     .run(&strategies::text(), |text| {
///         prop_assert!(Message::new(text).to_vec().is_ok());
///         Ok(())
///     })
///     .unwrap();
/// ```
pub fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => any::<char>().prop_map(String::from),
        4 => "[a-z0-9]{1,8}",
        2 => Just(String::from("\n")),
        2 => Just(String::from("\r")),
        2 => Just(String::from("\r\n")),
        1 => Just(String::from("\0")),
        2 => Just(String::from(" ")),
        1 => Just(String::from(":")),
        1 => Just(String::from("\u{FEFF}")),
        // Field-like fragments, which a line end before them would turn into fields.
        2 => prop_oneof![Just("data: "), Just("id: "), Just("event: ")].prop_map(String::from),
    ];
    vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

/// Any [`Message`] the encoder accepts: data from [`text`] (CR, LF, NUL and all), an
/// event type without CR or LF, an ID without CR, LF or NUL (sometimes empty), a
/// reconnection time (sometimes with a fraction of a millisecond, which is dropped,
/// and sometimes under a millisecond, which is written as 1) and a comment, each
/// present or not.
///
/// ```
/// use proptest::prelude::*;
/// use proptest::test_runner::TestRunner;
/// use sse_proto::{Encode, strategies};
///
/// TestRunner::default()
///     .run(&strategies::message(), |message| {
///         prop_assert!(message.to_vec().is_ok());
///         Ok(())
///     })
///     .unwrap();
/// ```
pub fn message() -> impl Strategy<Value = Message<String>> {
    let event = text().prop_map(|s| s.replace(['\r', '\n'], ""));
    let id = text().prop_map(|s| s.replace(['\r', '\n', '\0'], ""));
    build(event, id)
}

/// Any [`Message`] at all: like [`message`], but the event type and ID come from
/// [`text`] too, so they often contain the CR, LF or NUL that the encoder must refuse.
///
/// ```
/// use proptest::prelude::*;
/// use proptest::test_runner::TestRunner;
/// use sse_proto::{Encode, EncodeError, strategies};
///
/// TestRunner::default()
///     .run(&strategies::hostile_message(), |message| {
///         match message.to_vec() {
///             Ok(bytes) => prop_assert!(bytes.ends_with(b"\n\n")),
///             // Refused for a value, never for size.
///             Err(e) => {
///                 let for_size = matches!(e, EncodeError::InsufficientSize { .. });
///                 prop_assert!(!for_size, "{}", e);
///             }
///         }
///         Ok(())
///     })
///     .unwrap();
/// ```
pub fn hostile_message() -> impl Strategy<Value = Message<String>> {
    build(text(), text())
}

fn build(
    event: impl Strategy<Value = String>,
    id: impl Strategy<Value = String>,
) -> impl Strategy<Value = Message<String>> {
    let retry = prop_oneof![
        3 => 0..100_000u64,
        // With a fraction below, under a millisecond (or zero).
        1 => Just(0),
        1 => any::<u64>(),
    ];
    let retry = (retry, prop_oneof![3 => Just(0u32), 1 => 0..1_000_000u32]).prop_map(|(ms, ns)| {
        Duration::from_millis(ms).saturating_add(Duration::from_nanos(ns.into()))
    });
    (
        text(),
        option::of(event),
        option::of(id),
        option::of(retry),
        option::of(text()),
    )
        .prop_map(|(data, event, id, retry, comment)| {
            let mut message = Message::new(data);
            message.event = event;
            message.id = id;
            message.retry = retry;
            message.comment = comment;
            message
        })
}

/// A line's text with no line end in it.
fn line_text() -> impl Strategy<Value = String> {
    text().prop_map(|s| s.replace(['\r', '\n'], ""))
}

/// One non-blank line of an event stream, without its line end.
fn stream_line() -> impl Strategy<Value = String> {
    // With one space, none or two: the parser removes exactly one.
    let colon = prop_oneof![Just(":"), Just(": "), Just(":  ")];
    let name = prop_oneof![
        4 => Just(String::from("data")),
        1 => Just(String::from("event")),
        1 => Just(String::from("id")),
        1 => Just(String::from("retry")),
        // Unknown names, including near misses ("Data", "data ") and BOMs.
        1 => "[^\r\n:]{1,8}",
    ];
    let retry_value = prop_oneof![
        "[0-9]{1,6}",
        "[0-9]{0,3}[^0-9\r\n]{1,2}[0-9]{0,3}",
        Just(String::new()),
    ];
    prop_oneof![
        6 => (name.clone(), colon.clone(), line_text())
            .prop_map(|(name, colon, value)| std::format!("{name}{colon}{value}")),
        1 => (colon, retry_value).prop_map(|(colon, value)| std::format!("retry{colon}{value}")),
        2 => line_text().prop_map(|value| std::format!(":{value}")),
        1 => name,
    ]
}

/// A line end: LF, CR or CRLF.
fn line_end() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\n"), Just("\r"), Just("\r\n")]
}

/// A well-formed `text/event-stream` body, as UTF-8 bytes: the spec's ABNF
/// (`stream = [ bom ] *event`, `event = *( comment / field ) end-of-line`), so every
/// block, the last one included, ends with a blank line.
///
/// Lines use LF, CR and CRLF at random, fields are written with no space, one or two
/// after the colon, and there are comments, unknown and colonless fields, `id`
/// values with NUL, invalid `retry` values, empty and data-less blocks, and
/// sometimes a leading BOM. (A CR that ends a line is never followed by a blank
/// line's lone LF, which would read as one CRLF and swallow the blank line.)
///
/// ```
/// use proptest::prelude::*;
/// use proptest::test_runner::TestRunner;
/// use sse_proto::{Parser, strategies};
///
/// TestRunner::default()
///     .run(&strategies::event_stream(), |body| {
///         let mut parser = Parser::new();
///         let mut input = &body[..];
///         while parser.parse(&mut input).unwrap().is_some() {}
///         // Well-formed: nothing is left pending at the end.
///         prop_assert!(!parser.finish());
///         Ok(())
///     })
///     .unwrap();
/// ```
pub fn event_stream() -> impl Strategy<Value = Vec<u8>> {
    let block = (vec((stream_line(), line_end()), 0..6), line_end());
    (any::<bool>(), vec(block, 0..6)).prop_map(|(bom, blocks)| {
        let mut out = String::new();
        if bom {
            out.push('\u{FEFF}');
        }
        for (lines, blank_end) in blocks {
            for (line, end) in lines {
                out.push_str(&line);
                out.push_str(end);
            }
            // CR then LF would be one CRLF: the blank line would vanish.
            let blank_end = if out.ends_with('\r') && blank_end == "\n" {
                "\r\n"
            } else {
                blank_end
            };
            out.push_str(blank_end);
        }
        out.into_bytes()
    })
}

/// `bytes` cut into pieces at arbitrary points, as reads from a socket deliver them:
/// sometimes one piece, sometimes one byte per piece, usually a few cuts anywhere
/// (inside a CRLF or a UTF-8 sequence too), with the odd empty piece. The pieces
/// always concatenate to `bytes`.
///
/// ```
/// use proptest::prelude::*;
/// use proptest::test_runner::TestRunner;
/// use sse_proto::strategies;
///
/// let body = b"data: a\r\n\r\n".to_vec();
/// TestRunner::default()
///     .run(&strategies::chunks(body.clone()), |pieces| {
///         prop_assert_eq!(pieces.concat(), body.clone());
///         Ok(())
///     })
///     .unwrap();
/// ```
pub fn chunks(bytes: Vec<u8>) -> impl Strategy<Value = Vec<Vec<u8>>> {
    let len = bytes.len();
    let cuts = prop_oneof![
        1 => Just((1..len).collect::<Vec<usize>>()),
        4 => vec(0..=len, 0..=16),
    ];
    cuts.prop_map(move |mut cuts| {
        cuts.sort_unstable();
        let mut pieces = Vec::with_capacity(cuts.len() + 1);
        let mut start = 0;
        for cut in cuts {
            pieces.push(bytes[start..cut].to_vec());
            start = cut;
        }
        pieces.push(bytes[start..].to_vec());
        pieces
    })
}
