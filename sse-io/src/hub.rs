//! Broadcasting with replay, on any runtime: [`Broadcast`]'s rules behind one lock,
//! with the wakers of the streams that wait for the next event.

use core::fmt;
use core::marker::PhantomData;
use core::task::{Context, Poll, Waker};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use sse_proto::{
    Backfill, Broadcast, DEFAULT_MAX_SUBSCRIBERS, DEFAULT_SUBSCRIBER_BYTES,
    DEFAULT_SUBSCRIBER_CAPACITY, EncodeError, History, Message, Next, Published, Subscription,
    TooManySubscribers,
};

use crate::body::{Source, SseBody};
use crate::runtime::Runtime;

/// A broadcast of events with replay: [`publish`](Hub::publish) sends an event to
/// every subscriber and records it in a [`History`]; [`subscribe`](Hub::subscribe)
/// starts a stream that replays what a reconnecting client missed, then follows the
/// live events. The rules are [`Broadcast`]'s; this is its async face.
///
/// Cloning is cheap: every clone is the same hub. The subscribers' streams end,
/// after what they have pending, when the last clone is dropped or
/// [`close`](Hub::close) is called.
///
/// # Guarantees
///
/// - **No gap and no duplicate at the handover** between replay and live events.
/// - **One order.** Events reach every subscriber in the order they were recorded.
/// - **The publisher never waits for a subscriber.** [`Hub::publish`] is a plain
///   function that appends to one shared log: its cost does not grow with the
///   number of subscribers, except for waking those that wait. It can be called
///   from any thread, async or not.
///
/// # Slow subscribers
///
/// A subscriber may fall [`capacity`](HubBuilder::capacity) events and
/// [`capacity_bytes`](HubBuilder::capacity_bytes) bytes behind. One that is that far
/// behind when an event is published is *lagging*: its stream sends what it had
/// pending and ends, so that its client, as every EventSource does,
/// reconnects with the ID of the last event it received, and the hub replays the
/// rest from its history. The publisher never waits, and the server holds one
/// position per subscriber besides the one log and history, whose bytes the
/// streams share.
///
/// A client that lags by more than the history holds (or that takes longer to
/// reconnect than the history lasts) comes back with an ID the history no longer
/// has, and gets what [`HubBuilder::unknown_ids`] says (by default, what a new
/// client gets: an ID the hub cannot place, made up or evicted, is no licence to ask
/// for the whole history): size the history for the publishing rate times the
/// clients' reconnection time.
///
/// # IDs
///
/// Every event gets an ID, so that a client can resume after it: an event published
/// without one is given the next number of a sequence (see [`History::push`]). The
/// sequence starts at the time the hub was built, in microseconds since the UNIX
/// epoch, so that a restarted server does not hand out IDs its clients still hold
/// from the last run. (A history passed to [`HubBuilder::history`] keeps its own
/// start.)
///
/// ```
/// use std::time::Duration;
/// use http_body_util::BodyExt;
/// use sse_proto::{History, Message};
/// use sse_tokio::Hub;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let hub = Hub::builder().history(History::new().max_events(100)).build();
/// hub.publish(Message::new("one"))?; // id 1
/// hub.publish(Message::new("two"))?; // id 2
///
/// // In a handler: `hub.subscribe(sse_tokio::last_event_id(request.headers()).as_deref())`.
/// // A client that saw event 1 reconnects: it gets event 2, then what comes next.
/// let body = hub.subscribe(Some("1")).unwrap().keep_alive(Duration::from_secs(15));
/// hub.publish(Message::new("three"))?;
///
/// drop(hub); // the streams end when the hub is gone
/// let bytes = BodyExt::collect(body).await.unwrap().to_bytes();
/// assert_eq!(&bytes[..], b"id: 2\ndata: two\n\nid: 3\ndata: three\n\n");
/// # Ok::<(), sse_proto::EncodeError>(())
/// # }).unwrap();
/// ```
pub struct Hub<R: Runtime> {
    shared: Arc<Shared>,
    runtime: PhantomData<fn() -> R>,
}

struct Shared {
    state: Mutex<State>,
    /// Live `Hub` handles: the hub closes when the last goes.
    handles: AtomicUsize,
}

