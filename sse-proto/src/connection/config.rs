//! What a [`Connection`](crate::Connection) can be told: the request it sends, and
//! the reconnection policy. Everything that goes beyond the spec is an option, off by
//! default wherever it would change what the spec says must happen.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use crate::Config;

/// Settings for a [`Connection`](crate::Connection). Build with the chained methods.
///
/// The defaults are the spec's behaviour (a `GET`, a 3 s reconnection time, up to 20
/// redirects, reconnect forever, fail on any non-200 response), plus what keeps a
/// client safe where the spec leaves it to the user agent: a 100 ms floor under the
/// reconnection time so that `retry: 0` cannot make a tight reconnect loop (the spec
/// allows waiting longer than the reconnection time: "Optionally, wait some more"),
/// timeouts so that a silent server cannot hold a connection for ever (60 s for the
/// response head, 5 minutes without a byte), and redirects that keep credentials and
/// bodies on their origin and never leave `https` for `http`.
///
/// | on a redirect to | the connection |
/// |---|---|
/// | the same origin | sends the same request (method, headers, body), except as below |
/// | any URL, after 301/302 of a `POST`, or 303 of anything but `GET`/`HEAD` | switches to `GET`, dropping the body and its `Content-*` headers (Fetch) |
/// | another origin | drops `Authorization`, `Cookie`, `Proxy-Authorization` and every [`sensitive_headers`](ConnectionConfig::sensitive_headers) name for the rest of the fetch; fails with [`ConnectionError::BodyToOtherOrigin`](crate::ConnectionError::BodyToOtherOrigin) if the request still has a body (a 307/308 of a `POST`) |
/// | `http` from `https` | fails with [`ConnectionError::InsecureRedirect`](crate::ConnectionError::InsecureRedirect), unless [`allow_insecure_redirect`](ConnectionConfig::allow_insecure_redirect) |
/// | a non-HTTP(S) URL, or no usable `Location` | fails with the status, as Fetch's network error |
/// | the 21st in one fetch | fails with [`ConnectionError::TooManyRedirects`](crate::ConnectionError::TooManyRedirects) |
///
/// ```
/// use core::time::Duration;
/// use sse_proto::{Backoff, ConnectionConfig, RetryPolicy};
///
/// // An LLM-style streaming POST that backs off and gives up after 5 failures.
/// let config = ConnectionConfig::new()
///     .method("POST")
///     .header("Authorization", "Bearer secret")
///     .header("Content-Type", "application/json")
///     .body(br#"{"stream":true}"#.to_vec())
///     .backoff(Backoff::new().max_delay(Duration::from_secs(30)).seed(42))
///     .max_retries(5)
///     .idle_timeout(Duration::from_secs(45))
///     .retry_policy(RetryPolicy::transient());
/// assert_eq!(config.method, "POST");
/// assert_eq!(config.reconnection_time, ConnectionConfig::DEFAULT_RECONNECTION_TIME);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionConfig {
    /// The request method. Default `GET`. The names Fetch normalises (`get`, `post`,
    /// ...) are upper-cased. A 303 redirect, or a 301/302 after a `POST`, switches to
    /// `GET` as Fetch does.
    pub method: String,
    /// Extra request headers, sent after the ones the connection sets. One named
    /// `Accept` or `Cache-Control` replaces the connection's default; one named
    /// `Last-Event-ID` is ignored (the connection owns it: use
    /// [`last_event_id`](ConnectionConfig::last_event_id) to resume).
    pub headers: Vec<(String, String)>,
    /// A request body (for `POST` streaming). Default none. Dropped, together with
    /// the `Content-*` request headers, when a redirect switches to `GET`.
    pub body: Option<Vec<u8>>,
    /// The last event ID to start from, as when resuming a stream read before.
    /// Default empty (no `Last-Event-ID` header on the first request).
    pub last_event_id: String,
    /// The reconnection time until the stream sets one with a `retry` field. Default
    /// [`DEFAULT_RECONNECTION_TIME`](ConnectionConfig::DEFAULT_RECONNECTION_TIME).
    pub reconnection_time: Duration,
    /// The shortest wait before reconnecting, whatever the reconnection time says.
    /// Default [`DEFAULT_MIN_RECONNECTION_TIME`](ConnectionConfig::DEFAULT_MIN_RECONNECTION_TIME);
    /// zero gives the spec's exact timing.
    pub min_reconnection_time: Duration,
    /// How many redirects one fetch follows; the next one fails the connection.
    /// Default [`DEFAULT_MAX_REDIRECTS`](ConnectionConfig::DEFAULT_MAX_REDIRECTS), as
    /// in Fetch.
    pub max_redirects: u32,
    /// Exponential backoff with jitter between consecutive failures. Default none:
    /// every wait is the reconnection time.
    pub backoff: Option<Backoff>,
    /// A connection that stayed open at least this long counts as healthy when it
    /// ends: the count of consecutive failures (which drives the backoff and
    /// [`max_retries`](ConnectionConfig::max_retries)) starts again from zero. A
    /// connection that opens and drops at once does not reset it, so a server that
    /// accepts and hangs up still reaches the limit. Default
    /// [`DEFAULT_RESET_AFTER`](ConnectionConfig::DEFAULT_RESET_AFTER).
    pub reset_after: Duration,
    /// How many consecutive failures are retried; the one after fails the connection
    /// (`Some(0)`: never reconnect). Default none: reconnect forever, as the spec does.
    pub max_retries: Option<u32>,
    /// A connection that receives no bytes at all (comments count) for this long,
    /// counted from the request, is dead: it is reestablished. Default
    /// [`DEFAULT_IDLE_TIMEOUT`](ConnectionConfig::DEFAULT_IDLE_TIMEOUT); `None`
    /// waits for ever, as the spec does.
    pub idle_timeout: Option<Duration>,
    /// A request whose response head has not arrived this long after it was sent
    /// (connecting and TLS included) is given up: a network error, so the connection
    /// is reestablished. Default
    /// [`DEFAULT_RESPONSE_TIMEOUT`](ConnectionConfig::DEFAULT_RESPONSE_TIMEOUT);
    /// `None` waits for ever, as the spec does.
    pub response_timeout: Option<Duration>,
    /// Request headers that must not follow a redirect to another origin, besides
    /// the ones that never do (`Authorization`, `Cookie`, `Proxy-Authorization`):
    /// names, compared case-insensitively. Default none.
    pub sensitive_headers: Vec<String>,
    /// Follow a redirect from `https` to `http`. Default `false`: such a redirect
    /// fails the connection ([`ConnectionError::InsecureRedirect`](crate::ConnectionError::InsecureRedirect)),
    /// as the stream, the headers and the `Last-Event-ID` would go out in clear text.
    pub allow_insecure_redirect: bool,
    /// Which failed responses are retried instead of failing the connection. Default
    /// [`RetryPolicy::never`], the spec's behaviour.
    pub retry_policy: RetryPolicy,
    /// When the connection is reestablished. Default `None`: [`ReconnectPolicy::Always`]
    /// (the spec's EventSource) for a request without a body, and
    /// [`ReconnectPolicy::OnError`] for one with a body (a POST stream that ends when
    /// its answer is complete, which must not be sent again).
    pub reconnect: Option<ReconnectPolicy>,
    /// The settings of the parser that reads each response body.
    pub parser: Config,
}

