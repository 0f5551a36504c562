//! `sse`: Server-Sent Events from the shell, the way `websocat` is for WebSockets.
//!
//! - `sse decode`: a raw event stream on stdin, NDJSON events on stdout.
//! - `sse encode`: the inverse, NDJSON on stdin, an event stream on stdout.
//! - `sse listen URL`: a reconnecting client, NDJSON events on stdout.
//! - `sse serve`: a server, stdin's lines (or NDJSON events) as an event stream
//!   with replay, and a page that shows it.
//! - `sse conformance parser|client|server`: the spec-derived vectors, judging
//!   another implementation's parser, client or server.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod conformance;
mod decode;
mod encode;
mod listen;
mod ndjson;
mod serve;
#[cfg(feature = "rustls")]
mod tls;

/// Server-Sent Events from the shell.
#[derive(Debug, Parser)]
#[command(name = "sse", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read a raw `text/event-stream` on stdin; write one JSON object per event.
    Decode(decode::Args),
    /// Read NDJSON on stdin (as `sse decode` writes it); write a `text/event-stream`.
    #[command(long_about = encode::LONG_ABOUT)]
    Encode(encode::Args),
    /// Connect to an event stream and write one JSON object per event, reconnecting
    /// as the spec says, until the server says stop (204, exit 0) or the connection
    /// fails (exit 1).
    Listen(listen::Args),
    /// Serve stdin's lines (or NDJSON events) as an event stream, with replay for
    /// clients that reconnect, and a page that shows it live.
    #[command(long_about = serve::LONG_ABOUT)]
    Serve(serve::Args),
    /// Judge another implementation with the spec-derived vectors: `sse conformance
    /// parser -- CMD` runs them through a program that decodes stdin to NDJSON.
    #[command(long_about = conformance::LONG_ABOUT)]
    Conformance(conformance::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => {
            decode::run(&args, std::io::stdin().lock(), std::io::stdout().lock())
        }
        Command::Encode(args) => {
            encode::run(&args, std::io::stdin().lock(), std::io::stdout().lock())
        }
        Command::Listen(args) => listen::run(&args, std::io::stdout().lock()),
        Command::Serve(args) => serve::run(&args, std::io::stdin()),
        Command::Conformance(args) => conformance::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sse: {e}");
            ExitCode::FAILURE
        }
    }
}
