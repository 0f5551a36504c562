//! Scenario tests for the `Connection` state machine: a scripted server and a fake
//! clock, no sockets. `Harness` drives one connection by hand, step by step;
//! `Peer::run` plays a whole script of server replies and records every request,
//! so that loops (204, `retry: 0`, `max_retries`) can be checked over many rounds.

#![cfg(feature = "std")]

use core::time::Duration;

use proptest::prelude::*;
use sse_proto::{
    Backoff, Connection, ConnectionConfig, ConnectionError, ConnectionEvent, Item, OwnedEvent,
    ReadyState, ReconnectPolicy, RequestError, RetryPolicy, Time,
};

const URL: &str = "https://example.com/events";
const SSE: [(&str, &str); 1] = [("Content-Type", "text/event-stream")];

fn ms(n: u64) -> Time {
    Time::from_millis(n)
}

/// A request as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sent {
    at: Time,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Sent {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One connection, a fake clock, and everything that came out, drained in the
/// documented order after every input.
struct Harness {
    conn: Connection,
    now: Time,
    events: Vec<ConnectionEvent>,
    requests: Vec<Sent>,
    messages: Vec<OwnedEvent>,
}

impl Harness {
    fn new(config: ConnectionConfig) -> Self {
        Self::at(URL, config)
    }

    fn at(url: &str, config: ConnectionConfig) -> Self {
        let conn = Connection::new(Time::ZERO, url, config).expect("valid");
        let mut h = Harness {
            conn,
            now: Time::ZERO,
            events: Vec::new(),
            requests: Vec::new(),
            messages: Vec::new(),
        };
        h.drain();
        h
    }

    fn drain(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            self.events.push(event);
        }
        if let Some(request) = self.conn.poll_request() {
            self.requests.push(Sent {
                at: self.now,
                method: request.method().to_string(),
                url: request.url().to_string(),
                headers: request
                    .headers()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                body: request.body().map(<[u8]>::to_vec),
            });
        }
    }

    fn set(&mut self, t: u64) {
        assert!(ms(t) >= self.now, "the fake clock is monotonic");
        self.now = ms(t);
    }

    fn respond(&mut self, t: u64, status: u16, headers: &[(&str, &str)]) {
        self.set(t);
        self.conn
            .handle_response(self.now, status, headers.iter().copied());
        self.drain();
    }

    fn open(&mut self, t: u64) {
        self.respond(t, 200, &SSE);
    }

    fn body(&mut self, t: u64, bytes: &[u8]) {
        self.set(t);
        let mut input = bytes;
        while let Some(item) = self
            .conn
            .handle_body(self.now, &mut input)
            .expect("no limit")
        {
            if let Item::Event(event) = item {
                self.messages.push(event.into_owned());
            }
        }
        self.drain();
    }

    fn end(&mut self, t: u64) {
        self.set(t);
        self.conn.handle_end(self.now);
        self.drain();
    }

    fn error(&mut self, t: u64) {
        self.set(t);
        self.conn.handle_error(self.now);
        self.drain();
    }

    fn close(&mut self, t: u64) {
        self.set(t);
        self.conn.close();
        self.drain();
    }

    /// Advances the clock to the deadline and fires it.
    fn fire(&mut self) -> Time {
        let deadline = self.conn.poll_timeout().expect("a deadline");
        self.now = self.now.max(deadline);
        self.conn.handle_timeout(self.now);
        self.drain();
        deadline
    }

    fn last_request(&self) -> &Sent {
        self.requests.last().expect("a request")
    }

    fn last_event(&self) -> ConnectionEvent {
        *self.events.last().expect("an event")
    }
}

fn reconnecting(error: ConnectionError, at: u64) -> ConnectionEvent {
    ConnectionEvent::Reconnecting { error, at: ms(at) }
}

fn failed(error: ConnectionError) -> ConnectionEvent {
    ConnectionEvent::Failed {
        error,
        retries_exhausted: false,
    }
}

// ----- Opening, failing -----

#[test]
fn first_request_carries_the_spec_headers_and_no_empty_last_event_id() {
    let h = Harness::new(ConnectionConfig::new());
    assert_eq!(h.conn.ready_state(), ReadyState::Connecting);
    let r = h.last_request();
    assert_eq!((r.method.as_str(), r.url.as_str()), ("GET", URL));
    assert_eq!(
        r.headers,
        [
            ("Accept".to_string(), "text/event-stream".to_string()),
            ("Cache-Control".to_string(), "no-cache".to_string()),
        ]
    );
    assert_eq!(r.body, None);
    // The response head is due within the default response timeout.
    assert_eq!(
        h.conn.poll_timeout(),
        Some(Time::ZERO.saturating_add(ConnectionConfig::DEFAULT_RESPONSE_TIMEOUT))
    );
}

#[test]
fn status_200_with_event_stream_opens_and_delivers() {
    let mut h = Harness::new(ConnectionConfig::new());
    h.open(10);
    assert_eq!(h.events, [ConnectionEvent::Open]);
    assert_eq!(h.conn.ready_state(), ReadyState::Open);
    h.body(11, b"event: greet\nid: 1\ndata: hi\n\n");
    assert_eq!(h.messages.len(), 1);
    assert_eq!(
        (
            h.messages[0].event_type(),
            h.messages[0].data(),
            h.messages[0].last_event_id()
        ),
        ("greet", "hi", "1")
    );
    assert_eq!(h.requests.len(), 1);
}

