//! The driver: `fetch`, the body's `ReadableStream` and timers around sse-proto's
//! `Connection`, which makes every protocol decision.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_channel::mpsc;
use futures_core::Stream;
use futures_util::SinkExt;
use futures_util::future::{Either, LocalBoxFuture, select};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Reflect, Uint8Array};
use sse_proto::{
    Bytes, Connection, ConnectionConfig, ConnectionEvent, Item, OwnedEvent, ReadyState,
    RequestError, Sharer, Time,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    AbortController, Headers, ReadableStreamDefaultReader, RequestCache, RequestCredentials,
    RequestInit, Response, Window,
};

/// What an [`EventSource`] hands out, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Update {
    /// What the connection did: opened, was lost and will reconnect, ended or
    /// failed. [`ConnectionEvent::Ended`] and [`ConnectionEvent::Failed`] are the
    /// last update.
    Connection(ConnectionEvent),
    /// A message.
    Message(OwnedEvent),
}

/// Why an [`EventSource`] could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenError {
    /// The URL or the configuration was refused.
    Request(RequestError),
    /// Not in a browser window: no `window`, `performance` or `AbortController`.
    NoWindow,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Request(e) => write!(f, "request refused: {e}"),
            OpenError::NoWindow => f.write_str("not in a browser window"),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpenError::Request(e) => Some(e),
            OpenError::NoWindow => None,
        }
    }
}

/// How many updates wait for the reader before the body is read no further: a
/// reader that does not keep up slows the stream down instead of filling memory.
const QUEUE: usize = 64;

/// What [`Builder::before_request`] calls.
type Hook = Rc<dyn Fn(Headers) -> LocalBoxFuture<'static, Result<(), JsValue>>>;

/// Sets up an [`EventSource`] ([`EventSource::builder`]).
#[must_use = "a builder does nothing until connect()"]
pub struct Builder {
    url: String,
    config: ConnectionConfig,
    with_credentials: bool,
    hook: Option<Hook>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("url", &self.url)
            .field("config", &self.config)
            .field("with_credentials", &self.with_credentials)
            .field("before_request", &self.hook.is_some())
            .finish()
    }
}

impl Builder {
    /// The connection's configuration: method, headers, body, the first
    /// `Last-Event-ID`, the reconnect policy and timeouts (default:
    /// `ConnectionConfig::new()`, a `GET`).
    pub fn config(mut self, config: ConnectionConfig) -> Self {
        self.config = config;
        self
    }

    /// Sends credentials (cookies, HTTP authentication) to other origins too, as
    /// the browser's `EventSource` does with `withCredentials: true` (the server
    /// must allow it with `Access-Control-Allow-Credentials`). Off by default:
    /// credentials go to the page's own origin only.
    pub fn with_credentials(mut self, on: bool) -> Self {
        self.with_credentials = on;
        self
    }

    /// Calls `hook` with each request's headers before the request is sent (the
    /// first, and every reconnection): it may set one, a fresh bearer token say,
    /// and may wait to do so (within the connection's timeout for a response). An
    /// error from it fails that attempt as a network error would: the source
    /// reconnects, as its policy says, and calls it again.
    pub fn before_request<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Headers) -> Fut + 'static,
        Fut: Future<Output = Result<(), JsValue>> + 'static,
    {
        self.hook = Some(Rc::new(move |headers| Box::pin(hook(headers))));
        self
    }

    /// Starts the source: its task makes the first request at once.
    pub fn connect(self) -> Result<EventSource, OpenError> {
        let Builder {
            url,
            config,
            with_credentials,
            hook,
        } = self;
        let window = web_sys::window().ok_or(OpenError::NoWindow)?;
        let clock = Clock::of(&window).ok_or(OpenError::NoWindow)?;
        let url = resolve(&window, &url);
        let conn = Connection::new(clock.now(), &url, config).map_err(OpenError::Request)?;
        let shared = Rc::new(Shared {
            closed: Cell::new(false),
            abort: RefCell::new(None),
            driver: RefCell::new(None),
            ready_state: Cell::new(conn.ready_state()),
            last_event_id: RefCell::new(conn.last_event_id().to_string()),
            url: url.clone(),
            with_credentials,
        });
        let (updates_in, updates) = mpsc::channel(QUEUE);
        let driver = Driver {
            conn,
            updates: updates_in,
            shared: Rc::clone(&shared),
            window,
            clock,
            sharer: Sharer::new(),
            hook,
        };
        RUNNING.with(|running| running.set(running.get() + 1));
        spawn_local(driver.run());
        Ok(EventSource { updates, shared })
    }
}

