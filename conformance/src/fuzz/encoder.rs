//! The encoder under hostile strings: encode, then parse back.
//!
//! A [`Case`] is a list of blocks (messages, comments, retry times, keep-alives) whose
//! strings are built from fragments that matter to SSE: CR, LF, CRLF, NUL, `:`,
//! spaces, `data: `, blank lines, a BOM, and arbitrary text. For each block:
//!
//! - `validate`, `to_vec`, `encode` and `encode_buf` agree: the same error, or the
//!   same bytes, of exactly `encoded_len` bytes;
//! - an error is the documented one: the first CR or LF in the event type, else the
//!   first CR, LF or NUL in the ID, at the right index;
//! - into a buffer that is too small, or on any error, nothing is written.
//!
//! Then the blocks that encoded, concatenated, are parsed back, whole and in chunks,
//! and give exactly what went in: each comment line, each retry time, and each
//! message as one event with its type (or `message`), its data with line ends
//! normalised to LF, and the last event ID set by the latest `id`.

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use sse_proto::{Comment, Config, Encode, EncodeError, Item, KEEP_ALIVE, Message, Parser, Retry};

use super::{check_arbitrary, cut};

/// A string built from fragments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub String);

/// The fragments [`Text`] is built from.
#[derive(Debug, Clone, Arbitrary)]
enum Fragment {
    Str(String),
    Cr,
    Lf,
    CrLf,
    Nul,
    Colon,
    Space,
    Data,
    Blank,
    Bom,
}

impl<'a> Arbitrary<'a> for Text {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut text = String::new();
        for fragment in u.arbitrary_iter::<Fragment>()? {
            text.push_str(match &fragment? {
                Fragment::Str(s) => s,
                Fragment::Cr => "\r",
                Fragment::Lf => "\n",
                Fragment::CrLf => "\r\n",
                Fragment::Nul => "\0",
                Fragment::Colon => ":",
                Fragment::Space => " ",
                Fragment::Data => "data: ",
                Fragment::Blank => "\n\n",
                Fragment::Bom => "\u{FEFF}",
            });
        }
        Ok(Text(text))
    }
}

/// A reconnection time: any `Duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub struct Time {
    secs: u64,
    nanos: u32,
}

impl Time {
    fn duration(self) -> Duration {
        Duration::new(self.secs, self.nanos % 1_000_000_000)
    }
}

/// One block to encode.
#[derive(Debug, Clone, Arbitrary)]
pub enum Block {
    /// A [`Message`] with whichever fields are set.
    Message {
        /// The data.
        data: Text,
        /// The event type.
        event: Option<Text>,
        /// The ID.
        id: Option<Text>,
        /// The reconnection time.
        retry: Option<Time>,
        /// The comment.
        comment: Option<Text>,
    },
    /// A [`Comment`].
    Comment(Text),
    /// A [`Retry`].
    Retry(Time),
    /// [`KEEP_ALIVE`].
    KeepAlive,
}

/// One fuzz input for the encoder.
#[derive(Debug, Clone, Arbitrary)]
pub struct Case {
    /// The blocks, in order.
    pub blocks: Vec<Block>,
    /// A fixed buffer of this size is also tried for each block.
    pub buffer: u16,
    /// How to cut the encoded stream for parsing back (see [`cut`]).
    pub chunk_lens: Vec<u8>,
}

/// What a client should see: the parser's items, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Event {
        event_type: String,
        data: String,
        id: String,
    },
    Comment(String),
    Retry(u64),
}

/// Text split at CR, LF and CRLF, as the spec splits lines.
fn lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['\r', '\n']) {
        lines.push(&rest[..at]);
        let skip = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[at + skip..];
    }
    lines.push(rest);
    lines
}

/// The documented rule: whole milliseconds, rounded down, except that a non-zero time
/// under 1 ms is 1 ms (never `retry: 0`, which means "reconnect at once").
fn millis(time: Duration) -> u64 {
    if !time.is_zero() && time < Duration::from_millis(1) {
        return 1;
    }
    u64::try_from(time.as_millis()).unwrap_or(u64::MAX)
}

/// The error the encoder must give, if any: the event type is checked first.
fn expected_error(event: Option<&str>, id: Option<&str>) -> Option<EncodeError> {
    if let Some(index) = event.and_then(|e| e.find(['\r', '\n'])) {
        return Some(EncodeError::LineBreakInEvent { index });
    }
    let id = id?;
    let index = id.find(['\r', '\n', '\0'])?;
    Some(if id.as_bytes()[index] == 0 {
        EncodeError::NulInId { index }
    } else {
        EncodeError::LineBreakInId { index }
    })
}

