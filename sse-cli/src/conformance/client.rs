//! `sse conformance client -- CMD`: the connection scenarios against another
//! client program, played by a scripted server on loopback.
//!
//! Each scenario's inputs (response heads, body bytes, a clean end, a dropped
//! connection) are played in real time to the requests the program sends; its
//! outputs are what the program must do: each request (method, URL, `Accept`,
//! `Cache-Control`, `Last-Event-ID`), when it reconnects (not before the `retry` the
//! stream set), that it stops for good where the connection fails, and the events
//! it prints.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::pin::Pin;
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use conformance::Outcome;
use conformance::connection::{Input, Output, Scenario, SentRequest};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, sleep, timeout, timeout_at};

use super::browser::{self, Browser};
use super::{ClientArgs, Event, events_json, judge};

/// How long a request due at once (the program's first, a redirect's) may take.
const PROMPT: Duration = Duration::from_secs(5);

/// How long past the stream's `retry` (or, where the stream set none, past the
/// moment the connection was lost) a reconnection may take to arrive: clients
/// choose their own default reconnection time, browsers 3 to 5 s.
const LATE: Duration = Duration::from_secs(6);

/// How much earlier than the stream's `retry` a reconnection may arrive (timer
/// granularity).
const EARLY_SLACK: Duration = Duration::from_millis(20);

/// How long the judge watches for requests after the connection failed or ended.
const AFTER_END: Duration = Duration::from_secs(1);

/// The longest pause played between two inputs; scenarios that wait longer only
/// check that nothing happens meanwhile.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// Time for the program's last output to reach the judge.
const SETTLE: Duration = Duration::from_millis(300);

/// How long the judge waits, past [`SETTLE`], for events still due from a slow
/// program (a loaded machine) before it judges what arrived.
const SLOW_OUTPUT: Duration = Duration::from_secs(3);

/// A request the scripted server received.
struct Arrival {
    request: SentRequest,
    at: Instant,
    /// `None` drops the connection without a response.
    respond: oneshot::Sender<Option<hyper::Response<ScriptBody>>>,
}

/// A response body the script writes to as it goes.
struct ScriptBody(mpsc::UnboundedReceiver<Result<Frame<Bytes>, io::Error>>);

impl hyper::body::Body for ScriptBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.0.poll_recv(cx)
    }
}

/// The exchange the script is on.
enum Current {
    None,
    /// A request waits for its response head.
    Awaiting(oneshot::Sender<Option<hyper::Response<ScriptBody>>>),
    /// A response body is open.
    Responding(mpsc::UnboundedSender<Result<Frame<Bytes>, io::Error>>),
}

/// The client under test.
#[derive(Clone)]
enum Driver {
    /// A program, run afresh for each case with the URL as its last argument.
    Program(Vec<String>),
    /// The browser on the control page.
    Browser(Arc<Browser>),
}

/// One case's client while it runs.
enum Running {
    Program {
        child: tokio::process::Child,
        reader: JoinHandle<()>,
        output: Arc<Mutex<Vec<u8>>>,
    },
    Browser {
        browser: Arc<Browser>,
        name: String,
        output: Arc<Mutex<Vec<u8>>>,
    },
}

impl Running {
    /// Starts the client on `url`; `types` are the event types to listen for (a
    /// browser's `EventSource` reports only those it was asked for).
    async fn start(
        driver: &Driver,
        scenario: &Scenario,
        url: &str,
        page_origin: &str,
        types: &[String],
    ) -> io::Result<Running> {
        match driver {
            Driver::Program(command) => {
                let mut child = tokio::process::Command::new(&command[0])
                    .args(&command[1..])
                    .arg(url)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .kill_on_drop(true)
                    .spawn()?;
                let mut stdout = child.stdout.take().expect("piped");
                let output = Arc::new(Mutex::new(Vec::new()));
                let reader = {
                    let output = output.clone();
                    tokio::spawn(async move {
                        let mut buffer = [0; 4096];
                        while let Ok(n @ 1..) = stdout.read(&mut buffer).await {
                            output
                                .lock()
                                .expect("not poisoned")
                                .extend_from_slice(&buffer[..n]);
                        }
                    })
                };
                Ok(Running::Program {
                    child,
                    reader,
                    output,
                })
            }
            Driver::Browser(browser) => {
                let page = format!(
                    "{page_origin}{}?case={}&url={}&types={}",
                    browser::CASE_PATH,
                    encode(&scenario.name),
                    encode(url),
                    encode(&types.join(","))
                );
                Ok(Running::Browser {
                    browser: browser.clone(),
                    name: scenario.name.clone(),
                    output: browser.start(&scenario.name, &page),
                })
            }
        }
    }

