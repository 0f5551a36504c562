//! UTF-8 checks of whole chunks and assembled data, by `simdutf8` (SIMD where the
//! CPU has it, `core`'s check where it does not).
//!
//! The only `unsafe` in this crate is here: a [`ByteString`] made of bytes that
//! were checked a line before, which saves checking them a second time.
#![allow(unsafe_code)]

use bytes::Bytes;
use bytestring::ByteString;

/// The longest prefix of `bytes` that is valid UTF-8, sharing its memory.
pub(crate) fn valid_prefix(mut bytes: Bytes) -> ByteString {
    let len = match simdutf8::compat::from_utf8(&bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    };
    bytes.truncate(len);
    // SAFETY: `simdutf8` checked `bytes[..len]`: all of `bytes` is valid UTF-8, or
    // (`Err`) everything before `valid_up_to` is, which is where a character begins.
    unsafe { ByteString::from_bytes_unchecked(bytes) }
}

/// `bytes` as text if all of it is valid UTF-8; else `bytes`, given back.
pub(crate) fn text(bytes: Bytes) -> Result<ByteString, Bytes> {
    if simdutf8::basic::from_utf8(&bytes).is_err() {
        return Err(bytes);
    }
    // SAFETY: `simdutf8` checked all of `bytes` on the line above.
    Ok(unsafe { ByteString::from_bytes_unchecked(bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_prefix_stops_before_the_first_invalid_byte() {
        let prefix = |bytes: &'static [u8]| valid_prefix(Bytes::from_static(bytes));
        assert_eq!(prefix(b"plain"), "plain");
        assert_eq!(prefix("h\u{e9}llo".as_bytes()), "h\u{e9}llo");
        assert_eq!(prefix(b"ab\xffcd"), "ab");
        // A character cut short, then more text: the prefix ends before it.
        assert_eq!(prefix(b"ab\xe2\x82cd"), "ab");
        assert_eq!(prefix(b"\xe2\x82"), "");
        assert_eq!(prefix(b""), "");
        // Long enough for the SIMD paths, invalid far in.
        let mut long = alloc::vec![b'x'; 1000];
        long[700] = 0xC0;
        assert_eq!(valid_prefix(Bytes::from(long)).len(), 700);
    }

    #[test]
    fn text_is_all_or_nothing() {
        let text = |bytes: &'static [u8]| super::text(Bytes::from_static(bytes));
        assert_eq!(
            text("\u{1F600} ok".as_bytes()).as_deref(),
            Ok("\u{1F600} ok")
        );
        // What fails is given back whole.
        assert_eq!(text(b"ok\x80"), Err(Bytes::from_static(b"ok\x80")));
        assert!(text(b"\xed\xa0\x80").is_err()); // a surrogate
        let mut long = alloc::vec![b'y'; 1000];
        assert!(super::text(Bytes::from(long.clone())).is_ok());
        long[999] = 0xF0;
        assert_eq!(
            super::text(Bytes::from(long.clone())),
            Err(Bytes::from(long))
        );
    }
}
