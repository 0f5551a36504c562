//! The request a connection asks its driver to send, as a borrowed view: the driver
//! copies it into its HTTP client's request type, so nothing is allocated here (not
//! even for a large `POST` body, which is re-sent on every reconnection).

use alloc::string::String;

/// An HTTP request to send now, from [`Connection::poll_request`](crate::Connection::poll_request).
///
/// Sending it ends whatever transfer the driver had running for this connection:
/// there is at most one at a time. Fragments are never part of [`url`](Request::url).
///
/// ```
/// use sse_proto::{Connection, ConnectionConfig, Time};
///
/// let config = ConnectionConfig::new().last_event_id("41");
/// let mut conn = Connection::new(Time::ZERO, "https://example.com/events#top", config).unwrap();
/// let request = conn.poll_request().unwrap();
/// assert_eq!(request.method(), "GET");
/// assert_eq!(request.url(), "https://example.com/events");
/// let headers: Vec<_> = request.headers().collect();
/// assert_eq!(
///     headers,
///     [
///         ("Accept", "text/event-stream"),
///         ("Cache-Control", "no-cache"),
///         ("Last-Event-ID", "41"),
///     ]
/// );
/// assert_eq!(request.body(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub(super) method: &'a str,
    pub(super) url: &'a str,
    pub(super) last_event_id: Option<&'a str>,
    pub(super) extra: &'a [(String, String)],
    pub(super) body: Option<&'a [u8]>,
    /// A redirect switched the method to `GET`: the `Content-*` request-body headers
    /// go with the body.
    pub(super) drop_body_headers: bool,
    /// A redirect went to another origin: credentials and these (the configured
    /// sensitive headers) are not forwarded.
    pub(super) cross_origin: Option<&'a [String]>,
}

/// The headers that never follow a redirect to another origin: Fetch's CORS
/// non-wildcard request-header name (`Authorization`), and the other credentials a
/// user may have set by hand.
const CREDENTIALS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// Fetch's "request-body-header names", removed with the body on a redirect that
/// switches to `GET`.
const BODY_HEADERS: [&str; 4] = [
    "content-encoding",
    "content-language",
    "content-location",
    "content-type",
];

impl<'a> Request<'a> {
    /// The method (`GET` unless configured otherwise or changed by a redirect).
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let config = ConnectionConfig::new().method("post");
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", config).unwrap();
    /// assert_eq!(conn.poll_request().unwrap().method(), "POST");
    /// ```
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The absolute URL to request: the one the connection was created with, or where
    /// redirects led.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/a", ConnectionConfig::new()).unwrap();
    /// assert_eq!(conn.poll_request().unwrap().url(), "http://example.com/a");
    /// ```
    pub fn url(&self) -> &'a str {
        self.url
    }

    /// Every header to send, in order: `Accept: text/event-stream` and
    /// `Cache-Control: no-cache` (unless the configuration replaces them),
    /// `Last-Event-ID` when the last event ID is not empty, then the configured extra
    /// headers (without those a redirect removed).
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let config = ConnectionConfig::new().header("Accept", "text/event-stream, */*");
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", config).unwrap();
    /// let request = conn.poll_request().unwrap();
    /// let names: Vec<_> = request.headers().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["Cache-Control", "Accept"]);
    /// ```
    pub fn headers(&self) -> Headers<'a> {
        Headers {
            request: *self,
            position: 0,
        }
    }

    /// The first value of the header `name` (compared case-insensitively) among
    /// [`headers`](Request::headers).
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", ConnectionConfig::new()).unwrap();
    /// let request = conn.poll_request().unwrap();
    /// assert_eq!(request.header("accept"), Some("text/event-stream"));
    /// assert_eq!(request.header("last-event-id"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The `Last-Event-ID` value, if one is sent: the last event ID, decoded as
    /// UTF-8 with U+FFFD for invalid bytes, when it is not empty.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let config = ConnectionConfig::new().last_event_id("7");
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", config).unwrap();
    /// assert_eq!(conn.poll_request().unwrap().last_event_id(), Some("7"));
    /// ```
    pub fn last_event_id(&self) -> Option<&'a str> {
        self.last_event_id
    }

    /// The body to send, if any.
    ///
    /// ```
    /// use sse_proto::{Connection, ConnectionConfig, Time};
    ///
    /// let config = ConnectionConfig::new().method("POST").body(b"{}".to_vec());
    /// let mut conn = Connection::new(Time::ZERO, "http://example.com/", config).unwrap();
    /// assert_eq!(conn.poll_request().unwrap().body(), Some(&b"{}"[..]));
    /// ```
    pub fn body(&self) -> Option<&'a [u8]> {
        self.body
    }

    fn overridden(&self, name: &str) -> bool {
        self.extra.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    fn sends_extra(&self, name: &str) -> bool {
        !(name.eq_ignore_ascii_case("last-event-id")
            || self.cross_origin.is_some_and(|sensitive| {
                CREDENTIALS.iter().any(|h| name.eq_ignore_ascii_case(h))
                    || sensitive.iter().any(|h| name.eq_ignore_ascii_case(h))
            })
            || (self.drop_body_headers
                && BODY_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h))))
    }
}

/// The headers of a [`Request`], as `(name, value)` pairs; from
/// [`Request::headers`].
///
/// ```
/// use sse_proto::{Connection, ConnectionConfig, Time};
///
/// let config = ConnectionConfig::new().header("Authorization", "Bearer t");
/// let mut conn = Connection::new(Time::ZERO, "http://example.com/", config).unwrap();
/// let request = conn.poll_request().unwrap();
/// assert_eq!(request.headers().count(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct Headers<'a> {
    request: Request<'a>,
    position: usize,
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let request = self.request;
        loop {
            let position = self.position;
            self.position += 1;
            match position {
                // The EventSource constructor: "User agents may set (`Accept`,
                // `text/event-stream`) in request's header list."
                0 if !request.overridden("accept") => {
                    return Some(("Accept", "text/event-stream"));
                }
                // The constructor sets the cache mode to "no-store", for which Fetch's
                // HTTP-network-or-cache fetch appends `Cache-Control: no-cache`.
                1 if !request.overridden("cache-control") => {
                    return Some(("Cache-Control", "no-cache"));
                }
                // "Reestablish the connection": "If the EventSource object's last event
                // ID string is not the empty string, ... set (`Last-Event-ID`,
                // lastEventIDValue) in request's header list."
                2 => {
                    if let Some(id) = request.last_event_id {
                        return Some(("Last-Event-ID", id));
                    }
                }
                0..=2 => {}
                n => {
                    let (name, value) = request.extra.get(n - 3)?;
                    if request.sends_extra(name) {
                        return Some((name, value));
                    }
                }
            }
        }
    }
}
