//! The connection scenarios (`conformance/vectors/connection`) through each
//! adapter's HTTP client: the real `EventSource` over sse-tokio's hyper-util client
//! and over sse-async-std's `AsyncIoClient`, each talking to a hyper server through
//! in-memory pipes, on tokio's paused clock.
//!
//! Each scenario step advances the clock to the step's time (so the adapter's own
//! timer fires the `timeout` steps), plays the input on the server side (a response
//! head, body bytes, the end of the body, a dropped connection) or calls `close()`,
//! and lets everything settle. What came out of the `EventSource`, and the requests
//! the server received, are the step's outputs. The pipes are plain futures, not
//! operating-system I/O, so "settled" is exact: no task can run any more, and the
//! paused clock has not moved.

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
struct Connector(mpsc::UnboundedSender<(String, DuplexStream)>);

impl tower_service::Service<http::Uri> for Connector {
    type Response = Pipe;
    type Error = std::io::Error;
    type Future = Ready<Result<Pipe, std::io::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), std::io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let (client, server) = tokio::io::duplex(1 << 20);
        let _ = self.0.send((origin(&uri), server));
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
    mut pipes: mpsc::UnboundedReceiver<(String, DuplexStream)>,
    exchanges: mpsc::UnboundedSender<Exchange>,
) {
    tokio::spawn(async move {
        while let Some((origin, pipe)) = pipes.recv().await {
            let exchanges = exchanges.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let (exchanges, origin) = (exchanges.clone(), origin.clone());
                    async move {
                        let (head, body) = req.into_parts();
                        let body = match body.collect().await {
                            Ok(body) => body.to_bytes(),
                            Err(e) => {
                                return Err::<http::Response<Body>, std::io::Error>(
                                    std::io::Error::other(e),
                                );
                            }
                        };
                        let url = format!("{origin}{}", head.uri);
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
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .auto_date_header(false)
                    .serve_connection(TokioIo::new(pipe), service)
                    .await;
            });
        }
    });
}

/// Where a transport sends each new pipe: the origin it connects to and the
/// server's end.
type Pipes = mpsc::UnboundedSender<(String, DuplexStream)>;

/// sse-tokio's transport: hyper-util's client, its connector handing out pipes.
fn hyper_util_client(pipes: Pipes) -> Box<dyn Transport> {
    let client = Client::builder(TokioExecutor::new()).build(Connector(pipes));
    Box::new(sse_tokio::HyperClient(client))
}

/// sse-async-std's transport: `AsyncIoClient`, its connector handing out pipes.
fn async_io_client(pipes: Pipes) -> Box<dyn Transport> {
    let client = sse_async_std::AsyncIoClient::new(&Default::default())
        .unwrap()
        .with_connector(move |uri| {
            let (client, server) = tokio::io::duplex(1 << 20);
            let _ = pipes.send((origin(uri), server));
            async move { Ok(client.compat()) }
        });
    Box::new(client)
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
fn layer(make: fn(Pipes) -> Box<dyn Transport>) -> impl Fn(&Scenario) -> Vec<StepRun> {
    move |scenario| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(play(scenario, make))
    }
}

async fn play(scenario: &Scenario, make: fn(Pipes) -> Box<dyn Transport>) -> Vec<StepRun> {
    let (pipe_tx, pipe_rx) = mpsc::unbounded_channel();
    let (exchange_tx, mut exchanges) = mpsc::unbounded_channel();
    server(pipe_rx, exchange_tx);
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
                    .connect_with(make(pipe_tx.clone()))
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
        for round in 0..400 {
            if round == 200
                && !(failed_on_an_open_response(source.as_ref(), &step.input, &outputs)
                    && frames.take().is_some())
            {
                break;
            }
            if let Some(source) = &mut source {
                drain_source(source, &mut outputs, now, &mut ended);
            }
            while let Ok(exchange) = exchanges.try_recv() {
                outputs.push(Output::Request(exchange.request.clone()));
                // A new request replaces the transfer the client had.
                frames = None;
                pending = Some(exchange);
            }
            tokio::task::yield_now().await;
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
        layer(hyper_util_client),
    );
}

#[test]
fn through_sse_async_std_async_io_client() {
    conformance::connection::assert_conformance_on_a_clock(
        "sse-async-std AsyncIoClient",
        layer(async_io_client),
    );
}
