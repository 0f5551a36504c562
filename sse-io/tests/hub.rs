//! The broadcast hub on each runtime: replay and live events, the handover between
//! them under concurrent publishing, dropping a lagging subscriber and its
//! resumption, closing, and keep-alives on a hub stream.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::Rt;
use futures_util::{FutureExt, StreamExt};
use http_body_util::BodyExt;
use sse_io::{EventSource, Hub, HubBuilder, SourceEvent, SseBody};
use sse_proto::{Backfill, ConnectionError, History, Item, Message, Parser};

/// A hub whose assigned IDs are 1, 2, 3, ...
fn counting_hub<T: Rt>() -> HubBuilder<T::R> {
    Hub::builder().history(History::new())
}

async fn next_frame<R: sse_io::Runtime>(body: &mut SseBody<R>) -> Option<Bytes> {
    body.next().await.map(|chunk| chunk.unwrap())
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

/// The next `n` events, from however many chunks they come in.
async fn next_events<R: sse_io::Runtime>(body: &mut SseBody<R>, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        out.extend(events(&next_frame(body).await.expect("more events")));
    }
    out
}

async fn collect<R: sse_io::Runtime>(body: SseBody<R>) -> Vec<String> {
    events(&BodyExt::collect(body).await.unwrap().to_bytes())
}

fn a_subscriber_gets_its_replay_then_the_live_events<T: Rt>() {
    T::block_on(async {
        let hub = counting_hub::<T>().build();
        for data in ["a", "b", "c"] {
            hub.publish(Message::new(data)).unwrap();
        }
        let resumed = hub.subscribe(Some("1")).unwrap();
        let fresh = hub.subscribe(None).unwrap();
        let up_to_date = hub.subscribe(Some("3")).unwrap();
        hub.publish(Message::new("d")).unwrap();
        drop(hub);
        assert_eq!(collect(resumed).await, ["2:b", "3:c", "4:d"]);
        assert_eq!(collect(fresh).await, ["4:d"]);
        assert_eq!(collect(up_to_date).await, ["4:d"]);
    });
}

fn backfill_policies_decide_for_new_clients_and_unknown_ids<T: Rt>() {
    T::block_on(async {
        let hub = counting_hub::<T>()
            .history(History::new().max_events(2))
            .new_clients(Backfill::Everything)
            .unknown_ids(Backfill::Nothing)
            .build();
        for data in ["a", "b", "c"] {
            hub.publish(Message::new(data)).unwrap();
        }
        let fresh = hub.subscribe(None).unwrap();
        let evicted = hub.subscribe(Some("1")).unwrap();
        let foreign = hub.subscribe(Some("from another server")).unwrap();
        drop(hub);
        assert_eq!(collect(fresh).await, ["2:b", "3:c"]);
        assert!(collect(evicted).await.is_empty());
        assert!(collect(foreign).await.is_empty());
    });
}

fn publishers_ids_are_kept_and_the_hubs_count_up<T: Rt>() {
    T::block_on(async {
        let hub = Hub::<T::R>::builder()
            .history(History::new().first_id(7))
            .build();
        let body = hub.subscribe(None).unwrap();
        assert_eq!(hub.publish(Message::new("a")).unwrap().id, "7");
        assert_eq!(hub.publish(Message::new("b").id("x")).unwrap().id, "x");
        assert_eq!(hub.publish(Message::new("c")).unwrap().id, "8");
        drop(hub);
        assert_eq!(collect(body).await, ["7:a", "x:b", "8:c"]);
    });
}

fn a_lagging_subscriber_is_closed_and_resumes_from_the_history<T: Rt>() {
    T::block_on(async {
        let hub = counting_hub::<T>().capacity(2).build();
        let slow = hub.subscribe(None).unwrap();
        let mut fast = hub.subscribe(None).unwrap();
        let mut fast_got = 0;
        let mut lagged = Vec::new();
        for n in 1..=5 {
            let published = hub.publish(Message::new(format!("e{n}"))).unwrap();
            lagged.push(published.lagged);
            // The fast reader keeps up.
            while let Some(Some(_)) = next_frame(&mut fast).now_or_never() {
                fast_got += 1;
            }
        }
        // The third event found the slow queue full: dropped then, and only then.
        assert_eq!(lagged, [0, 0, 1, 0, 0]);
        assert_eq!(hub.subscribers(), 1);

        // The slow stream delivers what it had queued, then ends...
        assert_eq!(collect(slow).await, ["1:e1", "2:e2"]);
        // ...and its client reconnects with the last ID it got: the history has the rest.
        let resumed = hub.subscribe(Some("2")).unwrap();
        hub.publish(Message::new("e6")).unwrap();
        drop(hub);
        assert_eq!(collect(resumed).await, ["3:e3", "4:e4", "5:e5", "6:e6"]);
        assert_eq!(fast_got + collect(fast).await.len(), 6);
    });
}

