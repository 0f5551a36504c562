//! Server-Sent Events over `futures-io`, for smol and async-std alike: the adapter of
//! [`sse_io`] to the `async-io` reactor, over the sans-IO core [`sse_proto`].
//!
//! Everything runtime-neutral is `sse-io`'s, re-exported here under the [`AsyncIo`]
//! runtime: the event streams, the server body, the hub and the reconnecting client
//! are the same types, with the same names and behaviour, as `sse_tokio`'s, and
//! every protocol decision is `sse-proto`'s. What this crate adds is what differs
//! here: the timer (`async_io::Timer`, which smol and async-std both run on, and
//! which async-io drives from a thread of its own when no runtime does),
//! `futures_io::AsyncRead` input ([`from_reader`], [`ReaderStream`]), the body as an
//! `AsyncRead` ([`BodyReader`]) and the HTTP client ([`AsyncIoClient`]: hyper 1 over
//! `async-net`). Nothing here spawns a task, so it runs under any executor.
//! (async-std is discontinued upstream; smol is the live runtime behind the same
//! traits. The tests run on both.)
//!
//! # Consuming
//!
//! [`EventStream`] and [`ItemStream`]: events (or every item) as a `Stream`, over
//! any `Stream<Item = Result<B, E>>` of byte chunks (`B: Into<Bytes>`: an HTTP
//! client's body stream, an [`SseBody`]) or any `futures_io::AsyncRead`
//! ([`from_reader`]); [`EventStream::batches`] takes the events a chunk at a time
//! ([`EventBatch`]), for chunks that hold many, and
//! [`EventStream::next_batch_into`] reads them into one batch, chunk after chunk.
//! [`EventSource`] (feature `client`,
//! default): the reconnecting client.
//!
//! # Serving
//!
//! [`channel`] gives a [`Sender`] and an [`SseBody`]: a `Stream` of `Bytes` and an
//! `http_body::Body` (or, through [`BodyReader`], an `AsyncRead`) with keep-alives
//! and an initial `retry`, behind a bounded queue; [`Sender::closed`] says when the
//! server dropped the body because the client went away. [`Hub`] broadcasts with
//! replay. [`RESPONSE_HEADERS`] are the response headers an event stream needs;
//! `examples/clock.rs` is a small server on bare smol
//! (`cargo run -p sse-async-std --example clock`, then `curl -N
//! http://127.0.0.1:8080/`).
//!
//! A whole exchange over loopback, on smol: a bare-bones HTTP/1.1 server copies the
//! body into its socket, and the client decodes its socket.
//!
//! A whole exchange over loopback, on smol: a bare-bones HTTP/1.1 server copies the
//! body into its socket, and the client decodes its socket.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use smol::io::{AsyncReadExt, AsyncWriteExt};
//! use smol::net::{TcpListener, TcpStream};
//! use smol::stream::StreamExt;
//! use sse_proto::Message;
//!
//! smol::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!
//!     // The server: one response, then the connection closes.
//!     let server = smol::spawn(async move {
//!         let (mut socket, _) = listener.accept().await?;
//!         let mut request = [0u8; 1024];
//!         let _ = socket.read(&mut request).await?; // a real server parses this
//!         let (sender, body) = sse_async_std::channel(16);
//!         let body = body.keep_alive(Duration::from_secs(15));
//!         smol::spawn(async move {
//!             for n in 1..=3 {
//!                 let message = Message::new(format!("tick {n}")).id(n.to_string());
//!                 if sender.send(message).await.is_err() {
//!                     return; // the client went away
//!                 }
//!             }
//!         })
//!         .detach();
//!         let mut head = String::from("HTTP/1.1 200 OK\r\nConnection: close\r\n");
//!         for (name, value) in sse_async_std::RESPONSE_HEADERS {
//!             head += &format!("{name}: {value}\r\n");
//!         }
//!         socket.write_all(format!("{head}\r\n").as_bytes()).await?;
//!         smol::io::copy(sse_async_std::BodyReader::new(body), &mut socket).await?;
//!         socket.close().await
//!     });
//!
//!     // The client: send a request, skip the response head, decode the rest.
//!     let mut socket = TcpStream::connect(addr).await?;
//!     socket.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").await?;
//!     let mut head = Vec::new();
//!     while !head.ends_with(b"\r\n\r\n") {
//!         let mut byte = [0u8];
//!         socket.read_exact(&mut byte).await?;
//!         head.push(byte[0]);
//!     }
//!     let mut events = sse_async_std::from_reader(socket);
//!     let mut seen = Vec::new();
//!     while let Some(event) = events.next().await {
//!         seen.push(event?.into_data());
//!     }
//!     assert_eq!(seen, ["tick 1", "tick 2", "tick 3"]);
//!     assert_eq!(events.parser().last_event_id(), "3");
//!     server.await?;
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok(())
//! # }
//! ```
//!
//! # Runtimes
//!
//! Nothing here spawns a task or needs a particular executor. The keep-alive timer is
//!
//! # Crate features
//!
//! - `client` (default): [`EventSource::new`] and [`Builder::connect`] with
//!   [`AsyncIoClient`] (hyper 1 over `async-net`, HTTP/1.1 and HTTP/2). (With any
//!   other [`Transport`], the client needs no feature.)
//! - `rustls`: `https://` URLs for the client, with rustls (ring) and the webpki root
//!   certificates; HTTP/2 by ALPN.
//! - `axum`: `IntoResponse` for [`SseBody`] and `FromRequestParts` for
//!   [`LastEventIdHeader`].
#![deny(missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

