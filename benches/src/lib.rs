//! Corpora and contenders for the benchmarks, shared by the criterion benches, the
//! allocation report and the instruction-count runner, so that all three measure
//! exactly the same code. This module has the parsers'; [`encode`] the encoders'.
//!
//! Every contender returns what it parsed (event count and total data bytes), and
//! [`check`] compares that with what the corpus generator wrote before anything is
//! timed: a fast number can never come from a wrong parse.

pub mod assembly;
pub mod encode;
pub mod fanout;

use std::convert::Infallible;
use std::io::Read;

use bytes::Bytes;
use futures::StreamExt;
use sse_proto::{EventReader, Item, Parser};

/// A generated event stream and what a correct parser finds in it.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Short name.
    pub name: &'static str,
    /// The stream.
    pub bytes: Vec<u8>,
    /// Dispatched events in it.
    pub events: usize,
    /// Total data bytes over those events.
    pub data_bytes: usize,
}

/// What a parser found: (events, data bytes).
pub type Tally = (usize, usize);

/// A deterministic generator: the same corpora on every machine and run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "the",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " lazy",
    " dog",
    ",",
    ".",
    " Server",
    "-Sent",
    " Events",
    " stream",
    " tokens",
    " as",
    " they",
    " are",
    " generated",
    "\\n",
    " 42",
    " café",
];

/// Builds a corpus of about `size` bytes by repeating `event` until it is reached.
fn build(
    name: &'static str,
    size: usize,
    mut event: impl FnMut(&mut XorShift, &mut Vec<u8>) -> usize,
) -> Corpus {
    let mut rng = XorShift(0x5EED_u64.wrapping_mul(name.len() as u64 + 1) | 1);
    let mut bytes = Vec::with_capacity(size + 4096);
    let (mut events, mut data_bytes) = (0, 0);
    while bytes.len() < size {
        data_bytes += event(&mut rng, &mut bytes);
        events += 1;
    }
    Corpus {
        name,
        bytes,
        events,
        data_bytes,
    }
}

/// Appends one LLM-style token delta event with line end `eol`; returns its data length.
fn token_event(rng: &mut XorShift, out: &mut Vec<u8>, eol: &[u8]) -> usize {
    let word = WORDS[rng.below(WORDS.len())];
    let data = format!(
        r#"{{"id":"chatcmpl-9f2","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{{"content":"{word}"}}}}]}}"#
    );
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(data.as_bytes());
    out.extend_from_slice(eol);
    out.extend_from_slice(eol);
    data.len()
}

/// About 1 KiB of JSON.
fn json_kib(rng: &mut XorShift) -> String {
    let mut s = String::from("{\"items\":[");
    while s.len() < 1000 {
        let n = rng.next() % 100_000;
        s.push_str(&format!(
            "{{\"id\":{n},\"name\":\"item-{n}\",\"ok\":true}},"
        ));
    }
    s.pop();
    s.push_str("]}");
    s
}

/// The names of the corpora, in report order.
pub const CORPORA: &[&str] = &[
    "tokens",
    "json-1k",
    "multiline",
    "large-256k",
    "tokens-crlf",
    "keepalive",
];

/// One corpus of about `size` bytes, by name.
pub fn corpus(name: &str, size: usize) -> Option<Corpus> {
    corpora_matching(size, |n| n == name).pop()
}

/// The corpora, each about `size` bytes.
pub fn corpora(size: usize) -> Vec<Corpus> {
    corpora_matching(size, |_| true)
}

