//! A hub whose events live in a Redis stream, so that every node of a deployment
//! serves the same events with the same IDs, and a client resumes on any of them.

use std::fmt;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use ::redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use ::redis::{Client, RedisError, Value};
use sse_proto::{Encode, EncodeError, Message, TooManySubscribers};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Hub, HubBuilder, SseBody};

/// How many entries the Redis stream keeps, unless set (`XADD ... MAXLEN ~`).
pub const DEFAULT_STREAM_LENGTH: usize = 10_000;

/// How long a publish waits for Redis, unless set.
pub const DEFAULT_PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a follower's `XREAD` blocks at most before it asks again.
const BLOCK: Duration = Duration::from_secs(2);

/// How many entries one `XREAD` takes at most.
const BATCH: usize = 512;

/// The longest wait between a follower's attempts while Redis is away.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// A [`Hub`] fed from a Redis stream: [`publish`](RedisHub::publish) appends the
/// event to the stream (`XADD`), whose entry ID becomes the event's ID; each node
/// follows the stream with one blocking reader (`XREAD BLOCK`) and publishes what
/// it reads into its local hub, which fans it out to that node's subscribers
/// ([`subscribe`](RedisHub::subscribe)). Every node thus holds the same
/// events with the same IDs in the same order, and a client that reconnects to
/// another node with `Last-Event-ID` is sent exactly what it missed.
///
/// - **Resume from any ID the stream still has.** A node loads the newest entries
///   of the stream into its history when it starts (as many as the history holds),
///   then appends what it follows. A client whose ID is in the node's history is
///   resumed from it; one whose ID is older is sent the stream's entries after it
///   (`XRANGE`), then the node's; an ID the stream trimmed or never had gets the
///   hub's unknown-ID policy ([`HubBuilder::unknown_ids`]).
/// - **Redis away.** Publishing fails after [`publish_timeout`](RedisHubBuilder::publish_timeout)
///   instead of waiting; nothing is buffered. The follower retries with backoff
///   (up to 2 s between attempts) and resumes from the last entry it read, so
///   subscribers miss nothing that Redis stored. With Redis persistence off, a
///   restarted Redis starts an empty stream: events published before are gone
///   from it, though nodes still hold them in their histories.
/// - **Bounded.** The stream is trimmed to about
///   [`stream_length`](RedisHubBuilder::stream_length) entries at each publish;
///   the local hub has its own limits.
/// - **Events, not messages.** An entry holds the event's data, type and `retry`;
///   IDs are Redis's, so a message with an ID of its own is refused, and comments
///   are not stored.
///
/// Needs the `redis` feature (and Rust 1.88, the `redis` crate's minimum).
pub struct RedisHub {
    hub: Hub,
    /// The ID of the last entry the follower has published into `hub`.
    followed: watch::Receiver<EntryId>,
    key: String,
    publisher: ConnectionManager,
    stream_length: usize,
    publish_timeout: Duration,
    follower: JoinHandle<()>,
}

/// Settings for a [`RedisHub`], from [`RedisHub::builder`].
pub struct RedisHubBuilder {
    url: String,
    key: String,
    hub: HubBuilder,
    stream_length: usize,
    publish_timeout: Duration,
    history_events: usize,
}

/// Why [`RedisHub::publish`] stored nothing.
#[derive(Debug)]
#[non_exhaustive]
pub enum RedisPublishError {
    /// The message cannot be encoded (a line break in its type, ...).
    Encode(EncodeError),
    /// The message has an ID of its own: in a Redis hub the stream assigns IDs.
    OwnId,
    /// Redis answered with an error, or the connection failed.
    Redis(RedisError),
    /// Redis did not answer within the publish timeout.
    Timeout,
}

impl fmt::Display for RedisPublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedisPublishError::Encode(e) => e.fmt(f),
            RedisPublishError::OwnId => {
                f.write_str("a message published through Redis takes the stream's ID")
            }
            RedisPublishError::Redis(e) => write!(f, "redis: {e}"),
            RedisPublishError::Timeout => f.write_str("redis did not answer in time"),
        }
    }
}

impl std::error::Error for RedisPublishError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RedisPublishError::Encode(e) => Some(e),
            RedisPublishError::Redis(e) => Some(e),
            _ => None,
        }
    }
}

impl RedisHub {
    /// Settings for a hub on the stream `key` of the Redis at `url`
    /// (`redis://127.0.0.1:6379/`).
    pub fn builder(url: &str, key: &str) -> RedisHubBuilder {
        RedisHubBuilder {
            url: url.to_string(),
            key: key.to_string(),
            hub: Hub::builder(),
            stream_length: DEFAULT_STREAM_LENGTH,
            publish_timeout: DEFAULT_PUBLISH_TIMEOUT,
            history_events: sse_proto::DEFAULT_MAX_EVENTS,
        }
    }

