//! The HTTP client an [`EventSource`](crate::EventSource) uses on futures-io: hyper 1
//! over `async-net` sockets (and `futures-rustls` for `https://`), with one
//! connection per request and no task spawned: the connection is driven inside the
//! client's own poll, so it runs under smol, async-std or any executor.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use http::header::{HOST, HeaderValue};
use http::uri::{PathAndQuery, Scheme};
use http_body_util::Full;
use hyper::body::{Body, Incoming};
use smol_hyper::rt::FuturesIo;
use sse_io::{
    BodyStream, BoxError, BuildError, DefaultTransport, ResponseFuture, Transport, TransportOptions,
};

use crate::AsyncIo;

/// A socket, plain or TLS.
trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

type Connection = FuturesIo<Box<dyn Io>>;

/// hyper on `async-net`: what [`EventSource::new`](crate::EventSource::new) and
/// [`Builder::connect`](crate::Builder::connect) use on this runtime.
///
/// Each request opens its own connection (an event stream holds one for as long
/// as it lasts, so a pool would gain nothing), speaks HTTP/2 when TLS negotiates it
/// by ALPN or with [`http2_prior_knowledge`](sse_io::Builder::http2_prior_knowledge),
/// and HTTP/1.1 otherwise. The connection's own work, and the tasks hyper's HTTP/2
/// would spawn, are polled by the response future and then by the body stream.
#[derive(Clone)]
pub struct AsyncIoClient {
    http2_prior_knowledge: bool,
    /// How long opening the TCP connection (name resolution included) may take.
    connect_timeout: Option<core::time::Duration>,
    #[cfg(feature = "rustls")]
    tls: futures_rustls::TlsConnector,
    /// Opens connections instead of async-net and TLS, when set.
    connector: Option<Arc<Connector>>,
}

/// What [`AsyncIoClient::with_connector`] calls for each request.
type Connector = dyn Fn(&http::Uri) -> ConnectFuture + Send + Sync;

/// A connection on its way from a custom connector.
type ConnectFuture = Pin<Box<dyn Future<Output = io::Result<Box<dyn Io>>> + Send>>;

impl core::fmt::Debug for AsyncIoClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsyncIoClient")
            .field("http2_prior_knowledge", &self.http2_prior_knowledge)
            .finish_non_exhaustive()
    }
}

impl AsyncIoClient {
    /// A client set up as `options` say.
    pub fn new(options: &TransportOptions) -> Result<Self, BuildError> {
        Ok(AsyncIoClient {
            http2_prior_knowledge: options.http2_prior_knowledge,
            connect_timeout: options.connect_timeout,
            #[cfg(feature = "rustls")]
            tls: tls_connector(options.tls.clone())?,
            connector: None,
        })
    }

    /// Opens each connection with `connect` instead of a TCP socket (and TLS for
    /// `https://`): through a proxy, over a Unix socket, or in memory in tests.
    /// `connect` gets the request's URL and returns the connection, secured as its
    /// scheme asks: it is trusted to handle `https://` URLs. HTTP/2 is then spoken
    /// only with prior knowledge.
    ///
    /// ```
    /// use sse_async_std::AsyncIoClient;
    ///
    /// let client = AsyncIoClient::new(&Default::default())?.with_connector(|uri| {
    ///     let port = uri.port_u16().unwrap_or(80);
    ///     async move { smol::net::TcpStream::connect(("127.0.0.1", port)).await }
    /// });
    /// # Ok::<(), sse_async_std::BuildError>(())
    /// ```
    pub fn with_connector<F, Fut, S>(mut self, connect: F) -> Self
    where
        F: Fn(&http::Uri) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<S>> + Send + 'static,
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        self.connector = Some(Arc::new(move |uri: &http::Uri| {
            let connecting = connect(uri);
            Box::pin(async move { Ok(Box::new(connecting.await?) as Box<dyn Io>) }) as ConnectFuture
        }));
        self
    }
}

#[cfg(feature = "rustls")]
fn tls_connector(
    config: Option<rustls::ClientConfig>,
) -> Result<futures_rustls::TlsConnector, BuildError> {
    let mut config = match config {
        Some(config) => config,
        None => {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            rustls::ClientConfig::builder_with_provider(
                rustls::crypto::ring::default_provider().into(),
            )
            .with_safe_default_protocol_versions()
            .map_err(|e| BuildError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth()
        }
    };
    if config.alpn_protocols.is_empty() {
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    }
    Ok(futures_rustls::TlsConnector::from(Arc::new(config)))
}

impl DefaultTransport for AsyncIo {
    fn transport(options: &TransportOptions) -> Result<Box<dyn Transport>, BuildError> {
        Ok(Box::new(AsyncIoClient::new(options)?))
    }
}

impl Transport for AsyncIoClient {
    fn send(&self, request: http::Request<Bytes>) -> ResponseFuture {
        let client = self.clone();
        Box::pin(async move { client.request(request).await })
    }

    fn https(&self) -> Result<(), &'static str> {
        if cfg!(feature = "rustls") {
            Ok(())
        } else {
            Err("the \"rustls\" feature of sse-async-std")
        }
    }
}

fn invalid(message: &'static str) -> BoxError {
    Box::new(io::Error::new(io::ErrorKind::InvalidInput, message))
}

