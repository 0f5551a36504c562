//! Processing-model vectors for the EventSource connection, and the runner that
//! plays them through a layer.
//!
//! The parser vectors check bytes in, items out. These check the reconnecting
//! client: a scenario (`vectors/connection/*.json`, format in
//! `vectors/connection/README.md`) is a URL, a configuration, and a script of
//! timestamped inputs (connect, a response head, body bytes, end of body, a network
//! error, a timer firing, `close()`), each with the outputs expected right after it,
//! in the documented drain order: body items, then connection events, then the
//! request to send; plus, where the vector says, the next deadline and the
//! `readyState`.
//!
//! A layer under test is anything that can play a [`Scenario`] and report a
//! [`StepRun`] per step. [`proto_layer`] drives [`sse_proto::Connection`] directly;
//! an adapter with a mock transport and a paused clock is checked with one line:
//!
//! ```
//! conformance::connection::assert_conformance("sse-proto Connection", conformance::connection::proto_layer);
//! ```
//!
//! Every scenario runs with each body step fed whole, one byte at a time, and in
//! seeded random chunks; the outputs must not depend on it.

use std::fmt::{self, Write as _};

use serde_json::{Map, Value};
use sse_proto::{
    Backoff, Config, Connection, ConnectionConfig, ConnectionError, ConnectionEvent, ReadyState,
    ReconnectPolicy, RequestError, RetryPolicy, Time,
};

use crate::{
    Chunking, Outcome, bytes, first_failures, load, mismatch, outcome, panic_on_failures,
    random_chunks, side_by_side,
};

/// The scenario files, compiled in so that any crate can run them without paths.
pub const FILES: &[(&str, &str)] = &[
    ("open.json", include_str!("../vectors/connection/open.json")),
    (
        "redirect.json",
        include_str!("../vectors/connection/redirect.json"),
    ),
    (
        "reconnect.json",
        include_str!("../vectors/connection/reconnect.json"),
    ),
    (
        "close.json",
        include_str!("../vectors/connection/close.json"),
    ),
    (
        "idle-timeout.json",
        include_str!("../vectors/connection/idle-timeout.json"),
    ),
    (
        "backoff.json",
        include_str!("../vectors/connection/backoff.json"),
    ),
    (
        "retry-policy.json",
        include_str!("../vectors/connection/retry-policy.json"),
    ),
    (
        "request.json",
        include_str!("../vectors/connection/request.json"),
    ),
    (
        "reconnect-policy.json",
        include_str!("../vectors/connection/reconnect-policy.json"),
    ),
    (
        "stream.json",
        include_str!("../vectors/connection/stream.json"),
    ),
];

/// One scripted scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Unique name.
    pub name: String,
    /// The spec rule or option it tests.
    pub spec: String,
    /// The file it came from.
    pub file: &'static str,
    /// The URL given to the constructor.
    pub url: String,
    /// The configuration.
    pub config: ConnectionConfig,
    /// Whether the vector leaves the configuration at its defaults (no `config`
    /// key): what a program given only the URL must do.
    pub default_config: bool,
    /// The script.
    pub steps: Vec<Step>,
}

/// One input at one time, and what must come out of it.
#[derive(Debug, Clone)]
pub struct Step {
    /// The time of the input, in milliseconds since the epoch (the clock starts at 0).
    pub at: u64,
    /// The input.
    pub input: Input,
    /// The outputs, in drain order.
    pub expect: Vec<Output>,
    /// The deadline `poll_timeout` must give afterwards, if the vector says
    /// (`Some(None)`: no deadline).
    pub timeout: Option<Option<u64>>,
    /// The `readyState` afterwards, if the vector says.
    pub state: Option<ReadyState>,
}

/// What happens at a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// `Connection::new` (the `EventSource` constructor).
    Connect,
    /// A response head.
    Response {
        /// The status.
        status: u16,
        /// The headers, in order.
        headers: Vec<(String, String)>,
    },
    /// Body bytes, in chunks (the runner chooses the chunking).
    Body(Vec<Vec<u8>>),
    /// The end of the response body.
    End,
    /// A network error.
    Error,
    /// The timer fires.
    Timeout,
    /// `close()`.
    Close,
}

