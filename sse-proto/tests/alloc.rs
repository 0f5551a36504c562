//! Steady-state parsing allocates nothing: a counting global allocator proves it.
//! Each test counts its own thread's allocations, so tests may run side by side.

#![cfg(feature = "std")]

use sse_proto::{Item, OwnedItem, OwnedParser, Parser};
use test_support::counting::{Counting, thread_allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Feeds `stream` in `chunk`-byte pieces; returns (events, total data bytes).
fn parse(parser: &mut Parser, stream: &[u8], chunk: usize) -> (usize, usize) {
    let (mut events, mut bytes) = (0, 0);
    for piece in stream.chunks(chunk) {
        let mut input = piece;
        while let Some(item) = parser.parse(&mut input).unwrap() {
            if let Item::Event(e) = item {
                events += 1;
                bytes += e.data().len();
            }
        }
    }
    (events, bytes)
}

#[test]
fn steady_state_parsing_does_not_allocate() {
    let mut stream = Vec::new();
    for i in 0..2000 {
        stream.extend_from_slice(
            format!("id: {i}\nevent: delta\ndata: {{\"n\":{i}}}\ndata: second line\n\n").as_bytes(),
        );
        stream.extend_from_slice(b": keep-alive\r\n");
    }
    for chunk in [1, 7, 1460, 65536] {
        let mut parser = Parser::new();
        // Warm up: the buffers grow to the largest event once.
        parse(&mut parser, &stream, chunk);
        let before = thread_allocations();
        let (events, _) = parse(&mut parser, &stream, chunk);
        let after = thread_allocations();
        assert_eq!(events, 2000);
        assert_eq!(
            after - before,
            0,
            "{} allocations with {chunk}-byte chunks",
            after - before
        );
    }
}

/// Feeds `stream` to an `OwnedParser` in `chunk`-byte `Bytes` (made before the
/// count starts), twice; returns (events, allocations while parsing and dropping
/// the second time's events): the parser's buffers grow in the first.
fn owned(stream: &[u8], chunk: usize) -> (usize, usize) {
    owned_by(stream, chunk, |parser| {
        let mut events = 0;
        while let Some(item) = parser.next() {
            if let OwnedItem::Event(event) = item {
                assert!(!event.data().is_empty());
                events += 1;
            }
        }
        events
    })
}

/// [`owned`], the events of each chunk taken by `read` (which counts them).
fn owned_by(
    stream: &[u8],
    chunk: usize,
    mut read: impl FnMut(&mut OwnedParser) -> usize,
) -> (usize, usize) {
    let chunks = || -> Vec<bytes::Bytes> {
        let chunks: Vec<bytes::Bytes> = stream
            .chunks(chunk)
            .map(bytes::Bytes::copy_from_slice)
            .collect();
        // A `Bytes` made from a `Vec` makes its shared header when first cloned,
        // once per chunk, whoever clones it: made here, before the count.
        drop(chunks.iter().map(|c| c.slice(1..)).collect::<Vec<_>>());
        chunks
    };
    let mut parser = OwnedParser::new(Parser::new());
    let (warm_up, chunks) = (chunks(), chunks());
    let mut run = |chunks: Vec<bytes::Bytes>| {
        let mut events = 0;
        for chunk in chunks {
            parser.push(chunk);
            events += read(&mut parser);
        }
        events
    };
    run(warm_up);
    let before = thread_allocations();
    let events = run(chunks);
    (events, thread_allocations() - before)
}

/// How many of the events of `ends` (where each event's block ends, in order) a
/// chunk boundary cuts.
fn cut(ends: &[usize], chunk: usize) -> usize {
    let mut start = 0;
    let mut n = 0;
    for &end in ends {
        if start / chunk != (end - 1) / chunk {
            n += 1;
        }
        start = end;
    }
    n
}

/// Three kinds of stream of 2,000 events, each with where each event's block ends:
/// tokens (no ID, no type), an ID and a type on every event, and an ID set once
/// and inherited by the events that follow (one in 50).
fn kinds() -> [(Vec<u8>, Vec<usize>); 3] {
    let kinds: [&dyn Fn(usize) -> String; 3] = [
        &|i| format!("data: {{\"token\":\"t{i}\"}}\n\n"),
        &|i| format!("id: {i}\nevent: delta\ndata: {{\"n\":{i}}}\n\n"),
        &|i| match i % 50 {
            0 => format!("id: run-{i}\ndata: {i}\n\n"),
            _ => format!("data: {i}\n\n"),
        },
    ];
    kinds.map(|make| {
        let (mut stream, mut ends) = (Vec::new(), Vec::new());
        for i in 0..2000 {
            stream.extend_from_slice(make(i).as_bytes());
            ends.push(stream.len());
        }
        (stream, ends)
    })
}

#[test]
fn owned_events_allocate_only_when_cut() {
    for (kind, (stream, ends)) in kinds().iter().enumerate() {
        for chunk in [1460, 65536] {
            let (events, allocations) = owned(stream, chunk);
            assert_eq!(events, 2000);
            // At most one for each event a chunk's end cuts, and for each new
            // ID that is kept for the events after it (kind 2: one in 50).
            let bound = cut(ends, chunk) + if kind == 2 { 2000 / 50 } else { 0 };
            assert!(
                allocations <= bound,
                "kind {kind}, {chunk}-byte chunks: {allocations} allocations for {events} events, {bound} allowed",
            );
        }
    }
}

#[test]
fn batches_read_into_one_batch_allocate_nothing_per_chunk() {
    // The streams of `owned_events_allocate_only_when_cut`, read a chunk's events
    // at a time into one batch: a batch of its own per chunk made one or two lists
    // each (0.16 allocations per token event at 1460-byte chunks).
    for (kind, (stream, _)) in kinds().iter().enumerate() {
        for chunk in [1460, 65536] {
            let mut batch = sse_proto::EventBatch::default();
            let (events, allocations) = owned_by(stream, chunk, |parser| {
                let mut events = 0;
                while parser.next_batch_into(&mut batch) {
                    events += batch.len();
                }
                events
            });
            assert_eq!(events, 2000);
            // What `next` allocates for the same events (the data of events a
            // chunk's end cuts, the IDs that later events inherit): nothing more.
            let (_, by_next) = owned(stream, chunk);
            assert!(
                allocations <= by_next,
                "kind {kind}, {chunk}-byte chunks: {allocations} allocations, {by_next} by next",
            );
            if kind == 0 {
                assert_eq!(allocations, 0, "tokens, {chunk}-byte chunks");
            }
        }
    }
}

/// A reader that hands out at most `max` bytes per `read`.
struct Trickle<'a> {
    rest: &'a [u8],
    max: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.max).min(self.rest.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

#[test]
fn event_reader_allocates_per_read_buffer_not_per_event() {
    let mut stream = Vec::new();
    for i in 0..20_000 {
        stream.extend_from_slice(format!("data: {{\"token\":\"t{i}\"}}\n\n").as_bytes());
        if i % 100 == 0 {
            stream.extend_from_slice(format!("event: tick\ndata: {i}\ndata: b\n\n").as_bytes());
        }
    }
    for max in [1460, 65536] {
        let before = thread_allocations();
        let reader = sse_proto::EventReader::new(Trickle { rest: &stream, max });
        let mut events = 0;
        for event in reader {
            assert!(!event.unwrap().data().is_empty());
            events += 1;
        }
        let allocations = thread_allocations() - before;
        assert_eq!(events, 20_200);
        // The read buffer and its shared header, the parser's buffers as they
        // grow: a handful for 20,200 events (copying each event out of the read
        // buffer made one each). (An ID that later events inherit is one more,
        // as in `owned_events_allocate_only_when_cut`: none here.)
        assert!(
            allocations <= 16,
            "{max}-byte reads: {allocations} allocations for {events} events"
        );
    }
}
