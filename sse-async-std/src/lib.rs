//! Server-Sent Events over `futures-io`, for smol and async-std alike: the runtime
//! adapter over [`sse_proto`].
//!
//! The adapter only moves bytes and time between the runtime and the sans-IO core;
//! every protocol decision (parsing, encoding, the keep-alive schedule) lives in
//! `sse-proto`. It is written against the `futures-core` and `futures-io` traits,
//! which smol and async-std share, so it serves both (async-std is discontinued
//! upstream; smol is the live runtime behind the same traits) and any other executor.
//!
//! # Consuming
//!
//! [`EventStream`] and [`ItemStream`]: events (or every item) as a `Stream`, over
//! any `Stream<Item = Result<B, E>>` of byte chunks (`B: AsRef<[u8]>`: an HTTP
//! client's body stream, an [`SseBody`]) or any `futures_io::AsyncRead`
//! ([`EventStream::from_reader`], through [`ReaderStream`]).
//!
//! # Serving
//!
//! [`channel`] (feature `server`) gives a [`Sender`] and an [`SseBody`]: a `Stream`
//! of `Bytes` (or, with [`SseBody::into_reader`], an `AsyncRead`) with keep-alives
//! and an initial `retry`, behind a bounded queue; [`Sender::closed`] says when the
//! server dropped the body because the client went away. [`HEADERS`] are the
//! response headers an event stream needs. `examples/clock.rs` is a small server on
//! bare smol (`cargo run -p sse-async-std --example clock`, then
//! `curl -N http://127.0.0.1:8080/`).
//!
//! A whole exchange over loopback, on smol: a bare-bones HTTP/1.1 server copies the
//! body into its socket, and the client decodes its socket.
//!
//! ```
//! # #[cfg(not(feature = "server"))]
//! # fn main() {}
//! # #[cfg(feature = "server")]
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
//!         for (name, value) in sse_async_std::HEADERS {
//!             head += &format!("{name}: {value}\r\n");
//!         }
//!         socket.write_all(format!("{head}\r\n").as_bytes()).await?;
//!         smol::io::copy(body.into_reader(), &mut socket).await?;
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
//!     let mut events = sse_async_std::EventStream::from_reader(socket);
//!     let mut seen = Vec::new();
//!     while let Some(event) = events.next().await {
//!         seen.push(event?.data);
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
//! an `async_io::Timer`: smol's timer, and the one async-std runs on; async-io drives
//! it from a thread of its own when no runtime does. The tests run every scenario
//! that touches a runtime (sockets, tasks, timers) on both smol and async-std.
//!
//! # Coming from sse-tokio
//!
//! [`EventStream`], [`ItemStream`], [`StreamError`], [`ReaderStream`], [`channel`],
//! [`Sender`], [`SendError`] and [`SseBody`]'s `keep_alive` and `retry` have the
//! same names, signatures and behaviour as in `sse_tokio`, so switching is mostly a
//! matter of the crate's name. What differs:
//!
//! - [`SseBody`] is a `Stream` of `Bytes` and an `AsyncRead`
//!   ([`SseBody::into_reader`]), not an `http_body::Body`; there is no axum support,
//!   and [`HEADERS`] takes the place of `set_headers`.
//! - There are no `tokio_util` codecs (`SseDecoder`, `SseEncoder`): [`ItemStream`]
//!   decodes, and [`sse_proto::Encode`] encodes into any buffer.
//! - There is no reconnecting client (`EventSource`): it is not written. A client
//!   can drive [`sse_proto::Connection`] (the EventSource processing model as a state
//!   machine) with its HTTP client of choice, feeding the body through an
//!   [`ItemStream`] or straight into the connection.
//!
//! # Crate features
//!
//! - `server` (default): [`channel`], [`Sender`], [`SseBody`], [`BodyReader`],
//!   [`HEADERS`]; brings in `async-channel` and `async-io`. Without it, the crate
//!   only decodes, on `futures-core`, `futures-io` and `bytes`.
#![deny(missing_docs)]

pub use sse_proto;

mod reader;
#[cfg(feature = "server")]
mod server;
mod stream;

pub use reader::{DEFAULT_READ_CAPACITY, ReaderStream};
#[cfg(feature = "server")]
pub use server::{BodyReader, HEADERS, SendError, Sender, SseBody, channel};
pub use sse_proto::{OwnedEvent, OwnedItem};
pub use stream::{EventStream, ItemStream, StreamError};
