//! Parser behaviour beyond the conformance vectors: exact limits, end of stream,
//! zero-copy, fixed buffers, diagnostics and streamed data.

#![cfg(feature = "std")]

use sse_proto::{Config, Diagnostic, Error, Item, Parser, Storage};

/// Everything that comes out, as strings, feeding `chunks` in order.
fn items<S: Storage>(parser: &mut Parser<S>, chunks: &[&[u8]]) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in chunks {
        let mut feed = parser.feed(chunk);
        while let Some(item) = feed.next() {
            out.push(match item {
                Ok(Item::Event(e)) => format!(
                    "event {}:{}:{}",
                    e.event_type(),
                    e.data(),
                    e.last_event_id()
                ),
                Ok(Item::Data(piece)) => format!("piece {piece}"),
                Ok(Item::EventEnd(e)) => format!("end {}:{}", e.event_type(), e.last_event_id()),
                Ok(other) => format!("{other:?}"),
                Err(e) => format!("error {e}"),
            });
        }
    }
    out
}

fn bytewise(input: &[u8]) -> Vec<&[u8]> {
    input.chunks(1).collect()
}

#[test]
fn data_limit_is_exact_and_chunking_independent() {
    // "a\nbc" is 4 bytes of data: the joining LF counts.
    let input = b"data: a\ndata: bc\n\n";
    for max in [3, 4] {
        let config = Config::new().max_event_size(max);
        let whole = items(&mut Parser::with_config(config), &[input]);
        let split = items(&mut Parser::with_config(config), &bytewise(input));
        assert_eq!(whole, split, "max {max}");
        if max == 4 {
            assert_eq!(whole, ["event message:a\nbc:"]);
        } else {
            assert_eq!(
                whole,
                ["error event larger than the limit of 3 bytes; skipped to the next event"]
            );
        }
    }
}

/// Each input gives an error under `config` exactly when it is not `ok`, the same
/// whole and byte by byte.
fn assert_within_limits(config: Config, cases: &[(&[u8], bool)]) {
    for &(input, ok) in cases {
        let whole = items(&mut Parser::with_config(config), &[input]);
        assert_eq!(
            whole,
            items(&mut Parser::with_config(config), &bytewise(input))
        );
        assert_eq!(
            whole.iter().any(|i| i.starts_with("error")),
            !ok,
            "{:?}: {whole:?}",
            input.escape_ascii().to_string()
        );
    }
}

#[test]
fn value_limits_apply_to_event_id_and_retry() {
    let config = Config::new().max_event_size(3);
    assert_within_limits(
        config,
        &[
            (&b"event: abc\ndata\n\n"[..], true),
            (b"event: abcd\ndata\n\n", false),
            (b"id: abc\ndata\n\n", true),
            (b"id: abcd\ndata\n\n", false),
            (b"retry: 123\ndata\n\n", true),
            (b"retry: 1234\ndata\n\n", false),
        ],
    );
}

#[test]
fn the_field_limit_is_exact_and_separate_from_the_data_limit() {
    let config = Config::new().max_event_size(8).max_field_size(3);
    assert_within_limits(
        config,
        &[
            (&b"data: abcdefgh\n\n"[..], true),
            (b"id: abc\ndata: abcdefgh\n\n", true),
            (b"id: abcd\ndata\n\n", false),
            (b"event: abcd\ndata\n\n", false),
            (b"retry: 1234\ndata\n\n", false),
        ],
    );
    let comment = items(
        &mut Parser::with_config(config.comments(true)),
        &[b": abcd\n"],
    );
    assert_eq!(
        comment,
        ["error comment larger than the limit of 3 bytes; dropped"]
    );
}

/// The default limits take one 14 MB event (the base64 of a 10 MiB image, as LLM
/// APIs send), and an `id` no longer than a request header can carry.
#[test]
fn default_limits_fit_a_large_image_and_keep_ids_small() {
    let mut input = b"id: img\ndata: ".to_vec();
    input.resize(input.len() + 14_000_000, b'A');
    input.extend_from_slice(b"\n\n");
    let mut parser = Parser::new();
    let mut rest = &input[..];
    let Ok(Some(Item::Event(event))) = parser.parse(&mut rest) else {
        panic!("no event");
    };
    assert_eq!(event.data().len(), 14_000_000);
    assert_eq!(event.last_event_id(), "img");

    let mut id = b"id: ".to_vec();
    id.resize(4 + 16 * 1024 + 1, b'7');
    id.extend_from_slice(b"\ndata\n\n");
    let out = items(&mut Parser::new(), &[&id]);
    assert_eq!(
        out,
        ["error event larger than the limit of 16384 bytes; skipped to the next event"]
    );
}

