//! Serving one event stream: a response body fed by a sender or a hub, with an
//! initial `retry` and keep-alives.

use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use http_body::{Body, Frame, SizeHint};
use sse_proto::{Encode, EncodeError, ServerStream, Time};

use crate::hub::HubStream;
use crate::runtime::{Alarm, Clock, Runtime};
use crate::shutdown::{Shutdown, Watch};

/// A sender and the response body it feeds, with a queue of `capacity` items
/// between them.
///
/// Items sent are encoded at once and queued; the body hands them to the
/// connection as fast as the client reads. When the queue is full,
/// [`Sender::send`] waits: a slow client slows its producer down instead of making
/// the server buffer without limit. The stream ends when every [`Sender`] is
/// dropped and the queue is drained. A runtime adapter's `channel` names the
/// runtime (`sse_tokio::channel`, `sse_async_std::channel`).
///
/// # Panics
///
/// Panics if `capacity` is zero.
pub fn channel<R: Runtime>(capacity: usize) -> (Sender, SseBody<R>) {
    assert!(capacity > 0, "a stream's queue needs room for an item");
    let (tx, rx) = async_channel::bounded(capacity);
    (Sender { tx }, SseBody::new(Source::channel(rx)))
}

/// The sending half of [`channel`]: queues items for one client's stream. Clone it
/// to send from several tasks; the stream ends when all clones are dropped.
#[derive(Debug, Clone)]
pub struct Sender {
    tx: async_channel::Sender<Bytes>,
}

impl Sender {
    /// Queues `item` (a [`Message`](sse_proto::Message), a
    /// [`Comment`](sse_proto::Comment) or a [`Retry`](sse_proto::Retry)), waiting
    /// while the queue is full. Fails with [`SendError::Encode`] if the item cannot
    /// be encoded safely, and with [`SendError::Disconnected`] once the body is gone
    /// (the client disconnected, or the response was dropped).
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
            async_channel::TrySendError::Full(_) => SendError::Full,
            async_channel::TrySendError::Closed(_) => SendError::Disconnected,
        })
    }

    /// Completes when the body is gone: the client disconnected (the server noticed
    /// the connection closing, or a write to it failing) or the response was
    /// dropped. Wait on it beside your event source to release what the stream
    /// holds. A server that only writes learns that a client left when a write
    /// fails, so a quiet stream needs [keep-alives](SseBody::keep_alive) for this.
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
        let total = self.tx.capacity().unwrap_or(usize::MAX);
        total.saturating_sub(self.tx.len())
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

/// How many bytes of events ready at once go out as one chunk (copied into it); a
/// larger event goes alone, uncopied.
pub(crate) const CHUNK: usize = 8 * 1024;

/// `first`, with the events `next` has ready after it while they fit in [`CHUNK`]
/// bytes, as one chunk. An event that does not fit is put in `held`, to start the
/// next chunk: a large event goes alone, as it was encoded, never copied.
pub(crate) fn gather(
    first: Bytes,
    held: &mut Option<Bytes>,
    mut next: impl FnMut() -> Option<Bytes>,
) -> Bytes {
    let mut chunk: Option<bytes::BytesMut> = None;
    loop {
        let len = chunk.as_ref().map_or(first.len(), |chunk| chunk.len());
        if len >= CHUNK {
            break;
        }
        match next() {
            Some(more) if len + more.len() > CHUNK => {
                *held = Some(more);
                break;
            }
            Some(more) => chunk
                .get_or_insert_with(|| bytes::BytesMut::from(&first[..]))
                .extend_from_slice(&more),
            None => break,
        }
    }
    chunk.map_or(first, bytes::BytesMut::freeze)
}

/// Where a body's events come from.
pub(crate) enum Source {
    Channel {
        // Boxed: async-channel's receiver is not `Unpin`, and an `Unpin` body is
        // easier to hand around.
        rx: Pin<Box<async_channel::Receiver<Bytes>>>,
        /// An event taken that did not fit in the last chunk.
        held: Option<Bytes>,
    },
    Hub(HubStream),
}

impl Source {
    fn channel(rx: async_channel::Receiver<Bytes>) -> Self {
        Source::Channel {
            rx: Box::pin(rx),
            held: None,
        }
    }

    /// The next chunk: one or more whole events.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        match self {
            Source::Channel { rx, held } => {
                let first = match held.take() {
                    Some(first) => first,
                    None => match rx.as_mut().poll_next(cx) {
                        Poll::Ready(Some(first)) => first,
                        other => return other,
                    },
                };
                Poll::Ready(Some(gather(first, held, || rx.try_recv().ok())))
            }
            Source::Hub(stream) => stream.poll_next(cx),
        }
    }
}

