//! A reconnecting client, EventSource-like, over any HTTP client: a driver for
//! [`sse_proto::Connection`].
//!
//! Every decision (which response opens the stream, when and how to reconnect, what
//! `Last-Event-ID` to send, when a silent connection is dead) is the core's. This
//! module sends the requests the connection asks for through a [`Transport`], hands
//! it the responses, the body bytes and the time, and sleeps until
//! [`Connection::poll_timeout`] on the runtime's timer.

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use sse_proto::{
    Backoff, ByteString, Connection, ConnectionConfig, ConnectionError, ConnectionEvent, Item,
    OwnedEvent, ReadyState, ReconnectPolicy, RequestError, Sharer, Time,
};

use crate::runtime::{Alarm, Clock, Runtime};

/// A boxed transport error (from the HTTP client, the connector, TLS, ...).
pub type BoxError = Box<dyn core::error::Error + Send + Sync>;

/// A response body, as a [`Transport`] hands it over: its bytes as they arrive.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// A response on its way, as a [`Transport`] hands it over.
pub type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<BodyStream>, BoxError>> + Send>>;

/// What sends an [`EventSource`]'s requests: any HTTP client.
///
/// `send` makes one request, as given (method, URL, headers and body: the
/// connection has set `Accept`, `Cache-Control` and `Last-Event-ID`), and resolves
/// to the response head with the body as a stream of chunks. It must not follow
/// redirects (the connection does, as the spec says, with its own limits and
/// checks) and must not decompress or buffer the body. Dropping the future or the
/// body abandons the request.
///
/// ```
/// use bytes::Bytes;
/// use sse_io::{BodyStream, ResponseFuture, Transport};
///
/// /// Answers every request with the same stream.
/// struct Canned(&'static str);
///
/// impl Transport for Canned {
///     fn send(&self, _request: http::Request<Bytes>) -> ResponseFuture {
///         let body: BodyStream = Box::pin(futures_util::stream::iter([Ok(Bytes::from(self.0))]));
///         let response = http::Response::builder()
///             .header("content-type", "text/event-stream")
///             .body(body)
///             .unwrap();
///         Box::pin(async move { Ok(response) })
///     }
/// }
/// ```
pub trait Transport: Send + Sync + 'static {
    /// Sends `request`.
    fn send(&self, request: http::Request<Bytes>) -> ResponseFuture;

    /// Whether it can request `https://` URLs: `Ok` (the default), or what would
    /// let it (`"the \"rustls\" feature of sse-tokio"`, say), which the build error
    /// names.
    fn https(&self) -> Result<(), &'static str> {
        Ok(())
    }
}

/// How a runtime adapter's own HTTP client is set up: the transport options of a
/// [`Builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransportOptions {
    /// Speak HTTP/2 from the start on `http://` URLs (h2c "prior knowledge").
    pub http2_prior_knowledge: bool,
    /// How long opening a TCP connection may take in all (every address a name
    /// resolves to included); `None`: as long as the operating system lets it. Default
    /// [`DEFAULT_CONNECT_TIMEOUT`](TransportOptions::DEFAULT_CONNECT_TIMEOUT).
    pub connect_timeout: Option<Duration>,
    /// The TLS settings for `https://` URLs (`None`: the transport's defaults).
    #[cfg(feature = "rustls")]
    pub tls: Option<rustls::ClientConfig>,
}

impl TransportOptions {
    /// How long opening a TCP connection may take by default: 10 seconds.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            http2_prior_knowledge: false,
            connect_timeout: Some(Self::DEFAULT_CONNECT_TIMEOUT),
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }
}

/// A runtime whose adapter has an HTTP client: what [`Builder::connect`] and
/// [`EventSource::new`] use.
pub trait DefaultTransport: Runtime {
    /// The adapter's client, set up as `options` say.
    fn transport(options: &TransportOptions) -> Result<Box<dyn Transport>, BuildError>;
}

impl Transport for Box<dyn Transport> {
    fn send(&self, request: http::Request<Bytes>) -> ResponseFuture {
        (**self).send(request)
    }

    fn https(&self) -> Result<(), &'static str> {
        (**self).https()
    }
}

