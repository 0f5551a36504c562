//! Broadcasting with replay, on any runtime: [`Broadcast`]'s rules behind one lock,
//! with the wakers of the streams that wait for the next event.

use core::fmt;
use core::marker::PhantomData;
use core::task::{Context, Poll, Waker};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use sse_proto::{
    Backfill, Broadcast, DEFAULT_MAX_SUBSCRIBERS, DEFAULT_MAX_TOPICS, DEFAULT_SUBSCRIBER_BYTES,
    DEFAULT_SUBSCRIBER_CAPACITY, DEFAULT_TOPIC_BYTES, DEFAULT_TOPIC_EVENTS,
    DEFAULT_TOPICS_PER_SUBSCRIPTION, EncodeError, History, Message, Next, PublishError, Published,
    SubscribeError, TooManySubscribers, TopicKey, TopicSubscription, Topics,
};

use crate::body::{Source, SseBody, gather};
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
/// - **Few writes.** The events a stream finds ready when polled go out as one
///   chunk, up to 8 KiB (copied into it; a larger event goes alone, shared), so a
///   subscriber that fell a few events behind catches up in one write.
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
/// start.) One sequence numbers the events of every topic, so IDs are unique
/// across them.
///
/// # Topics
///
/// Besides the stream of events published with [`publish`](Hub::publish) (and
/// followed with [`subscribe`](Hub::subscribe)), the hub holds named topics: a
/// user's channel, a document's changes. [`publish_to`](Hub::publish_to) sends to
/// one; [`subscribe_to`](Hub::subscribe_to) follows one or several, in the order
/// their events were published, and resumes all of them from one `Last-Event-ID`
/// without a gap or a duplicate (the rules are [`Topics`]'). Each topic has a
/// history of its own ([`topic_history`](HubBuilder::topic_history)) and a log with
/// the hub's [`capacity`](HubBuilder::capacity); a topic nobody follows holds only
/// its history. At most [`max_topics`](HubBuilder::max_topics) are held: a new one
/// evicts the topic used longest ago among those nobody follows. What the hub
/// holds is therefore bounded by the main history, plus `max_topics` topic
/// histories, plus one log (`capacity_bytes`) for each topic that has followers.
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
    topics: Topics<Bytes>,
    /// What waits on each topic, by [`TopicKey::index`].
    waiting: Vec<Waiters>,
}

/// The streams to wake at a topic's next publish, or at close.
#[derive(Default)]
struct Waiters {
    /// A stream that went away leaves a no-op waker in its place.
    wakers: Vec<Waker>,
    /// Places in `wakers` that streams gave back.
    free: Vec<usize>,
    /// Counts wakes: a stream registered in this epoch only updates its waker.
    epoch: u64,
}

impl Waiters {
    /// Takes every waker, for waking outside the lock.
    fn take(&mut self) -> Vec<Waker> {
        self.epoch += 1;
        self.free.clear();
        std::mem::take(&mut self.wakers)
    }
}

