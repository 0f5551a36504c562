//! The parser under hostile input: a differential check.
//!
//! One input ([`Case`]) is a configuration, a chunking and a stream. The stream goes
//! through a growable [`Parser`] whole and in the chunks, through an
//! [`OwnedParser`](sse_proto::OwnedParser) item by item and batch by batch, through
//! a [`Sharer`](sse_proto::Sharer) owning a parser's items (as the client does),
//! through an [`EventReader`](sse_proto::EventReader) reading the chunks (its items,
//! its owned events, its batches), and, when the case asks, a
//! [`Parser::from_slice`] parser whole and in the chunks. Then:
//!
//! - nothing panics, and no call loops: `parse` returns `Ok(None)` only with the
//!   chunk used up, and each chunk yields a bounded number of items;
//! - the chunking changes nothing: items (errors included, streamed data pieces
//!   merged), the end-of-stream result of `finish`, the last event ID and the
//!   reconnection time are the same; the owned items are those items with their
//!   text decoded (U+FFFD for invalid UTF-8), and the batches hold their events;
//! - every item respects the limits and the configuration: no data, type, ID or
//!   comment over its limit, no line break where none can be, errors only with the
//!   limit in force, comments, pieces and diagnostics only when asked for;
//! - a run without limit errors is exactly what the naive
//!   [`reference`](mod@crate::reference) parser says;
//! - the fixed-buffer parser, when it hits no limit, says exactly what the growable
//!   one says;
//! - after `finish`, the parser reads a second stream exactly as a new parser that
//!   starts from the last event ID would.

use std::fmt;

use sse_proto::{
    Config, DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_FIELD_SIZE, Diagnostic, Error, Item, Parser,
    Storage,
};

use super::cut;
use crate::{Outcome, reference};

/// Bytes before the stream: flags, limit, fixed-buffer size, chunk-length count.
pub const HEADER: usize = 5;

/// The `limit` value that means [`DEFAULT_MAX_EVENT_SIZE`].
pub const DEFAULT_LIMIT: u16 = u16::MAX;

const COMMENTS: u8 = 1;
const DIAGNOSTICS: u8 = 2;
const STREAM_DATA: u8 = 4;
const FIXED_BUFFER: u8 = 8;
const HALF_FIELDS: u8 = 16;

/// One fuzz input for the parser. Its byte layout (what the fuzzer mutates, and what
/// [`encode`](Case::encode) writes):
///
/// | bytes | meaning |
/// |---|---|
/// | 0 | flags: 1 comments, 2 diagnostics, 4 `stream_data`, 8 also run `Parser::from_slice`, 16 `max_field_size` half of `max_event_size` (else the default) |
/// | 1-2 | `max_event_size`, little-endian; 65535 means the default (16 MiB) |
/// | 3 | the `from_slice` buffer size, in units of 8 bytes (0 to 2040 bytes) |
/// | 4 | `n`: how many chunk lengths follow (taken modulo 16) |
/// | `n` bytes | chunk lengths, used in turn (see [`cut`]); none means one byte per chunk |
/// | the rest | the stream |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case<'a> {
    /// The parser settings.
    pub config: Config,
    /// Also run a fixed-buffer parser over a buffer of this many bytes.
    pub fixed_buffer: Option<usize>,
    /// The chunking, for [`cut`].
    pub chunk_lens: &'a [u8],
    /// The event stream.
    pub stream: &'a [u8],
}

impl<'a> Case<'a> {
    /// Reads a case; `None` if `data` is shorter than its header.
    pub fn decode(data: &'a [u8]) -> Option<Self> {
        let (header, rest) = data.split_first_chunk::<HEADER>()?;
        let [flags, lo, hi, buffer, n] = *header;
        let limit = u16::from_le_bytes([lo, hi]);
        let n = usize::from(n % 16);
        if rest.len() < n {
            return None;
        }
        let (chunk_lens, stream) = rest.split_at(n);
        let limit = if limit == DEFAULT_LIMIT {
            DEFAULT_MAX_EVENT_SIZE
        } else {
            usize::from(limit)
        };
        let field_limit = if flags & HALF_FIELDS != 0 {
            limit / 2
        } else {
            DEFAULT_MAX_FIELD_SIZE
        };
        let config = Config::new()
            .max_event_size(limit)
            .max_field_size(field_limit)
            .comments(flags & COMMENTS != 0)
            .diagnostics(flags & DIAGNOSTICS != 0)
            .stream_data(flags & STREAM_DATA != 0);
        Some(Case {
            config,
            fixed_buffer: (flags & FIXED_BUFFER != 0).then_some(usize::from(buffer) * 8),
            chunk_lens,
            stream,
        })
    }

