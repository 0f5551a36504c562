//! Serving event streams: a body fed by a sender, with keep-alives.
//!
//! A server's handler produces events at its own pace; the connection takes bytes at
//! the client's. This module sits between them: a bounded queue of encoded items
//! ([`Sender`] in, [`SseBody`] out), keep-alive comments when the stream is quiet (on
//! [`sse_proto::Heartbeat`]'s schedule, timed by `async-io`), and a way for the
//! producer to learn that the client is gone ([`Sender::closed`]). What the body
//! yields is plain bytes, as a `Stream` or, through [`SseBody::into_reader`], as an
//! `AsyncRead`, so it fits any futures-io server: copy it into a socket, or hand it
//! to a framework that takes a byte stream or a reader.

use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::io;
use std::time::{Duration, Instant};

use async_io::Timer;
use bytes::{Buf, Bytes};
use futures_core::Stream;
use futures_io::{AsyncBufRead, AsyncRead};
use sse_proto::{Encode, EncodeError, Heartbeat, KEEP_ALIVE, Retry, Time};

/// The headers of an event-stream response, as `(name, value)` pairs, for servers
/// that write their own response head or take headers as strings:
/// [`sse_proto::RESPONSE_HEADERS`], which says why each is there. They are the
/// headers `sse_tokio::set_headers` sets.
///
/// ```
/// let head: String = sse_async_std::HEADERS
///     .iter()
///     .map(|(name, value)| format!("{name}: {value}\r\n"))
///     .collect();
/// assert!(head.starts_with("Content-Type: text/event-stream\r\n"));
/// ```
pub const HEADERS: [(&str, &str); 3] = sse_proto::RESPONSE_HEADERS;

/// A sender and the body it feeds, with a queue of `capacity` items between them.
///
/// Items sent are encoded at once and queued; the body hands them on as fast as the
/// connection takes them. When the queue is full, [`Sender::send`] waits: a slow
/// client slows its producer down instead of making the server buffer without limit.
/// The body ends when every [`Sender`] is dropped and the queue is drained.
///
/// The body is a `Stream` of [`Bytes`] chunks, one per item; [`SseBody::into_reader`]
/// makes it an `AsyncRead` (and `AsyncBufRead`) to copy into a socket. The server
/// writes the response head ([`HEADERS`]) itself.
///
/// ```
/// use std::time::Duration;
/// use smol::stream::StreamExt;
/// use sse_proto::Message;
///
/// smol::block_on(async {
///     let (sender, body) = sse_async_std::channel(16);
///     let body = body
///         .keep_alive(Duration::from_secs(15))
///         .retry(Duration::from_secs(5));
///
///     let producer = smol::spawn(async move {
///         for n in 1..=3 {
///             let message = Message::new(format!("tick {n}")).id(n.to_string());
///             if sender.send(message).await.is_err() {
///                 return; // the client went away
///             }
///         }
///     });
///
///     let chunks: Vec<_> = body.map(Result::unwrap).collect().await;
///     producer.await;
///     assert_eq!(
///         chunks.concat(),
///         b"retry: 5000\n\nid: 1\ndata: tick 1\n\nid: 2\ndata: tick 2\n\nid: 3\ndata: tick 3\n\n"
///     );
/// });
/// ```
///
/// # Panics
///
/// Panics if `capacity` is zero.
pub fn channel(capacity: usize) -> (Sender, SseBody) {
    assert!(
        capacity > 0,
        "an event stream's queue needs room for an item"
    );
    let (tx, rx) = async_channel::bounded(capacity);
    (
        Sender { tx },
        SseBody {
            rx: Box::pin(rx),
            first: None,
            keep_alive: None,
            clock: None,
        },
    )
}

/// The sending half of [`channel`]: queues items for one client's stream. Clone it
/// to send from several tasks; the stream ends when all clones are dropped.
#[derive(Debug, Clone)]
pub struct Sender {
    tx: async_channel::Sender<Bytes>,
}

impl Sender {
    /// Queues `item` (a [`Message`](sse_proto::Message), a
    /// [`Comment`](sse_proto::Comment) or a [`Retry`]), waiting while the queue is
    /// full. Fails with [`SendError::Encode`] if the item cannot be encoded safely,
    /// and with [`SendError::Disconnected`] once the body is gone (the client
    /// disconnected, or the server dropped the body).
    ///
    /// ```
    /// use sse_proto::Message;
    /// use sse_async_std::SendError;
    ///
    /// smol::block_on(async {
    ///     let (sender, body) = sse_async_std::channel(4);
    ///     sender.send(Message::new("hello")).await.unwrap();
    ///     let forged = Message::new("x").id("1\n\ndata: forged");
    ///     assert!(matches!(sender.send(forged).await, Err(SendError::Encode(_))));
    ///     drop(body);
    ///     assert_eq!(sender.send(Message::new("late")).await, Err(SendError::Disconnected));
    /// });
    /// ```
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
    /// use sse_async_std::SendError;
    ///
    /// let (sender, body) = sse_async_std::channel(1);
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

