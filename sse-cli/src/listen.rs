//! `sse listen URL`: a reconnecting client, printing what it receives as NDJSON.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use futures_util::StreamExt;
use sse_proto::ConnectionError;
use sse_tokio::{EventSource, ReconnectPolicy, SourceEvent};

use crate::ndjson::Line;

/// Exit status when `--timeout` ran out (as GNU `timeout` does).
const TIMED_OUT: u8 = 124;

/// Options of `sse listen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The event stream's URL (http://; https:// with the `rustls` feature).
    url: String,
    /// Also trust the certificates in this PEM file for https:// (a server's own,
    /// as `sse serve --tls-self-signed` writes with --write-cert, or a private
    /// authority's), besides the webpki root certificates.
    #[arg(long, value_name = "FILE")]
    cacert: Option<std::path::PathBuf>,
    /// Add a request header, "Name: value" (repeatable). Sent on every request,
    /// reconnections included.
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    headers: Vec<String>,
    /// The request method [default: GET, or POST with -d].
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    method: Option<String>,
    /// A request body, sent on every request.
    #[arg(short = 'd', long = "data", value_name = "DATA")]
    data: Option<String>,
    /// The Last-Event-ID to send with the first request (to resume a stream).
    #[arg(long, value_name = "ID")]
    last_event_id: Option<String>,
    /// The reconnection time until the server sets one with `retry` (never less
    /// than 100 ms).
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    reconnect_delay: u64,
    /// Wait the reconnection time exactly, as a browser does, instead of backing
    /// off: by default each consecutive failure doubles the wait (up to 60 s), with
    /// up to half of it again drawn at random, and a connection that stays open a
    /// minute starts the count over.
    #[arg(long)]
    no_backoff: bool,
    /// Give up on connecting (and retry) after this long; 0: never.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    connect_timeout: u64,
    /// Give up on a response head (and retry) this long after the request; 0:
    /// never.
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    response_timeout: u64,
    /// Reconnect when no bytes at all (keep-alives count) arrive for this long; 0:
    /// never.
    #[arg(long, value_name = "MS", default_value_t = 300_000)]
    idle_timeout: u64,
    /// Also write comment lines, as {"comment": "..."}, in stream order.
    #[arg(long)]
    comments: bool,
    /// When to reconnect: `always` (as a browser does), `on-error` (only after a
    /// failure: a clean end of the stream finishes it, and the exit status is 0), or
    /// `never`. Default: `on-error` for a request with a body (`-d`), so that a
    /// finished POST is not sent again; `always` otherwise.
    #[arg(long, value_name = "WHEN")]
    reconnect: Option<Reconnect>,
    /// Give up (with status 1) after this many consecutive failures have been
    /// retried. Default: retry network errors, timeouts and ended streams for ever,
    /// as a browser does. A 204 (status 0), any other status but 200, a wrong content
    /// type, a redirect loop or an unsafe redirect stop at once (status 1) whatever
    /// this says.
    #[arg(long, value_name = "N")]
    max_retries: Option<u32>,
    /// Print only events of this type (repeatable); others are read and dropped
    /// (their IDs still count for resuming).
    #[arg(long = "event", value_name = "TYPE")]
    event_types: Vec<String>,
    /// Stop (with status 0) after this many events (of the types printed).
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
    /// Give up (with status 124) after this many seconds in all.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
}

/// `--reconnect`'s values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Reconnect {
    Always,
    OnError,
    Never,
}

