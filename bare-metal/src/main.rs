//! sse-proto on a microcontroller with no allocator (`thumbv7em-none-eabihf`).
//!
//! With the `encoder` feature, a device serves an event stream: a `retry`, events
//! and a keep-alive, encoded into a fixed buffer and written over an `embedded-io`
//! writer (here a fixed "wire" buffer standing in for a UART or a TCP socket). Then,
//! and alone without the feature, it reads an event stream back from an
//! `embedded-io` reader with the parser working in a fixed buffer: what a device
//! consuming events does. Nothing is allocated; there is no allocator.
//!
//! ```sh
//! cd bare-metal && cargo build --release --target thumbv7em-none-eabihf [--features encoder]
//! ```
#![no_std]
#![no_main]

use core::hint::black_box;

#[cfg(feature = "parser")]
use sse_proto::{Config, EmbeddedReader, Item, Parser};

/// Where the program starts: the linker's default entry.
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let mut wire = [0u8; 512];
    let sent = serve(&mut wire);
    loop {
        black_box(consume(&wire[..sent]));
    }
}

/// Writes an event stream into `wire`; how many bytes. An item that does not fit
/// what is left of the wire is dropped whole, as a device would.
#[cfg(feature = "encoder")]
fn serve(wire: &mut [u8]) -> usize {
    use sse_proto::{Comment, Message, Retry, write_message};

    let mut writer = &mut wire[..];
    let mut scratch = [0u8; 128];
    let retry = Retry::new(core::time::Duration::from_secs(2));
    let _ = write_message(&mut writer, &retry, &mut scratch);
    for (id, reading) in [("1", "21.5"), ("2", "21.7")] {
        let message = Message::new(black_box(reading)).event("temperature").id(id);
        let _ = write_message(&mut writer, &message, &mut scratch);
    }
    let _ = write_message(&mut writer, &Comment::new(""), &mut scratch);
    let left = writer.len();
    wire.len() - left
}

/// Without the encoder, the stream arrives from elsewhere.
#[cfg(not(feature = "encoder"))]
fn serve(wire: &mut [u8]) -> usize {
    let stream = black_box(b"retry: 2000\nevent: temperature\nid: 1\ndata: 21.5\n\n:\n\n");
    wire[..stream.len()].copy_from_slice(stream);
    stream.len()
}

/// Reads the events in `stream`; the sum of their data's lengths.
#[cfg(feature = "parser")]
fn consume(stream: &[u8]) -> usize {
    let mut memory = [0u8; 1024];
    let mut read_buffer = [0u8; 64];
    let parser = Parser::from_slice(Config::new(), &mut memory);
    let mut reader = EmbeddedReader::new(stream, parser, &mut read_buffer);
    let mut total = 0;
    while let Ok(Some(item)) = reader.next_item() {
        if let Item::Event(event) = item {
            total += event.data().as_bytes().len() + event.event_type().as_bytes().len();
        }
    }
    total
}

/// The baseline: the stream's length.
#[cfg(not(feature = "parser"))]
fn consume(stream: &[u8]) -> usize {
    stream.len()
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
