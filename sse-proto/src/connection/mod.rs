//! The EventSource processing model as a sans-IO state machine.
//!
//! A reconnecting SSE client is a state machine: request, check the response,
//! announce, read, lose the connection, wait, request again with `Last-Event-ID`. Every
//! client we surveyed welds that machine to one HTTP stack and one runtime, and most
//! get a piece of it wrong (204 loops, `retry: 0` tight loops, `max_retries` that never
//! triggers, an empty `Last-Event-ID`, a parser not seeded with the last ID). Written
//! once here, with no I/O and no clock, it can be tested exhaustively on a fake clock,
//! and every runtime adapter inherits the same behaviour.
//!
//! The shape is quinn-proto's: the driver passes in what happened (`handle_*`, each
//! with the time `now`), and polls out what to do (`poll_*`). See [`Connection`].
//!
//! Spec references are to the WHATWG HTML Standard, §9.2 "Server-sent events": the
//! `EventSource` constructor, "announce the connection", "reestablish the
//! connection" and "fail the connection"; and to the WHATWG Fetch Standard for
//! redirects and MIME types.

mod config;
mod error;
mod http;
mod request;
mod url;

pub use config::{Backoff, ConnectionConfig, ReconnectPolicy, RetryPolicy};
pub use error::{ConnectionError, RequestError};
pub use request::{Headers, Request};

use alloc::collections::VecDeque;
use alloc::string::String;
use core::time::Duration;

use crate::{Error, Item, Parser, Text, Time};

/// The spec's `readyState`.
///
/// ```
/// use sse_proto::{Connection, ConnectionConfig, ReadyState, Time};
///
/// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
/// assert_eq!(conn.ready_state(), ReadyState::Connecting);
/// conn.close();
/// assert_eq!(conn.ready_state(), ReadyState::Closed);
/// assert_eq!(ReadyState::Closed as u16, 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadyState {
    /// `CONNECTING` (0): a request is under way, or a reconnection is scheduled.
    Connecting = 0,
    /// `OPEN` (1): the connection was announced; the body is being read.
    Open = 1,
    /// `CLOSED` (2): failed or closed; no further request will be made.
    Closed = 2,
}

/// A change of state to tell the application about, from
/// [`Connection::poll_event`]. These are the spec's `open` and `error` events, with
/// the reason and what happens next.
///
/// ```
/// use sse_proto::{Connection, ConnectionConfig, ConnectionError, ConnectionEvent, Time};
///
/// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
/// conn.poll_request().unwrap();
/// conn.handle_response(Time::from_millis(5), 204, [("Content-Length", "0")]);
/// assert_eq!(
///     conn.poll_event(),
///     Some(ConnectionEvent::Failed {
///         error: ConnectionError::Status(204),
///         retries_exhausted: false,
///     })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionEvent {
    /// The connection was announced: `readyState` is `OPEN` (the spec's `open`
    /// event). Messages follow from [`Connection::handle_body`].
    Open,
    /// The connection was lost and will be reestablished: `readyState` is
    /// `CONNECTING` (the spec's `error` event). The driver must drop the transfer it
    /// had running, if any; the next request comes out of
    /// [`poll_request`](Connection::poll_request) after
    /// [`handle_timeout`](Connection::handle_timeout) at `at`.
    Reconnecting {
        /// Why.
        error: ConnectionError,
        /// When the connection will send the next request.
        at: Time,
    },
    /// The stream ended cleanly and, as the [`ReconnectPolicy`] says, is not
    /// reestablished: `readyState` is `CLOSED`; there will be no further request.
    /// Not an error: the stream is complete (a POST whose answer was sent in full).
    Ended,
    /// The connection failed: `readyState` is `CLOSED` (the spec's `error` event);
    /// there will be no further request. The driver must drop its transfer.
    Failed {
        /// Why.
        error: ConnectionError,
        /// The error would have been retried, but
        /// [`max_retries`](ConnectionConfig::max_retries) consecutive failures had
        /// been retried already.
        retries_exhausted: bool,
    },
}

/// Where the connection is, finer than [`ReadyState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A request is queued or under way; no response head yet. `CONNECTING`.
    Requesting,
    /// The response was announced; reading its body. `OPEN`.
    Open,
    /// Waiting to reconnect. `CONNECTING`.
    Waiting { until: Time },
    /// `CLOSED`.
    Closed,
}