impl ConnectionConfig {
    /// The reconnection time before the stream sets one: 3 seconds, the usual choice
    /// for the spec's "implementation-defined value, probably in the region of a few
    /// seconds".
    pub const DEFAULT_RECONNECTION_TIME: Duration = Duration::from_millis(3000);
    /// The floor under the reconnection time: 100 ms.
    pub const DEFAULT_MIN_RECONNECTION_TIME: Duration = Duration::from_millis(100);
    /// Fetch's redirect limit: 20.
    pub const DEFAULT_MAX_REDIRECTS: u32 = 20;
    /// How long a connection must stay open to count as healthy: 60 seconds.
    pub const DEFAULT_RESET_AFTER: Duration = Duration::from_secs(60);
    /// How long a silent connection is kept: 5 minutes, long enough for servers
    /// that send a keep-alive every 15 to 60 seconds (and for an LLM that thinks a
    /// while before its next token), short enough that a dead connection is noticed.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
    /// How long to wait for a response head: 60 seconds.
    pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

    /// The defaults.
    ///
    /// ```
    /// use sse_proto::ConnectionConfig;
    ///
    /// let config = ConnectionConfig::new();
    /// assert_eq!(config.method, "GET");
    /// assert_eq!(config.max_redirects, 20);
    /// assert!(config.backoff.is_none() && config.max_retries.is_none());
    /// ```
    pub fn new() -> Self {
        ConnectionConfig {
            method: String::from("GET"),
            headers: Vec::new(),
            body: None,
            last_event_id: String::new(),
            reconnection_time: Self::DEFAULT_RECONNECTION_TIME,
            min_reconnection_time: Self::DEFAULT_MIN_RECONNECTION_TIME,
            max_redirects: Self::DEFAULT_MAX_REDIRECTS,
            backoff: None,
            reset_after: Self::DEFAULT_RESET_AFTER,
            max_retries: None,
            idle_timeout: Some(Self::DEFAULT_IDLE_TIMEOUT),
            response_timeout: Some(Self::DEFAULT_RESPONSE_TIMEOUT),
            sensitive_headers: Vec::new(),
            allow_insecure_redirect: false,
            retry_policy: RetryPolicy::never(),
            reconnect: None,
            parser: Config::new(),
        }
    }