fn a_replay_does_not_count_against_the_live_queue<T: Rt>() {
    T::block_on(async {
        let hub = counting_hub::<T>().capacity(1).build();
        for n in 1..=100 {
            hub.publish(Message::new(n.to_string())).unwrap();
        }
        // 99 events to replay, and room for one live event besides.
        let mut body = hub.subscribe(Some("1")).unwrap();
        assert_eq!(hub.publish(Message::new("live")).unwrap().lagged, 0);
        let mut expected: Vec<String> = (2..=100).map(|n| format!("{n}:{n}")).collect();
        expected.push("101:live".into());
        assert_eq!(next_events(&mut body, 100).await, expected);
        assert_eq!(hub.subscribers(), 1);
    });
}

fn subscribers_that_went_away_are_forgotten<T: Rt>() {
    T::block_on(async {
        let hub = Hub::<T::R>::new();
        let bodies: Vec<_> = (0..200).map(|_| hub.subscribe(None).unwrap()).collect();
        assert_eq!(hub.subscribers(), 200);
        drop(bodies);
        assert_eq!(hub.subscribers(), 0);
        let published = hub.publish(Message::new("x")).unwrap();
        assert_eq!((published.queued, published.lagged), (0, 0));
    });
}

/// Subscribers join while a publisher runs flat out on another thread: each gets
/// every event after its starting point exactly once, in order.
fn subscribing_during_publishing_loses_and_repeats_nothing<T: Rt>() {
    T::block_on(async {
        const MIN_EVENTS: u64 = 5_000;
        const PER_THREAD: u64 = 20;
        let hub = counting_hub::<T>()
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
                        subscribers.push((0, hub.subscribe(None).unwrap()));
                    } else {
                        subscribers.push((after, hub.subscribe(Some(&after.to_string())).unwrap()));
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
    });
}

fn closing_ends_every_stream_after_what_is_queued<T: Rt>() {
    T::block_on(async {
        let hub = counting_hub::<T>().build();
        let other_handle = hub.clone();
        let early = hub.subscribe(None).unwrap();
        hub.publish(Message::new("a")).unwrap();
        let mut live = hub.subscribe(Some("1")).unwrap();
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
        assert_eq!(
            collect(hub.subscribe(Some("1")).unwrap()).await,
            ["2:b", "3:c"]
        );
        assert_eq!(hub.subscribers(), 0);
    });
}

#[test]
fn by_default_assigned_ids_start_from_the_clock() {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    let first: u64 = Hub::<sse_tokio::Tokio>::new()
        .publish(Message::new("x"))
        .unwrap()
        .id
        .parse()
        .unwrap();
    assert!(first >= micros && first < micros + 60_000_000, "{first}");
}

fn keep_alives_and_retry_work_on_a_hub_stream<T: Rt>() {
    T::block_on(async {
        let hub = counting_hub::<T>()
            .unknown_ids(Backfill::Everything)
            .build();
        hub.publish(Message::new("old")).unwrap();
        let interval = Duration::from_millis(150);
        let mut body = hub
            .subscribe(Some("gone"))
            .unwrap()
            .keep_alive(interval)
            .retry(Duration::from_secs(2));
        let start = Instant::now();

        // The retry, then the replay, at once.
        assert_eq!(next_frame(&mut body).await.unwrap(), "retry: 2000\n");
        assert_eq!(next_frame(&mut body).await.unwrap(), "id: 1\ndata: old\n\n");
        assert!(start.elapsed() < interval);
        // Quiet: a keep-alive after the interval.
        assert_eq!(next_frame(&mut body).await.unwrap(), ":\n\n");
        let first = start.elapsed();
        assert!(first >= interval, "{first:?}");
        // An event a little later postpones the next keep-alive to an interval after it.
        let publisher = hub.clone();
        T::spawn(async move {
            T::sleep(Duration::from_millis(50)).await;
            publisher.publish(Message::new("new")).unwrap();
        });
        assert_eq!(next_frame(&mut body).await.unwrap(), "id: 2\ndata: new\n\n");
        let event = Instant::now();
        assert_eq!(next_frame(&mut body).await.unwrap(), ":\n\n");
        assert!(event.elapsed() >= interval, "{:?}", event.elapsed());
    });
}

