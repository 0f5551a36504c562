//! Measurements criterion does not make.
//!
//! - `bench-report allocs [MiB]`: steady-state allocations per event for every
//!   contender on every corpus: the allocations of a run over twice the corpus minus
//!   those of a run over the corpus, per extra event (a counting global allocator).
//!   One-time setup (buffers growing to the largest event) cancels out.
//! - `bench-report encode-allocs [KiB]`: allocations per encoded event for every
//!   encoder on every encoding corpus, over one run after a warm-up run (ours must
//!   be 0; `tests/encode_allocs.rs` asserts it).
//! - `bench-report encode-run CONTENDER CORPUS [RUNS]`: encodes a 256 KiB corpus
//!   RUNS times (default 1), for `perf` or callgrind.
//! - `bench-report encode-ratio [ROUNDS]`: wall-clock throughput of each encoder
//!   relative to `memcpy per event`, from runs interleaved round by round in one
//!   process and the fastest run of each kept, which is what survives a shared,
//!   noisy machine best (criterion's means move 20-50% here).
//! - `bench-report parse-ratio [ROUNDS] [MiB] [CORPUS]`: the same for the parsers:
//!   each contender's fastest of ROUNDS runs (default 30, 1 MiB corpora, every
//!   corpus unless one is named), interleaved round by round, as ratios to the
//!   memchr2 and memcpy baselines and to the fastest peer (eventsource-stream, far
//!   slower, is left out); then a second table of the floors under owned events
//!   (the borrowed parser with the UTF-8 check, then with a reference count per
//!   event too) beside `OwnedParser`, each as a fraction of the borrowed parser,
//!   the batch readers against the fastest peer, and the floor under a reader that
//!   copies each read (`+ copy`) against the fastest peer.
//! - `bench-report assemble-ratio [ROUNDS] [MiB]`: on the `large-256k` corpus, how
//!   close any parser that assembles long lines could come to memcpy: copying into an
//!   event-sized buffer alone, a scan then that copy, the two fused with AVX2 (see
//!   `sse_benches::assembly`), beside `sse-proto` and its `stream_data` mode, all as
//!   ratios to the memcpy baseline, from interleaved fastest runs as above.
//! - `bench-report publish-ratio [ROUNDS]`: the median time of one publish with N
//!   subscribers waiting (N = 100, 1,000, 10,000), our `Hub` and a tokio `broadcast`
//!   channel measured round by round in one process (see `sse_benches::fanout`), and
//!   their ratio.
//! - `bench-report run CONTENDER CORPUS CHUNK [MiB] [RUNS]`: the contender run RUNS
//!   times (default 1) on one corpus, to be counted under `valgrind --tool=callgrind`
//!   (see `benches/callgrind.sh`) or profiled with `perf record`; prints its fastest
//!   run's time, which `benches/ab.sh` compares between two builds.

use std::time::{Duration, Instant};

