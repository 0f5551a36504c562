//! An event that owns its text: one shared buffer, and where each field lies in it.
//!
//! An event read whole from a `Bytes` chunk shares that chunk's text (one reference
//! count), with its type, data and ID found in it by offsets; an event copied is one
//! allocation holding all three. A field that lies elsewhere (a last event ID that an
//! earlier event set, kept by the reader and shared until it changes) has text of its
//! own.

use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::Range;

use alloc::sync::Arc;

use bytestring::ByteString;

use crate::parser::Split;
use crate::{DEFAULT_EVENT_TYPE, Text};

/// An [`Event`](crate::Event) that owns its text (decoded as the spec decodes, U+FFFD
/// for invalid UTF-8).
///
/// The text lives in one [`ByteString`] (an immutable `str` in reference-counted
/// [`Bytes`](bytes::Bytes)), with the fields found in it by offsets. The stream
/// adapters hand out events that share the text of the chunk they arrived in
/// ([`Sharer`](crate::Sharer), [`OwnedParser`](crate::OwnedParser)): no allocation
/// or copy per event, one reference count. Such an event keeps the chunk's memory
/// alive; to keep an event for long, copy what you need
/// (`String::from(event.data())`, or [`into_data`](OwnedEvent::into_data) and a
/// copy). Events are equal when their type, data and last event ID are.
///
/// ```
/// use sse_proto::{Event, OwnedEvent};
///
/// let event: OwnedEvent = Event::new(b"", b"{\"n\":1}", b"7").into_owned();
/// assert_eq!(event.event_type(), "message");
/// assert_eq!(event.data(), r#"{"n":1}"#);
/// let id: u64 = event.last_event_id().parse()?;
/// assert_eq!(id, 7);
/// assert_eq!(event, OwnedEvent::new("message", r#"{"n":1}"#, "7"));
/// # Ok::<(), core::num::ParseIntError>(())
/// ```
#[derive(Clone)]
pub struct OwnedEvent {
    /// Holds the data, and the type and the ID where their [`Field`]s are `In` it.
    text: ByteString,
    /// Where the data is in `text`; an end of [`TO_END`] is `text`'s end.
    data: (u32, u32),
    /// Empty: the default type.
    event_type: Field,
    last_event_id: Field,
}

/// Where a field's text is, as an event holds it: offsets in 32 bits, so that an
/// event is 72 bytes rather than 96 (it is moved several times on its way out of a
/// stream, and copies of it are what a reader of events one at a time spends much
/// of its time on). An event whose fields lie farther apart is made of its fields'
/// span, or of its data alone ([`OwnedEvent::from_parts`]).
#[derive(Clone)]
enum Field {
    /// Where it is in the event's text (empty: [`Span::EMPTY`]).
    In(Span),
    /// Text of its own.
    Own(Arc<str>),
}

/// `text[start..end]` of a text under 4 GiB: an event's or an
/// [`EventBatch`](crate::EventBatch)'s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span(u32, u32);

impl Span {
    /// No text.
    pub(crate) const EMPTY: Span = Span(0, 0);

    /// `text[start..end]`, of a text under 4 GiB.
    #[inline(always)]
    pub(crate) fn new((start, end): (usize, usize)) -> Span {
        debug_assert!(u32::try_from(end).is_ok());
        Span(start as u32, end as u32)
    }

    /// Its offsets.
    pub(crate) fn at(self) -> (usize, usize) {
        (self.0 as usize, self.1 as usize)
    }

    /// Its text in `text` (checked on character boundaries when it was made).
    #[inline(always)]
    pub(crate) fn of(self, text: &str) -> &str {
        &text[self.0 as usize..self.1 as usize]
    }
}

/// The end of the data that is all of the event's text, however long.
const TO_END: u32 = u32::MAX;

/// An event whose text is shorter than this holds its fields' offsets as they are.
pub(crate) const TEXT_LIMIT: usize = TO_END as usize;

