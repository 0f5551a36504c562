//! Owned items that share the chunk they were parsed from, instead of copying it.
//!
//! An adapter that holds its chunks as [`Bytes`] need not allocate, copy and check a
//! `String` per event: [`Sharer`] checks a chunk's UTF-8 once and hands out
//! [`ByteString`] slices of it (a reference count per event). Text that is not in the
//! chunk (data assembled across chunks) is copied, as [`Item::into_owned`] copies it.

use alloc::sync::Arc;
use core::ops::Range;

use bytes::Bytes;
use bytestring::ByteString;

use crate::item::{OwnedDiagnostic, OwnedItem, owned};
use crate::owned_event::{EMPTY, OwnedEvent, Part, TEXT_LIMIT, copied};
use crate::{Diagnostic, Event, Item, Text};

/// Makes [`OwnedItem`]s that share the [`Bytes`] chunk they were parsed from.
///
/// Parse a chunk, and pass each item with that chunk to
/// [`share`](Sharer::share). Text that lies in the chunk becomes a slice of it (the
/// chunk's UTF-8 is checked once, from the first slice asked for to its end); an
/// event whose fields all lie there is one slice (one reference count, whatever its
/// fields). Other text, such as data the parser assembled across chunks, is copied
/// (one allocation per event). The result is exactly [`Item::into_owned`]'s.
///
/// The last event ID is the parser's copy, kept across events. A `Sharer` keeps it
/// too and shares it with every event until it changes; an ID that changes with
/// every event is found in the chunk where its `id` line was read
/// ([`share_event_in`](Sharer::share_event_in)), so that it costs nothing more.
///
/// A slice keeps its whole chunk's memory alive, as any `Bytes` slice does: to keep
/// an event for long, copy its text (`String::from(event.data())`). Besides the items
/// handed out, a `Sharer` keeps alive the last chunk it checked, until
/// [`release`](Sharer::release) or the next chunk.
///
/// ```
/// use bytes::Bytes;
/// use sse_proto::{Item, OwnedItem, Parser, Sharer};
///
/// let mut parser = Parser::new();
/// let mut sharer = Sharer::new();
/// let chunk = Bytes::from_static(b"event: note\ndata: caf\xc3\xa9\n\n");
/// let mut input = &chunk[..];
/// let item = parser.parse(&mut input).unwrap().unwrap();
/// let OwnedItem::Event(event) = sharer.share(&chunk, item) else { panic!() };
/// assert_eq!((event.event_type(), event.data()), ("note", "café"));
/// // The data is the chunk's own memory, not a copy.
/// assert_eq!(event.data().as_ptr(), chunk[18..].as_ptr());
/// ```
#[derive(Debug, Clone)]
pub struct Sharer {
    /// The text of the chunk checked last.
    text: Option<Checked>,
    /// The last event ID of the events handed out, when it had to be copied: shared
    /// with the events that follow until it changes.
    id: Option<Arc<str>>,
    /// The most of a chunk's text checked, and shared, at once: events hold offsets
    /// into it in 32 bits (smaller in tests).
    window: usize,
}

impl Default for Sharer {
    fn default() -> Self {
        Sharer::new()
    }
}

/// A chunk's text, checked once.
#[derive(Debug, Clone)]
struct Checked {
    /// The chunk's address and length. A `Bytes` is immutable, and `text` keeps its
    /// memory alive, so a chunk with the same address and length is the same chunk.
    chunk: (usize, usize),
    /// Where in the chunk the check began: the first text asked for. What comes
    /// before belongs to items assembled in the parser, and is not checked.
    from: usize,
    /// The longest valid UTF-8 from there that ends with a whole character.
    text: ByteString,
}

impl Sharer {
    /// A sharer that has seen no chunk.
    pub const fn new() -> Self {
        Sharer {
            text: None,
            id: None,
            window: TEXT_LIMIT - 1,
        }
    }

