//! Spec-derived test vectors for Server-Sent Events, and the runner that feeds them
//! through every layer of the stack.
//!
//! The vectors (`vectors/*.json`, format in `vectors/README.md`) were written from the
//! WHATWG HTML Standard's "Parsing an event stream" and "Interpreting an event
//! stream". A layer under test is any function that takes a parser configuration and
//! the stream as a list of chunks and reports what came out ([`Run`]). Checking a
//! layer is one line:
//!
//! ```
//! conformance::assert_conformance("sse-proto Parser", conformance::proto_layer);
//! ```
//!
//! Every vector is fed whole, one byte at a time, split at every single point (for
//! inputs up to [`EVERY_SPLIT_MAX`] bytes; sampled above), and in seeded random
//! chunkings. A failure names the vector and the chunking and shows expected and
//! actual items side by side.
//!
//! [`connection`] does the same for the client's processing model: scripted
//! scenarios (`vectors/connection/*.json`) of responses, body bytes, errors and timer
//! firings, with the requests, events and deadlines expected after each.

use std::fmt::{self, Write as _};

use serde_json::Value;
use sse_proto::{Config, Item, Parser};
use std::future::Future;

/// A reconnection time in whole milliseconds, as vectors and `sse decode` write it
/// (saturating).
pub fn millis(time: std::time::Duration) -> u64 {
    u64::try_from(time.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(feature = "adapters")]
pub mod adapters;
pub mod connection;
pub mod fuzz;
pub mod peak;
pub mod reference;

/// Inputs up to this many bytes are split at every point; longer ones at a sample.
pub const EVERY_SPLIT_MAX: usize = 4096;

/// The vector files, compiled in so that any crate can run them without paths.
pub const FILES: &[(&str, &str)] = &[
    (
        "line-endings.json",
        include_str!("../vectors/line-endings.json"),
    ),
    ("fields.json", include_str!("../vectors/fields.json")),
    ("data.json", include_str!("../vectors/data.json")),
    (
        "event-type.json",
        include_str!("../vectors/event-type.json"),
    ),
    ("id.json", include_str!("../vectors/id.json")),
    ("retry.json", include_str!("../vectors/retry.json")),
    ("dispatch.json", include_str!("../vectors/dispatch.json")),
    ("comments.json", include_str!("../vectors/comments.json")),
    ("bom-utf8.json", include_str!("../vectors/bom-utf8.json")),
    ("eof.json", include_str!("../vectors/eof.json")),
    (
        "spec-examples.json",
        include_str!("../vectors/spec-examples.json"),
    ),
    ("large.json", include_str!("../vectors/large.json")),
    ("limits.json", include_str!("../vectors/limits.json")),
];

/// Panics unless the `.json` files in `dir` are exactly the ones `files` names (in
/// any order): a file left out of the list would never be run. `message` says
/// which list is wrong.
#[track_caller]
pub fn assert_lists_every_file(dir: &str, files: &[(&str, &str)], message: &str) {
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = files.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "{message}");
}

/// Panics if two of `names` are the same, or if there are fewer than `min`;
/// `what` names them in the message (`"vector"`, `"scenario"`).
#[track_caller]
pub fn assert_unique_names<'a>(names: impl IntoIterator<Item = &'a str>, min: usize, what: &str) {
    let mut names: Vec<&str> = names.into_iter().collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(count, names.len(), "duplicate {what} names");
    assert!(count >= min, "only {count} {what}s");
}