    /// Whether the client has stopped of its own accord, and how.
    fn stopped(&mut self) -> Option<String> {
        match self {
            Running::Program { child, .. } => {
                child.try_wait().ok().flatten().map(|s| s.to_string())
            }
            Running::Browser { output, .. } => {
                let output = output.lock().expect("not poisoned");
                String::from_utf8_lossy(&output)
                    .lines()
                    .any(|line| line.contains("\"stopped\":true"))
                    .then(|| "readyState CLOSED".to_string())
            }
        }
    }

    /// What the client has printed so far.
    fn output(&self) -> Vec<u8> {
        let (Running::Program { output, .. } | Running::Browser { output, .. }) = self;
        output.lock().expect("not poisoned").clone()
    }

    /// Stops the client; what it printed.
    async fn stop(self) -> Vec<u8> {
        let output = match self {
            Running::Program {
                mut child,
                reader,
                output,
            } => {
                let _ = child.start_kill();
                let _ = timeout(PROMPT, child.wait()).await;
                let _ = timeout(SETTLE, reader).await;
                output
            }
            Running::Browser {
                browser,
                name,
                output,
            } => {
                browser.stop(&name).await;
                output
            }
        };
        std::mem::take(&mut *output.lock().expect("not poisoned"))
    }
}

/// `text` percent-encoded for a query string.
fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// One scenario's outcome.
struct Case {
    failures: Vec<String>,
    expected: Vec<Event>,
    got: Vec<Event>,
    requests: Vec<String>,
}

