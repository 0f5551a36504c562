//! The event-stream serializer: [`Message`]s, [`Comment`]s, [`Retry`] times and
//! [`LastEventId`]s in, `text/event-stream` bytes out.
//!
//! Every server adapter has to turn values into bytes that a client's parser reads
//! back exactly, and that is where SSE servers go wrong: one panics on a newline in an
//! `id` and turns a CRLF in data into two line ends, two drop the leading space of a
//! value, one writes `retry` in seconds, several let a newline in an `event` or `id`
//! inject fields or whole events. This module does it once, without allocating, and
//! is tested against this crate's [`Parser`](crate::Parser) for a lossless round trip.
//!
//! # The rules
//!
//! - **Every item is one whole block.** A message, a comment, a retry time or a last
//!   event ID ends with a blank line, so encoded items can be concatenated in any order
//!   and never merge into, or split, each other.
//! - **Always `field: value`.** The parser removes exactly one space after the colon
//!   ("If value starts with a U+0020 SPACE character, remove it from value"), so the
//!   encoder always writes one; a value that itself begins with a space survives.
//! - **Data is split into lines.** The spec joins the values of a block's `data`
//!   lines with LF, and treats CR, LF and CRLF alike as line ends. So data is written
//!   as one `data:` line per line of text, split at CR, LF and CRLF, and the client
//!   gets the same text with every line end normalised to LF. A CRLF is one line end
//!   and becomes one LF, not two. SSE cannot carry a CR in data: no encoding can
//!   deliver one.
//! - **Empty data is still sent.** A client dispatches only a block that had a `data`
//!   line, so empty data is written as `data: ` and arrives as an event with empty
//!   data. (A [`Message`] therefore always dispatches exactly one event.)
//! - **`event` and `id` are checked, not rewritten.** A CR or LF in either would end
//!   the line and let the rest inject fields, so encoding fails with an
//!   [`EncodeError`]; so does a NUL in an `id`, because a client ignores the whole
//!   field ("If the field value does not contain U+0000 NULL, then set the last event
//!   ID buffer to the field value. Otherwise, ignore the field."). Nothing panics,
//!   and no value is silently altered.
//! - **Comments are split like data**, one `:` line per line of text.
//! - **`retry` is in milliseconds**, the unit the spec gives the field; the API takes
//!   a [`Duration`] so the unit cannot be mixed up. It is rounded down to whole
//!   milliseconds, except that a non-zero time is never written as `retry: 0`, which
//!   tells clients to reconnect at once: under a millisecond, it is written as 1.
//!
//! # Buffers
//!
//! [`Encode::encoded_len`] gives the exact size beforehand; [`Encode::encode`] writes
//! into a `&mut [u8]` and, if it is too short, writes nothing and reports the size it
//! needs. With the `bytes` feature, [`Encode::encode_buf`] writes into any
//! [`bytes::BufMut`]. The `alloc` feature adds [`Encode::to_vec`]. Nothing is
//! allocated on the `&mut [u8]` and `BufMut` paths.
//!
//! # Speed
//!
//! Every value is first checked for a byte below 0x0E (CR, LF and NUL are all below
//! it) with a branch-free minimum over its bytes, which compiles to SIMD on 16 bytes
//! or more and to two word-sized bit tricks below that. Values without one (nearly
//! all: JSON, for one, escapes control characters) are then known to have no line end
//! and no NUL, so the data is written as one line. Only a value that has such a byte
//! (a line end, a NUL, or say a tab) is searched exactly with `memchr`, and only data
//! with line ends is written line by line.
//!
//! [`Encode::encode`] goes one step further when the buffer has room for the longest
//! block the data could make (every byte of it a line end): it copies the data and
//! checks it in the same pass, since nothing can fail once writing has begun, and in
//! the rare case that the data has a low byte, writes the block again, measured.

use core::fmt;
use core::time::Duration;

use memchr::{memchr_iter, memchr3};

use crate::parser::find_line_end;

/// A keep-alive: an empty comment followed by a blank line (`:\n\n`).
///
/// Clients ignore it, but the bytes keep proxies and load balancers from closing an
/// idle connection, and let a client notice a dead one. It is a whole block, like
/// everything this module writes, so it can be sent between any two messages. (A
/// bare `:` line without the blank line has broken clients that wait for one.)
/// `Comment::new("")` encodes to the same bytes.
///
/// ```
/// use sse_proto::{Comment, Encode, KEEP_ALIVE, Parser};
///
/// assert_eq!(Comment::new("").to_vec().unwrap(), KEEP_ALIVE);
/// // A client sees no event.
/// let mut parser = Parser::new();
/// let mut input = KEEP_ALIVE;
/// assert!(parser.parse(&mut input).unwrap().is_none());
/// ```
pub const KEEP_ALIVE: &[u8] = b":\n\n";

/// The headers of an event-stream response, as `(name, value)` pairs; every server
/// adapter sets exactly these:
///
/// - `Content-Type: text/event-stream`;
/// - `Cache-Control: no-cache, no-transform`: no cache may keep or replay the stream,
///   and `no-transform` forbids intermediaries to recompress it (which buffers);
/// - `X-Accel-Buffering: no`: nginx (and servers that copy its convention) pass the
///   stream through instead of buffering it.
///
/// (`Content-Encoding: identity`, which some servers add against compression, is not
/// among them: RFC 9110 §8.4.1 reserves "identity" for `Accept-Encoding`.)
///
/// ```
/// let head: String = sse_proto::RESPONSE_HEADERS
///     .iter()
///     .map(|(name, value)| format!("{name}: {value}\r\n"))
///     .collect();
/// assert!(head.starts_with("Content-Type: text/event-stream\r\n"));
/// ```
pub const RESPONSE_HEADERS: [(&str, &str); 3] = [
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-cache, no-transform"),
    ("X-Accel-Buffering", "no"),
];

