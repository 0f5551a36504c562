//! The server body on each runtime: what it yields and in which order, the end of
//! the stream, refused items, the queue bound, `closed()`, and keep-alives on the
//! runtime's real timer. (Serving it over each adapter's I/O is tested in the
//! adapters.)

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::Rt;
use futures_util::StreamExt;
use sse_io::{SendError, SseBody};
use sse_proto::{Comment, Message, Retry};

async fn next_chunk<R: sse_io::Runtime>(body: &mut SseBody<R>) -> Option<Bytes> {
    body.next().await.map(|chunk| chunk.unwrap())
}

async fn collect<R: sse_io::Runtime>(body: SseBody<R>) -> Vec<u8> {
    body.map(Result::unwrap).collect::<Vec<_>>().await.concat()
}

/// `future`'s output if it completes within `limit` of the runtime's time.
async fn within<T: Rt, F: std::future::Future>(limit: Duration, future: F) -> Option<F::Output> {
    let future = std::pin::pin!(future);
    let sleep = std::pin::pin!(T::sleep(limit));
    match futures_util::future::select(future, sleep).await {
        futures_util::future::Either::Left((out, _)) => Some(out),
        futures_util::future::Either::Right(_) => None,
    }
}

fn the_retry_comes_first_then_the_items_in_order<T: Rt>() {
    T::block_on(async {
        let (sender, body) = sse_io::channel::<T::R>(8);
        let body = body.retry(Duration::from_millis(2500));
        sender
            .send(Message::new("one").event("a").id("1"))
            .await
            .unwrap();
        sender.send(Comment::new("note")).await.unwrap();
        sender
            .send(Retry::new(Duration::from_secs(9)))
            .await
            .unwrap();
        sender.try_send(Message::new("two\nlines")).unwrap();
        drop(sender);
        assert_eq!(
            collect(body).await,
            b"retry: 2500\nevent: a\nid: 1\ndata: one\n\n: note\n\nretry: 9000\n\ndata: two\ndata: lines\n\n"
        );
    });
}

fn the_stream_ends_when_every_sender_is_gone<T: Rt>() {
    T::block_on(async {
        let (sender, mut body) = sse_io::channel::<T::R>(4);
        let second = sender.clone();
        sender.send(Message::new("1")).await.unwrap();
        drop(sender);
        assert_eq!(next_chunk(&mut body).await.unwrap(), "data: 1\n\n");
        // One sender is left: the stream waits for it.
        let waited = within::<T, _>(Duration::from_millis(30), next_chunk(&mut body)).await;
        assert!(waited.is_none());
        second.send(Comment::new("bye")).await.unwrap();
        drop(second);
        assert_eq!(next_chunk(&mut body).await.unwrap(), ": bye\n\n");
        assert_eq!(next_chunk(&mut body).await, None);
        assert_eq!(next_chunk(&mut body).await, None);
    });
}

fn unsafe_items_are_refused_at_the_sender<T: Rt>() {
    T::block_on(async {
        let (sender, body) = sse_io::channel::<T::R>(4);
        let err = sender
            .send(Message::new("x").id("1\n\ndata: forged"))
            .await
            .unwrap_err();
        assert!(matches!(err, SendError::Encode(_)), "{err:?}");
        assert!(std::error::Error::source(&err).is_some());
        let err = sender
            .try_send(Message::new("x").event("a\rb"))
            .unwrap_err();
        assert!(matches!(err, SendError::Encode(_)), "{err:?}");
        drop(sender);
        assert!(collect(body).await.is_empty());
    });
}

/// A body nobody reads holds what the queue holds, and `send` waits rather than
/// buffering more.
fn a_body_nobody_reads_holds_at_most_the_queue<T: Rt>() {
    T::block_on(async {
        let (sender, mut body) = sse_io::channel::<T::R>(3);
        assert_eq!(sender.capacity(), 3);
        for n in 0..3 {
            sender.try_send(Message::new(n.to_string())).unwrap();
        }
        assert_eq!(sender.try_send(Message::new("3")), Err(SendError::Full));
        assert_eq!(sender.capacity(), 0);
        let waited =
            within::<T, _>(Duration::from_millis(50), sender.send(Message::new("3"))).await;
        assert!(waited.is_none(), "send did not wait for room");
        // A sender waiting in another task goes on once the client takes a chunk.
        let (done, finished) = async_channel::bounded(1);
        let waiting = sender.clone();
        T::spawn(async move {
            let _ = done.send(waiting.send(Message::new("3")).await).await;
        });
        // What was queued goes out as one chunk (with the waiting sender's event,
        // if it got in while the chunk was gathered).
        let first = next_chunk(&mut body).await.unwrap();
        assert!(
            first.starts_with(b"data: 0\n\ndata: 1\n\ndata: 2\n\n"),
            "{first:?}"
        );
        finished.recv().await.unwrap().unwrap();
        drop(sender);
        let all = [&first[..], &collect(body).await[..]].concat();
        assert_eq!(all, b"data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\n");
    });
}

/// `closed()` waits while the body lives, and completes when it is dropped.
fn closed_completes_when_the_body_is_dropped<T: Rt>() {
    T::block_on(async {
        let (sender, body) = sse_io::channel::<T::R>(1);
        let (done, closed) = async_channel::bounded(1);
        let watcher = sender.clone();
        T::spawn(async move {
            watcher.closed().await;
            let _ = done.send(watcher.is_closed()).await;
        });
        T::sleep(Duration::from_millis(30)).await;
        assert!(!sender.is_closed());
        assert_eq!(sender.try_send(Message::new("queued")), Ok(()));
        drop(body);
        assert!(closed.recv().await.unwrap());
        assert_eq!(
            sender.try_send(Message::new("late")),
            Err(SendError::Disconnected)
        );
        assert_eq!(
            sender.send(Message::new("late")).await,
            Err(SendError::Disconnected)
        );
    });
}