/// A response body the test can cut, as a failing proxy or network would: the
/// server then aborts the connection. Cut by closing `cut`'s sender.
struct Cuttable<B> {
    body: B,
    cut: std::pin::Pin<Box<async_channel::Receiver<()>>>,
}

/// Cuts every stream served so far.
#[derive(Clone, Default)]
struct Cutter(Arc<std::sync::Mutex<Vec<async_channel::Sender<()>>>>);

impl Cutter {
    fn cut(&self) {
        for switch in self.0.lock().unwrap().drain(..) {
            switch.close();
        }
    }
}

impl<B> http_body::Body for Cuttable<B>
where
    B: http_body::Body<Data = Bytes, Error = std::convert::Infallible> + Unpin,
{
    type Data = Bytes;
    type Error = common::BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, common::BoxError>>> {
        if self.cut.poll_next_unpin(cx).is_ready() {
            return std::task::Poll::Ready(Some(Err("cut by the test".into())));
        }
        std::pin::Pin::new(&mut self.body)
            .poll_frame(cx)
            .map(|frame| frame.map(|f| f.map_err(|never| match never {})))
    }
}

/// Serves `hub` from the loopback server, on a task of the runtime under test: each
/// request's `Last-Event-ID` goes to the returned channel, and the cutter cuts every
/// stream served so far.
fn serve_hub<T: Rt>(
    server: &common::Server,
    hub: Hub<T::R>,
) -> (async_channel::Receiver<Option<String>>, Cutter) {
    let (ids, seen) = async_channel::unbounded();
    let cutter = Cutter::default();
    let switches = cutter.clone();
    let requests = server.requests.clone();
    T::spawn(async move {
        while let Ok(mut exchange) = requests.recv().await {
            let id = sse_io::last_event_id(&exchange.head.headers).map(|id| id.into_owned());
            let body = hub.subscribe(id.as_deref()).unwrap();
            let _ = ids.send(id).await;
            let (switch, cut) = async_channel::bounded::<()>(1);
            switches.0.lock().unwrap().push(switch);
            let body = Cuttable {
                body,
                cut: Box::pin(cut),
            };
            let mut response = http::Response::new(BodyExt::boxed(body));
            sse_io::set_headers(response.headers_mut());
            exchange.respond(response);
        }
    });
    (seen, cutter)
}

async fn next_message<R: sse_io::Runtime>(source: &mut EventSource<R>) -> String {
    match source.next().await.expect("the stream goes on") {
        Ok(SourceEvent::Message(event)) => format!("{}:{}", event.last_event_id(), event.data()),
        other => panic!("expected an event, got {other:?}"),
    }
}

fn an_event_source_resumes_after_a_cut_with_what_it_missed<T: Rt>() {
    let server = common::Server::start();
    T::block_on(async {
        let hub = counting_hub::<T>().build();
        hub.publish(Message::new("before anyone listened")).unwrap();
        let (requests, cut) = serve_hub::<T>(&server, hub.clone());
        let mut source = EventSource::<T::R>::builder(server.url("/events"))
            .reconnection_time(Duration::from_millis(200))
            .connect()
            .unwrap();
        assert!(matches!(
            source.next().await,
            Some(Ok(SourceEvent::Open(_)))
        ));
        assert_eq!(requests.recv().await.unwrap(), None);
        hub.publish(Message::new("a")).unwrap();
        assert_eq!(next_message(&mut source).await, "2:a");

        // The connection is cut. While the client waits to reconnect, two events go
        // out.
        cut.cut();
        match source.next().await {
            Some(Ok(SourceEvent::Reconnecting(r))) => {
                assert_eq!(r.reason, ConnectionError::Network)
            }
            other => panic!("{other:?}"),
        }
        hub.publish(Message::new("b")).unwrap();
        hub.publish(Message::new("c")).unwrap();

        // It comes back with Last-Event-ID 2, and gets them from the history, then the
        // live events: no gap, no repeat.
        assert!(matches!(
            source.next().await,
            Some(Ok(SourceEvent::Open(_)))
        ));
        assert_eq!(requests.recv().await.unwrap().as_deref(), Some("2"));
        assert_eq!(next_message(&mut source).await, "3:b");
        assert_eq!(next_message(&mut source).await, "4:c");
        hub.publish(Message::new("d")).unwrap();
        assert_eq!(next_message(&mut source).await, "5:d");
        assert_eq!(source.last_event_id(), "5");
    });
}

