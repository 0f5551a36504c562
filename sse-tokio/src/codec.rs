//! `tokio_util::codec` implementations, for `FramedRead` and `FramedWrite`.

use core::fmt;
use std::io;

use bytes::BytesMut;
use sse_proto::{Config, Encode, EncodeError, EventBatch, OwnedItem, OwnedParser, Parser};
use tokio_util::codec::{Decoder, Encoder};

/// A [`Decoder`] of event streams: every [`OwnedItem`] (events, `retry` values,
/// comments, ...), for `FramedRead`.
///
/// The decoder takes every byte it is given (a line split across reads is kept in the
/// parser, not in the read buffer), so the buffer never grows past one read. What it
/// takes is frozen, not copied: the text of an item that arrived whole in one read is
/// a slice of that read's memory, as [`EventStream`](crate::EventStream)'s is of its
/// chunks (so a slice kept keeps that read's buffer alive). At the end of the input a
/// pending, unfinished event is discarded, as the spec says.
///
/// An event over the parser's limit is an [`OwnedItem::Skipped`] item, as in
/// [`ItemStream`](crate::ItemStream): the decoder's only error is the read's own, so a
/// framed stream (which `FramedRead` ends after any decoder error) ends only when its
/// input does.
///
/// ```
/// use futures_util::StreamExt;
/// use sse_proto::OwnedItem;
/// use sse_tokio::SseDecoder;
/// use tokio_util::codec::FramedRead;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let input: &[u8] = b": hi\nid: 1\ndata: one\n\ndata: two\n\n";
/// let mut framed = FramedRead::new(input, SseDecoder::new());
/// assert_eq!(framed.next().await.unwrap()?, OwnedItem::Comment("hi".into()));
/// let Some(Ok(OwnedItem::Event(event))) = framed.next().await else { panic!() };
/// assert_eq!((event.data(), event.last_event_id()), ("one", "1"));
/// assert!(matches!(framed.next().await, Some(Ok(OwnedItem::Event(e))) if e.data() == "two"));
/// assert!(framed.next().await.is_none());
/// # Ok::<(), sse_tokio::CodecError>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct SseDecoder {
    parser: OwnedParser,
}

impl SseDecoder {
    /// A decoder that reports comments too.
    pub fn new() -> Self {
        Self::with_config(Config::new().comments(true))
    }

    /// A decoder with `config`.
    pub fn with_config(config: Config) -> Self {
        Self::with_parser(Parser::with_config(config))
    }

    /// A decoder around `parser` (set up with a last event ID, say).
    pub fn with_parser(parser: Parser) -> Self {
        SseDecoder {
            parser: OwnedParser::new(parser),
        }
    }

    /// The parser, for its [`last_event_id`](Parser::last_event_id) and
    /// [`retry`](Parser::retry).
    pub fn parser(&self) -> &Parser<sse_proto::BytesMut> {
        self.parser.parser()
    }

    /// The events a read at a time, from where this decoder is: see
    /// [`SseBatchDecoder`] (`FramedRead::map_decoder(framed, SseDecoder::batches)`
    /// switches a framed stream over).
    pub fn batches(self) -> SseBatchDecoder {
        SseBatchDecoder {
            parser: self.parser,
        }
    }
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder::new()
    }
}