    /// The bytes [`decode`](Case::decode) reads back as this case. The limit is
    /// capped at 65534 unless it is the default, the buffer size rounded down to a
    /// multiple of 8 (at most 2040) and at most 15 chunk lengths are kept.
    pub fn encode(&self) -> Vec<u8> {
        let c = &self.config;
        let mut flags = 0;
        for (on, bit) in [
            (c.comments, COMMENTS),
            (c.diagnostics, DIAGNOSTICS),
            (c.stream_data, STREAM_DATA),
            (self.fixed_buffer.is_some(), FIXED_BUFFER),
            (
                c.max_field_size != DEFAULT_MAX_FIELD_SIZE
                    && c.max_field_size == c.max_event_size / 2,
                HALF_FIELDS,
            ),
        ] {
            if on {
                flags |= bit;
            }
        }
        let limit = if c.max_event_size == DEFAULT_MAX_EVENT_SIZE {
            DEFAULT_LIMIT
        } else {
            u16::try_from(c.max_event_size).map_or(DEFAULT_LIMIT - 1, |l| l.min(DEFAULT_LIMIT - 1))
        };
        let buffer = u8::try_from(self.fixed_buffer.unwrap_or(0) / 8).unwrap_or(u8::MAX);
        let lens = &self.chunk_lens[..self.chunk_lens.len().min(15)];
        let [lo, hi] = limit.to_le_bytes();
        let mut out = vec![flags, lo, hi, buffer, lens.len() as u8];
        out.extend_from_slice(lens);
        out.extend_from_slice(self.stream);
        out
    }

    /// Runs every check; panics on the first that fails.
    pub fn check(&self) {
        let config = self.config;
        let chunks = cut(self.stream, self.chunk_lens);
        let limits = Limits::growable(&config);

        let mut parser = Parser::with_config(config);
        let whole = run(&mut parser, &[self.stream], limits);
        let split = run(&mut Parser::with_config(config), &chunks, limits);
        self.same("the stream whole", &whole, "in chunks", &split);
        let mut read = run_reader(config, &chunks, limits);
        read.discarded = whole.discarded; // EventReader keeps that to itself
        self.same("the stream whole", &whole, "through EventReader", &read);

        // The owned paths: text decoded as the spec decodes it, the same items.
        let decoded = whole.decoded();
        let pieces = shared(&chunks);
        let (owned, skipped) = run_owned(config, &pieces);
        self.same(
            "the stream whole, decoded",
            &decoded,
            "through OwnedParser::next",
            &owned,
        );
        let shared = run_shared(config, &pieces);
        self.same(
            "the stream whole, decoded",
            &decoded,
            "through a Sharer",
            &shared,
        );
        if !config.stream_data {
            let want = (owned.events(), skipped);
            self.batches_hold_the_events(config, &pieces, &want);
            self.reader_hands_out_the_events(config, &chunks, &want);
        }

        if !whole.hit_a_limit() {
            self.matches_reference(&whole);
        }

        // A second stream on the same parser, after `finish`, is read as a new parser
        // that starts from the last event ID reads it.
        let again = run(&mut parser, &[self.stream], limits);
        let mut fresh = Parser::with_config(config);
        fresh
            .set_last_event_id(&whole.last_event_id.0)
            .unwrap_or_else(|e| self.fail(format_args!("last event ID not accepted back: {e}")));
        let mut expected = run(&mut fresh, &[self.stream], limits);
        expected.retry = expected.retry.or(whole.retry);
        self.same(
            "a second stream after finish()",
            &again,
            "a new parser",
            &expected,
        );

        if let Some(size) = self.fixed_buffer {
            let limits = Limits::fixed(&config, size);
            let (mut a, mut b) = (vec![0u8; size], vec![0u8; size]);
            let fixed = run(
                &mut Parser::from_slice(config, &mut a),
                &[self.stream],
                limits,
            );
            let fixed_split = run(&mut Parser::from_slice(config, &mut b), &chunks, limits);
            self.same(
                "from_slice, whole",
                &fixed,
                "from_slice, in chunks",
                &fixed_split,
            );
            // Smaller limits, else the same parser. (Diagnostics differ: unknown
            // field names over the value limit are not reported.)
            if !fixed.hit_a_limit() && !config.diagnostics {
                self.same("from_slice", &fixed, "the growable parser", &whole);
            }
        }
    }