/// A client that stops reading is dropped once the socket buffers and its allowance
/// are full; when it reads again it gets what was pending, reconnects, and the
/// history fills the rest in: every event once, in order.
fn an_event_source_that_lags_is_dropped_and_catches_up<T: Rt>() {
    const SIZE: usize = 64 * 1024;
    const MAX: u64 = 2_000; // 128 MiB: far more than loopback buffers hold
    let server = common::Server::start();
    T::block_on(async {
        let hub = counting_hub::<T>()
            .history(
                History::new()
                    .max_events(MAX as usize)
                    .max_bytes(usize::MAX),
            )
            .capacity(4)
            .build();
        let (requests, _cut) = serve_hub::<T>(&server, hub.clone());
        let mut source = EventSource::<T::R>::builder(server.url("/events"))
            .reconnection_time(Duration::from_millis(10))
            .connect()
            .unwrap();
        assert!(matches!(
            source.next().await,
            Some(Ok(SourceEvent::Open(_)))
        ));
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
            // Slow enough for the connection to keep up with the allowance: what
            // stops it is the client not reading, once the socket buffers are full.
            T::sleep(Duration::from_millis(1)).await;
        }
        assert!(published > 32, "lagged after {published} events: too soon");
        assert_eq!(hub.subscribers(), 0);
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
                    assert_eq!(event.last_event_id(), next_id.to_string());
                    assert_eq!(event.data().len(), SIZE);
                    next_id += 1;
                }
                Ok(SourceEvent::Open(_)) => {}
                Ok(SourceEvent::Reconnecting(r)) => {
                    assert_eq!(r.reason, ConnectionError::EndOfStream);
                    reconnections += 1;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(reconnections, 1);
        let resumed_from: u64 = requests.recv().await.unwrap().unwrap().parse().unwrap();
        assert!(
            resumed_from > 1 && resumed_from < published,
            "{resumed_from}"
        );
    });
}

/// The byte bound: a subscriber that falls too many bytes behind lags, however few
/// events that is, and is sent what it had pending.
fn a_subscriber_too_many_bytes_behind_lags<T: Rt>() {
    T::block_on(async {
        let hub = counting_hub::<T>()
            .capacity(1000)
            .capacity_bytes(4096)
            .build();
        let mut slow = hub.subscribe(None).unwrap();
        let kib = "x".repeat(1000);
        let lagged: Vec<usize> = (0..6)
            .map(|_| hub.publish(Message::new(kib.as_str())).unwrap().lagged)
            .collect();
        // Each event is about 1 KiB: the fifth is over 4 KiB behind.
        assert_eq!(lagged, [0, 0, 0, 0, 1, 0]);
        let mut got = 0;
        while let Some(chunk) = next_frame(&mut slow).await {
            got += events(&chunk).len();
        }
        assert_eq!(got, 4);
    });
}

/// An ID the hub cannot place gets, by default, what a new client gets: a made-up ID
/// is no way to ask for the whole history.
fn unknown_ids_get_what_new_clients_get_by_default<T: Rt>() {
    T::block_on(async {
        for new_clients in [Backfill::Nothing, Backfill::Everything] {
            let hub = counting_hub::<T>().new_clients(new_clients).build();
            for data in ["a", "b"] {
                hub.publish(Message::new(data)).unwrap();
            }
            let new = hub.subscribe(None).unwrap();
            let made_up = hub.subscribe(Some("no such event")).unwrap();
            drop(hub);
            let expected: &[&str] = match new_clients {
                Backfill::Nothing => &[],
                Backfill::Everything => &["1:a", "2:b"],
            };
            assert_eq!(collect(new).await, expected);
            assert_eq!(collect(made_up).await, expected);
        }
    });
}

/// Past `max_subscribers` streams a subscription is refused, until a response is
/// dropped; by default 10,000 are served.
fn streams_over_the_cap_are_refused_until_one_goes<T: Rt>() {
    T::block_on(async {
        let hub = Hub::<T::R>::builder().max_subscribers(2).build();
        let first = hub.subscribe(None).unwrap();
        let _second = hub.subscribe(Some("1")).unwrap();
        let Err(refused) = hub.subscribe(None) else {
            panic!("a third is refused")
        };
        assert_eq!(refused, sse_proto::TooManySubscribers { max: 2 });
        drop(first);
        let _third = hub.subscribe(None).unwrap();

        let hub = Hub::<T::R>::new();
        let bodies: Vec<_> = (0..sse_proto::DEFAULT_MAX_SUBSCRIBERS)
            .map(|_| hub.subscribe(None).unwrap())
            .collect();
        assert!(hub.subscribe(None).is_err());
        drop(bodies);
        assert!(hub.subscribe(None).is_ok());
    });
}