struct State {
    broadcast: Broadcast<Bytes>,
    /// The streams to wake at the next publish or close.
    waiting: Vec<Waker>,
    /// Counts publishes and closes: a stream registered in `waiting` in this epoch
    /// only updates its waker.
    epoch: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; the state is consistent after each
        // step anyway.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes every waiting stream, outside the lock.
    fn wake(&self, mut state: MutexGuard<'_, State>) {
        state.epoch += 1;
        let waiting = std::mem::take(&mut state.waiting);
        drop(state);
        for waker in waiting {
            waker.wake();
        }
    }
}

impl<R: Runtime> Hub<R> {
    /// A hub with the default settings (see [`HubBuilder`]).
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Settings for a new hub.
    pub fn builder() -> HubBuilder<R> {
        HubBuilder::new()
    }

    /// Records `message` in the history and queues it for every subscriber;
    /// returns its ID and how many subscribers got it ([`Broadcast::publish`]).
    ///
    /// A message without an ID is given one (see [IDs](Hub#ids)). A subscriber too
    /// far behind lags: its stream ends after what it has pending, and its client
    /// resumes from the history. Fails, recording and sending nothing, if the
    /// message cannot be encoded (a line break in its type or ID, a NUL in its ID).
    ///
    /// ```
    /// use sse_proto::{EncodeError, History, Message};
    /// use sse_tokio::Hub;
    ///
    /// let hub = Hub::builder().history(History::new()).capacity(1).build();
    /// let _body = hub.subscribe(None).unwrap();
    /// let published = hub.publish(Message::new("first"))?;
    /// assert_eq!((published.id.as_str(), published.queued, published.lagged), ("1", 1, 0));
    /// // Nobody reads the body: the next event finds its queue full, and drops it.
    /// let published = hub.publish(Message::new("second").id("b"))?;
    /// assert_eq!((published.id.as_str(), published.queued, published.lagged), ("b", 0, 1));
    /// assert_eq!(hub.subscribers(), 0);
    ///
    /// assert_eq!(
    ///     hub.publish(Message::new("x").event("a\nb")).unwrap_err(),
    ///     EncodeError::LineBreakInEvent { index: 1 }
    /// );
    /// # Ok::<(), EncodeError>(())
    /// ```
    pub fn publish<T: AsRef<str>>(&self, message: Message<T>) -> Result<Published, EncodeError> {
        let mut state = self.shared.lock();
        let published = state.broadcast.publish(&message)?;
        self.shared.wake(state);
        Ok(published)
    }

    /// A stream for a client that connects with `last_event_id` (its
    /// `Last-Event-ID` header: see [`last_event_id`](crate::last_event_id)): the
    /// events it missed, then every event published from now on.
    ///
    /// What it missed comes from the history ([`History::since`]): the events after
    /// its ID when the history holds the ID; for a client without an ID and one whose
    /// ID is unknown, what [`HubBuilder::new_clients`] and
    /// [`HubBuilder::unknown_ids`] say. Set keep-alives and a `retry` on the body as
    /// on any [`SseBody`].
    ///
    /// Refused when the hub already holds [`HubBuilder::max_subscribers`] streams:
    /// answer that client `503 Service Unavailable` with a `Retry-After`, as
    /// [`unavailable`](crate::unavailable) does.
    ///
    /// ```
    /// use http_body_util::BodyExt;
    /// use sse_proto::{Backfill, History, Message};
    /// use sse_tokio::Hub;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let hub = Hub::builder()
    ///     .history(History::new().max_events(2))
    ///     .unknown_ids(Backfill::Everything)
    ///     .build();
    /// for data in ["a", "b", "c"] {
    ///     hub.publish(Message::new(data)).unwrap();
    /// }
    /// let new = hub.subscribe(None).unwrap(); // nothing from the past, by default
    /// let known = hub.subscribe(Some("2")).unwrap(); // event 3
    /// let unknown = hub.subscribe(Some("1")).unwrap(); // evicted: everything held, as asked
    /// drop(hub);
    /// let text = |body: sse_tokio::SseBody| async { BodyExt::collect(body).await.unwrap().to_bytes() };
    /// assert_eq!(&text(new).await[..], b"");
    /// assert_eq!(&text(known).await[..], b"id: 3\ndata: c\n\n");
    /// assert_eq!(&text(unknown).await[..], b"id: 2\ndata: b\n\nid: 3\ndata: c\n\n");
    /// # });
    /// ```
    pub fn subscribe(&self, last_event_id: Option<&str>) -> Result<SseBody<R>, TooManySubscribers> {
        let subscription = self.shared.lock().broadcast.subscribe(last_event_id)?;
        Ok(SseBody::new(Source::Hub(HubStream {
            shared: Arc::clone(&self.shared),
            subscription: Some(subscription),
            registered: None,
        })))
    }