    /// The [`reconnect`](ConnectionConfig::reconnect) policy in force: the one set,
    /// or the default for the request.
    ///
    /// ```
    /// use sse_proto::{ConnectionConfig, ReconnectPolicy};
    ///
    /// assert_eq!(ConnectionConfig::new().reconnect_policy(), ReconnectPolicy::Always);
    /// let post = ConnectionConfig::new().method("POST").body("{}");
    /// assert_eq!(post.reconnect_policy(), ReconnectPolicy::OnError);
    /// let post = post.reconnect(ReconnectPolicy::Always);
    /// assert_eq!(post.reconnect_policy(), ReconnectPolicy::Always);
    /// ```
    pub fn reconnect_policy(&self) -> ReconnectPolicy {
        self.reconnect.unwrap_or(match self.body {
            Some(_) => ReconnectPolicy::OnError,
            None => ReconnectPolicy::Always,
        })
    }

    /// Sets the [`reconnect`](ConnectionConfig::reconnect) policy.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = Some(policy);
        self
    }

    /// Sets [`method`](ConnectionConfig::method).
    ///
    /// ```
    /// use sse_proto::ConnectionConfig;
    ///
    /// assert_eq!(ConnectionConfig::new().method("POST").method, "POST");
    /// ```
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }

    /// Adds one of the extra [`headers`](ConnectionConfig::headers).
    ///
    /// ```
    /// use sse_proto::ConnectionConfig;
    ///
    /// let config = ConnectionConfig::new().header("Authorization", "Bearer t");
    /// assert_eq!(config.headers, [("Authorization".to_string(), "Bearer t".to_string())]);
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the [`body`](ConnectionConfig::body).
    ///
    /// ```
    /// use sse_proto::ConnectionConfig;
    ///
    /// let config = ConnectionConfig::new().body(b"{}".to_vec());
    /// assert_eq!(config.body.as_deref(), Some(&b"{}"[..]));
    /// ```
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets [`last_event_id`](ConnectionConfig::last_event_id).
    ///
    /// ```
    /// use sse_proto::ConnectionConfig;
    ///
    /// assert_eq!(ConnectionConfig::new().last_event_id("42").last_event_id, "42");
    /// ```
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.last_event_id = id.into();
        self
    }

    /// Sets [`reconnection_time`](ConnectionConfig::reconnection_time).
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::ConnectionConfig;
    ///
    /// let config = ConnectionConfig::new().reconnection_time(Duration::from_secs(1));
    /// assert_eq!(config.reconnection_time, Duration::from_secs(1));
    /// ```
    pub fn reconnection_time(mut self, time: Duration) -> Self {
        self.reconnection_time = time;
        self
    }

    /// Sets [`min_reconnection_time`](ConnectionConfig::min_reconnection_time).
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::ConnectionConfig;
    ///
    /// let exact = ConnectionConfig::new().min_reconnection_time(Duration::ZERO);
    /// assert_eq!(exact.min_reconnection_time, Duration::ZERO);
    /// ```
    pub fn min_reconnection_time(mut self, time: Duration) -> Self {
        self.min_reconnection_time = time;
        self
    }

    /// Sets [`max_redirects`](ConnectionConfig::max_redirects).
    ///
    /// ```
    /// use sse_proto::ConnectionConfig;
    ///
    /// assert_eq!(ConnectionConfig::new().max_redirects(0).max_redirects, 0);
    /// ```
    pub fn max_redirects(mut self, max: u32) -> Self {
        self.max_redirects = max;
        self
    }

    /// Turns on [`backoff`](ConnectionConfig::backoff).
    ///
    /// ```
    /// use sse_proto::{Backoff, ConnectionConfig};
    ///
    /// assert!(ConnectionConfig::new().backoff(Backoff::new()).backoff.is_some());
    /// ```
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// Sets [`reset_after`](ConnectionConfig::reset_after).
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::ConnectionConfig;
    ///
    /// let config = ConnectionConfig::new().reset_after(Duration::from_secs(10));
    /// assert_eq!(config.reset_after, Duration::from_secs(10));
    /// ```
    pub fn reset_after(mut self, time: Duration) -> Self {
        self.reset_after = time;
        self
    }

    /// Sets [`max_retries`](ConnectionConfig::max_retries).
    ///
    /// ```
    /// use sse_proto::ConnectionConfig;
    ///
    /// assert_eq!(ConnectionConfig::new().max_retries(3).max_retries, Some(3));
    /// ```
    pub fn max_retries(mut self, max: u32) -> Self {
        self.max_retries = Some(max);
        self
    }

    /// Sets [`idle_timeout`](ConnectionConfig::idle_timeout).
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::ConnectionConfig;
    ///
    /// let config = ConnectionConfig::new().idle_timeout(Duration::from_secs(45));
    /// assert_eq!(config.idle_timeout, Some(Duration::from_secs(45)));
    /// assert_eq!(config.idle_timeout(None).idle_timeout, None);
    /// ```
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.idle_timeout = timeout.into();
        self
    }

    /// Sets [`response_timeout`](ConnectionConfig::response_timeout).
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::ConnectionConfig;
    ///
    /// let config = ConnectionConfig::new().response_timeout(Duration::from_secs(10));
    /// assert_eq!(config.response_timeout, Some(Duration::from_secs(10)));
    /// ```
    pub fn response_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.response_timeout = timeout.into();
        self
    }

    /// Marks a request header as one that must not follow a redirect to another
    /// origin (see [`sensitive_headers`](ConnectionConfig::sensitive_headers)).
    ///
    /// ```
    /// use sse_proto::ConnectionConfig;
    ///
    /// let config = ConnectionConfig::new().header("X-Api-Key", "k").sensitive_header("x-api-key");
    /// assert_eq!(config.sensitive_headers, ["x-api-key"]);
    /// ```
    pub fn sensitive_header(mut self, name: impl Into<String>) -> Self {
        self.sensitive_headers.push(name.into());
        self
    }

    /// Sets [`allow_insecure_redirect`](ConnectionConfig::allow_insecure_redirect).
    ///
    /// ```
    /// use sse_proto::ConnectionConfig;
    ///
    /// assert!(ConnectionConfig::new().allow_insecure_redirect(true).allow_insecure_redirect);
    /// ```
    pub fn allow_insecure_redirect(mut self, allow: bool) -> Self {
        self.allow_insecure_redirect = allow;
        self
    }

    /// Sets [`retry_policy`](ConnectionConfig::retry_policy).
    ///
    /// ```
    /// use sse_proto::{ConnectionConfig, RetryPolicy};
    ///
    /// let config = ConnectionConfig::new().retry_policy(RetryPolicy::statuses(&[503]));
    /// assert!(config.retry_policy.retries(503));
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Sets the [`parser`](ConnectionConfig::parser) settings.
    ///
    /// ```
    /// use sse_proto::{Config, ConnectionConfig};
    ///
    /// let config = ConnectionConfig::new().parser(Config::new().comments(true));
    /// assert!(config.parser.comments);
    /// ```
    pub fn parser(mut self, parser: Config) -> Self {
        self.parser = parser;
        self
    }
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig::new()
    }
}

