//! Every event of one chunk, owned together: one reference count for the batch,
//! not one per event.

use core::fmt;
use core::iter::FusedIterator;
use core::ops::Range;
use core::slice;

use alloc::sync::Arc;
use alloc::vec::Vec;

use bytestring::ByteString;

use crate::DEFAULT_EVENT_TYPE;
use crate::owned_event::{OwnedEvent, Part, Span, TEXT_LIMIT};

/// The events that one chunk finished, owned together
/// ([`OwnedParser::next_batch`](crate::OwnedParser::next_batch)).
///
/// A batch holds the chunk's text once (checked as UTF-8 once) and where each
/// event's fields are in it, so that reading many small events out of a chunk
/// costs no reference count, allocation or move per event: iterate a `&EventBatch`
/// for [`BatchEvent`]s, whose fields are `&str`s of the batch, or turn one into an
/// [`OwnedEvent`] of its own ([`BatchEvent::into_owned`], one reference count and
/// no copy). An event that is not in the chunk's text (data the parser assembled
/// across chunks or lines) is held as the `OwnedEvent` it is. The events are those
/// [`OwnedParser::next`](crate::OwnedParser::next) hands out, in the same order;
/// other items are not kept (the parser records a `retry` value, as always).
///
/// A batch keeps its chunk's memory alive, as the events of the chunk would, and
/// holds at most [`MAX_EVENTS`](EventBatch::MAX_EVENTS) events (32 bytes each
/// besides the chunk, for an event whose fields are in the chunk's text). One
/// batch can take chunk after chunk
/// ([`OwnedParser::next_batch_into`](crate::OwnedParser::next_batch_into)): it
/// lets go of each chunk's events and text when it takes the next, and keeps the
/// memory of its lists.
///
/// ```
/// use sse_proto::{OwnedParser, Parser};
///
/// let mut parser = OwnedParser::new(Parser::new());
/// parser.push(&b"data: a\n\nid: 7\nevent: note\ndata: b\n\ndata: c"[..]);
/// let batch = parser.next_batch().unwrap();
/// let data: Vec<&str> = batch.iter().map(|event| event.data()).collect();
/// assert_eq!(data, ["a", "b"]); // "c" is not finished yet
/// let second = batch.get(1).unwrap();
/// assert_eq!((second.event_type(), second.last_event_id()), ("note", "7"));
/// assert!(parser.next_batch().is_none()); // the chunk is used up
/// ```
#[derive(Clone, Default)]
pub struct EventBatch {
    /// The chunk's text: the fields of `Entry::In` events are in it. Empty until
    /// set (a text that holds an event's field is not empty).
    text: ByteString,
    /// Where each event is; empty while every event is in `own` (the `i`th
    /// event is `own[i]`), so that a batch of assembled events needs no list
    /// besides.
    entries: Vec<Entry>,
    /// The events not in `text`, in the order of their `Entry::Own`s.
    own: Vec<OwnedEvent>,
    /// Last event IDs that events of the batch have from earlier events, each held
    /// once.
    ids: Vec<Arc<str>>,
    /// Room to make in `entries` and `own` for their first events.
    room: (u32, u32),
}

/// Where one event of a batch is.
#[derive(Debug, Clone, Copy)]
enum Entry {
    /// Its data and type in the batch's text, its ID there or held.
    In {
        data: Span,
        event_type: Span,
        id: Id,
    },
    /// `own[i]`.
    Own(usize),
}

/// Where an event's last event ID is.
#[derive(Debug, Clone, Copy)]
enum Id {
    In(Span),
    /// `ids[i]`.
    Held(usize),
}

