//! The parser's errors: the few ways a stream can break a limit. Everything else a
//! server may send has a defined meaning in the spec and is not an error.

use core::fmt;

/// A limit was exceeded. The parser stays usable: call it again to carry on.
///
/// ```
/// use sse_proto::{Config, Error, Item, Parser};
///
/// let mut parser = Parser::with_config(Config::new().max_event_size(4));
/// let mut input: &[u8] = b"data: too long\n\ndata: ok\n\n";
/// assert_eq!(parser.parse(&mut input), Err(Error::EventTooLarge { limit: 4 }));
/// // The oversized event is dropped; parsing resumes after the next blank line.
/// match parser.parse(&mut input) {
///     Ok(Some(Item::Event(event))) => assert_eq!(event.data(), "ok"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The event being assembled needed more than `limit` bytes: its data (the `data`
    /// values joined with LF), or a single `event`, `id` or `retry` value. The whole
    /// event is discarded (an `id` it set is not committed) and everything up to the
    /// next blank line is ignored; then parsing carries on normally.
    EventTooLarge {
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// A comment was longer than `limit` bytes (only when comments are reported). The
    /// comment is dropped; the event around it is not affected.
    CommentTooLarge {
        /// The limit in force, in bytes.
        limit: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EventTooLarge { limit } => {
                write!(
                    f,
                    "event larger than the limit of {limit} bytes; skipped to the next event"
                )
            }
            Error::CommentTooLarge { limit } => {
                write!(f, "comment larger than the limit of {limit} bytes; dropped")
            }
        }
    }
}

impl core::error::Error for Error {}
