//! The event-stream parser: push bytes in, pull [`Item`]s out.
//!
//! This is the WHATWG "Parsing an event stream" and "Interpreting an event stream"
//! processing model, done on bytes (see [`Text`] for why that is exact),
//! in the sans-IO style: the parser never reads, never blocks and never allocates per
//! event. Chunk boundaries may fall anywhere, even inside a CRLF or a UTF-8 sequence;
//! the items that come out do not depend on them.
//!
//! Speed comes from four things: lines are found with `memchr2`; an event whose data
//! is one line of the chunk is handed out as a slice of that chunk; the common block
//! shapes (`data` and a blank line; `id` and `event` lines before them; runs of `data`
//! lines; a `data` line cut by the chunk's end) have paths of their own, which hand
//! anything else to the general state machine exactly as it would have left it; and
//! every byte is looked at a bounded number of times however the input is split, so
//! the work is linear in the input. The conformance vectors run through every path at
//! every split point, with comments on and off.

use core::mem;
use core::time::Duration;

use memchr::{memchr, memchr2};

use crate::item::{Diagnostic, Event, Item};
use crate::storage::{SliceStorage, Storage};
use crate::{Error, Text};

/// The default for [`Config::max_event_size`]: 16 MiB.
///
/// Generous enough for the multi-megabyte base64 images that LLM APIs send as one
/// event (a 10 MiB image is a 14 MB event; Go's 64 KiB default is a common
/// complaint), small enough that a hostile server cannot make a client hold much more
/// than this per connection. Larger events can still be read in bounded memory with
/// [`Config::stream_data`].
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

/// The default for [`Config::max_field_size`]: 16 KiB.
///
/// An `id` comes back to the server as the `Last-Event-ID` request header, and servers
/// commonly refuse request headers past 8 to 16 KiB; an event type is a name; a
/// comment is a keep-alive or padding. Data has its own, larger limit.
pub const DEFAULT_MAX_FIELD_SIZE: usize = 16 * 1024;

/// The longest field name the spec defines (`retry`).
const NAME_MAX: usize = 5;

/// The UTF-8 byte order mark, which the spec's UTF-8 decode strips once at the start
/// of the stream.
const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// Parser settings. Build with the chained methods:
///
/// ```
/// use sse_proto::{Config, Parser};
///
/// let parser = Parser::with_config(Config::new().max_event_size(1 << 20).comments(true));
/// assert_eq!(parser.config().max_event_size, 1 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Config {
    /// The most bytes an event's data may take (its `data` values joined with LF).
    /// Past it the parser returns [`Error::EventTooLarge`] and carries on. Default:
    /// [`DEFAULT_MAX_EVENT_SIZE`]. With [`stream_data`](Config::stream_data) the data
    /// is not held, so it is not limited.
    pub max_event_size: usize,
    /// The most bytes any single other value may take: an `event`, `id`, `retry` or
    /// unknown field's value, or a comment (and no more than
    /// [`max_event_size`](Config::max_event_size)). Past it the parser returns
    /// [`Error::EventTooLarge`] (or [`Error::CommentTooLarge`]) and carries on.
    /// Default: [`DEFAULT_MAX_FIELD_SIZE`].
    pub max_field_size: usize,
    /// Hand out comment lines as [`Item::Comment`] (keep-alive detection needs them).
    /// Default: off.
    pub comments: bool,
    /// Hand out [`Item::Diagnostic`]s for unknown fields, invalid `retry` values and
    /// `id` values containing NUL. Default: off.
    pub diagnostics: bool,
    /// Hand out data as it arrives, in [`Item::Data`] pieces, and the event as
    /// [`Item::EventEnd`], instead of buffering whole events. Memory stays bounded
    /// however large an event is. Default: off.
    pub stream_data: bool,
}

impl Config {
    /// The defaults: 16 MiB of data and 16 KiB for any other value, events only.
    pub const fn new() -> Self {
        Config {
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            max_field_size: DEFAULT_MAX_FIELD_SIZE,
            comments: false,
            diagnostics: false,
            stream_data: false,
        }
    }

    /// Sets [`max_event_size`](Config::max_event_size).
    pub const fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// Sets [`max_field_size`](Config::max_field_size).
    pub const fn max_field_size(mut self, bytes: usize) -> Self {
        self.max_field_size = bytes;
        self
    }

    /// Sets [`comments`](Config::comments).
    pub const fn comments(mut self, on: bool) -> Self {
        self.comments = on;
        self
    }

    /// Sets [`diagnostics`](Config::diagnostics).
    pub const fn diagnostics(mut self, on: bool) -> Self {
        self.diagnostics = on;
        self
    }

    /// Sets [`stream_data`](Config::stream_data).
    pub const fn stream_data(mut self, on: bool) -> Self {
        self.stream_data = on;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

/// The five buffers a [`Parser`] keeps between chunks.
///
/// With `alloc`, [`Parser::new`] uses `Vec<u8>`s. Without it, pass regions of your own
/// memory as [`SliceStorage`]s, or let [`Parser::from_slice`] carve them out of one
/// buffer.
#[derive(Debug, Default)]
pub struct Buffers<S> {
    /// Data joined from several lines, or from a line split across chunks.
    pub data: S,
    /// A line split across chunks (other than a `data` line, which goes to `data`).
    pub line: S,
    /// The event type, when it could not be borrowed from the chunk.
    pub event_type: S,
    /// The `id` of the block being read, until the block is dispatched.
    pub id: S,
    /// The event source's last event ID string.
    pub last_event_id: S,
}

/// Where some pending bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// Nothing (the buffer is empty).
    Empty,
    /// `chunk[start..end]` of the chunk being parsed; only ever set within one call,
    /// and copied out before the call returns.
    Chunk(usize, usize),
    /// In the parser's storage.
    Stored,
    /// Handed out already ([`Config::stream_data`]); nothing held.
    Streamed,
}

/// Which field a line being read belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Data,
    Event,
    Id,
    Retry,
    Comment,
    /// An unknown field, an unreported comment, or a line of a block being skipped.
    Ignore,
}

/// How far into the current line the parser is, when the line started in an earlier
/// chunk than the one that will end it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineState {
    /// At the start of a line.
    Start,
    /// Reading a field name (bytes in `line`), no colon yet.
    Name,
    /// Reading the value of `field`; `strip` while a leading space may still be
    /// removed.
    Value { field: Field, strip: bool },
}

/// How much of a long `data` value [`Parser::data_tail`] scans, then copies, at a
/// time: small enough to stay in the L1 cache between the two, large enough that
/// the calls cost nothing much.
const TAIL_BLOCK: usize = 16 << 10;

/// Where an item's bytes are, without borrowing them: resolved into an [`Item`] once
/// the parser's own mutation is over.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Loc {
    Chunk(usize, usize),
    Data,
    Line,
    EventType,
    Newline,
    Empty,
}

/// An event a fast path read whole: where its type and data are in the chunk, and
/// its ID if its block set one there (the same bytes as the last event ID it became,
/// so that an event can point at the chunk instead of the parser's buffer; empty
/// otherwise, and for an empty ID, which the parser's buffer holds as well).
#[derive(Debug, Clone)]
pub(crate) struct FastEvent {
    pub(crate) event_type: core::ops::Range<usize>,
    pub(crate) data: core::ops::Range<usize>,
    pub(crate) id: core::ops::Range<usize>,
}

impl FastEvent {
    /// The event's last event ID: in `chunk` if its block set it there, else
    /// `last_event_id` (the parser's).
    #[inline(always)]
    pub(crate) fn id<'a>(&self, chunk: &'a [u8], last_event_id: &'a [u8]) -> &'a [u8] {
        match self.id.is_empty() {
            true => last_event_id,
            false => &chunk[self.id.clone()],
        }
    }
}

/// An item, by location.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Out {
    Event { event_type: Loc, data: Loc },
    EventEnd { event_type: Loc },
    Retry(u64),
    Comment(Loc),
    Data(Loc),
    UnknownField(Loc),
    InvalidRetry(Loc),
    IdContainsNul(Loc),
}

