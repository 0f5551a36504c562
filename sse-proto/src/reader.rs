//! A blocking reader of events from any `std::io::Read`: the parser plus a read
//! buffer, for programs that do not need async.

use std::io::{self, Read};
use std::vec::Vec;

use crate::buffered::{self, Found, ReadError, Window};
use crate::owned::assembled;
use crate::owned_event::{copy_part, moved};
use crate::parser::MOVE_AT;
use crate::{Config, Event, Item, OwnedEvent, Parser};

/// The read buffer's size: large enough for few system calls, small enough to stay in
/// cache.
const READ_BUFFER: usize = 64 * 1024;

/// Reads an event stream from a [`Read`]er.
///
/// As an [`Iterator`] it yields owned events, and an error only when reading fails
/// (the end of the events: `for event in reader { let event = event?; ... }` is
/// safe); an event over the parser's limit is skipped and counted
/// ([`skipped`](EventReader::skipped)). [`next_item`](EventReader::next_item) instead
/// yields every [`Item`] (retry updates, comments, ...) borrowed, without copying,
/// and reports a limit as the parser does.
///
/// ```
/// use sse_proto::EventReader;
///
/// let body: &[u8] = b"id: 1\ndata: first\n\ndata: second\n\n";
/// let events: Vec<_> = EventReader::new(body).map(|e| e.unwrap().into_data()).collect();
/// assert_eq!(events, ["first", "second"]);
/// ```
#[derive(Debug)]
pub struct EventReader<R> {
    reader: R,
    parser: Parser,
    buf: Vec<u8>,
    window: Window,
    eof: bool,
    skipped: u64,
}

impl<R: Read> EventReader<R> {
    /// A reader with the default [`Config`].
    pub fn new(reader: R) -> Self {
        Self::with_parser(reader, Parser::new())
    }

    /// A reader with `config`.
    pub fn with_config(reader: R, config: Config) -> Self {
        Self::with_parser(reader, Parser::with_config(config))
    }

    /// A reader around a parser you set up (for example with a last event ID).
    pub fn with_parser(reader: R, parser: Parser) -> Self {
        EventReader {
            reader,
            parser,
            // Allocated once, here: it never moves, which `next` relies on.
            buf: std::vec![0; READ_BUFFER],
            window: Window::default(),
            eof: false,
            skipped: 0,
        }
    }

    /// How many events (and comments) the iterator skipped for being over the
    /// parser's limit.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The parser, for its [`last_event_id`](Parser::last_event_id) and
    /// [`retry`](Parser::retry).
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.reader
    }

    /// The next item, or `Ok(None)` at the end of the stream (where a pending,
    /// unterminated event is discarded, as the spec says). After a
    /// [`ReadError::Limit`], call again to carry on.
    pub fn next_item(&mut self) -> Result<Option<Item<'_>>, ReadError<io::Error>> {
        loop {
            if self.window.is_empty() {
                if self.eof {
                    return Ok(None);
                }
                let n = match self.reader.read(&mut self.buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(ReadError::Io(e)),
                };
                if n == 0 {
                    self.eof = true;
                    self.parser.finish();
                    return Ok(None);
                }
                self.window = Window { start: 0, end: n };
            }
            match self.window.find(&mut self.parser, &self.buf) {
                Found::Nothing => {}
                found => return buffered::item(&self.parser, &self.buf, found),
            }
        }
    }
}

impl<R: Read> Iterator for EventReader<R> {
    type Item = Result<OwnedEvent, io::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let buf = self.buf.as_ptr_range();
        loop {
            match self.next_item() {
                Ok(Some(Item::Event(event))) if moves_out(&event, &buf) => {
                    // Assembled in the parser: a large event's data is moved, not copied.
                    let event_type = copy_part(event.event_type_field());
                    let id = copy_part(event.last_event_id().as_bytes());
                    let data = self.parser.take_event_data();
                    return Some(Ok(moved(data, event_type, id)));
                }
                Ok(Some(Item::Event(event))) => return Some(Ok(event.into_owned())),
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(ReadError::Limit(_)) => self.skipped += 1,
                Err(ReadError::Io(e)) => return Some(Err(e)),
            }
        }
    }
}

impl From<io::Error> for ReadError<io::Error> {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Whether `event`'s data is worth moving out of the parser with
/// [`Parser::take_event_data`] rather than copying: it is large, and it is not in
/// the read buffer that `buf` spans, so the parser assembled it in its own buffer.
/// The size, one comparison, is asked first.
#[inline(always)]
fn moves_out(event: &Event<'_>, buf: &core::ops::Range<*const u8>) -> bool {
    event.data().len() >= MOVE_AT && assembled(event, buf)
}
