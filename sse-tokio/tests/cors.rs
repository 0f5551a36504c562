//! `examples/cors.rs`: tower-http's CORS layer in front of an event stream answers
//! the preflight of the origin it names, and puts that origin on the stream.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "../examples/cors.rs"]
mod cors;

/// Sends `request` to `addr` and returns the response head, lower-cased.
async fn head(addr: std::net::SocketAddr, request: String) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("a response within 10 s")
            .unwrap();
        assert_ne!(n, 0, "closed before the head");
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).to_ascii_lowercase()
}

#[tokio::test]
async fn the_named_origin_may_read_the_stream_with_credentials() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server =
        tokio::spawn(
            async move { axum::serve(listener, cors::app("http://localhost:3000")).await },
        );
    let preflight = head(
        addr,
        format!(
            "OPTIONS /events HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://localhost:3000\r\n\
             Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: last-event-id\r\n\
             Access-Control-Request-Private-Network: true\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(preflight.starts_with("http/1.1 200"), "{preflight}");
    for line in [
        "access-control-allow-origin: http://localhost:3000",
        "access-control-allow-credentials: true",
        "access-control-allow-private-network: true",
    ] {
        assert!(preflight.contains(line), "{line}: {preflight}");
    }
    assert!(preflight.contains("last-event-id"), "{preflight}");
    let stream = head(
        addr,
        format!(
            "GET /events HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://localhost:3000\r\n\
             Connection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(
        stream.contains("content-type: text/event-stream"),
        "{stream}"
    );
    assert!(
        stream.contains("access-control-allow-origin: http://localhost:3000"),
        "{stream}"
    );
    let other = head(
        addr,
        format!(
            "GET /events HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://evil.example\r\n\
             Connection: close\r\n\r\n"
        ),
    )
    .await;
    // The layer names its one origin whoever asks; the browser then refuses the
    // stream to any other page.
    assert!(
        !other.contains("access-control-allow-origin: http://evil.example"),
        "{other}"
    );
    server.abort();
}
