//! Serving over hyper on tokio: the response's headers, noticing a client that went
//! away, and a slow reader's bound on the server's memory (over loopback). (What the
//! body yields, and when, is tested on every runtime in `sse-io/tests/server.rs`.)

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use sse_proto::Message;
use sse_tokio::SendError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::{boxed, serve, watchdog};
use conformance::adapters::{flood, until_blocked};

#[test]
fn the_response_has_the_event_stream_headers() {
    let (_sender, body) = sse_tokio::channel(1);
    let response = body.response();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache, no-transform");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert!(headers.get("content-length").is_none());
}

/// Sends a GET for an event stream over a raw socket and reads the response head.
async fn raw_get(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1);
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    stream
}

/// Serves one event stream per request, handing each request's sender to the test.
async fn serve_streams(
    keep_alive: Option<Duration>,
    capacity: usize,
) -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<sse_tokio::Sender>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let addr = serve(move |_req| {
        let tx = tx.clone();
        async move {
            let (sender, mut body) = sse_tokio::channel(capacity);
            if let Some(interval) = keep_alive {
                body = body.keep_alive(interval);
            }
            tx.send(sender).unwrap();
            body.response().map(boxed)
        }
    })
    .await;
    (addr, rx)
}

#[tokio::test]
async fn a_client_that_disconnects_is_noticed() {
    let _watchdog = watchdog(Duration::from_secs(30));
    let (addr, mut senders) = serve_streams(None, 4).await;
    let mut stream = raw_get(addr).await;
    let sender = senders.recv().await.unwrap();
    sender.send(Message::new("hi")).await.unwrap();
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(std::str::from_utf8(&buf[..n]).unwrap().contains("data: hi"));
    assert!(!sender.is_closed());

    // The client hangs up. Nothing is being sent, and the server still notices.
    drop(stream);
    sender.closed().await;
    assert_eq!(
        sender.send(Message::new("late")).await,
        Err(SendError::Disconnected)
    );
}

#[tokio::test]
async fn a_client_that_vanishes_mid_write_is_noticed() {
    let _watchdog = watchdog(Duration::from_secs(30));
    let (addr, mut senders) = serve_streams(Some(Duration::from_millis(20)), 4).await;
    let stream = raw_get(addr).await;
    let sender = senders.recv().await.unwrap();
    // Keep-alive writes keep failing once the socket is gone.
    let stream = stream.into_std().unwrap();
    stream.shutdown(std::net::Shutdown::Both).unwrap();
    drop(stream);
    sender.closed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_does_not_grow_the_servers_memory() {
    let _watchdog = watchdog(Duration::from_secs(60));
    const MESSAGE: usize = 64 * 1024;
    const CAPACITY: usize = 8;
    let (addr, mut senders) = serve_streams(None, CAPACITY).await;
    let mut stream = raw_get(addr).await;
    let sender = senders.recv().await.unwrap();

    // The producer tries to push 64 MiB at a client that reads nothing.
    let (accepted, producer) = flood(sender.clone(), MESSAGE, 1024);
    let producer = tokio::spawn(producer);
    let last = until_blocked(&accepted, tokio::time::sleep).await;
    assert_eq!(sender.capacity(), 0, "the queue is full");
    // What the server accepted is the queue plus what the connection and the kernel
    // buffer: a few MiB, not the 64 MiB the producer wanted to send.
    let held = last * MESSAGE;
    assert!(held < 24 * 1024 * 1024, "{held} bytes accepted");

    // The client reads again, and the stream flows: the producer was waiting, not
    // failing or dropping messages.
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let reader = async {
        while total <= held + 2 * CAPACITY * MESSAGE {
            let n = stream.read(&mut buf).await.unwrap();
            assert_ne!(n, 0, "the stream ended early");
            total += n;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), reader)
        .await
        .unwrap();
    assert!(accepted.load(Ordering::SeqCst) > last);

    // The client goes away: the producer's next send fails, and it stops.
    drop(stream);
    drop(sender);
    tokio::time::timeout(Duration::from_secs(30), producer)
        .await
        .unwrap()
        .unwrap();
}

/// A client that stops reading, served over `WriteTimeout`: once the socket's
/// buffers are full, the stalled write times out, the connection ends, and the
/// producer hears that the client is gone, instead of waiting on it forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_after_the_write_timeout() {
    let _watchdog = watchdog(Duration::from_secs(60));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (senders, mut sender) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let stream = sse_tokio::WriteTimeout::new(stream, Duration::from_millis(300));
        let service = hyper::service::service_fn(move |_request| {
            let (sender, body) = sse_tokio::channel(8);
            senders.send(sender).unwrap();
            async move { Ok::<_, std::convert::Infallible>(body.response()) }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .await;
    });
    let _stream = raw_get(addr).await; // and never read again
    let sender = sender.recv().await.unwrap();
    let (_accepted, producer) = flood(sender.clone(), 64 * 1024, 10_000);
    tokio::spawn(producer);
    tokio::time::timeout(Duration::from_secs(30), sender.closed())
        .await
        .expect("the stalled client was dropped");
}