macro_rules! parser_struct {
    ($($default:tt)*) => {
        /// A push parser for `text/event-stream` bodies.
        ///
        /// Feed it chunks with [`parse`](Parser::parse) (or [`feed`](Parser::feed)), in
        /// any sizes; call [`finish`](Parser::finish) at the end of the stream. The
        /// parser can then read the next response of a reconnecting client: it keeps
        /// the last event ID and the reconnection time.
        ///
        /// ```
        /// use sse_proto::{Item, Parser};
        ///
        /// let mut parser = Parser::new();
        /// let mut events = Vec::new();
        /// for chunk in [&b"data: hel"[..], b"lo\r", b"\n\r\ndata: 2\n\n"] {
        ///     let mut feed = parser.feed(chunk);
        ///     while let Some(item) = feed.next() {
        ///         if let Item::Event(event) = item.unwrap() {
        ///             events.push(event.data().to_string());
        ///         }
        ///     }
        /// }
        /// assert_eq!(events, ["hello", "2"]);
        /// ```
        #[derive(Debug)]
        pub struct Parser<S: Storage $($default)*> {
            config: Config,
            data_limit: usize,
            value_limit: usize,
            bufs: Buffers<S>,
            /// How many bytes of a leading BOM have been seen; `BOM.len()` once the
            /// start of the stream is behind us.
            bom: usize,
            /// The previous chunk ended in CR: an LF first in this one belongs to it.
            pending_cr: bool,
            line_state: LineState,
            /// The first bytes of a field name read across chunks: enough to
            /// recognise every field the spec defines, whatever the limits.
            name: [u8; NAME_MAX],
            /// The length of that name so far (may pass `NAME_MAX`).
            name_len: usize,
            /// With diagnostics: the name is not kept in `line` for a report (too long).
            name_dropped: bool,
            data: Held,
            /// Length of the data so far (values joined with LF).
            data_len: usize,
            /// The capacity of a data buffer that was moved out with its event: given
            /// back to the new buffer when the next data is stored.
            data_hint: usize,
            event_type: Held,
            /// An `id` field in this block set `bufs.id`.
            id_pending: bool,
            /// An event was too large: ignore lines up to the next blank line.
            skipping: bool,
            /// Streaming mode: the LF before this data line was handed out already.
            lf_emitted: bool,
            /// The last item borrowed `data`/`event_type` storage: clear them on the
            /// next call.
            release_event: bool,
            /// The last item borrowed `line` storage.
            release_line: bool,
            retry: Option<u64>,
        }
    };
}

#[cfg(feature = "alloc")]
parser_struct!(= alloc::vec::Vec<u8>);
#[cfg(not(feature = "alloc"))]
parser_struct!();

#[cfg(feature = "alloc")]
impl Parser<alloc::vec::Vec<u8>> {
    /// A parser with the default [`Config`] and growable buffers.
    pub fn new() -> Self {
        Self::with_config(Config::new())
    }

    /// A parser with `config` and growable buffers.
    pub fn with_config(config: Config) -> Self {
        Self::with_buffers(config, Buffers::default())
    }
}

/// Assembled data of at least this many bytes is handed out with its buffer
/// (moved, or split off it) and the next data's room asked for again; below it, a
/// copy costs less than the allocation of a new buffer.
#[cfg(feature = "alloc")]
pub(crate) const MOVE_AT: usize = 4096;

/// The data of an assembled event, split off the parser's buffer with the event's
/// type and ID after it: see [`Parser::split_event`].
#[cfg(feature = "alloc")]
pub(crate) struct Split {
    /// The data, then the type and the ID where they were appended.
    pub(crate) text: bytes::Bytes,
    /// The data's length.
    pub(crate) data: usize,
    /// Where the type is in `text` (empty: the default type).
    pub(crate) event_type: core::ops::Range<usize>,
    /// Where the last event ID is in `text`, if it was appended.
    pub(crate) id: Option<core::ops::Range<usize>>,
}

#[cfg(feature = "alloc")]
impl Parser<bytes::BytesMut> {
    /// The data of the event just handed out, which the parser assembled in its
    /// buffer, split off that buffer (no copy), with the event's type (`chunk_type`
    /// if it lay in the chunk, the parser's own if `stored_type`) and, if
    /// `with_id`, its last event ID appended. What is left of the buffer's capacity
    /// takes the next event's data; once every event split off it is dropped, the
    /// whole buffer is reused (`BytesMut::reserve`), so a reader that drops its
    /// events allocates nothing in steady state, and one that keeps them gets a new
    /// buffer when this one is used up.
    pub(crate) fn split_event(
        &mut self,
        chunk_type: Option<&[u8]>,
        stored_type: bool,
        with_id: bool,
    ) -> Split {
        let bufs = &mut self.bufs;
        let data = bufs.data.len();
        let event_type = match (chunk_type, stored_type) {
            (Some(event_type), _) => event_type,
            (None, true) => &bufs.event_type[..],
            (None, false) => b"",
        };
        // Most assembled events have the default type: no call to copy nothing.
        if !event_type.is_empty() {
            bufs.data.extend_from_slice(event_type);
        }
        let type_end = bufs.data.len();
        let id = with_id.then(|| {
            bufs.data.extend_from_slice(&bufs.last_event_id);
            type_end..bufs.data.len()
        });
        let text = bufs.data.split().freeze();
        // A large event's room is asked for again when the next data is stored, into
        // the empty buffer: `BytesMut` then takes its whole buffer back if every
        // event split off it is gone, and has nothing to move to its front, where
        // growing it piece by piece would move what it holds each time.
        if text.len() >= MOVE_AT {
            self.data_hint = text.len();
        }
        Split {
            text,
            data,
            event_type: data..type_end,
            id,
        }
    }

    /// Gives the data buffer `room` bytes if it has none (never had, or all it had
    /// was split off): `BytesMut` remembers a buffer's first capacity and gives
    /// every new buffer at least as much, so that events split off and kept
    /// together (a batch) share a few buffers instead of one each.
    pub(crate) fn reserve_data_room(&mut self, room: usize) {
        let data = &mut self.bufs.data;
        if data.capacity() == 0 {
            *data = bytes::BytesMut::with_capacity(room);
        }
    }

    /// This parser over `Vec` buffers again (no copy where a buffer is not shared).
    pub(crate) fn into_vec(self) -> Parser<alloc::vec::Vec<u8>> {
        self.map_buffers(alloc::vec::Vec::from)
    }
}

#[cfg(feature = "alloc")]
impl Parser<alloc::vec::Vec<u8>> {
    /// This parser over `BytesMut` buffers (what the buffers hold is copied: a
    /// last event ID, a pending event), for readers that split assembled events
    /// off the data buffer.
    pub(crate) fn into_bytes_mut(self) -> Parser<bytes::BytesMut> {
        self.map_buffers(|buf| bytes::BytesMut::from(&buf[..]))
    }
}

#[cfg(feature = "alloc")]
impl Default for Parser<alloc::vec::Vec<u8>> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'b> Parser<SliceStorage<'b>> {
    /// A parser that works entirely inside `buf`: no allocation at all.
    ///
    /// The buffer is divided once: four regions of `buf.len() / 8` bytes (at most
    /// 4 KiB each) hold a split line, the event type and two event IDs, and the rest
    /// holds event data. Those sizes become limits, like
    /// [`Config::max_event_size`] and [`Config::max_field_size`]: a longer value or data gives
    /// [`Error::EventTooLarge`].
    ///
    /// ```
    /// use sse_proto::{Config, Item, Parser};
    ///
    /// let mut memory = [0u8; 1024];
    /// let mut parser = Parser::from_slice(Config::new(), &mut memory);
    /// let mut input: &[u8] = b"id: 1\ndata: no heap\n\n";
    /// let Ok(Some(Item::Event(event))) = parser.parse(&mut input) else { panic!() };
    /// assert_eq!(event.data(), "no heap");
    /// ```
    pub fn from_slice(config: Config, buf: &'b mut [u8]) -> Self {
        let small = (buf.len() / 8).min(4096);
        let (line, rest) = buf.split_at_mut(small);
        let (event_type, rest) = rest.split_at_mut(small);
        let (id, rest) = rest.split_at_mut(small);
        let (last_event_id, data) = rest.split_at_mut(small);
        Self::with_buffers(
            config,
            Buffers {
                data: SliceStorage::new(data),
                line: SliceStorage::new(line),
                event_type: SliceStorage::new(event_type),
                id: SliceStorage::new(id),
                last_event_id: SliceStorage::new(last_event_id),
            },
        )
    }
}

impl<S: Storage> Parser<S> {
    /// The same parser, state and text, over buffers of another kind.
    #[cfg(feature = "alloc")]
    fn map_buffers<T: Storage>(self, mut f: impl FnMut(S) -> T) -> Parser<T> {
        let bufs = self.bufs;
        Parser {
            config: self.config,
            data_limit: self.data_limit,
            value_limit: self.value_limit,
            bufs: Buffers {
                data: f(bufs.data),
                line: f(bufs.line),
                event_type: f(bufs.event_type),
                id: f(bufs.id),
                last_event_id: f(bufs.last_event_id),
            },
            bom: self.bom,
            pending_cr: self.pending_cr,
            line_state: self.line_state,
            name: self.name,
            name_len: self.name_len,
            name_dropped: self.name_dropped,
            data: self.data,
            data_len: self.data_len,
            data_hint: self.data_hint,
            event_type: self.event_type,
            id_pending: self.id_pending,
            skipping: self.skipping,
            lf_emitted: self.lf_emitted,
            release_event: self.release_event,
            release_line: self.release_line,
            retry: self.retry,
        }
    }

