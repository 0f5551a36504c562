//! The connection scenarios (`conformance/vectors/connection`) through each
//! adapter's HTTP client: the real `EventSource` over sse-tokio's hyper-util client
//! and over sse-async-std's `AsyncIoClient`, each talking to a hyper server through
//! in-memory pipes, and over sse-tokio's `ReqwestClient`, through a proxy on
//! loopback (reqwest takes no connector), on tokio's paused clock.
//!
//! Each scenario step advances the clock to the step's time (so the adapter's own
//! timer fires the `timeout` steps), plays the input on the server side (a response
//! head, body bytes, the end of the body, a dropped connection) or calls `close()`,
//! and lets everything settle. What came out of the `EventSource`, and the requests
//! the server received, are the step's outputs. The pipes are plain futures, not
//! operating-system I/O, so "settled" is exact: no task can run any more, and the
//! paused clock has not moved. Over loopback sockets (reqwest), "settled" is also
//! nothing new for a while of wall-clock time; the paused clock still does not
//! move, as the settling loop never leaves the runtime idle.

mod common;

use std::future::{Ready, ready};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use conformance::adapters::{drain_source, failed_on_an_open_response};
use conformance::connection::{Input, Output, Scenario, SentRequest, StepRun, request_error_code};
use http_body_util::BodyExt;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use sse_io::{BuildError, Transport};
use sse_tokio::EventSource;
use tokio::io::DuplexStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::compat::TokioAsyncReadCompatExt;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Frames = mpsc::UnboundedSender<Result<http_body::Frame<Bytes>, BoxError>>;
type Body = http_body_util::combinators::BoxBody<Bytes, BoxError>;

/// A connection the server reads requests from: an in-memory pipe, or a TLS
/// tunnel through the proxy.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Io for T {}

/// One end of an in-memory connection, as the hyper client sees it.
struct Pipe(TokioIo<DuplexStream>);

