//! Any messages, comments and retry times: refused for a documented reason, or parsed
//! back to themselves (see `conformance::fuzz::encoder`).
#![no_main]

use conformance::fuzz::encoder::Case;

libfuzzer_sys::fuzz_target!(|case: Case| case.check());