/// Loads the items of JSON-array files with `parse`; panics naming the file on one
/// that does not load. `what` names the items in the message.
fn load<T>(
    files: &[(&'static str, &str)],
    what: &str,
    parse: fn(&'static str, &Value) -> Result<T, String>,
) -> Vec<T> {
    let mut all = Vec::new();
    for (file, text) in files {
        let list: Vec<Value> = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{file}: not a JSON array of {what}: {e}"));
        for value in list {
            all.push(parse(file, &value).unwrap_or_else(|e| panic!("{file}: {e}")));
        }
    }
    all
}

/// One test vector.
#[derive(Debug, Clone)]
pub struct Vector {
    /// Unique name.
    pub name: String,
    /// The spec rule it tests.
    pub spec: String,
    /// The file it came from.
    pub file: &'static str,
    /// The whole stream.
    pub input: Vec<u8>,
    /// Settings for the layer.
    pub config: VectorConfig,
    /// The items expected, in order.
    pub expect: Vec<Outcome>,
    /// The last event ID expected at the end, if the vector says.
    pub last_event_id: Option<String>,
    /// The reconnection time expected at the end, if the vector says
    /// (`Some(None)`: no valid `retry` seen).
    pub retry: Option<Option<u64>>,
}

/// Settings a vector asks the layer for. Comments are always reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VectorConfig {
    /// `Config::max_event_size`, if not the default.
    pub max_event_size: Option<usize>,
    /// `Config::max_field_size`, if not the default.
    pub max_field_size: Option<usize>,
    /// The last event ID the parser starts with.
    pub last_event_id: Option<String>,
    /// Run with comments off (`Config::comments(false)`, the default), where the
    /// parser skips comment lines on its fast paths; see [`without_comments`].
    pub hide_comments: bool,
}

impl VectorConfig {
    /// The parser configuration this asks for.
    pub fn parser_config(&self) -> Config {
        let mut config = Config::new().comments(!self.hide_comments);
        if let Some(max) = self.max_event_size {
            config = config.max_event_size(max);
        }
        if let Some(max) = self.max_field_size {
            config = config.max_field_size(max);
        }
        config
    }

    /// A parser set up as this asks.
    pub fn parser(&self) -> Parser {
        let mut parser = Parser::with_config(self.parser_config());
        self.seed(&mut parser);
        parser
    }

    /// Gives `parser` the last event ID this asks it to start with, if any.
    fn seed<S: sse_proto::Storage>(&self, parser: &mut Parser<S>) {
        if let Some(id) = &self.last_event_id {
            parser
                .set_last_event_id(id.as_bytes())
                .expect("seed id fits the limit");
        }
    }
}

/// The vectors as they read with comments off: the same events, retries and
/// event limit errors, without the comments and the comment limit errors.
pub fn without_comments(vectors: Vec<Vector>) -> Vec<Vector> {
    vectors
        .into_iter()
        .map(|mut v| {
            v.expect.retain(|o| match o {
                Outcome::Comment(_) => false,
                Outcome::Error(e) => e != "comment_too_large",
                _ => true,
            });
            v.config.hide_comments = true;
            v
        })
        .collect()
}

/// One item, as text (decoded with U+FFFD for invalid UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A dispatched event.
    Event {
        /// Its type (`"message"` by default).
        event_type: String,
        /// Its data.
        data: String,
        /// Its last event ID.
        id: String,
    },
    /// A valid `retry` field.
    Retry(u64),
    /// A comment.
    Comment(String),
    /// A limit error: `"event_too_large"` or `"comment_too_large"`.
    Error(String),
}

impl Outcome {
    /// The outcome for a parser item; `None` for items vectors do not cover.
    pub fn from_item(item: &Item<'_>) -> Option<Outcome> {
        Some(match item {
            Item::Event(event) => Outcome::Event {
                event_type: event.event_type().to_string_lossy().into_owned(),
                data: event.data().to_string_lossy().into_owned(),
                id: event.last_event_id().to_string_lossy().into_owned(),
            },
            Item::Retry(time) => Outcome::Retry(millis(*time)),
            Item::Comment(text) => Outcome::Comment(text.to_string_lossy().into_owned()),
            _ => return None,
        })
    }

    /// The outcome for an owned item (what the adapters hand out); `None` for items
    /// vectors do not cover.
    pub fn from_owned(item: sse_proto::OwnedItem) -> Option<Outcome> {
        Some(match item {
            sse_proto::OwnedItem::Event(event) => Outcome::from_event(&event),
            sse_proto::OwnedItem::Retry(time) => Outcome::Retry(millis(time)),
            sse_proto::OwnedItem::Comment(text) => Outcome::Comment(text.into()),
            sse_proto::OwnedItem::Skipped(error) => Outcome::from_error(&error),
            _ => return None,
        })
    }

    /// The outcome for an owned event.
    pub fn from_event(event: &sse_proto::OwnedEvent) -> Outcome {
        Outcome::Event {
            event_type: event.event_type().into(),
            data: event.data().into(),
            id: event.last_event_id().into(),
        }
    }

    /// The outcome for a parser error.
    pub fn from_error(error: &sse_proto::Error) -> Outcome {
        Outcome::Error(
            match error {
                sse_proto::Error::EventTooLarge { .. } => "event_too_large",
                sse_proto::Error::CommentTooLarge { .. } => "comment_too_large",
                _ => "other",
            }
            .to_string(),
        )
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Event {
                event_type,
                data,
                id,
            } => {
                write!(
                    f,
                    "event type={:?} data={} id={:?}",
                    event_type,
                    Short(data),
                    id
                )
            }
            Outcome::Retry(ms) => write!(f, "retry {ms}"),
            Outcome::Comment(text) => write!(f, "comment {}", Short(text)),
            Outcome::Error(kind) => write!(f, "error {kind}"),
        }
    }
}