#[test]
fn content_type_essence_is_case_insensitive_and_allows_parameters() {
    for value in [
        "text/event-stream",
        "Text/Event-Stream",
        "TEXT/EVENT-STREAM; charset=utf-8",
        "text/event-stream ; charset=\"utf-8\"",
    ] {
        let mut h = Harness::new(ConnectionConfig::new());
        h.respond(5, 200, &[("content-type", value)]);
        assert_eq!(h.events, [ConnectionEvent::Open], "{value}");
    }
}

#[test]
fn non_200_statuses_fail_without_reconnecting() {
    for status in [204, 201, 206, 400, 401, 404, 500, 502, 503] {
        let mut h = Harness::new(ConnectionConfig::new());
        h.respond(5, status, &SSE);
        assert_eq!(
            h.events,
            [failed(ConnectionError::Status(status))],
            "{status}"
        );
        assert_eq!(h.conn.ready_state(), ReadyState::Closed);
        assert_eq!(h.conn.poll_timeout(), None);
        assert_eq!(h.requests.len(), 1);
    }
}

#[test]
fn wrong_or_missing_content_type_fails() {
    for headers in [
        &[("Content-Type", "text/plain")][..],
        &[("Content-Type", "text/event-streams")],
        &[("Content-Type", "application/json")],
        &[],
    ] {
        let mut h = Harness::new(ConnectionConfig::new());
        h.respond(5, 200, headers);
        assert_eq!(h.events, [failed(ConnectionError::ContentType)]);
        assert_eq!(h.conn.ready_state(), ReadyState::Closed);
    }
}

#[test]
fn body_of_a_failed_response_is_ignored() {
    let mut h = Harness::new(ConnectionConfig::new());
    h.respond(5, 500, &SSE);
    h.body(6, b"data: should not be seen\n\n");
    assert!(h.messages.is_empty());
}

#[test]
fn constructor_rejects_what_it_cannot_send() {
    let new = |url: &str, config| Connection::new(Time::ZERO, url, config).map(|_| ());
    let cfg = ConnectionConfig::new;
    assert_eq!(new("events", cfg()), Err(RequestError::InvalidUrl));
    assert_eq!(new("//example.com/x", cfg()), Err(RequestError::InvalidUrl));
    assert_eq!(new("http://", cfg()), Err(RequestError::InvalidUrl));
    assert_eq!(
        new("ws://example.com/", cfg()),
        Err(RequestError::UnsupportedScheme)
    );
    assert_eq!(
        new(URL, cfg().method("GET /x")),
        Err(RequestError::InvalidMethod)
    );
    assert_eq!(
        new(URL, cfg().header("Bad Name", "x")),
        Err(RequestError::InvalidHeader)
    );
    assert_eq!(
        new(URL, cfg().header("X", "a\nb")),
        Err(RequestError::InvalidHeader)
    );
    assert_eq!(
        new(URL, cfg().last_event_id("a\r\nX-Injected: 1")),
        Err(RequestError::InvalidLastEventId)
    );
    assert_eq!(
        new(URL, cfg().last_event_id("a\0b")),
        Err(RequestError::InvalidLastEventId)
    );
    assert_eq!(new(" https://example.com/ ", cfg()), Ok(()));
}

// ----- Reconnecting -----

#[test]
fn end_of_body_reconnects_after_the_reconnection_time_with_last_event_id() {
    let mut h = Harness::new(ConnectionConfig::new());
    h.open(10);
    h.body(20, b"id: 42\ndata: x\n\n");
    h.end(30);
    assert_eq!(
        h.last_event(),
        reconnecting(ConnectionError::EndOfStream, 3030)
    );
    assert_eq!(h.conn.ready_state(), ReadyState::Connecting);
    assert_eq!(h.conn.poll_timeout(), Some(ms(3030)));
    assert_eq!(h.requests.len(), 1, "no request before the delay");
    // An early timer does nothing.
    h.conn.handle_timeout(ms(3029));
    h.drain();
    assert_eq!(h.requests.len(), 1);
    h.fire();
    assert_eq!(h.requests.len(), 2);
    let r = h.last_request();
    assert_eq!(r.at, ms(3030));
    assert_eq!(r.url, URL);
    assert_eq!(r.header("Last-Event-ID"), Some("42"));
    // Firing again is harmless.
    h.conn.handle_timeout(ms(3030));
    h.drain();
    assert_eq!(h.requests.len(), 2);
}

#[test]
fn parser_is_seeded_with_the_last_event_id_after_reconnecting() {
    let mut h = Harness::new(ConnectionConfig::new());
    h.open(1);
    h.body(2, b"id: 7\ndata: a\n\n");
    h.end(3);
    h.fire();
    h.open(3010);
    h.body(3011, b"data: b\n\n");
    assert_eq!(h.messages[1].data(), "b");
    assert_eq!(h.messages[1].last_event_id(), "7");
    assert_eq!(h.conn.last_event_id(), "7");
}

