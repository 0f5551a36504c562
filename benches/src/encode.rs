//! Corpora and contenders for the encoder benchmark, shared by the criterion bench,
//! the allocation report and the allocation test, so that all three measure exactly
//! the same code.
//!
//! A corpus is a list of events to send. Every contender turns all of them into
//! stream bytes, each through its public API, and [`check`] parses what it wrote
//! with `sse_proto::Parser` and compares the events with the list before anything is
//! timed: a fast number can never come from wrong output.
//!
//! Where the bytes go is each API's natural place: ours encodes into one reused
//! buffer; the peers hand out one `Bytes` per event (what an HTTP body sends), which
//! are collected in a reused `Vec` and dropped at the start of the next run.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use sse_proto::{Encode, Item, Message, Parser};

use crate::{WORDS, XorShift, json_kib};

/// One event to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The event type, if any.
    pub event: Option<String>,
    /// The ID, if any.
    pub id: Option<String>,
    /// The data (one line in these corpora).
    pub data: String,
}

/// Events to encode, and the reference encoding the memcpy baselines copy.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Short name.
    pub name: &'static str,
    /// The events (shared, for contenders whose streams must own their input).
    pub events: Arc<[Spec]>,
    /// Every event encoded by `sse_proto`, concatenated.
    pub reference: Vec<u8>,
    /// Where each event's encoding ends in `reference`.
    pub ends: Vec<usize>,
}

impl Corpus {
    fn new(name: &'static str, events: Vec<Spec>) -> Corpus {
        let mut reference = Vec::new();
        let mut ends = Vec::with_capacity(events.len());
        for spec in &events {
            reference.extend(message(spec).to_vec().expect("valid events"));
            ends.push(reference.len());
        }
        Corpus {
            name,
            events: events.into(),
            reference,
            ends,
        }
    }
}