/// Debug-formats a string, eliding the middle of long ones.
struct Short<'a>(&'a str);

impl fmt::Display for Short<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KEEP: usize = 60;
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() <= 2 * KEEP {
            return write!(f, "{:?}", self.0);
        }
        let head: String = chars[..KEEP].iter().collect();
        let tail: String = chars[chars.len() - KEEP..].iter().collect();
        write!(f, "{:?}…({} chars)…{:?}", head, chars.len(), tail)
    }
}

/// What a layer produced for one stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Run {
    /// Items in order.
    pub items: Vec<Outcome>,
    /// The last event ID at the end.
    pub last_event_id: String,
    /// The reconnection time at the end.
    pub retry: Option<u64>,
}

impl Run {
    /// `items`, and the state `parser` ended in.
    pub fn new<S: sse_proto::Storage>(items: Vec<Outcome>, parser: &Parser<S>) -> Run {
        Run {
            items,
            last_event_id: parser.last_event_id().to_string_lossy().into_owned(),
            retry: parser.retry().map(millis),
        }
    }
}

/// Runs `chunks` through the sse-proto [`Parser`] directly: the reference layer.
pub fn proto_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let mut parser = config.parser();
    let mut items = Vec::new();
    for chunk in chunks {
        let mut input: &[u8] = chunk;
        loop {
            match parser.parse(&mut input) {
                Ok(Some(item)) => items.extend(Outcome::from_item(&item)),
                Ok(None) => break,
                Err(e) => items.push(Outcome::from_error(&e)),
            }
        }
    }
    parser.finish();
    Run::new(items, &parser)
}

/// A reader that hands out `chunks` one per `read` call (empty chunks skipped: they
/// would read as the end).
struct Chunked<'a> {
    chunks: std::slice::Iter<'a, &'a [u8]>,
    rest: &'a [u8],
}

impl<'a> Chunked<'a> {
    fn new(chunks: &'a [&'a [u8]]) -> Self {
        Chunked {
            chunks: chunks.iter(),
            rest: &[],
        }
    }

    fn fill(&mut self, buf: &mut [u8]) -> usize {
        while self.rest.is_empty() {
            match self.chunks.next() {
                Some(chunk) => self.rest = chunk,
                None => return 0,
            }
        }
        let n = self.rest.len().min(buf.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        n
    }
}

impl std::io::Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Ok(self.fill(buf))
    }
}

impl embedded_io::ErrorType for Chunked<'_> {
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        Ok(self.fill(buf))
    }
}

impl embedded_io_async::Read for Chunked<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        Ok(self.fill(buf))
    }
}

/// Records what a reader's `next_item` gave: `false` at the end of the stream.
fn record<E: fmt::Debug>(
    next: Result<Option<Item<'_>>, sse_proto::ReadError<E>>,
    items: &mut Vec<Outcome>,
) -> bool {
    match next {
        Ok(Some(item)) => items.extend(Outcome::from_item(&item)),
        Ok(None) => return false,
        Err(sse_proto::ReadError::Limit(e)) => items.push(Outcome::from_error(&e)),
        Err(e) => panic!("{e:?}"),
    }
    true
}

/// Runs `chunks` through the blocking [`sse_proto::EventReader`], one chunk per
/// `read` call.
pub fn reader_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let mut reader = sse_proto::EventReader::with_parser(Chunked::new(chunks), config.parser());
    let mut items = Vec::new();
    while record(reader.next_item(), &mut items) {}
    Run::new(items, reader.parser())
}