/// Exponential backoff with jitter, for [`ConnectionConfig::backoff`].
///
/// After the `n`th consecutive failure the connection waits
///
/// 1. `base` = the reconnection time (the stream's `retry`, or the configured one),
///    at least [`ConnectionConfig::min_reconnection_time`];
/// 2. `delay` = `base` × (`multiplier_percent` / 100)<sup>`n`−1</sup>, computed in
///    whole milliseconds (but never rounded below `base`), at most `cap` = the larger
///    of `max_delay` and `base`;
/// 3. with `span` = `delay` × `jitter_percent` / 100, the wait is drawn uniformly
///    (whole milliseconds) from `delay` to `delay` + `span`; where that window would
///    pass `cap`, it moves down to end there: from `cap` − `span` (but not below
///    `base`) to `cap`.
///
/// So the wait is never shorter than the spec's reconnection time, never longer than
/// `max_delay` unless the server asked for more, and clients that reached the cap
/// still spread over its last `jitter_percent` (a fleet cut off together does not
/// come back in one burst every `max_delay`). The random numbers are
/// SplitMix64 from [`seed`](Backoff::seed). The core reads no entropy, so an unset
/// seed means 0 here, and every client of a fleet would jitter alike: the runtime
/// clients built on this fill an unset seed from the process's
/// random hash keys. Tests fix it, and the sequence of waits is then exactly
/// reproducible.
///
/// ```
/// use core::time::Duration;
/// use sse_proto::Backoff;
///
/// let backoff = Backoff::new()
///     .multiplier_percent(150)
///     .max_delay(Duration::from_secs(10))
///     .jitter_percent(0);
/// let waits: Vec<_> = (1..=6).map(|n| backoff.delay(Duration::from_secs(1), n, &mut 0)).collect();
/// let ms: Vec<_> = waits.iter().map(|d| d.as_millis()).collect();
/// assert_eq!(ms, [1000, 1500, 2250, 3375, 5062, 7593]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Backoff {
    /// How much each consecutive failure multiplies the wait, in percent; values
    /// under 100 count as 100. Default 200 (doubling).
    pub multiplier_percent: u32,
    /// The longest wait the backoff grows to. Default 60 s.
    pub max_delay: Duration,
    /// How wide the window the wait is drawn from is, as a percentage of the wait
    /// (0 to 100; more counts as 100). Default 50.
    pub jitter_percent: u32,
    /// The seed of the jitter's random numbers. Default `None`: the adapter seeds
    /// it from an entropy source (the sans-IO core alone uses 0).
    pub seed: Option<u64>,
}

