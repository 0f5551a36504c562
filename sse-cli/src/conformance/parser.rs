//! `sse conformance parser -- CMD`: the parser vectors through another program.

use std::io::{self, Read, Write};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use conformance::{Outcome, Vector, VectorConfig};
use serde_json::json;

use super::{Event, ParserArgs, Run, events_json, judge};

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

pub fn run(args: &ParserArgs) -> io::Result<ExitCode> {
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
    let report = json!({
        "command": args.command,
        "passed": passed,
        "failed": failed,
        "cases": report,
    });
    args.reports.write(&report)?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
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