    /// Lets go of the chunk checked last, and of the memory it keeps alive. Owned
    /// items are the same with or without it.
    pub fn release(&mut self) {
        self.text = None;
    }

    /// `item`, parsed from `chunk`, owned: its text sliced from the chunk where it
    /// lies there, copied otherwise (decoded as the spec decodes, U+FFFD for invalid
    /// UTF-8).
    pub fn share(&mut self, chunk: &Bytes, item: Item<'_>) -> OwnedItem {
        match item {
            Item::Event(event) => OwnedItem::Event(self.share_event(chunk, event)),
            Item::Retry(ms) => OwnedItem::Retry(ms),
            Item::Comment(comment) => OwnedItem::Comment(self.share_text(chunk, comment)),
            Item::Data(piece) => OwnedItem::Data(share_bytes(chunk, piece.as_bytes())),
            Item::EventEnd(event) => OwnedItem::EventEnd(self.share_event(chunk, event)),
            Item::Diagnostic(Diagnostic::UnknownField { name }) => {
                OwnedItem::Diagnostic(OwnedDiagnostic::UnknownField {
                    name: self.share_text(chunk, name),
                })
            }
            Item::Diagnostic(Diagnostic::InvalidRetry { value }) => {
                OwnedItem::Diagnostic(OwnedDiagnostic::InvalidRetry {
                    value: self.share_text(chunk, value),
                })
            }
            Item::Diagnostic(Diagnostic::IdContainsNul { value }) => {
                OwnedItem::Diagnostic(OwnedDiagnostic::IdContainsNul {
                    value: self.share_text(chunk, value),
                })
            }
        }
    }

    /// `event`, parsed from `chunk`, owned as [`share`](Sharer::share) owns it.
    pub fn share_event(&mut self, chunk: &Bytes, event: Event<'_>) -> OwnedEvent {
        self.share_event_in(chunk, 0..0, event)
    }

    /// `event`, parsed from `chunk` by a call that read `chunk[read]`, owned as
    /// [`share`](Sharer::share) owns it. A new last event ID is looked for in what
    /// the call read (where its `id` line was): found there, it is part of the
    /// event's slice of the chunk instead of a copy.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use sse_proto::{Item, Parser, Sharer};
    ///
    /// let (mut parser, mut sharer) = (Parser::new(), Sharer::new());
    /// let chunk = Bytes::from_static(b"id: 41\ndata: a\n\n");
    /// let mut input = &chunk[..];
    /// let Ok(Some(Item::Event(event))) = parser.parse(&mut input) else { panic!() };
    /// let read = 0..chunk.len() - input.len();
    /// let event = sharer.share_event_in(&chunk, read, event);
    /// assert_eq!(event.last_event_id(), "41");
    /// assert_eq!(event.last_event_id().as_ptr(), chunk[4..].as_ptr());
    /// ```
    pub fn share_event_in(
        &mut self,
        chunk: &Bytes,
        read: Range<usize>,
        event: Event<'_>,
    ) -> OwnedEvent {
        let (event_type, data) = (event.event_type_field(), event.data().as_bytes());
        let id = event.last_event_id().as_bytes();
        // Most events: data alone, of the default type, with no ID. What follows
        // makes the same event; this is it, cut short.
        if let ([], []) = (event_type, id) {
            if let Some(at) = self.data_at(chunk, data) {
                let text = self.text().cloned().unwrap_or_default();
                return OwnedEvent::in_text(text, at, EMPTY, EMPTY);
            }
        }
        self.spanned(chunk, read, event_type, data, id)
    }