/// An event to send: data, and optionally an event type, an ID, a reconnection time
/// and a comment.
///
/// `T` is any string type: `Message<&str>` borrows, `Message<String>` owns, and
/// `Message<Arc<str>>` is cheap to clone for every subscriber of a broadcast. The
/// builder methods take anything that converts into `T`, so string literals work
/// with all of them.
///
/// A message always encodes to one block with at least one `data` line, so a client
/// dispatches exactly one event for it: event type [`event`](Message::event) (or
/// `"message"`), data [`data`](Message::data) with line ends normalised to LF, and
/// last event ID the latest [`id`](Message::id) sent. The checks (no line break in
/// `event` or `id`, no NUL in `id`) happen when it is encoded, see [`EncodeError`].
///
/// ```
/// use std::time::Duration;
/// use sse_proto::{Encode, Message};
///
/// let message = Message::new("line 1\r\nline 2")
///     .event("update")
///     .id("42")
///     .retry(Duration::from_secs(3));
/// assert_eq!(
///     message.to_vec().unwrap(),
///     b"event: update\nid: 42\nretry: 3000\ndata: line 1\ndata: line 2\n\n"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Message<T> {
    /// The data. Split into one `data` line per line of text; a client receives it
    /// with CR, LF and CRLF each turned into one LF.
    pub data: T,
    /// The event type (`event` field). `None`, or an empty string, gives the default
    /// type `"message"` at the client. Must not contain CR or LF.
    pub event: Option<T>,
    /// The event ID (`id` field), which becomes the client's last event ID, sent back
    /// as `Last-Event-ID` when it reconnects. `None` writes no `id` field, so the
    /// client keeps its last event ID; `Some("")` resets it to empty. Must not contain
    /// CR, LF or NUL.
    pub id: Option<T>,
    /// The reconnection time (`retry` field, written in whole milliseconds: see
    /// [`Message::retry`]).
    pub retry: Option<Duration>,
    /// A comment written before the fields; clients ignore it. Split into one comment
    /// line per line of text.
    pub comment: Option<T>,
}

impl<T> Message<T> {
    /// A message with this data and no other field.
    ///
    /// ```
    /// use sse_proto::{Encode, Message};
    ///
    /// assert_eq!(Message::new("hi").to_vec().unwrap(), b"data: hi\n\n");
    /// // Empty data is still an event.
    /// assert_eq!(Message::new("").to_vec().unwrap(), b"data: \n\n");
    /// ```
    pub const fn new(data: T) -> Self {
        Message {
            data,
            event: None,
            id: None,
            retry: None,
            comment: None,
        }
    }

    /// Sets the event type.
    ///
    /// ```
    /// use sse_proto::{Encode, EncodeError, Message};
    ///
    /// let message = Message::new("{}").event("user-joined");
    /// assert_eq!(message.to_vec().unwrap(), b"event: user-joined\ndata: {}\n\n");
    /// // A line break would inject a field: refused.
    /// let message = Message::new("x").event("a\nid: 666");
    /// assert_eq!(message.to_vec(), Err(EncodeError::LineBreakInEvent { index: 1 }));
    /// ```
    #[must_use]
    pub fn event(mut self, event: impl Into<T>) -> Self {
        self.event = Some(event.into());
        self
    }

