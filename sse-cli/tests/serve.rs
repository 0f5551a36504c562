//! `sse serve` as a user runs it: the binary on 127.0.0.1 with a port the system
//! picks, fed on stdin, read with a plain TCP client. Every read has a timeout, and
//! the server is killed when its test ends.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sse_proto::{Config, Item, Parser};
use test_support::Redis;

use common::sse;

/// How long any one wait may take before the test fails.
const WAIT: Duration = Duration::from_secs(20);

/// A running `sse serve`, killed when dropped.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
    /// The lines it writes on stderr after the address.
    stderr: mpsc::Receiver<String>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = sse("serve", &[&["--addr", "127.0.0.1:0"], args].concat())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, stderr) = mpsc::channel();
        let pipe = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in pipe.lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let first = stderr
            .recv_timeout(WAIT)
            .expect("the server says where it listens");
        let addr = first
            .strip_prefix("sse serve: listening on http://")
            .or_else(|| first.strip_prefix("sse serve: listening on https://"))
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .parse()
            .unwrap();
        let stdin = child.stdin.take();
        Server {
            child,
            stdin,
            addr,
            stderr,
        }
    }

    fn write(&mut self, input: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Sends `signal` (`INT`, as Ctrl-C in a terminal does; `TERM`, as a service
    /// manager does).
    #[cfg(unix)]
    fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the server to exit; whether it succeeded.
    #[cfg(unix)]
    fn exits(&mut self) -> bool {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(Instant::now() < deadline, "the server is still running");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The next stderr line.
    fn stderr_line(&self) -> String {
        self.stderr.recv_timeout(WAIT).expect("a line on stderr")
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        request(self.addr, "GET", path, headers)
    }

    /// Opens `/events`, with this Last-Event-ID if any.
    fn events(&self, last_event_id: Option<&str>) -> Stream {
        self.events_at("/events", last_event_id)
    }

    /// Opens the stream at `path`, with this Last-Event-ID if any.
    fn events_at(&self, path: &str, last_event_id: Option<&str>) -> Stream {
        let headers: Vec<(&str, &str)> = last_event_id
            .map(|id| ("Last-Event-ID", id))
            .into_iter()
            .collect();
        let response = self.get(path, &headers);
        assert_eq!(response.status, 200, "{}", response.head);
        assert_eq!(response.header("content-type"), Some("text/event-stream"));
        Stream::new(response)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response whose head has been read; the body is what follows on the socket.
struct Response {
    status: u16,
    head: String,
    socket: TcpStream,
    /// Body bytes read with the head.
    rest: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The whole body (the server closes an HTTP/1.0 connection after it).
    fn body(mut self) -> String {
        self.socket.read_to_end(&mut self.rest).unwrap();
        String::from_utf8(self.rest).unwrap()
    }
}

/// An HTTP/1.0 request: the response body is not chunked, and ends with the
/// connection.
fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut socket = TcpStream::connect(addr).unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    let mut text = format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    socket.write_all(text.as_bytes()).unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = socket.read(&mut buf).unwrap();
        assert_ne!(n, 0, "the connection closed before the response head");
        received.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8(received[..end].to_vec()).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Response {
        status,
        head,
        socket,
        rest: received[end + 4..].to_vec(),
    }
}

/// An open event stream, parsed as it arrives.
struct Stream {
    socket: TcpStream,
    parser: Parser,
    /// Bytes read and not yet parsed.
    pending: Vec<u8>,
    /// Every byte received, for checks on the raw stream.
    raw: Vec<u8>,
}

/// One event as "id type data".
type Seen = String;

impl Stream {
    fn new(response: Response) -> Stream {
        Stream {
            socket: response.socket,
            parser: Parser::with_config(Config::new().comments(true)),
            raw: response.rest.clone(),
            pending: response.rest,
        }
    }

    /// The next `n` events, as "id type data".
    fn take(&mut self, n: usize) -> Vec<Seen> {
        let deadline = Instant::now() + WAIT;
        let mut out = Vec::new();
        while out.len() < n {
            let mut input = &self.pending[..];
            while out.len() < n {
                match self.parser.parse(&mut input).unwrap() {
                    Some(Item::Event(event)) => out.push(format!(
                        "{} {} {}",
                        event.last_event_id(),
                        event.event_type(),
                        event.data()
                    )),
                    Some(_) => {}
                    None => break,
                }
            }
            let used = self.pending.len() - input.len();
            self.pending.drain(..used);
            if out.len() < n {
                assert!(Instant::now() < deadline, "only {out:?} arrived");
                self.read();
            }
        }
        out
    }

    /// Reads once from the socket.
    fn read(&mut self) {
        let mut buf = [0u8; 16 * 1024];
        let n = self.socket.read(&mut buf).expect("the stream goes on");
        assert_ne!(n, 0, "the stream ended");
        self.pending.extend_from_slice(&buf[..n]);
        self.raw.extend_from_slice(&buf[..n]);
    }

    /// Reads to the end of the stream (which must come within [`WAIT`]); returns
    /// the events that arrived before it.
    #[cfg(unix)]
    fn end(&mut self) -> Vec<Seen> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = self.socket.read(&mut buf).expect("the stream ends in time");
            if n == 0 {
                break;
            }
            self.pending.extend_from_slice(&buf[..n]);
            self.raw.extend_from_slice(&buf[..n]);
        }
        let out = self.parse_pending();
        // The parser takes every byte; what it holds is an unfinished event.
        assert!(!self.parser.finish(), "the stream ends between events");
        out
    }

    /// Waits until nothing more arrives for `quiet`; returns the events that did.
    fn drain(&mut self, quiet: Duration) -> Vec<Seen> {
        self.socket.set_read_timeout(Some(quiet)).unwrap();
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = self.socket.read(&mut buf) {
            assert_ne!(n, 0, "the stream ended");
            self.pending.extend_from_slice(&buf[..n]);
            self.raw.extend_from_slice(&buf[..n]);
        }
        self.socket.set_read_timeout(Some(WAIT)).unwrap();
        self.parse_pending()
    }

    /// The events in the bytes received and not parsed yet, as "id data" (the
    /// parser keeps the start of an event still to come).
    fn parse_pending(&mut self) -> Vec<Seen> {
        let mut out = Vec::new();
        let mut input = &self.pending[..];
        while let Some(item) = self.parser.parse(&mut input).unwrap() {
            if let Item::Event(event) = item {
                out.push(format!("{} {}", event.last_event_id(), event.data()));
            }
        }
        let used = self.pending.len() - input.len();
        self.pending.drain(..used);
        out
    }
}

/// The ID and the data of "id type data".
fn id_and_data(seen: &str) -> (&str, &str) {
    let (id, rest) = seen.split_once(' ').unwrap();
    (id, rest.split_once(' ').unwrap().1)
}

#[test]
fn lines_become_events_and_a_reconnecting_client_gets_what_it_missed() {
    let mut server = Server::start(&[]);
    server.write("one\ntwo\r\n");
    // Wait until both are published: a new client then gets them from the history.
    let mut first = server.events(None);
    let got = first.take(2);
    let data: Vec<&str> = got.iter().map(|s| id_and_data(s).1).collect();
    assert_eq!(data, ["one", "two"]);
    let ids: Vec<u64> = got
        .iter()
        .map(|s| id_and_data(s).0.parse().unwrap())
        .collect();
    assert_eq!(ids[1], ids[0] + 1, "IDs count up");
    assert!(got.iter().all(|s| s.contains(" message ")), "{got:?}");

    // Live.
    server.write("three\n");
    let three = first.take(1).remove(0);
    assert_eq!(id_and_data(&three).1, "three");

    // The client goes away having seen "two"; meanwhile two more lines.
    drop(first);
    server.write("four\n\n");
    let mut watcher = server.events(Some(&ids[1].to_string()));
    let resumed = watcher.take(3);
    let data: Vec<&str> = resumed.iter().map(|s| id_and_data(s).1).collect();
    assert_eq!(data, ["three", "four", ""]);
    assert_eq!(resumed[0], three, "the same event, with the same ID");

    // An up-to-date client gets nothing old; only what comes next.
    let (last_id, _) = id_and_data(&resumed[2]);
    let mut current = server.events(Some(last_id));
    server.write("five\n");
    let five = current.take(1).remove(0);
    assert_eq!(id_and_data(&five).1, "five");
    assert_eq!(watcher.take(1), [five]);
}

#[test]
fn the_history_is_bounded_and_an_unknown_id_gets_all_of_it() {
    let mut server = Server::start(&["--history", "2"]);
    server.write("a\nb\nc\nd\ne\n");
    server.close_stdin();
    assert_eq!(
        server.stderr_line(),
        "sse serve: stdin ended after 5 events; serving until interrupted"
    );
    let mut fresh = server.events(None);
    let held = fresh.take(2);
    let data: Vec<&str> = held.iter().map(|s| id_and_data(s).1).collect();
    assert_eq!(data, ["d", "e"]);
    // An ID that was evicted, or never existed: everything held.
    let mut lost = server.events(Some("1"));
    assert_eq!(lost.take(2), held);
    assert!(lost.drain(Duration::from_millis(200)).is_empty());
}

#[test]
fn it_keeps_serving_after_stdin_ends() {
    let mut server = Server::start(&[]);
    server.write("last words\n");
    server.close_stdin();
    assert!(server.stderr_line().contains("stdin ended after 1 events"));
    std::thread::sleep(Duration::from_millis(100));
    assert!(server.child.try_wait().unwrap().is_none(), "still running");
    let mut stream = server.events(None);
    let got = stream.take(1);
    assert_eq!(id_and_data(&got[0]).1, "last words");
}

#[test]
fn ndjson_lines_become_events_with_their_types_and_ids() {
    let mut server = Server::start(&["--ndjson"]);
    let input = [
        r#"{"type": "greeting", "data": "hello", "id": "g1", "retry": null}"#,
        // As `sse decode` repeats the last event ID: this event gets its own.
        r#"{"type": "message", "data": "no id of its own", "id": "g1", "retry": null}"#,
        r#"{"data": "multi\nline", "id": "", "retry": 2500, "comment": "note"}"#,
        r#"{"comment": "only a comment"}"#,
        r#"not json"#,
        r#"{"data": "x", "colour": "red"}"#,
        r#"{"data": "x", "id": "a\nb"}"#,
        r#"{"final": true, "last_event_id": "g1", "retry": 2500}"#,
        r#"{"type": "", "data": "after the final line"}"#,
        "",
    ]
    .join("\n");
    server.write(&input);
    let mut stream = server.events(None);
    let got = stream.take(4);
    assert_eq!(got[0], "g1 greeting hello");
    let (id, data) = id_and_data(&got[1]);
    assert_eq!(data, "no id of its own");
    assert_ne!(id, "g1");
    assert!(id.parse::<u64>().is_ok(), "an assigned ID: {id}");
    assert!(got[2].ends_with(" message multi\nline"), "{:?}", got[2]);
    assert!(
        got[3].ends_with(" message after the final line"),
        "{:?}",
        got[3]
    );
    let raw = String::from_utf8_lossy(&stream.raw).into_owned();
    assert!(raw.contains(": note\nid: "), "{raw}");
    assert!(
        raw.contains("retry: 2500\ndata: multi\ndata: line\n\n"),
        "{raw}"
    );

    // The bad lines are reported with their numbers; the rest went out.
    let errors: Vec<String> = (0..3).map(|_| server.stderr_line()).collect();
    assert_eq!(errors[0], "sse serve: line 5: expected a JSON object");
    assert!(
        errors[1].starts_with("sse serve: line 6: column 22: unknown field `colour`"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].starts_with("sse serve: line 7: event ID contains a line break"),
        "{}",
        errors[2]
    );

    // Resuming from the custom ID works like any other.
    let mut resumed = server.events(Some("g1"));
    assert_eq!(resumed.take(3), got[1..]);
}

#[test]
fn ndjson_topics_route_events_and_a_client_resumes_all_its_topics_from_one_id() {
    let mut server = Server::start(&["--ndjson"]);
    let long = "t".repeat(300);
    let input = [
        r#"{"topic": "alice", "data": "a1"}"#,
        r#"{"topic": "bob", "data": "b1"}"#,
        r#"{"data": "everyone"}"#,
        r#"{"topic": "", "data": "everyone too"}"#,
        &format!(r#"{{"topic": "{long}", "data": "x"}}"#),
        r#"{"topic": "alice", "data": "a2"}"#,
        "",
    ]
    .join("\n");
    server.write(&input);
    let data = |seen: Vec<Seen>| -> Vec<String> {
        seen.iter().map(|s| id_and_data(s).1.to_string()).collect()
    };
    // New clients get each stream's history: `sse serve` backfills them.
    let mut alice = server.events_at("/events?topic=alice", None);
    assert_eq!(data(alice.take(2)), ["a1", "a2"]);
    let mut plain = server.events(None);
    assert_eq!(data(plain.take(2)), ["everyone", "everyone too"]);
    let mut both = server.events_at("/events?topic=alice&topic=bob", None);
    let got = both.take(3);
    assert_eq!(
        data(got.clone()),
        ["a1", "b1", "a2"],
        "in the order published"
    );
    assert_eq!(
        server.stderr_line(),
        "sse serve: line 5: a \"topic\" has at most 256 bytes"
    );

    // A client of both that saw b1 comes back: a2, then what is published next.
    let b1 = id_and_data(&got[1]).0.to_string();
    let mut resumed = server.events_at("/events?topic=bob&topic=alice", Some(&b1));
    assert_eq!(data(resumed.take(1)), ["a2"]);
    server.write("{\"topic\": \"bob\", \"data\": \"b2\"}\n");
    assert_eq!(data(resumed.take(1)), ["b2"]);
    assert_eq!(data(both.take(1)), ["b2"]);
    assert!(alice.drain(Duration::from_millis(200)).is_empty());
    assert!(plain.drain(Duration::from_millis(10)).is_empty());

    // Names the server will not take.
    assert_eq!(server.get("/events?topic=", &[]).status, 400);
    let many: String = (0..33).map(|n| format!("topic={n}&")).collect();
    assert_eq!(server.get(&format!("/events?{many}"), &[]).status, 400);
    assert_eq!(
        server.get(&format!("/events?topic={long}"), &[]).status,
        400
    );
}

#[test]
fn topics_over_the_cap_get_503_until_one_has_no_client() {
    let mut server = Server::start(&["--ndjson", "--max-topics", "1"]);
    let first = server.events_at("/events?topic=one", None);
    let refused = server.get("/events?topic=two", &[]);
    assert_eq!(refused.status, 503);
    assert_eq!(refused.header("retry-after"), Some("5"));
    server.write("{\"topic\": \"two\", \"data\": \"x\"}\n");
    assert_eq!(
        server.stderr_line(),
        "sse serve: line 1: too many topics with subscribers (at most 1)"
    );
    drop(first);
    // The first stream's end reaches the server in its own time.
    let deadline = Instant::now() + WAIT;
    while server.get("/events?topic=two", &[]).status != 200 {
        assert!(Instant::now() < deadline, "topic one is still held");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn quiet_streams_get_keep_alives_and_the_retry_comes_first() {
    let mut server = Server::start(&["--keep-alive", "0.1", "--retry", "1500"]);
    let mut stream = server.events(None);
    let start = Instant::now();
    while !stream.raw.ends_with(b":\n") {
        assert!(start.elapsed() < WAIT, "no keep-alive");
        stream.read();
    }
    // No blank line before the first event: the retry shares its block.
    assert!(
        stream.raw.starts_with(b"retry: 1500\n:\n"),
        "{:?}",
        stream.raw
    );
    server.write("x\n");
    assert_eq!(id_and_data(&stream.take(1)[0]).1, "x");
}

#[test]
fn the_page_shows_the_stream_with_an_event_source() {
    let server = Server::start(&[]);
    let page = server.get("/", &[]);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.body();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains(r#"new EventSource("/events" + location.search)"#));
    assert!(html.contains("lastEventId"));

    let missing = server.get("/nope", &[]);
    assert_eq!(missing.status, 404);
    let post = request(server.addr, "POST", "/events", &[("Content-Length", "0")]);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));

    // HEAD answers as GET would, with no body and no stream held.
    let head = request(server.addr, "HEAD", "/events", &[]);
    assert_eq!(head.status, 200, "{}", head.head);
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    assert_eq!(head.header("cache-control"), Some("no-cache, no-transform"));
    assert_eq!(head.body(), "");
}

#[test]
fn a_bad_option_or_address_fails_at_once() {
    let (_, stderr, ok) = common::run(sse("serve", &["--keep-alive=-1"]), b"");
    assert!(!ok);
    assert!(stderr.contains("--keep-alive"), "{stderr}");
    let (_, stderr, ok) = common::run(sse("serve", &["--addr", "256.0.0.1:1"]), b"");
    assert!(!ok);
    assert!(stderr.contains("cannot listen on 256.0.0.1:1"), "{stderr}");
}

/// `--tls-cert` and `--tls-key` serve HTTPS with the certificate in the files, and
/// offer HTTP/2 by ALPN; a file that is not PEM is refused at once, naming it.
#[cfg(feature = "rustls")]
#[test]
fn tls_from_pem_files_offers_http2() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("sse-serve-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let (cert_path, key_path) = (cert_file.to_str().unwrap(), key_file.to_str().unwrap());

    let server = Server::start(&["--tls-cert", cert_path, "--tls-key", key_path]);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let mut socket = TcpStream::connect(server.addr).unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    while tls.is_handshaking() {
        tls.complete_io(&mut socket).unwrap();
    }
    assert_eq!(tls.alpn_protocol(), Some(&b"h2"[..]));

    let (_, stderr, ok) = common::run(
        sse("serve", &["--tls-cert", key_path, "--tls-key", key_path]),
        b"",
    );
    assert!(!ok);
    assert!(
        stderr.contains("no certificate") && stderr.contains(key_path),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `sse listen --cacert` trusts the certificate `sse serve --tls-self-signed
/// --write-cert` made, and reads the stream over HTTPS; without it the certificate
/// is refused.
#[cfg(feature = "rustls")]
#[test]
fn listen_trusts_the_self_signed_certificate_it_is_given() {
    let file = std::env::temp_dir().join(format!("sse-serve-cert-{}.pem", std::process::id()));
    let path = file.to_str().unwrap();
    let mut server = Server::start(&["--tls-self-signed", "--write-cert", path]);
    server.write("over TLS\n");
    let url = format!("https://{}/events", server.addr);
    let (stdout, stderr, ok) = common::run(
        sse("listen", &["--cacert", path, "--max-events", "1", &url]),
        b"",
    );
    assert!(ok, "{stderr}");
    assert!(String::from_utf8_lossy(&stdout).contains(r#""data": "over TLS""#));
    let (stdout, _, ok) = common::run(
        sse("listen", &["--max-retries", "0", "--no-backoff", &url]),
        b"",
    );
    assert!(!ok);
    assert!(String::from_utf8_lossy(&stdout).contains("certificate"));
    let _ = std::fs::remove_file(&file);
}

#[cfg(unix)]
#[test]
fn ctrl_c_ends_the_streams_and_exits() {
    stopping_ends_the_streams_and_exits("INT");
}

#[cfg(unix)]
#[test]
fn sigterm_ends_the_streams_and_exits() {
    stopping_ends_the_streams_and_exits("TERM");
}

#[cfg(unix)]
fn stopping_ends_the_streams_and_exits(signal: &str) {
    let mut server = Server::start(&[]);
    let mut stream = server.events(None);
    server.write("before\n");
    assert_eq!(id_and_data(&stream.take(1)[0]).1, "before");
    server.signal(signal);
    let said = server.stderr_line();
    assert!(
        said.starts_with("sse serve: interrupted; ending 1 connection(s)"),
        "{said}"
    );
    // The stream ends cleanly, at an event boundary, and the server exits 0.
    assert_eq!(stream.end(), Vec::<Seen>::new());
    assert!(server.exits(), "a graceful shutdown succeeds");
    assert_eq!(server.stderr_line(), "sse serve: every connection closed");
}

/// A line over `--max-line` is reported and skipped as it is read (a line split
/// across many reads, as 1 MiB of stdin is), and the lines around it are published.
#[test]
fn a_line_over_the_limit_is_reported_and_skipped() {
    let mut server = Server::start(&["--max-line", "1024"]);
    let mut stream = server.events(None);
    let long = "x".repeat(1 << 20);
    server.write(&format!("before\n{long}\n{}\nafter\n", "y".repeat(1024)));
    let said = server.stderr_line();
    assert_eq!(
        said,
        "sse serve: line 2: 1048576 bytes, over the limit of 1024 (--max-line); skipped"
    );
    let got: Vec<String> = stream
        .take(3)
        .iter()
        .map(|seen| id_and_data(seen).1.to_string())
        .collect();
    assert_eq!(
        got,
        ["before".to_string(), "y".repeat(1024), "after".to_string()]
    );
}

/// The status of a request for `/events` with this `Host` header.
fn status_for_host(addr: SocketAddr, host: &str) -> u16 {
    let mut socket = TcpStream::connect(addr).unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    let text = format!("GET /events HTTP/1.0\r\nHost: {host}\r\n\r\n");
    socket.write_all(text.as_bytes()).unwrap();
    let mut head = [0u8; 12];
    socket.read_exact(&mut head).unwrap();
    std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap()
}

/// Only the bound address, the loopback names and `--allow-host` names are served:
/// a page cannot reach the server through a name of its own (DNS rebinding).
#[test]
fn other_hosts_are_refused() {
    let server = Server::start(&["--allow-host", "Feed.Example"]);
    let port = server.addr.port();
    for (host, status) in [
        (format!("127.0.0.1:{port}"), 200),
        (format!("localhost:{port}"), 200),
        ("localhost".to_string(), 200),
        (format!("feed.example:{port}"), 200),
        (format!("rebound.example:{port}"), 421),
        ("127.0.0.2".to_string(), 421),
        (format!("[::2]:{port}"), 421),
    ] {
        assert_eq!(status_for_host(server.addr, &host), status, "{host}");
    }
}

/// Over `--max-clients` streams, a client is told to come back later.
#[test]
fn clients_over_the_cap_get_503() {
    let server = Server::start(&["--max-clients", "1"]);
    let _first = server.events(None);
    let second = server.get("/events", &[]);
    assert_eq!(second.status, 503, "{}", second.head);
    assert_eq!(second.header("retry-after"), Some("5"));
}

/// A connection that does not finish its request head in time is closed.
#[test]
fn a_slow_request_head_is_dropped() {
    let server = Server::start(&["--header-timeout", "0.3"]);
    let mut socket = TcpStream::connect(server.addr).unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket
        .write_all(b"GET /events HTTP/1.1\r\nHost: 127")
        .unwrap();
    let start = Instant::now();
    let mut rest = Vec::new();
    // The server closes the connection (perhaps after a 408): the read ends.
    socket.read_to_end(&mut rest).unwrap();
    assert!(start.elapsed() < WAIT, "the connection stayed open");
    let said = String::from_utf8_lossy(&rest);
    assert!(
        rest.is_empty() || said.starts_with("HTTP/1.1 408"),
        "{said}"
    );
}

/// `--cors ORIGIN`: that origin's preflight is answered (private-network access
/// included) and its requests get the origin back with credentials allowed; any
/// other origin gets no CORS header (the browser then refuses the page the
/// stream), and a server without `--cors` sends none at all.
#[test]
fn cors_only_for_the_origins_named() {
    let page = "http://127.0.0.1:3000";
    let server = Server::start(&["--cors", "http://127.0.0.1:3000/"]);
    let preflight = request(
        server.addr,
        "OPTIONS",
        "/events",
        &[
            ("Origin", page),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "last-event-id"),
            ("Access-Control-Request-Private-Network", "true"),
        ],
    );
    assert_eq!(preflight.status, 204, "{}", preflight.head);
    assert_eq!(preflight.header("access-control-allow-origin"), Some(page));
    assert_eq!(
        preflight.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("GET")
    );
    let allowed = preflight.header("access-control-allow-headers").unwrap();
    assert!(allowed.to_ascii_lowercase().contains("last-event-id"));
    assert_eq!(
        preflight.header("access-control-allow-private-network"),
        Some("true")
    );
    let stream = request(server.addr, "GET", "/events", &[("Origin", page)]);
    assert_eq!(stream.status, 200);
    assert_eq!(stream.header("access-control-allow-origin"), Some(page));
    assert_eq!(
        stream.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(stream.header("vary"), Some("Origin"));

    let other = "http://127.0.0.1:4000";
    let refused = request(
        server.addr,
        "OPTIONS",
        "/events",
        &[("Origin", other), ("Access-Control-Request-Method", "GET")],
    );
    assert_eq!(refused.status, 403);
    assert_eq!(refused.header("access-control-allow-origin"), None);
    let stream = request(server.addr, "GET", "/events", &[("Origin", other)]);
    assert_eq!(stream.header("access-control-allow-origin"), None);

    let plain = Server::start(&[]);
    let stream = request(plain.addr, "GET", "/events", &[("Origin", page)]);
    assert_eq!(stream.status, 200);
    assert!(
        !stream.head.to_ascii_lowercase().contains("access-control-"),
        "{}",
        stream.head
    );
}

/// A page on one loopback origin reads the stream of `sse serve` on another, in
/// headless Chromium, with credentials (`withCredentials: true`): with `--cors`
/// naming the page's origin it gets the events; without, the browser refuses it.
#[test]
fn a_page_on_another_origin_reads_the_stream_in_chromium_with_cors() {
    let Some(browser) = common::chromium() else {
        eprintln!("skipped: no Chromium (set CHROMIUM=/path/to/chromium)");
        return;
    };
    let pages = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", pages.local_addr().unwrap());
    let run = |cors: &[&str]| -> String {
        let mut server = Server::start(cors);
        server.write("one\ntwo\n");
        let page = format!(
            r#"<!doctype html><ul id="got"></ul><p id="state">waiting</p><script>
const source = new EventSource("http://{}/events", {{withCredentials: true}});
source.onmessage = (e) => {{
  const li = document.createElement("li");
  li.textContent = e.data;
  got.append(li);
  if (got.children.length === 2) {{ state.textContent = "done"; source.close(); }}
}};
source.onerror = () => {{ state.textContent = "error"; source.close(); }};
</script>"#,
            server.addr
        );
        with_page(&pages, &page, || {
            common::chromium_dom(&browser, &format!("{origin}/"), 5000, &[])
        })
    };
    let allowed = run(&["--cors", &origin]);
    assert!(
        allowed.contains(r#"<li>one</li><li>two</li>"#) && allowed.contains(">done<"),
        "{allowed}"
    );
    let refused = run(&[]);
    assert!(
        refused.contains(">error<") && !refused.contains("<li>"),
        "{refused}"
    );
}

/// Runs `f` while `pages` serves `page` at `/` (and a 404 for anything else the
/// browser asks for, a favicon), on a thread of its own.
fn with_page<R>(pages: &std::net::TcpListener, page: &str, f: impl FnOnce() -> R) -> R {
    let pages = pages.try_clone().unwrap();
    pages.set_nonblocking(true).unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let page = page.to_string();
    let serving = std::thread::spawn(move || {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let Ok((socket, _)) = pages.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            answer(socket, &page);
        }
    });
    let result = f();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    serving.join().unwrap();
    result
}

/// Twelve `EventSource`s on one page, in headless Chromium: over HTTPS with HTTP/2
/// (`--tls-self-signed`, trusted by its SPKI hash) all twelve get the stream; over
/// plain HTTP/1.1 only six do, the browser's limit of connections per origin.
#[cfg(feature = "rustls")]
#[test]
fn twelve_streams_in_one_page_over_http2_and_six_over_http1() {
    let Some(browser) = common::chromium() else {
        eprintln!("skipped: no Chromium (set CHROMIUM=/path/to/chromium)");
        return;
    };
    let opened = |tls: bool| -> usize {
        let pages = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", pages.local_addr().unwrap());
        let mut args = vec!["--cors", origin.as_str()];
        if tls {
            args.push("--tls-self-signed");
        }
        let mut server = Server::start(&args);
        let mut chromium_args = Vec::new();
        if tls {
            let line = server.stderr_line();
            let hash = line
                .split("--ignore-certificate-errors-spki-list=")
                .nth(1)
                .unwrap_or_else(|| panic!("no SPKI hash in {line:?}"))
                .trim()
                .to_string();
            chromium_args.push(format!("--ignore-certificate-errors-spki-list={hash}"));
        }
        server.write("one\n");
        let scheme = if tls { "https" } else { "http" };
        // The page reports how many streams got the event: once all twelve have,
        // or after two seconds of wall-clock time.
        let page = format!(
            r#"<!doctype html><script>
let opened = 0, reported = false;
const report = () => {{ if (!reported) {{ reported = true; fetch("/report?opened=" + opened); }} }};
for (let i = 0; i < 12; i++) {{
  const source = new EventSource("{scheme}://{}/events", {{withCredentials: true}});
  source.onmessage = () => {{ source.onmessage = null; if (++opened === 12) report(); }};
}}
setTimeout(report, 2000);
</script>"#,
            server.addr
        );
        let report = page_report(&pages, &page, &browser, &chromium_args);
        report
            .strip_prefix("GET /report?opened=")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count in {report:?}"))
    };
    assert_eq!(opened(true), 12, "over HTTP/2 every stream opens");
    assert_eq!(opened(false), 6, "over HTTP/1.1 six, the per-origin limit");
}

/// Serves `page` at `/` on `pages` to headless Chromium (in real time, no virtual
/// clock: the page's streams stay open) until the page requests `/report...`;
/// returns that request line.
#[cfg(feature = "rustls")]
fn page_report(
    pages: &std::net::TcpListener,
    page: &str,
    browser: &str,
    chromium_args: &[String],
) -> String {
    let url = format!("http://{}/", pages.local_addr().unwrap());
    let _browser = common::Headless::open(browser, &url, chromium_args);
    pages.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut report = None;
    while report.is_none() && Instant::now() < deadline {
        let Ok((socket, _)) = pages.accept() else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let line = answer(socket, page);
        if line.starts_with("GET /report") {
            report = Some(line);
        }
    }
    report.expect("the page reports within 30 s")
}

/// Answers one request on `socket`: `page` for `/`, 404 for anything else (a
/// favicon). Returns the request line.
fn answer(mut socket: TcpStream, page: &str) -> String {
    socket.set_nonblocking(false).unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    let mut head = [0u8; 2048];
    let n = socket.read(&mut head).unwrap_or(0);
    let line = String::from_utf8_lossy(&head[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let response = if line.starts_with("GET / ") {
        format!(
            "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{page}",
            page.len()
        )
    } else {
        "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string()
    };
    let _ = socket.write_all(response.as_bytes());
    line
}

/// The page in headless Chromium, with events of two types from the history: a
/// screenshot for a person to look at (`target/screenshots/sse-serve.png`).
#[test]
fn a_screenshot_of_the_page() {
    let Some(browser) = common::chromium() else {
        return;
    };
    let mut server = Server::start(&["--ndjson"]);
    let mut lines = String::new();
    for n in 1..=40 {
        let (kind, data) = if n % 5 == 0 {
            ("status", format!("{{\"healthy\": true, \"checked\": {n}}}"))
        } else {
            (
                "message",
                format!("line {n}: the quick brown fox jumps over the lazy dog"),
            )
        };
        lines.push_str(&serde_json::json!({"type": kind, "data": data}).to_string());
        lines.push('\n');
    }
    server.write(&lines);
    // All published: a new client is sent the history.
    server.events(None).take(32);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sse-serve.png");
    let _ = std::fs::remove_file(&file);
    let browser_dir = test_support::BrowserDir::new("shot");
    let status = browser_dir
        .apply(&mut std::process::Command::new(&browser))
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg("--window-size=1200,700")
        .arg(browser_dir.profile_arg())
        .arg(format!("--screenshot={}", file.display()))
        .arg(format!("http://{}/?types=status", server.addr))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    drop(browser_dir);
    assert!(status.success());
    let png = std::fs::read(&file).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
}

/// `sse serve`'s options for a server on `stream` in the Redis at `url`, without
/// keep-alives (the tests count events).
fn redis_args<'a>(url: &'a str, stream: &'a str) -> [&'a str; 6] {
    [
        "--redis",
        url,
        "--redis-stream",
        stream,
        "--keep-alive",
        "0",
    ]
}

/// `got` is the events `e0` to `e{count - 1}`, each once, in order.
fn assert_every_event_once(got: &[Seen], count: usize) {
    let data: Vec<&str> = got.iter().map(|s| id_and_data(s).1).collect();
    let expected: Vec<String> = (0..count).map(|n| format!("e{n}")).collect();
    assert!(
        data == expected,
        "every event once, in order: {} events, the first wrong one {:?}",
        data.len(),
        data.iter()
            .zip(&expected)
            .position(|(got, want)| got != want)
    );
}

/// Three servers on one Redis, stdin read by the first: a client that reconnects to
/// the next server after every few events, with its Last-Event-ID, gets every event
/// once, in order, with the same IDs everywhere; one server killed with SIGKILL
/// changes nothing for the client, which goes on with the others.
#[test]
fn servers_on_one_redis_serve_the_same_stream() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let url = redis.url();
    let args = redis_args(&url, "test");
    let mut nodes: Vec<Server> = (0..3).map(|_| Server::start(&args)).collect();
    // A client of the first server, before any event.
    let mut stream = nodes[1].events(None);
    let count = 120;
    let mut input = String::new();
    for n in 0..count {
        input.push_str(&format!("e{n}\n"));
    }
    nodes[0].write(&input);
    let mut got: Vec<Seen> = Vec::new();
    let mut turn = 1;
    while got.len() < count {
        got.extend(stream.take(1));
        if got.len() % 7 == 0 {
            turn += 1;
            if turn == 9 {
                // One server dies mid-stream; the client's next turns skip it.
                let _ = nodes[2].child.kill();
            }
            let alive = if turn >= 9 { 2 } else { 3 };
            let (last, _) = id_and_data(got.last().unwrap());
            let last = last.to_string();
            stream = nodes[turn % alive].events(Some(&last));
        }
    }
    assert_every_event_once(&got, count);
    let ids: Vec<&str> = got.iter().map(|s| id_and_data(s).0).collect();
    assert!(
        ids.iter().all(|id| id.contains('-')),
        "Redis stream IDs: {ids:?}"
    );
    let mut sorted = ids.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len());
    // Topics stay on one server: refused rather than silently local.
    assert_eq!(nodes[0].get("/events?topic=a", &[]).status, 400);
}

/// Serving nodes killed with SIGKILL and started again, over and over (for a
/// bounded time) while a publishing node writes: a client that goes to a live node
/// with its Last-Event-ID each time its node dies (and every few events besides)
/// gets every event once, in order.
#[test]
fn killing_nodes_again_and_again_loses_and_repeats_nothing() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let url = redis.url();
    let args = redis_args(&url, "kills");
    let mut publisher = Server::start(&args);
    let mut nodes: Vec<Server> = (0..3).map(|_| Server::start(&args)).collect();
    let mut stream = nodes[0].events(None);
    // The publisher writes a line every 2 ms, on its own thread.
    let count = 1_000;
    let mut stdin = publisher.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for n in 0..count {
            writeln!(stdin, "e{n}").unwrap();
            stdin.flush().unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        stdin
    });
    let mut got: Vec<Seen> = Vec::new();
    let (mut current, mut kills) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} events in time",
            got.len()
        );
        got.extend(stream.take(1));
        if got.len() % 25 == 0 {
            // Kill the node the client reads from, and start a new one; the client
            // goes to the next.
            let _ = nodes[current].child.kill();
            let _ = nodes[current].child.wait();
            nodes[current] = Server::start(&args);
            kills += 1;
            current = (current + 1) % nodes.len();
            let last = id_and_data(got.last().unwrap()).0.to_string();
            stream = nodes[current].events(Some(&last));
        }
    }
    drop(writer.join().unwrap());
    assert_every_event_once(&got, count);
    assert!(kills >= 30, "{kills} kills");
}

/// Redis killed and started again mid-stream (its append-only file keeps the
/// stream): the servers' followers come back and the client, which never
/// reconnected, gets every event, once, in order.
#[test]
fn redis_restarting_mid_stream_loses_nothing_stored() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let url = redis.url();
    let args = redis_args(&url, "restart");
    let mut publisher = Server::start(&args);
    let node = Server::start(&args);
    let mut stream = node.events(None);
    let lines = |range: std::ops::Range<u32>| range.map(|n| format!("e{n}\n")).collect::<String>();
    publisher.write(&lines(0..50));
    let mut got = stream.take(50);
    redis.stop();
    std::thread::sleep(Duration::from_millis(300));
    redis.run();
    // Lines read before the publisher's connection is back are reported and
    // skipped: probe until one arrives through the follower, which came back too.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "publishing did not come back");
        publisher.write("probe\n");
        let arrived = stream.drain(Duration::from_millis(300));
        got.extend(
            arrived
                .iter()
                .map(|seen| seen.replacen(' ', " message ", 1)),
        );
        if arrived.iter().any(|seen| seen.ends_with(" probe")) {
            break;
        }
    }
    publisher.write(&lines(50..100));
    while got.iter().filter(|seen| !seen.ends_with(" probe")).count() < 100 {
        assert!(
            Instant::now() < deadline,
            "only {} events in time",
            got.len()
        );
        got.extend(stream.take(1));
    }
    got.retain(|seen| !seen.ends_with(" probe"));
    assert_every_event_once(&got, 100);
}

/// `--redis-max-age`: events older than it leave the stream, so a server started
/// later does not have them: a client whose ID went with them is sent what is held
/// (sse serve's policy for unknown IDs), not the trimmed events.
#[test]
fn redis_max_age_trims_the_stream() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let url = redis.url();
    let args = ["--redis", url.as_str(), "--redis-stream", "aged"];
    let mut publisher = Server::start(&[&args[..], &["--redis-max-age", "0.3"]].concat());
    let mut watcher = publisher.events(None);
    publisher.write("old 1\nold 2\n");
    let old = watcher.take(2);
    std::thread::sleep(Duration::from_millis(400));
    publisher.write("new\n");
    watcher.take(1);
    let late = Server::start(&args);
    let (old_1, _) = id_and_data(&old[0]);
    let mut client = late.events(Some(old_1));
    let got = client.take(1);
    assert_eq!(id_and_data(&got[0]).1, "new", "old 2 was trimmed: {got:?}");
    assert!(client.drain(Duration::from_millis(200)).is_empty());
}
