//! `sse serve`: stdin as a live event stream over HTTP, with replay for clients that
//! reconnect.
//!
//! It is `sse listen`'s other half: any program that prints lines becomes an event
//! stream that a browser, `curl` or `sse listen` can follow, without writing a server.
//! The server is an `sse_tokio::Hub`: every line read is published to every client
//! and kept in the hub's history, so a client that reconnects with `Last-Event-ID`
//! gets what it missed, and a client too slow for the stream is dropped and catches
//! up from the history when it reconnects. See [`LONG_ABOUT`] for the choices.

use std::convert::Infallible;
use std::io::{self, BufRead, BufReader, Read};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, ALLOW,
    CACHE_CONTROL, CONTENT_TYPE, HOST, HeaderValue, ORIGIN, RETRY_AFTER, VARY,
};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use sse_proto::{Backfill, DEFAULT_MAX_BYTES, EncodeError, Message, PublishError, SubscribeError};
use sse_tokio::{Hub, SseBody, WriteTimeout};

use crate::ndjson::{Input, InputError};

/// `sse serve --help`.
pub const LONG_ABOUT: &str = "\
Serve stdin as a text/event-stream over HTTP: each line read becomes an event for
every client connected.

  GET /events              the event stream (events published without a topic)
  GET /events?topic=NAME   the events of topic NAME; repeat `topic` to follow
                           several, in the order they were published
  GET /        a page that shows the stream live in a browser (with the same query:
               the same topics)

Each event gets an ID, so that a client that reconnects (as browsers and `sse
listen` do, with a Last-Event-ID header) is sent the events it missed, from a
history of the last --history events. A client without a Last-Event-ID (a new one)
is sent the whole history first, then the live events; one whose ID is no longer
held is sent the whole history too. A client that reads too slowly for the stream is
disconnected; it reconnects and catches up from the history.

With --tls-cert and --tls-key (or --tls-self-signed, for local use) it serves HTTPS,
offering HTTP/2 and HTTP/1.1: over HTTP/2 a browser opens every stream of a page on
one connection, where over HTTP/1.1 it stops at six per origin.

By default each line (without its line end) is one event's data, and IDs are
assigned: numbers counting up from the time the server started, in microseconds, so
that the IDs of a restarted server are new to its clients.

