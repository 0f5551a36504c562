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
