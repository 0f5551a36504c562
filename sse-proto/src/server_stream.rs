//! What a server's event stream sends next, without a clock or a queue.

use alloc::vec::Vec;
use core::time::Duration;

use crate::{Encode, Heartbeat, Retry, Time};

/// The order of what goes out on one server stream: the initial `retry` block, then
/// what the stream's source yields (a hub's replay and live events, or a channel's
/// queue), with a [`KEEP_ALIVE`](crate::KEEP_ALIVE) comment whenever the stream has
/// been quiet for the keep-alive interval ([`Heartbeat`]).
///
/// The driver owns the source and one timer. On each poll it asks
/// [`poll_transmit`](ServerStream::poll_transmit) first; if that has nothing, it
/// polls its source, and calls [`handle_sent`](ServerStream::handle_sent) when the
/// source gave it bytes; if the source has nothing either, it arms its timer for
/// [`poll_timeout`](ServerStream::poll_timeout) and, when the timer fires, asks
/// [`handle_timeout`](ServerStream::handle_timeout) whether a keep-alive is due.
/// The schedule starts (its clock's zero is the stream's start) at the first
/// `poll_transmit`.
///
/// ```
/// use core::time::Duration;
/// use sse_proto::{ServerStream, Time};
///
/// let mut stream = ServerStream::new()
///     .retry(Duration::from_secs(2))
///     .keep_alive(Duration::from_secs(15));
/// assert_eq!(stream.poll_transmit(Time::ZERO).as_deref(), Some(&b"retry: 2000\n\n"[..]));
/// assert_eq!(stream.poll_transmit(Time::ZERO), None);
/// assert_eq!(stream.poll_timeout(), Some(Time::from_millis(15_000)));
/// stream.handle_sent(Time::from_millis(10_000)); // an event went out
/// assert!(!stream.handle_timeout(Time::from_millis(15_000)));
/// assert!(stream.handle_timeout(Time::from_millis(25_000))); // send a keep-alive
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStream {
    retry: Option<Duration>,
    keep_alive: Option<Duration>,
    heartbeat: Option<Heartbeat>,
    started: bool,
    draining: bool,
}

impl Default for ServerStream {
    fn default() -> Self {
        ServerStream::new()
    }
}

impl ServerStream {
    /// A stream with no initial `retry` and no keep-alives.
    pub const fn new() -> Self {
        ServerStream {
            retry: None,
            keep_alive: None,
            heartbeat: None,
            started: false,
            draining: false,
        }
    }

    /// Starts the stream with a `retry` field: how long clients wait before they
    /// reconnect (encoded as [`Retry`](crate::Retry) encodes it).
    pub fn retry(mut self, time: Duration) -> Self {
        self.retry = Some(time);
        self
    }

    /// Sends a keep-alive comment whenever the stream has been quiet for `interval`
    /// (see [`Heartbeat`]). Default: none.
    pub fn keep_alive(mut self, interval: Duration) -> Self {
        self.keep_alive = Some(interval);
        self
    }

    /// What goes out before anything from the source: the `retry` block, once, on
    /// the first call (encoded). Starts the keep-alive schedule at `now`.
    pub fn poll_transmit(&mut self, now: Time) -> Option<Vec<u8>> {
        if !self.started {
            self.started = true;
            self.heartbeat = self
                .keep_alive
                .map(|interval| Heartbeat::new(now, interval));
        }
        let time = self.retry.take()?;
        self.handle_sent(now);
        Retry::new(time).to_vec().ok()
    }

    /// The server is shutting down: the stream sends what its source has ready and
    /// then ends, at an event boundary, instead of waiting for more (clients then
    /// reconnect, elsewhere say, with their last event ID). No keep-alive is sent
    /// from now on.
    ///
    /// ```
    /// use sse_proto::{ServerStream, Time};
    ///
    /// let mut stream = ServerStream::new();
    /// assert!(!stream.ends_when_idle());
    /// stream.shut_down();
    /// assert!(stream.ends_when_idle());
    /// assert_eq!(stream.poll_timeout(), None);
    /// ```
    pub fn shut_down(&mut self) {
        self.draining = true;
        self.heartbeat = None;
        self.keep_alive = None;
    }

    /// Whether the stream ends as soon as its source has nothing ready (after
    /// [`shut_down`](ServerStream::shut_down)), rather than wait.
    pub fn ends_when_idle(&self) -> bool {
        self.draining
    }

    /// Whether the schedule uses the time it is given: only for keep-alives. A driver
    /// may pass [`Time::ZERO`] instead of reading its clock when it does not.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::ServerStream;
    ///
    /// assert!(!ServerStream::new().retry(Duration::from_secs(1)).keeps_time());
    /// assert!(ServerStream::new().keep_alive(Duration::from_secs(15)).keeps_time());
    /// ```
    pub fn keeps_time(&self) -> bool {
        self.keep_alive.is_some() || self.heartbeat.is_some()
    }

    /// Bytes from the source were sent at `now`: the quiet period starts again.
    pub fn handle_sent(&mut self, now: Time) {
        if let Some(heartbeat) = &mut self.heartbeat {
            heartbeat.handle_written(now);
        }
    }

    /// When the driver's timer is due: the next keep-alive, unless something is sent
    /// first. `None`: no timer is needed.
    pub fn poll_timeout(&self) -> Option<Time> {
        self.heartbeat.map(|heartbeat| heartbeat.poll_timeout())
    }

    /// The timer fired at `now`: `true` if a keep-alive is due (the driver sends
    /// [`KEEP_ALIVE`](crate::KEEP_ALIVE), which the schedule counts as sent). Early
    /// calls are harmless.
    pub fn handle_timeout(&mut self, now: Time) -> bool {
        self.heartbeat
            .as_mut()
            .is_some_and(|heartbeat| heartbeat.handle_timeout(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_settings_nothing_is_sent_and_no_timer_is_needed() {
        let mut stream = ServerStream::new();
        assert_eq!(stream.poll_transmit(Time::ZERO), None);
        assert_eq!(stream.poll_timeout(), None);
        assert!(!stream.handle_timeout(Time::from_millis(u64::MAX)));
    }

    #[test]
    fn the_schedule_starts_at_the_first_poll() {
        let mut stream = ServerStream::new().keep_alive(Duration::from_secs(1));
        assert_eq!(stream.poll_timeout(), None);
        stream.poll_transmit(Time::from_millis(500));
        assert_eq!(stream.poll_timeout(), Some(Time::from_millis(1500)));
    }

    #[test]
    fn a_sub_millisecond_retry_is_one_millisecond() {
        let mut stream = ServerStream::new().retry(Duration::from_micros(10));
        assert_eq!(
            stream.poll_transmit(Time::ZERO).as_deref(),
            Some(&b"retry: 1\n\n"[..])
        );
    }
}