impl Backoff {
    /// The defaults: doubling, up to 60 s, with up to 50 % jitter, no seed.
    ///
    /// ```
    /// use sse_proto::Backoff;
    ///
    /// assert_eq!(Backoff::new().multiplier_percent, 200);
    /// ```
    pub const fn new() -> Self {
        Backoff {
            multiplier_percent: 200,
            max_delay: Duration::from_secs(60),
            jitter_percent: 50,
            seed: None,
        }
    }

    /// Sets [`multiplier_percent`](Backoff::multiplier_percent).
    ///
    /// ```
    /// use sse_proto::Backoff;
    ///
    /// assert_eq!(Backoff::new().multiplier_percent(150).multiplier_percent, 150);
    /// ```
    pub const fn multiplier_percent(mut self, percent: u32) -> Self {
        self.multiplier_percent = percent;
        self
    }

    /// Sets [`max_delay`](Backoff::max_delay).
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::Backoff;
    ///
    /// let backoff = Backoff::new().max_delay(Duration::from_secs(5));
    /// assert_eq!(backoff.max_delay, Duration::from_secs(5));
    /// ```
    pub const fn max_delay(mut self, max: Duration) -> Self {
        self.max_delay = max;
        self
    }

    /// Sets [`jitter_percent`](Backoff::jitter_percent).
    ///
    /// ```
    /// use sse_proto::Backoff;
    ///
    /// assert_eq!(Backoff::new().jitter_percent(0).jitter_percent, 0);
    /// ```
    pub const fn jitter_percent(mut self, percent: u32) -> Self {
        self.jitter_percent = percent;
        self
    }

