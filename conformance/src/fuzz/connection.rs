//! The client state machine under an arbitrary network and an arbitrary driver.
//!
//! A [`Case`] is a configuration and a sequence of [`Op`]s: response heads (any
//! status, any headers), body bytes, ends of body, network errors, time passing,
//! timer firings (on time and early), `close()`, and polls. A driver applies them in
//! order, keeping a monotonic clock, drains [`Connection::poll_event`] after every
//! input as the drain order requires, and checks the machine against a small model
//! of the documented behaviour:
//!
//! - `readyState` only moves as the state diagram allows (`OPEN` only from a response
//!   head, nothing out of `CLOSED`), and every change but `close()` comes with the
//!   event that announces it; inputs that no longer apply change nothing;
//! - no request comes out while `OPEN`, after `CLOSED`, or while waiting to
//!   reconnect; one comes out after the constructor, a redirect, and the timer;
//! - `poll_timeout` is the reconnection time while waiting (the `at` of the
//!   `Reconnecting` event, never before the reconnection time) or the idle deadline
//!   (which any body bytes push back), never in the past after `handle_timeout`, and
//!   `None` once `CLOSED`; firing early does nothing;
//! - the last event ID never holds CR, LF or NUL, and every request carries it
//!   exactly; request methods, header names and values are sendable as they are;
//! - events from the body carry the connection's last event ID, and `retry` fields
//!   become the reconnection time.

use std::time::Duration;

use arbitrary::Arbitrary;
use sse_proto::{
    Backoff, Config, Connection, ConnectionConfig, ConnectionError, ConnectionEvent, Item,
    ReadyState, ReconnectPolicy, RetryPolicy, Time,
};

use super::check_arbitrary;
use super::encoder::Text;

/// The URL the connection is created with.
#[derive(Debug, Clone, Arbitrary)]
pub enum Url {
    /// `http://example.com/events`.
    Http,
    /// An `https` URL with a port, a path and a query.
    Https,
    /// A URL with a fragment.
    Fragment,
    /// Anything.
    Raw(String),
}

/// A request header name.
#[derive(Debug, Clone, Arbitrary)]
pub enum RequestHeader {
    /// `Authorization`.
    Authorization,
    /// `Content-Type`.
    ContentType,
    /// `Accept`.
    Accept,
    /// `Last-Event-ID`, which the connection owns.
    LastEventId,
    /// Anything.
    Raw(String),
}

/// The exponential backoff settings.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct BackoffSettings {
    multiplier_percent: u16,
    max_delay_ms: u32,
    jitter_percent: u8,
    seed: u64,
}

/// Which failed responses are retried.
#[derive(Debug, Clone, Arbitrary)]
pub enum Policy {
    /// None (the spec).
    Never,
    /// [`RetryPolicy::transient`].
    Transient,
    /// These statuses.
    Statuses(Vec<u16>),
}

/// The connection's settings; durations in milliseconds unless noted.
#[derive(Debug, Clone, Arbitrary)]
pub struct Settings {
    method: Option<Text>,
    headers: Vec<(RequestHeader, Text)>,
    body: Option<Vec<u8>>,
    last_event_id: Option<Text>,
    /// In microseconds.
    reconnection_time: Option<u32>,
    /// In microseconds.
    min_reconnection_time: Option<u32>,
    max_redirects: Option<u8>,
    backoff: Option<BackoffSettings>,
    reset_after: Option<u16>,
    max_retries: Option<u8>,
    /// `None`: no idle timeout (not the default: the fuzzer's clock moves in
    /// milliseconds, and the default would never be reached).
    idle_timeout: Option<u16>,
    /// `None`: no response timeout.
    response_timeout: Option<u16>,
    retry_policy: Policy,
    honour_retry_after: bool,
    max_retry_after: Option<u32>,
    /// `max_event_size`; 65535 is the default.
    max_event_size: u16,
    comments: bool,
    diagnostics: bool,
    stream_data: bool,
}