/// `n`, or `u32::MAX` if it is more.
fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl EventBatch {
    /// The most events a batch holds (a chunk that finishes more gives several
    /// batches): its list of them stays under 128 KiB, however small the events of
    /// a large chunk are.
    pub const MAX_EVENTS: usize = 4096;

    /// How many events its list holds (all of them, once it holds one of the
    /// text; none before).
    #[inline(always)]
    pub(crate) fn listed(&self) -> usize {
        self.entries.len()
    }

    /// Whether the batch holds [`MAX_EVENTS`](EventBatch::MAX_EVENTS).
    #[inline(always)]
    pub(crate) fn is_full(&self) -> bool {
        self.len() >= Self::MAX_EVENTS
    }

    /// A batch that makes room for `events` events once it has one, and for
    /// `own` held by themselves once it has one of those (a chunk in the middle
    /// of a large event finishes none).
    pub(crate) fn with_room(events: usize, own: usize) -> Self {
        let mut batch = EventBatch::default();
        batch.set_room(events, own);
        batch
    }

    /// Adds `entry`; the first one lists the events held by themselves before it
    /// (making room for the list if it has none).
    #[inline(always)]
    fn push(&mut self, entry: Entry) {
        if self.entries.is_empty() {
            self.start_entries();
        }
        self.entries.push(entry);
    }

    /// Makes room in `entries` if it has none, and lists there the events in `own`.
    #[cold]
    #[inline(never)]
    fn start_entries(&mut self) {
        if self.entries.capacity() == 0 {
            let events = (self.room.0 as usize).max(self.own.len() + 1);
            self.entries = Vec::with_capacity(events);
        }
        self.entries.extend((0..self.own.len()).map(Entry::Own));
    }

    /// Drops the events and lets go of the chunk's text; the memory of the batch's
    /// lists is kept, for the events of the next chunk
    /// ([`OwnedParser::next_batch_into`](crate::OwnedParser::next_batch_into)
    /// empties the batch it is given this way).
    ///
    /// ```
    /// use sse_proto::{OwnedParser, Parser};
    ///
    /// let mut parser = OwnedParser::new(Parser::new());
    /// parser.push(&b"data: a\n\ndata: b\n\n"[..]);
    /// let mut batch = parser.next_batch().unwrap();
    /// assert_eq!(batch.len(), 2);
    /// batch.clear();
    /// assert!(batch.is_empty() && batch.iter().next().is_none());
    /// ```
    pub fn clear(&mut self) {
        if !self.text.is_empty() {
            self.text = ByteString::new();
        }
        self.entries.clear();
        self.own.clear();
        self.ids.clear();
    }

    /// Makes room for `events` events and `own` held by themselves when its lists
    /// have none.
    pub(crate) fn set_room(&mut self, events: usize, own: usize) {
        self.room = (clamp(events), clamp(own));
    }

    /// How many events it holds, and how many of them by themselves.
    pub(crate) fn room(&self) -> (usize, usize) {
        (self.len(), self.own.len())
    }

    /// Makes `text` the text that the events to come are in, if the batch has
    /// none yet; whether the batch's text is `text` (`false` if it holds another,
    /// or if `text` is too long for the batch's offsets, 4 GiB).
    pub(crate) fn hold_text(&mut self, text: &ByteString) -> bool {
        if self.text.is_empty() && text.len() < TEXT_LIMIT {
            self.text = text.clone();
        }
        self.text.as_ptr() == text.as_ptr() && self.text.len() == text.len()
    }

    /// Adds an event whose data and type are in the batch's text (offsets into
    /// it, which [`hold_text`](EventBatch::hold_text) made sure fit a `u32`), and its
    /// ID too (`Ok`) or the one held (`Err`).
    #[inline(always)]
    pub(crate) fn push_in(
        &mut self,
        data: (usize, usize),
        event_type: (usize, usize),
        id: Result<(usize, usize), &Arc<str>>,
    ) {
        let id = match id {
            Ok(at) => Id::In(Span::new(at)),
            Err(held) => Id::Held(self.held(held)),
        };
        self.push(Entry::In {
            data: Span::new(data),
            event_type: Span::new(event_type),
            id,
        });
    }

    /// Adds an event of the default type with no ID and `data`, if `data` lies in
    /// the batch's text (once it has one) on character boundaries; `false`
    /// otherwise, and nothing was added. The most common event, cut short: what
    /// [`OwnedParser`](crate::OwnedParser) does for any event finds the same.
    #[inline(always)]
    pub(crate) fn push_data(&mut self, data: &[u8]) -> bool {
        let text: &str = &self.text;
        let start = (data.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
        let end = start.wrapping_add(data.len());
        // Empty data may lie anywhere: it is left to the general path.
        let inside = start < end && end <= text.len();
        if !(inside && text.is_char_boundary(start) && text.is_char_boundary(end)) {
            return false;
        }
        let (data, none) = (Span::new((start, end)), Span::EMPTY);
        self.push(Entry::In {
            data,
            event_type: none,
            id: Id::In(none),
        });
        true
    }

    /// Where `id` is in `ids`, added if it is not the last one.
    fn held(&mut self, id: &Arc<str>) -> usize {
        if !self.ids.last().is_some_and(|last| Arc::ptr_eq(last, id)) {
            self.ids.push(Arc::clone(id));
        }
        self.ids.len() - 1
    }

    /// Adds an event that holds its own text.
    pub(crate) fn push_own(&mut self, event: OwnedEvent) {
        if self.own.capacity() == 0 {
            self.own = Vec::with_capacity(self.room.1 as usize);
        }
        if !self.entries.is_empty() {
            self.push(Entry::Own(self.own.len()));
        }
        self.own.push(event);
    }

    /// How many events the batch holds.
    pub fn len(&self) -> usize {
        match self.entries.len() {
            0 => self.own.len(),
            len => len,
        }
    }

    /// Whether the batch holds no event (never, for a batch
    /// [`next_batch`](crate::OwnedParser::next_batch) hands out).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th event.
    pub fn get(&self, i: usize) -> Option<BatchEvent<'_>> {
        let entry = match self.entries.is_empty() {
            true if i < self.own.len() => Entry::Own(i),
            true => return None,
            false => *self.entries.get(i)?,
        };
        Some(self.event(entry))
    }

    /// The events, in stream order.
    pub fn iter(&self) -> BatchIter<'_> {
        BatchIter {
            batch: self,
            entries: self.entries.iter(),
            // The events in `own`, when `entries` does not list them.
            own: 0..if self.entries.is_empty() {
                self.own.len()
            } else {
                0
            },
        }
    }

    #[inline(always)]
    fn event(&self, entry: Entry) -> BatchEvent<'_> {
        BatchEvent { batch: self, entry }
    }
}

