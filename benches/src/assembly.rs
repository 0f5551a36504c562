//! What assembling long lines costs any parser, whatever its code: the baselines
//! behind the `large-256k` target (`bench-report assemble-ratio`).
//!
//! A 256 KiB event that arrives in 64 KiB or 1460-byte chunks must be copied into one
//! buffer to be handed out whole, and its line end must be found. The plain memcpy
//! baseline does neither: it copies each chunk into a chunk-sized buffer that stays
//! in the L1 or L2 cache. These functions measure, on the same chunks, the copy into
//! an event-sized buffer alone, a scan followed by that copy (what `sse-proto` does,
//! 16 KiB at a time), and the two fused into one SIMD pass, hand-written with AVX2
//! (`unsafe`, so here and never in the parser), as the fastest a parser could be.
//! Each returns (line ends, bytes assembled), so they cannot be optimised away.

use bytes::Bytes;

use crate::Tally;

/// The largest event these assemble before starting again (the corpus's events).
const EVENT: usize = 256 << 10;

/// How much one scan covers before its bytes are copied (as `sse-proto` does).
const BLOCK: usize = 16 << 10;

/// Copies every byte into an event-sized buffer, with no scan: the copy any parser
/// that hands out whole events must make, and nothing else.
pub fn copy_into_event(chunks: &[Bytes]) -> Tally {
    let mut event = Vec::with_capacity(EVENT + BLOCK);
    let mut total = 0;
    for chunk in chunks {
        if event.len() + chunk.len() > EVENT {
            total += event.len();
            event.clear();
        }
        event.extend_from_slice(chunk);
        std::hint::black_box(&event);
    }
    (0, total + event.len())
}

/// Finds each line end with memchr2 and copies the bytes before it into the event
/// buffer, a block at a time: two passes over each byte, the second from L1.
pub fn scan_then_copy(chunks: &[Bytes]) -> Tally {
    let mut event = Vec::with_capacity(EVENT + BLOCK);
    let (mut ends, mut total) = (0, 0);
    for chunk in chunks {
        for block in chunk.chunks(BLOCK) {
            let mut rest = block;
            while let Some(end) = memchr::memchr2(b'\r', b'\n', rest) {
                event.extend_from_slice(&rest[..end]);
                (ends, total) = (ends + 1, total + event.len());
                event.clear();
                rest = &rest[end + 1..];
            }
            event.extend_from_slice(rest);
        }
        std::hint::black_box(&event);
    }
    (ends, total + event.len())
}

/// The scan and the copy fused: each 64 bytes are loaded once, compared with CR and
/// LF, and stored. `None` where the CPU has no AVX2.
pub fn fused_copy_scan(chunks: &[Bytes]) -> Option<Tally> {
    #[cfg(target_arch = "x86_64")]
    return avx2::assemble(chunks);
    #[cfg(not(target_arch = "x86_64"))]
    return None;
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_or_si256, _mm256_set1_epi8,
        _mm256_storeu_si256, _mm256_testz_si256,
    };

    use bytes::Bytes;

    use super::{BLOCK, EVENT};
    use crate::Tally;

    /// [`fused_copy_scan`](super::fused_copy_scan) on x86_64.
    pub(super) fn assemble(chunks: &[Bytes]) -> Option<Tally> {
        if !std::is_x86_feature_detected!("avx2") {
            return None;
        }
        let mut event = Vec::with_capacity(EVENT + BLOCK);
        let (mut ends, mut total) = (0, 0);
        for chunk in chunks {
            let mut rest: &[u8] = chunk;
            // SAFETY: AVX2 is present (checked above).
            while let Some(end) = unsafe { copy_until_line_end(rest, &mut event) } {
                (ends, total) = (ends + 1, total + event.len());
                event.clear();
                rest = &rest[end + 1..];
            }
            std::hint::black_box(&event);
        }
        Some((ends, total + event.len()))
    }

    /// Appends `src` to `dst` up to its first CR or LF, whose index it returns (`None`
    /// if there is none: all of `src` was appended).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn copy_until_line_end(src: &[u8], dst: &mut Vec<u8>) -> Option<usize> {
        dst.reserve(src.len());
        let start = dst.len();
        let (cr, lf) = (_mm256_set1_epi8(b'\r' as i8), _mm256_set1_epi8(b'\n' as i8));
        let mut i = 0;
        while i + 64 <= src.len() {
            // SAFETY: `i + 64 <= src.len()`, so both 32-byte loads are inside `src`;
            // `reserve` made room for `src.len()` bytes after `start`, so both stores
            // are inside `dst`'s allocation (its length is set below, once written).
            unsafe {
                let p = src.as_ptr().add(i);
                let (a, b) = (
                    _mm256_loadu_si256(p.cast::<__m256i>()),
                    _mm256_loadu_si256(p.add(32).cast::<__m256i>()),
                );
                let ends = _mm256_or_si256(
                    _mm256_or_si256(_mm256_cmpeq_epi8(a, cr), _mm256_cmpeq_epi8(a, lf)),
                    _mm256_or_si256(_mm256_cmpeq_epi8(b, cr), _mm256_cmpeq_epi8(b, lf)),
                );
                if _mm256_testz_si256(ends, ends) == 0 {
                    break;
                }
                let q = dst.as_mut_ptr().add(start + i);
                _mm256_storeu_si256(q.cast::<__m256i>(), a);
                _mm256_storeu_si256(q.add(32).cast::<__m256i>(), b);
            }
            i += 64;
        }
        // SAFETY: the first `i` bytes after `start` were written above (initialised),
        // and `start + i` is within the capacity reserved.
        unsafe { dst.set_len(start + i) };
        let rest = &src[i..];
        let found = memchr::memchr2(b'\r', b'\n', rest);
        dst.extend_from_slice(&rest[..found.unwrap_or(rest.len())]);
        found.map(|end| i + end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assemblers_agree_on_lines_and_bytes() {
        let mut input = Vec::new();
        for (i, end) in [&b"\n"[..], b"\r\n", b"\r"]
            .iter()
            .cycle()
            .take(40)
            .enumerate()
        {
            input.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, 37 * i * i));
            input.extend_from_slice(end);
        }
        let chunks: Vec<Bytes> = input.chunks(1460).map(Bytes::copy_from_slice).collect();
        let lines = input.iter().filter(|&&b| b == b'\r' || b == b'\n').count();
        let expected = (lines, input.len() - lines);
        assert_eq!(scan_then_copy(&chunks), expected);
        if let Some(tally) = fused_copy_scan(&chunks) {
            assert_eq!(tally, expected);
        }
        assert_eq!(copy_into_event(&chunks).1, input.len());
    }
}
