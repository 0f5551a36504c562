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
use crate::owned_event::{EMPTY, Part, from_split};
use crate::parser::MOVE_AT;
use crate::shared::offset;
use crate::{Event, EventBatch, Item, OwnedEvent, OwnedItem, Parser, Sharer};

/// The least room of a data buffer that batches' assembled events are split off.
pub(crate) const BATCH_DATA_ROOM: usize = 16 * 1024;

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
/// parsing goes on: `next` has no error to return. [`next_event`](OwnedParser::next_event)
/// hands out the events alone.
///
/// Where a chunk holds many events, [`next_batch`](OwnedParser::next_batch) takes
/// them all at once in an [`EventBatch`], which holds the chunk's text once instead
/// of once per event.
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
    /// How many events, and how many of them held by themselves, the last batch
    /// had: room for as many in the next one. `None` before the first batch.
    batch_room: Option<(usize, usize)>,
    /// Events (and comments) over the parser's limit, passed over.
    skipped: u64,
}

impl OwnedParser {
    /// Hands out what `parser` (set up with a configuration, a last event ID) finds.
    pub fn new(parser: Parser) -> Self {
        OwnedParser {
            parser: parser.into_bytes_mut(),
            chunk: None,
            sharer: Sharer::new(),
            pos: 0,
            batch_room: None,
            skipped: 0,
        }
    }

    /// The parser, for its [`last_event_id`](Parser::last_event_id) and
    /// [`retry`](Parser::retry).
    pub fn parser(&self) -> &Parser<BytesMut> {
        &self.parser
    }

    /// How many events (and comments) over the parser's limit were passed over so
    /// far: those [`next`](OwnedParser::next) handed out as [`OwnedItem::Skipped`]
    /// and those [`next_batch`](OwnedParser::next_batch) left out.
    ///
    /// ```
    /// use sse_proto::{Config, OwnedParser, Parser};
    ///
    /// let config = Config::new().max_event_size(16);
    /// let mut parser = OwnedParser::new(Parser::with_config(config));
    /// parser.push(&b"data: far over the limit of 16 bytes\n\ndata: ok\n\n"[..]);
    /// let batch = parser.next_batch().unwrap();
    /// assert_eq!((batch.len(), parser.skipped()), (1, 1));
    /// ```
    pub fn skipped(&self) -> u64 {
        self.skipped
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
        // `Parser::parse`, with its first fast path's event (data alone, in the
        // chunk: most events) owned straight from where the parser found it.
        let mut pos = 0;
        self.parser.release();
        if let Some((start, end)) = self.parser.fast_event(rest, &mut pos) {
            let (start, end) = (self.pos + start, self.pos + end);
            self.pos += pos;
            let id = self.parser.last_event_id().as_bytes();
            return Some(OwnedItem::Event(self.sharer.share_data(
                bytes,
                start..end,
                id,
            )));
        }
        let parsed = self.parser.parse_rest(&mut input, pos);
        let read = self.pos..self.pos + rest.len() - input.len();
        self.pos = read.end;
        match parsed {
            // The parser hands out data that is in the chunk, or that it assembled
            // in its data buffer; a type in the chunk, or in its type buffer.
            Ok(Some(Item::Event(event))) if assembled(&event, &chunk.as_ptr_range()) => {
                let (event_type, id) = (event.event_type_field(), event.last_event_id());
                let split = SplitPlan::new(&self.sharer, bytes, event_type, id.as_bytes());
                Some(OwnedItem::Event(split.event(&mut self.parser, bytes)))
            }
            Ok(Some(Item::Event(event))) => Some(OwnedItem::Event(
                self.sharer.share_event_in(bytes, read, event),
            )),
            Ok(Some(item)) => Some(self.sharer.share(bytes, item)),
            Err(e) => {
                self.skipped += 1;
                Some(OwnedItem::Skipped(e))
            }
            Ok(None) => {
                self.let_go();
                None
            }
        }
    }

    /// The next event, the chunk's other items passed over (an event over the
    /// limit is counted in [`skipped`](OwnedParser::skipped); a `retry` value is the
    /// parser's, as always); `None` once the chunk is used up, as
    /// [`next`](OwnedParser::next) answers. What a stream of events hands out.
    ///
    /// ```
    /// use sse_proto::{OwnedParser, Parser};
    ///
    /// let mut parser = OwnedParser::new(Parser::new());
    /// parser.push(&b"retry: 500\ndata: 1\n\nid: 2\ndata: 2\n\n"[..]);
    /// let first = parser.next_event().unwrap();
    /// let second = parser.next_event().unwrap();
    /// assert_eq!((first.data(), second.last_event_id()), ("1", "2"));
    /// assert!(parser.next_event().is_none());
    /// ```
    #[inline]
    pub fn next_event(&mut self) -> Option<OwnedEvent> {
        loop {
            if let OwnedItem::Event(event) = self.next()? {
                return Some(event);
            }
        }
    }

