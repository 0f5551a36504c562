//! Server-Sent Events over `futures-io`, for smol and async-std alike: the runtime
//! adapter over [`sse_proto`].
//!
//! The adapter only moves bytes and time between the runtime and the sans-IO core. It
//! is a skeleton for now: the decoder, server body and client are not written yet
//! (sse-tokio shows the shape they will take).
#![deny(missing_docs)]

pub use sse_proto;
