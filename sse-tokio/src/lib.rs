//! Server-Sent Events on tokio, hyper and axum: the tokio adapter of [`sse_io`],
//! over the sans-IO core [`sse_proto`].
//!
//! Everything runtime-neutral is `sse-io`'s, re-exported here under the [`Tokio`]
//! runtime: the event streams, the server body, the hub and the reconnecting client
//! are the same types as on any other runtime, and every protocol decision is
//! `sse-proto`'s. What this crate adds is what differs on tokio: the timer
//! ([`Tokio`]), `AsyncRead` input ([`from_reader`]), the `tokio_util` codecs
//! ([`SseDecoder`], [`SseEncoder`]) and the HTTP client, hyper-util's
//! ([`HyperClient`]).
//!
//! # Consuming
//!
//! - [`EventStream`] and [`ItemStream`]: events (or every item) as a `Stream`, over
//!   any `Stream<Item = Result<B, E>>` of byte chunks (a reqwest byte stream, a
//!   hyper body with [`EventStream::from_body`]) or any `AsyncRead`
//!   ([`from_reader`]); [`EventStream::batches`] takes the events a chunk at a
//!   time ([`EventBatch`]), for chunks that hold many, and
//!   [`EventStream::next_batch_into`] reads them into one batch, chunk after chunk.
//! - [`SseDecoder`] and [`SseEncoder`]: `tokio_util::codec` implementations;
//!   [`SseBatchDecoder`] decodes the events a read at a time.
//! - [`EventSource`] (feature `client`): the reconnecting client, driven by
//!   [`sse_proto::Connection`], on hyper or any [`Transport`].
//!
//! # Serving
//!
//! [`channel`] gives a [`Sender`] and an [`SseBody`], an `http_body::Body` for
//! hyper and axum with keep-alives and an initial `retry`; [`Sender::closed`] says
//! when the client went away, and [`last_event_id`] (or the [`LastEventIdHeader`]
//! axum extractor) reads where a reconnecting client left off.
//!
//! [`Hub`] broadcasts: every event published goes to every subscriber's
//! [`SseBody`], and is kept in a [`History`](sse_proto::History) so that a client
//! that reconnects with `Last-Event-ID` is sent what it missed. A subscriber too far
//! behind is dropped, and resumes from the history when its client reconnects.
//!
//! ```
//! use std::time::Duration;
//! use futures_util::StreamExt;
//! use sse_proto::Message;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // A server's side: a body fed by a sender.
//! let (sender, body) = sse_tokio::channel(8);
//! let body = body.keep_alive(Duration::from_secs(15));
//! tokio::spawn(async move {
//!     sender.send(Message::new("hello").id("1")).await.unwrap();
//! });
//!
//! // A client's side: events out of any body.
//! let mut events = sse_tokio::EventStream::from_body(body);
//! let event = events.next().await.unwrap().unwrap();
//! assert_eq!((event.data(), event.last_event_id()), ("hello", "1"));
//! assert!(events.next().await.is_none());
//! # });
//! ```
//!
//! # Crate features
//!
//! - `client` (default): [`EventSource::new`] and [`Builder::connect`] on hyper 1 and
//!   hyper-util, HTTP/1.1 and HTTP/2, and [`HyperClient`] for your own hyper-util
//!   client. (With any other [`Transport`], the client needs no feature.)
//! - `axum`: `IntoResponse` for [`SseBody`] and `FromRequestParts` for
//!   [`LastEventIdHeader`].
//! - `log-hub`: `LogHub`, a hub fed from a shared event log (the `EventLog`
//!   trait), so that several nodes serve the same events with the same IDs;
//!   `MemoryLog`, the log in the process.
//! - `redis`: `RedisLog`, the log in a Redis stream, and `RedisHub`, a `LogHub` on
//!   it (needs Rust 1.88).
//! - `rustls`: `https://` URLs for [`EventSource`], with rustls (ring) and the
//!   webpki root certificates. Without it, `https://` URLs are refused when the
//!   source is built.
#![deny(missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

pub use tokio_util::io::ReaderStream;

mod codec;
#[cfg(feature = "log-hub")]
mod log_hub;
#[cfg(feature = "redis")]
mod redis_hub;
#[cfg(feature = "reqwest")]
mod reqwest;
#[cfg(feature = "client")]
mod transport;
mod write_timeout;

pub use codec::{CodecError, SseBatchDecoder, SseDecoder, SseEncoder};
#[cfg(feature = "log-hub")]
pub use log_hub::{
    DEFAULT_LOG_TIMEOUT, EventLog, LogHub, LogHubBuilder, LogPublishError, MemoryLog,
};
#[cfg(feature = "redis")]
pub use redis_hub::{DEFAULT_STREAM_LENGTH, RedisHub, RedisLog, RedisPublishError};
#[cfg(feature = "reqwest")]
pub use reqwest::ReqwestClient;
#[cfg(feature = "client")]
pub use transport::HyperClient;
pub use write_timeout::WriteTimeout;

/// The tokio runtime, for [`sse_io`]: its clock (the paused test clock included) and
/// its timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

/// A tokio `Sleep`, boxed to be `Unpin`.
#[derive(Debug)]
pub struct TokioTimer(Pin<Box<tokio::time::Sleep>>);

impl Future for TokioTimer {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl sse_io::Timer for TokioTimer {
    fn reset(&mut self, deadline: Instant) {
        self.0.as_mut().reset(deadline.into());
    }
}

impl sse_io::Runtime for Tokio {
    type Timer = TokioTimer;

    fn now() -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn timer(deadline: Instant) -> TokioTimer {
        TokioTimer(Box::pin(tokio::time::sleep_until(deadline.into())))
    }
}

sse_io::runtime_types!(Tokio, "tokio");

/// A sender and the response body it feeds, with a queue of `capacity` items
/// between them ([`sse_io::channel`] on tokio).
///
/// ```
/// use std::time::Duration;
/// use http_body_util::BodyExt;
/// use sse_proto::Message;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let (sender, body) = sse_tokio::channel(16);
/// let response = body
///     .keep_alive(Duration::from_secs(15))
///     .retry(Duration::from_secs(5))
///     .response();
/// assert_eq!(response.headers()["content-type"], "text/event-stream");
/// tokio::spawn(async move {
///     for n in 1..=3 {
///         let message = Message::new(format!("tick {n}")).id(n.to_string());
///         if sender.send(message).await.is_err() {
///             return; // the client went away
///         }
///     }
/// });
/// let bytes = response.into_body().collect().await.unwrap().to_bytes();
/// assert_eq!(
///     &bytes[..],
///     b"retry: 5000\nid: 1\ndata: tick 1\n\nid: 2\ndata: tick 2\n\nid: 3\ndata: tick 3\n\n"
/// );
/// # });
/// ```
///
/// # Panics
///
/// Panics if `capacity` is zero.
pub fn channel(capacity: usize) -> (Sender, SseBody) {
    sse_io::channel(capacity)
}

/// The events read from `reader`, any tokio `AsyncRead` (a socket, a child's
/// stdout, ...).
///
/// ```
/// use futures_util::StreamExt;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let reader: &[u8] = b"data: from a reader\n\n";
/// let mut events = sse_tokio::from_reader(reader);
/// assert_eq!(events.next().await.unwrap().unwrap().data(), "from a reader");
/// # });
/// ```
pub fn from_reader<R: tokio::io::AsyncRead>(reader: R) -> EventStream<ReaderStream<R>> {
    EventStream::new(ReaderStream::new(reader))
}
