//! `sse conformance server URL`: judges an event-stream endpoint.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::json;
use sse_proto::{Config, Diagnostic, Item, Parser};
use sse_tokio::sse_io::{DefaultTransport, Transport, TransportOptions};

use super::ServerArgs;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    Warn,
    Fail,
}

impl Verdict {
    fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
        }
    }
}

/// One check's outcome.
struct Check {
    name: &'static str,
    verdict: Verdict,
    detail: String,
}

/// The longest quiet a stream may keep before clients and proxies give up on it:
/// servers send keep-alives every 15 to 30 seconds.
const QUIET: Duration = Duration::from_secs(30);

/// What one read of the stream saw.
#[derive(Default)]
struct Read {
    status: u16,
    headers: http::HeaderMap,
    /// Events' IDs, in order (the last event ID at each dispatch).
    ids: Vec<String>,
    events: usize,
    comments: usize,
    retry: Option<Duration>,
    diagnostics: Vec<String>,
    errors: Vec<String>,
    /// The longest time without a byte, from the response head on.
    longest_quiet: Duration,
    /// The body ended (or failed) before the window closed.
    ended: Option<String>,
}

/// Runs the checks; prints one line per check, then the summary.
pub fn run(args: &ServerArgs) -> io::Result<ExitCode> {
    let (url, window) = (args.url.as_str(), args.window);
    let Ok(window) = Duration::try_from_secs_f64(window) else {
        eprintln!("sse conformance: --window: not a duration");
        return Ok(ExitCode::from(2));
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let checks = runtime.block_on(async {
        #[allow(unused_mut)]
        let mut options = TransportOptions::default();
        #[cfg(feature = "rustls")]
        if let Some(file) = &args.cacert {
            options.tls =
                Some(crate::tls::client_trusting(file).map_err(|e| format!("--cacert: {e}"))?);
        }
        #[cfg(not(feature = "rustls"))]
        if args.cacert.is_some() {
            return Err("--cacert: this sse was built without TLS".to_string());
        }
        let transport = match sse_tokio::Tokio::transport(&options) {
            Ok(transport) => transport,
            Err(e) => return Err(format!("{e}")),
        };
        if url.starts_with("https:") {
            transport
                .https()
                .map_err(|enable| format!("this sse cannot request https URLs; enable {enable}"))?;
        }
        let first = read(&*transport, url, None, window).await?;
        let mut checks = judge_response(&first);
        if first.status != 200 {
            return Ok(checks);
        }
        checks.extend(judge_body(&first, window));
        checks.push(match first.ids.last().filter(|id| !id.is_empty()) {
            None => Check {
                name: "resume",
                verdict: Verdict::Warn,
                detail: "not checked: no event with an ID arrived".into(),
            },
            Some(last) => {
                let again = read(&*transport, url, Some(last), window).await?;
                judge_resume(&first.ids, last, &again)
            }
        });
        Ok(checks)
    });
    let checks = match checks {
        Ok(checks) => checks,
        Err(e) => {
            eprintln!("sse conformance: {url}: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut out = io::stdout().lock();
    for check in &checks {
        writeln!(
            out,
            "{:<4} {}: {}",
            check.verdict.name(),
            check.name,
            check.detail
        )?;
    }
    let count = |v: Verdict| checks.iter().filter(|c| c.verdict == v).count();
    let (passed, warned, failed) = (
        count(Verdict::Pass),
        count(Verdict::Warn),
        count(Verdict::Fail),
    );
    writeln!(out, "{passed} passed, {failed} failed, {warned} warned")?;
    let report = json!({
        "url": url,
        "passed": passed,
        "warned": warned,
        "failed": failed,
        "checks": checks.iter().map(|c| json!({
            "name": c.name,
            "verdict": c.verdict.name().to_ascii_lowercase(),
            "detail": c.detail,
        })).collect::<Vec<_>>(),
    });
    args.reports.write(&report)?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Reads the stream for `window` (with `Last-Event-ID` if given).
async fn read(
    transport: &dyn Transport,
    url: &str,
    last_event_id: Option<&str>,
    window: Duration,
) -> Result<Read, String> {
    let mut request = http::Request::get(url)
        .header("accept", "text/event-stream")
        .header("cache-control", "no-cache");
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let request = request.body(Bytes::new()).map_err(|e| e.to_string())?;
    let response =
        tokio::time::timeout(window.max(Duration::from_secs(5)), transport.send(request))
            .await
            .map_err(|_| "no response head in time".to_string())?
            .map_err(|e| format!("request failed: {e}"))?;
    let (head, mut body) = response.into_parts();
    let mut seen = Read {
        status: head.status.as_u16(),
        headers: head.headers,
        ..Read::default()
    };
    if seen.status != 200 {
        return Ok(seen);
    }
    let mut parser = Parser::with_config(Config::new().comments(true).diagnostics(true));
    let end = Instant::now() + window;
    let mut last_byte = Instant::now();
    loop {
        let now = Instant::now();
        let Some(left) = end.checked_duration_since(now) else {
            break;
        };
        let chunk = match tokio::time::timeout(left, body.next()).await {
            Err(_) => break,
            Ok(None) => {
                seen.ended = Some("the server ended the stream".into());
                break;
            }
            Ok(Some(Err(e))) => {
                seen.ended = Some(format!("the stream failed: {e}"));
                break;
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        let now = Instant::now();
        seen.longest_quiet = seen.longest_quiet.max(now - last_byte);
        last_byte = now;
        let mut input = &chunk[..];
        loop {
            match parser.parse(&mut input) {
                Ok(None) => break,
                Ok(Some(Item::Event(event))) => {
                    seen.events += 1;
                    seen.ids
                        .push(event.last_event_id().to_string_lossy().into_owned());
                }
                Ok(Some(Item::Comment(_))) => seen.comments += 1,
                Ok(Some(Item::Retry(time))) => seen.retry = Some(time),
                Ok(Some(Item::Diagnostic(diagnostic))) => seen.diagnostics.push(match diagnostic {
                    Diagnostic::UnknownField { name } => {
                        format!("unknown field {:?}", name.to_string_lossy())
                    }
                    Diagnostic::InvalidRetry { value } => {
                        format!("invalid retry {:?}", value.to_string_lossy())
                    }
                    Diagnostic::IdContainsNul { .. } => "an id with NUL".into(),
                    _ => "something the spec ignores".into(),
                }),
                Ok(Some(_)) => {}
                Err(e) => seen.errors.push(e.to_string()),
            }
        }
    }
    seen.longest_quiet = seen.longest_quiet.max(Instant::now().min(end) - last_byte);
    Ok(seen)
}

fn judge_response(read: &Read) -> Vec<Check> {
    let header = |name: &str| {
        read.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let mut checks = vec![Check {
        name: "status",
        verdict: if read.status == 200 {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        detail: format!("{} (an EventSource opens only on 200)", read.status),
    }];
    if read.status != 200 {
        return checks;
    }
    let content_type = header("content-type").unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    checks.push(Check {
        name: "content-type",
        verdict: if essence == "text/event-stream" {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        detail: format!("{content_type:?} (must be text/event-stream)"),
    });
    let cache = header("cache-control").unwrap_or_default();
    checks.push(Check {
        name: "cache-control",
        verdict: if cache.contains("no-cache") || cache.contains("no-store") {
            Verdict::Pass
        } else {
            Verdict::Warn
        },
        detail: format!("{cache:?} (no-cache keeps caches from holding the stream)"),
    });
    let encoding = header("content-encoding");
    checks.push(Check {
        name: "compression",
        verdict: if encoding.is_none() {
            Verdict::Pass
        } else {
            Verdict::Warn
        },
        detail: match encoding {
            None => "none".into(),
            Some(e) => format!("{e:?}: a compressor may hold events back until its buffer fills"),
        },
    });
    let buffering = header("x-accel-buffering");
    checks.push(Check {
        name: "proxy buffering",
        verdict: if buffering.as_deref() == Some("no") {
            Verdict::Pass
        } else {
            Verdict::Warn
        },
        detail: format!(
            "X-Accel-Buffering: {} (nginx buffers responses unless told no)",
            buffering.as_deref().unwrap_or("absent")
        ),
    });
    checks
}

fn judge_body(read: &Read, window: Duration) -> Vec<Check> {
    let mut checks = vec![Check {
        name: "body",
        verdict: if !read.errors.is_empty() {
            Verdict::Fail
        } else if !read.diagnostics.is_empty() {
            Verdict::Warn
        } else {
            Verdict::Pass
        },
        detail: format!(
            "{} events, {} comments{}{}",
            read.events,
            read.comments,
            if read.diagnostics.is_empty() {
                String::new()
            } else {
                format!("; ignored by the spec: {}", read.diagnostics.join(", "))
            },
            if read.errors.is_empty() {
                String::new()
            } else {
                format!("; {}", read.errors.join(", "))
            },
        ),
    }];
    checks.push(Check {
        name: "retry",
        verdict: if read.retry.is_some() {
            Verdict::Pass
        } else {
            Verdict::Warn
        },
        detail: match read.retry {
            Some(time) => format!("{} ms", time.as_millis()),
            None => "none sent: clients wait their own default (3 s in browsers)".into(),
        },
    });
    let with_ids = read.ids.iter().filter(|id| !id.is_empty()).count();
    checks.push(Check {
        name: "ids",
        verdict: if read.events > 0 && with_ids == read.events {
            Verdict::Pass
        } else {
            Verdict::Warn
        },
        detail: if read.events == 0 {
            "no event arrived".into()
        } else {
            format!(
                "{with_ids} of {} events resumable (a client resumes from the last ID)",
                read.events
            )
        },
    });
    checks.push(Check {
        name: "keep-alive",
        verdict: if read.ended.is_some() {
            Verdict::Warn
        } else if read.longest_quiet >= QUIET {
            Verdict::Fail
        } else if window < QUIET && read.events == 0 && read.comments == 0 {
            Verdict::Warn
        } else {
            Verdict::Pass
        },
        detail: match &read.ended {
            Some(why) => format!("{why} within the {} s window", window.as_secs_f64()),
            None => format!(
                "longest silence {:.1} s (at most {} s, or clients and proxies drop it)",
                read.longest_quiet.as_secs_f64(),
                QUIET.as_secs()
            ),
        },
    });
    checks
}

fn judge_resume(first: &[String], last: &str, again: &Read) -> Check {
    let name = "resume";
    if again.status != 200 {
        return Check {
            name,
            verdict: if again.status == 204 {
                Verdict::Warn
            } else {
                Verdict::Fail
            },
            detail: format!("status {} with Last-Event-ID: {last}", again.status),
        };
    }
    let repeated: Vec<&String> = again
        .ids
        .iter()
        .filter(|id| !id.is_empty() && first.contains(id))
        .collect();
    if let Some(id) = repeated.first() {
        return Check {
            name,
            verdict: Verdict::Fail,
            detail: format!(
                "after Last-Event-ID: {last}, event {id} was sent again ({} repeated)",
                repeated.len()
            ),
        };
    }
    let numbers: Option<Vec<u64>> = first.iter().map(|id| id.parse().ok()).collect();
    let sequential = numbers
        .as_ref()
        .is_some_and(|n| n.len() >= 2 && n.windows(2).all(|w| w[1] == w[0] + 1));
    let next = again.ids.first().and_then(|id| id.parse::<u64>().ok());
    match (sequential, last.parse::<u64>().ok(), next) {
        (true, Some(last_n), Some(next)) if next != last_n + 1 => Check {
            name,
            verdict: Verdict::Fail,
            detail: format!(
                "IDs count up one by one, but after Last-Event-ID: {last} came {next}: {} skipped",
                next.saturating_sub(last_n + 1)
            ),
        },
        _ => Check {
            name,
            verdict: Verdict::Pass,
            detail: format!(
                "after Last-Event-ID: {last}, {} events, none sent again{}",
                again.events,
                if sequential && !again.ids.is_empty() {
                    ", none skipped"
                } else {
                    ""
                }
            ),
        },
    }
}
