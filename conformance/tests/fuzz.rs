//! The fuzz targets' checks on the stable toolchain: every seed, inputs that once
//! found a bug (`fuzz/regressions/TARGET/`), and a few thousand inputs from a seeded
//! mutator. Not a substitute for coverage-guided fuzzing (`fuzz/run`), but it runs
//! with every `cargo test` and replays what fuzzing found.

use std::path::Path;

use conformance::XorShift as Rng;
use conformance::fuzz::{connection, encoder, parser};

/// Bytes that matter to the parser, for the mutator to insert.
const TOKENS: &[&[u8]] = &[
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b":",
    b" ",
    b"\0",
    b"data:",
    b"data: ",
    b"event:",
    b"id:",
    b"retry:",
    b"retry: 12",
    b"\xEF\xBB\xBF",
    b"\xEF",
    b"\xC3",
    b"\xFF",
    b"data",
];

/// One to eight mutations of `input`: bit flips, special bytes, inserted tokens,
/// deleted and duplicated ranges, a new header byte, a splice with `other`.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(data.len() + 1);
        match rng.below(7) {
            0 if at < data.len() => data[at] ^= 1 << rng.below(8),
            1 if at < data.len() => data[at] = b"\n\r: \0\xEF\xFFd"[rng.below(8)],
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            3 => {
                let end = (at + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            4 => {
                let end = (at + rng.below(32)).min(data.len());
                let copy = data[at..end].to_vec();
                data.splice(at..at, copy);
            }
            5 if !data.is_empty() => {
                let i = rng.below(parser::HEADER.min(data.len()));
                data[i] = rng.next() as u8;
            }
            6 => {
                let from = rng.below(other.len() + 1);
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            _ => {}
        }
    }
    data
}

/// Inputs kept in `fuzz/regressions/TARGET/`, if any.
fn regressions(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut inputs: Vec<(String, Vec<u8>)> = entries
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    inputs.sort();
    inputs
}

/// Runs `check` on `input`, naming it if the check fails.
fn run(name: &str, input: &[u8], check: fn(&[u8])) {
    if std::panic::catch_unwind(|| check(input)).is_err() {
        panic!(
            "{name} failed; input (write it to a file to replay it with the fuzz target): \"{}\"",
            input.escape_ascii()
        );
    }
}

#[test]
fn every_seed_passes_the_parser_check() {
    let seeds = parser::seeds();
    assert!(seeds.len() > 600, "{} seeds", seeds.len());
    for (name, seed) in &seeds {
        run(name, seed, parser::check);
    }
}

#[test]
fn mutated_seeds_pass_the_parser_check() {
    let seeds = parser::seeds();
    let mut rng = Rng(0x5EED_F022);
    for i in 0..20_000 {
        let (name, seed) = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())].1;
        let input = mutate(&mut rng, seed, &other[other.len().min(parser::HEADER)..]);
        run(&format!("mutation {i} of {name}"), &input, parser::check);
    }
}

#[test]
fn random_inputs_pass_the_encoder_and_connection_checks() {
    let mut rng = Rng(0xC0FF_EE00_D15E_A5E5);
    for i in 0..10_000 {
        let len = rng.below(1024);
        let input: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        run(&format!("random input {i}"), &input, encoder::check);
        run(&format!("random input {i}"), &input, connection::check);
    }
}

#[test]
fn inputs_that_found_bugs_pass() {
    for (target, check) in [
        ("parser", parser::check as fn(&[u8])),
        ("encoder", encoder::check),
        ("connection", connection::check),
    ] {
        for (name, input) in regressions(target) {
            run(&format!("fuzz/regressions/{target}/{name}"), &input, check);
        }
    }
}