impl Settings {
    fn config(&self) -> ConnectionConfig {
        let ms = |ms: u16| Duration::from_millis(u64::from(ms));
        let mut config = ConnectionConfig::new();
        if let Some(method) = &self.method {
            config = config.method(method.0.as_str());
        }
        for (name, value) in &self.headers {
            let name = match name {
                RequestHeader::Authorization => "Authorization",
                RequestHeader::ContentType => "Content-Type",
                RequestHeader::Accept => "Accept",
                RequestHeader::LastEventId => "Last-Event-ID",
                RequestHeader::Raw(name) => name,
            };
            config = config.header(name, value.0.as_str());
        }
        if let Some(body) = &self.body {
            config = config.body(body.clone());
        }
        if let Some(id) = &self.last_event_id {
            config = config.last_event_id(id.0.as_str());
        }
        let us = |us: u32| Duration::from_micros(u64::from(us));
        if let Some(t) = self.reconnection_time {
            config = config.reconnection_time(us(t));
        }
        if let Some(t) = self.min_reconnection_time {
            config = config.min_reconnection_time(us(t));
        }
        if let Some(max) = self.max_redirects {
            config = config.max_redirects(u32::from(max % 8));
        }
        if let Some(b) = self.backoff {
            config = config.backoff(
                Backoff::new()
                    .multiplier_percent(u32::from(b.multiplier_percent))
                    .max_delay(Duration::from_millis(u64::from(b.max_delay_ms)))
                    .jitter_percent(u32::from(b.jitter_percent))
                    .seed(b.seed),
            );
        }
        if let Some(t) = self.reset_after {
            config = config.reset_after(ms(t));
        }
        if let Some(max) = self.max_retries {
            config = config.max_retries(u32::from(max % 8));
        }
        config = config
            .idle_timeout(self.idle_timeout.map(ms))
            .response_timeout(self.response_timeout.map(ms));
        let mut policy = match &self.retry_policy {
            Policy::Never => RetryPolicy::never(),
            Policy::Transient => RetryPolicy::transient(),
            Policy::Statuses(list) => RetryPolicy::statuses(list),
        };
        policy = policy.honour_retry_after(self.honour_retry_after);
        if let Some(max) = self.max_retry_after {
            policy = policy.max_retry_after(Duration::from_millis(u64::from(max)));
        }
        let mut parser = Config::new()
            .comments(self.comments)
            .diagnostics(self.diagnostics)
            .stream_data(self.stream_data);
        if self.max_event_size != u16::MAX {
            parser = parser.max_event_size(usize::from(self.max_event_size));
        }
        config.retry_policy(policy).parser(parser)
    }
}

/// A response status.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Status {
    /// 200.
    Ok,
    /// 204.
    NoContent,
    /// 301, 302, 303, 307 or 308.
    Redirect(u8),
    /// 429, 500, 502, 503 or 504.
    Transient(u8),
    /// Anything.
    Raw(u16),
}

impl Status {
    fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::NoContent => 204,
            Status::Redirect(i) => [301, 302, 303, 307, 308][usize::from(i) % 5],
            Status::Transient(i) => [429, 500, 502, 503, 504][usize::from(i) % 5],
            Status::Raw(code) => code,
        }
    }
}

/// A response header name.
#[derive(Debug, Clone, Arbitrary)]
pub enum ResponseHeader {
    /// `Content-Type`.
    ContentType,
    /// `Location`.
    Location,
    /// `Retry-After`.
    RetryAfter,
    /// `Date`.
    Date,
    /// Anything.
    Raw(Vec<u8>),
}

/// A response header value.
#[derive(Debug, Clone, Arbitrary)]
pub enum Value {
    /// `text/event-stream`.
    EventStream,
    /// `Text/Event-Stream; charset=utf-8`.
    EventStreamWithParameters,
    /// `text/html`.
    Html,
    /// A relative reference.
    Path,
    /// An absolute URL on another origin.
    OtherOrigin,
    /// A URL with a scheme that is not HTTP(S).
    OtherScheme,
    /// Delay-seconds.
    Seconds(u32),
    /// An HTTP-date.
    HttpDate,
    /// Anything.
    Raw(Vec<u8>),
}

