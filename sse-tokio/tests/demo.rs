//! The demo's per-user streams over loopback HTTP: each user's stream is a topic of
//! the demo's hub, and a client that lost its connection resumes with
//! `Last-Event-ID` and is sent what it missed, and only its own.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[path = "../examples/demo.rs"]
#[allow(dead_code)]
mod demo;

/// Sends a request; returns the socket after the response head, and the status.
fn request(addr: SocketAddr, head: &str, body: &str) -> (BufReader<TcpStream>, u16) {
    let mut socket = TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        socket,
        "{head}Host: {addr}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reader = BufReader::new(socket);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            return (reader, status);
        }
    }
}

fn send(addr: SocketAddr, user: &str, text: &str) {
    let (mut reader, status) = request(
        addr,
        &format!("POST /send/{user} HTTP/1.1\r\nConnection: close\r\n"),
        text,
    );
    assert_eq!(status, 202);
    let mut rest = String::new();
    let _ = reader.read_to_string(&mut rest);
}

/// The next event's ID and text (the stream is chunked: chunk sizes are skipped).
fn next_event(stream: &mut BufReader<TcpStream>) -> (String, String) {
    let (mut id, mut text) = (None, None);
    let mut line = String::new();
    loop {
        line.clear();
        assert_ne!(stream.read_line(&mut line).unwrap(), 0, "the stream ended");
        let line = line.trim_end();
        if let Some(value) = line.strip_prefix("id: ") {
            id = Some(value.to_string());
        } else if let Some(value) = line.strip_prefix("data: ") {
            let data: serde_json::Value = serde_json::from_str(value).unwrap();
            text = Some(data["text"].as_str().unwrap().to_string());
        } else if line.is_empty() {
            if let (Some(id), Some(text)) = (id.take(), text.take()) {
                return (id, text);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_stream_resumes_with_what_it_missed_and_only_its_own() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, demo::app()).await });
    tokio::task::spawn_blocking(move || {
        let (mut alice, status) = request(addr, "GET /events/alice HTTP/1.1\r\n", "");
        assert_eq!(status, 200);
        send(addr, "alice", "one");
        let (id, text) = next_event(&mut alice);
        assert_eq!(text, "one");
        drop(alice);
        send(addr, "alice", "two");
        send(addr, "bob", "not for alice");
        send(addr, "alice", "three");
        let head = format!("GET /events/alice HTTP/1.1\r\nLast-Event-ID: {id}\r\n");
        let (mut again, status) = request(addr, &head, "");
        assert_eq!(status, 200);
        assert_eq!(next_event(&mut again).1, "two");
        assert_eq!(next_event(&mut again).1, "three");
        send(addr, "alice", "four");
        assert_eq!(next_event(&mut again).1, "four");
    })
    .await
    .unwrap();
}
