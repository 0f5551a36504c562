//! The parser vectors through `ItemStream` over a stream of chunks, each vector fed
//! whole, byte by byte, split at every point and in random chunks. (The adapters run
//! them through their `AsyncRead` paths and codecs.)

use std::convert::Infallible;

use bytes::Bytes;
use conformance::adapters::drain;
use conformance::{Run, VectorConfig};
use sse_io::ItemStream;

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