#[test]
fn pending_event_is_discarded_at_end_of_body() {
    let mut h = Harness::new(ConnectionConfig::new());
    h.open(1);
    h.body(2, b"id: 1\ndata: complete\n\nid: 2\ndata: incompl");
    h.end(3);
    h.fire();
    assert_eq!(h.last_request().header("Last-Event-ID"), Some("1"));
    h.open(3010);
    h.body(3011, b"\n\n");
    assert_eq!(h.messages.len(), 1, "the unfinished event never dispatches");
    assert_eq!(h.conn.discarded_events(), 1);
    // A response that ends between events discards nothing.
    h.end(3012);
    assert_eq!(h.conn.discarded_events(), 1);
}

#[test]
fn empty_id_removes_the_last_event_id_header() {
    let mut h = Harness::new(ConnectionConfig::new().last_event_id("seed"));
    assert_eq!(h.last_request().header("Last-Event-ID"), Some("seed"));
    h.open(1);
    h.body(2, b"id\ndata: reset\n\n");
    assert_eq!(h.messages[0].last_event_id(), "");
    h.end(3);
    h.fire();
    assert_eq!(h.last_request().header("Last-Event-ID"), None);
}

#[test]
fn retry_field_changes_the_delay() {
    let mut h = Harness::new(ConnectionConfig::new());
    h.open(1);
    h.body(2, b"retry: 750\n\n");
    assert_eq!(h.conn.reconnection_time(), Duration::from_millis(750));
    h.end(10);
    assert_eq!(
        h.last_event(),
        reconnecting(ConnectionError::EndOfStream, 760)
    );
    // The reconnection time survives the reconnection.
    h.fire();
    h.open(800);
    h.error(900);
    assert_eq!(h.last_event(), reconnecting(ConnectionError::Network, 1650));
}

#[test]
fn invalid_retry_is_ignored_and_configured_default_applies() {
    let mut h =
        Harness::new(ConnectionConfig::new().reconnection_time(Duration::from_millis(1234)));
    h.open(1);
    h.body(2, b"retry: 1s\n\n");
    h.end(10);
    assert_eq!(
        h.last_event(),
        reconnecting(ConnectionError::EndOfStream, 1244)
    );
}

#[test]
fn network_error_before_the_response_reconnects_without_opening() {
    let mut h = Harness::new(ConnectionConfig::new());
    h.error(50);
    assert_eq!(h.events, [reconnecting(ConnectionError::Network, 3050)]);
    assert_eq!(h.conn.ready_state(), ReadyState::Connecting);
    h.fire();
    assert_eq!(h.requests.len(), 2);
    // End of body before any head is a network error too.
    h.end(3100);
    assert_eq!(h.last_event(), reconnecting(ConnectionError::Network, 6100));
}

#[test]
fn network_error_while_open_reconnects() {
    let mut h = Harness::new(ConnectionConfig::new());
    h.open(1);
    h.body(2, b"data: partial");
    h.error(5);
    assert_eq!(h.last_event(), reconnecting(ConnectionError::Network, 3005));
    assert!(h.messages.is_empty());
}

// ----- Redirects -----

#[test]
fn redirect_chain_with_relative_locations() {
    let mut h = Harness::at("https://a.example/x/y/stream", ConnectionConfig::new());
    h.respond(1, 301, &[("Location", "../moved")]);
    assert_eq!(h.last_request().url, "https://a.example/x/moved");
    h.respond(2, 302, &[("Location", "/root?q=1")]);
    assert_eq!(h.last_request().url, "https://a.example/root?q=1");
    h.respond(3, 307, &[("Location", "//b.example/other")]);
    assert_eq!(h.last_request().url, "https://b.example/other");
    h.respond(4, 308, &[("Location", "https://c.example/final#frag")]);
    assert_eq!(h.last_request().url, "https://c.example/final");
    assert!(h.events.is_empty(), "redirects are silent");
    h.open(5);
    assert_eq!(h.events, [ConnectionEvent::Open]);
    // The spec's url attribute is unchanged, and reconnection starts over there.
    assert_eq!(h.conn.url(), "https://a.example/x/y/stream");
    h.end(6);
    h.fire();
    assert_eq!(h.last_request().url, "https://a.example/x/y/stream");
}

#[test]
fn redirect_limit_is_enforced_per_fetch() {
    let mut h = Harness::new(ConnectionConfig::new().max_redirects(2));
    h.respond(1, 302, &[("Location", "/a")]);
    h.respond(2, 302, &[("Location", "/b")]);
    assert_eq!(h.requests.len(), 3);
    h.respond(3, 302, &[("Location", "/c")]);
    assert_eq!(h.events, [failed(ConnectionError::TooManyRedirects)]);
    assert_eq!(h.requests.len(), 3);
    assert_eq!(h.conn.ready_state(), ReadyState::Closed);

    // The count starts again with each reconnection.
    let mut h = Harness::new(ConnectionConfig::new().max_redirects(1));
    h.respond(1, 302, &[("Location", "/a")]);
    h.open(2);
    h.end(3);
    h.fire();
    h.respond(3100, 302, &[("Location", "/a")]);
    h.open(3101);
    assert_eq!(h.conn.ready_state(), ReadyState::Open);
}