impl fmt::Debug for EventBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBatch")
            .field("events", &DebugEvents(self))
            .finish()
    }
}

struct DebugEvents<'a>(&'a EventBatch);

impl fmt::Debug for DebugEvents<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a EventBatch {
    type Item = BatchEvent<'a>;
    type IntoIter = BatchIter<'a>;

    fn into_iter(self) -> BatchIter<'a> {
        self.iter()
    }
}

impl IntoIterator for EventBatch {
    type Item = OwnedEvent;
    type IntoIter = BatchIntoIter;

    /// The events as [`OwnedEvent`]s, each sharing the batch's text (one reference
    /// count each, no copy).
    fn into_iter(self) -> BatchIntoIter {
        BatchIntoIter {
            left: 0..self.len(),
            batch: self,
        }
    }
}

/// The events of an [`EventBatch`], borrowed ([`EventBatch::iter`]).
#[derive(Debug, Clone)]
pub struct BatchIter<'a> {
    batch: &'a EventBatch,
    entries: slice::Iter<'a, Entry>,
    /// The events of `own` left, where `entries` is empty.
    own: Range<usize>,
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = BatchEvent<'a>;

    #[inline]
    fn next(&mut self) -> Option<BatchEvent<'a>> {
        let entry = match self.entries.next() {
            Some(entry) => *entry,
            None => Entry::Own(self.own.next()?),
        };
        Some(self.batch.event(entry))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.entries.len() + self.own.len();
        (left, Some(left))
    }
}

impl DoubleEndedIterator for BatchIter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        let entry = match self.entries.next_back() {
            Some(entry) => *entry,
            None => Entry::Own(self.own.next_back()?),
        };
        Some(self.batch.event(entry))
    }
}

impl ExactSizeIterator for BatchIter<'_> {}

impl FusedIterator for BatchIter<'_> {}

/// The events of an [`EventBatch`], owned (`EventBatch::into_iter`).
#[derive(Debug, Clone)]
pub struct BatchIntoIter {
    batch: EventBatch,
    /// The events not yet handed out.
    left: Range<usize>,
}

