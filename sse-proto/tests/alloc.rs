#![allow(unsafe_code)] // a global allocator cannot be written without it
//! Steady-state parsing allocates nothing: a counting global allocator proves it.

#![cfg(feature = "std")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use sse_proto::{Item, Parser};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Feeds `stream` in `chunk`-byte pieces; returns (events, total data bytes).
fn parse(parser: &mut Parser, stream: &[u8], chunk: usize) -> (usize, usize) {
    let (mut events, mut bytes) = (0, 0);
    for piece in stream.chunks(chunk) {
        let mut input = piece;
        while let Some(item) = parser.parse(&mut input).unwrap() {
            if let Item::Event(e) = item {
                events += 1;
                bytes += e.data().len();
            }
        }
    }
    (events, bytes)
}

#[test]
fn steady_state_parsing_does_not_allocate() {
    let mut stream = Vec::new();
    for i in 0..2000 {
        stream.extend_from_slice(
            format!("id: {i}\nevent: delta\ndata: {{\"n\":{i}}}\ndata: second line\n\n").as_bytes(),
        );
        stream.extend_from_slice(b": keep-alive\r\n");
    }
    for chunk in [1, 7, 1460, 65536] {
        let mut parser = Parser::new();
        // Warm up: the buffers grow to the largest event once.
        parse(&mut parser, &stream, chunk);
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let (events, _) = parse(&mut parser, &stream, chunk);
        let after = ALLOCATIONS.load(Ordering::Relaxed);
        assert_eq!(events, 2000);
        assert_eq!(
            after - before,
            0,
            "{} allocations with {chunk}-byte chunks",
            after - before
        );
    }
}
