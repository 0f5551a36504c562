//! The server's keep-alive schedule, without a clock.
//!
//! A server sends a comment ([`KEEP_ALIVE`](crate::KEEP_ALIVE)) when a stream has
//! been quiet for a while, so that proxies and load balancers do not close it as
//! idle, and so that a client with an idle timeout can tell a quiet stream from a
//! dead one. When to send one is a small rule, kept here once so that every runtime
//! adapter follows it: the driver owns the timer, [`Heartbeat`] owns the schedule.

use core::time::Duration;

use crate::Time;

/// When a server stream is due a keep-alive comment.
///
/// The schedule counts from the last bytes written: real traffic resets it, so a
/// busy stream never carries keep-alives, and a quiet one gets one every
/// `interval`. (Ticking regardless of traffic, as some servers do, only adds bytes:
/// any bytes keep a connection alive, events included.)
///
/// The driver keeps one timer: arm it for [`poll_timeout`](Heartbeat::poll_timeout),
/// call [`handle_written`](Heartbeat::handle_written) whenever it writes anything,
/// and when the timer fires call [`handle_timeout`](Heartbeat::handle_timeout),
/// which says whether to write a keep-alive now. Calling it early is harmless.
///
/// ```
/// use core::time::Duration;
/// use sse_proto::{Heartbeat, Time};
///
/// let mut heartbeat = Heartbeat::new(Time::ZERO, Duration::from_secs(15));
/// assert_eq!(heartbeat.poll_timeout(), Time::from_millis(15_000));
///
/// // An event is written at 10 s: the quiet period starts again.
/// heartbeat.handle_written(Time::from_millis(10_000));
/// assert!(!heartbeat.handle_timeout(Time::from_millis(15_000)));
/// assert_eq!(heartbeat.poll_timeout(), Time::from_millis(25_000));
///
/// // Nothing more is written: a keep-alive is due at 25 s, and every 15 s after.
/// assert!(heartbeat.handle_timeout(Time::from_millis(25_000)));
/// assert_eq!(heartbeat.poll_timeout(), Time::from_millis(40_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Heartbeat {
    interval: Duration,
    deadline: Time,
}

impl Heartbeat {
    /// A schedule starting at `now` (when the stream starts): the first keep-alive
    /// is due `interval` later. A zero `interval` counts as one millisecond, so a
    /// driver can never be asked to spin.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::{Heartbeat, Time};
    ///
    /// let heartbeat = Heartbeat::new(Time::from_millis(5), Duration::ZERO);
    /// assert_eq!(heartbeat.interval(), Duration::from_millis(1));
    /// ```
    pub fn new(now: Time, interval: Duration) -> Self {
        let interval = interval.max(Duration::from_millis(1));
        Heartbeat {
            interval,
            deadline: now.saturating_add(interval),
        }
    }

    /// The quiet period after which a keep-alive is sent.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::{Heartbeat, Time};
    ///
    /// let heartbeat = Heartbeat::new(Time::ZERO, Duration::from_secs(30));
    /// assert_eq!(heartbeat.interval(), Duration::from_secs(30));
    /// ```
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// When the next keep-alive is due, unless something is written first.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::{Heartbeat, Time};
    ///
    /// let heartbeat = Heartbeat::new(Time::from_millis(100), Duration::from_secs(1));
    /// assert_eq!(heartbeat.poll_timeout(), Time::from_millis(1100));
    /// ```
    pub fn poll_timeout(&self) -> Time {
        self.deadline
    }

    /// Bytes were written to the stream at `now` (an event, a comment, anything): the
    /// quiet period starts again.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::{Heartbeat, Time};
    ///
    /// let mut heartbeat = Heartbeat::new(Time::ZERO, Duration::from_secs(1));
    /// heartbeat.handle_written(Time::from_millis(700));
    /// assert_eq!(heartbeat.poll_timeout(), Time::from_millis(1700));
    /// ```
    pub fn handle_written(&mut self, now: Time) {
        self.deadline = now.saturating_add(self.interval);
    }

    /// The timer fired at `now`. Returns `true` if a keep-alive is due: the driver
    /// writes [`KEEP_ALIVE`](crate::KEEP_ALIVE) (the schedule already counts it as
    /// written at `now`). Before the deadline it returns `false` and changes nothing.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::{Heartbeat, Time};
    ///
    /// let mut heartbeat = Heartbeat::new(Time::ZERO, Duration::from_secs(1));
    /// assert!(!heartbeat.handle_timeout(Time::from_millis(999)));
    /// assert!(heartbeat.handle_timeout(Time::from_millis(1000)));
    /// assert!(!heartbeat.handle_timeout(Time::from_millis(1000)));
    /// ```
    pub fn handle_timeout(&mut self, now: Time) -> bool {
        if now < self.deadline {
            return false;
        }
        self.handle_written(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_timer_counts_from_when_it_fired() {
        let mut heartbeat = Heartbeat::new(Time::ZERO, Duration::from_secs(10));
        // The driver was busy and fired 3 s late: one keep-alive, not a burst.
        assert!(heartbeat.handle_timeout(Time::from_millis(13_000)));
        assert!(!heartbeat.handle_timeout(Time::from_millis(13_000)));
        assert_eq!(heartbeat.poll_timeout(), Time::from_millis(23_000));
    }

    #[test]
    fn far_deadlines_saturate() {
        let heartbeat = Heartbeat::new(Time::from_duration(Duration::MAX), Duration::from_secs(1));
        assert_eq!(heartbeat.poll_timeout(), Time::from_duration(Duration::MAX));
    }

    #[test]
    fn traffic_postpones_every_keep_alive() {
        let mut heartbeat = Heartbeat::new(Time::ZERO, Duration::from_millis(100));
        for t in (50..1000).step_by(50) {
            heartbeat.handle_written(Time::from_millis(t));
            assert!(!heartbeat.handle_timeout(Time::from_millis(t + 99)));
        }
        assert!(heartbeat.handle_timeout(Time::from_millis(1050)));
    }
}
