//! A view of bytes from the event stream that is meant to be read as UTF-8 text.
//!
//! The WHATWG model decodes the whole stream as UTF-8 (with U+FFFD for invalid
//! sequences) before it splits lines. Every byte the parser splits on (CR, LF, `:`,
//! space) is ASCII, and an ASCII byte always decodes as itself, whatever precedes it,
//! so splitting the raw bytes first and decoding each field afterwards gives exactly the
//! same text. That is why the parser works on bytes and hands out [`Text`]: zero-copy
//! bytes, with the decoding done only when, and if, the caller asks for a string.

use core::fmt;
use core::str::Utf8Error;

/// Bytes of a field value, an event's data or a comment, as they appeared on the wire.
///
/// Use [`as_bytes`](Text::as_bytes) for raw access (for example to hand JSON data to
/// `serde_json::from_slice`), [`to_str`](Text::to_str) for a borrowed `&str` when the
/// bytes are valid UTF-8, and, with the `alloc` feature,
/// [`to_string_lossy`](Text::to_string_lossy) for the spec's decoding (invalid sequences
/// become U+FFFD), which borrows whenever the bytes are already valid.
///
/// ```
/// use sse_proto::Text;
///
/// let text = Text::new(b"caf\xc3\xa9");
/// assert_eq!(text.to_str(), Ok("café"));
/// assert_eq!(text, "café");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Text<'a>(&'a [u8]);

impl<'a> Text<'a> {
    /// Wraps raw bytes.
    pub const fn new(bytes: &'a [u8]) -> Self {
        Text(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The length in bytes.
    pub const fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text as a `&str`, if the bytes are valid UTF-8.
    pub fn to_str(&self) -> Result<&'a str, Utf8Error> {
        core::str::from_utf8(self.0)
    }

    /// The valid runs and invalid sequences, for lossy decoding without allocating:
    /// write each valid part, and U+FFFD for each non-empty invalid part.
    ///
    /// ```
    /// use sse_proto::Text;
    ///
    /// let mut out = String::new();
    /// for chunk in Text::new(b"a\xffb").utf8_chunks() {
    ///     out.push_str(chunk.valid());
    ///     if !chunk.invalid().is_empty() {
    ///         out.push('\u{FFFD}');
    ///     }
    /// }
    /// assert_eq!(out, "a\u{FFFD}b");
    /// ```
    pub fn utf8_chunks(&self) -> core::str::Utf8Chunks<'a> {
        self.0.utf8_chunks()
    }

    /// The text decoded as the spec decodes the stream: invalid UTF-8 sequences become
    /// U+FFFD. Borrows when the bytes are valid UTF-8.
    ///
    /// ```
    /// use sse_proto::Text;
    ///
    /// assert_eq!(Text::new(b"ok\xe2\x82").to_string_lossy(), "ok\u{FFFD}");
    /// ```
    #[cfg(feature = "alloc")]
    pub fn to_string_lossy(&self) -> alloc::borrow::Cow<'a, str> {
        // `from_utf8` has a fast path for ASCII that `from_utf8_lossy`'s chunk walk
        // lacks, and valid text is by far the common case.
        match core::str::from_utf8(self.0) {
            Ok(text) => alloc::borrow::Cow::Borrowed(text),
            Err(_) => alloc::string::String::from_utf8_lossy(self.0),
        }
    }
}

impl fmt::Display for Text<'_> {
    /// Writes the lossy decoding (U+FFFD for invalid sequences).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for chunk in self.utf8_chunks() {
            fmt::Display::fmt(&chunk.valid().escape_debug(), f)?;
            for byte in chunk.invalid() {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<[u8]> for Text<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

impl AsRef<[u8]> for Text<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0
    }
}

impl<'a> From<&'a [u8]> for Text<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Text(bytes)
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(text: &'a str) -> Self {
        Text(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn display_replaces_invalid_sequences() {
        assert_eq!(
            format!("{}", Text::new(b"a\xe2\x82\n\x82b")),
            "a\u{FFFD}\n\u{FFFD}b"
        );
    }

    #[test]
    fn debug_shows_invalid_bytes() {
        assert_eq!(format!("{:?}", Text::new(b"a\"\xff")), "\"a\\\"\\xff\"");
    }
}