    /// `OwnedParser::next_batch_into`, one batch reused, holds the events that
    /// `next` handed out, and counts as many skipped (`want`).
    fn batches_hold_the_events(
        &self,
        config: Config,
        chunks: &[bytes::Bytes],
        want: &(Vec<&Seen>, u64),
    ) {
        let mut parser = sse_proto::OwnedParser::new(Parser::with_config(config));
        let mut batch = sse_proto::EventBatch::default();
        let mut events = Vec::new();
        for chunk in chunks {
            parser.push(chunk.clone());
            while parser.next_batch_into(&mut batch) {
                if batch.is_empty() {
                    self.fail(format_args!("an empty batch"));
                }
                for event in &batch {
                    let held = event.into_owned();
                    if event != held {
                        self.fail(format_args!("{event:?} is not {held:?} once owned"));
                    }
                    events.push(seen_event(&held));
                }
            }
        }
        parser.finish();
        self.same_events("OwnedParser's batches", &events, parser.skipped(), want);
    }

    /// `EventReader`, reading the chunks into its own buffer (memory it takes back
    /// once the events are dropped), hands out the events `OwnedParser::next`
    /// handed out, and counts as many skipped (`want`), one at a time and again in
    /// batches, one batch reused.
    fn reader_hands_out_the_events(
        &self,
        config: Config,
        chunks: &[&[u8]],
        want: &(Vec<&Seen>, u64),
    ) {
        let mut reader = sse_proto::EventReader::with_config(ChunkReader(chunks.iter()), config);
        let mut events = Vec::new();
        for event in reader.by_ref() {
            let event = event.unwrap_or_else(|e| self.fail(format_args!("EventReader: {e}")));
            events.push(seen_event(&event));
        }
        self.same_events("EventReader's events", &events, reader.skipped(), want);
        let mut reader = sse_proto::EventReader::with_config(ChunkReader(chunks.iter()), config);
        let (mut batch, mut events) = (sse_proto::EventBatch::default(), Vec::new());
        while reader
            .next_batch_into(&mut batch)
            .unwrap_or_else(|e| self.fail(format_args!("EventReader: {e}")))
        {
            events.extend(batch.iter().map(|event| seen_event(&event.into_owned())));
        }
        self.same_events("EventReader's batches", &events, reader.skipped(), want);
    }

    /// Fails unless `events`, with `skipped` skipped, are the events
    /// `OwnedParser::next` handed out and how many it skipped (`want`).
    fn same_events(&self, what: &str, events: &[Seen], skipped: u64, want: &(Vec<&Seen>, u64)) {
        if !events.iter().eq(want.0.iter().copied()) || skipped != want.1 {
            self.fail(format_args!(
                "{what} and OwnedParser::next differ\n  {what}: {events:?}, {skipped} skipped\n  next: {:?}, {} skipped",
                want.0, want.1
            ));
        }
    }