#[test]
fn oversized_event_is_skipped_to_the_next_blank_line() {
    let mut parser = Parser::with_config(Config::new().max_event_size(8));
    let input =
        b"id: 1\ndata: ok\n\nid: 2\ndata: far too long\nevent: x\nretry: 5\n\ndata: next\n\n";
    let out = items(&mut parser, &[input]);
    assert_eq!(
        out,
        [
            "event message:ok:1",
            "error event larger than the limit of 8 bytes; skipped to the next event",
            "event message:next:1",
        ]
    );
    // The skipped block's id was never committed, and its retry line was ignored.
    assert_eq!(parser.last_event_id(), "1");
    assert_eq!(parser.retry(), None);
}

#[test]
fn an_oversized_comment_leaves_the_event_alone() {
    let config = Config::new().max_event_size(4).comments(true);
    let input = b"data: a\n: a long comment\ndata: b\n\n";
    let whole = items(&mut Parser::with_config(config), &[input]);
    assert_eq!(
        whole,
        items(&mut Parser::with_config(config), &bytewise(input))
    );
    assert_eq!(
        whole,
        [
            "error comment larger than the limit of 4 bytes; dropped",
            "event message:a\nb:"
        ]
    );
}

#[test]
fn endless_line_stays_within_the_limit() {
    // A line with no end: the parser holds at most the limit, then skips.
    let mut parser = Parser::with_config(Config::new().max_event_size(1024));
    let chunk = [b'x'; 4096];
    let mut errors = 0;
    let mut input: &[u8] = b"data: ";
    assert!(parser.parse(&mut input).unwrap().is_none());
    for _ in 0..256 {
        let mut input: &[u8] = &chunk;
        loop {
            match parser.parse(&mut input) {
                Ok(None) => break,
                Ok(Some(item)) => panic!("{item:?}"),
                Err(Error::EventTooLarge { limit: 1024 }) => errors += 1,
                Err(e) => panic!("{e}"),
            }
        }
    }
    assert_eq!(errors, 1);
    // Then a blank line ends the skipped block and the stream carries on.
    let out = items(&mut parser, &[b"\n\ndata: fine\n\n"]);
    assert_eq!(out, ["event message:fine:"]);
}

#[test]
fn finish_discards_the_pending_event_and_keeps_id_and_retry() {
    let mut parser = Parser::new();
    assert_eq!(
        items(
            &mut parser,
            &[b"id: 1\nretry: 10\ndata: a\n\nid: 2\ndata: b\n"]
        ),
        ["Retry(10ms)", "event message:a:1"]
    );
    assert!(parser.finish(), "the event with id 2 was pending");
    assert_eq!(parser.last_event_id(), "1");
    assert_eq!(parser.retry(), Some(std::time::Duration::from_millis(10)));
    // A new stream: a BOM is stripped again, and the id carries over.
    assert_eq!(
        items(&mut parser, &[b"\xEF\xBB\xBFdata: c\n\n"]),
        ["event message:c:1"]
    );
    assert!(!parser.finish());
    // Mid-line and mid-BOM also count as pending.
    items(&mut parser, &[b"data: x"]);
    assert!(parser.finish());
    items(&mut parser, &[b"\xEF\xBB"]);
    assert!(parser.finish());
}

#[test]
fn lone_cr_dispatches_without_waiting_for_more_bytes() {
    let mut parser = Parser::new();
    assert_eq!(items(&mut parser, &[b"data: a\r\r"]), ["event message:a:"]);
    // The LF that may follow belongs to the CR before it.
    assert_eq!(
        items(&mut parser, &[b"\ndata: b\n\n"]),
        ["event message:b:"]
    );
}

#[test]
fn invalid_utf8_never_stalls_the_stream() {
    let mut parser = Parser::new();
    assert_eq!(
        items(&mut parser, &[b"data: \xff\xfe\n\n"]),
        ["event message:\u{FFFD}\u{FFFD}:"]
    );
}