/// A request as the layer sent it. Header names are compared case-insensitively,
/// headers in any order, and URLs without an explicit default port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    /// The method.
    pub method: String,
    /// The URL.
    pub url: String,
    /// The headers, names lower-cased, sorted.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
}

impl SentRequest {
    /// A request, normalising the headers for comparison.
    pub fn new(
        method: impl Into<String>,
        url: impl Into<String>,
        headers: impl IntoIterator<Item = (String, String)>,
        body: Option<Vec<u8>>,
    ) -> Self {
        let mut headers: Vec<_> = headers
            .into_iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v))
            .collect();
        headers.sort();
        SentRequest {
            method: method.into(),
            url: without_default_port(url.into()),
            headers,
            body,
        }
    }
}

/// `url` without an explicit default port (`:443` for `https`, `:80` for `http`),
/// which HTTP clients that parse URLs as the URL Standard does leave out.
fn without_default_port(mut url: String) -> String {
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        let Some(rest) = url.get(scheme.len()..).filter(|_| url.starts_with(scheme)) else {
            continue;
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if rest[..end].ends_with(port) {
            let at = scheme.len() + end - port.len();
            url.replace_range(at..at + port.len(), "");
        }
        break;
    }
    url
}

/// Something that came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A request to send.
    Request(SentRequest),
    /// `ConnectionEvent::Open`.
    Open,
    /// `ConnectionEvent::Reconnecting`: the error code and the time of the next
    /// request.
    Reconnecting {
        /// [`error_code`] of the error.
        error: String,
        /// When, in milliseconds.
        at: u64,
    },
    /// `ConnectionEvent::Ended`: the stream finished cleanly, not reestablished.
    Ended,
    /// `ConnectionEvent::Failed`.
    Failed {
        /// [`error_code`] of the error.
        error: String,
        /// Whether `max_retries` ran out.
        retries_exhausted: bool,
    },
    /// A body item (event, retry, comment, limit error), as in the parser vectors.
    Item(Outcome),
    /// The constructor refused: [`request_error_code`] of the error.
    RequestError(String),
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Request(r) => {
                write!(f, "request {} {}", r.method, r.url)?;
                for (n, v) in &r.headers {
                    write!(f, " [{n}: {v}]")?;
                }
                if let Some(body) = &r.body {
                    write!(f, " body {:?}", String::from_utf8_lossy(body))?;
                }
                Ok(())
            }
            Output::Open => f.write_str("open"),
            Output::Ended => f.write_str("ended"),
            Output::Reconnecting { error, at } => write!(f, "reconnecting ({error}) at {at}"),
            Output::Failed {
                error,
                retries_exhausted,
            } => {
                write!(f, "failed ({error})")?;
                if *retries_exhausted {
                    f.write_str(", retries exhausted")?;
                }
                Ok(())
            }
            Output::Item(item) => item.fmt(f),
            Output::RequestError(code) => write!(f, "connect error {code}"),
        }
    }
}

/// What a layer reports after one step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepRun {
    /// The outputs, in drain order.
    pub outputs: Vec<Output>,
    /// `poll_timeout`, in milliseconds.
    pub timeout: Option<u64>,
    /// `readyState` (`None` before a connection exists).
    pub state: Option<ReadyState>,
}

/// The vectors' code for a connection error: `status <n>`, `content_type`,
/// `too_many_redirects`, `end_of_stream`, `network`, `idle_timeout`,
/// `response_timeout`, `insecure_redirect`, `body_to_other_origin`.
pub fn error_code(error: &ConnectionError) -> String {
    match error {
        ConnectionError::Status(status) => format!("status {status}"),
        ConnectionError::ContentType => "content_type".into(),
        ConnectionError::TooManyRedirects => "too_many_redirects".into(),
        ConnectionError::EndOfStream => "end_of_stream".into(),
        ConnectionError::Network => "network".into(),
        ConnectionError::IdleTimeout => "idle_timeout".into(),
        ConnectionError::ResponseTimeout => "response_timeout".into(),
        ConnectionError::InsecureRedirect => "insecure_redirect".into(),
        ConnectionError::BodyToOtherOrigin => "body_to_other_origin".into(),
        _ => "other".into(),
    }
}

