//! An event stream that pages on another origin read with credentials
//! (`new EventSource(url, { withCredentials: true })`): tower-http's CORS layer on
//! an axum route that returns an `SseBody`, rather than CORS headers written by hand.
//!
//! ```sh
//! cargo run -p sse-tokio --example cors      # http://127.0.0.1:8082/events
//! ```
//!
//! The layer answers the preflight (a reconnecting `EventSource` sends
//! `Last-Event-ID`, and Chrome asks before a page reaches a private address) and
//! puts the page's own origin, never `*`, on every response, with
//! `Access-Control-Allow-Credentials: true`.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::IntoResponse;
use axum::routing::get;
use sse_proto::Message;
use tower_http::cors::CorsLayer;

/// The app: `/events`, readable by pages from `origin` only.
pub fn app(origin: &'static str) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(HeaderValue::from_static(origin))
        .allow_credentials(true)
        .allow_methods([Method::GET])
        .allow_headers([HeaderName::from_static("last-event-id")])
        .allow_private_network(true);
    Router::new().route("/events", get(events)).layer(cors)
}

/// A tick a second, with a keep-alive when quiet.
async fn events() -> impl IntoResponse {
    let (sender, body) = sse_tokio::channel(8);
    tokio::spawn(async move {
        for n in 1u64.. {
            if sender.send(Message::new(n.to_string())).await.is_err() {
                return; // the page went away
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    body.keep_alive(Duration::from_secs(15)).response()
}

#[tokio::main]
#[allow(dead_code)] // also compiled into tests/cors.rs, which serves `app()` itself
async fn main() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8082")
        .await
        .unwrap();
    println!("events for pages from http://localhost:3000 at http://127.0.0.1:8082/events");
    axum::serve(listener, app("http://localhost:3000"))
        .await
        .unwrap();
}
