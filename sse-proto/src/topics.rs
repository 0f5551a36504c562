//! Topics: one hub, many streams. Each topic is a [`Broadcast`] of its own (its
//! history, its log); one sequence numbers the events of all of them, so that a
//! subscription to several topics is sent their events in the order they were
//! published, and resumes from one `Last-Event-ID` without a gap or a duplicate.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::broadcast::Resume;
use crate::{Broadcast, EncodeError, History, Message, Next, Published, Subscription};
use crate::{Encode, TooManySubscribers};

/// How many named topics a [`Topics`] holds at once, unless set: 1,000.
pub const DEFAULT_MAX_TOPICS: usize = 1_000;

/// How many topics one subscription may follow, unless set: 32.
pub const DEFAULT_TOPICS_PER_SUBSCRIPTION: usize = 32;

/// How many events each named topic's history keeps, unless set: 64.
pub const DEFAULT_TOPIC_EVENTS: usize = 64;

/// How many bytes each named topic's history keeps, unless set: 64 KiB.
pub const DEFAULT_TOPIC_BYTES: usize = 64 << 10;

/// A named topic refused: the hub already holds
/// [`max_topics`](Topics::max_topics), and every one of them has subscribers
/// (a server answers `503` with `Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyTopics {
    /// The limit.
    pub max: usize,
}

impl core::fmt::Display for TooManyTopics {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "too many topics with subscribers (at most {})", self.max)
    }
}

impl core::error::Error for TooManyTopics {}

/// Why [`Topics::publish`] recorded nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublishError {
    /// The message cannot be encoded.
    Encode(EncodeError),
    /// It names a new topic, and there is no room for one.
    TooManyTopics(TooManyTopics),
}

impl core::fmt::Display for PublishError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PublishError::Encode(error) => error.fmt(f),
            PublishError::TooManyTopics(error) => error.fmt(f),
        }
    }
}

impl core::error::Error for PublishError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            PublishError::Encode(error) => Some(error),
            PublishError::TooManyTopics(error) => Some(error),
        }
    }
}

impl From<EncodeError> for PublishError {
    fn from(error: EncodeError) -> Self {
        PublishError::Encode(error)
    }
}

/// Why [`Topics::subscribe`] refused a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The hub holds as many subscriptions as it may (answer `503`).
    TooManySubscribers(TooManySubscribers),
    /// A topic asked for is new, and there is no room for one (answer `503`).
    TooManyTopics(TooManyTopics),
    /// It asks for more topics than one subscription may follow, or for none
    /// (answer `400`).
    TopicCount {
        /// How many one subscription may follow.
        max: usize,
    },
}

impl core::fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SubscribeError::TooManySubscribers(error) => error.fmt(f),
            SubscribeError::TooManyTopics(error) => error.fmt(f),
            SubscribeError::TopicCount { max } => {
                write!(f, "a subscription follows 1 to {max} topics")
            }
        }
    }
}

impl core::error::Error for SubscribeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            SubscribeError::TooManySubscribers(error) => Some(error),
            SubscribeError::TooManyTopics(error) => Some(error),
            SubscribeError::TopicCount { .. } => None,
        }
    }
}

/// Which stream of a [`Topics`] an event is published to or a subscription
/// follows: its place, for a runtime layer that keeps what waits on each topic
/// beside it. A key stays the same topic while the topic has subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicKey(usize);

impl TopicKey {
    /// The stream of events published without a topic.
    pub const UNNAMED: TopicKey = TopicKey(0);

    /// The key as an index, from 0 up to [`Topics::max_topics`]: fit for a `Vec`
    /// beside the topics.
    pub fn index(self) -> usize {
        self.0
    }
}