/// Runs `chunks` through [`sse_proto::EventReader`]'s iterator (owned events), one
/// chunk per `read` call: only events come out of it, so the run's items are the
/// events, then one `Error` outcome per item it skipped for being over a limit.
/// Compare with [`events_of`] another layer's run.
pub fn reader_events_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let mut reader = sse_proto::EventReader::with_parser(Chunked::new(chunks), config.parser());
    let mut items = Vec::new();
    for event in &mut reader {
        items.push(Outcome::from_event(&event.expect("the chunks do not fail")));
    }
    for _ in 0..reader.skipped() {
        items.push(Outcome::Error("skipped".into()));
    }
    Run::new(items, reader.parser())
}

/// Runs `chunks` through [`sse_proto::OwnedParser::next_batch`], one `Bytes` chunk
/// at a time: its events as the batches hold them, each also checked to be the
/// same as an owned event ([`sse_proto::BatchEvent::into_owned`]) and through the
/// batch's owned iterator (no batch empty), then one `Error` outcome per skipped
/// event, as [`reader_events_layer`] reports them. Compare with [`events_of`] another layer's
/// run.
pub fn batch_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let mut parser = sse_proto::OwnedParser::new(config.parser());
    let mut items = Vec::new();
    for chunk in chunks {
        parser.push(bytes::Bytes::copy_from_slice(chunk));
        while let Some(batch) = parser.next_batch() {
            assert!(!batch.is_empty(), "an empty batch");
            for event in &batch {
                let owned = event.into_owned();
                assert!(event == owned, "{event:?} owned is {owned:?}");
                items.push(Outcome::Event {
                    event_type: event.event_type().into(),
                    data: event.data().into(),
                    id: event.last_event_id().into(),
                });
            }
            let start = items.len() - batch.len();
            let owned: Vec<_> = batch.into_iter().map(|e| Outcome::from_event(&e)).collect();
            assert_eq!(owned, items[start..], "the batch's owned events");
        }
    }
    parser.finish();
    items.extend((0..parser.skipped()).map(|_| Outcome::Error("skipped".into())));
    Run::new(items, parser.parser())
}

/// Runs `chunks` through [`sse_proto::OwnedParser::next_batch_into`], one `Bytes`
/// chunk at a time and one batch for them all (emptied and filled again), reported
/// as [`batch_layer`] reports its batches.
pub fn batch_into_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let mut parser = sse_proto::OwnedParser::new(config.parser());
    let mut batch = sse_proto::EventBatch::default();
    let mut items = Vec::new();
    for chunk in chunks {
        parser.push(bytes::Bytes::copy_from_slice(chunk));
        while parser.next_batch_into(&mut batch) {
            assert!(!batch.is_empty(), "an empty batch");
            for event in &batch {
                let owned = event.into_owned();
                assert!(event == owned, "{event:?} owned is {owned:?}");
                items.push(Outcome::from_event(&owned));
            }
        }
        assert!(batch.is_empty(), "a used-up chunk leaves the batch empty");
    }
    parser.finish();
    items.extend((0..parser.skipped()).map(|_| Outcome::Error("skipped".into())));
    Run::new(items, parser.parser())
}

/// Runs `chunks` through [`sse_proto::EventReader::next_batch`], one chunk per
/// `read` call, reported as [`reader_events_layer`] reports its events.
pub fn reader_batches_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let mut reader = sse_proto::EventReader::with_parser(Chunked::new(chunks), config.parser());
    let mut items = Vec::new();
    while let Some(batch) = reader.next_batch().expect("the chunks do not fail") {
        assert!(!batch.is_empty(), "an empty batch");
        items.extend(batch.iter().map(|e| Outcome::from_event(&e.into_owned())));
    }
    for _ in 0..reader.skipped() {
        items.push(Outcome::Error("skipped".into()));
    }
    Run::new(items, reader.parser())
}