impl Decoder for SseDecoder {
    type Item = OwnedItem;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<OwnedItem>, CodecError> {
        Ok(take(&mut self.parser, src, OwnedParser::next))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<OwnedItem>, CodecError> {
        Ok(take_eof(&mut self.parser, src, OwnedParser::next))
    }
}

/// A [`Decoder`] of events a read at a time, for `FramedRead`: each [`EventBatch`]
/// holds the events that one read finished ([`OwnedParser::next_batch`]), owned
/// together, so that a read of many small events costs one reference count and one
/// list, not one per event.
///
/// The events are [`SseDecoder`]'s, in the same order, taken from the read buffer
/// as it takes them (frozen, not copied); a read that finishes none gives no batch,
/// and a read that finishes more than [`EventBatch::MAX_EVENTS`] gives several.
/// Worth it where reads hold many events (a backlog replayed, a busy feed); with
/// one event per read, an `SseDecoder` does the same work with less. An event over
/// the parser's limit is skipped and counted ([`skipped`](SseBatchDecoder::skipped)):
/// as for `SseDecoder`, the only error is the read's own.
///
/// ```
/// use futures_util::TryStreamExt;
/// use sse_tokio::SseBatchDecoder;
/// use tokio_util::codec::FramedRead;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let input: &[u8] = b"data: one\n\n: a comment\nid: 2\ndata: two\n\n";
/// let mut framed = FramedRead::new(input, SseBatchDecoder::new());
/// let batch = framed.try_next().await?.unwrap();
/// let data: Vec<&str> = batch.iter().map(|event| event.data()).collect();
/// assert_eq!(data, ["one", "two"]);
/// assert_eq!(batch.get(1).unwrap().last_event_id(), "2");
/// assert!(framed.try_next().await?.is_none());
/// # Ok::<(), sse_tokio::CodecError>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct SseBatchDecoder {
    parser: OwnedParser,
}

impl SseBatchDecoder {
    /// A decoder with the default [`Config`].
    pub fn new() -> Self {
        Self::with_config(Config::new())
    }

    /// A decoder with `config`.
    pub fn with_config(config: Config) -> Self {
        Self::with_parser(Parser::with_config(config))
    }

    /// A decoder around `parser` (set up with a last event ID, say).
    pub fn with_parser(parser: Parser) -> Self {
        SseDecoder::with_parser(parser).batches()
    }

    /// The parser, for its [`last_event_id`](Parser::last_event_id) and
    /// [`retry`](Parser::retry).
    pub fn parser(&self) -> &Parser<sse_proto::BytesMut> {
        self.parser.parser()
    }

    /// How many events were skipped for being over the parser's limit.
    pub fn skipped(&self) -> u64 {
        self.parser.skipped()
    }
}

impl Default for SseBatchDecoder {
    fn default() -> Self {
        SseBatchDecoder::new()
    }
}

impl Decoder for SseBatchDecoder {
    type Item = EventBatch;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<EventBatch>, CodecError> {
        Ok(take(&mut self.parser, src, OwnedParser::next_batch))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<EventBatch>, CodecError> {
        Ok(take_eof(&mut self.parser, src, OwnedParser::next_batch))
    }
}

/// What `next` finds in the chunk being parsed, else in what has been read since
/// (every byte of `src` is taken); `None` once `src` is used up too.
fn take<T>(
    parser: &mut OwnedParser,
    src: &mut BytesMut,
    mut next: impl FnMut(&mut OwnedParser) -> Option<T>,
) -> Option<T> {
    loop {
        if let Some(taken) = next(parser) {
            return Some(taken);
        }
        // What was taken is used up: take what has been read since. `src` keeps
        // its spare capacity for the next read.
        if src.is_empty() {
            return None;
        }
        parser.push(src.split().freeze());
    }
}

/// [`take`] at the end of the input: once nothing is left, the parser is finished.
fn take_eof<T>(
    parser: &mut OwnedParser,
    src: &mut BytesMut,
    next: impl FnMut(&mut OwnedParser) -> Option<T>,
) -> Option<T> {
    let taken = take(parser, src, next);
    if taken.is_none() {
        // The end of the stream: an event no blank line ended is discarded.
        parser.finish();
    }
    taken
}

/// An [`Encoder`] of anything [`Encode`] (a [`Message`](sse_proto::Message), a
/// [`Comment`](sse_proto::Comment), a [`Retry`](sse_proto::Retry)), for
/// `FramedWrite`. An item that cannot be encoded safely (a line break in its event
/// type or ID, say) is refused with [`CodecError::Encode`], and nothing is written.
///
/// ```
/// use futures_util::SinkExt;
/// use sse_proto::{Comment, Message};
/// use sse_tokio::SseEncoder;
/// use tokio_util::codec::FramedWrite;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut framed = FramedWrite::new(Vec::new(), SseEncoder);
/// framed.send(Message::new("hi").id("1")).await?;
/// framed.send(Comment::new("")).await?;
/// assert!(framed.send(Message::new("x").event("a\nb")).await.is_err());
/// assert_eq!(framed.get_ref(), b"id: 1\ndata: hi\n\n:\n\n");
/// # Ok::<(), sse_tokio::CodecError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SseEncoder;

impl<I: Encode> Encoder<I> for SseEncoder {
    type Error = CodecError;