/// Runs every scenario a client given only a URL can be judged by.
pub fn run(args: &ClientArgs) -> io::Result<ExitCode> {
    let mut skipped = Vec::new();
    let scenarios: Vec<Scenario> = conformance::connection::scenarios()
        .into_iter()
        .filter(|s| args.only.is_empty() || args.only.iter().any(|p| s.name.contains(p)))
        .filter(|s| match unplayable(s) {
            Some(why) => {
                skipped.push(json!({"name": s.name, "why": why}));
                false
            }
            None => true,
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let judged = runtime.block_on(async {
        let driver = if args.browser {
            let (browser, addr) = Browser::serve(&args.addr).await?;
            eprintln!("sse conformance: open http://{addr}/ in the browser to judge");
            browser.connected().await;
            Driver::Browser(browser)
        } else {
            Driver::Program(args.command.clone())
        };
        let jobs = Arc::new(Semaphore::new(args.jobs.max(1)));
        let tasks: Vec<_> = scenarios
            .iter()
            .map(|scenario| {
                let (jobs, scenario, driver) = (jobs.clone(), scenario.clone(), driver.clone());
                tokio::spawn(async move {
                    let _permit = jobs.acquire_owned().await;
                    play(&driver, &scenario).await
                })
            })
            .collect();
        let mut cases = Vec::new();
        for task in tasks {
            cases.push(task.await.map_err(io::Error::other)??);
        }
        io::Result::Ok((driver, cases))
    });
    let (driver, cases) = match judged {
        Ok(judged) => judged,
        Err(e) if args.browser => {
            eprintln!("sse conformance: {}: {e}", args.addr);
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            eprintln!("sse conformance: cannot run {:?}: {e}", args.command[0]);
            return Ok(ExitCode::from(2));
        }
    };
    let (mut passed, mut failed) = (0, 0);
    let mut rows = Vec::new();
    let mut out = io::stdout().lock();
    for (scenario, case) in scenarios.iter().zip(&cases) {
        let ok = case.failures.is_empty();
        if ok {
            passed += 1;
        } else {
            failed += 1;
            writeln!(out, "FAIL {}: {}", scenario.name, scenario.spec)?;
            for failure in &case.failures {
                writeln!(out, "  {failure}")?;
            }
            writeln!(out, "  requests: {}", case.requests.join("; "))?;
            writeln!(out, "  expected: {}", events_json(&case.expected))?;
            writeln!(out, "  got:      {}", events_json(&case.got))?;
        }
        rows.push(json!({
            "name": scenario.name,
            "spec": scenario.spec,
            "file": scenario.file,
            "passed": ok,
            "failures": case.failures,
            "script": script(scenario),
            "requests": case.requests,
            "expected": events_json(&case.expected),
            "got": events_json(&case.got),
        }));
    }
    if !skipped.is_empty() {
        writeln!(
            out,
            "({} scenarios need options or calls a client given only a URL has not: not run)",
            skipped.len()
        )?;
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    let report = json!({
        "client": match &driver {
            Driver::Program(command) => json!(command),
            Driver::Browser(_) => json!("the browser's EventSource"),
        },
        "passed": passed,
        "failed": failed,
        "cases": rows,
        "not_run": skipped,
    });
    if let Driver::Browser(browser) = &driver {
        runtime.block_on(browser.show(report.clone()));
    }
    args.reports.write(&report)?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What the scripted server does, step by step, as the report shows it.
fn script(scenario: &Scenario) -> Vec<String> {
    scenario
        .steps
        .iter()
        .filter_map(|step| {
            let what = match &step.input {
                Input::Connect => "the client connects".to_string(),
                Input::Response { status, headers } => {
                    let mut text = format!("response {status}");
                    for (name, value) in headers {
                        text.push_str(&format!(" [{name}: {value}]"));
                    }
                    text
                }
                Input::Body(chunks) => {
                    format!("body {:?}", String::from_utf8_lossy(&chunks.concat()))
                }
                Input::End => "the body ends".to_string(),
                Input::Error => "the connection drops".to_string(),
                Input::Timeout if step.expect.is_empty() => return None,
                Input::Timeout => "the client reconnects".to_string(),
                Input::Close => "close()".to_string(),
            };
            Some(format!("{} ms: {what}", step.at))
        })
        .collect()
}

/// Why a scenario cannot judge a program given only a URL, over plain HTTP.
fn unplayable(scenario: &Scenario) -> Option<&'static str> {
    if !scenario.default_config {
        return Some("sets options");
    }
    // What the server holds: 0 nothing, 1 a request, 2 an open response.
    let mut holds = 0;
    for (i, step) in scenario.steps.iter().enumerate() {
        let playable = match step.input {
            Input::Connect => i == 0,
            Input::Close => return Some("calls close()"),
            Input::Response { .. } => holds == 1,
            Input::Body(_) => holds == 2,
            Input::End | Input::Error => holds != 0,
            Input::Timeout => true,
        };
        if !playable {
            return Some("inputs no server can produce");
        }
        holds = match step.input {
            Input::Response { .. } => 2,
            Input::End | Input::Error => 0,
            _ => holds,
        };
        for output in &step.expect {
            match output {
                Output::Request(_) => holds = 1,
                Output::RequestError(_) => return Some("checks the constructor's URL"),
                _ => {}
            }
        }
    }
    let schemes: Vec<&str> = origins(scenario).iter().map(|o| o.scheme).collect();
    if schemes.windows(2).any(|w| w[0] != w[1]) {
        return Some("mixes http and https");
    }
    None
}

/// An origin of a URL: lower-cased, without a default port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Origin {
    scheme: &'static str,
    host: String,
}

/// Where a URL or reference names an origin, read as a URL parser reads an `http(s)`
/// one: what comes before the host (`https://`, `//`, `http:\\`: any number of
/// slashes and backslashes after the scheme, at least two without one), the
/// origin (`scheme` where the reference has none), and what comes after the host
/// (from the first slash, backslash, `?` or `#`). `None` for a reference relative
/// to its base's origin (`/path`, `https:path` when `scheme` is `https`) and
/// anything not `http(s)`.
fn split_origin<'a>(url: &'a str, scheme: &'static str) -> Option<(&'a str, Origin, &'a str)> {
    let is_slash = |c: char| c == '/' || c == '\\';
    let named = url.split_once(':').and_then(|(name, _)| {
        ["http", "https"]
            .into_iter()
            .find(|s| s.eq_ignore_ascii_case(name))
    });
    let (origin_scheme, after_scheme) = match named {
        Some(named) => (named, &url[named.len() + 1..]),
        None => (scheme, url),
    };
    let after_slashes = after_scheme.trim_start_matches(is_slash);
    let slashes = after_scheme.len() - after_slashes.len();
    if slashes < 2 && (named.is_none() || named == Some(scheme)) {
        return None;
    }
    let lead = &url[..url.len() - after_slashes.len()];
    let end = after_slashes
        .find(|c| is_slash(c) || c == '?' || c == '#')
        .unwrap_or(after_slashes.len());
    let mut host = after_slashes[..end].to_ascii_lowercase();
    let default_port = if origin_scheme == "https" {
        ":443"
    } else {
        ":80"
    };
    if host.ends_with(default_port) {
        host.truncate(host.len() - default_port.len());
    }
    let origin = Origin {
        scheme: origin_scheme,
        host,
    };
    Some((lead, origin, &after_slashes[end..]))
}

/// The scenario URL's scheme.
fn scheme_of(scenario: &Scenario) -> &'static str {
    split_origin(&scenario.url, "https").map_or("https", |(_, o, _)| o.scheme)
}