/// Runs `chunks` through [`sse_proto::EventReader::next_batch_into`], one chunk
/// per `read` call and one batch for them all, reported as
/// [`reader_events_layer`] reports its events.
pub fn reader_batches_into_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let mut reader = sse_proto::EventReader::with_parser(Chunked::new(chunks), config.parser());
    let mut batch = sse_proto::EventBatch::default();
    let mut items = Vec::new();
    while reader
        .next_batch_into(&mut batch)
        .expect("the chunks do not fail")
    {
        assert!(!batch.is_empty(), "an empty batch");
        items.extend(batch.iter().map(|e| Outcome::from_event(&e.into_owned())));
    }
    assert!(
        batch.is_empty(),
        "the end of the stream leaves the batch empty"
    );
    for _ in 0..reader.skipped() {
        items.push(Outcome::Error("skipped".into()));
    }
    Run::new(items, reader.parser())
}

/// `run` as [`reader_events_layer`] reports it: its events in order, then one
/// `Error("skipped")` per limit error.
pub fn events_of(run: &Run) -> Run {
    let events = run
        .items
        .iter()
        .filter(|item| matches!(item, Outcome::Event { .. }))
        .cloned();
    let skipped = run
        .items
        .iter()
        .filter(|item| matches!(item, Outcome::Error(_)))
        .map(|_| Outcome::Error("skipped".into()));
    Run {
        items: events.chain(skipped).collect(),
        last_event_id: run.last_event_id.clone(),
        retry: run.retry,
    }
}

/// The read buffer of the `embedded-io` layers: small, as on a device.
const EMBEDDED_READ_BUFFER: usize = 512;

/// Runs `read` over an [`sse_proto::EmbeddedReader`] of `chunks` (one chunk per
/// `read` call, split further by the 512-byte read buffer) whose parser works in
/// caller's memory ([`sse_proto::SliceStorage`]), the data buffer past the event
/// limit, the others past the field limit.
fn embedded_run(
    config: &VectorConfig,
    chunks: &[&[u8]],
    read: impl FnOnce(
        &mut sse_proto::EmbeddedReader<'_, Chunked<'_>, sse_proto::SliceStorage<'_>>,
        &mut Vec<Outcome>,
    ),
) -> Run {
    let field = config
        .max_field_size
        .unwrap_or(sse_proto::DEFAULT_MAX_FIELD_SIZE)
        + 64;
    let data = config
        .max_event_size
        .unwrap_or(sse_proto::DEFAULT_MAX_EVENT_SIZE)
        + 64;
    let mut memory = vec![0; 4 * field + data];
    let (line, rest) = memory.split_at_mut(field);
    let (event_type, rest) = rest.split_at_mut(field);
    let (id, rest) = rest.split_at_mut(field);
    let (last_event_id, data) = rest.split_at_mut(field);
    let mut parser = Parser::with_buffers(
        config.parser_config(),
        sse_proto::Buffers {
            data: sse_proto::SliceStorage::new(data),
            line: sse_proto::SliceStorage::new(line),
            event_type: sse_proto::SliceStorage::new(event_type),
            id: sse_proto::SliceStorage::new(id),
            last_event_id: sse_proto::SliceStorage::new(last_event_id),
        },
    );
    config.seed(&mut parser);
    let mut buf = [0u8; EMBEDDED_READ_BUFFER];
    let mut reader = sse_proto::EmbeddedReader::new(Chunked::new(chunks), parser, &mut buf);
    let mut items = Vec::new();
    read(&mut reader, &mut items);
    Run::new(items, reader.parser())
}

/// Runs `chunks` through [`sse_proto::EmbeddedReader::next_item`] over an
/// `embedded_io::Read`, in caller's memory.
pub fn embedded_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    embedded_run(
        config,
        chunks,
        |reader, items| {
            while record(reader.next_item(), items) {}
        },
    )
}

/// [`embedded_layer`] through `next_item_async`, over an `embedded_io_async::Read`.
pub fn embedded_async_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    embedded_run(config, chunks, |reader, items| {
        let run = async { while record(reader.next_item_async().await, items) {} };
        // The reader never waits: one poll runs it to the end.
        let mut run = std::pin::pin!(run);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(run.as_mut().poll(&mut cx).is_ready());
    })
}

/// Loads every vector.
pub fn vectors() -> Vec<Vector> {
    load(FILES, "vectors", parse_vector)
}

