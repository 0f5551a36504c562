//! The classic Server-Sent Events demo, on axum and sse-tokio.
//!
//! ```sh
//! cargo run -p sse-tokio --example demo            # http://127.0.0.1:8080
//! cargo run -p sse-tokio --example demo -- 3000    # or PORT=3000
//! ```
//!
//! - `/`: a page whose `EventSource`s show both streams below.
//! - `/events`: five JSON events, one a second, then the response ends. The browser
//!   reconnects with `Last-Event-ID`; the handler resumes after it, and once there is
//!   nothing left it answers 204, which tells the browser to stop.
//! - `/events/{user}`: one user's stream: a welcome event, then whatever is posted to
//!   `/send/{user}`, with keep-alive comments while quiet. When the user goes away,
//!   the server notices and forgets the stream.
//!
//! From the shell: `cargo run -p sse-cli -- listen http://127.0.0.1:8080/events`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use sse_proto::Message;
use sse_tokio::Sender;

/// How many events `/events` sends in all.
const COUNT: u64 = 5;

/// The open `/events/{user}` streams, by user.
#[derive(Clone, Default)]
struct Users(Arc<Mutex<HashMap<String, Vec<Sender>>>>);

#[tokio::main]
#[allow(dead_code)] // also compiled into tests/browser.rs, which serves `app()` itself
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
        .map_or(8080, |p| p.parse().expect("the port is a number"));
    let app = app();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("cannot listen on 127.0.0.1:{port}: {e}"));
    let addr = listener.local_addr().unwrap();
    println!("SSE demo listening on http://{addr}/");
    println!("  try: cargo run -p sse-cli -- listen http://{addr}/events");
    axum::serve(listener, app).await.unwrap();
}

/// The demo's routes (`tests/browser.rs` serves them to a real browser).
pub fn app() -> Router {
    Router::new()
        .route("/", get(page))
        .route("/events", get(countdown))
        .route("/events/{user}", get(user_stream))
        .route("/send/{user}", post(send))
        .with_state(Users::default())
}

fn unix_time() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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
            let data = json!({"n": n, "of": COUNT, "time": unix_time()});
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

/// `/events/{user}`: a welcome, then what is posted for `user`.
async fn user_stream(State(users): State<Users>, Path(user): Path<String>) -> Response {
    let (sender, body) = sse_tokio::channel(16);
    let welcome = json!({"to": user, "text": format!("welcome, {user}"), "time": unix_time()});
    let welcome = Message::json(&welcome)
        .expect("serializes")
        .event("welcome");
    sender.try_send(welcome).expect("an empty queue has room");
    users
        .0
        .lock()
        .unwrap()
        .entry(user.clone())
        .or_default()
        .push(sender.clone());
    println!("/events/{user}: connected");
    // Release the stream as soon as the client goes away.
    tokio::spawn(async move {
        sender.closed().await;
        let mut map = users.0.lock().unwrap();
        if let Some(streams) = map.get_mut(&user) {
            streams.retain(|s| !s.is_closed());
            if streams.is_empty() {
                map.remove(&user);
            }
        }
        println!("/events/{user}: disconnected");
    });
    body.keep_alive(Duration::from_secs(15))
        .response()
        .into_response()
}

/// `POST /send/{user}`: the body becomes a `message` event on `user`'s streams.
async fn send(State(users): State<Users>, Path(user): Path<String>, text: String) -> Response {
    let streams = users
        .0
        .lock()
        .unwrap()
        .get(&user)
        .cloned()
        .unwrap_or_default();
    let data = json!({"to": user, "text": text, "time": unix_time()});
    let mut delivered = 0;
    for stream in streams {
        let message = Message::json(&data).expect("serializes");
        // A full queue means a client that does not read: skip it rather than wait.
        if stream.try_send(message).is_ok() {
            delivered += 1;
        }
    }
    let status = if delivered > 0 {
        StatusCode::ACCEPTED
    } else {
        StatusCode::NOT_FOUND
    };
    (status, format!("delivered to {delivered} stream(s)\n")).into_response()
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Server-Sent Events demo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
  section { border: 1px solid #ccc; border-radius: 6px; padding: 0 1rem 1rem; margin-bottom: 1.5rem; }
  ol, ul { font-family: ui-monospace, monospace; font-size: 13px; }
  .state { font-weight: bold; }
</style>
</head>
<body>
<h1>Server-Sent Events demo</h1>

<section>
  <h2><code>/events</code> <span class="state" id="count-state">connecting</span></h2>
  <p>Five JSON events, one a second; then the response ends. The browser reconnects
  with <code>Last-Event-ID</code>, and the server, with nothing left, answers 204:
  the browser stops.</p>
  <ol id="count"></ol>
</section>

<section>
  <h2><code>/events/{user}</code> <span class="state" id="user-state">not connected</span></h2>
  <form id="connect">
    <label>User <input id="user" value="alice" required></label>
    <button>Connect</button>
  </form>
  <form id="send">
    <label>Send <input id="text" value="hello!" required></label>
    <label>to <input id="to" value="alice" required></label>
    <button>Send</button> <span id="sent"></span>
  </form>
  <ul id="inbox"></ul>
</section>

<script>
const $ = (id) => document.getElementById(id);
const states = ["connecting", "open", "closed"];
function add(list, text) {
  const li = document.createElement("li");
  li.textContent = text;
  $(list).appendChild(li);
}

const count = new EventSource("/events");
count.addEventListener("open", () => { $("count-state").textContent = "open"; });
count.addEventListener("tick", (e) => {
  const tick = JSON.parse(e.data);
  add("count", `#${e.lastEventId}: ${tick.n} of ${tick.of} at ${new Date(tick.time * 1000).toLocaleTimeString()}`);
});
count.addEventListener("error", () => {
  $("count-state").textContent = states[count.readyState];
  if (count.readyState === EventSource.CLOSED) add("count", "(done: the server said 204)");
  else add("count", "(stream ended; reconnecting with Last-Event-ID)");
});

let inbox = null;
$("connect").addEventListener("submit", (e) => {
  e.preventDefault();
  if (inbox) inbox.close();
  const user = $("user").value;
  inbox = new EventSource(`/events/${encodeURIComponent(user)}`);
  $("user-state").textContent = "connecting";
  inbox.addEventListener("open", () => { $("user-state").textContent = `open as ${user}`; });
  inbox.addEventListener("error", () => { $("user-state").textContent = states[inbox.readyState]; });
  const show = (e) => add("inbox", `${e.type}: ${JSON.parse(e.data).text}`);
  inbox.addEventListener("welcome", show);
  inbox.addEventListener("message", show);
});
$("send").addEventListener("submit", async (e) => {
  e.preventDefault();
  const to = encodeURIComponent($("to").value);
  const response = await fetch(`/send/${to}`, { method: "POST", body: $("text").value });
  $("sent").textContent = await response.text();
});
</script>
</body>
</html>
"#;