/// A Server-Sent Events client in the browser: a [`Stream`] of [`Update`]s.
///
/// The requests are `fetch`es (with `cache: "no-store"`, as the browser's own
/// `EventSource` makes them), run by a task on the page's event loop; the
/// connection's rules decide when to reconnect, with which `Last-Event-ID`, and
/// when to give up. The stream ends after the last update, or at once after
/// [`close`](EventSource::close), which aborts the request in flight; dropping the
/// source closes it.
#[derive(Debug)]
pub struct EventSource {
    updates: mpsc::Receiver<Update>,
    shared: Rc<Shared>,
}

/// What the source and its driver share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// `close()` was called: the stream ends at once.
    closed: Cell<bool>,
    /// The request in flight.
    abort: RefCell<Option<AbortController>>,
    /// The driver, waiting for `closed` (whatever else it waits for).
    driver: RefCell<Option<Waker>>,
    ready_state: Cell<ReadyState>,
    last_event_id: RefCell<String>,
    /// The URL as resolved against the page's.
    url: String,
    with_credentials: bool,
}

impl Shared {
    /// Closes the source: the driver stops at once (even while it waits to
    /// reconnect), the request in flight is aborted.
    pub(crate) fn close(&self) {
        self.closed.set(true);
        self.ready_state.set(ReadyState::Closed);
        if let Some(controller) = self.abort.borrow_mut().take() {
            controller.abort();
        }
        if let Some(driver) = self.driver.borrow_mut().take() {
            driver.wake();
        }
    }

    pub(crate) fn ready_state(&self) -> ReadyState {
        self.ready_state.get()
    }

    pub(crate) fn last_event_id(&self) -> String {
        self.last_event_id.borrow().clone()
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn with_credentials(&self) -> bool {
        self.with_credentials
    }
}

impl EventSource {
    /// Starts a source for `url` (relative URLs are resolved against the page's),
    /// requesting as `config` says: method, headers, body, the first
    /// `Last-Event-ID`, the reconnect policy and timeouts. The same as
    /// `EventSource::builder(url).config(config).connect()`.
    pub fn new(url: &str, config: ConnectionConfig) -> Result<EventSource, OpenError> {
        Self::builder(url).config(config).connect()
    }

    /// A source for `url`, set up step by step: the configuration, and what only a
    /// browser has (credentials, a hook before each request).
    ///
    /// ```ignore
    /// let source = EventSource::builder("https://api.example/feed")
    ///     .with_credentials(true)
    ///     .before_request(|headers| async move {
    ///         headers.set("authorization", &format!("Bearer {}", fresh_token().await?))
    ///     })
    ///     .connect()?;
    /// ```
    pub fn builder(url: &str) -> Builder {
        Builder {
            url: url.to_string(),
            config: ConnectionConfig::new(),
            with_credentials: false,
            hook: None,
        }
    }

    /// How many sources' tasks run on this thread: each holds its connection and
    /// its queue until it ends, fails, is closed or dropped, so this falls back as
    /// the page closes its sources (a check for leaks).
    pub fn running() -> usize {
        RUNNING.with(Cell::get)
    }

    /// Closes the source, as the browser's `EventSource.close()` does: no more
    /// requests, the one in flight aborted, the stream ended.
    pub fn close(&self) {
        self.shared.close();
    }

    /// `CONNECTING`, `OPEN` or `CLOSED`.
    pub fn ready_state(&self) -> ReadyState {
        self.shared.ready_state()
    }

    /// The last event ID: what the next request sends as `Last-Event-ID`.
    pub fn last_event_id(&self) -> String {
        self.shared.last_event_id()
    }

    /// The URL, as resolved against the page's (redirects aside).
    pub fn url(&self) -> &str {
        self.shared.url()
    }

    /// Whether credentials go to other origins too ([`Builder::with_credentials`]).
    pub fn with_credentials(&self) -> bool {
        self.shared.with_credentials()
    }

    pub(crate) fn shared(&self) -> Rc<Shared> {
        Rc::clone(&self.shared)
    }
}

impl Stream for EventSource {
    type Item = Update;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Update>> {
        if self.shared.closed.get() {
            return Poll::Ready(None);
        }
        Pin::new(&mut self.updates).poll_next(cx)
    }
}

impl Drop for EventSource {
    fn drop(&mut self) {
        self.shared.close();
    }
}

/// `url` resolved against the page's URL.
fn resolve(window: &Window, url: &str) -> String {
    let base = window.location().href().unwrap_or_default();
    web_sys::Url::new_with_base(url, &base).map_or_else(|_| url.to_string(), |u| u.href())
}

/// The page's monotonic clock (`performance.now()`), in whole milliseconds.
#[derive(Debug)]
struct Clock(web_sys::Performance);

impl Clock {
    fn of(window: &Window) -> Option<Clock> {
        window.performance().map(Clock)
    }

