//! The reconnecting client against loopback servers. Timing is checked on tokio's
//! paused clock: waits take no wall-clock time, and their length is exact.
#![cfg(feature = "client")]

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use sse_proto::{ConnectionConfig, ConnectionError, ReadyState, RequestError};
use sse_tokio::{BuildError, EventSource, SourceError, SourceEvent};
use tokio::time::Instant;

use common::{fixed, scripted, untimed, watchdog};

const LIMIT: Duration = Duration::from_secs(60);

/// A short description of an item, for comparing whole sequences.
fn show(item: &Result<SourceEvent, SourceError>) -> String {
    match item {
        Ok(SourceEvent::Open(_)) => "open".into(),
        Ok(SourceEvent::Message(e)) => {
            format!("{}:{}:{}", e.event_type(), e.data(), e.last_event_id())
        }
        Ok(SourceEvent::Comment(c)) => format!("comment {c}"),
        Ok(SourceEvent::Retry(d)) => format!("retry {}", d.as_millis()),
        Ok(SourceEvent::Reconnecting(r)) => {
            format!("reconnecting ({:?}) in {}", r.reason, r.delay.as_millis())
        }
        Ok(other) => format!("{other:?}"),
        Err(error) => format!("failed ({:?})", error.reason),
    }
}

async fn next(source: &mut EventSource) -> String {
    show(&source.next().await.expect("the stream goes on"))
}

/// Takes the next request, answers it with a streamed event-stream response, and
/// checks that the source opens.
async fn open(
    requests: &mut tokio::sync::mpsc::UnboundedReceiver<common::Exchange>,
    source: &mut EventSource,
) -> (common::Exchange, common::FrameSender) {
    let (exchange, opened) = tokio::join!(
        async {
            let mut exchange = requests.recv().await.expect("a request");
            let body = exchange.stream();
            (exchange, body)
        },
        next(source)
    );
    assert_eq!(opened, "open");
    exchange
}

#[tokio::test(start_paused = true)]
async fn a_drop_mid_event_reconnects_after_retry_with_last_event_id() {
    let _watchdog = watchdog(LIMIT);
    let (addr, mut requests) = scripted().await;
    let mut source = untimed(format!("http://{addr}/events"))
        .comments(true)
        .connect()
        .unwrap();
    assert_eq!(source.ready_state(), ReadyState::Connecting);

    let (first, body) = open(&mut requests, &mut source).await;
    assert_eq!(first.header("last-event-id"), None);
    assert_eq!(first.header("accept"), Some("text/event-stream"));
    body.send(b"retry: 2000\n\nid: 1\ndata: one\n\n");
    assert_eq!(source.ready_state(), ReadyState::Open);
    assert_eq!(next(&mut source).await, "retry 2000");
    assert_eq!(next(&mut source).await, "message:one:1");
    // A comment and half an event arrive together, then the server dies.
    body.send(b": going down\nid: 2\ndata: tw");
    assert_eq!(next(&mut source).await, "comment going down");
    body.abort();
    let lost = source.next().await.unwrap();
    let dropped_at = Instant::now();
    assert_eq!(show(&lost), "reconnecting (Network) in 2000");
    let Ok(SourceEvent::Reconnecting(lost)) = lost else {
        panic!()
    };
    assert!(
        std::error::Error::source(&lost).is_some(),
        "the transport error is kept"
    );
    assert_eq!(source.ready_state(), ReadyState::Connecting);

    // The second request waits the retry time and resumes after event 1: the half
    // event was never delivered, and its id never committed.
    let (second, body) = open(&mut requests, &mut source).await;
    assert_eq!(second.at - dropped_at, Duration::from_millis(2000));
    assert_eq!(second.header("last-event-id"), Some("1"));
    body.send(b"id: 2\ndata: two\n\n");
    assert_eq!(next(&mut source).await, "message:two:2");
    drop(body); // a clean end of the stream
    assert_eq!(
        next(&mut source).await,
        "reconnecting (EndOfStream) in 2000"
    );

    // The third request gets a 204: the server's way to say stop.
    let (third, failed) = tokio::join!(
        async {
            let mut third = requests.recv().await.unwrap();
            third.respond(fixed(204, "text/event-stream", b""));
            third
        },
        next(&mut source)
    );
    assert_eq!(third.header("last-event-id"), Some("2"));
    assert_eq!(failed, "failed (Status(204))");
    assert!(source.next().await.is_none());
    assert_eq!(source.ready_state(), ReadyState::Closed);
    drop(third);
    assert!(requests.try_recv().is_err(), "no request after a 204");
}