/// Where a field's text is, as an event is assembled (offsets in `usize`).
#[derive(Clone, Debug)]
pub(crate) enum Part {
    /// `text[start..end]` of the event; `In(0, 0)` is empty.
    In(usize, usize),
    /// Text of its own (an ID shared with the events around it, say).
    Own(Arc<str>),
}

/// An empty field.
pub(crate) const EMPTY: Part = Part::In(0, 0);

impl Part {
    /// The part at `(start, end)` of the event's text (empty if they are equal).
    #[inline(always)]
    pub(crate) fn at((start, end): (usize, usize)) -> Part {
        match start == end {
            true => EMPTY,
            false => Part::In(start, end),
        }
    }

    /// Where the part is in the event's text, if it is there (not if empty).
    #[inline(always)]
    fn range(&self) -> Option<(usize, usize)> {
        match self {
            Part::In(start, end) if start < end => Some((*start, *end)),
            _ => None,
        }
    }

    /// The part as an event holds it (offsets checked by the caller).
    #[inline(always)]
    fn field(self) -> Field {
        match self {
            Part::In(start, end) => Field::In(Span::new((start, end))),
            Part::Own(text) => Field::Own(text),
        }
    }

    /// `text` as a part of its own (nothing for an empty one).
    pub(crate) fn own(text: &str) -> Part {
        match text {
            "" => EMPTY,
            text => Part::Own(Arc::from(text)),
        }
    }
}

impl OwnedEvent {
    /// An event with this type (empty means `"message"`), data and last event ID.
    /// The data is kept as it is; the type and the ID are copied.
    ///
    /// ```
    /// use sse_proto::OwnedEvent;
    ///
    /// let event = OwnedEvent::new("", "hi", "");
    /// assert_eq!((event.event_type(), event.data()), ("message", "hi"));
    /// ```
    pub fn new(
        event_type: impl Into<ByteString>,
        data: impl Into<ByteString>,
        last_event_id: impl Into<ByteString>,
    ) -> Self {
        let text = data.into();
        let data = (0, text.len());
        let (event_type, last_event_id) = (event_type.into(), last_event_id.into());
        OwnedEvent::from_parts(
            text,
            data,
            Part::own(&event_type),
            Part::own(&last_event_id),
        )
    }

    /// Assembles an event from its parts (offsets checked by the caller against
    /// `text`'s character boundaries: an accessor panics otherwise), however long
    /// its text.
    #[inline]
    pub(crate) fn from_parts(
        text: ByteString,
        data: (usize, usize),
        event_type: Part,
        last_event_id: Part,
    ) -> Self {
        OwnedEvent::within(text, data, event_type, last_event_id, TEXT_LIMIT)
    }

    /// [`from_parts`](OwnedEvent::from_parts) with `limit` for [`TEXT_LIMIT`]
    /// (smaller in tests, which cannot make 4 GiB of text).
    #[inline(always)]
    fn within(
        text: ByteString,
        data: (usize, usize),
        event_type: Part,
        last_event_id: Part,
        limit: usize,
    ) -> Self {
        if text.len() < limit {
            return OwnedEvent::in_text(text, data, event_type, last_event_id);
        }
        OwnedEvent::wide(text, [Part::at(data), event_type, last_event_id], limit)
    }

    /// [`from_parts`](OwnedEvent::from_parts) of a text shorter than
    /// [`TEXT_LIMIT`] (a chunk's text that a [`Sharer`](crate::Sharer) checked, or a
    /// batch's): no check of the offsets' size, and nothing that keeps the event out
    /// of registers.
    #[inline(always)]
    pub(crate) fn in_text(
        text: ByteString,
        data: (usize, usize),
        event_type: Part,
        last_event_id: Part,
    ) -> Self {
        debug_assert!(text.len() < TEXT_LIMIT);
        OwnedEvent {
            text,
            data: (data.0 as u32, data.1 as u32),
            event_type: event_type.field(),
            last_event_id: last_event_id.field(),
        }
    }