fn corpora_matching(size: usize, wanted: impl Fn(&str) -> bool) -> Vec<Corpus> {
    type Builder = Box<dyn Fn(usize) -> Corpus>;
    let all: Vec<(&str, Builder)> = vec![
        (
            "tokens",
            Box::new(|size| build("tokens", size, |rng, out| token_event(rng, out, b"\n"))),
        ),
        (
            "json-1k",
            Box::new(|size| {
                build("json-1k", size, |rng, out| {
                    let data = json_kib(rng);
                    let id = rng.next() % 1_000_000;
                    out.extend_from_slice(
                        format!("id: {id}\nevent: update\ndata: {data}\n\n").as_bytes(),
                    );
                    data.len()
                })
            }),
        ),
        (
            "multiline",
            Box::new(|size| {
                build("multiline", size, |rng, out| {
                    let lines = 5 + rng.below(16);
                    let mut len = 0;
                    for i in 0..lines {
                        let line = format!(
                            "line {i}: {}",
                            "lorem ipsum dolor sit amet ".repeat(1 + rng.below(3))
                        );
                        out.extend_from_slice(b"data: ");
                        out.extend_from_slice(line.as_bytes());
                        out.push(b'\n');
                        len += line.len() + usize::from(i > 0);
                    }
                    out.push(b'\n');
                    len
                })
            }),
        ),
        (
            "large-256k",
            Box::new(|size| {
                build("large-256k", size.max(1 << 20), |rng, out| {
                    const LEN: usize = 256 * 1024;
                    const B64: &[u8] =
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                    out.extend_from_slice(b"data: ");
                    out.extend((0..LEN).map(|_| B64[rng.below(64)]));
                    out.extend_from_slice(b"\n\n");
                    LEN
                })
            }),
        ),
        (
            "tokens-crlf",
            Box::new(|size| {
                build("tokens-crlf", size, |rng, out| {
                    token_event(rng, out, b"\r\n")
                })
            }),
        ),
        (
            "keepalive",
            Box::new(|size| {
                build("keepalive", size, |rng, out| {
                    out.extend_from_slice(b": keep-alive\n\n");
                    token_event(rng, out, b"\n")
                })
            }),
        ),
    ];
    all.into_iter()
        .filter(|(name, _)| wanted(name))
        .map(|(_, build)| build(size))
        .collect()
}

/// Cuts a corpus into chunks of `size` bytes, as `Bytes` (cheap to clone per run):
/// slices of one shared buffer, as an HTTP client's body chunks are. (Separate
/// `Bytes::copy_from_slice` chunks would allocate once each on their first clone,
/// when `bytes` turns a vector-backed buffer into a shared one, and charge that to
/// whichever contender clones them first.)
pub fn chunks(corpus: &Corpus, size: usize) -> Vec<Bytes> {
    let whole = Bytes::copy_from_slice(&corpus.bytes);
    (0..whole.len())
        .step_by(size)
        .map(|start| whole.slice(start..whole.len().min(start + size)))
        .collect()
}

/// A parser under test.
#[derive(Debug, Clone, Copy)]
pub struct Contender {
    /// Its name in reports.
    pub name: &'static str,
    /// Whether it is a baseline rather than an SSE parser (its tally is not events).
    pub baseline: bool,
    /// Parses the chunks.
    pub run: fn(&[Bytes]) -> Tally,
}

