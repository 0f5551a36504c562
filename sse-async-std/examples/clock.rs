//! A bare-bones event-stream server on smol, with no HTTP framework: every request
//! gets a stream of the time, one event a second, with keep-alive comments, until the
//! client goes away.
//!
//! ```sh
//! cargo run -p sse-async-std --example clock            # http://127.0.0.1:8080
//! cargo run -p sse-async-std --example clock -- 3000    # or PORT=3000
//! curl -N http://127.0.0.1:8080/
//! ```
//!
//! A reconnecting client sends `Last-Event-ID`; the ticks go on counting from it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smol::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use smol::net::{TcpListener, TcpStream};
use sse_proto::Message;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
        .map_or(8080, |p| p.parse().expect("the port is a number"));
    smol::block_on(async {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("clock listening on http://{}/", listener.local_addr()?);
        loop {
            let (socket, peer) = listener.accept().await?;
            smol::spawn(async move {
                match serve(socket).await {
                    Ok(()) => println!("{peer}: stream ended"),
                    Err(e) => println!("{peer}: gone ({e})"),
                }
            })
            .detach();
        }
    })
}

/// Reads the request head, answers with an event stream.
async fn serve(socket: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(socket.clone());
    let mut last_event_id = 0u64;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(()); // closed before the head was complete
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("last-event-id") {
                last_event_id = value.trim().parse().unwrap_or(0);
            }
        }
    }

    let (sender, body) = sse_async_std::channel(8);
    let body = body
        .keep_alive(Duration::from_secs(15))
        .retry(Duration::from_secs(3));
    smol::spawn(async move {
        for n in last_event_id + 1.. {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let message = Message::new(format!("tick {n}: {now}"))
                .event("tick")
                .id(n.to_string());
            if sender.send(message).await.is_err() {
                return; // the server dropped the body: the client is gone
            }
            smol::Timer::after(Duration::from_secs(1)).await;
        }
    })
    .detach();

    let mut socket = socket;
    let mut head = String::from("HTTP/1.1 200 OK\r\nConnection: close\r\n");
    for (name, value) in sse_async_std::RESPONSE_HEADERS {
        head += &format!("{name}: {value}\r\n");
    }
    head += "\r\n";
    socket.write_all(head.as_bytes()).await?;
    smol::io::copy(sse_async_std::BodyReader::new(body), &mut socket).await?;
    Ok(())
}
