//! Server-Sent Events over `futures-io`, for smol and async-std alike: the runtime
//! adapter over [`sse_proto`].
//!
//! The adapter only moves bytes between the runtime's I/O traits and the sans-IO
//! core; every protocol decision (parsing, encoding) lives in `sse-proto`. It is
//! written against `futures-core` and `futures-io`, the traits smol and async-std
//! share, so it does not care which of them runs it.
//!
//! # Consuming
//!
//! [`EventStream`] and [`ItemStream`]: events (or every item) as a `Stream`, over
//! any `Stream<Item = Result<B, E>>` of byte chunks or any `futures_io::AsyncRead`
//! ([`EventStream::from_reader`], through [`ReaderStream`]).
#![deny(missing_docs)]

pub use sse_proto;

mod reader;
mod stream;

pub use reader::{DEFAULT_CAPACITY, ReaderStream};
pub use sse_proto::{OwnedEvent, OwnedItem};
pub use stream::{EventStream, ItemStream, StreamError};
