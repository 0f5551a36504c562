//! `https://` with the `rustls` feature: a TLS server on loopback with a certificate
//! made for the test, HTTP/2 chosen by ALPN.
#![cfg(all(feature = "rustls", feature = "server"))]

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sse_proto::Message;
use sse_tokio::{EventSource, SourceEvent};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use common::watchdog;

/// A TLS listener on 127.0.0.1 that presents a self-signed certificate made for the
/// test.
struct TlsServer {
    /// The certificate, for a client's roots.
    cert: CertificateDer<'static>,
    /// Runs the TLS handshake on an accepted connection.
    acceptor: TlsAcceptor,
    /// The bound socket.
    listener: TcpListener,
    /// Its port.
    port: u16,
}

impl TlsServer {
    /// Makes the certificate and binds a port; the server offers the ALPN
    /// protocols `alpn`, in order.
    async fn bind(provider: Arc<CryptoProvider>, alpn: Vec<Vec<u8>>) -> TlsServer {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        config.alpn_protocols = alpn;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        TlsServer {
            cert: cert.der().clone(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
            listener,
            port,
        }
    }
}

#[tokio::test]
async fn events_over_tls_with_http2_by_alpn() {
    let _watchdog = watchdog(Duration::from_secs(60));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let TlsServer {
        cert,
        acceptor,
        listener,
        port,
    } = TlsServer::bind(provider.clone(), vec![b"h2".to_vec(), b"http/1.1".to_vec()]).await;
    let (versions_tx, mut versions) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let tls = acceptor.accept(tcp).await.unwrap();
            let versions_tx = versions_tx.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    versions_tx.send(req.version()).unwrap();
                    let (sender, body) = sse_tokio::channel(4);
                    sender.try_send(Message::new("over TLS").id("1")).unwrap();
                    tokio::spawn(async move { sender.closed().await });
                    async move { Ok::<_, Infallible>(body.response()) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut source = EventSource::builder(format!("https://127.0.0.1:{port}/events"))
        .tls_config(client_config)
        .connect()
        .unwrap();
    assert!(matches!(source.next().await, Some(Ok(SourceEvent::Open))));
    match source.next().await {
        Some(Ok(SourceEvent::Message(event))) => assert_eq!(event.data, "over TLS"),
        other => panic!("{other:?}"),
    }
    assert_eq!(versions.recv().await, Some(http::Version::HTTP_2));
    source.close();
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_network_error() {
    let _watchdog = watchdog(Duration::from_secs(60));
    let TlsServer {
        acceptor,
        listener,
        port,
        ..
    } = TlsServer::bind(
        Arc::new(rustls::crypto::ring::default_provider()),
        Vec::new(),
    )
    .await;
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = acceptor.accept(tcp).await;
        }
    });
    // The default roots (webpki) do not trust the test's certificate.
    let mut source = EventSource::new(&format!("https://127.0.0.1:{port}/")).unwrap();
    match source.next().await {
        Some(Err(error @ sse_tokio::SourceError::Reconnecting { .. })) => {
            assert_eq!(error.reason(), Some(sse_proto::ConnectionError::Network));
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
}