/// Every way of encoding `item` agrees, and agrees with `expected`; returns the
/// bytes if it encoded.
fn encode_all_ways(
    item: &impl Encode,
    expected: Option<EncodeError>,
    buffer: usize,
) -> Option<Vec<u8>> {
    let show = || format!("{item:?}", item = DebugEncode(item));
    assert_eq!(
        item.validate(),
        expected.map_or(Ok(()), Err),
        "validate: {}",
        show()
    );
    let len = item.encoded_len();
    let vec = item.to_vec();
    match (&vec, expected) {
        (Err(e), Some(x)) => assert_eq!(*e, x, "to_vec: {}", show()),
        (Ok(bytes), None) => {
            assert_eq!(bytes.len(), len, "encoded_len: {}", show());
            assert!(std::str::from_utf8(bytes).is_ok(), "not UTF-8: {}", show());
        }
        (got, _) => panic!("to_vec gave {got:?}, expected {expected:?}: {}", show()),
    }

    // A fixed buffer, pre-filled so that any write shows.
    const FILL: u8 = 0xA5;
    let mut buf = vec![FILL; buffer];
    let result = item.encode(&mut buf);
    match (&vec, result) {
        (Ok(bytes), Ok(n)) => {
            assert_eq!(n, len, "encode: length: {}", show());
            assert_eq!(&buf[..n], &bytes[..], "encode: bytes: {}", show());
            assert!(
                buf[n..].iter().all(|&b| b == FILL),
                "encode: wrote past the end"
            );
        }
        (Ok(_), Err(e)) => {
            assert!(
                buffer < len,
                "encode failed with room to spare: {e}: {}",
                show()
            );
            assert_eq!(e, EncodeError::InsufficientSize { required_size: len });
            assert!(buf.iter().all(|&b| b == FILL), "encode: wrote on failure");
        }
        (Err(x), Err(e)) => {
            assert_eq!(e, *x, "encode: {}", show());
            assert!(buf.iter().all(|&b| b == FILL), "encode: wrote on failure");
        }
        (Err(x), Ok(_)) => panic!("encode succeeded where to_vec failed with {x}"),
    }

    // Through `bytes::BufMut`: into a growable buffer, and into a bounded slice.
    let mut grown = bytes::BytesMut::new();
    match (&vec, item.encode_buf(&mut grown)) {
        (Ok(bytes), Ok(n)) => {
            assert_eq!(n, len);
            assert_eq!(&grown[..], &bytes[..], "encode_buf: {}", show());
        }
        (Err(x), Err(e)) => {
            assert_eq!(e, *x, "encode_buf: {}", show());
            assert!(grown.is_empty(), "encode_buf wrote on failure");
        }
        (want, got) => panic!("encode_buf gave {got:?}, to_vec {want:?}: {}", show()),
    }
    let mut bounded = vec![FILL; buffer];
    let mut slice: &mut [u8] = &mut bounded;
    match (&vec, item.encode_buf(&mut slice)) {
        (Ok(bytes), Ok(n)) => assert_eq!(&bounded[..n], &bytes[..]),
        (Ok(_), Err(e)) => {
            assert_eq!(e, EncodeError::InsufficientSize { required_size: len });
            assert!(
                bounded.iter().all(|&b| b == FILL),
                "encode_buf wrote on failure"
            );
        }
        (Err(x), Err(e)) => {
            assert_eq!(e, *x);
            assert!(
                bounded.iter().all(|&b| b == FILL),
                "encode_buf wrote on failure"
            );
        }
        (Err(x), Ok(_)) => panic!("encode_buf succeeded where to_vec failed with {x}"),
    }
    vec.ok()
}

/// `Debug` for any encodable item (the trait has no `Debug` bound).
struct DebugEncode<'a, E>(&'a E);

impl<E: Encode> std::fmt::Debug for DebugEncode<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = self.0.to_vec();
        match bytes {
            Ok(bytes) => write!(f, "item encoding to \"{}\"", bytes.escape_ascii()),
            Err(e) => write!(f, "item refused with {e}"),
        }
    }
}

