//! Owned items out of owned chunks: the part of every stream adapter that has no
//! runtime in it, written once.
//!
//! An adapter receives chunks it owns (`Bytes`, `Vec<u8>`) and must hand out items
//! that outlive them. [`OwnedParser`] keeps the chunk being parsed and where it is in
//! it, and slices items out of it, so that an adapter's `poll_next` only moves chunks
//! in and items out.

use core::ops::Range;

use bytes::{Bytes, BytesMut};

#[cfg(feature = "std")]
use crate::buffered::{self, Found, ReadError, Window};
use crate::owned_event::{EMPTY, from_split};
use crate::shared::offset;
use crate::{Event, Item, OwnedItem, Parser, Sharer};

/// A [`Parser`] fed chunks it keeps, handing out [`OwnedItem`]s one at a time.
///
/// Give it a chunk with [`push`](OwnedParser::push) whenever
/// [`next`](OwnedParser::next) returns `None`, and call
/// [`finish`](OwnedParser::finish) at the end of the stream. Text that arrived whole
/// in one chunk shares that chunk ([`Sharer`]: one reference count per event); data
/// that the parser assembled (from several lines, or across chunks) is split off
/// the parser's buffer with the event's type and ID, not copied. The parser's
/// buffers are `BytesMut`s: a buffer is used again once the events split off it
/// are dropped, so a reader that drops its events allocates nothing per event.
///
/// An event over the parser's limit is an [`OwnedItem::Skipped`] item, after which
/// parsing goes on: `next` has no error to return.
///
/// ```
/// use sse_proto::{OwnedItem, OwnedParser, Parser};
///
/// let mut parser = OwnedParser::new(Parser::new());
/// let mut events = Vec::new();
/// for chunk in [&b"data: caf\xc3"[..], b"\xa9\n\ndata: 2\n\n"] {
///     parser.push(chunk.to_vec());
///     while let Some(item) = parser.next() {
///         if let OwnedItem::Event(event) = item {
///             events.push(String::from(event.data()));
///         }
///     }
/// }
/// assert!(!parser.finish());
/// assert_eq!(events, ["café", "2"]);
/// ```
#[derive(Debug)]
pub struct OwnedParser {
    /// Over `BytesMut` buffers: an assembled event's data is split off its buffer.
    parser: Parser<BytesMut>,
    /// The chunk being parsed (`None` between chunks: a drop then costs nothing).
    chunk: Option<Bytes>,
    sharer: Sharer,
    /// How much of `chunk` has been parsed.
    pos: usize,
}

impl OwnedParser {
    /// Hands out what `parser` (set up with a configuration, a last event ID) finds.
    pub fn new(parser: Parser) -> Self {
        OwnedParser {
            parser: parser.into_bytes_mut(),
            chunk: None,
            sharer: Sharer::new(),
            pos: 0,
        }
    }

    /// The parser, for its [`last_event_id`](Parser::last_event_id) and
    /// [`retry`](Parser::retry).
    pub fn parser(&self) -> &Parser<BytesMut> {
        &self.parser
    }

    /// The parser; the rest of a chunk being parsed is dropped.
    pub fn into_parser(self) -> Parser {
        self.parser.into_vec()
    }

    /// Takes the next chunk (a `Bytes`, a `Vec<u8>`, a `&'static [u8]`, ...: no copy is
    /// made). Call it when [`next`](OwnedParser::next) has returned `None`: the rest
    /// of a chunk still being parsed would be dropped.
    pub fn push(&mut self, chunk: impl Into<Bytes>) {
        self.chunk = Some(chunk.into());
        self.pos = 0;
    }

    /// The next item (an event over the limit is [`OwnedItem::Skipped`]: the parser
    /// has recovered); `None` once the chunk is used up, which asks for the next one
    /// and is never the end of the stream (what the chunk left unfinished is in the
    /// parser).
    #[allow(clippy::should_implement_trait)] // `None` asks for input; it is not the end
    pub fn next(&mut self) -> Option<OwnedItem> {
        let bytes = self.chunk.as_ref()?;
        let chunk = &bytes[..];
        let rest = &chunk[self.pos..];
        let mut input = rest;
        let parsed = self.parser.parse(&mut input);
        let read = self.pos..self.pos + rest.len() - input.len();
        self.pos = read.end;
        match parsed {
            // The parser hands out data that is in the chunk, or that it assembled
            // in its data buffer; a type in the chunk, or in its type buffer.
            Ok(Some(Item::Event(event))) if assembled(&event, &chunk.as_ptr_range()) => {
                // Split off the parser's buffer, not copied, with the type and the
                // ID (unless the one held) appended.
                let (event_type, id) = (event.event_type_field(), event.last_event_id());
                let held = match id.as_bytes() {
                    [] => Some(EMPTY),
                    id => self.sharer.held(id),
                };
                let at = offset(bytes, event_type).map(|at| at..at + event_type.len());
                let stored_type = !event_type.is_empty() && at.is_none();
                let chunk_type = at.map(|at| &bytes[at]);
                let split = self
                    .parser
                    .split_event(chunk_type, stored_type, held.is_none());
                Some(OwnedItem::Event(from_split(split, held)))
            }
            Ok(Some(Item::Event(event))) => Some(OwnedItem::Event(
                self.sharer.share_event_in(bytes, read, event),
            )),
            Ok(Some(item)) => Some(self.sharer.share(bytes, item)),
            Err(e) => Some(OwnedItem::Skipped(e)),
            Ok(None) => {
                self.let_go();
                None
            }
        }
    }

    /// Ends the stream ([`Parser::finish`]): a pending event is discarded (`true` if
    /// there was one), and the parser is ready for the next response.
    pub fn finish(&mut self) -> bool {
        self.let_go();
        self.parser.finish()
    }

    /// Parses the chunk up to the next item, found without borrowing anything (so
    /// that a reader can read the next chunk in the same loop); [`Found::Nothing`]
    /// once the chunk is used up. [`item`](OwnedParser::item) then borrows it.
    #[cfg(feature = "std")]
    pub(crate) fn find(&mut self) -> Found {
        let Some(bytes) = self.chunk.as_ref().filter(|bytes| self.pos < bytes.len()) else {
            return Found::Nothing;
        };
        let mut window = Window {
            start: self.pos,
            end: bytes.len(),
        };
        let found = window.find(&mut self.parser, bytes);
        self.pos = window.start;
        found
    }

    /// The item that [`find`](OwnedParser::find) found, borrowed from the chunk and
    /// the parser.
    #[cfg(feature = "std")]
    pub(crate) fn item<E>(&self, found: Found) -> Result<Option<Item<'_>>, ReadError<E>> {
        let chunk = self.chunk.as_deref().unwrap_or_default();
        buffered::item(&self.parser, chunk, found)
    }

    /// Lets go of the chunk, used up or abandoned: its memory is the items' now.
    pub(crate) fn let_go(&mut self) {
        self.chunk = None;
        self.pos = 0;
        self.sharer.release();
    }
}

/// Whether `event`'s data is not in the chunk that `chunk` spans: the parser
/// assembled it in its own buffer.
#[inline(always)]
pub(crate) fn assembled(event: &Event<'_>, chunk: &Range<*const u8>) -> bool {
    let data = event.data().as_bytes();
    !data.is_empty() && !chunk.contains(&data.as_ptr())
}