/// Sets up an [`EventSource`]: the request and the reconnection policy (a
/// [`ConnectionConfig`]), and the HTTP client.
///
/// ```
/// use std::time::Duration;
/// use sse_tokio::EventSource;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let source = EventSource::builder("http://127.0.0.1:9/chat")
///     .method("POST")
///     .header("Authorization", "Bearer token")
///     .header("Content-Type", "application/json")
///     .body(r#"{"stream": true}"#)
///     .last_event_id("41")
///     .reconnection_time(Duration::from_secs(1))
///     .idle_timeout(Duration::from_secs(60))
///     .connect()?;
/// assert_eq!(source.ready_state(), sse_tokio::ReadyState::Connecting);
/// # Ok::<(), sse_tokio::BuildError>(())
/// # }).unwrap();
/// ```
#[must_use = "a builder does nothing until connect() is called"]
pub struct Builder<R: Runtime> {
    url: String,
    config: ConnectionConfig,
    options: TransportOptions,
    hook: Option<Arc<Hook>>,
    runtime: PhantomData<fn() -> R>,
}

/// What [`Builder::before_request`] calls.
type Hook = dyn Fn(http::Request<Bytes>) -> HookFuture + Send + Sync;

/// A request on its way through [`Builder::before_request`]'s hook.
type HookFuture = Pin<Box<dyn Future<Output = Result<http::Request<Bytes>, BoxError>> + Send>>;

impl<R: Runtime> fmt::Debug for Builder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("url", &self.url)
            .field("config", &self.config)
            .field("options", &self.options)
            .field("before_request", &self.hook.is_some())
            .finish()
    }
}

impl<R: Runtime> Clone for Builder<R> {
    fn clone(&self) -> Self {
        Builder {
            url: self.url.clone(),
            config: self.config.clone(),
            options: self.options.clone(),
            hook: self.hook.clone(),
            runtime: PhantomData,
        }
    }
}

impl<R: Runtime> Builder<R> {
    /// Replaces the whole configuration (the setters below change parts of it).
    pub fn config(mut self, config: ConnectionConfig) -> Self {
        self.config = config;
        self
    }