With --ndjson each line is a JSON object as `sse decode` writes and `sse encode`
reads: {\"type\": ..., \"data\": ..., \"id\": ..., \"retry\": ..., \"comment\": ...},
all optional. `type` \"message\" and \"\" send no event type. `id` is the event's ID,
unless it is empty or the same as the line before's (`sse decode` repeats the last
event ID on every event): then one is assigned, as every event needs its own.
`retry` is sent with the next event when it changes. `topic` publishes the event
to that topic only (absent or \"\": to the stream without a topic). Lines with only
a comment, and decode's final line, publish nothing.

Topics are per-user or per-subject streams: each has a history of its own
(--topic-history), and a client following several resumes all of them from its one
Last-Event-ID, since IDs count up across topics. A topic is made when first
published to or asked for; at most --max-topics are held, and a new one replaces
the one used longest ago among those no client follows. A line that cannot be read is reported on
stderr with its line number and skipped.

With --redis URL the events live in a Redis stream (--redis-stream, default
sse:events): stdin's events are appended to it and each server follows it, so every
`sse serve` started with the same URL and stream serves the same events with the
same IDs (the stream's), and a client reconnects to any of them with its
Last-Event-ID. A server may also only serve (stdin from /dev/null). A server that
starts loads the stream's newest --history events, so it can resume the others'
clients; lines' `id` and `topic` are not carried over Redis. While Redis is away a
line is reported and skipped after a few seconds, and each server resumes following
from the last event it read when Redis is back. The stream keeps about the newest
10,000 events, and with --redis-max-age none older than that.

The server prints the address it listens on to stderr (with port 0, the port the
system picked). It keeps serving after stdin ends, with the history as it stands,
until stopped. On Ctrl-C (SIGINT), or SIGTERM (what service managers and container
runtimes send), it shuts down gracefully: it stops accepting,
ends every event stream after the events already queued for it (clients then
reconnect, to a new server say, and resume from their last event ID), lets the
other responses finish, and exits; it waits for them at most a few seconds, and a
second signal exits at once.";

/// How long a shutdown waits for open connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Options of `sse serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to listen on (port 0: any free port). The address bound is
    /// printed on stderr.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    /// How many events to keep for replay (the newest is always kept: a client
    /// that has it is up to date).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    history: usize,
    /// The most bytes of encoded events to keep for replay (the newest event is
    /// always kept).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BYTES)]
    history_bytes: usize,
    /// Send a keep-alive comment when a stream has been quiet this long; 0: never.
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    keep_alive: f64,
    /// Start each stream with a `retry` field: how long clients wait before they
    /// reconnect, in milliseconds.
    #[arg(long, value_name = "MS")]
    retry: Option<u64>,
    /// Read NDJSON events (as `sse decode` writes them) instead of lines of data.
    #[arg(long)]
    ndjson: bool,
    /// The longest line of stdin (in bytes, its line end not counted) that is
    /// published; a longer one is reported on stderr and skipped as it is read,
    /// never held. The default is the parser's event limit, which clients apply.
    #[arg(long, value_name = "BYTES", default_value_t = sse_proto::DEFAULT_MAX_EVENT_SIZE)]
    max_line: usize,
    /// The most event streams served at once; a client over it is answered 503 with
    /// `Retry-After`.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_clients: usize,
    /// The most topics held at once; a new one replaces the one used longest ago
    /// among those no client follows, and is refused (a line reported, a client
    /// answered 503) when every one has clients.
    #[arg(long, value_name = "N", default_value_t = sse_proto::DEFAULT_MAX_TOPICS)]
    max_topics: usize,
    /// How many events each topic keeps for replay.
    #[arg(long, value_name = "N", default_value_t = sse_proto::DEFAULT_TOPIC_EVENTS)]
    topic_history: usize,
    /// The most bytes of encoded events each topic keeps for replay.
    #[arg(long, value_name = "BYTES", default_value_t = sse_proto::DEFAULT_TOPIC_BYTES)]
    topic_history_bytes: usize,
    /// How long a client may take to send its request head; a connection that has
    /// not sent one by then is closed.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    header_timeout: f64,
    /// How long a write to a client may wait: a client that reads nothing for this
    /// long (its buffers full) is disconnected, and what it held released.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    write_timeout: f64,
    /// A host name (the `Host` header, without the port) to serve besides the bound
    /// address and loopback names; repeatable. A request for any other host is
    /// refused with 421, so that a web page cannot reach this server through a
    /// name it controls (DNS rebinding).
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// A web origin (`https://app.example`, `http://localhost:3000`) whose pages may
    /// read the stream, with credentials (`new EventSource(url, {withCredentials:
    /// true})`); repeatable. For those origins only, preflight requests are
    /// answered (Chrome's private-network check included) and responses carry
    /// `Access-Control-Allow-Origin` with that origin (never `*`) and
    /// `Access-Control-Allow-Credentials: true`. Default: none, no CORS headers.
    #[arg(long = "cors", value_name = "ORIGIN")]
    cors: Vec<String>,
    /// Serve HTTPS with this certificate chain (PEM), HTTP/2 and HTTP/1.1 offered
    /// by ALPN: over HTTP/2 a browser opens every stream of a page on one
    /// connection, where HTTP/1.1 stops at six per origin. Needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The private key (PEM) for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Serve HTTPS with a certificate made now for the bound address and
    /// `localhost`, for local use; prints the SPKI hash that Chromium's
    /// `--ignore-certificate-errors-spki-list` takes to trust it.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    tls_self_signed: bool,
    /// Keep the events in this Redis (`redis://127.0.0.1:6379/`), in a stream
    /// (--redis-stream): every `sse serve` started with the same URL and stream
    /// serves the same events with the same IDs (Redis's), so a client can
    /// reconnect to any of them. Lines read on stdin are published to Redis; a node
    /// may also serve only (`< /dev/null`). Topics are not carried over Redis.
    #[cfg(feature = "redis")]
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// With --redis: the stream's key.
    #[cfg(feature = "redis")]
    #[arg(
        long,
        value_name = "KEY",
        default_value = "sse:events",
        requires = "redis"
    )]
    redis_stream: String,
    /// With --redis: also trim events older than this from the stream (by
    /// default it keeps about the newest 10,000).
    #[cfg(feature = "redis")]
    #[arg(long, value_name = "SECS", requires = "redis")]
    redis_max_age: Option<f64>,
    /// With --tls-self-signed: write the certificate (PEM) to this file, for clients
    /// to trust (`sse listen --cacert FILE`, `curl --cacert FILE`).
    #[arg(long, value_name = "FILE", requires = "tls_self_signed")]
    write_cert: Option<std::path::PathBuf>,
}