impl State {
    fn waiters(&mut self, key: TopicKey) -> &mut Waiters {
        let index = key.index();
        if self.waiting.len() <= index {
            self.waiting.resize_with(index + 1, Waiters::default);
        }
        &mut self.waiting[index]
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; the state is consistent after each
        // step anyway.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes the streams waiting on `key`, outside the lock.
    fn wake(&self, mut state: MutexGuard<'_, State>, key: TopicKey) {
        let waiting = state.waiters(key).take();
        drop(state);
        for waker in waiting {
            waker.wake();
        }
    }

    /// Wakes every waiting stream, outside the lock.
    fn wake_all(&self, mut state: MutexGuard<'_, State>) {
        let waiting: Vec<_> = state.waiting.iter_mut().map(Waiters::take).collect();
        drop(state);
        for waker in waiting.into_iter().flatten() {
            waker.wake();
        }
    }

    fn close(&self) {
        let mut state = self.lock();
        state.topics.close();
        self.wake_all(state);
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
        self.publish_in(None, message).map_err(|error| match error {
            PublishError::Encode(error) => error,
            other => unreachable!("the unnamed stream is always there: {other}"),
        })
    }

    /// Records `message` in `topic`'s history and queues it for the streams that
    /// follow `topic` (see [Topics](Hub#topics)); returns its ID and how many
    /// subscribers got it.
    ///
    /// Makes the topic if it is new. Fails, recording and sending nothing, if the
    /// message cannot be encoded, or the topic is new and the hub already holds
    /// [`max_topics`](HubBuilder::max_topics) topics with subscribers.
    ///
    /// ```
    /// use sse_proto::Message;
    /// use sse_tokio::Hub;
    ///
    /// let hub = Hub::new();
    /// let _alice = hub.subscribe_to(["alice"], None).unwrap();
    /// assert_eq!(hub.publish_to("alice", Message::new("hi"))?.queued, 1);
    /// assert_eq!(hub.publish_to("bob", Message::new("hi"))?.queued, 0);
    /// # Ok::<(), sse_proto::PublishError>(())
    /// ```
    pub fn publish_to<T: AsRef<str>>(
        &self,
        topic: &str,
        message: Message<T>,
    ) -> Result<Published, PublishError> {
        self.publish_in(Some(topic), message)
    }

    fn publish_in<T: AsRef<str>>(
        &self,
        topic: Option<&str>,
        message: Message<T>,
    ) -> Result<Published, PublishError> {
        let mut state = self.shared.lock();
        let (key, published) = state.topics.publish(topic, &message)?;
        self.shared.wake(state, key);
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
        self.subscribe_in([None], last_event_id)
            .map_err(unnamed_refusal)
    }

    /// A stream of the events published to `topics` (see [Topics](Hub#topics)), for
    /// a client that connects with `last_event_id`: what it missed in each, then
    /// their live events, in the order they were published.
    ///
    /// Refused when the hub holds [`max_subscribers`](HubBuilder::max_subscribers)
    /// streams, or a topic is new and there is no room for it (answer those
    /// `503`, as [`unavailable`](crate::unavailable) does), or `topics` names
    /// none or more than
    /// [`topics_per_subscription`](HubBuilder::topics_per_subscription) (answer
    /// `400`).
    ///
    /// ```
    /// use http_body_util::BodyExt;
    /// use sse_proto::{History, Message};
    /// use sse_tokio::Hub;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let hub = Hub::builder().history(History::new()).build(); // IDs from 1
    /// let both = hub.subscribe_to(["news", "alice"], None).unwrap();
    /// hub.publish_to("news", Message::new("for everyone")).unwrap(); // id 1
    /// hub.publish_to("bob", Message::new("for bob")).unwrap(); // id 2
    /// hub.publish_to("alice", Message::new("for alice")).unwrap(); // id 3
    /// // Alice's client got event 1, and comes back:
    /// let again = hub.subscribe_to(["news", "alice"], Some("1")).unwrap();
    /// drop(hub);
    /// let text = |body: sse_tokio::SseBody| async { BodyExt::collect(body).await.unwrap().to_bytes() };
    /// assert_eq!(&text(both).await[..], b"id: 1\ndata: for everyone\n\nid: 3\ndata: for alice\n\n");
    /// assert_eq!(&text(again).await[..], b"id: 3\ndata: for alice\n\n");
    /// # });
    /// ```
    pub fn subscribe_to<I, S>(
        &self,
        topics: I,
        last_event_id: Option<&str>,
    ) -> Result<SseBody<R>, SubscribeError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let topics: Vec<S> = topics.into_iter().collect();
        self.subscribe_in(
            topics.iter().map(|topic| Some(topic.as_ref())),
            last_event_id,
        )
    }