/// The state of one fetch: the request and the redirects it followed. Each
/// reconnection is a new fetch of the URL the connection was created with.
#[derive(Debug)]
struct Fetch {
    /// The current URL, without fragment.
    url: String,
    /// A redirect switched the method to `GET` and dropped the body.
    get: bool,
    /// A redirect crossed origins: credentials and sensitive headers are no longer
    /// sent.
    cross_origin: bool,
    /// Redirects followed so far.
    redirects: u32,
}

/// A reconnecting Server-Sent Events client, without I/O: the spec's `EventSource`
/// processing model.
///
/// It performs no I/O and reads no clock. A driver (a runtime adapter, or a test)
/// sends the requests it asks for, feeds back what the network did, and keeps time.
/// Every input takes `now`, a [`Time`] on the driver's monotonic clock; calling an
/// input with a time earlier than a previous one is a bug in the driver.
///
/// # Methods
///
/// - Getters: [`ready_state`](Connection::ready_state), [`url`](Connection::url),
///   [`last_event_id`](Connection::last_event_id),
///   [`reconnection_time`](Connection::reconnection_time),
///   [`failures`](Connection::failures), [`config`](Connection::config).
/// - Inputs: [`handle_response`](Connection::handle_response) (a response head),
///   [`handle_body`](Connection::handle_body) (body bytes; returns the parsed items),
///   [`handle_end`](Connection::handle_end) (end of body),
///   [`handle_error`](Connection::handle_error) (network error),
///   [`handle_timeout`](Connection::handle_timeout) (the deadline from
///   `poll_timeout` passed), and [`close`](Connection::close).
/// - Outputs: [`poll_event`](Connection::poll_event) (state changes),
///   [`poll_request`](Connection::poll_request) (a request to send),
///   [`poll_timeout`](Connection::poll_timeout) (when to call `handle_timeout`).
///
/// # Drain order
///
/// After [`new`](Connection::new) and after every input, the driver drains the
/// outputs in this order:
///
/// 1. [`poll_event`](Connection::poll_event) until it returns `None`: deliver `Open`,
///    `Reconnecting` and `Failed` to the application. After `Reconnecting` or
///    `Failed`, drop the current transfer.
/// 2. [`poll_request`](Connection::poll_request): if it returns a request, drop any
///    transfer still running and send this one.
/// 3. [`poll_timeout`](Connection::poll_timeout): (re)arm the one timer; when it
///    fires, call [`handle_timeout`](Connection::handle_timeout).
///
/// Items from the body come straight out of
/// [`handle_body`](Connection::handle_body), which is called in a loop until it
/// returns `Ok(None)`, like [`Parser::parse`]; it can move the idle deadline, so
/// `poll_timeout` is read again afterwards.
///
/// Inputs that no longer apply are ignored, so a driver never has to race the state
/// machine: a response head is only taken while the connection waits for one (and
/// after its request was polled), body bytes only while `OPEN`, and nothing after
/// `CLOSED`. Calling [`handle_timeout`](Connection::handle_timeout) early, or twice,
/// does nothing.
///
/// # States
///
/// ```text
///  new ──▶ CONNECTING ──(200 + text/event-stream: Open)──▶ OPEN
///           │  ▲   │                                          │
///           │  │   └─(redirect: new request)                  │ end of body, network
///           │  │                                              │ error, idle timeout
///           │  └──(timer: new request)── waiting ◀─(Reconnecting)─┘
///           │                               ▲
///           │  network error, idle or       │
///           ├─ response timeout, retried status ──(Reconnecting)
///           │
///           └─(other status, 204, wrong type, too many redirects, an unsafe
///              redirect, max_retries exceeded: Failed)──▶ CLOSED ◀── close(), from anywhere
/// ```
///
/// # Example
///
/// A driver's whole job, with the network scripted and the clock a variable:
///
/// ```
/// use core::time::Duration;
/// use sse_proto::{
///     Connection, ConnectionConfig, ConnectionError, ConnectionEvent, Item, ReadyState, Time,
/// };
///
/// let mut now = Time::ZERO;
/// let mut conn = Connection::new(now, "https://example.com/events", ConnectionConfig::new())?;
/// let request = conn.poll_request().expect("the constructor fetches");
/// assert_eq!(request.url(), "https://example.com/events");
///
/// // The response head arrives.
/// now += Duration::from_millis(40);
/// conn.handle_response(now, 200, [("Content-Type", "text/event-stream")]);
/// assert_eq!(conn.poll_event(), Some(ConnectionEvent::Open));
/// assert_eq!(conn.ready_state(), ReadyState::Open);
///
/// // Body bytes: events come straight out, borrowed from the chunk.
/// let mut chunk: &[u8] = b"id: 1\ndata: hello\n\n";
/// while let Some(item) = conn.handle_body(now, &mut chunk)? {
///     if let Item::Event(event) = item {
///         assert_eq!(event.data(), "hello");
///     }
/// }
///
/// // The body ends: reconnect after the reconnection time, sending Last-Event-ID.
/// conn.handle_end(now);
/// let at = now + Duration::from_secs(3);
/// assert_eq!(
///     conn.poll_event(),
///     Some(ConnectionEvent::Reconnecting { error: ConnectionError::EndOfStream, at })
/// );
/// assert_eq!(conn.poll_request(), None);
/// assert_eq!(conn.poll_timeout(), Some(at));
/// conn.handle_timeout(at);
/// assert_eq!(conn.poll_request().unwrap().header("Last-Event-ID"), Some("1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Connection {
    config: ConnectionConfig,
    /// The URL given to the constructor (the spec's `url` attribute).
    url: String,
    /// The method, normalised.
    method: String,
    parser: Parser,
    phase: Phase,
    fetch: Fetch,
    /// A request is ready for `poll_request`.
    request_pending: bool,
    /// The `Last-Event-ID` value of the last polled request.
    last_event_id_header: String,
    /// When bytes last arrived (or the request was made): the idle timer's origin.
    last_activity: Time,
    /// When the current connection was announced.
    opened_at: Option<Time>,
    /// Consecutive failures.
    failures: u32,
    /// Pending events discarded because a response ended before their blank line.
    discarded: u64,
    /// SplitMix64 state for the backoff jitter.
    rng: u64,
    events: VecDeque<ConnectionEvent>,
}