    /// An event of the default type whose data is `chunk[data]`, a whole `data`
    /// line's value as the parser's fast path finds it, and whose last event ID is
    /// `id` (the parser's, not in the chunk): [`share_event`](Sharer::share_event)
    /// for it, without finding its fields. The data's ends need no check for
    /// character boundaries: it follows a `:` or a space and ends at a line end,
    /// ASCII bytes both, so within checked text both ends are boundaries.
    ///
    /// Out of line: inlined into [`OwnedParser::next`](crate::OwnedParser::next),
    /// it ran about 10% slower by the clock for the same instructions.
    #[inline(never)]
    pub(crate) fn share_data(
        &mut self,
        chunk: &Bytes,
        data: Range<usize>,
        id: &[u8],
    ) -> OwnedEvent {
        let Some(checked) = self.checked(chunk, data.start) else {
            return self.copy(b"", &chunk[data], id);
        };
        let (start, end) = (data.start - checked.from, data.end - checked.from);
        if end > checked.text.len() {
            // Not valid UTF-8 there: copied, with U+FFFD.
            return self.copy(b"", &chunk[data], id);
        }
        debug_assert!(checked.text.is_char_boundary(start) && checked.text.is_char_boundary(end));
        let last_event_id = self.id_part(id);
        // The text is cloned last: cloned before the ID, it was kept in a stack slot
        // across that call and copied twice, which ran 10% slower by the clock.
        let text = self.text().cloned().unwrap_or_default();
        OwnedEvent::in_text(text, (start, end), EMPTY, last_event_id)
    }

    /// The event as text of the chunk with its fields' offsets (any field not in
    /// the chunk: a copy of the whole event, or the ID held).
    #[inline(never)]
    fn spanned(
        &mut self,
        chunk: &Bytes,
        read: Range<usize>,
        event_type: &[u8],
        data: &[u8],
        id: &[u8],
    ) -> OwnedEvent {
        let Some(located) = self.locate(chunk, read, event_type, data, id) else {
            // Assembled in the parser, cut by a chunk's end, or invalid UTF-8: one
            // copy of it all, with U+FFFD.
            return self.copy(event_type, data, id);
        };
        let last_event_id = match located.id {
            Some(at) => Part::at(at),
            // The ID of an earlier event: shared (copied once when it changed).
            None => self.id_part(id),
        };
        let text = match located.checked {
            true => self.text.as_ref().map(|checked| checked.text.clone()),
            false => None,
        };
        let event_type = Part::at(located.event_type);
        OwnedEvent::in_text(
            text.unwrap_or_default(),
            located.data,
            event_type,
            last_event_id,
        )
    }

    /// Where the fields of an event parsed from `chunk` (by a call that read
    /// `chunk[read]`) are in the chunk's checked text ([`text`](Sharer::text)):
    /// `None` if a field is not in the chunk, or not valid UTF-8 there. An ID that
    /// is not in the chunk is the one held ([`hold`](Sharer::hold) it).
    #[inline(always)]
    pub(crate) fn locate(
        &mut self,
        chunk: &Bytes,
        read: Range<usize>,
        event_type: &[u8],
        data: &[u8],
        id: &[u8],
    ) -> Option<Located> {
        if let ([], false, []) = (event_type, data.is_empty(), id) {
            // Most events: data alone, of the default type, with no ID. What
            // follows finds the same; this is it, cut short.
            let data = self.data_at(chunk, data)?;
            return Some(Located {
                checked: true,
                data,
                ..Located::EMPTY
            });
        }
        if let Some(located) = self.in_checked(chunk, event_type, data, id) {
            return Some(located);
        }
        // Where each field is in the chunk: `None` if it is not there.
        let (data_at, type_at) = (place(chunk, data)?, place(chunk, event_type)?);
        let id_at = match (id, offset(chunk, id)) {
            ([], _) => Some(Place::EMPTY),
            // Set in this block, and handed out where it was read (the parser's
            // fast path does): found without comparing it to the one held.
            (_, Some(start)) => Some(Place(start, start + id.len())),
            _ if self.holds(id) => None,
            // Set in this block: where its `id` line was read.
            _ => find(chunk, read, id).map(|start| Place(start, start + id.len())),
        };
        let first = data_at
            .0
            .min(type_at.0)
            .min(id_at.map_or(usize::MAX, |at| at.0));
        if first == usize::MAX {
            // No text from the chunk: an empty event.
            let id = id_at.map(|_| (0, 0));
            return Some(Located {
                id,
                ..Located::EMPTY
            });
        }
        let checked = self.checked(chunk, first)?;
        let (data, event_type) = (checked.at(data_at)?, checked.at(type_at)?);
        let id = id_at.and_then(|at| checked.at(at));
        Some(Located {
            checked: true,
            data,
            event_type,
            id,
        })
    }