impl AsyncIoClient {
    async fn request(
        self,
        mut request: http::Request<Bytes>,
    ) -> Result<http::Response<BodyStream>, BoxError> {
        let uri = request.uri().clone();
        let (io, http2) = match &self.connector {
            Some(connect) => (connect(&uri).await?, self.http2_prior_knowledge),
            None => self.connect(&uri).await?,
        };
        let tasks = Tasks::default();
        let io = FuturesIo::new(io);
        let response = if http2 {
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake(tasks.clone(), io).await?;
            tasks.push(connection);
            let response = tasks
                .drive(sender.send_request(request.map(Full::new)))
                .await?;
            response.map(|body| Driven::boxed(tasks, body, sender))
        } else {
            // HTTP/1.1 names the resource by its path, and the origin in `Host`
            // (without any user information the URL has).
            let origin = match uri.port_u16() {
                Some(port) => format!("{}:{port}", uri.host().unwrap_or_default()),
                None => uri.host().unwrap_or_default().to_owned(),
            };
            request
                .headers_mut()
                .entry(HOST)
                .or_insert(HeaderValue::from_str(&origin)?);
            let path = uri
                .path_and_query()
                .cloned()
                .unwrap_or_else(|| PathAndQuery::from_static("/"));
            *request.uri_mut() = http::Uri::from(path);
            let (mut sender, connection): (
                _,
                hyper::client::conn::http1::Connection<Connection, Full<Bytes>>,
            ) = hyper::client::conn::http1::handshake(io).await?;
            tasks.push(connection);
            let response = tasks
                .drive(sender.send_request(request.map(Full::new)))
                .await?;
            response.map(|body| Driven::boxed(tasks, body, sender))
        };
        Ok(response)
    }

    /// A TCP connection to the URL's origin, with TLS for `https://`; and whether to
    /// speak HTTP/2 on it.
    async fn connect(&self, uri: &http::Uri) -> Result<(Box<dyn Io>, bool), BoxError> {
        let https = uri.scheme() == Some(&Scheme::HTTPS);
        let host = uri.host().ok_or_else(|| invalid("a URL without a host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let connecting = core::pin::pin!(async_net::TcpStream::connect((host, port)));
        let tcp = match self.connect_timeout {
            None => connecting.await?,
            Some(limit) => {
                let mut connecting = connecting;
                let mut timer = async_io::Timer::after(limit);
                core::future::poll_fn(|cx| {
                    if let core::task::Poll::Ready(done) = connecting.as_mut().poll(cx) {
                        return core::task::Poll::Ready(done);
                    }
                    core::pin::Pin::new(&mut timer).poll(cx).map(|_| {
                        Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "connect timed out",
                        ))
                    })
                })
                .await?
            }
        };
        tcp.set_nodelay(true)?;
        if https {
            self.tls(host, tcp).await
        } else {
            Ok((Box::new(tcp), self.http2_prior_knowledge))
        }
    }

    #[cfg(feature = "rustls")]
    async fn tls(
        &self,
        host: &str,
        tcp: async_net::TcpStream,
    ) -> Result<(Box<dyn Io>, bool), BoxError> {
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())?;
        let tls = self.tls.connect(name, tcp).await?;
        let http2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        Ok((Box::new(tls), http2))
    }

    #[cfg(not(feature = "rustls"))]
    async fn tls(
        &self,
        _host: &str,
        _tcp: async_net::TcpStream,
    ) -> Result<(Box<dyn Io>, bool), BoxError> {
        Err(invalid(
            "https URLs need the sse-async-std feature \"rustls\"",
        ))
    }
}

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The futures of one connection: hyper's connection future and what its HTTP/2
/// would spawn. Whoever waits on the connection polls them: no executor is needed.
#[derive(Clone, Default)]
struct Tasks(Arc<Mutex<Vec<Task>>>);

impl<F: Future<Output = ()> + Send + 'static> hyper::rt::Executor<F> for Tasks {
    fn execute(&self, future: F) {
        self.push_task(Box::pin(future));
    }
}

impl Tasks {
    fn push<F, T, E>(&self, connection: F)
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        // The connection's end or error reaches the request and the body through
        // hyper; here it only stops being polled.
        self.push_task(Box::pin(async move {
            let _ = connection.await;
        }));
    }

    fn push_task(&self, task: Task) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(task);
    }

    /// Polls every task once; tasks added meanwhile are polled too.
    fn poll(&self, cx: &mut Context<'_>) {
        loop {
            let mut running =
                std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
            if running.is_empty() {
                return;
            }
            running.retain_mut(|task| task.as_mut().poll(cx).is_pending());
            let mut tasks = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            let added = !tasks.is_empty();
            running.append(&mut tasks);
            *tasks = running;
            if !added {
                return;
            }
        }
    }

    /// Waits for `future` while driving the tasks.
    async fn drive<F: Future>(&self, future: F) -> F::Output {
        let mut future = core::pin::pin!(future);
        core::future::poll_fn(|cx| {
            self.poll(cx);
            future.as_mut().poll(cx)
        })
        .await
    }
}

/// A response body that drives its connection while it is read, and keeps the
/// connection's request handle alive.
struct Driven<S> {
    tasks: Tasks,
    body: Incoming,
    _sender: S,
}

impl<S: Send + Unpin + 'static> Driven<S> {
    fn boxed(tasks: Tasks, body: Incoming, sender: S) -> BodyStream {
        Box::pin(Driven {
            tasks,
            body,
            _sender: sender,
        })
    }
}

impl<S: Unpin> Stream for Driven<S> {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.tasks.poll(cx);
        loop {
            return match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => Poll::Ready(Some(Ok(data))),
                    // Trailers: not part of the stream.
                    Err(_) => continue,
                },
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        }
    }
}