impl Value {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Value::EventStream => b"text/event-stream".to_vec(),
            Value::EventStreamWithParameters => b"Text/Event-Stream; charset=utf-8".to_vec(),
            Value::Html => b"text/html".to_vec(),
            Value::Path => b"../other?x=1#top".to_vec(),
            Value::OtherOrigin => b"https://elsewhere.example:8443/stream".to_vec(),
            Value::OtherScheme => b"ftp://example.com/".to_vec(),
            Value::Seconds(s) => s.to_string().into_bytes(),
            Value::HttpDate => b"Sun, 06 Nov 1994 08:49:37 GMT".to_vec(),
            Value::Raw(bytes) => bytes.clone(),
        }
    }
}

/// A piece of a response body.
#[derive(Debug, Clone, Arbitrary)]
pub enum Piece {
    /// `data: x\n`.
    Data,
    /// `id: N\n`.
    Id(u8),
    /// `id: a\0b\n`, which is ignored.
    IdWithNul,
    /// `retry: N\n`.
    Retry(u32),
    /// `event: e\n`.
    Event,
    /// `: comment\n`.
    Comment,
    /// A line end.
    LineEnd,
    /// Anything.
    Raw(Vec<u8>),
}

/// What happens next.
#[derive(Debug, Clone, Arbitrary)]
pub enum Op {
    /// Time passes, in milliseconds.
    Wait(u16),
    /// A response head arrives.
    Response {
        /// The status.
        status: Status,
        /// The headers.
        headers: Vec<(ResponseHeader, Value)>,
    },
    /// Body bytes arrive.
    Body(Vec<Piece>),
    /// The body ends.
    End,
    /// The transfer fails.
    Error,
    /// `handle_timeout` now, whatever `poll_timeout` says.
    Timeout,
    /// The timer fires: time moves to `poll_timeout` (if later), then `handle_timeout`.
    FireTimer,
    /// `close()`.
    Close,
    /// `poll_request()`.
    PollRequest,
}

/// One fuzz input for the connection.
#[derive(Debug, Clone, Arbitrary)]
pub struct Case {
    /// The URL.
    pub url: Url,
    /// The configuration.
    pub settings: Settings,
    /// When the connection is created, in milliseconds.
    pub start: u32,
    /// What happens.
    pub ops: Vec<Op>,
}

/// Where the model says the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    /// A request is ready to be polled.
    Pending,
    /// The request was polled; no response head yet.
    Awaiting,
    /// Reading the body.
    Open,
    /// Waiting to reconnect at this time.
    Waiting(Time),
    /// Closed for good.
    Closed,
}

impl Model {
    fn ready_state(self) -> ReadyState {
        match self {
            Model::Pending | Model::Awaiting | Model::Waiting(_) => ReadyState::Connecting,
            Model::Open => ReadyState::Open,
            Model::Closed => ReadyState::Closed,
        }
    }
}

/// The driver: the connection, the clock, and the model.
struct Driver {
    conn: Connection,
    now: Time,
    model: Model,
    /// When the idle timer last restarted.
    activity: Time,
    idle: Option<Duration>,
    /// The response timeout, from the same restart while a head is awaited.
    response: Option<Duration>,
    min_reconnection: Duration,
    max_retries: Option<u32>,
    /// When the connection reconnects (the config's, or the default for its body).
    policy: ReconnectPolicy,
    /// Events discarded so far: one more after an end means it cut an event short.
    discarded: u64,
    /// The ops so far, for failure messages.
    log: Vec<String>,
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// What HTTP can carry as a field value: no control character but tab.
fn is_field_value(s: &[u8]) -> bool {
    s.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Whether `url` is written as the URL Standard writes an `http(s)` URL: no space,
/// control or non-ASCII byte, and nothing its path and special-query
/// percent-encode sets name (a backslash, a slash in such a URL, included).
fn is_written_out(url: &str) -> bool {
    let (before_query, query) = url.split_once('?').unwrap_or((url, ""));
    url.bytes()
        .all(|b| b > b' ' && b < 0x7f && !b"\"<>".contains(&b))
        && !before_query.bytes().any(|b| b"\\`{}^".contains(&b))
        && !query.contains('\'')
}

fn breaks_a_line(s: &[u8]) -> bool {
    s.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0))
}

