//! The parser vectors through `ItemStream` over a stream of chunks, each vector fed
//! whole, byte by byte, split at every point and in random chunks. (The adapters run
//! them through their `AsyncRead` paths and codecs.)

use std::convert::Infallible;

use bytes::Bytes;
use conformance::adapters::drain;
use conformance::{Outcome, Run, VectorConfig};
use futures_util::StreamExt;
use sse_io::{EventStream, ItemStream};

fn stream_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let chunks: Vec<Result<Bytes, Infallible>> = chunks
        .iter()
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures_executor::block_on(drain(ItemStream::with_parser(
        futures_util::stream::iter(chunks),
        config.parser(),
    )))
}

#[test]
fn stream() {
    conformance::assert_conformance("sse-io stream", stream_layer);
}

/// The events of `EventStream::batches`, then one `Error` outcome per skipped
/// event, as `conformance::events_of` reports a run.
fn batches_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let chunks: Vec<Result<Bytes, Infallible>> = chunks
        .iter()
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let stream = EventStream::with_parser(futures_util::stream::iter(chunks), config.parser());
    let mut batches = stream.batches();
    let mut items = Vec::new();
    futures_executor::block_on(async {
        while let Some(batch) = batches.next().await {
            let batch = batch.unwrap();
            assert!(!batch.is_empty(), "an empty batch");
            items.extend(batch.into_iter().map(|e| Outcome::from_event(&e)));
        }
    });
    items.extend((0..batches.skipped()).map(|_| Outcome::Error("skipped".into())));
    Run::new(items, batches.parser())
}

#[test]
fn batches() {
    conformance::assert_events_conformance("sse-io EventStream::batches", batches_layer);
}

/// The events of `EventStream::next_batch_into`, one batch for every chunk, reported
/// as `batches_layer` reports its batches.
fn batch_into_layer(config: &VectorConfig, chunks: &[&[u8]]) -> Run {
    let chunks: Vec<Result<Bytes, Infallible>> = chunks
        .iter()
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let mut stream = EventStream::with_parser(futures_util::stream::iter(chunks), config.parser());
    let mut batch = sse_proto::EventBatch::default();
    let mut items = Vec::new();
    futures_executor::block_on(async {
        while stream.next_batch_into(&mut batch).await.unwrap() {
            assert!(!batch.is_empty(), "an empty batch");
            items.extend(batch.iter().map(|e| Outcome::from_event(&e.into_owned())));
        }
    });
    assert!(
        batch.is_empty(),
        "the end of the stream leaves the batch empty"
    );
    // The stream has ended: it stays ended.
    assert!(!futures_executor::block_on(stream.next_batch_into(&mut batch)).unwrap());
    items.extend((0..stream.skipped()).map(|_| Outcome::Error("skipped".into())));
    Run::new(items, stream.parser())
}

#[test]
fn batches_into_one() {
    conformance::assert_events_conformance("sse-io EventStream::next_batch_into", batch_into_layer);
}