    /// The request method (default `GET`).
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.config.method = method.into();
        self
    }

    /// Adds a request header (sent on every request, reconnections included).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.headers.push((name.into(), value.into()));
        self
    }

    /// The request body (sent on every request, reconnections included).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.config.body = Some(body.into());
        self
    }

    /// The last event ID to start from: the first request sends it as
    /// `Last-Event-ID`.
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.config.last_event_id = id.into();
        self
    }

    /// The reconnection time until the server sets one with `retry` (default 3 s).
    pub fn reconnection_time(mut self, time: Duration) -> Self {
        self.config.reconnection_time = time;
        self
    }

    /// When to reconnect (see [`ReconnectPolicy`]): by default always for a request
    /// without a body, as the spec's EventSource does, and only after an error for
    /// one with a body (a POST stream that ends when its answer is complete, which
    /// must not be sent again). A stream that ends without reconnecting ends the
    /// source's `Stream` with `None`, not an error.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.config.reconnect = Some(policy);
        self
    }

    /// Waits longer after each consecutive failure (see [`Backoff`]): exponential, with
    /// jitter drawn per client, reset once a connection has stayed open. Default:
    /// none, every wait is the reconnection time, as the spec's EventSource does.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.backoff = Some(backoff);
        self
    }

    /// Gives up after `max` consecutive failures have been retried: the next one
    /// fails the source for good (`0`: never reconnect after a failure). Default: retry
    /// for ever, as the spec's EventSource does.
    pub fn max_retries(mut self, max: u32) -> Self {
        self.config.max_retries = Some(max);
        self
    }

    /// Reconnects when no bytes at all (keep-alive comments count) arrive for
    /// `timeout`; `None`: waits for ever, as the spec does. Default
    /// [`ConnectionConfig::DEFAULT_IDLE_TIMEOUT`], 5 minutes.
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.idle_timeout = timeout.into();
        self
    }

    /// Gives up on a request (and reconnects) when its response head has not
    /// arrived `timeout` after it was sent; `None`: waits for ever. Default
    /// [`ConnectionConfig::DEFAULT_RESPONSE_TIMEOUT`], 60 seconds.
    pub fn response_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.response_timeout = timeout.into();
        self
    }

    /// How long opening a TCP connection may take with the adapter's own HTTP
    /// client (a failure to connect in time is a network error: the source
    /// reconnects); `None`: as long as the operating system lets it. Default
    /// [`TransportOptions::DEFAULT_CONNECT_TIMEOUT`], 10 seconds. A transport given
    /// to [`connect_with`](Builder::connect_with) has its own.
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.options.connect_timeout = timeout.into();
        self
    }

    /// Marks the request header `name` as one that must not follow a redirect to
    /// another origin, as `Authorization`, `Cookie` and `Proxy-Authorization`
    /// never do (see [`ConnectionConfig`]'s redirect table).
    pub fn sensitive_header(mut self, name: impl Into<String>) -> Self {
        self.config.sensitive_headers.push(name.into());
        self
    }

    /// Follows redirects from `https` to `http`, which are refused by default
    /// ([`ConnectionError::InsecureRedirect`]).
    pub fn allow_insecure_redirect(mut self) -> Self {
        self.config.allow_insecure_redirect = true;
        self
    }

    /// Calls `hook` with each request to the source's own origin before it is sent
    /// (the first, every reconnection, and redirects that stay on the origin): it may
    /// set or replace headers, a fresh bearer token say, and may wait to do so (it
    /// returns a future, polled inside the source's own poll). A request to another
    /// origin, after a redirect, is sent without it, so that credentials stay with
    /// the origin they were made for. An error from the hook fails that attempt as a
    /// network error would: the source reconnects, and calls the hook again.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let tokens = AtomicU32::new(0);
    /// let source = sse_tokio::EventSource::builder("http://127.0.0.1:9/events")
    ///     .before_request(move |mut request| {
    ///         let token = format!("Bearer {}", tokens.fetch_add(1, Ordering::Relaxed));
    ///         async move {
    ///             request.headers_mut().insert("authorization", token.parse()?);
    ///             Ok(request)
    ///         }
    ///     })
    ///     .connect()?;
    /// # Ok::<(), sse_tokio::BuildError>(())
    /// # }).unwrap();
    /// ```
    pub fn before_request<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(http::Request<Bytes>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<http::Request<Bytes>, BoxError>> + Send + 'static,
    {
        self.hook = Some(Arc::new(move |request| {
            Box::pin(hook(request)) as HookFuture
        }));
        self
    }

    /// Also yields comments ([`SourceEvent::Comment`]).
    pub fn comments(mut self, on: bool) -> Self {
        self.config.parser.comments = on;
        self
    }

    /// Speaks HTTP/2 from the start on `http://` URLs (h2c "prior knowledge"). Over
    /// TLS, HTTP/2 is negotiated by ALPN without this.
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.options.http2_prior_knowledge = true;
        self
    }

    /// The TLS settings for `https://` URLs (default: the webpki root certificates,
    /// HTTP/2 and HTTP/1.1 by ALPN). A configuration that lists ALPN protocols
    /// offers those HTTP versions only; one that lists none offers both.
    #[cfg(feature = "rustls")]
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.options.tls = Some(config);
        self
    }

    /// Starts the connection with the runtime adapter's HTTP client
    /// ([`DefaultTransport`]). The first request is sent when the [`EventSource`]
    /// is first polled.
    ///
    /// Fails if the URL is not an absolute `http(s)` URL, if a method or header is
    /// invalid, or for an `https://` URL that the transport cannot request.
    pub fn connect(self) -> Result<EventSource<R>, BuildError>
    where
        R: DefaultTransport,
    {
        let transport = R::transport(&self.options)?;
        self.start(transport)
    }

    /// Starts the connection over `transport`: any HTTP client (see [`Transport`]).
    pub fn connect_with(self, transport: impl Transport) -> Result<EventSource<R>, BuildError> {
        self.start(Box::new(transport))
    }

    fn start(self, transport: Box<dyn Transport>) -> Result<EventSource<R>, BuildError> {
        let hook = self.hook;
        let mut config = self.config;
        // Events come out whole; streamed data pieces have no place in this API.
        config.parser.stream_data = false;
        // Jitter only spreads a fleet's reconnections if each client draws its own.
        if let Some(backoff) = &mut config.backoff {
            backoff.seed = backoff.seed.or_else(|| Some(entropy()));
        }
        let clock = Clock::start::<R>();
        let conn = Connection::new(Time::ZERO, &self.url, config).map_err(BuildError::Connect)?;
        let url = conn.url();
        let url = url.split('#').next().unwrap_or(url);
        http::Uri::try_from(url).map_err(|e| BuildError::Uri(e.to_string()))?;
        if url.starts_with("https:") {
            transport.https().map_err(BuildError::HttpsUnsupported)?;
        }
        let mut source = EventSource {
            conn,
            transport: Arc::from(transport),
            hook,
            clock,
            transfer: Transfer::Idle,
            alarm: Alarm::new(),
            deadline: None,
            queue: VecDeque::new(),
            sharer: Sharer::new(),
            cause: None,
            complete: false,
            head: None,
            requested: String::new(),
        };
        source.drain(Time::ZERO);
        Ok(source)
    }
}

