//! A hub fed from a shared event log: the seam between the hub's fan-out, which
//! stays in the process, and where the events are kept ([`EventLog`]): a Redis
//! stream (`RedisLog`, feature `redis`) for several nodes, or
//! [`MemoryLog`] in the process.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sse_proto::{Encode, EncodeError, Message, TooManySubscribers};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::{Hub, HubBuilder, SseBody};

/// How long a publish, and a resuming client's wait for the follower, take at
/// most, unless set.
pub const DEFAULT_LOG_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest wait between a follower's attempts while the log is away.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// An ordered log of events that every node of a deployment reads: where a
/// [`LogHub`] keeps its events. Its IDs are the events' IDs, and they order it.
pub trait EventLog: Send + Sync + 'static {
    /// Why an operation on the log failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Appends an event (without an ID of its own); returns the ID the log gave it.
    fn append(
        &self,
        message: Message<&str>,
    ) -> impl Future<Output = Result<String, Self::Error>> + Send;

    /// The newest `count` entries, oldest first, as events with their IDs.
    fn newest(
        &self,
        count: usize,
    ) -> impl Future<Output = Result<Vec<Message<String>>, Self::Error>> + Send;

    /// The entries after `after` up to `upto` (inclusive), oldest first; `None` if
    /// the log no longer holds every entry after `after` (it was trimmed).
    fn range(
        &self,
        after: &str,
        upto: &str,
    ) -> impl Future<Output = Result<Option<Vec<Message<String>>>, Self::Error>> + Send;

    /// The entries after `after` (`None`: from the start), waiting a little (a
    /// second or two) for one if there are none yet: an empty answer is no error.
    fn follow(
        &self,
        after: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Message<String>>, Self::Error>> + Send;

    /// Where `id` stands in the log's order; `None` for an ID it could not have
    /// given.
    fn position(&self, id: &str) -> Option<u128>;
}

impl<L: EventLog> EventLog for Arc<L> {
    type Error = L::Error;

    fn append(
        &self,
        message: Message<&str>,
    ) -> impl Future<Output = Result<String, Self::Error>> + Send {
        L::append(self, message)
    }

    fn newest(
        &self,
        count: usize,
    ) -> impl Future<Output = Result<Vec<Message<String>>, Self::Error>> + Send {
        L::newest(self, count)
    }

    fn range(
        &self,
        after: &str,
        upto: &str,
    ) -> impl Future<Output = Result<Option<Vec<Message<String>>>, Self::Error>> + Send {
        L::range(self, after, upto)
    }

    fn follow(
        &self,
        after: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Message<String>>, Self::Error>> + Send {
        L::follow(self, after)
    }

    fn position(&self, id: &str) -> Option<u128> {
        L::position(self, id)
    }
}

/// Why [`LogHub::publish`] stored nothing.
#[derive(Debug)]
#[non_exhaustive]
pub enum LogPublishError<E> {
    /// The message cannot be encoded (a line break in its type, ...).
    Encode(EncodeError),
    /// The message has an ID of its own: the log assigns IDs.
    OwnId,
    /// The log failed.
    Log(E),
    /// The log did not answer within the timeout.
    Timeout,
}

impl<E: fmt::Display> fmt::Display for LogPublishError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogPublishError::Encode(e) => e.fmt(f),
            LogPublishError::OwnId => {
                f.write_str("a message published to a log takes the log's ID")
            }
            LogPublishError::Log(e) => e.fmt(f),
            LogPublishError::Timeout => f.write_str("the event log did not answer in time"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for LogPublishError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LogPublishError::Encode(e) => Some(e),
            LogPublishError::Log(e) => Some(e),
            _ => None,
        }
    }
}

/// A [`Hub`] fed from an [`EventLog`]: [`publish`](LogHub::publish) appends to
/// the log, whose ID becomes the event's; a follower task reads the log and
/// publishes what it reads into the local hub, which fans it out to this node's
/// subscribers ([`subscribe`](LogHub::subscribe)). Every node on the same log
/// holds the same events with the same IDs in the same order, so a client that
/// reconnects to another node with `Last-Event-ID` is sent exactly what it missed.
///
/// - **Resume from any ID the log still has.** A node loads the log's newest
///   entries into its history when it starts (as many as the history holds), then
///   appends what it follows. A client whose ID is in the node's history is resumed
///   from it; one whose ID is older is sent the log's entries after it, then the
///   node's; one whose ID is ahead of this node's follower (it just came from a
///   node that is further on) waits for the follower, up to the timeout; an ID the
///   log trimmed or never gave gets the hub's unknown-ID policy
///   ([`HubBuilder::unknown_ids`]).
/// - **The log away.** Publishing fails after the timeout instead of waiting;
///   nothing is buffered. The follower retries with backoff (up to 2 s between
///   attempts) and resumes from the last entry it read, so subscribers miss
///   nothing the log stored.
/// - **Events, not messages.** A message with an ID of its own is refused: the log
///   gives IDs.
///
/// `RedisHub` (feature `redis`) is a `LogHub` on a Redis stream.
///
/// ```
/// use std::sync::Arc;
/// use sse_proto::Message;
/// use sse_tokio::{LogHub, MemoryLog};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let log = Arc::new(MemoryLog::new(1000));
/// let one = LogHub::builder(log.clone()).start().await.unwrap();
/// let two = LogHub::builder(log).start().await.unwrap();
/// let id = one.publish(Message::new("hello")).await.unwrap();
/// // The other node serves the same event, with the same ID.
/// let _body = two.subscribe(Some(&id)).await.unwrap();
/// # });
/// ```
pub struct LogHub<L: EventLog> {
    hub: Hub,
    log: Arc<L>,
    /// The last entry the follower has published into `hub`: its place and ID.
    followed: watch::Receiver<Option<(u128, String)>>,
    timeout: Duration,
    follower: JoinHandle<()>,
}