/// A hub with topics: per-user channels, per-document streams, one stream for
/// everyone, each with its own history, and subscriptions that follow one or
/// several of them.
///
/// Events published without a topic go to the *unnamed* stream, the
/// [`Broadcast`] it is made from (its history, capacity, backfill and subscriber
/// limit are the hub's). A named topic is made when it is first published to or
/// subscribed to: a broadcast with the same rules and a history of its own
/// ([`topic_history`](Topics::topic_history)).
///
/// # Rules
///
/// Those of [`Broadcast`], per topic, and:
///
/// - **One sequence.** Every event, whatever its topic, is numbered from one
///   sequence ([`History::push_numbered`]), and an event published without an ID
///   gets the next number of one count (that of the unnamed stream's history,
///   [`History::next_id`]), so IDs are unique across topics.
/// - **One order per subscription.** A subscription to several topics is sent
///   their events by number: the order they were published in.
/// - **One `Last-Event-ID` for all.** A client that resumes is placed by the
///   number of the event its ID names (in any of its topics). Each topic then
///   replays the events it holds after that number; a topic that evicted one of
///   them replays as for an unknown ID ([`Backfill`](crate::Backfill)), and an ID
///   none of its topics holds is unknown in all of them. Since a subscription is
///   sent events in order, the last one it was sent places it exactly: nothing is
///   sent twice, and nothing held is missed.
/// - **One end.** When a subscription lags in one of its topics (or the hub
///   closes), it ends; its client resumes from its last ID as above.
/// - **Bounded.** At most [`max_topics`](Topics::max_topics) named topics; making
///   one more evicts the one published to or subscribed to longest ago among those
///   without subscriptions, or is refused ([`TooManyTopics`]) when all have
///   subscriptions. A topic without subscriptions holds only its history.
///   Subscriptions are counted across the hub (the unnamed stream's
///   [`max_subscribers`](Broadcast::max_subscribers)), each follows at most
///   [`topics_per_subscription`](Topics::topics_per_subscription).
///
/// ```
/// use sse_proto::{Backfill, Broadcast, History, Message, Next, Topics};
///
/// let unnamed = Broadcast::new(History::<Vec<u8>>::new(), 16, Backfill::Nothing, Backfill::Nothing);
/// let mut hub = Topics::new(unnamed);
/// let mut alice = hub.subscribe([Some("alice")], None).unwrap();
/// let mut both = hub.subscribe([Some("alice"), Some("bob")], None).unwrap();
/// hub.publish(Some("bob"), &Message::new("for bob")).unwrap();
/// hub.publish(Some("alice"), &Message::new("for alice")).unwrap();
///
/// assert_eq!(hub.poll(&mut alice), Next::Send(b"id: 2\ndata: for alice\n\n".to_vec()));
/// assert_eq!(hub.poll(&mut alice), Next::Wait);
/// assert_eq!(hub.poll(&mut both), Next::Send(b"id: 1\ndata: for bob\n\n".to_vec()));
/// assert_eq!(hub.poll(&mut both), Next::Send(b"id: 2\ndata: for alice\n\n".to_vec()));
///
/// // A client of both that got event 1 resumes with event 2.
/// let mut again = hub.subscribe([Some("alice"), Some("bob")], Some("1")).unwrap();
/// assert_eq!(hub.poll(&mut again), Next::Send(b"id: 2\ndata: for alice\n\n".to_vec()));
/// ```
#[derive(Debug)]
pub struct Topics<B> {
    /// Index 0: the unnamed stream, always there; the others, named topics, or
    /// free.
    slots: Vec<Option<Slot<B>>>,
    names: BTreeMap<String, usize>,
    free: Vec<usize>,
    next_sequence: u64,
    /// The ID the next event published without one gets.
    next_id: u64,
    /// Counts operations: when each topic was last used.
    clock: u64,
    topic_events: usize,
    topic_bytes: usize,
    max_topics: usize,
    per_subscription: usize,
    /// Subscriptions not yet unsubscribed.
    open: usize,
    max_subscribers: usize,
}

#[derive(Debug)]
struct Slot<B> {
    /// `None` for the unnamed stream.
    name: Option<String>,
    broadcast: Broadcast<B>,
    used: u64,
}

/// One subscriber's place in a [`Topics`]: a [`Subscription`] in each topic it
/// follows. Hand it to [`Topics::poll`] for what to send, and to
/// [`Topics::unsubscribe`] when the subscriber goes away.
#[derive(Debug)]
pub struct TopicSubscription<B> {
    parts: Vec<Part<B>>,
    /// Once one of its topics ended: the number below which it may still send.
    limit: Option<u64>,
    ended: bool,
}

