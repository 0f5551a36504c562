//! `fanout-load`: many SSE clients on loopback, against our `Hub` on hyper and against
//! an idiomatic axum server (axum's `Sse` over a tokio `broadcast` channel, as axum's
//! own example fans out), side by side in one run.
//!
//! ```sh
//! cargo run --release -p sse-benches --bin fanout-load -- --clients 1000 --events 200 --size 32
//! ```
//!
//! Each server runs as a child process (this binary, `serve`), on one thread, so that
//! its memory and CPU time are its own; the clients run on one thread here. Reported
//! per server: memory per idle connection (resident size after the clients connect,
//! over before, per client), delivered events per second (every client's events
//! over the time from the first publish to the last client's last event),
//! publish-to-receive latency p50 and p99 (each event carries its publish time), and
//! server CPU time per delivered event. Events are published as fast as the server
//! takes them (`--rate 0`, the default) or at `--rate` per second.
//!
//! With `--redis URL` a third server runs beside them: `RedisHub`, our hub fed
//! from a Redis stream (each event `XADD`ed, then read back by the server's
//! follower), for the cost of going through Redis. Its CPU time is the server's
//! alone, not Redis's.
//!
//! Loopback only; every run is bounded (`--timeout`, default 120 s) and stops the
//! server it started.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a run is told.
#[derive(Debug, Clone, Copy)]
struct Load {
    clients: usize,
    events: usize,
    size: usize,
    /// Events per second; 0: as fast as the server takes them.
    rate: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.parse().expect("a number"))
    };
    let load = Load {
        clients: value("--clients", 1000) as usize,
        events: value("--events", 200) as usize,
        size: value("--size", 32) as usize,
        rate: value("--rate", 0),
    };
    let redis = args
        .iter()
        .position(|a| a == "--redis")
        .and_then(|i| args.get(i + 1))
        .cloned();
    if args.first().map(String::as_str) == Some("serve") {
        serve(&args[1], load, redis);
        return;
    }
    let timeout = Duration::from_secs(value("--timeout", 120));
    println!(
        "{} clients, {} events of {} bytes, {}",
        load.clients,
        load.events,
        load.size,
        if load.rate == 0 {
            "as fast as the server takes them".to_string()
        } else {
            format!("{} events/s", load.rate)
        }
    );
    println!(
        "| server | memory per idle connection | delivered events/s | latency p50 | latency p99 | CPU per delivered event |"
    );
    println!("|---|---|---|---|---|---|");
    let mut results = Vec::new();
    let kinds: &[&str] = if redis.is_some() {
        &["hub", "axum", "redis"]
    } else {
        &["hub", "axum"]
    };
    for &kind in kinds {
        let result = measure(kind, load, timeout, redis.as_deref());
        println!(
            "| {kind} | {:.1} KB | {:.0} | {:.2} ms | {:.2} ms | {:.2} µs |",
            result.memory_per_connection / 1000.0,
            result.events_per_second,
            result.p50.as_secs_f64() * 1e3,
            result.p99.as_secs_f64() * 1e3,
            result.cpu_per_event.as_secs_f64() * 1e6,
        );
        results.push(result);
    }
    let (hub, axum) = (&results[0], &results[1]);
    println!(
        "hub / axum: memory per connection {:.2}x, events/s {:.2}x, p99 {:.2}x, CPU per event {:.2}x",
        hub.memory_per_connection / axum.memory_per_connection,
        hub.events_per_second / axum.events_per_second,
        hub.p99.as_secs_f64() / axum.p99.as_secs_f64(),
        hub.cpu_per_event.as_secs_f64() / axum.cpu_per_event.as_secs_f64(),
    );
    if let Some(redis) = results.get(2) {
        println!(
            "redis / hub: events/s {:.2}x, p99 {:.2}x, CPU per event {:.2}x",
            redis.events_per_second / hub.events_per_second,
            redis.p99.as_secs_f64() / hub.p99.as_secs_f64(),
            redis.cpu_per_event.as_secs_f64() / hub.cpu_per_event.as_secs_f64(),
        );
    }
}

/// One server's numbers.
struct Measured {
    memory_per_connection: f64,
    events_per_second: f64,
    p50: Duration,
    p99: Duration,
    cpu_per_event: Duration,
}

