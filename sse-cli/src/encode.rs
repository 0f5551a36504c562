//! `sse encode`: NDJSON on stdin as an event stream on stdout, the inverse of
//! `sse decode`.
//!
//! It exists so that streams can be written, edited and replayed as text: decode a
//! recorded stream, change a line, encode it again; or feed a server the output of
//! any program that prints JSON. All the encoding is `sse_proto`'s [`Encode`], so no
//! input line can inject a field or an event.
//!
//! The one design question is what `id` and `retry` mean. `sse decode` writes, on
//! every event line, the event's *last event ID* (which persists across events) and
//! the reconnection time *in force*, not the fields the block carried. So here both
//! are state: "after this line, the client's last event ID is `id`". A field is
//! written only when the value differs from the last one this stream wrote, which
//! gives the same last event ID and reconnection time at every event, and so the same
//! decoded lines, while writing each change once. The first value is always written
//! (even an empty ID): a client may arrive with a last event ID of its own, from an
//! earlier connection, and the line says what it must be. See [`LONG_ABOUT`].

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::ExitCode;

use sse_proto::{Comment, Encode, EncodeError, LastEventId, Retry};

use crate::ndjson::{Input, InputError};

/// `sse encode --help`: the mapping from NDJSON to the stream.
pub const LONG_ABOUT: &str = "\
Read NDJSON on stdin, one JSON object per line, and write a text/event-stream on
stdout. It reads exactly what `sse decode` writes: `sse decode | sse encode | sse
decode` gives back the same lines.

Keys (all optional):
  type     the event type; \"message\" (the default) and \"\" write no `event:` field
  data     the data; CR, LF and CRLF each arrive as LF (SSE cannot carry a CR)
  id       the client's last event ID after this line
  retry    the reconnection time, in milliseconds, after this line; null: unchanged
  comment  a comment; clients ignore it

A line becomes:
  - with data, type or id: one event, in one block with the line's comment and retry
    (missing data is empty data: the client still dispatches the event);
  - with only comment and/or retry: a comment block, then a `retry:` block;
  - {\"final\": true, \"last_event_id\": ID, \"retry\": MS} (decode's last line): only
    what changes the state: a `retry:` block and an `id:` block without data (which
    sets the ID without dispatching an event);
  - {} or a blank line: nothing.

`id` and `retry` are state, as `sse decode` writes them, not fields to repeat: a
field is written only when its value differs from the last one written, and always
the first time (a reconnecting client may have an ID of its own). So repeating them
on every line, as decode does, writes each change once, and every event arrives with
the same last event ID and reconnection time as the line says.

A line that cannot be encoded (bad JSON, a wrong type, an unknown key, a line break
in `type` or `id`, a NUL in `id`, a `topic`, which only `sse serve` routes by) is reported on stderr with its line number and
writes nothing; the other lines are still encoded, and the exit status is 1.

Output is flushed whenever no complete input line is waiting, so it works in a live
pipe.";

/// Options of `sse encode` (none yet).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Buffers that grew past this for one huge line are given back afterwards, so
/// memory stays bounded by the input's largest line, not its length.
const KEEP: usize = 1 << 20;

/// Encodes `input` to `output`; the exit code says whether any line failed.
pub fn run(_args: &Args, input: impl Read, output: impl Write) -> io::Result<ExitCode> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let mut out = io::BufWriter::with_capacity(64 * 1024, output);
    let mut encoder = Encoder::new();
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut failed = false;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        match encoder.line(&line) {
            Ok(bytes) => out.write_all(bytes)?,
            Err(e) => {
                failed = true;
                eprintln!("sse encode: line {number}: {e}");
            }
        }
        if line.capacity() > KEEP {
            line = Vec::new();
        }
        // Flush when the next line has not fully arrived, so a live pipe sees each
        // event as soon as its line does, and a batch is written at once.
        if !input.buffer().contains(&b'\n') {
            out.flush()?;
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Why a line was not encoded. Nothing was written for it.
#[derive(Debug)]
pub enum LineError {
    /// Not a JSON object with the right keys and types.
    Input(InputError),
    /// The encoder refused a value (a line break in `type` or `id`, a NUL in `id`).
    Encode(EncodeError),
    /// `"final"` was not `true`.
    FinalNotTrue,
    /// A final line also had event keys.
    FinalWithEventKeys,
    /// `last_event_id` outside a final line.
    LastEventIdWithoutFinal,
    /// `topic`, which only `sse serve` reads.
    Topic,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::Input(e) => e.fmt(f),
            LineError::Encode(e) => write!(f, "{e}"),
            LineError::FinalNotTrue => f.write_str("\"final\" must be true"),
            LineError::FinalWithEventKeys => f.write_str(
                "a final line takes only \"last_event_id\" and \"retry\" besides \"final\"",
            ),
            LineError::LastEventIdWithoutFinal => f.write_str(
                "\"last_event_id\" belongs on a {\"final\": true} line; an event's is \"id\"",
            ),
            LineError::Topic => {
                f.write_str("\"topic\" routes an event in sse serve; one stream has no topics")
            }
        }
    }
}

