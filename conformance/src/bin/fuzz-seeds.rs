//! Writes the seed corpus of the `parser` fuzz target from the conformance vectors:
//!
//! ```sh
//! cargo run -p sse-conformance --bin fuzz-seeds -- fuzz/corpus/parser
//! ```
//!
//! The corpus is generated, not committed: it follows the vectors.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: fuzz-seeds DIR");
        return ExitCode::FAILURE;
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("fuzz-seeds: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let seeds = conformance::fuzz::parser::seeds();
    let mut bytes = 0;
    for (name, seed) in &seeds {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, seed) {
            eprintln!("fuzz-seeds: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        bytes += seed.len();
    }
    println!(
        "fuzz-seeds: {} seeds ({bytes} bytes) in {}",
        seeds.len(),
        dir.display()
    );
    ExitCode::SUCCESS
}
