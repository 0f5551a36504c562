//! The wasm32 client (`sse-wasm`) in a real browser: the crate is built for
//! `wasm32-unknown-unknown`, bound with `wasm-bindgen --target web`, and loaded by a
//! page this test serves on loopback, with the event streams the page reads. A
//! script in the page (through chromedriver) reads a `GET` stream that ends twice
//! and then answers 204, a `POST` stream with a body and a header, a stream whose
//! requests get a token from a `beforeRequest` hook, a stream on another origin with
//! and without credentials, a stream it closes, then one it closes while waiting to
//! reconnect; the server checks what came
//! in: the `Last-Event-ID` of each reconnection, one `POST` only, and the closed
//! stream's connection gone; the page, that no source's task outlives `close()`.
//!
//! Needs Chromium and chromedriver (as `browser.rs`), the `wasm32-unknown-unknown`
//! target and `wasm-bindgen` 0.2.130 (`WASM_BINDGEN`, or on the `PATH`), which
//! `.ci/run` installs. Without them the test says so and passes, unless `CI` is set.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

mod webdriver;

use webdriver::{Driver, Session, browser};

/// The wasm-bindgen that matches the crate's `wasm-bindgen` (its version is pinned).
const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// What the server saw.
#[derive(Default)]
struct Seen {
    /// The `Last-Event-ID` of each request for `/events` (`None`: none sent).
    event_ids: Mutex<Vec<Option<String>>>,
    /// The body and `X-Test` header of each `POST`.
    posts: Mutex<Vec<(String, String)>>,
    /// Streams of `/forever` still open.
    forever: AtomicUsize,
    /// Requests for `/pause`.
    pauses: AtomicUsize,
    /// The `Authorization` header of each request for `/token`.
    tokens: Mutex<Vec<Option<String>>>,
    /// The `Cookie` and `Cache-Control` headers of each request for the other
    /// origin's `/cross`.
    cross: Mutex<Vec<(Option<String>, Option<String>)>>,
    /// CORS preflights the other origin was asked.
    preflights: AtomicUsize,
}

/// The built and bound client (`sse_wasm.js` and `sse_wasm_bg.wasm`), or `None`
/// after saying why the test is skipped.
fn client_package() -> Option<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = workspace.join("target/wasm");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .current_dir(&workspace)
        .args(["build", "-q", "--release", "-p", "sse-wasm"])
        .args(["--target", "wasm32-unknown-unknown", "--target-dir"])
        .arg(&target)
        .status()
        .is_ok_and(|status| status.success());
    let bindgen = std::env::var("WASM_BINDGEN").unwrap_or_else(|_| "wasm-bindgen".into());
    let version = Command::new(&bindgen)
        .arg("--version")
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string());
    let usable = version.as_deref() == Some(&format!("wasm-bindgen {WASM_BINDGEN_VERSION}"));
    if !built || !usable {
        let why = format!(
            "the wasm32-unknown-unknown build ({}) or wasm-bindgen {WASM_BINDGEN_VERSION} \
             (found {version:?}) is missing; .ci/run installs both",
            if built { "built" } else { "failed" },
        );
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return None;
    }
    let package = target.join("pkg");
    let status = Command::new(&bindgen)
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&package)
        .arg(target.join("wasm32-unknown-unknown/release/sse_wasm.wasm"))
        .status()
        .expect("wasm-bindgen runs");
    assert!(status.success(), "wasm-bindgen failed");
    Some(package)
}

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>sse-wasm</title>
<script type="module">
  import init, { SseEventSource } from "/pkg/sse_wasm.js";
  await init();
  window.SseEventSource = SseEventSource;
  window.CROSS = "CROSS_ORIGIN";
  window.ready = true;
</script>
"#;

