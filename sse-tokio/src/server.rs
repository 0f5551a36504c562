//! Serving event streams: a response body fed by a sender, with keep-alives.

use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use sse_proto::{Encode, EncodeError, Heartbeat, KEEP_ALIVE, Retry, Time};
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};

/// A sender and the response body it feeds, with a queue of `capacity` items
/// between them.
///
/// The body is an [`http_body::Body`]: return it from a hyper service or an axum
/// handler (with [`SseBody::response`] for the headers). Items sent are encoded at
/// once and queued; the body hands them to the connection as fast as the client
/// reads. When the queue is full, [`Sender::send`] waits: a slow client slows its
/// producer down instead of making the server buffer without limit. The stream ends
/// (and the response finishes) when every [`Sender`] is dropped and the queue is
/// drained.
///
/// ```
/// use std::time::Duration;
/// use sse_proto::Message;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let (sender, body) = sse_tokio::channel(16);
/// let response = body
///     .keep_alive(Duration::from_secs(15))
///     .retry(Duration::from_secs(5))
///     .response();
/// assert_eq!(response.headers()["content-type"], "text/event-stream");
///
/// tokio::spawn(async move {
///     for n in 1..=3 {
///         let message = Message::new(format!("tick {n}")).id(n.to_string());
///         if sender.send(message).await.is_err() {
///             return; // the client went away
///         }
///     }
/// });
///
/// use http_body_util::BodyExt;
/// let bytes = response.into_body().collect().await.unwrap().to_bytes();
/// assert_eq!(
///     &bytes[..],
///     b"retry: 5000\n\nid: 1\ndata: tick 1\n\nid: 2\ndata: tick 2\n\nid: 3\ndata: tick 3\n\n"
/// );
/// # });
/// ```
///
/// # Panics
///
/// Panics if `capacity` is zero.
pub fn channel(capacity: usize) -> (Sender, SseBody) {
    let (tx, rx) = mpsc::channel(capacity);
    (Sender { tx }, SseBody::with_replay(rx, VecDeque::new()))
}

/// The sending half of [`channel`]: queues items for one client's stream. Clone it
/// to send from several tasks; the stream ends when all clones are dropped.
#[derive(Debug, Clone)]
pub struct Sender {
    tx: mpsc::Sender<Bytes>,
}

impl Sender {
    /// Queues `item` (a [`Message`](sse_proto::Message), a
    /// [`Comment`](sse_proto::Comment) or a [`Retry`]), waiting while the queue is
    /// full. Fails with [`SendError::Encode`] if the item cannot be encoded safely,
    /// and with [`SendError::Disconnected`] once the body is gone (the client
    /// disconnected, or the response was dropped).
    pub async fn send(&self, item: impl Encode) -> Result<(), SendError> {
        let bytes = item.to_bytes().map_err(SendError::Encode)?;
        self.tx
            .send(bytes)
            .await
            .map_err(|_| SendError::Disconnected)
    }

    /// Queues `item` if there is room now; [`SendError::Full`] if there is not.
    ///
    /// ```
    /// use sse_proto::Message;
    /// use sse_tokio::SendError;
    ///
    /// let (sender, body) = sse_tokio::channel(1);
    /// assert_eq!(sender.try_send(Message::new("a")), Ok(()));
    /// assert_eq!(sender.try_send(Message::new("b")), Err(SendError::Full));
    /// drop(body);
    /// assert_eq!(sender.try_send(Message::new("c")), Err(SendError::Disconnected));
    /// ```
    pub fn try_send(&self, item: impl Encode) -> Result<(), SendError> {
        let bytes = item.to_bytes().map_err(SendError::Encode)?;
        self.tx.try_send(bytes).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SendError::Full,
            mpsc::error::TrySendError::Closed(_) => SendError::Disconnected,
        })
    }

    /// Completes when the body is gone: the client disconnected (the server noticed
    /// the connection closing, or a write to it failing) or the response was
    /// dropped. Wait on it beside your event source to release what the stream holds.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (sender, body) = sse_tokio::channel(4);
    /// drop(body);
    /// sender.closed().await;
    /// assert!(sender.is_closed());
    /// # });
    /// ```
    pub fn closed(&self) -> impl Future<Output = ()> + Send + '_ {
        self.tx.closed()
    }

    /// Whether the body is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// How many more items fit in the queue now.
    pub fn capacity(&self) -> usize {
        self.tx.capacity()
    }
}

