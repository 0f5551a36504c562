//! `sse conformance client --browser`: the browser's own `EventSource` as the
//! client under test.
//!
//! The judge serves a control page; the page long-polls it for commands. For each
//! case it loads a small page from the case's own (scripted) origin in an iframe,
//! which opens an `EventSource` to the scenario's URL and posts what it receives to
//! the control page, which forwards it to the judge as the lines a client program
//! would print. At the end the page shows the report.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::timeout;

/// The path the scripted servers answer with [`CASE_PAGE`] instead of playing it.
pub const CASE_PATH: &str = "/__sse_conformance_case";

/// How long the judge waits for the page to take a command.
const PAGE_WAIT: Duration = Duration::from_secs(5);

/// How long one long poll of the page waits for a command.
const POLL: Duration = Duration::from_secs(20);

/// The browser, as the judge drives it.
pub struct Browser {
    commands: mpsc::UnboundedSender<Value>,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Value>>,
    /// What each running case's `EventSource` reported, as NDJSON.
    outputs: Mutex<HashMap<String, Arc<Mutex<Vec<u8>>>>>,
    /// Acknowledgements of stopped cases (and of the report, under "").
    stopped: Mutex<HashMap<String, oneshot::Sender<()>>>,
    connected: Notify,
}

impl Browser {
    /// Serves the control page on `addr`.
    pub async fn serve(addr: &str) -> io::Result<(Arc<Browser>, SocketAddr)> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let (commands, queue) = mpsc::unbounded_channel();
        let browser = Arc::new(Browser {
            commands,
            queue: tokio::sync::Mutex::new(queue),
            outputs: Mutex::new(HashMap::new()),
            stopped: Mutex::new(HashMap::new()),
            connected: Notify::new(),
        });
        let serving = browser.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let browser = serving.clone();
                let service = service_fn(move |request| {
                    let browser = browser.clone();
                    async move { Ok::<_, Infallible>(browser.control(request).await) }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        Ok((browser, local))
    }

    /// Waits until the page has asked for its first command.
    pub async fn connected(&self) {
        self.connected.notified().await;
    }

    /// Starts a case: the page loads `page` in an iframe. Its output fills the
    /// buffer returned.
    pub fn start(&self, name: &str, page: &str) -> Arc<Mutex<Vec<u8>>> {
        let output = Arc::new(Mutex::new(Vec::new()));
        self.outputs
            .lock()
            .expect("not poisoned")
            .insert(name.to_string(), output.clone());
        let _ = self
            .commands
            .send(json!({"start": {"name": name, "page": page}}));
        output
    }

    /// Stops a case (the page removes its iframe, which closes the `EventSource`)
    /// once the page has sent everything it received.
    pub async fn stop(&self, name: &str) {
        let (done, stopped) = oneshot::channel();
        self.stopped
            .lock()
            .expect("not poisoned")
            .insert(name.to_string(), done);
        let _ = self.commands.send(json!({"stop": name}));
        let _ = timeout(PAGE_WAIT, stopped).await;
        self.outputs.lock().expect("not poisoned").remove(name);
    }

    /// Shows the report on the page.
    pub async fn show(&self, report: Value) {
        let (done, shown) = oneshot::channel();
        self.stopped
            .lock()
            .expect("not poisoned")
            .insert(String::new(), done);
        let _ = self.commands.send(json!({"report": report}));
        let _ = timeout(PAGE_WAIT, shown).await;
    }

    /// The control server's routes.
    async fn control(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path().to_string();
        match (request.method(), path.as_str()) {
            (&Method::GET, "/") => page(CONTROL_PAGE),
            (&Method::GET, "/next") => {
                self.connected.notify_one();
                let mut queue = self.queue.lock().await;
                let command = match timeout(POLL, queue.recv()).await {
                    Ok(Some(command)) => command,
                    _ => json!({"wait": true}),
                };
                reply(StatusCode::OK, "application/json", command.to_string())
            }
            (&Method::POST, _) if path.starts_with("/output/") => {
                let name = decode(&path["/output/".len()..]);
                let body = request
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                if let Some(output) = self.outputs.lock().expect("not poisoned").get(&name) {
                    let mut output = output.lock().expect("not poisoned");
                    output.extend_from_slice(&body);
                    output.push(b'\n');
                }
                reply(StatusCode::NO_CONTENT, "text/plain", String::new())
            }
            (&Method::POST, _) if path.starts_with("/stopped/") => {
                let name = decode(&path["/stopped/".len()..]);
                if let Some(done) = self.stopped.lock().expect("not poisoned").remove(&name) {
                    let _ = done.send(());
                }
                reply(StatusCode::NO_CONTENT, "text/plain", String::new())
            }
            _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found".into()),
        }
    }
}

fn page(html: &'static str) -> Response<Full<Bytes>> {
    reply(StatusCode::OK, "text/html; charset=utf-8", html.to_string())
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}

/// A percent-encoded path segment, decoded.
fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// The control page: runs the judge's commands, forwards what the cases' pages
/// report, in order, and shows the report.
const CONTROL_PAGE: &str = r#"<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sse conformance: this browser's EventSource</title>
<style>
  :root { color-scheme: light dark; font: 15px/1.45 system-ui, sans-serif; }
  body { max-width: 70rem; margin: 2rem auto; padding: 0 1rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #8884; vertical-align: top; }
  th { position: sticky; top: 0; background: Canvas; }
  td.pass { color: #2a7d2a; } td.fail { color: #c0392b; font-weight: 600; }
  pre { margin: 0; white-space: pre-wrap; font-size: 13px; }
  iframe { display: none; }
</style>
<h1>sse conformance: this browser's <code>EventSource</code></h1>
<p id="status">Running the connection scenarios&hellip;</p>
<table>
  <thead><tr><th>case</th><th>result</th><th>details</th></tr></thead>
  <tbody id="cases"></tbody>
</table>
<div id="frames"></div>
<script>
const frames = {}, rows = {};
let chain = Promise.resolve();
const post = (path, body) => { chain = chain.then(() => fetch(path, {method: 'POST', body}).catch(() => {})); };
window.addEventListener('message', (e) => {
  let m;
  try { m = JSON.parse(e.data); } catch { return; }
  if (typeof m.case === 'string') post('/output/' + encodeURIComponent(m.case), JSON.stringify(m.line));
});
function row(name) {
  if (!rows[name]) {
    const tr = document.createElement('tr');
    tr.innerHTML = '<td><code></code></td><td></td><td><pre></pre></td>';
    tr.cells[0].firstChild.textContent = name;
    document.getElementById('cases').append(tr);
    rows[name] = tr;
  }
  return rows[name];
}
function show(report) {
  for (const c of report.cases) {
    const tr = row(c.name);
    tr.cells[1].textContent = c.passed ? 'pass' : 'FAIL';
    tr.cells[1].className = c.passed ? 'pass' : 'fail';
    tr.cells[2].firstChild.textContent = c.passed ? c.spec : [c.spec, ...c.failures,
      'expected: ' + JSON.stringify(c.expected), 'got: ' + JSON.stringify(c.got)].join('\n');
  }
  document.getElementById('status').textContent = report.passed + ' passed, ' + report.failed + ' failed';
  document.title = 'done: ' + report.passed + ' passed, ' + report.failed + ' failed';
}
async function run() {
  for (;;) {
    let c;
    try { c = await (await fetch('/next')).json(); }
    catch { await new Promise((r) => setTimeout(r, 500)); continue; }
    if (c.start) {
      const f = document.createElement('iframe');
      f.src = c.start.page;
      document.getElementById('frames').append(f);
      frames[c.start.name] = f;
      row(c.start.name).cells[1].textContent = 'running';
    } else if (c.stop) {
      const name = c.stop;
      chain = chain.then(() => {
        if (frames[name]) { frames[name].remove(); delete frames[name]; }
        return fetch('/stopped/' + encodeURIComponent(name), {method: 'POST'}).catch(() => {});
      });
    } else if (c.report) {
      show(c.report);
      post('/stopped/', '');
      return;
    }
  }
}
run();
</script>
</html>
"#;

/// A case's page: an `EventSource` on the scenario's URL, listening for the event
/// types the scenario dispatches; what it receives goes to the control page.
pub const CASE_PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<script>
const q = new URLSearchParams(location.search);
const name = q.get('case');
const send = (line) => parent.postMessage(JSON.stringify({case: name, line}), '*');
const source = new EventSource(q.get('url'));
for (const type of (q.get('types') || 'message').split(',')) {
  source.addEventListener(type, (e) => send({type: e.type, data: e.data, id: e.lastEventId}));
}
source.onerror = () => {
  if (source.readyState === EventSource.CLOSED) {
    send({error: 'the connection failed (readyState CLOSED)', stopped: true});
  }
};
</script>
"#;
