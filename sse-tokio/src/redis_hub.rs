//! The events of a [`LogHub`] in a Redis stream, so that every node of a deployment
//! serves the same events with the same IDs, and a client resumes on any of them.

use std::fmt;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use ::redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use ::redis::{Client, RedisError, Value};
use sse_proto::Message;

use crate::log_hub::{DEFAULT_LOG_TIMEOUT, EventLog, LogHub, LogPublishError};

/// A [`LogHub`] on a Redis stream ([`RedisLog`]).
///
/// ```no_run
/// use sse_proto::Message;
/// use sse_tokio::{LogHub, RedisHub, RedisLog};
///
/// # async fn node() -> Result<(), Box<dyn std::error::Error>> {
/// let log = RedisLog::connect("redis://127.0.0.1:6379/", "app:events").await?;
/// let hub: RedisHub = LogHub::builder(log).start().await?;
/// hub.publish(Message::new("to every node")).await?;
/// // In a handler: `hub.subscribe(last_event_id.as_deref()).await`.
/// # Ok(()) }
/// ```
pub type RedisHub = LogHub<RedisLog>;

/// Why [`RedisHub::publish`](LogHub::publish) stored nothing.
pub type RedisPublishError = LogPublishError<RedisError>;

/// How many entries the Redis stream keeps, unless set (`XADD ... MAXLEN ~`).
pub const DEFAULT_STREAM_LENGTH: usize = 10_000;

/// How long a follower's `XREAD` blocks at most before it asks again.
const BLOCK: Duration = Duration::from_secs(2);

/// How many entries one `XREAD` takes at most.
const BATCH: usize = 512;

/// An [`EventLog`] on a Redis stream: appending is `XADD` (trimmed to about
/// [`stream_length`](RedisLog::stream_length) entries, and by
/// [`max_age`](RedisLog::max_age) if set), the entry ID is the event
/// ID, following is `XREAD BLOCK` on a connection of its own (one per node, never
/// one per client), and reading after an ID is `XRANGE`. An entry holds the
/// event's data, type and `retry` (comments are not stored).
///
/// Needs the `redis` feature (and Rust 1.88, the `redis` crate's minimum), and
/// Redis 6.2 or later.
pub struct RedisLog {
    key: String,
    client: Client,
    /// For appending and reading ranges: reconnects by itself.
    commands: ConnectionManager,
    /// The follower's, for its blocking reads.
    reader: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    stream_length: usize,
    /// Entries older than this are trimmed at each append, if set.
    max_age: Option<Duration>,
}

impl fmt::Debug for RedisLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLog")
            .field("key", &self.key)
            .field("stream_length", &self.stream_length)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl RedisLog {
    /// The stream `key` of the Redis at `url` (`redis://127.0.0.1:6379/`);
    /// connecting and each command wait [`DEFAULT_LOG_TIMEOUT`] at most.
    pub async fn connect(url: &str, key: &str) -> Result<RedisLog, RedisError> {
        let client = Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(DEFAULT_LOG_TIMEOUT))
            .set_response_timeout(Some(DEFAULT_LOG_TIMEOUT));
        let commands = ConnectionManager::new_with_config(client.clone(), config).await?;
        Ok(RedisLog {
            key: key.to_string(),
            client,
            commands,
            reader: tokio::sync::Mutex::new(None),
            stream_length: DEFAULT_STREAM_LENGTH,
            max_age: None,
        })
    }

    /// About how many entries the stream keeps (default [`DEFAULT_STREAM_LENGTH`]).
    pub fn stream_length(mut self, entries: usize) -> Self {
        self.stream_length = entries.max(1);
        self
    }

    /// Trims entries older than `age` too, at each append (`XTRIM ... MINID`, by
    /// the time in the new entry's ID, Redis's clock). Default: by length only.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    async fn range_reply(
        &self,
        start: &str,
        end: &str,
        count: usize,
    ) -> Result<StreamRangeReply, RedisError> {
        ::redis::cmd("XRANGE")
            .arg(&self.key)
            .arg(start)
            .arg(end)
            .arg("COUNT")
            .arg(count)
            .query_async(&mut self.commands.clone())
            .await
    }
}