/// The page's script: the sources one after the other; resolves with what each
/// saw.
const SCRIPT: &str = r#"
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const read = (url, options, enough) => new Promise((resolve) => {
  const seen = { messages: [], opens: 0, errors: [] };
  const source = new window.SseEventSource(url, options);
  const finish = () => {
    seen.readyState = source.readyState;
    seen.lastEventId = source.lastEventId;
    seen.url = source.url;
    seen.withCredentials = source.withCredentials;
    resolve(seen);
  };
  source.onopen = (e) => { seen.opens += 1; seen.openType = e.type; };
  const message = (e) => {
    seen.messages.push([e.type, e.data, e.lastEventId]);
    if (enough && enough(seen)) {
      // A handler may change the handlers.
      source.onmessage = null;
      source.close();
      sleep(500).then(finish);
    }
  };
  // `message` events through onmessage, named ones through their listeners;
  // a listener added twice is called once, and one removed is not called.
  source.onmessage = message;
  source.addEventListener("note", message);
  source.addEventListener("note", message);
  const dropped = () => { seen.dropped = true; };
  source.addEventListener("message", dropped);
  source.removeEventListener("message", dropped);
  source.addEventListener("error", (e) => { seen.errorType = e.type; });
  source.onerror = (e) => {
    seen.errors.push([e.error, e.readyState]);
    if (e.readyState === 2) finish();
  };
  sleep(20000).then(() => { seen.timedOut = true; finish(); });
});
(async () => {
  while (!window.ready) await sleep(20);
  const get = await read("/events");
  const posted = await read("/post", { method: "POST", body: "hello", headers: { "X-Test": "yes" } });
  // A token set before each request; the second attempt's hook fails.
  let calls = 0;
  const tokened = await read("/token", { beforeRequest: async (headers) => {
    calls += 1;
    await sleep(5);
    if (calls === 2) throw new Error("no token yet");
    headers.set("Authorization", "Bearer " + calls);
  } });
  const closed = await read("/forever", undefined, (seen) => seen.messages.length === 2);
  // Closed while it waits a minute to reconnect: its task ends at once.
  const paused = await new Promise((resolve) => {
    const seen = { messages: [] };
    const source = new window.SseEventSource("/pause");
    source.onmessage = (e) => seen.messages.push(e.data);
    source.onerror = (e) => {
      if (e.readyState !== 0) return;
      seen.runningBefore = window.SseEventSource.running();
      source.close();
      sleep(300).then(() => {
        seen.running = window.SseEventSource.running();
        seen.readyState = source.readyState;
        resolve(seen);
      });
    };
    sleep(20000).then(() => { seen.timedOut = true; resolve(seen); });
  });
  // Another origin (another port): the cookie goes there only with credentials.
  const plain = await read(window.CROSS + "/cross", { reconnect: "never" });
  const credentialed = await read(window.CROSS + "/cross", { reconnect: "never", withCredentials: true });
  return { get, posted, tokened, plain, credentialed, closed, paused };
})().then(done, (error) => done({ error: String(error) }));
"#;

fn event_stream(body: impl Into<Body>) -> Response {
    ([(header::CONTENT_TYPE, "text/event-stream")], body.into()).into_response()
}

/// The value of the request header `name`, if it was sent.
fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| v.to_str().unwrap().to_string())
}

