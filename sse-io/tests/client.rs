//! The reconnecting client over each adapter's own HTTP client and timer, on tokio,
//! smol and async-std, against a loopback server: events, reconnection with
//! `Last-Event-ID` after the server's `retry`, a 204 that stops it, a request's
//! method, headers and body on every attempt, HTTP/2, redirects, refused and idle
//! connections, and `close()`.

mod common;

use std::time::Duration;

use common::{Rt, Server, next};
use sse_io::{EventSource, SourceError, SourceEvent};
use sse_proto::ConnectionError;

fn show(item: &Result<SourceEvent, SourceError>) -> String {
    match item {
        Ok(SourceEvent::Open(_)) => "open".into(),
        Ok(SourceEvent::Message(e)) => {
            format!("{}:{}:{}", e.event_type(), e.data(), e.last_event_id())
        }
        Ok(SourceEvent::Comment(c)) => format!("comment {c}"),
        Ok(SourceEvent::Retry(d)) => format!("retry {}", d.as_millis()),
        Ok(SourceEvent::Reconnecting(r)) => format!("reconnecting ({:?})", r.reason),
        Ok(other) => format!("{other:?}"),
        Err(error) => format!("failed ({:?})", error.reason),
    }
}

async fn shown<R: sse_io::Runtime>(source: &mut EventSource<R>) -> String {
    show(&next(source).await)
}

/// Everything `source` yields until it ends, shown.
async fn everything<R: sse_io::Runtime>(source: &mut EventSource<R>) -> Vec<String> {
    let mut seen = Vec::new();
    while let Some(item) = futures_util::StreamExt::next(source).await {
        seen.push(show(&item));
    }
    seen
}

fn a_stream_reconnects_with_last_event_id_and_stops_on_204<T: Rt>() {
    let server = Server::start();
    T::block_on(async {
        let mut source = EventSource::<T::R>::new(&server.url("/events")).unwrap();
        let client = everything(&mut source);
        let script = async {
            let mut first = server.next().await;
            assert_eq!(first.header("accept"), Some("text/event-stream"));
            let host = server.addr.to_string();
            assert_eq!(first.header("host"), Some(host.as_str()));
            assert_eq!(first.header("last-event-id"), None);
            let body = first.stream();
            body.send(b"retry: 20\n\nid: 1\ndata: a\n\nevent: b\nid: 2\ndata: ");
            body.send(b"b\n\ndata: cut off");
            drop(body);
            let mut second = server.next().await;
            assert_eq!(second.header("last-event-id"), Some("2"));
            second.fixed(204, &[], b"");
        };
        let (seen, ()) = futures_util::future::join(client, script).await;
        assert_eq!(
            seen,
            [
                "open",
                "retry 20",
                "message:a:1",
                "b:b:2",
                "reconnecting (EndOfStream)",
                "failed (Status(204))",
            ]
        );
        assert_eq!(source.last_event_id(), "2");
        assert_eq!(source.reconnection_time(), Duration::from_millis(20));
    });
}