fn parse_vector(file: &'static str, v: &Value) -> Result<Vector, String> {
    let name = v["name"]
        .as_str()
        .ok_or("vector without a name")?
        .to_string();
    let ctx = |e: String| format!("{name}: {e}");
    let spec = v["spec"].as_str().unwrap_or_default().to_string();
    let input = bytes(&v["input"]).map_err(ctx)?;
    let config = match v.get("config") {
        None => VectorConfig::default(),
        Some(c) => VectorConfig {
            max_event_size: c
                .get("max_event_size")
                .and_then(Value::as_u64)
                .map(|n| n as usize),
            max_field_size: c
                .get("max_field_size")
                .and_then(Value::as_u64)
                .map(|n| n as usize),
            last_event_id: c
                .get("last_event_id")
                .and_then(Value::as_str)
                .map(str::to_string),
            hide_comments: false,
        },
    };
    let expect = v["expect"]
        .as_array()
        .ok_or_else(|| ctx("no expect array".into()))?
        .iter()
        .map(|item| outcome(item).map_err(ctx))
        .collect::<Result<_, _>>()?;
    let last_event_id = v
        .get("last_event_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    let retry = v.get("retry").map(Value::as_u64);
    Ok(Vector {
        name,
        spec,
        file,
        input,
        config,
        expect,
        last_event_id,
        retry,
    })
}

/// Decodes the vectors' `<Bytes>` form.
fn bytes(v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Array(parts) => {
            let mut out = Vec::new();
            for part in parts {
                out.extend(bytes(part)?);
            }
            Ok(out)
        }
        Value::Object(o) => {
            if let Some(hex) = o.get("hex").and_then(Value::as_str) {
                let hex: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                if hex.len() % 2 != 0 {
                    return Err(format!("odd hex length in {hex:?}"));
                }
                hex.chunks(2)
                    .map(|pair| {
                        let s = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
                        u8::from_str_radix(s, 16).map_err(|e| format!("bad hex {s:?}: {e}"))
                    })
                    .collect()
            } else if let (Some(unit), Some(times)) = (o.get("repeat"), o.get("times")) {
                let unit = bytes(unit)?;
                let times = times.as_u64().ok_or("times is not a count")? as usize;
                Ok(unit.repeat(times))
            } else {
                Err(format!("unknown bytes form {v}"))
            }
        }
        _ => Err(format!("unknown bytes form {v}")),
    }
}

fn outcome(v: &Value) -> Result<Outcome, String> {
    let text = |v: &Value| -> Result<String, String> {
        Ok(String::from_utf8_lossy(&bytes(v)?).into_owned())
    };
    if let Some(e) = v.get("event") {
        Ok(Outcome::Event {
            event_type: text(&e["type"])?,
            data: text(&e["data"])?,
            id: text(&e["id"])?,
        })
    } else if let Some(ms) = v.get("retry") {
        Ok(Outcome::Retry(ms.as_u64().ok_or("retry is not a u64")?))
    } else if let Some(c) = v.get("comment") {
        Ok(Outcome::Comment(text(c)?))
    } else if let Some(e) = v.get("error") {
        Ok(Outcome::Error(
            e.as_str().ok_or("error is not a string")?.to_string(),
        ))
    } else {
        Err(format!("unknown item {v}"))
    }
}

/// The input, escaped, with the middle of long inputs elided.
fn escaped(input: &[u8]) -> String {
    const KEEP: usize = 80;
    if input.len() <= 2 * KEEP {
        return input.escape_ascii().to_string();
    }
    let (head, tail) = (&input[..KEEP], &input[input.len() - KEEP..]);
    format!(
        "{}…({} bytes)…{}",
        head.escape_ascii(),
        input.len(),
        tail.escape_ascii()
    )
}

/// A way of cutting an input into chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunking {
    /// One chunk.
    Whole,
    /// One byte per chunk.
    Bytewise,
    /// Two chunks, split at this offset.
    SplitAt(usize),
    /// Random chunk sizes from this seed.
    Random(u64),
}

