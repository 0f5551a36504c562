//! A blocking reader of events from any `std::io::Read`: an [`OwnedParser`] fed from
//! a read buffer that its events share, for programs that do not need async.

use std::io::{self, Read};

use bytes::BytesMut;

use crate::buffered::{Found, ReadError};
use crate::{Config, EventBatch, Item, OwnedEvent, OwnedParser, Parser, ReadBuffer};

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
/// and reports a limit as the parser does; [`next_batch`](EventReader::next_batch)
/// yields each read's events together ([`next_batch_into`](EventReader::next_batch_into):
/// into one batch, read after read).
///
/// Reads go into a 64 KiB [`ReadBuffer`], one after the other, and the events share
/// it as [`OwnedParser`]'s share their chunks: no copy and no allocation per event,
/// and once every event read from a buffer is dropped the buffer is used again, so
/// a loop that drops its events allocates nothing. An event kept keeps its buffer's
/// memory alive; to keep events for long, copy what you need.
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
    parser: OwnedParser,
    buffer: ReadBuffer,
    eof: bool,
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
            parser: OwnedParser::new(parser),
            buffer: ReadBuffer::new(READ_BUFFER),
            eof: false,
        }
    }

    /// How many events (and comments) were skipped for being over the parser's
    /// limit ([`OwnedParser::skipped`]).
    pub fn skipped(&self) -> u64 {
        self.parser.skipped()
    }

    /// The parser, for its [`last_event_id`](Parser::last_event_id) and
    /// [`retry`](Parser::retry).
    pub fn parser(&self) -> &Parser<BytesMut> {
        self.parser.parser()
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
            match self.parser.find() {
                Found::Nothing => {
                    if !self.fill()? {
                        return Ok(None);
                    }
                }
                found => return self.parser.item(found),
            }
        }
    }

    /// The events of the reads to come a read at a time, in an [`EventBatch`]
    /// ([`OwnedParser::next_batch`]: the read's text held once, the events read
    /// by reference), or `Ok(None)` at the end of the stream; an error only when
    /// reading fails. A read that finishes no event gives no batch. Worth it where a
    /// read holds many events (a file of them, a busy stream); the batches and the
    /// iterator may take turns.
    ///
    /// ```
    /// use sse_proto::EventReader;
    ///
    /// let body: &[u8] = b"data: 1\n\ndata: 2\n\ndata: 3\n\n";
    /// let mut reader = EventReader::new(body);
    /// let mut total = 0;
    /// while let Some(batch) = reader.next_batch()? {
    ///     for event in &batch {
    ///         total += event.data().parse::<u32>().unwrap();
    ///     }
    /// }
    /// assert_eq!(total, 6);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn next_batch(&mut self) -> io::Result<Option<EventBatch>> {
        self.take(OwnedParser::next_batch)
    }

    /// [`next_batch`](EventReader::next_batch) into a batch of the caller's,
    /// emptied first and its lists' memory used again
    /// ([`OwnedParser::next_batch_into`]): `Ok(true)` when it holds the next events,
    /// `Ok(false)` at the end of the stream (the batch then empty). Emptying the
    /// batch before reading lets the read buffer be taken back, as it is once the
    /// batches of `next_batch` are dropped.
    ///
    /// ```
    /// use sse_proto::{EventBatch, EventReader};
    ///
    /// let body: &[u8] = b"data: 1\n\ndata: 2\n\ndata: 3\n\n";
    /// let mut reader = EventReader::new(body);
    /// let mut batch = EventBatch::default();
    /// let mut total = 0;
    /// while reader.next_batch_into(&mut batch)? {
    ///     for event in &batch {
    ///         total += event.data().parse::<u32>().unwrap();
    ///     }
    /// }
    /// assert_eq!(total, 6);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn next_batch_into(&mut self, batch: &mut EventBatch) -> io::Result<bool> {
        // The parser empties the batch first, before any read.
        let taken = self.take(|parser| parser.next_batch_into(batch).then_some(()))?;
        Ok(taken.is_some())
    }

    /// What `take` takes from the parser, reading until it takes something
    /// (`None`: the read is used up); `Ok(None)` at the end of the stream: one
    /// loop for the events and the batches.
    #[inline(always)]
    fn take<T>(
        &mut self,
        mut take: impl FnMut(&mut OwnedParser) -> Option<T>,
    ) -> io::Result<Option<T>> {
        loop {
            if let Some(taken) = take(&mut self.parser) {
                return Ok(Some(taken));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Reads the next chunk into the parser; `false` at the end of the stream (the
    /// parser is then finished).
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        // What the parser held of the last read is used up: letting go of it now
        // lets the buffer be taken back, if no event holds it either.
        self.parser.let_go();
        loop {
            match self.reader.read(self.buffer.room()) {
                Ok(0) => {
                    self.eof = true;
                    self.parser.finish();
                    return Ok(false);
                }
                Ok(n) => {
                    self.parser.push(self.buffer.filled(n));
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R: Read> Iterator for EventReader<R> {
    type Item = Result<OwnedEvent, io::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.take(OwnedParser::next_event).transpose()
    }
}

impl From<io::Error> for ReadError<io::Error> {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}
