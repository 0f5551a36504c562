//! Events from, and messages to, [`embedded-io`](embedded_io) byte streams, for
//! devices without an allocator: the parser's buffers and the read buffer are the
//! caller's memory, and nothing is allocated.

use crate::buffered::{self, Found, ReadError, Window};
use crate::storage::Storage;
use crate::{Encode, EncodeError, Item, Parser};

/// Reads an event stream from an `embedded-io` reader (blocking,
/// [`next_item`](EmbeddedReader::next_item)) or an `embedded-io-async` one
/// ([`next_item_async`](EmbeddedReader::next_item_async)), into `buf`, with a parser
/// that works in memory you provide ([`Parser::from_slice`]).
///
/// Items are borrowed from the read buffer and the parser, without copying; an
/// event longer than one read is assembled in the parser's data buffer.
///
/// ```
/// use sse_proto::{Config, EmbeddedReader, Item, Parser};
///
/// let mut parser_memory = [0u8; 1024];
/// let mut read_buffer = [0u8; 256];
/// let parser = Parser::from_slice(Config::new(), &mut parser_memory);
/// let body: &[u8] = b"id: 7\ndata: on\n\n";
/// let mut reader = EmbeddedReader::new(body, parser, &mut read_buffer);
/// let Some(Item::Event(event)) = reader.next_item()? else { panic!() };
/// assert_eq!(event.data(), "on");
/// assert_eq!(event.last_event_id(), "7");
/// assert!(reader.next_item()?.is_none());
/// # Ok::<(), sse_proto::ReadError<core::convert::Infallible>>(())
/// ```
#[derive(Debug)]
pub struct EmbeddedReader<'b, R, S: Storage> {
    reader: R,
    parser: Parser<S>,
    buf: &'b mut [u8],
    window: Window,
    eof: bool,
}

impl<'b, R, S: Storage> EmbeddedReader<'b, R, S> {
    /// A reader of `reader`'s bytes into `buf`, parsed by `parser`.
    pub fn new(reader: R, parser: Parser<S>, buf: &'b mut [u8]) -> Self {
        EmbeddedReader {
            reader,
            parser,
            buf,
            window: Window::default(),
            eof: false,
        }
    }

    /// The parser, for its [`last_event_id`](Parser::last_event_id) and
    /// [`retry`](Parser::retry).
    pub fn parser(&self) -> &Parser<S> {
        &self.parser
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.reader
    }

    /// After a read of `n` bytes: `false` at the end of the stream (the parser
    /// finished, as the spec says: a pending event is discarded).
    fn filled(&mut self, n: usize) -> bool {
        if n == 0 {
            self.eof = true;
            self.parser.finish();
            return false;
        }
        self.window = Window { start: 0, end: n };
        true
    }
}

#[cfg(feature = "embedded-io")]
impl<R: embedded_io::Read, S: Storage> EmbeddedReader<'_, R, S> {
    /// The next item, or `Ok(None)` at the end of the stream. After a
    /// [`ReadError::Limit`], call again to carry on.
    pub fn next_item(&mut self) -> Result<Option<Item<'_>>, ReadError<R::Error>> {
        loop {
            if self.window.is_empty() {
                if self.eof {
                    return Ok(None);
                }
                let n = self.reader.read(self.buf).map_err(ReadError::Io)?;
                if !self.filled(n) {
                    return Ok(None);
                }
            }
            match self.window.find(&mut self.parser, self.buf) {
                Found::Nothing => {}
                found => return buffered::item(&self.parser, self.buf, found),
            }
        }
    }
}

#[cfg(feature = "embedded-io-async")]
impl<R: embedded_io_async::Read, S: Storage> EmbeddedReader<'_, R, S> {
    /// The next item, or `Ok(None)` at the end of the stream, from an async
    /// reader. After a [`ReadError::Limit`], call again to carry on.
    pub async fn next_item_async(&mut self) -> Result<Option<Item<'_>>, ReadError<R::Error>> {
        loop {
            if self.window.is_empty() {
                if self.eof {
                    return Ok(None);
                }
                let n = self.reader.read(self.buf).await.map_err(ReadError::Io)?;
                if !self.filled(n) {
                    return Ok(None);
                }
            }
            match self.window.find(&mut self.parser, self.buf) {
                Found::Nothing => {}
                found => return buffered::item(&self.parser, self.buf, found),
            }
        }
    }
}

/// Why a message could not be written: it does not fit the buffer (or cannot be
/// encoded), or writing failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum WriteError<E> {
    /// The message was not written ([`EncodeError::InsufficientSize`]: the buffer
    /// is too small for it).
    Encode(EncodeError),
    /// Writing failed; part of the message may have been written.
    Io(E),
}

impl<E: core::fmt::Display> core::fmt::Display for WriteError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WriteError::Encode(e) => e.fmt(f),
            WriteError::Io(e) => write!(f, "writing the event stream failed: {e}"),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for WriteError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            WriteError::Encode(e) => Some(e),
            WriteError::Io(e) => Some(e),
        }
    }
}

/// Encodes `item` (a [`Message`](crate::Message), a keep-alive
/// [`Comment`](crate::Comment), a [`Retry`](crate::Retry)) into `buf` and writes it
/// whole to `writer`. Nothing is written if it does not fit `buf`.
///
/// ```
/// use sse_proto::{Message, write_message};
///
/// let mut out = [0u8; 64];
/// let mut writer = &mut out[..];
/// let mut buf = [0u8; 32];
/// write_message(&mut writer, &Message::new("on").id("7"), &mut buf)?;
/// assert!(out.starts_with(b"id: 7\ndata: on\n\n"));
/// # Ok::<(), sse_proto::WriteError<embedded_io::SliceWriteError>>(())
/// ```
#[cfg(feature = "embedded-io")]
pub fn write_message<W: embedded_io::Write>(
    writer: &mut W,
    item: &impl Encode,
    buf: &mut [u8],
) -> Result<(), WriteError<W::Error>> {
    let n = item.encode(buf).map_err(WriteError::Encode)?;
    writer.write_all(&buf[..n]).map_err(WriteError::Io)
}

/// [`write_message`] to an async writer.
#[cfg(feature = "embedded-io-async")]
pub async fn write_message_async<W: embedded_io_async::Write>(
    writer: &mut W,
    item: &impl Encode,
    buf: &mut [u8],
) -> Result<(), WriteError<W::Error>> {
    let n = item.encode(buf).map_err(WriteError::Encode)?;
    writer.write_all(&buf[..n]).await.map_err(WriteError::Io)
}