/// Every contender, ours first, then peers, then baselines.
pub fn contenders() -> Vec<Contender> {
    vec![
        Contender {
            name: "sse-proto",
            baseline: false,
            run: ours_borrowed,
        },
        Contender {
            name: "sse-proto stream_data",
            baseline: false,
            run: ours_streamed,
        },
        Contender {
            name: "sse-proto + UTF-8 check",
            baseline: false,
            run: ours_utf8_floor,
        },
        Contender {
            name: "sse-proto + UTF-8 check + refcount",
            baseline: false,
            run: ours_refcount_floor,
        },
        Contender {
            name: "sse-proto + copy + UTF-8 check + refcount",
            baseline: false,
            run: ours_copy_floor,
        },
        Contender {
            name: "sse-proto least owned reader",
            baseline: false,
            run: ours_least_owned,
        },
        Contender {
            name: "sse-proto least batch reader",
            baseline: false,
            run: ours_least_batches,
        },
        Contender {
            name: "sse-proto OwnedParser",
            baseline: false,
            run: ours_owned,
        },
        Contender {
            name: "sse-proto OwnedParser batches",
            baseline: false,
            run: ours_batches,
        },
        Contender {
            name: "sse-proto EventReader",
            baseline: false,
            run: ours_reader,
        },
        Contender {
            name: "sse-proto EventReader batches",
            baseline: false,
            run: ours_reader_batches,
        },
        Contender {
            name: "sse-tokio EventStream",
            baseline: false,
            run: ours_tokio_stream,
        },
        Contender {
            name: "sse-tokio EventStream batches",
            baseline: false,
            run: ours_tokio_batches,
        },
        Contender {
            name: "sse-tokio SseDecoder",
            baseline: false,
            run: ours_tokio_codec,
        },
        Contender {
            name: "sse-tokio SseBatchDecoder",
            baseline: false,
            run: ours_tokio_codec_batches,
        },
        Contender {
            name: "sse-parse",
            baseline: false,
            run: sse_parse,
        },
        Contender {
            name: "sse-core",
            baseline: false,
            run: sse_core,
        },
        Contender {
            name: "sseer",
            baseline: false,
            run: sseer,
        },
        Contender {
            name: "sse-stream",
            baseline: false,
            run: sse_stream,
        },
        Contender {
            name: "eventsource-stream",
            baseline: false,
            run: eventsource_stream,
        },
        Contender {
            name: "memchr2 line ends",
            baseline: true,
            run: memchr2_baseline,
        },
        Contender {
            name: "memcpy",
            baseline: true,
            run: memcpy_baseline,
        },
    ]
}

/// Checks a contender's tally against the corpus; `Err` says what is wrong.
pub fn check(contender: &Contender, corpus: &Corpus, tally: Tally) -> Result<(), String> {
    if contender.baseline {
        return Ok(());
    }
    if tally == (corpus.events, corpus.data_bytes) {
        Ok(())
    } else {
        Err(format!(
            "{} on {}: found {} events / {} data bytes, expected {} / {}",
            contender.name, corpus.name, tally.0, tally.1, corpus.events, corpus.data_bytes
        ))
    }
}

/// Our parser, borrowed API: events are slices of the chunk or of the parser.
pub fn ours_borrowed(chunks: &[Bytes]) -> Tally {
    let mut parser = Parser::new();
    let (mut events, mut bytes) = (0, 0);
    for chunk in chunks {
        let mut input: &[u8] = chunk;
        while let Some(item) = parser.parse(&mut input).unwrap() {
            if let Item::Event(event) = item {
                events += 1;
                bytes += event.data().len();
            }
        }
    }
    parser.finish();
    (events, bytes)
}

/// A floor under any owned reader built on our parser: the borrowed parser, with
/// each chunk checked as UTF-8 with the check sse-proto's owned path makes (which
/// an owned event's `str` needs). Nothing is kept.
pub fn ours_utf8_floor(chunks: &[Bytes]) -> Tally {
    owned_floor(chunks, false)
}

/// The floor of [`ours_utf8_floor`], and one reference to the chunk taken and
/// dropped per event: what an owned event that shares its chunk costs at the least,
/// before anything is built.
pub fn ours_refcount_floor(chunks: &[Bytes]) -> Tally {
    owned_floor(chunks, true)
}

/// The floor of [`ours_refcount_floor`] under a reader that copies each read into
/// a buffer of its own (as `EventReader` and `SseDecoder` do, and as a read from a
/// socket does): each chunk copied into one reused buffer, split off it as a
/// `Bytes` that the events share, then parsed as that floor parses.
pub fn ours_copy_floor(chunks: &[Bytes]) -> Tally {
    let mut buffer = bytes::BytesMut::new();
    owned_floor_of(chunks, true, |chunk| {
        buffer.extend_from_slice(chunk);
        Some(buffer.split().freeze())
    })
}