pub use sse_proto::RESPONSE_HEADERS;

mod body_reader;
mod reader;
#[cfg(feature = "client")]
mod transport;

pub use body_reader::BodyReader;
pub use reader::{DEFAULT_READ_CAPACITY, ReaderStream};
#[cfg(feature = "client")]
pub use transport::AsyncIoClient;

/// The `async-io` reactor, for [`sse_io`]: the clock and timer of smol and
/// async-std.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncIo;

/// An `async_io::Timer` as [`sse_io`]'s timer.
#[derive(Debug)]
pub struct AsyncIoTimer(async_io::Timer);

impl Future for AsyncIoTimer {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

impl sse_io::Timer for AsyncIoTimer {
    fn reset(&mut self, deadline: Instant) {
        self.0.set_at(deadline);
    }
}

impl sse_io::Runtime for AsyncIo {
    type Timer = AsyncIoTimer;

    fn now() -> Instant {
        Instant::now()
    }

    fn timer(deadline: Instant) -> AsyncIoTimer {
        AsyncIoTimer(async_io::Timer::at(deadline))
    }
}

sse_io::runtime_types!(AsyncIo, "async-io");

/// A sender and the body it feeds, with a queue of `capacity` items between them
/// ([`sse_io::channel`] on async-io).
///
/// ```
/// use smol::stream::StreamExt;
/// use sse_proto::Message;
///
/// smol::block_on(async {
///     let (sender, mut body) = sse_async_std::channel(4);
///     sender.send(Message::new("one")).await.unwrap();
///     drop(sender);
///     assert_eq!(body.next().await.unwrap().unwrap(), "data: one\n\n");
///     assert!(body.next().await.is_none());
/// });
/// ```
///
/// # Panics
///
/// Panics if `capacity` is zero.
pub fn channel(capacity: usize) -> (Sender, SseBody) {
    sse_io::channel(capacity)
}

/// The events read from `reader`: any `futures_io::AsyncRead`, such as a smol or
/// async-std `TcpStream` past the response head, or a child's stdout.
///
/// ```
/// use smol::stream::StreamExt;
///
/// smol::block_on(async {
///     let reader: &[u8] = b"data: from a reader\n\n";
///     let mut events = sse_async_std::from_reader(reader);
///     assert_eq!(events.next().await.unwrap().unwrap().data(), "from a reader");
/// });
/// ```
pub fn from_reader<R: futures_io::AsyncRead>(reader: R) -> EventStream<ReaderStream<R>> {
    EventStream::new(ReaderStream::new(reader))
}
