//! Chromium driven through chromedriver (the WebDriver protocol, plain HTTP and
//! JSON), for the tests that run in a real browser. Needs Debian's `chromium` and
//! `chromium-driver` (which `.ci/run` installs); without them a test says so and
//! passes, unless `CI` is set, where a missing browser is a failure.
#![allow(dead_code)] // each test crate uses part of it

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// Chromium and chromedriver, or `None` after saying why the test is skipped (a
/// failure under CI).
pub fn browser() -> Option<(String, String)> {
    let chromium = test_support::chromium();
    let driver = [
        std::env::var("CHROMEDRIVER").ok(),
        Some("/usr/bin/chromedriver".into()),
    ]
    .into_iter()
    .flatten()
    .find(|path| std::path::Path::new(path).exists());
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
pub struct Driver {
    child: Child,
    addr: SocketAddr,
    /// Where it and its browsers keep their temporary files: removed after it
    /// is stopped.
    _dir: test_support::BrowserDir,
}

impl Driver {
    pub fn start(path: &str) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = test_support::BrowserDir::new("driver");
        let child = dir
            .apply(&mut Command::new(path))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs");
        let driver = Driver {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while driver.call("GET", "/status", None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    /// One WebDriver command; its `value`.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> std::io::Result<Value> {
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
pub struct Session<'d> {
    driver: &'d Driver,
    id: String,
}

impl<'d> Session<'d> {
    pub fn new(driver: &'d Driver, chromium: &str, extra_args: &[&str]) -> Session<'d> {
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

    pub fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    /// Runs `script` (an async function's body, which resolves the `done` callback
    /// with its result) in the page.
    pub fn run(&self, script: &str) -> Value {
        self.call("POST", "/timeouts", Some(json!({"script": 120_000})));
        let script = format!("const done = arguments[arguments.length - 1];\n{script}");
        self.call(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Saves what the window shows as `target/screenshots/{name}.png`.
    pub fn screenshot(&self, name: &str) {
        let png = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("a screenshot"))
            .unwrap();
        let dir = screenshots();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub fn resize(&self, width: u32, height: u32) {
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
pub fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("screenshots")
}
