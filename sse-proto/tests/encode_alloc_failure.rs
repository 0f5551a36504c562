#![allow(unsafe_code)] // a global allocator cannot be written without it
//! `to_vec` reports an allocation it cannot get as `EncodeError::AllocationFailed`,
//! rather than as a buffer that is too small or by aborting. A global allocator that
//! refuses large allocations on request stands in for an exhausted heap.
//!
//! One test function: the limit is global, and tests in one binary run in parallel
//! threads.

#![cfg(feature = "alloc")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use sse_proto::{Comment, Encode, EncodeError, Message};

/// The system allocator, refusing allocations of [`REFUSE_FROM`] bytes or more.
struct Refusing;

static REFUSE_FROM: AtomicUsize = AtomicUsize::new(usize::MAX);

// SAFETY: every call the allocator does not refuse is forwarded unchanged to the
// system allocator; a refusal returns null, which `GlobalAlloc` allows.
unsafe impl GlobalAlloc for Refusing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= REFUSE_FROM.load(Ordering::Relaxed) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= REFUSE_FROM.load(Ordering::Relaxed) {
            return std::ptr::null_mut();
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Refusing = Refusing;

#[test]
fn to_vec_reports_a_failed_allocation_as_such() {
    let data = "x".repeat(1 << 20);
    let message = Message::new(data.as_str());
    let comment = Comment::new(data.as_str());
    let len = message.encoded_len();
    assert_eq!(len, (1 << 20) + "data: \n\n".len());

    REFUSE_FROM.store(1 << 20, Ordering::Relaxed);
    let refused = message.to_vec();
    let small = Message::new("still fine").to_vec();
    let comment_refused = comment.to_vec();
    #[cfg(feature = "bytes")]
    let bytes_refused = message.to_bytes();
    REFUSE_FROM.store(usize::MAX, Ordering::Relaxed);

    let error = EncodeError::AllocationFailed { required_size: len };
    assert_eq!(refused, Err(error));
    assert!(error.to_string().contains(&len.to_string()), "{error}");
    assert_eq!(small.unwrap(), b"data: still fine\n\n");
    assert!(matches!(
        comment_refused,
        Err(EncodeError::AllocationFailed { .. })
    ));
    #[cfg(feature = "bytes")]
    assert_eq!(bytes_refused, Err(error));
    // With the memory available again, the same message encodes.
    assert_eq!(message.to_vec().unwrap().len(), len);
}
