//! Fixtures that more than one of the workspace's test suites use (a redis-server,
//! where Chromium is, a counting allocator). Not published: the crates name it as a
//! path-only dev-dependency, which `cargo package` leaves out.

pub mod counting;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server of a test's own on a free loopback port, with append-only
/// persistence (`appendfsync always`) in a temporary directory; killed, and the
/// directory removed, when dropped.
///
/// The binary is `redis-server` from `PATH`, or the one `REDIS_SERVER` names.
#[derive(Debug)]
pub struct Redis {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl Redis {
    /// Starts a server and waits (up to 10 s) until it accepts connections.
    /// Without a redis-server, says so and returns `None`, so that the test can
    /// pass without it; with `CI` set, where `.ci/run` installs one, panics instead.
    pub fn start() -> Option<Redis> {
        if Command::new(binary()).arg("--version").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is missing; .ci/run installs Debian's redis-server"
            );
            eprintln!("skipped: no redis-server (set REDIS_SERVER)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = std::env::temp_dir().join(format!("sse-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut redis = Redis {
            child: None,
            port,
            dir,
        };
        redis.run();
        Some(redis)
    }

    /// Starts the server again after [`stop`](Redis::stop), on the same port and
    /// directory (so with the data it had), and waits until it accepts connections.
    pub fn run(&mut self) {
        let child = Command::new(binary())
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server; its data stays in the directory for [`run`](Redis::run).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's URL, `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where Chromium is: `CHROMIUM`, or Debian's `chromium` (which `.ci/run`
/// installs), or `chromium-browser`; `None` if none of them exists.
pub fn chromium() -> Option<String> {
    [
        std::env::var("CHROMIUM").ok(),
        Some("/usr/bin/chromium".into()),
        Some("/usr/bin/chromium-browser".into()),
    ]
    .into_iter()
    .flatten()
    .find(|path| std::path::Path::new(path).exists())
}

/// The redis-server to run.
fn binary() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into())
}

/// A directory of a browser's own under the system's temporary directory (its
/// profile, and its temporary files: Chromium leaves directories in `TMPDIR` even
/// when it exits cleanly), removed with everything in it when dropped.
///
/// ```no_run
/// let dir = sse_test_support::BrowserDir::new("example");
/// let mut chromium = std::process::Command::new("chromium");
/// dir.apply(&mut chromium).arg("--headless=new");
/// ```
#[derive(Debug)]
pub struct BrowserDir {
    path: PathBuf,
}

impl BrowserDir {
    /// A new, empty directory named after `name`, the process and a count.
    pub fn new(name: &str) -> BrowserDir {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("sse-browser-{name}-{}-{count}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(path.join("tmp")).expect("a browser's directory");
        BrowserDir { path }
    }

    /// Points `command`'s temporary files into the directory (`TMPDIR`, which
    /// chromedriver passes on to the browsers it starts).
    pub fn apply<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        command.env("TMPDIR", self.path.join("tmp"))
    }

    /// `--user-data-dir=` a profile in the directory, for Chromium's command line.
    pub fn profile_arg(&self) -> String {
        format!("--user-data-dir={}", self.path.join("profile").display())
    }
}

impl Drop for BrowserDir {
    fn drop(&mut self) {
        // A browser killed a moment ago may have processes still writing here:
        // try again until the directory is gone, for a few seconds at most.
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::remove_dir_all(&self.path).is_err()
            && self.path.exists()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