    /// [`locate`](Sharer::locate) for an event with data whose fields (or the ID, if
    /// none) lie in the text of `chunk` checked already (every event of a chunk but
    /// the first, as the parser hands them out): each found by its address alone.
    ///
    /// A field that the parser hands out where it read it begins after `:` or a
    /// space and ends at a line end, ASCII bytes both, so within checked text both
    /// ends are character boundaries. (A field that ends where the checked text
    /// ends does so on a boundary too.)
    #[inline(always)]
    fn in_checked(
        &self,
        chunk: &Bytes,
        event_type: &[u8],
        data: &[u8],
        id: &[u8],
    ) -> Option<Located> {
        if data.is_empty() {
            return None;
        }
        let key = (chunk.as_ptr() as usize, chunk.len());
        let checked = self.text.as_ref().filter(|checked| checked.chunk == key)?;
        let text: &str = &checked.text;
        let at = |field: &[u8]| {
            if field.is_empty() {
                return Some((0, 0));
            }
            let start = offset(text.as_bytes(), field)?;
            let end = start + field.len();
            debug_assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
            Some((start, end))
        };
        Some(Located {
            checked: true,
            data: at(data)?,
            event_type: at(event_type)?,
            id: Some(at(id)?),
        })
    }

    /// Where `data`, if it lies in `chunk`, is in the chunk's checked text.
    #[inline(always)]
    fn data_at(&mut self, chunk: &Bytes, data: &[u8]) -> Option<(usize, usize)> {
        let start = offset(chunk, data)?;
        self.checked(chunk, start)?
            .at(Place(start, start + data.len()))
    }

    /// The text of the chunk checked last ([`locate`](Sharer::locate)'s offsets are
    /// into it).
    pub(crate) fn text(&self) -> Option<&ByteString> {
        self.text.as_ref().map(|checked| &checked.text)
    }

    /// The last event ID `id`, held: the one held if it is the same, else copied
    /// (decoded, U+FFFD for invalid UTF-8).
    pub(crate) fn hold(&mut self, id: &[u8]) -> &Arc<str> {
        if !self.holds(id) {
            self.id = None;
        }
        self.id
            .get_or_insert_with(|| Arc::from(&*Text::new(id).to_string_lossy()))
    }

    /// The last event ID `id`, from the one held if it is the same, else copied
    /// and held.
    #[inline]
    pub(crate) fn id_part(&mut self, id: &[u8]) -> Part {
        if id.is_empty() {
            return EMPTY;
        }
        // Not `held`: an ID with invalid UTF-8 is held decoded, not as its bytes.
        Part::Own(Arc::clone(self.hold(id)))
    }

    /// The ID held, if it is `id`.
    pub(crate) fn held(&self, id: &[u8]) -> Option<Part> {
        let held = self.id.as_ref().filter(|held| held.as_bytes() == id)?;
        Some(Part::Own(Arc::clone(held)))
    }

    /// Whether the ID held is `id`.
    fn holds(&self, id: &[u8]) -> bool {
        self.id.as_ref().is_some_and(|held| held.as_bytes() == id)
    }

    /// The event copied: its type, data and ID in one new buffer, or the ID held if
    /// it is the same.
    #[cold]
    #[inline(never)]
    fn copy(&self, event_type: &[u8], data: &[u8], id: &[u8]) -> OwnedEvent {
        copied(event_type, data, self.held(id).map_or(Ok(id), Err))
    }