impl Driver {
    fn fail(&self, message: &str) -> ! {
        panic!(
            "{message}\n  model: {:?}, now {:?}\n  ops:\n    {}\n  connection: {:?}",
            self.model,
            self.now,
            self.log.join("\n    "),
            self.conn
        );
    }

    fn ensure(&self, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.fail(&message());
        }
    }

    /// Drains the events after an input and moves the model on by them.
    fn drain(&mut self) -> Vec<ConnectionEvent> {
        let mut events = Vec::new();
        while let Some(event) = self.conn.poll_event() {
            self.ensure(events.len() < 4, || "events keep coming".into());
            events.push(event);
        }
        for event in &events {
            match *event {
                ConnectionEvent::Open => self.model = Model::Open,
                ConnectionEvent::Reconnecting { at, .. } => {
                    let floor = self.conn.reconnection_time().max(self.min_reconnection);
                    self.ensure(at >= self.now.saturating_add(floor), || {
                        format!(
                            "reconnecting at {at:?}, before now + the reconnection time {floor:?}"
                        )
                    });
                    let failures = self.conn.failures();
                    self.ensure(self.max_retries.is_none_or(|max| failures <= max), || {
                        format!("reconnecting after {failures} failures")
                    });
                    self.model = Model::Waiting(at);
                }
                ConnectionEvent::Failed {
                    retries_exhausted, ..
                } => {
                    let failures = self.conn.failures();
                    self.ensure(
                        !retries_exhausted || self.max_retries.is_some_and(|max| failures > max),
                        || format!("retries exhausted after {failures} failures"),
                    );
                    self.model = Model::Closed;
                }
                ConnectionEvent::Ended => {
                    self.ensure(self.policy != ReconnectPolicy::Always, || {
                        "a clean end finished a stream that reconnects always".into()
                    });
                    self.model = Model::Closed;
                }
                other => self.fail(&format!("an event this check does not know: {other:?}")),
            }
        }
        events
    }

    /// What `poll_timeout` must say in the model's state.
    fn expected_timeout(&self) -> Option<Time> {
        match self.model {
            Model::Waiting(at) => Some(at),
            Model::Closed => None,
            Model::Open => self.idle.map(|idle| self.activity.saturating_add(idle)),
            Model::Pending | Model::Awaiting => {
                let after = |wait: Duration| self.activity.saturating_add(wait);
                match (self.idle.map(after), self.response.map(after)) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
    }

    /// The invariants that hold between any two operations.
    fn check_state(&mut self) {
        let state = self.conn.ready_state();
        self.ensure(state == self.model.ready_state(), || {
            format!("readyState {state:?}")
        });
        let timeout = self.conn.poll_timeout();
        self.ensure(timeout == self.expected_timeout(), || {
            format!(
                "poll_timeout {timeout:?}, expected {:?}",
                self.expected_timeout()
            )
        });
        let id = self.conn.last_event_id();
        self.ensure(!breaks_a_line(id.as_bytes()), || {
            format!("last event ID {id:?} has CR, LF or NUL")
        });
        if self.model == Model::Closed {
            let request = self.conn.poll_request().is_some();
            self.ensure(!request, || "a request after CLOSED".into());
            let event = self.conn.poll_event();
            self.ensure(event.is_none(), || format!("{event:?} after CLOSED"));
        }
    }

    fn poll_request(&mut self) {
        let id = self.conn.last_event_id().to_string_lossy().into_owned();
        let Some(request) = self.conn.poll_request() else {
            self.ensure(self.model != Model::Pending, || {
                "no request, though one is due".into()
            });
            return;
        };
        let problem = if self.model != Model::Pending {
            Some("a request that is not due".to_string())
        } else if !is_token(request.method()) {
            Some(format!("method {:?} is not a token", request.method()))
        } else if !(request.url().starts_with("http://") || request.url().starts_with("https://"))
            || request.url().contains('#')
        {
            Some(format!("URL {:?}", request.url()))
        } else if !is_written_out(request.url()) {
            Some(format!(
                "URL {:?} holds what a browser's URL parser writes otherwise",
                request.url()
            ))
        } else if let Some((name, value)) = request
            .headers()
            .find(|(name, value)| !is_token(name) || !is_field_value(value.as_bytes()))
        {
            Some(format!("header {name:?}: {value:?} cannot be sent"))
        } else {
            // An ID HTTP cannot carry goes unsent.
            let expected = (!id.is_empty() && is_field_value(id.as_bytes())).then_some(id.as_str());
            let header = request.header("Last-Event-ID");
            let count = request
                .headers()
                .filter(|(n, _)| n.eq_ignore_ascii_case("last-event-id"))
                .count();
            (header != expected || request.last_event_id() != expected || count > 1).then(|| {
                format!(
                    "Last-Event-ID {header:?} ({count} headers), last event ID {:?}",
                    request.last_event_id()
                )
            })
        };
        if let Some(problem) = problem {
            self.fail(&problem);
        }
        let again = self.conn.poll_request().is_some();
        self.ensure(!again, || "the same request handed out twice".into());
        self.model = Model::Awaiting;
    }

    fn body(&mut self, pieces: &[Piece]) {
        let mut bytes = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Data => bytes.extend_from_slice(b"data: x\n"),
                Piece::Id(n) => bytes.extend_from_slice(format!("id: {n}\n").as_bytes()),
                Piece::IdWithNul => bytes.extend_from_slice(b"id: a\0b\n"),
                Piece::Retry(ms) => bytes.extend_from_slice(format!("retry: {ms}\n").as_bytes()),
                Piece::Event => bytes.extend_from_slice(b"event: e\n"),
                Piece::Comment => bytes.extend_from_slice(b": comment\n"),
                Piece::LineEnd => bytes.push(b'\n'),
                Piece::Raw(raw) => bytes.extend_from_slice(raw),
            }
        }
        let open = self.model == Model::Open;
        if open && !bytes.is_empty() {
            self.activity = self.now;
        }
        let mut input: &[u8] = &bytes;
        let mut count = 0;
        loop {
            let now = self.now;
            let item = match self.conn.handle_body(now, &mut input) {
                Ok(None) => break,
                Err(_) => None,
                Ok(Some(Item::Event(e))) => {
                    Some((Some(e.last_event_id().as_bytes().to_vec()), None))
                }
                Ok(Some(Item::EventEnd(e))) => {
                    Some((Some(e.last_event_id().as_bytes().to_vec()), None))
                }
                Ok(Some(Item::Retry(ms))) => Some((None, Some(ms))),
                Ok(Some(_)) => Some((None, None)),
            };
            count += 1;
            self.ensure(open, || "body items while not OPEN".into());
            self.ensure(count <= 2 * bytes.len() + 2, || "handle_body loops".into());
            if let Some((id, retry)) = item {
                if let Some(id) = id {
                    let current = self.conn.last_event_id().as_bytes().to_vec();
                    self.ensure(id == current, || {
                        format!("event ID {id:?}, connection's {current:?}")
                    });
                }
                if let Some(retry) = retry {
                    let time = self.conn.reconnection_time();
                    self.ensure(time == retry, || {
                        format!("retry: {retry:?} gave a reconnection time of {time:?}")
                    });
                }
            }
        }
        self.ensure(input.is_empty(), || "body bytes left over".into());
    }

    fn step(&mut self, op: &Op) {
        self.log.push(format!("{op:?}"));
        let before = self.model;
        let timeout_before = self.conn.poll_timeout();
        // The model's expectation for inputs that no longer apply: nothing happens.
        let ignored;
        match op {
            Op::Wait(ms) => {
                self.now = self
                    .now
                    .saturating_add(Duration::from_millis(u64::from(*ms)));
                self.check_state();
                return;
            }
            Op::PollRequest => {
                self.poll_request();
                self.check_state();
                return;
            }
            Op::Body(pieces) => {
                self.body(pieces);
                let events = self.drain();
                self.ensure(events.is_empty(), || {
                    format!("events from a body: {events:?}")
                });
                self.check_state();
                return;
            }
            Op::Response { status, headers } => {
                let headers: Vec<(Vec<u8>, Vec<u8>)> = headers
                    .iter()
                    .map(|(name, value)| {
                        let name = match name {
                            ResponseHeader::ContentType => b"Content-Type".to_vec(),
                            ResponseHeader::Location => b"location".to_vec(),
                            ResponseHeader::RetryAfter => b"Retry-After".to_vec(),
                            ResponseHeader::Date => b"DATE".to_vec(),
                            ResponseHeader::Raw(raw) => raw.clone(),
                        };
                        (name, value.bytes())
                    })
                    .collect();
                ignored = before != Model::Awaiting;
                if !ignored {
                    self.activity = self.now;
                }
                self.conn.handle_response(self.now, status.code(), headers);
            }
            Op::End | Op::Error => {
                ignored = !matches!(before, Model::Awaiting | Model::Open);
                self.discarded = self.conn.discarded_events();
                if matches!(op, Op::End) {
                    self.conn.handle_end(self.now);
                } else {
                    self.conn.handle_error(self.now);
                }
            }
            Op::Timeout | Op::FireTimer => {
                if let (Op::FireTimer, Some(at)) = (op, timeout_before) {
                    self.now = self.now.max(at);
                }
                let due = timeout_before.is_some_and(|at| self.now >= at);
                ignored = !due;
                self.conn.handle_timeout(self.now);
                let after = self.conn.poll_timeout();
                self.ensure(after.is_none_or(|at| at >= self.now), || {
                    format!("poll_timeout {after:?} in the past after handle_timeout")
                });
            }
            Op::Close => {
                self.conn.close();
                let events = self.drain();
                self.ensure(events.is_empty(), || {
                    format!("events after close: {events:?}")
                });
                self.model = Model::Closed;
                self.check_state();
                return;
            }
        }
        let events = self.drain();
        if ignored {
            self.ensure(events.is_empty() && self.model == before, || {
                format!("an input that no longer applies had an effect: {events:?}")
            });
            self.ensure(self.conn.poll_timeout() == timeout_before, || {
                "an input that no longer applies moved the timer".into()
            });
        } else {
            self.ensure(events.len() <= 1, || format!("several events: {events:?}"));
            match (op, before, events.first()) {
                // A redirect: a new request, no event.
                (Op::Response { .. }, Model::Awaiting, None) => self.model = Model::Pending,
                (Op::Response { .. }, _, Some(_)) => {}
                (Op::End | Op::Error, _, Some(event)) => {
                    let clean_end = before == Model::Open
                        && matches!(op, Op::End)
                        && self.conn.discarded_events() == self.discarded;
                    let expected = match before {
                        Model::Open if matches!(op, Op::End) => ConnectionError::EndOfStream,
                        _ => ConnectionError::Network,
                    };
                    let ok = match *event {
                        ConnectionEvent::Reconnecting { error, .. } => {
                            error == expected
                                && match self.policy {
                                    ReconnectPolicy::Always => true,
                                    ReconnectPolicy::OnError => !clean_end,
                                    _ => false,
                                }
                        }
                        ConnectionEvent::Failed {
                            error,
                            retries_exhausted,
                        } => {
                            error == expected
                                && (retries_exhausted
                                    || (self.policy == ReconnectPolicy::Never && !clean_end))
                        }
                        ConnectionEvent::Ended => {
                            clean_end && self.policy != ReconnectPolicy::Always
                        }
                        _ => false,
                    };
                    self.ensure(ok, || format!("{op:?} gave {event:?}"));
                }
                // The reconnection timer: a new request, no event.
                (Op::Timeout | Op::FireTimer, Model::Waiting(_), None) => {
                    self.model = Model::Pending;
                    self.activity = self.now;
                }
                // The idle timer: the connection is dropped.
                (
                    Op::Timeout | Op::FireTimer,
                    Model::Pending | Model::Awaiting | Model::Open,
                    Some(event),
                ) => {
                    // The response timeout is checked first, so it wins a tie.
                    let expected = if before != Model::Open
                        && self
                            .response
                            .is_some_and(|r| self.idle.is_none_or(|i| r <= i))
                    {
                        ConnectionError::ResponseTimeout
                    } else {
                        ConnectionError::IdleTimeout
                    };
                    let ok = match *event {
                        ConnectionEvent::Reconnecting { error, .. } => error == expected,
                        ConnectionEvent::Failed {
                            error,
                            retries_exhausted,
                        } => {
                            error == expected
                                && (retries_exhausted || self.policy == ReconnectPolicy::Never)
                        }
                        _ => false,
                    };
                    self.ensure(ok, || format!("the idle or response timer gave {event:?}"));
                }
                (_, _, event) => self.fail(&format!("{op:?} in {before:?} gave {event:?}")),
            }
        }
        self.check_state();
    }
}