    /// An event whose text is `limit` bytes or longer ([`TEXT_LIMIT`]; smaller in
    /// tests), from its data, type and ID: made of the span of the text its fields
    /// are in (sharing it), or if that span is itself too long, of its data alone
    /// with the type and the ID copied.
    #[cold]
    #[inline(never)]
    fn wide(text: ByteString, parts: [Part; 3], limit: usize) -> Self {
        let span = parts
            .iter()
            .filter_map(Part::range)
            .fold((usize::MAX, 0), |(lo, hi), (start, end)| {
                (lo.min(start), hi.max(end))
            });
        let [data, event_type, last_event_id] = parts;
        let data = data.range();
        if span.1 > span.0 && span.1 - span.0 < limit {
            // Offsets into the span; an empty part stays empty.
            let into = |(start, end): (usize, usize)| (start - span.0, end - span.0);
            let shift = |part: Part| match part.range() {
                Some(at) => Part::at(into(at)),
                None => part,
            };
            let data = data.map_or((0, 0), into);
            let text = text.slice_ref(&text[span.0..span.1]);
            let (event_type, last_event_id) = (shift(event_type), shift(last_event_id));
            return OwnedEvent::in_text(text, data, event_type, last_event_id);
        }
        let copy = |part: Part| match part {
            Part::In(start, end) => Part::own(&text[start..end]).field(),
            part => part.field(),
        };
        let data = data.unwrap_or((0, 0));
        OwnedEvent {
            data: (0, TO_END),
            event_type: copy(event_type),
            last_event_id: copy(last_event_id),
            text: text.slice_ref(&text[data.0..data.1]),
        }
    }

    /// The event type: the last `event` field of the block, or `"message"`.
    pub fn event_type(&self) -> &str {
        match self.part(&self.event_type) {
            "" => DEFAULT_EVENT_TYPE,
            event_type => event_type,
        }
    }

    /// The data: the block's `data` values joined with LF, without a trailing LF.
    pub fn data(&self) -> &str {
        &self.text[self.data.0 as usize..self.data_end()]
    }

    fn data_end(&self) -> usize {
        match self.data.1 {
            TO_END => self.text.len(),
            end => end as usize,
        }
    }

    /// The event's `lastEventId`: the event source's last event ID string once this
    /// event was dispatched.
    pub fn last_event_id(&self) -> &str {
        self.part(&self.last_event_id)
    }

    /// The data as a [`ByteString`] of its own that shares this event's memory (no
    /// copy): to hand the data on, or to keep it without the rest of the event.
    ///
    /// ```
    /// use sse_proto::OwnedEvent;
    ///
    /// let data = OwnedEvent::new("note", "hi", "1").into_data();
    /// assert_eq!(data, "hi");
    /// ```
    pub fn into_data(self) -> ByteString {
        if self.data.0 == 0 && self.data_end() == self.text.len() {
            return self.text;
        }
        self.text.slice_ref(self.data())
    }

    fn part<'a>(&'a self, field: &'a Field) -> &'a str {
        match field {
            Field::In(span) => span.of(&self.text),
            Field::Own(text) => text,
        }
    }
}

#[cfg(feature = "serde")]
impl OwnedEvent {
    /// The data, parsed as JSON into a `T` (with the `serde` feature): what LLM and
    /// most other APIs send.
    ///
    /// ```
    /// use sse_proto::OwnedEvent;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Delta {
    ///     text: String,
    /// }
    ///
    /// let event = OwnedEvent::new("", r#"{"text": "hi"}"#, "");
    /// assert_eq!(event.json::<Delta>()?.text, "hi");
    /// assert!(event.json::<u32>().is_err());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.data())
    }
}

impl Default for OwnedEvent {
    /// An event with no data, of type `"message"`, and no last event ID.
    fn default() -> Self {
        OwnedEvent {
            text: ByteString::new(),
            data: (0, 0),
            event_type: Field::In(Span::EMPTY),
            last_event_id: Field::In(Span::EMPTY),
        }
    }
}

