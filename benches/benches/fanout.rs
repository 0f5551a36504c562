//! One publish with N subscribers waiting: our `Hub` beside a tokio `broadcast`
//! channel (see `sse_benches::fanout`), at 100, 1,000 and 10,000 subscribers.
//!
//! `cargo bench -p sse-benches --bench fanout` runs it; `-- --test` runs each case
//! once with 100 subscribers and checks that every subscriber got every event, as CI
//! does. `cargo run --release -p sse-benches --bin bench-report -- publish-ratio`
//! gives the ratios from interleaved runs.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use sse_benches::fanout::{BroadcastFanout, Fanout, HubFanout, publish_time};

fn fanout(c: &mut Criterion) {
    let test = std::env::args().any(|a| a == "--test");
    let sizes: &[usize] = if test { &[100] } else { &[100, 1_000, 10_000] };
    for &n in sizes {
        let mut group = c.benchmark_group(format!("publish/{n}"));
        group.sample_size(20);
        group.warm_up_time(Duration::from_millis(200));
        group.measurement_time(Duration::from_secs(2));
        let contenders: [(&str, Box<dyn Fanout>); 2] = [
            ("sse-tokio Hub", Box::new(HubFanout::new(n))),
            ("tokio broadcast", Box::new(BroadcastFanout::new(n))),
        ];
        for (name, mut fanout) in contenders {
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let rounds = usize::try_from(iters).unwrap_or(usize::MAX).max(1);
                    publish_time(fanout.as_mut(), n, rounds) * u32::try_from(iters).unwrap_or(1)
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, fanout);
criterion_main!(benches);