/// The vectors' code for a constructor error: `invalid_url`, `unsupported_scheme`,
/// `invalid_method`, `invalid_header`, `invalid_last_event_id`.
pub fn request_error_code(error: &RequestError) -> String {
    match error {
        RequestError::InvalidUrl => "invalid_url",
        RequestError::UnsupportedScheme => "unsupported_scheme",
        RequestError::InvalidMethod => "invalid_method",
        RequestError::InvalidHeader => "invalid_header",
        RequestError::InvalidLastEventId => "invalid_last_event_id",
        _ => "other",
    }
    .to_string()
}

/// The output for a connection event.
pub fn event_output(event: &ConnectionEvent) -> Output {
    match event {
        ConnectionEvent::Open => Output::Open,
        ConnectionEvent::Reconnecting { error, at } => Output::Reconnecting {
            error: error_code(error),
            at: at.as_millis(),
        },
        ConnectionEvent::Failed {
            error,
            retries_exhausted,
        } => Output::Failed {
            error: error_code(error),
            retries_exhausted: *retries_exhausted,
        },
        ConnectionEvent::Ended => Output::Ended,
        _ => Output::Failed {
            error: "unknown event".into(),
            retries_exhausted: false,
        },
    }
}

/// Drains a connection in the documented order (events, then the request) into
/// `outputs`.
pub fn drain(conn: &mut Connection, outputs: &mut Vec<Output>) {
    while let Some(event) = conn.poll_event() {
        outputs.push(event_output(&event));
    }
    if let Some(request) = conn.poll_request() {
        outputs.push(Output::Request(SentRequest::new(
            request.method(),
            request.url(),
            request
                .headers()
                .map(|(n, v)| (n.to_string(), v.to_string())),
            request.body().map(<[u8]>::to_vec),
        )));
    }
}

/// Plays a scenario through [`sse_proto::Connection`] directly: the reference layer.
pub fn proto_layer(scenario: &Scenario) -> Vec<StepRun> {
    let mut conn: Option<Connection> = None;
    let mut runs = Vec::new();
    for step in &scenario.steps {
        let now = Time::from_millis(step.at);
        let mut outputs = Vec::new();
        match (&step.input, conn.as_mut()) {
            (Input::Connect, _) => {
                match Connection::new(now, &scenario.url, scenario.config.clone()) {
                    Ok(c) => conn = Some(c),
                    Err(e) => outputs.push(Output::RequestError(request_error_code(&e))),
                }
            }
            (_, None) => panic!("{}: an input before connect", scenario.name),
            (Input::Response { status, headers }, Some(c)) => {
                c.handle_response(
                    now,
                    *status,
                    headers.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())),
                );
            }
            (Input::Body(chunks), Some(c)) => {
                for chunk in chunks {
                    let mut input: &[u8] = chunk;
                    loop {
                        match c.handle_body(now, &mut input) {
                            Ok(Some(item)) => {
                                outputs.extend(Outcome::from_item(&item).map(Output::Item));
                            }
                            Ok(None) => break,
                            Err(e) => outputs.push(Output::Item(Outcome::from_error(&e))),
                        }
                    }
                }
            }
            (Input::End, Some(c)) => c.handle_end(now),
            (Input::Error, Some(c)) => c.handle_error(now),
            (Input::Timeout, Some(c)) => c.handle_timeout(now),
            (Input::Close, Some(c)) => c.close(),
        }
        if let Some(c) = conn.as_mut() {
            drain(c, &mut outputs);
        }
        runs.push(StepRun {
            outputs,
            timeout: conn
                .as_ref()
                .and_then(Connection::poll_timeout)
                .map(Time::as_millis),
            state: conn.as_ref().map(Connection::ready_state),
        });
    }
    runs
}

/// Loads every scenario.
pub fn scenarios() -> Vec<Scenario> {
    load(FILES, "scenarios", parse_scenario)
}

/// Fails on keys a vector object may not have: typos must not pass silently.
fn only_keys(object: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(format!("unknown key {key:?} in {what}")),
        None => Ok(()),
    }
}

fn ms(v: &Value, key: &str) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| format!("{key} is not milliseconds"))
}

fn string(v: &Value, key: &str) -> Result<String, String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{key} is not a string"))
}