impl PartialEq for OwnedEvent {
    /// Events are equal when their type, data and last event ID are.
    fn eq(&self, other: &Self) -> bool {
        self.data() == other.data()
            && self.event_type() == other.event_type()
            && self.last_event_id() == other.last_event_id()
    }
}

impl Eq for OwnedEvent {}

impl Hash for OwnedEvent {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.event_type(), self.data(), self.last_event_id()).hash(state);
    }
}

impl fmt::Debug for OwnedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedEvent")
            .field("event_type", &self.event_type())
            .field("data", &self.data())
            .field("last_event_id", &self.last_event_id())
            .finish()
    }
}

/// An event's fields copied into one buffer of their own, decoded as the spec
/// decodes (U+FFFD for invalid UTF-8): one allocation, however many fields. `id`
/// is `Err(part)` when the caller has the ID's text already.
pub(crate) fn copied(event_type: &[u8], data: &[u8], id: Result<&[u8], Part>) -> OwnedEvent {
    let id_bytes = *id.as_ref().unwrap_or(&&b""[..]);
    if event_type.is_empty() && id_bytes.is_empty() {
        if let Ok(text) = ByteString::try_from(data) {
            // Data alone (most events), valid: copied as it is.
            let last_event_id = id.err().unwrap_or(EMPTY);
            return OwnedEvent::from_parts(text, (0, data.len()), EMPTY, last_event_id);
        }
    }
    let len = event_type.len() + data.len() + id_bytes.len();
    // Exactly the capacity valid text needs, so that the `Bytes` made of it needs no
    // header of its own (invalid text grows, which costs that one allocation more).
    let mut text = alloc::string::String::with_capacity(len);
    // The type and the ID first: their offsets are small.
    let type_at = push_lossy(&mut text, event_type);
    let id_at = push_lossy(&mut text, id_bytes);
    let data_at = push_lossy(&mut text, data);
    let event_type = Part::at(type_at);
    let last_event_id = match id {
        Ok(_) => Part::at(id_at),
        Err(part) => part,
    };
    OwnedEvent::from_parts(ByteString::from(text), data_at, event_type, last_event_id)
}

/// Appends `bytes` to `text` (U+FFFD for invalid UTF-8); where they went.
#[inline(always)]
fn push_lossy(text: &mut alloc::string::String, bytes: &[u8]) -> (usize, usize) {
    let start = text.len();
    if !bytes.is_empty() {
        text.push_str(&Text::new(bytes).to_string_lossy());
    }
    (start, text.len())
}

/// An event made of the data the parser assembled, split off its buffer with the
/// type and (unless `held`, the ID's text already) the ID after it: no copy, when
/// the text is valid UTF-8 and each field whole.
pub(crate) fn from_split(split: Split, held: Option<Part>) -> OwnedEvent {
    let Split {
        text,
        data,
        event_type,
        id,
    } = split;
    let type_end = event_type.end;
    match crate::utf8::text(text) {
        Ok(valid) if valid.is_char_boundary(data) && valid.is_char_boundary(type_end) => {
            let event_type = Part::at((event_type.start, event_type.end));
            let last_event_id = match (id, held) {
                (Some(id), _) => Part::at((id.start, id.end)),
                (None, held) => held.unwrap_or(EMPTY),
            };
            OwnedEvent::from_parts(valid, (0, data), event_type, last_event_id)
        }
        // A field that ends inside a character the next one completes, or invalid
        // UTF-8: each field decoded by itself, with U+FFFD.
        Ok(valid) => lossy(valid.as_bytes(), data, event_type, id, held),
        Err(text) => lossy(&text, data, event_type, id, held),
    }
}