    /// A parser over buffers you supply. The buffers should be empty; their capacity
    /// limits bound what the parser accepts, as [`Config::max_event_size`] and
    /// [`Config::max_field_size`] do.
    pub fn with_buffers(config: Config, mut bufs: Buffers<S>) -> Self {
        bufs.data.clear();
        bufs.line.clear();
        bufs.event_type.clear();
        bufs.id.clear();
        bufs.last_event_id.clear();
        let data_limit = config.max_event_size.min(bufs.data.capacity_limit());
        let value_limit = config
            .max_event_size
            .min(config.max_field_size)
            .min(bufs.line.capacity_limit())
            .min(bufs.event_type.capacity_limit())
            .min(bufs.id.capacity_limit())
            .min(bufs.last_event_id.capacity_limit());
        Parser {
            config,
            data_limit,
            value_limit,
            bufs,
            bom: 0,
            pending_cr: false,
            line_state: LineState::Start,
            name: [0; NAME_MAX],
            name_len: 0,
            name_dropped: false,
            data: Held::Empty,
            data_len: 0,
            data_hint: 0,
            event_type: Held::Empty,
            id_pending: false,
            skipping: false,
            lf_emitted: false,
            release_event: false,
            release_line: false,
            retry: None,
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The event source's last event ID string: what a reconnecting client sends as
    /// `Last-Event-ID`. Set when a block with an `id` field is dispatched (even one
    /// without data), kept across events and across [`finish`](Parser::finish).
    pub fn last_event_id(&self) -> Text<'_> {
        Text::new(self.bufs.last_event_id.as_bytes())
    }

    /// Sets the last event ID, as a client does when it resumes a stream it read
    /// before. Fails if `id` does not fit the parser's limits.
    pub fn set_last_event_id(&mut self, id: &[u8]) -> Result<(), Error> {
        let limit = self.value_limit;
        if id.len() > limit {
            return Err(Error::EventTooLarge { limit });
        }
        self.bufs.last_event_id.clear();
        self.bufs
            .last_event_id
            .try_extend(id)
            .map_err(|_| Error::EventTooLarge { limit })
    }

    /// The reconnection time from the last valid `retry` field; `None` if there has
    /// been none. Kept across [`finish`](Parser::finish).
    pub fn retry(&self) -> Option<Duration> {
        self.retry.map(Duration::from_millis)
    }

    /// Parses from the front of `input`, advancing it past what was consumed, until
    /// one item is ready (`Ok(Some(item))`) or `input` is used up (`Ok(None)`: feed the
    /// next chunk). Bytes that end mid-line are kept inside the parser, so no byte of
    /// `input` ever needs to be passed twice.
    ///
    /// An [`Error`] reports a limit that was hit; the parser has already recovered, so
    /// call again with the same `input` to carry on.
    #[inline(always)]
    pub fn parse<'a, 'c: 'a>(
        &'a mut self,
        input: &mut &'c [u8],
    ) -> Result<Option<Item<'a>>, Error> {
        let chunk: &'c [u8] = input;
        let mut pos = 0;
        self.release();
        // Small enough to inline into the caller's loop; the general path is not.
        if let Some((start, end)) = self.fast_event(chunk, &mut pos) {
            *input = &chunk[pos..];
            let id = self.bufs.last_event_id.as_bytes();
            return Ok(Some(Item::Event(Event::new(b"", &chunk[start..end], id))));
        }
        self.parse_rest(input, pos)
    }

    /// [`parse`](Parser::parse) once [`fast_event`](Parser::fast_event) has found no
    /// event, from `input[pos..]` (a caller that runs `fast_event` itself, after
    /// [`release`](Parser::release), goes on here).
    #[inline(always)]
    pub(crate) fn parse_rest<'a, 'c: 'a>(
        &'a mut self,
        input: &mut &'c [u8],
        mut pos: usize,
    ) -> Result<Option<Item<'a>>, Error> {
        let chunk: &'c [u8] = input;
        if let Some(fast) = self.fast_block(chunk, &mut pos) {
            *input = &chunk[pos..];
            let id = fast.id(chunk, self.bufs.last_event_id.as_bytes());
            let (event_type, data) = (&chunk[fast.event_type], &chunk[fast.data]);
            return Ok(Some(Item::Event(Event::new(event_type, data, id))));
        }
        self.parse_general(input, pos)
    }

    /// [`parse`](Parser::parse) once the fast path has passed, from `input[pos..]`.
    fn parse_general<'a, 'c: 'a>(
        &'a mut self,
        input: &mut &'c [u8],
        mut pos: usize,
    ) -> Result<Option<Item<'a>>, Error> {
        let chunk: &'c [u8] = input;
        let result = self.step(chunk, &mut pos);
        *input = &chunk[pos..];
        match result {
            Ok(Some(out)) => Ok(Some(self.resolve(out, chunk))),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// With [`Config::stream_data`], in the middle of a `data` value that began in an
    /// earlier chunk (a large event arriving in many chunks, the case streaming is
    /// for): the length of the piece of `chunk[pos..]` up to the line end or the
    /// chunk's end, which goes out as it is, as the slow path would hand it out, but
    /// without its machinery. `None` when there is no such piece; the slow path then
    /// ends the line.
    #[inline]
    fn streamed_value(&self, chunk: &[u8], pos: usize) -> Option<usize> {
        let streaming = !cfg!(sse_proto_small)
            && self.config.stream_data
            && self.in_data_value()
            && !self.pending_cr;
        if !streaming || pos == chunk.len() {
            return None;
        }
        let rest = &chunk[pos..];
        let len = find_line_end(rest).unwrap_or(rest.len());
        (len > 0).then_some(len)
    }

    /// Inside a `data` value that began in an earlier chunk, its leading space dealt
    /// with.
    #[inline(always)]
    fn in_data_value(&self) -> bool {
        self.line_state
            == LineState::Value {
                field: Field::Data,
                strip: false,
            }
    }

    /// Borrows `chunk` for a loop of [`Feed::next`] calls.
    pub fn feed<'p, 'c>(&'p mut self, chunk: &'c [u8]) -> Feed<'p, 'c, S> {
        Feed {
            parser: self,
            input: chunk,
        }
    }

    /// Ends the stream. Per the spec, a pending event that no blank line ended is
    /// discarded (and an `id` it set is not committed); returns `true` if there was
    /// one. The parser is then ready for a new stream (a leading BOM is stripped
    /// again), keeping [`last_event_id`](Parser::last_event_id) and
    /// [`retry`](Parser::retry).
    pub fn finish(&mut self) -> bool {
        let discarded = self.line_state != LineState::Start
            || self.data != Held::Empty
            || self.event_type != Held::Empty
            || self.id_pending
            || (self.bom > 0 && self.bom < BOM.len());
        self.reset_block();
        self.bufs.line.clear();
        self.line_state = LineState::Start;
        self.bom = 0;
        self.pending_cr = false;
        self.skipping = false;
        self.release_event = false;
        self.release_line = false;
        discarded
    }

    /// Frees the storage the previous item borrowed. Called before each parse.
    #[inline(always)]
    pub(crate) fn release(&mut self) {
        if self.release_event {
            self.release_event = false;
            self.bufs.data.clear();
            self.bufs.event_type.clear();
        }
        if self.release_line {
            self.release_line = false;
            self.bufs.line.clear();
        }
    }

    /// The most common event by far, `data: VALUE` then a blank line (LF or CRLF),
    /// at a point where nothing else is pending: recognised here without the general
    /// machinery, and returned as `(value start, value end)` in `chunk`, the same
    /// event the general path would dispatch. When `chunk[*pos..]` starts with a whole
    /// `data` line not followed by a blank line, that line is processed and `None`
    /// returned with `*pos` past it, so the general path carries on where this left
    /// off; a `data` line that goes on in the next chunk enters the slow path
    /// ([`partial_data`](Parser::partial_data)).
    #[inline(always)]
    pub(crate) fn fast_event(&mut self, chunk: &[u8], pos: &mut usize) -> Option<(usize, usize)> {
        if cfg!(sse_proto_small)
            || !self.is_clean()
            || !(chunk[*pos..].starts_with(b"data:")
                // Only a line end or a comment can be skipped: any other line
                // (`id`, `event`) goes to the general path straight away.
                || (matches!(chunk.get(*pos), Some(b'\n' | b'\r' | b':'))
                    && self.skip_no_ops(chunk, pos)))
        {
            return None;
        }
        let at = *pos;
        let Some(len) = find_line_end(&chunk[at..]) else {
            // The event goes on in the next chunk.
            self.partial_data(chunk, pos);
            return None;
        };
        let end = at + len;
        let start = strip_space(chunk, at + 5).min(end);
        if end - start > self.data_limit {
            return None; // the general path reports it
        }
        let blank = blank_after(&chunk[end..]);
        if blank > 0 {
            // Dispatch: nothing pending means no id to commit and no event type.
            *pos = end + blank;
            return Some((start, end));
        }
        *pos = self.hold_data_line(chunk, start, end);
        None
    }

    /// A whole first `data` line, `chunk[start..end]`, that more lines follow: held
    /// in the chunk for the general path, as its `data_line` would hold it. Returns
    /// the position after the line's end.
    #[inline(always)]
    fn hold_data_line(&mut self, chunk: &[u8], start: usize, end: usize) -> usize {
        self.data = Held::Chunk(start, end);
        self.data_len = end - start;
        self.consume_line_end(chunk, end)
    }

    /// At a line start, between blocks, with nothing pending and nothing special
    /// going on: where the fast paths may run.
    #[inline(always)]
    fn is_clean(&self) -> bool {
        self.line_state == LineState::Start
            && !self.pending_cr
            && self.bom == BOM.len()
            && !self.skipping
            && !self.config.stream_data
            && self.data == Held::Empty
            && self.event_type == Held::Empty
            && !self.id_pending
    }

    /// The next most common block: `id` and `event` lines, then one `data` line and
    /// a blank line, all in this chunk. Read without the general machinery and
    /// dispatched at once, as [`fast_event`](Parser::fast_event) does for `data`
    /// alone. Otherwise the whole lines it read are handed to the general path just
    /// as that would have left them (`*pos` past them), so no line is read twice.
    #[inline(always)]
    pub(crate) fn fast_block(&mut self, chunk: &[u8], pos: &mut usize) -> Option<FastEvent> {
        if cfg!(sse_proto_small)
            || !matches!(chunk.get(*pos), Some(b'i' | b'e'))
            || !self.is_clean()
        {
            return None;
        }
        self.fast_block_lines(chunk, pos)
    }

    /// [`fast_block`](Parser::fast_block) once its first byte and the clean state
    /// are checked; out of line, as most events never come here.
    #[inline(never)]
    fn fast_block_lines(&mut self, chunk: &[u8], pos: &mut usize) -> Option<FastEvent> {
        let mut at = *pos;
        let mut event_type = (at, at);
        let mut id = None;
        loop {
            let rest = &chunk[at..];
            let (is_id, name) = match rest.first() {
                Some(b'i') if rest.starts_with(b"id:") => (true, 3),
                Some(b'e') if rest.starts_with(b"event:") => (false, 6),
                _ => break,
            };
            let vs = strip_space(chunk, at + name);
            let Some(len) = find_line_end(&chunk[vs..]) else {
                break;
            };
            let ve = vs + len;
            // Limits and NUL in an id are the general path's to report.
            if len > self.value_limit || (is_id && contains_nul(&chunk[vs..ve])) {
                break;
            }
            let next = match (chunk[ve], chunk.get(ve + 1)) {
                (b'\r', Some(b'\n')) => ve + 2,
                // A CR that ends the chunk may be half of a CRLF: left to the
                // general path, which remembers it.
                (b'\r', None) => break,
                _ => ve + 1,
            };
            // "Set the event type buffer to the field value" / "set the last event
            // ID buffer to the field value": a later line of the same field wins.
            if is_id {
                id = Some((vs, ve));
            } else {
                event_type = (vs, ve);
            }
            at = next;
        }
        if at == *pos {
            return None;
        }
        let (mut data, mut partial) = (None, false);
        if chunk[at..].starts_with(b"data:") {
            let ds = strip_space(chunk, at + 5);
            let found = find_line_end(&chunk[ds..]);
            partial = found.is_none();
            if let Some(len) = found {
                let de = ds + len;
                let blank = blank_after(&chunk[de..]);
                if len > self.data_limit {
                    // The general path reports it.
                } else if blank > 0 {
                    // Dispatch step 1: the block's id becomes the last event ID.
                    if let Some((a, b)) = id {
                        self.bufs.last_event_id.clear();
                        append(&mut self.bufs.last_event_id, &chunk[a..b], self.value_limit);
                    }
                    *pos = de + blank;
                    return Some(FastEvent {
                        event_type: event_type.0..event_type.1,
                        data: ds..de,
                        id: id.map_or(0..0, |(a, b)| a..b),
                    });
                } else {
                    data = Some((ds, de));
                }
            }
        }
        // Hand over what was read.
        if event_type.0 < event_type.1 {
            self.event_type = Held::Chunk(event_type.0, event_type.1);
        }
        if let Some((a, b)) = id {
            self.bufs.id.clear();
            append(&mut self.bufs.id, &chunk[a..b], self.value_limit);
            self.id_pending = true;
        }
        *pos = at;
        if let Some((ds, de)) = data {
            *pos = self.hold_data_line(chunk, ds, de);
        } else if partial {
            // The data line goes on in the next chunk (the usual case for a large
            // event).
            self.partial_data(chunk, pos);
        }
        None
    }

    /// In the clean state [`fast_event`](Parser::fast_event) needs, skips what does
    /// nothing there: blank lines (no data to dispatch, no id to commit, an event
    /// type already empty) and unreported comments, as keep-alives often precede
    /// events. Returns whether a `data` line follows.
    #[inline(always)]
    fn skip_no_ops(&mut self, chunk: &[u8], pos: &mut usize) -> bool {
        loop {
            match chunk.get(*pos) {
                Some(b'\n') => *pos += 1,
                Some(b'\r') => {
                    *pos = self.consume_line_end(chunk, *pos);
                    if self.pending_cr {
                        return false;
                    }
                }
                Some(b':') if !self.config.comments => {
                    let Some(len) = find_line_end(&chunk[*pos..]) else {
                        return false;
                    };
                    *pos = self.consume_line_end(chunk, *pos + len);
                    if self.pending_cr {
                        return false;
                    }
                }
                _ => return chunk[*pos..].starts_with(b"data:"),
            }
        }
    }

    /// Runs the processing model over `chunk[*pos..]` until an item is ready or the
    /// chunk is used up. Items come out as locations, so that this can mutate freely.
    /// Call [`release`](Parser::release) first.
    pub(crate) fn step(&mut self, chunk: &[u8], pos: &mut usize) -> Result<Option<Out>, Error> {
        let result = self.step_inner(chunk, pos);
        // The caller's chunk will be gone by the next call: copy out what the
        // pending event still borrows from it.
        self.spill(chunk);
        result
    }

    fn step_inner(&mut self, chunk: &[u8], pos: &mut usize) -> Result<Option<Out>, Error> {
        loop {
            let rest = &chunk[*pos..];
            let Some(&first) = rest.first() else {
                return Ok(None);
            };
            // "A single U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character pair"
            // is one line end, even when the chunk boundary falls between the two.
            if self.pending_cr {
                self.pending_cr = false;
                if first == b'\n' {
                    *pos += 1;
                    continue;
                }
            }
            // UTF-8 decode: "one leading BOM" is stripped, at the start of the stream
            // only, and possibly split across chunks.
            if self.bom < BOM.len() {
                if first == BOM[self.bom] {
                    self.bom += 1;
                    *pos += 1;
                } else {
                    let held = mem::replace(&mut self.bom, BOM.len());
                    if held > 0 {
                        // Not a BOM after all: those bytes start the first line.
                        self.begin_name();
                        self.push_name(&BOM[..held]);
                    }
                }
                continue;
            }
            if self.line_state == LineState::Start {
                if matches!(self.data, Held::Chunk(..) | Held::Stored) {
                    // More `data` lines, or the blank line, are the likely next lines.
                    let before = *pos;
                    if let Some(out) = self.data_run(chunk, pos) {
                        return Ok(Some(out));
                    }
                    if *pos != before {
                        continue;
                    }
                }
                // Fast path: a blank line, or a whole line inside this chunk.
                let found = if first == b'\n' || first == b'\r' {
                    Some(0)
                } else {
                    find_line_end(rest)
                };
                let Some(len) = found else {
                    // The line goes on in the next chunk. What the pending event
                    // borrows from this chunk is copied out first, so the slow path
                    // only ever appends to storage.
                    self.spill(chunk);
                    if let Some(out) = self.feed_partial(chunk, pos, chunk.len())? {
                        return Ok(Some(out));
                    }
                    continue;
                };
                let (start, end) = (*pos, *pos + len);
                if self.config.stream_data
                    && self.data == Held::Streamed
                    && !self.lf_emitted
                    && !self.skipping
                    && starts_data_line(rest)
                {
                    // The LF joining this data line to the previous one goes out as
                    // its own piece; the line itself is read on the next call.
                    self.lf_emitted = true;
                    return Ok(Some(Out::Data(Loc::Newline)));
                }
                *pos = self.consume_line_end(chunk, end);
                if let Some(out) = self.complete_line(chunk, start, end)? {
                    return Ok(Some(out));
                }
            } else {
                if let Some(len) = self.streamed_value(chunk, *pos) {
                    let start = mem::replace(pos, *pos + len);
                    return Ok(Some(Out::Data(Loc::Chunk(start, *pos))));
                }
                // Slow path: the rest of a line that started in an earlier chunk.
                let end =
                    if !cfg!(sse_proto_small) && self.in_data_value() && !self.config.stream_data {
                        // The rest of a data value, appended as it is.
                        self.data_tail(chunk, pos)?
                    } else {
                        let end = match find_line_end(rest) {
                            Some(len) => *pos + len,
                            None => chunk.len(),
                        };
                        if let Some(out) = self.feed_partial(chunk, pos, end)? {
                            return Ok(Some(out));
                        }
                        end
                    };
                if *pos == end && end < chunk.len() {
                    *pos = self.consume_line_end(chunk, end);
                    if let Some(out) = self.end_partial()? {
                        return Ok(Some(out));
                    }
                }
            }
        }
    }

    /// The rest of a `data` value that began in an earlier chunk, `chunk[*pos..]`,
    /// appended to the data held up to its line end (or the chunk's end), which is
    /// returned. A long value is scanned and copied a block at a time, so that the
    /// copy reads what the scan has just brought into the L1 cache: one trip through
    /// memory rather than two.
    #[inline(always)]
    fn data_tail(&mut self, chunk: &[u8], pos: &mut usize) -> Result<usize, Error> {
        if chunk.len() - *pos > TAIL_BLOCK {
            return self.long_data_tail(chunk, pos);
        }
        // A short rest (a small chunk, or the end of a line in this one): inline.
        let end = find_line_end(&chunk[*pos..]).map_or(chunk.len(), |len| *pos + len);
        let start = mem::replace(pos, end);
        self.push_data(&chunk[start..end])?;
        Ok(end)
    }

    /// [`data_tail`](Parser::data_tail) for a rest longer than a block.
    #[inline(never)]
    fn long_data_tail(&mut self, chunk: &[u8], pos: &mut usize) -> Result<usize, Error> {
        loop {
            let block_end = chunk.len().min(*pos + TAIL_BLOCK);
            let found = find_line_end(&chunk[*pos..block_end]);
            let end = found.map_or(block_end, |len| *pos + len);
            let start = mem::replace(pos, end);
            self.push_data(&chunk[start..end])?;
            if found.is_some() || end == chunk.len() {
                return Ok(end);
            }
        }
    }

    /// Consumes the line end at `chunk[end]` (CR, LF or CRLF) and returns the position
    /// after it. A CR that ends the chunk ends the line at once (the spec's lone CR is
    /// a line end), and an LF at the start of the next chunk is then skipped.
    #[inline]
    fn consume_line_end(&mut self, chunk: &[u8], end: usize) -> usize {
        let mut next = end + 1;
        if chunk[end] == b'\r' {
            match chunk.get(next) {
                Some(b'\n') => next += 1,
                Some(_) => {}
                None => self.pending_cr = true,
            }
        }
        next
    }

    /// Processes a whole line `chunk[start..end]` (without its line end).
    #[inline]
    fn complete_line(
        &mut self,
        chunk: &[u8],
        start: usize,
        end: usize,
    ) -> Result<Option<Out>, Error> {
        if start == end {
            // "If the line is empty (a blank line): Dispatch the event."
            return Ok(self.dispatch());
        }
        if self.skipping {
            return Ok(None);
        }
        let line = &chunk[start..end];
        let (field, name_end, value_start) = classify_line(line);
        let (vs, ve) = (start + value_start, end);
        let value = &chunk[vs..ve];
        match field {
            Some(Field::Comment) => {
                if !self.config.comments {
                    return Ok(None);
                }
                if value.len() > self.value_limit {
                    return Err(Error::CommentTooLarge {
                        limit: self.value_limit,
                    });
                }
                Ok(Some(Out::Comment(Loc::Chunk(vs, ve))))
            }
            Some(Field::Data) => self.data_line(chunk, vs, ve),
            Some(Field::Event) => {
                if value.len() > self.value_limit {
                    return Err(self.overflow(self.value_limit));
                }
                // "Set the event type buffer to the field value."
                self.event_type = if value.is_empty() {
                    Held::Empty
                } else {
                    Held::Chunk(vs, ve)
                };
                Ok(None)
            }
            Some(Field::Id) => {
                if value.len() > self.value_limit {
                    return Err(self.overflow(self.value_limit));
                }
                // "If the field value does not contain U+0000 NULL, then set the last
                // event ID buffer to the field value. Otherwise, ignore the field."
                if contains_nul(value) {
                    return Ok(self.diagnostic(Out::IdContainsNul(Loc::Chunk(vs, ve))));
                }
                self.bufs.id.clear();
                append(&mut self.bufs.id, value, self.value_limit);
                self.id_pending = true;
                Ok(None)
            }
            Some(Field::Retry) => {
                if value.len() > self.value_limit {
                    return Err(self.overflow(self.value_limit));
                }
                Ok(self.retry_field(value, Loc::Chunk(vs, ve)))
            }
            Some(Field::Ignore) => Ok(None),
            None => {
                // "Otherwise: The field is ignored."
                if name_end <= self.value_limit {
                    Ok(self.diagnostic(Out::UnknownField(Loc::Chunk(start, start + name_end))))
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// A whole `data` line whose value is `chunk[vs..ve]`.
    #[inline]
    fn data_line(&mut self, chunk: &[u8], vs: usize, ve: usize) -> Result<Option<Out>, Error> {
        if self.config.stream_data {
            self.data = Held::Streamed;
            // When another data line follows in this chunk, the LF that will join it
            // goes out with this value, as one piece: `chunk[ve]` is that very LF when
            // the line ends in LF alone. (One item per line instead of two.)
            let joined = chunk[ve] == b'\n' && starts_data_line(&chunk[ve + 1..]);
            self.lf_emitted = joined;
            let end = ve + usize::from(joined);
            return Ok((vs < end).then_some(Out::Data(Loc::Chunk(vs, end))));
        }
        let len = ve - vs;
        // "Append the field value to the data buffer, then append a single U+000A LINE
        // FEED (LF) character to the data buffer." We join with LF instead, which is
        // the same once dispatch removes the last LF.
        let new_len = match self.data {
            Held::Empty => len,
            _ => self.data_len.saturating_add(1).saturating_add(len),
        };
        if new_len > self.data_limit {
            return Err(self.overflow(self.data_limit));
        }
        if self.data == Held::Empty {
            self.data = Held::Chunk(vs, ve);
            self.data_len = new_len;
        } else {
            self.join_data(chunk, vs, ve, new_len);
        }
        Ok(None)
    }

    /// Reads the `data` lines that follow a data line, and the blank line that ends
    /// them, in a loop of its own: the shape of multi-line events, and of most events
    /// that the general path starts. Returns the event if a blank line came. A data
    /// line that goes on in the next chunk enters the slow path
    /// ([`partial_data`](Parser::partial_data)); for anything else (another field, a
    /// limit to report) it returns `None` with `*pos` at the start of that line, which
    /// the general path then reads.
    #[inline]
    fn data_run(&mut self, chunk: &[u8], pos: &mut usize) -> Option<Out> {
        debug_assert!(!self.skipping && !self.pending_cr && !self.config.stream_data);
        loop {
            let at = *pos;
            let rest = &chunk[at..];
            match rest.first() {
                // "If the line is empty (a blank line): Dispatch the event."
                Some(b'\n') => {
                    *pos = at + 1;
                    return self.dispatch();
                }
                Some(b'\r') => {
                    *pos = self.consume_line_end(chunk, at);
                    return self.dispatch();
                }
                _ => {}
            }
            if !rest.starts_with(b"data:") {
                return None;
            }
            let vs = strip_space(chunk, at + 5);
            let Some(len) = find_line_end(&chunk[vs..]) else {
                self.partial_data(chunk, pos);
                return None;
            };
            let ve = vs + len;
            let new_len = self.data_len.saturating_add(1 + (ve - vs));
            if new_len > self.data_limit {
                return None;
            }
            self.join_data(chunk, vs, ve, new_len);
            *pos = self.consume_line_end(chunk, ve);
        }
    }

    /// `chunk[*pos..]` is the start of a `data` line (`data:` and more) with no line
    /// end in this chunk: the slow path's state for the rest of its value, set up
    /// directly (the general path would search the line again and read its name
    /// byte by byte). Leaves anything unusual, a limit to report, to the general
    /// path, with `*pos` unchanged.
    #[inline(never)]
    fn partial_data(&mut self, chunk: &[u8], pos: &mut usize) {
        debug_assert!(chunk[*pos..].starts_with(b"data:") && !self.config.stream_data);
        let after_colon = *pos + 5;
        let vs = strip_space(chunk, after_colon);
        let piece = &chunk[vs..];
        let new_len = match self.data {
            Held::Empty => piece.len(),
            _ => self.data_len.saturating_add(1 + piece.len()),
        };
        if self.skipping || self.line_state != LineState::Start || new_len > self.data_limit {
            return;
        }
        if self.data == Held::Empty {
            self.start_data();
            append(&mut self.bufs.data, piece, self.data_limit);
            self.data = Held::Stored;
            self.data_len = new_len;
        } else {
            self.join_data(chunk, vs, chunk.len(), new_len);
        }
        // A space that would follow the colon is still to be stripped if the chunk
        // ended right after the colon.
        self.line_state = LineState::Value {
            field: Field::Data,
            strip: vs == chunk.len() && vs == after_colon,
        };
        *pos = chunk.len();
    }

    /// Appends the value `chunk[vs..ve]` of another `data` line to the data held,
    /// joined by LF, making `new_len` bytes (checked against the limit already).
    #[inline(always)]
    fn join_data(&mut self, chunk: &[u8], vs: usize, ve: usize, new_len: usize) {
        let data = &mut self.bufs.data;
        if let Held::Chunk(a, b) = self.data {
            // The first line was still in the chunk: bring it along. (This reserves
            // what the lines need, so a moved-out buffer's capacity is not asked for.)
            data.clear();
            data.reserve_within(new_len, self.data_limit);
            let _ = data.try_extend(&chunk[a..b]);
            self.data = Held::Stored;
        } else {
            data.reserve_within(1 + (ve - vs), self.data_limit);
        }
        let _ = data.try_extend(b"\n");
        let _ = data.try_extend(&chunk[vs..ve]);
        self.data_len = new_len;
    }

    /// Reads `chunk[*pos..end]`, a piece of a line with no line end in it, into the
    /// state for lines that span chunks.
    fn feed_partial(
        &mut self,
        chunk: &[u8],
        pos: &mut usize,
        end: usize,
    ) -> Result<Option<Out>, Error> {
        loop {
            match self.line_state {
                LineState::Start => {
                    if *pos == end {
                        return Ok(None);
                    }
                    if self.skipping {
                        self.line_state = LineState::Value {
                            field: Field::Ignore,
                            strip: false,
                        };
                    } else if chunk[*pos] == b':' {
                        *pos += 1;
                        let field = if self.config.comments {
                            Field::Comment
                        } else {
                            Field::Ignore
                        };
                        self.line_state = LineState::Value { field, strip: true };
                    } else {
                        self.begin_name();
                    }
                }
                LineState::Name => {
                    let piece = &chunk[*pos..end];
                    match memchr(b':', piece) {
                        Some(colon) => {
                            *pos += colon + 1;
                            self.push_name(&piece[..colon]);
                            if let Some(out) = self.begin_value()? {
                                return Ok(Some(out));
                            }
                        }
                        None => {
                            *pos = end;
                            self.push_name(piece);
                            return Ok(None);
                        }
                    }
                }
                LineState::Value { field, strip } => {
                    if *pos == end {
                        return Ok(None);
                    }
                    if strip {
                        if chunk[*pos] == b' ' {
                            *pos += 1;
                        }
                        self.line_state = LineState::Value {
                            field,
                            strip: false,
                        };
                        continue;
                    }
                    let (start, piece) = (*pos, &chunk[*pos..end]);
                    *pos = end;
                    return self.push_value(field, piece, Loc::Chunk(start, end));
                }
            }
        }
    }

    /// Starts reading a field name.
    fn begin_name(&mut self) {
        self.line_state = LineState::Name;
        self.name_len = 0;
        self.name_dropped = !self.config.diagnostics;
        self.bufs.line.clear();
    }

    /// Appends to a field name being read. Once the name is longer than any field
    /// the spec defines, and not wanted for a diagnostic, the rest of the line is
    /// ignored.
    fn push_name(&mut self, piece: &[u8]) {
        let end = self.name_len.saturating_add(piece.len());
        if end <= NAME_MAX {
            self.name[self.name_len..end].copy_from_slice(piece);
        }
        self.name_len = end;
        if !self.name_dropped
            && (end > self.value_limit || {
                self.bufs.line.reserve_within(piece.len(), self.value_limit);
                self.bufs.line.try_extend(piece).is_err()
            })
        {
            // Too long to report, as in the fast path.
            self.name_dropped = true;
            self.bufs.line.clear();
        }
        if end > NAME_MAX && self.name_dropped {
            self.line_state = LineState::Value {
                field: Field::Ignore,
                strip: false,
            };
        }
    }

    /// The field the name read so far stands for.
    fn known_name(&self) -> Option<Field> {
        self.name.get(..self.name_len).and_then(classify_name)
    }

    /// An unknown field name is complete: report it if wanted, and ignore the rest.
    fn unknown_name(&mut self) -> Option<Out> {
        if self.name_dropped {
            return None;
        }
        let out = self.diagnostic(Out::UnknownField(Loc::Line));
        if out.is_none() {
            self.bufs.line.clear();
        }
        out
    }

    /// The field name is complete (a colon followed it).
    fn begin_value(&mut self) -> Result<Option<Out>, Error> {
        let Some(field) = self.known_name() else {
            self.line_state = LineState::Value {
                field: Field::Ignore,
                strip: false,
            };
            return Ok(self.unknown_name());
        };
        self.bufs.line.clear();
        self.line_state = LineState::Value { field, strip: true };
        if field == Field::Data {
            return self.begin_data();
        }
        Ok(None)
    }

    /// A `data` line starts in the slow path: its value will stream straight into the
    /// data buffer (or out, in streaming mode).
    fn begin_data(&mut self) -> Result<Option<Out>, Error> {
        if self.config.stream_data {
            // The joining LF, unless it went out with the previous line's value.
            let joined = self.data == Held::Streamed && !self.lf_emitted;
            self.data = Held::Streamed;
            self.lf_emitted = false;
            return Ok(joined.then_some(Out::Data(Loc::Newline)));
        }
        match self.data {
            Held::Empty => {
                self.start_data();
                self.data = Held::Stored;
            }
            _ => {
                debug_assert_eq!(self.data, Held::Stored, "spilled before the slow path");
                if self.data_len >= self.data_limit {
                    self.line_state = LineState::Value {
                        field: Field::Ignore,
                        strip: false,
                    };
                    return Err(self.overflow(self.data_limit));
                }
                append(&mut self.bufs.data, b"\n", self.data_limit);
                self.data_len += 1;
            }
        }
        Ok(None)
    }

    /// Appends a piece of the value of `field` (in the slow path).
    fn push_value(&mut self, field: Field, piece: &[u8], loc: Loc) -> Result<Option<Out>, Error> {
        match field {
            Field::Data => {
                if self.config.stream_data {
                    return Ok((!piece.is_empty()).then_some(Out::Data(loc)));
                }
                self.push_data(piece)?;
            }
            Field::Event | Field::Id | Field::Retry | Field::Comment => {
                if self.bufs.line.len().saturating_add(piece.len()) > self.value_limit {
                    self.bufs.line.clear();
                    self.line_state = LineState::Value {
                        field: Field::Ignore,
                        strip: false,
                    };
                    if field == Field::Comment {
                        return Err(Error::CommentTooLarge {
                            limit: self.value_limit,
                        });
                    }
                    return Err(self.overflow(self.value_limit));
                }
                append(&mut self.bufs.line, piece, self.value_limit);
            }
            Field::Ignore => {}
        }
        Ok(None)
    }

    /// Appends a piece of a `data` value to the data held (not streaming).
    #[inline(always)]
    fn push_data(&mut self, piece: &[u8]) -> Result<(), Error> {
        if self.data_len.saturating_add(piece.len()) > self.data_limit {
            self.line_state = LineState::Value {
                field: Field::Ignore,
                strip: false,
            };
            return Err(self.overflow(self.data_limit));
        }
        append(&mut self.bufs.data, piece, self.data_limit);
        self.data_len += piece.len();
        Ok(())
    }

    /// The line that spanned chunks has ended.
    fn end_partial(&mut self) -> Result<Option<Out>, Error> {
        let state = mem::replace(&mut self.line_state, LineState::Start);
        let field = match state {
            LineState::Start => return Ok(None),
            LineState::Name => {
                // "If the line is not empty but does not contain a U+003A COLON
                // character (:)": the whole line is the field name, the value empty.
                match self.known_name() {
                    None => return Ok(self.unknown_name()),
                    Some(Field::Data) => {
                        self.bufs.line.clear();
                        let joined = self.begin_data();
                        self.line_state = LineState::Start;
                        return joined;
                    }
                    Some(field) => {
                        self.bufs.line.clear();
                        field
                    }
                }
            }
            LineState::Value { field, .. } => field,
        };
        match field {
            Field::Data | Field::Ignore => Ok(None),
            Field::Event => {
                mem::swap(&mut self.bufs.line, &mut self.bufs.event_type);
                self.bufs.line.clear();
                self.event_type = if self.bufs.event_type.is_empty() {
                    Held::Empty
                } else {
                    Held::Stored
                };
                Ok(None)
            }
            Field::Id => {
                if contains_nul(self.bufs.line.as_bytes()) {
                    let out = self.diagnostic(Out::IdContainsNul(Loc::Line));
                    if out.is_none() {
                        self.bufs.line.clear();
                    }
                    return Ok(out);
                }
                mem::swap(&mut self.bufs.line, &mut self.bufs.id);
                self.bufs.line.clear();
                self.id_pending = true;
                Ok(None)
            }
            Field::Retry => {
                let retry = parse_retry(self.bufs.line.as_bytes());
                let out = self.retry_field_parsed(retry, Loc::Line);
                if !matches!(out, Some(Out::InvalidRetry(_))) {
                    self.bufs.line.clear();
                }
                Ok(out)
            }
            Field::Comment => {
                self.release_line = true;
                Ok(Some(Out::Comment(Loc::Line)))
            }
        }
    }

    /// A complete `retry` value.
    fn retry_field(&mut self, value: &[u8], loc: Loc) -> Option<Out> {
        self.retry_field_parsed(parse_retry(value), loc)
    }

    fn retry_field_parsed(&mut self, retry: Option<u64>, loc: Loc) -> Option<Out> {
        match retry {
            // "If the field value consists of only ASCII digits, then interpret the
            // field value as an integer in base ten, and set the event stream's
            // reconnection time to that integer. Otherwise, ignore the field."
            Some(ms) => {
                self.retry = Some(ms);
                Some(Out::Retry(ms))
            }
            None => self.diagnostic(Out::InvalidRetry(loc)),
        }
    }

    /// `out` if diagnostics are on.
    fn diagnostic(&mut self, out: Out) -> Option<Out> {
        if !self.config.diagnostics {
            return None;
        }
        if matches!(
            out,
            Out::UnknownField(Loc::Line)
                | Out::InvalidRetry(Loc::Line)
                | Out::IdContainsNul(Loc::Line)
        ) {
            self.release_line = true;
        }
        Some(out)
    }

    /// "Dispatch the event", for a blank line.
    #[inline]
    fn dispatch(&mut self) -> Option<Out> {
        if mem::take(&mut self.skipping) {
            // The blank line that ends a block too large to keep.
            self.reset_block();
            return None;
        }
        // Step 1: "Set the last event ID string of the event source to the value of
        // the last event ID buffer." This happens even when no event is dispatched.
        // The buffer itself is not reset: `bufs.id` is only read when an `id` field
        // set it in this block, and otherwise equals the last event ID string.
        if mem::take(&mut self.id_pending) {
            mem::swap(&mut self.bufs.id, &mut self.bufs.last_event_id);
        }
        let data = mem::replace(&mut self.data, Held::Empty);
        let event_type = mem::replace(&mut self.event_type, Held::Empty);
        self.data_len = 0;
        self.lf_emitted = false;
        // Step 6: "If the event type buffer has a value other than the empty string,
        // change the type of the newly created event to equal the value of the event
        // type buffer." (`Event::event_type` supplies "message" otherwise.)
        let event_type = match event_type {
            Held::Chunk(a, b) => Loc::Chunk(a, b),
            Held::Stored => Loc::EventType,
            Held::Empty | Held::Streamed => Loc::Empty,
        };
        // Step 7, clearing the data and event type buffers, is done when the next call
        // begins, so that the event can borrow them until then.
        let out = match data {
            // Step 2: "If the data buffer is an empty string, set the data buffer and
            // the event type buffer to the empty string and return."
            Held::Empty => {
                self.bufs.data.clear();
                self.bufs.event_type.clear();
                return None;
            }
            // Step 3, removing the trailing LF, is implicit: lines were joined with LF.
            Held::Chunk(a, b) => Out::Event {
                event_type,
                data: Loc::Chunk(a, b),
            },
            Held::Stored => Out::Event {
                event_type,
                data: Loc::Data,
            },
            Held::Streamed => Out::EventEnd { event_type },
        };
        self.release_event = true;
        Some(out)
    }

    /// Drops the event being assembled because it is too large, and skips to the next
    /// blank line.
    fn overflow(&mut self, limit: usize) -> Error {
        self.skipping = true;
        self.reset_block();
        Error::EventTooLarge { limit }
    }

    /// Forgets the event being assembled; the last event ID buffer goes back to the
    /// last event ID string.
    fn reset_block(&mut self) {
        self.data = Held::Empty;
        self.data_len = 0;
        self.bufs.data.clear();
        self.event_type = Held::Empty;
        self.bufs.event_type.clear();
        self.id_pending = false;
        self.lf_emitted = false;
    }

    /// Empties the data buffer for new data, with the capacity of a buffer that was
    /// moved out, if one was (see `take_event_data`).
    #[inline]
    fn start_data(&mut self) {
        self.bufs.data.clear();
        if self.data_hint > 0 {
            self.restore_data_capacity();
        }
    }

    /// The allocation [`start_data`](Parser::start_data) makes after a move.
    #[cold]
    #[inline(never)]
    fn restore_data_capacity(&mut self) {
        let hint = mem::take(&mut self.data_hint);
        self.bufs.data.reserve_within(hint, self.data_limit);
    }

    /// Copies whatever the pending event borrows from `chunk` into storage.
    #[inline(always)]
    fn spill(&mut self, chunk: &[u8]) {
        // Checked inline: on most calls nothing is borrowed.
        if matches!(self.data, Held::Chunk(..)) || matches!(self.event_type, Held::Chunk(..)) {
            self.spill_borrowed(chunk);
        }
    }

    /// [`spill`](Parser::spill) once something is borrowed.
    #[inline(never)]
    fn spill_borrowed(&mut self, chunk: &[u8]) {
        if let Held::Chunk(a, b) = self.data {
            self.start_data();
            append(&mut self.bufs.data, &chunk[a..b], self.data_limit);
            self.data = Held::Stored;
        }
        if let Held::Chunk(a, b) = self.event_type {
            self.bufs.event_type.clear();
            append(&mut self.bufs.event_type, &chunk[a..b], self.value_limit);
            self.event_type = Held::Stored;
        }
    }

    /// Turns a location into borrowed bytes.
    #[inline]
    pub(crate) fn bytes<'a>(&'a self, loc: Loc, chunk: &'a [u8]) -> &'a [u8] {
        match loc {
            Loc::Chunk(a, b) => chunk.get(a..b).unwrap_or_default(),
            Loc::Data => self.bufs.data.as_bytes(),
            Loc::Line => self.bufs.line.as_bytes(),
            Loc::EventType => self.bufs.event_type.as_bytes(),
            Loc::Newline => b"\n",
            Loc::Empty => b"",
        }
    }

    /// Builds the item that `step` described.
    #[inline]
    pub(crate) fn resolve<'a>(&'a self, out: Out, chunk: &'a [u8]) -> Item<'a> {
        let text = |loc| Text::new(self.bytes(loc, chunk));
        let id = self.bufs.last_event_id.as_bytes();
        match out {
            Out::Event { event_type, data } => Item::Event(Event::new(
                self.bytes(event_type, chunk),
                self.bytes(data, chunk),
                id,
            )),
            Out::EventEnd { event_type } => {
                Item::EventEnd(Event::new(self.bytes(event_type, chunk), b"", id))
            }
            Out::Retry(ms) => Item::Retry(Duration::from_millis(ms)),
            Out::Comment(loc) => Item::Comment(text(loc)),
            Out::Data(loc) => Item::Data(text(loc)),
            Out::UnknownField(loc) => {
                Item::Diagnostic(Diagnostic::UnknownField { name: text(loc) })
            }
            Out::InvalidRetry(loc) => {
                Item::Diagnostic(Diagnostic::InvalidRetry { value: text(loc) })
            }
            Out::IdContainsNul(loc) => {
                Item::Diagnostic(Diagnostic::IdContainsNul { value: text(loc) })
            }
        }
    }
}

/// A chunk lent to a parser: call [`next`](Feed::next) until it returns `None`, then
/// feed the next chunk.
#[derive(Debug)]
pub struct Feed<'p, 'c, S: Storage> {
    parser: &'p mut Parser<S>,
    input: &'c [u8],
}

impl<S: Storage> Feed<'_, '_, S> {
    /// The next item, or `None` once the chunk is used up. Not an `Iterator`: each
    /// item borrows the parser until the next call.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<Item<'_>, Error>> {
        self.parser.parse(&mut self.input).transpose()
    }

    /// The part of the chunk not parsed yet.
    pub fn remaining(&self) -> &[u8] {
        self.input
    }
}

/// Appends to a buffer the parser holds to `limit` bytes, growing it no further than
/// that. The caller has checked the limit, which is within the storage's capacity, so
/// the append cannot fail.
#[inline]
fn append<S: Storage>(storage: &mut S, bytes: &[u8], limit: usize) {
    storage.reserve_within(bytes.len(), limit);
    let _ = storage.try_extend(bytes);
}

/// How many bytes of `rest`, which follows a line's last character, are its line end
/// and a blank line (LF LF or CRLF CRLF): the event dispatches there. 0 otherwise,
/// including when the chunk ends first.
#[inline(always)]
fn blank_after(rest: &[u8]) -> usize {
    if rest.starts_with(b"\n\n") {
        2
    } else if rest.starts_with(b"\r\n\r\n") {
        4
    } else {
        0
    }
}

/// Whether `rest` starts with a whole `data` field's name: `data:`, or `data` and the
/// line's end (so a line that is a `data` field, given with its line end).
#[inline]
fn starts_data_line(rest: &[u8]) -> bool {
    rest.first() == Some(&b'd') && matches!(rest.get(..5), Some(b"data:" | b"data\n" | b"data\r"))
}

/// Splits a non-empty line into (field, end of name, start of value). The field is
/// `None` for an unknown name.
#[inline]
fn classify_line(line: &[u8]) -> (Option<Field>, usize, usize) {
    // "If the line starts with a U+003A COLON character (:): Ignore the line."
    if line[0] == b':' {
        return (Some(Field::Comment), 0, strip_space(line, 1));
    }
    // The fields the spec defines, followed by their colon: recognised by prefix,
    // without searching for the colon (a short search costs more than the compare).
    let known = match line[0] {
        b'd' if line.starts_with(b"data:") => Some((Field::Data, 4)),
        b'e' if line.starts_with(b"event:") => Some((Field::Event, 5)),
        b'i' if line.starts_with(b"id:") => Some((Field::Id, 2)),
        b'r' if line.starts_with(b"retry:") => Some((Field::Retry, 5)),
        _ => None,
    };
    if let Some((field, colon)) = known {
        return (Some(field), colon, strip_space(line, colon + 1));
    }
    let (name_end, value_start) = match memchr(b':', line) {
        Some(colon) => (colon, strip_space(line, colon + 1)),
        None => (line.len(), line.len()),
    };
    (classify_name(&line[..name_end]), name_end, value_start)
}

/// The position of the first CR or LF (the parser's line ends, and the encoder's
/// values split at them). For the few bytes left at the end of a chunk, or fed one
/// at a time, a plain loop beats `memchr2`'s setup.
#[inline]
pub(crate) fn find_line_end(haystack: &[u8]) -> Option<usize> {
    if cfg!(sse_proto_small) || haystack.len() < 16 {
        haystack.iter().position(|&b| b == b'\n' || b == b'\r')
    } else {
        memchr2(b'\n', b'\r', haystack)
    }
}

/// Whether an `id` value contains NUL. IDs are short, and for short values a plain
/// loop beats `memchr`'s setup.
#[inline]
#[allow(clippy::manual_contains)] // `contains` calls core's memchr, which costs more here
fn contains_nul(value: &[u8]) -> bool {
    if cfg!(sse_proto_small) || value.len() < 64 {
        value.iter().any(|&b| b == 0)
    } else {
        memchr(0, value).is_some()
    }
}

/// Skips one space at `at`, if there is one.
#[inline]
fn strip_space(line: &[u8], at: usize) -> usize {
    if line.get(at) == Some(&b' ') {
        at + 1
    } else {
        at
    }
}

/// The field a name stands for. Names are case-sensitive.
fn classify_name(name: &[u8]) -> Option<Field> {
    match name {
        b"data" => Some(Field::Data),
        b"event" => Some(Field::Event),
        b"id" => Some(Field::Id),
        b"retry" => Some(Field::Retry),
        _ => None,
    }
}

/// A `retry` value: ASCII digits only (at least one), base ten; saturates at
/// `u64::MAX`, which is as good as "never" for a reconnection time.
fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    let mut ms: u64 = 0;
    for &b in value {
        if !b.is_ascii_digit() {
            return None;
        }
        ms = ms.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    Some(ms)
}

#[cfg(test)]
mod tests {
    //! Runs without `alloc`: the fixed-buffer parser on its own.

    use super::*;

    /// Parses `chunks` with a 512-byte buffer; returns (type, data, id) of each event,
    /// as fixed arrays so that no allocation is needed.
    fn parse_all(chunks: &[&[u8]], out: &mut [([u8; 16], [u8; 64], [u8; 16]); 4]) -> usize {
        let mut memory = [0u8; 512];
        let mut parser = Parser::from_slice(Config::new(), &mut memory);
        let mut n = 0;
        for chunk in chunks {
            let mut input = *chunk;
            while let Some(item) = parser.parse(&mut input).unwrap() {
                if let Item::Event(e) = item {
                    let (t, d, i) = &mut out[n];
                    t[..e.event_type().len()].copy_from_slice(e.event_type().as_bytes());
                    d[..e.data().len()].copy_from_slice(e.data().as_bytes());
                    i[..e.last_event_id().len()].copy_from_slice(e.last_event_id().as_bytes());
                    n += 1;
                }
            }
        }
        n
    }

    #[test]
    fn fixed_buffer_parser_is_chunking_independent() {
        let input: &[u8] = b"\xEF\xBB\xBFid: 7\r\nevent: tick\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\r: x\ndata\n\n";
        let mut whole = [([0u8; 16], [0u8; 64], [0u8; 16]); 4];
        assert_eq!(parse_all(&[input], &mut whole), 3);
        assert_eq!(&whole[0].0[..4], b"tick");
        assert_eq!(&whole[0].1[..3], b"a\nb");
        assert_eq!(&whole[0].2[..1], b"7");
        assert_eq!(&whole[1].0[..7], b"message");
        assert_eq!(&whole[1].1[..1], b"c");
        for split in 0..=input.len() {
            let mut parts = [([0u8; 16], [0u8; 64], [0u8; 16]); 4];
            let (a, b) = input.split_at(split);
            assert_eq!(parse_all(&[a, b], &mut parts), 3, "split at {split}");
            assert_eq!(parts, whole, "split at {split}");
        }
    }

    #[test]
    fn retry_saturates_and_rejects_non_digits() {
        assert_eq!(parse_retry(b"0"), Some(0));
        assert_eq!(parse_retry(b"0001000"), Some(1000));
        assert_eq!(parse_retry(b"99999999999999999999999"), Some(u64::MAX));
        for bad in [&b""[..], b" 1", b"+1", b"-1", b"1.5", b"1a", b"\xd9\xa1"] {
            assert_eq!(parse_retry(bad), None, "{bad:?}");
        }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod split_data {
    use super::*;

    /// Large data split off with its event leaves the parser's buffer to be asked
    /// for again in full when the next data is stored: one allocation, even while
    /// the event holds the old buffer.
    #[test]
    fn the_next_buffer_is_asked_for_in_full() {
        let mut parser = Parser::new().into_bytes_mut();
        let value = "x".repeat(10_000);
        let input = alloc::format!("data: {value}\n\n");
        let (first, second) = input.as_bytes().split_at(100);
        let mut rest = first;
        assert!(parser.parse(&mut rest).unwrap().is_none());
        let mut rest = second;
        let Some(Item::Event(event)) = parser.parse(&mut rest).unwrap() else {
            panic!("the event");
        };
        assert_eq!(event.data().len(), 10_000);
        let split = parser.split_event(None, false, false);
        assert_eq!(&split.text[..split.data], value.as_bytes());
        let mut rest: &[u8] = b"data: next";
        assert!(parser.parse(&mut rest).unwrap().is_none());
        assert!(
            parser.bufs.data.capacity() >= 10_000,
            "room for the next large event, at once"
        );
        assert_eq!(&parser.bufs.data[..], b"next");
        let mut rest: &[u8] = b"\n\n";
        let Some(Item::Event(event)) = parser.parse(&mut rest).unwrap() else {
            panic!("the next event");
        };
        assert_eq!(event.data(), "next");
        drop(split);
    }
}
