//! What Server-Sent Events are for, on axum and sse-tokio: one page, one server.
//!
//! ```sh
//! cargo run -p sse-tokio --example demo            # http://127.0.0.1:8080
//! cargo run -p sse-tokio --example demo -- 3000    # or PORT=3000
//! cargo run -p sse-tokio --example demo -- --tls-self-signed   # HTTPS, HTTP/2
//! cargo run -p sse-tokio --example demo -- --tls-cert cert.pem --tls-key key.pem
//! ```
//!
//! Over HTTPS the demo offers HTTP/2 (by ALPN): a browser then opens every stream of
//! the page on one connection, where over HTTP/1.1 it stops at six per origin.
//! `--tls-self-signed` makes a certificate for 127.0.0.1 and prints the SPKI hash
//! that Chromium's `--ignore-certificate-errors-spki-list` takes to trust it.
//!
//! - `/`: the page (`page.html`), which shows everything below.
//! - `POST /chat`: an answer from a stand-in for a language model (`model.rs`),
//!   streamed token by token, as the LLM APIs do: the prompt is a JSON body, each
//!   token an event with an ID, and a `done` event ends it. A client that lost the
//!   connection asks again with `Last-Event-ID` and gets the rest; one that asks
//!   after the answer is complete gets 204.
//! - `/events/{user}`: one user's channel, a topic of the server's [`Hub`]; `POST
//!   /send/{user}` publishes to it. A browser that lost its connection comes back
//!   with `Last-Event-ID` and is sent what it missed.
//! - `/metrics`: a metric published ten times a second to every viewer (a hub
//!   topic), with the time it was published, for the page's live chart. `POST
//!   /drop` ends every `/metrics` stream on the server, so that the reconnection and
//!   the replay can be watched.
//! - `/events`: the classic: five events, one a second, then the response ends. The
//!   browser reconnects with `Last-Event-ID`; the handler resumes after it, and once
//!   there is nothing left it answers 204, which tells the browser to stop.
//! - `/tick/{n}`: a tick a second, for the page's row of twelve streams (over
//!   HTTP/2 all stay open; over HTTP/1.1 a browser holds six per origin).
//!
//! From the shell: `cargo run -p sse-cli -- listen http://127.0.0.1:8080/events`.

mod model;
pub mod tls;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use sse_proto::{Message, SubscribeError};
use sse_tokio::{Hub, Shutdown};

/// How many events `/events` sends in all.
const COUNT: u64 = 5;

/// The metric stream's topic.
const METRICS: &str = "metrics";

/// What the handlers share.
#[derive(Clone)]
struct Demo {
    hub: Hub,
    /// Ends the `/metrics` streams open now (`POST /drop`).
    drop: Arc<Mutex<Shutdown>>,
}

#[tokio::main]
#[allow(dead_code)] // also compiled into the tests, which serve `app()` themselves
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let port: u16 = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .or_else(|| std::env::var("PORT").ok())
        .map_or(8080, |p| p.parse().expect("the port is a number"));
    let app = app();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("cannot listen on 127.0.0.1:{port}: {e}"));
    let addr = listener.local_addr().unwrap();
    // For a self-signed certificate, what `sse listen` needs to trust it.
    let mut cacert = String::new();
    let tls = match (value("--tls-cert"), value("--tls-key")) {
        (Some(cert), Some(key)) => Some(tls::from_files(&cert, &key)),
        _ if flag("--tls-self-signed") => {
            let (config, spki, pem) = tls::self_signed(addr);
            let file = std::env::temp_dir().join("sse-demo-cert.pem");
            std::fs::write(&file, pem).expect("the certificate written");
            cacert = format!("--cacert {} ", file.display());
            println!("self-signed certificate; in Chromium, trust it with");
            println!("  --ignore-certificate-errors-spki-list={spki}");
            Some(config)
        }
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("SSE demo listening on {scheme}://{addr}/");
    println!("  try: cargo run -p sse-cli -- listen {cacert}{scheme}://{addr}/events");
    match tls {
        None => axum::serve(listener, app).await.unwrap(),
        Some(config) => tls::serve(listener, config, app).await,
    }
}

/// The demo's routes (the tests serve them to a real browser). Starts the metric
/// publisher: call it inside a tokio runtime.
pub fn app() -> Router {
    let demo = Demo {
        hub: Hub::new(),
        drop: Arc::new(Mutex::new(Shutdown::new())),
    };
    tokio::spawn(publish_metrics(demo.hub.clone()));
    Router::new()
        .route("/", get(page))
        .route("/events", get(countdown))
        .route("/events/{user}", get(user_stream))
        .route("/send/{user}", post(send))
        .route("/chat", post(chat))
        .route("/metrics", get(metrics))
        .route("/drop", post(drop_metrics))
        .route("/tick/{n}", get(tick))
        .with_state(demo)
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

async fn page() -> Html<&'static str> {
    Html(include_str!("page.html"))
}

