//! The broadcast hub: replay and live events, the handover between them under
//! concurrent publishing, dropping a lagging subscriber and its resumption, and a
//! reconnecting `EventSource` resuming over loopback.
#![cfg(all(feature = "server", feature = "client"))]

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use sse_proto::{Backfill, ConnectionError, History, Item, Message, Parser};
use sse_tokio::{EventSource, Hub, SourceError, SourceEvent, SseBody};
use tokio::sync::Notify;
use tokio::time::Instant;

use common::{boxed, serve, watchdog};

const LIMIT: Duration = Duration::from_secs(60);

/// A hub whose assigned IDs are 1, 2, 3, ...
fn counting_hub() -> sse_tokio::HubBuilder {
    Hub::builder().history(History::new())
}

async fn next_frame(body: &mut SseBody) -> Option<Bytes> {
    body.frame().await.map(|f| f.unwrap().into_data().unwrap())
}

/// The events in a stream's bytes, as "id:data".
fn events(bytes: &[u8]) -> Vec<String> {
    let mut parser = Parser::new();
    let mut input = bytes;
    let mut out = Vec::new();
    while let Some(item) = parser.parse(&mut input).unwrap() {
        if let Item::Event(event) = item {
            out.push(format!("{}:{}", event.last_event_id(), event.data()));
        }
    }
    out
}

async fn collect(body: SseBody) -> Vec<String> {
    events(&BodyExt::collect(body).await.unwrap().to_bytes())
}

#[tokio::test]
async fn a_subscriber_gets_its_replay_then_the_live_events() {
    let hub = counting_hub().build();
    for data in ["a", "b", "c"] {
        hub.publish(Message::new(data)).unwrap();
    }
    let resumed = hub.subscribe(Some("1"));
    let fresh = hub.subscribe(None);
    let up_to_date = hub.subscribe(Some("3"));
    hub.publish(Message::new("d")).unwrap();
    drop(hub);
    assert_eq!(collect(resumed).await, ["2:b", "3:c", "4:d"]);
    assert_eq!(collect(fresh).await, ["4:d"]);
    assert_eq!(collect(up_to_date).await, ["4:d"]);
}

#[tokio::test]
async fn backfill_policies_decide_for_new_clients_and_unknown_ids() {
    let hub = counting_hub()
        .history(History::new().max_events(2))
        .new_clients(Backfill::Everything)
        .unknown_ids(Backfill::Nothing)
        .build();
    for data in ["a", "b", "c"] {
        hub.publish(Message::new(data)).unwrap();
    }
    let fresh = hub.subscribe(None);
    let evicted = hub.subscribe(Some("1"));
    let foreign = hub.subscribe(Some("from another server"));
    drop(hub);
    assert_eq!(collect(fresh).await, ["2:b", "3:c"]);
    assert!(collect(evicted).await.is_empty());
    assert!(collect(foreign).await.is_empty());
}

#[tokio::test]
async fn publishers_ids_are_kept_and_the_hubs_count_up() {
    let hub = Hub::builder().history(History::new().first_id(7)).build();
    let body = hub.subscribe(None);
    assert_eq!(hub.publish(Message::new("a")).unwrap().id, "7");
    assert_eq!(hub.publish(Message::new("b").id("x")).unwrap().id, "x");
    assert_eq!(hub.publish(Message::new("c")).unwrap().id, "8");
    drop(hub);
    assert_eq!(collect(body).await, ["7:a", "x:b", "8:c"]);
}

#[test]
fn by_default_assigned_ids_start_from_the_clock() {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    let first: u64 = Hub::new()
        .publish(Message::new("x"))
        .unwrap()
        .id
        .parse()
        .unwrap();
    assert!(first >= micros && first < micros + 60_000_000, "{first}");
}

