//! Server-Sent Events in the browser from Rust (`wasm32-unknown-unknown`).
//!
//! `EventSource` is sse-proto's [`Connection`](sse_proto::Connection) driven by the
//! browser: each request is a `fetch` (any method, headers and body: a `POST`
//! stream, which the browser's own `EventSource` cannot send), the body is read
//! from its `ReadableStream`, and the reconnection time, the `Last-Event-ID` on
//! reconnect and the [`ReconnectPolicy`](sse_proto::ReconnectPolicy) (a finished
//! `POST` is not sent again, by default) are the connection's, as every other
//! client of this project has them. Events come out as a `Stream` of
//! `Update`s; `close()` (or dropping the source) aborts the request at once.
//! `EventSource::builder` adds what only a browser has: credentials for other
//! origins, and a hook that sets headers before each request (a fresh token on
//! every reconnection).
//!
//! ```ignore
//! use futures_util::StreamExt;
//! use sse_proto::ConnectionConfig;
//! use sse_wasm::{EventSource, Update};
//!
//! let config = ConnectionConfig::new().method("POST").body("question=sse");
//! let mut source = EventSource::new("/chat", config)?;
//! while let Some(update) = source.next().await {
//!     if let Update::Message(event) = update {
//!         web_sys::console::log_1(&event.data().into());
//!     }
//! }
//! ```
//!
//! From JavaScript, through wasm-bindgen, `SseEventSource` works as the browser's
//! `EventSource` does, with a request of any kind:
//!
//! ```js
//! import init, { SseEventSource } from "./pkg/sse_wasm.js";
//! await init();
//! const source = new SseEventSource("/chat", { method: "POST", body: "question=sse",
//!                                              headers: { "X-Client": "web" },
//!                                              withCredentials: true,
//!                                              // before each request, reconnections too
//!                                              beforeRequest: async (headers) =>
//!                                                headers.set("Authorization", await token()) });
//! source.onmessage = (e) => console.log(e.data, e.lastEventId);
//! source.addEventListener("delta", (e) => console.log("delta", e.data));
//! source.onopen = () => console.log("open");
//! source.onerror = (e) => console.log(e.error, e.readyState);
//! source.close();
//! ```
//!
//! On other targets the crate is empty (its documentation is built for
//! `wasm32-unknown-unknown`).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod js;

#[cfg(target_arch = "wasm32")]
pub use client::{Builder, EventSource, OpenError, Update};
#[cfg(target_arch = "wasm32")]
pub use js::SseEventSource;