    /// Sets the [`seed`](Backoff::seed).
    ///
    /// ```
    /// use sse_proto::Backoff;
    ///
    /// assert_eq!(Backoff::new().seed(7).seed, Some(7));
    /// ```
    pub const fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The wait after the `failures`th consecutive failure (counting from 1) when the
    /// reconnection time is `base`, drawing jitter from the SplitMix64 state `rng`
    /// (which it advances once if there is jitter to draw). This is the computation
    /// a [`Connection`](crate::Connection) does, exposed so that it can be checked
    /// and tabulated.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::Backoff;
    ///
    /// let backoff = Backoff::new().max_delay(Duration::from_secs(4)).jitter_percent(0);
    /// let base = Duration::from_secs(1);
    /// let ms: Vec<_> = (1..=5).map(|n| backoff.delay(base, n, &mut 0).as_millis()).collect();
    /// assert_eq!(ms, [1000, 2000, 4000, 4000, 4000]);
    /// ```
    pub fn delay(&self, base: Duration, failures: u32, rng: &mut u64) -> Duration {
        let exact = base;
        let base = millis(base);
        let cap = millis(self.max_delay).max(base);
        let multiplier = u128::from(self.multiplier_percent.max(100));
        let mut delay = base;
        for _ in 1..failures {
            if delay >= cap {
                break;
            }
            let next = u128::from(delay) * multiplier / 100;
            delay = u64::try_from(next).unwrap_or(u64::MAX);
        }
        delay = delay.min(cap);
        let span = u128::from(delay) * u128::from(self.jitter_percent.min(100)) / 100;
        let span = u64::try_from(span).unwrap_or(u64::MAX);
        if span > 0 {
            // The window [delay, delay + span], moved down to end at the cap where it
            // would pass it: clients at the cap still spread, below it.
            let (mut low, mut high) = (delay, delay.saturating_add(span));
            if high > cap {
                (low, high) = (cap.saturating_sub(span).max(base), cap);
            }
            delay = low + splitmix64(rng) % (high - low).saturating_add(1);
        }
        // Whole milliseconds round a base with a fraction of one down: never below it.
        Duration::from_millis(delay).max(exact)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

/// Whole milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// SplitMix64 (Steele, Lea and Flood): one step of the generator.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Which failed responses a [`Connection`](crate::Connection) retries, for
/// [`ConnectionConfig::retry_policy`].
///
/// The spec fails the connection on any response that is not a 200 with a
/// `text/event-stream` body: no retry. Behind load balancers a 502, 503 or 429 is
/// often transient, so a policy can name statuses that instead reestablish the
/// connection, counting as failures (backoff, `max_retries`), and waiting at least
/// what the response's `Retry-After` asks (delay-seconds, or an HTTP-date measured
/// against the response's `Date`), at most
/// [`max_retry_after`](RetryPolicy::max_retry_after). A 200 with the wrong content
/// type is never retried.
///
/// ```
/// use sse_proto::RetryPolicy;
///
/// let policy = RetryPolicy::transient();
/// assert!(policy.retries(503) && policy.retries(429));
/// assert!(!policy.retries(500) && !policy.retries(204));
///
/// let custom = RetryPolicy::predicate(|status| status >= 500);
/// assert!(custom.retries(500));
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    statuses: Statuses,
    honour_retry_after: bool,
    max_retry_after: Duration,
}

#[derive(Debug, Clone)]
enum Statuses {
    List(Vec<u16>),
    Predicate(fn(u16) -> bool),
}

impl RetryPolicy {
    /// The longest `Retry-After` honoured by default: one hour.
    pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