/// Why [`Builder::connect`] refused to start.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The core refused the URL, method, a header or the last event ID.
    Connect(RequestError),
    /// The URL is not one an HTTP request can be made to.
    Uri(String),
    /// An `https://` URL, but the transport cannot speak TLS; what would let it (a
    /// runtime adapter's `rustls` feature, say).
    HttpsUnsupported(&'static str),
    /// The TLS settings could not be built.
    Tls(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Connect(e) => e.fmt(f),
            BuildError::Uri(e) => write!(f, "invalid URL: {e}"),
            BuildError::HttpsUnsupported(enable) => {
                write!(f, "this client cannot request https URLs; enable {enable}")
            }
            BuildError::Tls(e) => write!(f, "TLS settings: {e}"),
        }
    }
}

impl core::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            BuildError::Connect(e) => Some(e),
            _ => None,
        }
    }
}

/// What an [`EventSource`] yields: events, and every condition it recovers from.
///
/// Only [`SourceError`] is final; everything it recovers from (a lost connection
/// being reestablished, an event over the parser's limit) comes as one of these,
/// so a `while let Some(event) = source.try_next().await?` loop runs until the
/// source has failed for good or was closed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SourceEvent {
    /// The connection was announced (the spec's `open` event): a 200
    /// `text/event-stream` response arrived. Again after every reconnection.
    Open(Opened),
    /// An event (the spec's `message` event, whatever its type).
    Message(OwnedEvent),
    /// A comment, if [`Builder::comments`] asked for them.
    Comment(ByteString),
    /// The server set the reconnection time with a `retry` field.
    Retry(Duration),
    /// The connection was lost or refused and will be reestablished (the spec's
    /// `error` event while `readyState` is `CONNECTING`).
    Reconnecting(Reconnect),
    /// An event or comment over the parser's limit was skipped; the stream carries
    /// on.
    Skipped(sse_proto::Error),
}

/// The response that opened an [`EventSource`]'s stream, as [`SourceEvent::Open`]
/// carries it: a rate limit's remaining count, a request ID for support, the
/// server's own headers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Opened {
    /// The URL the response came from: the source's, or where redirects led.
    pub url: String,
    /// The status (200).
    pub status: http::StatusCode,
    /// The HTTP version.
    pub version: http::Version,
    /// The headers.
    pub headers: http::HeaderMap,
}

/// Why an [`EventSource`] is reconnecting, and when it will: the spec's `error`
/// event while `readyState` is `CONNECTING`, with the reason.
#[derive(Debug)]
#[non_exhaustive]
pub struct Reconnect {
    /// Why.
    pub reason: ConnectionError,
    /// How long until the next request.
    pub delay: Duration,
    /// The transport error behind a [`ConnectionError::Network`].
    pub source: Option<BoxError>,
}

impl fmt::Display for Reconnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}; reconnecting in {} ms",
            self.reason,
            self.delay.as_millis()
        )
    }
}

impl core::error::Error for Reconnect {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn core::error::Error + 'static))
    }
}

/// Why an [`EventSource`] failed for good (the spec's `error` event that sets
/// `readyState` to `CLOSED`): a 204, another status, a wrong content type, too many
/// redirects or retries. The stream ends after it.
#[derive(Debug)]
#[non_exhaustive]
pub struct SourceError {
    /// Why.
    pub reason: ConnectionError,
    /// The error would have been retried, but `max_retries` ran out.
    pub retries_exhausted: bool,
    /// The transport error behind a [`ConnectionError::Network`].
    pub source: Option<BoxError>,
    /// The response that failed it (a status other than 200, a wrong content type),
    /// with the start of its body: an API's own error message.
    pub response: Option<FailedResponse>,
}

