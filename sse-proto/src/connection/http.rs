//! The few response headers the processing model reads, parsed without an HTTP
//! crate: `Content-Type` (is it `text/event-stream`?), `Location` (where a redirect
//! goes), and `Retry-After` with `Date` (how long a retry policy waits).

use alloc::string::String;
use core::time::Duration;

use super::url;

/// What the connection needs from a response head, read in one pass so that header
/// values the caller hands over as temporaries need not outlive the call.
#[derive(Debug, Default)]
pub(crate) struct Head {
    /// The extracted MIME type's essence is `text/event-stream`.
    pub event_stream: bool,
    /// The single `Location` value, cleaned; `None` if absent, repeated, empty or
    /// unusable. (An empty value would resolve to the current URL: a redirect to
    /// itself, which is no use.)
    pub location: Option<String>,
    /// The `Retry-After` value.
    pub retry_after: Option<RetryAfter>,
    /// The `Date` value, in seconds since the Unix epoch.
    pub date: Option<u64>,
}

/// A parsed `Retry-After` value (RFC 9110 §10.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryAfter {
    /// `delay-seconds`.
    Seconds(u64),
    /// An `HTTP-date`, in seconds since the Unix epoch.
    Date(u64),
}

impl Head {
    /// Reads the headers. Names are compared case-insensitively.
    pub fn read<I, N, V>(headers: I) -> Head
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        let mut head = Head::default();
        let mut content_type: Option<bool> = None;
        let mut locations = 0u32;
        for (name, value) in headers {
            let (name, value) = (name.as_ref(), value.as_ref());
            if name.eq_ignore_ascii_case(b"content-type") {
                // Fetch "extract a MIME type": every value of every Content-Type
                // header, split on commas; the last one that parses (and is not
                // `*/*`) wins.
                for piece in split_commas(value) {
                    if let Some(is_event_stream) = essence_is_event_stream(piece) {
                        content_type = Some(is_event_stream);
                    }
                }
            } else if name.eq_ignore_ascii_case(b"location") {
                // Fetch "extract header list values": Location allows one value, so
                // more than one is a failure.
                locations += 1;
                head.location = url::clean(value).filter(|l| !l.is_empty());
            } else if name.eq_ignore_ascii_case(b"retry-after") {
                head.retry_after = parse_retry_after(value);
            } else if name.eq_ignore_ascii_case(b"date") {
                head.date = parse_http_date(trim(value));
            }
        }
        if locations > 1 {
            head.location = None;
        }
        head.event_stream = content_type == Some(true);
        head
    }

    /// How long `Retry-After` asks to wait: delay-seconds as given, an HTTP-date
    /// relative to the response's `Date` (the core has no wall clock, and the server's
    /// own `Date` is the clock the server meant). `None` if there is no usable value.
    pub fn retry_after_delay(&self) -> Option<Duration> {
        match self.retry_after? {
            RetryAfter::Seconds(s) => Some(Duration::from_secs(s)),
            RetryAfter::Date(at) => Some(Duration::from_secs(at.saturating_sub(self.date?))),
        }
    }
}

/// HTTP whitespace (WHATWG Fetch): TAB, LF, CR, SPACE.
fn is_http_ws(b: &u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\r' | b' ')
}

fn trim(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|b| !is_http_ws(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_http_ws(b))
        .map_or(start, |i| i + 1);
    &value[start..end]
}

/// Splits a header value on commas outside double-quoted strings (Fetch "get,
/// decode, and split").
fn split_commas(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(value);
    core::iter::from_fn(move || {
        let s = rest?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, &b) in s.iter().enumerate() {
            if escaped {
                escaped = false;
            } else if quoted && b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                quoted = !quoted;
            } else if b == b',' && !quoted {
                rest = Some(&s[i + 1..]);
                return Some(&s[..i]);
            }
        }
        rest = None;
        Some(s)
    })
}

/// Parses a MIME type as WHATWG MIME Sniffing does, as far as the essence: `None` for
/// a parse failure or `*/*` (which Fetch skips), else whether the essence, compared
/// case-insensitively, is `text/event-stream`. Parameters are allowed and ignored.
fn essence_is_event_stream(value: &[u8]) -> Option<bool> {
    let value = trim(value);
    let slash = value.iter().position(|&b| b == b'/')?;
    let (kind, rest) = (&value[..slash], &value[slash + 1..]);
    let end = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
    let subtype = &rest[..end];
    let subtype_end = subtype
        .iter()
        .rposition(|b| !is_http_ws(b))
        .map_or(0, |i| i + 1);
    let subtype = &subtype[..subtype_end];
    let token = |s: &[u8]| core::str::from_utf8(s).is_ok_and(url::is_token);
    if !token(kind) || !token(subtype) {
        return None;
    }
    if kind == b"*" && subtype == b"*" {
        return None;
    }
    Some(kind.eq_ignore_ascii_case(b"text") && subtype.eq_ignore_ascii_case(b"event-stream"))
}

/// `Retry-After = HTTP-date / delay-seconds`.
fn parse_retry_after(value: &[u8]) -> Option<RetryAfter> {
    let value = trim(value);
    if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
        let secs = value.iter().fold(0u64, |n, &d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
        return Some(RetryAfter::Seconds(secs));
    }
    parse_http_date(value).map(RetryAfter::Date)
}

