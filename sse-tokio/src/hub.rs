//! Broadcasting with replay: every event to every subscriber, and what a client
//! missed when it reconnects.
//!
//! Most event-stream servers broadcast: one feed (prices, logs, notifications), many
//! clients. Two things then go wrong in every implementation that is written ad hoc:
//! a client that reconnects with `Last-Event-ID` is sent nothing it missed (or
//! everything again), and one slow client either holds up the publisher or makes the
//! server buffer without limit. [`Hub`] does both the SSE way. It keeps the last
//! events in a [`History`] (the sans-IO replay buffer of `sse-proto`, which makes
//! every decision about IDs, limits and unknown IDs) behind one lock, and gives each
//! subscriber an [`SseBody`] that replays, then streams live, with keep-alives as any
//! [`SseBody`] has them.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use sse_proto::{Backfill, EncodeError, History, Message};
use tokio::sync::mpsc;

use crate::SseBody;

/// How many events a subscriber may fall behind before it is dropped, unless set.
const DEFAULT_CAPACITY: usize = 256;

/// A broadcast of events with replay: [`publish`](Hub::publish) sends an event to
/// every subscriber and records it in a [`History`]; [`subscribe`](Hub::subscribe)
/// starts a stream that replays what a reconnecting client missed, then follows the
/// live events.
///
/// Cloning is cheap: every clone is the same hub. The subscribers' streams end when
/// the last clone is dropped. `examples/hub.rs` serves one on plain hyper.
///
/// # Guarantees
///
/// - **No gap and no duplicate at the handover.** [`Hub::subscribe`] reads the replay
///   and registers the subscriber under the lock that [`Hub::publish`] takes to
///   record and fan out an event: each event is either in the replay or in the live
///   queue, never both, never neither.
/// - **One order.** Events reach every subscriber in the order they were recorded.
/// - **The publisher never waits for a subscriber.** [`Hub::publish`] is a plain
///   function: it queues the event for each subscriber without waiting for room
///   (it only takes the hub's lock, for as long as one event's fan-out), and it can
///   be called from any thread, async or not.
///
/// # Slow subscribers
///
/// Each subscriber has a bounded queue ([`HubBuilder::capacity`]) of events not yet
/// taken by its connection. A subscriber whose queue is full when an event is
/// published is *lagging*: the hub drops it. Its stream sends what was queued and
/// then ends, so the client, as every EventSource does, reconnects with the ID of the
/// last event it received, and the hub replays the rest from its history. The slow
/// client catches up at its own pace, the publisher never waits, and the server
/// holds at most `capacity` events per subscriber besides the one history (whose
/// bytes the queues and replays share).
///
/// A client that lags by more than the history holds (or that takes longer to
/// reconnect than the history lasts) comes back with an ID the history no longer
/// has, and gets what [`HubBuilder::unknown_ids`] says (by default, everything held):
/// size the history for the publishing rate times the clients' reconnection time.
///
/// # IDs
///
/// Every event gets an ID, so that a client can resume after it: an event published
/// without one is given the next number of a sequence (see [`History::push`]). The
/// sequence starts at the time the hub was built, in microseconds since the UNIX
/// epoch, so that a restarted server does not hand out IDs its clients still hold
/// from the last run: their IDs are unknown to it, rather than mistaken for new ones.
/// (A history passed to [`HubBuilder::history`] keeps its own start.)
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
/// let body = hub.subscribe(Some("1")).keep_alive(Duration::from_secs(15));
/// hub.publish(Message::new("three"))?;
///
/// drop(hub); // the streams end when the hub is gone
/// let bytes = body.collect().await.unwrap().to_bytes();
/// assert_eq!(&bytes[..], b"id: 2\ndata: two\n\nid: 3\ndata: three\n\n");
/// # Ok::<(), sse_proto::EncodeError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Hub {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    capacity: usize,
    new_clients: Backfill,
    unknown_ids: Backfill,
}