impl Chunking {
    /// Cuts `input`.
    pub fn apply<'a>(&self, input: &'a [u8]) -> Vec<&'a [u8]> {
        match *self {
            Chunking::Whole => vec![input],
            Chunking::Bytewise => input.chunks(1).collect(),
            Chunking::SplitAt(at) => vec![&input[..at], &input[at..]],
            Chunking::Random(seed) => random_chunks(input, seed),
        }
    }

    /// The chunkings every vector goes through.
    pub fn all_for(input: &[u8]) -> Vec<Chunking> {
        let mut all = vec![Chunking::Whole, Chunking::Bytewise];
        let n = input.len();
        if n <= EVERY_SPLIT_MAX {
            all.extend((0..=n).map(Chunking::SplitAt));
        } else {
            let mut rng = XorShift(n as u64 | 1);
            all.extend((0..64).map(|_| Chunking::SplitAt(rng.below(n + 1))));
        }
        all.extend((1..=16).map(Chunking::Random));
        all
    }
}

impl fmt::Display for Chunking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Chunking::Whole => f.write_str("whole"),
            Chunking::Bytewise => f.write_str("one byte per chunk"),
            Chunking::SplitAt(at) => write!(f, "split at byte {at}"),
            Chunking::Random(seed) => write!(f, "random chunks, seed {seed}"),
        }
    }
}