impl Iterator for BatchIntoIter {
    type Item = OwnedEvent;

    fn next(&mut self) -> Option<OwnedEvent> {
        Some(self.batch.get(self.left.next()?)?.into_owned())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.left.size_hint()
    }
}

impl DoubleEndedIterator for BatchIntoIter {
    fn next_back(&mut self) -> Option<OwnedEvent> {
        Some(self.batch.get(self.left.next_back()?)?.into_owned())
    }
}

impl ExactSizeIterator for BatchIntoIter {}

impl FusedIterator for BatchIntoIter {}

/// One event of an [`EventBatch`]: its fields are text of the batch.
#[derive(Clone, Copy)]
pub struct BatchEvent<'a> {
    batch: &'a EventBatch,
    entry: Entry,
}

impl<'a> BatchEvent<'a> {
    /// The event type: the last `event` field of the block, or `"message"`.
    pub fn event_type(&self) -> &'a str {
        match self.entry {
            Entry::In { event_type, .. } => match event_type.of(&self.batch.text) {
                "" => DEFAULT_EVENT_TYPE,
                event_type => event_type,
            },
            Entry::Own(i) => self.batch.own[i].event_type(),
        }
    }

    /// The data: the block's `data` values joined with LF, without a trailing LF.
    #[inline]
    pub fn data(&self) -> &'a str {
        match self.entry {
            Entry::In { data, .. } => data.of(&self.batch.text),
            Entry::Own(i) => self.batch.own[i].data(),
        }
    }

    /// The event's `lastEventId`: the event source's last event ID string once this
    /// event was dispatched.
    pub fn last_event_id(&self) -> &'a str {
        match self.entry {
            Entry::In { id: Id::In(id), .. } => id.of(&self.batch.text),
            Entry::In {
                id: Id::Held(i), ..
            } => &self.batch.ids[i],
            Entry::Own(i) => self.batch.own[i].last_event_id(),
        }
    }

    /// The event as an [`OwnedEvent`] of its own, sharing the batch's text (one
    /// reference count, no copy).
    ///
    /// ```
    /// use sse_proto::{OwnedEvent, OwnedParser, Parser};
    ///
    /// let mut parser = OwnedParser::new(Parser::new());
    /// parser.push(&b"event: note\ndata: hi\n\n"[..]);
    /// let batch = parser.next_batch().unwrap();
    /// let event: OwnedEvent = batch.get(0).unwrap().into_owned();
    /// drop(batch);
    /// assert_eq!(event, OwnedEvent::new("note", "hi", ""));
    /// ```
    pub fn into_owned(self) -> OwnedEvent {
        let batch = self.batch;
        match self.entry {
            Entry::In {
                data,
                event_type,
                id,
            } => {
                let last_event_id = match id {
                    Id::In(id) => Part::at(id.at()),
                    Id::Held(i) => Part::Own(Arc::clone(&batch.ids[i])),
                };
                let event_type = Part::at(event_type.at());
                OwnedEvent::in_text(batch.text.clone(), data.at(), event_type, last_event_id)
            }
            Entry::Own(i) => batch.own[i].clone(),
        }
    }

    /// The data, parsed as JSON into a `T` (with the `serde` feature).
    ///
    /// ```
    /// use sse_proto::{OwnedParser, Parser};
    ///
    /// let mut parser = OwnedParser::new(Parser::new());
    /// parser.push(&b"data: [1, 2]\n\n"[..]);
    /// let batch = parser.next_batch().unwrap();
    /// let numbers: Vec<u32> = batch.get(0).unwrap().json()?;
    /// assert_eq!(numbers, [1, 2]);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[cfg(feature = "serde")]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.data())
    }
}

impl PartialEq<OwnedEvent> for BatchEvent<'_> {
    /// Equal when their type, data and last event ID are.
    fn eq(&self, other: &OwnedEvent) -> bool {
        self.data() == other.data()
            && self.event_type() == other.event_type()
            && self.last_event_id() == other.last_event_id()
    }
}

impl fmt::Debug for BatchEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchEvent")
            .field("event_type", &self.event_type())
            .field("data", &self.data())
            .field("last_event_id", &self.last_event_id())
            .finish()
    }
}