/// `from_split`'s event, copied with each field decoded by itself.
#[cold]
fn lossy(
    text: &[u8],
    data: usize,
    event_type: Range<usize>,
    id: Option<Range<usize>>,
    held: Option<Part>,
) -> OwnedEvent {
    let id = match (id, held) {
        (Some(id), _) => Ok(&text[id]),
        (None, held) => Err(held.unwrap_or(EMPTY)),
    };
    copied(&text[event_type], &text[..data], id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn fields_in_one_buffer() {
        let event = copied(b"t", b"data", Ok(b"7"));
        assert_eq!(
            (event.event_type(), event.data(), event.last_event_id()),
            ("t", "data", "7")
        );
        assert_eq!(event, OwnedEvent::new("t", "data", "7"));
        assert_eq!(event.clone().into_data(), "data");
        let empty = copied(b"", b"", Ok(b""));
        assert_eq!(empty, OwnedEvent::default());
        assert_eq!(empty.event_type(), "message");
    }

    #[test]
    fn invalid_text_is_replaced() {
        let event = copied(b"\xff", b"a\xc3", Err(Part::own("k")));
        assert_eq!(event.event_type(), "\u{FFFD}");
        assert_eq!(event.data(), "a\u{FFFD}");
        assert_eq!(event.last_event_id(), "k");
        assert_eq!(String::from(event.into_data()), "a\u{FFFD}");
    }

    #[test]
    fn equal_events_hash_alike() {
        use core::hash::BuildHasher;
        let hasher = std::hash::RandomState::new();
        let a = copied(b"", b"x", Ok(b"1"));
        let b = OwnedEvent::new("message", "x", "1");
        assert_eq!(a, b);
        assert_eq!(hasher.hash_one(&a), hasher.hash_one(&b));
    }

    /// An event is 72 bytes on 64-bit targets: the layout rustc gives it today,
    /// which the offsets' width and `Field`'s niche make possible.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn an_event_is_small() {
        assert_eq!(core::mem::size_of::<OwnedEvent>(), 72);
    }

    /// Offsets at or past the limit (4 GiB; small here, so that every case is
    /// reached): the event holds its fields' span, or its data alone with the other
    /// fields copied, and reads the same, sharing the text either way.
    #[test]
    fn offsets_past_the_limit() {
        let text = ByteString::from_static("..........typedata+more.id..");
        let (event_type, data, id) = ((10, 14), (14, 23), (25, 27));
        let ids = [Part::at(id), Part::own("held"), EMPTY];
        for limit in 1..=text.len() + 1 {
            let to_end = (data.0, text.len());
            let cases = [
                (data, event_type),
                ((18, 18), event_type),
                (data, (0, 0)),
                (to_end, (0, 0)),
            ];
            for (data, event_type) in cases {
                for last_event_id in ids.clone() {
                    let want_id = match &last_event_id {
                        Part::In(start, end) => String::from(&text[*start..*end]),
                        Part::Own(own) => String::from(&**own),
                    };
                    let want_type = match &text[event_type.0..event_type.1] {
                        "" => "message",
                        event_type => event_type,
                    };
                    let (whole, part) = (text.clone(), Part::at(event_type));
                    let event = OwnedEvent::within(whole, data, part, last_event_id, limit);
                    let case = (limit, data, event_type, &want_id);
                    // Every offset held is below the limit (the end of data that is
                    // the whole text aside), as at 4 GiB each one fits in 32 bits.
                    let spans =
                        [&event.event_type, &event.last_event_id].map(|field| match field {
                            Field::In(Span(start, end)) => [*start, *end],
                            Field::Own(_) => [0, 0],
                        });
                    let data_end = match event.data.1 {
                        TO_END => 0,
                        end => end,
                    };
                    let data_offsets = [event.data.0, data_end];
                    for at in data_offsets.into_iter().chain(spans.into_iter().flatten()) {
                        assert!((at as usize) < limit, "{case:?}: offset {at}");
                    }
                    assert_eq!(event.event_type(), want_type, "{case:?}");
                    assert_eq!(event.data(), &text[data.0..data.1], "{case:?}");
                    assert_eq!(event.last_event_id(), want_id, "{case:?}");
                    let shared = event.into_data();
                    assert_eq!(shared, &text[data.0..data.1]);
                    if !shared.is_empty() {
                        let at = text.as_ptr() as usize + data.0;
                        assert_eq!(shared.as_ptr() as usize, at, "{case:?}: not shared");
                    }
                }
            }
        }
    }
}
