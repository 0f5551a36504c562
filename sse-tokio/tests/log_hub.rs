//! `LogHub`: nodes on one event log serve the same events with the same IDs, so a
//! client that reconnects to a different node each time gets every event once, in
//! order; on `MemoryLog`, and on a real redis-server (`RedisHub`), also while Redis
//! is stopped and started.
//!
//! Each Redis test starts its own redis-server on a free loopback port, in a
//! temporary directory, and stops it. Without redis-server (Debian's
//! `redis-server`, which `.ci/run` installs) those tests say so and pass, unless
//! `CI` is set.
#![cfg(feature = "log-hub")]

use std::time::Duration;
#[cfg(feature = "redis")]
use std::time::Instant;

use futures_util::StreamExt;
use sse_proto::{Item, Message, Parser};
use sse_tokio::{EventLog, LogHub, MemoryLog, SseBody};
#[cfg(feature = "redis")]
use sse_tokio::{RedisHub, RedisLog};
#[cfg(feature = "redis")]
use test_support::Redis;

/// A node on the stream `key` of the Redis at `url`.
#[cfg(feature = "redis")]
async fn redis_node(url: &str, key: &str) -> RedisHub {
    let log = RedisLog::connect(url, key).await.unwrap();
    LogHub::builder(log).start().await.unwrap()
}

/// A client's connection: reads whole events, as (id, data).
struct Connection {
    body: SseBody,
    parser: Parser,
    pending: Vec<u8>,
}

impl Connection {
    async fn open<L: EventLog>(node: &LogHub<L>, last_event_id: Option<&str>) -> Connection {
        Connection {
            body: node.subscribe(last_event_id).await.unwrap(),
            parser: Parser::new(),
            pending: Vec::new(),
        }
    }

    /// The events of the next chunk (every event of a chunk counts as received).
    async fn next(&mut self) -> Vec<(String, String)> {
        let chunk = tokio::time::timeout(Duration::from_secs(20), self.body.next())
            .await
            .expect("an event in time")
            .expect("the stream goes on")
            .unwrap();
        self.pending.extend_from_slice(&chunk);
        let mut input = &self.pending[..];
        let mut out = Vec::new();
        while let Some(item) = self.parser.parse(&mut input).unwrap() {
            if let Item::Event(event) = item {
                out.push((event.last_event_id().to_string(), event.data().to_string()));
            }
        }
        let used = self.pending.len() - input.len();
        self.pending.drain(..used);
        out
    }
}

