//! The HTTP client an [`EventSource`](crate::EventSource) uses: hyper-util's, on
//! tokio, with rustls for `https://` behind the `rustls` feature.

use bytes::Bytes;
use http_body_util::{BodyDataStream, BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::Connect;
use hyper_util::rt::TokioExecutor;
use sse_io::TransportOptions;
use sse_io::{BodyStream, BoxError, BuildError, DefaultTransport, ResponseFuture, Transport};

use crate::Tokio;

/// A hyper-util `Client` as an [`EventSource`](crate::EventSource)'s transport, for
/// your own connector, proxy, TLS or pool settings:
/// `EventSource::builder(url).connect_with(HyperClient(client))`. `https://` URLs
/// are allowed: the connector is trusted to handle them.
#[derive(Debug, Clone)]
pub struct HyperClient<C>(pub Client<C, Full<Bytes>>);

impl<C> Transport for HyperClient<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    fn send(&self, request: http::Request<Bytes>) -> ResponseFuture {
        let response = self.0.request(request.map(Full::new));
        Box::pin(async move {
            let response = response.await.map_err(|e| Box::new(e) as BoxError)?;
            Ok(response.map(|body| {
                let body = body.map_err(|e| Box::new(e) as BoxError);
                Box::pin(BodyDataStream::new(body)) as BodyStream
            }))
        })
    }
}

/// Over plain `http://` only: the `rustls` feature is off.
#[cfg(not(feature = "rustls"))]
struct PlainHttp(HyperClient<hyper_util::client::legacy::connect::HttpConnector>);

#[cfg(not(feature = "rustls"))]
impl Transport for PlainHttp {
    fn send(&self, request: http::Request<Bytes>) -> ResponseFuture {
        self.0.send(request)
    }

    fn https(&self) -> Result<(), &'static str> {
        Err("the \"rustls\" feature of sse-tokio")
    }
}

impl DefaultTransport for Tokio {
    fn transport(options: &TransportOptions) -> Result<Box<dyn Transport>, BuildError> {
        let mut client = Client::builder(TokioExecutor::new());
        client.http2_only(options.http2_prior_knowledge);
        let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
        http.set_connect_timeout(options.connect_timeout);
        http.set_nodelay(true);
        #[cfg(feature = "rustls")]
        {
            let mut tls = tls_config(options)?;
            // hyper-rustls sets ALPN itself (and panics on a configuration that has
            // it): the user's list, if any, chooses the versions it offers.
            let alpn = std::mem::take(&mut tls.alpn_protocols);
            let offers = |protocol: &[u8]| alpn.is_empty() || alpn.iter().any(|p| p == protocol);
            http.enforce_http(false);
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http();
            let https = match (offers(b"http/1.1"), offers(b"h2")) {
                (true, false) => https.enable_http1().wrap_connector(http),
                (false, true) => https.enable_http2().wrap_connector(http),
                _ => https.enable_http1().enable_http2().wrap_connector(http),
            };
            Ok(Box::new(HyperClient(client.build(https))))
        }
        #[cfg(not(feature = "rustls"))]
        {
            Ok(Box::new(PlainHttp(HyperClient(client.build(http)))))
        }
    }
}

/// The TLS settings `options` give, or the default: rustls on ring, with the webpki
/// root certificates.
#[cfg(feature = "rustls")]
pub(crate) fn tls_config(options: &TransportOptions) -> Result<rustls::ClientConfig, BuildError> {
    use hyper_rustls::ConfigBuilderExt as _;
    match options.tls.clone() {
        Some(config) => Ok(config),
        None => Ok(rustls::ClientConfig::builder_with_provider(
            rustls::crypto::ring::default_provider().into(),
        )
        .with_safe_default_protocol_versions()
        .map_err(|e| BuildError::Tls(e.to_string()))?
        .with_webpki_roots()
        .with_no_client_auth()),
    }
}
