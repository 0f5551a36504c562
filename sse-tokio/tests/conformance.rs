//! The parser vectors through the adapter's decoders: the `Stream` over chunks, the
//! `AsyncRead` path and the `tokio_util` codec. Each vector is fed whole, byte by
//! byte, split at every point and in random chunks.

use std::convert::Infallible;

use bytes::{Bytes, BytesMut};
use conformance::{Outcome, Run, VectorConfig};
use futures_util::StreamExt;
use sse_proto::OwnedItem;
use sse_tokio::{ItemStream, ReaderStream, SseDecoder, StreamError};
use tokio_util::codec::Decoder;
use tokio_util::io::StreamReader;

/// Drains an item stream into a run.
fn run<S>(mut stream: ItemStream<S>) -> Run
where
    S: futures_util::TryStream + Unpin,
    S::Ok: Into<Bytes>,
    S::Error: std::fmt::Debug,
{
    let mut items = Vec::new();
    futures_executor::block_on(async {
        while let Some(next) = stream.next().await {
            match next {
                Ok(item) => items.extend(Outcome::from_owned(item)),
                Err(StreamError::Limit(e)) => items.push(Outcome::from_error(&e)),
                Err(e) => panic!("{e:?}"),
            }
        }
    });
    Run::new(items, stream.parser())
}

fn stream_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let chunks: Vec<Result<Bytes, Infallible>> = chunks
        .iter()
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    run(ItemStream::with_parser(
        futures_util::stream::iter(chunks),
        config.parser(),
    ))
}

fn reader_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let chunks: Vec<std::io::Result<Bytes>> = chunks
        .iter()
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let reader = StreamReader::new(futures_util::stream::iter(chunks));
    run(ItemStream::with_parser(
        ReaderStream::new(reader),
        config.parser(),
    ))
}

fn codec_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let mut decoder = SseDecoder::with_parser(config.parser());
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    let mut push = |result: Result<Option<OwnedItem>, sse_tokio::CodecError>| match result {
        Ok(Some(item)) => {
            items.extend(Outcome::from_owned(item));
            true
        }
        Ok(None) => false,
        Err(sse_tokio::CodecError::Limit(e)) => {
            items.push(Outcome::from_error(&e));
            true
        }
        Err(e) => panic!("{e}"),
    };
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while push(decoder.decode(&mut buf)) {}
        assert!(buf.is_empty(), "the decoder takes every byte it is given");
    }
    while push(decoder.decode_eof(&mut buf)) {}
    Run::new(items, decoder.parser())
}

#[test]
fn stream() {
    conformance::assert_conformance("sse-tokio stream", stream_layer);
}

#[test]
fn reader() {
    conformance::assert_conformance("sse-tokio reader", reader_layer);
}

#[test]
fn codec() {
    conformance::assert_conformance("sse-tokio codec", codec_layer);
}