/// `/events`: the events after `Last-Event-ID`, one a second, then the end; 204 when
/// there are none left.
async fn countdown(headers: HeaderMap) -> Response {
    let after = sse_tokio::last_event_id(&headers)
        .and_then(|id| id.parse::<u64>().ok())
        .unwrap_or(0);
    if after >= COUNT {
        println!("/events: a client is done; 204 tells it to stop");
        return StatusCode::NO_CONTENT.into_response();
    }
    println!("/events: streaming from event {}", after + 1);
    let (sender, body) = sse_tokio::channel(8);
    tokio::spawn(async move {
        for n in after + 1..=COUNT {
            let data = json!({"n": n, "of": COUNT, "time": unix_millis() / 1000});
            let message = Message::json(&data)
                .expect("a JSON value serializes")
                .event("tick")
                .id(n.to_string());
            if sender.send(message).await.is_err() {
                println!("/events: the client left after event {}", n - 1);
                return;
            }
            if n < COUNT {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        // Dropping the sender ends the response.
    });
    body.retry(Duration::from_secs(2))
        .response()
        .into_response()
}

/// Answers a subscription that the hub refused.
fn refused(error: SubscribeError) -> Response {
    match error {
        SubscribeError::TopicCount { .. } => StatusCode::BAD_REQUEST.into_response(),
        // Too many streams or users at once: come back later.
        _ => sse_tokio::unavailable::<axum::body::Body>(Duration::from_secs(5)).into_response(),
    }
}

/// `/events/{user}`: what is posted for `user`, from where its `Last-Event-ID`
/// left off.
async fn user_stream(
    State(demo): State<Demo>,
    Path(user): Path<String>,
    headers: HeaderMap,
) -> Response {
    let last_event_id = sse_tokio::last_event_id(&headers);
    match demo.hub.subscribe_to([&user], last_event_id.as_deref()) {
        Ok(body) => {
            println!("/events/{user}: connected (Last-Event-ID: {last_event_id:?})");
            body.keep_alive(Duration::from_secs(15))
                .retry(Duration::from_secs(2))
                .response()
                .into_response()
        }
        Err(error) => refused(error),
    }
}

/// `POST /send/{user}`: the body, `{"from": ..., "text": ...}`, becomes a `message`
/// event on `user`'s topic.
async fn send(State(demo): State<Demo>, Path(user): Path<String>, body: String) -> Response {
    let Ok(posted) = serde_json::from_str::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "expected JSON\n").into_response();
    };
    let data = json!({
        "to": user,
        "from": posted["from"].as_str().unwrap_or("someone"),
        "text": posted["text"].as_str().unwrap_or(""),
        "time": unix_millis(),
    });
    let message = Message::json(&data).expect("serializes");
    match demo.hub.publish_to(&user, message) {
        Ok(published) => {
            let text = format!(
                "event {} sent to {} stream(s)\n",
                published.id, published.queued
            );
            (StatusCode::ACCEPTED, text).into_response()
        }
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, format!("{error}\n")).into_response(),
    }
}

/// `POST /chat`: `{"prompt": ...}` answered token by token; with `Last-Event-ID`,
/// from the token after it; 204 once the answer is complete.
async fn chat(headers: HeaderMap, body: String) -> Response {
    let Ok(request) = serde_json::from_str::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "expected {\"prompt\": \"...\"}\n").into_response();
    };
    let tokens = model::answer(request["prompt"].as_str().unwrap_or(""));
    let start = match sse_tokio::last_event_id(&headers).as_deref() {
        None => 0,
        Some("done") => return StatusCode::NO_CONTENT.into_response(),
        Some(id) => match id.parse::<usize>() {
            Ok(n) => n + 1,
            Err(_) => return (StatusCode::BAD_REQUEST, "unknown Last-Event-ID\n").into_response(),
        },
    };
    let (sender, body) = sse_tokio::channel(16);
    tokio::spawn(async move {
        for (n, token) in tokens.iter().enumerate().skip(start) {
            let message = Message::json(&json!({ "text": token }))
                .expect("serializes")
                .event("token")
                .id(n.to_string());
            if sender.send(message).await.is_err() {
                println!("/chat: the client stopped the answer at token {n}");
                return;
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        let done = json!({ "tokens": tokens.len() });
        let message = Message::json(&done)
            .expect("serializes")
            .event("done")
            .id("done");
        let _ = sender.send(message).await;
    });
    body.response().into_response()
}

/// Publishes a metric to [`METRICS`] ten times a second: a sequence number, the
/// time it was published (the page measures the latency against it) and a value.
async fn publish_metrics(hub: Hub) {
    let mut interval = tokio::time::interval(Duration::from_millis(100));
    for n in 0u64.. {
        interval.tick().await;
        let phase = n as f64 / 25.0;
        let value = 50.0 + 30.0 * phase.sin() + 10.0 * (phase * 3.7).cos();
        let data = json!({ "n": n, "sent": unix_millis(), "value": value.round() as i64 });
        let message = Message::json(&data).expect("serializes").event("metric");
        if hub.publish_to(METRICS, message).is_err() {
            return;
        }
    }
}

/// `/metrics`: the metric stream, resumed from `Last-Event-ID`; ended on the server
/// by `POST /drop`.
async fn metrics(State(demo): State<Demo>, headers: HeaderMap) -> Response {
    let last_event_id = sse_tokio::last_event_id(&headers);
    let drop = demo.drop.lock().unwrap().clone();
    match demo.hub.subscribe_to([METRICS], last_event_id.as_deref()) {
        Ok(body) => body
            .shutdown_on(&drop)
            .keep_alive(Duration::from_secs(15))
            .retry(Duration::from_secs(1))
            .response()
            .into_response(),
        Err(error) => refused(error),
    }
}

/// `POST /drop`: ends the `/metrics` streams open now; their clients reconnect.
async fn drop_metrics(State(demo): State<Demo>) -> StatusCode {
    let old = std::mem::take(&mut *demo.drop.lock().unwrap());
    old.trigger();
    println!("/drop: the metric streams were ended on the server");
    StatusCode::NO_CONTENT
}

/// `/tick/{n}`: a tick a second, numbered.
async fn tick(Path(n): Path<u32>) -> Response {
    let (sender, body) = sse_tokio::channel(4);
    tokio::spawn(async move {
        for count in 1u64.. {
            let message = Message::json(&json!({ "stream": n, "count": count }))
                .expect("serializes")
                .event("tick");
            if sender.send(message).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    body.response().into_response()
}
