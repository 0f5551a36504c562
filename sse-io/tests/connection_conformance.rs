//! The connection scenarios (`conformance/vectors/connection`) through the
//! reconnecting client that every adapter runs (`sse_io::EventSource`), with a
//! scripted transport and a runtime whose clock the scenario moves.
//!
//! Each step moves the clock to the step's time (so the client's own timer fires
//! the `timeout` steps), plays the input on the transport's side (a response head,
//! body bytes, the end of the body, a network error) or calls `close()`, and polls
//! the client until nothing more happens. What came out of it, and the requests the
//! transport was asked to send, are the step's outputs. Nothing here is real time or
//! real I/O, so "settled" is exact. (`transport_conformance.rs` runs the same
//! scenarios through each adapter's HTTP client; the adapters' timers are tested on
//! their runtimes over loopback in `client.rs`.)

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use conformance::adapters::{drain_source, failed_on_an_open_response};
use conformance::connection::{Input, Output, Scenario, SentRequest, StepRun, request_error_code};
use sse_io::{
    BodyStream, BoxError, BuildError, EventSource, ResponseFuture, Runtime, Timer, Transport,
};

thread_local! {
    /// The scenario's clock: each test thread plays one scenario at a time.
    static NOW: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// A runtime on the scenario's clock. Its timers complete once the clock has reached
/// their deadline; the runner polls after every move of the clock, so they need no
/// waker.
struct Scripted;

#[derive(Debug)]
struct ScriptedTimer(Instant);

impl Future for ScriptedTimer {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if Scripted::now() >= self.0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Timer for ScriptedTimer {
    fn reset(&mut self, deadline: Instant) {
        self.0 = deadline;
    }
}

impl Runtime for Scripted {
    type Timer = ScriptedTimer;

    fn now() -> Instant {
        NOW.with(|now| now.get().expect("the scenario's clock is set"))
    }

    fn timer(deadline: Instant) -> ScriptedTimer {
        ScriptedTimer(deadline)
    }
}

/// A request the transport was asked to send, waiting for the script's response.
struct Exchange {
    request: SentRequest,
    /// `None` fails the request (no response: a network error).
    respond: async_channel::Sender<Option<http::Response<BodyStream>>>,
}

/// A transport whose requests go to the script.
#[derive(Clone, Default)]
struct Script(Arc<Mutex<VecDeque<Exchange>>>);

impl Transport for Script {
    fn send(&self, request: http::Request<Bytes>) -> ResponseFuture {
        let (head, body) = request.into_parts();
        let headers = head.headers.iter().map(|(name, value)| {
            (
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        });
        let request = SentRequest::new(
            head.method.as_str(),
            head.uri.to_string(),
            headers,
            (!body.is_empty()).then(|| body.to_vec()),
        );
        let (respond, response) = async_channel::bounded(1);
        self.0
            .lock()
            .unwrap()
            .push_back(Exchange { request, respond });
        Box::pin(async move {
            match response.recv().await {
                Ok(Some(response)) => Ok(response),
                _ => Err(BoxError::from("the script dropped the connection")),
            }
        })
    }
}

type Frames = async_channel::Sender<Result<Bytes, BoxError>>;

/// Plays one scenario through the client.
fn client_layer(scenario: &Scenario) -> Vec<StepRun> {
    let epoch = Instant::now();
    NOW.with(|now| now.set(Some(epoch)));
    let mut play = Play::default();
    // The connection's clock starts when it is created.
    let mut offset = 0;
    let mut runs = Vec::new();
    for step in &scenario.steps {
        NOW.with(|now| now.set(Some(epoch + Duration::from_millis(step.at))));
        let mut outputs = Vec::new();
        // What falls due as the clock reaches the step happens before its input.
        play.settle(&mut outputs, step.at);
        match &step.input {
            Input::Connect => {
                offset = step.at;
                match EventSource::<Scripted>::builder(scenario.url.as_str())
                    .config(scenario.config.clone())
                    .connect_with(play.script.clone())
                {
                    Ok(s) => play.source = Some(s),
                    Err(BuildError::Connect(e)) => {
                        outputs.push(Output::RequestError(request_error_code(&e)))
                    }
                    Err(e) => panic!("{}: {e}", scenario.name),
                }
            }
            Input::Response { status, headers } => {
                if let Some(exchange) = play.pending.take() {
                    let (tx, rx) = async_channel::unbounded();
                    let mut response = http::Response::builder().status(*status);
                    for (name, value) in headers {
                        response = response.header(name, value);
                    }
                    let body: BodyStream = Box::pin(rx);
                    let _ = exchange
                        .respond
                        .try_send(Some(response.body(body).unwrap()));
                    play.frames = Some(tx);
                }
            }
            Input::Body(chunks) => {
                if let Some(frames) = &play.frames {
                    for chunk in chunks {
                        let _ = frames.try_send(Ok(Bytes::copy_from_slice(chunk)));
                    }
                }
            }
            Input::End => {
                // A clean end of the body, or a connection closed before any response.
                play.frames = None;
                if let Some(exchange) = play.pending.take() {
                    let _ = exchange.respond.try_send(None);
                }
            }
            Input::Error => {
                if let Some(frames) = play.frames.take() {
                    let _ = frames.try_send(Err("the script broke the connection".into()));
                }
                if let Some(exchange) = play.pending.take() {
                    let _ = exchange.respond.try_send(None);
                }
            }
            Input::Timeout => {} // the clock moved: the client's timer fires by itself
            Input::Close => {
                if let Some(source) = &mut play.source {
                    source.close();
                }
            }
        }
        play.settle(&mut outputs, step.at);
        // A response that failed the connection: its server ends the body (an error
        // response is whole), and the client reports the failure with what it said.
        let failing = failed_on_an_open_response(play.source.as_ref(), &step.input, &outputs);
        if failing && play.frames.take().is_some() {
            play.settle(&mut outputs, step.at);
        }
        runs.push(StepRun {
            outputs,
            timeout: play
                .source
                .as_ref()
                .and_then(|s| s.connection().poll_timeout())
                .map(|t| t.as_millis() + offset),
            state: play.source.as_ref().map(EventSource::ready_state),
        });
    }
    NOW.with(|now| now.set(None));
    runs
}

/// The client and the scripted side of its transfer, between steps.
#[derive(Default)]
struct Play {
    script: Script,
    source: Option<EventSource<Scripted>>,
    /// A request waiting for the script's response.
    pending: Option<Exchange>,
    /// The open response body.
    frames: Option<Frames>,
    /// `Output::Ended` has been reported.
    ended: bool,
}

impl Play {
    /// Polls the client until it has nothing more to say, collecting what it yields
    /// and the requests it makes.
    fn settle(&mut self, outputs: &mut Vec<Output>, now: u64) {
        loop {
            let mut moved = self
                .source
                .as_mut()
                .is_some_and(|source| drain_source(source, outputs, now, &mut self.ended));
            while let Some(exchange) = self.script.0.lock().unwrap().pop_front() {
                outputs.push(Output::Request(exchange.request.clone()));
                // A new request replaces the transfer the client had.
                self.frames = None;
                self.pending = Some(exchange);
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }
}

#[test]
fn connection_scenarios_through_the_client() {
    conformance::connection::assert_conformance_on_a_clock("sse-io EventSource", client_layer);
}