use sse_benches::{check, chunks, contenders, corpora, encode};
use test_support::counting::{Counting, allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mib = |i: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(4usize) << 20;
    match args.first().map(String::as_str) {
        Some("allocs") => allocs(mib(1)),
        Some("encode-allocs") => {
            let kib = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(256usize);
            encode_allocs(kib << 10);
        }
        Some("encode-run") if args.len() >= 3 => {
            let corpus = encode::corpora(256 << 10)
                .into_iter()
                .find(|c| c.name == args[2])
                .expect("no such corpus");
            let contender = encode::contenders()
                .into_iter()
                .find(|c| c.name == args[1])
                .expect("no such contender");
            let runs: usize = args.get(3).map_or(1, |s| s.parse().expect("runs"));
            let mut out = encode::Output::new(&corpus);
            let mut len = 0;
            for _ in 0..runs {
                len = (contender.run)(std::hint::black_box(&corpus), &mut out);
            }
            encode::check(&contender, &corpus, &out, len).unwrap();
            println!("{} {}: {len} bytes x {runs}", contender.name, corpus.name);
        }
        Some("parse-ratio") => {
            let rounds = args.get(1).map_or(30, |s| s.parse().expect("rounds"));
            let mib = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1usize);
            parse_ratio(rounds, mib << 20, args.get(3).map(String::as_str));
        }
        Some("assemble-ratio") => {
            let rounds = args.get(1).map_or(30, |s| s.parse().expect("rounds"));
            let mib = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1usize);
            assemble_ratio(rounds, mib << 20);
        }
        Some("publish-ratio") => {
            let rounds = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2_000);
            publish_ratio(rounds);
        }
        Some("encode-ratio") => {
            let rounds = args.get(1).map_or(200, |s| s.parse().expect("rounds"));
            encode_ratio(rounds);
        }
        Some("run") if args.len() >= 4 => {
            let corpus = sse_benches::corpus(&args[2], mib(4)).expect("no such corpus");
            let contender = contenders()
                .into_iter()
                .find(|c| c.name == args[1])
                .expect("no such contender");
            let chunk: usize = args[3].parse().expect("chunk size");
            let runs: usize = args.get(5).map_or(1, |s| s.parse().expect("runs"));
            let pieces = chunks(&corpus, chunk);
            let (mut tally, mut fastest) = ((0, 0), Duration::MAX);
            for _ in 0..runs {
                let start = Instant::now();
                tally = (contender.run)(std::hint::black_box(&pieces));
                fastest = fastest.min(start.elapsed());
            }
            check(&contender, &corpus, tally).unwrap();
            let mib_s = corpus.bytes.len() as f64 / fastest.as_secs_f64() / f64::from(1 << 20);
            println!(
                "{} {} {chunk}: {tally:?} x {runs}, fastest run {:.1} us ({mib_s:.0} MiB/s)",
                contender.name,
                corpus.name,
                fastest.as_secs_f64() * 1e6
            );
        }
        Some("linear") if args.len() >= 3 => {
            let kib: usize = args[1].parse().expect("line length in KiB");
            let chunk: usize = args[2].parse().expect("chunk size");
            let mut input = b"data: ".to_vec();
            input.extend(std::iter::repeat_n(b'x', kib << 10));
            input.extend_from_slice(b"\n\n");
            let data = linear(&input, chunk);
            println!("{kib} KiB line in {chunk}-byte chunks: {data} data bytes");
        }
        _ => eprintln!(
            "usage: bench-report allocs [MiB] | encode-allocs [KiB] | \
             encode-run CONTENDER CORPUS [RUNS] | encode-ratio [ROUNDS] | parse-ratio [ROUNDS] [MiB] [CORPUS] | \
             assemble-ratio [ROUNDS] [MiB] | run CONTENDER CORPUS CHUNK [MiB] [RUNS] | \
             linear KIB CHUNK"
        ),
    }
}

/// Parses one long line in `chunk`-byte pieces (counted under callgrind with
/// `--toggle-collect=bench_report::linear`).
#[inline(never)]
fn linear(input: &[u8], chunk: usize) -> usize {
    let mut parser = sse_proto::Parser::new();
    let mut data = 0;
    for piece in input.chunks(chunk) {
        let mut piece = piece;
        while let Some(item) = parser.parse(&mut piece).unwrap() {
            if let sse_proto::Item::Event(e) = item {
                data += e.data().len();
            }
        }
    }
    data
}

fn allocs(size: usize) {
    let all = contenders();
    print!("| corpus | chunk |");
    for c in all.iter().filter(|c| !c.baseline) {
        print!(" {} |", c.name);
    }
    println!();
    println!(
        "|---|---|{}",
        "---|".repeat(all.iter().filter(|c| !c.baseline).count())
    );
    let doubled = corpora(2 * size);
    for (corpus, twice) in corpora(size).into_iter().zip(doubled) {
        // The generator is deterministic: the doubled corpus starts with the corpus.
        assert!(twice.bytes.starts_with(&corpus.bytes));
        for chunk in [65536, 1460] {
            let (pieces, twice_pieces) = (chunks(&corpus, chunk), chunks(&twice, chunk));
            print!("| {} | {chunk} |", corpus.name);
            for contender in all.iter().filter(|c| !c.baseline) {
                if contender.name == "eventsource-stream"
                    && corpus.name == "large-256k"
                    && chunk < 65536
                {
                    print!(" skipped |");
                    continue;
                }
                let count = |pieces: &[bytes::Bytes], expect: &sse_benches::Corpus| {
                    let before = allocations();
                    let tally = (contender.run)(pieces);
                    let after = allocations();
                    check(contender, expect, tally).unwrap();
                    after - before
                };
                let (once, double) = (count(&pieces, &corpus), count(&twice_pieces, &twice));
                let extra_events = twice.events - corpus.events;
                print!(
                    " {:.3} |",
                    double.saturating_sub(once) as f64 / extra_events as f64
                );
            }
            println!();
        }
    }
}