    /// Sets the event ID. An empty ID is sent as `id: `, which resets the client's
    /// last event ID.
    ///
    /// ```
    /// use sse_proto::{Encode, Message};
    ///
    /// assert_eq!(Message::new("x").id("7").to_vec().unwrap(), b"id: 7\ndata: x\n\n");
    /// assert_eq!(Message::new("x").id("").to_vec().unwrap(), b"id: \ndata: x\n\n");
    /// ```
    #[must_use]
    pub fn id(mut self, id: impl Into<T>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the reconnection time, written in whole milliseconds as
    /// [`Retry::millis`] gives them: rounded down, but at least 1 for a non-zero time
    /// (`retry: 0` would have clients reconnect at once), and capped at `u64::MAX`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_proto::{Encode, Message};
    ///
    /// let message = Message::new("x").retry(Duration::from_millis(2500));
    /// assert_eq!(message.to_vec().unwrap(), b"retry: 2500\ndata: x\n\n");
    /// let message = Message::new("x").retry(Duration::from_micros(250));
    /// assert_eq!(message.to_vec().unwrap(), b"retry: 1\ndata: x\n\n");
    /// ```
    #[must_use]
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Sets a comment, written before the fields.
    ///
    /// ```
    /// use sse_proto::{Encode, Message};
    ///
    /// let message = Message::new("x").comment("two\nlines");
    /// assert_eq!(message.to_vec().unwrap(), b": two\n: lines\ndata: x\n\n");
    /// ```
    #[must_use]
    pub fn comment(mut self, comment: impl Into<T>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// A message borrowing this one's strings, for encoding or passing around without
    /// cloning.
    ///
    /// ```
    /// use sse_proto::Message;
    ///
    /// let owned: Message<String> = Message::new("x".to_string()).id("1");
    /// assert_eq!(owned.as_deref(), Message::new("x").id("1"));
    /// ```
    pub fn as_deref(&self) -> Message<&str>
    where
        T: AsRef<str>,
    {
        Message {
            data: self.data.as_ref(),
            event: self.event.as_ref().map(AsRef::as_ref),
            id: self.id.as_ref().map(AsRef::as_ref),
            retry: self.retry,
            comment: self.comment.as_ref().map(AsRef::as_ref),
        }
    }
}

#[cfg(feature = "serde")]
impl Message<alloc::string::String> {
    /// A message whose data is `value` as compact JSON (which has no line breaks, so
    /// it is one `data` line).
    ///
    /// ```
    /// use sse_proto::{Encode, Message};
    ///
    /// let message = Message::json(&serde_json::json!({"n": 1, "s": "a\nb"}))?
    ///     .event("count");
    /// assert_eq!(
    ///     message.to_vec().unwrap(),
    ///     b"event: count\ndata: {\"n\":1,\"s\":\"a\\nb\"}\n\n"
    /// );
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn json<V: serde::Serialize + ?Sized>(value: &V) -> Result<Self, serde_json::Error> {
        serde_json::to_string(value).map(Message::new)
    }
}

/// A comment block: one `:` line per line of text, then a blank line. Clients ignore
/// it; servers send comments as keep-alives (see [`KEEP_ALIVE`]) or to pad a stream.
///
/// ```
/// use sse_proto::{Comment, Encode};
///
/// assert_eq!(Comment::new("ping").to_vec().unwrap(), b": ping\n\n");
/// assert_eq!(Comment::new("a\r\nb").to_vec().unwrap(), b": a\n: b\n\n");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Comment<T>(pub T);

impl<T> Comment<T> {
    /// A comment with this text.
    ///
    /// ```
    /// use sse_proto::{Comment, Encode};
    ///
    /// assert_eq!(Comment::new(" indented").to_vec().unwrap(), b":  indented\n\n");
    /// ```
    pub const fn new(text: T) -> Self {
        Comment(text)
    }
}

/// A block that only sets the client's reconnection time: `retry: <ms>`, then a blank
/// line. Servers send it first, to set how long clients wait before reconnecting.
///
/// ```
/// use std::time::Duration;
/// use sse_proto::{Encode, Retry};
///
/// assert_eq!(Retry::new(Duration::from_secs(10)).to_vec().unwrap(), b"retry: 10000\n\n");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Retry(pub Duration);

impl Retry {
    /// A retry block for `time`, written in whole milliseconds (see
    /// [`millis`](Retry::millis)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_proto::{Encode, Retry};
    ///
    /// assert_eq!(Retry::new(Duration::from_micros(1999)).to_vec().unwrap(), b"retry: 1\n\n");
    /// ```
    pub const fn new(time: Duration) -> Self {
        Retry(time)
    }

    /// A retry block for `ms` milliseconds.
    ///
    /// ```
    /// use sse_proto::{Encode, Retry};
    ///
    /// assert_eq!(Retry::from_millis(1500).to_vec().unwrap(), b"retry: 1500\n\n");
    /// ```
    pub const fn from_millis(ms: u64) -> Self {
        Retry(Duration::from_millis(ms))
    }

    /// The value written: whole milliseconds, rounded down, capped at `u64::MAX`, and
    /// at least 1 for any non-zero time. A client told `retry: 0` reconnects at once,
    /// so a time under a millisecond (a rounding error more likely than a wish for a
    /// tight loop) is rounded up to the shortest wait the field can say. Zero stays 0.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sse_proto::Retry;
    ///
    /// assert_eq!(Retry::new(Duration::from_secs(2)).millis(), 2000);
    /// assert_eq!(Retry::new(Duration::from_micros(2500)).millis(), 2);
    /// assert_eq!(Retry::new(Duration::from_nanos(1)).millis(), 1);
    /// assert_eq!(Retry::new(Duration::ZERO).millis(), 0);
    /// assert_eq!(Retry::new(Duration::MAX).millis(), u64::MAX);
    /// ```
    pub const fn millis(&self) -> u64 {
        millis(self.0)
    }
}

impl From<Duration> for Retry {
    fn from(time: Duration) -> Self {
        Retry(time)
    }
}

/// A block that only sets the client's last event ID: `id: <id>`, then a blank line.
///
/// The block has no data, so the client dispatches no event, but the ID becomes its
/// last event ID all the same (the spec's dispatch sets the last event ID first, and
/// only then finds the data empty), to be sent back as `Last-Event-ID` when it
/// reconnects. Servers send it to move a client's position without an event, for
/// example past events it need not see, or, with an empty ID, to clear it. The ID is
/// checked as [`Message::id`] is: a CR, LF or NUL is refused with an [`EncodeError`].
///
/// ```
/// use sse_proto::{Encode, EncodeError, LastEventId, Parser};
///
/// assert_eq!(LastEventId::new("42").to_vec().unwrap(), b"id: 42\n\n");
/// // A client sees no event, but resumes from 42.
/// let mut parser = Parser::new();
/// let mut input: &[u8] = b"id: 42\n\n";
/// assert!(parser.parse(&mut input).unwrap().is_none());
/// assert_eq!(parser.last_event_id(), "42");
/// // An empty ID clears it.
/// assert_eq!(LastEventId::new("").to_vec().unwrap(), b"id: \n\n");
/// // A line break would inject fields: refused.
/// assert_eq!(
///     LastEventId::new("1\ndata: forged").to_vec(),
///     Err(EncodeError::LineBreakInId { index: 1 })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LastEventId<T>(pub T);

impl<T> LastEventId<T> {
    /// A block that sets the last event ID to `id`.
    ///
    /// ```
    /// use sse_proto::{Encode, EncodeError, LastEventId};
    ///
    /// assert_eq!(LastEventId::new("a-7").to_vec().unwrap(), b"id: a-7\n\n");
    /// // A client ignores an ID with a NUL, so it is refused.
    /// assert_eq!(LastEventId::new("a\0").validate(), Err(EncodeError::NulInId { index: 1 }));
    /// ```
    pub const fn new(id: T) -> Self {
        LastEventId(id)
    }
}

/// Why an item could not be encoded. Nothing was written.
///
/// ```
/// use sse_proto::{Encode, EncodeError, Message};
///
/// let mut buf = [0u8; 8];
/// let err = Message::new("hello").encode(&mut buf).unwrap_err();
/// assert_eq!(err, EncodeError::InsufficientSize { required_size: 13 });
/// assert_eq!(Message::new("x").id("a\0b").encode(&mut buf), Err(EncodeError::NulInId { index: 1 }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeError {
    /// The event type has a CR or LF at byte `index`. Written as is, it would end the
    /// `event` line early and the rest would be read as more fields, or as the blank
    /// line that dispatches an event.
    LineBreakInEvent {
        /// The byte offset of the first CR or LF.
        index: usize,
    },
    /// The ID has a CR or LF at byte `index` (see
    /// [`LineBreakInEvent`](EncodeError::LineBreakInEvent)).
    LineBreakInId {
        /// The byte offset of the first CR or LF.
        index: usize,
    },
    /// The ID has a NUL at byte `index`. A client ignores an `id` field containing
    /// NUL, so the ID would silently not be set.
    NulInId {
        /// The byte offset of the first NUL.
        index: usize,
    },
    /// The buffer is too small: the encoding needs `required_size` bytes. Nothing was
    /// written.
    InsufficientSize {
        /// The exact size needed, as [`Encode::encoded_len`] reports it.
        required_size: usize,
    },
    /// [`Encode::to_vec`] (or [`to_bytes`](Encode::to_bytes)) could not allocate the
    /// `required_size` bytes of the encoding: the allocator refused, or the size is
    /// over `isize::MAX`. Returned rather than aborting, as the allocation is fallible
    /// anyway where `to_vec` already has to return a `Result`.
    AllocationFailed {
        /// The size of the allocation that failed, as [`Encode::encoded_len`]
        /// reports it.
        required_size: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::LineBreakInEvent { index } => write!(
                f,
                "event type contains a line break at byte {index}, which would inject fields"
            ),
            EncodeError::LineBreakInId { index } => write!(
                f,
                "event ID contains a line break at byte {index}, which would inject fields"
            ),
            EncodeError::NulInId { index } => write!(
                f,
                "event ID contains NUL at byte {index}, which makes clients ignore it"
            ),
            EncodeError::InsufficientSize { required_size } => write!(
                f,
                "buffer too small: encoding needs {required_size} bytes; nothing was written"
            ),
            EncodeError::AllocationFailed { required_size } => write!(
                f,
                "could not allocate the {required_size} bytes of the encoding"
            ),
        }
    }
}