fn method_headers_and_body_go_with_every_request<T: Rt>() {
    let server = Server::start();
    T::block_on(async {
        let mut source = EventSource::<T::R>::builder(server.url("/chat?x=1"))
            .method("POST")
            .header("Authorization", "Bearer t")
            .header("Content-Type", "application/json")
            .body(r#"{"stream":true}"#)
            .reconnect(sse_io::ReconnectPolicy::Always)
            .reconnection_time(Duration::from_millis(10))
            .connect()
            .unwrap();
        let script = async {
            for attempt in 0..2 {
                let mut exchange = server.next().await;
                assert_eq!(exchange.head.method, "POST");
                assert_eq!(exchange.head.uri.path(), "/chat");
                assert_eq!(exchange.head.uri.query(), Some("x=1"));
                assert_eq!(exchange.header("authorization"), Some("Bearer t"));
                assert_eq!(exchange.header("content-type"), Some("application/json"));
                assert_eq!(&exchange.body[..], br#"{"stream":true}"#);
                if attempt == 0 {
                    exchange.stream().send(b"id: 7\ndata: x\n\n");
                } else {
                    assert_eq!(exchange.header("last-event-id"), Some("7"));
                    exchange.fixed(204, &[], b"");
                }
            }
        };
        let client = async {
            assert_eq!(shown(&mut source).await, "open");
            assert_eq!(shown(&mut source).await, "message:x:7");
            assert_eq!(shown(&mut source).await, "reconnecting (EndOfStream)");
            assert_eq!(shown(&mut source).await, "failed (Status(204))");
        };
        futures_util::future::join(client, script).await;
    });
}

fn http2_by_prior_knowledge<T: Rt>() {
    let server = Server::start();
    T::block_on(async {
        let mut source = EventSource::<T::R>::builder(server.url("/h2"))
            .http2_prior_knowledge()
            .connect()
            .unwrap();
        let script = async {
            let mut exchange = server.next().await;
            assert_eq!(exchange.head.version, http::Version::HTTP_2);
            exchange.stream().send(b"data: over h2\n\n");
            exchange
        };
        let client = async {
            assert_eq!(shown(&mut source).await, "open");
            assert_eq!(shown(&mut source).await, "message:over h2:");
        };
        let (_exchange, ()) = futures_util::future::join(script, client).await;
    });
}

fn redirects_are_followed<T: Rt>() {
    let server = Server::start();
    let target = server.url("/moved");
    T::block_on(async {
        let mut source = EventSource::<T::R>::new(&server.url("/start")).unwrap();
        let script = async {
            let mut first = server.next().await;
            assert_eq!(first.head.uri.path(), "/start");
            first.respond(
                http::Response::builder()
                    .status(307)
                    .header("location", target.as_str())
                    .body(http_body_util::BodyExt::boxed(
                        http_body_util::Empty::new().map_err(
                            |never: std::convert::Infallible| -> common::BoxError {
                                match never {}
                            },
                        ),
                    ))
                    .unwrap(),
            );
            let mut second = server.next().await;
            assert_eq!(second.head.uri.path(), "/moved");
            let body = second.stream();
            body.send(b"data: here\n\n");
            body
        };
        let client = async {
            assert_eq!(shown(&mut source).await, "open");
            assert_eq!(shown(&mut source).await, "message:here:");
        };
        let (_body, ()) = futures_util::future::join(script, client).await;
        // The URL stays the one it was created with, as the spec's `url` does.
        assert!(source.url().ends_with("/start"));
    });
}

use http_body_util::BodyExt as _;

fn a_refused_connection_is_retried_with_its_cause<T: Rt>() {
    // A port nobody listens on: bind one, then let it go.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    T::block_on(async {
        let mut source = EventSource::<T::R>::builder(format!("http://{addr}/"))
            .reconnection_time(Duration::from_millis(5))
            .connect()
            .unwrap();
        for _ in 0..2 {
            let Ok(SourceEvent::Reconnecting(reconnect)) = next(&mut source).await else {
                panic!("not a reconnection")
            };
            assert_eq!(reconnect.reason, ConnectionError::Network);
            assert!(
                std::error::Error::source(&reconnect).is_some(),
                "{reconnect:?}"
            );
        }
    });
}

fn an_idle_connection_is_reestablished<T: Rt>() {
    let server = Server::start();
    T::block_on(async {
        let mut source = EventSource::<T::R>::builder(server.url("/idle"))
            .idle_timeout(Duration::from_millis(100))
            .reconnection_time(Duration::from_millis(5))
            .connect()
            .unwrap();
        let script = async {
            let mut first = server.next().await;
            let silent = first.stream();
            let mut second = server.next().await;
            second.fixed(204, &[], b"");
            silent
        };
        let client = async {
            assert_eq!(shown(&mut source).await, "open");
            assert_eq!(shown(&mut source).await, "reconnecting (IdleTimeout)");
            assert_eq!(shown(&mut source).await, "failed (Status(204))");
        };
        let (_silent, ()) = futures_util::future::join(script, client).await;
    });
}