impl EventLog for RedisLog {
    type Error = RedisError;

    async fn append(&self, message: Message<&str>) -> Result<String, RedisError> {
        let mut command = ::redis::cmd("XADD");
        command
            .arg(&self.key)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.stream_length)
            .arg("*")
            .arg("data")
            .arg(message.data);
        if let Some(event) = message.event {
            command.arg("type").arg(event);
        }
        if let Some(retry) = message.retry {
            command
                .arg("retry")
                .arg(u64::try_from(retry.as_millis()).unwrap_or(u64::MAX));
        }
        let id: String = command.query_async(&mut self.commands.clone()).await?;
        if let (Some(age), Some(EntryId(now, _))) = (self.max_age, EntryId::parse(&id)) {
            let age = u64::try_from(age.as_millis()).unwrap_or(u64::MAX);
            // The event is stored: a trim that fails is tried again at the next.
            let _: Result<u64, RedisError> = ::redis::cmd("XTRIM")
                .arg(&self.key)
                .arg("MINID")
                .arg(format!("{}-0", now.saturating_sub(age)))
                .query_async(&mut self.commands.clone())
                .await;
        }
        Ok(id)
    }

    async fn newest(&self, count: usize) -> Result<Vec<Message<String>>, RedisError> {
        let newest: StreamRangeReply = ::redis::cmd("XREVRANGE")
            .arg(&self.key)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(count.max(1))
            .query_async(&mut self.commands.clone())
            .await?;
        Ok(newest.ids.iter().rev().map(message_of).collect())
    }

    async fn range(
        &self,
        after: &str,
        upto: &str,
    ) -> Result<Option<Vec<Message<String>>>, RedisError> {
        let Some(after_at) = EntryId::parse(after) else {
            return Ok(None);
        };
        // Trimming takes the oldest entries: if the first is at or before `after`,
        // nothing after `after` is gone.
        let first = self.range_reply("-", "+", 1).await?;
        let holds_all = first
            .ids
            .first()
            .and_then(|entry| EntryId::parse(&entry.id))
            .is_some_and(|first| first <= after_at);
        if !holds_all {
            return Ok(None);
        }
        let range = self
            .range_reply(
                &format!("({after}"),
                upto,
                self.stream_length.saturating_add(1),
            )
            .await?;
        Ok(Some(range.ids.iter().map(message_of).collect()))
    }

    async fn follow(&self, after: Option<&str>) -> Result<Vec<Message<String>>, RedisError> {
        let mut reader = self.reader.lock().await;
        if reader.is_none() {
            *reader = Some(self.client.get_multiplexed_async_connection().await?);
        }
        let Some(connection) = reader.as_mut() else {
            return Ok(Vec::new());
        };
        let mut command = ::redis::cmd("XREAD");
        command
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(u64::try_from(BLOCK.as_millis()).unwrap_or(2_000))
            .arg("STREAMS")
            .arg(&self.key)
            .arg(after.unwrap_or("0-0"));
        // A blocked read answers within BLOCK; one that does not is a lost
        // connection.
        let read = command.query_async::<Option<StreamReadReply>>(connection);
        match tokio::time::timeout(BLOCK + Duration::from_secs(3), read).await {
            Ok(Ok(reply)) => Ok(reply
                .map(|reply| reply.keys)
                .unwrap_or_default()
                .iter()
                .flat_map(|stream| stream.ids.iter().map(message_of))
                .collect()),
            Ok(Err(e)) => {
                *reader = None;
                Err(e)
            }
            Err(_) => {
                *reader = None;
                Err(RedisError::from(std::io::Error::from(
                    std::io::ErrorKind::TimedOut,
                )))
            }
        }
    }

    fn position(&self, id: &str) -> Option<u128> {
        EntryId::parse(id).map(|EntryId(ms, seq)| (u128::from(ms) << 64) | u128::from(seq))
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
