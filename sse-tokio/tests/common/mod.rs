//! Test helpers: loopback servers and a wall-clock watchdog.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

pub use conformance::adapters::watchdog;

pub type Response = http::Response<BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>>;

/// Serves `handler` on 127.0.0.1 (HTTP/1.1 and h2c) from a spawned task; returns the
/// address. The server lives as long as the runtime.
pub async fn serve<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(http::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(req).await) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A boxed body from any body.
pub fn boxed<B>(body: B) -> BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use http_body_util::BodyExt;
    body.map_err(Into::into).boxed()
}

/// A response with `status`, `content_type` and a fixed body.
pub fn fixed(status: u16, content_type: &str, body: &'static [u8]) -> Response {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(boxed(http_body_util::Full::new(Bytes::from_static(body))))
        .unwrap()
}

/// One request to a [`scripted`] server: the test decides the response.
pub struct Exchange {
    pub head: http::request::Parts,
    pub body: Bytes,
    /// When the request arrived (tokio's clock, so a paused one in paused tests).
    pub at: tokio::time::Instant,
    respond: Option<tokio::sync::oneshot::Sender<Response>>,
}

impl Exchange {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Answers 200 `text/event-stream` with a body the returned sender feeds: frames
    /// of bytes, or an error, which makes the server abort the connection.
    pub fn stream(&mut self) -> FrameSender {
        self.stream_with(200, "text/event-stream")
    }

    pub fn stream_with(&mut self, status: u16, content_type: &str) -> FrameSender {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let body = http_body_util::StreamBody::new(futures_util::stream::unfold(
            rx,
            |mut rx: tokio::sync::mpsc::UnboundedReceiver<
                Result<http_body::Frame<Bytes>, BoxError>,
            >| async move { rx.recv().await.map(|frame| (frame, rx)) },
        ));
        let response = http::Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(boxed(body))
            .unwrap();
        self.respond(response);
        FrameSender(tx)
    }

    pub fn respond(&mut self, response: Response) {
        let respond = self.respond.take().expect("one response per request");
        let _ = respond.send(response);
    }
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Feeds a streamed response body; dropping it ends the body cleanly.
pub struct FrameSender(
    tokio::sync::mpsc::UnboundedSender<Result<http_body::Frame<Bytes>, BoxError>>,
);

impl FrameSender {
    pub fn send(&self, bytes: &'static [u8]) {
        self.0
            .send(Ok(http_body::Frame::data(Bytes::from_static(bytes))))
            .unwrap();
    }

    /// Makes the server abort the connection mid-body.
    pub fn abort(self) {
        let _ = self.0.send(Err("aborted by the test".into()));
    }

    /// Completes when the server dropped the body: the client went away.
    pub async fn closed(&self) {
        self.0.closed().await
    }
}

/// A server whose every request goes to the test, which answers it.
pub async fn scripted() -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<Exchange>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let addr = serve(move |req: http::Request<Incoming>| {
        let tx = tx.clone();
        async move {
            use http_body_util::BodyExt;
            let at = tokio::time::Instant::now();
            let (head, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let (respond, response) = tokio::sync::oneshot::channel();
            tx.send(Exchange {
                head,
                body,
                at,
                respond: Some(respond),
            })
            .unwrap();
            response.await.unwrap()
        }
    })
    .await;
    (addr, rx)
}

/// A client for tests on tokio's paused clock: without the default connect,
/// response and idle timeouts. While loopback I/O is in flight the paused clock
/// jumps to the next timer, so any timeout would fire at once; a test that checks
/// one sets it itself.
#[allow(dead_code)]
pub fn untimed(url: impl Into<String>) -> sse_tokio::Builder {
    sse_tokio::EventSource::builder(url)
        .connect_timeout(None)
        .response_timeout(None)
        .idle_timeout(None)
}
