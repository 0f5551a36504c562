//! The HTTP side of an event stream: the response headers, the request's
//! `Last-Event-ID`, and the answer to a client that cannot be taken now.

use std::borrow::Cow;

use http::header::{HeaderMap, HeaderName, HeaderValue};

/// Sets the headers of an event-stream response, [`sse_proto::RESPONSE_HEADERS`]
/// (which says why each is there): `Content-Type: text/event-stream`,
/// `Cache-Control: no-cache, no-transform` and `X-Accel-Buffering: no`.
///
/// Compression middleware such as tower-http's skips `text/event-stream` by its
/// content type.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// sse_io::set_headers(&mut headers);
/// assert_eq!(headers["content-type"], "text/event-stream");
/// assert_eq!(headers["cache-control"], "no-cache, no-transform");
/// assert_eq!(headers["x-accel-buffering"], "no");
/// ```
pub fn set_headers(headers: &mut HeaderMap) {
    for (name, value) in sse_proto::RESPONSE_HEADERS {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// The `Last-Event-ID` request header: the ID of the last event a reconnecting
/// client received, so that the handler can resume after it. `None` when the header
/// is absent or empty (a client sends none before its first event with an ID). The
/// value is decoded as UTF-8, with U+FFFD for invalid bytes, as the client encoded
/// it.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// assert_eq!(sse_io::last_event_id(&headers), None);
/// headers.insert("last-event-id", "42".parse().unwrap());
/// assert_eq!(sse_io::last_event_id(&headers).as_deref(), Some("42"));
/// ```
pub fn last_event_id(headers: &HeaderMap) -> Option<Cow<'_, str>> {
    let value = headers.get("last-event-id")?.as_bytes();
    if value.is_empty() {
        return None;
    }
    Some(String::from_utf8_lossy(value))
}

/// The `Last-Event-ID` request header, owned (see [`last_event_id`]); not to be
/// confused with [`sse_proto::LastEventId`], the encoder's block that sets a
/// client's last event ID from the server's side. With the
/// `axum` feature it is an extractor that never rejects.
///
/// ```
/// use sse_io::LastEventIdHeader;
///
/// let request = http::Request::builder().header("Last-Event-ID", "7").body(()).unwrap();
/// assert_eq!(
///     LastEventIdHeader::from_headers(request.headers()),
///     LastEventIdHeader(Some("7".into()))
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LastEventIdHeader(pub Option<String>);

impl LastEventIdHeader {
    /// Reads the header from `headers`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        LastEventIdHeader(last_event_id(headers).map(Cow::into_owned))
    }
}

#[cfg(feature = "axum")]
mod axum_impls {
    use core::convert::Infallible;

    use axum_core::extract::FromRequestParts;
    use axum_core::response::{IntoResponse, Response};
    use http::request::Parts;

    use super::LastEventIdHeader;
    use crate::{Runtime, SseBody};

    impl<S: Send + Sync> FromRequestParts<S> for LastEventIdHeader {
        type Rejection = Infallible;

        async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
            Ok(LastEventIdHeader::from_headers(&parts.headers))
        }
    }

    impl<R: Runtime> IntoResponse for SseBody<R> {
        fn into_response(self) -> Response {
            self.response().map(axum_core::body::Body::new)
        }
    }
}

/// The answer to a client a server cannot take now (one over
/// [`HubBuilder::max_subscribers`](crate::HubBuilder::max_subscribers), say):
/// `503 Service Unavailable` with `Retry-After` in whole seconds (at least 1), and
/// an empty body.
///
/// ```
/// use std::time::Duration;
///
/// let hub = sse_tokio::Hub::builder().max_subscribers(0).build();
/// let response: http::Response<sse_tokio::SseBody> = match hub.subscribe(None) {
///     Ok(body) => body.response(),
///     Err(_) => sse_io::unavailable(Duration::from_secs(5)),
/// };
/// assert_eq!(response.status(), 503);
/// assert_eq!(response.headers()["retry-after"], "5");
/// ```
pub fn unavailable<B: Default>(retry_after: std::time::Duration) -> http::Response<B> {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    let mut response = http::Response::new(B::default());
    *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
    response
        .headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}
