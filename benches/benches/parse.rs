//! Parsing throughput: sse-proto beside the Rust peers and two baselines (finding
//! every line end with memchr2, and copying every byte), on each corpus, in 64 KiB
//! chunks and in 1460-byte chunks (one TCP segment).
//!
//! `cargo bench -p sse-benches` runs it all (16 MiB corpora; `SSE_BENCH_MIB` changes
//! that); `SSE_BENCH_QUICK=1 cargo bench -p sse-benches` is the short mode (about a
//! minute);
//! `cargo bench -p sse-benches -- --test` runs each case once on small corpora and
//! checks every contender's output, as CI does.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use sse_benches::{Corpus, check, chunks, contenders, corpora};
use sse_proto::{Item, Parser};

const MIB: usize = 1 << 20;

fn test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

/// `SSE_BENCH_QUICK=1`: the short mode, about a minute: 1 MiB corpora, brief
/// warm-up and measurement.
fn quick() -> bool {
    std::env::var_os("SSE_BENCH_QUICK").is_some_and(|v| v != "0")
}

/// How long criterion warms up and measures each case.
fn timing() -> (Duration, Duration) {
    if quick() {
        (Duration::from_millis(50), Duration::from_millis(250))
    } else {
        (Duration::from_millis(300), Duration::from_secs(2))
    }
}

/// Ten samples, the warm-up and measurement times of [`timing`], and in the short
/// mode fewer bootstrap resamples (criterion's 100,000 per case cost more than the
/// measurement itself there).
fn configure<M: criterion::measurement::Measurement>(group: &mut BenchmarkGroup<'_, M>) {
    group.sample_size(10);
    group.warm_up_time(timing().0);
    group.measurement_time(timing().1);
    if quick() {
        group.nresamples(5_000);
    }
}

fn corpus_size() -> usize {
    if test_mode() {
        return 256 * 1024;
    }
    if quick() {
        return MIB;
    }
    std::env::var("SSE_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16)
        * MIB
}

/// Contenders that are quadratic on some inputs, left out there so a run ends.
fn too_slow(contender: &str, corpus: &Corpus, chunk: usize) -> bool {
    contender == "eventsource-stream" && corpus.name == "large-256k" && chunk < 65536
}

fn parse(c: &mut Criterion) {
    let all = contenders();
    for corpus in corpora(corpus_size()) {
        for chunk in [65536, 1460] {
            let pieces = chunks(&corpus, chunk);
            let mut group = c.benchmark_group(format!("parse/{}/{}", corpus.name, chunk));
            group.throughput(Throughput::Bytes(corpus.bytes.len() as u64));
            configure(&mut group);
            for contender in &all {
                if too_slow(contender.name, &corpus, chunk) {
                    continue;
                }
                // Check the output before timing: a number from a wrong parse is
                // worthless.
                if let Err(e) = check(contender, &corpus, (contender.run)(&pieces)) {
                    panic!("{e}");
                }
                group.bench_function(contender.name, |b| {
                    b.iter(|| (contender.run)(black_box(&pieces)))
                });
            }
            group.finish();
        }
    }
}

/// Linear time: one 1 MiB line fed whole and one byte at a time.
fn linear(c: &mut Criterion) {
    let len = if test_mode() { 64 * 1024 } else { MIB };
    let mut input = b"data: ".to_vec();
    input.extend(std::iter::repeat_n(b'x', len));
    input.extend_from_slice(b"\n\n");
    let run = |chunk: usize| {
        let mut parser = Parser::new();
        let mut data = 0;
        for piece in input.chunks(chunk) {
            let mut piece = piece;
            while let Some(item) = parser.parse(&mut piece).unwrap() {
                if let Item::Event(e) = item {
                    data += e.data().len();
                }
            }
        }
        assert_eq!(data, len);
        data
    };
    let mut group = c.benchmark_group("linear/1MiB-line");
    group.throughput(Throughput::Bytes(input.len() as u64));
    configure(&mut group);
    group.bench_function("whole", |b| b.iter(|| run(black_box(input.len()))));
    group.bench_function("1-byte chunks", |b| b.iter(|| run(black_box(1))));
    group.finish();
}

criterion_group!(benches, parse, linear);
criterion_main!(benches);