#[test]
fn default_redirect_limit_is_twenty() {
    let mut h = Harness::new(ConnectionConfig::new());
    for i in 0..20 {
        h.respond(i, 307, &[("Location", "/again")]);
    }
    assert_eq!(h.requests.len(), 21);
    h.respond(21, 307, &[("Location", "/again")]);
    assert_eq!(h.events, [failed(ConnectionError::TooManyRedirects)]);
}

#[test]
fn redirect_without_usable_location_is_a_non_200_response() {
    for headers in [
        &[][..],
        &[("Location", "")][..],
        &[("Location", "mailto:x@example.com")],
        &[("Location", "/a\u{1}b")],
        &[("Location", "/a"), ("Location", "/b")],
    ] {
        let mut h = Harness::new(ConnectionConfig::new());
        h.respond(1, 302, headers);
        assert_eq!(
            h.events,
            [failed(ConnectionError::Status(302))],
            "{headers:?}"
        );
        assert_eq!(h.requests.len(), 1);
    }
}

#[test]
fn redirect_303_and_post_301_switch_to_get_without_body() {
    let post = || {
        ConnectionConfig::new()
            .method("POST")
            .header("Content-Type", "application/json")
            .header("X-Trace", "1")
            .body(b"{\"q\":1}".to_vec())
            .reconnect(ReconnectPolicy::Always)
    };
    for status in [301, 302, 303] {
        let mut h = Harness::new(post());
        assert_eq!(h.last_request().method, "POST");
        assert_eq!(h.last_request().body.as_deref(), Some(&b"{\"q\":1}"[..]));
        h.respond(1, status, &[("Location", "/next")]);
        let r = h.last_request();
        assert_eq!(r.method, "GET", "{status}");
        assert_eq!(r.body, None);
        assert_eq!(r.header("Content-Type"), None);
        assert_eq!(r.header("X-Trace"), Some("1"));
        // Reconnecting starts over with the configured request.
        h.open(2);
        h.end(3);
        h.fire();
        assert_eq!(h.last_request().method, "POST");
        assert!(h.last_request().body.is_some());
    }
    for status in [307, 308] {
        let mut h = Harness::new(post());
        h.respond(1, status, &[("Location", "/next")]);
        let r = h.last_request();
        assert_eq!(r.method, "POST");
        assert_eq!(r.body.as_deref(), Some(&b"{\"q\":1}"[..]));
        assert_eq!(r.header("Content-Type"), Some("application/json"));
    }
    // A PUT survives 301/302 but not 303.
    let mut h = Harness::new(ConnectionConfig::new().method("PUT").body(b"x".to_vec()));
    h.respond(1, 302, &[("Location", "/next")]);
    assert_eq!(h.last_request().method, "PUT");
    h.respond(2, 303, &[("Location", "/next")]);
    assert_eq!(h.last_request().method, "GET");
}

#[test]
fn cross_origin_redirect_drops_authorization() {
    let config = ConnectionConfig::new().header("Authorization", "Bearer secret");
    let mut h = Harness::new(config.clone());
    h.respond(1, 302, &[("Location", "https://example.com:443/same")]);
    assert_eq!(
        h.last_request().header("Authorization"),
        Some("Bearer secret")
    );
    h.respond(2, 302, &[("Location", "https://evil.example/")]);
    assert_eq!(h.last_request().header("Authorization"), None);
    // Coming back to the first origin does not bring it back within this fetch.
    h.respond(3, 302, &[("Location", URL)]);
    assert_eq!(h.last_request().header("Authorization"), None);
    // A new fetch (reconnection) sends it again.
    h.open(4);
    h.end(5);
    h.fire();
    assert_eq!(
        h.last_request().header("Authorization"),
        Some("Bearer secret")
    );
}

#[test]
fn redirect_keeps_the_last_event_id() {
    let mut h = Harness::new(ConnectionConfig::new());
    h.open(1);
    h.body(2, b"id: abc\n\n");
    h.end(3);
    h.fire();
    h.respond(3010, 307, &[("Location", "/elsewhere")]);
    assert_eq!(h.last_request().url, "https://example.com/elsewhere");
    assert_eq!(h.last_request().header("Last-Event-ID"), Some("abc"));
}

// ----- close() -----

#[test]
fn close_while_connecting_open_or_waiting_stops_everything() {
    let check = |mut h: Harness, t: u64| {
        let sent = h.requests.len();
        h.close(t);
        assert_eq!(h.conn.ready_state(), ReadyState::Closed);
        assert_eq!(h.conn.poll_timeout(), None);
        // Late inputs of every kind are ignored.
        h.respond(t + 1, 200, &SSE);
        h.body(t + 2, b"data: late\n\n");
        h.end(t + 3);
        h.error(t + 4);
        h.conn.handle_timeout(ms(t + 100_000));
        h.drain();
        assert_eq!(h.requests.len(), sent);
        assert!(h.messages.is_empty());
        assert_eq!(h.conn.ready_state(), ReadyState::Closed);
        h.events
    };
    // Connecting, before the response.
    let h = Harness::new(ConnectionConfig::new());
    assert!(check(h, 5).is_empty());
    // Open.
    let mut h = Harness::new(ConnectionConfig::new());
    h.open(1);
    assert_eq!(check(h, 5), [ConnectionEvent::Open]);
    // Waiting to reconnect.
    let mut h = Harness::new(ConnectionConfig::new());
    h.error(1);
    assert_eq!(check(h, 5), [reconnecting(ConnectionError::Network, 3001)]);
}