    /// `text` (a comment, say), parsed from `chunk`, owned: sliced from the chunk if
    /// it lies there, copied otherwise.
    pub fn share_text(&mut self, chunk: &Bytes, text: Text<'_>) -> ByteString {
        let bytes = text.as_bytes();
        if bytes.is_empty() {
            return ByteString::new();
        }
        offset(chunk, bytes)
            .and_then(|start| self.slice(chunk, start, start + bytes.len()))
            .unwrap_or_else(|| owned(text))
    }

    /// `chunk[start..end]` as text, if it is valid UTF-8 (checked once per chunk).
    fn slice(&mut self, chunk: &Bytes, start: usize, end: usize) -> Option<ByteString> {
        let text = self.checked(chunk, start)?;
        let (start, end) = text.at(Place(start, end))?;
        Some(text.text.slice_ref(&text.text[start..end]))
    }

    /// `chunk`'s text, checked from `start` on (or from before it), once per chunk.
    #[inline(always)]
    fn checked(&mut self, chunk: &Bytes, start: usize) -> Option<&Checked> {
        let key = (chunk.as_ptr() as usize, chunk.len());
        // Items come in stream order, so a chunk is checked once.
        if !matches!(&self.text, Some(c) if c.chunk == key && c.from <= start) {
            self.check(chunk, start);
        }
        self.text.as_ref()
    }

    /// Checks `chunk`'s text from `start` on.
    #[cold]
    #[inline(never)]
    fn check(&mut self, chunk: &Bytes, start: usize) {
        let key = (chunk.as_ptr() as usize, chunk.len());
        // Events hold offsets into the text in 32 bits: in a chunk of 4 GiB or more,
        // those past that are copied, as those past invalid UTF-8 are.
        let end = chunk.len().min(start.saturating_add(self.window));
        let text = valid_prefix(chunk.slice(start..end));
        self.text = Some(Checked {
            chunk: key,
            from: start,
            text,
        });
    }
}

impl Checked {
    /// Where `place` (in the chunk) is in the checked text, if it lies in it, on
    /// character boundaries. An empty place is anywhere: `(0, 0)`.
    #[inline(always)]
    fn at(&self, Place(start, end): Place) -> Option<(usize, usize)> {
        if start == end {
            return Some((0, 0));
        }
        let (start, end) = (start.checked_sub(self.from)?, end - self.from);
        let text = &self.text;
        (end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end))
            .then_some((start, end))
    }
}

/// Where an event's fields are in a chunk's checked text (see [`Sharer::locate`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Located {
    /// Whether any field is in the checked text (else the event is empty).
    pub(crate) checked: bool,
    pub(crate) data: (usize, usize),
    pub(crate) event_type: (usize, usize),
    /// `None`: the ID held.
    pub(crate) id: Option<(usize, usize)>,
}

impl Located {
    /// An event with no fields in the chunk.
    const EMPTY: Located = Located {
        checked: false,
        data: (0, 0),
        event_type: (0, 0),
        id: Some((0, 0)),
    };
}

/// Where some bytes are in a chunk: `start..end`. `Place::EMPTY` for no bytes.
#[derive(Debug, Clone, Copy)]
struct Place(usize, usize);

impl Place {
    /// No bytes (sorts after every place in a chunk).
    const EMPTY: Place = Place(usize::MAX, usize::MAX);
}

/// Where `bytes` are in `chunk`: `None` if they are not there, `Place::EMPTY`
/// if there are none.
#[inline(always)]
fn place(chunk: &Bytes, bytes: &[u8]) -> Option<Place> {
    if bytes.is_empty() {
        return Some(Place::EMPTY);
    }
    let start = offset(chunk, bytes)?;
    Some(Place(start, start + bytes.len()))
}

