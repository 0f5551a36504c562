//! The demo's per-user streams over loopback HTTP: each user's stream is a topic of
//! the demo's hub, and a client that lost its connection resumes with
//! `Last-Event-ID` and is sent what it missed, and only its own.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[path = "../examples/demo/main.rs"]
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
    let body = serde_json::json!({"from": "test", "text": text}).to_string();
    let head = format!("POST /send/{user} HTTP/1.1\r\nConnection: close\r\n");
    let (mut reader, status) = request(addr, &head, &body);
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

        // HEAD answers as GET would, without a body.
        let (mut head, status) = request(
            addr,
            "HEAD /events/alice HTTP/1.1\r\nConnection: close\r\n",
            "",
        );
        assert_eq!(status, 200);
        let mut rest = Vec::new();
        head.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty(), "{rest:?}");
    })
    .await
    .unwrap();
}

/// The events of a stream to its end, as (type, id, data).
fn all_events(mut stream: BufReader<TcpStream>) -> Vec<(String, String, String)> {
    let mut body = String::new();
    stream.read_to_string(&mut body).unwrap();
    let mut parser = sse_proto::Parser::new();
    let mut input = body.as_bytes();
    let mut out = Vec::new();
    while let Some(item) = parser.parse(&mut input).unwrap() {
        if let sse_proto::Item::Event(event) = item {
            out.push((
                event.event_type().to_string(),
                event.last_event_id().to_string(),
                event.data().to_string(),
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_answer_streams_token_by_token_resumes_and_is_not_sent_twice() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, demo::app()).await });
    tokio::task::spawn_blocking(move || {
        let prompt = r#"{"prompt": "tokens"}"#;
        // HTTP/1.0: the response is not chunked, and ends with the connection.
        let (whole, status) = request(addr, "POST /chat HTTP/1.0\r\n", prompt);
        assert_eq!(status, 200);
        let events = all_events(whole);
        let (done, tokens) = events.split_last().unwrap();
        assert_eq!((done.0.as_str(), done.1.as_str()), ("done", "done"));
        assert!(tokens.len() > 20, "{}", tokens.len());
        assert!(
            tokens
                .iter()
                .enumerate()
                .all(|(n, t)| t.0 == "token" && t.1 == n.to_string())
        );
        let text: String = tokens
            .iter()
            .map(|t| {
                serde_json::from_str::<serde_json::Value>(&t.2).unwrap()["text"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert!(text.contains("You asked about \"tokens\""), "{text}");

        // A client that got token 9 asks for the rest.
        let (rest, _) = request(addr, "POST /chat HTTP/1.0\r\nLast-Event-ID: 9\r\n", prompt);
        assert_eq!(all_events(rest), events[10..]);
        // One that got the end is told there is nothing more.
        let (_, status) = request(
            addr,
            "POST /chat HTTP/1.0\r\nLast-Event-ID: done\r\n",
            prompt,
        );
        assert_eq!(status, 204);
    })
    .await
    .unwrap();
}
