//! What the runtime layers' test runners share: draining an `ItemStream` into a
//! [`Run`], what the reconnecting client yields as scenario [`Output`]s, and a
//! wall-clock limit for tests that touch the network.

use core::future::{Future, poll_fn};
use core::pin::Pin;
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use futures_core::{Stream, TryStream};
use sse_io::{ItemStream, Reconnect, SourceError, SourceEvent};

use crate::connection::{Input, Output, error_code};
use crate::{Outcome, Run, millis};

/// Drains `stream` into a run: its items, its limit errors (which it recovers
/// from), and its parser's end state. A transport error is a bug in the runner.
pub async fn drain<S>(mut stream: ItemStream<S>) -> Run
where
    S: TryStream + Unpin,
    S::Ok: Into<Bytes>,
    S::Error: core::fmt::Debug,
{
    let mut items = Vec::new();
    while let Some(next) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
        items.extend(Outcome::from_owned(next.expect("the chunks do not fail")));
    }
    Run::new(items, stream.parser())
}

/// What an item of an `EventSource` is as a scenario output, `now` being the time
/// of the step on the scenario's clock.
pub fn source_output(item: Result<SourceEvent, SourceError>, now: u64) -> Output {
    match item {
        Ok(SourceEvent::Open(_)) => Output::Open,
        Ok(SourceEvent::Message(event)) => Output::Item(Outcome::from_event(&event)),
        Ok(SourceEvent::Comment(text)) => Output::Item(Outcome::Comment(text.into())),
        Ok(SourceEvent::Retry(time)) => Output::Item(Outcome::Retry(millis(time))),
        Ok(SourceEvent::Reconnecting(Reconnect { reason, delay, .. })) => Output::Reconnecting {
            error: error_code(&reason),
            at: now + millis(delay),
        },
        Ok(SourceEvent::Skipped(e)) => Output::Item(Outcome::from_error(&e)),
        Ok(other) => panic!("unexpected {other:?}"),
        Err(SourceError {
            reason,
            retries_exhausted,
            ..
        }) => Output::Failed {
            error: error_code(&reason),
            retries_exhausted,
        },
    }
}

/// Takes what `source` has ready into `outputs` (`now` being the step's time, for
/// the time of a reconnection), and `Output::Ended` once it ends complete (`ended`
/// remembers that it did); whether anything came.
pub fn drain_source<R: sse_io::Runtime>(
    source: &mut sse_io::EventSource<R>,
    outputs: &mut Vec<Output>,
    now: u64,
    ended: &mut bool,
) -> bool {
    let mut moved = false;
    let mut next = || {
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        match Pin::new(&mut *source).poll_next(&mut cx) {
            core::task::Poll::Ready(Some(item)) => Some(item),
            _ => None,
        }
    };
    while let Some(item) = next() {
        outputs.push(source_output(item, now));
        moved = true;
    }
    if source.is_complete() && !*ended {
        outputs.push(Output::Ended);
        *ended = true;
    }
    moved
}

/// Whether the step left the source failed on a response whose body is still
/// open: the runners then end that body, as the server of an error response does,
/// so that the failure is reported with what it said
/// ([`SourceError::response`](sse_io::SourceError::response)).
pub fn failed_on_an_open_response<R: sse_io::Runtime>(
    source: Option<&sse_io::EventSource<R>>,
    input: &Input,
    outputs: &[Output],
) -> bool {
    source.is_some_and(|s| s.ready_state() == sse_io::ReadyState::Closed && !s.is_complete())
        && !matches!(input, Input::Close)
        && !outputs.iter().any(|o| matches!(o, Output::Failed { .. }))
}

/// Aborts the test process unless dropped within `limit` of wall-clock time, so
/// that every network test stops by itself, even if a paused clock or a bug would
/// make it wait forever.
#[must_use = "the limit holds while the guard lives"]
pub struct Watchdog(Option<mpsc::Sender<()>>);

/// A [`Watchdog`] for `limit`.
pub fn watchdog(limit: Duration) -> Watchdog {
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
            eprintln!("test exceeded its wall-clock limit of {limit:?}; aborting");
            std::process::abort();
        }
    });
    Watchdog(Some(tx))
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// A producer for a server's slowest client: sends `count` messages of about `size`
/// bytes through `sender`, as fast as it takes them, and stops when the client is
/// gone. Run the future on a task; the counter says how many were accepted.
pub fn flood(
    sender: sse_io::Sender,
    size: usize,
    count: usize,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    impl Future<Output = ()> + Send + 'static,
) {
    use std::sync::atomic::Ordering;
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    let producer = async move {
        let data = "x".repeat(size.saturating_sub(8));
        for _ in 0..count {
            if sender
                .send(sse_proto::Message::new(data.as_str()))
                .await
                .is_err()
            {
                return;
            }
            counter.fetch_add(1, Ordering::SeqCst);
        }
    };
    (accepted, producer)
}

/// Waits, 25 ms at a time with `sleep` (at most 10 s), until `accepted` has not
/// moved for 200 ms: the producer is blocked. Returns the count then; panics if it
/// never stops.
pub async fn until_blocked<F: Future<Output = ()>>(
    accepted: &std::sync::atomic::AtomicUsize,
    sleep: impl Fn(Duration) -> F,
) -> usize {
    let mut last = usize::MAX;
    let mut still = 0;
    for _ in 0..400 {
        sleep(Duration::from_millis(25)).await;
        let now = accepted.load(std::sync::atomic::Ordering::SeqCst);
        still = if now == last { still + 1 } else { 0 };
        last = now;
        if still == 8 {
            return last;
        }
    }
    panic!("the producer never blocked");
}