    /// The local hub, for its counts and for publishing to this node alone.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// A stream for a client that connects with `last_event_id`, as
    /// [`Hub::subscribe`](crate::Hub) gives, once this node has followed the stream
    /// up to that ID: a client that got an event from another node and comes here
    /// at once may be ahead of this node's follower, and is made to wait for it
    /// (at most the publish timeout) rather than be told its ID is unknown.
    ///
    /// A client whose ID is older than this node's history is sent what the stream
    /// holds after it (`XRANGE`), then this node's events, when the stream still
    /// holds everything after that ID; otherwise it gets the hub's unknown-ID
    /// policy.
    pub async fn subscribe(
        &self,
        last_event_id: Option<&str>,
    ) -> Result<SseBody, TooManySubscribers> {
        let Some((id, wanted)) = last_event_id.and_then(|id| Some((id, EntryId::parse(id)?)))
        else {
            // No ID, or one the stream never gave: the hub's policies.
            return self.hub.subscribe(last_event_id);
        };
        let mut followed = self.followed.clone();
        let caught_up = followed.wait_for(|at| *at >= wanted);
        let _ = tokio::time::timeout(self.publish_timeout, caught_up).await;
        if let Some(body) = self.hub.subscribe_continuing(Vec::new(), id)? {
            return Ok(body);
        }
        if let Some((earlier, upto)) = self.read_after(wanted).await {
            if let Some(body) = self.hub.subscribe_continuing(earlier, &upto)? {
                return Ok(body);
            }
        }
        self.hub.subscribe(last_event_id)
    }

    /// The stream's entries after `after`, encoded, up to the last one this node
    /// has followed (and that one's ID); `None` if the stream no longer holds
    /// every entry after `after`, or does not answer in time.
    async fn read_after(&self, after: EntryId) -> Option<(Vec<bytes::Bytes>, String)> {
        let upto = *self.followed.borrow();
        if upto <= after {
            return None;
        }
        let mut connection = self.publisher.clone();
        let read = async {
            // Trimming takes the oldest entries: if the first is at or before
            // `after`, nothing after `after` is gone.
            let first: StreamRangeReply = ::redis::cmd("XRANGE")
                .arg(&self.key)
                .arg("-")
                .arg("+")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut connection)
                .await?;
            let holds_all = first
                .ids
                .first()
                .and_then(|entry| EntryId::parse(&entry.id))
                .is_some_and(|first| first <= after);
            if !holds_all {
                return Ok::<_, RedisError>(None);
            }
            let range: StreamRangeReply = ::redis::cmd("XRANGE")
                .arg(&self.key)
                .arg(format!("({after}"))
                .arg(upto.to_string())
                .arg("COUNT")
                .arg(self.stream_length.saturating_add(1))
                .query_async(&mut connection)
                .await?;
            Ok(Some(range))
        };
        let range = tokio::time::timeout(self.publish_timeout, read)
            .await
            .ok()?
            .ok()??;
        let last = range.ids.last()?;
        if EntryId::parse(&last.id) != Some(upto) {
            return None;
        }
        let earlier = range
            .ids
            .iter()
            .filter_map(|entry| message_of(entry).to_vec().ok())
            .map(bytes::Bytes::from)
            .collect();
        Some((earlier, upto.to_string()))
    }

    /// Appends `message` to the stream; returns the event's ID (the entry's). Every
    /// node's subscribers get it once their follower reads it (this node's too).
    pub async fn publish<T: AsRef<str>>(
        &self,
        message: Message<T>,
    ) -> Result<String, RedisPublishError> {
        if message.id.is_some() {
            return Err(RedisPublishError::OwnId);
        }
        message.validate().map_err(RedisPublishError::Encode)?;
        let mut command = ::redis::cmd("XADD");
        command
            .arg(&self.key)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.stream_length)
            .arg("*")
            .arg("data")
            .arg(message.data.as_ref());
        if let Some(event) = &message.event {
            command.arg("type").arg(event.as_ref());
        }
        if let Some(retry) = message.retry {
            command
                .arg("retry")
                .arg(u64::try_from(retry.as_millis()).unwrap_or(u64::MAX));
        }
        let mut connection = self.publisher.clone();
        let reply = tokio::time::timeout(
            self.publish_timeout,
            command.query_async::<String>(&mut connection),
        )
        .await;
        match reply {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(e)) => Err(RedisPublishError::Redis(e)),
            Err(_) => Err(RedisPublishError::Timeout),
        }
    }
}