#[test]
fn single_line_events_borrow_from_the_chunk() {
    let mut parser = Parser::new();
    let chunk = b"event: e\ndata: zero copy\n\n".to_vec();
    let mut input: &[u8] = &chunk;
    let Some(Item::Event(event)) = parser.parse(&mut input).unwrap() else {
        panic!()
    };
    let range = chunk.as_ptr_range();
    assert!(range.contains(&event.data().as_bytes().as_ptr()));
    assert!(range.contains(&event.event_type().as_bytes().as_ptr()));
}

#[test]
fn split_events_are_joined_in_the_parser() {
    let mut parser = Parser::new();
    assert_eq!(
        items(&mut parser, &[b"data: a", b"b\ndata: c", b"d\n", b"\n"]),
        ["event message:ab\ncd:"]
    );
}

#[test]
fn fixed_buffer_parser_needs_no_allocator() {
    let mut memory = [0u8; 256];
    // 256 bytes: four 32-byte regions, 128 bytes for data.
    let mut parser = Parser::from_slice(Config::new(), &mut memory);
    let input = b"id: 42\nevent: tick\ndata: one\ndata: two\n\n";
    let whole = items(&mut parser, &[input]);
    assert_eq!(whole, ["event tick:one\ntwo:42"]);
    let mut memory = [0u8; 256];
    let mut parser = Parser::from_slice(Config::new(), &mut memory);
    assert_eq!(whole, items(&mut parser, &bytewise(input)));
    // Data beyond the data region is an error, not a panic.
    let long = [b"data: ".as_slice(), &[b'x'; 200], b"\n\ndata: ok\n\n"].concat();
    let out = items(&mut parser, &bytewise(&long));
    assert_eq!(
        out,
        [
            "error event larger than the limit of 128 bytes; skipped to the next event",
            "event message:ok:42"
        ]
    );
    // An id longer than its region is an error too.
    let long_id = [b"id: ".as_slice(), &[b'7'; 40], b"\ndata: x\n\n"].concat();
    assert!(items(&mut parser, &[&long_id])[0].starts_with("error"));
    assert_eq!(parser.last_event_id(), "42");
}

#[test]
fn tiny_fixed_buffers_still_recognise_split_field_names() {
    for size in [0usize, 8, 16, 24, 40] {
        let mut a = vec![0u8; size];
        let mut b = vec![0u8; size];
        let input = b"retry: 1\nid\ndata\n\n";
        let whole = items(&mut Parser::from_slice(Config::new(), &mut a), &[input]);
        let split = items(
            &mut Parser::from_slice(Config::new(), &mut b),
            &bytewise(input),
        );
        assert_eq!(whole, split, "buffer of {size} bytes");
    }
}