    /// Retry nothing: the spec's behaviour.
    ///
    /// ```
    /// use sse_proto::RetryPolicy;
    ///
    /// assert!(!RetryPolicy::never().retries(503));
    /// ```
    pub const fn never() -> Self {
        RetryPolicy {
            statuses: Statuses::List(Vec::new()),
            honour_retry_after: true,
            max_retry_after: Self::DEFAULT_MAX_RETRY_AFTER,
        }
    }

    /// Retry 429 Too Many Requests, 502 Bad Gateway, 503 Service Unavailable and 504
    /// Gateway Timeout, honouring `Retry-After`.
    ///
    /// ```
    /// use sse_proto::RetryPolicy;
    ///
    /// assert!(RetryPolicy::transient().retries(504));
    /// ```
    pub fn transient() -> Self {
        Self::statuses(&[429, 502, 503, 504])
    }

    /// Retry exactly these statuses, honouring `Retry-After`.
    ///
    /// ```
    /// use sse_proto::RetryPolicy;
    ///
    /// assert!(RetryPolicy::statuses(&[500]).retries(500));
    /// ```
    pub fn statuses(statuses: &[u16]) -> Self {
        RetryPolicy {
            statuses: Statuses::List(statuses.to_vec()),
            ..Self::never()
        }
    }

    /// Retry the statuses for which `retries` returns `true`, honouring
    /// `Retry-After`.
    ///
    /// ```
    /// use sse_proto::RetryPolicy;
    ///
    /// let policy = RetryPolicy::predicate(|s| matches!(s, 502..=504));
    /// assert!(policy.retries(502) && !policy.retries(501));
    /// ```
    pub const fn predicate(retries: fn(u16) -> bool) -> Self {
        RetryPolicy {
            statuses: Statuses::Predicate(retries),
            honour_retry_after: true,
            max_retry_after: Self::DEFAULT_MAX_RETRY_AFTER,
        }
    }

    /// Whether to wait for a retried response's `Retry-After` (default `true`).
    ///
    /// ```
    /// use sse_proto::RetryPolicy;
    ///
    /// let policy = RetryPolicy::transient().honour_retry_after(false);
    /// assert!(!policy.honours_retry_after());
    /// ```
    pub fn honour_retry_after(mut self, on: bool) -> Self {
        self.honour_retry_after = on;
        self
    }

    /// Caps the wait a `Retry-After` can ask for (default
    /// [`DEFAULT_MAX_RETRY_AFTER`](RetryPolicy::DEFAULT_MAX_RETRY_AFTER)).
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::RetryPolicy;
    ///
    /// let policy = RetryPolicy::transient().max_retry_after(Duration::from_secs(60));
    /// assert_eq!(policy.max_retry_after_delay(), Duration::from_secs(60));
    /// ```
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Whether a response with this status (not 200) is retried.
    ///
    /// ```
    /// use sse_proto::RetryPolicy;
    ///
    /// assert!(!RetryPolicy::transient().retries(404));
    /// ```
    pub fn retries(&self, status: u16) -> bool {
        match &self.statuses {
            Statuses::List(list) => list.contains(&status),
            Statuses::Predicate(retries) => retries(status),
        }
    }

    /// Whether `Retry-After` is honoured.
    ///
    /// ```
    /// use sse_proto::RetryPolicy;
    ///
    /// assert!(RetryPolicy::transient().honours_retry_after());
    /// ```
    pub fn honours_retry_after(&self) -> bool {
        self.honour_retry_after
    }

