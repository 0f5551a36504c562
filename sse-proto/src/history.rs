//! The server's replay buffer: the last events it sent, so that a client that
//! reconnects gets what it missed.
//!
//! Resuming is how SSE survives dropped connections: the client remembers the last
//! event ID it received and sends it back as `Last-Event-ID` when it reconnects; the
//! server is to send "the events after that one". Every broadcasting server needs the
//! same small structure for that, and the same decisions: how much to keep, how to
//! find an ID, what to say when the ID is not there. They are made once here, with no
//! I/O, no clock and no lock: a runtime adapter wraps a [`History`] in its lock and
//! does the sending ([`Broadcast`](crate::Broadcast) is the hub's rules around it).

use alloc::collections::VecDeque;
use alloc::collections::vec_deque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::iter::FusedIterator;

use crate::{Encode, EncodeError, Message};

/// How many events a [`History`] keeps unless told otherwise.
pub const DEFAULT_MAX_EVENTS: usize = 1024;

/// How many bytes a [`History`] keeps unless told otherwise: 1 MiB.
pub const DEFAULT_MAX_BYTES: usize = 1 << 20;

/// The last events a server sent, encoded, with their IDs: what it replays to a client
/// that reconnects with `Last-Event-ID`.
///
/// `B` is how an encoded event is held: anything made from a `Vec<u8>`. With
/// `Vec<u8>` every replay copies; with `Arc<[u8]>` or `bytes::Bytes` it shares.
///
/// # Decisions
///
/// - **Every event has an ID.** A client resumes from the last ID it saw, so an event
///   without one could never be resumed from: a client that got it would be sent it
///   again. [`History::push`] gives an event the publisher left without an ID the
///   next number of a sequence, in decimal ("1", "2", ...; [`History::first_id`]
///   sets the start). IDs the publisher gives are kept as they are.
/// - **Events are kept encoded.** A replay is bytes to write: each event is encoded
///   once, when it is pushed, and replayed to any number of clients as it is. The
///   byte type `B` is the caller's (`Vec<u8>`, `Arc<[u8]>`, `bytes::Bytes`, ...), so
///   that handing an event out can be as cheap as a reference count.
/// - **Bounded by count and by bytes.** The oldest events go first when either limit
///   is passed ([`DEFAULT_MAX_EVENTS`], [`DEFAULT_MAX_BYTES`]). The newest event is
///   always kept, even alone over the byte limit: a client that received it is up to
///   date, and must be told so rather than be sent everything again.
/// - **A replay has no holes.** The events after an ID are all the events pushed
///   after it, in order, or the answer is [`Replay::Unknown`]: the history never
///   skips an event in the middle, so a client it can place misses nothing.
/// - **An unknown ID is an answer, not an error.** The ID may have been evicted, come
///   from a server that restarted, or never existed; the client may have missed
///   events that are no longer held. Whether to send it everything held or nothing
///   is the server's choice ([`Backfill`]), as is what a client without an ID gets.
///
/// ```
/// use sse_proto::{History, Message, Replay};
///
/// let mut history: History<Vec<u8>> = History::new().max_events(100);
/// history.push(&Message::new("first"))?; // no ID: it gets "1"
/// history.push(&Message::new("second").id("b"))?;
/// history.push(&Message::new("third"))?; // "2"
///
/// // A client that reconnects with `Last-Event-ID: b` gets the third event.
/// let Replay::After(missed) = history.since(Some("b")) else { panic!() };
/// let missed: Vec<&[u8]> = missed.map(|entry| entry.bytes().as_slice()).collect();
/// assert_eq!(missed, [&b"id: 2\ndata: third\n\n"[..]]);
///
/// // One that is up to date gets nothing.
/// assert_eq!(history.since(Some("2")).len(), 0);
/// // An ID the history does not hold is unknown.
/// assert!(matches!(history.since(Some("zzz")), Replay::Unknown(_)));
/// # Ok::<(), sse_proto::EncodeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct History<B> {
    entries: VecDeque<HistoryEntry<B>>,
    /// The sum of the entries' sizes.
    size: usize,
    max_events: usize,
    max_bytes: usize,
    /// The sequence number the next event pushed without an ID gets.
    next_id: u64,
    /// The number the next event pushed is recorded under (see
    /// [`HistoryEntry::sequence`]).
    next_sequence: u64,
    /// The number of the newest event evicted, if any was.
    evicted: Option<u64>,
}

