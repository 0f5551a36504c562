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

use std::time::Duration;

use serde_json::{Value, json};

#[path = "../examples/demo/main.rs"]
mod demo;
mod webdriver;

use webdriver::{Driver, Session, browser};

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