/// Why [`Sender::send`] or [`Sender::try_send`] did not queue an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The item cannot be encoded safely (a line break in its event type or ID, ...).
    Encode(EncodeError),
    /// The queue is full (only from [`Sender::try_send`]).
    Full,
    /// The body is gone: the client disconnected, or the response was dropped.
    Disconnected,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Encode(e) => e.fmt(f),
            SendError::Full => f.write_str("the stream's queue is full"),
            SendError::Disconnected => f.write_str("the client disconnected"),
        }
    }
}

impl core::error::Error for SendError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            SendError::Encode(e) => Some(e),
            _ => None,
        }
    }
}

/// A `text/event-stream` response body, fed by a [`Sender`]; from [`channel`], or
/// from [`Hub::subscribe`](crate::Hub::subscribe) (a replay, then a hub's events).
///
/// Its `Data` is [`Bytes`] and its `Error` is [`Infallible`], so hyper and axum take
/// it as it is. Each queued item is one frame, handed over as soon as the connection
/// asks for it.
#[derive(Debug)]
pub struct SseBody {
    rx: mpsc::Receiver<Bytes>,
    /// Bytes to send before anything else (the initial `retry`).
    first: Option<Bytes>,
    /// Frames to send before the queue's: a [`Hub`](crate::Hub)'s replay.
    replay: VecDeque<Bytes>,
    keep_alive: Option<Duration>,
    /// The keep-alive schedule and timer, set up on the first poll (inside the
    /// runtime, when the stream starts).
    clock: Option<KeepAliveClock>,
}

#[derive(Debug)]
struct KeepAliveClock {
    start: Instant,
    heartbeat: Heartbeat,
    sleep: Pin<Box<Sleep>>,
}

impl KeepAliveClock {
    fn now(&self) -> Time {
        Time::from_duration(Instant::now().saturating_duration_since(self.start))
    }

    fn instant(&self, time: Time) -> Instant {
        // Far deadlines are clamped: tokio's timer cannot represent "never".
        let far = Duration::from_secs(60 * 60 * 24 * 365);
        self.start + time.since_epoch().min(far)
    }
}

impl SseBody {
    /// A body that sends `replay`, then what arrives on `rx`.
    pub(crate) fn with_replay(rx: mpsc::Receiver<Bytes>, replay: VecDeque<Bytes>) -> Self {
        SseBody {
            rx,
            first: None,
            replay,
            keep_alive: None,
            clock: None,
        }
    }

    /// Sends a keep-alive comment (`:` and a blank line) whenever the stream has
    /// been quiet for `interval`: events reset the timer, so a busy stream carries
    /// none (see [`Heartbeat`]). The bytes keep proxies from closing an idle
    /// connection, and make the server notice a client that went away (the write
    /// fails). Default: none; 15 seconds is usual.
    pub fn keep_alive(mut self, interval: Duration) -> Self {
        self.keep_alive = Some(interval);
        self
    }

    /// Starts the stream with a `retry` field: how long clients wait before they
    /// reconnect.
    pub fn retry(mut self, time: Duration) -> Self {
        self.first = Retry::new(time).to_bytes().ok();
        self
    }

    /// The response: status 200 and the headers an event stream needs (see
    /// [`set_headers`]).
    pub fn response(self) -> http::Response<SseBody> {
        let mut response = http::Response::new(self);
        set_headers(response.headers_mut());
        response
    }
}