/// Starts the `kind` server, runs the load against it, stops it.
fn measure(kind: &str, load: Load, timeout: Duration, redis: Option<&str>) -> Measured {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["serve", kind])
        .args(redis.map(|url| ["--redis", url]).into_iter().flatten())
        .args(["--clients", &load.clients.to_string()])
        .args(["--events", &load.events.to_string()])
        .args(["--size", &load.size.to_string()])
        .args(["--rate", &load.rate.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let pid = child.id();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut line = move || lines.next().expect("a line from the server").unwrap();
    let port: u16 = line()
        .strip_prefix("port ")
        .expect("the port")
        .parse()
        .unwrap();
    let before = resident(pid);
    let mut stdin = child.stdin.take().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime.block_on(async {
        let mut tasks = Vec::with_capacity(load.clients);
        for _ in 0..load.clients {
            let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connects");
            tcp.write_all(b"GET /events HTTP/1.0\r\nHost: load\r\n\r\n")
                .await
                .unwrap();
            tasks.push(tokio::spawn(client(tcp)));
        }
        // The server says when every client is subscribed.
        let connected = tokio::task::spawn_blocking(move || {
            let word = line();
            assert_eq!(word, "connected");
            line
        });
        let line = tokio::time::timeout(timeout, connected)
            .await
            .expect("every client subscribed in time")
            .unwrap();
        let idle = resident(pid);
        let cpu_before = cpu_time(pid);
        let start = Instant::now();
        writeln!(stdin, "go").unwrap();
        stdin.flush().unwrap();
        let mut latencies = Vec::with_capacity(load.clients * load.events);
        let all = futures::future::join_all(tasks);
        for got in tokio::time::timeout(timeout, all)
            .await
            .expect("every client got every event in time")
        {
            latencies.extend(got.unwrap());
        }
        let elapsed = start.elapsed();
        let cpu = cpu_time(pid) - cpu_before;
        drop(line);
        (idle, latencies, elapsed, cpu)
    });
    let (idle, mut latencies, elapsed, cpu) = outcome;
    drop(stdin);
    stop(child);
    latencies.sort_unstable();
    let delivered = latencies.len();
    let at = |q: f64| {
        Duration::from_micros(u64::from(
            latencies
                .get(((delivered as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or(0),
        ))
    };
    Measured {
        memory_per_connection: idle.saturating_sub(before) as f64 / load.clients as f64,
        events_per_second: delivered as f64 / elapsed.as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
        cpu_per_event: cpu / u32::try_from(delivered.max(1)).unwrap_or(u32::MAX),
    }
}

fn stop(mut child: Child) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.wait();
}

/// One client: reads the stream until the `end` event; the latency of every other
/// event, in microseconds. It finds events by their `data: ` line and reads the
/// publish time at its start, as cheaply as it can, so that the clients are not
/// what is measured.
async fn client(mut tcp: tokio::net::TcpStream) -> Vec<u32> {
    let mut latencies = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut held = Vec::new();
    let finder = memchr::memmem::Finder::new(b"data: ");
    loop {
        let n = tcp.read(&mut buf).await.expect("reads");
        if n == 0 {
            return latencies;
        }
        held.extend_from_slice(&buf[..n]);
        let now = micros();
        let mut at = 0;
        while let Some(found) = finder.find(&held[at..]) {
            let start = at + found + 6;
            // The time and the line end after it must be here.
            let Some(end) = memchr::memchr(b'\n', &held[start..]) else {
                break;
            };
            let value = &held[start..start + end];
            if value.starts_with(b"end") {
                return latencies;
            }
            if let Some(sent) = std::str::from_utf8(&value[..value.len().min(20)])
                .ok()
                .and_then(|digits| digits.parse::<u64>().ok())
            {
                latencies.push(u32::try_from(now.saturating_sub(sent)).unwrap_or(u32::MAX));
            }
            at = start + end;
        }
        held.drain(..at);
    }
}

fn micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// A process's resident memory, in bytes (Linux).
fn resident(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kib| kib.split_whitespace().next()?.parse::<usize>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// A process's CPU time so far, user and system (Linux; clock ticks of 10 ms).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces), from field 3.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// The server side: `kind` is `hub` or `axum`. Prints `port P`, then `connected`
/// once `clients` streams are open, waits for `go` on stdin, publishes, and exits
/// when stdin ends.
fn serve(kind: &str, load: Load, redis: Option<String>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("port {}", listener.local_addr().unwrap().port());
        std::io::stdout().flush().unwrap();
        let go = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).unwrap();
        });
        match kind {
            "hub" => serve_hub(listener, load, go).await,
            "axum" => serve_axum(listener, load, go).await,
            "redis" => serve_redis(listener, load, go, redis.expect("--redis URL")).await,
            other => panic!("no server {other:?}"),
        }
        // Until the measuring side is done.
        let _ = tokio::task::spawn_blocking(|| {
            let mut rest = String::new();
            let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut rest);
        })
        .await;
    });
}