/// Settings for a [`LogHub`], from [`LogHub::builder`].
pub struct LogHubBuilder<L> {
    log: L,
    hub: HubBuilder,
    history_events: usize,
    timeout: Duration,
}

impl<L: EventLog> LogHub<L> {
    /// Settings for a hub on `log`.
    pub fn builder(log: L) -> LogHubBuilder<L> {
        LogHubBuilder {
            log,
            hub: Hub::builder(),
            history_events: sse_proto::DEFAULT_MAX_EVENTS,
            timeout: DEFAULT_LOG_TIMEOUT,
        }
    }

    /// The local hub, for its counts, and for publishing to this node alone.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The log.
    pub fn log(&self) -> &L {
        &self.log
    }

    /// Appends `message` to the log; returns the event's ID. Every node's
    /// subscribers get it once their follower reads it (this node's too).
    pub async fn publish<T: AsRef<str>>(
        &self,
        message: Message<T>,
    ) -> Result<String, LogPublishError<L::Error>> {
        if message.id.is_some() {
            return Err(LogPublishError::OwnId);
        }
        message.validate().map_err(LogPublishError::Encode)?;
        match tokio::time::timeout(self.timeout, self.log.append(message.as_deref())).await {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(e)) => Err(LogPublishError::Log(e)),
            Err(_) => Err(LogPublishError::Timeout),
        }
    }

    /// A stream for a client that connects with `last_event_id`: what it missed,
    /// from this node's history or the log (see [`LogHub`]), then the live events.
    pub async fn subscribe(
        &self,
        last_event_id: Option<&str>,
    ) -> Result<SseBody, TooManySubscribers> {
        let Some((id, wanted)) = last_event_id.and_then(|id| Some((id, self.log.position(id)?)))
        else {
            // No ID, or one the log never gave: the hub's policies.
            return self.hub.subscribe(last_event_id);
        };
        let mut followed = self.followed.clone();
        let caught_up = followed.wait_for(|at| at.as_ref().is_some_and(|(at, _)| *at >= wanted));
        let _ = tokio::time::timeout(self.timeout, caught_up).await;
        if let Some(body) = self.hub.subscribe_continuing(Vec::new(), id)? {
            return Ok(body);
        }
        if let Some((earlier, upto)) = self.read_after(id, wanted).await {
            if let Some(body) = self.hub.subscribe_continuing(earlier, &upto)? {
                return Ok(body);
            }
        }
        self.hub.subscribe(last_event_id)
    }

    /// The log's entries after `after`, encoded, up to the last one this node has
    /// followed (and that one's ID); `None` if the log no longer holds them all, or
    /// does not answer in time.
    async fn read_after(&self, after: &str, position: u128) -> Option<(Vec<bytes::Bytes>, String)> {
        let (upto_position, upto) = self.followed.borrow().clone()?;
        if upto_position <= position {
            return None;
        }
        let range = tokio::time::timeout(self.timeout, self.log.range(after, &upto));
        let entries = range.await.ok()?.ok()??;
        if entries.last()?.id.as_deref() != Some(upto.as_str()) {
            return None;
        }
        let earlier = entries
            .iter()
            .filter_map(|message| message.to_vec().ok())
            .map(bytes::Bytes::from)
            .collect();
        Some((earlier, upto))
    }
}

impl<L: EventLog> Drop for LogHub<L> {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

impl<L: EventLog> fmt::Debug for LogHub<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogHub")
            .field("hub", &self.hub)
            .field(
                "followed",
                &self.followed.borrow().as_ref().map(|(_, id)| id.clone()),
            )
            .finish_non_exhaustive()
    }
}