/// The answer to the `n`th request (from 1) of a stream whose responses are
/// `bodies`, one per request, and then 204.
fn scripted(n: usize, bodies: &[&'static str]) -> Response {
    match bodies.get(n - 1) {
        Some(body) => event_stream(*body),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// Two events, then the end of the body; once more with a third; then 204.
async fn events(State(seen): State<Arc<Seen>>, headers: HeaderMap) -> Response {
    let mut ids = seen.event_ids.lock().unwrap();
    ids.push(header(&headers, "last-event-id"));
    scripted(
        ids.len(),
        &[
            "retry: 100\nid: 1\ndata: one\n\nid: 2\nevent: note\ndata: two\n\n",
            "id: 3\ndata: three\n\n",
        ],
    )
}

async fn echo(State(seen): State<Arc<Seen>>, headers: HeaderMap, body: Bytes) -> Response {
    let body = String::from_utf8_lossy(&body).into_owned();
    let test = headers
        .get("x-test")
        .map_or("", |v| v.to_str().unwrap())
        .to_string();
    let data = format!("data: got {body} {test}\n\n");
    seen.posts.lock().unwrap().push((body, test));
    event_stream(data)
}

/// An event, then the end of the body; once more; then 204.
async fn token(State(seen): State<Arc<Seen>>, headers: HeaderMap) -> Response {
    let mut tokens = seen.tokens.lock().unwrap();
    tokens.push(header(&headers, "authorization"));
    scripted(tokens.len(), &["retry: 50\ndata: a\n\n", "data: b\n\n"])
}

/// The other origin's stream: one event, open to the page's origin with
/// credentials.
async fn cross(State((seen, page)): State<(Arc<Seen>, String)>, headers: HeaderMap) -> Response {
    let seen_here = (
        header(&headers, "cookie"),
        header(&headers, "cache-control"),
    );
    seen.cross.lock().unwrap().push(seen_here);
    let mut response = event_stream("data: x\n\n");
    let cors = response.headers_mut();
    cors.insert("access-control-allow-origin", page.parse().unwrap());
    cors.insert("access-control-allow-credentials", "true".parse().unwrap());
    response
}

/// One event, then a minute's wait before the client may come back.
async fn pause(State(seen): State<Arc<Seen>>) -> Response {
    seen.pauses.fetch_add(1, Ordering::SeqCst);
    event_stream("retry: 60000\ndata: once\n\n")
}

/// A stream open until the client goes: an event every 50 ms.
async fn forever(State(seen): State<Arc<Seen>>) -> Response {
    /// Counts the stream as open while it lives.
    struct Open(Arc<Seen>);
    impl Drop for Open {
        fn drop(&mut self) {
            self.0.forever.fetch_sub(1, Ordering::SeqCst);
        }
    }
    seen.forever.fetch_add(1, Ordering::SeqCst);
    let open = Open(seen);
    let ticks = futures_util::stream::unfold((0u32, open), |(n, open)| async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let event = Bytes::from(format!("id: {n}\ndata: tick {n}\n\n"));
        Some((Ok::<_, std::convert::Infallible>(event), (n + 1, open)))
    });
    event_stream(Body::from_stream(ticks))
}

async fn package_file(
    State(package): State<Arc<PathBuf>>,
    UrlPath(file): UrlPath<String>,
) -> Response {
    let kind = match Path::new(&file).extension().and_then(|e| e.to_str()) {
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match std::fs::read(package.join(&file)) {
        Ok(bytes) => ([(header::CONTENT_TYPE, kind)], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wasm_client_in_chromium() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let Some(package) = tokio::task::spawn_blocking(client_package).await.unwrap() else {
        return;
    };
    let seen = Arc::new(Seen::default());
    let streams = Router::new()
        .route("/events", get(events))
        .route("/post", post(echo))
        .route("/forever", get(forever))
        .route("/pause", get(pause))
        .route("/token", get(token))
        .with_state(Arc::clone(&seen));
    let files = Router::new()
        .route("/pkg/{file}", get(package_file))
        .with_state(Arc::new(package));
    let app = streams.merge(files);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The other origin: the same host on another port.
    let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_addr = other.local_addr().unwrap();
    let page = PAGE.replace("CROSS_ORIGIN", &format!("http://{other_addr}"));
    // The page sets a cookie for its host, which any port of it would be sent.
    let app = app.route(
        "/",
        get(move || async move {
            (
                [(header::SET_COOKIE, "session=s1; Path=/; SameSite=Lax")],
                Html(page),
            )
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let preflight = |State((seen, _)): State<(Arc<Seen>, String)>| async move {
        seen.preflights.fetch_add(1, Ordering::SeqCst);
        StatusCode::FORBIDDEN
    };
    let cross_app = Router::new()
        .route("/cross", get(cross).options(preflight))
        .with_state((Arc::clone(&seen), format!("http://{addr}")));
    tokio::spawn(async move { axum::serve(other, cross_app).await });

    let page: Value = tokio::task::spawn_blocking(move || {
        let driver = Driver::start(&chromedriver);
        let session = Session::new(&driver, &chromium, &[]);
        session.open(&format!("http://{addr}/"));
        session.run(SCRIPT)
    })
    .await
    .unwrap();
    assert!(page.get("error").is_none(), "{page:#}");

    // GET: three events over two responses, reconnecting with the last ID each
    // time, then a 204, which ends it.
    let got = &page["get"];
    assert_eq!(
        got["messages"],
        json!([
            ["message", "one", "1"],
            ["note", "two", "2"],
            ["message", "three", "3"]
        ]),
        "{got:#}"
    );
    assert_eq!(got["opens"], 2, "{got:#}");
    assert_eq!(got["openType"], "open", "{got:#}");
    assert_eq!(got["url"], format!("http://{addr}/events"), "{got:#}");
    assert_eq!(got["withCredentials"], false, "{got:#}");
    assert_eq!(got["errorType"], "error", "{got:#}");
    assert!(got.get("dropped").is_none(), "a removed listener: {got:#}");
    assert_eq!(got["readyState"], 2, "{got:#}");
    assert_eq!(got["lastEventId"], "3", "{got:#}");
    let errors = got["errors"].as_array().unwrap();
    assert_eq!(
        errors.len(),
        3,
        "two reconnections, then the failure: {got:#}"
    );
    assert!(errors[..2].iter().all(|e| e[1] == 0), "{got:#}");
    assert!(errors[2][0].as_str().unwrap().contains("204"), "{got:#}");
    assert_eq!(
        *seen.event_ids.lock().unwrap(),
        [None, Some("2".to_string()), Some("3".to_string())]
    );

    // POST: the body and the header arrive; the finished stream is not sent again.
    let posted = &page["posted"];
    assert_eq!(
        posted["messages"],
        json!([["message", "got hello yes", ""]]),
        "{posted:#}"
    );
    assert_eq!(posted["readyState"], 2, "{posted:#}");
    assert_eq!(
        *seen.posts.lock().unwrap(),
        [("hello".to_string(), "yes".to_string())]
    );

    // beforeRequest: each request carries the token its hook set; the attempt
    // whose hook failed was not sent, and the source carried on.
    let tokened = &page["tokened"];
    assert_eq!(
        tokened["messages"],
        json!([["message", "a", ""], ["message", "b", ""]]),
        "{tokened:#}"
    );
    assert_eq!(tokened["readyState"], 2, "{tokened:#}");
    let errors = tokened["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e[0].as_str().unwrap().contains("network")),
        "the failed hook, as a network error: {tokened:#}"
    );
    assert_eq!(
        *seen.tokens.lock().unwrap(),
        ["Bearer 1", "Bearer 3", "Bearer 4"].map(|t| Some(t.to_string()))
    );

    // Another origin: no preflight (the browser adds `Cache-Control` itself, as
    // for its own `EventSource`), and the page's cookie only with credentials.
    for name in ["plain", "credentialed"] {
        let seen_there = &page[name];
        assert_eq!(
            seen_there["messages"],
            json!([["message", "x", ""]]),
            "{name}: {seen_there:#}"
        );
    }
    assert_eq!(page["credentialed"]["withCredentials"], true);
    assert_eq!(seen.preflights.load(Ordering::SeqCst), 0);
    let no_cache = Some("no-cache".to_string());
    assert_eq!(
        *seen.cross.lock().unwrap(),
        [
            (None, no_cache.clone()),
            (Some("session=s1".to_string()), no_cache)
        ]
    );

    // close(): no message after it, and the connection is gone.
    let closed = &page["closed"];
    assert_eq!(
        closed["messages"],
        json!([["message", "tick 0", "0"], ["message", "tick 1", "1"]]),
        "nothing after close(): {closed:#}"
    );
    assert_eq!(closed["readyState"], 2, "{closed:#}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.forever.load(Ordering::SeqCst) > 0 {
        assert!(
            Instant::now() < deadline,
            "the closed stream's connection stayed open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // close() while waiting to reconnect: the source's task is gone at once, not
    // when its timer would have fired.
    let paused = &page["paused"];
    assert_eq!(paused["messages"], json!(["once"]), "{paused:#}");
    assert_eq!(paused["runningBefore"], 1, "{paused:#}");
    assert_eq!(paused["running"], 0, "{paused:#}");
    assert_eq!(paused["readyState"], 2, "{paused:#}");
    assert_eq!(seen.pauses.load(Ordering::SeqCst), 1);
}
