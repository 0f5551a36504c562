//! `sse decode`: stdin's event stream as NDJSON on stdout.

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use sse_proto::{Config, DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_FIELD_SIZE, Diagnostic, Item, Parser};

use crate::ndjson::Line;

/// Options of `sse decode`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also write comment lines, as {"comment": "..."}, in stream order.
    #[arg(long)]
    comments: bool,
    /// The largest event accepted, in bytes; a larger one is reported on stderr and
    /// skipped, and the exit status is 1.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_EVENT_SIZE)]
    max_event_size: usize,
    /// The longest event type, id, retry value or comment accepted, in bytes;
    /// past it the event (or comment) is reported on stderr and skipped, and the exit
    /// status is 1.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FIELD_SIZE)]
    max_field_size: usize,
    /// Report on stderr what the spec says to ignore: unknown fields, invalid retry
    /// values, ids containing NUL.
    #[arg(long)]
    warnings: bool,
}

/// Decodes `input` to `output`; the exit code says whether any event was too large.
pub fn run(args: &Args, mut input: impl Read, output: impl Write) -> io::Result<ExitCode> {
    let config = Config::new()
        .max_event_size(args.max_event_size)
        .max_field_size(args.max_field_size)
        .comments(args.comments)
        .diagnostics(args.warnings);
    let mut parser = Parser::with_config(config);
    let mut out = BufWriter::new(output);
    let mut buf = vec![0u8; 64 * 1024];
    let mut failed = false;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut chunk = &buf[..n];
        loop {
            // The retry in force when an event is dispatched is the one set before it.
            let retry = parser.retry();
            match parser.parse(&mut chunk) {
                Ok(None) => break,
                Ok(Some(item)) => write_item(&mut out, item, retry)?,
                Err(e) => {
                    failed = true;
                    eprintln!("sse decode: {e}");
                }
            }
        }
        // Flush once per read, so a live stream shows up as it arrives.
        out.flush()?;
    }
    if parser.finish() {
        eprintln!(
            "sse decode: the stream ended inside an event; it was discarded, as the spec says"
        );
    }
    let last = Line::new()
        .bool("final", true)
        .string("last_event_id", &parser.last_event_id().to_string_lossy())
        .millis_or_null("retry", parser.retry());
    out.write_all(last.finish().as_bytes())?;
    out.flush()?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn write_item(
    out: &mut impl Write,
    item: Item<'_>,
    retry: Option<std::time::Duration>,
) -> io::Result<()> {
    let line = match item {
        Item::Event(event) => Line::new()
            .string("type", &event.event_type().to_string_lossy())
            .string("data", &event.data().to_string_lossy())
            .string("id", &event.last_event_id().to_string_lossy())
            .millis_or_null("retry", retry),
        Item::Comment(text) => Line::new().string("comment", &text.to_string_lossy()),
        Item::Diagnostic(d) => {
            match d {
                Diagnostic::UnknownField { name } => {
                    eprintln!("sse decode: warning: unknown field {name:?} ignored")
                }
                Diagnostic::InvalidRetry { value } => eprintln!(
                    "sse decode: warning: retry value {value:?} is not all digits; ignored"
                ),
                Diagnostic::IdContainsNul { value } => {
                    eprintln!("sse decode: warning: id {value:?} contains NUL; ignored")
                }
                other => eprintln!("sse decode: warning: {other:?}"),
            }
            return Ok(());
        }
        // Retry updates show up in the events' "retry" and the final line.
        _ => return Ok(()),
    };
    out.write_all(line.finish().as_bytes())
}