#[test]
fn close_drops_events_not_yet_polled() {
    let mut conn = Connection::new(Time::ZERO, URL, ConnectionConfig::new()).unwrap();
    conn.poll_request();
    conn.handle_response(ms(1), 200, SSE);
    conn.close();
    assert_eq!(conn.poll_event(), None);
}

// ----- Stale inputs -----

#[test]
fn inputs_that_no_longer_apply_are_ignored() {
    let mut conn = Connection::new(Time::ZERO, URL, ConnectionConfig::new()).unwrap();
    // A response before the request was even polled belongs to no request.
    conn.handle_response(ms(1), 200, SSE);
    assert_eq!(conn.poll_event(), None);
    assert!(conn.poll_request().is_some());
    // Body bytes before the head.
    let mut input: &[u8] = b"data: early\n\n";
    assert_eq!(conn.handle_body(ms(2), &mut input), Ok(None));
    assert!(input.is_empty(), "stale bytes are consumed");
    conn.handle_response(ms(3), 200, SSE);
    assert_eq!(conn.poll_event(), Some(ConnectionEvent::Open));
    // A second head for the same request.
    conn.handle_response(ms(4), 500, SSE);
    assert_eq!(conn.poll_event(), None);
    assert_eq!(conn.ready_state(), ReadyState::Open);
    // While waiting to reconnect: heads, bodies, ends and errors of the old transfer.
    conn.handle_end(ms(5));
    assert!(matches!(
        conn.poll_event(),
        Some(ConnectionEvent::Reconnecting { .. })
    ));
    conn.handle_response(ms(6), 200, SSE);
    conn.handle_end(ms(7));
    conn.handle_error(ms(8));
    let mut input: &[u8] = b"data: stale\n\n";
    assert_eq!(conn.handle_body(ms(9), &mut input), Ok(None));
    assert_eq!(conn.poll_event(), None);
    assert_eq!(conn.poll_timeout(), Some(ms(3005)));
    assert_eq!(conn.failures(), 1);
}

// ----- Options: floor, backoff, max_retries -----