impl hyper::rt::Read for Pipe {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Pipe {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl Connection for Pipe {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

/// A connector that hands the other end of each new pipe to the server, with the
/// origin being connected to.
#[derive(Clone)]
struct Connector(Pipes);

impl tower_service::Service<http::Uri> for Connector {
    type Response = Pipe;
    type Error = std::io::Error;
    type Future = Ready<Result<Pipe, std::io::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), std::io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let (client, server) = tokio::io::duplex(1 << 20);
        let _ = self.0.send((origin(&uri), Box::new(server)));
        ready(Ok(Pipe(TokioIo::new(client))))
    }
}

/// A request the server received, waiting for the script's response.
struct Exchange {
    request: SentRequest,
    /// `None` drops the connection without a response.
    respond: oneshot::Sender<Option<http::Response<Body>>>,
}

/// Serves every pipe with HTTP/1.1; each request goes to `exchanges`.
fn server(
    mut pipes: mpsc::UnboundedReceiver<(String, Box<dyn Io>)>,
    exchanges: mpsc::UnboundedSender<Exchange>,
) {
    tokio::spawn(async move {
        while let Some((origin, pipe)) = pipes.recv().await {
            let exchanges = exchanges.clone();
            tokio::spawn(async move {
                let service =
                    service_fn(move |req| exchange(req, origin.clone(), exchanges.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .auto_date_header(false)
                    .serve_connection(TokioIo::new(pipe), service)
                    .await;
            });
        }
    });
}

/// Hands one request to the script, as received from `origin` (or, in the absolute
/// form a proxy receives, from the URL it names), and answers as the script says.
async fn exchange(
    req: http::Request<hyper::body::Incoming>,
    origin: String,
    exchanges: mpsc::UnboundedSender<Exchange>,
) -> Result<http::Response<Body>, std::io::Error> {
    let (head, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let url = match head.uri.scheme() {
        Some(_) => head.uri.to_string(),
        None => format!("{origin}{}", head.uri),
    };
    let headers = head
        .headers
        .iter()
        // What the HTTP client adds, not the connection.
        .filter(|(name, _)| !matches!(name.as_str(), "host" | "content-length"))
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        });
    let request = SentRequest::new(
        head.method.as_str(),
        url,
        headers,
        (!body.is_empty()).then(|| body.to_vec()),
    );
    let (respond, response) = oneshot::channel();
    let _ = exchanges.send(Exchange { request, respond });
    match response.await {
        Ok(Some(response)) => Ok(response),
        _ => Err(std::io::Error::other("the script dropped the connection")),
    }
}

/// Where a transport sends each new pipe: the origin it connects to and the
/// server's end.
type Pipes = mpsc::UnboundedSender<(String, Box<dyn Io>)>;

/// Where the requests a server received go, for the script to answer.
type Exchanges = mpsc::UnboundedSender<Exchange>;

/// Builds a transport whose connections reach the script's server.
type Make = fn(Pipes, Exchanges) -> Box<dyn Transport>;

/// sse-tokio's transport: hyper-util's client, its connector handing out pipes.
fn hyper_util_client(pipes: Pipes, _: Exchanges) -> Box<dyn Transport> {
    let client = Client::builder(TokioExecutor::new()).build(Connector(pipes));
    Box::new(sse_tokio::HyperClient(client))
}

/// sse-async-std's transport: `AsyncIoClient`, its connector handing out pipes.
fn async_io_client(pipes: Pipes, _: Exchanges) -> Box<dyn Transport> {
    let client = sse_async_std::AsyncIoClient::new(&Default::default())
        .unwrap()
        .with_connector(move |uri| {
            let (client, server) = tokio::io::duplex(1 << 20);
            let _ = pipes.send((origin(uri), Box::new(server)));
            async move { Ok(client.compat()) }
        });
    Box::new(client)
}

/// sse-tokio's `ReqwestClient`, with every request sent through a proxy on
/// loopback: `CONNECT` tunnels end in TLS with a certificate for the scenarios'
/// hosts (which only this client trusts) and go to the server as pipes; plain
/// `http` requests, in absolute form, are answered by the proxy itself.
fn reqwest_client(pipes: Pipes, exchanges: Exchanges) -> Box<dyn Transport> {
    let (acceptor, trusted) = tls_for_the_scenarios();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            // Small writes go out at once (no Nagle wait for the client's delayed ACK).
            tcp.set_nodelay(true).unwrap();
            let (pipes, acceptor, exchanges) = (pipes.clone(), acceptor.clone(), exchanges.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let (pipes, acceptor, exchanges) =
                        (pipes.clone(), acceptor.clone(), exchanges.clone());
                    async move {
                        if req.method() != http::Method::CONNECT {
                            return exchange(req, String::new(), exchanges).await;
                        }
                        let authority = req.uri().authority().map(|a| a.to_string());
                        tokio::spawn(async move {
                            let Ok(upgraded) = hyper::upgrade::on(req).await else {
                                return;
                            };
                            let Ok(tls) = acceptor.accept(TokioIo::new(upgraded)).await else {
                                return;
                            };
                            let origin = format!("https://{}", authority.unwrap_or_default());
                            let _ = pipes.send((origin, Box::new(tls)));
                        });
                        Ok(http::Response::new(Body::default()))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .auto_date_header(false)
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .proxy(reqwest::Proxy::all(proxy).unwrap())
        .tls_backend_preconfigured(trusted)
        .build()
        .unwrap();
    Box::new(sse_tokio::ReqwestClient::from_client(client))
}

/// A TLS acceptor with a certificate for every host in the scenarios, and a client
/// configuration that trusts it alone.
fn tls_for_the_scenarios() -> (tokio_rustls::TlsAcceptor, rustls::ClientConfig) {
    let hosts = [
        "example.com",
        "other.example",
        "cdn.example.net",
        "a.example",
        "b.example",
        "c.example",
    ];
    let (server, client) = common::self_signed(&hosts);
    (
        tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(server)),
        client,
    )
}

/// The origin being connected to, as the client has it (the Host header drops a
/// default port).
fn origin(uri: &http::Uri) -> String {
    format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("http"),
        uri.authority().map_or("", |a| a.as_str())
    )
}

/// Plays one scenario through the transport `make` builds.
/// How long a step over real sockets waits for as many outputs as the scenario
/// expects, before it settles with fewer.
const PATIENCE: Duration = Duration::from_secs(1);

/// `quiet`: how long (wall-clock) nothing new must come out for a step to be
/// settled, on top of the rounds, for real sockets (which then also wait, up to
/// [`PATIENCE`], for as many outputs as expected: a slow machine only makes the
/// test slower); zero for in-memory pipes.
fn layer(make: Make, quiet: Duration) -> impl Fn(&Scenario) -> Vec<StepRun> {
    move |scenario| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(play(scenario, make, quiet))
    }
}

async fn play(scenario: &Scenario, make: Make, quiet: Duration) -> Vec<StepRun> {
    let (pipe_tx, pipe_rx) = mpsc::unbounded_channel();
    let (exchange_tx, mut exchanges) = mpsc::unbounded_channel();
    server(pipe_rx, exchange_tx.clone());
    let epoch = Instant::now();
    // The connection's clock starts when it is created.
    let mut offset = 0;
    let mut source: Option<EventSource> = None;
    let mut pending: Option<Exchange> = None;
    let mut frames: Option<Frames> = None;
    let mut ended = false;
    let mut runs = Vec::new();
    for step in &scenario.steps {
        let target = epoch + Duration::from_millis(step.at);
        tokio::time::advance(target.saturating_duration_since(Instant::now())).await;
        let mut outputs = Vec::new();
        match &step.input {
            Input::Connect => {
                offset = step.at;
                match EventSource::builder(scenario.url.as_str())
                    .config(scenario.config.clone())
                    .connect_with(make(pipe_tx.clone(), exchange_tx.clone()))
                {
                    Ok(s) => source = Some(s),
                    Err(BuildError::Connect(e)) => {
                        outputs.push(Output::RequestError(request_error_code(&e)))
                    }
                    Err(e) => panic!("{}: {e}", scenario.name),
                }
            }
            Input::Response { status, headers } => {
                if let Some(exchange) = pending.take() {
                    let (tx, rx) = mpsc::unbounded_channel();
                    let body = http_body_util::StreamBody::new(futures_util::stream::unfold(
                        rx,
                        |mut rx: mpsc::UnboundedReceiver<
                            Result<http_body::Frame<Bytes>, BoxError>,
                        >| async move {
                            rx.recv().await.map(|frame| (frame, rx))
                        },
                    ));
                    let mut response = http::Response::builder().status(*status);
                    for (name, value) in headers {
                        response = response.header(name, value);
                    }
                    let _ = exchange
                        .respond
                        .send(Some(response.body(BodyExt::boxed(body)).unwrap()));
                    frames = Some(tx);
                }
            }
            Input::Body(chunks) => {
                if let Some(frames) = &frames {
                    for chunk in chunks {
                        let _ =
                            frames.send(Ok(http_body::Frame::data(Bytes::copy_from_slice(chunk))));
                    }
                }
            }
            Input::End => {
                // A clean end of the body, or a connection closed before any response.
                frames = None;
                if let Some(exchange) = pending.take() {
                    let _ = exchange.respond.send(None);
                }
            }
            Input::Error => {
                if let Some(frames) = frames.take() {
                    let _ = frames.send(Err("the script broke the connection".into()));
                }
                if let Some(exchange) = pending.take() {
                    let _ = exchange.respond.send(None);
                }
            }
            Input::Timeout => {} // the clock moved: the adapter's timer fires by itself
            Input::Close => {
                if let Some(source) = &mut source {
                    source.close();
                }
            }
        }
        // Settle: let every task run until none can, collecting what comes out. A
        // response that failed the connection has its body ended by its server (an
        // error response is whole), and the client reports the failure with it.
        let now = step.at;
        let (mut round, mut forced) = (0, false);
        let mut changed = std::time::Instant::now();
        loop {
            if round >= 200 && changed.elapsed() >= quiet {
                if !forced
                    && failed_on_an_open_response(source.as_ref(), &step.input, &outputs)
                    && frames.take().is_some()
                {
                    (round, forced) = (0, true);
                    changed = std::time::Instant::now();
                } else if quiet.is_zero()
                    || outputs.len() >= step.expect.len()
                    || changed.elapsed() >= PATIENCE
                {
                    break;
                }
            }
            let seen = outputs.len();
            if let Some(source) = &mut source {
                drain_source(source, &mut outputs, now, &mut ended);
            }
            while let Ok(exchange) = exchanges.try_recv() {
                outputs.push(Output::Request(exchange.request.clone()));
                // A new request replaces the transfer the client had.
                frames = None;
                pending = Some(exchange);
            }
            if outputs.len() != seen {
                changed = std::time::Instant::now();
            }
            tokio::task::yield_now().await;
            round += 1;
        }
        runs.push(StepRun {
            outputs,
            timeout: source
                .as_ref()
                .and_then(|s| s.connection().poll_timeout())
                .map(|t| t.as_millis() + offset),
            state: source.as_ref().map(EventSource::ready_state),
        });
    }
    runs
}

#[test]
fn through_sse_tokio_hyper_util_client() {
    conformance::connection::assert_conformance_on_a_clock(
        "sse-tokio EventSource",
        layer(hyper_util_client, Duration::ZERO),
    );
}

#[test]
fn through_sse_async_std_async_io_client() {
    conformance::connection::assert_conformance_on_a_clock(
        "sse-async-std AsyncIoClient",
        layer(async_io_client, Duration::ZERO),
    );
}

/// Bodies whole only: over real sockets each step takes a wall-clock wait, and how
/// bodies are cut is the other layers' test.
#[test]
fn through_sse_tokio_reqwest_client() {
    conformance::connection::assert_conformance_on_a_clock_in(
        "sse-tokio ReqwestClient",
        &[conformance::Chunking::Whole],
        layer(reqwest_client, Duration::from_millis(10)),
    );
}
