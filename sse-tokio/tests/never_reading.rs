//! Clients that connect and never read, while events flow: the server's heap stays
//! within the hub's documented bounds plus a fixed cost per connection, and every
//! such connection is closed by the write timeout, releasing what it held.
//!
//! A peak-tracking global allocator measures the whole process (the clients are
//! raw sockets that allocate nothing while they stall).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use conformance::peak::{self, PeakTracking};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sse_proto::Message;
use sse_tokio::{Hub, WriteTimeout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[global_allocator]
static GLOBAL: PeakTracking = PeakTracking;

const CLIENTS: usize = 200;
const EVENT: usize = 8 * 1024;
const EVENTS: usize = 600;
const HISTORY_BYTES: usize = 256 * 1024;
const LAG_BYTES: usize = 256 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_cost_a_bounded_heap_and_are_closed() {
    let hub = Hub::builder()
        .max_bytes(HISTORY_BYTES)
        .capacity_bytes(LAG_BYTES)
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let open = Arc::new(AtomicUsize::new(0));
    let server = {
        let (hub, open) = (hub.clone(), open.clone());
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                // Small kernel buffers: a client that does not read stalls the
                // server's writes after a few kilobytes.
                socket2::SockRef::from(&tcp)
                    .set_send_buffer_size(4096)
                    .unwrap();
                let (hub, open) = (hub.clone(), open.clone());
                open.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let service = service_fn(move |_request| {
                        let body = hub.subscribe(None).unwrap();
                        async move { Ok::<_, std::convert::Infallible>(body.response()) }
                    });
                    let io = TokioIo::new(WriteTimeout::new(tcp, Duration::from_millis(300)));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                    open.fetch_sub(1, Ordering::Relaxed);
                });
            }
        })
    };

    let mut clients = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut tcp = socket.connect(addr).await.unwrap();
        tcp.write_all(b"GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        clients.push(tcp);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while hub.subscribers() < CLIENTS {
        assert!(
            Instant::now() < deadline,
            "{} subscribed",
            hub.subscribers()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let base = peak::start();
    let data = "x".repeat(EVENT);
    for _ in 0..EVENTS {
        hub.publish(Message::new(data.as_str())).unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while open.load(Ordering::Relaxed) > 0 {
        assert!(
            Instant::now() < deadline,
            "{} connections still open",
            open.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let peak = peak::peak_since(base);
    let per_client = peak.saturating_sub(HISTORY_BYTES + LAG_BYTES) / CLIENTS;
    eprintln!(
        "{CLIENTS} stalled clients, {EVENTS} events of {EVENT} bytes: peak heap {peak} bytes \
         above the start ({per_client} per client past the history and lag bounds)"
    );
    // The history and the shared log (each event shared by every subscriber, not
    // copied), and per connection hyper's buffers and the events it has queued for
    // the socket (references to the shared ones).
    assert!(
        peak <= HISTORY_BYTES + LAG_BYTES + CLIENTS * PER_CONNECTION,
        "peak heap {peak} bytes"
    );
    assert_eq!(hub.subscribers(), 0);

    // Every stalled client's connection was closed: reading drains what the kernel
    // held for it, then ends.
    for mut tcp in clients {
        let mut buf = vec![0u8; 64 * 1024];
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(ended.is_ok(), "a connection was left open");
    }
    server.abort();
}

/// What one stalled connection may cost the server's heap at most: hyper's read
/// and write buffers and the body's state.
const PER_CONNECTION: usize = 16 * 1024;