/// What every connection needs.
struct Server {
    hub: Hub,
    /// With --redis: where events are published and resumes wait.
    #[cfg(feature = "redis")]
    redis: Option<Arc<sse_tokio::RedisHub>>,
    keep_alive: Option<Duration>,
    retry: Option<Duration>,
    /// Host names served (lower case, without ports): the bound address, the
    /// loopback names and `--allow-host`.
    hosts: Vec<String>,
    /// The origins `--cors` lets read the stream (lower case, without a trailing
    /// slash).
    cors: Vec<String>,
}

type Body = Either<SseBody, Full<Bytes>>;

/// Serves until interrupted (then shuts down gracefully); returns early only if it
/// cannot start.
pub fn run(args: &Args, input: impl Read + Send + 'static) -> io::Result<ExitCode> {
    let keep_alive = match Duration::try_from_secs_f64(args.keep_alive) {
        Ok(interval) if interval.is_zero() => None,
        Ok(interval) => Some(interval),
        Err(e) => {
            eprintln!("sse serve: --keep-alive: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let builder = Hub::builder()
        .max_events(args.history)
        .max_bytes(args.history_bytes)
        .new_clients(Backfill::Everything)
        .max_subscribers(args.max_clients)
        .max_topics(args.max_topics)
        .topic_history(args.topic_history, args.topic_history_bytes);
    let Some(header_timeout) = timeout("--header-timeout", args.header_timeout) else {
        return Ok(ExitCode::from(2));
    };
    let Some(write_timeout) = timeout("--write-timeout", args.write_timeout) else {
        return Ok(ExitCode::from(2));
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        #[cfg(feature = "redis")]
        let (hub, redis) = match &args.redis {
            Some(url) => {
                let max_age = match args.redis_max_age.map(Duration::try_from_secs_f64) {
                    Some(Ok(age)) => Some(age),
                    Some(Err(e)) => {
                        eprintln!("sse serve: --redis-max-age: {e}");
                        return Ok(ExitCode::from(2));
                    }
                    None => None,
                };
                let connected = async {
                    let mut log = sse_tokio::RedisLog::connect(url, &args.redis_stream).await?;
                    if let Some(age) = max_age {
                        log = log.max_age(age);
                    }
                    sse_tokio::LogHub::builder(log)
                        .hub(builder, args.history)
                        .start()
                        .await
                }
                .await;
                match connected {
                    Ok(redis) => (redis.hub().clone(), Some(Arc::new(redis))),
                    Err(e) => {
                        eprintln!("sse serve: --redis {url}: {e}");
                        return Ok(ExitCode::FAILURE);
                    }
                }
            }
            None => (builder.build(), None),
        };
        #[cfg(not(feature = "redis"))]
        let hub = builder.build();
        let listener = match tokio::net::TcpListener::bind(args.addr.as_str()).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("sse serve: cannot listen on {}: {e}", args.addr);
                return Ok(ExitCode::FAILURE);
            }
        };
        let addr = listener.local_addr()?;
        let tls = match tls(args, addr) {
            Ok(tls) => tls,
            Err(e) => {
                eprintln!("sse serve: {e}");
                return Ok(ExitCode::from(2));
            }
        };
        // Written before the address is printed: whoever waits for that line can
        // read the certificate.
        #[cfg(feature = "rustls")]
        if let (Some(file), Some(pem)) = (
            &args.write_cert,
            tls.as_ref().and_then(|tls| tls.cert_pem.as_ref()),
        ) {
            if let Err(e) = std::fs::write(file, pem) {
                eprintln!("sse serve: --write-cert {}: {e}", file.display());
                return Ok(ExitCode::from(2));
            }
        }
        let scheme = if tls.is_some() { "https" } else { "http" };
        eprintln!(
            "sse serve: listening on {scheme}://{addr}/ (events at {scheme}://{addr}/events)"
        );
        #[cfg(feature = "rustls")]
        if let Some(hash) = tls.as_ref().and_then(|tls| tls.spki_sha256.as_ref()) {
            eprintln!(
                "sse serve: the certificate is self-signed; Chromium trusts it when started \
                 with --ignore-certificate-errors-spki-list={hash}"
            );
        }
        let publisher = Publisher {
            hub: hub.clone(),
            #[cfg(feature = "redis")]
            redis: redis
                .clone()
                .map(|redis| (redis, tokio::runtime::Handle::current())),
        };
        let server = Arc::new(Server {
            #[cfg(feature = "redis")]
            redis,
            hub: hub.clone(),
            keep_alive,
            retry: args.retry.map(Duration::from_millis),
            hosts: served_hosts(addr, &args.allow_hosts),
            cors: args
                .cors
                .iter()
                .map(|origin| origin.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        });
        let ndjson = args.ndjson;
        // Reading stdin blocks, and publishing does not need the runtime.
        let max_line = args.max_line;
        std::thread::spawn(move || read_input(input, &publisher, ndjson, max_line));
        let connections = GracefulShutdown::new();
        let interrupted = stop_requested();
        tokio::pin!(interrupted);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = &mut interrupted => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin.
                    eprintln!("sse serve: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let stream = WriteTimeout::new(stream, write_timeout);
            let server = server.clone();
            // Watched for a graceful shutdown from here on.
            let watcher = connections.watcher();
            match &tls {
                None => {
                    let connection = watcher.watch(connection(stream, server, header_timeout));
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                }
                #[cfg(feature = "rustls")]
                Some(tls) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config.clone());
                    tokio::spawn(async move {
                        // The handshake gets the time a request head gets.
                        let handshake =
                            tokio::time::timeout(header_timeout, acceptor.accept(stream)).await;
                        if let Ok(Ok(stream)) = handshake {
                            let _ = watcher
                                .watch(connection(stream, server, header_timeout))
                                .await;
                        }
                    });
                }
                #[cfg(not(feature = "rustls"))]
                Some(never) => match *never {},
            }
        }
        drop(listener);
        eprintln!(
            "sse serve: interrupted; ending {} connection(s): streams end after what is \
             queued for them, and clients resume elsewhere from their last event ID",
            connections.count()
        );
        // An event stream never ends by itself; closing the hub ends them all.
        server.hub.close();
        tokio::select! {
            () = connections.shutdown() => eprintln!("sse serve: every connection closed"),
            () = tokio::time::sleep(SHUTDOWN_GRACE) => {
                eprintln!("sse serve: connections still open after {SHUTDOWN_GRACE:?}; exiting");
            }
            () = stop_requested() => eprintln!("sse serve: interrupted again; exiting"),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// One connection, HTTP/1.1 or HTTP/2 (by ALPN, or with prior knowledge) as the
/// client speaks.
fn connection<I>(
    io: I,
    server: Arc<Server>,
    header_timeout: Duration,
) -> impl hyper_util::server::graceful::GracefulConnection
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let service = service_fn(move |request| {
        let server = server.clone();
        async move { Ok::<_, Infallible>(respond(&server, &request).await) }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder.http2().timer(TokioTimer::new());
    builder
        .serve_connection(TokioIo::new(io), service)
        .into_owned()
}

/// TLS as the options say: `None` for plain HTTP.
#[cfg(feature = "rustls")]
fn tls(args: &Args, addr: std::net::SocketAddr) -> io::Result<Option<crate::tls::Tls>> {
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => crate::tls::from_files(cert, key).map(Some),
        _ if args.tls_self_signed => crate::tls::self_signed(addr).map(Some),
        _ => Ok(None),
    }
}

/// Without TLS support, the TLS options are refused.
#[cfg(not(feature = "rustls"))]
fn tls(args: &Args, _addr: std::net::SocketAddr) -> io::Result<Option<std::convert::Infallible>> {
    if args.tls_cert.is_some() || args.tls_self_signed {
        return Err(io::Error::other(
            "this sse was built without TLS; build sse-cli with its `rustls` feature",
        ));
    }
    Ok(None)
}

/// A timeout option's value: more than zero seconds; `None` after saying why not.
fn timeout(option: &str, secs: f64) -> Option<Duration> {
    match Duration::try_from_secs_f64(secs) {
        Ok(timeout) if !timeout.is_zero() => Some(timeout),
        Ok(_) => {
            eprintln!("sse serve: {option} must be more than 0");
            None
        }
        Err(e) => {
            eprintln!("sse serve: {option}: {e}");
            None
        }
    }
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn respond(server: &Server, request: &Request<Incoming>) -> Response<Body> {
    let mut response = route(server, request).await;
    if let Some(origin) = server.cors_origin(request) {
        allow_origin(response.headers_mut(), origin);
    }
    if !server.cors.is_empty() {
        // The answer depends on the Origin: caches must keep one per origin.
        response
            .headers_mut()
            .append(VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// `Access-Control-Allow-Origin` with `origin` itself (never `*`: credentials are
/// allowed), and `Access-Control-Allow-Credentials: true`.
fn allow_origin(headers: &mut http::HeaderMap, origin: &HeaderValue) {
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(
        ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
}

/// A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) from an origin
/// `--cors` names: what the stream needs, `GET` with `Last-Event-ID`, and Chrome's
/// private-network access when asked for.
fn preflight(request: &Request<Incoming>) -> Response<Body> {
    let mut response = fixed(StatusCode::NO_CONTENT, "");
    let headers = response.headers_mut();
    headers.remove(CONTENT_TYPE);
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET"),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Last-Event-ID, Cache-Control"),
    );
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    let private_network = request
        .headers()
        .get("access-control-request-private-network")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    if private_network {
        headers.insert(
            "access-control-allow-private-network",
            HeaderValue::from_static("true"),
        );
    }
    response
}

async fn route(server: &Server, request: &Request<Incoming>) -> Response<Body> {
    let method = request.method();
    if !server.serves(request) {
        return fixed(
            StatusCode::MISDIRECTED_REQUEST,
            "this server does not serve that host (see sse serve --allow-host)\n",
        );
    }
    let preflight_request = method == Method::OPTIONS
        && request
            .headers()
            .contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    match request.uri().path() {
        "/events" if preflight_request && server.cors_origin(request).is_some() => {
            preflight(request)
        }
        "/events" if preflight_request => fixed(
            StatusCode::FORBIDDEN,
            "this origin may not read the stream (see sse serve --cors)\n",
        ),
        "/events" if method == Method::GET => {
            let last_event_id = sse_tokio::last_event_id(request.headers());
            let topics = match topics(request.uri().query()) {
                Ok(topics) => topics,
                Err(message) => return fixed(StatusCode::BAD_REQUEST, message),
            };
            let subscribed = if topics.is_empty() {
                server
                    .subscribe(last_event_id.as_deref())
                    .await
                    .map_err(SubscribeError::TooManySubscribers)
            } else if server.redis() {
                return fixed(
                    StatusCode::BAD_REQUEST,
                    "topics are not carried over Redis (sse serve --redis)\n",
                );
            } else {
                server.hub.subscribe_to(&topics, last_event_id.as_deref())
            };
            let mut body = match subscribed {
                Ok(body) => body,
                Err(SubscribeError::TopicCount { .. }) => {
                    return fixed(StatusCode::BAD_REQUEST, "too many topics in one request\n");
                }
                // Over --max-clients, or --max-topics all followed.
                Err(_) => {
                    let mut response = fixed(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "too many clients; try again later\n",
                    );
                    response
                        .headers_mut()
                        .insert(RETRY_AFTER, HeaderValue::from_static("5"));
                    return response;
                }
            };
            if let Some(interval) = server.keep_alive {
                body = body.keep_alive(interval);
            }
            if let Some(retry) = server.retry {
                body = body.retry(retry);
            }
            body.response().map(Either::Left)
        }
        "/" | "/index.html" if method == Method::GET || method == Method::HEAD => {
            let mut response = fixed(StatusCode::OK, PAGE);
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        // What a GET would answer, without subscribing: a monitor's or a proxy's
        // check costs no stream.
        "/events" if method == Method::HEAD => {
            let mut response = Response::new(Either::Right(Full::new(Bytes::new())));
            sse_tokio::set_headers(response.headers_mut());
            response
        }
        "/events" | "/" | "/index.html" => {
            let mut response = fixed(StatusCode::METHOD_NOT_ALLOWED, "use GET or HEAD\n");
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            response
        }
        _ => fixed(
            StatusCode::NOT_FOUND,
            "not found: the stream is at /events, a page that shows it at /\n",
        ),
    }
}

impl Server {
    /// Whether events come through Redis.
    fn redis(&self) -> bool {
        #[cfg(feature = "redis")]
        return self.redis.is_some();
        #[cfg(not(feature = "redis"))]
        false
    }

    /// A stream of the events without a topic; through Redis, once this node has
    /// followed the stream to the client's ID.
    async fn subscribe(
        &self,
        last_event_id: Option<&str>,
    ) -> Result<SseBody, sse_proto::TooManySubscribers> {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            return redis.subscribe(last_event_id).await;
        }
        self.hub.subscribe(last_event_id)
    }

    /// The request's `Origin`, if `--cors` names it.
    fn cors_origin<'r>(&self, request: &'r Request<Incoming>) -> Option<&'r HeaderValue> {
        let origin = request.headers().get(ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.cors
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(text))
            .then_some(origin)
    }

    /// Whether the request's `Host` (without its port) is one this server serves. A
    /// request without one (HTTP/1.0) is served: browsers always send it.
    fn serves(&self, request: &Request<Incoming>) -> bool {
        // HTTP/2 names the host in the `:authority` pseudo-header, which hyper puts
        // in the URI.
        let host = match request.headers().get(HOST) {
            Some(host) => host.to_str().ok(),
            None => match request.uri().authority() {
                Some(authority) => Some(authority.as_str()),
                None => return true,
            },
        };
        let Some(host) = host else {
            return false;
        };
        let name = match host.rsplit_once(':') {
            // `[::1]:8080`, `host:8080`; but not the colons inside `[::1]`.
            Some((name, port)) if !port.contains(']') => name,
            _ => host,
        };
        let name = name.to_ascii_lowercase();
        self.hosts.contains(&name)
    }
}

/// The host names a server bound to `addr` serves besides `--allow-host`: the bound
/// address itself and the loopback names.
fn served_hosts(addr: std::net::SocketAddr, allowed: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .map(|name| name.to_string())
        .collect();
    hosts.push(match addr.ip() {
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    });
    hosts.extend(allowed.iter().map(|name| name.to_ascii_lowercase()));
    hosts
}

/// A response with a fixed body (plain text unless the caller says otherwise).
fn fixed(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::from_static(
        body.as_bytes(),
    ))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The longest topic name served, in bytes.
const MAX_TOPIC_NAME: usize = 256;

/// The `topic` parameters of a query, in order (a `+` is a space, as in forms).
fn topics(query: Option<&str>) -> Result<Vec<String>, &'static str> {
    let mut topics = Vec::new();
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if key != "topic" {
            continue;
        }
        if value.is_empty() || value.len() > MAX_TOPIC_NAME {
            return Err("a topic name has 1 to 256 bytes\n");
        }
        topics.push(value.into_owned());
    }
    Ok(topics)
}

/// Publishes what `input` says until it ends, then says so on stderr.
fn read_input(input: impl Read, hub: &Publisher, ndjson: bool, max_line: usize) {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let mut reader = NdjsonReader::default();
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut events = 0u64;
    loop {
        line.clear();
        let read = match read_line(&mut input, &mut line, max_line) {
            Ok(read) => read,
            Err(e) => {
                eprintln!("sse serve: reading stdin: {e}");
                break;
            }
        };
        match read {
            LineRead::End => break,
            LineRead::Line => number += 1,
            LineRead::TooLong(len) => {
                number += 1;
                eprintln!(
                    "sse serve: line {number}: {len} bytes, over the limit of {max_line} \
                     (--max-line); skipped"
                );
                continue;
            }
        }
        let published = if ndjson {
            reader.line(&line, hub)
        } else {
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            let data = String::from_utf8_lossy(text);
            hub.publish(None, Message::new(&*data)).map(|()| true)
        };
        match published {
            Ok(true) => events += 1,
            Ok(false) => {}
            Err(e) => eprintln!("sse serve: line {number}: {e}"),
        }
        if line.capacity() > 1 << 20 {
            line = Vec::new();
        }
    }
    eprintln!("sse serve: stdin ended after {events} events; serving until interrupted");
}

/// What [`read_line`] read.
enum LineRead {
    /// The end of the input.
    End,
    /// A line, in the buffer.
    Line,
    /// A line longer than the limit, of this many bytes: skipped, the buffer holds
    /// nothing of it.
    TooLong(u64),
}

/// Reads one line (up to and including its LF, or to the end of the input) into
/// `line`, holding at most `max` bytes of it besides the line end: a longer line is
/// read through and dropped as it comes.
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>, max: usize) -> io::Result<LineRead> {
    let mut len = 0u64;
    let mut too_long = false;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (len, too_long) {
                (0, _) => LineRead::End,
                (_, false) => LineRead::Line,
                (_, true) => LineRead::TooLong(len),
            });
        }
        let (piece, ends) = match memchr::memchr(b'\n', available) {
            Some(at) => (&available[..=at], true),
            None => (available, false),
        };
        let taken = piece.len();
        len += taken as u64;
        let content = len - u64::from(ends);
        if content > max as u64 {
            too_long = true;
            line.clear();
        } else {
            line.extend_from_slice(piece);
        }
        input.consume(taken);
        if ends {
            return Ok(if too_long {
                LineRead::TooLong(len - 1)
            } else {
                LineRead::Line
            });
        }
    }
}