#[tokio::test]
async fn a_lagging_subscriber_is_closed_and_resumes_from_the_history() {
    let hub = counting_hub().capacity(2).build();
    let mut slow = hub.subscribe(None);
    let fast = hub.subscribe(None);
    let fast_reader = tokio::spawn(collect(fast));
    let mut lagged = Vec::new();
    for n in 1..=5 {
        let published = hub.publish(Message::new(format!("e{n}"))).unwrap();
        lagged.push(published.lagged);
        // Let the fast reader keep up.
        tokio::task::yield_now().await;
    }
    // The third event found the slow queue full: dropped then, and only then.
    assert_eq!(lagged, [0, 0, 1, 0, 0]);
    assert_eq!(hub.subscribers(), 1);

    // The slow stream delivers what it had queued, then ends...
    assert_eq!(next_frame(&mut slow).await.unwrap(), "id: 1\ndata: e1\n\n");
    assert_eq!(next_frame(&mut slow).await.unwrap(), "id: 2\ndata: e2\n\n");
    assert_eq!(next_frame(&mut slow).await, None);
    // ...and its client reconnects with the last ID it got: the history has the rest.
    let resumed = hub.subscribe(Some("2"));
    hub.publish(Message::new("e6")).unwrap();
    drop(hub);
    assert_eq!(collect(resumed).await, ["3:e3", "4:e4", "5:e5", "6:e6"]);
    assert_eq!(fast_reader.await.unwrap().len(), 6);
}

#[tokio::test]
async fn a_replay_does_not_count_against_the_live_queue() {
    let hub = counting_hub().capacity(1).build();
    for n in 1..=100 {
        hub.publish(Message::new(n.to_string())).unwrap();
    }
    // 99 events to replay, and room for one live event besides.
    let mut body = hub.subscribe(Some("1"));
    assert_eq!(hub.publish(Message::new("live")).unwrap().lagged, 0);
    for n in 2..=100 {
        assert_eq!(
            next_frame(&mut body).await.unwrap(),
            format!("id: {n}\ndata: {n}\n\n")
        );
    }
    assert_eq!(
        next_frame(&mut body).await.unwrap(),
        "id: 101\ndata: live\n\n"
    );
    assert_eq!(hub.subscribers(), 1);
}

#[tokio::test]
async fn subscribers_that_went_away_are_forgotten() {
    let hub = Hub::new();
    let bodies: Vec<_> = (0..200).map(|_| hub.subscribe(None)).collect();
    assert_eq!(hub.subscribers(), 200);
    drop(bodies);
    assert_eq!(hub.subscribers(), 0);
    let published = hub.publish(Message::new("x")).unwrap();
    assert_eq!((published.queued, published.lagged), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn keep_alives_and_retry_work_on_a_hub_stream() {
    let hub = counting_hub().build();
    hub.publish(Message::new("old")).unwrap();
    let mut body = hub
        .subscribe(Some("gone"))
        .keep_alive(Duration::from_secs(15))
        .retry(Duration::from_secs(2));
    let start = Instant::now();
    let at = move |secs| start + Duration::from_secs(secs);

    // The retry, then the replay, at once.
    assert_eq!(next_frame(&mut body).await.unwrap(), "retry: 2000\n\n");
    assert_eq!(next_frame(&mut body).await.unwrap(), "id: 1\ndata: old\n\n");
    assert_eq!(Instant::now(), start);
    // Quiet: a keep-alive at 15 s.
    assert_eq!(next_frame(&mut body).await.unwrap(), ":\n\n");
    assert_eq!(Instant::now(), at(15));
    // An event at 20 s postpones the next keep-alive to 35 s.
    let publisher = {
        let hub = hub.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(at(20)).await;
            hub.publish(Message::new("new")).unwrap();
        })
    };
    assert_eq!(next_frame(&mut body).await.unwrap(), "id: 2\ndata: new\n\n");
    assert_eq!(Instant::now(), at(20));
    assert_eq!(next_frame(&mut body).await.unwrap(), ":\n\n");
    assert_eq!(Instant::now(), at(35));
    publisher.await.unwrap();
}