#[test]
fn diagnostics_report_what_the_spec_ignores() {
    let mut parser = Parser::with_config(Config::new().diagnostics(true));
    let input = b"Data: x\nretry: 1.5\nid: a\0b\nfoo\ndata: y\n\n";
    let mut found = Vec::new();
    let mut rest: &[u8] = input;
    while let Some(item) = parser.parse(&mut rest).unwrap() {
        match item {
            Item::Diagnostic(Diagnostic::UnknownField { name }) => {
                found.push(format!("unknown {name}"))
            }
            Item::Diagnostic(Diagnostic::InvalidRetry { value }) => {
                found.push(format!("retry {value}"))
            }
            Item::Diagnostic(Diagnostic::IdContainsNul { value }) => {
                found.push(format!("nul {value:?}"))
            }
            Item::Event(e) => found.push(format!("event {}", e.data())),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        found,
        [
            "unknown Data",
            "retry 1.5",
            "nul \"a\\0b\"",
            "unknown foo",
            "event y"
        ]
    );
}

#[test]
fn streamed_data_is_bounded_by_nothing_but_the_chunk() {
    // A 1 MiB event with a 16-byte limit: streaming mode never holds the data.
    let mut parser = Parser::with_config(Config::new().stream_data(true).max_event_size(16));
    let mut total = 0;
    let mut ended = 0;
    let body = vec![b'z'; 1 << 20];
    for chunk in [&b"event: big\ndata: "[..], &body, b"\ndata: tail\n\n"] {
        let mut rest = chunk;
        while let Some(item) = parser.parse(&mut rest).unwrap() {
            match item {
                Item::Data(piece) => total += piece.len(),
                Item::EventEnd(e) => {
                    assert_eq!(e.event_type(), "big");
                    ended += 1;
                }
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!((total, ended), ((1 << 20) + "\ntail".len(), 1));
}

#[test]
fn streamed_event_cut_off_by_end_of_stream_is_reported_by_finish() {
    let mut parser = Parser::with_config(Config::new().stream_data(true));
    assert_eq!(
        items(&mut parser, &[b"data: a\ndata: b\n"]),
        // The LF that joins the lines goes out with the first, as the line ends there.
        ["piece a\n", "piece b"]
    );
    assert!(
        parser.finish(),
        "pieces were handed out but the event never ended"
    );
}

#[test]
fn seeded_last_event_id_is_used_until_the_stream_sets_one() {
    let mut parser = Parser::new();
    parser.set_last_event_id(b"41").unwrap();
    assert_eq!(
        items(&mut parser, &[b"data: a\n\nid: 42\ndata: b\n\n"]),
        ["event message:a:41", "event message:b:42"]
    );
}

/// Runs `input` whole, one byte at a time and in chunks of several sizes; every way
/// must give `expected`.
fn assert_in_every_chunking(config: Config, input: &[u8], expected: &[&str]) {
    for size in [input.len().max(1), 1, 2, 3, 7, 64] {
        let chunks: Vec<&[u8]> = input.chunks(size).collect();
        let mut parser = Parser::with_config(config);
        assert_eq!(
            items(&mut parser, &chunks),
            expected,
            "{}-byte chunks of \"{}\"",
            size,
            input.escape_ascii()
        );
    }
}

const TOO_LARGE_8: &str = "error event larger than the limit of 8 bytes; skipped to the next event";

#[test]
fn resync_after_a_limit_in_a_crlf_stream() {
    let config = Config::new().max_event_size(8);
    assert_in_every_chunking(
        config,
        b"id: 1\r\ndata: ok\r\n\r\nid: 2\r\ndata: far too long\r\ndata: x\r\n\r\nevent: e\r\ndata: next\r\n\r\n",
        &[
            "event message:ok:1",
            TOO_LARGE_8,
            // The skipped block's id was not committed.
            "event e:next:1",
        ],
    );
    // Lone CRs, and a CRLF whose halves a chunk boundary may split.
    assert_in_every_chunking(
        config,
        b"data: far too long\rdata: x\r\rdata: a\r\n\r\ndata: b\r\r",
        &[TOO_LARGE_8, "event message:a:", "event message:b:"],
    );
}

#[test]
fn resync_after_a_limit_hit_across_many_chunks() {
    // The data grows past the limit over many lines and chunks; one error, then the
    // rest of the block is skipped however it is cut.
    let config = Config::new().max_event_size(64);
    let mut input = b"data: before\n\n".to_vec();
    for _ in 0..40 {
        input.extend_from_slice(b"data: 0123456789\n");
    }
    input.extend_from_slice(b"retry: 5\nid: 9\n\ndata: after\n\n");
    assert_in_every_chunking(
        config,
        &input,
        &[
            "event message:before:",
            "error event larger than the limit of 64 bytes; skipped to the next event",
            "event message:after:",
        ],
    );
}

#[test]
fn comments_after_resync_are_reported_and_those_skipped_are_not() {
    let config = Config::new().max_event_size(8).comments(true);
    assert_in_every_chunking(
        config,
        b": first\ndata: far too long\n: inside\n\n: after\ndata: ok\n\n",
        &[
            "Comment(\"first\")",
            TOO_LARGE_8,
            // ": inside" fits the limit, but it is in the block being skipped.
            "Comment(\"after\")",
            "event message:ok:",
        ],
    );
}

#[test]
fn resync_when_the_blank_line_follows_the_overflow_at_once() {
    let config = Config::new().max_event_size(4);
    // The line that overflows is the block's last; the very next line is blank.
    assert_in_every_chunking(
        config,
        b"data: 12345\n\ndata: 1\n\nevent: toolong\n\ndata: 2\n\n",
        &[
            "error event larger than the limit of 4 bytes; skipped to the next event",
            "event message:1:",
            "error event larger than the limit of 4 bytes; skipped to the next event",
            "event message:2:",
        ],
    );
    // An overflow then the end of the stream: nothing pending survives it.
    let mut parser = Parser::with_config(config);
    items(&mut parser, &[b"data: 12345\ndata"]);
    assert!(parser.finish());
    assert_eq!(items(&mut parser, &[b"data: 3\n\n"]), ["event message:3:"]);
}

#[test]
fn fixed_buffer_parser_resyncs_in_every_chunking() {
    let input = b"data: 0123456789\ndata: 0123456789\n\nid: 1\ndata: fits\n\n";
    let expected = [
        "error event larger than the limit of 16 bytes; skipped to the next event",
        "event message:fits:1",
    ];
    for size in [input.len(), 1, 2, 5] {
        // 64 bytes: four 8-byte value regions, 32 bytes for data; the limit is lower.
        let mut memory = [0u8; 64];
        let mut parser = Parser::from_slice(Config::new().max_event_size(16), &mut memory);
        let chunks: Vec<&[u8]> = input.chunks(size).collect();
        assert_eq!(items(&mut parser, &chunks), expected, "{size}-byte chunks");
    }
}

/// A joining LF sent with one line's value is not sent again, nor lost, when the next
/// line goes on in the next chunk (a case the fuzz check found while this was written).
#[test]
fn streamed_lines_keep_every_joining_lf_across_chunks() {
    let input: &[u8] = b"data: a\ndata: b1\ndata: c\ndata\ndata: d\n\n";
    for split in 0..=input.len() {
        let mut parser = Parser::with_config(Config::new().stream_data(true));
        let (mut data, mut ends) = (Vec::new(), 0);
        for chunk in [&input[..split], &input[split..]] {
            let mut rest = chunk;
            while let Some(item) = parser.parse(&mut rest).unwrap() {
                match item {
                    Item::Data(piece) => data.extend_from_slice(piece.as_bytes()),
                    Item::EventEnd(_) => ends += 1,
                    other => panic!("{other:?}"),
                }
            }
        }
        assert_eq!(
            (&data[..], ends),
            (&b"a\nb1\nc\n\nd"[..], 1),
            "split at {split}"
        );
    }
}

/// A value that goes on across chunks is handed out piece by piece, up to its line end
/// (LF, CR or CRLF, cut or not), whatever the three chunks are.
#[test]
fn streamed_values_are_the_same_cut_anywhere_in_three() {
    let input: &[u8] = b"data: abc\r\ndata:def\rdata:  g\n\nevent: e\ndata: hij\r\n\r\n";
    for i in 0..=input.len() {
        for j in i..=input.len() {
            let mut parser = Parser::with_config(Config::new().stream_data(true));
            let (mut data, mut ends) = (Vec::new(), Vec::new());
            for chunk in [&input[..i], &input[i..j], &input[j..]] {
                let mut rest = chunk;
                while let Some(item) = parser.parse(&mut rest).unwrap() {
                    match item {
                        Item::Data(piece) => data.extend_from_slice(piece.as_bytes()),
                        Item::EventEnd(event) => {
                            ends.push((event.event_type().as_bytes().to_vec(), data.clone()));
                            data.clear();
                        }
                        other => panic!("{other:?}"),
                    }
                }
            }
            assert!(!parser.finish(), "cut at {i}, {j}");
            assert_eq!(
                ends,
                [
                    (b"message".to_vec(), b"abc\ndef\n g".to_vec()),
                    (b"e".to_vec(), b"hij".to_vec())
                ],
                "cut at {i}, {j}"
            );
        }
    }
}

#[test]
fn long_data_lines_are_the_same_however_cut() {
    // Values long enough to be read in several blocks once they span chunks, with
    // their line end (LF, CR, CRLF) on either side of a block boundary and the limit
    // hit in a late block.
    const BLOCK: usize = 16 << 10;
    for len in [BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7] {
        for end in ["\n", "\r", "\r\n"] {
            let value: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            let input = format!("data: x\n\ndata: {value}{end}data: tail{end}{end}data: after\n\n");
            let input = input.as_bytes();
            for max in [usize::MAX, len + 5, len + 4, 2 * BLOCK] {
                let config = Config::new().max_event_size(max);
                let expected = items(&mut Parser::with_config(config), &[input]);
                if max >= len + 5 {
                    assert_eq!(expected[1], format!("event message:{value}\ntail:"));
                } else {
                    assert!(
                        expected[1].starts_with("error event larger"),
                        "{}",
                        expected[1]
                    );
                }
                assert_eq!(expected.len(), 3);
                for size in [1460, 4096, 65536, 7, 100_000] {
                    let chunks: Vec<&[u8]> = input.chunks(size).collect();
                    let got = items(&mut Parser::with_config(config), &chunks);
                    assert!(
                        got == expected,
                        "len {len}, end {end:?}, max {max}, {size}-byte chunks"
                    );
                }
                for split in [
                    9,
                    20,
                    21,
                    BLOCK + 15,
                    BLOCK + 16,
                    BLOCK + 17,
                    len + 15,
                    len + 16,
                ] {
                    let (a, b) = input.split_at(split.min(input.len()));
                    let got = items(&mut Parser::with_config(config), &[a, b]);
                    assert!(
                        got == expected,
                        "len {len}, end {end:?}, max {max}, split {split}"
                    );
                }
            }
        }
    }
}

#[test]
fn owned_events_assembled_in_the_parser_keep_their_text_and_no_spare_memory() {
    use sse_proto::{EventReader, OwnedItem, OwnedParser};
    // Large and small events that span chunks (their data is assembled in the
    // parser, and a large one is moved out of it), one with invalid UTF-8, one huge
    // event that grows the parser's buffer, then smaller ones that must not be
    // handed out in a buffer that size.
    let values: Vec<Vec<u8>> = vec![
        vec![b'a'; 300_000],
        b"small".to_vec(),
        [&vec![b'b'; 9000][..], b"\xff\xc3", &vec![b'c'; 9000][..]].concat(),
        vec![b'd'; 2 << 20],
        vec![b'e'; 5000],
        vec![b'f'; 100_000],
        b"g\n".repeat(3000),
    ];
    let mut input = Vec::new();
    for value in &values {
        for line in value.split(|&b| b == b'\n') {
            input.extend_from_slice(b"data: ");
            input.extend_from_slice(line);
            input.push(b'\n');
        }
        input.push(b'\n');
    }
    let expected: Vec<String> = values
        .iter()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    let check = |events: Vec<String>, how: &str| {
        assert_eq!(events.len(), expected.len(), "{how}");
        for (got, want) in events.iter().zip(&expected) {
            assert!(
                got == want,
                "{how}: an event of {} bytes differs",
                want.len()
            );
            assert!(
                got.capacity() <= 2 * got.len().max(4096),
                "{how}: {} bytes of data held in {}",
                got.len(),
                got.capacity()
            );
        }
    };
    for size in [1460, 65536, 7919] {
        let mut parser = OwnedParser::new(Parser::new());
        let mut events = Vec::new();
        for chunk in input.chunks(size) {
            parser.push(chunk.to_vec());
            while let Some(item) = parser.next() {
                if let OwnedItem::Event(event) = item {
                    // A `String` takes over a `ByteString`'s unshared memory.
                    events.push(String::from(event.data()));
                }
            }
        }
        check(events, &format!("OwnedParser, {size}-byte chunks"));
        let reader = EventReader::new(std::io::Cursor::new(&input));
        let events = reader.map(|e| String::from(e.unwrap().data())).collect();
        check(events, "EventReader");
    }
}

/// An event whose block sets its ID hands out that ID where it was read, in the
/// input, so that owned events can share it with the input; events after it
/// inherit the same ID from the parser's copy.
#[test]
fn an_id_set_in_the_block_is_the_inputs_and_an_inherited_one_the_parsers() {
    // (The first block of a stream goes through the general path, which hands
    // out the parser's copy: it has the byte order mark to look for.)
    let input: &[u8] = b"data: 0\n\nid: 42\nevent: e\ndata: a\n\ndata: b\n\nid: 43\ndata: c\n\n";
    let mut parser = Parser::new();
    let mut rest = input;
    let mut ids = Vec::new();
    while let Some(item) = parser.parse(&mut rest).unwrap() {
        if let sse_proto::Item::Event(event) = item {
            let id = event.last_event_id().as_bytes();
            if id.is_empty() {
                continue;
            }
            let in_input = input.as_ptr_range().contains(&id.as_ptr());
            ids.push((String::from_utf8(id.to_vec()).unwrap(), in_input));
        }
    }
    // (Built without the fast paths, every ID is the parser's copy.)
    let fast = !cfg!(sse_proto_small);
    let want = [("42", fast), ("42", false), ("43", fast)];
    let want: Vec<(String, bool)> = want.iter().map(|&(id, at)| (id.into(), at)).collect();
    assert_eq!(ids, want);
}