impl core::error::Error for EncodeError {}

/// Something that encodes to one `text/event-stream` block: a [`Message`], a
/// [`Comment`], a [`Retry`] or a [`LastEventId`] (or a reference to one).
///
/// Every method checks the item first, then writes all of it or nothing. For any item,
/// [`encoded_len`](Encode::encoded_len) is exactly the number of bytes the others
/// write when they succeed. The trait is sealed: the guarantee that every encoding is
/// one whole block, which no input can break out of, rests on this module.
pub trait Encode: private::Sealed {
    /// The exact number of bytes the encoding takes (saturating at `usize::MAX`,
    /// which only a 16- or 32-bit target can reach). For an item that fails
    /// [`validate`](Encode::validate) it is the size the encoding would have.
    ///
    /// ```
    /// use sse_proto::{Encode, Message};
    ///
    /// let message = Message::new("a\nb").event("e");
    /// assert_eq!(message.encoded_len(), message.to_vec().unwrap().len());
    /// ```
    fn encoded_len(&self) -> usize {
        self.parts().measure()
    }

    /// Checks that the item can be encoded, without encoding it: no CR or LF in the
    /// event type or ID, and no NUL in the ID.
    ///
    /// ```
    /// use sse_proto::{Encode, EncodeError, Message};
    ///
    /// assert_eq!(Message::new("a\nb").validate(), Ok(()));
    /// assert_eq!(
    ///     Message::new("").id("1\r2").validate(),
    ///     Err(EncodeError::LineBreakInId { index: 1 })
    /// );
    /// ```
    fn validate(&self) -> Result<(), EncodeError> {
        self.parts().validate()
    }

    /// Writes the item at the start of `buf` and returns the number of bytes written.
    ///
    /// If `buf` is shorter than [`encoded_len`](Encode::encoded_len), fails with
    /// [`EncodeError::InsufficientSize`] and leaves `buf` untouched.
    ///
    /// ```
    /// use sse_proto::{Encode, EncodeError, Message};
    ///
    /// let message = Message::new("hello").id("1");
    /// let mut buf = [0u8; 64];
    /// let n = message.encode(&mut buf)?;
    /// assert_eq!(&buf[..n], b"id: 1\ndata: hello\n\n");
    ///
    /// let mut small = [0u8; 4];
    /// assert_eq!(
    ///     message.encode(&mut small),
    ///     Err(EncodeError::InsufficientSize { required_size: n })
    /// );
    /// assert_eq!(small, [0; 4]);
    /// # Ok::<(), EncodeError>(())
    /// ```
    fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        self.parts().encode(buf)
    }

    /// Appends the item to `buf` and returns the number of bytes written.
    ///
    /// If `buf` has less than [`encoded_len`](Encode::encoded_len) bytes of
    /// [`remaining_mut`](bytes::BufMut::remaining_mut), fails with
    /// [`EncodeError::InsufficientSize`] and writes nothing. (Growable buffers such as
    /// `BytesMut` and `Vec<u8>` grow as needed; reserve `encoded_len()` first to grow
    /// them once.)
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use sse_proto::{Encode, KEEP_ALIVE, Message};
    ///
    /// let mut out = BytesMut::new();
    /// Message::new("one").encode_buf(&mut out)?;
    /// out.extend_from_slice(KEEP_ALIVE);
    /// Message::new("two").encode_buf(&mut out)?;
    /// assert_eq!(&out[..], b"data: one\n\n:\n\ndata: two\n\n");
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    #[cfg(feature = "bytes")]
    fn encode_buf<B: bytes::BufMut + ?Sized>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        let mut parts = self.parts();
        let len = parts.check_measure()?;
        if buf.remaining_mut() < len {
            return Err(EncodeError::InsufficientSize { required_size: len });
        }
        parts.write(&mut BufSink(buf));
        Ok(len)
    }

    /// The encoding in a new `Vec` of exactly the right size. Fails only when
    /// [`validate`](Encode::validate) does, or with
    /// [`EncodeError::AllocationFailed`] if the memory cannot be had (the `Vec` is
    /// allocated with `try_reserve_exact`, so that is an error, not an abort).
    ///
    /// ```
    /// use sse_proto::{Encode, Message};
    ///
    /// assert_eq!(Message::new(" spaced").to_vec().unwrap(), b"data:  spaced\n\n");
    /// ```
    #[cfg(feature = "alloc")]
    fn to_vec(&self) -> Result<alloc::vec::Vec<u8>, EncodeError> {
        let mut parts = self.parts();
        let len = parts.check_measure()?;
        let mut out = alloc::vec::Vec::new();
        out.try_reserve_exact(len)
            .map_err(|_| EncodeError::AllocationFailed { required_size: len })?;
        parts.write(&mut out);
        Ok(out)
    }

    /// The encoding as [`Bytes`](bytes::Bytes), ready to hand to an HTTP body. Fails
    /// as [`to_vec`](Encode::to_vec) does.
    ///
    /// ```
    /// use sse_proto::{Encode, Message};
    ///
    /// let frame = Message::new("x").event("tick").to_bytes().unwrap();
    /// assert_eq!(frame, &b"event: tick\ndata: x\n\n"[..]);
    /// ```
    #[cfg(feature = "bytes")]
    fn to_bytes(&self) -> Result<bytes::Bytes, EncodeError> {
        self.to_vec().map(bytes::Bytes::from)
    }
}

