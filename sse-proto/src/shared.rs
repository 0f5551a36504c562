//! Owned items that share the chunk they were parsed from, instead of copying it.
//!
//! An adapter that holds its chunks as [`Bytes`] need not allocate, copy and check a
//! `String` per event: [`Sharer`] checks a chunk's UTF-8 once and hands out
//! [`ByteString`] slices of it (a reference count each). Text that is not in the chunk
//! (data assembled across chunks, the parser's stored last event ID) is copied, as
//! [`Item::into_owned`] copies it.

use bytes::Bytes;
use bytestring::ByteString;

use crate::item::{OwnedDiagnostic, OwnedEvent, OwnedItem, owned};
use crate::{DEFAULT_EVENT_TYPE, Diagnostic, Event, Item, Text};

/// Makes [`OwnedItem`]s that share the [`Bytes`] chunk they were parsed from.
///
/// Parse a chunk, and pass each item with that chunk to
/// [`share`](Sharer::share). Text that lies in the chunk becomes a slice of it (the
/// chunk's UTF-8 is checked once, from the first slice asked for to its end); other
/// text, such as data the parser assembled across chunks, is copied. The result is
/// exactly [`Item::into_owned`]'s.
///
/// A slice keeps its whole chunk's memory alive, as any `Bytes` slice does: to keep
/// an event for long, copy its text (`String::from(&*event.data)`). Besides the items
/// handed out, a `Sharer` keeps alive the last chunk it checked, until
/// [`release`](Sharer::release) or the next chunk.
///
/// (The last event ID that an event carries is usually the parser's copy, kept
/// across events, so it is copied; reusing one `ByteString` for it would cost a
/// reference count per event, which measured no cheaper than the copy.)
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
/// assert_eq!((&*event.event_type, &*event.data), ("note", "café"));
/// // The data is the chunk's own memory, not a copy.
/// assert_eq!(event.data.as_bytes().as_ptr(), chunk[18..].as_ptr());
/// ```
#[derive(Debug, Clone)]
pub struct Sharer {
    /// The text of the chunk checked last.
    text: Option<Checked>,
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

impl Default for Sharer {
    fn default() -> Self {
        Self::new()
    }
}

impl Sharer {
    /// A sharer that has seen no chunk.
    pub const fn new() -> Self {
        Sharer { text: None }
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
        OwnedEvent {
            // The default type, the common case, is not even a reference count.
            event_type: match event.event_type_field() {
                b"" => ByteString::from_static(DEFAULT_EVENT_TYPE),
                field => self.share_text(chunk, Text::new(field)),
            },
            data: self.share_text(chunk, event.data()),
            last_event_id: self.share_text(chunk, event.last_event_id()),
        }
    }

    /// `text` (a comment, say), parsed from `chunk`, owned: sliced from the chunk if
    /// it lies there, copied otherwise.
    pub fn share_text(&mut self, chunk: &Bytes, text: Text<'_>) -> ByteString {
        let bytes = text.as_bytes();
        if bytes.is_empty() {
            return ByteString::new();
        }
        if let Some(start) = offset(chunk, bytes) {
            let key = (chunk.as_ptr() as usize, chunk.len());
            // Items come in stream order, so a chunk is checked once (twice if an
            // event's data comes before its `event` type: the type is asked first).
            if !matches!(&self.text, Some(c) if c.chunk == key && c.from <= start) {
                let text = valid_prefix(chunk.slice(start..));
                self.text = Some(Checked {
                    chunk: key,
                    from: start,
                    text,
                });
            }
            if let Some(Checked { from, text, .. }) = &self.text {
                let at = start - from;
                // `None` past the valid text: a character the chunk's end cuts, or
                // invalid UTF-8, which the copy below replaces with U+FFFD.
                if let Some(slice) = text.get(at..at + bytes.len()) {
                    return text.slice_ref(slice);
                }
            }
        }
        owned(text)
    }
}

/// Where `bytes` lies in `chunk`, if it does.
fn offset(chunk: &Bytes, bytes: &[u8]) -> Option<usize> {
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
fn valid_prefix(chunk: Bytes) -> ByteString {
    let end = chunk.len() - cut_character(&chunk);
    match ByteString::try_from(chunk.slice(..end)) {
        Ok(text) => text,
        // Checked twice only when the chunk has invalid UTF-8 in it.
        Err(e) => ByteString::try_from(chunk.slice(..e.valid_up_to())).unwrap_or_default(),
    }
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
    use crate::{Config, Parser};
    use alloc::vec::Vec;

    /// Every item of `chunks`, shared and copied.
    fn both(config: Config, chunks: &[&[u8]]) -> (Vec<OwnedItem>, Vec<OwnedItem>) {
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
            while let Some(item) = other.parse(&mut input).unwrap() {
                shared_items.push(sharer.share(&chunk, item));
            }
        }
        (shared_items, copied)
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

    fn in_chunk(text: &ByteString, chunk: &Bytes) -> bool {
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
        assert_eq!(&*event.data, "été");
        assert!(in_chunk(&event.data, &chunk));
        assert!(in_chunk(&event.event_type, &chunk));
        // The last event ID is the parser's copy (it outlives the chunk): copied.
        assert_eq!(&*event.last_event_id, "5");
        assert!(!in_chunk(&event.last_event_id, &chunk));

        // The next chunk.
        let later = Bytes::from_static(b"event: t\ndata: 2\n\n");
        let mut input = &later[..];
        let OwnedItem::Event(second) = next(&mut parser, &mut sharer, &later, &mut input) else {
            panic!()
        };
        assert_eq!(&*second.last_event_id, "5");
        assert!(!in_chunk(&second.last_event_id, &later));
        assert!(in_chunk(&second.event_type, &later));
        assert!(in_chunk(&second.data, &later));
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
        assert_eq!((&*event.event_type, &*event.data), ("u", "2"));
        assert!(in_chunk(&event.event_type, &chunk));
        assert!(in_chunk(&event.data, &chunk));
    }

    #[test]
    fn data_cut_by_a_chunk_end_is_copied_whole() {
        let (shared, copied) = both(Config::new(), &[b"data: ab", b"cd\n\n"]);
        assert_eq!(shared, copied);
        let OwnedItem::Event(event) = &shared[0] else {
            panic!()
        };
        assert_eq!(&*event.data, "abcd");
    }
}