fn close_ends_the_stream_and_the_connection<T: Rt>() {
    let server = Server::start();
    T::block_on(async {
        let mut source = EventSource::<T::R>::new(&server.url("/")).unwrap();
        let script = async {
            let mut exchange = server.next().await;
            let body = exchange.stream();
            body.send(b"data: 1\n\ndata: 2\n\n");
            body
        };
        let client = async {
            assert_eq!(shown(&mut source).await, "open");
            assert_eq!(shown(&mut source).await, "message:1:");
        };
        let (body, ()) = futures_util::future::join(script, client).await;
        source.close();
        assert_eq!(source.ready_state(), sse_io::ReadyState::Closed);
        assert!(futures_util::StreamExt::next(&mut source).await.is_none());
        // The server sees the connection go: its body's receiver is dropped.
        let mut waited = Duration::ZERO;
        while body
            .0
            .try_send(Ok(http_body::Frame::data(bytes::Bytes::new())))
            .is_ok()
        {
            T::sleep(Duration::from_millis(5)).await;
            waited += Duration::from_millis(5);
            assert!(
                waited < Duration::from_secs(10),
                "the connection stayed open"
            );
        }
    });
}

fn a_wrong_content_type_fails_without_reconnecting<T: Rt>() {
    let server = Server::start();
    T::block_on(async {
        let mut source = EventSource::<T::R>::new(&server.url("/")).unwrap();
        let script = async {
            let mut exchange = server.next().await;
            exchange.fixed(200, &[("content-type", "text/plain")], b"data: no\n\n");
        };
        let client = async { shown(&mut source).await };
        let ((), shown) = futures_util::future::join(script, client).await;
        assert_eq!(shown, "failed (ContentType)");
        assert!(futures_util::StreamExt::next(&mut source).await.is_none());
    });
}

/// What the issue of recoverable conditions comes to: a `try_next()?` loop reads
/// through a reconnection and an event over the limit, and only the final failure
/// ends it, with an error.
fn a_try_next_loop_ends_only_when_the_source_fails<T: Rt>() {
    use futures_util::TryStreamExt;
    let server = Server::start();
    T::block_on(async {
        let mut config = sse_proto::ConnectionConfig::new();
        config.parser = config.parser.max_event_size(8);
        let mut source = EventSource::<T::R>::builder(server.url("/"))
            .config(config)
            .reconnection_time(Duration::from_millis(5))
            .connect()
            .unwrap();
        let script = async {
            let mut first = server.next().await;
            first
                .stream()
                .send(b"data: far too long for the limit\n\nid: 1\ndata: ok\n\n");
            let mut second = server.next().await;
            second.fixed(500, &[], b"");
        };
        let client = async {
            let mut seen = Vec::new();
            let result = async {
                while let Some(event) = source.try_next().await? {
                    seen.push(show(&Ok(event)));
                }
                Ok::<(), SourceError>(())
            }
            .await;
            (seen, result)
        };
        let ((), (seen, result)) = futures_util::future::join(script, client).await;
        assert_eq!(seen[0], "open");
        assert!(seen[1].starts_with("Skipped(EventTooLarge"), "{seen:?}");
        assert_eq!(seen[2..], ["message:ok:1", "reconnecting (EndOfStream)"]);
        assert_eq!(result.unwrap_err().reason, ConnectionError::Status(500));
    });
}

/// The request hook runs before every request to the source's origin, the
/// reconnection included, and may wait; a request to another origin goes without it.
fn the_request_hook_refreshes_credentials_on_the_origin_only<T: Rt>() {
    use std::sync::atomic::{AtomicU32, Ordering};
    let server = Server::start();
    let other = Server::start();
    let elsewhere = other.url("/elsewhere");
    T::block_on(async {
        let tokens = std::sync::Arc::new(AtomicU32::new(0));
        let counter = tokens.clone();
        let mut source = EventSource::<T::R>::builder(server.url("/events"))
            .reconnection_time(Duration::from_millis(5))
            .before_request(move |mut request| {
                let token = format!("Bearer {}", counter.fetch_add(1, Ordering::SeqCst));
                async move {
                    T::sleep(Duration::from_millis(1)).await;
                    request
                        .headers_mut()
                        .insert("authorization", token.parse()?);
                    Ok(request)
                }
            })
            .connect()
            .unwrap();
        let script = async {
            let mut first = server.next().await;
            assert_eq!(first.header("authorization"), Some("Bearer 0"));
            first.stream().send(b"id: 1\ndata: a\n\n");
            let mut second = server.next().await;
            assert_eq!(second.header("authorization"), Some("Bearer 1"));
            second.fixed(307, &[("location", elsewhere.as_str())], b"");
            let mut third = other.next().await;
            assert_eq!(
                third.header("authorization"),
                None,
                "no token for another origin"
            );
            third.fixed(204, &[], b"");
        };
        let client = everything(&mut source);
        let ((), seen) = futures_util::future::join(script, client).await;
        assert_eq!(
            seen,
            [
                "open",
                "message:a:1",
                "reconnecting (EndOfStream)",
                "failed (Status(204))"
            ]
        );
        assert_eq!(tokens.load(Ordering::SeqCst), 2);
    });
}