/// A `text/event-stream` response body, fed by a [`Sender`] (from [`channel`]) or a
/// [`Hub`](crate::Hub) (a replay, then the hub's events).
///
/// It is an [`http_body::Body`] (for hyper and axum, with [`SseBody::response`]
/// for the headers) and a `Stream` of `Bytes` chunks that never fails (for servers
/// that take a byte stream). Each item is one chunk of whole events, handed over as
/// soon as an event is queued: the events ready at that moment, up to 8 KiB (a
/// larger event alone), so that a client a few events behind is sent them in one
/// write. What goes out when is [`ServerStream`]'s schedule. The body is `Send`,
/// `Sync` and `Unpin`.
#[must_use = "a body does nothing unless polled"]
pub struct SseBody<R: Runtime> {
    source: Source,
    schedule: ServerStream,
    /// Set on the first poll, when the stream starts being served.
    clock: Option<Clock>,
    alarm: Alarm<R>,
    /// The shutdown signal, until it is given.
    shutdown: Option<Watch>,
    done: bool,
    runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> fmt::Debug for SseBody<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseBody")
            .field("schedule", &self.schedule)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> SseBody<R> {
    pub(crate) fn new(source: Source) -> Self {
        SseBody {
            source,
            schedule: ServerStream::new(),
            clock: None,
            alarm: Alarm::new(),
            shutdown: None,
            done: false,
            runtime: PhantomData,
        }
    }

    /// Ends the stream gracefully when `shutdown` is triggered: what the source has
    /// ready then is sent, and the stream ends at an event boundary instead of
    /// waiting for more (see [`ServerStream::shut_down`]).
    pub fn shutdown_on(mut self, shutdown: &Shutdown) -> Self {
        self.shutdown = Some(shutdown.watch());
        self
    }

    /// Sends a keep-alive comment (`:` and a blank line) whenever the stream has
    /// been quiet for `interval`: items sent reset the timer, so a busy stream
    /// carries none (see [`sse_proto::Heartbeat`]). The bytes keep proxies from
    /// closing an idle connection, and make the server notice a client that went
    /// away (the write fails). Default: none; 15 seconds is usual.
    pub fn keep_alive(mut self, interval: Duration) -> Self {
        self.schedule = self.schedule.keep_alive(interval);
        self
    }

    /// Starts the stream with a `retry` field: how long clients wait before they
    /// reconnect.
    pub fn retry(mut self, time: Duration) -> Self {
        self.schedule = self.schedule.retry(time);
        self
    }

    /// The response: status 200 and the headers an event stream needs (see
    /// [`set_headers`](crate::set_headers)).
    pub fn response(self) -> http::Response<Self> {
        let mut response = http::Response::new(self);
        crate::set_headers(response.headers_mut());
        response
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if self.done {
            return Poll::Ready(None);
        }
        let clock = *self.clock.get_or_insert_with(Clock::start::<R>);
        // Read once a poll, and only where keep-alives are timed.
        let now = if self.schedule.keeps_time() {
            clock.now::<R>()
        } else {
            Time::ZERO
        };
        if let Some(first) = self.schedule.poll_transmit(now) {
            return Poll::Ready(Some(Bytes::from(first)));
        }
        if let Some(watch) = &mut self.shutdown {
            if watch.poll_given(cx).is_ready() {
                self.shutdown = None;
                self.schedule.shut_down();
            }
        }
        match self.source.poll_next(cx) {
            Poll::Ready(Some(bytes)) => {
                self.schedule.handle_sent(now);
                return Poll::Ready(Some(bytes));
            }
            Poll::Ready(None) => {
                self.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending if self.schedule.ends_when_idle() => {
                self.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        loop {
            let deadline = self.schedule.poll_timeout().and_then(|t| clock.instant(t));
            if self.alarm.poll(cx, deadline).is_pending() {
                return Poll::Pending;
            }
            if let Some(keep_alive) = self.schedule.handle_timeout(clock.now::<R>()) {
                return Poll::Ready(Some(Bytes::from_static(keep_alive)));
            }
            if self.schedule.poll_timeout().and_then(|t| clock.instant(t)) == deadline {
                // The timer fired a hair before the clock reached the deadline: try
                // again soon rather than spin.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }
}

impl<R: Runtime> Stream for SseBody<R> {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx).map(|chunk| chunk.map(Ok))
    }
}

impl<R: Runtime> Body for SseBody<R> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .poll_chunk(cx)
            .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// An empty stream, ended from the start: the body of a response that is not an
/// event stream after all (a [`crate::unavailable`] answer, say).
impl<R: Runtime> Default for SseBody<R> {
    fn default() -> Self {
        let (tx, rx) = async_channel::bounded(1);
        drop(tx);
        SseBody::new(Source::channel(rx))
    }
}