impl Connection {
    /// Starts a connection to `url` at time `now`, as the `EventSource` constructor
    /// does: `readyState` is `CONNECTING` and the first request is ready for
    /// [`poll_request`](Connection::poll_request).
    ///
    /// Fails if `url` is not an absolute `http`/`https` URL (the constructor's
    /// `SyntaxError`), or if the configured method, headers or last event ID could
    /// not be sent as they are. The URL is read as a browser's URL parser reads an
    /// `http(s)` URL where that decides where a request goes (a backslash before the
    /// query is a slash, any run of slashes may stand before the host), and kept in
    /// that form, which is what each [`Request`]'s URL carries.
    ///
    /// ```
    /// use sse_proto::{RequestError, Connection, ConnectionConfig, ReadyState, Time};
    ///
    /// let conn = Connection::new(Time::ZERO, "https://example.com/events", ConnectionConfig::new())?;
    /// assert_eq!(conn.ready_state(), ReadyState::Connecting);
    ///
    /// let bad = ConnectionConfig::new().header("X-Evil", "a\r\nInjected: yes");
    /// assert_eq!(
    ///     Connection::new(Time::ZERO, "https://example.com/", bad).unwrap_err(),
    ///     RequestError::InvalidHeader
    /// );
    /// # Ok::<(), RequestError>(())
    /// ```
    pub fn new(now: Time, url: &str, config: ConnectionConfig) -> Result<Self, RequestError> {
        // Constructor steps 3-5: parse the URL, throw a SyntaxError on failure.
        let url = url::absolute_http(url).map_err(|problem| match problem {
            url::UrlProblem::Invalid => RequestError::InvalidUrl,
            url::UrlProblem::Scheme => RequestError::UnsupportedScheme,
        })?;
        if !url::is_token(&config.method) {
            return Err(RequestError::InvalidMethod);
        }
        // Fetch normalises these method names to upper case.
        let method = match config.method.to_ascii_uppercase().as_str() {
            m @ ("DELETE" | "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT") => String::from(m),
            _ => config.method.clone(),
        };
        if config
            .headers
            .iter()
            .any(|(name, value)| !url::is_token(name) || !url::is_field_value(value))
        {
            return Err(RequestError::InvalidHeader);
        }
        if !url::is_field_value(&config.last_event_id) {
            return Err(RequestError::InvalidLastEventId);
        }
        let mut parser = Parser::with_config(config.parser);
        parser
            .set_last_event_id(config.last_event_id.as_bytes())
            .map_err(|_| RequestError::InvalidLastEventId)?;
        let rng = config.backoff.and_then(|b| b.seed).unwrap_or(0);
        let mut conn = Connection {
            fetch: Fetch {
                url: String::new(),
                get: false,
                cross_origin: false,
                redirects: 0,
            },
            url,
            method,
            parser,
            phase: Phase::Closed,
            request_pending: false,
            last_event_id_header: String::new(),
            last_activity: now,
            opened_at: None,
            failures: 0,
            discarded: 0,
            rng,
            events: VecDeque::new(),
            config,
        };
        // Constructor step 15: fetch the request.
        conn.start_fetch(now);
        Ok(conn)
    }

