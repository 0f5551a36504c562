//! Any sequence of network events, timer firings and polls into the client state
//! machine: it stays in a valid state (see `conformance::fuzz::connection`).
#![no_main]

use conformance::fuzz::connection::Case;

libfuzzer_sys::fuzz_target!(|case: Case| case.check());