#[derive(Debug)]
struct Part<B> {
    key: TopicKey,
    subscription: Subscription<B>,
    /// The next event of this topic, taken and not yet sent, by number.
    head: Option<(u64, B)>,
}

impl<B> TopicSubscription<B> {
    /// The topics it follows.
    pub fn topics(&self) -> impl Iterator<Item = TopicKey> + '_ {
        self.parts.iter().map(|part| part.key)
    }
}

impl<B: Clone> Topics<B> {
    /// A hub whose unnamed stream is `unnamed`: its settings are those of every
    /// topic, its subscriber limit the hub's, and the IDs it assigns continue from
    /// its history's [`next_id`](History::next_id).
    pub fn new(unnamed: Broadcast<B>) -> Self {
        let history = unnamed.history();
        let next_sequence = history
            .newest()
            .map_or(0, |entry| entry.sequence().saturating_add(1));
        let next_id = history.next_id();
        let max_subscribers = unnamed.max_subscriber_count();
        let unnamed = unnamed.max_subscribers(usize::MAX);
        Topics {
            slots: alloc::vec![Some(Slot {
                name: None,
                broadcast: unnamed,
                used: 0,
            })],
            names: BTreeMap::new(),
            free: Vec::new(),
            next_sequence,
            next_id,
            clock: 0,
            topic_events: DEFAULT_TOPIC_EVENTS,
            topic_bytes: DEFAULT_TOPIC_BYTES,
            max_topics: DEFAULT_MAX_TOPICS,
            per_subscription: DEFAULT_TOPICS_PER_SUBSCRIPTION,
            open: 0,
            max_subscribers,
        }
    }

    /// How many named topics it holds at once (default [`DEFAULT_MAX_TOPICS`]).
    ///
    /// ```
    /// use sse_proto::{Backfill, Broadcast, History, Message, Topics, TooManyTopics, PublishError};
    ///
    /// let unnamed = Broadcast::new(History::<Vec<u8>>::new(), 8, Backfill::Nothing, Backfill::Nothing);
    /// let mut hub = Topics::new(unnamed).max_topics(1);
    /// let sub = hub.subscribe([Some("a")], None).unwrap();
    /// // "a" has a subscriber: no room for "b".
    /// assert_eq!(
    ///     hub.publish(Some("b"), &Message::new("x")).unwrap_err(),
    ///     PublishError::TooManyTopics(TooManyTopics { max: 1 })
    /// );
    /// hub.unsubscribe(sub);
    /// // Now "a" is evicted to make room.
    /// assert!(hub.publish(Some("b"), &Message::new("x")).is_ok());
    /// assert_eq!(hub.topics(), 1);
    /// ```
    #[must_use]
    pub fn max_topics(mut self, max: usize) -> Self {
        self.max_topics = max;
        self
    }

    /// How many events and bytes each named topic's history keeps (default
    /// [`DEFAULT_TOPIC_EVENTS`], [`DEFAULT_TOPIC_BYTES`]; see
    /// [`History::max_events`] and [`History::max_bytes`]). Applies to topics made
    /// from now on.
    #[must_use]
    pub fn topic_history(mut self, max_events: usize, max_bytes: usize) -> Self {
        self.topic_events = max_events;
        self.topic_bytes = max_bytes;
        self
    }

    /// How many topics one subscription may follow (default
    /// [`DEFAULT_TOPICS_PER_SUBSCRIPTION`]).
    #[must_use]
    pub fn topics_per_subscription(mut self, max: usize) -> Self {
        self.per_subscription = max;
        self
    }

    /// How many subscriptions it holds at once, whatever their topics (the
    /// unnamed stream's [`max_subscribers`](Broadcast::max_subscribers) at first).
    #[must_use]
    pub fn max_subscribers(mut self, max: usize) -> Self {
        self.max_subscribers = max;
        self
    }

    /// How many named topics it holds.
    pub fn topics(&self) -> usize {
        self.names.len()
    }

    /// How many subscribers are live in each topic, summed (a subscription to
    /// several topics counts in each).
    pub fn subscribers(&self) -> usize {
        self.slots
            .iter()
            .flatten()
            .map(|slot| slot.broadcast.subscribers())
            .sum()
    }

