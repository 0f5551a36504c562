//! What this crate needs from an async runtime: a clock and a timer.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::Instant;

use sse_proto::Time;

/// An async runtime, as far as event streams need one: the time, and a timer.
///
/// Nothing here spawns a task: every future and stream of this crate does its work
/// inside its own `poll`, so it runs on any executor. A runtime adapter implements
/// this for a unit type (`sse_tokio::Tokio`, `sse_async_std::AsyncIo`) and names
/// this crate's types with it.
///
/// ```
/// use std::time::Instant;
/// use sse_io::{Runtime, Timer};
///
/// /// A runtime whose timers never fire (for streams without keep-alives).
/// #[derive(Debug)]
/// struct Never;
///
/// #[derive(Debug)]
/// struct Pending;
///
/// impl std::future::Future for Pending {
///     type Output = ();
///     fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
///         std::task::Poll::Pending
///     }
/// }
///
/// impl Timer for Pending {
///     fn reset(&mut self, _deadline: Instant) {}
/// }
///
/// impl Runtime for Never {
///     type Timer = Pending;
///     fn now() -> Instant {
///         Instant::now()
///     }
///     fn timer(_deadline: Instant) -> Pending {
///         Pending
///     }
/// }
/// ```
pub trait Runtime: Send + Sync + 'static {
    /// The runtime's timer.
    type Timer: Timer;

    /// The runtime's current time (a runtime with a test clock, as tokio's paused
    /// clock, returns that clock's time).
    fn now() -> Instant;

    /// A timer that completes at `deadline`.
    fn timer(deadline: Instant) -> Self::Timer;
}

/// A timer that completes at its deadline, and can be moved.
pub trait Timer: Future<Output = ()> + Send + Sync + Unpin + core::fmt::Debug {
    /// Completes at `deadline` instead, even if it had completed.
    fn reset(&mut self, deadline: Instant);
}

/// A driver's clock: the time since it started as a [`Time`] for the core, and a
/// core deadline as an `Instant` for the runtime.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: Instant,
}

impl Clock {
    pub(crate) fn start<R: Runtime>() -> Self {
        Clock { start: R::now() }
    }

    pub(crate) fn now<R: Runtime>(&self) -> Time {
        Time::from_duration(R::now().saturating_duration_since(self.start))
    }

    /// `None`: later than an `Instant` can hold, that is never.
    pub(crate) fn instant(&self, time: Time) -> Option<Instant> {
        self.start.checked_add(time.since_epoch())
    }
}

/// One timer, created when first needed and moved to each new deadline.
#[derive(Debug)]
pub(crate) struct Alarm<R: Runtime> {
    timer: Option<(R::Timer, Instant)>,
}

impl<R: Runtime> Alarm<R> {
    pub(crate) fn new() -> Self {
        Alarm { timer: None }
    }

    /// Polls the timer for `deadline` (`None`: never, so pending).
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>, deadline: Option<Instant>) -> Poll<()> {
        let Some(deadline) = deadline else {
            return Poll::Pending;
        };
        let (timer, armed) = self
            .timer
            .get_or_insert_with(|| (R::timer(deadline), deadline));
        if *armed != deadline {
            timer.reset(deadline);
            *armed = deadline;
        }
        Pin::new(timer).poll(cx)
    }
}

/// What a runtime adapter exports of this crate, in one place so that every adapter
/// has the same names: the runtime-generic types named for its runtime (`SseBody`,
/// `Hub`, `HubBuilder`, `EventSource`, `Builder`: `sse_tokio::Hub` is
/// `sse_io::Hub<sse_tokio::Tokio>`), and everything else re-exported as it is, with
/// `sse_io` and `sse_proto` themselves.
///
/// ```
/// mod my_adapter {
/// #   #[derive(Debug)] pub struct Pending;
/// #   impl std::future::Future for Pending {
/// #       type Output = ();
/// #       fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
/// #           std::task::Poll::Pending
/// #       }
/// #   }
/// #   impl sse_io::Timer for Pending { fn reset(&mut self, _: std::time::Instant) {} }
///     pub struct MyRuntime;
///     impl sse_io::Runtime for MyRuntime {
///         // ...
/// #       type Timer = Pending;
/// #       fn now() -> std::time::Instant { std::time::Instant::now() }
/// #       fn timer(_: std::time::Instant) -> Pending { Pending }
///     }
///     sse_io::runtime_types!(MyRuntime, "my runtime");
/// }
/// let hub = my_adapter::Hub::new();
/// let _body: my_adapter::SseBody = hub.subscribe(None).unwrap();
/// ```
#[macro_export]
macro_rules! runtime_types {
    ($runtime:ty, $name:literal) => {
        pub use $crate::sse_proto;
        pub use $crate::{
            self as sse_io, BatchEvent, BodyStream, BoxError, BuildError, EventBatch, EventBatches,
            EventStream, FailedResponse, ItemStream, LastEventIdHeader, Opened, OwnedEvent,
            OwnedItem, PublishError, Published, ReadyState, Reconnect, ReconnectPolicy,
            ResponseFuture, SendError, Sender, Shutdown, SourceError, SourceEvent, SubscribeError,
            Transport, TransportOptions, last_event_id, set_headers, unavailable,
        };
        #[doc = concat!("A `text/event-stream` response body on ", $name, ": [`sse_io::SseBody`].")]
        pub type SseBody = $crate::SseBody<$runtime>;
        #[doc = concat!("A broadcast with replay on ", $name, ": [`sse_io::Hub`].")]
        pub type Hub = $crate::Hub<$runtime>;
        #[doc = concat!("Settings for a [`Hub`] on ", $name, ": [`sse_io::HubBuilder`].")]
        pub type HubBuilder = $crate::HubBuilder<$runtime>;
        #[doc = concat!("The reconnecting client on ", $name, ": [`sse_io::EventSource`].")]
        pub type EventSource = $crate::EventSource<$runtime>;
        #[doc = concat!("Sets up an [`EventSource`] on ", $name, ": [`sse_io::Builder`].")]
        pub type Builder = $crate::Builder<$runtime>;
    };
}