/// Listens until the connection fails, `--max-events` or `--timeout`.
pub fn run(args: &Args, output: impl Write) -> io::Result<ExitCode> {
    let mut builder = EventSource::builder(args.url.as_str())
        .reconnection_time(Duration::from_millis(args.reconnect_delay))
        .comments(args.comments);
    for header in &args.headers {
        let Some((name, value)) = header.split_once(':') else {
            eprintln!("sse listen: a header is \"Name: value\", not {header:?}");
            return Ok(ExitCode::from(2));
        };
        builder = builder.header(name.trim(), value.trim());
    }
    match (&args.method, &args.data) {
        (Some(method), _) => builder = builder.method(method.as_str()),
        (None, Some(_)) => builder = builder.method("POST"),
        (None, None) => {}
    }
    if let Some(data) = &args.data {
        builder = builder.body(data.as_bytes());
    }
    if let Some(id) = &args.last_event_id {
        builder = builder.last_event_id(id.as_str());
    }
    if let Some(when) = args.reconnect {
        builder = builder.reconnect(match when {
            Reconnect::Always => ReconnectPolicy::Always,
            Reconnect::OnError => ReconnectPolicy::OnError,
            Reconnect::Never => ReconnectPolicy::Never,
        });
    }
    if let Some(max) = args.max_retries {
        builder = builder.max_retries(max);
    }
    let millis = |ms: u64| (ms > 0).then(|| Duration::from_millis(ms));
    builder = builder
        .connect_timeout(millis(args.connect_timeout))
        .response_timeout(millis(args.response_timeout))
        .idle_timeout(millis(args.idle_timeout));
    if !args.no_backoff {
        builder = builder.backoff(sse_proto::Backoff::new());
    }
    if let Some(file) = &args.cacert {
        #[cfg(feature = "rustls")]
        match crate::tls::client_trusting(file) {
            Ok(config) => builder = builder.tls_config(config),
            Err(e) => {
                eprintln!("sse listen: --cacert: {e}");
                return Ok(ExitCode::from(2));
            }
        }
        #[cfg(not(feature = "rustls"))]
        {
            eprintln!(
                "sse listen: --cacert {}: this sse was built without TLS; build sse-cli with its `rustls` feature",
                file.display()
            );
            return Ok(ExitCode::from(2));
        }
    }
    let timeout = match args.timeout.map(Duration::try_from_secs_f64).transpose() {
        Ok(timeout) => timeout,
        Err(e) => {
            eprintln!("sse listen: --timeout: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // Built inside the runtime: the client's clock is tokio's.
        let mut source = match builder.connect() {
            Ok(source) => source,
            Err(sse_tokio::BuildError::HttpsUnsupported(_)) => {
                eprintln!(
                    "sse listen: this sse cannot request https URLs; install it with TLS: \
                     cargo install sse-cli --features rustls"
                );
                return Ok(ExitCode::from(2));
            }
            Err(e) => {
                eprintln!("sse listen: {e}");
                return Ok(ExitCode::from(2));
            }
        };
        let mut listener = Listener {
            out: output,
            retry: None,
            events: 0,
            max_events: args.max_events,
            event_types: args.event_types.clone(),
        };
        let code = match timeout {
            Some(limit) => match tokio::time::timeout(limit, listener.listen(&mut source)).await {
                Ok(code) => code?,
                Err(_) => {
                    listener.error(&format!("timed out after {} s", limit.as_secs_f64()))?;
                    TIMED_OUT
                }
            },
            None => listener.listen(&mut source).await?,
        };
        // What a client resuming this stream would start from, as `sse decode` ends.
        listener.write(
            Line::new()
                .bool("final", true)
                .string("last_event_id", &source.last_event_id())
                .millis_or_null("retry", listener.retry),
        )?;
        Ok(ExitCode::from(code))
    })
}

struct Listener<W> {
    out: W,
    /// The last `retry` value the stream set, as `sse decode` reports it.
    retry: Option<Duration>,
    events: u64,
    max_events: Option<u64>,
    /// Print only these event types (all when empty).
    event_types: Vec<String>,
}

impl<W: Write> Listener<W> {
    /// Prints items until the stream ends; returns the exit status.
    async fn listen(&mut self, source: &mut EventSource) -> io::Result<u8> {
        let mut code = 0;
        if self.max_events == Some(0) {
            source.close();
        }
        while let Some(item) = source.next().await {
            match item {
                Ok(SourceEvent::Message(event))
                    if !self.event_types.is_empty()
                        && !self.event_types.iter().any(|t| *t == *event.event_type()) => {}
                Ok(SourceEvent::Message(event)) => {
                    let line = Line::new()
                        .string("type", event.event_type())
                        .string("data", event.data())
                        .string("id", event.last_event_id())
                        .millis_or_null("retry", self.retry);
                    self.write(line)?;
                    self.events += 1;
                    if self.max_events.is_some_and(|max| self.events >= max) {
                        source.close();
                    }
                }
                Ok(SourceEvent::Comment(text)) => {
                    self.write(Line::new().string("comment", &text))?
                }
                Ok(SourceEvent::Retry(time)) => {
                    self.retry = Some(time);
                }
                Ok(SourceEvent::Reconnecting(reconnect)) => self.error(&chain(&reconnect))?,
                Ok(SourceEvent::Skipped(e)) => eprintln!("sse listen: {e}"),
                Ok(_) => {}
                Err(error) => {
                    let mut line = Line::new().string("error", &chain(&error));
                    // What the server said: an API's own error message.
                    if let Some(response) = error.response.as_ref().filter(|r| !r.body.is_empty()) {
                        line = line.string("body", &response.body);
                    }
                    self.write(line)?;
                    // 204 No Content is the server's way of saying "stop".
                    code = if error.reason == ConnectionError::Status(204) {
                        0
                    } else {
                        1
                    };
                }
            }
        }
        Ok(code)
    }

    fn error(&mut self, message: &str) -> io::Result<()> {
        self.write(Line::new().string("error", message))
    }

    fn write(&mut self, line: Line) -> io::Result<()> {
        self.out.write_all(line.finish().as_bytes())?;
        // Each line as it happens: a live stream shows up live.
        self.out.flush()
    }
}

/// An error's message with its causes, `: `-separated.
fn chain(error: &dyn core::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        message.push_str(": ");
        message.push_str(&e.to_string());
        cause = e.source();
    }
    message
}
