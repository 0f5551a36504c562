//! Server-Sent Events on any async runtime: the code between the sans-IO core,
//! [`sse_proto`], and a runtime, written once.
//!
//! `sse-proto` decides everything (parsing, encoding, the client's reconnection
//! model, the keep-alive schedule, the hub's replay and lag rules) and does no I/O.
//! This crate drives it with futures: it turns streams of byte chunks into events,
//! serves a stream as a response body, fans a feed out to many bodies, and runs the
//! reconnecting client. It does not spawn tasks or touch sockets: what it needs
//! from a runtime is a clock and a timer ([`Runtime`]), and from an HTTP client one
//! method ([`Transport`]). The runtime adapters (`sse-tokio`, `sse-async-std`)
//! implement those two traits, add their I/O traits, and re-export these types under
//! their runtime, so that `sse_tokio::Hub` and `sse_async_std::Hub` are one type for
//! two runtimes, as `quinn` is one crate over `quinn-proto` for several runtimes.
//!
//! | what | where the decision is | the driver here |
//! |---|---|---|
//! | parsing a stream of chunks | [`sse_proto::OwnedParser`] | [`ItemStream`], [`EventStream`], [`EventBatches`] |
//! | what a server stream sends next | [`sse_proto::ServerStream`] | [`SseBody`] |
//! | fan-out, replay, lag, close | [`sse_proto::Broadcast`] | [`Hub`] |
//! | request, reconnect, fail | [`sse_proto::Connection`] | [`EventSource`] |
//!
//! # Pull APIs
//!
//! One convention, in every crate of the project: `None` from a stream is its end,
//! and an `Err` item is the last one (the transport failed, or the client failed for
//! good). What the stream recovers from is an `Ok` item: an event over the parser's
//! limit is [`OwnedItem::Skipped`] (or [`SourceEvent::Skipped`], or counted by
//! [`EventStream::skipped`]), and a connection being reestablished is
//! [`SourceEvent::Reconnecting`]. So `while let Some(x) = stream.try_next().await?`
//! reads everything there is and stops only where the stream does. The sans-IO pull
//! APIs below (`OwnedParser::next`, `Connection::poll_event`) answer `None` for
//! "nothing now, give me more input or time", which is never the end.
//!
//! # Crate features
//!
//! - `axum`: `IntoResponse` for [`SseBody`] and `FromRequestParts` for
//!   [`LastEventIdHeader`].
//! - `rustls`: [`Builder::tls_config`], for adapters whose transport speaks TLS.
#![deny(missing_docs)]

pub use sse_proto;

mod body;
mod client;
mod headers;
mod hub;
mod runtime;
mod shutdown;
mod stream;

pub use body::{SendError, Sender, SseBody, channel};
pub use client::{
    BodyStream, BoxError, BuildError, Builder, DefaultTransport, EventSource, FAILED_BODY_LIMIT,
    FAILED_BODY_TIME, FailedResponse, Opened, Reconnect, ResponseFuture, SourceError, SourceEvent,
    Transport, TransportOptions,
};
pub use headers::{LastEventIdHeader, last_event_id, set_headers, unavailable};
pub use hub::{Hub, HubBuilder};
pub use runtime::{Runtime, Timer};
pub use shutdown::Shutdown;
pub use sse_proto::{
    BatchEvent, EventBatch, OwnedEvent, OwnedItem, PublishError, Published, ReadyState,
    ReconnectPolicy, SubscribeError,
};
pub use stream::{EventBatches, EventStream, ItemStream};
