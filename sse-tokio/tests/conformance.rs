//! The parser vectors through the adapter's decoders: the `AsyncRead` path and the
//! `tokio_util` codec. (The `Stream` over chunks is `sse-io`'s, run there.) Each vector is fed whole, byte by
//! byte, split at every point and in random chunks.

use bytes::{Bytes, BytesMut};
use conformance::adapters::drain;
use conformance::{Outcome, Run, VectorConfig};
use sse_proto::OwnedItem;
use sse_tokio::{ItemStream, ReaderStream, SseBatchDecoder, SseDecoder};
use tokio_util::codec::Decoder;
use tokio_util::io::StreamReader;

fn reader_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let chunks: Vec<std::io::Result<Bytes>> = chunks
        .iter()
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let reader = StreamReader::new(futures_util::stream::iter(chunks));
    futures_executor::block_on(drain(ItemStream::with_parser(
        ReaderStream::new(reader),
        config.parser(),
    )))
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

/// The batch decoder, reported as `conformance::reader_events_layer` reports
/// events: each batch's events, then one `Error` per event skipped.
fn batch_codec_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let mut decoder = SseBatchDecoder::with_parser(config.parser());
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    let mut push = |result: Result<Option<sse_proto::EventBatch>, sse_tokio::CodecError>| {
        let batch = result.expect("the decoder's only error is the read's")?;
        assert!(!batch.is_empty(), "an empty batch");
        items.extend(batch.into_iter().map(|e| Outcome::from_event(&e)));
        Some(())
    };
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while push(decoder.decode(&mut buf)).is_some() {}
        assert!(buf.is_empty(), "the decoder takes every byte it is given");
    }
    while push(decoder.decode_eof(&mut buf)).is_some() {}
    items.extend((0..decoder.skipped()).map(|_| Outcome::Error("skipped".into())));
    Run::new(items, decoder.parser())
}

#[test]
fn reader() {
    conformance::assert_conformance("sse-tokio reader", reader_layer);
}

#[test]
fn codec() {
    conformance::assert_conformance("sse-tokio codec", codec_layer);
}

#[test]
fn batch_codec() {
    conformance::assert_events_conformance("sse-tokio batch codec", batch_codec_layer);
}