    /// Every event that the chunk finishes, from where [`next`](OwnedParser::next)
    /// left off to the chunk's end, in one [`EventBatch`]: the chunk's text is
    /// checked once and held once, however many events it holds. `None` once the
    /// chunk is used up (as `next` answers), and for a chunk that finishes no
    /// event: push the next one. A batch is never empty.
    ///
    /// A batch holds at most [`EventBatch::MAX_EVENTS`]; a chunk that finishes more
    /// gives several.
    ///
    /// The events are those `next` would hand out; other items are not kept (a
    /// `retry` value is the parser's, as always; an event over the limit is counted,
    /// [`skipped`](OwnedParser::skipped)). With [`Config::stream_data`](crate::Config::stream_data),
    /// data comes in pieces, which a batch does not hold: use `next`.
    ///
    /// Each batch makes its own lists of events; a reader that is done with a
    /// batch before it asks for the next one can have the next chunk's events put
    /// in the same batch, and its lists used again:
    /// [`next_batch_into`](OwnedParser::next_batch_into).
    ///
    /// ```
    /// use sse_proto::{OwnedParser, Parser};
    ///
    /// let mut parser = OwnedParser::new(Parser::new());
    /// let mut seen = Vec::new();
    /// for chunk in [&b"data: 1\n\ndata: 2\n\nda"[..], b"ta: 3\n\n"] {
    ///     parser.push(chunk);
    ///     while let Some(batch) = parser.next_batch() {
    ///         seen.extend(batch.iter().map(|event| event.data().to_owned()));
    ///     }
    /// }
    /// assert_eq!(seen, ["1", "2", "3"]);
    /// ```
    pub fn next_batch(&mut self) -> Option<EventBatch> {
        self.chunk.as_ref()?;
        let (events, own) = self.batch_room();
        let mut batch = EventBatch::with_room(events, own);
        self.fill_batch(&mut batch).then_some(batch)
    }

    /// [`next_batch`](OwnedParser::next_batch) into a batch of the caller's: the
    /// batch is emptied first ([`EventBatch::clear`]), and the memory of its lists
    /// is used again, so that reading chunk after chunk into one batch allocates
    /// nothing per chunk once the lists have grown to the chunks' events. `true`
    /// when it holds the next events (never none); `false` once the chunk is used
    /// up (where `next_batch` answers `None`), the batch then empty.
    ///
    /// ```
    /// use sse_proto::{EventBatch, OwnedParser, Parser};
    ///
    /// let mut parser = OwnedParser::new(Parser::new());
    /// let mut batch = EventBatch::default();
    /// let mut seen = Vec::new();
    /// for chunk in [&b"data: 1\n\ndata: 2\n\nda"[..], b"ta: 3\n\n"] {
    ///     parser.push(chunk);
    ///     while parser.next_batch_into(&mut batch) {
    ///         seen.extend(batch.iter().map(|event| event.data().to_owned()));
    ///     }
    /// }
    /// assert_eq!(seen, ["1", "2", "3"]);
    /// assert!(batch.is_empty());
    /// ```
    pub fn next_batch_into(&mut self, batch: &mut EventBatch) -> bool {
        // Emptied first, so that the buffers its events held can be taken back.
        batch.clear();
        if self.chunk.is_none() {
            return false;
        }
        let (events, own) = self.batch_room();
        batch.set_room(events, own);
        self.fill_batch(batch)
    }

    /// How many events, and how many held by themselves, a new batch makes room
    /// for: as many as the last batch had, and a few more (chunks of a stream are
    /// much alike): growing a batch costs a copy of it.
    fn batch_room(&mut self) -> (usize, usize) {
        let (events, own) = self.batch_room.unwrap_or_else(|| {
            // The events a batch holds pin the buffer their data was assembled
            // in: a buffer with room for many, so that they share it.
            self.parser.reserve_data_room(BATCH_DATA_ROOM);
            (0, 0)
        });
        let events = (events + events / 8 + 4).min(EventBatch::MAX_EVENTS);
        (events, own + own / 8 + 2)
    }