/// The least an owned reader one event at a time on our parser does: owned
/// events made the cheapest correct way, with nothing looked up or held
/// (`sse_proto::floors`, a hidden module for these floors).
pub fn ours_least_owned(chunks: &[Bytes]) -> Tally {
    sse_proto::floors::owned_events(chunks)
}

/// The least a reader of batches on our parser does: each chunk's events held
/// together, read by reference (`sse_proto::floors`).
pub fn ours_least_batches(chunks: &[Bytes]) -> Tally {
    sse_proto::floors::batches(chunks)
}

fn owned_floor(chunks: &[Bytes], share: bool) -> Tally {
    owned_floor_of(chunks, share, |_| None)
}

/// The floors' loop over the chunks, each parsed as it is or as `read` copies it.
#[inline(always)]
fn owned_floor_of(
    chunks: &[Bytes],
    share: bool,
    mut read: impl FnMut(&Bytes) -> Option<Bytes>,
) -> Tally {
    let mut parser = Parser::new();
    let (mut events, mut bytes) = (0, 0);
    for chunk in chunks {
        let copy = read(chunk);
        let chunk = copy.as_ref().unwrap_or(chunk);
        std::hint::black_box(simdutf8::compat::from_utf8(chunk).is_ok());
        let mut input: &[u8] = chunk;
        while let Some(item) = parser.parse(&mut input).unwrap() {
            if let Item::Event(event) = item {
                let held = share.then(|| std::hint::black_box(chunk.clone()));
                events += 1;
                bytes += event.data().len();
                drop(held);
            }
        }
    }
    parser.finish();
    (events, bytes)
}

/// Our parser with `Config::stream_data`: data handed out in pieces as it arrives,
/// never assembled (how a client reads events larger than it wants to hold).
pub fn ours_streamed(chunks: &[Bytes]) -> Tally {
    let mut parser = Parser::with_config(sse_proto::Config::new().stream_data(true));
    let (mut events, mut bytes) = (0, 0);
    for chunk in chunks {
        let mut input: &[u8] = chunk;
        while let Some(item) = parser.parse(&mut input).unwrap() {
            match item {
                Item::Data(piece) => bytes += piece.len(),
                Item::EventEnd(_) => events += 1,
                _ => {}
            }
        }
    }
    parser.finish();
    (events, bytes)
}

/// A reader that hands out one chunk per `read`, as a socket would.
struct ChunkReader<'a> {
    chunks: std::slice::Iter<'a, Bytes>,
    rest: &'a [u8],
}