    /// How many subscriptions are held (not yet unsubscribed), whatever their state.
    pub fn subscriptions(&self) -> usize {
        self.open
    }

    /// The unnamed stream's broadcast, for its history and settings.
    pub fn unnamed(&self) -> &Broadcast<B> {
        &self.slot(TopicKey::UNNAMED).broadcast
    }

    /// Records `message` in `topic`'s history (`None`: the unnamed stream) and
    /// appends it to that topic's log, as [`Broadcast::publish`] does, under the
    /// next number of the hub's sequence; returns the topic's key, for waking what
    /// waits on it.
    ///
    /// Makes the topic if it is new (see [`max_topics`](Topics::max_topics)). Fails,
    /// recording nothing, if the message cannot be encoded or there is no room for
    /// a new topic.
    pub fn publish<T: AsRef<str>>(
        &mut self,
        topic: Option<&str>,
        message: &Message<T>,
    ) -> Result<(TopicKey, Published), PublishError>
    where
        B: From<Vec<u8>> + AsRef<[u8]>,
    {
        self.clock += 1;
        // Encode first: a message that cannot be encoded makes no topic.
        message.validate()?;
        let key = self.key(topic).map_err(PublishError::TooManyTopics)?;
        let sequence = self.next_sequence;
        let mut message = message.as_deref();
        let assigned = match message.id {
            Some(_) => None,
            None => Some(self.next_id.to_string()),
        };
        if assigned.is_some() {
            message.id = assigned.as_deref();
        }
        let slot = self.slot_mut(key);
        let published = slot.broadcast.publish_numbered(&message, sequence)?;
        self.next_sequence = sequence.wrapping_add(1);
        if assigned.is_some() {
            self.next_id = self.next_id.wrapping_add(1);
        }
        Ok((key, published))
    }

