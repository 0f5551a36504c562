//! `https://` through each adapter's HTTP client with its `rustls` feature, on tokio,
//! smol and async-std: a TLS server on loopback with a certificate made for the test,
//! HTTP/2 or HTTP/1.1 chosen by ALPN, and a certificate the client does not trust.

mod common;

use std::sync::Arc;

use common::{Rt, Server, next};
use sse_io::{EventSource, SourceEvent};
use sse_proto::ConnectionError;

/// A TLS server for 127.0.0.1 with a self-signed certificate made for the test,
/// offering the ALPN protocols `alpn`; and a client configuration that trusts it.
fn tls_server(alpn: &[&[u8]]) -> (Server, rustls::ClientConfig) {
    let (mut config, client) = common::self_signed(&["127.0.0.1"]);
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let server = Server::start_tls(tokio_rustls::TlsAcceptor::from(Arc::new(config)));
    (server, client)
}

/// Events over TLS, in the HTTP version the server's ALPN offer leads to.
fn events_over_tls<T: Rt>(alpn: &[&[u8]], version: http::Version) {
    let (server, trusted) = tls_server(alpn);
    events_over_tls_with::<T>(server, trusted, version);
}

fn events_over_tls_with<T: Rt>(
    server: Server,
    trusted: rustls::ClientConfig,
    version: http::Version,
) {
    let port = server.addr.port();
    T::block_on(async {
        let mut source = EventSource::<T::R>::builder(format!("https://127.0.0.1:{port}/events"))
            .tls_config(trusted)
            .connect()
            .unwrap();
        let script = async {
            let mut exchange = server.next().await;
            assert_eq!(exchange.head.version, version);
            let body = exchange.stream();
            body.send(b"id: 1\ndata: over TLS\n\n");
            body
        };
        let client = async {
            assert!(matches!(next(&mut source).await, Ok(SourceEvent::Open(_))));
            match next(&mut source).await {
                Ok(SourceEvent::Message(event)) => assert_eq!(event.data(), "over TLS"),
                other => panic!("{other:?}"),
            }
        };
        let (_body, ()) = futures_util::future::join(script, client).await;
        source.close();
    });
}

fn http2_by_alpn<T: Rt>() {
    events_over_tls::<T>(&[b"h2", b"http/1.1"], http::Version::HTTP_2);
}

fn http1_by_alpn<T: Rt>() {
    events_over_tls::<T>(&[b"http/1.1"], http::Version::HTTP_11);
}

/// A client configuration that names its own ALPN protocols is taken as it is: only
/// HTTP/1.1 offered, HTTP/1.1 spoken, where the server prefers HTTP/2.
fn the_client_configs_alpn_is_honoured<T: Rt>() {
    let (server, mut trusted) = tls_server(&[b"h2", b"http/1.1"]);
    trusted.alpn_protocols = vec![b"http/1.1".to_vec()];
    events_over_tls_with::<T>(server, trusted, http::Version::HTTP_11);
}

fn an_untrusted_certificate_is_a_network_error<T: Rt>() {
    let (server, _cert) = tls_server(&[]);
    let port = server.addr.port();
    T::block_on(async {
        // The default roots (webpki) do not trust the test's certificate.
        let mut source = EventSource::<T::R>::new(&format!("https://127.0.0.1:{port}/")).unwrap();
        match next(&mut source).await {
            Ok(SourceEvent::Reconnecting(error)) => {
                assert_eq!(error.reason, ConnectionError::Network);
                let mut chain = String::new();
                let mut cause = std::error::Error::source(&error);
                while let Some(e) = cause {
                    chain.push_str(&format!("{e}; "));
                    cause = e.source();
                }
                assert!(chain.contains("certificate"), "{chain}");
            }
            other => panic!("{other:?}"),
        }
        source.close();
    });
}

on_every_runtime!(
    http2_by_alpn,
    http1_by_alpn,
    the_client_configs_alpn_is_honoured,
    an_untrusted_certificate_is_a_network_error
);
