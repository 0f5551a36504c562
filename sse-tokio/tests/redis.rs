//! `RedisHub` on a real redis-server: nodes on one Redis serve the same events with
//! the same IDs, so a client that reconnects to a different node each time gets
//! every event once, in order; and the same while Redis is stopped and started.
//!
//! Each test starts its own redis-server on a free loopback port, in a temporary
//! directory, and stops it. Without redis-server (Debian's `redis-server`, which
//! `.ci/run` installs) the tests say so and pass, unless `CI` is set.
#![cfg(feature = "redis")]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_proto::{Item, Message, Parser};
use sse_tokio::{RedisHub, SseBody};

/// A redis-server of the test's own, with append-only persistence in a temporary
/// directory; killed, and the directory removed, when dropped.
struct Redis {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl Redis {
    fn start() -> Option<Redis> {
        let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        if Command::new(&binary).arg("--version").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is missing; .ci/run installs Debian's redis-server"
            );
            eprintln!("skipped: no redis-server (set REDIS_SERVER)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("sse-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = Redis {
            child: None,
            port,
            dir,
        };
        redis.run();
        Some(redis)
    }

    fn run(&mut self) {
        let child =
            Command::new(std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into()))
                .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
                .args([
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                ])
                .arg("--dir")
                .arg(&self.dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server runs");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A client's connection: reads whole events, as (id, data).
struct Connection {
    body: SseBody,
    parser: Parser,
    pending: Vec<u8>,
}

impl Connection {
    async fn open(node: &RedisHub, last_event_id: Option<&str>) -> Connection {
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

/// Stream IDs in order, as Redis orders them.
fn entry(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').expect("a stream ID");
    (ms.parse().unwrap(), seq.parse().unwrap())
}

/// Reads from node after node (a few chunks each), reconnecting with the last ID,
/// until `count` events arrived; checks they are `e0`..`e{count-1}`, once each, in
/// order, with increasing IDs.
async fn read_round_robin(nodes: &[RedisHub], count: usize) -> Vec<(String, String)> {
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
    assert!(got.windows(2).all(|w| entry(&w[0].0) < entry(&w[1].0)));
    assert!(turn >= 10, "the client changed nodes {turn} times");
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_changes_nodes_gets_every_event_once() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(
            RedisHub::builder(&redis.url(), "events")
                .connect()
                .await
                .unwrap(),
        );
    }
    let publisher = RedisHub::builder(&redis.url(), "events")
        .connect()
        .await
        .unwrap();
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
    let late = RedisHub::builder(&redis.url(), "events")
        .connect()
        .await
        .unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_fails_fast_while_redis_is_away_and_following_resumes() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let node = RedisHub::builder(&redis.url(), "events")
        .publish_timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap();
    let other = RedisHub::builder(&redis.url(), "events")
        .connect()
        .await
        .unwrap();
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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_older_than_the_nodes_history_is_resumed_from_the_stream() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let node = RedisHub::builder(&redis.url(), "events")
        .hub(sse_tokio::Hub::builder(), 10)
        .connect()
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