/// Every origin the scenario names: its URL, the requests' URLs, `Location`s.
fn origins(scenario: &Scenario) -> Vec<Origin> {
    let scheme = scheme_of(scenario);
    let mut urls = vec![scenario.url.as_str()];
    for step in &scenario.steps {
        if let Input::Response { headers, .. } = &step.input {
            urls.extend(
                headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case("location"))
                    .map(|(_, v)| v.as_str()),
            );
        }
        for output in &step.expect {
            if let Output::Request(request) = output {
                urls.push(&request.url);
            }
        }
    }
    let mut origins: Vec<Origin> = urls
        .into_iter()
        .filter_map(|url| split_origin(url, scheme).map(|(_, o, _)| o))
        .collect();
    origins.sort();
    origins.dedup();
    origins
}

/// Scenario origins mapped to the loopback ports that stand in for them.
struct Local {
    scheme: &'static str,
    ports: BTreeMap<Origin, u16>,
}

impl Local {
    /// `url` with its origin replaced by the loopback one, written as it was
    /// (the same slashes, the scheme `http`); a reference relative to its base's
    /// origin with the scheme `http` if it names one; non-HTTP URLs unchanged.
    fn url(&self, url: &str) -> String {
        let http = |lead: &str| match lead.split_once(':') {
            Some((name, after)) if name.eq_ignore_ascii_case(self.scheme) => {
                format!("http:{after}")
            }
            _ => lead.to_string(),
        };
        match split_origin(url, self.scheme) {
            Some((lead, origin, rest)) => match self.ports.get(&origin) {
                Some(port) => format!("{}127.0.0.1:{port}{rest}", http(lead)),
                None => url.to_string(),
            },
            None => http(url),
        }
    }
}

