//! The encoder benchmark's contenders write correct streams, and ours allocates
//! nothing per event: `Encode::encode` into a reused buffer is allocation-free.
//!
//! One test function: the allocation counter is global, and tests in one binary run
//! in parallel threads.

use sse_benches::encode::{Output, check, contenders, corpora};
use test_support::counting::{Counting, allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn every_contender_is_correct_and_ours_allocates_nothing() {
    for corpus in corpora(64 << 10) {
        assert!(corpus.events.len() > 50, "{}", corpus.name);
        for contender in contenders() {
            let mut out = Output::new(&corpus);
            // Counted from the first run: ours sets nothing up lazily.
            let before = allocations();
            let len = (contender.run)(&corpus, &mut out);
            let count = allocations() - before;
            check(&contender, &corpus, &out, len).unwrap();
            if contender.name == "sse-proto" {
                assert_eq!(
                    count,
                    0,
                    "{}: allocations over {} events",
                    corpus.name,
                    corpus.events.len()
                );
            }
        }
    }
}