/// Why an NDJSON line published nothing.
#[derive(Debug)]
enum LineError {
    Input(InputError),
    Encode(EncodeError),
    Publish(PublishError),
    TopicName,
    #[cfg(feature = "redis")]
    Redis(sse_tokio::RedisPublishError),
    #[cfg(feature = "redis")]
    TopicOverRedis,
    FinalNotTrue,
    LastEventIdWithoutFinal,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::Input(e) => e.fmt(f),
            LineError::Encode(e) => e.fmt(f),
            LineError::Publish(e) => e.fmt(f),
            LineError::TopicName => {
                write!(f, "a \"topic\" has at most {MAX_TOPIC_NAME} bytes")
            }
            #[cfg(feature = "redis")]
            LineError::Redis(e) => write!(f, "not published: {e}"),
            #[cfg(feature = "redis")]
            LineError::TopicOverRedis => f.write_str("topics are not carried over Redis"),
            LineError::FinalNotTrue => f.write_str("\"final\" must be true"),
            LineError::LastEventIdWithoutFinal => f.write_str(
                "\"last_event_id\" belongs on a {\"final\": true} line; an event's is \"id\"",
            ),
        }
    }
}

/// Where stdin's events go: the hub, or Redis (whose followers feed the hubs).
struct Publisher {
    hub: Hub,
    #[cfg(feature = "redis")]
    redis: Option<(Arc<sse_tokio::RedisHub>, tokio::runtime::Handle)>,
}