/// `respond` answers the first request; the stream must fail without reconnecting.
async fn fails_at_once(respond: impl FnOnce(&mut common::Exchange)) -> (String, Option<String>) {
    let _watchdog = watchdog(LIMIT);
    let (addr, mut requests) = scripted().await;
    let mut source = untimed(format!("http://{addr}/")).connect().unwrap();
    let (_exchange, first) = tokio::join!(
        async {
            let mut exchange = requests.recv().await.unwrap();
            respond(&mut exchange);
            exchange
        },
        async {
            let first = show(&source.next().await.unwrap());
            let after = source.next().await.map(|i| show(&i));
            (first, after)
        }
    );
    assert_eq!(source.ready_state(), ReadyState::Closed);
    // Even an hour later (on the paused clock), nothing more is requested.
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(requests.try_recv().is_err(), "no reconnection");
    first
}

#[tokio::test(start_paused = true)]
async fn a_204_fails_without_reconnecting() {
    let outcome = fails_at_once(|e| e.respond(fixed(204, "text/event-stream", b""))).await;
    assert_eq!(outcome, ("failed (Status(204))".into(), None));
}

#[tokio::test(start_paused = true)]
async fn a_wrong_content_type_fails_without_reconnecting() {
    let outcome = fails_at_once(|e| e.respond(fixed(200, "text/html", b"data: x\n\n"))).await;
    assert_eq!(outcome, ("failed (ContentType)".into(), None));
}

#[tokio::test(start_paused = true)]
async fn a_server_error_fails_without_reconnecting() {
    let outcome = fails_at_once(|e| e.respond(fixed(500, "text/plain", b"oops"))).await;
    assert_eq!(outcome, ("failed (Status(500))".into(), None));
}

