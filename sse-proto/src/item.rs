//! What the parser hands out: dispatched events, reconnection-time updates, and on
//! request comments, data pieces of streamed events and diagnostics.

use crate::Text;

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
    /// A valid `retry` field: the new reconnection time, in milliseconds. Values too
    /// large for a `u64` saturate to `u64::MAX`.
    Retry(u64),
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
    /// UTF-8).
    #[cfg(feature = "alloc")]
    pub fn into_owned(self) -> OwnedEvent {
        let owned = |text: Text<'_>| text.to_string_lossy().into_owned();
        OwnedEvent {
            event_type: owned(self.event_type()),
            data: owned(self.data()),
            last_event_id: owned(self.last_event_id()),
        }
    }
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

/// An [`Event`] that owns its text (decoded with U+FFFD for invalid UTF-8).
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct OwnedEvent {
    /// The event type (`"message"` unless the stream set one).
    pub event_type: alloc::string::String,
    /// The data.
    pub data: alloc::string::String,
    /// The last event ID at dispatch.
    pub last_event_id: alloc::string::String,
}