fn encode_allocs(size: usize) {
    println!("| corpus | events | contender | allocations per event |");
    println!("|---|---|---|---|");
    for corpus in encode::corpora(size) {
        for contender in encode::contenders() {
            let mut out = encode::Output::new(&corpus);
            // A warm-up run, checked; then one counted run.
            let len = (contender.run)(&corpus, &mut out);
            encode::check(&contender, &corpus, &out, len).unwrap();
            let before = allocations();
            let len = (contender.run)(&corpus, &mut out);
            let count = allocations() - before;
            encode::check(&contender, &corpus, &out, len).unwrap();
            println!(
                "| {} | {} | {} | {:.3} |",
                corpus.name,
                corpus.events.len(),
                contender.name,
                count as f64 / corpus.events.len() as f64
            );
        }
    }
}

/// The fastest of `rounds` runs of each of `n` contenders (`run(i)` runs the `i`th),
/// interleaved round by round, so that a disturbance on a shared machine touches
/// every contender alike and a quiet moment is found for each.
fn fastest_runs(rounds: usize, n: usize, mut run: impl FnMut(usize)) -> Vec<Duration> {
    let mut best = vec![Duration::MAX; n];
    for _ in 0..rounds {
        for (i, best) in best.iter_mut().enumerate() {
            let start = Instant::now();
            run(i);
            *best = (*best).min(start.elapsed());
        }
    }
    best
}