impl<T: AsRef<str>> Encode for Message<T> {}
impl<T: AsRef<str>> Encode for Comment<T> {}
impl Encode for Retry {}
impl<T: AsRef<str>> Encode for LastEventId<T> {}
impl<E: Encode + ?Sized> Encode for &E {}

mod private {
    use super::Parts;

    /// Seals [`Encode`](super::Encode) and gives each item's strings, taken once so
    /// that checking, measuring and writing all see the same bytes.
    pub trait Sealed {
        fn parts(&self) -> Parts<'_>;
    }

    impl<T: AsRef<str>> Sealed for super::Message<T> {
        fn parts(&self) -> Parts<'_> {
            Parts {
                comment: self.comment.as_ref().map(|c| c.as_ref().as_bytes()),
                event: self.event.as_ref().map(|e| e.as_ref().as_bytes()),
                id: self.id.as_ref().map(|i| i.as_ref().as_bytes()),
                retry: self.retry.map(super::millis),
                data: Some(self.data.as_ref().as_bytes()),
                data_is_one_line: false,
            }
        }
    }

    impl<T: AsRef<str>> Sealed for super::Comment<T> {
        fn parts(&self) -> Parts<'_> {
            Parts {
                comment: Some(self.0.as_ref().as_bytes()),
                ..Parts::default()
            }
        }
    }

    impl Sealed for super::Retry {
        fn parts(&self) -> Parts<'_> {
            Parts {
                retry: Some(self.millis()),
                ..Parts::default()
            }
        }
    }

    impl<T: AsRef<str>> Sealed for super::LastEventId<T> {
        fn parts(&self) -> Parts<'_> {
            Parts {
                id: Some(self.0.as_ref().as_bytes()),
                ..Parts::default()
            }
        }
    }

    impl<E: Sealed + ?Sized> Sealed for &E {
        fn parts(&self) -> Parts<'_> {
            (**self).parts()
        }
    }
}

/// The lines of one block, in the order they are written. The byte slices come from
/// `str`s, so they are valid UTF-8 and the encoding is too.
#[derive(Debug, Default, Clone, Copy)]
pub struct Parts<'a> {
    comment: Option<&'a [u8]>,
    event: Option<&'a [u8]>,
    id: Option<&'a [u8]>,
    retry: Option<u64>,
    data: Option<&'a [u8]>,
    /// [`measure`](Parts::measure) found no byte below [`LOW`] in the data, so no
    /// line end, and [`write`](Parts::write) need not look again.
    data_is_one_line: bool,
}

