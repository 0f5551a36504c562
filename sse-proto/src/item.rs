//! What the parser hands out: dispatched events, reconnection-time updates, and on
//! request comments, data pieces of streamed events and diagnostics.

#[cfg(feature = "alloc")]
use crate::OwnedEvent;
use crate::Text;
#[cfg(feature = "alloc")]
use bytestring::ByteString;
use core::time::Duration;

/// The event type the spec gives an event whose `event` field was absent or empty.
pub const DEFAULT_EVENT_TYPE: &str = "message";

/// One item from the stream, in stream order. Borrows from the parser and from the
/// chunk being parsed; drop it before parsing further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Item<'a> {
    /// A dispatched event (a blank line ended a block that had at least one `data`
    /// line).
    Event(Event<'a>),
    /// A valid `retry` field: the new reconnection time (the field is in
    /// milliseconds; values too large for a `u64` of them saturate to `u64::MAX`).
    Retry(Duration),
    /// A comment line (`:` and what follows, with one leading space removed), when
    /// [`Config::comments`](crate::Config::comments) is on.
    Comment(Text<'a>),
    /// With [`Config::stream_data`](crate::Config::stream_data): a piece of the
    /// current event's data, handed out as it arrives. The pieces of one event,
    /// concatenated, are exactly the data the event would have had (lines joined with
    /// LF, no trailing LF). They are tentative until [`Item::EventEnd`]: if the stream
    /// ends first, the spec discards the event ([`Parser::finish`](crate::Parser::finish)
    /// returns `true`).
    Data(Text<'a>),
    /// With [`Config::stream_data`](crate::Config::stream_data): the event whose data
    /// was streamed is dispatched. Its [`data`](Event::data) is empty; the pieces came
    /// before.
    EventEnd(Event<'a>),
    /// Something the spec ignores but a tool may want to report, when
    /// [`Config::diagnostics`](crate::Config::diagnostics) is on.
    Diagnostic(Diagnostic<'a>),
}

/// A dispatched event: the spec's `MessageEvent` with its `type`, `data` and
/// `lastEventId`.
///
/// ```
/// use sse_proto::{Item, Parser};
///
/// let mut parser = Parser::new();
/// let mut input: &[u8] = b"event: update\nid: 7\ndata: {\"n\":1}\n\n";
/// let Ok(Some(Item::Event(event))) = parser.parse(&mut input) else { panic!() };
/// assert_eq!(event.event_type(), "update");
/// assert_eq!(event.last_event_id(), "7");
/// assert_eq!(event.data().as_bytes(), br#"{"n":1}"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event<'a> {
    event_type: &'a [u8],
    data: &'a [u8],
    last_event_id: &'a [u8],
}

impl<'a> Event<'a> {
    /// An event with these fields; an empty `event_type` means `"message"`.
    pub const fn new(event_type: &'a [u8], data: &'a [u8], last_event_id: &'a [u8]) -> Self {
        Event {
            event_type,
            data,
            last_event_id,
        }
    }

    /// The event type: the last `event` field of the block, or `"message"`.
    pub fn event_type(&self) -> Text<'a> {
        if self.event_type.is_empty() {
            Text::new(DEFAULT_EVENT_TYPE.as_bytes())
        } else {
            Text::new(self.event_type)
        }
    }

    /// The `event` field as the stream gave it: empty for the default type.
    #[cfg(feature = "alloc")]
    pub(crate) fn event_type_field(&self) -> &'a [u8] {
        self.event_type
    }

    /// The data: the block's `data` values joined with LF, without a trailing LF.
    pub fn data(&self) -> Text<'a> {
        Text::new(self.data)
    }

    /// The event's `lastEventId`: the event source's last event ID string once this
    /// event was dispatched. It persists across events until an `id` field changes it.
    pub fn last_event_id(&self) -> Text<'a> {
        Text::new(self.last_event_id)
    }

    /// A copy that owns its text, decoded as the spec decodes (U+FFFD for invalid
    /// UTF-8): one allocation holding every field. ([`Sharer`](crate::Sharer) makes
    /// one without copying text that lies in a `Bytes` chunk.)
    #[cfg(feature = "alloc")]
    pub fn into_owned(self) -> OwnedEvent {
        crate::owned_event::copied(self.event_type, self.data, Ok(self.last_event_id))
    }
}

/// `text`, decoded into a `ByteString` of its own (U+FFFD for invalid UTF-8).
#[cfg(feature = "alloc")]
pub(crate) fn owned(text: Text<'_>) -> ByteString {
    if text.as_bytes().is_empty() {
        return ByteString::new();
    }
    ByteString::from(alloc::string::String::from(text.to_string_lossy()))
}

/// Something the spec tells a parser to ignore, reported for tools that want to point
/// at a sloppy server without failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Diagnostic<'a> {
    /// A field the spec does not define (names are case-sensitive: `Data` is unknown).
    /// Names longer than the parser's value limit are not reported.
    UnknownField {
        /// The field name.
        name: Text<'a>,
    },
    /// A `retry` field whose value was not all ASCII digits; it was ignored.
    InvalidRetry {
        /// The value after the colon (one leading space removed).
        value: Text<'a>,
    },
    /// An `id` field containing U+0000 NULL; it was ignored.
    IdContainsNul {
        /// The value.
        value: Text<'a>,
    },
}

