//! reqwest as an [`EventSource`](crate::EventSource)'s HTTP client.

use bytes::Bytes;
use http_body_util::{BodyDataStream, BodyExt};
use sse_io::{BodyStream, BoxError, BuildError, ResponseFuture, Transport, TransportOptions};

/// reqwest as the transport of an [`EventSource`](crate::EventSource), for what
/// reqwest brings: proxies from the environment (`HTTPS_PROXY`, `NO_PROXY`, ...), and
/// cookies, native TLS or anything else it is built with in your application.
///
/// ```
/// use sse_tokio::{EventSource, ReqwestClient, TransportOptions};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let transport = ReqwestClient::new(&TransportOptions::default())?;
/// let source = EventSource::builder("https://example.com/events").connect_with(transport)?;
/// # Ok::<(), sse_tokio::BuildError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct ReqwestClient(reqwest::Client);

impl ReqwestClient {
    /// A reqwest client set up as `options` say (the connect timeout, HTTP/2 by
    /// prior knowledge, the TLS settings: by default rustls on ring with the webpki
    /// roots), that leaves redirects to the [`EventSource`](crate::EventSource).
    pub fn new(options: &TransportOptions) -> Result<Self, BuildError> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tls_backend_preconfigured(crate::transport::tls_config(options)?);
        if let Some(timeout) = options.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        if options.http2_prior_knowledge {
            builder = builder.http2_prior_knowledge();
        }
        builder
            .build()
            .map(ReqwestClient)
            .map_err(|e| BuildError::Tls(e.to_string()))
    }

    /// Your own client. It must be built with
    /// `.redirect(reqwest::redirect::Policy::none())`: the
    /// [`EventSource`](crate::EventSource) follows redirects itself, as the spec
    /// says, with its limit and its checks (credentials stay on their origin, no
    /// `https` to `http`), which reqwest's own following would bypass. It should
    /// not decompress bodies (reqwest's `gzip`, `brotli`, ... features): an event
    /// stream is read as it arrives.
    pub fn from_client(client: reqwest::Client) -> Self {
        ReqwestClient(client)
    }
}

impl Transport for ReqwestClient {
    fn send(&self, request: http::Request<Bytes>) -> ResponseFuture {
        let client = self.0.clone();
        Box::pin(async move {
            let request = reqwest::Request::try_from(request.map(reqwest::Body::from))?;
            let response: http::Response<reqwest::Body> = client.execute(request).await?.into();
            Ok(response.map(|body| {
                let body = body.map_err(|e| Box::new(e) as BoxError);
                Box::pin(BodyDataStream::new(body)) as BodyStream
            }))
        })
    }
}