struct State {
    history: History<Bytes>,
    subscribers: Vec<mpsc::Sender<Bytes>>,
    /// When the list reaches this length, subscribers that went away are swept out
    /// on the next subscribe (publishing sweeps them anyway).
    sweep_at: usize,
    /// Set by [`Hub::close`]: no subscriber is kept from then on.
    closed: bool,
}

/// The smallest `sweep_at`.
const SWEEP_MIN: usize = 64;

impl Hub {
    /// A hub with the default settings (see [`HubBuilder`]).
    pub fn new() -> Hub {
        Hub::builder().build()
    }

    /// Settings for a new hub.
    pub fn builder() -> HubBuilder {
        HubBuilder::new()
    }

    /// Records `message` in the history and queues it for every subscriber;
    /// returns its ID and how many subscribers got it.
    ///
    /// A message without an ID is given one (see [IDs](Hub#ids)).
    /// A subscriber whose queue is full is dropped: its stream ends after what is
    /// queued, and its client resumes from the history. Subscribers whose client went
    /// away are forgotten. Fails, recording and sending nothing, if the message cannot
    /// be encoded (a line break in its type or ID, a NUL in its ID).
    ///
    /// ```
    /// use sse_proto::{EncodeError, History, Message};
    /// use sse_tokio::Hub;
    ///
    /// let hub = Hub::builder().history(History::new()).capacity(1).build();
    /// let _body = hub.subscribe(None);
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
        let mut state = self.lock();
        let State {
            history,
            subscribers,
            ..
        } = &mut *state;
        let entry = history.push(&message)?;
        let mut published = Published {
            id: entry.id().to_owned(),
            queued: 0,
            lagged: 0,
        };
        let bytes = entry.bytes();
        subscribers.retain(|tx| match tx.try_send(bytes.clone()) {
            Ok(()) => {
                published.queued += 1;
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                published.lagged += 1;
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
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
    /// ```
    /// use http_body_util::BodyExt;
    /// use sse_proto::{Backfill, History, Message};
    /// use sse_tokio::Hub;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let hub = Hub::builder().history(History::new().max_events(2)).build();
    /// for data in ["a", "b", "c"] {
    ///     hub.publish(Message::new(data)).unwrap();
    /// }
    /// let new = hub.subscribe(None); // nothing from the past, by default
    /// let known = hub.subscribe(Some("2")); // event 3
    /// let unknown = hub.subscribe(Some("1")); // evicted: everything held, by default
    /// drop(hub);
    /// let text = |body: sse_tokio::SseBody| async { body.collect().await.unwrap().to_bytes() };
    /// assert_eq!(&text(new).await[..], b"");
    /// assert_eq!(&text(known).await[..], b"id: 3\ndata: c\n\n");
    /// assert_eq!(&text(unknown).await[..], b"id: 2\ndata: b\n\nid: 3\ndata: c\n\n");
    /// # });
    /// ```
    pub fn subscribe(&self, last_event_id: Option<&str>) -> SseBody {
        let (tx, rx) = mpsc::channel(self.shared.capacity);
        let mut state = self.lock();
        let replay: VecDeque<Bytes> = state
            .history
            .since(last_event_id)
            .entries(self.shared.new_clients, self.shared.unknown_ids)
            .map(|entry| entry.bytes().clone())
            .collect();
        if state.subscribers.len() >= state.sweep_at {
            state.subscribers.retain(|tx| !tx.is_closed());
            state.sweep_at = SWEEP_MIN.max(2 * state.subscribers.len());
        }
        if !state.closed {
            state.subscribers.push(tx);
        }
        drop(state);
        SseBody::with_replay(rx, replay)
    }

    /// Ends every subscriber's stream, after what is queued for it, and every stream
    /// subscribed from now on, after its replay: what a server's graceful shutdown
    /// needs, since it waits for responses to end and an event stream never ends on
    /// its own. Clients reconnect (to the next instance, say) and resume from their
    /// last event ID. Publishing still records events in the history, for the
    /// replays.
    ///
    /// ```
    /// use http_body_util::BodyExt;
    /// use sse_proto::{History, Message};
    /// use sse_tokio::Hub;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let hub = Hub::builder().history(History::new()).build();
    /// let body = hub.subscribe(None);
    /// hub.publish(Message::new("last")).unwrap();
    /// hub.close(); // other clones of `hub` are still alive
    /// assert_eq!(&body.collect().await.unwrap().to_bytes()[..], b"id: 1\ndata: last\n\n");
    /// assert_eq!(hub.subscribers(), 0);
    /// # });
    /// ```
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.subscribers.clear();
    }

    /// How many subscribers are connected (those whose client went away are not
    /// counted).
    ///
    /// ```
    /// let hub = sse_tokio::Hub::new();
    /// let body = hub.subscribe(None);
    /// assert_eq!(hub.subscribers(), 1);
    /// drop(body);
    /// assert_eq!(hub.subscribers(), 0);
    /// ```
    pub fn subscribers(&self) -> usize {
        let mut state = self.lock();
        state.subscribers.retain(|tx| !tx.is_closed());
        state.subscribers.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the state is
        // still consistent (each step leaves it so).
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Hub")
            .field("events", &state.history.len())
            .field("history_bytes", &state.history.size())
            .field("subscribers", &state.subscribers.len())
            .field("capacity", &self.shared.capacity)
            .finish_non_exhaustive()
    }
}

/// What [`Hub::publish`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Published {
    /// The event's ID: the message's own, or the one the hub gave it.
    pub id: String,
    /// How many subscribers it was queued for.
    pub queued: usize,
    /// How many subscribers were dropped because their queue was full; their
    /// clients will reconnect and resume from the history.
    pub lagged: usize,
}

/// Settings for a [`Hub`], from [`Hub::builder`].
///
/// ```
/// use sse_proto::{Backfill, History};
///
/// let hub = sse_tokio::Hub::builder()
///     .max_events(10_000)
///     .max_bytes(16 << 20)
///     .capacity(64)
///     .new_clients(Backfill::Everything)
///     .build();
/// ```
#[derive(Debug)]
pub struct HubBuilder {
    history: History<Bytes>,
    capacity: usize,
    new_clients: Backfill,
    unknown_ids: Backfill,
}

impl HubBuilder {
    fn new() -> Self {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |since| u64::try_from(since.as_micros()).unwrap_or(1));
        HubBuilder {
            history: History::new().first_id(micros),
            capacity: DEFAULT_CAPACITY,
            new_clients: Backfill::Nothing,
            unknown_ids: Backfill::Everything,
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

    /// How many events a subscriber's queue holds (events published and not yet
    /// taken by its connection) before the subscriber counts as lagging and is
    /// dropped. Default 256.
    ///
    /// # Panics
    ///
    /// Panics if `capacity` is zero.
    pub fn capacity(mut self, capacity: usize) -> Self {
        assert!(capacity > 0, "a subscriber's queue needs room for an event");
        self.capacity = capacity;
        self
    }

    /// What a client without a `Last-Event-ID` gets before the live events: nothing
    /// (the default), or every event the history holds.
    pub fn new_clients(mut self, backfill: Backfill) -> Self {
        self.new_clients = backfill;
        self
    }

    /// What a client whose `Last-Event-ID` the history does not hold gets before the
    /// live events: every event the history holds (the default), or nothing. For
    /// the usual unknown IDs, one evicted from the history or handed out before a
    /// restart, every event held is one the client has not seen; it may also have
    /// missed older ones that are gone.
    pub fn unknown_ids(mut self, backfill: Backfill) -> Self {
        self.unknown_ids = backfill;
        self
    }

    /// The hub.
    pub fn build(self) -> Hub {
        Hub {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    history: self.history,
                    subscribers: Vec::new(),
                    sweep_at: SWEEP_MIN,
                    closed: false,
                }),
                capacity: self.capacity,
                new_clients: self.new_clients,
                unknown_ids: self.unknown_ids,
            }),
        }
    }
}
