//! The hub's rules, without a lock, a channel or a clock: one feed to many
//! subscribers, replay by `Last-Event-ID`, and what happens to a subscriber that
//! falls behind.
//!
//! A runtime layer wraps a [`Broadcast`] in its lock, keeps each subscriber's
//! [`Subscription`] in that subscriber's response body, and wakes the bodies that
//! [`Broadcast::poll`] told to wait when something is published. Every decision is
//! made here, once.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use crate::{Backfill, EncodeError, History, Message};

/// How many events a subscriber may fall behind before it counts as lagging,
/// unless set.
pub const DEFAULT_SUBSCRIBER_CAPACITY: usize = 256;

/// How many bytes of encoded events a subscriber may fall behind before it counts as
/// lagging, unless set: 1 MiB.
pub const DEFAULT_SUBSCRIBER_BYTES: usize = 1 << 20;

/// How many subscriptions a broadcast holds at once, unless set: 10,000. Each
/// holds a connection and what it has pending; a server answers a client over it
/// with `503 Service Unavailable` and `Retry-After`.
pub const DEFAULT_MAX_SUBSCRIBERS: usize = 10_000;

/// A subscription refused: the broadcast already holds
/// [`max_subscribers`](Broadcast::max_subscribers) (a server answers `503` with
/// `Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManySubscribers {
    /// The limit.
    pub max: usize,
}

impl core::fmt::Display for TooManySubscribers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "too many subscribers (at most {})", self.max)
    }
}

impl core::error::Error for TooManySubscribers {}

/// A broadcast with replay: what a hub decides, as a value.
///
/// [`publish`](Broadcast::publish) records an event in the [`History`] and appends
/// it to one shared log of the last `capacity` live events; each subscriber is a
/// position in that log ([`Subscription`]), so publishing costs the same whatever
/// the number of subscribers. `B` is how an encoded event is held; with
/// `bytes::Bytes` handing it to a subscriber is a reference count.
///
/// # Rules
///
/// - **No gap and no duplicate at the handover.** [`subscribe`](Broadcast::subscribe)
///   takes the replay from the history and places the subscriber at the end of the
///   log in one step: each event is in the replay or live, never both or neither.
/// - **One order.** Every subscriber gets events in the order they were published.
/// - **A slow subscriber is dropped, not waited for.** The log holds at most
///   `capacity` events and `capacity_bytes` bytes of them (the newest event always,
///   however large). A subscriber whose next event leaves the log when another is
///   published is *lagging*: it is sent what it had pending (everything before the
///   new event: within both bounds), then its stream ends, so that its client
///   reconnects with the ID of the last event it got and resumes from the history.
///   Memory per subscriber is a position, whatever the rate; what the log and a
///   lagging subscriber hold is within the bounds (and shared, with `Bytes`).
/// - **Closing** ([`close`](Broadcast::close)) ends every stream after what it has
///   pending, and every later subscription after its replay; publishing still
///   records history.
/// - **A bounded number of subscriptions.** At most
///   [`max_subscribers`](Broadcast::max_subscribers) at once (lagging and closing
///   ones count until they are unsubscribed); one more is refused
///   ([`TooManySubscribers`]).
///
/// ```
/// use sse_proto::{Backfill, Broadcast, History, Message, Next};
///
/// let history: History<Vec<u8>> = History::new();
/// let mut hub = Broadcast::new(history, 2, Backfill::Nothing, Backfill::Everything);
/// let mut sub = hub.subscribe(None).unwrap();
/// assert_eq!(hub.poll(&mut sub), Next::Wait);
/// hub.publish(&Message::new("one"))?;
/// assert_eq!(hub.poll(&mut sub), Next::Send(b"id: 1\ndata: one\n\n".to_vec()));
/// hub.close();
/// assert_eq!(hub.poll(&mut sub), Next::End);
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
#[derive(Debug)]
pub struct Broadcast<B> {
    history: History<B>,
    /// The last `capacity` events published while someone was subscribed (more
    /// only in passing), with their sequence numbers; the first of them is at
    /// position `base`.
    log: VecDeque<(u64, B)>,
    base: u64,
    /// `counts[i]`: how many live subscribers are at position `base + i`, whose
    /// next event is `log[i]` (at `log.len()`: up to date).
    counts: VecDeque<usize>,
    /// Live subscribers: the sum of `counts`, until closing.
    live: usize,
    /// What subscribers that lagged had pending, until each of them has taken it.
    lagged: Vec<Lagged<B>>,
    capacity: usize,
    capacity_bytes: usize,
    /// The bytes of the events in `log`.
    log_bytes: usize,
    new_clients: Backfill,
    unknown_ids: Backfill,
    /// The position at which every stream ends, once closed.
    closed_at: Option<u64>,
    /// Subscriptions not yet unsubscribed, whatever their state.
    open: usize,
    max_subscribers: usize,
}