/// Parses an `HTTP-date` (RFC 9110 §5.6.7) in any of its three forms, to seconds
/// since the Unix epoch:
///
/// - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
/// - obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT` (years 70–99 are 19xx, 00–69
///   are 20xx)
/// - obsolete asctime: `Sun Nov  6 08:49:37 1994`
///
/// Names are matched case-insensitively; the day name is checked for being a day
/// name, not for matching the date.
pub(crate) fn parse_http_date(value: &[u8]) -> Option<u64> {
    let text = core::str::from_utf8(value).ok()?;
    let mut tokens = text.split([' ', ',', '-']).filter(|t| !t.is_empty()).fuse();
    let mut next = || tokens.next();
    let (day_name, a, b, c, d, e, rest) =
        (next()?, next()?, next()?, next()?, next()?, next(), next());
    if rest.is_some() || !is_day_name(day_name) {
        return None;
    }
    let (day, month, year, time) = match e {
        // IMF-fixdate and RFC 850: day month year time GMT.
        Some(gmt) => {
            if gmt != "GMT" {
                return None;
            }
            let year = match c.len() {
                4 => number(c)?,
                2 => {
                    let y = number(c)?;
                    if y >= 70 { 1900 + y } else { 2000 + y }
                }
                _ => return None,
            };
            (a, b, year, d)
        }
        // asctime: month day time year.
        None => {
            if d.len() != 4 {
                return None;
            }
            (b, a, number(d)?, c)
        }
    };
    if day.len() > 2 {
        return None;
    }
    let day = number(day)?;
    let month = month_number(month)?;
    let mut hms = time.split(':');
    let (h, m, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() || h.len() != 2 || m.len() != 2 || s.len() != 2 {
        return None;
    }
    let (h, m, s) = (number(h)?, number(m)?, number(s)?);
    // Seconds up to 60 allow a leap second, as RFC 9110 does.
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::try_from(h * 3600 + m * 60 + s).ok()?;
    u64::try_from(secs).ok()
}

fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 9 {
        return None;
    }
    s.parse().ok()
}

fn is_day_name(s: &str) -> bool {
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    DAYS.iter()
        .any(|d| s.eq_ignore_ascii_case(d) || s.eq_ignore_ascii_case(&d[..3]))
}

fn month_number(s: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let i = MONTHS.iter().position(|m| s.eq_ignore_ascii_case(m))?;
    Some(i as u64 + 1)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: u64, month: u64, day: u64) -> i64 {
    let (y, m, d) = (year as i64, month as i64, day as i64);
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &[(&str, &str)]) -> Head {
        Head::read(headers.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
    }

    #[test]
    fn content_types() {
        let ok = |v: &str| head(&[("Content-Type", v)]).event_stream;
        assert!(ok("text/event-stream"));
        assert!(ok("Text/Event-Stream"));
        assert!(ok("text/event-stream; charset=utf-8"));
        assert!(ok("  text/event-stream ;charset=utf-8"));
        assert!(ok("text/plain, text/event-stream"));
        assert!(ok("text/event-stream, */*"));
        assert!(!ok("text/event-stream, text/plain"));
        assert!(!ok("text/event-streams"));
        assert!(!ok("text/plain"));
        assert!(!ok("text /event-stream"));
        assert!(!ok("text/event-stream x"));
        assert!(!ok("event-stream"));
        assert!(!ok(""));
        assert!(!head(&[]).event_stream);
        // Commas inside a quoted parameter do not split.
        assert!(ok("text/event-stream; x=\"a,b/c\""));
        // The last Content-Type header wins.
        assert!(
            head(&[
                ("content-type", "text/plain"),
                ("CONTENT-TYPE", "text/event-stream")
            ])
            .event_stream
        );
    }

    #[test]
    fn locations() {
        assert_eq!(
            head(&[("Location", " /a b ")]).location.as_deref(),
            Some("/a%20b")
        );
        assert_eq!(
            head(&[("Location", "/a"), ("location", "/b")]).location,
            None
        );
        assert_eq!(head(&[]).location, None);
    }

    #[test]
    fn http_dates() {
        let expected = Some(784_111_777);
        assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"), expected);
        assert_eq!(parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT"), expected);
        assert_eq!(parse_http_date(b"Sun Nov  6 08:49:37 1994"), expected);
        assert_eq!(parse_http_date(b"Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date(b"Tue, 29 Feb 2028 23:59:59 GMT"),
            Some(1_835_481_599)
        );
        assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 UTC"), None);
        assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 24:00:00 GMT"), None);
        assert_eq!(parse_http_date(b"Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date(b"06 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date(b""), None);
    }

    #[test]
    fn retry_after() {
        let h = head(&[("Retry-After", " 120 ")]);
        assert_eq!(h.retry_after_delay(), Some(Duration::from_secs(120)));
        let h = head(&[
            ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ("Retry-After", "Sun, 06 Nov 1994 08:50:07 GMT"),
        ]);
        assert_eq!(h.retry_after_delay(), Some(Duration::from_secs(30)));
        // A date in the past means now.
        let h = head(&[
            ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ("Retry-After", "Sun, 06 Nov 1994 08:00:00 GMT"),
        ]);
        assert_eq!(h.retry_after_delay(), Some(Duration::ZERO));
        // A date without a Date header to measure from is unusable.
        let h = head(&[("Retry-After", "Sun, 06 Nov 1994 08:50:07 GMT")]);
        assert_eq!(h.retry_after_delay(), None);
        assert_eq!(head(&[("Retry-After", "-1")]).retry_after_delay(), None);
        assert_eq!(head(&[("Retry-After", "1.5")]).retry_after_delay(), None);
    }
}