/// Plays one scenario against a fresh run of the program.
async fn play(driver: &Driver, scenario: &Scenario) -> io::Result<Case> {
    let (arrivals_to, mut arrivals) = mpsc::unbounded_channel();
    let mut local = Local {
        scheme: scheme_of(scenario),
        ports: BTreeMap::new(),
    };
    // A browser's page comes from the scenario's own origin; its redirects to other
    // origins need CORS.
    let cors = matches!(driver, Driver::Browser(_));
    let mut servers = Vec::new();
    for origin in origins(scenario) {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        local.ports.insert(origin, port);
        servers.push(serve(listener, port, cors, arrivals_to.clone()));
    }
    let url = local.url(&scenario.url);
    let page_origin = split_origin(&scenario.url, local.scheme)
        .and_then(|(_, origin, _)| local.ports.get(&origin).copied())
        .map(|port| format!("http://127.0.0.1:{port}"))
        .unwrap_or_default();
    let mut types = vec!["message".to_string()];
    for step in &scenario.steps {
        for output in &step.expect {
            if let Output::Item(Outcome::Event { event_type, .. }) = output {
                if !types.contains(event_type) {
                    types.push(event_type.clone());
                }
            }
        }
    }
    let mut client = Running::start(driver, scenario, &url, &page_origin, &types).await?;

    let mut case = Case {
        failures: Vec::new(),
        expected: Vec::new(),
        got: Vec::new(),
        requests: Vec::new(),
    };
    let mut current = Current::None;
    let mut retry: Option<u64> = None;
    let mut lost_at = Instant::now();
    let mut finished: Option<&str> = None;
    let mut previous_at = 0;
    'steps: for (i, step) in scenario.steps.iter().enumerate() {
        let reconnection = matches!(step.input, Input::Timeout)
            && step.expect.iter().any(|o| matches!(o, Output::Request(_)));
        if !reconnection {
            let pause = Duration::from_millis(step.at.saturating_sub(previous_at));
            sleep(pause.min(MAX_PAUSE)).await;
        }
        previous_at = step.at;
        match &step.input {
            Input::Response { status, headers } => {
                if let Current::Awaiting(respond) = std::mem::replace(&mut current, Current::None) {
                    let mut response = hyper::Response::builder().status(*status);
                    for (name, value) in headers {
                        let value = if name.eq_ignore_ascii_case("location") {
                            local.url(value)
                        } else {
                            value.clone()
                        };
                        response = response.header(name, value);
                    }
                    let (frames, body) = mpsc::unbounded_channel();
                    match response.body(ScriptBody(body)) {
                        Ok(response) => {
                            let _ = respond.send(Some(response));
                            current = Current::Responding(frames);
                        }
                        Err(e) => case.failures.push(format!("the script's response: {e}")),
                    }
                }
            }
            Input::Body(chunks) => {
                if let Current::Responding(frames) = &current {
                    for chunk in chunks {
                        let _ = frames.send(Ok(Frame::data(Bytes::copy_from_slice(chunk))));
                    }
                }
            }
            Input::End | Input::Error => {
                match std::mem::replace(&mut current, Current::None) {
                    // No response yet: the connection closes without one.
                    Current::Awaiting(respond) => {
                        let _ = respond.send(None);
                    }
                    Current::Responding(frames) if step.input == Input::Error => {
                        let _ = frames.send(Err(io::Error::other("dropped by the script")));
                    }
                    // A clean end: the body's last chunk.
                    Current::Responding(_) | Current::None => {}
                }
            }
            Input::Connect | Input::Timeout | Input::Close => {}
        }
        for output in &step.expect {
            match output {
                Output::Request(want) => {
                    // A redirect's response ends with its head.
                    drop(std::mem::replace(&mut current, Current::None));
                    let deadline = if reconnection {
                        lost_at + Duration::from_millis(retry.unwrap_or(0)) + LATE
                    } else {
                        Instant::now() + PROMPT
                    };
                    let Ok(Some(arrival)) = timeout_at(deadline, arrivals.recv()).await else {
                        case.failures.push(format!(
                            "no request came; expected {}",
                            describe(&local, want)
                        ));
                        break 'steps;
                    };
                    let arrival: Arrival = arrival;
                    let waited = arrival.at.saturating_duration_since(lost_at);
                    case.requests.push(if reconnection {
                        format!(
                            "{} ({} ms after the connection was lost)",
                            describe(&local, &arrival.request),
                            waited.as_millis()
                        )
                    } else {
                        describe(&local, &arrival.request)
                    });
                    if let (true, Some(retry)) = (reconnection, retry) {
                        if waited + EARLY_SLACK < Duration::from_millis(retry) {
                            case.failures.push(format!(
                                "reconnected {} ms after the connection was lost; the stream's retry was {retry} ms",
                                waited.as_millis()
                            ));
                        }
                    }
                    case.failures
                        .extend(compare(&local, want, &arrival.request));
                    current = Current::Awaiting(arrival.respond);
                }
                Output::Reconnecting { .. } => lost_at = Instant::now(),
                Output::Failed { .. } => finished = Some("failed"),
                Output::Ended => finished = Some("ended"),
                Output::Item(Outcome::Event {
                    event_type,
                    data,
                    id,
                }) => case.expected.push(Event {
                    event_type: event_type.clone(),
                    data: data.clone(),
                    id: id.clone(),
                }),
                Output::Item(Outcome::Retry(time)) => retry = Some(*time),
                _ => {}
            }
        }
        // A failed response's body ends after what the scenario sends of it, as a
        // server's error page does: a client may read it for the error it reports.
        let body_follows = scenario
            .steps
            .get(i + 1)
            .is_some_and(|next| matches!(next.input, Input::Body(_)));
        if finished.is_some() && !body_follows {
            current = Current::None;
        }
    }
    sleep(SETTLE).await;
    let due = Instant::now() + SLOW_OUTPUT;
    while judge(&client.output()).events.len() < case.expected.len() && Instant::now() < due {
        sleep(Duration::from_millis(20)).await;
    }
    if let Some(how) = finished {
        // The connection is over: nothing may be requested again.
        if let Ok(Some(arrival)) = timeout(AFTER_END, arrivals.recv()).await {
            case.failures.push(format!(
                "requested again after the connection {how}: {}",
                describe(&local, &arrival.request)
            ));
        }
    }
    if finished.is_none() {
        if let Some(how) = client.stopped() {
            case.failures.push(format!(
                "the client stopped ({how}) where the connection stays open or reconnects"
            ));
        }
    }
    let bytes = client.stop().await;
    for server in servers {
        server.abort();
    }
    let run = judge(&bytes);
    if let Some(problem) = run.problem {
        case.failures.push(problem);
    }
    if run.events != case.expected {
        case.failures
            .push("the events printed are not the expected ones".to_string());
    }
    if finished == Some("failed") && run.errors.is_empty() {
        case.failures
            .push("the connection failed, but no {\"error\": ...} line was printed".to_string());
    }
    case.got = run.events;
    Ok(case)
}

