//! Sans-IO Server-Sent Events.
//!
//! `sse-proto` is the protocol core of a Server-Sent Events stack: the
//! `text/event-stream` format and the EventSource processing model of the WHATWG HTML
//! Standard, with no I/O, no clock and no runtime. Bytes go in, events come out; the
//! layers above it only move bytes and time.
//!
//! # Parsing
//!
//! ```
//! use sse_proto::{Item, Parser};
//!
//! let mut parser = Parser::new();
//! let mut input: &[u8] = b"retry: 5000\nevent: greeting\ndata: hello\ndata: world\n\n";
//! let mut seen = Vec::new();
//! while let Some(item) = parser.parse(&mut input).unwrap() {
//!     match item {
//!         Item::Event(event) => seen.push(format!("{}: {}", event.event_type(), event.data())),
//!         Item::Retry(time) => seen.push(format!("retry {time:?}")),
//!         _ => {}
//!     }
//! }
//! assert_eq!(seen, ["retry 5s", "greeting: hello\nworld"]);
//! ```
//!
//! The parser follows the spec's "Parsing an event stream" and "Interpreting an event
//! stream" to the letter: CR, LF and CRLF line ends (also split across chunks), one
//! leading BOM stripped, `id` values with NUL ignored, digits-only `retry`, one
//! trailing LF removed from data, no event for an empty data buffer, and a pending
//! event discarded at the end of the stream. Events borrow from the input where they
//! can; steady-state parsing allocates nothing.
//!
//! # Encoding
//!
//! ```
//! use std::time::Duration;
//! use sse_proto::{Comment, Encode, EncodeError, KEEP_ALIVE, Message, Retry};
//!
//! let mut buf = [0u8; 256];
//! let mut len = Retry::new(Duration::from_secs(5)).encode(&mut buf)?;
//! let message = Message::new("line 1\r\nline 2").event("update").id("1");
//! len += message.encode(&mut buf[len..])?;
//! len += Comment::new("still here").encode(&mut buf[len..])?;
//! buf[len..len + KEEP_ALIVE.len()].copy_from_slice(KEEP_ALIVE);
//! len += KEEP_ALIVE.len();
//! assert_eq!(
//!     &buf[..len],
//!     b"retry: 5000\n\nevent: update\nid: 1\ndata: line 1\ndata: line 2\n\n: still here\n\n:\n\n"
//! );
//!
//! // No input can inject a field or an event: it is refused, and nothing is written.
//! let hostile = Message::new("ok").id("1\n\ndata: forged");
//! assert_eq!(hostile.encode(&mut buf), Err(EncodeError::LineBreakInId { index: 1 }));
//! # Ok::<(), EncodeError>(())
//! ```
//!
//! Everything the encoder writes parses back with [`Parser`] to what went in:
//!
//! - Each [`Message`], [`Comment`], [`Retry`] and [`LastEventId`] is one whole block
//!   ending in a blank line, so encoded items can be sent in any order and never
//!   merge. A [`LastEventId`] block sets the client's last event ID without an event.
//! - Fields are always written `name: value`. The parser removes exactly one space
//!   after the colon, so a value that begins with a space keeps it.
//! - Data is split into one `data:` line per line, at CR, LF and CRLF; the client
//!   joins the lines with LF. So data arrives with every line end normalised to LF: SSE
//!   has no way to carry a CR, and a CRLF becomes one LF, not two. Comments are split
//!   the same way.
//! - Empty data is written as `data: `, so the client still dispatches the event.
//! - A CR or LF in `event` or `id`, or a NUL in `id` (which makes clients ignore the
//!   field), is refused with an [`EncodeError`] rather than rewritten or panicked on.
//!   An `id` of `""` is allowed: it resets the client's last event ID, unlike no `id`.
//! - `retry` is written in milliseconds, from a `Duration`; a non-zero time under a
//!   millisecond is written as 1, never as the 0 that has clients reconnect at once.
//!
//! Encoding into a `&mut [u8]` (or, with the `bytes` feature, any `BufMut`) allocates
//! nothing and, when the buffer is too small, fails with the exact size needed and
//! writes nothing; [`Encode::encoded_len`] gives that size beforehand.
//!
//! A server keeps a quiet stream alive with [`KEEP_ALIVE`] comments; [`Heartbeat`] is
//! the schedule (when one is due), so that every runtime adapter follows the same
//! rule. [`ServerStream`] (with `alloc`) is the order of a whole stream: the initial
//! `retry`, what the source yields, a keep-alive when the stream is quiet.
//!
//! A broadcasting server keeps the last events it sent in a [`History`] (with
//! `alloc`), to answer a client that reconnects with `Last-Event-ID`: the events it
//! missed, or the news that its ID is unknown. [`Broadcast`] is the whole hub as a
//! value: the history, one shared log of live events with a position per subscriber,
//! what a subscriber that falls behind is sent, and closing. A runtime layer puts it
//! behind a lock and wakes the subscribers it told to wait. [`Topics`] is a hub of
//! many such streams (per user, per document) under one sequence, with
//! subscriptions that follow several of them in one order.
//!
//! # Connecting
//!
//! [`Connection`] is the other half of a client: the EventSource processing model
//! (request, announce, reconnect with `Last-Event-ID`, fail) as a state machine that
//! is handed what the network did and the time, and says what to do next.
//!
//! ```
//! use sse_proto::{Connection, ConnectionConfig, ConnectionEvent, Item, Time};
//!
//! let mut conn = Connection::new(Time::ZERO, "https://example.com/events", ConnectionConfig::new())?;
//! let request = conn.poll_request().unwrap();
//! assert_eq!(request.header("Accept"), Some("text/event-stream"));
//!
//! conn.handle_response(Time::from_millis(30), 200, [("Content-Type", "text/event-stream")]);
//! assert_eq!(conn.poll_event(), Some(ConnectionEvent::Open));
//! let mut body: &[u8] = b"data: hi\n\n";
//! let Some(Item::Event(event)) = conn.handle_body(Time::from_millis(31), &mut body)? else {
//!     panic!()
//! };
//! assert_eq!(event.data(), "hi");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//!
//! - `alloc`: growable buffers ([`Parser::new`]), owned events and items
//!   ([`OwnedEvent`], [`OwnedItem`], whose text is a [`ByteString`] that can share
//!   the chunk it came in: [`Sharer`], [`OwnedParser`]; or a chunk's events held
//!   together, [`EventBatch`]), [`Encode::to_vec`],
//!   the [`Connection`] state machine (URLs, headers, request bodies), the server's
//!   [`ServerStream`] schedule, replay buffer ([`History`]) and hub ([`Broadcast`]).
//!   It brings in the `bytes` and `bytestring` crates, and `simdutf8`, which
//!   checks owned text as UTF-8 (with SIMD where the CPU has it, detected at run
//!   time with `std`; `core`'s check on targets without SIMD). Without it,
//!   [`Parser::from_slice`] works in a buffer you provide, and the encoder writes
//!   into one.
//! - `std` (default, implies `alloc`): [`EventReader`], a blocking reader over any
//!   `std::io::Read`.
//! - `bytes` (implies `alloc`): `Encode::encode_buf` into any `bytes::BufMut`, and
//!   `Encode::to_bytes`.
//! - `serde` (implies `alloc`): `Message::json`, data serialized with `serde_json`,
//!   and `OwnedEvent::json`, data parsed.
//! - `proptest` (implies `std`): the `strategies` module, proptest strategies for
//!   messages, event streams and chunkings, to property-test any SSE code.
//! - `embedded-io`, `embedded-io-async`: [`EmbeddedReader`], events from an
//!   `embedded_io(_async)::Read` into a buffer you provide, and [`write_message`]
//!   (`write_message_async`), messages and keep-alives to a `Write`; neither needs
//!   `alloc`.
//!
//! # Code size
//!
//! Built with `--cfg sse_proto_small` (in `RUSTFLAGS`, or a `.cargo/config.toml`'s
//! `build.rustflags`, as the repository's `bare-metal/` example does), the parser
//! reads every block with its general state machine, without the fast paths for
//! common blocks, and plain loops replace the vectorised searches and the 64-bit
//! division: the same items and the same bytes out, in less code and more time. On
//! a Cortex-M4 at `opt-level = "z"`, the parser adds about 7 KiB of `.text` and the
//! parser with the encoder about 9 KiB, where the default build adds about 9 and
//! 14 KiB. It is a `cfg` rather than a feature so that `--all-features` builds
//! keep the fast paths.
//!
//! # Unsafe code
//!
//! None without `alloc`. With it, two blocks, each beside what it rests on and
//! run under Miri by the repository's CI: a [`ByteString`] made of bytes that
//! `simdutf8` has just checked as UTF-8 (instead of checking them twice), and a
//! [`ReadBuffer`] taken back for more reads without zeroing again the memory it
//! zeroed when it was allocated.
#![no_std]
#![deny(missing_docs)]
#![deny(unsafe_code, clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