impl<B> Default for History<B> {
    fn default() -> Self {
        History::new()
    }
}

impl<B> History<B> {
    /// An empty history with the default limits ([`DEFAULT_MAX_EVENTS`],
    /// [`DEFAULT_MAX_BYTES`]), whose first assigned ID is "1".
    ///
    /// ```
    /// use sse_proto::History;
    ///
    /// let history: History<Vec<u8>> = History::new();
    /// assert!(history.is_empty());
    /// assert_eq!(history.next_id(), 1);
    /// ```
    pub const fn new() -> Self {
        History {
            entries: VecDeque::new(),
            size: 0,
            max_events: DEFAULT_MAX_EVENTS,
            max_bytes: DEFAULT_MAX_BYTES,
            next_id: 1,
            next_sequence: 0,
            evicted: None,
        }
    }

    /// Keeps at most `max` events (the newest always: 0 acts as 1). Events over the
    /// new limit are evicted at once.
    ///
    /// ```
    /// use sse_proto::{History, Message};
    ///
    /// let mut history: History<Vec<u8>> = History::new().max_events(2);
    /// for n in 0..5 {
    ///     history.push(&Message::new(n.to_string()))?;
    /// }
    /// let ids: Vec<&str> = history.iter().map(|entry| entry.id()).collect();
    /// assert_eq!(ids, ["4", "5"]);
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    #[must_use]
    pub fn max_events(mut self, max: usize) -> Self {
        self.max_events = max;
        self.evict();
        self
    }