    /// A run without limit errors against the naive reference parser.
    fn matches_reference(&self, trace: &Trace) {
        let mut items = Vec::new();
        let mut data = Vec::new();
        for seen in &trace.items {
            match seen {
                Seen::Event {
                    event_type,
                    data,
                    id,
                } => items.push(outcome_event(event_type, data, id)),
                Seen::Data(piece) => data.extend_from_slice(&piece.0),
                Seen::EventEnd { event_type, id } => items.push(outcome_event(
                    event_type,
                    &Bytes(std::mem::take(&mut data)),
                    id,
                )),
                Seen::Retry(ms) => items.push(Outcome::Retry(*ms)),
                Seen::Comment(text) => items.push(Outcome::Comment(text.lossy())),
                Seen::UnknownField(_) | Seen::InvalidRetry(_) | Seen::IdContainsNul(_) => {}
                Seen::Error(e) => self.fail(format_args!("error {e} in a run without errors")),
            }
        }
        let mut expected = reference::parse(self.stream, "");
        if !self.config.comments {
            expected
                .items
                .retain(|item| !matches!(item, Outcome::Comment(_)));
        }
        let last_event_id = trace.last_event_id.lossy();
        if items != expected.items
            || last_event_id != expected.last_event_id
            || trace.retry != expected.retry
        {
            self.fail(format_args!(
                "differs from the reference parser\n  parser:    {items:?}, last event ID {last_event_id:?}, retry {:?}\n  reference: {:?}, last event ID {:?}, retry {:?}",
                trace.retry, expected.items, expected.last_event_id, expected.retry
            ));
        }
    }

    fn same(&self, what: &str, a: &Trace, other: &str, b: &Trace) {
        if a != b {
            self.fail(format_args!(
                "{what} and {other} differ\n  {what}:\n{a}\n  {other}:\n{b}"
            ));
        }
    }

    fn fail(&self, message: fmt::Arguments<'_>) -> ! {
        panic!(
            "{message}\n  config: {:?}\n  from_slice buffer: {:?}\n  chunk lengths: {:?}\n  stream: \"{}\"",
            self.config,
            self.fixed_buffer,
            self.chunk_lens,
            self.stream.escape_ascii()
        )
    }
}

/// Streams longer than this are left out of the seeds: the fuzzer works best on short
/// inputs, and the conformance tests cover the long vectors.
pub const SEED_MAX: usize = 4096;

/// Seed inputs for the parser target, named: every conformance vector's stream (up to
/// [`SEED_MAX`] bytes) in three settings: as the vector asks, one byte per chunk;
/// with every option on and a fixed buffer, in uneven chunks; and under tiny limits.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    for vector in crate::vectors() {
        if vector.input.len() > SEED_MAX {
            continue;
        }
        let config = vector.config.parser_config();
        let stream = &vector.input[..];
        let cases = [
            (
                "bytewise",
                Case {
                    config,
                    fixed_buffer: None,
                    chunk_lens: &[],
                    stream,
                },
            ),
            (
                "options",
                Case {
                    config: config.diagnostics(true).stream_data(true),
                    fixed_buffer: Some(1024),
                    chunk_lens: &[5, 0, 1, 64],
                    stream,
                },
            ),
            (
                "tiny",
                Case {
                    config: config.max_event_size(8),
                    fixed_buffer: Some(128),
                    chunk_lens: &[2],
                    stream,
                },
            ),
            (
                "fields",
                Case {
                    config: config.max_event_size(16).max_field_size(8).comments(true),
                    fixed_buffer: None,
                    chunk_lens: &[3],
                    stream,
                },
            ),
        ];
        for (suffix, case) in cases {
            seeds.push((format!("{}-{suffix}", vector.name), case.encode()));
        }
    }
    seeds
}

/// Runs the parser check on a fuzz input (ignored if shorter than the header).
pub fn check(data: &[u8]) {
    if let Some(case) = Case::decode(data) {
        case.check();
    }
}

fn outcome_event(event_type: &Bytes, data: &Bytes, id: &Bytes) -> Outcome {
    Outcome::Event {
        event_type: event_type.lossy(),
        data: data.lossy(),
        id: id.lossy(),
    }
}

/// The limits a parser works under.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// An event's data.
    data: usize,
    /// A single `event`, `id`, `retry` or comment value.
    value: usize,
}

impl Limits {
    fn growable(config: &Config) -> Self {
        Limits {
            data: config.max_event_size,
            value: config.max_event_size.min(config.max_field_size),
        }
    }

    /// As `Parser::from_slice` documents: four regions of `size / 8` bytes (at most
    /// 4 KiB each) for values, the rest for data.
    fn fixed(config: &Config, size: usize) -> Self {
        let small = (size / 8).min(4096);
        Limits {
            data: config.max_event_size.min(size - 4 * small),
            value: config.max_event_size.min(config.max_field_size).min(small),
        }
    }
}

