//! What must hold for every input, however hostile: the checks behind the fuzz
//! targets in `fuzz/` (one call each), also run on the stable toolchain by this
//! crate's tests over the seeds and a seeded mutator.
//!
//! - [`parser`]: raw bytes, a configuration and a chunking into the
//!   [`Parser`](sse_proto::Parser); nothing panics, the chunking changes nothing,
//!   the fixed-buffer parser agrees with the growable one, limits hold, and whatever
//!   stays within the limits equals the naive [`reference`](crate::reference).
//! - [`encoder`]: arbitrary messages, comments and retry times through the encoder;
//!   each one is refused for a documented reason, or parses back to itself.
//! - [`connection`]: arbitrary sequences of network events, timer firings and polls
//!   into the [`Connection`](sse_proto::Connection) state machine; it stays in a
//!   valid state.
//!
//! A check panics, with a message that says which rule broke, when an input breaks
//! a rule; that is what the fuzzer reports.

pub mod connection;
pub mod encoder;
pub mod parser;

use arbitrary::{Arbitrary, Unstructured};

/// Runs `check` on the case that all of `data` reads as; data that reads as no case
/// is skipped.
fn check_arbitrary<'a, C: Arbitrary<'a>>(data: &'a [u8], check: impl FnOnce(&C)) {
    if let Ok(case) = C::arbitrary_take_rest(Unstructured::new(data)) {
        check(&case);
    }
}

/// Chunk lengths used in turn until the input runs out; a zero is an empty chunk.
/// With no lengths, or only zeros, one byte per chunk.
pub fn cut<'a>(input: &'a [u8], lens: &[u8]) -> Vec<&'a [u8]> {
    if lens.iter().all(|&len| len == 0) {
        return input.chunks(1).collect();
    }
    let mut chunks = Vec::new();
    let mut rest = input;
    for &len in lens.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(usize::from(len).min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn cut_cycles_lengths_and_keeps_empty_chunks() {
        let input = b"abcdefg";
        assert_eq!(cut(input, &[]), input.chunks(1).collect::<Vec<_>>());
        assert_eq!(cut(input, &[0, 0]), input.chunks(1).collect::<Vec<_>>());
        assert_eq!(cut(input, &[2, 0, 3]), [&b"ab"[..], b"", b"cde", b"fg"]);
        assert!(cut(b"", &[1]).is_empty());
    }
}