    fn subscribe_in<'a>(
        &self,
        topics: impl IntoIterator<Item = Option<&'a str>>,
        last_event_id: Option<&str>,
    ) -> Result<SseBody<R>, SubscribeError> {
        let subscription = self.shared.lock().topics.subscribe(topics, last_event_id)?;
        Ok(self.body(subscription, VecDeque::new()))
    }

    /// A stream for a client whose missed events up to `last_event_id` are kept
    /// elsewhere (a database, a broker's log): `earlier`, whole encoded events
    /// ending with the one `last_event_id` names, is sent first, then the events
    /// the history holds after `last_event_id`, then the live ones, with no gap
    /// and no duplicate at either handover. `Ok(None)` if the history no longer
    /// holds `last_event_id` (it would leave a gap): fetch more, or subscribe as
    /// for an unknown ID.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::BodyExt;
    /// use sse_proto::{History, Message};
    /// use sse_tokio::Hub;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let hub = Hub::builder().history(History::new().max_events(1)).build();
    /// hub.publish(Message::new("b").id("2")).unwrap();
    /// hub.publish(Message::new("c").id("3")).unwrap(); // "2" is evicted
    /// // A client that got event 1 missed 2, which a database still holds.
    /// let from_database = vec![Bytes::from("id: 2\ndata: b\n\n"), Bytes::from("id: 3\ndata: c\n\n")];
    /// let body = hub.subscribe_continuing(from_database, "3").unwrap().unwrap();
    /// assert!(hub.subscribe_continuing(vec![], "2").unwrap().is_none());
    /// drop(hub);
    /// let bytes = BodyExt::collect(body).await.unwrap().to_bytes();
    /// assert_eq!(&bytes[..], b"id: 2\ndata: b\n\nid: 3\ndata: c\n\n");
    /// # });
    /// ```
    pub fn subscribe_continuing(
        &self,
        earlier: Vec<Bytes>,
        last_event_id: &str,
    ) -> Result<Option<SseBody<R>>, TooManySubscribers> {
        let mut state = self.shared.lock();
        if state
            .topics
            .unnamed()
            .history()
            .sequence_of(last_event_id)
            .is_none()
        {
            return Ok(None);
        }
        let subscription = state
            .topics
            .subscribe([None], Some(last_event_id))
            .map_err(unnamed_refusal)?;
        drop(state);
        Ok(Some(self.body(subscription, earlier.into())))
    }

    /// The body of a subscription, sending `earlier` first.
    fn body(&self, subscription: TopicSubscription<Bytes>, earlier: VecDeque<Bytes>) -> SseBody<R> {
        let registered = Vec::with_capacity(subscription.topics().count());
        SseBody::new(Source::Hub(HubStream {
            shared: Arc::clone(&self.shared),
            subscription: Some(subscription),
            registered,
            held: None,
            earlier,
        }))
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
        self.shared.close();
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
        self.shared.lock().topics.subscribers()
    }

    /// How many named topics the hub holds (see [Topics](Hub#topics)).
    pub fn topics(&self) -> usize {
        self.shared.lock().topics.topics()
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
            self.shared.close();
        }
    }
}

impl<R: Runtime> fmt::Debug for Hub<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        let unnamed = state.topics.unnamed();
        let history = unnamed.history();
        f.debug_struct("Hub")
            .field("events", &history.len())
            .field("history_bytes", &history.size())
            .field("topics", &state.topics.topics())
            .field("subscribers", &state.topics.subscribers())
            .field("capacity", &unnamed.capacity())
            .finish_non_exhaustive()
    }
}

/// Why a subscription to the unnamed stream alone was refused: only for too many
/// subscribers (the stream is always there, and one topic is within every limit).
fn unnamed_refusal(error: SubscribeError) -> TooManySubscribers {
    match error {
        SubscribeError::TooManySubscribers(error) => error,
        other => unreachable!("the unnamed stream is always there: {other}"),
    }
}

/// One subscriber's end of a hub: what its body polls.
pub(crate) struct HubStream {
    shared: Arc<Shared>,
    /// `None` once given back to the hub.
    subscription: Option<TopicSubscription<Bytes>>,
    /// Where this stream's waker is, in each topic it waits on.
    registered: Vec<Registered>,
    /// An event taken that did not fit in the last chunk: the next chunk's first.
    held: Option<Bytes>,
    /// Events from elsewhere, sent before the hub's ([`Hub::subscribe_continuing`]).
    earlier: VecDeque<Bytes>,
}

/// A waker's place: the topic, the epoch it was registered in, its index.
#[derive(Clone, Copy)]
struct Registered {
    key: TopicKey,
    epoch: u64,
    index: usize,
}