/// The response an [`EventSource`] failed on, as [`SourceError::response`] holds it.
///
/// The body is read up to [`FAILED_BODY_LIMIT`] bytes, for at most
/// [`FAILED_BODY_TIME`], and decoded as UTF-8 (U+FFFD for invalid bytes).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FailedResponse {
    /// The status.
    pub status: http::StatusCode,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The start of the body.
    pub body: String,
    /// Whether the body went on past what was read (the limit, or the time).
    pub truncated: bool,
}

/// How much of a failed response's body [`SourceError::response`] keeps: 64 KiB.
pub const FAILED_BODY_LIMIT: usize = 64 * 1024;

/// How long an [`EventSource`] reads a failed response's body before it reports
/// the failure with what it has: 5 seconds.
pub const FAILED_BODY_TIME: Duration = Duration::from_secs(5);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; ", self.reason)?;
        f.write_str(if self.retries_exhausted {
            "giving up: retries exhausted"
        } else {
            "not reconnecting"
        })
    }
}

impl core::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn core::error::Error + 'static))
    }
}

/// The transfer under way: at most one at a time.
enum Transfer {
    Idle,
    Requesting(ResponseFuture),
    /// `chunk` is the body chunk being parsed, `pos` how much of it is.
    Streaming {
        body: BodyStream,
        chunk: Bytes,
        pos: usize,
    },
    /// The body of a response that failed the connection, read before the failure
    /// is reported.
    Failing {
        body: BodyStream,
        head: http::response::Parts,
        read: Vec<u8>,
        /// When to stop waiting for more.
        until: Time,
        failure: Box<SourceError>,
    },
}

/// A reconnecting Server-Sent Events client, like the browser's `EventSource`: a
/// [`Stream`] of [`SourceEvent`]s, ending with a [`SourceError`] if it fails for
/// good.
///
/// It follows the spec's processing model, as [`sse_proto::Connection`] implements
/// it: a 200 `text/event-stream` response opens the stream; when the body ends or
/// the network fails, it waits the reconnection time (the server's `retry`, at least
/// 100 ms) and requests again with `Last-Event-ID`; a 204, any other status or a
/// wrong content type fails it for good, and the stream ends. An event cut off by a
/// dropped connection is never delivered.
///
/// It does nothing unless polled: poll it continuously (it reads the body only as
/// fast as you take events, and the reconnection timer runs inside `poll_next`).
/// Dropping it closes the connection.
///
/// ```
/// use futures_util::StreamExt;
/// use sse_tokio::{EventSource, SourceEvent};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// # // A server on loopback: two events, then 204 on the reconnection.
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// # let addr = listener.local_addr().unwrap();
/// # tokio::spawn(async move {
/// #     loop {
/// #         let (tcp, _) = listener.accept().await.unwrap();
/// #         let service = hyper::service::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
/// #             let (sender, body) = sse_tokio::channel(4);
/// #             let mut response = body.retry(std::time::Duration::from_millis(100)).response();
/// #             if sse_tokio::last_event_id(req.headers()).is_some() {
/// #                 *response.status_mut() = http::StatusCode::NO_CONTENT;
/// #             } else {
/// #                 sender.try_send(sse_proto::Message::new("hello").id("1")).unwrap();
/// #                 sender.try_send(sse_proto::Message::new("world").event("greeting")).unwrap();
/// #             }
/// #             Ok::<_, std::convert::Infallible>(response)
/// #         });
/// #         tokio::spawn(hyper::server::conn::http1::Builder::new()
/// #             .serve_connection(hyper_util::rt::TokioIo::new(tcp), service));
/// #     }
/// # });
/// let mut source = EventSource::new(&format!("http://{addr}/events"))?;
/// let mut seen = Vec::new();
/// while let Some(next) = source.next().await {
///     match next {
///         Ok(SourceEvent::Message(event)) => seen.push(format!("{}: {}", event.event_type(), event.data())),
///         Ok(SourceEvent::Reconnecting(reconnect)) => seen.push(reconnect.to_string()),
///         Ok(_) => {}
///         // The server then said 204: not reconnecting.
///         Err(error) => seen.push(error.to_string()),
///     }
/// }
/// assert_eq!(
///     seen,
///     [
///         "message: hello",
///         "greeting: world",
///         "the event stream ended; reconnecting in 100 ms",
///         "the server answered with status 204; not reconnecting",
///     ]
/// );
/// assert_eq!(source.last_event_id(), "1");
/// assert_eq!(source.ready_state(), sse_tokio::ReadyState::Closed);
/// # Ok::<(), sse_tokio::BuildError>(())
/// # }).unwrap();
/// ```
pub struct EventSource<R: Runtime> {
    conn: Connection,
    transport: Arc<dyn Transport>,
    /// [`Builder::before_request`]'s hook.
    hook: Option<Arc<Hook>>,
    /// The connection's clock.
    clock: Clock,
    transfer: Transfer,
    alarm: Alarm<R>,
    /// The armed deadline, from `poll_timeout`.
    deadline: Option<Time>,
    queue: VecDeque<Result<SourceEvent, SourceError>>,
    /// Slices events out of the body chunk being parsed.
    sharer: Sharer,
    /// The transport error behind the next `Reconnecting` or `Failed`.
    cause: Option<BoxError>,
    /// The stream ended complete ([`ConnectionEvent::Ended`]).
    complete: bool,
    /// The head of the response just handed to the connection.
    head: Option<http::response::Parts>,
    /// The URL of the request under way.
    requested: String,
}