/// Sets the headers of an event-stream response, [`sse_proto::RESPONSE_HEADERS`]
/// (which says why each is there): `Content-Type: text/event-stream`,
/// `Cache-Control: no-cache, no-transform` and `X-Accel-Buffering: no`.
///
/// Compression middleware such as tower-http's skips `text/event-stream` by its
/// content type.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// sse_tokio::set_headers(&mut headers);
/// assert_eq!(headers["content-type"], "text/event-stream");
/// assert_eq!(headers["cache-control"], "no-cache, no-transform");
/// assert_eq!(headers["x-accel-buffering"], "no");
/// ```
pub fn set_headers(headers: &mut HeaderMap) {
    for (name, value) in sse_proto::RESPONSE_HEADERS {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
        headers.insert(name, HeaderValue::from_static(value));
    }
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.clock.is_none() {
            if let Some(interval) = this.keep_alive {
                let start = Instant::now();
                let heartbeat = Heartbeat::new(Time::ZERO, interval);
                let sleep = Box::pin(tokio::time::sleep_until(start + heartbeat.interval()));
                this.clock = Some(KeepAliveClock {
                    start,
                    heartbeat,
                    sleep,
                });
            }
        }
        let frame = if let Some(first) = this.first.take() {
            Some(first)
        } else if let Some(replayed) = this.replay.pop_front() {
            Some(replayed)
        } else {
            match this.rx.poll_recv(cx) {
                Poll::Ready(Some(bytes)) => Some(bytes),
                // Every sender is gone and the queue is drained: the stream is over.
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => None,
            }
        };
        let Some(clock) = this.clock.as_mut() else {
            return match frame {
                Some(bytes) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
                None => Poll::Pending,
            };
        };
        if let Some(bytes) = frame {
            // The timer is moved lazily: when it fires early, it is re-armed.
            let now = clock.now();
            clock.heartbeat.handle_written(now);
            return Poll::Ready(Some(Ok(Frame::data(bytes))));
        }
        loop {
            if clock.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let now = clock.now();
            let due = clock.heartbeat.handle_timeout(now);
            let next = clock.instant(clock.heartbeat.poll_timeout());
            clock.sleep.as_mut().reset(next);
            if due {
                return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(KEEP_ALIVE)))));
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// The `Last-Event-ID` request header: the ID of the last event a reconnecting
/// client received, so that the handler can resume after it. `None` when the header
/// is absent or empty (a client sends none before its first event with an ID). The
/// value is decoded as UTF-8, with U+FFFD for invalid bytes, as the client encoded
/// it.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// assert_eq!(sse_tokio::last_event_id(&headers), None);
/// headers.insert("last-event-id", "42".parse().unwrap());
/// assert_eq!(sse_tokio::last_event_id(&headers).as_deref(), Some("42"));
/// ```
pub fn last_event_id(headers: &HeaderMap) -> Option<Cow<'_, str>> {
    let value = headers.get("last-event-id")?.as_bytes();
    if value.is_empty() {
        return None;
    }
    Some(String::from_utf8_lossy(value))
}

/// The `Last-Event-ID` request header, owned (see [`last_event_id`]). With the
/// `axum` feature it is an extractor that never rejects.
///
/// ```
/// use sse_tokio::LastEventId;
///
/// let request = http::Request::builder().header("Last-Event-ID", "7").body(()).unwrap();
/// assert_eq!(LastEventId::from_headers(request.headers()), LastEventId(Some("7".into())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LastEventId(pub Option<String>);

impl LastEventId {
    /// Reads the header from `headers`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        LastEventId(last_event_id(headers).map(Cow::into_owned))
    }
}

#[cfg(feature = "axum")]
mod axum_impls {
    use core::convert::Infallible;

    use axum_core::extract::FromRequestParts;
    use axum_core::response::{IntoResponse, Response};
    use http::request::Parts;

    use super::{LastEventId, SseBody};

    impl<S: Send + Sync> FromRequestParts<S> for LastEventId {
        type Rejection = Infallible;

        async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
            Ok(LastEventId::from_headers(&parts.headers))
        }
    }

    impl IntoResponse for SseBody {
        fn into_response(self) -> Response {
            self.response().map(axum_core::body::Body::new)
        }
    }
}