/// A scripted server that answers each request with the next reply, `latency` after
/// it was sent, and a driver that jumps the clock to the next deadline when idle.
#[derive(Debug, Clone)]
enum Reply {
    /// 200 `text/event-stream`, this body, then the end of the body.
    Stream(&'static [u8]),
    /// 200 `text/event-stream`, this body, then silence until the peer gives up.
    StreamHang(&'static [u8]),
    /// A response head without body.
    Status(u16, Vec<(&'static str, &'static str)>),
    /// The connection is refused.
    Refused,
}

struct Peer {
    h: Harness,
    latency: u64,
}

impl Peer {
    fn new(config: ConnectionConfig) -> Self {
        Peer {
            h: Harness::new(config),
            latency: 10,
        }
    }

    /// Plays `script` (its last reply repeats) until the connection closes, or
    /// `max_requests` requests were sent and answered.
    fn run(&mut self, script: &[Reply], max_requests: usize) {
        let mut answered = 0;
        while self.h.conn.ready_state() != ReadyState::Closed {
            if self.h.requests.len() > answered {
                let reply = script[answered.min(script.len() - 1)].clone();
                answered += 1;
                let t = self.h.now.as_millis() + self.latency;
                match reply {
                    Reply::Stream(body) => {
                        self.h.open(t);
                        self.h.body(t, body);
                        self.h.end(t + 1);
                    }
                    Reply::StreamHang(body) => {
                        self.h.open(t);
                        self.h.body(t, body);
                    }
                    Reply::Status(status, headers) => self.h.respond(t, status, &headers),
                    Reply::Refused => self.h.error(t),
                }
            } else if self.h.requests.len() < max_requests && self.h.conn.poll_timeout().is_some() {
                self.h.fire();
            } else {
                break;
            }
        }
    }

    /// The time between consecutive requests.
    fn gaps(&self) -> Vec<u64> {
        self.h
            .requests
            .windows(2)
            .map(|w| w[1].at.as_millis() - w[0].at.as_millis())
            .collect()
    }
}

#[test]
fn status_204_never_loops() {
    let mut peer = Peer::new(ConnectionConfig::new());
    peer.run(&[Reply::Status(204, vec![])], 100);
    assert_eq!(peer.h.requests.len(), 1);
    assert_eq!(peer.h.events, [failed(ConnectionError::Status(204))]);
}

#[test]
fn retry_zero_does_not_make_a_tight_loop() {
    let mut peer = Peer::new(ConnectionConfig::new());
    peer.run(&[Reply::Stream(b"retry: 0\n\n")], 20);
    assert_eq!(peer.h.requests.len(), 20);
    // latency + 1 ms of body + the 100 ms floor.
    assert!(
        peer.gaps().iter().all(|&gap| gap == 111),
        "{:?}",
        peer.gaps()
    );

    // With a zero floor, the spec's exact timing: the reconnection time is 0.
    let mut peer = Peer::new(ConnectionConfig::new().min_reconnection_time(Duration::ZERO));
    peer.run(&[Reply::Stream(b"retry: 0\n\n")], 5);
    assert!(peer.gaps().iter().all(|&gap| gap == 11));
}

#[test]
fn retry_zero_with_backoff_still_grows() {
    let config = ConnectionConfig::new().backoff(Backoff::new().jitter_percent(0));
    let mut peer = Peer::new(config);
    peer.run(&[Reply::Stream(b"retry: 0\n\n")], 6);
    assert_eq!(peer.gaps(), [111, 211, 411, 811, 1611]);
}

/// Found by the `connection` fuzz target: a configured reconnection time with a
/// fraction of a millisecond was rounded down when a backoff was on, so the
/// connection reconnected up to 1 ms sooner than the reconnection time.
#[test]
fn backoff_never_waits_less_than_a_sub_millisecond_reconnection_time() {
    let time = Duration::from_micros(75_956_223);
    let config = ConnectionConfig::new()
        .reconnection_time(time)
        .backoff(Backoff::new().jitter_percent(0));
    let mut conn = Connection::new(ms(0), "http://example.com/", config).unwrap();
    conn.poll_request().unwrap();
    conn.handle_error(ms(5));
    let at = ms(5) + time;
    assert_eq!(
        conn.poll_event(),
        Some(ConnectionEvent::Reconnecting {
            error: ConnectionError::Network,
            at
        })
    );
    assert_eq!(conn.poll_timeout(), Some(at));
}

#[test]
fn max_retries_triggers_against_a_server_that_accepts_and_hangs_up() {
    let mut peer = Peer::new(ConnectionConfig::new().max_retries(3));
    peer.run(&[Reply::Stream(b"data: hello\n\n")], 100);
    // The first attempt and three retries; the fourth failure is final.
    assert_eq!(peer.h.requests.len(), 4);
    assert_eq!(peer.h.messages.len(), 4);
    assert_eq!(
        peer.h.last_event(),
        ConnectionEvent::Failed {
            error: ConnectionError::EndOfStream,
            retries_exhausted: true
        }
    );
    assert_eq!(peer.h.conn.ready_state(), ReadyState::Closed);
}

#[test]
fn max_retries_counts_network_errors_and_zero_means_never_reconnect() {
    let mut peer = Peer::new(ConnectionConfig::new().max_retries(2));
    peer.run(&[Reply::Refused], 100);
    assert_eq!(peer.h.requests.len(), 3);
    let mut peer = Peer::new(ConnectionConfig::new().max_retries(0));
    peer.run(&[Reply::Refused], 100);
    assert_eq!(peer.h.requests.len(), 1);
    assert_eq!(
        peer.h.events,
        [ConnectionEvent::Failed {
            error: ConnectionError::Network,
            retries_exhausted: true
        }]
    );
}

#[test]
fn a_healthy_connection_resets_the_failure_count() {
    let config = ConnectionConfig::new()
        .max_retries(1)
        .reset_after(Duration::from_secs(60));
    let mut h = Harness::new(config);
    h.error(1); // failure 1, retried
    h.fire();
    h.open(3010);
    h.end(3010 + 60_000); // open for 60 s: healthy; this is failure 1 again
    assert_eq!(h.conn.failures(), 1);
    assert_eq!(
        h.last_event(),
        reconnecting(ConnectionError::EndOfStream, 66_010)
    );
    h.fire();
    h.open(66_020);
    h.end(66_021); // not healthy: failure 2, over the limit
    assert_eq!(
        h.last_event(),
        ConnectionEvent::Failed {
            error: ConnectionError::EndOfStream,
            retries_exhausted: true
        }
    );
}

#[test]
fn backoff_grows_to_the_cap_and_resets_after_a_healthy_connection() {
    let config = ConnectionConfig::new()
        .reconnection_time(Duration::from_millis(1000))
        .backoff(
            Backoff::new()
                .max_delay(Duration::from_millis(5000))
                .jitter_percent(0),
        )
        .reset_after(Duration::from_secs(10));
    let mut peer = Peer::new(config);
    peer.run(&[Reply::Refused], 6);
    // Each gap is latency + delay.
    assert_eq!(peer.gaps(), [1010, 2010, 4010, 5010, 5010]);
    // A connection that stays open 10 s resets the backoff.
    peer.h.fire();
    let t = peer.h.now.as_millis() + 10;
    peer.h.open(t);
    peer.h.end(t + 10_000);
    assert_eq!(
        peer.h.last_event(),
        reconnecting(ConnectionError::EndOfStream, t + 11_000)
    );
}

#[test]
fn jittered_backoff_is_deterministic_per_seed_and_bounded() {
    let run = |seed| {
        let config = ConnectionConfig::new()
            .reconnection_time(Duration::from_millis(1000))
            .backoff(
                Backoff::new()
                    .max_delay(Duration::from_millis(20_000))
                    .jitter_percent(50)
                    .seed(seed),
            );
        let mut peer = Peer::new(config);
        peer.run(&[Reply::Refused], 8);
        peer.gaps()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
    for (n, gap) in run(3).into_iter().enumerate() {
        let plain = (1000u64 << n).min(20_000);
        let delay = gap - 10;
        // The window [plain, 1.5 plain], moved down to end at the cap.
        let (low, high) = if plain * 3 / 2 <= 20_000 {
            (plain, plain * 3 / 2)
        } else {
            (20_000 - plain / 2, 20_000)
        };
        assert!(delay >= low && delay <= high, "{n}: {delay}");
    }
}

#[test]
fn server_retry_above_the_backoff_cap_is_honoured() {
    let config = ConnectionConfig::new().backoff(
        Backoff::new()
            .max_delay(Duration::from_secs(1))
            .jitter_percent(0),
    );
    let mut h = Harness::new(config);
    h.open(1);
    h.body(2, b"retry: 10000\n\n");
    h.end(3);
    assert_eq!(
        h.last_event(),
        reconnecting(ConnectionError::EndOfStream, 10_003)
    );
}

// ----- Idle timeout -----

#[test]
fn idle_timeout_reestablishes_a_silent_connection() {
    let mut h = Harness::new(ConnectionConfig::new().idle_timeout(Duration::from_secs(30)));
    assert_eq!(
        h.conn.poll_timeout(),
        Some(ms(30_000)),
        "covers the wait for headers"
    );
    h.open(100);
    assert_eq!(h.conn.poll_timeout(), Some(ms(30_100)));
    h.body(200, b": keep-alive\n");
    assert_eq!(h.conn.poll_timeout(), Some(ms(30_200)), "comments count");
    h.body(300, b"");
    assert_eq!(
        h.conn.poll_timeout(),
        Some(ms(30_200)),
        "no bytes, no reset"
    );
    h.fire();
    assert_eq!(
        h.last_event(),
        reconnecting(ConnectionError::IdleTimeout, 33_200)
    );
    assert_eq!(h.conn.poll_timeout(), Some(ms(33_200)));
    h.fire();
    assert_eq!(h.requests.len(), 2);
    assert_eq!(h.conn.poll_timeout(), Some(ms(63_200)));
    // Waiting for the head of the new response times out too.
    h.fire();
    assert_eq!(
        h.last_event(),
        reconnecting(ConnectionError::IdleTimeout, 66_200)
    );
}

#[test]
fn idle_timeout_counts_toward_max_retries() {
    let config = ConnectionConfig::new()
        .idle_timeout(Duration::from_secs(5))
        .max_retries(2);
    let mut peer = Peer::new(config);
    peer.run(&[Reply::StreamHang(b": hi\n")], 100);
    assert_eq!(peer.h.requests.len(), 3);
    assert_eq!(
        peer.h.last_event(),
        ConnectionEvent::Failed {
            error: ConnectionError::IdleTimeout,
            retries_exhausted: true
        }
    );
}

// ----- Retry policy -----

#[test]
fn retry_policy_retries_listed_statuses_honouring_retry_after() {
    let config = ConnectionConfig::new().retry_policy(RetryPolicy::transient());
    let mut h = Harness::new(config);
    h.respond(10, 503, &[("Retry-After", "20")]);
    assert_eq!(
        h.events,
        [reconnecting(ConnectionError::Status(503), 20_010)]
    );
    h.fire();
    // Without Retry-After: the reconnection time.
    h.respond(20_020, 429, &[]);
    assert_eq!(
        h.last_event(),
        reconnecting(ConnectionError::Status(429), 23_020)
    );
    h.fire();
    // A Retry-After shorter than the reconnection time does not shorten it.
    h.respond(23_030, 502, &[("Retry-After", "1")]);
    assert_eq!(
        h.last_event(),
        reconnecting(ConnectionError::Status(502), 26_030)
    );
    h.fire();
    // An HTTP-date, measured against the response's Date.
    h.respond(
        26_040,
        504,
        &[
            ("Date", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ("Retry-After", "Wed, 21 Oct 2015 07:29:00 GMT"),
        ],
    );
    assert_eq!(
        h.last_event(),
        reconnecting(ConnectionError::Status(504), 86_040)
    );
    h.fire();
    // Not listed: fails.
    h.respond(86_050, 500, &[]);
    assert_eq!(h.last_event(), failed(ConnectionError::Status(500)));
}

#[test]
fn retry_after_is_capped_and_can_be_ignored() {
    let policy = RetryPolicy::statuses(&[503]).max_retry_after(Duration::from_secs(60));
    let mut h = Harness::new(ConnectionConfig::new().retry_policy(policy));
    h.respond(0, 503, &[("Retry-After", "86400")]);
    assert_eq!(
        h.last_event(),
        reconnecting(ConnectionError::Status(503), 60_000)
    );
    let policy = RetryPolicy::statuses(&[503]).honour_retry_after(false);
    let mut h = Harness::new(ConnectionConfig::new().retry_policy(policy));
    h.respond(0, 503, &[("Retry-After", "86400")]);
    assert_eq!(
        h.last_event(),
        reconnecting(ConnectionError::Status(503), 3000)
    );
}

#[test]
fn retried_statuses_count_toward_max_retries() {
    let config = ConnectionConfig::new()
        .retry_policy(RetryPolicy::predicate(|s| s >= 500))
        .max_retries(2);
    let mut peer = Peer::new(config);
    peer.run(&[Reply::Status(500, vec![])], 100);
    assert_eq!(peer.h.requests.len(), 3);
    assert_eq!(
        peer.h.last_event(),
        ConnectionEvent::Failed {
            error: ConnectionError::Status(500),
            retries_exhausted: true
        }
    );
}

#[test]
fn retry_policy_never_retries_a_wrong_content_type() {
    let config = ConnectionConfig::new().retry_policy(RetryPolicy::predicate(|_| true));
    let mut h = Harness::new(config);
    h.respond(1, 200, &[("Content-Type", "text/html")]);
    assert_eq!(h.events, [failed(ConnectionError::ContentType)]);
}

// ----- Request options -----

#[test]
fn post_with_headers_and_body_is_sent_on_every_attempt() {
    let config = ConnectionConfig::new()
        .method("post")
        .header("Authorization", "Bearer t")
        .header("Content-Type", "application/json")
        .header("Last-Event-ID", "ignored")
        .body(br#"{"prompt":"hi"}"#.to_vec())
        .reconnect(ReconnectPolicy::Always);
    let mut h = Harness::new(config);
    h.open(1);
    h.body(2, b"id: 9\ndata: tok\n\n");
    h.end(3);
    h.fire();
    for r in &h.requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.body.as_deref(), Some(&br#"{"prompt":"hi"}"#[..]));
        assert_eq!(r.header("Authorization"), Some("Bearer t"));
        assert_eq!(r.header("Content-Type"), Some("application/json"));
    }
    let names: Vec<_> = h.requests[1]
        .headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Accept",
            "Cache-Control",
            "Last-Event-ID",
            "Authorization",
            "Content-Type"
        ]
    );
    assert_eq!(h.requests[1].header("Last-Event-ID"), Some("9"));
}

#[test]
fn non_utf8_last_event_id_is_sent_as_utf8() {
    let mut h = Harness::new(ConnectionConfig::new());
    h.open(1);
    h.body(2, b"id: a\xffb\n\n");
    h.end(3);
    h.fire();
    assert_eq!(h.last_request().header("Last-Event-ID"), Some("a\u{FFFD}b"));
}

// ----- Invariants over random drivers -----

#[derive(Debug, Clone)]
enum Op {
    Advance(u16),
    Fire,
    Respond(u16, u8),
    Body(Vec<u8>),
    End,
    Error,
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    let status = prop::sample::select(vec![200u16, 204, 301, 302, 303, 307, 500, 503]);
    prop_oneof![
        (0u16..5000).prop_map(Op::Advance),
        Just(Op::Fire),
        (status, 0u8..4).prop_map(|(s, h)| Op::Respond(s, h)),
        prop::collection::vec(
            prop::sample::select(b"data:x\nid: 1\nretry: 0\n:\r\n".to_vec()),
            0..24
        )
        .prop_map(Op::Body),
        Just(Op::End),
        Just(Op::Error),
        Just(Op::Close),
    ]
}

proptest! {
    /// Whatever a driver does: CLOSED is final, every request comes after `new`, a
    /// redirect or a fired reconnection timer, no reconnection is scheduled sooner
    /// than the floor, and the failure count never passes `max_retries` + 1.
    #[test]
    fn invariants_hold_under_random_drivers(ops in prop::collection::vec(op(), 0..60)) {
        let config = ConnectionConfig::new()
            .max_retries(4)
            .idle_timeout(Duration::from_secs(10))
            .retry_policy(RetryPolicy::transient())
            .backoff(Backoff::new().seed(9));
        let mut conn = Connection::new(Time::ZERO, URL, config).unwrap();
        let mut now = Time::ZERO;
        let mut closed = false;
        prop_assert!(conn.poll_request().is_some());
        for op in ops {
            let before = conn.poll_timeout();
            let mut fired = false;
            let mut redirect = false;
            match op {
                Op::Advance(d) => now += Duration::from_millis(u64::from(d)),
                Op::Fire => {
                    if let Some(t) = conn.poll_timeout() {
                        now = now.max(t);
                    }
                    conn.handle_timeout(now);
                    fired = true;
                }
                Op::Respond(status, h) => {
                    let headers: &[(&str, &str)] = match h {
                        0 => &[("Content-Type", "text/event-stream")],
                        1 => &[("Location", "/elsewhere")],
                        2 => &[("Retry-After", "1")],
                        _ => &[],
                    };
                    redirect = (300..400).contains(&status);
                    conn.handle_response(now, status, headers.iter().copied());
                }
                Op::Body(bytes) => {
                    let mut input = &bytes[..];
                    while conn.handle_body(now, &mut input).unwrap().is_some() {}
                    prop_assert!(input.is_empty());
                }
                Op::End => conn.handle_end(now),
                Op::Error => conn.handle_error(now),
                Op::Close => { conn.close(); closed = true; }
            }
            while let Some(event) = conn.poll_event() {
                prop_assert!(!closed, "no event after close()");
                if let ConnectionEvent::Reconnecting { at, .. } = event {
                    prop_assert!(at >= now + Duration::from_millis(100));
                }
                if let ConnectionEvent::Failed { .. } = event {
                    closed = true;
                }
            }
            prop_assert!(conn.failures() <= 5);
            if conn.poll_request().is_some() {
                prop_assert!(!closed);
                prop_assert!(redirect || (fired && before.is_some_and(|t| t <= now)));
            }
            if closed {
                prop_assert_eq!(conn.ready_state(), ReadyState::Closed);
                prop_assert_eq!(conn.poll_timeout(), None);
            }
        }
    }
}