    fn now(&self) -> Time {
        Time::from_millis(self.0.now() as u64)
    }
}

thread_local! {
    /// The drivers alive on this thread.
    static RUNNING: Cell<usize> = const { Cell::new(0) };
}

/// The task that runs the connection.
struct Driver {
    conn: Connection,
    updates: mpsc::Sender<Update>,
    shared: Rc<Shared>,
    window: Window,
    clock: Clock,
    sharer: Sharer,
    hook: Option<Hook>,
}

/// How a wait ended.
enum Waited<T> {
    Done(T),
    /// The connection's next deadline came first.
    Deadline,
}

/// Why the driver stops.
struct Stop;

impl Drop for Driver {
    fn drop(&mut self) {
        RUNNING.with(|running| running.set(running.get() - 1));
    }
}

/// Ready once the source is closed.
struct Closed(Rc<Shared>);

impl Future for Closed {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.closed.get() {
            return Poll::Ready(());
        }
        self.0.driver.replace(Some(cx.waker().clone()));
        Poll::Pending
    }
}

impl Driver {
    async fn run(mut self) {
        let closed = Closed(Rc::clone(&self.shared));
        // Whatever the connection waits for (a response, a read, the reconnection
        // time, room in the queue), `close()` ends the wait.
        let _ = select(pin!(self.connect()), closed).await;
        // The stream ends once the reader has taken what is queued.
        self.shared.ready_state.set(ReadyState::Closed);
        if let Some(controller) = self.shared.abort.borrow_mut().take() {
            controller.abort();
        }
    }

    /// Requests, reads and waits, as the connection says, until it ends, fails or
    /// is closed.
    async fn connect(&mut self) -> Result<(), Stop> {
        loop {
            self.tell().await?;
            let Some(request) = self.conn.poll_request() else {
                // Waiting to reconnect.
                let Some(at) = self.conn.poll_timeout() else {
                    return Err(Stop);
                };
                sleep(at, &self.clock).await;
                self.conn.handle_timeout(self.clock.now());
                continue;
            };
            let url = request.url().to_string();
            let (init, request_headers, controller) =
                match request_init(&request, self.shared.with_credentials()) {
                    Ok(init) => init,
                    Err(_) => {
                        self.conn.handle_error(self.clock.now());
                        continue;
                    }
                };
            let hook = self.hook.as_ref().map(|hook| hook(request_headers));
            if let Some(ready) = hook {
                match self.wait(ready).await {
                    Waited::Done(Ok(())) => {}
                    // As a network error: the connection reconnects, or gives up.
                    Waited::Done(Err(_)) => {
                        self.conn.handle_error(self.clock.now());
                        continue;
                    }
                    Waited::Deadline => {
                        self.conn.handle_timeout(self.clock.now());
                        continue;
                    }
                }
                self.check_closed()?;
            }
            self.shared.abort.replace(Some(controller.clone()));
            let fetch = JsFuture::from(self.window.fetch_with_str_and_init(&url, &init));
            let response = match self.wait(fetch).await {
                Waited::Done(Ok(response)) => response.unchecked_into::<Response>(),
                Waited::Done(Err(_)) => {
                    self.conn.handle_error(self.clock.now());
                    continue;
                }
                Waited::Deadline => {
                    controller.abort();
                    self.conn.handle_timeout(self.clock.now());
                    continue;
                }
            };
            self.check_closed()?;
            self.conn
                .handle_response(self.clock.now(), response.status(), headers(&response));
            if self.conn.ready_state() != ReadyState::Open {
                controller.abort();
                continue;
            }
            match response.body() {
                Some(body) => self.read(body.get_reader().unchecked_into()).await?,
                None => self.conn.handle_end(self.clock.now()),
            }
            controller.abort();
        }
    }

    /// Reads the body of the open response until it ends, fails or the connection
    /// gives up on it.
    async fn read(&mut self, reader: ReadableStreamDefaultReader) -> Result<(), Stop> {
        let mut read = JsFuture::from(reader.read());
        loop {
            self.tell().await?;
            match self.wait(&mut read).await {
                Waited::Deadline => {
                    // A read still pending is kept: no bytes are lost if the
                    // connection carries on.
                    self.conn.handle_timeout(self.clock.now());
                    if self.conn.ready_state() != ReadyState::Open {
                        return Ok(());
                    }
                }
                Waited::Done(Err(_)) => {
                    self.check_closed()?;
                    self.conn.handle_error(self.clock.now());
                    return Ok(());
                }
                Waited::Done(Ok(result)) => {
                    self.check_closed()?;
                    let done =
                        Reflect::get(&result, &"done".into()).map_or(true, |done| done.is_truthy());
                    if done {
                        self.conn.handle_end(self.clock.now());
                        return Ok(());
                    }
                    let value = Reflect::get(&result, &"value".into()).unwrap_or_default();
                    let chunk = Bytes::from(Uint8Array::new(&value).to_vec());
                    self.feed(&chunk).await?;
                    read = JsFuture::from(reader.read());
                }
            }
        }
    }