    /// Keeps at most `max` bytes: the encoded events, plus their IDs, which are kept
    /// beside them for lookups. The newest event is kept even if it alone is larger.
    /// Events over the new limit are evicted at once.
    ///
    /// ```
    /// use sse_proto::{History, Message};
    ///
    /// // Each of these events takes 17 bytes: "id: 1\ndata: xx\n\n" and "1".
    /// let mut history: History<Vec<u8>> = History::new().max_bytes(40);
    /// for _ in 0..3 {
    ///     history.push(&Message::new("xx"))?;
    /// }
    /// assert_eq!((history.len(), history.size()), (2, 34));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    #[must_use]
    pub fn max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = max;
        self.evict();
        self
    }

    /// The ID the next event pushed without one gets, as a number; the ones after it
    /// count up from there. Default 1.
    ///
    /// A server that restarts with an empty history should not hand out IDs it
    /// handed out before: a client still holding one would be placed at the wrong
    /// event. Starting from, say, the time in microseconds keeps them apart.
    ///
    /// ```
    /// use sse_proto::{History, Message};
    ///
    /// let mut history: History<Vec<u8>> = History::new().first_id(1_000);
    /// assert_eq!(history.push(&Message::new("x"))?.id(), "1000");
    /// assert_eq!(history.push(&Message::new("y"))?.id(), "1001");
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    #[must_use]
    pub fn first_id(mut self, id: u64) -> Self {
        self.next_id = id;
        self
    }

    /// The number the next event pushed without an ID gets.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// The most events kept.
    pub fn event_limit(&self) -> usize {
        self.max_events
    }

    /// The most bytes kept (see [`max_bytes`](History::max_bytes)).
    pub fn byte_limit(&self) -> usize {
        self.max_bytes
    }

    /// How many events are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no event is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The bytes held: the encoded events and their IDs.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Every event held, oldest first.
    pub fn iter(&self) -> Entries<'_, B> {
        Entries(self.entries.range(..))
    }

    /// The newest event, the one an up-to-date client last received.
    ///
    /// ```
    /// use sse_proto::{History, Message};
    ///
    /// let mut history: History<Vec<u8>> = History::new();
    /// assert!(history.newest().is_none());
    /// history.push(&Message::new("x").id("a"))?;
    /// assert_eq!(history.newest().unwrap().id(), "a");
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn newest(&self) -> Option<&HistoryEntry<B>> {
        self.entries.back()
    }

    /// Forgets every event (the next assigned ID stays as it is, so IDs are never
    /// handed out twice).
    pub fn clear(&mut self) {
        if let Some(newest) = self.entries.back() {
            self.evicted = Some(newest.sequence);
        }
        self.entries.clear();
        self.size = 0;
    }

    /// Encodes `message` and records it as the newest event; returns it.
    ///
    /// A message without an [`id`](Message::id) is given the next number of the
    /// sequence ([`next_id`](History::next_id)), and is encoded with it. A message
    /// with an ID keeps it; IDs should be unique (when one repeats, the newest event
    /// with it is the one [`since`](History::since) finds), and not empty (an empty
    /// ID clears the client's last event ID, so a client that got the event
    /// reconnects without one, as a new client).
    ///
    /// Fails, recording nothing and using up no number, if the message cannot be
    /// encoded (a line break in its type or ID, a NUL in its ID: see
    /// [`EncodeError`]).
    ///
    /// ```
    /// use sse_proto::{EncodeError, History, Message};
    ///
    /// let mut history: History<Vec<u8>> = History::new();
    /// let entry = history.push(&Message::new("hello").event("greeting"))?;
    /// assert_eq!(entry.id(), "1");
    /// assert_eq!(entry.bytes(), b"event: greeting\nid: 1\ndata: hello\n\n");
    ///
    /// let forged = Message::new("x").id("2\n\ndata: forged");
    /// assert_eq!(history.push(&forged).unwrap_err(), EncodeError::LineBreakInId { index: 1 });
    /// assert_eq!((history.len(), history.next_id()), (1, 2));
    /// # Ok::<(), EncodeError>(())
    /// ```
    pub fn push<T: AsRef<str>>(
        &mut self,
        message: &Message<T>,
    ) -> Result<&HistoryEntry<B>, EncodeError>
    where
        B: From<Vec<u8>>,
    {
        let assigned = message.id.is_none();
        let id = self.next_id;
        self.record(message, id, self.next_sequence)?;
        if assigned {
            self.next_id = id.wrapping_add(1);
        }
        Ok(self.newest_entry())
    }

    /// Records `message` as the newest event under the number `sequence`: a message
    /// without an ID is given `sequence`, in decimal, as its ID. For histories that
    /// share one sequence (one per topic of a hub, say), so that events of several
    /// can be told apart by ID and put in one order ([`since_sequence`]).
    ///
    /// Numbers are to increase from push to push; one not above the newest event's is
    /// raised to the next. Fails, recording nothing, as [`push`](History::push)
    /// does.
    ///
    /// [`since_sequence`]: History::since_sequence
    ///
    /// ```
    /// use sse_proto::{History, Message};
    ///
    /// let mut history: History<Vec<u8>> = History::new();
    /// let entry = history.push_numbered(&Message::new("x"), 70)?;
    /// assert_eq!((entry.id(), entry.sequence()), ("70", 70));
    /// let entry = history.push_numbered(&Message::new("y").id("mine"), 75)?;
    /// assert_eq!((entry.id(), entry.sequence()), ("mine", 75));
    /// assert_eq!(history.sequence_of("70"), Some(70));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn push_numbered<T: AsRef<str>>(
        &mut self,
        message: &Message<T>,
        sequence: u64,
    ) -> Result<&HistoryEntry<B>, EncodeError>
    where
        B: From<Vec<u8>>,
    {
        let sequence = sequence.max(self.next_sequence);
        self.record(message, sequence, sequence)?;
        Ok(self.newest_entry())
    }

    /// Encodes `message` with its own ID or `assigned_id`, and records it under
    /// `sequence`.
    fn record<T: AsRef<str>>(
        &mut self,
        message: &Message<T>,
        assigned_id: u64,
        sequence: u64,
    ) -> Result<(), EncodeError>
    where
        B: From<Vec<u8>>,
    {
        let mut message = message.as_deref();
        let id = match message.id {
            Some(id) => String::from(id),
            None => assigned_id.to_string(),
        };
        message.id = Some(&id);
        let encoded = message.to_vec()?;
        let size = encoded.len().saturating_add(id.len());
        self.size = self.size.saturating_add(size);
        self.next_sequence = sequence.wrapping_add(1);
        self.entries.push_back(HistoryEntry {
            id,
            bytes: B::from(encoded),
            size,
            sequence,
        });
        self.evict();
        Ok(())
    }

    /// The newest entry, after a push.
    fn newest_entry(&self) -> &HistoryEntry<B> {
        // Never empty after a push: `evict` keeps the newest.
        &self.entries[self.entries.len() - 1]
    }

    /// The number the newest event with this ID was recorded under, if it is held
    /// (see [`HistoryEntry::sequence`]).
    pub fn sequence_of(&self, id: &str) -> Option<u64> {
        self.entries
            .iter()
            .rev()
            .find(|entry| entry.id == id)
            .map(|entry| entry.sequence)
    }

    /// The events recorded under numbers above `sequence`, for a client placed by
    /// an ID of another history that shares this one's sequence:
    /// [`Replay::After`] when every such event is held, and [`Replay::Unknown`] when
    /// one of them was evicted (the client would miss it).
    ///
    /// ```
    /// use sse_proto::{History, Message, Replay};
    ///
    /// let mut history: History<Vec<u8>> = History::new().max_events(2);
    /// for sequence in [10, 20, 30] {
    ///     history.push_numbered(&Message::new("x"), sequence)?;
    /// }
    /// // 10 was evicted: a client placed at 5 would miss it.
    /// assert!(matches!(history.since_sequence(5), Replay::Unknown(_)));
    /// assert!(matches!(history.since_sequence(15), Replay::After(e) if e.len() == 2));
    /// assert!(matches!(history.since_sequence(30), Replay::After(e) if e.len() == 0));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn since_sequence(&self, sequence: u64) -> Replay<'_, B> {
        if self.evicted.is_some_and(|evicted| evicted > sequence) {
            return Replay::Unknown(self.iter());
        }
        let first = self
            .entries
            .partition_point(|entry| entry.sequence <= sequence);
        Replay::After(Entries(self.entries.range(first..)))
    }

    /// What a client that connects with this `Last-Event-ID` must be sent (`None`,
    /// or an empty ID, for a client that sends none):
    ///
    /// - [`Replay::After`]: the ID is held; the events pushed after it, oldest first
    ///   (none, if it is the newest).
    /// - [`Replay::Unknown`]: the ID is not held (evicted, from before a restart, or
    ///   never sent); every event held, for a server that backfills.
    /// - [`Replay::New`]: no ID; every event held, for a server that backfills.
    ///
    /// When an ID repeats, the newest event with it counts. The search runs from the
    /// newest event back, so a client that is nearly up to date is found at once.
    ///
    /// ```
    /// use sse_proto::{History, Message, Replay};
    ///
    /// let mut history: History<Vec<u8>> = History::new().max_events(2);
    /// for data in ["a", "b", "c"] {
    ///     history.push(&Message::new(data))?;
    /// }
    /// // "1" was evicted: the history cannot tell what came after it.
    /// assert!(matches!(history.since(Some("1")), Replay::Unknown(_)));
    /// assert_eq!(history.since(Some("2")).len(), 1);
    /// assert!(matches!(history.since(None), Replay::New(_)));
    /// assert!(matches!(history.since(Some("")), Replay::New(_)));
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn since(&self, last_event_id: Option<&str>) -> Replay<'_, B> {
        let Some(id) = last_event_id.filter(|id| !id.is_empty()) else {
            return Replay::New(self.iter());
        };
        match self.entries.iter().rposition(|entry| entry.id == id) {
            Some(index) => Replay::After(Entries(self.entries.range(index + 1..))),
            None => Replay::Unknown(self.iter()),
        }
    }

    /// Evicts the oldest events until both limits hold, or only the newest is left.
    fn evict(&mut self) {
        while self.entries.len() > 1
            && (self.entries.len() > self.max_events || self.size > self.max_bytes)
        {
            if let Some(entry) = self.entries.pop_front() {
                self.size -= entry.size;
                self.evicted = Some(entry.sequence);
            }
        }
    }
}

