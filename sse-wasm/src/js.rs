//! The JavaScript face: `SseEventSource`, shaped like the browser's `EventSource`.

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::StreamExt;
use js_sys::{Function, Object, Promise, Reflect};
use sse_proto::{ConnectionConfig, ConnectionEvent, ReadyState, ReconnectPolicy};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::Headers;

use crate::client::{Builder, EventSource, Shared, Update};

/// The handlers a page has set.
#[derive(Default)]
struct Handlers {
    message: Option<Function>,
    open: Option<Function>,
    error: Option<Function>,
    /// `addEventListener`'s, by event type, in the order they were added.
    listeners: Vec<(String, Function)>,
}

impl Handlers {
    /// What to call for an event of `kind`: its `on...` handler, then its listeners.
    fn for_kind(&self, kind: &str) -> Vec<Function> {
        let handler = match kind {
            "message" => &self.message,
            "open" => &self.open,
            "error" => &self.error,
            _ => &None,
        };
        let listeners = self.listeners.iter().filter(|(k, _)| k == kind);
        handler
            .iter()
            .chain(listeners.map(|(_, listener)| listener))
            .cloned()
            .collect()
    }
}

/// An event source for JavaScript: `new SseEventSource(url, options)`, with
/// `onmessage`, `onopen`, `onerror`, `addEventListener`, `removeEventListener`,
/// `readyState`, `url`, `withCredentials`, `lastEventId` and `close()` as the
/// browser's `EventSource` has them: `onmessage` gets events of the type `message`
/// (no `event:` field), and an event with another type goes to the listeners added
/// for that type. `options` may give `method`, `headers` (an object of names and
/// values), `body` (a string), `lastEventId` and `reconnect`
/// (`"always"`, `"on-error"` or `"never"`; by default a `GET` is always reopened
/// and a `POST` only after an error), and `beforeRequest`: a function called with
/// each request's `Headers` before it is sent (the first, and every reconnection),
/// which may set one (a fresh token) and may return a promise; if it throws or the
/// promise rejects, that attempt fails as a network error would. `withCredentials`
/// is the browser `EventSource`'s: `true` sends cookies to other origins too.
///
/// `SseEventSource.running()` counts the sources still running on the page.
///
/// A message is `{ type, data, lastEventId }`; `onerror` (and the `error`
/// listeners) get `{ type: "error", error, readyState }` when the connection is
/// lost (and will be reopened: `readyState` 0) or ends (2); `onopen` gets
/// `{ type: "open" }`.
#[wasm_bindgen]
pub struct SseEventSource {
    shared: Rc<Shared>,
    handlers: Rc<RefCell<Handlers>>,
}

#[wasm_bindgen]
impl SseEventSource {
    /// Opens `url` as `options` say.
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, options: JsValue) -> Result<SseEventSource, JsError> {
        let mut source = builder(url, &options)?
            .connect()
            .map_err(|e| JsError::new(&e.to_string()))?;
        let handlers = Rc::new(RefCell::new(Handlers::default()));
        let shared = source.shared();
        let handed = Rc::clone(&handlers);
        spawn_local(async move {
            while let Some(update) = source.next().await {
                dispatch(&handed, update);
            }
        });
        Ok(SseEventSource { shared, handlers })
    }

    /// The message handler.
    #[wasm_bindgen(setter)]
    pub fn set_onmessage(&self, handler: Option<Function>) {
        self.handlers.borrow_mut().message = handler;
    }

    /// The handler called when the connection opens.
    #[wasm_bindgen(setter)]
    pub fn set_onopen(&self, handler: Option<Function>) {
        self.handlers.borrow_mut().open = handler;
    }

    /// The handler called when the connection is lost or ends.
    #[wasm_bindgen(setter)]
    pub fn set_onerror(&self, handler: Option<Function>) {
        self.handlers.borrow_mut().error = handler;
    }

    /// Calls `listener` for each event of type `kind` (`"message"`, a type the
    /// server names with `event:`, `"open"` or `"error"`). A listener added twice
    /// for one type is called once.
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(&self, kind: String, listener: Function) {
        let mut handlers = self.handlers.borrow_mut();
        let known = handlers
            .listeners
            .iter()
            .any(|(k, l)| *k == kind && *l == listener);
        if !known {
            handlers.listeners.push((kind, listener));
        }
    }

    /// Stops calling `listener` for events of type `kind`.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(&self, kind: String, listener: Function) {
        let mut handlers = self.handlers.borrow_mut();
        handlers
            .listeners
            .retain(|(k, l)| !(*k == kind && *l == listener));
    }

    /// 0 (`CONNECTING`), 1 (`OPEN`) or 2 (`CLOSED`).
    #[wasm_bindgen(getter, js_name = readyState)]
    pub fn ready_state(&self) -> u16 {
        ready_state(self.shared.ready_state())
    }

    /// The URL, as resolved against the page's.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.shared.url().to_string()
    }

    /// Whether credentials go to other origins too.
    #[wasm_bindgen(getter, js_name = withCredentials)]
    pub fn with_credentials(&self) -> bool {
        self.shared.with_credentials()
    }

    /// The last event ID.
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> String {
        self.shared.last_event_id()
    }

    /// Closes the source: no more requests, the one in flight aborted, its task
    /// ended at once (even while it waits to reconnect).
    pub fn close(&self) {
        self.shared.close();
    }

    /// How many sources still run on this page (`SseEventSource.running()`): a
    /// source runs until it ends, fails or is closed, so a page that has closed
    /// its sources sees 0 (a check for leaks).
    pub fn running() -> u32 {
        u32::try_from(EventSource::running()).unwrap_or(u32::MAX)
    }
}