/// Two threads publish to two topics at once while a stream follows both and
/// another follows one: each gets every event of its topics, in the order of their
/// IDs, which count up across topics.
fn topic_streams_follow_concurrent_publishers_in_one_order<T: Rt>() {
    T::block_on(async {
        const EACH: u64 = 2_000;
        let hub = counting_hub::<T>()
            .capacity(1 << 20)
            .topic_history(16, 1 << 20)
            .build();
        let both = hub.subscribe_to(["a", "b"], None).unwrap();
        let only_b = hub.subscribe_to(["b"], None).unwrap();
        let publishers: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|topic| {
                let hub = hub.clone();
                std::thread::spawn(move || {
                    for n in 0..EACH {
                        hub.publish_to(topic, Message::new(format!("{topic}{n}")))
                            .unwrap();
                    }
                })
            })
            .collect();
        let reader = collect(both);
        for publisher in publishers {
            publisher.join().unwrap();
        }
        drop(hub);
        let got = reader.await;
        assert_eq!(got.len() as u64, 2 * EACH);
        let ids: Vec<u64> = got
            .iter()
            .map(|e| e.split(':').next().unwrap().parse().unwrap())
            .collect();
        assert!(
            ids.windows(2).all(|pair| pair[0] < pair[1]),
            "in the order published"
        );
        for topic in ["a", "b"] {
            let data: Vec<String> = got
                .iter()
                .filter_map(|e| {
                    e.split(':')
                        .nth(1)
                        .filter(|d| d.starts_with(topic))
                        .map(String::from)
                })
                .collect();
            let expected: Vec<String> = (0..EACH).map(|n| format!("{topic}{n}")).collect();
            assert!(data == expected, "every event of {topic}, in order");
        }
        let b: Vec<String> = collect(only_b).await;
        assert_eq!(b.len() as u64, EACH);
        assert!(b.iter().all(|e| e.contains(":b")));
    });
}

/// A client of two topics that drops its connection resumes both from its one
/// last event ID; a topic too long without followers was evicted and comes back
/// empty.
fn a_topic_stream_resumes_from_one_id<T: Rt>() {
    T::block_on(async {
        let hub = counting_hub::<T>().max_topics(3).build();
        let mut stream = hub.subscribe_to(["x", "y"], None).unwrap();
        hub.publish_to("x", Message::new("x1")).unwrap(); // 1
        let first = next_frame(&mut stream).await.unwrap();
        assert_eq!(events(&first), ["1:x1"]);
        drop(stream);
        hub.publish_to("y", Message::new("y1")).unwrap(); // 2
        hub.publish_to("x", Message::new("x2")).unwrap(); // 3
        let again = hub.subscribe_to(["y", "x"], Some("1")).unwrap();
        hub.publish_to("y", Message::new("y2")).unwrap(); // 4
        hub.publish_to("z", Message::new("z1")).unwrap(); // 5
        hub.publish_to("w", Message::new("w1")).unwrap(); // 6: evicts "z"
        assert_eq!(hub.topics(), 3);
        let late = hub.subscribe_to(["z"], Some("4")).unwrap();
        drop(hub);
        assert_eq!(collect(again).await, ["2:y1", "3:x2", "4:y2"]);
        assert!(
            collect(late).await.is_empty(),
            "z was evicted: 4 is unknown there"
        );
    });
}

on_every_runtime!(
    topic_streams_follow_concurrent_publishers_in_one_order,
    a_topic_stream_resumes_from_one_id,
    streams_over_the_cap_are_refused_until_one_goes,
    a_subscriber_too_many_bytes_behind_lags,
    unknown_ids_get_what_new_clients_get_by_default,
    a_subscriber_gets_its_replay_then_the_live_events,
    backfill_policies_decide_for_new_clients_and_unknown_ids,
    publishers_ids_are_kept_and_the_hubs_count_up,
    a_lagging_subscriber_is_closed_and_resumes_from_the_history,
    a_replay_does_not_count_against_the_live_queue,
    subscribers_that_went_away_are_forgotten,
    subscribing_during_publishing_loses_and_repeats_nothing,
    closing_ends_every_stream_after_what_is_queued,
    keep_alives_and_retry_work_on_a_hub_stream,
    an_event_source_resumes_after_a_cut_with_what_it_missed,
    an_event_source_that_lags_is_dropped_and_catches_up,
);
