//! `sse listen` as a user runs it: the binary against a loopback server started by
//! the test. Every run passes `--timeout`, so a stuck client still exits by itself.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sse_proto::Message;
use tokio::net::TcpListener;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Response = http::Response<BoxBody<Bytes, BoxError>>;

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    headers: http::HeaderMap,
    body: Bytes,
}

/// Serves requests with `respond(n, &seen)` (n counts from 0) on 127.0.0.1; returns
/// the address and the log of requests.
async fn serve<F>(respond: F) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>)
where
    F: Fn(usize, &Seen) -> Response + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let respond = Arc::new(respond);
    let state = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (log, respond) = (state.clone(), respond.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let (log, respond) = (log.clone(), respond.clone());
                    async move {
                        let (head, body) = req.into_parts();
                        let seen = Seen {
                            method: head.method.to_string(),
                            headers: head.headers,
                            body: body.collect().await.unwrap().to_bytes(),
                        };
                        let n = {
                            let mut log = log.lock().unwrap();
                            log.push(seen.clone());
                            log.len() - 1
                        };
                        Ok::<_, Infallible>(respond(n, &seen))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, log)
}

/// An event stream of `messages`, then the end of the response.
fn stream(first: &[u8], messages: Vec<Message<String>>) -> Response {
    let (sender, body) = sse_tokio::channel(messages.len() + 1);
    if !first.is_empty() {
        sender
            .try_send(sse_proto::Comment::new(String::from_utf8_lossy(first)))
            .unwrap();
    }
    for message in messages {
        sender.try_send(message).unwrap();
    }
    body.response().map(|b| b.map_err(|e| match e {}).boxed())
}

fn retry_stream(retry_ms: u64, messages: Vec<Message<String>>) -> Response {
    let (sender, body) = sse_tokio::channel(messages.len() + 1);
    for message in messages {
        sender.try_send(message).unwrap();
    }
    body.retry(Duration::from_millis(retry_ms))
        .response()
        .map(|b| b.map_err(|e| match e {}).boxed())
}

fn status(status: u16, content_type: &str, body: &'static str) -> Response {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(
            http_body_util::Full::new(Bytes::from_static(body.as_bytes()))
                .map_err(|e| match e {})
                .boxed(),
        )
        .unwrap()
}

fn message(data: &str) -> Message<String> {
    Message::new(data.to_string())
}

