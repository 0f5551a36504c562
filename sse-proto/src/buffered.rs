//! A reader that owns its read buffer: what it does with the bytes it holds. The one
//! loop body behind [`EventReader`](crate::EventReader) and the `embedded-io`
//! readers, so that they take the parser's fast paths and its general path alike.
// `ReadError` is public in every build; the loop body is used only by the readers.
#![cfg_attr(
    not(any(
        feature = "std",
        feature = "embedded-io",
        feature = "embedded-io-async"
    )),
    allow(dead_code)
)]

use core::ops::Range;

use crate::parser::{FastEvent, Out};
use crate::storage::Storage;
use crate::{Error, Event, Item, Parser};

/// The bytes read but not yet parsed: `buf[start..end]`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Where the next item lies, found without borrowing the buffer (so that a reader
/// can read into it again in the same loop).
pub(crate) enum Found {
    /// An event of data only, in the buffer.
    Data(Range<usize>),
    /// An event with a type, both in the buffer.
    Block(FastEvent),
    /// What the general path found, in `buf[chunk]`.
    Out(Out, Range<usize>),
    /// Nothing: the window is used up; read more.
    Nothing,
    /// A limit was hit; the parser has recovered.
    Limit(Error),
}

impl Window {
    /// Whether every byte read has been parsed: read more.
    #[cfg(any(feature = "embedded-io", feature = "embedded-io-async"))]
    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Parses `buf[start..end]` up to one item, or to the end of the window
    /// ([`Found::Nothing`]).
    #[inline(always)]
    pub(crate) fn find<S: Storage>(&mut self, parser: &mut Parser<S>, buf: &[u8]) -> Found {
        let base = self.start;
        let chunk = &buf[base..self.end];
        let mut pos = 0;
        parser.release();
        let at = |range: Range<usize>| base + range.start..base + range.end;
        if let Some((start, end)) = parser.fast_event(chunk, &mut pos) {
            self.start += pos;
            return Found::Data(at(start..end));
        }
        if let Some(fast) = parser.fast_block(chunk, &mut pos) {
            self.start += pos;
            return Found::Block(FastEvent {
                event_type: at(fast.event_type),
                data: at(fast.data),
                id: at(fast.id),
            });
        }
        match parser.step(chunk, &mut pos) {
            Ok(Some(out)) => {
                self.start += pos;
                Found::Out(out, base..self.end)
            }
            Ok(None) => {
                self.start = self.end;
                Found::Nothing
            }
            Err(e) => {
                self.start += pos;
                Found::Limit(e)
            }
        }
    }
}

/// What a reader's `next_item` answers for `found`: the item it locates, borrowed
/// from `buf` and the parser; `None` for [`Found::Nothing`] (read more).
#[inline(always)]
pub(crate) fn item<'a, S: Storage, E>(
    parser: &'a Parser<S>,
    buf: &'a [u8],
    found: Found,
) -> Result<Option<Item<'a>>, ReadError<E>> {
    let id = parser.last_event_id().as_bytes();
    Ok(Some(match found {
        Found::Data(data) => Item::Event(Event::new(b"", &buf[data], id)),
        Found::Block(fast) => {
            let id = fast.id(buf, id);
            Item::Event(Event::new(&buf[fast.event_type], &buf[fast.data], id))
        }
        Found::Out(out, chunk) => parser.resolve(out, &buf[chunk]),
        Found::Nothing => return Ok(None),
        Found::Limit(e) => return Err(ReadError::Limit(e)),
    }))
}

/// Why a reader could not produce an item: reading failed (`E` is the reader's
/// error: `std::io::Error`, or an `embedded-io` reader's), or a limit was hit.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadError<E> {
    /// Reading failed.
    Io(E),
    /// A limit was hit; the reader has recovered, call it again to carry on.
    Limit(Error),
}

impl<E: core::fmt::Display> core::fmt::Display for ReadError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "reading the event stream failed: {e}"),
            ReadError::Limit(e) => e.fmt(f),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for ReadError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ReadError::Io(e) => Some(e),
            ReadError::Limit(e) => Some(e),
        }
    }
}

impl<E> From<Error> for ReadError<E> {
    fn from(e: Error) -> Self {
        ReadError::Limit(e)
    }
}