/// One event a [`History`] holds: its ID and its encoding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistoryEntry<B> {
    id: String,
    bytes: B,
    /// What it counts for against the byte limit.
    size: usize,
    sequence: u64,
}

impl<B> HistoryEntry<B> {
    /// The event's ID (the one it was sent with, assigned or not).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The encoded event: one whole block, with its `id` field.
    pub fn bytes(&self) -> &B {
        &self.bytes
    }

    /// The number it was recorded under: its place in the order of pushes, counting
    /// up from 0, or the number given to [`History::push_numbered`].
    pub fn sequence(&self) -> u64 {
        self.sequence
    }
}

/// Events of a [`History`], oldest first; from [`History::iter`] and in a [`Replay`].
#[derive(Debug, Clone)]
pub struct Entries<'a, B>(vec_deque::Iter<'a, HistoryEntry<B>>);

impl<'a, B> Iterator for Entries<'a, B> {
    type Item = &'a HistoryEntry<B>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<B> DoubleEndedIterator for Entries<'_, B> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back()
    }
}

impl<B> ExactSizeIterator for Entries<'_, B> {}

impl<B> FusedIterator for Entries<'_, B> {}

/// What a client that (re)connects must be sent, from [`History::since`].
#[derive(Debug, Clone)]
pub enum Replay<'a, B> {
    /// The client sent no `Last-Event-ID`: a first connection (or its last event ID
    /// was cleared). Holds every event held, oldest first, for a server that sends
    /// new clients the recent past.
    New(Entries<'a, B>),
    /// The client's last event ID is held: the events after it, oldest first. Sending
    /// them, then the live stream, leaves no gap.
    After(Entries<'a, B>),
    /// The client's last event ID is not held: evicted, handed out before a restart,
    /// or never sent. It may have missed events no longer held. Holds every event
    /// held, oldest first, for a server that sends what it can.
    Unknown(Entries<'a, B>),
}

impl<'a, B> Replay<'a, B> {
    /// The events to send, for a server that backfills new clients as `new_clients`
    /// says and clients with an unknown ID as `unknown_ids` says. A known ID always
    /// gets the events after it.
    ///
    /// ```
    /// use sse_proto::{Backfill, History, Message};
    ///
    /// let mut history: History<Vec<u8>> = History::new();
    /// history.push(&Message::new("a"))?;
    /// history.push(&Message::new("b"))?;
    /// let send = |id| history.since(id).entries(Backfill::Nothing, Backfill::Everything).len();
    /// assert_eq!(send(None), 0);
    /// assert_eq!(send(Some("1")), 1);
    /// assert_eq!(send(Some("gone")), 2);
    /// # Ok::<(), sse_proto::EncodeError>(())
    /// ```
    pub fn entries(self, new_clients: Backfill, unknown_ids: Backfill) -> Entries<'a, B> {
        let (all, backfill) = match self {
            Replay::After(entries) => return entries,
            Replay::New(all) => (all, new_clients),
            Replay::Unknown(all) => (all, unknown_ids),
        };
        match backfill {
            Backfill::Everything => all,
            Backfill::Nothing => Entries(vec_deque::Iter::default()),
        }
    }

    /// How many events this replay holds.
    pub fn len(&self) -> usize {
        match self {
            Replay::New(entries) | Replay::After(entries) | Replay::Unknown(entries) => {
                entries.len()
            }
        }
    }

    /// Whether this replay holds no events.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What to send a client the history cannot place (see [`Replay::entries`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backfill {
    /// Nothing from the history: the client starts with the live stream.
    Nothing,
    /// Every event the history holds, then the live stream.
    Everything,
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::{Item, Parser};

    type Hist = History<Vec<u8>>;

    fn ids<B>(entries: Entries<'_, B>) -> Vec<&str> {
        entries.map(HistoryEntry::id).collect()
    }

    fn filled(n: usize) -> Hist {
        let mut history = Hist::new();
        for i in 0..n {
            history.push(&Message::new(i.to_string())).unwrap();
        }
        history
    }

    /// The events a client parses out of a replay, as (id, data).
    fn parsed(entries: Entries<'_, Vec<u8>>) -> Vec<(String, String)> {
        let mut parser = Parser::new();
        let mut out = Vec::new();
        for entry in entries {
            let mut input = entry.bytes().as_slice();
            while let Some(item) = parser.parse(&mut input).unwrap() {
                if let Item::Event(event) = item {
                    out.push((event.last_event_id().to_string(), event.data().to_string()));
                }
            }
        }
        out
    }

    #[test]
    fn assigned_ids_count_up_and_given_ids_are_kept() {
        let mut history = Hist::new().first_id(41);
        history.push(&Message::new("a")).unwrap();
        history.push(&Message::new("b").id("custom")).unwrap();
        history.push(&Message::new("c")).unwrap();
        assert_eq!(ids(history.iter()), ["41", "custom", "42"]);
        assert_eq!(history.next_id(), 43);
        assert_eq!(
            parsed(history.iter()),
            [
                ("41".into(), "a".into()),
                ("custom".into(), "b".into()),
                ("42".into(), "c".into())
            ]
        );
    }

    #[test]
    fn a_known_id_gets_exactly_the_events_after_it() {
        let history = filled(10);
        for n in 1..=10 {
            let Replay::After(entries) = history.since(Some(&n.to_string())) else {
                panic!("{n} is held");
            };
            let expected: Vec<String> = (n + 1..=10).map(|i: usize| i.to_string()).collect();
            assert_eq!(ids(entries), expected);
        }
    }

    #[test]
    fn unknown_and_missing_ids_carry_everything_held() {
        let history = filled(3);
        let Replay::Unknown(entries) = history.since(Some("99")) else {
            panic!()
        };
        assert_eq!(ids(entries), ["1", "2", "3"]);
        let Replay::New(entries) = history.since(None) else {
            panic!()
        };
        assert_eq!(entries.len(), 3);
        // An empty history knows no ID at all.
        assert!(matches!(Hist::new().since(Some("1")), Replay::Unknown(e) if e.len() == 0));
    }

    #[test]
    fn the_count_limit_evicts_the_oldest() {
        let mut history = Hist::new().max_events(3);
        for n in 0..10 {
            history.push(&Message::new(n.to_string())).unwrap();
            assert!(history.len() <= 3);
        }
        assert_eq!(ids(history.iter()), ["8", "9", "10"]);
        assert!(matches!(history.since(Some("7")), Replay::Unknown(_)));
        assert_eq!(
            ids(history
                .since(Some("8"))
                .entries(Backfill::Nothing, Backfill::Nothing)),
            ["9", "10"]
        );
    }

    #[test]
    fn the_byte_limit_evicts_the_oldest_and_counts_exactly() {
        // "id: N\ndata: xxxxxxxx\n\n" is 22 bytes, plus the 1-byte ID: 23 each.
        let mut history = Hist::new().max_bytes(70);
        for _ in 0..9 {
            history.push(&Message::new("xxxxxxxx")).unwrap();
            let held: usize = history.iter().map(|e| e.bytes().len() + e.id().len()).sum();
            assert_eq!(history.size(), held);
            assert!(history.size() <= 70);
        }
        assert_eq!(ids(history.iter()), ["7", "8", "9"]);
    }

    #[test]
    fn the_newest_event_is_kept_even_over_the_limits() {
        let mut history = Hist::new().max_bytes(10).max_events(0);
        history.push(&Message::new("small")).unwrap();
        history
            .push(&Message::new("far larger than ten bytes"))
            .unwrap();
        assert_eq!(ids(history.iter()), ["2"]);
        assert!(history.size() > 10);
        // A client that got it is up to date; one that got only "1" is not placed.
        assert!(matches!(history.since(Some("2")), Replay::After(e) if e.len() == 0));
        assert!(matches!(history.since(Some("1")), Replay::Unknown(_)));
        // A small event after it evicts it.
        history.push(&Message::new("x")).unwrap();
        assert_eq!(ids(history.iter()), ["3"]);
        assert_eq!(history.size(), "id: 3\ndata: x\n\n".len() + 1);
    }

    #[test]
    fn lowering_a_limit_evicts_at_once() {
        let history = filled(5).max_events(2);
        assert_eq!(ids(history.iter()), ["4", "5"]);
        let history = filled(5).max_bytes(0);
        assert_eq!(ids(history.iter()), ["5"]);
    }

    #[test]
    fn a_repeated_id_finds_its_newest_event() {
        let mut history = Hist::new();
        for (data, id) in [("a", "x"), ("b", "y"), ("c", "x"), ("d", "z")] {
            history.push(&Message::new(data).id(id)).unwrap();
        }
        assert_eq!(
            parsed(
                history
                    .since(Some("x"))
                    .entries(Backfill::Nothing, Backfill::Nothing)
            ),
            [("z".into(), "d".into())]
        );
    }

    #[test]
    fn an_unencodable_message_records_nothing() {
        let mut history = filled(2);
        for bad in [
            Message::new("x").event("a\nb"),
            Message::new("x").id("a\rb"),
            Message::new("x").id("a\0b"),
        ] {
            assert!(history.push(&bad).is_err());
        }
        assert_eq!(ids(history.iter()), ["1", "2"]);
        assert_eq!(history.next_id(), 3);
        assert_eq!(history.push(&Message::new("ok")).unwrap().id(), "3");
    }

    #[test]
    fn every_field_survives_the_encoding() {
        let mut history = Hist::new();
        let message = Message::new("two\nlines")
            .event("update")
            .retry(core::time::Duration::from_secs(2))
            .comment("note");
        let entry = history.push(&message).unwrap();
        assert_eq!(
            entry.bytes(),
            b": note\nevent: update\nid: 1\nretry: 2000\ndata: two\ndata: lines\n\n"
        );
    }

    #[test]
    fn backfill_applies_to_new_and_unknown_clients_only() {
        let history = filled(4);
        let count = |id, new, unknown| history.since(id).entries(new, unknown).len();
        use Backfill::{Everything as All, Nothing};
        assert_eq!(count(None, Nothing, All), 0);
        assert_eq!(count(None, All, Nothing), 4);
        assert_eq!(count(Some("gone"), All, Nothing), 0);
        assert_eq!(count(Some("gone"), Nothing, All), 4);
        assert_eq!(count(Some("3"), Nothing, Nothing), 1);
        assert_eq!(count(Some("3"), All, All), 1);
    }

    #[test]
    fn clearing_keeps_the_id_sequence() {
        let mut history = filled(3);
        history.clear();
        assert!(history.is_empty());
        assert_eq!(history.size(), 0);
        assert!(matches!(history.since(Some("3")), Replay::Unknown(_)));
        assert_eq!(history.push(&Message::new("x")).unwrap().id(), "4");
    }

    #[test]
    fn entries_iterate_from_both_ends() {
        let history = filled(4);
        let mut entries = history.iter();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries.next_back().unwrap().id(), "4");
        assert_eq!(entries.next().unwrap().id(), "1");
        assert_eq!(ids(entries), ["2", "3"]);
        assert_eq!(vec![history.newest().unwrap().id()], ["4"]);
    }

    #[test]
    fn shared_byte_types_work() {
        let mut history: History<alloc::sync::Arc<[u8]>> = History::new();
        let entry = history.push(&Message::new("x")).unwrap();
        assert_eq!(&entry.bytes()[..], b"id: 1\ndata: x\n\n");
    }
}
