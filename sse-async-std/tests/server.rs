//! Serving on futures-io: the body as an `AsyncRead` (`BodyReader`), `closed()` for
//! a reader, keep-alives under an executor that drives no reactor, and whole
//! streams copied into loopback TCP sockets, on smol and on async-std. (What the body
//! yields, and when, is tested on every runtime in `sse-io/tests/server.rs`.)

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::Runtime;
use conformance::adapters::{flood, until_blocked};
use futures_io::AsyncBufRead;
use smol::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use smol::stream::StreamExt;
use sse_async_std::sse_proto::Message;
use sse_async_std::{ItemStream, OwnedItem, ReaderStream, SendError, SseBody};

async fn next_chunk(body: &mut SseBody) -> Option<Bytes> {
    body.next().await.map(|chunk| chunk.unwrap())
}

#[test]
fn the_reader_can_move_between_tasks_and_threads() {
    fn assert_traits<T: Send + Sync + Unpin + 'static>() {}
    assert_traits::<sse_async_std::BodyReader>();
}

/// `closed()` waits while the body, held as a reader, lives, and completes when the
/// reader is dropped. (The body itself: `sse-io/tests/server.rs`.)
async fn closed_completes_when_the_reader_is_dropped<R: Runtime>() {
    let (sender, body) = sse_async_std::channel(1);
    let reader = sse_async_std::BodyReader::new(body);
    let watcher = {
        let sender = sender.clone();
        R::spawn(async move {
            sender.closed().await;
            sender.is_closed()
        })
    };
    smol::Timer::after(Duration::from_millis(30)).await;
    assert!(!sender.is_closed());
    assert_eq!(sender.try_send(Message::new("queued")), Ok(()));
    drop(reader);
    assert!(watcher.await);
    assert_eq!(
        sender.try_send(Message::new("late")),
        Err(SendError::Disconnected)
    );
    assert_eq!(
        sender.send(Message::new("late")).await,
        Err(SendError::Disconnected)
    );
}

/// Under an executor that drives no reactor (futures-lite's plain `block_on`), the
/// keep-alive timer still fires: async-io drives it from its own thread.
#[test]
fn keep_alives_need_no_particular_executor() {
    smol::future::block_on(async {
        let (_sender, body) = sse_async_std::channel(1);
        let mut body = body.keep_alive(Duration::from_millis(20));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(next_chunk(&mut body).await.unwrap(), ":\n\n");
        }
        assert!(start.elapsed() >= Duration::from_millis(60));
    });
}

#[test]
fn the_reader_hands_out_the_bytes_in_pieces_of_any_size() {
    smol::block_on(async {
        let (sender, body) = sse_async_std::channel(8);
        let body = body.retry(Duration::from_secs(1));
        sender.send(Message::new("first")).await.unwrap();
        sender.send(Message::new("second").id("2")).await.unwrap();
        let mut reader = sse_async_std::BodyReader::new(body);

        // A read of nothing reads nothing, and does not wait.
        assert_eq!(reader.read(&mut []).await.unwrap(), 0);
        // Small reads cut through the chunks; a read never joins two of them.
        let mut buf = [0u8; 5];
        let n = reader.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"retry");
        let n = reader.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b": 100");
        let n = reader.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"0\n");
        // The buffered view: a whole chunk at a time.
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "data: first\n");
        // Both events were queued before the body was read: one chunk.
        assert_eq!(
            reader.fill_buf().await.unwrap(),
            b"\nid: 2\ndata: second\n\n"
        );
        std::pin::Pin::new(&mut reader).consume(1);
        assert_eq!(reader.fill_buf().await.unwrap(), b"id: 2\ndata: second\n\n");
        std::pin::Pin::new(&mut reader).consume(6);

        let (body, rest) = reader.into_inner();
        assert_eq!(rest, "data: second\n\n");
        let mut reader = sse_async_std::BodyReader::new(body);
        drop(sender);
        let mut end = Vec::new();
        reader.read_to_end(&mut end).await.unwrap();
        assert!(end.is_empty());
        assert_eq!(reader.read(&mut buf).await.unwrap(), 0);
    });
}

/// A server that copies a body into a socket, as a futures-io server would; returns
/// what the copy returned.
fn serve_one<R: Runtime>(
    listener: R::Listener,
    body: SseBody,
) -> common::Task<std::io::Result<u64>> {
    R::spawn(async move {
        let mut socket = R::accept(&listener).await;
        let copied = smol::io::copy(sse_async_std::BodyReader::new(body), &mut socket).await;
        if copied.is_ok() {
            socket.close().await?;
        }
        copied
    })
}

