//! `sse conformance`: this project's spec-derived checks, judging other
//! implementations: `parser -- CMD` runs the vectors through another parser, in any
//! language; `client -- CMD` plays the connection scenarios against another client;
//! `server URL` judges any event-stream endpoint.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

mod browser;
mod client;
mod parser;
mod report;
mod server;

/// `sse conformance --help`.
pub const LONG_ABOUT: &str = "\
Judge another implementation with this project's spec-derived vectors.

`sse conformance parser -- CMD [ARGS...]` runs every parser vector against a program
that reads a raw text/event-stream on stdin and writes, on stdout, one JSON object
per line for each event it dispatches, in order:

  {\"type\": \"message\", \"data\": \"...\", \"id\": \"...\"}

`type` is the event type (\"message\" when the stream set none), `data` the data,
`id` the last event ID when the event was dispatched. Other keys are ignored, and so
are lines without `data` (comments, errors), except that a line with a
`last_event_id` key, if the program prints one at the end, is checked against the
last event ID the stream leaves. `sse decode` is such a program. The program ends
when stdin ends.

Each vector is sent whole, and inputs of up to 64 bytes also one byte at a time with
a flush and a pause after each: an implementation must not depend on how the bytes
arrive. A case passes when the events are exactly the expected ones. The vectors
that test this implementation's own limits are left out.

A line per failing case, with what was expected and what came back, then a summary
`N passed, M failed` last; the exit status is 1 when a case failed, 2 when the
program could not be run.

`sse conformance client -- CMD [ARGS...]` plays the connection scenarios against a
client program, which takes the stream's URL as its last argument and writes the
events it receives as above (and, when it gives up on the connection, a line with
an `error` key, as `sse listen` does). A scripted server on loopback answers each
request as the scenario says (statuses, content types, redirects, bodies split with
pauses, a BOM, lone CRs, keep-alives, ends and dropped connections) and records
what the program sends: each request's method, URL, `Accept`, `Cache-Control` and
`Last-Event-ID` are judged, a reconnection must not come before the `retry` the
stream set, and after the connection fails no request may follow. Scenarios that
need options or calls a program given only a URL has are not run. Cases run 8 at a
time (--jobs); the judge ends the program with SIGKILL, so a shell wrapper should
`exec` the client. `sse conformance client --browser` judges the browser's own
EventSource instead: open the page it serves (--addr), which runs the cases and
shows the report.

`sse conformance server URL` judges an event-stream endpoint: the response's status
and headers (text/event-stream, no caching, no proxy buffering, no compression), a
body that parses without anything the spec ignores, `retry`, event IDs, keep-alives
while the stream is quiet (it reads for --window seconds), and resuming: it
reconnects with the last event ID it saw and checks that no event is sent again and,
where IDs count up one by one, that none is skipped. Each check passes, warns or
fails; the exit status is 1 when one failed.

Every mode prints the summary line last, takes --json FILE for a machine-readable
report and --html FILE for a page a person can read.";

/// Options of `sse conformance`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    target: Target,
}

#[derive(Debug, clap::Subcommand)]
enum Target {
    /// Judge a parser: a program that reads a raw event stream on stdin and writes
    /// one JSON object per event on stdout (see `sse conformance --help`).
    Parser(ParserArgs),
    /// Judge an EventSource client: a program that takes the stream's URL as its last
    /// argument and writes one JSON object per event (see `sse conformance --help`).
    Client(ClientArgs),
    /// Judge an event-stream endpoint: headers, body, keep-alives, resume.
    Server(ServerArgs),
}

/// Where the report goes besides stdout.
#[derive(Debug, clap::Args)]
struct Reports {
    /// Also write the report as JSON to this file: every case, with what was sent,
    /// expected and got.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write the report as an HTML page to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

impl Reports {
    /// Writes `report` to the files asked for.
    fn write(&self, report: &Value) -> io::Result<()> {
        report::write_reports(report, self.json.as_deref(), self.html.as_deref())
    }
}

#[derive(Debug, clap::Args)]
struct ClientArgs {
    /// Run only the cases whose name contains this (repeatable: any of them).
    #[arg(long = "only", value_name = "PATTERN")]
    only: Vec<String>,
    #[command(flatten)]
    reports: Reports,
    /// How many cases run at once (each on its own loopback ports).
    #[arg(long, value_name = "N", default_value_t = 8)]
    jobs: usize,
    /// Judge the browser's own EventSource: serve a page on --addr that runs the
    /// cases and shows the report; open it in the browser.
    #[arg(long, conflicts_with = "command")]
    browser: bool,
    /// Where --browser serves its page.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8788")]
    addr: String,
    /// The program and its arguments; the stream's URL is added last.
    #[arg(required_unless_present = "browser", last = true, value_name = "CMD")]
    command: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct ServerArgs {
    /// The stream's URL (http://; https:// with the `rustls` feature).
    url: String,
    /// How long to read the stream, in seconds, before resuming it.
    #[arg(long, value_name = "SECS", default_value_t = 20.0)]
    window: f64,
    /// Also trust the certificates in this PEM file for https:// (as `sse listen
    /// --cacert`).
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    #[command(flatten)]
    reports: Reports,
}

#[derive(Debug, clap::Args)]
struct ParserArgs {
    /// Run only the cases whose name contains this (repeatable: any of them).
    #[arg(long = "only", value_name = "PATTERN")]
    only: Vec<String>,
    #[command(flatten)]
    reports: Reports,
    /// How long one run of the program may take.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    case_timeout: f64,
    /// The program and its arguments.
    #[arg(required = true, last = true, value_name = "CMD")]
    command: Vec<String>,
}

/// An event, as the contract writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Event {
    event_type: String,
    data: String,
    id: String,
}

impl Event {
    fn json(&self) -> Value {
        json!({"type": self.event_type, "data": self.data, "id": self.id})
    }
}

/// What one run of the program gave.
struct Run {
    events: Vec<Event>,
    last_event_id: Option<String>,
    /// The `error` lines, in order.
    errors: Vec<String>,
    /// Why the output could not be judged (not JSON, a timeout, a crash).
    problem: Option<String>,
}

/// Runs the chosen mode.
pub fn run(args: &Args) -> io::Result<ExitCode> {
    match &args.target {
        Target::Parser(args) => parser::run(args),
        Target::Client(args) => client::run(args),
        Target::Server(args) => server::run(args),
    }
}

fn events_json(events: &[Event]) -> Value {
    Value::Array(events.iter().map(Event::json).collect())
}

/// Reads the program's output by the contract.
fn judge(output: &[u8]) -> Run {
    let mut run = Run {
        events: Vec::new(),
        last_event_id: None,
        errors: Vec::new(),
        problem: None,
    };
    let text = String::from_utf8_lossy(output);
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(line) else {
            run.problem = Some(format!("not a JSON object: {line:?}"));
            return run;
        };
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_string);
        if let Some(data) = text("data") {
            run.events.push(Event {
                event_type: text("type").unwrap_or_else(|| "message".into()),
                data,
                id: text("id").unwrap_or_default(),
            });
        } else if let Some(error) = text("error") {
            run.errors.push(error);
        } else if let Some(id) = text("last_event_id") {
            run.last_event_id = Some(id);
        }
    }
    run
}
