//! `sse decode` as a user runs it: a process, stdin, stdout, an exit status.

mod common;

use std::io::{Read, Write};
use std::process::Stdio;

use conformance::{Outcome, vectors};
use serde_json::Value;

use common::{
    decode_args, feed_and_hold, json_lines, peak_rss, run, spawn_piped, sse, stream_and_measure,
};

/// Runs `sse decode ARGS` on `input`; returns (stdout lines as JSON, stderr, success).
fn decode(args: &[&str], input: &[u8]) -> (Vec<Value>, String, bool) {
    let (stdout, stderr, success) = run(sse("decode", args), input);
    (
        json_lines(&String::from_utf8(stdout).unwrap()),
        stderr,
        success,
    )
}

#[test]
fn writes_the_documented_format() {
    let (lines, _, ok) = decode(
        &[],
        b"retry: 10\nid: 7\nevent: e\ndata: a\ndata: b\n\ndata\n\n",
    );
    assert!(ok);
    let raw: Vec<String> = lines.iter().map(Value::to_string).collect();
    assert_eq!(
        raw,
        [
            r#"{"data":"a\nb","id":"7","retry":10,"type":"e"}"#,
            r#"{"data":"","id":"7","retry":10,"type":"message"}"#,
            r#"{"final":true,"last_event_id":"7","retry":10}"#,
        ]
    );
    // Key order and spacing, exactly as documented.
    let mut child = sse("decode", &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"data: x\n\n")
        .unwrap();
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        text,
        "{\"type\": \"message\", \"data\": \"x\", \"id\": \"\", \"retry\": null}\n\
         {\"final\": true, \"last_event_id\": \"\", \"retry\": null}\n"
    );
}

#[test]
fn comments_come_in_stream_order() {
    let (lines, _, ok) = decode(&["--comments"], b": one\ndata: a\n:two\n\n");
    assert!(ok);
    assert_eq!(lines[0]["comment"], "one");
    assert_eq!(lines[1]["comment"], "two");
    assert_eq!(lines[2]["data"], "a");
}

#[test]
fn a_too_large_event_is_reported_skipped_and_fails_the_run() {
    let (lines, stderr, ok) = decode(&["--max-event-size", "4"], b"data: 12345\n\ndata: ok\n\n");
    assert!(!ok);
    assert!(
        stderr.contains("larger than the limit of 4 bytes"),
        "{stderr}"
    );
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["data"], "ok");
}

#[test]
fn every_conformance_vector_decodes_as_expected() {
    for vector in vectors() {
        if vector.config.last_event_id.is_some() {
            continue; // the CLI starts fresh, like a first connection
        }
        let args = decode_args(&vector.config);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (lines, _, ok) = decode(&args, &vector.input);
        let expect_errors = vector.expect.iter().any(|o| matches!(o, Outcome::Error(_)));
        assert_eq!(ok, !expect_errors, "{}: exit status", vector.name);
        let mut retry = None;
        let mut expected = Vec::new();
        for outcome in &vector.expect {
            match outcome {
                Outcome::Event {
                    event_type,
                    data,
                    id,
                } => expected.push(
                    serde_json::json!({"type": event_type, "data": data, "id": id, "retry": retry}),
                ),
                Outcome::Retry(ms) => retry = Some(*ms),
                Outcome::Comment(text) => expected.push(serde_json::json!({ "comment": text })),
                Outcome::Error(_) => {}
            }
        }
        let (last, events) = lines.split_last().unwrap();
        assert_eq!(events, expected, "{}", vector.name);
        assert_eq!(last["final"], true);
        if let Some(id) = &vector.last_event_id {
            assert_eq!(last["last_event_id"], id.as_str(), "{}", vector.name);
        }
        if let Some(retry) = vector.retry {
            assert_eq!(last["retry"], serde_json::json!(retry), "{}", vector.name);
        }
    }
}

#[test]
fn memory_does_not_grow_with_input_size() {
    // 64 MiB of small events stream through a process whose peak memory stays a
    // small fraction of that.
    let event = b"data: {\"token\":\"hello\"}\n\n";
    let events = (64 << 20) / event.len();
    let input = event.repeat(events);
    let mut lines = 0usize;
    let (peak, rest) = stream_and_measure(sse("decode", &[]), input, |piece| {
        lines += piece.iter().filter(|&&b| b == b'\n').count();
        lines >= events
    });
    let rest = String::from_utf8(rest).unwrap();
    assert!(rest.contains("\"final\": true"), "{rest}");
    if let Some(peak) = peak {
        assert!(peak < 16 << 20, "peak RSS {peak} bytes for 64 MiB of input");
    }
}

/// Pipes `head`, then `body` over and over until `total` bytes of it went in, then
/// `tail` into `sse decode ARGS`, generating the input on the fly. Once a stdout line
/// contains `marker` (so all the input has been read), takes the process's peak
/// resident size; then closes stdin. Returns (peak RSS, stdout, stderr, success).
fn decode_generated(
    args: &[&str],
    head: &'static [u8],
    body: Vec<u8>,
    total: usize,
    tail: &'static [u8],
    marker: &str,
) -> (Option<usize>, String, String, bool) {
    use std::io::BufRead;

    let mut child = spawn_piped(sse("decode", args));
    let writer = feed_and_hold(&mut child, move |stdin| {
        stdin.write_all(head).unwrap();
        let mut sent = 0;
        while sent < total {
            let n = body.len().min(total - sent);
            stdin.write_all(&body[..n]).unwrap();
            sent += n;
        }
        stdin.write_all(tail).unwrap();
    });
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    while !text.contains(marker) {
        let n = stdout.read_line(&mut text).unwrap();
        assert_ne!(n, 0, "output ended early: {text}");
    }
    let peak = peak_rss(child.id());
    drop(writer.join().unwrap());
    stdout.read_to_string(&mut text).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let success = child.wait().unwrap().success();
    (peak, text, stderr, success)
}

#[test]
fn a_gigabyte_without_an_end_stays_within_twice_the_limit() {
    const LIMIT: usize = 16 << 20;
    let limit = LIMIT.to_string();
    let args = ["--max-event-size", limit.as_str()];
    let line = b"data: 0123456789abcdef0123456789abcdef0123456789abcdef012345678\n".repeat(1024);
    for (what, head, body) in [
        // One data line of a gigabyte, no line end.
        ("a 1 GiB line", &b"data: "[..], vec![b'x'; 64 << 10]),
        // One event of a gigabyte of data lines, no blank line.
        ("a 1 GiB event", b"", line),
    ] {
        let (peak, out, err, ok) = decode_generated(
            &args,
            head,
            body,
            1 << 30,
            b"\n\ndata: after\n\n",
            "\"after\"",
        );
        assert!(
            !ok,
            "{what}: the exit status must say an event was too large"
        );
        assert!(
            err.contains(&format!("larger than the limit of {LIMIT} bytes")),
            "{what}: {err}"
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{what}: {out}");
        assert!(lines[0].contains("\"data\": \"after\""), "{what}: {out}");
        if let Some(peak) = peak {
            eprintln!(
                "{what}: peak RSS {peak} bytes ({:.2} x the {LIMIT}-byte limit)",
                peak as f64 / LIMIT as f64
            );
            assert!(
                peak <= 2 * LIMIT,
                "{what}: peak RSS {peak} bytes with a limit of {LIMIT}"
            );
        }
    }
}
