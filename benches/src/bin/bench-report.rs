//! Measurements criterion does not make.
//!
//! - `bench-report allocs [MiB]`: steady-state allocations per event for every
//!   contender on every corpus: the allocations of a run over twice the corpus minus
//!   those of a run over the corpus, per extra event (a counting global allocator).
//!   One-time setup (buffers growing to the largest event) cancels out.
//! - `bench-report run CONTENDER CORPUS CHUNK [MiB]`: one run, to be counted under
//!   `valgrind --tool=callgrind` (see `benches/callgrind.sh`).

use sse_benches::counting::{Counting, allocations};
use sse_benches::{check, chunks, contenders, corpora};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mib = |i: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(4usize) << 20;
    match args.first().map(String::as_str) {
        Some("allocs") => allocs(mib(1)),
        Some("run") if args.len() >= 4 => {
            let corpus = corpora(mib(4))
                .into_iter()
                .find(|c| c.name == args[2])
                .expect("no such corpus");
            let contender = contenders()
                .into_iter()
                .find(|c| c.name == args[1])
                .expect("no such contender");
            let chunk: usize = args[3].parse().expect("chunk size");
            let pieces = chunks(&corpus, chunk);
            let tally = (contender.run)(&pieces);
            check(&contender, &corpus, tally).unwrap();
            println!("{} {} {chunk}: {tally:?}", contender.name, corpus.name);
        }
        _ => eprintln!(
            "usage: bench-report allocs [MiB] | bench-report run CONTENDER CORPUS CHUNK [MiB]"
        ),
    }
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