#[derive(Debug)]
struct Lagged<B> {
    /// The position the subscribers were at.
    at: u64,
    pending: Vec<(u64, B)>,
    /// The number of the event at which they lagged: the first they miss.
    missed: u64,
    /// How many have not taken it yet.
    waiting: usize,
}

/// One subscriber's place in a [`Broadcast`]: its replay, then its position in the
/// live log. Hand it to [`Broadcast::poll`] for what to send, and to
/// [`Broadcast::unsubscribe`] when the subscriber goes away.
#[derive(Debug)]
pub struct Subscription<B> {
    /// The replay, or what was pending when it lagged, with sequence numbers.
    queue: VecDeque<(u64, B)>,
    /// The next live position, while `state` is `Live`.
    position: u64,
    state: State,
    /// Once it lagged: the number of the first event it missed.
    missed: Option<u64>,
}

impl<B> Subscription<B> {
    /// The number of the first event this subscription lagged at and was not sent,
    /// once it lagged.
    pub(crate) fn missed(&self) -> Option<u64> {
        self.missed
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Counted at `position`.
    Live,
    /// Sends `queue`, then ends: it lagged, or it subscribed after closing.
    Ending,
    Ended,
}

/// Where a new subscriber's replay starts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Resume<'a> {
    /// After the event with this ID (`None` or empty: a new client).
    Id(Option<&'a str>),
    /// After the event recorded under this sequence number, in a history that shares
    /// its sequence with others.
    After(u64),
}

/// What a subscriber does next, from [`Broadcast::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next<B> {
    /// Send these bytes (one whole event).
    Send(B),
    /// Nothing to send: wait for the next [`publish`](Broadcast::publish) or
    /// [`close`](Broadcast::close), then ask again.
    Wait,
    /// The stream is over (the subscriber lagged, or the broadcast was closed):
    /// end the response.
    End,
}

/// What [`Broadcast::publish`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Published {
    /// The event's ID: the message's own, or the one the history gave it.
    pub id: String,
    /// How many subscribers will be sent it.
    pub queued: usize,
    /// How many subscribers lagged at this event: they are sent what they had
    /// pending, then their streams end, and their clients resume from the history.
    pub lagged: usize,
}

impl<B: Clone> Broadcast<B> {
    /// A broadcast recording into `history`, letting a subscriber fall `capacity`
    /// events behind (at least 1), and replaying to clients without an ID and with an
    /// unknown one as `new_clients` and `unknown_ids` say (see [`Backfill`]).
    pub fn new(
        history: History<B>,
        capacity: usize,
        new_clients: Backfill,
        unknown_ids: Backfill,
    ) -> Self {
        let mut counts = VecDeque::new();
        counts.push_back(0);
        Broadcast {
            history,
            log: VecDeque::new(),
            base: 0,
            counts,
            live: 0,
            lagged: Vec::new(),
            capacity: capacity.max(1),
            capacity_bytes: DEFAULT_SUBSCRIBER_BYTES,
            log_bytes: 0,
            new_clients,
            unknown_ids,
            closed_at: None,
            open: 0,
            max_subscribers: DEFAULT_MAX_SUBSCRIBERS,
        }
    }

    /// The history, for its size and limits.
    pub fn history(&self) -> &History<B> {
        &self.history
    }

