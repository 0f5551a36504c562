//! A deliberately naive implementation of the spec's processing model, to test the
//! fast parser against (the "oracle" of the property tests).
//!
//! It follows the spec's order of operations literally: decode the whole stream as
//! UTF-8 (one leading BOM stripped, invalid sequences replaced by U+FFFD), split it
//! into lines one character at a time, then interpret each line with `String`
//! buffers. It is slow and has no limits; it is meant to be obviously right.

use crate::{Outcome, Run};

/// Parses a whole stream with comments reported, starting from `last_event_id`.
pub fn parse(input: &[u8], last_event_id: &str) -> Run {
    // UTF-8 decode: "one leading U+FEFF BYTE ORDER MARK character must be ignored if
    // any are present" (the BOM bytes are stripped before decoding).
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = String::from_utf8_lossy(input);

    // Lines end at CRLF, LF or CR. A line with no end (at end of stream) is dropped.
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut line));
            }
            '\n' => lines.push(std::mem::take(&mut line)),
            c => line.push(c),
        }
    }

    let mut run = Run {
        last_event_id: last_event_id.to_string(),
        ..Run::default()
    };
    let mut data = String::new();
    let mut event_type = String::new();
    let mut id_buffer = last_event_id.to_string();
    for line in lines {
        if line.is_empty() {
            // Dispatch.
            run.last_event_id = id_buffer.clone();
            if data.is_empty() {
                event_type.clear();
                continue;
            }
            if data.ends_with('\n') {
                data.pop();
            }
            let ty = if event_type.is_empty() {
                "message".to_string()
            } else {
                event_type.clone()
            };
            run.items.push(Outcome::Event {
                event_type: ty,
                data: std::mem::take(&mut data),
                id: run.last_event_id.clone(),
            });
            event_type.clear();
            continue;
        }
        if let Some(comment) = line.strip_prefix(':') {
            let comment = comment.strip_prefix(' ').unwrap_or(comment);
            run.items.push(Outcome::Comment(comment.to_string()));
            continue;
        }
        let (field, value) = match line.find(':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (line.as_str(), ""),
        };
        match field {
            "event" => event_type = value.to_string(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "id" if !value.contains('\0') => id_buffer = value.to_string(),
            "retry" if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) => {
                let ms = value.chars().fold(0u64, |ms, c| {
                    ms.saturating_mul(10)
                        .saturating_add(u64::from(c as u8 - b'0'))
                });
                run.retry = Some(ms);
                run.items.push(Outcome::Retry(ms));
            }
            _ => {}
        }
    }
    run
}