/// The event's data: its publish time, then padding to `size` bytes.
fn payload(size: usize) -> String {
    let mut data = format!("{:020}", micros());
    data.extend(std::iter::repeat_n('x', size.saturating_sub(20)));
    data
}

/// Waits until `count()` reaches the number of clients, says so, and waits for `go`.
async fn wait_for_clients(load: Load, count: impl Fn() -> usize, go: tokio::task::JoinHandle<()>) {
    while count() < load.clients {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!("connected");
    std::io::stdout().flush().unwrap();
    go.await.unwrap();
}

/// Publishes the events (and `end`) with `publish`, at the load's rate.
async fn publish_all(load: Load, mut publish: impl AsyncFnMut(String)) {
    let interval = (load.rate > 0).then(|| Duration::from_secs(1) / load.rate as u32);
    for _ in 0..load.events {
        publish(payload(load.size)).await;
        match interval {
            Some(interval) => tokio::time::sleep(interval).await,
            // Let the connections write between publishes.
            None => tokio::task::yield_now().await,
        }
    }
    publish("end".to_string()).await;
}

/// Answers every connection on `listener` with a stream of `hub`.
async fn serve_streams(listener: tokio::net::TcpListener, hub: sse_tokio::Hub) {
    loop {
        let (tcp, _) = listener.accept().await.unwrap();
        let hub = hub.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |_request| {
                let body = hub.subscribe(None).expect("under the cap");
                async move { Ok::<_, Infallible>(body.response()) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn serve_hub(listener: tokio::net::TcpListener, load: Load, go: tokio::task::JoinHandle<()>) {
    let hub = sse_tokio::Hub::builder()
        .capacity(4096)
        .capacity_bytes(64 << 20)
        .max_subscribers(load.clients + 16)
        .build();
    tokio::spawn(serve_streams(listener, hub.clone()));
    wait_for_clients(load, || hub.subscribers(), go).await;
    publish_all(load, async |data| {
        hub.publish(sse_proto::Message::new(data)).unwrap();
    })
    .await;
}

async fn serve_redis(
    listener: tokio::net::TcpListener,
    load: Load,
    go: tokio::task::JoinHandle<()>,
    url: String,
) {
    let key = format!("fanout-load:{}", std::process::id());
    let hub = sse_tokio::Hub::builder()
        .capacity(4096)
        .capacity_bytes(64 << 20)
        .max_subscribers(load.clients + 16);
    let log = sse_tokio::RedisLog::connect(&url, &key)
        .await
        .expect("Redis at --redis");
    let redis = sse_tokio::LogHub::builder(log)
        .hub(hub, 1024)
        .start()
        .await
        .expect("Redis at --redis");
    tokio::spawn(serve_streams(listener, redis.hub().clone()));
    wait_for_clients(load, || redis.hub().subscribers(), go).await;
    publish_all(load, async |data| {
        redis
            .publish(sse_proto::Message::new(data))
            .await
            .expect("published");
    })
    .await;
}

async fn serve_axum(
    listener: tokio::net::TcpListener,
    load: Load,
    go: tokio::task::JoinHandle<()>,
) {
    use axum::response::sse::{Event, Sse};
    let (tx, _) = tokio::sync::broadcast::channel::<String>(4096);
    let subscribe = tx.clone();
    let app = axum::Router::new().route(
        "/events",
        axum::routing::get(move || {
            let rx = subscribe.subscribe();
            async move {
                let events = futures::stream::unfold(rx, |mut rx| async move {
                    loop {
                        match rx.recv().await {
                            Ok(data) => {
                                return Some((
                                    Ok::<_, Infallible>(Event::default().data(data)),
                                    rx,
                                ));
                            }
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                        }
                    }
                });
                Sse::new(events)
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    wait_for_clients(load, || tx.receiver_count(), go).await;
    publish_all(load, async |data| {
        let _ = tx.send(data);
    })
    .await;
}
