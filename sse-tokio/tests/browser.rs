//! The demo page (`examples/demo.rs`, the README's main job) in a real browser:
//! headless Chromium's own `EventSource` reads `/events`, gets five events, sees the
//! response end, reconnects after the stream's `retry` with `Last-Event-ID: 5`, gets
//! 204 and stops. What the page shows afterwards (its DOM) is checked.
//!
//! Needs Chromium (`/usr/bin/chromium`, Debian's `chromium` package, which `.ci/run`
//! installs). Without it the test says so and passes, unless `CI` is set, where a
//! missing browser is a failure.

use std::process::Command;
use std::time::Duration;

#[path = "../examples/demo.rs"]
mod demo;

fn chromium() -> Option<String> {
    let candidates = [
        std::env::var("CHROMIUM").ok(),
        Some("/usr/bin/chromium".into()),
        Some("/usr/bin/chromium-browser".into()),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|path| std::path::Path::new(path).exists())
}

/// Chromium, or `None` after saying why the test is skipped (a failure under CI).
fn browser() -> Option<String> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is missing; .ci/run installs Debian's chromium package"
        );
        eprintln!("skipped: no Chromium (set CHROMIUM=/path/to/chromium)");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_eventsource_reads_the_demo_and_stops_on_204() {
    let Some(browser) = browser() else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, demo::app()).await });
    let dom = page_dom(browser, format!("http://{addr}/"), vec![]).await;
    check_countdown(&dom);
}

/// The same over HTTPS with HTTP/2 (`--tls-self-signed`), the certificate trusted by
/// the SPKI hash the demo prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_over_https_with_a_self_signed_certificate() {
    let Some(browser) = browser() else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (config, spki, _pem) = demo::tls::self_signed(addr);
    tokio::spawn(demo::tls::serve(listener, config, demo::app()));
    let trust = format!("--ignore-certificate-errors-spki-list={spki}");
    let dom = page_dom(browser, format!("https://{addr}/"), vec![trust]).await;
    check_countdown(&dom);
}

/// The DOM of the page at `url` after 20 s of the page's virtual time.
async fn page_dom(browser: String, url: String, extra_args: Vec<String>) -> String {
    let profile = std::env::temp_dir().join(format!(
        "sse-browser-test-{}-{}",
        std::process::id(),
        url.len()
    ));
    // The page's timers run on virtual time, which waits while a request is open:
    // five events a second apart, the reconnection after `retry: 2000`, the 204.
    let dom = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || {
            let output = Command::new(browser)
                .args([
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--virtual-time-budget=20000",
                    "--dump-dom",
                ])
                .arg(format!("--user-data-dir={}", profile.display()))
                .args(extra_args)
                .arg(&url)
                .output();
            let _ = std::fs::remove_dir_all(&profile);
            output
        }),
    )
    .await
    .expect("Chromium finished within a minute")
    .unwrap()
    .expect("Chromium runs");
    String::from_utf8_lossy(&dom.stdout).into_owned()
}

/// The page shows the five events in order, the end of the response, the
/// reconnection with `Last-Event-ID` and the 204 that stopped it.
fn check_countdown(dom: &str) {
    let list_start = dom
        .find(r#"id="count""#)
        .expect("the page's list of events");
    let list = &dom[list_start..];
    let list = &list[..list.find("</ul>").expect("the list ends")];
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