/// Subscribers join while a publisher runs flat out on another thread: each gets
/// every event after its starting point exactly once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_during_publishing_loses_and_repeats_nothing() {
    let _watchdog = watchdog(LIMIT);
    const MIN_EVENTS: u64 = 5_000;
    const PER_THREAD: u64 = 20;
    let hub = counting_hub()
        .history(History::new().max_events(usize::MAX).max_bytes(usize::MAX))
        .capacity(1 << 20)
        .new_clients(Backfill::Everything)
        .build();
    let published = Arc::new(AtomicU64::new(0));
    let joined = Arc::new(AtomicU64::new(0));
    let start = Arc::new(std::sync::Barrier::new(3));
    // The publisher goes on until every subscriber has joined.
    let publisher = {
        let (hub, published, joined, start) = (
            hub.clone(),
            published.clone(),
            joined.clone(),
            start.clone(),
        );
        std::thread::spawn(move || {
            start.wait();
            let mut n = 0;
            while n < MIN_EVENTS || joined.load(Ordering::SeqCst) < 2 * PER_THREAD {
                n += 1;
                let id = hub.publish(Message::new(format!("e{n}"))).unwrap().id;
                assert_eq!(id, n.to_string());
                published.store(n, Ordering::SeqCst);
            }
            n
        })
    };
    // Subscribers from two threads, spread over the run, each starting from nothing
    // or from the last event known to be published.
    let subscriber = |odd: bool| {
        let (hub, published, joined, start) = (
            hub.clone(),
            published.clone(),
            joined.clone(),
            start.clone(),
        );
        std::thread::spawn(move || {
            start.wait();
            let mut subscribers = Vec::new();
            for turn in 0..PER_THREAD {
                while published.load(Ordering::SeqCst) < turn * 100 {
                    std::thread::yield_now();
                }
                let after = published.load(Ordering::SeqCst);
                if (turn % 2 == 0) == odd || after == 0 {
                    subscribers.push((0, hub.subscribe(None)));
                } else {
                    subscribers.push((after, hub.subscribe(Some(&after.to_string()))));
                }
                joined.fetch_add(1, Ordering::SeqCst);
            }
            subscribers
        })
    };
    let joiners = [subscriber(false), subscriber(true)];
    let mut subscribers = Vec::new();
    for joiner in joiners {
        subscribers.extend(joiner.join().unwrap());
    }
    let events = publisher.join().unwrap();
    drop(hub);
    let mut mid_stream = 0;
    for (after, body) in subscribers {
        let got = collect(body).await;
        let expected: Vec<String> = (after + 1..=events).map(|n| format!("{n}:e{n}")).collect();
        assert_eq!(got.len(), expected.len(), "from {after}");
        assert!(got == expected, "from {after}: the events differ");
        if after > 0 {
            mid_stream += 1;
        }
    }
    // Half the subscribers resumed from an ID while events were being published.
    assert!(mid_stream >= PER_THREAD - 1, "{mid_stream}");
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

#[tokio::test]
async fn closing_ends_every_stream_after_what_is_queued() {
    let _watchdog = watchdog(LIMIT);
    let hub = counting_hub().build();
    let other_handle = hub.clone();
    let early = hub.subscribe(None);
    hub.publish(Message::new("a")).unwrap();
    let mut live = hub.subscribe(Some("1"));
    hub.publish(Message::new("b")).unwrap();
    hub.close();
    // Ends although a clone of the hub is alive; nothing queued is lost.
    assert_eq!(collect(early).await, ["1:a", "2:b"]);
    assert_eq!(
        next_frame(&mut live).await.as_deref(),
        Some(&b"id: 2\ndata: b\n\n"[..])
    );
    assert_eq!(next_frame(&mut live).await, None);
    // After closing: published events are recorded and replayed, streams end.
    let published = other_handle.publish(Message::new("c")).unwrap();
    assert_eq!((published.queued, published.lagged), (0, 0));
    assert_eq!(collect(hub.subscribe(Some("1"))).await, ["2:b", "3:c"]);
    assert_eq!(hub.subscribers(), 0);
}