/// Chunks of random sizes: mostly tiny (to hit every boundary), sometimes large.
pub fn random_chunks(input: &[u8], seed: u64) -> Vec<&[u8]> {
    let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut chunks = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let max = match rng.below(4) {
            0 => 2,
            1 => 8,
            2 => 64,
            _ => 4096,
        };
        let len = 1 + rng.below(max).min(rest.len() - 1);
        let (chunk, tail) = rest.split_at(len);
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

/// A small deterministic generator (xorshift64), so runs are reproducible without a
/// dependency. Seed it with a non-zero value.
#[derive(Debug, Clone)]
pub struct XorShift(pub u64);

impl XorShift {
    /// The next value.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Writes `expected` and `actual` into `report` side by side, a row per position
/// (`(none)` past the end of the shorter), `!` marking the rows that differ; rows
/// that agree only if `agreeing_rows`. A row starts with `indent`, then the mark and
/// the position right-aligned in `width` columns.
fn side_by_side<T: PartialEq + fmt::Display>(
    report: &mut String,
    indent: &str,
    width: usize,
    expected: &[T],
    actual: &[T],
    agreeing_rows: bool,
) {
    let show = |o: Option<&T>| o.map_or("(none)".to_string(), T::to_string);
    for i in 0..expected.len().max(actual.len()) {
        let (e, a) = (expected.get(i), actual.get(i));
        let mark = if e == a { ' ' } else { '!' };
        if mark == '!' || agreeing_rows {
            let _ = writeln!(
                report,
                "{indent}{mark}{i:>width$} {} | {}",
                show(e),
                show(a)
            );
        }
    }
}

/// Writes `{label}: expected {expected:?}, got {actual:?}` as a line of `report`.
fn mismatch(report: &mut String, label: &str, expected: impl fmt::Debug, actual: impl fmt::Debug) {
    let _ = writeln!(report, "{label}: expected {expected:?}, got {actual:?}");
}

/// The first failure of each case: `check` runs it under each of its `chunkings`
/// in turn, and the first report it gives is the case's failure; a case without
/// one passed.
fn first_failures<C>(
    cases: &[C],
    chunkings: impl Fn(&C) -> Vec<Chunking>,
    check: impl Fn(&C, &Chunking) -> Option<String>,
) -> Vec<(&C, Chunking, String)> {
    let mut failures = Vec::new();
    for case in cases {
        for chunking in chunkings(case) {
            if let Some(report) = check(case, &chunking) {
                failures.push((case, chunking, report));
                break;
            }
        }
    }
    failures
}

/// Panics, unless `failures` is empty, with how many of the `total` `cases` failed
/// through `layer_name` and the first 20 failures in full, each as `describe` puts
/// it.
fn panic_on_failures<F>(
    layer_name: &str,
    total: usize,
    cases: &str,
    failures: &[F],
    describe: impl Fn(&F) -> String,
) {
    if failures.is_empty() {
        return;
    }
    let mut report = format!(
        "{layer_name}: {} of {total} {cases} failed\n",
        failures.len()
    );
    for failure in failures.iter().take(20) {
        let _ = writeln!(report, "\n{}", describe(failure));
    }
    panic!("{report}");
}

/// A vector that failed under one chunking.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The vector's name.
    pub vector: String,
    /// Its file.
    pub file: &'static str,
    /// The chunking that failed.
    pub chunking: Chunking,
    /// A readable report.
    pub report: String,
}

/// Checks one run against a vector; `None` if it matches.
pub fn compare(vector: &Vector, run: &Run) -> Option<String> {
    let items_ok = run.items == vector.expect;
    let id_ok = vector
        .last_event_id
        .as_ref()
        .is_none_or(|id| *id == run.last_event_id);
    let retry_ok = vector.retry.is_none_or(|retry| retry == run.retry);
    if items_ok && id_ok && retry_ok {
        return None;
    }
    let mut report = String::new();
    let _ = writeln!(report, "  spec: {}", vector.spec);
    let _ = writeln!(report, "  input: \"{}\"", escaped(&vector.input));
    if !items_ok {
        let _ = writeln!(report, "  items (expected | actual):");
        let rows = vector.expect.len().max(run.items.len());
        side_by_side(
            &mut report,
            "   ",
            4,
            &vector.expect,
            &run.items,
            rows <= 12,
        );
    }
    if !id_ok {
        mismatch(
            &mut report,
            "  last event ID",
            vector.last_event_id.as_deref().unwrap_or_default(),
            &run.last_event_id,
        );
    }
    if !retry_ok {
        mismatch(&mut report, "  retry", vector.retry.flatten(), run.retry);
    }
    Some(report)
}

/// Runs every vector through `layer` under every chunking; returns the failures
/// (at most one per vector: the first chunking that failed).
pub fn check_all<L>(layer: L) -> Vec<Failure>
where
    L: Fn(&VectorConfig, &[&[u8]]) -> Run,
{
    check_vectors(&vectors(), layer)
}

/// [`check_all`] over a chosen list of vectors.
pub fn check_vectors<L>(vectors: &[Vector], layer: L) -> Vec<Failure>
where
    L: Fn(&VectorConfig, &[&[u8]]) -> Run,
{
    first_failures(
        vectors,
        |vector| Chunking::all_for(&vector.input),
        |vector, chunking| {
            let chunks = chunking.apply(&vector.input);
            compare(vector, &layer(&vector.config, &chunks))
        },
    )
    .into_iter()
    .map(|(vector, chunking, report)| Failure {
        vector: vector.name.clone(),
        file: vector.file,
        chunking,
        report,
    })
    .collect()
}

/// Panics with a readable report unless every vector passes through `layer` under
/// every chunking.
pub fn assert_conformance<L>(layer_name: &str, layer: L)
where
    L: Fn(&VectorConfig, &[&[u8]]) -> Run,
{
    assert_vectors(layer_name, &vectors(), layer);
}

/// For layers that hand out events only (an iterator or a stream of events, a
/// stream of batches): `layer` reports what [`events_of`] the parser's run reports,
/// for every vector under every chunking.
pub fn assert_events_conformance<L>(layer_name: &str, layer: L)
where
    L: Fn(&VectorConfig, &[&[u8]]) -> Run,
{
    let mut failures = Vec::new();
    let all = vectors();
    for vector in &all {
        for chunking in Chunking::all_for(&vector.input) {
            let chunks = chunking.apply(&vector.input);
            let want = events_of(&proto_layer(&vector.config, &chunks));
            let got = layer(&vector.config, &chunks);
            if got != want {
                failures.push(format!(
                    "{} ({chunking:?}):\n  want {want:?}\n  got  {got:?}",
                    vector.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{layer_name}: {} failures in {} vectors, the first:\n{}",
        failures.len(),
        all.len(),
        failures[..failures.len().min(5)].join("\n")
    );
}

/// [`assert_conformance`] over a chosen list of vectors (for example
/// [`without_comments`]).
pub fn assert_vectors<L>(layer_name: &str, vectors: &[Vector], layer: L)
where
    L: Fn(&VectorConfig, &[&[u8]]) -> Run,
{
    let failures = check_vectors(vectors, layer);
    panic_on_failures(layer_name, vectors.len(), "vectors", &failures, |f| {
        format!("{} ({}), {}:\n{}", f.vector, f.file, f.chunking, f.report)
    });
}