/// Runs `sse listen URL ARGS --timeout 20` to completion; returns the stdout lines
/// (as text and as JSON) and the exit code.
async fn listen(url: String, args: &[&str]) -> (Vec<String>, Vec<Value>, i32, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let output = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sse"));
        command.arg("listen").arg(url).args(&args);
        if !args.iter().any(|a| a == "--timeout") {
            command.args(["--timeout", "20"]);
        }
        command.output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    let json = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        lines,
        json,
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_events_and_errors_reconnects_and_stops_on_204() {
    let (addr, log) = serve(|n, _| match n {
        0 => retry_stream(
            150,
            vec![
                message("hello").id("1"),
                message("{\"n\": 2}").event("greeting").id("2"),
            ],
        ),
        1 => stream(b"", vec![message("again")]),
        _ => status(204, "text/plain", ""),
    })
    .await;
    let (lines, _, code, stderr) = listen(format!("http://{addr}/events"), &["--no-backoff"]).await;
    assert_eq!(
        lines,
        [
            r#"{"type": "message", "data": "hello", "id": "1", "retry": 150}"#,
            r#"{"type": "greeting", "data": "{\"n\": 2}", "id": "2", "retry": 150}"#,
            r#"{"error": "the event stream ended; reconnecting in 150 ms"}"#,
            r#"{"type": "message", "data": "again", "id": "2", "retry": 150}"#,
            r#"{"error": "the event stream ended; reconnecting in 150 ms"}"#,
            r#"{"error": "the server answered with status 204; not reconnecting"}"#,
            r#"{"final": true, "last_event_id": "2", "retry": 150}"#,
        ],
        "{stderr}"
    );
    assert_eq!(code, 0, "204 means stop: success");
    let ids: Vec<Option<String>> = log
        .lock()
        .unwrap()
        .iter()
        .map(|s| {
            s.headers
                .get("last-event-id")
                .map(|v| v.to_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(ids, [None, Some("2".into()), Some("2".into())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_status_fails_without_reconnecting() {
    let (addr, log) = serve(|_, _| status(500, "text/plain", "oops")).await;
    let (_, json, code, _) = listen(format!("http://{addr}/"), &[]).await;
    assert_eq!(
        json,
        [
            json!({"error": "the server answered with status 500; not reconnecting", "body": "oops"}),
            json!({"final": true, "last_event_id": "", "retry": null}),
        ]
    );
    assert_eq!(code, 1);
    assert_eq!(log.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_content_type_fails_without_reconnecting() {
    let (addr, log) = serve(|_, _| status(200, "application/json", "data: x\n\n")).await;
    let (_, json, code, _) = listen(format!("http://{addr}/"), &[]).await;
    assert_eq!(
        json[0],
        json!({
            "error": "the response's content type is not text/event-stream; not reconnecting",
            "body": "data: x\n\n"
        })
    );
    assert_eq!(code, 1);
    assert_eq!(log.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_exits_non_zero() {
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    let (addr, _) = serve(move |_, _| {
        // A stream that stays open and silent.
        let (sender, body) = sse_tokio::channel(1);
        keep.lock().unwrap().push(sender);
        body.response().map(|b| b.map_err(|e| match e {}).boxed())
    })
    .await;
    let (_, json, code, _) = listen(format!("http://{addr}/"), &["--timeout", "0.5"]).await;
    assert_eq!(
        json,
        [
            json!({"error": "timed out after 0.5 s"}),
            json!({"final": true, "last_event_id": "", "retry": null}),
        ]
    );
    assert_eq!(code, 124);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_options_comments_and_max_events() {
    let (addr, log) = serve(|_, _| {
        stream(
            b"hi there",
            vec![message("one").id("42"), message("two"), message("three")],
        )
    })
    .await;
    let (_, json, code, stderr) = listen(
        format!("http://{addr}/chat"),
        &[
            "-X",
            "PUT",
            "-H",
            "Authorization: Bearer t",
            "-H",
            "X-Two:2",
            "-d",
            "{\"q\": 1}",
            "--last-event-id",
            "41",
            "--comments",
            "--max-events",
            "2",
            "--idle-timeout",
            "10000",
            "--reconnect-delay",
            "500",
        ],
    )
    .await;
    assert_eq!(
        json,
        [
            json!({"comment": "hi there"}),
            json!({"type": "message", "data": "one", "id": "42", "retry": null}),
            json!({"type": "message", "data": "two", "id": "42", "retry": null}),
            json!({"final": true, "last_event_id": "42", "retry": null}),
        ],
        "{stderr}"
    );
    assert_eq!(code, 0);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 1);
    let seen = &log[0];
    assert_eq!(seen.method, "PUT");
    assert_eq!(seen.headers["authorization"], "Bearer t");
    assert_eq!(seen.headers["x-two"], "2");
    assert_eq!(seen.headers["last-event-id"], "41");
    assert_eq!(seen.headers["accept"], "text/event-stream");
    assert_eq!(&seen.body[..], b"{\"q\": 1}");
}

/// `--event` keeps the named types; the others are read (their IDs count) and not
/// printed, nor counted by `--max-events`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_event_types_asked_for_are_printed() {
    let (addr, _log) = serve(|_, _| {
        stream(
            b"",
            vec![
                message("a").event("delta").id("1"),
                message("b").event("ping").id("2"),
                message("c").id("3"),
                message("d").event("done").id("4"),
                message("e").event("delta").id("5"),
            ],
        )
    })
    .await;
    let (_, json, code, stderr) = listen(
        format!("http://{addr}/"),
        &["--event", "delta", "--event", "done", "--max-events", "2"],
    )
    .await;
    assert_eq!(
        json,
        [
            json!({"type": "delta", "data": "a", "id": "1", "retry": null}),
            json!({"type": "done", "data": "d", "id": "4", "retry": null}),
            json!({"final": true, "last_event_id": "4", "retry": null}),
        ],
        "{stderr}"
    );
    assert_eq!(code, 0);
}

/// A POST stream that ends cleanly is complete: one request, exit 0. With
/// `--reconnect always` it is sent again, as a browser would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_stream_that_ends_is_complete_unless_told_to_reconnect() {
    let (addr, log) = serve(|n, _| {
        if n == 0 {
            stream(b"", vec![message("answer").id("1"), message("[DONE]")])
        } else {
            status(204, "text/plain", "")
        }
    })
    .await;
    let (_, json, code, stderr) = listen(format!("http://{addr}/"), &["-d", "{}"]).await;
    assert_eq!(
        json,
        [
            json!({"type": "message", "data": "answer", "id": "1", "retry": null}),
            json!({"type": "message", "data": "[DONE]", "id": "1", "retry": null}),
            json!({"final": true, "last_event_id": "1", "retry": null}),
        ],
        "{stderr}"
    );
    assert_eq!(code, 0);
    assert_eq!(log.lock().unwrap().len(), 1, "the prompt was sent once");

    let (addr, log) = serve(|n, _| {
        if n == 0 {
            stream(b"", vec![message("answer")])
        } else {
            status(204, "text/plain", "")
        }
    })
    .await;
    let (_, _, code, _) = listen(
        format!("http://{addr}/"),
        &[
            "-d",
            "{}",
            "--reconnect",
            "always",
            "--reconnect-delay",
            "100",
        ],
    )
    .await;
    assert_eq!(code, 0, "the 204 stops it");
    assert_eq!(log.lock().unwrap().len(), 2);
}

/// `--max-retries N` gives up after N consecutive failures were retried: exit 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_retries_gives_up() {
    let (addr, log) = serve(|_, _| stream(b"", vec![])).await;
    let (_, json, code, stderr) = listen(
        format!("http://{addr}/"),
        &["--max-retries", "2", "--reconnect-delay", "100"],
    )
    .await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        log.lock().unwrap().len(),
        3,
        "the first request and two retries"
    );
    assert_eq!(
        json.last().unwrap(),
        &json!({"final": true, "last_event_id": "", "retry": null})
    );
    let errors: Vec<&Value> = json.iter().filter(|l| l.get("error").is_some()).collect();
    assert_eq!(errors.len(), 3);
    assert!(
        errors[2]["error"]
            .as_str()
            .unwrap()
            .ends_with("giving up: retries exhausted"),
        "{errors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_implies_post() {
    let (addr, log) = serve(|_, _| status(204, "text/plain", "")).await;
    let (_, _, code, _) = listen(format!("http://{addr}/"), &["-d", "x"]).await;
    assert_eq!(code, 0);
    assert_eq!(log.lock().unwrap()[0].method, "POST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_mid_event_is_reported_and_the_half_event_never_printed() {
    let (addr, log) = serve(|n, _| {
        if n > 0 {
            return status(204, "text/plain", "");
        }
        // One whole event and half of the next; then the server aborts the
        // connection (after the bytes are flushed: the body is pending first).
        let frames = futures_util::stream::unfold(0, |step| async move {
            match step {
                0 => Some((
                    Ok(http_body::Frame::data(Bytes::from_static(
                        b"retry: 100\nid: 1\ndata: one\n\nid: 2\ndata: tw",
                    ))),
                    1,
                )),
                1 => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((Err::<http_body::Frame<Bytes>, BoxError>("gone".into()), 2))
                }
                _ => None,
            }
        });
        http::Response::builder()
            .header("content-type", "text/event-stream")
            .body(http_body_util::StreamBody::new(frames).boxed())
            .unwrap()
    })
    .await;
    let (_, json, code, stderr) = listen(format!("http://{addr}/"), &["--no-backoff"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json.len(), 4, "{json:?}");
    assert_eq!(
        json[0],
        json!({"type": "message", "data": "one", "id": "1", "retry": 100})
    );
    let error = json[1]["error"].as_str().unwrap();
    assert!(
        error.starts_with("network error; reconnecting in 100 ms: "),
        "{error}"
    );
    assert_eq!(
        json[2],
        json!({"error": "the server answered with status 204; not reconnecting"})
    );
    assert_eq!(
        json[3],
        json!({"final": true, "last_event_id": "1", "retry": 100})
    );
    let log = log.lock().unwrap();
    assert_eq!(log[1].headers["last-event-id"], "1");
}

#[test]
fn bad_arguments_exit_with_status_2() {
    for args in [
        &["/relative"][..],
        &["http://127.0.0.1:9/", "-H", "no colon"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_sse"))
            .arg("listen")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty());
    }
}

/// With the default limits, one 14 MB event (the base64 of a 10 MiB image, as LLM
/// APIs send) arrives whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fourteen_megabyte_event_is_delivered_by_default() {
    const SIZE: usize = 14_000_000;
    let (addr, _) = serve(|n, _| {
        if n == 0 {
            stream(b"", vec![message(&"A".repeat(SIZE)).id("img")])
        } else {
            status(204, "text/plain", "")
        }
    })
    .await;
    let (_, json, code, stderr) = listen(format!("http://{addr}/"), &["--max-events", "1"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json[0]["id"], "img", "{stderr}");
    let data = json[0]["data"].as_str().unwrap();
    assert!(data.len() == SIZE && data.bytes().all(|b| b == b'A'));
}

/// The wait after each consecutive failure grows, with jitter, unless
/// `--no-backoff` asks for the browser's fixed reconnection time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consecutive_failures_back_off_unless_told_not_to() {
    let delays = |json: &[Value]| -> Vec<u64> {
        json.iter()
            .filter_map(|line| line.get("error")?.as_str())
            .filter_map(|error| {
                let ms = error.split("reconnecting in ").nth(1)?;
                ms.trim_end_matches(" ms").parse().ok()
            })
            .collect()
    };
    let (addr, _) = serve(|_, _| stream(b"", vec![])).await;
    let args = ["--max-retries", "3", "--reconnect-delay", "100"];
    let (_, json, code, stderr) = listen(format!("http://{addr}/"), &args).await;
    assert_eq!(code, 1, "{stderr}");
    let waits = delays(&json);
    assert_eq!(waits.len(), 3, "{json:?}");
    for (n, wait) in waits.iter().enumerate() {
        let plain = 100 << n;
        assert!((plain..=plain * 3 / 2).contains(wait), "{waits:?}");
    }
    let args = [
        "--max-retries",
        "3",
        "--reconnect-delay",
        "100",
        "--no-backoff",
    ];
    let (_, json, code, stderr) = listen(format!("http://{addr}/"), &args).await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(delays(&json), [100, 100, 100]);
}

/// A server that accepts the request and never answers: the response timeout
/// gives up on it and reconnects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_is_given_up_on() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let args = [
        "--response-timeout",
        "200",
        "--max-retries",
        "1",
        "--reconnect-delay",
        "100",
        "--no-backoff",
    ];
    let (_, json, code, stderr) = listen(format!("http://{addr}/"), &args).await;
    held.abort();
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        json[0],
        json!({"error": "no response received within the response timeout; reconnecting in 100 ms"})
    );
}