/// Reads from node after node (a few chunks each), reconnecting with the last ID,
/// until `count` events arrived; checks they are `e0`..`e{count-1}`, once each, in
/// order, with increasing IDs.
async fn read_round_robin<L: EventLog>(nodes: &[LogHub<L>], count: usize) -> Vec<(String, String)> {
    let mut got: Vec<(String, String)> = Vec::new();
    let mut turn = 0;
    let mut connection = Connection::open(&nodes[0], None).await;
    while got.len() < count {
        for _ in 0..3 {
            got.extend(connection.next().await);
            if got.len() >= count {
                break;
            }
        }
        turn += 1;
        let last = got.last().map(|(id, _)| id.clone());
        connection = Connection::open(&nodes[turn % nodes.len()], last.as_deref()).await;
    }
    let data: Vec<&str> = got.iter().map(|(_, data)| data.as_str()).collect();
    let expected: Vec<String> = (0..count).map(|n| format!("e{n}")).collect();
    assert_eq!(data, expected, "every event once, in order");
    let log = nodes[0].log();
    let order = |id: &str| log.position(id).expect("an ID of the log");
    assert!(got.windows(2).all(|w| order(&w[0].0) < order(&w[1].0)));
    assert!(turn >= 10, "the client changed nodes {turn} times");
    got
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_changes_nodes_gets_every_event_once() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(redis_node(&redis.url(), "events").await);
    }
    let publisher = redis_node(&redis.url(), "events").await;
    // Subscribed before the first publish: a new client gets what comes next.
    let reader = read_round_robin(&nodes, 300);
    let writer = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        for n in 0..300 {
            let id = publisher
                .publish(Message::new(format!("e{n}")))
                .await
                .unwrap();
            assert!(id.contains('-'), "a stream ID: {id}");
            if n % 10 == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    let (got, ()) = tokio::join!(reader, writer);

    // A node started now loads the stream's newest entries: it resumes a client of
    // the others.
    let late = redis_node(&redis.url(), "events").await;
    let mut connection = Connection::open(&late, Some(&got[149].0)).await;
    let mut resumed = Vec::new();
    while resumed.len() < 150 {
        resumed.extend(connection.next().await);
    }
    assert_eq!(resumed, got[150..]);
    assert!(matches!(
        publisher.publish(Message::new("x").id("mine")).await,
        Err(sse_tokio::RedisPublishError::OwnId)
    ));
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_fails_fast_while_redis_is_away_and_following_resumes() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let log = RedisLog::connect(&redis.url(), "events").await.unwrap();
    let node = LogHub::builder(log)
        .timeout(Duration::from_millis(500))
        .start()
        .await
        .unwrap();
    let other = redis_node(&redis.url(), "events").await;
    let mut connection = Connection::open(&other, None).await;
    node.publish(Message::new("before")).await.unwrap();
    assert_eq!(connection.next().await[0].1, "before");

    redis.stop();
    let started = Instant::now();
    assert!(node.publish(Message::new("lost")).await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    redis.run();
    // The publisher's connection comes back by itself; the follower too.
    let deadline = Instant::now() + Duration::from_secs(15);
    while node.publish(Message::new("after")).await.is_err() {
        assert!(Instant::now() < deadline, "publishing did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut after = Vec::new();
    while after.is_empty() {
        after = connection.next().await;
    }
    assert_eq!(
        after[0].1, "after",
        "the follower resumed after the restart"
    );
}

/// A node whose history holds ten events resumes a client from an older ID with
/// what the stream holds after it, then its own events, then live ones; an ID
/// from before the stream's first entry, or not a stream ID, gets the hub's policy
/// for unknown IDs (by default, nothing from the past).
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_older_than_the_nodes_history_is_resumed_from_the_stream() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let log = RedisLog::connect(&redis.url(), "events").await.unwrap();
    let node = LogHub::builder(log)
        .hub(sse_tokio::Hub::builder(), 10)
        .start()
        .await
        .unwrap();
    let mut watcher = Connection::open(&node, None).await;
    for n in 0..100 {
        node.publish(Message::new(format!("e{n}"))).await.unwrap();
    }
    let mut seen = Vec::new();
    while seen.len() < 100 {
        seen.extend(watcher.next().await);
    }
    let mut resumed = Connection::open(&node, Some(&seen[20].0)).await;
    node.publish(Message::new("e100")).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 80 {
        got.extend(resumed.next().await);
    }
    let data: Vec<&str> = got.iter().map(|(_, data)| data.as_str()).collect();
    let expected: Vec<String> = (21..=100).map(|n| format!("e{n}")).collect();
    assert_eq!(data, expected);

    for unknown in ["1-0", "not-an-id", "x"] {
        let mut lost = Connection::open(&node, Some(unknown)).await;
        node.publish(Message::new(format!("after {unknown}")))
            .await
            .unwrap();
        let next = lost.next().await;
        assert_eq!(next.len(), 1, "{unknown}: {next:?}");
        assert_eq!(next[0].1, format!("after {unknown}"));
    }
}

/// Three nodes on one `MemoryLog`: the same guarantees as on Redis, with no server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_on_one_memory_log_serve_the_same_events() {
    let log = std::sync::Arc::new(MemoryLog::new(10_000));
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(LogHub::builder(log.clone()).start().await.unwrap());
    }
    let publisher = LogHub::builder(log.clone()).start().await.unwrap();
    let reader = read_round_robin(&nodes, 300);
    let writer = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        for n in 0..300 {
            publisher
                .publish(Message::new(format!("e{n}")))
                .await
                .unwrap();
            if n % 10 == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    let (got, ()) = tokio::join!(reader, writer);

    // A node with a ten-event history resumes an older ID from the log.
    let small = LogHub::builder(log.clone())
        .hub(sse_tokio::Hub::builder(), 10)
        .start()
        .await
        .unwrap();
    let mut resumed = Connection::open(&small, Some(&got[99].0)).await;
    let mut again = Vec::new();
    while again.len() < 200 {
        again.extend(resumed.next().await);
    }
    assert_eq!(again, got[100..]);
    assert!(matches!(
        publisher.publish(Message::new("x").id("mine")).await,
        Err(sse_tokio::LogPublishError::OwnId)
    ));
}

/// A log trimmed past a client's ID: the client gets the hub's policy for unknown
/// IDs (by default nothing from the past), not a stream with a hole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_the_log_trimmed_gets_the_unknown_id_policy() {
    let log = std::sync::Arc::new(MemoryLog::new(20));
    let node = LogHub::builder(log.clone())
        .hub(sse_tokio::Hub::builder(), 5)
        .start()
        .await
        .unwrap();
    for n in 0..50 {
        node.publish(Message::new(format!("e{n}"))).await.unwrap();
    }
    // Wait for the follower to have them all.
    let mut watcher = Connection::open(&node, Some("50")).await;
    node.publish(Message::new("e50")).await.unwrap();
    assert_eq!(watcher.next().await[0].1, "e50");
    // IDs count from 1: e49 is "50". "10" was trimmed from the log (it keeps
    // 20) and from the history (5).
    let mut lost = Connection::open(&node, Some("10")).await;
    node.publish(Message::new("e51")).await.unwrap();
    assert_eq!(lost.next().await, [("52".to_string(), "e51".to_string())]);
    // "40" is in the log but not in the history: resumed from the log.
    let mut older = Connection::open(&node, Some("40")).await;
    let mut got = Vec::new();
    while got.len() < 12 {
        got.extend(older.next().await);
    }
    let data: Vec<&str> = got.iter().map(|(_, data)| data.as_str()).collect();
    let expected: Vec<String> = (40..=51).map(|n| format!("e{n}")).collect();
    assert_eq!(data, expected);
}

/// With a maximum age, entries older than it leave the stream at the next append:
/// a client whose ID went with them gets the unknown-ID policy.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_older_than_the_maximum_age_are_trimmed() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let log = RedisLog::connect(&redis.url(), "aged")
        .await
        .unwrap()
        .max_age(Duration::from_millis(300));
    let node = LogHub::builder(log)
        .hub(sse_tokio::Hub::builder(), 1)
        .start()
        .await
        .unwrap();
    let old = node.publish(Message::new("old")).await.unwrap();
    node.publish(Message::new("old too")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    node.publish(Message::new("new")).await.unwrap();
    // The history holds one event: "old" is resumed from the stream, or not at all.
    let mut connection = Connection::open(&node, Some(&old)).await;
    node.publish(Message::new("next")).await.unwrap();
    assert_eq!(
        connection.next().await[0].1,
        "next",
        "nothing from before the trim"
    );
}
