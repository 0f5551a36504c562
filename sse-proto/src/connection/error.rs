//! Why a connection was lost or refused, and why one could not be created.

use core::fmt;

/// Why a connection is being reestablished or has failed; carried by
/// [`ConnectionEvent`](crate::ConnectionEvent). The spec fires a plain `error` event
/// in all these cases; the reason is for logs and for retry decisions.
///
/// ```
/// use sse_proto::ConnectionError;
///
/// assert_eq!(ConnectionError::Status(204).to_string(), "the server answered with status 204");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The response status was not 200 (and not a redirect that could be followed):
    /// 204 No Content, a server error, or a redirect without a usable `Location`.
    /// Fails the connection unless the [`RetryPolicy`](crate::RetryPolicy) retries
    /// the status.
    Status(u16),
    /// A 200 response whose `Content-Type` is not `text/event-stream`. Fails the
    /// connection.
    ContentType,
    /// More redirects than [`max_redirects`](crate::ConnectionConfig::max_redirects).
    /// Fails the connection (Fetch returns a network error; retrying a redirect loop
    /// is futile, which the spec allows to fail).
    TooManyRedirects,
    /// The response body ended. Reestablishes the connection.
    EndOfStream,
    /// The transport failed (connection refused or reset, TLS error, ...), as the
    /// driver reported with [`handle_error`](crate::Connection::handle_error).
    /// Reestablishes the connection.
    Network,
    /// No bytes arrived within [`idle_timeout`](crate::ConnectionConfig::idle_timeout).
    /// Reestablishes the connection.
    IdleTimeout,
    /// No response head arrived within
    /// [`response_timeout`](crate::ConnectionConfig::response_timeout). Reestablishes
    /// the connection.
    ResponseTimeout,
    /// A redirect from `https` to `http`, which
    /// [`allow_insecure_redirect`](crate::ConnectionConfig::allow_insecure_redirect)
    /// does not allow. Fails the connection.
    InsecureRedirect,
    /// A redirect to another origin that would carry the request body there (a 307
    /// or 308 of a `POST`). Fails the connection.
    BodyToOtherOrigin,
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionError::Status(status) => {
                write!(f, "the server answered with status {status}")
            }
            ConnectionError::ContentType => {
                f.write_str("the response's content type is not text/event-stream")
            }
            ConnectionError::TooManyRedirects => f.write_str("too many redirects"),
            ConnectionError::EndOfStream => f.write_str("the event stream ended"),
            ConnectionError::Network => f.write_str("network error"),
            ConnectionError::IdleTimeout => f.write_str("no data received within the idle timeout"),
            ConnectionError::ResponseTimeout => {
                f.write_str("no response received within the response timeout")
            }
            ConnectionError::InsecureRedirect => {
                f.write_str("refused a redirect from https to http")
            }
            ConnectionError::BodyToOtherOrigin => {
                f.write_str("refused a redirect that would send the request body to another origin")
            }
        }
    }
}

impl core::error::Error for ConnectionError {}

/// Why [`Connection::new`](crate::Connection::new) refused to start. The spec's
/// constructor throws a `SyntaxError` for a URL it cannot parse; the rest guards the
/// request against header injection.
///
/// ```
/// use sse_proto::{RequestError, Connection, ConnectionConfig, Time};
///
/// let err = Connection::new(Time::ZERO, "/relative", ConnectionConfig::new()).unwrap_err();
/// assert_eq!(err, RequestError::InvalidUrl);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestError {
    /// The URL is not an absolute URL with a host.
    InvalidUrl,
    /// The URL's scheme is not `http` or `https`.
    UnsupportedScheme,
    /// The method is not an HTTP token.
    InvalidMethod,
    /// An extra header's name is not a token, or its value has a control character
    /// other than tab, which HTTP cannot carry.
    InvalidHeader,
    /// The initial last event ID has a control character other than tab (HTTP
    /// cannot carry it in `Last-Event-ID`), or is longer than the parser's limit.
    InvalidLastEventId,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestError::InvalidUrl => "not an absolute URL with a host",
            RequestError::UnsupportedScheme => "the URL's scheme is not http or https",
            RequestError::InvalidMethod => "the method is not an HTTP token",
            RequestError::InvalidHeader => {
                "a header name is not a token, or a value has a control character HTTP cannot carry"
            }
            RequestError::InvalidLastEventId => {
                "the last event ID has a control character HTTP cannot carry, or is over the limit"
            }
        })
    }
}

impl core::error::Error for RequestError {}