impl HubStream {
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let Some(subscription) = &mut self.subscription else {
            return Poll::Ready(None);
        };
        let (held, earlier) = (&mut self.held, &mut self.earlier);
        let mut state = self.shared.lock();
        let next = match held.take().or_else(|| earlier.pop_front()) {
            Some(first) => Next::Send(first),
            None => state.topics.poll(subscription),
        };
        match next {
            Next::Send(first) => {
                // The hub's answer, End included, stays the same until taken.
                let next = || {
                    earlier
                        .pop_front()
                        .or_else(|| match state.topics.poll(subscription) {
                            Next::Send(more) => Some(more),
                            Next::Wait | Next::End => None,
                        })
                };
                Poll::Ready(Some(gather(first, held, next)))
            }
            Next::End => Poll::Ready(None),
            Next::Wait => {
                for key in subscription.topics() {
                    let waiters = state.waiters(key);
                    let epoch = waiters.epoch;
                    let place = self.registered.iter_mut().find(|r| r.key == key);
                    match place {
                        Some(place) if place.epoch == epoch => {
                            let waker = &mut waiters.wakers[place.index];
                            if !waker.will_wake(cx.waker()) {
                                waker.clone_from(cx.waker());
                            }
                        }
                        _ => {
                            let waker = cx.waker().clone();
                            let index = match waiters.free.pop() {
                                Some(index) => {
                                    waiters.wakers[index] = waker;
                                    index
                                }
                                None => {
                                    waiters.wakers.push(waker);
                                    waiters.wakers.len() - 1
                                }
                            };
                            let registered = Registered { key, epoch, index };
                            match place {
                                Some(place) => *place = registered,
                                None => self.registered.push(registered),
                            }
                        }
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
            let mut state = self.shared.lock();
            state.topics.unsubscribe(subscription);
            // Give back the places of wakers no publish has taken yet, so that
            // streams that come and go on a quiet topic do not pile up.
            for registered in &self.registered {
                let waiters = state.waiters(registered.key);
                if waiters.epoch == registered.epoch {
                    waiters.wakers[registered.index] = Waker::noop().clone();
                    waiters.free.push(registered.index);
                }
            }
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
    max_topics: usize,
    topic_events: usize,
    topic_bytes: usize,
    topics_per_subscription: usize,
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
            .field("max_topics", &self.max_topics)
            .field("topic_events", &self.topic_events)
            .field("topic_bytes", &self.topic_bytes)
            .field("topics_per_subscription", &self.topics_per_subscription)
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
            max_topics: DEFAULT_MAX_TOPICS,
            topic_events: DEFAULT_TOPIC_EVENTS,
            topic_bytes: DEFAULT_TOPIC_BYTES,
            topics_per_subscription: DEFAULT_TOPICS_PER_SUBSCRIPTION,
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

    /// How many named topics the hub holds at once (see [Topics](Hub#topics)).
    /// Default [`DEFAULT_MAX_TOPICS`], 1,000.
    pub fn max_topics(mut self, max: usize) -> Self {
        self.max_topics = max;
        self
    }

    /// How many events and bytes each named topic's history keeps (see
    /// [`History::max_events`], [`History::max_bytes`]). Default
    /// [`DEFAULT_TOPIC_EVENTS`] (64) and [`DEFAULT_TOPIC_BYTES`] (64 KiB).
    pub fn topic_history(mut self, max_events: usize, max_bytes: usize) -> Self {
        self.topic_events = max_events;
        self.topic_bytes = max_bytes;
        self
    }

    /// How many topics one stream may follow (at least 1). Default
    /// [`DEFAULT_TOPICS_PER_SUBSCRIPTION`], 32.
    pub fn topics_per_subscription(mut self, max: usize) -> Self {
        self.topics_per_subscription = max.max(1);
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
        let topics = Topics::new(broadcast)
            .max_topics(self.max_topics)
            .topic_history(self.topic_events, self.topic_bytes)
            .topics_per_subscription(self.topics_per_subscription);
        Hub {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    topics,
                    waiting: Vec::new(),
                }),
                handles: AtomicUsize::new(1),
            }),
            runtime: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake};
    use std::time::Instant;

    use futures_util::Stream;
    use sse_proto::{Message, TopicKey};

    use super::Hub;
    use crate::runtime::{Runtime, Timer};

    /// A runtime whose timer never fires: the hub needs none.
    struct Untimed;

    #[derive(Debug)]
    struct Never;

    impl core::future::Future for Never {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Pending
        }
    }

