//! The parser vectors through the adapter's decoders: the `Stream` over chunks and the
//! `AsyncRead` path through `ReaderStream`. The runner feeds each vector whole, byte by
//! byte, split at every point and in random chunks; the reader (which meets `Pending`
//! before every chunk) is driven by smol's `block_on` and by async-std's. Reads
//! smaller than a chunk are checked separately, on whole vectors.

mod common;

use std::convert::Infallible;

use bytes::Bytes;
use common::{AsyncStd, ChunkReader, Runtime, Smol};
use conformance::{Outcome, Run, VectorConfig};
use smol::stream::StreamExt;
use sse_async_std::{ItemStream, ReaderStream, StreamError};

/// Drains an item stream into a run, on runtime `R`.
fn run<R, S>(mut stream: ItemStream<S>) -> Run
where
    R: Runtime,
    S: futures_core::TryStream + Unpin,
    S::Ok: Into<Bytes>,
    S::Error: std::fmt::Debug,
{
    let mut items = Vec::new();
    R::block_on(async {
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
    run::<Smol, _>(ItemStream::with_parser(
        smol::stream::iter(chunks),
        config.parser(),
    ))
}

fn reader_layer<R: Runtime>(capacity: usize) -> impl Fn(&VectorConfig, &[&[u8]]) -> Run {
    move |config, chunks| {
        let reader = ChunkReader::new(chunks.iter().copied());
        run::<R, _>(ItemStream::with_parser(
            ReaderStream::with_capacity(reader, capacity),
            config.parser(),
        ))
    }
}

#[test]
fn stream() {
    conformance::assert_conformance("sse-async-std stream", stream_layer);
}

#[test]
fn reader_on_smol() {
    conformance::assert_conformance(
        "sse-async-std reader (smol)",
        reader_layer::<Smol>(sse_async_std::DEFAULT_READ_CAPACITY),
    );
}

#[test]
fn reader_on_async_std() {
    conformance::assert_conformance(
        "sse-async-std reader (async-std)",
        reader_layer::<AsyncStd>(sse_async_std::DEFAULT_READ_CAPACITY),
    );
}

/// Reads smaller than the chunks split them further, down to one byte. Each vector is
/// fed whole: the reader does the splitting (under every chunking of the runner, a
/// 4 KiB vector would take millions of 1-byte reads per size).
#[test]
fn reader_in_small_reads() {
    let mut failures = Vec::new();
    for vector in conformance::vectors() {
        for capacity in [1, 2, 3, 7] {
            let run = reader_layer::<Smol>(capacity)(&vector.config, &[&vector.input]);
            if let Some(report) = conformance::compare(&vector, &run) {
                failures.push(format!(
                    "{} ({}), {capacity}-byte reads:\n{report}",
                    vector.name, vector.file
                ));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