/// Keep-alives on the runtime's real timer: one per quiet interval, and an item
/// postpones the next. A timer never fires early, so the lower bounds hold on a
/// loaded machine too.
fn keep_alives_arrive_on_schedule_and_traffic_postpones_them<T: Rt>() {
    const INTERVAL: Duration = Duration::from_millis(200);
    // Between the body reading the clock and the test reading it.
    const SLACK: Duration = Duration::from_millis(20);
    T::block_on(async {
        let (sender, body) = sse_io::channel::<T::R>(4);
        let mut body = body.keep_alive(INTERVAL).retry(Duration::from_secs(2));

        // The retry's block stays open until the first event: keep-alives before it
        // are bare comment lines.
        assert_eq!(next_chunk(&mut body).await.unwrap(), "retry: 2000\n");
        let mut last = Instant::now();
        for _ in 0..2 {
            assert_eq!(next_chunk(&mut body).await.unwrap(), ":\n");
            let quiet = last.elapsed();
            assert!(quiet >= INTERVAL - SLACK, "a keep-alive after {quiet:?}");
            last = Instant::now();
        }

        // An item 50 ms after a keep-alive: the next keep-alive is an interval after
        // the item, not after the keep-alive.
        T::sleep(Duration::from_millis(50)).await;
        sender.try_send(Message::new("x")).unwrap();
        assert_eq!(next_chunk(&mut body).await.unwrap(), "data: x\n\n");
        let item_at = Instant::now();
        assert_eq!(next_chunk(&mut body).await.unwrap(), ":\n\n");
        let quiet = item_at.elapsed();
        assert!(
            quiet >= INTERVAL - SLACK,
            "a keep-alive {quiet:?} after an item"
        );
        drop(body);
        sender.closed().await;
    });
}

fn without_keep_alive_a_quiet_stream_sends_nothing<T: Rt>() {
    T::block_on(async {
        let (sender, mut body) = sse_io::channel::<T::R>(4);
        let waited = within::<T, _>(Duration::from_millis(300), next_chunk(&mut body)).await;
        assert!(waited.is_none(), "a chunk from a quiet stream: {waited:?}");
        drop(sender);
        assert_eq!(next_chunk(&mut body).await, None);
    });
}

/// A shutdown ends a stream after what is queued, though its sender is alive, and
/// wakes a stream that waits; a stream that starts after it ends at once.
fn a_shutdown_ends_streams_after_what_is_queued<T: Rt>() {
    T::block_on(async {
        let shutdown = sse_io::Shutdown::new();
        let (sender, body) = sse_io::channel::<T::R>(4);
        let mut body = body
            .keep_alive(Duration::from_secs(60))
            .shutdown_on(&shutdown);
        sender.send(Message::new("first")).await.unwrap();
        assert_eq!(next_chunk(&mut body).await.unwrap(), "data: first\n\n");
        // The stream waits; the signal wakes it from another task.
        let trigger = shutdown.clone();
        let queued = sender.clone();
        T::spawn(async move {
            T::sleep(Duration::from_millis(30)).await;
            queued.try_send(Message::new("queued")).unwrap();
            trigger.trigger();
        });
        assert_eq!(next_chunk(&mut body).await.unwrap(), "data: queued\n\n");
        assert_eq!(next_chunk(&mut body).await, None);
        // The server ended the stream, not the client: while the body is held, the
        // sender sees no disconnection.
        assert!(!sender.is_closed());
        // A hub stream that starts after the signal sends what is pending, then ends.
        let hub = sse_io::Hub::<T::R>::builder()
            .history(sse_proto::History::new())
            .build();
        hub.publish(Message::new("h")).unwrap();
        let late = hub.subscribe(None).unwrap().shutdown_on(&shutdown);
        hub.publish(Message::new("pending")).unwrap();
        assert_eq!(collect(late).await, b"id: 2\ndata: pending\n\n");
        assert!(shutdown.is_triggered());
    });
}

#[test]
fn a_queue_of_zero_items_is_refused() {
    let result = std::panic::catch_unwind(|| sse_io::channel::<sse_tokio::Tokio>(0));
    assert!(result.is_err());
}

#[test]
fn bodies_and_senders_move_between_tasks_and_threads() {
    fn assert_traits<T: Send + Sync + Unpin + 'static>() {}
    assert_traits::<SseBody<sse_tokio::Tokio>>();
    assert_traits::<SseBody<sse_async_std::AsyncIo>>();
    assert_traits::<sse_io::Sender>();
    assert_traits::<sse_io::Hub<sse_async_std::AsyncIo>>();
}

on_every_runtime!(
    the_retry_comes_first_then_the_items_in_order,
    the_stream_ends_when_every_sender_is_gone,
    unsafe_items_are_refused_at_the_sender,
    a_body_nobody_reads_holds_at_most_the_queue,
    closed_completes_when_the_body_is_dropped,
    keep_alives_arrive_on_schedule_and_traffic_postpones_them,
    without_keep_alive_a_quiet_stream_sends_nothing,
    a_shutdown_ends_streams_after_what_is_queued,
);