impl Parts<'_> {
    // `validate`, `measure`, `write` and `encode` are small once their rare cases (line
    // ends, comments, retry) are calls, and inlining them into each `Encode` method
    // lets the compiler keep the fields in registers and drop the checks for absent
    // ones. Each change here was kept only if it made the encode benchmark's token
    // events faster, counted by callgrind (`bench-report encode-run`) and timed
    // (`encode-ratio`), without slowing its 1 KiB events by more than a test or a
    // call costs.

    #[inline(always)]
    fn validate(&self) -> Result<(), EncodeError> {
        self.check_head().map(drop)
    }

    /// The length of everything but the data lines: the comment, the other fields and
    /// the blank line.
    #[inline(always)]
    fn head_len(&self) -> Count {
        match self.head::<false>() {
            Ok(count) => count,
            Err(_) => unreachable!("no checks, no errors"),
        }
    }

    /// The [`head_len`](Parts::head_len), with [`validate`](Parts::validate)'s checks
    /// made on the way.
    #[inline(always)]
    fn check_head(&self) -> Result<Count, EncodeError> {
        self.head::<true>()
    }

    /// Measures the head, and checks the event type and ID on the way if `CHECK`: one
    /// look at each field.
    #[inline(always)]
    fn head<const CHECK: bool>(&self) -> Result<Count, EncodeError> {
        // The blank line.
        let mut count = Count(1);
        if let Some(comment) = self.comment {
            count.add(comment_len(comment));
        }
        if let Some(event) = self.event {
            if CHECK && has_low_byte(event) {
                if let Some(index) = find_line_end(event) {
                    return Err(EncodeError::LineBreakInEvent { index });
                }
            }
            count.add(EVENT.len() + 1);
            count.add(event.len());
        }
        if let Some(id) = self.id {
            if CHECK && has_low_byte(id) {
                check_id(id)?;
            }
            count.add(ID.len() + 1);
            count.add(id.len());
        }
        if let Some(ms) = self.retry {
            count.add(retry_len(ms));
        }
        Ok(count)
    }

    /// The length [`write`](Parts::write) will write, worked out without writing.
    #[inline(always)]
    fn measure(&mut self) -> usize {
        let head = self.head_len();
        self.measure_data(head)
    }

    /// Validates, then measures.
    #[cfg(feature = "alloc")]
    #[inline(always)]
    fn check_measure(&mut self) -> Result<usize, EncodeError> {
        let head = self.check_head()?;
        Ok(self.measure_data(head))
    }

    /// `head` (the [`head_len`](Parts::head_len)) and the data lines.
    #[inline(always)]
    fn measure_data(&mut self, head: Count) -> usize {
        let mut count = head;
        if let Some(data) = self.data {
            // One `data: ` and LF per line, in place of the line ends.
            self.data_is_one_line = !has_low_byte(data);
            let (lines, ends) = if self.data_is_one_line {
                (1, 0)
            } else {
                line_stats(data)
            };
            count.add(lines.saturating_mul(DATA.len() + 1));
            count.add(data.len() - ends);
        }
        count.0
    }

    /// Writes the block, [`measure`](Parts::measure) bytes (the tests check that the
    /// two agree for every rule and for arbitrary input).
    #[inline(always)]
    fn write<S: Sink>(&self, sink: &mut S) {
        self.write_head(sink);
        if let Some(data) = self.data {
            if self.data_is_one_line {
                sink.put(DATA);
                sink.put(data);
                // The line's end and the blank line.
                sink.put(b"\n\n");
                return;
            }
            data_lines(sink, data);
        }
        // "If the line is empty (a blank line): Dispatch the event."
        sink.put(b"\n");
    }

    /// Writes the comment and the fields before the data.
    #[inline(always)]
    fn write_head<S: Sink>(&self, sink: &mut S) {
        if let Some(comment) = self.comment {
            comment_lines(sink, comment);
        }
        if let Some(event) = self.event {
            field(sink, EVENT, event);
        }
        if let Some(id) = self.id {
            field(sink, ID, id);
        }
        if let Some(ms) = self.retry {
            field(sink, RETRY, decimal(ms, &mut [0; 20]));
        }
    }

    /// Validates, measures and writes the block at the start of `buf`.
    #[inline(always)]
    fn encode(&mut self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        // Data alone, the most common message: a path of its own (not in the small
        // build, which keeps to one path).
        if let Parts {
            comment: None,
            event: None,
            id: None,
            retry: None,
            data: Some(data),
            ..
        } = *self
        {
            if !cfg!(sse_proto_small) {
                if let Some(len) = encode_data_only(buf, data) {
                    return Ok(len);
                }
            }
        }
        // Everything else: a message with other fields, data with a line end, a
        // buffer that may be too small. Marked unlikely, so that the compiler lays
        // the data-only path out straight and keeps its registers for it.
        cold_path();
        let head = self.check_head()?;
        if let Some(len) = self.encode_one_line(buf, head) {
            return Ok(len);
        }
        let len = self.measure();
        let Some(buf) = buf.get_mut(..len) else {
            return Err(EncodeError::InsufficientSize { required_size: len });
        };
        let mut sink = SliceSink(buf);
        self.write(&mut sink);
        debug_assert!(sink.0.is_empty());
        Ok(len)
    }

    /// The fast path of [`encode`](Parts::encode), for a message whose data has no
    /// line end (nearly all): writes the data as one line, copying it and checking it
    /// for a byte below [`LOW`] in one pass, rather than checking it first and copying
    /// it after.
    ///
    /// The check comes after writing has begun, so this is only done when `buf` has
    /// room for the longest block the data could make, whatever it turns out to hold:
    /// then nothing can fail once writing starts, and `buf` is never left half
    /// written on an error. Returns `None` if the path was not taken, or if the data
    /// has a low byte after all; the caller then writes the block again, measured.
    #[inline(always)]
    fn encode_one_line(&self, buf: &mut [u8], head: Count) -> Option<usize> {
        let data = self.data?;
        let mut len = head;
        len.add(DATA.len() + 1);
        len.add(data.len());
        // Each line end (one or two bytes) becomes an LF and a `data: `: at most
        // `DATA.len()` more bytes per byte of data.
        let longest = len.0.saturating_add(data.len().saturating_mul(DATA.len()));
        if buf.len() < longest {
            return None;
        }
        let mut sink = SliceSink(&mut buf[..len.0]);
        self.write_head(&mut sink);
        sink.put(DATA);
        let low = copy_checked(sink.take(data.len()), data);
        // The line's end and the blank line.
        sink.put(b"\n\n");
        debug_assert!(sink.0.is_empty());
        (!low).then_some(len.0)
    }
}

/// [`Parts::encode_one_line`] for a message with data alone (most of them): `data: `,
/// the data, and LF LF. `None` as there.
#[inline(always)]
fn encode_data_only(buf: &mut [u8], data: &[u8]) -> Option<usize> {
    let n = data.len();
    let len = n.checked_add(DATA.len() + 2)?;
    // Room for the longest block the data could make (see `encode_one_line`):
    // `(DATA.len() + 1) * n + 8` bytes, which `8 * (n + 1)` covers and a shift
    // checks.
    const _: () = assert!(DATA.len() < 8);
    if buf.len() / 8 <= n {
        return None;
    }
    let out = &mut buf[..len];
    out[..DATA.len()].copy_from_slice(DATA);
    let low = copy_checked(&mut out[DATA.len()..DATA.len() + n], data);
    out[len - 2..].copy_from_slice(b"\n\n");
    (!low).then_some(len)
}

/// Calling this marks the branch it is on as unlikely: `core::hint::cold_path`,
/// which needs a newer Rust than the crate's minimum, done the old way.
#[cold]
#[inline(never)]
fn cold_path() {}

/// The first CR, LF or NUL in an ID, as an error.
#[cold]
#[inline(never)]
fn check_id(id: &[u8]) -> Result<(), EncodeError> {
    let found = if cfg!(sse_proto_small) {
        id.iter().position(|&b| b == b'\r' || b == b'\n' || b == 0)
    } else {
        memchr3(b'\r', b'\n', 0, id)
    };
    match found {
        Some(index) if id[index] == 0 => Err(EncodeError::NulInId { index }),
        Some(index) => Err(EncodeError::LineBreakInId { index }),
        None => Ok(()),
    }
}

/// The length of a comment's lines.
#[inline(never)]
fn comment_len(comment: &[u8]) -> usize {
    let mut count = Count(0);
    comment_lines(&mut count, comment);
    count.0
}

/// The length of a `retry` line.
#[inline(never)]
fn retry_len(ms: u64) -> usize {
    RETRY.len() + decimal(ms, &mut [0; 20]).len() + 1
}

/// Writes data with line ends as one `data` line per line.
#[inline(never)]
fn data_lines<S: Sink>(sink: &mut S, data: &[u8]) {
    for_each_line(data, |line| field(sink, DATA, line));
}

