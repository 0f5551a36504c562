//! The classic Server-Sent Events demo, on axum and sse-tokio.
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
//! - `/`: a page whose `EventSource`s show both streams below.
//! - `/events`: five JSON events, one a second, then the response ends. The browser
//!   reconnects with `Last-Event-ID`; the handler resumes after it, and once there is
//!   nothing left it answers 204, which tells the browser to stop.
//! - `/events/{user}`: one user's stream, a topic of the server's [`Hub`]: whatever
//!   is posted to `/send/{user}`, with keep-alive comments while quiet. Every event
//!   has an ID, so a browser that lost its connection comes back with
//!   `Last-Event-ID` and is sent what it missed; two tabs of one user both get
//!   everything. The hub holds a short history per user, a bounded number of users,
//!   and nothing for a stream whose client went away.
//!
//! From the shell: `cargo run -p sse-cli -- listen http://127.0.0.1:8080/events`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use sse_proto::{Message, SubscribeError};
use sse_tokio::Hub;

/// How many events `/events` sends in all.
const COUNT: u64 = 5;

#[tokio::main]
#[allow(dead_code)] // also compiled into tests/browser.rs, which serves `app()` itself
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

/// HTTPS for the demo: rustls, HTTP/2 and HTTP/1.1 by ALPN.
#[allow(dead_code)]
pub mod tls {
    use std::sync::Arc;

    use base64::Engine as _;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::service::TowerToHyperService;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

    /// Settings from PEM files.
    pub fn from_files(cert: &str, key: &str) -> Arc<rustls::ServerConfig> {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .unwrap_or_else(|e| panic!("{cert}: {e}"));
        let key = PrivateKeyDer::from_pem_file(key).unwrap_or_else(|e| panic!("{key}: {e}"));
        config(chain, key)
    }

    /// Settings with a certificate made now for `addr`, its SPKI hash, and the
    /// certificate (PEM) for clients to trust.
    pub fn self_signed(addr: std::net::SocketAddr) -> (Arc<rustls::ServerConfig>, String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![addr.ip().to_string()])
            .and_then(|params| params.self_signed(&key))
            .unwrap();
        let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
        let hash = ring::digest::digest(&ring::digest::SHA256, &spki);
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (
            config(vec![cert.der().clone()], key),
            base64::engine::general_purpose::STANDARD.encode(hash.as_ref()),
            cert.pem(),
        )
    }

    fn config(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("the certificate and key");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// Serves `app` over TLS on `listener`, each connection in HTTP/2 or HTTP/1.1
    /// as the client chose.
    pub async fn serve(
        listener: tokio::net::TcpListener,
        config: Arc<rustls::ServerConfig>,
        app: axum::Router,
    ) {
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let handshake = std::time::Duration::from_secs(10);
                let Ok(Ok(stream)) = tokio::time::timeout(handshake, acceptor.accept(tcp)).await
                else {
                    return;
                };
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(
                        TokioIo::new(stream),
                        TowerToHyperService::new(app),
                    )
                    .await;
            });
        }
    }
}

/// The demo's routes (`tests/browser.rs` serves them to a real browser).
pub fn app() -> Router {
    Router::new()
        .route("/", get(page))
        .route("/events", get(countdown))
        .route("/events/{user}", get(user_stream))
        .route("/send/{user}", post(send))
        .with_state(Hub::new())
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

/// `/events/{user}`: what is posted for `user`, from where its `Last-Event-ID`
/// left off.
async fn user_stream(
    State(hub): State<Hub>,
    Path(user): Path<String>,
    headers: HeaderMap,
) -> Response {
    let last_event_id = sse_tokio::last_event_id(&headers);
    match hub.subscribe_to([&user], last_event_id.as_deref()) {
        Ok(body) => {
            println!("/events/{user}: connected (Last-Event-ID: {last_event_id:?})");
            body.keep_alive(Duration::from_secs(15))
                .retry(Duration::from_secs(2))
                .response()
                .into_response()
        }
        Err(SubscribeError::TopicCount { .. }) => StatusCode::BAD_REQUEST.into_response(),
        // Too many streams or users at once: come back later.
        Err(_) => {
            sse_tokio::unavailable::<axum::body::Body>(Duration::from_secs(5)).into_response()
        }
    }
}

/// `POST /send/{user}`: the body becomes a `message` event on `user`'s topic.
async fn send(State(hub): State<Hub>, Path(user): Path<String>, text: String) -> Response {
    let data = json!({"to": user, "text": text, "time": unix_time()});
    let message = Message::json(&data).expect("serializes");
    match hub.publish_to(&user, message) {
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
  inbox.addEventListener("message", (e) => add("inbox", `#${e.lastEventId}: ${JSON.parse(e.data).text}`));
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