fn parse_ratio(rounds: usize, size: usize, only: Option<&str>) {
    println!(
        "| corpus / chunk | sse-proto GiB/s | / memchr2 | / memcpy | / fastest peer (which) | stream_data / memchr2 | OwnedParser / fastest peer | OwnedParser / sse-proto | EventReader / fastest peer | sse-tokio EventStream / fastest peer | sse-tokio SseDecoder / fastest peer |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let all: Vec<_> = contenders()
        .into_iter()
        .filter(|c| c.name != "eventsource-stream")
        .collect();
    // What owned events cost at the least, in the same runs: printed after.
    let mut floors = Vec::new();
    for corpus in corpora(size) {
        if only.is_some_and(|name| name != corpus.name) {
            continue;
        }
        for chunk in [65536, 1460] {
            let pieces = chunks(&corpus, chunk);
            for contender in &all {
                check(contender, &corpus, (contender.run)(&pieces)).unwrap();
            }
            let best = fastest_runs(rounds, all.len(), |i| {
                std::hint::black_box((all[i].run)(std::hint::black_box(&pieces)));
            });
            let time = |name: &str| {
                let i = all.iter().position(|c| c.name == name).expect("contender");
                best[i].as_secs_f64()
            };
            let peer = all
                .iter()
                .zip(&best)
                .filter(|(c, _)| {
                    !c.baseline
                        && !c.name.starts_with("sse-proto")
                        && !c.name.starts_with("sse-tokio")
                })
                .min_by_key(|(_, b)| **b)
                .expect("a peer");
            let (ours, peer_time) = (time("sse-proto"), peer.1.as_secs_f64());
            println!(
                "| {}/{chunk} | {:.2} | {:.2}x | {:.2}x | {:.2}x ({}) | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x |",
                corpus.name,
                corpus.bytes.len() as f64 / ours / f64::from(1u32 << 30),
                time("memchr2 line ends") / ours,
                time("memcpy") / ours,
                peer_time / ours,
                peer.0.name,
                time("memchr2 line ends") / time("sse-proto stream_data"),
                peer_time / time("sse-proto OwnedParser"),
                ours / time("sse-proto OwnedParser"),
                peer_time / time("sse-proto EventReader"),
                peer_time / time("sse-tokio EventStream"),
                peer_time / time("sse-tokio SseDecoder"),
            );
            floors.push(format!(
                "| {}/{chunk} | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {:.2}x |",
                corpus.name,
                ours / time("sse-proto + UTF-8 check"),
                ours / time("sse-proto + UTF-8 check + refcount"),
                ours / time("sse-proto least owned reader"),
                peer_time / time("sse-proto least owned reader"),
                ours / time("sse-proto least batch reader"),
                peer_time / time("sse-proto least batch reader"),
                ours / time("sse-proto OwnedParser"),
                ours / time("sse-proto OwnedParser batches"),
                peer_time / time("sse-proto OwnedParser batches"),
                peer_time / time("sse-tokio EventStream batches"),
                peer_time / time("sse-proto EventReader batches"),
                peer_time / time("sse-tokio SseBatchDecoder"),
                peer_time / time("sse-proto + copy + UTF-8 check + refcount"),
            ));
        }
    }
    println!();
    println!(
        "| corpus / chunk | + UTF-8 check / sse-proto | + UTF-8 check + refcount / sse-proto | least owned reader / sse-proto | least owned reader / fastest peer | least batch reader / sse-proto | least batch reader / fastest peer | OwnedParser / sse-proto | OwnedParser batches / sse-proto | OwnedParser batches / fastest peer | EventStream batches / fastest peer | EventReader batches / fastest peer | SseBatchDecoder / fastest peer | + copy + UTF-8 check + refcount / fastest peer |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in floors {
        println!("{row}");
    }
}

fn assemble_ratio(rounds: usize, size: usize) {
    use sse_benches::assembly;
    type Run = Box<dyn Fn(&[bytes::Bytes]) -> usize>;
    let corpus = sse_benches::corpus("large-256k", size).expect("corpus");
    let contender = |name: &str| {
        let contender = contenders()
            .into_iter()
            .find(|c| c.name == name)
            .expect("contender");
        move |pieces: &[bytes::Bytes]| (contender.run)(pieces).1
    };
    let fused = assembly::fused_copy_scan(&[]).is_some();
    let mut runs: Vec<(&str, Run)> = vec![
        ("memcpy", Box::new(contender("memcpy"))),
        (
            "copy into the event",
            Box::new(|p| assembly::copy_into_event(p).1),
        ),
        ("memchr2", Box::new(contender("memchr2 line ends"))),
        (
            "scan, then copy",
            Box::new(|p| assembly::scan_then_copy(p).1),
        ),
        ("sse-proto", Box::new(contender("sse-proto"))),
        (
            "sse-proto stream_data",
            Box::new(contender("sse-proto stream_data")),
        ),
    ];
    if fused {
        runs.insert(
            4,
            (
                "fused AVX2",
                Box::new(|p| assembly::fused_copy_scan(p).expect("avx2").1),
            ),
        );
    }
    let names: Vec<&str> = runs.iter().map(|(name, _)| *name).collect();
    println!("| large-256k / chunk | {} |", names[1..].join(" | "));
    println!("|---|{}", "---|".repeat(names.len() - 1));
    for chunk in [65536, 1460] {
        let pieces = chunks(&corpus, chunk);
        let best = fastest_runs(rounds, runs.len(), |i| {
            std::hint::black_box((runs[i].1)(std::hint::black_box(&pieces)));
        });
        let memcpy = best[0].as_secs_f64();
        let cells: Vec<String> = best[1..]
            .iter()
            .map(|b| format!("{:.2}x", memcpy / b.as_secs_f64()))
            .collect();
        println!("| {chunk} | {} |", cells.join(" | "));
    }
    if !fused {
        println!("(no AVX2 on this CPU: the fused pass is left out)");
    }
}

fn encode_ratio(rounds: usize) {
    println!("| corpus | contender | best run | throughput / memcpy per event |");
    println!("|---|---|---|---|");
    for corpus in encode::corpora(256 << 10) {
        let all = encode::contenders();
        let mut outs: Vec<_> = all.iter().map(|_| encode::Output::new(&corpus)).collect();
        let best = fastest_runs(rounds, all.len(), |i| {
            std::hint::black_box((all[i].run)(std::hint::black_box(&corpus), &mut outs[i]));
        });
        for ((contender, out), _) in all.iter().zip(&outs).zip(&best) {
            let len = corpus.reference.len();
            encode::check(contender, &corpus, out, len).unwrap();
        }
        let memcpy = all
            .iter()
            .position(|c| c.name == "memcpy per event")
            .map(|i| best[i])
            .expect("a memcpy baseline");
        for (contender, best) in all.iter().zip(&best) {
            println!(
                "| {} | {} | {:.1} us | {:.2}x |",
                corpus.name,
                contender.name,
                best.as_secs_f64() * 1e6,
                memcpy.as_secs_f64() / best.as_secs_f64()
            );
        }
    }
}

fn publish_ratio(rounds: usize) {
    use sse_benches::fanout::{BroadcastFanout, HubFanout, publish_time};
    println!("| subscribers | Hub publish | broadcast send | Hub / broadcast |");
    println!("|---|---|---|---|");
    for n in [100, 1_000, 10_000] {
        let mut hub = HubFanout::new(n);
        let mut broadcast = BroadcastFanout::new(n);
        // Interleaved in blocks, so that both see the same machine.
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..10 {
            ours.push(publish_time(&mut hub, n, rounds / 10));
            theirs.push(publish_time(&mut broadcast, n, rounds / 10));
        }
        ours.sort();
        theirs.sort();
        let (ours, theirs) = (ours[ours.len() / 2], theirs[theirs.len() / 2]);
        println!(
            "| {n} | {:.1} µs | {:.1} µs | {:.2}x |",
            ours.as_secs_f64() * 1e6,
            theirs.as_secs_f64() * 1e6,
            ours.as_secs_f64() / theirs.as_secs_f64()
        );
    }
}