    /// Ends every subscriber's stream, after what is pending for it, and every
    /// stream subscribed from now on, after its replay: what a server's graceful
    /// shutdown needs, since it waits for responses to end and an event stream never
    /// ends on its own. Clients reconnect (to the next instance, say) and resume
    /// from their last event ID. Publishing still records events in the history,
    /// for the replays.
    ///
    /// ```
    /// use http_body_util::BodyExt;
    /// use sse_proto::{History, Message};
    /// use sse_tokio::Hub;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let hub = Hub::builder().history(History::new()).build();
    /// let body = hub.subscribe(None).unwrap();
    /// hub.publish(Message::new("last")).unwrap();
    /// hub.close(); // other clones of `hub` are still alive
    /// assert_eq!(&BodyExt::collect(body).await.unwrap().to_bytes()[..], b"id: 1\ndata: last\n\n");
    /// assert_eq!(hub.subscribers(), 0);
    /// # });
    /// ```
    pub fn close(&self) {
        let mut state = self.shared.lock();
        state.broadcast.close();
        self.shared.wake(state);
    }

    /// How many subscribers are connected (those that went away or lagged are not
    /// counted).
    ///
    /// ```
    /// let hub = sse_tokio::Hub::new();
    /// let body = hub.subscribe(None).unwrap();
    /// assert_eq!(hub.subscribers(), 1);
    /// drop(body);
    /// assert_eq!(hub.subscribers(), 0);
    /// ```
    pub fn subscribers(&self) -> usize {
        self.shared.lock().broadcast.subscribers()
    }
}

impl<R: Runtime> Default for Hub<R> {
    fn default() -> Self {
        Hub::new()
    }
}

impl<R: Runtime> Clone for Hub<R> {
    fn clone(&self) -> Self {
        self.shared.handles.fetch_add(1, Ordering::Relaxed);
        Hub {
            shared: Arc::clone(&self.shared),
            runtime: PhantomData,
        }
    }
}

impl<R: Runtime> Drop for Hub<R> {
    fn drop(&mut self) {
        if self.shared.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            let mut state = self.shared.lock();
            state.broadcast.close();
            self.shared.wake(state);
        }
    }
}

impl<R: Runtime> fmt::Debug for Hub<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        let history = state.broadcast.history();
        f.debug_struct("Hub")
            .field("events", &history.len())
            .field("history_bytes", &history.size())
            .field("subscribers", &state.broadcast.subscribers())
            .field("capacity", &state.broadcast.capacity())
            .finish_non_exhaustive()
    }
}

/// One subscriber's end of a hub: what its body polls.
pub(crate) struct HubStream {
    shared: Arc<Shared>,
    /// `None` once given back to the broadcast.
    subscription: Option<Subscription<Bytes>>,
    /// The epoch and place in `waiting` where this stream's waker is.
    registered: Option<(u64, usize)>,
}

impl HubStream {
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let Some(subscription) = &mut self.subscription else {
            return Poll::Ready(None);
        };
        let mut state = self.shared.lock();
        match state.broadcast.poll(subscription) {
            Next::Send(bytes) => Poll::Ready(Some(bytes)),
            Next::End => Poll::Ready(None),
            Next::Wait => {
                let epoch = state.epoch;
                match self.registered {
                    Some((at, index)) if at == epoch => {
                        let waker = &mut state.waiting[index];
                        if !waker.will_wake(cx.waker()) {
                            waker.clone_from(cx.waker());
                        }
                    }
                    _ => {
                        self.registered = Some((epoch, state.waiting.len()));
                        state.waiting.push(cx.waker().clone());
                    }
                }
                Poll::Pending
            }
        }
    }
}

impl Drop for HubStream {
    fn drop(&mut self) {
        if let Some(subscription) = self.subscription.take() {
            self.shared.lock().broadcast.unsubscribe(subscription);
        }
    }
}

/// Settings for a [`Hub`], from [`Hub::builder`].
pub struct HubBuilder<R: Runtime> {
    history: History<Bytes>,
    capacity: usize,
    capacity_bytes: usize,
    new_clients: Backfill,
    /// `None`: as `new_clients`.
    unknown_ids: Option<Backfill>,
    max_subscribers: usize,
    runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> fmt::Debug for HubBuilder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubBuilder")
            .field("history", &self.history)
            .field("capacity", &self.capacity)
            .field("capacity_bytes", &self.capacity_bytes)
            .field("new_clients", &self.new_clients)
            .field("unknown_ids", &self.unknown_ids)
            .field("max_subscribers", &self.max_subscribers)
            .finish()
    }
}

