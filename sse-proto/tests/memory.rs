//! Hostile streams cannot make the parser eat memory: a gigabyte with no line end,
//! or one event that never ends, stops at the size limit, and the most heap the
//! parser ever holds stays near that limit. A peak-tracking global allocator
//! (`conformance::peak`) measures it.

#![cfg(feature = "std")]

use std::sync::Mutex;

use conformance::peak::{self, PeakTracking};
use sse_proto::{Config, DEFAULT_MAX_FIELD_SIZE, Error, Item, Parser};

#[global_allocator]
static GLOBAL: PeakTracking = PeakTracking;

/// The tests here measure the whole process's heap: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const LIMIT: usize = 16 << 20;
const GIB: usize = 1 << 30;

/// What a run produced, and the most heap it held above where it started.
#[derive(Debug, Default)]
struct Outcome {
    errors: Vec<Error>,
    events: Vec<String>,
    other: usize,
    peak: usize,
}

/// Feeds `head`, then `body` until `total` bytes of it went in (in chunks of
/// `body.len()`, the last one cut short), then `tail`, measuring the peak heap.
fn measure(config: Config, head: &[u8], body: &[u8], total: usize, tail: &[u8]) -> Outcome {
    let mut out = Outcome::default();
    out.events.reserve(16);
    out.errors.reserve(16);
    let mut parser = Parser::with_config(config);
    let base = peak::start();
    let feed = |parser: &mut Parser, chunk: &[u8], out: &mut Outcome| {
        let mut input = chunk;
        loop {
            match parser.parse(&mut input) {
                Ok(None) => break,
                Ok(Some(Item::Event(e))) => out.events.push(e.data().to_string()),
                Ok(Some(_)) => out.other += 1,
                Err(e) => out.errors.push(e),
            }
        }
    };
    feed(&mut parser, head, &mut out);
    let mut sent = 0;
    while sent < total {
        let n = body.len().min(total - sent);
        feed(&mut parser, &body[..n], &mut out);
        sent += n;
    }
    out.peak = peak::peak_since(base);
    feed(&mut parser, tail, &mut out);
    out
}

fn assert_near_limit(what: &str, out: &Outcome, expected: Error) {
    assert_eq!(out.errors, [expected], "{what}");
    assert_eq!(
        out.events,
        ["after"],
        "{what}: the stream carries on after the limit"
    );
    // All the parser holds is one buffer, grown no further than the limit (its
    // doubling is capped there), plus a few small ones.
    assert!(
        out.peak <= LIMIT + (64 << 10),
        "{what}: peak heap {} bytes with a limit of {LIMIT}",
        out.peak
    );
    eprintln!(
        "{what}: peak heap {} bytes ({:.2} x the limit)",
        out.peak,
        out.peak as f64 / LIMIT as f64
    );
}

#[test]
fn a_gigabyte_data_line_stops_at_the_limit() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let config = Config::new().max_event_size(LIMIT);
    let body = vec![b'x'; 64 << 10];
    // Chunks that are powers of two, and chunks that are not.
    for (what, head, chunk) in [
        ("data line, 64 KiB chunks", &b"data: "[..], &body[..]),
        ("data line, 65521-byte chunks", b"data: x", &body[..65521]),
        ("data line, 1460-byte chunks", b"data:", &body[..1460]),
    ] {
        let out = measure(config, head, chunk, GIB, b"\n\ndata: after\n\n");
        assert_near_limit(what, &out, Error::EventTooLarge { limit: LIMIT });
    }
}

#[test]
fn a_gigabyte_value_or_comment_stops_at_the_limit() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let body = vec![b'7'; 64 << 10];
    let config = Config::new()
        .max_event_size(LIMIT)
        .max_field_size(LIMIT)
        .comments(true);
    let tail = b"\n\ndata: after\n\n";
    for (what, head) in [
        ("event type", &b"event: "[..]),
        ("id", b"id: "),
        ("retry", b"retry: "),
    ] {
        let out = measure(config, head, &body, GIB, tail);
        assert_near_limit(what, &out, Error::EventTooLarge { limit: LIMIT });
    }
    // A comment over the limit is dropped alone: the blank line after it is not
    // skipped to.
    let out = measure(config, b": ", &body, GIB, b"\ndata: after\n\n");
    assert_near_limit("comment", &out, Error::CommentTooLarge { limit: LIMIT });
}

#[test]
fn by_default_a_value_or_comment_stops_at_the_field_limit() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let body = vec![b'7'; 64 << 10];
    let config = Config::new().comments(true);
    let limit = DEFAULT_MAX_FIELD_SIZE;
    for (what, head, tail, error) in [
        (
            "id",
            &b"id: "[..],
            &b"\n\ndata: after\n\n"[..],
            Error::EventTooLarge { limit },
        ),
        (
            "comment",
            b": ",
            b"\ndata: after\n\n",
            Error::CommentTooLarge { limit },
        ),
    ] {
        let out = measure(config, head, &body, 64 << 20, tail);
        assert_eq!(out.errors, [error], "{what}");
        assert_eq!(out.events, ["after"], "{what}");
        assert!(
            out.peak <= 2 * limit,
            "{what}: peak heap {} bytes",
            out.peak
        );
    }
}

#[test]
fn a_gigabyte_line_that_holds_nothing_costs_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let body = vec![b'x'; 64 << 10];
    let config = Config::new().max_event_size(LIMIT);
    // An unknown field name with no colon, an unknown field's value, and a comment
    // nobody asked for: the spec ignores them, so the parser keeps none of it.
    for head in [&b""[..], b"x: ", b": "] {
        let out = measure(config, head, &body, GIB, b"\n\ndata: after\n\n");
        assert!(out.errors.is_empty(), "{out:?}");
        assert_eq!(out.events, ["after"]);
        assert!(out.peak < 64 << 10, "peak heap {} bytes", out.peak);
    }
}

#[test]
fn an_endless_event_stops_at_the_limit() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let config = Config::new().max_event_size(LIMIT);
    // One event of short data lines that never ends with a blank line; the lines
    // straddle the chunk boundaries.
    let lines: Vec<u8> =
        b"data: 0123456789abcdef0123456789abcdef0123456789abcdef0123456\n".repeat(2000);
    let out = measure(config, b"", &lines[..65000], GIB, b"\n\ndata: after\n\n");
    assert_near_limit(
        "endless event, short lines",
        &out,
        Error::EventTooLarge { limit: LIMIT },
    );
    // Long lines, one per chunk, CRLF.
    let mut line = b"data: ".to_vec();
    line.resize(65534, b'y');
    line.extend_from_slice(b"\r\n");
    let out = measure(config, b"", &line, GIB, b"\r\n\r\ndata: after\r\n\r\n");
    assert_near_limit(
        "endless event, CRLF lines",
        &out,
        Error::EventTooLarge { limit: LIMIT },
    );
}

#[test]
fn streamed_data_holds_nothing_however_large() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let config = Config::new().max_event_size(LIMIT).stream_data(true);
    let body = vec![b'z'; 64 << 10];
    let out = measure(config, b"data: ", &body, GIB, b"\n\ndata: after\n\n");
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert!(out.peak < 64 << 10, "peak heap {} bytes", out.peak);
}