fn ready_state(state: ReadyState) -> u16 {
    match state {
        ReadyState::Connecting => 0,
        ReadyState::Open => 1,
        ReadyState::Closed => 2,
    }
}

/// Calls the page's handlers for `update`. They are taken out first, so that one
/// may set handlers, add or remove listeners, or close the source.
fn dispatch(handlers: &RefCell<Handlers>, update: Update) {
    let object = Object::new();
    let kind = match update {
        Update::Message(event) => {
            set(&object, "data", event.data());
            set(&object, "lastEventId", event.last_event_id());
            event.event_type().to_string()
        }
        Update::Connection(ConnectionEvent::Open) => "open".to_string(),
        Update::Connection(event) => {
            let error = match event {
                ConnectionEvent::Reconnecting { error, .. }
                | ConnectionEvent::Failed { error, .. } => error.to_string(),
                _ => "ended".to_string(),
            };
            set(&object, "error", &error);
            let state = match event {
                ConnectionEvent::Reconnecting { .. } => ReadyState::Connecting,
                _ => ReadyState::Closed,
            };
            let _ = Reflect::set(&object, &"readyState".into(), &ready_state(state).into());
            "error".to_string()
        }
    };
    set(&object, "type", &kind);
    let called = handlers.borrow().for_kind(&kind);
    for handler in called {
        let _ = handler.call1(&JsValue::NULL, &object);
    }
}

fn set(object: &Object, name: &str, value: &str) {
    let _ = Reflect::set(object, &name.into(), &value.into());
}

/// The source the constructor's `options` describe.
fn builder(url: &str, options: &JsValue) -> Result<Builder, JsError> {
    let mut builder = EventSource::builder(url).config(config(options)?);
    if !options.is_object() {
        return Ok(builder);
    }
    let get = |name: &str| Reflect::get(options, &name.into()).unwrap_or_default();
    builder = builder.with_credentials(get("withCredentials").is_truthy());
    if let Ok(function) = get("beforeRequest").dyn_into::<Function>() {
        builder = builder.before_request(move |headers| before_request(&function, headers));
    }
    Ok(builder)
}

/// Calls the page's `beforeRequest` with a request's headers; done when what it
/// returns is (a promise is waited for, anything else is done at once).
fn before_request(
    function: &Function,
    headers: Headers,
) -> impl Future<Output = Result<(), JsValue>> + use<> {
    let returned = function.call1(&JsValue::NULL, &headers);
    async move {
        if let Ok(promise) = returned?.dyn_into::<Promise>() {
            JsFuture::from(promise).await?;
        }
        Ok(())
    }
}

/// The connection's configuration from the constructor's `options`.
fn config(options: &JsValue) -> Result<ConnectionConfig, JsError> {
    let mut config = ConnectionConfig::new();
    if options.is_undefined() || options.is_null() {
        return Ok(config);
    }
    let get = |name: &str| {
        Reflect::get(options, &name.into())
            .ok()
            .filter(|v| !v.is_undefined())
    };
    if let Some(method) = get("method").and_then(|v| v.as_string()) {
        config = config.method(method);
    }
    if let Some(body) = get("body").and_then(|v| v.as_string()) {
        config = config.body(body);
    }
    if let Some(id) = get("lastEventId").and_then(|v| v.as_string()) {
        config = config.last_event_id(id);
    }
    if let Some(headers) = get("headers") {
        for entry in Object::entries(&headers.into()).iter() {
            let entry: js_sys::Array = entry.into();
            if let (Some(name), Some(value)) = (entry.get(0).as_string(), entry.get(1).as_string())
            {
                config = config.header(name, value);
            }
        }
    }
    if let Some(reconnect) = get("reconnect").and_then(|v| v.as_string()) {
        config = config.reconnect(match reconnect.as_str() {
            "always" => ReconnectPolicy::Always,
            "on-error" => ReconnectPolicy::OnError,
            "never" => ReconnectPolicy::Never,
            other => return Err(JsError::new(&format!("unknown reconnect policy {other:?}"))),
        });
    }
    Ok(config)
}
