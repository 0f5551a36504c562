//! Server-Sent Events on tokio, hyper and axum: the runtime adapter over
//! [`sse_proto`].
//!
//! The adapter only moves bytes and time between tokio and the sans-IO core; every
//! protocol decision lives in `sse-proto`. This crate is a skeleton for now: the
//! decoding `Stream`, codec, response body and reconnecting client are tracked in the
//! project's issues.
#![deny(missing_docs)]

pub use sse_proto;