impl Item<'_> {
    /// A copy that owns its text, for handing items across tasks or out of a stream
    /// adapter. Text is decoded as the spec decodes it (U+FFFD for invalid UTF-8),
    /// except [`Item::Data`] pieces, which stay bytes: a piece can end inside a UTF-8
    /// sequence that the next piece completes.
    ///
    /// ```
    /// use sse_proto::{Config, Item, OwnedItem, Parser};
    ///
    /// let mut parser = Parser::with_config(Config::new().comments(true));
    /// let mut input: &[u8] = b": hi\nretry: 10\ndata: x\n\n";
    /// let mut items = Vec::new();
    /// while let Some(item) = parser.parse(&mut input).unwrap() {
    ///     items.push(item.into_owned());
    /// }
    /// assert_eq!(items[0], OwnedItem::Comment("hi".into()));
    /// assert_eq!(items[1], OwnedItem::Retry(core::time::Duration::from_millis(10)));
    /// let OwnedItem::Event(event) = &items[2] else { panic!() };
    /// assert_eq!(event.data(), "x");
    /// ```
    #[cfg(feature = "alloc")]
    pub fn into_owned(self) -> OwnedItem {
        let text = owned;
        // `Sharer::share` is this with slices of a chunk; making this call it with
        // no chunk cost the copying readers of the time 3-10% more instructions.
        match self {
            Item::Event(event) => OwnedItem::Event(event.into_owned()),
            Item::Retry(ms) => OwnedItem::Retry(ms),
            Item::Comment(comment) => OwnedItem::Comment(text(comment)),
            Item::Data(piece) => OwnedItem::Data(bytes::Bytes::copy_from_slice(piece.as_bytes())),
            Item::EventEnd(event) => OwnedItem::EventEnd(event.into_owned()),
            Item::Diagnostic(Diagnostic::UnknownField { name }) => {
                OwnedItem::Diagnostic(OwnedDiagnostic::UnknownField { name: text(name) })
            }
            Item::Diagnostic(Diagnostic::InvalidRetry { value }) => {
                OwnedItem::Diagnostic(OwnedDiagnostic::InvalidRetry { value: text(value) })
            }
            Item::Diagnostic(Diagnostic::IdContainsNul { value }) => {
                OwnedItem::Diagnostic(OwnedDiagnostic::IdContainsNul { value: text(value) })
            }
        }
    }
}

/// An [`Item`] that owns its contents, from [`Item::into_owned`]: what stream
/// adapters hand out when they cannot lend from their read buffer.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OwnedItem {
    /// A dispatched event ([`Item::Event`]).
    Event(OwnedEvent),
    /// A valid `retry` field: the new reconnection time ([`Item::Retry`]).
    Retry(Duration),
    /// A comment ([`Item::Comment`]).
    Comment(ByteString),
    /// A piece of a streamed event's data, as raw bytes ([`Item::Data`]).
    Data(bytes::Bytes),
    /// The end of a streamed event ([`Item::EventEnd`]).
    EventEnd(OwnedEvent),
    /// Something the spec ignores ([`Item::Diagnostic`]).
    Diagnostic(OwnedDiagnostic),
    /// An event or comment over the parser's limit was skipped, and parsing carried
    /// on (the borrowed [`Parser::parse`](crate::Parser::parse) says so with an
    /// `Err`): how owned readers such as [`OwnedParser`](crate::OwnedParser) report
    /// it, in stream order, so that a recoverable condition never looks like the end
    /// of a stream.
    Skipped(crate::Error),
}

/// A [`Diagnostic`] that owns its text.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OwnedDiagnostic {
    /// See [`Diagnostic::UnknownField`].
    UnknownField {
        /// The field name.
        name: ByteString,
    },
    /// See [`Diagnostic::InvalidRetry`].
    InvalidRetry {
        /// The value.
        value: ByteString,
    },
    /// See [`Diagnostic::IdContainsNul`].
    IdContainsNul {
        /// The value.
        value: ByteString,
    },
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::{Config, Parser};
    use alloc::vec::Vec;

    fn owned(config: Config, chunks: &[&[u8]]) -> Vec<OwnedItem> {
        let mut parser = Parser::with_config(config);
        let mut out = Vec::new();
        for chunk in chunks {
            let mut input = *chunk;
            while let Some(item) = parser.parse(&mut input).unwrap() {
                out.push(item.into_owned());
            }
        }
        out
    }

    #[test]
    fn streamed_data_pieces_stay_bytes() {
        // "é" is split across two chunks: each piece alone is invalid UTF-8.
        let items = owned(
            Config::new().stream_data(true),
            &[b"data: caf\xc3", b"\xa9\n\n"],
        );
        let data: Vec<u8> = items
            .iter()
            .filter_map(|i| match i {
                OwnedItem::Data(piece) => Some(piece.to_vec()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(data, "café".as_bytes());
        assert!(matches!(items.last(), Some(OwnedItem::EventEnd(e)) if e.data().is_empty()));
    }

    #[test]
    fn diagnostics_are_owned() {
        let items = owned(
            Config::new().diagnostics(true),
            &[b"foo: 1\nretry: x\nid: a\0b\n"],
        );
        assert_eq!(
            items,
            [
                OwnedItem::Diagnostic(OwnedDiagnostic::UnknownField { name: "foo".into() }),
                OwnedItem::Diagnostic(OwnedDiagnostic::InvalidRetry { value: "x".into() }),
                OwnedItem::Diagnostic(OwnedDiagnostic::IdContainsNul {
                    value: "a\0b".into()
                }),
            ]
        );
    }
}
