//! Server-Sent Events on tokio, hyper and axum: the runtime adapter over
//! [`sse_proto`].
//!
//! The adapter only moves bytes and time between tokio and the sans-IO core; every
//! protocol decision (parsing, encoding, keep-alive schedule, reconnection) lives in
//! `sse-proto`.
//!
//! # Consuming
//!
//! - [`EventStream`] and [`ItemStream`]: events (or every item) as a `Stream`, over
//!   any `Stream<Item = Result<B, E>>` of byte chunks (a reqwest byte stream, a
//!   hyper body with [`EventStream::from_body`]) or any `AsyncRead`
//!   ([`EventStream::from_reader`]).
//! - [`SseDecoder`] and [`SseEncoder`]: `tokio_util::codec` implementations.
//! - [`EventSource`] (feature `client`): a reconnecting client on hyper, driven by
//!   [`sse_proto::Connection`].
//!
//! # Serving
//!
//! [`channel`] (feature `server`) gives a [`Sender`] and an [`SseBody`], an
//! `http_body::Body` for hyper and axum with keep-alives and an initial `retry`;
//! [`Sender::closed`] says when the client went away, and [`last_event_id`] (or the
//! [`LastEventId`] axum extractor) reads where a reconnecting client left off.
//!
//! [`Hub`] (feature `server`) broadcasts: every event published goes to every
//! subscriber's [`SseBody`], and is kept in a [`History`](sse_proto::History) so that
//! a client that reconnects with `Last-Event-ID` is sent what it missed. A subscriber
//! too slow for its queue is dropped, and resumes from the history when its client
//! reconnects.
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
//! assert_eq!((&*event.data, &*event.last_event_id), ("hello", "1"));
//! assert!(events.next().await.is_none());
//! # });
//! ```
//!
//! # Crate features
//!
//! - `client` (default): [`EventSource`], on hyper 1 and hyper-util, HTTP/1.1 and
//!   HTTP/2.
//! - `server` (default): [`channel`], [`SseBody`], [`Sender`], [`Hub`].
//! - `axum`: `IntoResponse` for [`SseBody`] and `FromRequestParts` for
//!   [`LastEventId`].
//! - `rustls`: `https://` URLs for [`EventSource`], with rustls (ring) and the
//!   webpki root certificates. Without it, `https://` URLs are refused when the
//!   source is built.
#![deny(missing_docs)]

pub use sse_proto;
pub use tokio_util::io::ReaderStream;

#[cfg(feature = "client")]
mod client;
mod codec;
#[cfg(feature = "server")]
mod hub;
#[cfg(feature = "server")]
mod server;
mod stream;

#[cfg(feature = "client")]
pub use client::{BoxError, BuildError, Builder, Error, Event, EventSource};
pub use codec::{CodecError, SseDecoder, SseEncoder};
#[cfg(feature = "server")]
pub use hub::{Hub, HubBuilder, Published};
#[cfg(feature = "server")]
pub use server::{LastEventId, SendError, Sender, SseBody, channel, last_event_id, set_headers};
pub use sse_proto::{OwnedEvent, OwnedItem, ReadyState};
pub use stream::{EventStream, ItemStream, StreamError};
