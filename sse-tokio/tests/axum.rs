//! End to end on axum: a handler that resumes after `Last-Event-ID` (the extractor)
//! and returns the body as it is (`IntoResponse`), read by the reconnecting client.
//! Every event reaches the client exactly once across several dropped connections.
#![cfg(all(feature = "axum", feature = "client"))]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use sse_proto::{ConnectionError, Message};
use sse_tokio::{LastEventIdHeader, SourceEvent};

use common::{untimed, watchdog};

const EVENTS: u32 = 20;

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Option<String>>>>);

/// Sends the events after `Last-Event-ID`, at most three per connection, then ends
/// the response; 204 once there is nothing left.
async fn events(State(log): State<Log>, LastEventIdHeader(last): LastEventIdHeader) -> Response {
    log.0.lock().unwrap().push(last.clone());
    let after: u32 = last.as_deref().map_or(0, |id| id.parse().unwrap());
    if after >= EVENTS {
        return StatusCode::NO_CONTENT.into_response();
    }
    let (sender, body) = sse_tokio::channel(2);
    tokio::spawn(async move {
        for n in (after + 1..=EVENTS).take(3) {
            let message = Message::new(format!("{{\"n\":{n}}}")).id(n.to_string());
            if sender.send(message).await.is_err() {
                return;
            }
        }
    });
    body.retry(Duration::from_millis(250)).into_response()
}

#[tokio::test(start_paused = true)]
async fn every_event_arrives_exactly_once_across_drops() {
    let _watchdog = watchdog(Duration::from_secs(60));
    let log = Log::default();
    let app = Router::new()
        .route("/events", get(events))
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut source = untimed(format!("http://{addr}/events")).connect().unwrap();
    let mut received = Vec::new();
    let mut drops = 0;
    let mut failed = None;
    while let Some(item) = source.next().await {
        match item {
            Ok(SourceEvent::Message(event)) => {
                assert_eq!(event.data(), format!("{{\"n\":{}}}", event.last_event_id()));
                received.push(event.last_event_id().parse::<u32>().unwrap());
            }
            Ok(SourceEvent::Reconnecting(r)) => {
                assert_eq!(r.reason, ConnectionError::EndOfStream);
                assert_eq!(r.delay, Duration::from_millis(250));
                drops += 1;
            }
            Ok(_) => {}
            Err(e) => failed = Some(e),
        }
    }
    assert_eq!(received, (1..=EVENTS).collect::<Vec<_>>());
    assert_eq!(drops, 7);
    assert_eq!(failed.unwrap().reason, ConnectionError::Status(204));
    let log = log.0.lock().unwrap();
    let mut expected = vec![None];
    expected.extend((0..7).map(|k| Some((3 * k + 3).min(EVENTS).to_string())));
    assert_eq!(*log, expected);
}