impl Case {
    /// Runs every check; panics on the first that fails.
    pub fn check(&self) {
        let buffer = usize::from(self.buffer);
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        let mut last_id = String::new();
        for block in &self.blocks {
            match block {
                Block::Message {
                    data,
                    event,
                    id,
                    retry,
                    comment,
                } => {
                    let mut message = Message::new(data.0.as_str());
                    message.event = event.as_ref().map(|e| e.0.as_str());
                    message.id = id.as_ref().map(|i| i.0.as_str());
                    message.retry = retry.map(Time::duration);
                    message.comment = comment.as_ref().map(|c| c.0.as_str());
                    let error = expected_error(message.event, message.id);
                    let Some(bytes) = encode_all_ways(&message, error, buffer) else {
                        continue;
                    };
                    stream.extend(bytes);
                    if let Some(comment) = message.comment {
                        expected
                            .extend(lines(comment).into_iter().map(|l| Seen::Comment(l.into())));
                    }
                    if let Some(id) = message.id {
                        last_id = id.to_string();
                    }
                    if let Some(retry) = message.retry {
                        expected.push(Seen::Retry(millis(retry)));
                    }
                    expected.push(Seen::Event {
                        event_type: match message.event {
                            Some(e) if !e.is_empty() => e.to_string(),
                            _ => "message".to_string(),
                        },
                        data: lines(message.data).join("\n"),
                        id: last_id.clone(),
                    });
                }
                Block::Comment(text) => {
                    let bytes = encode_all_ways(&Comment::new(text.0.as_str()), None, buffer)
                        .expect("a comment always encodes");
                    stream.extend(bytes);
                    expected.extend(lines(&text.0).into_iter().map(|l| Seen::Comment(l.into())));
                }
                Block::Retry(time) => {
                    let retry = Retry::new(time.duration());
                    let bytes =
                        encode_all_ways(&retry, None, buffer).expect("a retry time always encodes");
                    stream.extend(bytes);
                    expected.push(Seen::Retry(millis(time.duration())));
                }
                Block::KeepAlive => {
                    stream.extend_from_slice(KEEP_ALIVE);
                    expected.push(Seen::Comment(String::new()));
                }
            }
        }
        for chunks in [vec![&stream[..]], cut(&stream, &self.chunk_lens)] {
            let got = parse(&stream, &chunks);
            if got != expected {
                panic!(
                    "parsed back differently\n  stream: \"{}\"\n  chunk lengths: {:?}\n  expected: {expected:?}\n  got:      {got:?}",
                    stream.escape_ascii(),
                    self.chunk_lens
                );
            }
        }
    }
}

/// What a client reads from `chunks`.
fn parse(stream: &[u8], chunks: &[&[u8]]) -> Vec<Seen> {
    let mut parser = Parser::with_config(Config::new().comments(true).max_event_size(usize::MAX));
    let mut seen = Vec::new();
    for chunk in chunks {
        let mut input = *chunk;
        loop {
            let item = parser
                .parse(&mut input)
                .unwrap_or_else(|e| panic!("{e} parsing \"{}\"", stream.escape_ascii()));
            let lossless = |t: sse_proto::Text<'_>| {
                t.to_str()
                    .unwrap_or_else(|_| panic!("not UTF-8 in \"{}\"", stream.escape_ascii()))
                    .to_string()
            };
            match item {
                None => break,
                Some(Item::Event(e)) => seen.push(Seen::Event {
                    event_type: lossless(e.event_type()),
                    data: lossless(e.data()),
                    id: lossless(e.last_event_id()),
                }),
                Some(Item::Comment(text)) => seen.push(Seen::Comment(lossless(text))),
                Some(Item::Retry(time)) => seen.push(Seen::Retry(crate::millis(time))),
                Some(other) => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(!parser.finish(), "the encoding ended inside a block");
    seen
}

/// Runs the encoder check on a fuzz input.
pub fn check(data: &[u8]) {
    check_arbitrary(data, Case::check);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_like_the_spec() {
        assert_eq!(lines(""), [""]);
        assert_eq!(lines("a\r\nb\rc\n"), ["a", "b", "c", ""]);
        assert_eq!(lines("\r\r\n"), ["", "", ""]);
    }

    #[test]
    fn hostile_blocks_are_refused_or_round_trip() {
        let text = |s: &str| Text(s.to_string());
        Case {
            blocks: vec![
                Block::Message {
                    data: text("a\r\nb\rc\n"),
                    event: Some(text("")),
                    id: Some(text("7")),
                    retry: Some(Time {
                        secs: u64::MAX,
                        nanos: u32::MAX,
                    }),
                    comment: Some(text(" x\n")),
                },
                Block::Message {
                    data: text("x"),
                    event: None,
                    id: Some(text("1\n\ndata: forged")),
                    retry: None,
                    comment: None,
                },
                Block::Comment(text("\u{FEFF}:\r\n")),
                Block::Retry(Time {
                    secs: 1,
                    nanos: 999_999,
                }),
                Block::KeepAlive,
                Block::Message {
                    data: text(""),
                    event: Some(text("e")),
                    id: Some(text("")),
                    retry: None,
                    comment: None,
                },
            ],
            buffer: 12,
            chunk_lens: vec![1, 2, 0],
        }
        .check();
    }
}
