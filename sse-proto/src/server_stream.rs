//! What a server's event stream sends next, without a clock or a queue.

use alloc::vec::Vec;
use core::time::Duration;

use crate::{Encode, Heartbeat, Retry, Time};

/// The order of what goes out on one server stream: the initial `retry` field, then
/// what the stream's source yields (a hub's replay and live events, or a channel's
/// queue), with a [`KEEP_ALIVE`](crate::KEEP_ALIVE) comment whenever the stream has
/// been quiet for the keep-alive interval ([`Heartbeat`]).
///
/// The initial `retry` goes out as a line of its own, without the blank line that
/// would end its block: the spec applies a field as its line is read, so the client
/// has the reconnection time at once, and the block is ended by the stream's first
/// event, in whose company the `retry` belongs. A block holding only `retry` is
/// exactly within the spec (it dispatches nothing), but some clients (httpx-sse, for
/// one) hand it out as an empty event, which breaks code that parses every event's
/// data. Keep-alives due before the first event are bare comment lines (`:`), which
/// do not end the block either. (A source whose first item is a comment ends the
/// block with it.)
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
/// assert_eq!(stream.poll_transmit(Time::ZERO).as_deref(), Some(&b"retry: 2000\n"[..]));
/// assert_eq!(stream.poll_transmit(Time::ZERO), None);
/// assert_eq!(stream.poll_timeout(), Some(Time::from_millis(15_000)));
/// // Quiet: a keep-alive line that leaves the `retry`'s block open.
/// assert_eq!(stream.handle_timeout(Time::from_millis(15_000)), Some(&b":\n"[..]));
/// stream.handle_sent(Time::from_millis(20_000)); // an event went out, ending the block
/// assert_eq!(stream.handle_timeout(Time::from_millis(30_000)), None);
/// assert_eq!(stream.handle_timeout(Time::from_millis(35_000)), Some(sse_proto::KEEP_ALIVE));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStream {
    retry: Option<Duration>,
    keep_alive: Option<Duration>,
    heartbeat: Option<Heartbeat>,
    started: bool,
    draining: bool,
    /// The `retry` line went out and no event has ended its block yet.
    block_open: bool,
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
            block_open: false,
        }
    }

    /// Starts the stream with a `retry` field: how long clients wait before they
    /// reconnect (encoded as [`Retry`] encodes it).
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

    /// What goes out before anything from the source: the `retry` line, once, on
    /// the first call (encoded, without a blank line after it: see above). Starts the
    /// keep-alive schedule at `now`.
    pub fn poll_transmit(&mut self, now: Time) -> Option<Vec<u8>> {
        if !self.started {
            self.started = true;
            self.heartbeat = self
                .keep_alive
                .map(|interval| Heartbeat::new(now, interval));
        }
        let time = self.retry.take()?;
        let mut line = Retry::new(time).to_vec().ok()?;
        // The blank line that would end the block.
        line.pop();
        if let Some(heartbeat) = &mut self.heartbeat {
            heartbeat.handle_written(now);
        }
        self.block_open = true;
        Some(line)
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

    /// Bytes from the source (whole events or comments, each ending its block) were
    /// sent at `now`: the quiet period starts again.
    pub fn handle_sent(&mut self, now: Time) {
        self.block_open = false;
        if let Some(heartbeat) = &mut self.heartbeat {
            heartbeat.handle_written(now);
        }
    }

    /// When the driver's timer is due: the next keep-alive, unless something is sent
    /// first. `None`: no timer is needed.
    pub fn poll_timeout(&self) -> Option<Time> {
        self.heartbeat.map(|heartbeat| heartbeat.poll_timeout())
    }

    /// The timer fired at `now`: the keep-alive to send if one is due, which the
    /// schedule counts as sent: [`KEEP_ALIVE`](crate::KEEP_ALIVE), or a bare `:` line
    /// while the `retry`'s block is open. Early calls are harmless.
    pub fn handle_timeout(&mut self, now: Time) -> Option<&'static [u8]> {
        let due = self
            .heartbeat
            .as_mut()
            .is_some_and(|heartbeat| heartbeat.handle_timeout(now));
        match (due, self.block_open) {
            (false, _) => None,
            (true, true) => Some(b":\n"),
            (true, false) => Some(crate::KEEP_ALIVE),
        }
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
        assert_eq!(stream.handle_timeout(Time::from_millis(u64::MAX)), None);
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
            Some(&b"retry: 1\n"[..])
        );
    }

    /// No blank line goes out before the first event: a client that hands out a
    /// `retry`-only block as an event (httpx-sse does) sees none.
    #[test]
    fn the_retry_shares_its_block_with_the_first_event() {
        let mut stream = ServerStream::new()
            .retry(Duration::from_secs(3))
            .keep_alive(Duration::from_secs(1));
        let mut out = stream.poll_transmit(Time::ZERO).unwrap();
        for t in [1000, 2000] {
            out.extend_from_slice(stream.handle_timeout(Time::from_millis(t)).unwrap());
        }
        out.extend_from_slice(b"id: 1\ndata: x\n\n");
        stream.handle_sent(Time::from_millis(2500));
        out.extend_from_slice(stream.handle_timeout(Time::from_millis(3500)).unwrap());
        assert_eq!(out, b"retry: 3000\n:\n:\nid: 1\ndata: x\n\n:\n\n");
        let mut parser = crate::Parser::new();
        let mut input = &out[..];
        let mut blocks = 0;
        while let Ok(Some(item)) = parser.parse(&mut input) {
            if let crate::Item::Event(event) = item {
                assert_eq!(event.data(), "x");
                blocks += 1;
            }
        }
        assert_eq!((blocks, parser.retry()), (1, Some(Duration::from_secs(3))));
        assert_eq!(
            out.windows(2).position(|w| w == b"\n\n"),
            Some(out.len() - 5),
            "the first blank line ends the event"
        );
    }
}