    // ----- Getters -----

    /// The spec's `readyState`.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, ReadyState, Time};
    ///
    /// let conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// assert_eq!(conn.ready_state(), ReadyState::Connecting);
    /// ```
    pub fn ready_state(&self) -> ReadyState {
        match self.phase {
            Phase::Requesting | Phase::Waiting { .. } => ReadyState::Connecting,
            Phase::Open => ReadyState::Open,
            Phase::Closed => ReadyState::Closed,
        }
    }

    /// The URL the connection was created with (the spec's `url` attribute), with its
    /// scheme in lower case. Redirects do not change it.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let conn = Connection::new(Time::ZERO, "HTTP://example.com/x", ConnectionConfig::new()).unwrap();
    /// assert_eq!(conn.url(), "http://example.com/x");
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The event source's last event ID string: what the next request sends as
    /// `Last-Event-ID` (if it is not empty). It survives reconnections: the parser
    /// of each new response starts from it.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let config = ConnectionConfig::new().last_event_id("5");
    /// let conn = Connection::new(Time::ZERO, "http://example.com/", config).unwrap();
    /// assert_eq!(conn.last_event_id(), "5");
    /// ```
    pub fn last_event_id(&self) -> Text<'_> {
        self.parser.last_event_id()
    }

    /// The event source's reconnection time: the last valid `retry` field of the
    /// stream, else the configured
    /// [`reconnection_time`](ConnectionConfig::reconnection_time). The actual wait
    /// can be longer (floor, backoff, `Retry-After`).
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// conn.poll_request();
    /// conn.handle_response(Time::ZERO, 200, [("content-type", "text/event-stream")]);
    /// let mut chunk: &[u8] = b"retry: 500\n";
    /// while conn.handle_body(Time::ZERO, &mut chunk).unwrap().is_some() {}
    /// assert_eq!(conn.reconnection_time(), Duration::from_millis(500));
    /// ```
    pub fn reconnection_time(&self) -> Duration {
        self.parser.retry().unwrap_or(self.config.reconnection_time)
    }

    /// The reconnection time the stream itself set with its last valid `retry`
    /// field; `None` until it sends one (then
    /// [`reconnection_time`](Connection::reconnection_time) is the configured
    /// default). This is what `sse decode` reports as `retry`.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// assert_eq!(conn.retry(), None);
    /// conn.poll_request();
    /// conn.handle_response(Time::ZERO, 200, [("content-type", "text/event-stream")]);
    /// let mut chunk: &[u8] = b"retry: 1500\n";
    /// while conn.handle_body(Time::ZERO, &mut chunk).unwrap().is_some() {}
    /// assert_eq!(conn.retry(), Some(core::time::Duration::from_millis(1500)));
    /// ```
    pub fn retry(&self) -> Option<Duration> {
        self.parser.retry()
    }

    /// How many consecutive failures there have been (see
    /// [`reset_after`](ConnectionConfig::reset_after)).
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// conn.poll_request();
    /// conn.handle_error(Time::ZERO);
    /// assert_eq!(conn.failures(), 1);
    /// ```
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// How many events were discarded because a response body ended (or failed, or
    /// was abandoned) between an event's fields and the blank line that would have
    /// dispatched it: the spec's "pending event is discarded" at the end of a stream.
    /// Not an error, but a sign of a server that cuts events short.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// conn.poll_request();
    /// conn.handle_response(Time::ZERO, 200, [("content-type", "text/event-stream")]);
    /// let mut body: &[u8] = b"data: whole\n\ndata: cut sh";
    /// while conn.handle_body(Time::ZERO, &mut body).unwrap().is_some() {}
    /// conn.handle_end(Time::ZERO);
    /// assert_eq!(conn.discarded_events(), 1);
    /// ```
    pub fn discarded_events(&self) -> u64 {
        self.discarded
    }

    /// The configuration.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// assert_eq!(conn.config().max_redirects, 20);
    /// ```
    pub fn config(&self) -> &ConnectionConfig {
        &self.config
    }

    // ----- Inputs -----

    /// The head of the response to the last polled request arrived: its status and
    /// headers (names compared case-insensitively; an `http::HeaderMap` can be passed
    /// as it is, since `&HeaderName` and `&HeaderValue` are `AsRef<[u8]>`).
    ///
    /// - 301, 302, 303, 307 or 308 with one usable `Location`: the redirect is
    ///   followed as Fetch does (a new request to the URL it resolves to, read as
    ///   the constructor reads its URL; 303, and 301/302
    ///   after `POST`, switch to `GET` without body), up to
    ///   [`max_redirects`](ConnectionConfig::max_redirects).
    /// - 200 with a `text/event-stream` MIME type (any case, parameters allowed):
    ///   the connection is announced ([`ConnectionEvent::Open`]).
    /// - Anything else, 204 included: the connection fails, unless the
    ///   [`retry_policy`](ConnectionConfig::retry_policy) retries the status.
    ///
    /// Ignored unless the connection is waiting for a response head.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "https://example.com/a/b", ConnectionConfig::new()).unwrap();
    /// conn.poll_request();
    /// conn.handle_response(Time::ZERO, 307, [("Location", "../c?x=1")]);
    /// assert_eq!(conn.poll_event(), None);
    /// assert_eq!(conn.poll_request().unwrap().url(), "https://example.com/c?x=1");
    /// ```
    pub fn handle_response<I, N, V>(&mut self, now: Time, status: u16, headers: I)
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        if self.phase != Phase::Requesting || self.request_pending {
            return;
        }
        self.last_activity = now;
        let head = http::Head::read(headers);
        if matches!(status, 301 | 302 | 303 | 307 | 308) {
            if let Some(location) = &head.location {
                if self.redirect(now, status, location) {
                    return;
                }
            }
        }
        // Constructor step 15, processResponse: "if res's status is not 200, or if
        // res's `Content-Type` is not `text/event-stream`, then fail the connection.
        // Otherwise, announce the connection and interpret res's body line by line."
        if status == 200 && head.event_stream {
            self.announce(now);
        } else if status == 200 {
            self.fail(ConnectionError::ContentType, false);
        } else if self.config.retry_policy.retries(status) {
            let retry_after = if self.config.retry_policy.honours_retry_after() {
                head.retry_after_delay()
                    .map(|d| d.min(self.config.retry_policy.max_retry_after_delay()))
            } else {
                None
            };
            self.reestablish(now, ConnectionError::Status(status), retry_after);
        } else {
            self.fail(ConnectionError::Status(status), false);
        }
    }

    /// Body bytes of the announced response arrived: parses from the front of
    /// `input`, advancing it, until an item is ready or `input` is used up, exactly
    /// like [`Parser::parse`] (call it in a loop until `Ok(None)`). Items borrow from
    /// the connection and the chunk. A `retry` field changes the
    /// [`reconnection_time`](Connection::reconnection_time); any bytes, comments
    /// included, restart the idle timer.
    ///
    /// Unless the connection is `OPEN`, the bytes are stale (from a transfer the
    /// connection has given up on): `input` is emptied and nothing comes out.
    ///
    /// An [`Error`] is a parser limit that was hit; the parser has recovered, so carry
    /// on calling with the same `input`.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Item, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// conn.poll_request();
    /// conn.handle_response(Time::ZERO, 200, [("content-type", "text/event-stream")]);
    /// let mut data = Vec::new();
    /// for chunk in [&b"data: a"[..], b"b\n\ndata: c\n\n"] {
    ///     let mut chunk = chunk;
    ///     while let Some(item) = conn.handle_body(Time::ZERO, &mut chunk).unwrap() {
    ///         if let Item::Event(event) = item {
    ///             data.push(event.data().to_string());
    ///         }
    ///     }
    /// }
    /// assert_eq!(data, ["ab", "c"]);
    /// ```
    pub fn handle_body<'a, 'c: 'a>(
        &'a mut self,
        now: Time,
        input: &mut &'c [u8],
    ) -> Result<Option<Item<'a>>, Error> {
        if self.phase != Phase::Open {
            *input = &[];
            return Ok(None);
        }
        if !input.is_empty() {
            self.last_activity = now;
        }
        self.parser.parse(input)
    }

    /// The response body ended. If the connection was `OPEN`, it is reestablished
    /// (the constructor's processResponseEndOfBody, "whether the connection is closed
    /// gracefully or unexpectedly"); a pending event that no blank line finished is
    /// discarded. If the response head had not arrived yet, this is a network error.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, ReadyState, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// conn.poll_request();
    /// conn.handle_response(Time::ZERO, 200, [("content-type", "text/event-stream")]);
    /// conn.handle_end(Time::ZERO);
    /// assert_eq!(conn.ready_state(), ReadyState::Connecting);
    /// ```
    pub fn handle_end(&mut self, now: Time) {
        match self.phase {
            Phase::Open => {
                // Under a policy other than `Always`, a body that ended between
                // events is a complete stream; one that cut an event short failed.
                let cut = self.parser.finish();
                if cut {
                    self.discarded += 1;
                }
                if cut || self.config.reconnect_policy() == ReconnectPolicy::Always {
                    self.reestablish(now, ConnectionError::EndOfStream, None);
                } else {
                    self.phase = Phase::Closed;
                    self.request_pending = false;
                    self.events.push_back(ConnectionEvent::Ended);
                }
            }
            Phase::Requesting if !self.request_pending => {
                self.reestablish(now, ConnectionError::Network, None);
            }
            _ => {}
        }
    }

    /// The transfer failed (connection refused or reset, TLS, protocol error, ...).
    /// The connection is reestablished: processResponse, "if res is a network error,
    /// then reestablish the connection". Ignored if no transfer is expected.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, ConnectionError, ConnectionEvent, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// conn.poll_request();
    /// conn.handle_error(Time::ZERO);
    /// assert!(matches!(
    ///     conn.poll_event(),
    ///     Some(ConnectionEvent::Reconnecting { error: ConnectionError::Network, .. })
    /// ));
    /// ```
    pub fn handle_error(&mut self, now: Time) {
        match self.phase {
            Phase::Open => self.reestablish(now, ConnectionError::Network, None),
            Phase::Requesting if !self.request_pending => {
                self.reestablish(now, ConnectionError::Network, None);
            }
            _ => {}
        }
    }

    /// The deadline from [`poll_timeout`](Connection::poll_timeout) has passed: time
    /// to reconnect, or to give up on a response head that has not come
    /// (`response_timeout`) or a silent connection (`idle_timeout`). Calling it early
    /// or again is harmless.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::{Connection, ConnectionConfig, ConnectionError, ConnectionEvent, Time};
    ///
    /// let config = ConnectionConfig::new().idle_timeout(Duration::from_secs(30));
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", config).unwrap();
    /// conn.poll_request();
    /// assert_eq!(conn.poll_timeout(), Some(Time::from_millis(30_000)));
    /// conn.handle_timeout(Time::from_millis(29_999));
    /// assert_eq!(conn.poll_event(), None);
    /// conn.handle_timeout(Time::from_millis(30_000));
    /// assert!(matches!(
    ///     conn.poll_event(),
    ///     Some(ConnectionEvent::Reconnecting { error: ConnectionError::IdleTimeout, .. })
    /// ));
    /// ```
    pub fn handle_timeout(&mut self, now: Time) {
        match self.phase {
            Phase::Waiting { until } if now >= until => self.start_fetch(now),
            // Whichever deadline came first is the reason (the response timeout on a
            // tie).
            Phase::Requesting
                if self.response_deadline().is_some_and(|response| {
                    now >= response && self.idle_deadline().is_none_or(|idle| response <= idle)
                }) =>
            {
                self.reestablish(now, ConnectionError::ResponseTimeout, None);
            }
            Phase::Requesting | Phase::Open => {
                if let Some(deadline) = self.idle_deadline() {
                    if now >= deadline {
                        self.reestablish(now, ConnectionError::IdleTimeout, None);
                    }
                }
            }
            _ => {}
        }
    }

    /// Closes the connection, from any state: `readyState` becomes `CLOSED`, no
    /// request or event comes out any more, and the driver should drop its transfer.
    /// The spec's `close()`: "abort any instances of the fetch algorithm started for
    /// this EventSource object, and set the readyState attribute to CLOSED". Events not
    /// yet polled are dropped, as the spec's queued tasks do nothing once `CLOSED`.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// conn.close();
    /// assert!(conn.poll_request().is_none());
    /// assert_eq!(conn.poll_timeout(), None);
    /// ```
    pub fn close(&mut self) {
        self.phase = Phase::Closed;
        self.request_pending = false;
        self.opened_at = None;
        self.events.clear();
        self.finish_stream();
    }

    // ----- Outputs -----

    /// The next state change to report, oldest first. Drain it first after every
    /// input.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, ConnectionEvent, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// conn.poll_request();
    /// conn.handle_response(Time::ZERO, 200, [("content-type", "text/event-stream")]);
    /// assert_eq!(conn.poll_event(), Some(ConnectionEvent::Open));
    /// assert_eq!(conn.poll_event(), None);
    /// ```
    pub fn poll_event(&mut self) -> Option<ConnectionEvent> {
        self.events.pop_front()
    }

    /// The request to send now, if one is due: after [`new`](Connection::new), after
    /// a redirect, and when the reconnection timer fired. Each request is handed out
    /// once; the driver drops any transfer still running before sending it.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// assert!(conn.poll_request().is_some());
    /// assert!(conn.poll_request().is_none());
    /// ```
    pub fn poll_request(&mut self) -> Option<Request<'_>> {
        if !core::mem::take(&mut self.request_pending) {
            return None;
        }
        self.last_event_id_header.clear();
        let id = self.parser.last_event_id();
        // "Let lastEventIDValue be the EventSource object's last event ID string,
        // encoded as UTF-8."
        self.last_event_id_header.push_str(&id.to_string_lossy());
        // An ID HTTP cannot carry (a control character from the server's `id:`
        // field) is not sent: the request goes without `Last-Event-ID`, as for a
        // client without one, rather than fail again at every reconnection.
        let last_event_id = (!id.is_empty() && url::is_field_value(&self.last_event_id_header))
            .then_some(self.last_event_id_header.as_str());
        let get = self.fetch.get;
        Some(Request {
            method: if get { "GET" } else { &self.method },
            url: &self.fetch.url,
            last_event_id,
            extra: &self.config.headers,
            body: if get {
                None
            } else {
                self.config.body.as_deref()
            },
            drop_body_headers: get,
            cross_origin: self
                .fetch
                .cross_origin
                .then_some(&self.config.sensitive_headers[..]),
        })
    }

    /// When to call [`handle_timeout`](Connection::handle_timeout): the reconnection
    /// time while waiting to reconnect; the earlier of the response and idle
    /// deadlines while a response head is awaited, the idle deadline while the
    /// response is open (each if configured); `None` otherwise.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let config = ConnectionConfig::new().response_timeout(None).idle_timeout(None);
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", config).unwrap();
    /// conn.poll_request();
    /// assert_eq!(conn.poll_timeout(), None);
    /// conn.handle_error(Time::from_millis(10));
    /// assert_eq!(conn.poll_timeout(), Some(Time::from_millis(3010)));
    ///
    /// // The defaults: 60 s for the response head.
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// conn.poll_request();
    /// assert_eq!(conn.poll_timeout(), Some(Time::from_millis(60_000)));
    /// ```
    pub fn poll_timeout(&self) -> Option<Time> {
        match self.phase {
            Phase::Waiting { until } => Some(until),
            Phase::Requesting => match (self.idle_deadline(), self.response_deadline()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            Phase::Open => self.idle_deadline(),
            Phase::Closed => None,
        }
    }

    // ----- Internals -----

    fn idle_deadline(&self) -> Option<Time> {
        self.config
            .idle_timeout
            .map(|idle| self.last_activity.saturating_add(idle))
    }

    /// While a response head is awaited: `last_activity` is when the request (or
    /// the redirect's) was made, as nothing else moves it until the head arrives.
    fn response_deadline(&self) -> Option<Time> {
        self.config
            .response_timeout
            .map(|wait| self.last_activity.saturating_add(wait))
    }

    /// A new fetch of the constructor's URL.
    fn start_fetch(&mut self, now: Time) {
        self.fetch = Fetch {
            url: String::from(url::without_fragment(&self.url)),
            get: false,
            cross_origin: false,
            redirects: 0,
        };
        self.phase = Phase::Requesting;
        self.request_pending = true;
        self.last_activity = now;
    }

    /// Follows a redirect as Fetch's "HTTP-redirect fetch" does. Returns `false` if
    /// `location` is unusable, in which case the response is handled as the non-200
    /// response it is.
    fn redirect(&mut self, now: Time, status: u16, location: &str) -> bool {
        // "Let locationURL be actualResponse's location URL given request's current
        // URL's fragment. If locationURL is failure, then return a network error. If
        // locationURL's scheme is not an HTTP(S) scheme, then return a network error."
        let Some(target) = url::resolve(&self.fetch.url, location) else {
            return false;
        };
        if !url::scheme(&target).is_some_and(url::is_http) {
            return false;
        }
        // "If request's redirect count is 20, then return a network error."
        if self.fetch.redirects >= self.config.max_redirects {
            self.fail(ConnectionError::TooManyRedirects, false);
            return true;
        }
        // Beyond Fetch (which leaves it to mixed-content rules): the stream, the
        // headers and the last event ID do not silently go out in clear text.
        if url::scheme(&self.fetch.url).is_some_and(|s| s.eq_ignore_ascii_case("https"))
            && url::scheme(&target).is_some_and(|s| s.eq_ignore_ascii_case("http"))
            && !self.config.allow_insecure_redirect
        {
            self.fail(ConnectionError::InsecureRedirect, false);
            return true;
        }
        // "Increase request's redirect count by 1."
        self.fetch.redirects += 1;
        // "If request's current URL's origin is not same origin with locationURL's
        // origin, then for each headerName of CORS non-wildcard request-header name,
        // delete headerName from request's header list." (That is `Authorization`.)
        if !url::same_origin(&self.fetch.url, &target) {
            self.fetch.cross_origin = true;
        }
        // "If one of the following is true: internalResponse's status is 301 or 302
        // and request's method is `POST`; internalResponse's status is 303 and
        // request's method is not `GET` or `HEAD`; then: set request's method to
        // `GET` and request's body to null; for each headerName of request-body-header
        // name, delete headerName from request's header list."
        let method = if self.fetch.get { "GET" } else { &self.method };
        if (matches!(status, 301 | 302) && method == "POST")
            || (status == 303 && method != "GET" && method != "HEAD")
        {
            self.fetch.get = true;
        }
        // Beyond Fetch (which sends it, after a CORS preflight): a body the user
        // wrote for one origin (a prompt, say) is not handed to another.
        if self.fetch.cross_origin && !self.fetch.get && self.config.body.is_some() {
            self.fail(ConnectionError::BodyToOtherOrigin, false);
            return true;
        }
        self.fetch.url = String::from(url::without_fragment(&target));
        self.request_pending = true;
        self.last_activity = now;
        true
    }

    /// Ends the response body's event stream: the parser discards a pending event
    /// (counted) and is ready for the next response.
    fn finish_stream(&mut self) {
        if self.parser.finish() {
            self.discarded += 1;
        }
    }

    /// "Announce the connection": if not `CLOSED`, `readyState` becomes `OPEN` and an
    /// `open` event is fired.
    fn announce(&mut self, now: Time) {
        // A new response body: the parser starts a new stream, keeping the last
        // event ID and the reconnection time.
        self.finish_stream();
        self.phase = Phase::Open;
        self.opened_at = Some(now);
        self.events.push_back(ConnectionEvent::Open);
    }

    /// "Fail the connection": `readyState` becomes `CLOSED`, an `error` event is
    /// fired, and there is no reconnection.
    fn fail(&mut self, error: ConnectionError, retries_exhausted: bool) {
        self.phase = Phase::Closed;
        self.request_pending = false;
        self.opened_at = None;
        self.finish_stream();
        self.events.push_back(ConnectionEvent::Failed {
            error,
            retries_exhausted,
        });
    }

    /// "Reestablish the connection": `readyState` becomes `CONNECTING`, an `error`
    /// event is fired, and after the reconnection time ("optionally, wait some more":
    /// the floor, the backoff, `Retry-After`) the request is made again.
    fn reestablish(&mut self, now: Time, error: ConnectionError, retry_after: Option<Duration>) {
        // "If the EventSource object's readyState attribute is set to CLOSED, abort
        // these steps."
        if self.phase == Phase::Closed {
            return;
        }
        // The stream is over: an event no blank line ended is discarded.
        self.finish_stream();
        self.request_pending = false;
        if self.config.reconnect_policy() == ReconnectPolicy::Never {
            self.fail(error, false);
            return;
        }
        if let Some(opened) = self.opened_at.take() {
            if now.saturating_duration_since(opened) >= self.config.reset_after {
                self.failures = 0;
            }
        }
        self.failures = self.failures.saturating_add(1);
        if self
            .config
            .max_retries
            .is_some_and(|max| self.failures > max)
        {
            self.fail(error, true);
            return;
        }
        let delay = self.reconnect_delay(retry_after);
        let at = now.saturating_add(delay);
        self.phase = Phase::Waiting { until: at };
        self.events
            .push_back(ConnectionEvent::Reconnecting { error, at });
    }

    /// How long to wait before the next request.
    fn reconnect_delay(&mut self, retry_after: Option<Duration>) -> Duration {
        // "Wait a delay equal to the reconnection time of the event source."
        // "Optionally, wait some more": never less than the floor.
        let base = self
            .reconnection_time()
            .max(self.config.min_reconnection_time);
        let delay = match &self.config.backoff {
            // "In particular, if the previous attempt failed, then user agents might
            // introduce an exponential backoff delay."
            Some(backoff) => backoff.delay(base, self.failures, &mut self.rng),
            None => base,
        };
        match retry_after {
            Some(wait) => delay.max(wait),
            None => delay,
        }
    }
}