/// A whole stream over loopback: the server copies the body into the socket, the
/// client decodes the socket with `ItemStream`.
async fn a_stream_is_served_over_tcp<R: Runtime>() {
    let (listener, addr) = R::bind().await;
    let (sender, body) = sse_async_std::channel(8);
    let body = body
        .keep_alive(Duration::from_millis(50))
        .retry(Duration::from_millis(1500));
    let server = serve_one::<R>(listener, body);

    let mut items = ItemStream::new(ReaderStream::new(R::connect(addr).await));
    assert_eq!(
        items.next().await.unwrap().unwrap(),
        OwnedItem::Retry(Duration::from_millis(1500))
    );
    for n in 1..=3 {
        sender
            .send(Message::new(format!("event {n}")).id(n.to_string()))
            .await
            .unwrap();
    }
    for n in 1..=3 {
        // A slow machine may let a keep-alive in first.
        let event = loop {
            match items.next().await.unwrap().unwrap() {
                OwnedItem::Event(event) => break event,
                item => assert_eq!(item, OwnedItem::Comment("".into())),
            }
        };
        assert_eq!(event.data(), format!("event {n}"));
        assert_eq!(event.last_event_id(), n.to_string());
    }
    // Nothing more is sent: a keep-alive comes.
    assert_eq!(
        items.next().await.unwrap().unwrap(),
        OwnedItem::Comment("".into())
    );
    // The producer is done: the response ends, and so does the client's stream.
    drop(sender);
    while let Some(item) = items.next().await {
        assert_eq!(item.unwrap(), OwnedItem::Comment("".into()));
    }
    let written = server.await.unwrap();
    assert!(written > 0);
    assert_eq!(items.parser().last_event_id(), "3");
}

/// The client hangs up while the stream is quiet: the next keep-alive writes fail,
/// the server drops the body, and the producer hears of it.
async fn a_client_that_disconnects_is_noticed<R: Runtime>() {
    let (listener, addr) = R::bind().await;
    let (sender, body) = sse_async_std::channel(4);
    let body = body
        .keep_alive(Duration::from_millis(20))
        .retry(Duration::from_secs(1));
    let server = serve_one::<R>(listener, body);

    let mut socket = R::connect(addr).await;
    let mut buf = [0u8; 12];
    socket.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"retry: 1000\n");
    assert!(!sender.is_closed());
    drop(socket);

    sender.closed().await;
    assert!(server.await.is_err(), "the copy ended in a write error");
    assert_eq!(
        sender.send(Message::new("late")).await,
        Err(SendError::Disconnected)
    );
}

/// A client that reads nothing: the producer is held back by the queue (and the
/// socket's buffers), instead of the server buffering all it is given.
async fn a_slow_reader_does_not_grow_the_servers_memory<R: Runtime>() {
    const MESSAGE: usize = 64 * 1024;
    const CAPACITY: usize = 8;
    let (listener, addr) = R::bind().await;
    let (sender, body) = sse_async_std::channel(CAPACITY);
    let server = serve_one::<R>(listener, body);
    let mut socket = R::connect(addr).await;

    // The producer tries to push 64 MiB.
    let (accepted, producer) = flood(sender.clone(), MESSAGE, 1024);
    let producer = R::spawn(producer);
    let last = until_blocked(&accepted, |d| async move {
        smol::Timer::after(d).await;
    })
    .await;
    assert_eq!(sender.capacity(), 0, "the queue is full");
    // What the server took is the queue plus the socket's buffers: a few MiB, not the
    // 64 MiB the producer had.
    let held = last * MESSAGE;
    assert!(held < 24 * 1024 * 1024, "{held} bytes accepted");

    // The client reads again, and the stream flows: the producer was waiting, not
    // failing or dropping messages.
    let mut total = 0;
    let mut buf = vec![0u8; 1 << 16];
    while total <= held + 2 * CAPACITY * MESSAGE {
        let n = socket.read(&mut buf).await.unwrap();
        assert_ne!(n, 0, "the stream ended early");
        total += n;
    }
    assert!(accepted.load(Ordering::SeqCst) > last);

    // The client goes away: the producer's next send fails, and it stops.
    drop(socket);
    drop(sender);
    producer.await;
    assert!(server.await.is_err());
}

on_both_runtimes!(Duration::from_secs(10) =>
    closed_completes_when_the_reader_is_dropped,
    a_stream_is_served_over_tcp,
    a_client_that_disconnects_is_noticed,
    a_slow_reader_does_not_grow_the_servers_memory,
);