impl Drop for RedisHub {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

impl fmt::Debug for RedisHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisHub")
            .field("key", &self.key)
            .field("hub", &self.hub)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for RedisHubBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisHubBuilder")
            .field("key", &self.key)
            .field("stream_length", &self.stream_length)
            .field("publish_timeout", &self.publish_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisHubBuilder {
    /// The local hub's settings (its limits, backfill, keep-alive are yours; its
    /// history should hold as many events as the clients' reconnections need).
    /// The number of events its history holds is also how many entries a node
    /// loads from the stream when it starts: pass it here as `history_events`.
    pub fn hub(mut self, hub: HubBuilder, history_events: usize) -> Self {
        self.hub = hub;
        self.history_events = history_events;
        self
    }

    /// About how many entries the stream keeps (default [`DEFAULT_STREAM_LENGTH`]).
    pub fn stream_length(mut self, entries: usize) -> Self {
        self.stream_length = entries.max(1);
        self
    }

    /// How long [`RedisHub::publish`] waits for Redis (default
    /// [`DEFAULT_PUBLISH_TIMEOUT`]).
    pub fn publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = timeout;
        self
    }

    /// Connects, loads the stream's newest entries into the local history, and
    /// starts following the stream (on the current tokio runtime).
    pub async fn connect(self) -> Result<RedisHub, RedisError> {
        let client = Client::open(self.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.publish_timeout))
            .set_response_timeout(Some(self.publish_timeout));
        let mut publisher = ConnectionManager::new_with_config(client.clone(), config).await?;
        let hub = self
            .hub
            .history(sse_proto::History::new().max_events(self.history_events))
            .build();
        // The newest entries, oldest first, into the history.
        let newest: StreamRangeReply = ::redis::cmd("XREVRANGE")
            .arg(&self.key)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(self.history_events.max(1))
            .query_async(&mut publisher)
            .await?;
        let mut last = String::from("0-0");
        for entry in newest.ids.iter().rev() {
            publish_entry(&hub, entry);
            last.clone_from(&entry.id);
        }
        let (tell, followed) = watch::channel(EntryId::parse(&last).unwrap_or_default());
        let follower = tokio::spawn(follow(client, self.key.clone(), last, hub.clone(), tell));
        Ok(RedisHub {
            hub,
            followed,
            key: self.key,
            publisher,
            stream_length: self.stream_length,
            publish_timeout: self.publish_timeout,
            follower,
        })
    }
}

/// Reads the stream after `last` for ever, publishing each entry into `hub`;
/// reconnects with backoff when Redis is away.
async fn follow(
    client: Client,
    key: String,
    mut last: String,
    hub: Hub,
    followed: watch::Sender<EntryId>,
) {
    let mut backoff = Duration::from_millis(50);
    let mut connection: Option<MultiplexedConnection> = None;
    loop {
        if connection.is_none() {
            match client.get_multiplexed_async_connection().await {
                Ok(fresh) => connection = Some(fresh),
                Err(_) => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
        }
        let Some(open) = connection.as_mut() else {
            continue;
        };
        let mut command = ::redis::cmd("XREAD");
        command
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(u64::try_from(BLOCK.as_millis()).unwrap_or(2_000))
            .arg("STREAMS")
            .arg(&key)
            .arg(&last);
        let read = command.query_async::<Option<StreamReadReply>>(open);
        // A blocked read answers within BLOCK; one that does not is a lost
        // connection.
        match tokio::time::timeout(BLOCK + Duration::from_secs(3), read).await {
            Ok(Ok(reply)) => {
                backoff = Duration::from_millis(50);
                for stream in reply.map(|reply| reply.keys).unwrap_or_default() {
                    for entry in &stream.ids {
                        publish_entry(&hub, entry);
                        last.clone_from(&entry.id);
                    }
                }
                if let Some(at) = EntryId::parse(&last) {
                    followed.send_replace(at);
                }
            }
            Ok(Err(_)) | Err(_) => {
                connection = None;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// A stream entry's ID, `milliseconds-sequence`, in its order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct EntryId(u64, u64);

impl EntryId {
    fn parse(id: &str) -> Option<EntryId> {
        let (ms, seq) = id.split_once('-')?;
        Some(EntryId(ms.parse().ok()?, seq.parse().ok()?))
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

/// Publishes one stream entry into the local hub, with the entry's ID.
fn publish_entry(hub: &Hub, entry: &StreamId) {
    // An entry another writer added with a line break in its type cannot be sent.
    let _ = hub.publish(message_of(entry));
}

/// The event a stream entry holds, with the entry's ID.
fn message_of(entry: &StreamId) -> Message<String> {
    let text = |field: &str| match entry.map.get(field) {
        Some(Value::BulkString(bytes)) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Some(Value::SimpleString(text)) => Some(text.clone()),
        _ => None,
    };
    let data = text("data").unwrap_or_default();
    let mut message = Message::new(data).id(entry.id.clone());
    if let Some(event) = text("type") {
        message = message.event(event);
    }
    if let Some(ms) = text("retry").and_then(|ms| ms.parse().ok()) {
        message = message.retry(Duration::from_millis(ms));
    }
    message
}