impl Read for ChunkReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.rest.is_empty() {
            match self.chunks.next() {
                Some(chunk) => self.rest = chunk,
                None => return Ok(0),
            }
        }
        let n = self.rest.len().min(buf.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

/// Our blocking reader, owned events (sharing its read buffer, as `OwnedParser`'s
/// share their chunks).
pub fn ours_reader(chunks: &[Bytes]) -> Tally {
    let reader = EventReader::new(ChunkReader {
        chunks: chunks.iter(),
        rest: &[],
    });
    reader.fold((0, 0), |(n, b), event| {
        let event = event.unwrap();
        (n + 1, b + event.data().len())
    })
}

/// Our blocking reader, a read's events at a time, into one batch
/// (`EventReader::next_batch_into`).
pub fn ours_reader_batches(chunks: &[Bytes]) -> Tally {
    let mut reader = EventReader::new(ChunkReader {
        chunks: chunks.iter(),
        rest: &[],
    });
    let (mut tally, mut batch) = ((0, 0), sse_proto::EventBatch::default());
    while reader.next_batch_into(&mut batch).unwrap() {
        count_batch(&mut tally, &batch);
    }
    tally
}

/// Adds a batch's events and their data's bytes to `tally`: what every batch
/// contender does with a batch, so that they do the same work per event.
#[inline(always)]
fn count_batch((events, bytes): &mut Tally, batch: &sse_proto::EventBatch) {
    for event in batch {
        *events += 1;
        *bytes += event.data().len();
    }
}

/// Our `OwnedParser` fed the `Bytes` chunks: the owned events every adapter hands
/// out, without a `Stream` around them.
pub fn ours_owned(chunks: &[Bytes]) -> Tally {
    let mut parser = sse_proto::OwnedParser::new(Parser::new());
    let (mut events, mut bytes) = (0, 0);
    for chunk in chunks {
        parser.push(chunk.clone());
        while let Some(item) = parser.next() {
            if let sse_proto::OwnedItem::Event(event) = item {
                events += 1;
                bytes += event.data().len();
            }
        }
    }
    parser.finish();
    (events, bytes)
}

/// Our `OwnedParser` fed the `Bytes` chunks, each chunk's events taken as one
/// batch, into one batch for them all (`next_batch_into`): owned together, read
/// by reference.
pub fn ours_batches(chunks: &[Bytes]) -> Tally {
    let mut parser = sse_proto::OwnedParser::new(Parser::new());
    let (mut tally, mut batch) = ((0, 0), sse_proto::EventBatch::default());
    for chunk in chunks {
        parser.push(chunk.clone());
        while parser.next_batch_into(&mut batch) {
            count_batch(&mut tally, &batch);
        }
    }
    parser.finish();
    tally
}

/// sse-tokio's `EventStream` over a `Stream` of `Bytes`: the owned events the tokio
/// adapter hands out (`ByteString`s sliced from the chunk where the event arrived
/// whole, copies otherwise), measured the way the stream-based peers are.
pub fn ours_tokio_stream(chunks: &[Bytes]) -> Tally {
    let stream = sse_tokio::EventStream::new(byte_stream(chunks));
    drain(stream, |(n, b), event| {
        *n += 1;
        *b += event.unwrap().data().len();
    })
}

/// sse-tokio's `EventStream::batches` over a `Stream` of `Bytes`: each chunk's
/// events in one batch, read by reference.
pub fn ours_tokio_batches(chunks: &[Bytes]) -> Tally {
    let stream = sse_tokio::EventStream::new(byte_stream(chunks)).batches();
    drain(stream, |tally, batch| count_batch(tally, &batch.unwrap()))
}

/// The tokio adapter's codec (`tokio_util::codec::Decoder`), fed as `FramedRead` feeds
/// it: each chunk is copied into the read buffer (a `BytesMut`), as a read would, then
/// decoded until it asks for more. Items share the memory of the read they came in.
pub fn ours_tokio_codec(chunks: &[Bytes]) -> Tally {
    use tokio_util::codec::Decoder;
    let mut decoder = sse_tokio::SseDecoder::with_config(sse_proto::Config::new());
    let mut buf = bytes::BytesMut::new();
    let (mut events, mut bytes) = (0, 0);
    let mut count = |item: Option<sse_proto::OwnedItem>| match item {
        Some(sse_proto::OwnedItem::Event(event)) => {
            events += 1;
            bytes += event.data().len();
            true
        }
        Some(_) => true,
        None => false,
    };
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while count(decoder.decode(&mut buf).unwrap()) {}
    }
    while count(decoder.decode_eof(&mut buf).unwrap()) {}
    (events, bytes)
}

/// sse-tokio's batch decoder, fed as [`ours_tokio_codec`] is: each read's events
/// in one `EventBatch`.
pub fn ours_tokio_codec_batches(chunks: &[Bytes]) -> Tally {
    use tokio_util::codec::Decoder;
    let mut decoder = sse_tokio::SseBatchDecoder::new();
    let mut buf = bytes::BytesMut::new();
    let mut tally = (0, 0);
    let mut count = |batch: Option<sse_proto::EventBatch>| match batch {
        Some(batch) => {
            count_batch(&mut tally, &batch);
            true
        }
        None => false,
    };
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while count(decoder.decode(&mut buf).unwrap()) {}
    }
    while count(decoder.decode_eof(&mut buf).unwrap()) {}
    tally
}