    fn encode(&mut self, item: I, dst: &mut BytesMut) -> Result<(), CodecError> {
        item.validate().map_err(CodecError::Encode)?;
        dst.reserve(item.encoded_len());
        item.encode_buf(dst).map_err(CodecError::Encode)?;
        Ok(())
    }
}

/// Why an [`SseDecoder`] or [`SseEncoder`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum CodecError {
    /// Reading or writing failed.
    Io(io::Error),
    /// An item could not be encoded; nothing was written.
    Encode(EncodeError),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::Io(e) => e.fmt(f),
            CodecError::Encode(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for CodecError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            CodecError::Io(e) => Some(e),
            CodecError::Encode(e) => Some(e),
        }
    }
}

impl From<io::Error> for CodecError {
    fn from(e: io::Error) -> Self {
        CodecError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events that arrived in one read are slices of it, not copies; one cut by the
    /// read's end is whole all the same.
    #[test]
    fn decoded_text_is_a_slice_of_the_read() {
        let mut decoder = SseDecoder::new();
        let mut src = BytesMut::from(&b"data: one\n\nevent: e\ndata: two\n\ndata: th"[..]);
        let mut events = Vec::new();
        while let Some(OwnedItem::Event(event)) = decoder.decode(&mut src).unwrap() {
            events.push(event);
        }
        assert!(src.is_empty(), "every byte is taken");
        let at = |text: &str| text.as_ptr() as usize;
        assert_eq!(
            at(events[1].data()) - at(events[0].data()),
            20,
            "one buffer, not copies"
        );
        assert_eq!(at(events[1].data()) - at(events[1].event_type()), 8);
        src.extend_from_slice(b"ree\n\n");
        let Some(OwnedItem::Event(event)) = decoder.decode(&mut src).unwrap() else {
            panic!("the cut event");
        };
        assert_eq!(event.data(), "three");
        assert_eq!(decoder.decode_eof(&mut src).unwrap(), None);
    }

    /// A decoder turned to batches mid-read goes on where it was; a batch's events
    /// are slices of the read too, and an event over the limit is counted.
    #[test]
    fn batches_go_on_from_where_the_decoder_was() {
        let mut decoder = SseDecoder::with_config(Config::new().max_event_size(8));
        let mut src =
            BytesMut::from(&b"data: one\n\ndata: 0123456789\n\ndata: two\n\ndata: thr"[..]);
        let Some(OwnedItem::Event(first)) = decoder.decode(&mut src).unwrap() else {
            panic!("the first event");
        };
        assert_eq!(first.data(), "one");
        let mut decoder = decoder.batches();
        let batch = decoder.decode(&mut src).unwrap().unwrap();
        assert_eq!(batch.len(), 1);
        let two = batch.get(0).unwrap();
        assert_eq!(two.data(), "two");
        assert_eq!(
            two.data().as_ptr() as usize - first.data().as_ptr() as usize,
            29
        );
        assert_eq!(decoder.skipped(), 1);
        assert!(
            decoder.decode(&mut src).unwrap().is_none(),
            "no empty batch"
        );
        src.extend_from_slice(b"ee\n\ndata: cut");
        let batch = decoder.decode(&mut src).unwrap().unwrap();
        assert_eq!(batch.get(0).unwrap().data(), "three");
        assert!(
            decoder.decode_eof(&mut src).unwrap().is_none(),
            "the cut event is dropped"
        );
    }
}