    impl Timer for Never {
        fn reset(&mut self, _: Instant) {}
    }

    impl Runtime for Untimed {
        type Timer = Never;
        fn now() -> Instant {
            Instant::now()
        }
        fn timer(_: Instant) -> Never {
            Never
        }
    }

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll<S: Stream + Unpin>(stream: &mut S, waker: &Arc<Count>) -> Poll<Option<S::Item>> {
        let waker = Arc::clone(waker).into();
        Pin::new(stream).poll_next(&mut Context::from_waker(&waker))
    }

    #[test]
    fn a_stream_is_woken_by_its_topics_only() {
        let hub = Hub::<Untimed>::new();
        let mut both = hub.subscribe_to(["a", "b"], None).unwrap();
        let woken = Arc::new(Count::default());
        assert!(poll(&mut both, &woken).is_pending());
        hub.publish_to("c", Message::new("not for it")).unwrap();
        hub.publish(Message::new("not for it either")).unwrap();
        assert_eq!(woken.0.load(Ordering::SeqCst), 0);
        hub.publish_to("b", Message::new("for it")).unwrap();
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
        assert!(matches!(poll(&mut both, &woken), Poll::Ready(Some(Ok(_)))));
        assert!(poll(&mut both, &woken).is_pending());
        hub.publish_to("a", Message::new("for it")).unwrap();
        assert_eq!(woken.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn events_ready_at_once_go_out_in_one_chunk_up_to_a_bound() {
        let hub = Hub::<Untimed>::builder().capacity(2_000).build();
        let mut body = hub.subscribe(None).unwrap();
        let woken = Arc::new(Count::default());
        assert!(poll(&mut body, &woken).is_pending());
        let data = "x".repeat(100);
        for _ in 0..1_000 {
            hub.publish(Message::new(data.as_str())).unwrap();
        }
        let big = "y".repeat(3 * crate::body::CHUNK);
        hub.publish(Message::new(big.as_str())).unwrap();
        hub.publish(Message::new("small")).unwrap();
        let mut chunks = Vec::new();
        while let Poll::Ready(Some(Ok(chunk))) = poll(&mut body, &woken) {
            chunks.push(chunk);
        }
        let events = |chunk: &bytes::Bytes| chunk.windows(6).filter(|w| *w == b"\ndata:").count();
        assert_eq!(chunks.iter().map(events).sum::<usize>(), 1_002);
        // Each chunk stops at the first event that takes it to the bound.
        let event_len = chunks[0].len() / events(&chunks[0]);
        assert!(
            chunks.len() <= 1_000 / (crate::body::CHUNK / event_len) + 3,
            "{}",
            chunks.len()
        );
        assert!(
            chunks
                .iter()
                .all(|chunk| chunk.len() <= crate::body::CHUNK || events(chunk) == 1)
        );
        // An event over the bound goes alone, as it was encoded.
        let alone = chunks.iter().find(|chunk| chunk.len() > big.len()).unwrap();
        assert_eq!(events(alone), 1);
    }

    #[test]
    fn streams_that_come_and_go_on_a_quiet_topic_leave_nothing_behind() {
        let hub = Hub::<Untimed>::new();
        let woken = Arc::new(Count::default());
        let mut stay = hub.subscribe_to(["quiet"], None).unwrap();
        assert!(poll(&mut stay, &woken).is_pending());
        for _ in 0..1_000 {
            let mut passing = hub.subscribe_to(["quiet"], None).unwrap();
            assert!(poll(&mut passing, &woken).is_pending());
        }
        let state = hub.shared.lock();
        let key = TopicKey::UNNAMED.index() + 1;
        let held = state.waiting[key].wakers.len();
        assert!(held <= 2, "{held} places for 1 stream");
    }
}