#[cfg(feature = "alloc")]
mod batch;
#[cfg(feature = "alloc")]
mod broadcast;
mod buffered;
#[cfg(feature = "alloc")]
mod connection;
#[cfg(any(feature = "embedded-io", feature = "embedded-io-async"))]
mod embedded;
mod encoder;
mod error;
#[cfg(feature = "bench-floors")]
#[doc(hidden)]
pub mod floors;
mod heartbeat;
#[cfg(feature = "alloc")]
mod history;
mod item;
#[cfg(feature = "alloc")]
mod owned;
#[cfg(feature = "alloc")]
mod owned_event;
mod parser;
#[cfg(feature = "alloc")]
mod read_buffer;
#[cfg(feature = "std")]
mod reader;
#[cfg(feature = "alloc")]
mod server_stream;
#[cfg(feature = "alloc")]
mod shared;
mod storage;
#[cfg(any(feature = "proptest", all(test, feature = "std")))]
pub mod strategies;
mod text;
mod time;
#[cfg(feature = "alloc")]
mod topics;
#[cfg(feature = "alloc")]
mod utf8;

#[cfg(feature = "alloc")]
pub use batch::{BatchEvent, BatchIntoIter, BatchIter, EventBatch};
#[cfg(feature = "alloc")]
pub use broadcast::{
    Broadcast, DEFAULT_MAX_SUBSCRIBERS, DEFAULT_SUBSCRIBER_BYTES, DEFAULT_SUBSCRIBER_CAPACITY,
    Next, Published, Subscription, TooManySubscribers,
};
pub use buffered::ReadError;
/// The `bytes` crate's shared buffer, re-exported: what [`Sharer`] and the
/// adapters share chunks as.
#[cfg(feature = "alloc")]
pub use bytes::Bytes;
/// The `bytes` crate's growable buffer, re-exported: the buffers of the parser
/// inside an [`OwnedParser`], which splits assembled events off them.
#[cfg(feature = "alloc")]
pub use bytes::BytesMut;
/// The owned string type of [`OwnedItem`]s, re-exported: a `str` in reference-counted
/// `Bytes`.
#[cfg(feature = "alloc")]
pub use bytestring::ByteString;
#[cfg(feature = "alloc")]
pub use connection::{
    Backoff, Connection, ConnectionConfig, ConnectionError, ConnectionEvent, Headers, ReadyState,
    ReconnectPolicy, Request, RequestError, RetryPolicy,
};
#[cfg(feature = "embedded-io")]
pub use embedded::write_message;
#[cfg(feature = "embedded-io-async")]
pub use embedded::write_message_async;
#[cfg(any(feature = "embedded-io", feature = "embedded-io-async"))]
pub use embedded::{EmbeddedReader, WriteError};
pub use encoder::{
    Comment, Encode, EncodeError, KEEP_ALIVE, LastEventId, Message, RESPONSE_HEADERS, Retry,
};
pub use error::Error;
pub use heartbeat::Heartbeat;
#[cfg(feature = "alloc")]
pub use history::{
    Backfill, DEFAULT_MAX_BYTES, DEFAULT_MAX_EVENTS, Entries, History, HistoryEntry, Replay,
};
pub use item::{DEFAULT_EVENT_TYPE, Diagnostic, Event, Item};
#[cfg(feature = "alloc")]
pub use item::{OwnedDiagnostic, OwnedItem};
#[cfg(feature = "alloc")]
pub use owned::OwnedParser;
#[cfg(feature = "alloc")]
pub use owned_event::OwnedEvent;
pub use parser::{Buffers, Config, DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_FIELD_SIZE, Feed, Parser};
#[cfg(feature = "alloc")]
pub use read_buffer::ReadBuffer;
#[cfg(feature = "std")]
pub use reader::EventReader;
#[cfg(feature = "alloc")]
pub use server_stream::ServerStream;
#[cfg(feature = "alloc")]
pub use shared::Sharer;
pub use storage::{CapacityError, SliceStorage, Storage};
pub use text::Text;
pub use time::Time;
#[cfg(feature = "alloc")]
pub use topics::{
    DEFAULT_MAX_TOPICS, DEFAULT_TOPIC_BYTES, DEFAULT_TOPIC_EVENTS, DEFAULT_TOPICS_PER_SUBSCRIPTION,
    PublishError, SubscribeError, TooManyTopics, TopicKey, TopicSubscription, Topics,
};