impl Publisher {
    /// Publishes `message` to `topic` (`None`: the stream without a topic). Through
    /// Redis the stream assigns the ID: the message's own is dropped.
    fn publish(&self, topic: Option<&str>, message: Message<&str>) -> Result<(), LineError> {
        #[cfg(feature = "redis")]
        if let Some((redis, runtime)) = &self.redis {
            if topic.is_some() {
                return Err(LineError::TopicOverRedis);
            }
            let mut message = message;
            message.id = None;
            return runtime
                .block_on(redis.publish(message))
                .map(drop)
                .map_err(LineError::Redis);
        }
        match topic {
            Some(topic) => self
                .hub
                .publish_to(topic, message)
                .map(drop)
                .map_err(LineError::Publish),
            None => self
                .hub
                .publish(message)
                .map(drop)
                .map_err(LineError::Encode),
        }
    }
}

/// Turns NDJSON lines into events, with what the lines so far have set.
#[derive(Debug, Default)]
struct NdjsonReader {
    /// The last `id` read, to tell a new ID from decode's repetition of the last.
    id: Option<String>,
    /// The last `retry` sent.
    retry: Option<u64>,
    /// A `retry` read on a line without an event, for the next event.
    pending_retry: Option<u64>,
}

impl NdjsonReader {
    /// Publishes the line's event, if it has one; says whether it did.
    fn line(&mut self, text: &[u8], hub: &Publisher) -> Result<bool, LineError> {
        let Some(line) = Input::parse(text).map_err(LineError::Input)? else {
            return Ok(false);
        };
        if let Some(is_final) = line.is_final {
            // Decode's last line: the state a resuming client would have; nothing
            // to publish.
            return if is_final {
                Ok(false)
            } else {
                Err(LineError::FinalNotTrue)
            };
        }
        if line.last_event_id.is_some() {
            return Err(LineError::LastEventIdWithoutFinal);
        }
        let retry = line
            .retry
            .or(self.pending_retry)
            .filter(|&ms| self.retry != Some(ms));
        if line.data.is_none() && line.event.is_none() && line.id.is_none() {
            // A comment, a retry: no event to carry them now.
            self.pending_retry = retry;
            return Ok(false);
        }
        let id = line
            .id
            .as_deref()
            .filter(|&id| !id.is_empty() && self.id.as_deref() != Some(id));
        let message = line.message(id, retry);
        let topic = line.topic.as_deref().filter(|topic| !topic.is_empty());
        if topic.is_some_and(|topic| topic.len() > MAX_TOPIC_NAME) {
            return Err(LineError::TopicName);
        }
        hub.publish(topic, message)?;
        if let Some(id) = line.id {
            self.id = Some(id.into_owned());
        }
        if retry.is_some() {
            self.retry = retry;
        }
        self.pending_retry = None;
        Ok(true)
    }
}

/// The page at `/`: the stream, live.
const PAGE: &str = include_str!("serve_page.html");