/// Where in `chunk[read]` the bytes `id` are found (the parser's general path hands
/// out its copy of an ID; any place will do: the text is the same).
#[inline(never)]
fn find(chunk: &Bytes, read: Range<usize>, id: &[u8]) -> Option<usize> {
    let (text, first) = (chunk.get(read.clone())?, *id.first()?);
    // The `id` line usually comes first in its block, where the first byte of the
    // ID is found at once: cheaper than setting up a substring search.
    let at = memchr::memchr_iter(first, text).find(|&at| text[at..].starts_with(id))?;
    Some(read.start + at)
}

/// Where `bytes` lies in `chunk` (a chunk, or text checked in one), if it does.
pub(crate) fn offset(chunk: &[u8], bytes: &[u8]) -> Option<usize> {
    let start = (bytes.as_ptr() as usize).checked_sub(chunk.as_ptr() as usize)?;
    (start < chunk.len() && bytes.len() <= chunk.len() - start).then_some(start)
}

/// `bytes`, sliced from `chunk` or copied.
fn share_bytes(chunk: &Bytes, bytes: &[u8]) -> Bytes {
    match offset(chunk, bytes) {
        Some(start) => chunk.slice(start..start + bytes.len()),
        None => Bytes::copy_from_slice(bytes),
    }
}

/// The longest prefix of `chunk` that is valid UTF-8 and does not end inside a
/// character: a character that the chunk's end cuts is completed in the parser's
/// buffer, with the next chunk, so nothing is lost by leaving it out here.
fn valid_prefix(mut chunk: Bytes) -> ByteString {
    chunk.truncate(chunk.len() - cut_character(&chunk));
    crate::utf8::valid_prefix(chunk)
}