    /// Adds to `batch` (empty) every event the chunk finishes, as
    /// [`next_batch`](OwnedParser::next_batch) describes; whether it added any.
    fn fill_batch(&mut self, batch: &mut EventBatch) -> bool {
        let Some(bytes) = self.chunk.as_ref() else {
            return false;
        };
        let chunk = &bytes[..];
        let mut input = &chunk[self.pos..];
        loop {
            let before = input.len();
            let parsed = self.parser.parse(&mut input);
            // `input` is the end of the chunk: where it begins is how far parsing is.
            let read = || chunk.len() - before..chunk.len() - input.len();
            match parsed {
                Ok(Some(Item::Event(event))) => {
                    let (event_type, data) = (event.event_type_field(), event.data().as_bytes());
                    let id = event.last_event_id().as_bytes();
                    // Most events: data alone, in the chunk's text.
                    let end = if event_type.is_empty() && id.is_empty() && batch.push_data(data) {
                        // (It lists its events once it holds one of the text.)
                        if batch.listed() < EventBatch::MAX_EVENTS {
                            continue;
                        }
                        true
                    } else if assembled(&event, &chunk.as_ptr_range()) {
                        let large = data.len() >= MOVE_AT;
                        let split = SplitPlan::new(&self.sharer, bytes, event_type, id);
                        batch.push_own(split.event(&mut self.parser, bytes));
                        // The batch ends after a large event, so that it can be
                        // dropped before the next data is stored: the parser then
                        // takes its buffer back instead of asking for new memory.
                        large
                    } else {
                        let found = (event_type, data, id);
                        if !push_in(&mut self.sharer, bytes, batch, read(), found) {
                            let event = self.sharer.share_event_in(bytes, read(), event);
                            batch.push_own(event);
                        }
                        false
                    };
                    if end || batch.is_full() {
                        self.pos = chunk.len() - input.len();
                        return true;
                    }
                }
                Ok(Some(_)) => {}
                Err(_) => self.skipped += 1,
                Ok(None) => {
                    self.let_go();
                    self.batch_room = Some(batch.room());
                    return !batch.is_empty();
                }
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

/// How to split off the parser's buffer the event that it assembled (its data in
/// the buffer, its type in the chunk or the parser's): worked out while the event
/// borrows the parser, done after.
pub(crate) struct SplitPlan {
    /// The ID, when it is the one held (or none): not appended.
    held: Option<Part>,
    /// Where the type is in the chunk.
    chunk_type: Option<Range<usize>>,
    /// Whether the type is in the parser's buffer.
    stored_type: bool,
}

impl SplitPlan {
    pub(crate) fn new(sharer: &Sharer, chunk: &Bytes, event_type: &[u8], id: &[u8]) -> SplitPlan {
        let held = match id {
            [] => Some(EMPTY),
            id => sharer.held(id),
        };
        let chunk_type = offset(chunk, event_type).map(|at| at..at + event_type.len());
        let stored_type = !event_type.is_empty() && chunk_type.is_none();
        SplitPlan {
            held,
            chunk_type,
            stored_type,
        }
    }

    /// The event, split off the parser's buffer, not copied, with the type and the
    /// ID (unless the one held) appended.
    pub(crate) fn event(self, parser: &mut Parser<BytesMut>, chunk: &Bytes) -> OwnedEvent {
        let chunk_type = self.chunk_type.map(|at| &chunk[at]);
        let split = parser.split_event(chunk_type, self.stored_type, self.held.is_none());
        from_split(split, self.held)
    }
}

/// Adds to `batch` the event (parsed from `chunk[read]`) whose fields are in the
/// chunk's text, which the batch then holds; `false` if one is not, and nothing
/// was added.
#[inline(never)]
fn push_in(
    sharer: &mut Sharer,
    chunk: &Bytes,
    batch: &mut EventBatch,
    read: Range<usize>,
    (event_type, data, id): (&[u8], &[u8], &[u8]),
) -> bool {
    let Some(at) = sharer.locate(chunk, read, event_type, data, id) else {
        return false;
    };
    // The text the offsets are into: the batch's, or the batch takes it.
    if at.checked && !sharer.text().is_some_and(|text| batch.hold_text(text)) {
        return false;
    }
    let id = match at.id {
        Some(at) => Ok(at),
        None => Err(sharer.hold(id)),
    };
    batch.push_in(at.data, at.event_type, id);
    true
}

/// Whether `event`'s data is not in the chunk that `chunk` spans: the parser
/// assembled it in its own buffer.
#[inline(always)]
pub(crate) fn assembled(event: &Event<'_>, chunk: &Range<*const u8>) -> bool {
    let data = event.data().as_bytes();
    !data.is_empty() && !chunk.contains(&data.as_ptr())
}
