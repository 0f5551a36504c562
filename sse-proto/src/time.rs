//! Time as a value the caller passes in.
//!
//! `core` has no `Instant`, and a sans-IO core must not read a clock anyway: the
//! connection state machine only ever compares and adds times it was given. So time
//! is a plain number, a [`Duration`] since an epoch the caller picks (the moment its
//! driver started, say), and tests run on a fake clock that is just a counter.

use core::ops::{Add, AddAssign};
use core::time::Duration;

/// A point in time: the [`Duration`] since an epoch the caller chooses.
///
/// Every `now` passed to one [`Connection`](crate::Connection) must be measured from
/// the same epoch and on a monotonic clock: a runtime adapter typically keeps the
/// `std::time::Instant` it started at and passes `Time::from_duration(start.elapsed())`.
/// Arithmetic saturates instead of overflowing, so a deadline far in the future (a
/// server's `retry: 18446744073709551615`) is simply "never".
///
/// ```
/// use core::time::Duration;
/// use sse_proto::Time;
///
/// let start = Time::ZERO;
/// let later = start + Duration::from_millis(1500);
/// assert_eq!(later, Time::from_millis(1500));
/// assert_eq!(later.saturating_duration_since(start), Duration::from_millis(1500));
/// assert_eq!(start.saturating_duration_since(later), Duration::ZERO);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(Duration);

impl Time {
    /// The epoch itself.
    pub const ZERO: Time = Time(Duration::ZERO);

    /// The time `since_epoch` after the epoch.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::Time;
    ///
    /// assert_eq!(Time::from_duration(Duration::from_secs(2)), Time::from_millis(2000));
    /// ```
    pub const fn from_duration(since_epoch: Duration) -> Self {
        Time(since_epoch)
    }

    /// The time `ms` milliseconds after the epoch.
    ///
    /// ```
    /// use sse_proto::Time;
    ///
    /// assert_eq!(Time::from_millis(3000).as_millis(), 3000);
    /// ```
    pub const fn from_millis(ms: u64) -> Self {
        Time(Duration::from_millis(ms))
    }

    /// How long after the epoch this is.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::Time;
    ///
    /// assert_eq!(Time::from_millis(5).since_epoch(), Duration::from_millis(5));
    /// ```
    pub const fn since_epoch(self) -> Duration {
        self.0
    }

    /// Whole milliseconds since the epoch, saturating at `u64::MAX`.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::Time;
    ///
    /// assert_eq!(Time::from_duration(Duration::from_micros(2500)).as_millis(), 2);
    /// assert_eq!(Time::from_duration(Duration::MAX).as_millis(), u64::MAX);
    /// ```
    pub const fn as_millis(self) -> u64 {
        let ms = self.0.as_millis();
        if ms > u64::MAX as u128 {
            u64::MAX
        } else {
            ms as u64
        }
    }

    /// `self + duration`, or the largest representable time on overflow.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::Time;
    ///
    /// let far = Time::from_duration(Duration::MAX);
    /// assert_eq!(far.saturating_add(Duration::from_secs(1)), far);
    /// ```
    pub const fn saturating_add(self, duration: Duration) -> Time {
        Time(self.0.saturating_add(duration))
    }

    /// How long after `earlier` this is; zero if `earlier` is later.
    ///
    /// ```
    /// use core::time::Duration;
    /// use sse_proto::Time;
    ///
    /// let (a, b) = (Time::from_millis(10), Time::from_millis(25));
    /// assert_eq!(b.saturating_duration_since(a), Duration::from_millis(15));
    /// assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    /// ```
    pub const fn saturating_duration_since(self, earlier: Time) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for Time {
    type Output = Time;

    /// Saturating, like [`Time::saturating_add`].
    fn add(self, duration: Duration) -> Time {
        self.saturating_add(duration)
    }
}

impl AddAssign<Duration> for Time {
    fn add_assign(&mut self, duration: Duration) {
        *self = self.saturating_add(duration);
    }
}
