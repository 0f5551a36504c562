//! The demo page (`examples/demo`, the README's main job) in a real browser,
//! driven through chromedriver (the WebDriver protocol, plain HTTP and JSON): a
//! script in the page asks the model and waits for the whole answer, sends a
//! message from alice and waits for it in bob's inbox, waits for the chart's
//! points, drops the metric stream on the server and checks that the browser
//! reconnected with its last ID and missed nothing, and waits for the classic
//! countdown to end with a 204. Over HTTPS it also checks that twelve streams stay
//! open at once (HTTP/2). Screenshots go to `target/screenshots/`, for a person to
//! look at what a change did.
//!
//! Needs Chromium and chromedriver (Debian's `chromium` and `chromium-driver`,
//! which `.ci/run` installs). Without them the tests say so and pass, unless `CI`
//! is set, where a missing browser is a failure.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

#[path = "../examples/demo/main.rs"]
mod demo;

fn find(candidates: &[Option<String>]) -> Option<String> {
    candidates
        .iter()
        .flatten()
        .find(|path| std::path::Path::new(path).exists())
        .cloned()
}

/// Chromium and chromedriver, or `None` after saying why the test is skipped (a
/// failure under CI).
fn browser() -> Option<(String, String)> {
    let chromium = find(&[
        std::env::var("CHROMIUM").ok(),
        Some("/usr/bin/chromium".into()),
        Some("/usr/bin/chromium-browser".into()),
    ]);
    let driver = find(&[
        std::env::var("CHROMEDRIVER").ok(),
        Some("/usr/bin/chromedriver".into()),
    ]);
    let found = chromium.zip(driver);
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium or chromedriver is missing; .ci/run installs Debian's chromium and chromium-driver"
        );
        eprintln!("skipped: no Chromium or chromedriver (set CHROMIUM and CHROMEDRIVER)");
    }
    found
}

/// A chromedriver on a loopback port, stopped when dropped.
struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Driver {
    fn start(path: &str) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs");
        let driver = Driver {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while driver.call("GET", "/status", None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    /// One WebDriver command; its `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> std::io::Result<Value> {
        let mut socket = TcpStream::connect(self.addr)?;
        socket.set_read_timeout(Some(Duration::from_secs(120)))?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        write!(
            socket,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )?;
        // chromedriver keeps the connection open: read the head, then as many bytes
        // as it says.
        let mut response = Vec::new();
        let mut byte = [0u8; 1];
        while !response.ends_with(b"\r\n\r\n") {
            if socket.read(&mut byte)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            response.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&response).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        socket.read_exact(&mut body)?;
        let value: Value = serde_json::from_slice(&body).map_err(std::io::Error::other)?;
        Ok(value["value"].clone())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser session: headless Chromium at a desktop size.
struct Session<'d> {
    driver: &'d Driver,
    id: String,
}

impl<'d> Session<'d> {
    fn new(driver: &'d Driver, chromium: &str, extra_args: &[&str]) -> Session<'d> {
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1240,1500",
        ];
        args.extend_from_slice(extra_args);
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let value = driver
            .call("POST", "/session", Some(capabilities))
            .expect("a session");
        let id = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {value}"))
            .to_string();
        Session { driver, id }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.id);
        self.driver.call(method, &path, body).unwrap()
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    /// Runs `script` (an async function's body, which resolves the `done` callback
    /// with its result) in the page.
    fn run(&self, script: &str) -> Value {
        self.call("POST", "/timeouts", Some(json!({"script": 120_000})));
        let script = format!("const done = arguments[arguments.length - 1];\n{script}");
        self.call(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Saves what the window shows as `target/screenshots/{name}.png`.
    fn screenshot(&self, name: &str) {
        let png = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("a screenshot"))
            .unwrap();
        let dir = screenshots();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self
            .driver
            .call("DELETE", &format!("/session/{}", self.id), None);
    }
}

/// Where screenshots go: the target directory's `screenshots/`.
fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("screenshots")
}

/// What the test does in the page, as a person would: resolves with what the
/// page saw, or with `{error, seen}`.
const TOUR: &str = r#"
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (what, check, ms = 30000) => {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error("timed out waiting for " + what);
};
const seen = {};
(async () => {
  const demo = window.demo, $ = (id) => document.getElementById(id);
  $("prompt").value = "browsers";
  $("ask").click();
  await until("the whole answer", () => demo.chat.state === "done");
  seen.chat = Object.assign({}, demo.chat);

  await until("both users open", () => document.querySelectorAll(".user .badge.open").length === 2);
  const alice = document.querySelector('.user[data-user="alice"]');
  alice.querySelector('[data-role="text"]').value = "hi bob, from the test";
  alice.querySelector('[data-role="send"]').click();
  await until("bob's message", () => demo.inbox.bob.includes("hi bob, from the test"));
  seen.inbox = demo.inbox;

  await until("ten points", () => demo.metrics.points >= 10);
  const before = demo.metrics.points;
  $("drop").click();
  await until("a reconnection", () => demo.metrics.reconnects >= 1 && demo.metrics.opens >= 2);
  await until("points after it", () => demo.metrics.points >= before + 20);
  seen.metrics = Object.assign({}, demo.metrics);
  seen.drawn = $("line-value").getAttribute("points").split(" ").length;
  $("frames").closest("details").open = true;

  await until("the countdown's end", () => demo.count.done);
  seen.count = $("count").outerHTML;
  if (location.protocol === "https:") {
    await until("twelve streams receiving", () => demo.twelve.filter((c) => c > 1).length === 12);
  }
  seen.twelve = demo.twelve;
  return seen;
})().then(done, (error) => done({ error: String(error), seen }));
"#;

/// Drives the demo at `url`; returns what the page saw. Screenshots are named
/// after `name`.
fn tour(chromium: &str, driver: &Driver, url: &str, name: &str, args: &[&str]) -> Value {
    let session = Session::new(driver, chromium, args);
    session.open(url);
    let seen = session.run(TOUR);
    assert!(seen.get("error").is_none(), "{seen:#}");
    session.screenshot(name);
    session.resize(390, 844);
    std::thread::sleep(Duration::from_millis(300));
    session.screenshot(&format!("{name}-phone"));
    seen
}

/// What every tour must have seen.
fn check(seen: &Value) {
    let chat = &seen["chat"];
    assert_eq!(chat["state"], "done", "{chat}");
    assert!(chat["tokens"].as_u64().unwrap() > 20, "{chat}");
    assert!(
        chat["text"]
            .as_str()
            .unwrap()
            .starts_with("You asked about \"browsers\""),
        "{chat}"
    );
    assert_eq!(seen["inbox"]["bob"], json!(["hi bob, from the test"]));
    let metrics = &seen["metrics"];
    assert_eq!(
        metrics["gaps"], 0,
        "the replay after the drop missed nothing: {metrics}"
    );
    assert!(metrics["reconnects"].as_u64().unwrap() >= 1, "{metrics}");
    assert!(seen["drawn"].as_u64().unwrap() >= 30, "{seen}");
    check_countdown(seen["count"].as_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_drives_the_demo() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, demo::app()).await });
    let seen = tokio::task::spawn_blocking(move || {
        let driver = Driver::start(&chromedriver);
        let seen = tour(&chromium, &driver, &format!("http://{addr}/"), "demo", &[]);
        // The same page in the dark.
        let session = Session::new(&driver, &chromium, &["--force-dark-mode"]);
        session.open(&format!("http://{addr}/"));
        std::thread::sleep(Duration::from_secs(3));
        session.screenshot("demo-dark");
        seen
    })
    .await
    .unwrap();
    check(&seen);
    // Over HTTP/1.1 the page does not open the twelve streams by itself.
    assert_eq!(seen["twelve"], json!([]));
}