/// sse-parse: `feed` then `next_event`.
pub fn sse_parse(chunks: &[Bytes]) -> Tally {
    let mut parser = sse_parse::SseParser::new();
    let (mut events, mut bytes) = (0, 0);
    for chunk in chunks {
        parser.feed(chunk);
        while let Some(event) = parser.next_event() {
            events += 1;
            bytes += event.data.len();
        }
    }
    parser.finish();
    (events, bytes)
}

/// sse-core: a decoder over `bytes::Buf`, with its limit raised to fit the corpora.
pub fn sse_core(chunks: &[Bytes]) -> Tally {
    let limit = std::num::NonZeroUsize::new(1 << 24).unwrap();
    let mut decoder = sse_core::SseDecoder::with_limit(limit);
    let (mut events, mut bytes) = (0, 0);
    for chunk in chunks {
        let mut buf = chunk.clone();
        while let Some(event) = decoder.next(&mut buf) {
            if let sse_core::SseEvent::Message(message) = event.unwrap() {
                events += 1;
                bytes += message.data.len();
            }
        }
    }
    (events, bytes)
}

/// Reads `stream` to its end as an application reads one (`while let Some(item) =
/// stream.next().await`), adding each item to the tally: the same loop for every
/// contender that is a `Stream`.
fn drain<S: futures::Stream>(stream: S, mut add: impl FnMut(&mut Tally, S::Item)) -> Tally {
    futures::executor::block_on(async {
        let mut stream = std::pin::pin!(stream);
        let mut tally = (0, 0);
        while let Some(item) = stream.next().await {
            add(&mut tally, item);
        }
        tally
    })
}

fn byte_stream(chunks: &[Bytes]) -> impl futures::Stream<Item = Result<Bytes, Infallible>> + '_ {
    futures::stream::iter(chunks.iter().cloned().map(Ok))
}

/// sseer: a `Stream` of events over a `Stream` of `Bytes`.
pub fn sseer(chunks: &[Bytes]) -> Tally {
    let stream = sseer::EventStream::new(byte_stream(chunks));
    drain(stream, |(n, b), event| {
        *n += 1;
        *b += event.unwrap().data.len();
    })
}

/// sse-stream: a `Stream` of raw blocks (data-less blocks included) over `Buf`s.
pub fn sse_stream(chunks: &[Bytes]) -> Tally {
    let stream = sse_stream::SseByteStream::new(byte_stream(chunks));
    drain(stream, |(n, b), block| {
        if let Some(data) = block.unwrap().data {
            *n += 1;
            *b += data.len();
        }
    })
}

/// eventsource-stream: the incumbent, a `Stream` of events.
pub fn eventsource_stream(chunks: &[Bytes]) -> Tally {
    let stream = eventsource_stream::EventStream::new(byte_stream(chunks));
    drain(stream, |(n, b), event| {
        *n += 1;
        *b += event.unwrap().data.len();
    })
}

/// Baseline: finding every line end, the least work any SSE parser must do.
pub fn memchr2_baseline(chunks: &[Bytes]) -> Tally {
    let ends = chunks
        .iter()
        .map(|c| memchr::memchr2_iter(b'\r', b'\n', c).count())
        .sum();
    (ends, 0)
}

/// Baseline: copying every byte once.
pub fn memcpy_baseline(chunks: &[Bytes]) -> Tally {
    let mut buf = vec![0u8; chunks.iter().map(Bytes::len).max().unwrap_or(0)];
    let mut total = 0;
    for chunk in chunks {
        buf[..chunk.len()].copy_from_slice(chunk);
        total += std::hint::black_box(&buf)[chunk.len() / 2] as usize;
    }
    (total, 0)
}