impl<R: Runtime> fmt::Debug for EventSource<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSource")
            .field("url", &self.conn.url())
            .field("ready_state", &self.conn.ready_state())
            .field("last_event_id", &self.conn.last_event_id())
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> EventSource<R> {
    /// A `GET` of `url` with the default settings and the adapter's HTTP client;
    /// see [`EventSource::builder`].
    pub fn new(url: &str) -> Result<Self, BuildError>
    where
        R: DefaultTransport,
    {
        Self::builder(url).connect()
    }

    /// A builder for a connection to `url`.
    pub fn builder(url: impl Into<String>) -> Builder<R> {
        Builder {
            url: url.into(),
            config: ConnectionConfig::new(),
            options: TransportOptions::default(),
            hook: None,
            runtime: PhantomData,
        }
    }

    /// The spec's `readyState`.
    pub fn ready_state(&self) -> ReadyState {
        self.conn.ready_state()
    }

    /// The URL it was created with.
    pub fn url(&self) -> &str {
        self.conn.url()
    }

    /// The last event ID: what the next request sends as `Last-Event-ID`.
    pub fn last_event_id(&self) -> String {
        self.conn.last_event_id().to_string_lossy().into_owned()
    }

    /// The reconnection time: the server's last `retry`, or the configured one.
    pub fn reconnection_time(&self) -> Duration {
        self.conn.reconnection_time()
    }

    /// Whether the stream ended complete: the server ended it cleanly and the
    /// [`ReconnectPolicy`] does not reestablish it (a POST stream whose answer came
    /// in full), as opposed to failing ([`SourceError`]) or being closed.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The connection's state machine, for anything the getters above miss.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Closes the connection (the spec's `close()`): the transfer is dropped, no
    /// further request is made, `readyState` is `CLOSED`, and the stream ends;
    /// events not yet taken are dropped.
    pub fn close(&mut self) {
        self.conn.close();
        self.transfer = Transfer::Idle;
        self.queue.clear();
        self.cause = None;
        self.deadline = None;
    }

    /// The time on the connection's clock.
    fn now(&self) -> Time {
        self.clock.now::<R>()
    }

    /// Drains the connection's outputs in the documented order: events, the request,
    /// the deadline.
    fn drain(&mut self, now: Time) {
        loop {
            while let Some(event) = self.conn.poll_event() {
                let item = match event {
                    ConnectionEvent::Open => {
                        let head = self.head.take();
                        Ok(SourceEvent::Open(Opened {
                            url: self.requested.clone(),
                            status: head.as_ref().map_or(http::StatusCode::OK, |h| h.status),
                            version: head.as_ref().map_or(http::Version::HTTP_11, |h| h.version),
                            headers: head.map(|h| h.headers).unwrap_or_default(),
                        }))
                    }
                    ConnectionEvent::Reconnecting { error, at } => {
                        self.transfer = Transfer::Idle;
                        Ok(SourceEvent::Reconnecting(Reconnect {
                            reason: error,
                            delay: at.saturating_duration_since(now),
                            source: self.cause.take(),
                        }))
                    }
                    ConnectionEvent::Ended => {
                        // Complete: the stream ends, with nothing more to say.
                        self.transfer = Transfer::Idle;
                        self.complete = true;
                        continue;
                    }
                    ConnectionEvent::Failed {
                        error,
                        retries_exhausted,
                    } => {
                        let failure = SourceError {
                            reason: error,
                            retries_exhausted,
                            source: self.cause.take(),
                            response: None,
                        };
                        let transfer = core::mem::replace(&mut self.transfer, Transfer::Idle);
                        // A response failed it: what it says comes with the failure.
                        if let (Transfer::Streaming { body, .. }, Some(head)) =
                            (transfer, self.head.take())
                        {
                            self.transfer = Transfer::Failing {
                                body,
                                head,
                                read: Vec::new(),
                                until: now.saturating_add(FAILED_BODY_TIME),
                                failure: Box::new(failure),
                            };
                            continue;
                        }
                        Err(failure)
                    }
                    _ => continue,
                };
                self.queue.push_back(item);
            }
            self.cause = None;
            let Some(request) = self.conn.poll_request() else {
                break;
            };
            match build_request(&request) {
                Ok(request) => {
                    self.requested = request.uri().to_string();
                    self.transfer = Transfer::Requesting(self.send(request));
                    break;
                }
                // A redirect to a URL that cannot be requested: a network error, as
                // in Fetch.
                Err(e) => {
                    self.transfer = Transfer::Idle;
                    self.cause = Some(Box::new(e));
                    self.conn.handle_error(now);
                }
            }
        }
        self.deadline = self.conn.poll_timeout();
    }
}