    /// A subscription to `topics` (`None`: the unnamed stream; repeats count
    /// once) for a client that connects with `last_event_id`: what it missed in
    /// each (see [Rules](Topics#rules)), then their live events, in one order.
    pub fn subscribe<'a, I>(
        &mut self,
        topics: I,
        last_event_id: Option<&str>,
    ) -> Result<TopicSubscription<B>, SubscribeError>
    where
        I: IntoIterator<Item = Option<&'a str>>,
    {
        if self.open >= self.max_subscribers {
            return Err(SubscribeError::TooManySubscribers(TooManySubscribers {
                max: self.max_subscribers,
            }));
        }
        self.clock += 1;
        let mut names: Vec<Option<&str>> = Vec::new();
        for topic in topics {
            if !names.contains(&topic) {
                if names.len() == self.per_subscription {
                    return Err(SubscribeError::TopicCount {
                        max: self.per_subscription,
                    });
                }
                names.push(topic);
            }
        }
        if names.is_empty() {
            return Err(SubscribeError::TopicCount {
                max: self.per_subscription,
            });
        }
        let mut keys = Vec::with_capacity(names.len());
        for name in names {
            keys.push(self.key(name).map_err(SubscribeError::TooManyTopics)?);
        }
        // One place for every topic: the number of the event the ID names.
        let id = last_event_id.filter(|id| !id.is_empty());
        let resume = match id {
            Some(id) => keys
                .iter()
                .filter_map(|&key| self.slot(key).broadcast.history().sequence_of(id))
                .max()
                .map_or(Resume::Id(Some(id)), Resume::After),
            None => Resume::Id(None),
        };
        let mut parts = Vec::with_capacity(keys.len());
        for key in keys {
            let subscription = self
                .slot_mut(key)
                .broadcast
                .subscribe_from(resume)
                .map_err(SubscribeError::TooManySubscribers)?;
            parts.push(Part {
                key,
                subscription,
                head: None,
            });
        }
        self.open += 1;
        Ok(TopicSubscription {
            parts,
            limit: None,
            ended: false,
        })
    }

    /// What `subscription` sends next: of the events its topics have for it, the
    /// one published first.
    pub fn poll(&mut self, subscription: &mut TopicSubscription<B>) -> Next<B> {
        if subscription.ended {
            return Next::End;
        }
        if let [part] = &mut subscription.parts[..] {
            let next = self
                .slot_mut(part.key)
                .broadcast
                .poll(&mut part.subscription);
            subscription.ended = matches!(next, Next::End);
            return next;
        }
        // Once a topic has ended, the others may send only what comes before the
        // first event it will not send (a topic that lagged misses events from
        // there; a closed one misses none): the client resumes from the last event
        // it was sent, and must not have passed over one it never got.
        let mut ended: Option<u64> = None;
        let mut first: Option<(usize, u64)> = None;
        for (index, part) in subscription.parts.iter_mut().enumerate() {
            if part.head.is_none() {
                let slot = self.slots[part.key.0].as_mut();
                match slot.map(|slot| slot.broadcast.poll_numbered(&mut part.subscription)) {
                    Some(Next::Send(event)) => part.head = Some(event),
                    Some(Next::Wait) => {}
                    Some(Next::End) | None => {
                        let missed = part.subscription.missed().unwrap_or(u64::MAX);
                        ended = Some(ended.map_or(missed, |limit| limit.min(missed)));
                    }
                }
            }
            // A topic with nothing taken has sent all it has: what it publishes
            // next is numbered after every event taken here.
            if let Some((sequence, _)) = &part.head {
                if first.is_none_or(|(_, lowest)| *sequence < lowest) {
                    first = Some((index, *sequence));
                }
            }
        }
        if let Some(limit) = ended {
            subscription.limit = Some(subscription.limit.map_or(limit, |old| old.min(limit)));
        }
        match first {
            Some((index, sequence)) if subscription.limit.is_none_or(|limit| sequence < limit) => {
                match subscription.parts[index].head.take() {
                    Some((_, bytes)) => Next::Send(bytes),
                    None => Next::Wait,
                }
            }
            _ if subscription.limit.is_some() => {
                subscription.ended = true;
                Next::End
            }
            _ => Next::Wait,
        }
    }

    /// The subscriber went away: it no longer counts anywhere.
    pub fn unsubscribe(&mut self, subscription: TopicSubscription<B>) {
        self.open = self.open.saturating_sub(1);
        for part in subscription.parts {
            if let Some(slot) = self.slots[part.key.0].as_mut() {
                slot.broadcast.unsubscribe(part.subscription);
            }
        }
    }

    /// Ends every subscription after what it has pending, in every topic, and every
    /// later one after its replay; publishing goes on recording history.
    pub fn close(&mut self) {
        for slot in self.slots.iter_mut().flatten() {
            slot.broadcast.close();
        }
    }

    /// Whether [`close`](Topics::close) was called.
    pub fn is_closed(&self) -> bool {
        self.unnamed().is_closed()
    }

    fn slot(&self, key: TopicKey) -> &Slot<B> {
        match &self.slots[key.0] {
            Some(slot) => slot,
            None => unreachable!("a key is handed out only for a held topic"),
        }
    }

    fn slot_mut(&mut self, key: TopicKey) -> &mut Slot<B> {
        match &mut self.slots[key.0] {
            Some(slot) => slot,
            None => unreachable!("a key is handed out only for a held topic"),
        }
    }

    /// The key of `topic`, made if new (evicting an idle topic if need be); marks
    /// it used now.
    fn key(&mut self, topic: Option<&str>) -> Result<TopicKey, TooManyTopics> {
        let clock = self.clock;
        let Some(name) = topic else {
            return Ok(TopicKey::UNNAMED);
        };
        if let Some(&index) = self.names.get(name) {
            self.slot_mut(TopicKey(index)).used = clock;
            return Ok(TopicKey(index));
        }
        if self.names.len() >= self.max_topics {
            self.evict_idle()?;
        }
        let unnamed = self.unnamed();
        let history = History::new()
            .max_events(self.topic_events)
            .max_bytes(self.topic_bytes);
        let mut broadcast = unnamed.like(history).max_subscribers(usize::MAX);
        if unnamed.is_closed() {
            broadcast.close();
        }
        let slot = Slot {
            name: Some(String::from(name)),
            broadcast,
            used: clock,
        };
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index] = Some(slot);
                index
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        };
        self.names.insert(String::from(name), index);
        Ok(TopicKey(index))
    }

    /// Frees the named topic without subscriptions used longest ago (not in this
    /// operation).
    fn evict_idle(&mut self) -> Result<(), TooManyTopics> {
        let clock = self.clock;
        let idle = self
            .slots
            .iter()
            .enumerate()
            .skip(1)
            .filter_map(|(index, slot)| Some((index, slot.as_ref()?)))
            .filter(|(_, slot)| slot.broadcast.open() == 0 && slot.used < clock)
            .min_by_key(|(_, slot)| slot.used)
            .map(|(index, _)| index);
        let Some(index) = idle else {
            return Err(TooManyTopics {
                max: self.max_topics,
            });
        };
        if let Some(Slot {
            name: Some(name), ..
        }) = self.slots[index].take()
        {
            self.names.remove(&name);
        }
        self.free.push(index);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::Backfill;

    type Hub = Topics<Vec<u8>>;

    fn hub(capacity: usize) -> Hub {
        let unnamed = Broadcast::new(
            History::new(),
            capacity,
            Backfill::Nothing,
            Backfill::Nothing,
        );
        Topics::new(unnamed)
    }

    /// The ID and data of an encoded event.
    fn parse(bytes: &[u8]) -> (String, String) {
        let text = core::str::from_utf8(bytes).unwrap();
        let id = text
            .split("id: ")
            .nth(1)
            .unwrap()
            .split('\n')
            .next()
            .unwrap();
        let data = text.rsplit("data: ").next().unwrap().trim_end();
        (id.to_string(), data.to_string())
    }

    /// The data of everything `sub` sends now, and how it stops.
    fn drain(hub: &mut Hub, sub: &mut TopicSubscription<Vec<u8>>) -> (Vec<String>, Next<Vec<u8>>) {
        let mut sent = Vec::new();
        loop {
            match hub.poll(sub) {
                Next::Send(bytes) => sent.push(parse(&bytes).1),
                other => return (sent, other),
            }
        }
    }

    fn publish(hub: &mut Hub, topic: Option<&str>, data: &str) {
        hub.publish(topic, &Message::new(data)).unwrap();
    }

    #[test]
    fn several_topics_are_sent_in_the_order_published() {
        let mut hub = hub(16);
        let mut sub = hub.subscribe([Some("a"), None, Some("b")], None).unwrap();
        let mut only_b = hub.subscribe([Some("b")], None).unwrap();
        for (topic, data) in [
            (Some("a"), "1"),
            (Some("b"), "2"),
            (None, "3"),
            (Some("c"), "4"),
            (Some("a"), "5"),
        ] {
            publish(&mut hub, topic, data);
        }
        assert_eq!(
            drain(&mut hub, &mut sub),
            (
                vec!["1".into(), "2".into(), "3".into(), "5".into()],
                Next::Wait
            )
        );
        assert_eq!(drain(&mut hub, &mut only_b), (vec!["2".into()], Next::Wait));
        publish(&mut hub, Some("b"), "6");
        assert_eq!(drain(&mut hub, &mut sub), (vec!["6".into()], Next::Wait));
    }

    #[test]
    fn ids_are_unique_across_topics_and_resume_places_every_topic() {
        let mut hub = hub(16);
        publish(&mut hub, Some("a"), "a1");
        publish(&mut hub, Some("b"), "b1");
        publish(&mut hub, Some("a"), "a2");
        publish(&mut hub, Some("b"), "b2");
        let ids: Vec<String> = hub
            .slots
            .iter()
            .flatten()
            .flat_map(|slot| {
                slot.broadcast
                    .history()
                    .iter()
                    .map(|entry| entry.id().to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(ids.len(), 4);
        // The client saw "b1" (ID 2): it is sent a2 and b2, in order.
        let mut sub = hub.subscribe([Some("a"), Some("b")], Some("2")).unwrap();
        assert_eq!(drain(&mut hub, &mut sub).0, ["a2", "b2"]);
        // An ID no topic holds is unknown: nothing from the past, by this hub's rule.
        let mut lost = hub.subscribe([Some("a"), Some("b")], Some("zzz")).unwrap();
        assert_eq!(drain(&mut hub, &mut lost).0, Vec::<String>::new());
    }

    #[test]
    fn a_topic_that_evicted_what_a_client_missed_replays_as_for_an_unknown_id() {
        let unnamed = Broadcast::new(History::new(), 16, Backfill::Nothing, Backfill::Everything);
        let mut hub = Topics::new(unnamed).topic_history(2, 1 << 20);
        publish(&mut hub, Some("a"), "a1"); // ID 1
        for n in 0..3 {
            publish(&mut hub, Some("b"), &format!("b{n}"));
        }
        publish(&mut hub, Some("a"), "a2");
        // From 1: "a" holds everything after it; "b" lost b0, so it sends what it holds.
        let mut sub = hub.subscribe([Some("a"), Some("b")], Some("1")).unwrap();
        assert_eq!(drain(&mut hub, &mut sub).0, ["b1", "b2", "a2"]);
    }

    #[test]
    fn lagging_in_one_topic_ends_the_subscription() {
        let mut hub = hub(2);
        let mut sub = hub.subscribe([Some("a"), Some("b")], None).unwrap();
        publish(&mut hub, Some("b"), "b1");
        for n in 0..3 {
            publish(&mut hub, Some("a"), &format!("a{n}"));
        }
        let (sent, end) = drain(&mut hub, &mut sub);
        assert_eq!(end, Next::End);
        assert!(sent.len() <= 3, "{sent:?}");
        assert_eq!(hub.poll(&mut sub), Next::End);
        hub.unsubscribe(sub);
        assert_eq!((hub.subscriptions(), hub.subscribers()), (0, 0));
    }

    #[test]
    fn limits_are_typed_errors() {
        let mut hub = hub(4).max_subscribers(1).topics_per_subscription(2);
        assert_eq!(
            hub.subscribe([Some("a"), Some("b"), Some("c")], None)
                .unwrap_err(),
            SubscribeError::TopicCount { max: 2 }
        );
        assert_eq!(
            hub.subscribe(core::iter::empty(), None).unwrap_err(),
            SubscribeError::TopicCount { max: 2 }
        );
        // Repeats count once.
        let sub = hub.subscribe([Some("a"), Some("a"), None], None).unwrap();
        assert_eq!(sub.topics().count(), 2);
        assert_eq!(
            hub.subscribe([None], None).unwrap_err(),
            SubscribeError::TooManySubscribers(TooManySubscribers { max: 1 })
        );
        assert!(matches!(
            hub.publish(Some("x"), &Message::new("").event("a\nb")),
            Err(PublishError::Encode(_))
        ));
        assert_eq!(
            hub.topics(),
            1,
            "a message that cannot be encoded makes no topic"
        );
    }

    #[test]
    fn idle_topics_are_evicted_oldest_first_and_hold_only_history() {
        let mut hub = hub(8).max_topics(2);
        publish(&mut hub, Some("a"), "x");
        publish(&mut hub, Some("b"), "x");
        publish(&mut hub, Some("a"), "x");
        publish(&mut hub, Some("c"), "x"); // evicts "b", used longest ago
        let names: Vec<&str> = hub.names.keys().map(String::as_str).collect();
        assert_eq!(names, ["a", "c"]);
        // Nobody subscribed: the logs hold nothing.
        assert!(
            hub.slots
                .iter()
                .flatten()
                .all(|slot| slot.broadcast.subscribers() == 0)
        );
        // A subscription in a request does not evict a topic made by the same request.
        let mut hub = self::hub(8).max_topics(1);
        assert_eq!(
            hub.subscribe([Some("p"), Some("q")], None).unwrap_err(),
            SubscribeError::TooManyTopics(TooManyTopics { max: 1 })
        );
        assert_eq!(hub.subscriptions(), 0);
    }

    #[test]
    fn closing_ends_every_topic_and_later_topics() {
        let mut hub = hub(8);
        let mut sub = hub.subscribe([Some("a"), Some("b")], None).unwrap();
        publish(&mut hub, Some("a"), "a1");
        hub.close();
        assert_eq!(drain(&mut hub, &mut sub), (vec!["a1".into()], Next::End));
        publish(&mut hub, Some("new"), "n1");
        let mut late = hub.subscribe([Some("a"), Some("new")], Some("1")).unwrap();
        assert_eq!(drain(&mut hub, &mut late), (vec!["n1".into()], Next::End));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Publish(usize),
        /// Client `.0` polls up to `.1` events.
        Poll(usize, usize),
        /// Client `.0` drops its connection and reconnects with its last ID.
        Reconnect(usize),
    }

    const TOPICS: [Option<&str>; 4] = [None, Some("a"), Some("b"), Some("c")];

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0..TOPICS.len()).prop_map(Op::Publish),
            2 => (0..3usize, 1..6usize).prop_map(|(c, n)| Op::Poll(c, n)),
            1 => (0..3usize).prop_map(Op::Reconnect),
        ]
    }

    struct Client {
        topics: Vec<Option<&'static str>>,
        sub: Option<TopicSubscription<Vec<u8>>>,
        last_id: Option<String>,
        got: Vec<String>,
    }

    impl Client {
        /// Takes what its subscription sends next (dropping it at the end); false
        /// when it is to wait.
        fn step(&mut self, hub: &mut Hub) -> bool {
            let Some(sub) = self.sub.as_mut() else {
                return true;
            };
            match hub.poll(sub) {
                Next::Send(bytes) => {
                    let (id, data) = parse(&bytes);
                    self.last_id = Some(id);
                    self.got.push(data);
                }
                Next::Wait => return false,
                Next::End => {
                    if let Some(sub) = self.sub.take() {
                        hub.unsubscribe(sub);
                    }
                }
            }
            true
        }
    }

    proptest! {
        /// Clients that follow several topics, read at their own pace, lag,
        /// and reconnect with their last ID are sent every event of their topics
        /// published after they first connected, once each, in order.
        #[test]
        fn resuming_clients_miss_nothing_and_see_nothing_twice(
            capacity in 1..5usize,
            ops in proptest::collection::vec(op(), 1..80),
        ) {
            // Histories hold everything, and a client that reconnects before it got
            // an event (without an ID) is sent all of it.
            let unnamed = Broadcast::new(History::new(), capacity, Backfill::Everything, Backfill::Nothing);
            let mut hub = Topics::new(unnamed).topic_history(1000, 1 << 20);
            let mut clients: Vec<Client> = [vec![None, Some("a")], vec![Some("a"), Some("b"), Some("c")], vec![Some("b")]]
                .into_iter()
                .map(|topics| {
                    let sub = hub.subscribe(topics.iter().copied(), None).unwrap();
                    Client { topics, sub: Some(sub), last_id: None, got: Vec::new() }
                })
                .collect();
            let mut published: Vec<(usize, String)> = Vec::new();
            for (n, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Publish(topic) => {
                        let data = format!("e{n}");
                        hub.publish(TOPICS[topic], &Message::new(data.as_str())).unwrap();
                        published.push((topic, data));
                    }
                    Op::Poll(c, count) => {
                        let client = &mut clients[c];
                        for _ in 0..count {
                            if client.sub.is_none() || !client.step(&mut hub) {
                                break;
                            }
                        }
                    }
                    Op::Reconnect(c) => {
                        let client = &mut clients[c];
                        if let Some(sub) = client.sub.take() {
                            hub.unsubscribe(sub);
                        }
                        let sub = hub.subscribe(client.topics.iter().copied(), client.last_id.as_deref()).unwrap();
                        client.sub = Some(sub);
                    }
                }
            }
            for client in &mut clients {
                // Read what is left, reconnecting as often as it takes.
                for _ in 0..100 {
                    if client.sub.is_none() {
                        let sub = hub.subscribe(client.topics.iter().copied(), client.last_id.as_deref());
                        client.sub = Some(sub.unwrap());
                    }
                    if !client.step(&mut hub) {
                        break;
                    }
                }
                let expected: Vec<String> = published
                    .iter()
                    .filter(|(topic, _)| client.topics.contains(&TOPICS[*topic]))
                    .map(|(_, data)| data.clone())
                    .collect();
                prop_assert_eq!(&client.got, &expected);
            }
        }
    }
}
