//! `sse encode` as a user runs it: processes, pipes, stdin, stdout, exit statuses. The
//! rules of the NDJSON-to-stream mapping, the error reports, and the round trip
//! `sse encode | sse decode` on hand-written lines and on every conformance vector.

mod common;

use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use conformance::vectors;
use serde_json::{Value, json};

use common::{decode_args, feed, json_lines, run, sse, stream_and_measure};

/// `sse encode` on `ndjson`: (stream as text, stderr, success).
fn encode(ndjson: &str) -> (String, String, bool) {
    let (out, err, ok) = run(sse("encode", &[]), ndjson.as_bytes());
    (String::from_utf8(out).unwrap(), err, ok)
}

/// Encodes, insisting on success.
fn encoded(ndjson: &str) -> String {
    let (out, err, ok) = encode(ndjson);
    assert!(ok, "sse encode failed: {err}");
    assert_eq!(err, "");
    out
}

/// `sse encode | sse decode --comments` as two processes joined by a pipe; returns
/// decode's stdout and both statuses' success.
fn encode_pipe_decode(ndjson: &[u8]) -> (String, bool) {
    encode_pipe_decode_with(ndjson, &["--comments"])
}

/// [`encode_pipe_decode`], decoding with `decode_args`.
fn encode_pipe_decode_with(ndjson: &[u8], decode_args: &[&str]) -> (String, bool) {
    let mut encoder = sse("encode", &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let decoder = sse("decode", decode_args)
        .stdin(Stdio::from(encoder.stdout.take().unwrap()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let writer = feed(&mut encoder, ndjson);
    let decoded = decoder.wait_with_output().unwrap();
    let encoded_ok = encoder.wait().unwrap().success();
    writer.join().unwrap();
    (
        String::from_utf8(decoded.stdout).unwrap(),
        encoded_ok && decoded.status.success(),
    )
}

#[test]
fn data_makes_an_event() {
    assert_eq!(encoded(r#"{"data": "hello"}"#), "data: hello\n\n");
}

#[test]
fn type_or_id_without_data_still_makes_an_event_with_empty_data() {
    assert_eq!(encoded(r#"{"type": "ping"}"#), "event: ping\ndata: \n\n");
    assert_eq!(encoded(r#"{"id": "7"}"#), "id: 7\ndata: \n\n");
    assert_eq!(encoded(r#"{"data": ""}"#), "data: \n\n");
}

#[test]
fn the_default_type_writes_no_event_field() {
    assert_eq!(
        encoded("{\"type\": \"message\", \"data\": \"a\"}\n{\"type\": \"\", \"data\": \"b\"}"),
        "data: a\n\ndata: b\n\n"
    );
}

#[test]
fn data_is_split_into_lines_at_cr_lf_and_crlf() {
    assert_eq!(
        encoded(r#"{"data": "a\r\nb\rc\nd\n"}"#),
        "data: a\ndata: b\ndata: c\ndata: d\ndata: \n\n"
    );
}

#[test]
fn comment_alone_is_a_comment_block() {
    assert_eq!(encoded(r#"{"comment": "ping"}"#), ": ping\n\n");
    assert_eq!(encoded(r#"{"comment": ""}"#), ":\n\n");
    assert_eq!(encoded(r#"{"comment": "a\nb"}"#), ": a\n: b\n\n");
}

#[test]
fn retry_alone_is_a_retry_block() {
    assert_eq!(encoded(r#"{"retry": 5000}"#), "retry: 5000\n\n");
}

#[test]
fn comment_and_retry_alone_are_a_comment_block_then_a_retry_block() {
    assert_eq!(
        encoded(r#"{"comment": "hi", "retry": 10}"#),
        ": hi\n\nretry: 10\n\n"
    );
}

#[test]
fn everything_with_data_is_one_block() {
    assert_eq!(
        encoded(r#"{"type": "t", "data": "a\nb", "id": "1", "retry": 10, "comment": "c"}"#),
        ": c\nevent: t\nid: 1\nretry: 10\ndata: a\ndata: b\n\n"
    );
}

#[test]
fn empty_objects_and_blank_lines_write_nothing() {
    assert_eq!(encoded("{}\n\n   \r\n{\"data\": \"x\"}\r\n"), "data: x\n\n");
}

#[test]
fn id_and_retry_are_written_the_first_time_and_when_they_change() {
    let lines = [
        r#"{"data": "a", "id": "", "retry": null}"#,
        r#"{"data": "b", "id": "", "retry": 5}"#,
        r#"{"data": "c", "id": "1", "retry": 5}"#,
        r#"{"data": "d", "id": "1", "retry": 5}"#,
        r#"{"data": "e", "id": "", "retry": 6}"#,
        r#"{"retry": 6}"#,
        r#"{"id": ""}"#,
        r#"{"data": "f"}"#,
    ];
    assert_eq!(
        encoded(&lines.join("\n")),
        // The first id is written even when empty: a reconnecting client may hold
        // another.
        "id: \ndata: a\n\n\
         retry: 5\ndata: b\n\n\
         id: 1\ndata: c\n\n\
         data: d\n\n\
         id: \nretry: 6\ndata: e\n\n\
         data: \n\n\
         data: f\n\n"
    );
}

#[test]
fn a_final_line_writes_only_what_changes_the_state() {
    assert_eq!(
        encoded(
            "{\"data\": \"a\", \"id\": \"1\", \"retry\": 3}\n\
             {\"final\": true, \"last_event_id\": \"1\", \"retry\": 3}"
        ),
        "id: 1\nretry: 3\ndata: a\n\n"
    );
    // An id set in a data-less block: set without dispatching an event.
    assert_eq!(
        encoded(
            "{\"data\": \"a\", \"id\": \"1\"}\n\
             {\"final\": true, \"last_event_id\": \"2\", \"retry\": 9}"
        ),
        "id: 1\ndata: a\n\nretry: 9\n\nid: 2\n\n"
    );
    assert_eq!(encoded(r#"{"final": true}"#), "");
}

#[test]
fn a_final_line_with_a_bad_id_writes_nothing() {
    let input = [
        r#"{"final": true, "last_event_id": "x\ny", "retry": 5}"#,
        r#"{"final": true, "last_event_id": "x\u0000", "retry": 5}"#,
        // Neither the retry nor the ID of the refused lines became the state.
        r#"{"final": true, "last_event_id": "x", "retry": 5}"#,
    ]
    .join("\n");
    let (out, err, ok) = encode(&input);
    assert!(!ok);
    assert_eq!(out, "retry: 5\n\nid: x\n\n");
    let reports: Vec<&str> = err.lines().collect();
    assert_eq!(reports.len(), 2, "{err}");
    assert!(reports[0].contains("line 1: event ID contains a line break at byte 1"));
    assert!(reports[1].contains("line 2: event ID contains NUL at byte 1"));
}

#[test]
fn the_help_documents_the_mapping() {
    let out = sse("encode", &["--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "type",
        "data",
        "id",
        "retry",
        "comment",
        "\"final\": true",
        "written only when its value differs",
        "line number",
        "sse decode | sse encode | sse\ndecode",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn bad_lines_are_reported_with_their_numbers_and_the_rest_is_encoded() {
    let input = [
        r#"{"data": "1", "id": "a"}"#,
        r#"{"data": "2", "id": "b\nid: forged"}"#,
        r#"{"data": "3", "type": "t\r"}"#,
        r#"{"data": "4", "id": "c\u0000"}"#,
        r#"{"data": "5""#,
        r#"{"data": 6}"#,
        r#"{"retry": "7"}"#,
        r#"{"retry": -8}"#,
        r#"{"retry": 9.5}"#,
        r#"{"data": "10", "colour": "red"}"#,
        r#"["11"]"#,
        r#"not json"#,
        r#"{"final": false}"#,
        r#"{"final": true, "data": "14"}"#,
        r#"{"last_event_id": "15"}"#,
        r#"{"data": "16", "data": "16"}"#,
        r#"{"data": "17", "id": "a"}"#,
        r#"{"data": "18", "topic": "t"}"#,
    ]
    .join("\n");
    let (out, err, ok) = encode(&input);
    assert!(!ok, "the exit status reports the failures");
    // Only the good lines are written; the refused `id` did not become the state.
    assert_eq!(out, "id: a\ndata: 1\n\ndata: 17\n\n");
    let reports: Vec<&str> = err.lines().collect();
    let expect = [
        (2, "event ID contains a line break at byte 1"),
        (3, "event type contains a line break at byte 1"),
        (4, "event ID contains NUL at byte 1"),
        (5, "column 12: EOF while parsing an object"),
        (6, "column 10: invalid type: integer `6`, expected a string"),
        (7, "invalid type: string \"7\", expected u64"),
        (8, "invalid value: integer `-8`, expected u64"),
        (9, "invalid type: floating point `9.5`, expected u64"),
        (10, "unknown field `colour`"),
        (11, "expected a JSON object"),
        (12, "expected a JSON object"),
        (13, "\"final\" must be true"),
        (14, "a final line takes only"),
        (15, "\"last_event_id\" belongs on a {\"final\": true} line"),
        (16, "duplicate field `data`"),
        (18, "\"topic\" routes an event in sse serve"),
    ];
    assert_eq!(reports.len(), expect.len(), "{err}");
    for (report, (line, text)) in reports.iter().zip(expect) {
        let prefix = format!("sse encode: line {line}: ");
        assert!(report.starts_with(&prefix), "{report:?} lacks {prefix:?}");
        assert!(report.contains(text), "{report:?} lacks {text:?}");
    }
}

/// An event line as `sse decode` writes it.
fn event(event_type: &str, data: &str, id: &str, retry: Option<u64>) -> Value {
    json!({"type": event_type, "data": data, "id": id, "retry": retry})
}

/// `sse decode`'s last line.
fn last(id: &str, retry: Option<u64>) -> Value {
    json!({"final": true, "last_event_id": id, "retry": retry})
}

#[test]
fn hand_written_events_round_trip_through_a_pipe() {
    // (NDJSON in, what `sse decode --comments` must write for it).
    let cases = [
        (
            vec![json!({"data": "crlf\r\nlf\ncr\rend"})],
            vec![
                event("message", "crlf\nlf\ncr\nend", "", None),
                last("", None),
            ],
        ),
        (
            vec![json!({"data": "\r\n"}), json!({"data": "trailing\r"})],
            vec![
                event("message", "\n", "", None),
                event("message", "trailing\n", "", None),
                last("", None),
            ],
        ),
        (
            vec![
                json!({"data": " one space", "type": " t", "id": "  two"}),
                json!({"data": "   \n  lines", "comment": " c"}),
            ],
            vec![
                event(" t", " one space", "  two", None),
                json!({"comment": " c"}),
                event("message", "   \n  lines", "  two", None),
                last("  two", None),
            ],
        ),
        (
            vec![
                json!({"data": ""}),
                json!({"type": "empty"}),
                json!({"id": "3"}),
            ],
            vec![
                event("message", "", "", None),
                event("empty", "", "", None),
                event("message", "", "3", None),
                last("3", None),
            ],
        ),
        (
            vec![
                json!({"data": "é 日本 😀 \u{feff}bom \u{0} nul", "type": "ünï", "id": "ïd"}),
                json!({"data": "x", "retry": 250}),
                json!({"data": "y", "id": "", "retry": 250}),
                json!({"retry": 1000}),
                json!({"final": true, "last_event_id": "end", "retry": 1000}),
            ],
            vec![
                event("ünï", "é 日本 😀 \u{feff}bom \u{0} nul", "ïd", None),
                event("message", "x", "ïd", Some(250)),
                event("message", "y", "", Some(250)),
                last("end", Some(1000)),
            ],
        ),
    ];
    for (input, expected) in cases {
        let ndjson: String = input.iter().map(|v| format!("{v}\n")).collect();
        let (out, ok) = encode_pipe_decode(ndjson.as_bytes());
        assert!(ok, "{ndjson}");
        assert_eq!(json_lines(&out), expected, "{ndjson}");
    }
}

#[test]
fn every_conformance_vector_round_trips_through_decode_encode_decode() {
    for vector in vectors() {
        let args = decode_args(&vector.config);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (first, _, _) = run(sse("decode", &args), &vector.input);
        // The second decode runs with the vector's limits too: what was over them
        // the first one dropped, and a value it kept may be over the defaults.
        let (second, ok) = encode_pipe_decode_with(&first, &args);
        assert!(ok, "{}", vector.name);
        assert_eq!(
            second,
            String::from_utf8(first).unwrap(),
            "{}: sse decode | sse encode | sse decode",
            vector.name
        );
    }
}

#[test]
fn sse_decode_output_encodes_to_a_normalised_stream() {
    let sample = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../samples/stream.sse"
    ))
    .unwrap();
    let (ndjson, _, ok) = run(sse("decode", &["--comments"]), &sample);
    assert!(ok);
    let (stream, err, ok) = run(sse("encode", &[]), &ndjson);
    assert!(ok, "{err}");
    assert_eq!(
        String::from_utf8(stream).unwrap(),
        ": a sample event stream, as a server would send it\n\n\
         event: greeting\nid: 1\nretry: 5000\ndata: hello, world\n\n\
         id: 2\ndata: {\"delta\": \"multi\"}\ndata: {\"delta\": \"line\"}\n\n\
         : a keep-alive comment\n\n\
         event: done\ndata: \n\n"
    );
}

#[test]
fn each_line_is_written_as_soon_as_it_arrives() {
    let mut child = sse("encode", &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => tx.send(buf[..n].to_vec()).unwrap(),
            }
        }
    });
    // A line, and half of the next: the first must come out while stdin stays open.
    stdin
        .write_all(b"{\"data\": \"one\"}\n{\"data\": \"tw")
        .unwrap();
    stdin.flush().unwrap();
    let mut got = Vec::new();
    while got != b"data: one\n\n" {
        let piece = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("no output while the input stays open");
        got.extend(piece);
    }
    stdin.write_all(b"o\"}\n").unwrap();
    stdin.flush().unwrap();
    got.clear();
    while got != b"data: two\n\n" {
        got.extend(rx.recv_timeout(Duration::from_secs(20)).unwrap());
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
}

#[test]
fn memory_does_not_grow_with_input_size() {
    // 64 MiB of NDJSON streams through a process whose peak memory stays a small
    // fraction of that.
    let line = b"{\"type\": \"message\", \"data\": \"{\\\"token\\\":\\\"hello\\\"}\", \"id\": \"\", \"retry\": null}\n";
    let lines = (64 << 20) / line.len();
    let input = line.repeat(lines);
    let event = b"data: {\"token\":\"hello\"}\n\n";
    // The first event also carries `id: ` (5 bytes).
    let expected = lines * event.len() + 5;
    let mut total = 0usize;
    let (peak, rest) = stream_and_measure(sse("encode", &[]), input, |piece| {
        total += piece.len();
        total >= expected
    });
    assert_eq!(total + rest.len(), expected);
    if let Some(peak) = peak {
        assert!(peak < 16 << 20, "peak RSS {peak} bytes for 64 MiB of input");
    }
}