fn pairs(v: &Value, key: &str) -> Result<Vec<(String, String)>, String> {
    let list = v.as_array().ok_or_else(|| format!("{key} is not a list"))?;
    list.iter()
        .map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([n, v]) => Ok((string(n, key)?, string(v, key)?)),
            _ => Err(format!("{key}: {pair} is not a [name, value] pair")),
        })
        .collect()
}

fn parse_scenario(file: &'static str, v: &Value) -> Result<Scenario, String> {
    let object = v.as_object().ok_or("a scenario is not an object")?;
    let name = string(&v["name"], "name")?;
    let ctx = |e: String| format!("{name}: {e}");
    only_keys(
        object,
        &["name", "spec", "url", "config", "steps"],
        "scenario",
    )
    .map_err(ctx)?;
    let spec = v["spec"].as_str().unwrap_or_default().to_string();
    let url = string(&v["url"], "url").map_err(ctx)?;
    let config = match v.get("config") {
        None => ConnectionConfig::new(),
        Some(c) => parse_config(c).map_err(ctx)?,
    };
    let steps = v["steps"]
        .as_array()
        .ok_or_else(|| ctx("no steps array".into()))?
        .iter()
        .enumerate()
        .map(|(i, s)| parse_step(s).map_err(|e| ctx(format!("step {i}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if steps.first().map(|s| &s.input) != Some(&Input::Connect) {
        return Err(ctx("the first step must be connect".into()));
    }
    Ok(Scenario {
        name,
        spec,
        file,
        url,
        config,
        default_config: v.get("config").is_none(),
        steps,
    })
}

fn parse_config(v: &Value) -> Result<ConnectionConfig, String> {
    let object = v.as_object().ok_or("config is not an object")?;
    only_keys(
        object,
        &[
            "method",
            "headers",
            "body",
            "last_event_id",
            "reconnection_time",
            "min_reconnection_time",
            "max_redirects",
            "backoff",
            "reset_after",
            "max_retries",
            "idle_timeout",
            "response_timeout",
            "sensitive_headers",
            "allow_insecure_redirect",
            "retry_statuses",
            "retry_after",
            "max_retry_after",
            "comments",
            "reconnect",
        ],
        "config",
    )?;
    let mut config = ConnectionConfig::new();
    let duration = |key: &str| -> Result<Option<std::time::Duration>, String> {
        v.get(key)
            .map(|d| ms(d, key).map(std::time::Duration::from_millis))
            .transpose()
    };
    if let Some(m) = v.get("method") {
        config = config.method(string(m, "method")?);
    }
    if let Some(h) = v.get("headers") {
        for (name, value) in pairs(h, "headers")? {
            config = config.header(name, value);
        }
    }
    if let Some(b) = v.get("body") {
        config = config.body(bytes(b)?);
    }
    if let Some(id) = v.get("last_event_id") {
        config = config.last_event_id(string(id, "last_event_id")?);
    }
    if let Some(d) = duration("reconnection_time")? {
        config = config.reconnection_time(d);
    }
    if let Some(d) = duration("min_reconnection_time")? {
        config = config.min_reconnection_time(d);
    }
    if let Some(n) = v.get("max_redirects") {
        let n = ms(n, "max_redirects")?;
        config = config.max_redirects(u32::try_from(n).map_err(|e| e.to_string())?);
    }
    if let Some(b) = v.get("backoff") {
        let object = b.as_object().ok_or("backoff is not an object")?;
        only_keys(
            object,
            &["multiplier_percent", "max_delay", "jitter_percent", "seed"],
            "backoff",
        )?;
        let mut backoff = Backoff::new();
        let int = |key: &str| -> Result<Option<u64>, String> {
            b.get(key).map(|n| ms(n, key)).transpose()
        };
        if let Some(n) = int("multiplier_percent")? {
            backoff = backoff.multiplier_percent(u32::try_from(n).map_err(|e| e.to_string())?);
        }
        if let Some(n) = int("max_delay")? {
            backoff = backoff.max_delay(std::time::Duration::from_millis(n));
        }
        if let Some(n) = int("jitter_percent")? {
            backoff = backoff.jitter_percent(u32::try_from(n).map_err(|e| e.to_string())?);
        }
        if let Some(n) = int("seed")? {
            backoff = backoff.seed(n);
        }
        config = config.backoff(backoff);
    }
    if let Some(d) = duration("reset_after")? {
        config = config.reset_after(d);
    }
    if let Some(n) = v.get("max_retries") {
        let n = ms(n, "max_retries")?;
        config = config.max_retries(u32::try_from(n).map_err(|e| e.to_string())?);
    }
    // The timeouts: a number of milliseconds, or null for none (the spec's
    // behaviour); absent means the default.
    for (key, set) in [
        (
            "idle_timeout",
            ConnectionConfig::idle_timeout as fn(_, Option<_>) -> _,
        ),
        ("response_timeout", ConnectionConfig::response_timeout),
    ] {
        match v.get(key) {
            None => {}
            Some(Value::Null) => config = set(config, None),
            Some(d) => config = set(config, Some(std::time::Duration::from_millis(ms(d, key)?))),
        }
    }
    if let Some(names) = v.get("sensitive_headers") {
        let names = names.as_array().ok_or("sensitive_headers is not a list")?;
        for name in names {
            config = config.sensitive_header(string(name, "sensitive_headers")?);
        }
    }
    if let Some(on) = v.get("allow_insecure_redirect") {
        config = config.allow_insecure_redirect(
            on.as_bool()
                .ok_or("allow_insecure_redirect is not a bool")?,
        );
    }
    if let Some(list) = v.get("retry_statuses") {
        let statuses = list
            .as_array()
            .ok_or("retry_statuses is not a list")?
            .iter()
            .map(|s| {
                s.as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .ok_or_else(|| format!("{s} is not a status"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut policy = RetryPolicy::statuses(&statuses);
        if let Some(on) = v.get("retry_after") {
            policy = policy.honour_retry_after(on.as_bool().ok_or("retry_after is not a bool")?);
        }
        if let Some(d) = duration("max_retry_after")? {
            policy = policy.max_retry_after(d);
        }
        config = config.retry_policy(policy);
    } else if v.get("retry_after").is_some() || v.get("max_retry_after").is_some() {
        return Err("retry_after and max_retry_after need retry_statuses".into());
    }
    if let Some(on) = v.get("comments") {
        let on = on.as_bool().ok_or("comments is not a bool")?;
        config = config.parser(Config::new().comments(on));
    }
    if let Some(policy) = v.get("reconnect") {
        config = config.reconnect(match policy.as_str() {
            Some("always") => ReconnectPolicy::Always,
            Some("on_error") => ReconnectPolicy::OnError,
            Some("never") => ReconnectPolicy::Never,
            _ => {
                return Err(format!(
                    "reconnect {policy} is not always, on_error or never"
                ));
            }
        });
    }
    Ok(config)
}

fn parse_step(v: &Value) -> Result<Step, String> {
    let object = v.as_object().ok_or("a step is not an object")?;
    only_keys(
        object,
        &[
            "at", "do", "status", "headers", "body", "expect", "timeout", "state",
        ],
        "step",
    )?;
    let at = ms(&v["at"], "at")?;
    let input = match v["do"].as_str().ok_or("no \"do\"")? {
        "connect" => Input::Connect,
        "response" => Input::Response {
            status: v["status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .ok_or("a response needs a status")?,
            headers: match v.get("headers") {
                Some(h) => pairs(h, "headers")?,
                None => Vec::new(),
            },
        },
        "body" => Input::Body(vec![bytes(
            v.get("body").ok_or("a body step needs a body")?,
        )?]),
        "end" => Input::End,
        "error" => Input::Error,
        "timeout" => Input::Timeout,
        "close" => Input::Close,
        other => return Err(format!("unknown input {other:?}")),
    };
    let expect = v["expect"]
        .as_array()
        .ok_or("no expect array")?
        .iter()
        .map(parse_output)
        .collect::<Result<_, _>>()?;
    let timeout = match v.get("timeout") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(t) => Some(Some(ms(t, "timeout")?)),
    };
    let state = match v.get("state").map(|s| s.as_str()) {
        None => None,
        Some(Some("connecting")) => Some(ReadyState::Connecting),
        Some(Some("open")) => Some(ReadyState::Open),
        Some(Some("closed")) => Some(ReadyState::Closed),
        Some(other) => return Err(format!("unknown state {other:?}")),
    };
    Ok(Step {
        at,
        input,
        expect,
        timeout,
        state,
    })
}

fn parse_output(v: &Value) -> Result<Output, String> {
    if let Some(r) = v.get("request") {
        let object = r.as_object().ok_or("request is not an object")?;
        only_keys(object, &["method", "url", "headers", "body"], "request")?;
        return Ok(Output::Request(SentRequest::new(
            string(&r["method"], "method")?,
            string(&r["url"], "url")?,
            pairs(&r["headers"], "headers")?,
            r.get("body").map(bytes).transpose()?,
        )));
    }
    if v.get("open").is_some() {
        return Ok(Output::Open);
    }
    if v.get("ended").is_some() {
        return Ok(Output::Ended);
    }
    if let Some(r) = v.get("reconnecting") {
        return Ok(Output::Reconnecting {
            error: string(&r["error"], "error")?,
            at: ms(&r["at"], "at")?,
        });
    }
    if let Some(f) = v.get("failed") {
        return Ok(Output::Failed {
            error: string(&f["error"], "error")?,
            retries_exhausted: f
                .get("retries_exhausted")
                .map(|b| b.as_bool().ok_or("retries_exhausted is not a bool"))
                .transpose()?
                .unwrap_or(false),
        });
    }
    if let Some(code) = v.get("connect_error") {
        return Ok(Output::RequestError(string(code, "connect_error")?));
    }
    outcome(v).map(Output::Item)
}

/// The scenario with every body step cut by `chunking`.
pub fn rechunk(scenario: &Scenario, chunking: &Chunking) -> Scenario {
    let mut out = scenario.clone();
    for step in &mut out.steps {
        if let Input::Body(chunks) = &mut step.input {
            let whole = chunks.concat();
            *chunks = match chunking {
                Chunking::Whole => vec![whole],
                Chunking::Bytewise => whole.chunks(1).map(<[u8]>::to_vec).collect(),
                Chunking::SplitAt(at) => {
                    let at = (*at).min(whole.len());
                    vec![whole[..at].to_vec(), whole[at..].to_vec()]
                }
                Chunking::Random(seed) => random_chunks(&whole, *seed)
                    .into_iter()
                    .map(<[u8]>::to_vec)
                    .collect(),
            };
        }
    }
    out
}

/// The chunkings every scenario goes through.
pub fn chunkings() -> Vec<Chunking> {
    let mut all = vec![Chunking::Whole, Chunking::Bytewise];
    all.extend((1..=4).map(Chunking::Random));
    all
}

/// Checks a layer's runs against a scenario; `None` if they match.
pub fn compare(scenario: &Scenario, runs: &[StepRun]) -> Option<String> {
    let mut report = String::new();
    if runs.len() != scenario.steps.len() {
        let _ = writeln!(
            report,
            "  the layer reported {} steps, the scenario has {}",
            runs.len(),
            scenario.steps.len()
        );
    }
    for (i, (step, run)) in scenario.steps.iter().zip(runs).enumerate() {
        let outputs_ok = run.outputs == step.expect;
        let timeout_ok = step.timeout.is_none_or(|t| t == run.timeout);
        let state_ok = step.state.is_none_or(|s| Some(s) == run.state);
        if outputs_ok && timeout_ok && state_ok {
            continue;
        }
        let _ = writeln!(report, "  step {i} (at {} ms, {:?}):", step.at, step.input);
        if !outputs_ok {
            let _ = writeln!(report, "    outputs (expected | actual):");
            side_by_side(&mut report, "    ", 3, &step.expect, &run.outputs, true);
        }
        if !timeout_ok {
            mismatch(
                &mut report,
                "    timeout",
                step.timeout.flatten(),
                run.timeout,
            );
        }
        if !state_ok {
            mismatch(&mut report, "    state", step.state, run.state);
        }
        // Later steps depend on this one; the first divergence is what matters.
        break;
    }
    if report.is_empty() {
        None
    } else {
        Some(format!("  spec: {}\n{report}", scenario.spec))
    }
}

/// A scenario that failed under one chunking.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The scenario's name.
    pub scenario: String,
    /// Its file.
    pub file: &'static str,
    /// How its body steps were chunked.
    pub chunking: Chunking,
    /// A readable report.
    pub report: String,
}

/// Runs every scenario through `layer` under every chunking; returns the failures
/// (at most one per scenario).
pub fn check_all<L>(layer: L) -> Vec<Failure>
where
    L: Fn(&Scenario) -> Vec<StepRun>,
{
    check_scenarios(&scenarios(), layer)
}

/// [`check_all`] over a chosen list of scenarios.
pub fn check_scenarios<L>(scenarios: &[Scenario], layer: L) -> Vec<Failure>
where
    L: Fn(&Scenario) -> Vec<StepRun>,
{
    check_scenarios_in(scenarios, &chunkings(), layer)
}

/// [`check_scenarios`] with the bodies cut only as `chunkings` say.
pub fn check_scenarios_in<L>(
    scenarios: &[Scenario],
    chunkings: &[Chunking],
    layer: L,
) -> Vec<Failure>
where
    L: Fn(&Scenario) -> Vec<StepRun>,
{
    first_failures(
        scenarios,
        |_| chunkings.to_vec(),
        |scenario, chunking| {
            let chunked = rechunk(scenario, chunking);
            compare(&chunked, &layer(&chunked))
        },
    )
    .into_iter()
    .map(|(scenario, chunking, report)| Failure {
        scenario: scenario.name.clone(),
        file: scenario.file,
        chunking,
        report,
    })
    .collect()
}

/// Panics with a readable report unless every scenario passes through `layer`
/// under every chunking.
pub fn assert_conformance<L>(layer_name: &str, layer: L)
where
    L: Fn(&Scenario) -> Vec<StepRun>,
{
    let total = scenarios().len();
    let failures = check_all(layer);
    panic_on_failures(layer_name, total, "connection scenarios", &failures, |f| {
        format!(
            "{} (connection/{}), body {}:\n{}",
            f.scenario, f.file, f.chunking, f.report
        )
    });
}

/// Scenarios where an input arrives in the very millisecond a deadline falls due.
/// The scripted reference applies the input and fires the timer only at an explicit
/// `timeout` step; a driver on a clock fires the due timer as the clock reaches it,
/// before the input. Both orders are correct (the two things happen at once); the
/// outputs only move from one step to the next.
pub const SAME_INSTANT_TIES: &[&str] = &[
    // The reconnection is due at once (retry 0, no floor): the request goes out with
    // the `end` step rather than with the `timeout` step after it.
    "retry-zero-exact-with-zero-floor",
    // A keep-alive arrives exactly at the idle deadline: the timer wins.
    "idle-timeout-comments-count",
];

/// [`assert_conformance`] for a driver on a clock (timers fire as the clock reaches
/// them, before a step's input): every scenario passes but the
/// [`SAME_INSTANT_TIES`], each of which fails (by that one-step shift; a tie that
/// passes must be unlisted).
pub fn assert_conformance_on_a_clock<L>(layer_name: &str, layer: L)
where
    L: Fn(&Scenario) -> Vec<StepRun>,
{
    assert_conformance_on_a_clock_in(layer_name, &chunkings(), layer);
}

/// [`assert_conformance_on_a_clock`] with the bodies cut only as `chunkings` say:
/// for a layer slow to run (real sockets) whose chunking other layers cover.
pub fn assert_conformance_on_a_clock_in<L>(layer_name: &str, chunkings: &[Chunking], layer: L)
where
    L: Fn(&Scenario) -> Vec<StepRun>,
{
    let (ties, rest): (Vec<Scenario>, Vec<Scenario>) = scenarios()
        .into_iter()
        .partition(|s| SAME_INSTANT_TIES.contains(&s.name.as_str()));
    assert_eq!(
        ties.len(),
        SAME_INSTANT_TIES.len(),
        "a listed scenario is gone"
    );
    let failures = check_scenarios_in(&rest, chunkings, &layer);
    panic_on_failures(
        layer_name,
        rest.len(),
        "connection scenarios",
        &failures,
        |f| {
            format!(
                "{} (connection/{}), body {}:\n{}",
                f.scenario, f.file, f.chunking, f.report
            )
        },
    );
    for scenario in &ties {
        let failures = check_scenarios_in(core::slice::from_ref(scenario), chunkings, &layer);
        assert_eq!(failures.len(), 1, "{} now passes: unlist it", scenario.name);
    }
}
