//! What one publish costs with many subscribers waiting: our `Hub` (one shared log,
//! a position per subscriber) beside a tokio `broadcast` channel (what axum's SSE
//! example fans out with), each with N subscribers that have taken everything and
//! wait. The subscribers are polled directly with a no-op waker, so what is measured
//! is the fan-out's own data structure and its waking of the waiters, with no
//! runtime, socket or HTTP around it.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::Stream;
use sse_proto::{Encode, History, Message};
use tokio::sync::broadcast;

/// A fan-out with N waiting subscribers.
pub trait Fanout {
    /// Publishes one event of `data`.
    fn publish(&mut self, data: &str);
    /// Every subscriber takes what is queued for it and waits again; returns how
    /// many events were taken.
    fn settle(&mut self) -> usize;
}

fn cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

/// Our hub: `publish` records the event (encoded once) and appends it to the log.
pub struct HubFanout {
    hub: sse_tokio::Hub,
    bodies: Vec<sse_tokio::SseBody>,
}

impl HubFanout {
    /// A hub with `n` subscribers, each allowed to fall 64 events behind.
    pub fn new(n: usize) -> Self {
        let hub = sse_tokio::Hub::builder()
            .history(History::new().max_events(64))
            .capacity(64)
            .build();
        let bodies = (0..n).map(|_| hub.subscribe(None).unwrap()).collect();
        let mut fanout = HubFanout { hub, bodies };
        fanout.settle();
        fanout
    }
}

impl Fanout for HubFanout {
    fn publish(&mut self, data: &str) {
        self.hub.publish(Message::new(data)).expect("encodable");
    }

    fn settle(&mut self) -> usize {
        let mut cx = cx();
        let mut taken = 0;
        for body in &mut self.bodies {
            while let Poll::Ready(Some(_)) = Pin::new(&mut *body).poll_next(&mut cx) {
                taken += 1;
            }
        }
        taken
    }
}

type Waiting = Pin<
    Box<
        dyn Future<
            Output = (
                Result<Bytes, broadcast::error::RecvError>,
                broadcast::Receiver<Bytes>,
            ),
        >,
    >,
>;

/// A tokio `broadcast` channel of encoded events: `publish` encodes the event once
/// and sends the bytes.
pub struct BroadcastFanout {
    tx: broadcast::Sender<Bytes>,
    waiting: Vec<Waiting>,
}

fn wait(mut rx: broadcast::Receiver<Bytes>) -> Waiting {
    Box::pin(async move { (rx.recv().await, rx) })
}

impl BroadcastFanout {
    /// A channel with `n` receivers and room for 64 events.
    pub fn new(n: usize) -> Self {
        let (tx, _) = broadcast::channel(64);
        let waiting = (0..n).map(|_| wait(tx.subscribe())).collect();
        let mut fanout = BroadcastFanout { tx, waiting };
        fanout.settle();
        fanout
    }
}

impl Fanout for BroadcastFanout {
    fn publish(&mut self, data: &str) {
        let bytes = Message::new(data).to_bytes().expect("encodable");
        let _ = self.tx.send(bytes);
    }

    fn settle(&mut self) -> usize {
        let mut cx = cx();
        let mut taken = 0;
        for slot in &mut self.waiting {
            while let Poll::Ready((got, rx)) = slot.as_mut().poll(&mut cx) {
                got.expect("no receiver lags here");
                taken += 1;
                *slot = wait(rx);
            }
        }
        taken
    }
}

/// The median time of one publish over `rounds`, each followed by (untimed) every
/// subscriber taking the event and waiting again. Checks that every subscriber got
/// every event.
pub fn publish_time(fanout: &mut dyn Fanout, subscribers: usize, rounds: usize) -> Duration {
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let data = if round % 2 == 0 {
            "a token"
        } else {
            "another token"
        };
        let start = Instant::now();
        fanout.publish(std::hint::black_box(data));
        times.push(start.elapsed());
        assert_eq!(
            fanout.settle(),
            subscribers,
            "every subscriber gets the event"
        );
    }
    times.sort();
    times[times.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subscriber_gets_every_event() {
        for fanout in [
            &mut HubFanout::new(10) as &mut dyn Fanout,
            &mut BroadcastFanout::new(10),
        ] {
            publish_time(fanout, 10, 5);
        }
    }
}
