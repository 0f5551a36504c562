//! Encoding throughput: `sse_proto::Encode::encode` into a reused buffer, beside
//! sse-stream's and axum's encoders and two memcpy baselines (each event's finished
//! bytes copied into place one by one, and all of them in one copy), on LLM token
//! deltas (about 60 B per event) and 1 KiB JSON events with an ID and a type.
//! Throughput is the output's bytes, the same for every contender.
//!
//! `cargo bench -p sse-benches --bench encode` runs it (256 KiB of output per
//! corpus); `-- --test` runs each case once on small corpora and checks every
//! contender's output, as CI does. `cargo run --release -p sse-benches --bin
//! bench-report -- encode-allocs` counts allocations per event.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sse_benches::encode::{Output, check, contenders, corpora};

fn test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

fn encode(c: &mut Criterion) {
    let size = if test_mode() { 16 << 10 } else { 256 << 10 };
    for corpus in corpora(size) {
        let mut group = c.benchmark_group(format!("encode/{}", corpus.name));
        group.throughput(Throughput::Bytes(corpus.reference.len() as u64));
        group.sample_size(20);
        let quick = std::env::var_os("SSE_BENCH_QUICK").is_some_and(|v| v != "0");
        group.warm_up_time(Duration::from_millis(if quick { 50 } else { 500 }));
        group.measurement_time(Duration::from_millis(if quick { 250 } else { 3000 }));
        if quick {
            // Criterion's 100,000 bootstrap resamples per case cost more than the
            // short mode's measurement.
            group.nresamples(5_000);
        }
        for contender in contenders() {
            let mut out = Output::new(&corpus);
            // Check the output before timing: a number from wrong bytes is worthless.
            let len = (contender.run)(&corpus, &mut out);
            if let Err(e) = check(&contender, &corpus, &out, len) {
                panic!("{e}");
            }
            group.bench_function(contender.name, |b| {
                b.iter(|| (contender.run)(black_box(&corpus), &mut out))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, encode);
criterion_main!(benches);
