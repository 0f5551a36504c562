//! The parser vectors through the adapter's `AsyncRead` path, `ReaderStream`. (The
//! `Stream` over chunks is `sse-io`'s, run there.) The runner feeds each vector whole, byte by
//! byte, split at every point and in random chunks; the reader (which meets `Pending`
//! before every chunk) is driven by smol's `block_on` and by async-std's. Reads
//! smaller than a chunk are checked separately, on whole vectors.

mod common;

use common::{AsyncStd, ChunkReader, Runtime, Smol};
use conformance::adapters::drain;
use conformance::{Run, VectorConfig};
use sse_async_std::{ItemStream, ReaderStream};

fn reader_layer<R: Runtime>(capacity: usize) -> impl Fn(&VectorConfig, &[&[u8]]) -> Run {
    move |config, chunks| {
        let reader = ChunkReader::new(chunks.iter().copied());
        R::block_on(drain(ItemStream::with_parser(
            ReaderStream::with_capacity(reader, capacity),
            config.parser(),
        )))
    }
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