/// Bytes, shown as an escaped string.
#[derive(Clone, PartialEq, Eq, Default)]
struct Bytes(Vec<u8>);

impl Bytes {
    fn lossy(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

/// An item, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Event {
        event_type: Bytes,
        data: Bytes,
        id: Bytes,
    },
    Retry(u64),
    Comment(Bytes),
    /// Consecutive streamed data pieces, merged: how data is cut into pieces depends
    /// on the chunks.
    Data(Bytes),
    EventEnd {
        event_type: Bytes,
        id: Bytes,
    },
    UnknownField(Bytes),
    InvalidRetry(Bytes),
    IdContainsNul(Bytes),
    Error(Error),
}

/// Everything one run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Trace {
    items: Vec<Seen>,
    /// What `finish` returned.
    discarded: bool,
    last_event_id: Bytes,
    retry: Option<u64>,
}

impl Trace {
    fn hit_a_limit(&self) -> bool {
        self.items.iter().any(|i| matches!(i, Seen::Error(_)))
    }

    /// Its events.
    fn events(&self) -> Vec<&Seen> {
        let is_event = |item: &&Seen| matches!(item, Seen::Event { .. });
        self.items.iter().filter(is_event).collect()
    }

    /// The trace with its text decoded as owned items decode it (U+FFFD for
    /// invalid UTF-8, each field by itself); streamed data pieces stay bytes.
    fn decoded(&self) -> Trace {
        let text = |bytes: &Bytes| Bytes(bytes.lossy().into_bytes());
        let items = self
            .items
            .iter()
            .map(|item| match item {
                Seen::Event {
                    event_type,
                    data,
                    id,
                } => Seen::Event {
                    event_type: text(event_type),
                    data: text(data),
                    id: text(id),
                },
                Seen::Comment(comment) => Seen::Comment(text(comment)),
                Seen::EventEnd { event_type, id } => Seen::EventEnd {
                    event_type: text(event_type),
                    id: text(id),
                },
                Seen::UnknownField(name) => Seen::UnknownField(text(name)),
                Seen::InvalidRetry(value) => Seen::InvalidRetry(text(value)),
                Seen::IdContainsNul(value) => Seen::IdContainsNul(text(value)),
                other => other.clone(),
            })
            .collect();
        Trace {
            items,
            ..self.clone()
        }
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in &self.items {
            writeln!(f, "    {item:?}")?;
        }
        write!(
            f,
            "    finish: {}, last event ID {:?}, retry {:?}",
            self.discarded, self.last_event_id, self.retry
        )
    }
}

/// Feeds `chunks` to `parser`, checking each item as it comes, then finishes.
fn run<S: Storage>(parser: &mut Parser<S>, chunks: &[&[u8]], limits: Limits) -> Trace {
    let config = *parser.config();
    let mut items: Vec<Seen> = Vec::new();
    for chunk in chunks {
        let mut input: &[u8] = chunk;
        // Each line end yields at most a couple of items, and so does the end of a
        // chunk; anything more is a loop.
        let budget = 2 * chunk.len() + 2;
        let mut count = 0;
        loop {
            let seen = match parser.parse(&mut input) {
                Ok(None) => {
                    assert!(input.is_empty(), "Ok(None) before the chunk was used up");
                    break;
                }
                Ok(Some(item)) => owned(item),
                Err(e) => Seen::Error(e),
            };
            count += 1;
            assert!(
                count <= budget,
                "{count} items from a {}-byte chunk: the parser loops",
                chunk.len()
            );
            check_item(&seen, parser, &config, limits);
            record(&mut items, seen);
        }
    }
    let discarded = parser.finish();
    Trace {
        items,
        discarded,
        last_event_id: Bytes(parser.last_event_id().as_bytes().to_vec()),
        retry: parser.retry().map(crate::millis),
    }
}

/// The chunks, one per `read`.
struct ChunkReader<'a>(std::slice::Iter<'a, &'a [u8]>);