const EVENT: &[u8] = b"event: ";
const ID: &[u8] = b"id: ";
const RETRY: &[u8] = b"retry: ";
const DATA: &[u8] = b"data: ";

/// Writes (or counts) a comment's lines.
fn comment_lines<S: Sink>(sink: &mut S, comment: &[u8]) {
    for_each_line(comment, |line| {
        // An empty line is a bare `:`, so that `Comment::new("")` is the conventional
        // keep-alive; otherwise one space, as for fields.
        sink.put(if line.is_empty() { b":" } else { b": " });
        sink.put(line);
        sink.put(b"\n");
    });
}

/// Writes one `name: value` line (`prefix` includes the colon and space).
#[inline]
fn field<S: Sink>(sink: &mut S, prefix: &[u8], value: &[u8]) {
    sink.put(prefix);
    sink.put_value(value);
    sink.put(b"\n");
}

/// Bytes below this may be a line end or NUL: CR (13) is the highest of the three.
const LOW: u8 = b'\r' + 1;

/// Whether `bytes` has a byte below [`LOW`], that is, whether it may contain a CR, LF
/// or NUL. `false` proves it contains none, which is the common case, so the exact
/// searches only run on the rare values that have a control character.
#[inline]
fn has_low_byte(bytes: &[u8]) -> bool {
    scan(bytes, None)
}

/// Copies `src` into `dst` (of the same length) and says whether `src` has a byte
/// below [`LOW`], reading each byte once (below 64 bytes).
#[inline(always)]
fn copy_checked(dst: &mut [u8], src: &[u8]) -> bool {
    scan(src, Some(dst))
}

/// Whether `src` has a byte below [`LOW`]; copies it into `dst` on the way, if given.
///
/// A branch-free minimum over the bytes, which the compiler turns into SIMD (`pminub`
/// on 16-byte vectors). Values of 16 bytes or more are covered by 16-, 32- or 64-byte
/// pieces, the last of which may overlap the others (a minimum, and a copy, do not
/// mind reading a byte twice), so that there is no loop below 64 bytes and no byte at
/// a time above. Shorter values are read as two overlapping words and tested with the
/// bit trick from "Bit Twiddling Hacks" (`hasless`). Nothing returns early: every byte
/// is read anyway when none is found, and that is the case worth making fast.
#[inline(always)]
fn scan(src: &[u8], dst: Option<&mut [u8]>) -> bool {
    if cfg!(sse_proto_small) {
        if let Some(dst) = dst {
            dst[..src.len()].copy_from_slice(src);
        }
        return src.iter().any(|&b| b < LOW);
    }
    let len = src.len();
    let mut dst = dst.map(|dst| &mut dst[..len]);
    if len < 16 {
        return scan_short(src, dst);
    }
    // Each branch reduces its own minimum: merging the branches' arrays first leaves
    // the vectoriser with sixteen separate bytes, and it gives up.
    let mut min = [u8::MAX; 16];
    if len <= 32 {
        piece::<16>(&mut min, src, dst.as_deref_mut(), 0);
        piece::<16>(&mut min, src, dst, len - 16);
        any_low(&min)
    } else if len <= 64 {
        piece::<32>(&mut min, src, dst.as_deref_mut(), 0);
        piece::<32>(&mut min, src, dst, len - 32);
        any_low(&min)
    } else {
        // Long enough for `memcpy`'s wider copies to pay for a second read, from L1.
        // (Copying in the 64-byte pieces instead runs fewer instructions, 475 rather
        // than 509 per 1 KiB event, but takes about 20% longer: SSE2's 16-byte stores
        // are the bottleneck.)
        if let Some(dst) = dst {
            dst.copy_from_slice(src);
        }
        for block in src.chunks_exact(64) {
            piece::<64>(&mut min, block, None, 0);
        }
        piece::<64>(&mut min, src, None, len - 64);
        any_low(&min)
    }
}

/// Whether a byte of `min` is below [`LOW`].
#[inline(always)]
fn any_low(min: &[u8; 16]) -> bool {
    min.iter().fold(false, |found, &m| found | (m < LOW))
}

/// The `N` bytes of `src` at `at` into `min` (and `dst`), for [`scan`].
#[inline(always)]
fn piece<const N: usize>(min: &mut [u8; 16], src: &[u8], dst: Option<&mut [u8]>, at: usize) {
    // Loaded once, for both the copy and the minimum.
    let piece = word::<N>(src, at);
    if let Some(dst) = dst {
        dst[at..at + N].copy_from_slice(&piece);
    }
    for chunk in piece.chunks_exact(16) {
        min_into(min, chunk);
    }
}

/// [`scan`] for fewer than 16 bytes.
#[inline(always)]
fn scan_short(src: &[u8], dst: Option<&mut [u8]>) -> bool {
    let len = src.len();
    if len >= 8 {
        let (head, tail) = (word::<8>(src, 0), word::<8>(src, len - 8));
        if let Some(dst) = dst {
            dst[..8].copy_from_slice(&head);
            dst[len - 8..].copy_from_slice(&tail);
        }
        has_low_u64(u64::from_le_bytes(head)) | has_low_u64(u64::from_le_bytes(tail))
    } else if len >= 4 {
        let (head, tail) = (word::<4>(src, 0), word::<4>(src, len - 4));
        if let Some(dst) = dst {
            dst[..4].copy_from_slice(&head);
            dst[len - 4..].copy_from_slice(&tail);
        }
        has_low_u32(u32::from_le_bytes(head)) | has_low_u32(u32::from_le_bytes(tail))
    } else {
        if let Some(dst) = dst {
            dst.copy_from_slice(src);
        }
        src.iter().fold(false, |found, &b| found | (b < LOW))
    }
}

/// The `N` bytes of `bytes` at `at`.
#[inline(always)]
fn word<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut word = [0; N];
    word.copy_from_slice(&bytes[at..at + N]);
    word
}