    /// How many events a subscriber may fall behind.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many bytes of encoded events a subscriber may fall behind (default
    /// [`DEFAULT_SUBSCRIBER_BYTES`]); the newest event is kept whatever its size.
    ///
    /// ```
    /// use sse_proto::{Backfill, Broadcast, History, Message};
    ///
    /// let mut hub = Broadcast::new(History::<Vec<u8>>::new(), 100, Backfill::Nothing, Backfill::Nothing)
    ///     .capacity_bytes(64);
    /// let _slow = hub.subscribe(None).unwrap();
    /// let lagged: Vec<usize> = (0..6)
    ///     .map(|n| hub.publish(&Message::new(format!("event {n}"))).unwrap().lagged)
    ///     .collect();
    /// // Each event is 21 bytes: the fourth would put 84 bytes in the log.
    /// assert_eq!(lagged, [0, 0, 0, 1, 0, 0]);
    /// ```
    pub fn capacity_bytes(mut self, bytes: usize) -> Self {
        self.capacity_bytes = bytes;
        self
    }

    /// How many subscriptions it holds at once (default
    /// [`DEFAULT_MAX_SUBSCRIBERS`]); [`subscribe`](Broadcast::subscribe) refuses
    /// one more.
    ///
    /// ```
    /// use sse_proto::{Backfill, Broadcast, History, TooManySubscribers};
    ///
    /// let mut hub = Broadcast::new(History::<Vec<u8>>::new(), 8, Backfill::Nothing, Backfill::Nothing)
    ///     .max_subscribers(1);
    /// let first = hub.subscribe(None).unwrap();
    /// assert_eq!(hub.subscribe(None).unwrap_err(), TooManySubscribers { max: 1 });
    /// hub.unsubscribe(first);
    /// assert!(hub.subscribe(None).is_ok());
    /// ```
    pub fn max_subscribers(mut self, max: usize) -> Self {
        self.max_subscribers = max;
        self
    }

    /// How many subscribers are live (not lagged, not closed, not unsubscribed).
    pub fn subscribers(&self) -> usize {
        self.live
    }

    /// A new broadcast with the same settings, recording into `history`.
    pub(crate) fn like(&self, history: History<B>) -> Self {
        Broadcast::new(history, self.capacity, self.new_clients, self.unknown_ids)
            .capacity_bytes(self.capacity_bytes)
            .max_subscribers(self.max_subscribers)
    }

    /// The most subscriptions it holds at once.
    pub(crate) fn max_subscriber_count(&self) -> usize {
        self.max_subscribers
    }

    /// Subscriptions not yet unsubscribed, whatever their state.
    pub(crate) fn open(&self) -> usize {
        self.open
    }