impl std::io::Read for ChunkReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // An empty read is the end of the stream: skip empty chunks.
        let Some(chunk) = self.0.by_ref().find(|c| !c.is_empty()) else {
            return Ok(0);
        };
        assert!(
            chunk.len() <= buf.len(),
            "chunks are shorter than the buffer"
        );
        buf[..chunk.len()].copy_from_slice(chunk);
        Ok(chunk.len())
    }
}

/// Feeds `chunks` to an [`EventReader`](sse_proto::EventReader), one per `read`.
fn run_reader(config: Config, chunks: &[&[u8]], limits: Limits) -> Trace {
    let mut reader = sse_proto::EventReader::with_config(ChunkReader(chunks.iter()), config);
    let mut items: Vec<Seen> = Vec::new();
    let budget = budget(chunks);
    loop {
        let seen = match reader.next_item() {
            Ok(None) => break,
            Ok(Some(item)) => owned(item),
            Err(sse_proto::ReadError::Limit(e)) => Seen::Error(e),
            Err(e) => panic!("EventReader: {e}"),
        };
        assert!(items.len() < budget, "EventReader loops");
        check_item(&seen, reader.parser(), &config, limits);
        record(&mut items, seen);
    }
    Trace {
        items,
        discarded: false,
        last_event_id: Bytes(reader.parser().last_event_id().as_bytes().to_vec()),
        retry: reader.parser().retry().map(crate::millis),
    }
}

/// The chunks as slices of one shared buffer, as an HTTP client's body chunks
/// often are.
fn shared(chunks: &[&[u8]]) -> Vec<bytes::Bytes> {
    let all = bytes::Bytes::from(chunks.concat());
    let mut at = 0;
    let slice = |chunk: &&[u8]| {
        at += chunk.len();
        all.slice(at - chunk.len()..at)
    };
    chunks.iter().map(slice).collect()
}

/// How many items a run over `chunks` may give before it is taken to loop.
fn budget(chunks: &[impl AsRef<[u8]>]) -> usize {
    2 * chunks.iter().map(|c| c.as_ref().len()).sum::<usize>() + 2 * chunks.len() + 2
}

/// Feeds `chunks` to an [`OwnedParser`](sse_proto::OwnedParser), item by item; the
/// trace and how many items it skipped.
fn run_owned(config: Config, chunks: &[bytes::Bytes]) -> (Trace, u64) {
    let mut parser = sse_proto::OwnedParser::new(Parser::with_config(config));
    let mut items: Vec<Seen> = Vec::new();
    let (budget, mut count) = (budget(chunks), 0);
    for chunk in chunks {
        parser.push(chunk.clone());
        while let Some(item) = parser.next() {
            count += 1;
            assert!(count <= budget, "OwnedParser loops");
            record(&mut items, seen_owned(item));
        }
    }
    let discarded = parser.finish();
    let trace = Trace {
        items,
        discarded,
        last_event_id: Bytes(parser.parser().last_event_id().as_bytes().to_vec()),
        retry: parser.parser().retry().map(crate::millis),
    };
    (trace, parser.skipped())
}

/// `item` as the trace records it.
fn seen_owned(item: sse_proto::OwnedItem) -> Seen {
    use sse_proto::{OwnedDiagnostic, OwnedItem};
    let text = |text: &str| Bytes(text.as_bytes().to_vec());
    match item {
        OwnedItem::Event(event) => seen_event(&event),
        OwnedItem::Retry(time) => Seen::Retry(crate::millis(time)),
        OwnedItem::Comment(comment) => Seen::Comment(text(&comment)),
        OwnedItem::Data(piece) => Seen::Data(Bytes(piece.to_vec())),
        OwnedItem::EventEnd(event) => Seen::EventEnd {
            event_type: text(event.event_type()),
            id: text(event.last_event_id()),
        },
        OwnedItem::Diagnostic(OwnedDiagnostic::UnknownField { name }) => {
            Seen::UnknownField(text(&name))
        }
        OwnedItem::Diagnostic(OwnedDiagnostic::InvalidRetry { value }) => {
            Seen::InvalidRetry(text(&value))
        }
        OwnedItem::Diagnostic(OwnedDiagnostic::IdContainsNul { value }) => {
            Seen::IdContainsNul(text(&value))
        }
        OwnedItem::Diagnostic(other) => panic!("a diagnostic not known here: {other:?}"),
        OwnedItem::Skipped(e) => Seen::Error(e),
        other => panic!("an item not known here: {other:?}"),
    }
}