/// The corpora, each about `size` bytes of output: LLM token deltas (about 60 B per
/// event, data only) and 1 KiB JSON documents with an ID and an event type.
pub fn corpora(size: usize) -> Vec<Corpus> {
    let mut rng = XorShift(0x5EED);
    let mut tokens = Vec::new();
    let mut len = 0;
    while len < size {
        let word = WORDS[rng.below(WORDS.len())];
        let data = format!(r#"{{"choices":[{{"delta":{{"content":"{word}"}}}}]}}"#);
        len += data.len() + 8;
        tokens.push(Spec {
            event: None,
            id: None,
            data,
        });
    }
    let mut json = Vec::new();
    let mut len = 0;
    while len < size {
        let data = json_kib(&mut rng);
        let id = (rng.next() % 1_000_000).to_string();
        len += data.len() + id.len() + 30;
        json.push(Spec {
            event: Some("update".to_string()),
            id: Some(id),
            data,
        });
    }
    vec![Corpus::new("tokens", tokens), Corpus::new("json-1k", json)]
}

/// Where contenders put their output; reused across runs.
#[derive(Debug)]
pub struct Output {
    /// A buffer the size of the reference encoding, for ours and the baselines.
    pub buf: Vec<u8>,
    /// The frames of contenders that hand out one `Bytes` per event.
    pub frames: Vec<Bytes>,
}

impl Output {
    /// Room for `corpus`, allocated once.
    pub fn new(corpus: &Corpus) -> Output {
        Output {
            buf: vec![0; corpus.reference.len()],
            frames: Vec::with_capacity(corpus.events.len()),
        }
    }

    /// The stream a run wrote, `len` bytes.
    pub fn stream(&self, len: usize) -> Vec<u8> {
        if self.frames.is_empty() {
            self.buf[..len].to_vec()
        } else {
            self.frames.concat()
        }
    }
}

/// An encoder under test.
#[derive(Debug, Clone, Copy)]
pub struct Contender {
    /// Its name in reports.
    pub name: &'static str,
    /// Whether it is a baseline that copies the reference rather than encoding.
    pub baseline: bool,
    /// Encodes every event of the corpus; returns the bytes written.
    pub run: fn(&Corpus, &mut Output) -> usize,
}

/// Every contender: ours, the peers, then the baselines.
pub fn contenders() -> Vec<Contender> {
    vec![
        Contender {
            name: "sse-proto",
            baseline: false,
            run: ours,
        },
        Contender {
            name: "sse-stream",
            baseline: false,
            run: sse_stream,
        },
        Contender {
            name: "axum",
            baseline: false,
            run: axum,
        },
        Contender {
            name: "fields unchecked",
            baseline: true,
            run: fields_unchecked,
        },
        Contender {
            name: "memcpy per event",
            baseline: true,
            run: memcpy_per_event,
        },
        Contender {
            name: "memcpy whole",
            baseline: true,
            run: memcpy_whole,
        },
    ]
}

/// Parses what a contender wrote and compares the events with the corpus; `Err`
/// says what is wrong.
pub fn check(
    contender: &Contender,
    corpus: &Corpus,
    output: &Output,
    len: usize,
) -> Result<(), String> {
    let stream = output.stream(len);
    let fail = |what: String| Err(format!("{} on {}: {what}", contender.name, corpus.name));
    if stream.len() != len {
        return fail(format!("reported {len} bytes, wrote {}", stream.len()));
    }
    let mut parser = Parser::new();
    let mut input = &stream[..];
    let mut events = corpus.events.iter();
    let mut last_id = String::new();
    loop {
        let item = match parser.parse(&mut input) {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(e) => return fail(format!("parse error {e}")),
        };
        let Item::Event(got) = item else {
            return fail(format!("unexpected item {item:?}"));
        };
        let Some(want) = events.next() else {
            return fail("more events than sent".to_string());
        };
        if let Some(id) = &want.id {
            last_id.clone_from(id);
        }
        let want_type = want.event.as_deref().unwrap_or("message");
        if got.event_type() != want_type
            || got.data() != want.data.as_str()
            || got.last_event_id() != last_id.as_str()
        {
            return fail(format!("got {got:?}, want {want:?}"));
        }
    }
    if parser.finish() || events.next().is_some() {
        return fail("fewer events than sent".to_string());
    }
    Ok(())
}

fn message(spec: &Spec) -> Message<&str> {
    let mut message = Message::new(spec.data.as_str());
    message.event = spec.event.as_deref();
    message.id = spec.id.as_deref();
    message
}

/// Ours: `Encode::encode` of a borrowing `Message`, each event after the last in
/// one reused buffer.
pub fn ours(corpus: &Corpus, out: &mut Output) -> usize {
    let mut pos = 0;
    for spec in corpus.events.iter() {
        pos += message(spec)
            .encode(&mut out.buf[pos..])
            .expect("the buffer fits the corpus");
    }
    pos
}

/// sse-stream: an `Sse` block (owned `String`s, as its builder takes) encoded to
/// `Bytes`.
pub fn sse_stream(corpus: &Corpus, out: &mut Output) -> usize {
    out.frames.clear();
    let mut len = 0;
    for spec in corpus.events.iter() {
        let mut block = sse_stream::Sse::default();
        if let Some(event) = &spec.event {
            block = block.event(event.as_str());
        }
        if let Some(id) = &spec.id {
            block = block.id(id.as_str());
        }
        let frame = block
            .data(spec.data.as_str())
            .encode()
            .expect("valid events");
        len += frame.len();
        out.frames.push(frame);
    }
    len
}

/// axum: `response::sse::Event`s from a stream, through `Sse`'s response body, whose
/// frames are the encoded events. No runtime: the body is polled with
/// `futures::executor::block_on`. (`Event::finalize`, which makes the bytes, is
/// private; the response body is the only public way to them.)
pub fn axum(corpus: &Corpus, out: &mut Output) -> usize {
    use axum::response::IntoResponse;
    use axum::response::sse::{Event, Sse};

    out.frames.clear();
    let events = Arc::clone(&corpus.events);
    let stream = futures::stream::iter(0..events.len()).map(move |i| {
        let spec = &events[i];
        let mut event = Event::default();
        if let Some(t) = &spec.event {
            event = event.event(t);
        }
        if let Some(id) = &spec.id {
            event = event.id(id);
        }
        Ok::<_, Infallible>(event.data(&spec.data))
    });
    let mut body = Sse::new(stream)
        .into_response()
        .into_body()
        .into_data_stream();
    futures::executor::block_on(async {
        let mut len = 0;
        while let Some(frame) = body.next().await {
            let frame = frame.expect("an infallible stream");
            len += frame.len();
            out.frames.push(frame);
        }
        len
    })
}

/// Baseline: the block's fields copied into place from the event, without
/// checking the type and ID for line ends, the data for lines, or the buffer's
/// room: what an encoder that trusted its input could do, for corpora (as these)
/// whose data is one line. The floor under any encoder that reads the same events.
pub fn fields_unchecked(corpus: &Corpus, out: &mut Output) -> usize {
    fn put(buf: &mut [u8], pos: &mut usize, bytes: &[u8]) {
        buf[*pos..*pos + bytes.len()].copy_from_slice(bytes);
        *pos += bytes.len();
    }
    let buf = &mut out.buf[..];
    let mut pos = 0;
    for spec in corpus.events.iter() {
        if let Some(event) = &spec.event {
            put(buf, &mut pos, b"event: ");
            put(buf, &mut pos, event.as_bytes());
            put(buf, &mut pos, b"\n");
        }
        if let Some(id) = &spec.id {
            put(buf, &mut pos, b"id: ");
            put(buf, &mut pos, id.as_bytes());
            put(buf, &mut pos, b"\n");
        }
        put(buf, &mut pos, b"data: ");
        put(buf, &mut pos, spec.data.as_bytes());
        put(buf, &mut pos, b"\n\n");
    }
    pos
}

/// Baseline: copying each event's reference bytes into place, one copy per event.
pub fn memcpy_per_event(corpus: &Corpus, out: &mut Output) -> usize {
    let mut start = 0;
    for &end in &corpus.ends {
        out.buf[start..end].copy_from_slice(&corpus.reference[start..end]);
        start = end;
    }
    start
}

/// Baseline: copying all the reference bytes at once.
pub fn memcpy_whole(corpus: &Corpus, out: &mut Output) -> usize {
    out.buf.copy_from_slice(&corpus.reference);
    corpus.reference.len()
}
