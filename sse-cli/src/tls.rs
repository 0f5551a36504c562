//! TLS settings: `sse serve`'s (a certificate from PEM files, or one made for the
//! bound address, offered with HTTP/2 and HTTP/1.1 by ALPN), and the clients' with
//! an extra trusted certificate (`--cacert`).

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A server's TLS settings, and what a browser needs to trust a certificate made
/// here.
pub struct Tls {
    /// The rustls settings, ALPN `h2` then `http/1.1`.
    pub config: Arc<ServerConfig>,
    /// For a self-signed certificate: the base64 SHA-256 of its public key (the
    /// SPKI hash that Chromium's `--ignore-certificate-errors-spki-list` takes).
    pub spki_sha256: Option<String>,
    /// For a self-signed certificate: the certificate, PEM (what a client given
    /// `--cacert` trusts).
    pub cert_pem: Option<String>,
}

/// TLS with the certificate chain and key in PEM files.
pub fn from_files(cert: &Path, key: &Path) -> io::Result<Tls> {
    let chain = certificates(cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| io::Error::other(format!("{}: {e}", key.display())))?;
    Ok(Tls {
        config: config(chain, key)?,
        spki_sha256: None,
        cert_pem: None,
    })
}

/// TLS with a certificate made now for `addr`'s IP address and `localhost`,
/// valid for a year, signed by its own key.
pub fn self_signed(addr: SocketAddr) -> io::Result<Tls> {
    let key = rcgen::KeyPair::generate().map_err(io::Error::other)?;
    let names = vec![addr.ip().to_string(), "localhost".to_string()];
    let cert = rcgen::CertificateParams::new(names)
        .and_then(|params| params.self_signed(&key))
        .map_err(io::Error::other)?;
    let spki = ring::digest::digest(
        &ring::digest::SHA256,
        &rcgen::PublicKeyData::subject_public_key_info(&key),
    );
    Ok(Tls {
        config: config(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )?,
        spki_sha256: Some(base64::engine::general_purpose::STANDARD.encode(spki.as_ref())),
        cert_pem: Some(cert.pem()),
    })
}

fn config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> io::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| io::Error::other(format!("the certificate and key: {e}")))?;
    // HTTP/2 first: a browser then opens every stream of an origin on one
    // connection, past HTTP/1.1's six connections per origin.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Client settings that trust the webpki root certificates and those in `file`
/// (PEM): a server's own or its private authority's, as curl's `--cacert`.
pub fn client_trusting(file: &Path) -> io::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in certificates(file)? {
        roots
            .add(cert)
            .map_err(|e| io::Error::other(format!("{}: {e}", file.display())))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The certificates in a PEM file: at least one.
fn certificates(file: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| io::Error::other(format!("{}: {e}", file.display())))?;
    if certs.is_empty() {
        return Err(io::Error::other(format!(
            "{}: no certificate in the file",
            file.display()
        )));
    }
    Ok(certs)
}