    /// Parses `chunk`, handing out its messages.
    async fn feed(&mut self, chunk: &Bytes) -> Result<(), Stop> {
        let mut pos = 0;
        while pos < chunk.len() {
            let mut input = &chunk[pos..];
            let item = self.conn.handle_body(self.clock.now(), &mut input);
            let read = pos..chunk.len() - input.len();
            pos = read.end;
            let message = match item {
                Ok(Some(Item::Event(event))) => self.sharer.share_event_in(chunk, read, event),
                // Other items, and an event over the parser's limit, which it
                // skipped.
                Ok(Some(_)) | Err(_) => continue,
                Ok(None) => break,
            };
            self.send(Update::Message(message)).await?;
        }
        Ok(())
    }

    /// Hands out what the connection has to say; stops after its last word.
    async fn tell(&mut self) -> Result<(), Stop> {
        while let Some(event) = self.conn.poll_event() {
            let last = matches!(
                event,
                ConnectionEvent::Ended | ConnectionEvent::Failed { .. }
            );
            self.send(Update::Connection(event)).await?;
            if last {
                return Err(Stop);
            }
        }
        self.check_closed()
    }

    async fn send(&mut self, update: Update) -> Result<(), Stop> {
        self.shared.ready_state.set(self.conn.ready_state());
        let id = self.conn.last_event_id();
        if self.shared.last_event_id.borrow().as_bytes() != id.as_bytes() {
            *self.shared.last_event_id.borrow_mut() = id.to_string_lossy().into_owned();
        }
        self.check_closed()?;
        self.updates.send(update).await.map_err(|_| Stop)
    }

    fn check_closed(&mut self) -> Result<(), Stop> {
        if self.shared.closed.get() {
            self.conn.close();
            return Err(Stop);
        }
        Ok(())
    }

    /// `future`, or the connection's next deadline if it comes first.
    async fn wait<F: Future + Unpin>(&self, future: F) -> Waited<F::Output> {
        let Some(at) = self.conn.poll_timeout() else {
            return Waited::Done(future.await);
        };
        match select(future, sleep(at, &self.clock)).await {
            Either::Left((output, _)) => Waited::Done(output),
            Either::Right(_) => Waited::Deadline,
        }
    }
}

/// A timer that fires at `at` (at once if that has passed).
fn sleep(at: Time, clock: &Clock) -> TimeoutFuture {
    let ms = at.saturating_duration_since(clock.now()).as_millis();
    // A deadline past the timer's range fires early, and is set again.
    TimeoutFuture::new(u32::try_from(ms).unwrap_or(u32::MAX).saturating_add(1))
}

/// The `fetch` options for `request`, its headers (in them, and still to be
/// changed by a hook), and the controller that aborts it.
fn request_init(
    request: &sse_proto::Request<'_>,
    with_credentials: bool,
) -> Result<(RequestInit, Headers, AbortController), JsValue> {
    let init = RequestInit::new();
    init.set_method(request.method());
    let headers = Headers::new()?;
    for (name, value) in request.headers() {
        // `cache: "no-store"` below makes the browser send this itself, as its
        // `EventSource` does: set here, it is a header that CORS does not
        // safelist, and every request to another origin would need a preflight.
        if name.eq_ignore_ascii_case("cache-control") && value == "no-cache" {
            continue;
        }
        headers.append(name, value)?;
    }
    if with_credentials {
        init.set_credentials(RequestCredentials::Include);
    }
    init.set_headers(&headers);
    if let Some(body) = request.body() {
        init.set_body(&Uint8Array::from(body));
    }
    init.set_cache(RequestCache::NoStore);
    let controller = AbortController::new()?;
    init.set_signal(Some(&controller.signal()));
    Ok((init, headers, controller))
}

/// The response's headers, as name and value pairs.
fn headers(response: &Response) -> Vec<(String, String)> {
    let Ok(Some(entries)) = js_sys::try_iter(&response.headers()) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let entry: js_sys::Array = entry.dyn_into().ok()?;
            Some((entry.get(0).as_string()?, entry.get(1).as_string()?))
        })
        .collect()
}