/// How many bytes at the end of `bytes` begin a UTF-8 character that they do not
/// finish (0 to 3).
fn cut_character(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(4) {
        let byte = bytes[bytes.len() - back];
        if byte & 0xC0 == 0x80 {
            continue; // a continuation byte: the character began earlier
        }
        let len = match byte {
            0xF0.. => 4,
            0xE0.. => 3,
            0xC0.. => 2,
            _ => 1,
        };
        return if back < len { back } else { 0 };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, OwnedParser, Parser};
    use alloc::vec::Vec;

    /// Text past the most that is checked at once (4 GiB; 26 bytes here) is copied,
    /// and what comes before it shared.
    #[test]
    fn text_past_the_window_is_copied() {
        let chunk = Bytes::from_static(b"data: first\n\ndata: second\n\ndata: third\n\n");
        let (mut parser, mut sharer) = (
            Parser::new(),
            Sharer {
                window: 26,
                ..Sharer::new()
            },
        );
        let mut input = &chunk[..];
        let mut events = Vec::new();
        loop {
            let start = chunk.len() - input.len();
            let Some(Item::Event(event)) = parser.parse(&mut input).unwrap() else {
                break;
            };
            let read = start..chunk.len() - input.len();
            events.push(sharer.share_event_in(&chunk, read, event));
        }
        let data: Vec<&str> = events.iter().map(OwnedEvent::data).collect();
        assert_eq!(data, ["first", "second", "third"]);
        let shared = |event: &OwnedEvent| chunk.as_ptr_range().contains(&event.data().as_ptr());
        let shared: Vec<bool> = events.iter().map(shared).collect();
        assert_eq!(shared, [true, true, false]);
    }

    /// Every item of `chunks`, shared (events with the ID looked for where the
    /// parser read, when `look` is set) and copied.
    fn both_ways(config: Config, chunks: &[&[u8]], look: bool) -> (Vec<OwnedItem>, Vec<OwnedItem>) {
        let (mut parser, mut copied) = (Parser::with_config(config), Vec::new());
        let (mut other, mut shared_items) = (Parser::with_config(config), Vec::new());
        let mut sharer = Sharer::new();
        for chunk in chunks {
            let chunk = Bytes::copy_from_slice(chunk);
            let mut input = &chunk[..];
            while let Some(item) = parser.parse(&mut input).unwrap() {
                copied.push(item.into_owned());
            }
            let mut input = &chunk[..];
            loop {
                let start = chunk.len() - input.len();
                let Some(item) = other.parse(&mut input).unwrap() else {
                    break;
                };
                let read = start..chunk.len() - input.len();
                shared_items.push(match item {
                    Item::Event(event) if look => {
                        OwnedItem::Event(sharer.share_event_in(&chunk, read, event))
                    }
                    item => sharer.share(&chunk, item),
                });
            }
        }
        (shared_items, copied)
    }

    fn both(config: Config, chunks: &[&[u8]]) -> (Vec<OwnedItem>, Vec<OwnedItem>) {
        let (shared, copied) = both_ways(config, chunks, false);
        let (found, _) = both_ways(config, chunks, true);
        assert_eq!(found, copied, "with the IDs looked for: {chunks:?}");
        (shared, copied)
    }

    /// The next item of `chunk` from `input` on, shared.
    fn next(
        parser: &mut Parser,
        sharer: &mut Sharer,
        chunk: &Bytes,
        input: &mut &[u8],
    ) -> OwnedItem {
        sharer.share(chunk, parser.parse(input).unwrap().unwrap())
    }

    fn in_chunk(text: &str, chunk: &Bytes) -> bool {
        offset(chunk, text.as_bytes()).is_some()
    }

    #[test]
    fn characters_cut_by_the_end() {
        assert_eq!(cut_character(b""), 0);
        assert_eq!(cut_character(b"a"), 0);
        assert_eq!(cut_character("é".as_bytes()), 0);
        assert_eq!(cut_character(b"a\xc3"), 1);
        assert_eq!(cut_character(b"\xe2\x82"), 2);
        assert_eq!(cut_character("€".as_bytes()), 0);
        assert_eq!(cut_character(b"\xf0\x9f\x98"), 3);
        assert_eq!(cut_character("😀".as_bytes()), 0);
        // Invalid: a lone continuation byte, too many of them. Left to the check.
        assert_eq!(cut_character(b"\x80"), 0);
        assert_eq!(cut_character(b"\x80\x80\x80\x80\x80"), 0);
    }

    #[test]
    fn shared_items_are_the_copied_ones() {
        let cases: &[&[&[u8]]] = &[
            &[b"data: a\n\nevent: t\nid: 1\ndata: b\n\n"],
            &[b"data: caf\xc3", b"\xa9\n\ndata: x\xc3\xa9\n\n"],
            &[b"data: bad \xff here\n\ndata: good\n\n"],
            &[b"data: \xf0\x9f\x98\x80\n\n: \xe2\x82", b"\xac\n\n"],
            &[b": keep\nid: 7\ndata: 1\ndata: 2\n\n", b"data: 3\n\n"],
            &[b"bogus: x\nretry: y\nid: a\0b\ndata: z\n\n"],
            &[
                b"data: ab",
                b"cd\n\nid: 9\nevent: u\ndata: \xc3\xa9\n\nevent: u\ndata: 2\n\n",
            ],
            &[
                b"id: 1\nevent: a\ndata: \xff\n\nid: 2\nevent: b\ndata: \xc3",
                b"\xa9\n\n",
            ],
            // IDs: set, inherited, found inside the data, invalid, cut by a chunk's
            // end, changed back, after the data.
            &[b"id: 5\ndata: a\n\ndata: b\n\ndata: 12\nid: 1\n\ndata: c\n\n"],
            &[b"id: \xff\ndata: x\n\ndata: y\n\nid: caf\xc3\xa9\ndata: z\n\n"],
            &[
                b"id: 12",
                b"3\ndata: x\n\ndata: y\n\nid: 5\ndata: ",
                b"z\n\nid: 123\ndata: w\n\n",
            ],
            &[b"event: t\ndata: a\nid: 9\n\nevent: t\ndata: b\n\nid\ndata: c\n\n"],
        ];
        for chunks in cases {
            for config in [
                Config::new(),
                Config::new().comments(true).diagnostics(true),
                Config::new().stream_data(true),
            ] {
                let (shared, copied) = both(config, chunks);
                assert_eq!(shared, copied, "{chunks:?}");
            }
        }
    }

    #[test]
    fn text_in_the_chunk_is_not_copied() {
        let mut parser = Parser::with_config(Config::new().comments(true));
        let mut sharer = Sharer::new();
        let chunk = Bytes::from_static(b": hi\nevent: t\nid: 5\ndata: \xc3\xa9t\xc3\xa9\n\n");
        let mut input = &chunk[..];
        let OwnedItem::Comment(comment) = next(&mut parser, &mut sharer, &chunk, &mut input) else {
            panic!()
        };
        assert!(in_chunk(&comment, &chunk));
        let OwnedItem::Event(event) = next(&mut parser, &mut sharer, &chunk, &mut input) else {
            panic!()
        };
        assert_eq!(event.data(), "été");
        assert!(in_chunk(event.data(), &chunk));
        assert!(in_chunk(event.event_type(), &chunk));
        // The last event ID its block set is handed out where the parser's fast
        // path read it (the general path hands out its copy, which is copied).
        assert_eq!(event.last_event_id(), "5");
        assert_eq!(
            in_chunk(event.last_event_id(), &chunk),
            !cfg!(sse_proto_small)
        );

        // The next chunk.
        let later = Bytes::from_static(b"event: t\ndata: 2\n\n");
        let mut input = &later[..];
        let OwnedItem::Event(second) = next(&mut parser, &mut sharer, &later, &mut input) else {
            panic!()
        };
        assert_eq!(second.last_event_id(), "5");
        assert!(!in_chunk(second.last_event_id(), &later));
        assert!(in_chunk(second.event_type(), &later));
        assert!(in_chunk(second.data(), &later));
    }

    #[test]
    fn an_id_is_found_where_it_was_read_and_then_shared() {
        let chunk = Bytes::from_static(b"id: 41\ndata: a\n\ndata: b\n\n");
        let later = Bytes::from_static(b"data: c\n\n");
        let mut parser = OwnedParser::new(Parser::new());
        let mut events = Vec::new();
        for chunk in [chunk.clone(), later.clone()] {
            parser.push(chunk);
            while let Some(item) = parser.next() {
                let OwnedItem::Event(event) = item else {
                    panic!()
                };
                events.push(event);
            }
        }
        let ids: Vec<&str> = events.iter().map(OwnedEvent::last_event_id).collect();
        assert_eq!(ids, ["41", "41", "41"]);
        // Set in the first event's block: the chunk's own text.
        assert!(in_chunk(events[0].last_event_id(), &chunk));
        // Inherited: copied once, then the same text for every event after.
        assert!(!in_chunk(events[1].last_event_id(), &chunk));
        assert_eq!(
            events[1].last_event_id().as_ptr(),
            events[2].last_event_id().as_ptr()
        );
        assert!(in_chunk(events[2].data(), &later));
    }

    #[test]
    fn data_before_a_new_type_is_shared_too() {
        // The type is asked for first, the data lies before it: checked from there.
        let mut parser = Parser::new();
        let mut sharer = Sharer::new();
        let chunk = Bytes::from_static(b"data: 2\nevent: u\n\n");
        let mut input = &chunk[..];
        let OwnedItem::Event(event) = next(&mut parser, &mut sharer, &chunk, &mut input) else {
            panic!()
        };
        assert_eq!((event.event_type(), event.data()), ("u", "2"));
        assert!(in_chunk(event.event_type(), &chunk));
        assert!(in_chunk(event.data(), &chunk));
    }

    #[test]
    fn data_cut_by_a_chunk_end_is_copied_whole() {
        let (shared, copied) = both(Config::new(), &[b"data: ab", b"cd\n\n"]);
        assert_eq!(shared, copied);
        let OwnedItem::Event(event) = &shared[0] else {
            panic!()
        };
        assert_eq!(event.data(), "abcd");
    }
}