/// Adds `seen` to `items`, a streamed data piece merged into the one before it:
/// how data is cut into pieces depends on the chunks.
fn record(items: &mut Vec<Seen>, seen: Seen) {
    match (items.last_mut(), seen) {
        (Some(Seen::Data(merged)), Seen::Data(piece)) => merged.0.extend(piece.0),
        (_, seen) => items.push(seen),
    }
}

/// Feeds `chunks` to a [`Parser`], each item owned by a
/// [`Sharer`](sse_proto::Sharer) as the client owns them: events with the range
/// the call read, other items as they are.
fn run_shared(config: Config, chunks: &[bytes::Bytes]) -> Trace {
    let (mut parser, mut sharer) = (Parser::with_config(config), sse_proto::Sharer::new());
    let mut items: Vec<Seen> = Vec::new();
    let (budget, mut count) = (budget(chunks), 0);
    for chunk in chunks {
        let mut pos = 0;
        loop {
            let mut input = &chunk[pos..];
            let parsed = parser.parse(&mut input);
            let read = pos..chunk.len() - input.len();
            pos = read.end;
            let seen = match parsed {
                Ok(None) => break,
                Ok(Some(Item::Event(event))) => {
                    seen_event(&sharer.share_event_in(chunk, read, event))
                }
                Ok(Some(item)) => seen_owned(sharer.share(chunk, item)),
                Err(e) => Seen::Error(e),
            };
            count += 1;
            assert!(count <= budget, "the parser loops");
            record(&mut items, seen);
        }
    }
    Trace {
        items,
        discarded: parser.finish(),
        last_event_id: Bytes(parser.last_event_id().as_bytes().to_vec()),
        retry: parser.retry().map(crate::millis),
    }
}

/// An owned event as the trace records it.
fn seen_event(event: &sse_proto::OwnedEvent) -> Seen {
    let text = |text: &str| Bytes(text.as_bytes().to_vec());
    Seen::Event {
        event_type: text(event.event_type()),
        data: text(event.data()),
        id: text(event.last_event_id()),
    }
}

fn owned(item: Item<'_>) -> Seen {
    let bytes = |text: sse_proto::Text<'_>| Bytes(text.as_bytes().to_vec());
    match item {
        Item::Event(e) => Seen::Event {
            event_type: bytes(e.event_type()),
            data: bytes(e.data()),
            id: bytes(e.last_event_id()),
        },
        Item::Retry(time) => Seen::Retry(crate::millis(time)),
        Item::Comment(text) => Seen::Comment(bytes(text)),
        Item::Data(text) => Seen::Data(bytes(text)),
        Item::EventEnd(e) => Seen::EventEnd {
            event_type: bytes(e.event_type()),
            id: bytes(e.last_event_id()),
        },
        Item::Diagnostic(Diagnostic::UnknownField { name }) => Seen::UnknownField(bytes(name)),
        Item::Diagnostic(Diagnostic::InvalidRetry { value }) => Seen::InvalidRetry(bytes(value)),
        Item::Diagnostic(Diagnostic::IdContainsNul { value }) => Seen::IdContainsNul(bytes(value)),
        other => panic!("an item this check does not know: {other:?}"),
    }
}

fn has_line_break(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| b == b'\r' || b == b'\n')
}