/// Accepts connections on `listener`, hands each request to the script.
fn serve(
    listener: TcpListener,
    port: u16,
    cors: bool,
    arrivals: mpsc::UnboundedSender<Arrival>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        // Aborted with this task: the scenario's connections close with it.
        let mut connections = JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            let arrivals = arrivals.clone();
            let service =
                service_fn(move |request| exchange(request, port, cors, arrivals.clone()));
            connections.spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    })
}

/// One request: recorded, then answered (or dropped) as the script says.
async fn exchange(
    request: hyper::Request<Incoming>,
    port: u16,
    cors: bool,
    arrivals: mpsc::UnboundedSender<Arrival>,
) -> Result<hyper::Response<ScriptBody>, io::Error> {
    let at = Instant::now();
    if request.uri().path() == browser::CASE_PATH {
        let (frames, body) = mpsc::unbounded_channel();
        let _ = frames.send(Ok(Frame::data(Bytes::from_static(
            browser::CASE_PAGE.as_bytes(),
        ))));
        return hyper::Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .header("cache-control", "no-store")
            .body(ScriptBody(body))
            .map_err(io::Error::other);
    }
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let headers = request.headers().iter().map(|(name, value)| {
        (
            name.as_str().to_string(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        )
    });
    let seen = SentRequest::new(
        request.method().as_str(),
        format!("http://127.0.0.1:{port}{target}"),
        headers,
        None,
    );
    let (respond, response) = oneshot::channel();
    arrivals
        .send(Arrival {
            request: seen,
            at,
            respond,
        })
        .map_err(|_| io::Error::other("the scenario is over"))?;
    match response.await {
        Ok(Some(mut response)) => {
            if cors {
                response.headers_mut().insert(
                    "access-control-allow-origin",
                    http::HeaderValue::from_static("*"),
                );
            }
            Ok(response)
        }
        _ => Err(io::Error::other("the script drops the connection")),
    }
}

/// A request, as the report shows it.
fn describe(local: &Local, request: &SentRequest) -> String {
    let mut text = format!("{} {}", request.method, local.url(&request.url));
    if let Some((_, id)) = request.headers.iter().find(|(n, _)| n == "last-event-id") {
        text.push_str(&format!(" [Last-Event-ID: {id}]"));
    }
    text
}

/// How `got` differs from the request the scenario expects.
fn compare(local: &Local, want: &SentRequest, got: &SentRequest) -> Vec<String> {
    let mut problems = Vec::new();
    if got.method != want.method {
        problems.push(format!("method {}, expected {}", got.method, want.method));
    }
    let url = local.url(&want.url);
    if got.url != url {
        problems.push(format!("requested {}, expected {url}", got.url));
    }
    let header = |request: &SentRequest, name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    for (name, value) in &want.headers {
        let actual = header(got, name);
        let ok = match name.as_str() {
            // Any Accept that takes an event stream.
            "accept" => actual
                .as_deref()
                .is_some_and(|a| a.to_ascii_lowercase().contains("text/event-stream")),
            _ => actual.as_deref() == Some(value.as_str()),
        };
        if !ok {
            problems.push(match actual {
                Some(actual) => format!("{name}: {actual:?}, expected {value:?}"),
                None => format!("no {name} header, expected {value:?}"),
            });
        }
    }
    if header(want, "last-event-id").is_none() {
        if let Some(id) = header(got, "last-event-id") {
            problems.push(format!(
                "sent Last-Event-ID: {id:?} where none is due (the last event ID is empty)"
            ));
        }
    }
    problems
}
