//! Helpers for running the `sse` binary as a user does: processes, pipes, exit
//! statuses, and its peak memory.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread::JoinHandle;

use conformance::VectorConfig;
use serde_json::Value;

/// `sse COMMAND ARGS`, not yet started.
pub fn sse(command: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sse"));
    cmd.arg(command).args(args);
    cmd
}

/// Starts `cmd` with stdin, stdout and stderr piped.
pub fn spawn_piped(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Writes `input` to the child's stdin from a thread (so a full stdout pipe cannot
/// deadlock it), then closes it.
pub fn feed(child: &mut Child, input: &[u8]) -> JoinHandle<()> {
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    })
}

/// Runs `write` on the child's stdin from a thread, and hands stdin back, still
/// open, from `join`: the process stays alive (and its peak memory readable) until
/// the caller drops it.
pub fn feed_and_hold(
    child: &mut Child,
    write: impl FnOnce(&mut ChildStdin) + Send + 'static,
) -> JoinHandle<ChildStdin> {
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        write(&mut stdin);
        stdin
    })
}

/// Runs `cmd` on `input`; returns (stdout, stderr, success).
pub fn run(cmd: Command, input: &[u8]) -> (Vec<u8>, String, bool) {
    let mut child = spawn_piped(cmd);
    let writer = feed(&mut child, input);
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.success(),
    )
}

/// The lines of `sse decode`'s output, as JSON.
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `sse decode`'s arguments for a conformance vector's settings: comments on, and
/// its event size limit if it has one.
pub fn decode_args(config: &VectorConfig) -> Vec<String> {
    let mut args = vec!["--comments".to_string()];
    if let Some(max) = config.max_event_size {
        args.push(format!("--max-event-size={max}"));
    }
    if let Some(max) = config.max_field_size {
        args.push(format!("--max-field-size={max}"));
    }
    args
}

/// Peak resident memory of a running process, in bytes (Linux).
pub fn peak_rss(pid: u32) -> Option<usize> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Streams `input` through `cmd` (stdin and stdout piped), reading stdout until
/// `done`, given each piece read, says all the output expected is out. Stdin stays
/// open until then, so the process is still alive when its peak resident size is
/// taken; then it is closed and the rest of stdout read. Asserts that the process
/// succeeded; returns (peak RSS, the rest of stdout).
pub fn stream_and_measure(
    mut cmd: Command,
    input: Vec<u8>,
    mut done: impl FnMut(&[u8]) -> bool,
) -> (Option<usize>, Vec<u8>) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let writer = feed_and_hold(&mut child, move |stdin| stdin.write_all(&input).unwrap());
    let mut buf = vec![0u8; 1 << 16];
    let mut stdout = child.stdout.take().unwrap();
    loop {
        let n = stdout.read(&mut buf).unwrap();
        assert_ne!(n, 0, "output ended early");
        if done(&buf[..n]) {
            break;
        }
    }
    let peak = peak_rss(child.id());
    drop(writer.join().unwrap());
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    (peak, rest)
}

/// Headless Chromium, if installed (`CHROMIUM`, or Debian's `chromium`, which
/// `.ci/run` installs). `None` says the browser test is skipped, which CI (where
/// `CI` is set) does not allow.
#[allow(dead_code)]
pub fn chromium() -> Option<String> {
    let found = test_support::chromium();
    assert!(
        found.is_some() || std::env::var_os("CI").is_none(),
        "Chromium is missing; .ci/run installs Debian's chromium package"
    );
    found
}

/// The DOM of `url` once headless Chromium has run its scripts for
/// `virtual_ms` of virtual time (which waits while requests are open), within a
/// minute of wall-clock time.
#[allow(dead_code)]
pub fn chromium_dom(browser: &str, url: &str, virtual_ms: u32, extra_args: &[&str]) -> String {
    let dir = test_support::BrowserDir::new("dom");
    let mut child = dir
        .apply(&mut std::process::Command::new(browser))
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            &format!("--virtual-time-budget={virtual_ms}"),
            "--dump-dom",
        ])
        .args(extra_args)
        .arg(dir.profile_arg())
        .arg(url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("Chromium runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("Chromium did not finish within a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Headless Chromium showing `url` in real time (no virtual clock), with a profile
/// of its own; killed, and its directory removed, when dropped.
pub struct Headless {
    child: std::process::Child,
    /// Dropped after `child` is killed.
    _dir: test_support::BrowserDir,
}

impl Headless {
    pub fn open(browser: &str, url: &str, extra_args: &[String]) -> Headless {
        let dir = test_support::BrowserDir::new("headless");
        let child = dir
            .apply(&mut std::process::Command::new(browser))
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .arg(dir.profile_arg())
            .args(extra_args)
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("Chromium runs");
        Headless { child, _dir: dir }
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