impl<R: Runtime> HubBuilder<R> {
    fn new() -> Self {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |since| u64::try_from(since.as_micros()).unwrap_or(1));
        HubBuilder {
            history: History::new().first_id(micros),
            capacity: DEFAULT_SUBSCRIBER_CAPACITY,
            capacity_bytes: DEFAULT_SUBSCRIBER_BYTES,
            new_clients: Backfill::Nothing,
            unknown_ids: None,
            max_subscribers: DEFAULT_MAX_SUBSCRIBERS,
            runtime: PhantomData,
        }
    }

    /// How many events the history keeps (see [`History::max_events`]). Default
    /// 1024.
    pub fn max_events(mut self, max: usize) -> Self {
        self.history = self.history.max_events(max);
        self
    }

    /// How many bytes the history keeps (see [`History::max_bytes`]). Default 1 MiB.
    pub fn max_bytes(mut self, max: usize) -> Self {
        self.history = self.history.max_bytes(max);
        self
    }

    /// The history to record into and replay from, instead of the default one: its
    /// limits, the first ID it assigns, and the events it already holds (one saved
    /// from an earlier run, say). It replaces what
    /// [`max_events`](HubBuilder::max_events) and [`max_bytes`](HubBuilder::max_bytes)
    /// set. The default holds 1024 events or 1 MiB, and assigns IDs from the time
    /// the builder was made, in microseconds since the UNIX epoch.
    pub fn history(mut self, history: History<Bytes>) -> Self {
        self.history = history;
        self
    }

    /// How many events a subscriber may fall behind (published and not yet taken by
    /// its connection) before it counts as lagging. Default 256.
    ///
    /// # Panics
    ///
    /// Panics if `capacity` is zero.
    pub fn capacity(mut self, capacity: usize) -> Self {
        assert!(capacity > 0, "a subscriber needs room for an event");
        self.capacity = capacity;
        self
    }

    /// How many bytes of encoded events a subscriber may fall behind before it counts
    /// as lagging (the newest event is kept whatever its size). Default 1 MiB. With
    /// [`capacity`](HubBuilder::capacity), this bounds what the hub holds for its
    /// subscribers, however many there are and however slowly they read: one shared
    /// log, and what a lagging subscriber has yet to be sent.
    pub fn capacity_bytes(mut self, bytes: usize) -> Self {
        self.capacity_bytes = bytes;
        self
    }

    /// What a client without a `Last-Event-ID` gets before the live events: nothing
    /// (the default), or every event the history holds.
    pub fn new_clients(mut self, backfill: Backfill) -> Self {
        self.new_clients = backfill;
        self
    }

    /// What a client whose `Last-Event-ID` the history does not hold gets before the
    /// live events: every event the history holds, or nothing. By default, what
    /// [`new_clients`](HubBuilder::new_clients) gets, since the hub cannot tell an ID
    /// that was evicted or handed out before a restart (every event held is then one
    /// the client has not seen) from one that was made up (and would otherwise get the
    /// whole history for the asking). A server whose clients often come back from
    /// longer than the history lasts may set `Everything`.
    pub fn unknown_ids(mut self, backfill: Backfill) -> Self {
        self.unknown_ids = Some(backfill);
        self
    }

    /// How many streams the hub serves at once (lagging and ending ones count until
    /// their responses are dropped); [`Hub::subscribe`] refuses one more. Default
    /// [`DEFAULT_MAX_SUBSCRIBERS`], 10,000.
    pub fn max_subscribers(mut self, max: usize) -> Self {
        self.max_subscribers = max;
        self
    }

    /// The hub.
    pub fn build(self) -> Hub<R> {
        let broadcast = Broadcast::new(
            self.history,
            self.capacity,
            self.new_clients,
            self.unknown_ids.unwrap_or(self.new_clients),
        )
        .capacity_bytes(self.capacity_bytes)
        .max_subscribers(self.max_subscribers);
        Hub {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    broadcast,
                    waiting: Vec::new(),
                    epoch: 0,
                }),
                handles: AtomicUsize::new(1),
            }),
            runtime: PhantomData,
        }
    }
}
