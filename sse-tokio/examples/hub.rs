//! A broadcast with replay on plain hyper (no axum): one [`Hub`], many listeners.
//!
//! ```sh
//! cargo run -p sse-tokio --example hub             # http://127.0.0.1:8081
//! cargo run -p sse-tokio --example hub -- 3000     # or PORT=3000
//! ```
//!
//! - `GET /events`: every event published, with a keep-alive every 15 s. A client
//!   that reconnects with `Last-Event-ID` first gets what it missed.
//! - `POST /publish`: the request body becomes an event, for every listener.
//! - A `tick` event every 10 s, so that there is always something to see.
//!
//! From the shell, listen in one terminal and publish in another; stop the listener
//! and start it again with `--last-event-id` to see the replay:
//!
//! ```sh
//! cargo run -p sse-cli -- listen http://127.0.0.1:8081/events
//! curl -d 'hello, everyone' http://127.0.0.1:8081/publish
//! cargo run -p sse-cli -- listen --last-event-id ID http://127.0.0.1:8081/events
//! ```

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use sse_proto::Message;
use sse_tokio::{Hub, SseBody};

type Body = Either<SseBody, Full<Bytes>>;

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
        .map_or(8081, |p| p.parse().expect("the port is a number"));
    let hub = Hub::new();

    let ticker = hub.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(10));
        for n in 1u64.. {
            interval.tick().await;
            let message = Message::new(format!("tick {n}")).event("tick");
            ticker.publish(message).expect("a tick encodes");
        }
    });

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("cannot listen on 127.0.0.1:{port}: {e}"));
    let addr = listener.local_addr().unwrap();
    println!("hub listening on http://{addr}/events; publish with POST /publish");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let hub = hub.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(hub.clone(), request));
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(hub: Hub, request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/events") => {
            let last_event_id = sse_tokio::last_event_id(request.headers());
            // Over the hub's limit of streams: come back in a few seconds.
            let Ok(body) = hub.subscribe(last_event_id.as_deref()) else {
                return Ok(
                    sse_tokio::unavailable::<SseBody>(Duration::from_secs(5)).map(Either::Left)
                );
            };
            let body = body.keep_alive(Duration::from_secs(15));
            Ok(body.response().map(Either::Left))
        }
        (&Method::POST, "/publish") => {
            let Ok(body) = request.into_body().collect().await else {
                return Ok(text(StatusCode::BAD_REQUEST, "could not read the body\n"));
            };
            let data = String::from_utf8_lossy(&body.to_bytes()).into_owned();
            let published = hub
                .publish(Message::new(data))
                .expect("data always encodes");
            let reply = format!(
                "event {} to {} listener(s)\n",
                published.id, published.queued
            );
            Ok(text(StatusCode::OK, reply))
        }
        _ => Ok(text(
            StatusCode::NOT_FOUND,
            "GET /events or POST /publish\n",
        )),
    }
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Either::Right(Full::new(body.into())));
    *response.status_mut() = status;
    response
}