/// The rules every single item obeys.
fn check_item<S: Storage>(seen: &Seen, parser: &Parser<S>, config: &Config, limits: Limits) {
    let last_id = parser.last_event_id().as_bytes();
    assert!(
        last_id.len() <= limits.value,
        "last event ID of {} bytes, over the limit {}",
        last_id.len(),
        limits.value
    );
    assert!(
        !has_line_break(last_id) && !last_id.contains(&0),
        "last event ID {:?} has CR, LF or NUL",
        last_id.escape_ascii().to_string()
    );
    let event = |event_type: &Bytes, id: &Bytes| {
        assert!(
            !event_type.0.is_empty(),
            "empty event type (not \"message\")"
        );
        assert!(
            event_type.0.len() <= limits.value || event_type.0 == b"message",
            "event type over the limit"
        );
        assert!(!has_line_break(&event_type.0), "line break in event type");
        assert_eq!(id.0, last_id, "event's last event ID is not the parser's");
    };
    match seen {
        Seen::Event {
            event_type,
            data,
            id,
        } => {
            assert!(!config.stream_data, "a whole event in streaming mode");
            assert!(
                data.0.len() <= limits.data,
                "{} bytes of data over the limit {}",
                data.0.len(),
                limits.data
            );
            assert!(!data.0.contains(&b'\r'), "CR in data");
            event(event_type, id);
        }
        Seen::EventEnd { event_type, id } => {
            assert!(config.stream_data, "EventEnd without streaming mode");
            event(event_type, id);
        }
        Seen::Data(piece) => {
            assert!(config.stream_data, "a data piece without streaming mode");
            assert!(!piece.0.is_empty(), "an empty data piece");
            assert!(!piece.0.contains(&b'\r'), "CR in a data piece");
        }
        Seen::Comment(text) => {
            assert!(config.comments, "a comment without comments on");
            assert!(text.0.len() <= limits.value, "comment over the limit");
            assert!(!has_line_break(&text.0), "line break in a comment");
        }
        Seen::Retry(ms) => assert_eq!(
            parser.retry().map(crate::millis),
            Some(*ms),
            "retry not kept"
        ),
        Seen::UnknownField(name) => {
            assert!(config.diagnostics, "a diagnostic without diagnostics on");
            assert!(
                name.0.len() <= limits.value,
                "unknown field name over the limit"
            );
            assert!(
                !matches!(&name.0[..], b"data" | b"event" | b"id" | b"retry"),
                "a known field reported as unknown: {name:?}"
            );
            assert!(
                !name.0.contains(&b':') && !has_line_break(&name.0),
                "not a field name: {name:?}"
            );
        }
        Seen::InvalidRetry(value) => {
            assert!(config.diagnostics, "a diagnostic without diagnostics on");
            assert!(
                value.0.is_empty() || !value.0.iter().all(u8::is_ascii_digit),
                "a valid retry value reported invalid: {value:?}"
            );
        }
        Seen::IdContainsNul(value) => {
            assert!(config.diagnostics, "a diagnostic without diagnostics on");
            assert!(value.0.contains(&0), "no NUL in {value:?}");
        }
        Seen::Error(Error::EventTooLarge { limit }) => assert!(
            *limit == limits.data || *limit == limits.value,
            "EventTooLarge with limit {limit}, not one in force ({limits:?})"
        ),
        Seen::Error(Error::CommentTooLarge { limit }) => {
            assert!(config.comments, "CommentTooLarge without comments on");
            assert_eq!(*limit, limits.value, "CommentTooLarge limit");
        }
        Seen::Error(other) => panic!("an error this check does not know: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_decode_is_the_same_case() {
        let case = Case {
            config: Config::new()
                .max_event_size(300)
                .max_field_size(150)
                .comments(true)
                .stream_data(true),
            fixed_buffer: Some(512),
            chunk_lens: &[1, 0, 9],
            stream: b"data: x\n\n",
        };
        let bytes = case.encode();
        assert_eq!(Case::decode(&bytes), Some(case));
        let default = Case {
            config: Config::new(),
            fixed_buffer: None,
            chunk_lens: &[],
            stream: b"",
        };
        assert_eq!(Case::decode(&default.encode()), Some(default));
        assert_eq!(Case::decode(&[0, 0, 0, 0]), None);
        assert_eq!(Case::decode(&[0, 0, 0, 0, 3, 1]), None);
    }

    #[test]
    fn a_plain_case_passes() {
        Case {
            config: Config::new().comments(true).diagnostics(true),
            fixed_buffer: Some(64),
            chunk_lens: &[3],
            stream: b"\xEF\xBB\xBFid: 1\r\nretry: 7\n: hi\nfoo\ndata: a\r\rdata: b\n",
        }
        .check();
    }
}