/// A POST stream (an LLM answer) that the server ends cleanly is complete: the
/// source ends without an error and the prompt is not sent again; one cut off in
/// the middle of an event is resumed.
fn a_finished_post_stream_is_not_sent_again<T: Rt>() {
    let server = Server::start();
    T::block_on(async {
        let mut source = EventSource::<T::R>::builder(server.url("/chat"))
            .method("POST")
            .body(r#"{"prompt":"hi"}"#)
            .reconnection_time(Duration::from_millis(5))
            .connect()
            .unwrap();
        let script = async {
            let mut first = server.next().await;
            let body = first.stream();
            body.send(b"id: 1\ndata: Hel\n\ndata: lo, cut");
            drop(body); // ended in the middle of an event: a failure
            let mut second = server.next().await;
            assert_eq!(second.header("last-event-id"), Some("1"));
            assert_eq!(&second.body[..], br#"{"prompt":"hi"}"#);
            let body = second.stream();
            body.send(b"id: 2\ndata: lo\n\ndata: [DONE]\n\n");
            drop(body); // ended between events: complete
        };
        let client = everything(&mut source);
        let ((), seen) = futures_util::future::join(script, client).await;
        assert_eq!(
            seen,
            [
                "open",
                "message:Hel:1",
                "reconnecting (EndOfStream)",
                "open",
                "message:lo:2",
                "message:[DONE]:2",
            ]
        );
        assert_eq!(source.ready_state(), sse_io::ReadyState::Closed);
        // No third request: nothing is waiting for one.
        assert!(server.requests.is_empty());
    });
}

/// A failure on a response carries it: the status, the headers and the start of the
/// body, an API's own error message; a long body is cut at the limit.
fn a_failure_carries_the_response<T: Rt>() {
    let server = Server::start();
    T::block_on(async {
        let mut source = EventSource::<T::R>::new(&server.url("/chat")).unwrap();
        let script = async {
            let mut exchange = server.next().await;
            exchange.fixed(
                429,
                &[("content-type", "application/json"), ("x-request-id", "r1")],
                br#"{"error": {"message": "rate limited"}}"#,
            );
        };
        let ((), failed) = futures_util::future::join(script, next(&mut source)).await;
        let error = failed.unwrap_err();
        assert_eq!(error.reason, ConnectionError::Status(429));
        let response = error.response.expect("the response");
        assert_eq!(response.status, 429);
        assert_eq!(response.headers["x-request-id"], "r1");
        assert_eq!(response.body, r#"{"error": {"message": "rate limited"}}"#);
        assert!(!response.truncated);
        assert!(futures_util::StreamExt::next(&mut source).await.is_none());

        // A wrong content type, with a body far over the limit that never ends.
        let mut source = EventSource::<T::R>::new(&server.url("/page")).unwrap();
        let script = async {
            let mut exchange = server.next().await;
            let body = exchange.stream_with(200, "text/html");
            body.send(&[b'<'; 100_000]);
            body
        };
        let (_body, failed) = futures_util::future::join(script, next(&mut source)).await;
        let response = failed.unwrap_err().response.expect("the response");
        assert_eq!(response.headers["content-type"], "text/html");
        assert_eq!(response.body.len(), sse_io::FAILED_BODY_LIMIT);
        assert!(response.truncated);
    });
}

fn the_open_event_carries_the_response<T: Rt>() {
    let server = Server::start();
    let target = server.url("/v2");
    T::block_on(async {
        let mut source = EventSource::<T::R>::new(&server.url("/v1")).unwrap();
        let script = async {
            let mut first = server.next().await;
            first.fixed(308, &[("location", target.as_str())], b"");
            let mut second = server.next().await;
            second.respond(
                http::Response::builder()
                    .header("content-type", "text/event-stream")
                    .header("x-request-id", "r-17")
                    .header("x-ratelimit-remaining", "99")
                    .body(
                        http_body_util::Full::new(bytes::Bytes::from_static(b"data: x\n\n"))
                            .map_err(|never| match never {})
                            .boxed(),
                    )
                    .unwrap(),
            );
        };
        let ((), opened) = futures_util::future::join(script, next(&mut source)).await;
        let Ok(SourceEvent::Open(opened)) = opened else {
            panic!("not open: {opened:?}")
        };
        assert_eq!(opened.status, http::StatusCode::OK);
        assert_eq!(opened.headers["x-request-id"], "r-17");
        assert_eq!(opened.headers["x-ratelimit-remaining"], "99");
        assert_eq!(opened.url, target, "where the redirect led");
        assert_eq!(shown(&mut source).await, "message:x:");
    });
}

fn a_response_that_never_comes_times_out<T: Rt>() {
    let server = Server::start();
    T::block_on(async {
        let mut source = EventSource::<T::R>::builder(server.url("/slow"))
            .response_timeout(Duration::from_millis(100))
            .reconnection_time(Duration::from_millis(5))
            .connect()
            .unwrap();
        let script = async {
            // Accepted, read, and never answered.
            let silent = server.next().await;
            let mut second = server.next().await;
            second.fixed(204, &[], b"");
            silent
        };
        let client = async {
            assert_eq!(shown(&mut source).await, "reconnecting (ResponseTimeout)");
            assert_eq!(shown(&mut source).await, "failed (Status(204))");
        };
        let (_silent, ()) = futures_util::future::join(script, client).await;
    });
}

/// A listener whose accept queue is full: the kernel drops further SYNs, so a
/// connect hangs (on loopback) until the client gives up.
fn a_listener_that_never_accepts() -> (socket2::Socket, Vec<std::net::TcpStream>) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut queued = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(tcp) => queued.push(tcp),
            Err(_) => return (socket, queued),
        }
    }
    panic!("the accept queue never filled");
}

