//! Any bytes, under any configuration and chunking, into the parser: no panic, and
//! the chunking changes nothing (see `conformance::fuzz::parser`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| conformance::fuzz::parser::check(data));