impl<L> fmt::Debug for LogHubBuilder<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogHubBuilder")
            .field("history_events", &self.history_events)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<L: EventLog> LogHubBuilder<L> {
    /// The local hub's settings (its limits and backfill; its history is set
    /// here): `history_events` is how many events the history holds, which is also
    /// how many entries a node loads from the log when it starts.
    pub fn hub(mut self, hub: HubBuilder, history_events: usize) -> Self {
        self.hub = hub;
        self.history_events = history_events.max(1);
        self
    }

    /// How long a publish, and a resuming client's wait for the follower, take at
    /// most (default [`DEFAULT_LOG_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Loads the log's newest entries into the local history and starts following
    /// the log (on the current tokio runtime).
    pub async fn start(self) -> Result<LogHub<L>, L::Error> {
        let log = Arc::new(self.log);
        let hub = self
            .hub
            .history(sse_proto::History::new().max_events(self.history_events))
            .build();
        let newest = log.newest(self.history_events).await?;
        let mut last = None;
        for message in newest {
            last.clone_from(&message.id);
            let _ = hub.publish(message);
        }
        let at = last
            .as_deref()
            .and_then(|id| Some((log.position(id)?, id.to_string())));
        let (tell, followed) = watch::channel(at);
        let follower = tokio::spawn(follow(Arc::clone(&log), last, hub.clone(), tell));
        Ok(LogHub {
            hub,
            log,
            followed,
            timeout: self.timeout,
            follower,
        })
    }
}

/// Reads the log after `last` for ever, publishing each entry into `hub`; waits
/// with backoff while the log is away.
async fn follow<L: EventLog>(
    log: Arc<L>,
    mut last: Option<String>,
    hub: Hub,
    followed: watch::Sender<Option<(u128, String)>>,
) {
    let mut backoff = Duration::from_millis(50);
    loop {
        match log.follow(last.as_deref()).await {
            Ok(entries) => {
                backoff = Duration::from_millis(50);
                for message in entries {
                    last.clone_from(&message.id);
                    // An entry another writer made unencodable cannot be sent.
                    let _ = hub.publish(message);
                }
                if let Some(id) = &last {
                    if let Some(at) = log.position(id) {
                        followed.send_replace(Some((at, id.clone())));
                    }
                }
            }
            Err(_) => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// An [`EventLog`] in the process: the events in a bounded queue, IDs counting up
/// from 1. For one process, tests, and as the model of what a log does; share it
/// between hubs with an `Arc`.
#[derive(Debug)]
pub struct MemoryLog {
    entries: Mutex<MemoryEntries>,
    appended: Notify,
    max_len: usize,
}

#[derive(Debug, Default)]
struct MemoryEntries {
    queue: VecDeque<(u64, Message<String>)>,
    next: u64,
}

impl MemoryLog {
    /// A log that keeps the newest `max_len` entries (at least 1).
    pub fn new(max_len: usize) -> Self {
        MemoryLog {
            entries: Mutex::new(MemoryEntries {
                queue: VecDeque::new(),
                next: 1,
            }),
            appended: Notify::new(),
            max_len: max_len.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryEntries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn after(&self, after: Option<&str>) -> Vec<Message<String>> {
        let after = after.and_then(|id| id.parse::<u64>().ok()).unwrap_or(0);
        let entries = self.lock();
        let start = entries.queue.partition_point(|(n, _)| *n <= after);
        entries
            .queue
            .range(start..)
            .map(|(_, m)| m.clone())
            .collect()
    }
}

impl EventLog for MemoryLog {
    type Error = Infallible;

    async fn append(&self, message: Message<&str>) -> Result<String, Infallible> {
        let mut entries = self.lock();
        let n = entries.next;
        entries.next += 1;
        let id = n.to_string();
        let mut owned = Message::new(message.data.to_string()).id(id.clone());
        if let Some(event) = message.event {
            owned = owned.event(event.to_string());
        }
        if let Some(retry) = message.retry {
            owned = owned.retry(retry);
        }
        entries.queue.push_back((n, owned));
        while entries.queue.len() > self.max_len {
            entries.queue.pop_front();
        }
        drop(entries);
        self.appended.notify_waiters();
        Ok(id)
    }

    async fn newest(&self, count: usize) -> Result<Vec<Message<String>>, Infallible> {
        let entries = self.lock();
        let skip = entries.queue.len().saturating_sub(count);
        Ok(entries
            .queue
            .iter()
            .skip(skip)
            .map(|(_, m)| m.clone())
            .collect())
    }

    async fn range(
        &self,
        after: &str,
        upto: &str,
    ) -> Result<Option<Vec<Message<String>>>, Infallible> {
        let (Ok(after), Ok(upto)) = (after.parse::<u64>(), upto.parse::<u64>()) else {
            return Ok(None);
        };
        let entries = self.lock();
        // Entries count up by one: a gap after `after` means some were trimmed.
        if entries
            .queue
            .front()
            .is_some_and(|(first, _)| *first > after + 1)
        {
            return Ok(None);
        }
        Ok(Some(
            entries
                .queue
                .iter()
                .filter(|(n, _)| *n > after && *n <= upto)
                .map(|(_, m)| m.clone())
                .collect(),
        ))
    }

    async fn follow(&self, after: Option<&str>) -> Result<Vec<Message<String>>, Infallible> {
        let appended = self.appended.notified();
        let found = self.after(after);
        if !found.is_empty() {
            return Ok(found);
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), appended).await;
        Ok(self.after(after))
    }

    fn position(&self, id: &str) -> Option<u128> {
        id.parse::<u64>().ok().map(u128::from)
    }
}