    /// Completes when the body is gone: the server dropped it, typically because a
    /// write to the client failed (the client disconnected) or the connection was
    /// closed. Wait on it beside your event source to release what the stream holds.
    ///
    /// A server that only writes learns that a client left when a write fails, so a
    /// quiet stream needs [keep-alives](SseBody::keep_alive) for this to complete.
    ///
    /// ```
    /// smol::block_on(async {
    ///     let (sender, body) = sse_async_std::channel(4);
    ///     drop(body);
    ///     sender.closed().await;
    ///     assert!(sender.is_closed());
    /// });
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
    /// The body is gone: the client disconnected, or the server dropped the body.
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

/// A `text/event-stream` body, fed by a [`Sender`]; from [`channel`].
///
/// A `Stream` of [`Bytes`] chunks (one per item sent, keep-alive or `retry`) that
/// never fails, so it fits servers that take a byte stream;
/// [`SseBody::into_reader`] gives an `AsyncRead` instead. A chunk is handed over as
/// soon as it is queued.
///
/// The body is `Send`, `Sync` and `Unpin`. Its keep-alive timer is an
/// [`async_io::Timer`], which works under smol, async-std and any other executor
/// (async-io drives its timers from a thread of its own when no runtime does).
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct SseBody {
    // Boxed: async-channel's receiver is not `Unpin`, and an `Unpin` body is easier to
    // hand around.
    rx: Pin<Box<async_channel::Receiver<Bytes>>>,
    /// Bytes to send before anything else (the initial `retry`).
    first: Option<Bytes>,
    keep_alive: Option<Duration>,
    /// The keep-alive schedule and timer, set up on the first poll (when the stream
    /// starts being served).
    clock: Option<KeepAliveClock>,
}

#[derive(Debug)]
struct KeepAliveClock {
    start: Instant,
    heartbeat: Heartbeat,
    timer: Timer,
}

impl KeepAliveClock {
    fn new(interval: Duration) -> Self {
        let mut clock = KeepAliveClock {
            start: Instant::now(),
            heartbeat: Heartbeat::new(Time::ZERO, interval),
            timer: Timer::never(),
        };
        clock.arm();
        clock
    }

    fn now(&self) -> Time {
        Time::from_duration(self.start.elapsed())
    }

    /// Sets the timer for the schedule's next deadline.
    fn arm(&mut self) {
        let deadline = self.heartbeat.poll_timeout().since_epoch();
        match self.start.checked_add(deadline) {
            Some(at) => self.timer.set_at(at),
            // Past what `Instant` can hold: never.
            None => self.timer.clear(),
        }
    }
}

impl SseBody {
    /// Sends a keep-alive comment (`:` and a blank line) whenever the stream has
    /// been quiet for `interval`: items sent reset the timer, so a busy stream
    /// carries none (see [`Heartbeat`]). The bytes keep proxies from closing an idle
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

    /// The body as an `AsyncRead` and `AsyncBufRead`, to copy into a connection.
    ///
    /// `futures::io::copy` (or smol's `io::copy`) writes each chunk as it comes but
    /// flushes only at the end, which is right for a plain `TcpStream`. Over a writer
    /// that buffers (a `BufWriter`, some TLS streams), write and flush each chunk of
    /// the body as a `Stream` instead, so events are not held back.
    ///
    /// ```
    /// use sse_proto::Message;
    ///
    /// smol::block_on(async {
    ///     let (sender, body) = sse_async_std::channel(4);
    ///     sender.send(Message::new("one")).await.unwrap();
    ///     sender.send(Message::new("two")).await.unwrap();
    ///     drop(sender);
    ///
    ///     let mut written = Vec::new();
    ///     smol::io::copy(body.into_reader(), &mut written).await.unwrap();
    ///     assert_eq!(written, b"data: one\n\ndata: two\n\n");
    /// });
    /// ```
    pub fn into_reader(self) -> BodyReader {
        BodyReader {
            body: self,
            chunk: Bytes::new(),
        }
    }
}

impl Stream for SseBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.clock.is_none() {
            if let Some(interval) = this.keep_alive {
                this.clock = Some(KeepAliveClock::new(interval));
            }
        }
        let chunk = if let Some(first) = this.first.take() {
            Some(first)
        } else {
            match this.rx.as_mut().poll_next(cx) {
                Poll::Ready(Some(bytes)) => Some(bytes),
                // Every sender is gone and the queue is drained: the stream is over.
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => None,
            }
        };
        let Some(clock) = this.clock.as_mut() else {
            return match chunk {
                Some(bytes) => Poll::Ready(Some(Ok(bytes))),
                None => Poll::Pending,
            };
        };
        if let Some(bytes) = chunk {
            // The timer is left as it is: when it fires before the new deadline, it
            // is set again.
            let now = clock.now();
            clock.heartbeat.handle_written(now);
            return Poll::Ready(Some(Ok(bytes)));
        }
        loop {
            if Pin::new(&mut clock.timer).poll(cx).is_pending() {
                return Poll::Pending;
            }
            let due = clock.heartbeat.handle_timeout(clock.now());
            clock.arm();
            if due {
                return Poll::Ready(Some(Ok(Bytes::from_static(KEEP_ALIVE))));
            }
        }
    }
}

/// An [`SseBody`] as an `AsyncRead` and `AsyncBufRead`; from
/// [`SseBody::into_reader`].
///
/// Reads return what is queued (at most one chunk per read), wait while nothing is,
/// and return 0 at the end of the stream, when every [`Sender`] is gone. Dropping the
/// reader drops the body, which [`Sender::closed`] reports.
#[derive(Debug)]
pub struct BodyReader {
    body: SseBody,
    /// The rest of the chunk being read.
    chunk: Bytes,
}

impl BodyReader {
    /// The body back, with the rest of a chunk being read (empty if none).
    pub fn into_inner(self) -> (SseBody, Bytes) {
        (self.body, self.chunk)
    }
}

impl AsyncBufRead for BodyReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.chunk.is_empty() {
            match ready!(Pin::new(&mut this.body).poll_next(cx)) {
                Some(Ok(bytes)) => this.chunk = bytes,
                // The end of the stream: an empty buffer.
                None => break,
            }
        }
        Poll::Ready(Ok(&this.chunk[..]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().chunk.advance(amt);
    }
}

impl AsyncRead for BodyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}
