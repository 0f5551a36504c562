//! The broadcast hub behind a hyper server, with the reconnecting `EventSource` on
//! tokio's paused clock: resuming after a cut, and catching up after lagging. (The
//! hub's own behaviour is tested on every runtime in `sse-io/tests/hub.rs`.)
#![cfg(all(feature = "server", feature = "client"))]

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body::{Body, Frame};
use sse_proto::{ConnectionError, History, Message};
use sse_tokio::{EventSource, Hub, SourceError, SourceEvent, SseBody};
use tokio::sync::Notify;

use common::{boxed, serve, watchdog};

const LIMIT: Duration = Duration::from_secs(60);

/// A hub whose assigned IDs are 1, 2, 3, ...
fn counting_hub() -> sse_tokio::HubBuilder {
    Hub::builder().history(History::new())
}

/// A response body the test can cut, as a failing proxy or network would: the
/// server then aborts the connection.
struct Cuttable {
    body: SseBody,
    cut: Pin<Box<tokio::sync::futures::OwnedNotified>>,
}

impl Body for Cuttable {
    type Data = Bytes;
    type Error = &'static str;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, &'static str>>> {
        if self.cut.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err("cut by the test")));
        }
        Pin::new(&mut self.body)
            .poll_frame(cx)
            .map(|frame| frame.map(|f| f.map_err(|never| match never {})))
    }
}

use std::future::Future as _;

/// Serves `hub` on loopback; returns the address, the `Last-Event-ID` of each
/// request in turn, and a switch that cuts every open stream.
async fn serve_hub(
    hub: Hub,
) -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<Option<String>>,
    Arc<Notify>,
) {
    let (requests, seen) = tokio::sync::mpsc::unbounded_channel();
    let cut = Arc::new(Notify::new());
    let switch = cut.clone();
    let addr = serve(move |request| {
        let (hub, requests, cut) = (hub.clone(), requests.clone(), cut.clone());
        async move {
            let id = sse_tokio::last_event_id(request.headers()).map(|id| id.into_owned());
            let body = hub.subscribe(id.as_deref());
            requests.send(id).unwrap();
            let body = Cuttable {
                body,
                cut: Box::pin(cut.notified_owned()),
            };
            let mut response = http::Response::new(boxed(body));
            sse_tokio::set_headers(response.headers_mut());
            response
        }
    })
    .await;
    (addr, seen, switch)
}

async fn next_message(source: &mut EventSource) -> String {
    match source.next().await.expect("the stream goes on") {
        Ok(SourceEvent::Message(event)) => format!("{}:{}", event.last_event_id, event.data),
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn an_event_source_resumes_after_a_cut_with_what_it_missed() {
    let _watchdog = watchdog(LIMIT);
    let hub = counting_hub().build();
    hub.publish(Message::new("before anyone listened")).unwrap();
    let (addr, mut requests, cut) = serve_hub(hub.clone()).await;
    let mut source = EventSource::builder(format!("http://{addr}/events"))
        .reconnection_time(Duration::from_secs(1))
        .connect()
        .unwrap();
    assert!(matches!(source.next().await, Some(Ok(SourceEvent::Open))));
    assert_eq!(requests.recv().await.unwrap(), None);
    hub.publish(Message::new("a")).unwrap();
    assert_eq!(next_message(&mut source).await, "2:a");

    // The connection is cut. While the client waits to reconnect, two events go out.
    cut.notify_waiters();
    match source.next().await {
        Some(Err(SourceError::Reconnecting { reason, .. })) => {
            assert_eq!(reason, ConnectionError::Network)
        }
        other => panic!("{other:?}"),
    }
    hub.publish(Message::new("b")).unwrap();
    hub.publish(Message::new("c")).unwrap();
    assert_eq!(hub.subscribers(), 0);

    // It comes back with Last-Event-ID 2, and gets them from the history, then the
    // live events: no gap, no repeat.
    assert!(matches!(source.next().await, Some(Ok(SourceEvent::Open))));
    assert_eq!(requests.recv().await.unwrap().as_deref(), Some("2"));
    assert_eq!(next_message(&mut source).await, "3:b");
    assert_eq!(next_message(&mut source).await, "4:c");
    hub.publish(Message::new("d")).unwrap();
    assert_eq!(next_message(&mut source).await, "5:d");
    assert_eq!(source.last_event_id(), "5");
}

/// A client that stops reading is dropped once the socket buffers and its queue are
/// full; when it reads again it gets what was queued, reconnects, and the history
/// fills the rest in: every event once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_source_that_lags_is_dropped_and_catches_up() {
    let _watchdog = watchdog(LIMIT);
    const SIZE: usize = 64 * 1024;
    const MAX: u64 = 2_000; // 128 MiB: far more than loopback buffers hold
    let hub = counting_hub()
        .history(
            History::new()
                .max_events(MAX as usize)
                .max_bytes(usize::MAX),
        )
        .capacity(4)
        .build();
    let (addr, mut requests, _cut) = serve_hub(hub.clone()).await;
    let mut source = EventSource::builder(format!("http://{addr}/events"))
        .reconnection_time(Duration::from_millis(10))
        .connect()
        .unwrap();
    assert!(matches!(source.next().await, Some(Ok(SourceEvent::Open))));
    assert_eq!(requests.recv().await.unwrap(), None);

    // The client reads nothing while events are published until it lags.
    let data = "x".repeat(SIZE);
    let mut published = 0;
    loop {
        published += 1;
        assert!(published <= MAX, "the subscriber never lagged");
        if hub.publish(Message::new(data.as_str())).unwrap().lagged == 1 {
            break;
        }
        // Slow enough for the connection to keep up with the queue: what stops it
        // is the client not reading, once the socket buffers are full.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(published > 32, "lagged after {published} events: too soon");
    assert_eq!(hub.subscribers(), 0);
    // A few more while it is away.
    for _ in 0..5 {
        hub.publish(Message::new(data.as_str())).unwrap();
        published += 1;
    }

    // It reads again: every event once, in order, across one reconnection.
    let mut next_id = 1;
    let mut reconnections = 0;
    while next_id <= published {
        match source.next().await.unwrap() {
            Ok(SourceEvent::Message(event)) => {
                assert_eq!(event.last_event_id, next_id.to_string());
                assert_eq!(event.data.len(), SIZE);
                next_id += 1;
            }
            Ok(SourceEvent::Open) => {}
            Err(SourceError::Reconnecting { reason, .. }) => {
                assert_eq!(reason, ConnectionError::EndOfStream);
                reconnections += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(reconnections, 1);
    let resumed_from = requests.recv().await.unwrap().unwrap();
    let resumed_from: u64 = resumed_from.parse().unwrap();
    assert!(
        resumed_from > 1 && resumed_from < published,
        "{resumed_from}"
    );
    eprintln!("lagged after {published} events of 64 KiB; resumed from {resumed_from}");
}