/// Lowers each byte of `min` to the matching byte of `chunk` if that is lower.
#[inline(always)]
fn min_into(min: &mut [u8; 16], chunk: &[u8]) {
    for (m, &b) in min.iter_mut().zip(chunk) {
        *m = (*m).min(b);
    }
}

/// Whether a byte of `x` is below [`LOW`]: `hasless(x, n)` from "Bit Twiddling Hacks",
/// exact as a yes/no answer for `n <= 128`. (A borrow can only start at a byte below
/// `n`, so it cannot make a false positive.)
#[inline]
fn has_low_u64(x: u64) -> bool {
    const ONES: u64 = u64::MAX / 0xFF;
    x.wrapping_sub(ONES * LOW as u64) & !x & (ONES * 0x80) != 0
}

/// [`has_low_u64`] for four bytes.
#[inline]
fn has_low_u32(x: u32) -> bool {
    const ONES: u32 = u32::MAX / 0xFF;
    x.wrapping_sub(ONES * LOW as u32) & !x & (ONES * 0x80) != 0
}

/// Calls `f` with each line of `text`, split at CR, LF and CRLF: the spec's three
/// line ends, with a CRLF as one. Text with `n` line ends has `n + 1` lines, so empty
/// text is one empty line and a trailing line end gives a trailing empty line.
#[inline]
fn for_each_line(text: &[u8], mut f: impl FnMut(&[u8])) {
    let mut rest = text;
    while let Some(end) = find_line_end(rest) {
        f(&rest[..end]);
        let crlf = rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n');
        rest = &rest[end + 1 + usize::from(crlf)..];
    }
    f(rest);
}

/// The number of lines [`for_each_line`] finds in `text`, and the number of bytes
/// their line ends take. Counts over the whole text with `memchr`'s vectorised
/// counting, instead of one search call per line.
#[inline(never)]
fn line_stats(text: &[u8]) -> (usize, usize) {
    if cfg!(sse_proto_small) {
        let (mut lines, mut ends, mut after_cr) = (1, 0, false);
        for &byte in text {
            // A line ends at every CR and LF, but the LF of a CRLF.
            let end = byte == b'\r' || byte == b'\n';
            lines += usize::from(end && !(byte == b'\n' && after_cr));
            ends += usize::from(end);
            after_cr = byte == b'\r';
        }
        return (lines, ends);
    }
    let lf = memchr_iter(b'\n', text).count();
    let (mut cr, mut crlf) = (0, 0);
    for at in memchr_iter(b'\r', text) {
        cr += 1;
        crlf += usize::from(text.get(at + 1) == Some(&b'\n'));
    }
    // Every CR and LF ends a line, except the LF of a CRLF.
    (1 + lf + cr - crlf, lf + cr)
}

/// `n` in base ten, in `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        let (quotient, digit) = div10(n);
        buf[start] = b'0' + digit;
        n = quotient;
        if n == 0 {
            return &buf[start..];
        }
    }
}

/// `n / 10` and `n % 10`. With `--cfg sse_proto_small`, by long division a bit at a
/// time: a 32-bit target then needs no 64-bit division routine (about 860 bytes on
/// a Cortex-M4).
#[inline]
fn div10(n: u64) -> (u64, u8) {
    if !cfg!(sse_proto_small) {
        return (n / 10, (n % 10) as u8);
    }
    let (mut quotient, mut rest) = (0u64, 0u64);
    for bit in (0..64).rev() {
        rest = (rest << 1) | ((n >> bit) & 1);
        quotient <<= 1;
        if rest >= 10 {
            rest -= 10;
            quotient |= 1;
        }
    }
    (quotient, rest as u8)
}

/// Whole milliseconds, rounded down, capped at `u64::MAX`, and at least 1 unless
/// `time` is zero (see [`Retry::millis`]).
const fn millis(time: Duration) -> u64 {
    let ms = time.as_millis();
    if ms > u64::MAX as u128 {
        u64::MAX
    } else if ms == 0 && !time.is_zero() {
        1
    } else {
        ms as u64
    }
}

/// Where [`Parts::write`] puts bytes.
trait Sink {
    fn put(&mut self, bytes: &[u8]);

    /// [`put`](Sink::put) for a field's value, of any length.
    #[inline(always)]
    fn put_value(&mut self, bytes: &[u8]) {
        self.put(bytes);
    }
}

/// Counts instead of writing, saturating.
#[derive(Clone, Copy)]
struct Count(usize);

impl Count {
    #[inline]
    fn add(&mut self, n: usize) {
        self.0 = self.0.saturating_add(n);
    }
}

impl Sink for Count {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.0 = self.0.saturating_add(bytes.len());
    }
}

/// A slice exactly [`Parts::measure`] long; each write takes its bytes off the front.
struct SliceSink<'b>(&'b mut [u8]);

impl Sink for SliceSink<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        // In bounds: the slice was cut to `Parts::measure`, which is what `write` writes
        // (a broken invariant would panic here rather than write out of place).
        self.take(bytes.len()).copy_from_slice(bytes);
    }

    #[inline(always)]
    fn put_value(&mut self, bytes: &[u8]) {
        // `scan`'s copy, whose unused check the compiler drops: a few loads and stores
        // for the short values of most fields, where `copy_from_slice` calls `memcpy`.
        let _ = scan(bytes, Some(self.take(bytes.len())));
    }
}

impl SliceSink<'_> {
    /// The next `n` bytes, to be written in place.
    #[inline]
    fn take(&mut self, n: usize) -> &mut [u8] {
        let (head, rest) = core::mem::take(&mut self.0).split_at_mut(n);
        self.0 = rest;
        head
    }
}

#[cfg(feature = "alloc")]
impl Sink for alloc::vec::Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A `BufMut` with at least [`Parts::measure`] bytes remaining.
#[cfg(feature = "bytes")]
struct BufSink<'b, B: ?Sized>(&'b mut B);

#[cfg(feature = "bytes")]
impl<B: bytes::BufMut + ?Sized> Sink for BufSink<'_, B> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.0.put_slice(bytes);
    }
}

// The tests compare with the parser's growable buffers and owned strings.
#[cfg(all(test, feature = "std"))]
mod tests;