impl<R: Runtime> EventSource<R> {
    /// Reads the failing response's body, up to the limit and the time; then queues
    /// the failure with it.
    fn poll_failing(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Transfer::Failing {
            body, read, until, ..
        } = &mut self.transfer
        else {
            return Poll::Ready(());
        };
        let done = loop {
            if read.len() >= FAILED_BODY_LIMIT {
                break true;
            }
            match body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    let room = FAILED_BODY_LIMIT - read.len();
                    read.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if chunk.len() > room {
                        break true;
                    }
                }
                Poll::Ready(Some(Err(_)) | None) => break false,
                Poll::Pending => {
                    let until = self.clock.instant(*until);
                    if self.alarm.poll(cx, until).is_pending() {
                        return Poll::Pending;
                    }
                    break true;
                }
            }
        };
        let Transfer::Failing {
            head,
            read,
            mut failure,
            ..
        } = core::mem::replace(&mut self.transfer, Transfer::Idle)
        else {
            return Poll::Ready(());
        };
        failure.response = Some(FailedResponse {
            status: head.status,
            headers: head.headers,
            body: String::from_utf8_lossy(&read).into_owned(),
            truncated: done,
        });
        self.queue.push_back(Err(*failure));
        Poll::Ready(())
    }

    /// Sends `request`, through the hook first if it goes to the source's origin.
    fn send(&self, request: http::Request<Bytes>) -> ResponseFuture {
        let Some(hook) = self
            .hook
            .as_ref()
            .filter(|_| same_origin(self.conn.url(), request.uri()))
        else {
            return self.transport.send(request);
        };
        let prepared = hook(request);
        let transport = Arc::clone(&self.transport);
        Box::pin(async move { transport.send(prepared.await?).await })
    }
}

/// Whether `uri` has the scheme, host and port of the URL `base`.
fn same_origin(base: &str, uri: &http::Uri) -> bool {
    let Ok(base) = http::Uri::try_from(base.split('#').next().unwrap_or(base)) else {
        return false;
    };
    let port = |uri: &http::Uri| {
        uri.port_u16().or(match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        })
    };
    base.scheme() == uri.scheme()
        && base.host().map(str::to_ascii_lowercase) == uri.host().map(str::to_ascii_lowercase)
        && port(&base) == port(uri)
}

