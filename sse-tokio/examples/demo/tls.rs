//! HTTPS for the demo: rustls, HTTP/2 and HTTP/1.1 by ALPN.
#![allow(dead_code)]

use std::sync::Arc;

use base64::Engine as _;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Settings from PEM files.
pub fn from_files(cert: &str, key: &str) -> Arc<rustls::ServerConfig> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .unwrap_or_else(|e| panic!("{cert}: {e}"));
    let key = PrivateKeyDer::from_pem_file(key).unwrap_or_else(|e| panic!("{key}: {e}"));
    config(chain, key)
}

/// Settings with a certificate made now for `addr`, its SPKI hash, and the
/// certificate (PEM) for clients to trust.
pub fn self_signed(addr: std::net::SocketAddr) -> (Arc<rustls::ServerConfig>, String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec![addr.ip().to_string()])
        .and_then(|params| params.self_signed(&key))
        .unwrap();
    let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
    let hash = ring::digest::digest(&ring::digest::SHA256, &spki);
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (
        config(vec![cert.der().clone()], key),
        base64::engine::general_purpose::STANDARD.encode(hash.as_ref()),
        cert.pem(),
    )
}

fn config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("the certificate and key");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Serves `app` over TLS on `listener`, each connection in HTTP/2 or HTTP/1.1
/// as the client chose.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: axum::Router,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let handshake = std::time::Duration::from_secs(10);
            let Ok(Ok(stream)) = tokio::time::timeout(handshake, acceptor.accept(tcp)).await else {
                return;
            };
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(app))
                .await;
        });
    }
}
