//! Sans-IO Server-Sent Events.
//!
//! `sse-proto` is the protocol core of a Server-Sent Events stack: the
//! `text/event-stream` format and the EventSource processing model of the WHATWG HTML
//! Standard, with no I/O, no clock and no runtime. Bytes go in, events come out; the
//! runtime adapters (`sse-tokio`, `sse-async-std`) only move bytes and time.
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
//!         Item::Retry(ms) => seen.push(format!("retry {ms}")),
//!         _ => {}
//!     }
//! }
//! assert_eq!(seen, ["retry 5000", "greeting: hello\nworld"]);
//! ```
//!
//! The parser follows the spec's "Parsing an event stream" and "Interpreting an event
//! stream" to the letter: CR, LF and CRLF line ends (also split across chunks), one
//! leading BOM stripped, `id` values with NUL ignored, digits-only `retry`, one
//! trailing LF removed from data, no event for an empty data buffer, and a pending
//! event discarded at the end of the stream. Events borrow from the input where they
//! can; steady-state parsing allocates nothing.
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
//! - `alloc`: growable buffers ([`Parser::new`]), owned events ([`OwnedEvent`]) and
//!   the [`Connection`] state machine (URLs, headers, request bodies). Without it,
//!   [`Parser::from_slice`] works in a buffer you provide.
//! - `std` (default, implies `alloc`): [`EventReader`], a blocking reader over any
//!   `std::io::Read`.
#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

#[cfg(feature = "alloc")]
mod connection;
mod error;
mod item;
mod parser;
#[cfg(feature = "std")]
mod reader;
mod storage;
mod text;
mod time;

#[cfg(feature = "alloc")]
pub use connection::{
    Backoff, ConnectError, Connection, ConnectionConfig, ConnectionError, ConnectionEvent, Headers,
    ReadyState, Request, RetryPolicy,
};
pub use error::Error;
#[cfg(feature = "alloc")]
pub use item::OwnedEvent;
pub use item::{DEFAULT_EVENT_TYPE, Diagnostic, Event, Item};
pub use parser::{Buffers, Config, DEFAULT_MAX_EVENT_SIZE, Feed, Parser};
#[cfg(feature = "std")]
pub use reader::{EventReader, ReadError};
pub use storage::{CapacityError, SliceStorage, Storage};
pub use text::Text;
pub use time::Time;
