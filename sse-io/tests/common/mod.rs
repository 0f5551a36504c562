//! One harness over the three runtimes the adapters serve (tokio through
//! `sse-tokio`; smol and async-std through `sse-async-std`), so that a behaviour
//! test is written once and run on each; and a loopback HTTP server (hyper, HTTP/1.1
//! and h2c, on a tokio runtime of its own thread) whose requests the test answers.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use sse_io::{DefaultTransport, Runtime};

/// What a test needs from a runtime.
pub trait Rt: 'static {
    /// The adapter's runtime type.
    type R: Runtime + DefaultTransport;

    /// Runs `future` to completion, with a wall-clock limit of 60 s.
    fn block_on<F: Future>(future: F) -> F::Output;

    /// Runs `future` on the runtime's executor, detached.
    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F);

    /// Waits `duration` on the runtime's timer.
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;
}

/// tokio, multi-threaded, through `sse-tokio`.
pub struct OnTokio;

impl Rt for OnTokio {
    type R = sse_tokio::Tokio;

    fn block_on<F: Future>(future: F) -> F::Output {
        let _watchdog = watchdog(LIMIT);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) {
        tokio::spawn(future);
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }
}

/// smol, through `sse-async-std`.
pub struct OnSmol;

impl Rt for OnSmol {
    type R = sse_async_std::AsyncIo;

    fn block_on<F: Future>(future: F) -> F::Output {
        let _watchdog = watchdog(LIMIT);
        smol::block_on(future)
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) {
        smol::spawn(future).detach();
    }

    async fn sleep(duration: Duration) {
        smol::Timer::after(duration).await;
    }
}

/// async-std, through `sse-async-std`.
pub struct OnAsyncStd;

impl Rt for OnAsyncStd {
    type R = sse_async_std::AsyncIo;

    fn block_on<F: Future>(future: F) -> F::Output {
        let _watchdog = watchdog(LIMIT);
        async_std::task::block_on(future)
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) {
        async_std::task::spawn(future);
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        async_std::task::sleep(duration)
    }
}

/// One `#[test]` per runtime for each generic test function named.
#[macro_export]
macro_rules! on_every_runtime {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use super::common::{OnAsyncStd, OnSmol, OnTokio};

                #[test]
                fn tokio() {
                    super::$name::<OnTokio>();
                }

                #[test]
                fn smol() {
                    super::$name::<OnSmol>();
                }

                #[test]
                fn async_std() {
                    super::$name::<OnAsyncStd>();
                }
            }
        )*
    };
}

const LIMIT: Duration = Duration::from_secs(60);

pub use conformance::adapters::watchdog;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Response = http::Response<BoxBody<Bytes, BoxError>>;

/// One request to the [`Server`]: the test decides the response.
pub struct Exchange {
    pub head: http::request::Parts,
    pub body: Bytes,
    respond: Option<async_channel::Sender<Response>>,
}

impl Exchange {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Answers `status` with `content_type` and a body the returned sender feeds.
    pub fn stream_with(&mut self, status: u16, content_type: &str) -> Frames {
        let (tx, rx) = async_channel::unbounded::<Result<http_body::Frame<Bytes>, BoxError>>();
        let body = http_body_util::StreamBody::new(rx);
        let response = http::Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(BodyExt::boxed(body))
            .unwrap();
        self.respond(response);
        Frames(tx)
    }

    /// Answers 200 `text/event-stream`, with a body the returned sender feeds.
    pub fn stream(&mut self) -> Frames {
        self.stream_with(200, "text/event-stream")
    }

    /// Answers with a whole body.
    pub fn fixed(&mut self, status: u16, headers: &[(&str, &str)], body: &'static [u8]) {
        let mut response = http::Response::builder().status(status);
        for (name, value) in headers {
            response = response.header(*name, *value);
        }
        let body = http_body_util::Full::new(Bytes::from_static(body))
            .map_err(|never| match never {})
            .boxed();
        self.respond(response.body(body).unwrap());
    }

    pub fn respond(&mut self, response: Response) {
        let respond = self.respond.take().expect("one response per request");
        let _ = respond.try_send(response);
    }
}

/// Feeds a streamed response body; dropping it ends the body cleanly.
pub struct Frames(pub async_channel::Sender<Result<http_body::Frame<Bytes>, BoxError>>);

impl Frames {
    pub fn send(&self, bytes: &'static [u8]) {
        let _ = self
            .0
            .try_send(Ok(http_body::Frame::data(Bytes::from_static(bytes))));
    }

    /// Makes the server abort the connection mid-body.
    pub fn abort(self) {
        let _ = self.0.try_send(Err("aborted by the test".into()));
    }
}

/// A loopback server (HTTP/1.1 and h2c) on a thread and tokio runtime of its own:
/// every request goes to the test, which answers it. Stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub requests: async_channel::Receiver<Exchange>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Server {
        Server::serve(None)
    }

    /// A server that speaks TLS (a handshake with `acceptor` on each connection).
    pub fn start_tls(acceptor: tokio_rustls::TlsAcceptor) -> Server {
        Server::serve(Some(acceptor))
    }

    fn serve(tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
        let (tx, requests) = async_channel::unbounded();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let accept = async move {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            return;
                        };
                        let (tx, tls) = (tx.clone(), tls.clone());
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| {
                                let tx = tx.clone();
                                async move { Ok::<_, Infallible>(exchange(tx, req).await) }
                            });
                            let builder = hyper_util::server::conn::auto::Builder::new(
                                hyper_util::rt::TokioExecutor::new(),
                            );
                            let _ = match tls {
                                None => {
                                    let io = hyper_util::rt::TokioIo::new(stream);
                                    builder.serve_connection(io, service).await
                                }
                                Some(acceptor) => {
                                    // A failed handshake is the client's to report.
                                    let Ok(stream) = acceptor.accept(stream).await else {
                                        return;
                                    };
                                    let io = hyper_util::rt::TokioIo::new(stream);
                                    builder.serve_connection(io, service).await
                                }
                            };
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
        });
        Server {
            addr: addr_rx.recv().unwrap(),
            requests,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The next request.
    pub async fn next(&self) -> Exchange {
        self.requests.recv().await.expect("the server is running")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn exchange(tx: async_channel::Sender<Exchange>, req: http::Request<Incoming>) -> Response {
    let (head, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let (respond, response) = async_channel::bounded(1);
    let _ = tx
        .send(Exchange {
            head,
            body,
            respond: Some(respond),
        })
        .await;
    match response.recv().await {
        Ok(response) => response,
        Err(_) => http::Response::builder()
            .status(500)
            .body(
                http_body_util::Empty::new()
                    .map_err(|never| match never {})
                    .boxed(),
            )
            .unwrap(),
    }
}

/// The next item of a stream, or a panic if it ended.
pub async fn next<S: futures_util::Stream + Unpin>(stream: &mut S) -> S::Item {
    stream.next().await.expect("the stream ended")
}

/// A server TLS configuration with a certificate made for `hosts`, and a client
/// configuration that trusts that certificate alone (rustls on ring).
pub fn self_signed(hosts: &[&str]) -> (rustls::ServerConfig, rustls::ClientConfig) {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
            .unwrap()
            .self_signed(&key)
            .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (server, client)
}