fn a_connect_that_hangs_times_out<T: Rt>() {
    let (listener, _queued) = a_listener_that_never_accepts();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    T::block_on(async {
        let mut source = EventSource::<T::R>::builder(format!("http://{addr}/"))
            .connect_timeout(Duration::from_millis(200))
            // Without the connect timeout, this one would end the hang instead.
            .response_timeout(Duration::from_secs(3))
            .reconnection_time(Duration::from_millis(5))
            .connect()
            .unwrap();
        let Ok(SourceEvent::Reconnecting(reconnect)) = next(&mut source).await else {
            panic!("not a reconnection")
        };
        assert_eq!(reconnect.reason, ConnectionError::Network);
        let mut cause = std::error::Error::source(&reconnect);
        let mut timed_out = false;
        while let Some(error) = cause {
            timed_out |= error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::TimedOut);
            cause = error.source();
        }
        assert!(timed_out, "{reconnect:?}");
    });
}

on_every_runtime!(
    the_open_event_carries_the_response,
    a_response_that_never_comes_times_out,
    a_connect_that_hangs_times_out,
    a_failure_carries_the_response,
    a_finished_post_stream_is_not_sent_again,
    the_request_hook_refreshes_credentials_on_the_origin_only,
    a_try_next_loop_ends_only_when_the_source_fails,
    a_stream_reconnects_with_last_event_id_and_stops_on_204,
    method_headers_and_body_go_with_every_request,
    http2_by_prior_knowledge,
    redirects_are_followed,
    a_refused_connection_is_retried_with_its_cause,
    an_idle_connection_is_reestablished,
    close_ends_the_stream_and_the_connection,
    a_wrong_content_type_fails_without_reconnecting,
);
