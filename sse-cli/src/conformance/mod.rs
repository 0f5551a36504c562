//! `sse conformance`: this project's spec-derived checks, judging other
//! implementations: `parser -- CMD` runs the vectors through another parser, in any
//! language; `server URL` judges any event-stream endpoint.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use conformance::{Outcome, Vector, VectorConfig};

mod server;
use serde_json::{Value, json};

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

`sse conformance server URL` judges an event-stream endpoint: the response's status
and headers (text/event-stream, no caching, no proxy buffering, no compression), a
body that parses without anything the spec ignores, `retry`, event IDs, keep-alives
while the stream is quiet (it reads for --window seconds), and resuming: it
reconnects with the last event ID it saw and checks that no event is sent again and,
where IDs count up one by one, that none is skipped. Each check passes, warns or
fails; the exit status is 1 when one failed.";

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
    /// Judge an event-stream endpoint: headers, body, keep-alives, resume.
    Server(ServerArgs),
}

#[derive(Debug, clap::Args)]
struct ServerArgs {
    /// The stream's URL (http://; https:// with the `rustls` feature).
    url: String,
    /// How long to read the stream, in seconds, before resuming it.
    #[arg(long, value_name = "SECS", default_value_t = 20.0)]
    window: f64,
    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ParserArgs {
    /// Run only the cases whose name contains this (repeatable: any of them).
    #[arg(long = "only", value_name = "PATTERN")]
    only: Vec<String>,
    /// Also write the report, every case with what was sent, expected and got, as
    /// JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// How long one run of the program may take.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    case_timeout: f64,
    /// The program and its arguments.
    #[arg(required = true, last = true, value_name = "CMD")]
    command: Vec<String>,
}

/// Inputs up to this long are also sent one byte at a time.
const BYTEWISE_UP_TO: usize = 64;

/// The pause after each byte sent on its own.
const PAUSE: Duration = Duration::from_micros(500);

/// How the input went to the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Whole,
    Bytewise,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Whole => "whole",
            Mode::Bytewise => "byte by byte",
        }
    }
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
    /// Why the output could not be judged (not JSON, a timeout, a crash).
    problem: Option<String>,
}

/// Runs the chosen mode.
pub fn run(args: &Args) -> io::Result<ExitCode> {
    match &args.target {
        Target::Parser(args) => parser(args),
        Target::Server(args) => server::run(&args.url, args.window, args.json.as_deref()),
    }
}

fn parser(args: &ParserArgs) -> io::Result<ExitCode> {
    let Ok(limit) = Duration::try_from_secs_f64(args.case_timeout) else {
        eprintln!("sse conformance: --case-timeout: not a duration");
        return Ok(ExitCode::from(2));
    };
    let vectors: Vec<Vector> = conformance::vectors()
        .into_iter()
        .filter(|v| v.config == VectorConfig::default())
        .filter(|v| args.only.is_empty() || args.only.iter().any(|p| v.name.contains(p)))
        .collect();
    let (mut passed, mut failed) = (0, 0);
    let mut report = Vec::new();
    let mut out = io::stdout().lock();
    for vector in &vectors {
        let expected: Vec<Event> = vector
            .expect
            .iter()
            .filter_map(|outcome| match outcome {
                Outcome::Event {
                    event_type,
                    data,
                    id,
                } => Some(Event {
                    event_type: event_type.clone(),
                    data: data.clone(),
                    id: id.clone(),
                }),
                _ => None,
            })
            .collect();
        let modes: &[Mode] = if vector.input.len() <= BYTEWISE_UP_TO {
            &[Mode::Whole, Mode::Bytewise]
        } else {
            &[Mode::Whole]
        };
        for &mode in modes {
            let run = match run_program(&args.command, &vector.input, mode, limit) {
                Ok(run) => run,
                Err(e) => {
                    eprintln!("sse conformance: cannot run {:?}: {e}", args.command[0]);
                    return Ok(ExitCode::from(2));
                }
            };
            let id_ok = match (&run.last_event_id, &vector.last_event_id) {
                (Some(got), Some(want)) => got == want,
                _ => true,
            };
            let ok = run.problem.is_none() && run.events == expected && id_ok;
            if ok {
                passed += 1;
            } else {
                failed += 1;
                writeln!(
                    out,
                    "FAIL {} ({}): {}",
                    vector.name,
                    mode.name(),
                    vector.spec
                )?;
                writeln!(
                    out,
                    "  input:    {:?}",
                    vector.input.escape_ascii().to_string()
                )?;
                writeln!(out, "  expected: {}", events_json(&expected))?;
                writeln!(out, "  got:      {}", events_json(&run.events))?;
                if let Some(problem) = &run.problem {
                    writeln!(out, "  problem:  {problem}")?;
                }
                if !id_ok {
                    writeln!(
                        out,
                        "  last_event_id: expected {:?}, got {:?}",
                        vector.last_event_id, run.last_event_id
                    )?;
                }
            }
            report.push(json!({
                "name": vector.name,
                "spec": vector.spec,
                "file": vector.file,
                "mode": mode.name(),
                "passed": ok,
                "input": String::from_utf8_lossy(&vector.input),
                "expected": events_json(&expected),
                "got": events_json(&run.events),
                "problem": run.problem,
            }));
        }
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&json!({
            "command": args.command,
            "passed": passed,
            "failed": failed,
            "cases": report,
        }))
        .map_err(io::Error::other)?;
        std::fs::write(path, text)?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn events_json(events: &[Event]) -> Value {
    Value::Array(events.iter().map(Event::json).collect())
}

/// Runs the program once on `input`, sent as `mode` says; an error only if it
/// cannot be started.
fn run_program(command: &[String], input: &[u8], mode: Mode, limit: Duration) -> io::Result<Run> {
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // A program that stops reading early is judged by its output.
        let _ = match mode {
            Mode::Whole => stdin.write_all(&input),
            Mode::Bytewise => input.iter().try_for_each(|byte| {
                stdin.write_all(std::slice::from_ref(byte))?;
                stdin.flush()?;
                std::thread::sleep(PAUSE);
                Ok(())
            }),
        };
    });
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let finished = wait(&mut child, limit)?;
    let _ = writer.join();
    let bytes = reader.join().unwrap_or_default();
    let mut run = judge(&bytes);
    if !finished {
        run.problem = Some(format!(
            "still running after {} s: killed",
            limit.as_secs_f64()
        ));
    }
    Ok(run)
}

/// Waits for `child` up to `limit`; kills it past that. Whether it finished.
fn wait(child: &mut Child, limit: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait()?.is_some() {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Reads the program's output by the contract.
fn judge(output: &[u8]) -> Run {
    let mut run = Run {
        events: Vec::new(),
        last_event_id: None,
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
        } else if let Some(id) = text("last_event_id") {
            run.last_event_id = Some(id);
        }
    }
    run
}