#[tokio::test(start_paused = true)]
async fn method_headers_and_body_are_sent_on_every_request() {
    let _watchdog = watchdog(LIMIT);
    let (addr, mut requests) = scripted().await;
    // A whole configuration replaces the builder's, so it turns the timeouts off
    // itself.
    let config = ConnectionConfig::new()
        .min_reconnection_time(Duration::ZERO)
        .idle_timeout(None)
        .response_timeout(None);
    let mut source = untimed(format!("http://{addr}/chat"))
        .config(config)
        .method("POST")
        .header("Authorization", "Bearer t")
        .header("Content-Type", "application/json")
        .body(r#"{"stream":true}"#)
        .reconnect(sse_tokio::ReconnectPolicy::Always)
        .last_event_id("41")
        .reconnection_time(Duration::from_millis(500))
        .connect()
        .unwrap();
    for expected_id in ["41", "42"] {
        let (exchange, body) = open(&mut requests, &mut source).await;
        assert_eq!(exchange.head.method, "POST");
        assert_eq!(exchange.head.uri.path(), "/chat");
        assert_eq!(exchange.header("authorization"), Some("Bearer t"));
        assert_eq!(exchange.header("content-type"), Some("application/json"));
        assert_eq!(exchange.header("last-event-id"), Some(expected_id));
        assert_eq!(&exchange.body[..], br#"{"stream":true}"#);
        body.send(b"id: 42\ndata: x\n\n");
        assert_eq!(next(&mut source).await, "message:x:42");
        drop(body);
        assert_eq!(next(&mut source).await, "reconnecting (EndOfStream) in 500");
    }
    source.close();
}

#[tokio::test(start_paused = true)]
async fn http2_prior_knowledge() {
    let _watchdog = watchdog(LIMIT);
    let (addr, mut requests) = scripted().await;
    let mut source = untimed(format!("http://{addr}/"))
        .http2_prior_knowledge()
        .connect()
        .unwrap();
    for round in 0..2 {
        let (exchange, body) = open(&mut requests, &mut source).await;
        assert_eq!(exchange.head.version, http::Version::HTTP_2);
        let last_event_id = exchange.header("last-event-id").map(str::to_string);
        if round == 0 {
            body.send(b"retry: 100\nid: 1\ndata: over h2\n\n");
            assert_eq!(next(&mut source).await, "retry 100");
            assert_eq!(next(&mut source).await, "message:over h2:1");
            // Half an event, then the stream is reset.
            body.send(b"id: 2\ndata: half");
            tokio::task::yield_now().await;
            body.abort();
            assert_eq!(next(&mut source).await, "reconnecting (Network) in 100");
        } else {
            assert_eq!(last_event_id.as_deref(), Some("1"));
            body.send(b"data: again\n\n");
            assert_eq!(next(&mut source).await, "message:again:1");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn close_stops_everything_and_the_server_notices() {
    let _watchdog = watchdog(LIMIT);
    let (addr, mut requests) = scripted().await;
    let mut source = untimed(format!("http://{addr}/")).connect().unwrap();
    let (_exchange, body) = open(&mut requests, &mut source).await;
    body.send(b"data: 1\n\ndata: 2\n\n");
    assert_eq!(next(&mut source).await, "message:1:");
    source.close();
    assert_eq!(source.ready_state(), ReadyState::Closed);
    assert!(source.next().await.is_none(), "the unread event is dropped");
    // The server learns that the client went away.
    body.closed().await;
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(requests.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn an_idle_connection_is_reestablished() {
    let _watchdog = watchdog(LIMIT);
    let (addr, mut requests) = scripted().await;
    let mut source = untimed(format!("http://{addr}/"))
        .idle_timeout(Duration::from_secs(30))
        .reconnection_time(Duration::from_secs(1))
        .connect()
        .unwrap();
    let (_exchange, body) = open(&mut requests, &mut source).await;
    body.send(b"id: 7\ndata: then silence\n\n");
    assert_eq!(next(&mut source).await, "message:then silence:7");
    let silent_since = Instant::now();
    assert_eq!(
        next(&mut source).await,
        "reconnecting (IdleTimeout) in 1000"
    );
    assert_eq!(Instant::now() - silent_since, Duration::from_secs(30));
    body.closed().await; // the dead transfer was dropped
    let (exchange, _body) = open(&mut requests, &mut source).await;
    assert_eq!(exchange.header("last-event-id"), Some("7"));
}

#[tokio::test(start_paused = true)]
async fn redirects_are_followed() {
    let _watchdog = watchdog(LIMIT);
    let (addr, mut requests) = scripted().await;
    let mut source = untimed(format!("http://{addr}/old")).connect().unwrap();
    let ((exchange, body), opened) = tokio::join!(
        async {
            let mut first = requests.recv().await.unwrap();
            assert_eq!(first.head.uri.path(), "/old");
            first.respond(
                http::Response::builder()
                    .status(307)
                    .header("location", "/new")
                    .body(common::boxed(http_body_util::Empty::new()))
                    .unwrap(),
            );
            let mut second = requests.recv().await.unwrap();
            let body = second.stream();
            (second, body)
        },
        // The redirect is followed without an event; the stream opens at /new.
        next(&mut source)
    );
    assert_eq!(opened, "open");
    assert_eq!(exchange.head.uri.path(), "/new");
    body.send(b"data: moved\n\n");
    assert_eq!(next(&mut source).await, "message:moved:");
}

#[tokio::test(start_paused = true)]
async fn a_refused_connection_is_retried_with_its_cause() {
    let _watchdog = watchdog(LIMIT);
    // A port that was just free: nothing listens there.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let mut source = untimed(format!("http://{addr}/"))
        .reconnection_time(Duration::from_millis(250))
        .connect()
        .unwrap();
    for _ in 0..2 {
        let item = source.next().await.unwrap();
        assert!(matches!(
            &item,
            Ok(SourceEvent::Reconnecting(r)) if r.reason == ConnectionError::Network
                && r.delay == Duration::from_millis(250) && r.source.is_some()
        ));
    }
    source.close();
    assert!(source.next().await.is_none());
}

#[test]
fn bad_urls_are_refused_up_front() {
    let err = EventSource::new("/relative").unwrap_err();
    assert_eq!(err, BuildError::Connect(RequestError::InvalidUrl));
    let err = EventSource::new("ftp://example.com/").unwrap_err();
    assert_eq!(err, BuildError::Connect(RequestError::UnsupportedScheme));
    let err = EventSource::builder("http://127.0.0.1/")
        .header("X", "a\r\nb")
        .connect()
        .unwrap_err();
    assert_eq!(err, BuildError::Connect(RequestError::InvalidHeader));
}

#[cfg(not(feature = "rustls"))]
#[test]
fn https_needs_the_rustls_feature() {
    let err = EventSource::new("https://127.0.0.1/").unwrap_err();
    assert_eq!(
        err.to_string(),
        "this client cannot request https URLs; enable the \"rustls\" feature of sse-tokio"
    );
}

#[cfg(feature = "rustls")]
#[test]
fn https_is_accepted_with_the_rustls_feature() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let source = EventSource::new("https://127.0.0.1/").unwrap();
    assert_eq!(source.ready_state(), ReadyState::Connecting);
}

/// A failed response whose body does not end is read for `FAILED_BODY_TIME`, then
/// the failure is reported with what came.
#[tokio::test(start_paused = true)]
async fn a_failed_response_that_never_ends_is_read_for_a_while() {
    let _watchdog = watchdog(LIMIT);
    let (addr, mut requests) = scripted().await;
    let mut source = untimed(format!("http://{addr}/")).connect().unwrap();
    let (_held, (failed, waited)) = tokio::join!(
        async {
            let mut exchange = requests.recv().await.unwrap();
            let body = exchange.stream_with(503, "application/json");
            body.send(b"{\"error\": \"overloaded\"");
            (exchange, body)
        },
        async {
            let start = Instant::now();
            let failed = source.next().await.unwrap();
            (failed, start.elapsed())
        }
    );
    let response = failed.unwrap_err().response.unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(response.body, "{\"error\": \"overloaded\"");
    assert!(response.truncated);
    assert!(waited >= sse_tokio::sse_io::FAILED_BODY_TIME, "{waited:?}");
    assert!(waited < sse_tokio::sse_io::FAILED_BODY_TIME + Duration::from_millis(100));
}
