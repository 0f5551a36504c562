//! Every vector through every layer of sse-proto, under every chunking.

use conformance::{
    Chunking, VectorConfig, assert_conformance, assert_lists_every_file, assert_unique_names,
    assert_vectors, check_vectors, compare, vectors,
};

#[test]
fn vector_names_are_unique_and_numerous() {
    let all = vectors();
    assert_unique_names(all.iter().map(|v| v.name.as_str()), 120, "vector");
}

#[test]
fn every_vector_file_is_listed() {
    assert_lists_every_file(
        concat!(env!("CARGO_MANIFEST_DIR"), "/vectors"),
        conformance::FILES,
        "conformance::FILES must list every vector file",
    );
}

#[test]
fn parser() {
    assert_conformance("sse-proto Parser", conformance::proto_layer);
}

/// Comments off, as `Config::new()` has it: the fast paths that skip comment lines.
#[test]
fn parser_and_reader_without_comments() {
    let quiet = conformance::without_comments(vectors());
    assert_vectors(
        "sse-proto Parser, comments off",
        &quiet,
        conformance::proto_layer,
    );
    assert_vectors(
        "sse-proto EventReader, comments off",
        &quiet,
        conformance::reader_layer,
    );
}

#[test]
fn blocking_reader() {
    assert_conformance("sse-proto EventReader", conformance::reader_layer);
}

/// `EventReader`'s iterator hands out the parser's events, shared with the read
/// they came in or copied where a read's end cut them, under every chunking.
#[test]
fn blocking_reader_iterator() {
    conformance::assert_events_conformance(
        "sse-proto EventReader iterator",
        conformance::reader_events_layer,
    );
}

/// `EventReader::next_batch` holds the parser's events a read at a time, under
/// every chunking.
#[test]
fn blocking_reader_batches() {
    conformance::assert_events_conformance(
        "sse-proto EventReader batches",
        conformance::reader_batches_layer,
    );
}

/// `EventReader::next_batch_into`: the same, into one batch reused.
#[test]
fn blocking_reader_batches_into_one() {
    conformance::assert_events_conformance(
        "sse-proto EventReader batches, one reused",
        conformance::reader_batches_into_layer,
    );
}

/// `OwnedParser::next_batch_into`: the events of `next_batch`, into one batch
/// reused, under every chunking.
#[test]
fn owned_parser_batches_into_one() {
    conformance::assert_events_conformance(
        "sse-proto OwnedParser batches, one reused",
        conformance::batch_into_layer,
    );
}

/// `OwnedParser::next_batch` holds the parser's events, in the chunk's text or
/// assembled, under every chunking.
#[test]
fn owned_parser_batches() {
    conformance::assert_events_conformance(
        "sse-proto OwnedParser batches",
        conformance::batch_layer,
    );
}

#[test]
fn embedded_reader() {
    assert_conformance("sse-proto EmbeddedReader", conformance::embedded_layer);
    assert_conformance(
        "sse-proto EmbeddedReader, async",
        conformance::embedded_async_layer,
    );
}

/// The naive reference agrees with the vectors (those without limits), so the
/// property tests that compare the parser with it compare against the spec.
#[test]
fn reference_agrees_with_vectors() {
    let unlimited: Vec<_> = vectors()
        .into_iter()
        .filter(|v| v.config.max_event_size.is_none())
        .collect();
    let failures = check_vectors(&unlimited, |config: &VectorConfig, chunks: &[&[u8]]| {
        conformance::reference::parse(
            &chunks.concat(),
            config.last_event_id.as_deref().unwrap_or(""),
        )
    });
    let names: Vec<_> = failures
        .iter()
        .map(|f| format!("{}\n{}", f.vector, f.report))
        .collect();
    assert!(failures.is_empty(), "{}", names.join("\n"));
}

/// A wrong layer must fail: the runner is not vacuous.
#[test]
fn runner_reports_a_wrong_layer() {
    let all = vectors();
    let failures = check_vectors(&all, |config: &VectorConfig, chunks: &[&[u8]]| {
        let mut run = conformance::proto_layer(config, chunks);
        // Drop the last item when the input was split: a typical chunk-boundary bug.
        if chunks.len() > 1 {
            run.items.pop();
        }
        run
    });
    assert!(!failures.is_empty());
    let f = &failures[0];
    assert_ne!(f.chunking, Chunking::Whole);
    let vector = all.iter().find(|v| v.name == f.vector).unwrap();
    let report =
        compare(vector, &conformance::proto_layer(&vector.config, &[&[]])).unwrap_or_default();
    assert!(f.report.contains("expected | actual") || !report.is_empty());
}