impl std::error::Error for LineError {}

impl From<EncodeError> for LineError {
    fn from(e: EncodeError) -> Self {
        LineError::Encode(e)
    }
}

/// Turns lines into stream bytes, keeping what the stream has set so far.
#[derive(Debug, Default)]
pub struct Encoder {
    /// The last `id` written; `None` before the first.
    id: Option<String>,
    /// The last `retry` written; `None` before the first.
    retry: Option<u64>,
    /// The current line's output, reused.
    out: Vec<u8>,
}

impl Encoder {
    /// An encoder for a new stream.
    pub fn new() -> Self {
        Encoder::default()
    }

    /// The bytes for one input line (possibly none). On error nothing is written and
    /// the state is unchanged.
    pub fn line(&mut self, text: &[u8]) -> Result<&[u8], LineError> {
        if self.out.capacity() > KEEP {
            self.out = Vec::new();
        }
        self.out.clear();
        let Some(line) = Input::parse(text).map_err(LineError::Input)? else {
            return Ok(&self.out);
        };
        if line.topic.is_some() {
            return Err(LineError::Topic);
        }
        // Only what differs from the state is written.
        let id = line
            .id
            .as_deref()
            .filter(|&id| self.id.as_deref() != Some(id));
        let retry = line.retry.filter(|&ms| self.retry != Some(ms));
        if let Some(is_final) = line.is_final {
            if !is_final {
                return Err(LineError::FinalNotTrue);
            }
            if line.event.is_some()
                || line.data.is_some()
                || line.id.is_some()
                || line.comment.is_some()
            {
                return Err(LineError::FinalWithEventKeys);
            }
            let id = line
                .last_event_id
                .as_deref()
                .filter(|&id| self.id.as_deref() != Some(id));
            // An `id:` block without data sets the ID and dispatches no event.
            let set_id = id.map(LastEventId::new);
            // Checked before the retry block is written, so that a bad ID writes
            // nothing at all.
            if let Some(set_id) = &set_id {
                set_id.validate()?;
            }
            if let Some(ms) = retry {
                append(&mut self.out, &Retry::from_millis(ms))?;
            }
            if let Some(set_id) = &set_id {
                append(&mut self.out, set_id)?;
            }
            self.commit(id, retry);
            return Ok(&self.out);
        }
        if line.last_event_id.is_some() {
            return Err(LineError::LastEventIdWithoutFinal);
        }
        if line.data.is_some() || line.event.is_some() || line.id.is_some() {
            append(&mut self.out, &line.message(id, retry))?;
        } else {
            if let Some(comment) = line.comment.as_deref() {
                append(&mut self.out, &Comment::new(comment))?;
            }
            if let Some(ms) = retry {
                append(&mut self.out, &Retry::from_millis(ms))?;
            }
        }
        self.commit(id, retry);
        Ok(&self.out)
    }

    /// Records what was written.
    fn commit(&mut self, id: Option<&str>, retry: Option<u64>) {
        if let Some(id) = id {
            let state = self.id.get_or_insert_with(String::new);
            state.clear();
            state.push_str(id);
        }
        if retry.is_some() {
            self.retry = retry;
        }
    }
}

/// Appends `item`'s encoding to `out`; on error appends nothing.
fn append(out: &mut Vec<u8>, item: &impl Encode) -> Result<(), EncodeError> {
    item.validate()?;
    let start = out.len();
    out.resize(start + item.encoded_len(), 0);
    let written = item.encode(&mut out[start..])?;
    out.truncate(start + written);
    Ok(())
}