/// A seed no other client shares: std's per-process random hash keys (the OS's
/// entropy), mixed with the time and a counter for clients of the same process.
fn entropy() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(now.as_nanos());
    }
    hasher.finish()
}

fn build_request(request: &sse_proto::Request<'_>) -> Result<http::Request<Bytes>, http::Error> {
    let mut builder = http::Request::builder()
        .method(request.method())
        .uri(request.url());
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    builder.body(
        request
            .body()
            .map_or_else(Bytes::new, Bytes::copy_from_slice),
    )
}

impl<R: Runtime> Stream for EventSource<R> {
    type Item = Result<SourceEvent, SourceError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.queue.pop_front() {
                return Poll::Ready(Some(item));
            }
            if let Transfer::Failing { .. } = this.transfer {
                ready!(this.poll_failing(cx));
                continue;
            }
            if this.conn.ready_state() == ReadyState::Closed {
                this.transfer = Transfer::Idle;
                return Poll::Ready(None);
            }
            let now = this.now();
            match &mut this.transfer {
                Transfer::Streaming { chunk, pos, .. } if *pos < chunk.len() => {
                    let mut input = &chunk[*pos..];
                    let len = input.len();
                    let parsed = this.conn.handle_body(now, &mut input);
                    let read = *pos..*pos + len - input.len();
                    let item = match parsed {
                        Ok(Some(Item::Event(event))) => Some(Ok(SourceEvent::Message(
                            this.sharer.share_event_in(chunk, read, event),
                        ))),
                        Ok(Some(Item::Comment(text))) => Some(Ok(SourceEvent::Comment(
                            this.sharer.share_text(chunk, text),
                        ))),
                        Ok(Some(Item::Retry(time))) => Some(Ok(SourceEvent::Retry(time))),
                        Ok(_) => None,
                        Err(e) => Some(Ok(SourceEvent::Skipped(e))),
                    };
                    *pos += len - input.len();
                    // Bytes move the idle deadline.
                    this.drain(now);
                    if let Some(item) = item {
                        this.queue.push_back(item);
                    }
                    continue;
                }
                Transfer::Streaming { body, chunk, pos } => match body.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Ok(data))) => {
                        (*chunk, *pos) = (data, 0);
                        continue;
                    }
                    Poll::Ready(Some(Err(e))) => {
                        this.transfer = Transfer::Idle;
                        this.cause = Some(e);
                        this.conn.handle_error(now);
                        this.drain(now);
                        continue;
                    }
                    Poll::Ready(None) => {
                        this.transfer = Transfer::Idle;
                        this.conn.handle_end(now);
                        this.drain(now);
                        continue;
                    }
                    Poll::Pending => {}
                },
                Transfer::Requesting(response) => match response.as_mut().poll(cx) {
                    Poll::Ready(Ok(response)) => {
                        let (head, body) = response.into_parts();
                        this.transfer = Transfer::Streaming {
                            body,
                            chunk: Bytes::new(),
                            pos: 0,
                        };
                        this.conn
                            .handle_response(now, head.status.as_u16(), &head.headers);
                        this.head = Some(head);
                        // Anything but Open drops the transfer (or replaces it).
                        this.drain(now);
                        continue;
                    }
                    Poll::Ready(Err(e)) => {
                        this.transfer = Transfer::Idle;
                        this.cause = Some(e);
                        this.conn.handle_error(now);
                        this.drain(now);
                        continue;
                    }
                    Poll::Pending => {}
                },
                // Handled above; here only if it finished in this very poll.
                Transfer::Idle | Transfer::Failing { .. } => {}
            }
            let Some(deadline) = this.deadline else {
                return Poll::Pending;
            };
            if this
                .alarm
                .poll(cx, this.clock.instant(deadline))
                .is_pending()
            {
                return Poll::Pending;
            }
            let now = this.now();
            this.conn.handle_timeout(now);
            this.drain(now);
            if this.deadline == Some(deadline) && this.queue.is_empty() {
                // Nothing happened (the clock read a hair early): try again soon
                // rather than spin.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::entropy;

    /// Clients of one process, and processes, draw different jitter seeds.
    #[test]
    fn each_draw_is_its_own() {
        let draws: std::collections::HashSet<u64> = (0..64).map(|_| entropy()).collect();
        assert_eq!(draws.len(), 64);
    }
}