impl Case {
    /// Runs every check; panics on the first that fails.
    pub fn check(&self) {
        let url = match &self.url {
            Url::Http => "http://example.com/events",
            Url::Https => "https://example.com:8443/a/b?x=1",
            Url::Fragment => "http://example.com/events#here",
            Url::Raw(url) => url,
        };
        let config = self.settings.config();
        let now = Time::from_millis(u64::from(self.start));
        let bad_id = !is_field_value(config.last_event_id.as_bytes());
        let idle = config.idle_timeout;
        let response = config.response_timeout;
        let min_reconnection = config.min_reconnection_time;
        let max_retries = config.max_retries;
        let policy = config.reconnect_policy();
        let conn = match Connection::new(now, url, config) {
            Ok(conn) => conn,
            Err(_) => return,
        };
        assert!(!bad_id, "a last event ID HTTP cannot carry was accepted");
        let mut driver = Driver {
            conn,
            now,
            model: Model::Pending,
            activity: now,
            idle,
            response,
            min_reconnection,
            max_retries,
            policy,
            discarded: 0,
            log: Vec::new(),
        };
        driver.check_state();
        for op in &self.ops {
            driver.step(op);
        }
    }
}

/// Runs the connection check on a fuzz input.
pub fn check(data: &[u8]) {
    check_arbitrary(data, Case::check);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            method: None,
            headers: vec![(RequestHeader::Authorization, Text("Bearer t".into()))],
            body: None,
            last_event_id: Some(Text("5".into())),
            reconnection_time: Some(100_000),
            min_reconnection_time: Some(0),
            max_redirects: Some(2),
            backoff: None,
            reset_after: None,
            max_retries: Some(3),
            idle_timeout: Some(1000),
            response_timeout: Some(500),
            retry_policy: Policy::Transient,
            honour_retry_after: true,
            max_retry_after: None,
            max_event_size: u16::MAX,
            comments: true,
            diagnostics: false,
            stream_data: false,
        }
    }

    #[test]
    fn a_reconnecting_session_passes() {
        let settings = settings();
        let ok = |headers| Op::Response {
            status: Status::Ok,
            headers,
        };
        Case {
            url: Url::Https,
            settings,
            start: 10,
            ops: vec![
                Op::Response {
                    status: Status::Ok,
                    headers: vec![],
                },
                Op::PollRequest,
                Op::Response {
                    status: Status::Redirect(4),
                    headers: vec![(ResponseHeader::Location, Value::Path)],
                },
                Op::PollRequest,
                ok(vec![(ResponseHeader::ContentType, Value::EventStream)]),
                Op::Body(vec![
                    Piece::Id(7),
                    Piece::Retry(50),
                    Piece::Data,
                    Piece::LineEnd,
                ]),
                Op::Wait(500),
                Op::End,
                Op::Timeout,
                Op::FireTimer,
                Op::PollRequest,
                Op::Response {
                    status: Status::Transient(2),
                    headers: vec![(ResponseHeader::RetryAfter, Value::Seconds(2))],
                },
                Op::FireTimer,
                Op::FireTimer,
                Op::FireTimer,
                Op::Close,
                Op::PollRequest,
                Op::FireTimer,
            ],
        }
        .check();
    }

    /// A redirect's request goes out as a browser writes its URL (the check that
    /// found `"`, `{` and a backslash going out as they came).
    #[test]
    fn a_redirect_to_a_url_a_browser_writes_otherwise_passes() {
        let location = b"https://a.example\\@b.example/p\"q{^?r\"'`".to_vec();
        Case {
            url: Url::Https,
            settings: settings(),
            start: 0,
            ops: vec![
                Op::PollRequest,
                Op::Response {
                    status: Status::Redirect(1),
                    headers: vec![(ResponseHeader::Location, Value::Raw(location))],
                },
                Op::PollRequest,
            ],
        }
        .check();
    }
}