    /// The longest `Retry-After` wait honoured.
    ///
    /// ```
    /// use sse_proto::RetryPolicy;
    ///
    /// assert_eq!(
    ///     RetryPolicy::never().max_retry_after_delay(),
    ///     RetryPolicy::DEFAULT_MAX_RETRY_AFTER,
    /// );
    /// ```
    pub fn max_retry_after_delay(&self) -> Duration {
        self.max_retry_after
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::never()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first outputs of SplitMix64 seeded with 0, from the reference
    /// implementation (Vigna's splitmix64.c).
    #[test]
    fn splitmix64_reference_values() {
        let mut state = 0;
        assert_eq!(splitmix64(&mut state), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(&mut state), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(splitmix64(&mut state), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let backoff = Backoff::new()
            .jitter_percent(50)
            .max_delay(Duration::from_secs(60));
        let mut rng = 1;
        for n in 1..=10 {
            let d = backoff.delay(Duration::from_secs(1), n, &mut rng);
            let plain = Backoff {
                jitter_percent: 0,
                ..backoff
            }
            .delay(Duration::from_secs(1), n, &mut 0);
            let cap = Duration::from_secs(60);
            assert!(d >= Duration::from_secs(1) && d <= cap, "{n}: {d:?}");
            if plain * 3 / 2 <= cap {
                assert!(d >= plain && d <= plain * 3 / 2, "{n}: {d:?}");
            } else {
                assert!(d >= cap - plain / 2, "{n}: {d:?}");
            }
        }
    }

    /// Clients that all reached the cap do not all wait exactly the cap: they
    /// spread over its last `jitter_percent`.
    #[test]
    fn jitter_spreads_clients_at_the_cap() {
        let backoff = Backoff::new().max_delay(Duration::from_secs(10));
        let waits: alloc::vec::Vec<u64> = (0..200u64)
            .map(|seed| {
                let mut rng = seed;
                millis(backoff.delay(Duration::from_secs(1), 20, &mut rng))
            })
            .collect();
        assert!(waits.iter().all(|&w| (5_000..=10_000).contains(&w)));
        let below = waits.iter().filter(|&&w| w < 7_500).count();
        assert!(
            (60..=140).contains(&below),
            "{below} of 200 in the lower half"
        );
    }

    #[test]
    fn server_retry_above_the_cap_wins() {
        let backoff = Backoff::new()
            .max_delay(Duration::from_secs(1))
            .jitter_percent(0);
        assert_eq!(
            backoff.delay(Duration::from_secs(5), 3, &mut 0),
            Duration::from_secs(5)
        );
    }

    /// Found by the `connection` fuzz target: with a reconnection time of
    /// 75.956223 s the backoff waited 75.956 s, shorter than the reconnection time.
    #[test]
    fn a_base_with_a_fraction_of_a_millisecond_is_not_rounded_below() {
        let backoff = Backoff::new()
            .jitter_percent(0)
            .max_delay(Duration::from_secs(600));
        let base = Duration::from_micros(75_956_223);
        assert_eq!(backoff.delay(base, 1, &mut 0), base);
        assert_eq!(
            backoff.delay(base, 2, &mut 0),
            Duration::from_millis(151_912)
        );
        let base = Duration::from_micros(1500);
        assert!(Backoff::new().delay(base, 1, &mut 7) >= base);
    }

    #[test]
    fn huge_values_saturate() {
        let backoff = Backoff::new().max_delay(Duration::MAX);
        let d = backoff.delay(Duration::from_millis(u64::MAX / 2), 100, &mut 0);
        assert_eq!(d, Duration::from_millis(u64::MAX));
        assert_eq!(
            Backoff::new()
                .multiplier_percent(0)
                .jitter_percent(0)
                .delay(Duration::from_secs(1), 5, &mut 0),
            Duration::from_secs(1)
        );
    }
}

/// When a connection is reestablished ([`ConnectionConfig::reconnect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReconnectPolicy {
    /// Whenever the stream ends or fails (unless it failed for good: a 204, another
    /// status, a wrong content type): the spec's EventSource.
    Always,
    /// Only when the connection failed: a network error, an idle timeout, a status
    /// the [`RetryPolicy`] retries, or a body that ended in the middle of an event. A
    /// body that the server ended cleanly, between events, finishes the stream
    /// ([`ConnectionEvent::Ended`](crate::ConnectionEvent::Ended)).
    OnError,
    /// Never: a clean end finishes the stream, and any error fails it.
    Never,
}