/// The same over HTTPS with HTTP/2 (`--tls-self-signed`): and twelve streams at
/// once, which HTTP/1.1 could not hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_drives_the_demo_over_https_with_http2() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (config, spki, _pem) = demo::tls::self_signed(addr);
    tokio::spawn(demo::tls::serve(listener, config, demo::app()));
    let seen = tokio::task::spawn_blocking(move || {
        let driver = Driver::start(&chromedriver);
        let trust = format!("--ignore-certificate-errors-spki-list={spki}");
        tour(
            &chromium,
            &driver,
            &format!("https://{addr}/"),
            "demo-https",
            &[&trust],
        )
    })
    .await
    .unwrap();
    check(&seen);
    let twelve = seen["twelve"].as_array().unwrap();
    assert_eq!(twelve.len(), 12);
    assert!(
        twelve.iter().all(|count| count.as_u64().unwrap() > 1),
        "{twelve:?}"
    );
}

/// The page shows the five events in order, the end of the response, the
/// reconnection with `Last-Event-ID` and the 204 that stopped it.
fn check_countdown(dom: &str) {
    let list_start = dom
        .find(r#"id="count""#)
        .expect("the page's list of events");
    let list = &dom[list_start..];
    let list = &list[..list.find("</ol>").expect("the list ends")];
    let ticks: Vec<_> = (1..=5)
        .map(|n| list.find(&format!("#{n}: {n} of 5")))
        .collect();
    assert!(
        ticks.iter().all(Option::is_some),
        "every event, with its id, in the page: {list}"
    );
    assert!(
        ticks.windows(2).all(|w| w[0] < w[1]),
        "the events in order: {list}"
    );
    let ended = list
        .find("(stream ended; reconnecting with Last-Event-ID)")
        .expect("the browser saw the response end and reconnected");
    let done = list
        .find("(done: the server said 204)")
        .expect("the reconnection with Last-Event-ID: 5 got 204, and the browser stopped");
    assert!(ticks[4].unwrap() < ended && ended < done, "{list}");
    assert_eq!(
        list.matches("#1: ").count(),
        1,
        "the reconnection resumed after the last id instead of starting over: {list}"
    );
}