    /// Whether [`close`](Broadcast::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed_at.is_some()
    }

    /// The position after the newest event in the log.
    fn head(&self) -> u64 {
        self.base + self.log.len() as u64
    }

    /// Records `message` in the history and appends it to the live log. A message
    /// without an ID is given one ([`History::push`]). Fails, recording nothing, if
    /// the message cannot be encoded.
    ///
    /// ```
    /// use sse_proto::{Backfill, Broadcast, History, Message};
    ///
    /// let mut hub = Broadcast::new(History::<Vec<u8>>::new(), 1, Backfill::Nothing, Backfill::Everything);
    /// let mut slow = hub.subscribe(None).unwrap();
    /// assert_eq!(hub.publish(&Message::new("a"))?.lagged, 0);
    /// // `slow` has one event pending, its whole allowance: the next one drops it.
    /// let published = hub.publish(&Message::new("b").id("b"))?;
    /// assert_eq!((published.id.as_str(), published.queued, published.lagged), ("b", 0, 1));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn publish<T: AsRef<str>>(&mut self, message: &Message<T>) -> Result<Published, EncodeError>
    where
        B: From<Vec<u8>> + AsRef<[u8]>,
    {
        let entry = self.history.push(message)?;
        let (id, sequence, bytes) = (
            String::from(entry.id()),
            entry.sequence(),
            entry.bytes().clone(),
        );
        Ok(self.append(id, sequence, bytes))
    }

    /// [`publish`](Broadcast::publish), with the event recorded under `sequence`
    /// ([`History::push_numbered`]): for broadcasts that share one sequence.
    pub(crate) fn publish_numbered<T: AsRef<str>>(
        &mut self,
        message: &Message<T>,
        sequence: u64,
    ) -> Result<Published, EncodeError>
    where
        B: From<Vec<u8>> + AsRef<[u8]>,
    {
        let entry = self.history.push_numbered(message, sequence)?;
        let (id, sequence, bytes) = (
            String::from(entry.id()),
            entry.sequence(),
            entry.bytes().clone(),
        );
        Ok(self.append(id, sequence, bytes))
    }

    /// Appends an event the history recorded to the live log.
    fn append(&mut self, id: String, sequence: u64, bytes: B) -> Published
    where
        B: AsRef<[u8]>,
    {
        let mut published = Published {
            id,
            queued: 0,
            lagged: 0,
        };
        if self.closed_at.is_some() {
            return published;
        }
        if self.live == 0 {
            // Nobody follows the log: what it holds is no one's, and the event goes
            // to the history only.
            self.base = self.head() + 1;
            self.log.clear();
            self.log_bytes = 0;
            self.counts.clear();
            self.counts.push_back(0);
            return published;
        }
        self.log_bytes += bytes.as_ref().len();
        self.log.push_back((sequence, bytes));
        self.counts.push_back(0);
        while self.log.len() > self.capacity
            || (self.log_bytes > self.capacity_bytes && self.log.len() > 1)
        {
            // The oldest event leaves the log: whoever still needs it has lagged, and
            // is sent what it had pending: the log but the event just published.
            let lagged = self.counts.pop_front().unwrap_or(0);
            if lagged > 0 {
                let pending = self.log.len() - 1;
                self.lagged.push(Lagged {
                    at: self.base,
                    pending: self.log.iter().take(pending).cloned().collect(),
                    missed: sequence,
                    waiting: lagged,
                });
                self.live -= lagged;
                published.lagged += lagged;
            }
            if let Some((_, evicted)) = self.log.pop_front() {
                self.log_bytes -= evicted.as_ref().len();
            }
            self.base += 1;
        }
        published.queued = self.live;
        published
    }

    /// A subscriber for a client that connects with `last_event_id` (its
    /// `Last-Event-ID` header; `None` or empty for none): the events it missed
    /// ([`History::since`], with this broadcast's [`Backfill`]s), then every event
    /// published from now on. After [`close`](Broadcast::close), the replay only.
    /// Refused when it already holds
    /// [`max_subscribers`](Broadcast::max_subscribers).
    pub fn subscribe(
        &mut self,
        last_event_id: Option<&str>,
    ) -> Result<Subscription<B>, TooManySubscribers> {
        self.subscribe_from(Resume::Id(last_event_id))
    }

    /// A subscriber whose replay `resume` places.
    pub(crate) fn subscribe_from(
        &mut self,
        resume: Resume<'_>,
    ) -> Result<Subscription<B>, TooManySubscribers> {
        if self.open >= self.max_subscribers {
            return Err(TooManySubscribers {
                max: self.max_subscribers,
            });
        }
        self.open += 1;
        let replay = match resume {
            Resume::Id(id) => self.history.since(id),
            Resume::After(sequence) => self.history.since_sequence(sequence),
        };
        let queue = replay
            .entries(self.new_clients, self.unknown_ids)
            .map(|entry| (entry.sequence(), entry.bytes().clone()))
            .collect();
        let position = self.head();
        let state = if self.closed_at.is_some() {
            State::Ending
        } else {
            self.live += 1;
            if let Some(count) = self.counts.back_mut() {
                *count += 1;
            }
            State::Live
        };
        Ok(Subscription {
            queue,
            position,
            state,
            missed: None,
        })
    }

    /// What `subscription` sends next.
    pub fn poll(&mut self, subscription: &mut Subscription<B>) -> Next<B> {
        match self.poll_numbered(subscription) {
            Next::Send((_, bytes)) => Next::Send(bytes),
            Next::Wait => Next::Wait,
            Next::End => Next::End,
        }
    }

    /// [`poll`](Broadcast::poll), with the sequence number of what to send.
    pub(crate) fn poll_numbered(&mut self, subscription: &mut Subscription<B>) -> Next<(u64, B)> {
        if let Some(item) = subscription.queue.pop_front() {
            return Next::Send(item);
        }
        match subscription.state {
            State::Live => {}
            State::Ending | State::Ended => {
                subscription.state = State::Ended;
                return Next::End;
            }
        }
        let position = subscription.position;
        if position < self.base {
            // It lagged: what it had pending, then the end.
            subscription.state = State::Ending;
            if let Some(index) = self.lagged.iter().position(|l| l.at == position) {
                let lagged = &mut self.lagged[index];
                lagged.waiting -= 1;
                subscription.missed = Some(lagged.missed);
                if lagged.waiting == 0 {
                    subscription.queue = self.lagged.swap_remove(index).pending.into();
                } else {
                    subscription.queue = lagged.pending.iter().cloned().collect();
                }
            }
            return self.poll_numbered(subscription);
        }
        let index = (position - self.base) as usize;
        if self.closed_at.is_some_and(|end| position >= end) {
            self.leave(index);
            subscription.state = State::Ended;
            return Next::End;
        }
        let Some(item) = self.log.get(index) else {
            return Next::Wait;
        };
        let item = item.clone();
        self.counts[index] -= 1;
        self.counts[index + 1] += 1;
        subscription.position += 1;
        Next::Send(item)
    }

    /// The subscriber went away: it no longer counts, and nothing is kept for it.
    pub fn unsubscribe(&mut self, subscription: Subscription<B>) {
        self.open = self.open.saturating_sub(1);
        if subscription.state != State::Live {
            return;
        }
        let position = subscription.position;
        if position >= self.base {
            let index = (position - self.base) as usize;
            if self.closed_at.is_none() {
                self.live -= 1;
            }
            self.leave(index);
        } else if let Some(index) = self.lagged.iter().position(|l| l.at == position) {
            self.lagged[index].waiting -= 1;
            if self.lagged[index].waiting == 0 {
                self.lagged.swap_remove(index);
            }
        }
    }

    /// A subscriber at log index `index` stops being counted there.
    fn leave(&mut self, index: usize) {
        if let Some(count) = self.counts.get_mut(index) {
            *count = count.saturating_sub(1);
        }
    }

    /// Ends every subscriber's stream after what it has pending, and every later
    /// subscription after its replay. Publishing goes on recording history (for
    /// the replays).
    pub fn close(&mut self) {
        if self.closed_at.is_none() {
            self.closed_at = Some(self.head());
            self.live = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::vec;

    use super::*;

    type Hub = Broadcast<Vec<u8>>;

    fn hub(capacity: usize) -> Hub {
        Broadcast::new(
            History::new(),
            capacity,
            Backfill::Nothing,
            Backfill::Everything,
        )
    }

    fn publish(hub: &mut Hub, data: &str) -> Published {
        hub.publish(&Message::new(data)).unwrap()
    }

    /// Everything `sub` sends now, as data, and how it stops.
    fn drain(hub: &mut Hub, sub: &mut Subscription<Vec<u8>>) -> (Vec<String>, Next<Vec<u8>>) {
        let mut sent = Vec::new();
        loop {
            match hub.poll(sub) {
                Next::Send(bytes) => {
                    let text = core::str::from_utf8(&bytes).unwrap();
                    sent.push(String::from(
                        text.rsplit("data: ").next().unwrap().trim_end(),
                    ));
                }
                other => return (sent, other),
            }
        }
    }

    #[test]
    fn replay_then_live_with_no_gap() {
        let mut hub = hub(4);
        publish(&mut hub, "a");
        publish(&mut hub, "b");
        let mut sub = hub.subscribe(Some("1")).unwrap();
        publish(&mut hub, "c");
        assert_eq!(
            drain(&mut hub, &mut sub),
            (vec!["b".into(), "c".into()], Next::Wait)
        );
    }

    #[test]
    fn a_lagging_subscriber_gets_what_it_had_pending_then_ends() {
        let mut hub = hub(2);
        let mut slow = hub.subscribe(None).unwrap();
        let mut fast = hub.subscribe(None).unwrap();
        let mut lagged = Vec::new();
        for n in 1..=5 {
            lagged.push(publish(&mut hub, &format!("e{n}")).lagged);
            drain(&mut hub, &mut fast);
        }
        assert_eq!(lagged, [0, 0, 1, 0, 0]);
        assert_eq!(hub.subscribers(), 1);
        assert_eq!(
            drain(&mut hub, &mut slow),
            (vec!["e1".into(), "e2".into()], Next::End)
        );
        assert!(hub.lagged.is_empty());
        assert_eq!(hub.poll(&mut slow), Next::End);
    }

    #[test]
    fn subscribers_that_lag_together_share_what_was_pending() {
        let mut hub = hub(1);
        let mut subs: Vec<_> = (0..3).map(|_| hub.subscribe(None).unwrap()).collect();
        publish(&mut hub, "a");
        assert_eq!(publish(&mut hub, "b").lagged, 3);
        let last = subs.pop().unwrap();
        for mut sub in subs {
            assert_eq!(drain(&mut hub, &mut sub), (vec!["a".into()], Next::End));
        }
        assert_eq!(hub.lagged.len(), 1);
        hub.unsubscribe(last);
        assert!(hub.lagged.is_empty());
    }

    #[test]
    fn the_log_holds_capacity_events_and_publishing_never_grows_it() {
        let mut hub = hub(3);
        let _idle = hub.subscribe(None).unwrap();
        for n in 0..100u32 {
            publish(&mut hub, &format!("{n}"));
            assert!(hub.log.len() <= 3);
            assert_eq!(hub.counts.len(), hub.log.len() + 1);
        }
        assert_eq!(hub.subscribers(), 0);
    }

    #[test]
    fn the_byte_bound_lags_a_subscriber_and_bounds_what_it_is_sent() {
        let mut hub = hub(100).capacity_bytes(64);
        let mut slow = hub.subscribe(None).unwrap();
        let mut fast = hub.subscribe(None).unwrap();
        let mut lagged = Vec::new();
        for n in 0..6 {
            lagged.push(publish(&mut hub, &format!("event {n}")).lagged);
            drain(&mut hub, &mut fast);
            assert!(hub.log_bytes <= 64, "{}", hub.log_bytes);
        }
        assert_eq!(lagged, [0, 0, 0, 1, 0, 0]);
        let (sent, end) = drain(&mut hub, &mut slow);
        assert_eq!(sent, ["event 0", "event 1", "event 2"]);
        assert_eq!(end, Next::End);
    }

    #[test]
    fn an_event_over_the_byte_bound_is_kept_and_lags_only_who_is_behind() {
        let mut hub = hub(100).capacity_bytes(64);
        let mut behind = hub.subscribe(None).unwrap();
        let mut current = hub.subscribe(None).unwrap();
        publish(&mut hub, "small");
        drain(&mut hub, &mut current);
        let big = "x".repeat(1000);
        assert_eq!(publish(&mut hub, &big).lagged, 1);
        assert_eq!(hub.log.len(), 1);
        assert_eq!(drain(&mut hub, &mut current), (vec![big], Next::Wait));
        assert_eq!(
            drain(&mut hub, &mut behind),
            (vec!["small".into()], Next::End)
        );
    }

    #[test]
    fn unsubscribing_stops_counting() {
        let mut hub = hub(2);
        let sub = hub.subscribe(None).unwrap();
        publish(&mut hub, "a");
        hub.unsubscribe(sub);
        assert_eq!(hub.subscribers(), 0);
        publish(&mut hub, "b");
        assert_eq!(publish(&mut hub, "c").lagged, 0);
    }

    #[test]
    fn closing_ends_streams_after_what_is_pending() {
        let mut hub = hub(8);
        let mut early = hub.subscribe(None).unwrap();
        publish(&mut hub, "a");
        hub.close();
        assert_eq!(hub.subscribers(), 0);
        let published = publish(&mut hub, "b");
        assert_eq!((published.queued, published.lagged), (0, 0));
        assert_eq!(drain(&mut hub, &mut early), (vec!["a".into()], Next::End));
        let mut late = hub.subscribe(Some("1")).unwrap();
        assert_eq!(drain(&mut hub, &mut late), (vec!["b".into()], Next::End));
    }

    /// Lagging and closing subscriptions hold their connections: they count
    /// against the limit until unsubscribed.
    #[test]
    fn every_subscription_counts_until_unsubscribed() {
        let mut hub = hub(1).max_subscribers(2);
        let slow = hub.subscribe(None).unwrap();
        let mut current = hub.subscribe(None).unwrap();
        publish(&mut hub, "a");
        assert_eq!(
            hub.poll(&mut current),
            Next::Send(b"id: 1\ndata: a\n\n".to_vec())
        );
        assert_eq!(publish(&mut hub, "b").lagged, 1, "slow lagged");
        assert_eq!(hub.subscribers(), 1);
        assert_eq!(
            hub.subscribe(None).unwrap_err(),
            TooManySubscribers { max: 2 }
        );
        hub.unsubscribe(slow);
        let late = hub.subscribe(None).unwrap();
        hub.close();
        assert!(hub.subscribe(None).is_err(), "closing ones count too");
        hub.unsubscribe(late);
        hub.unsubscribe(current);
        assert!(hub.subscribe(None).is_ok());
    }
}
