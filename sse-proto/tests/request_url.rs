//! Where a request goes, the first one (the constructor's URL) and each
//! redirect's, against the URL Standard's parser (the `url` crate): every request
//! goes to the URL a browser's would, and one that keeps the credentials goes to
//! the origin they were given for. (Where the `url` crate refuses a reference,
//! nothing is compared: it stops at `///host`, which the Standard reads as
//! `//host`.)

#![cfg(feature = "std")]

use proptest::prelude::*;
use sse_proto::{Connection, ConnectionConfig, Time};
use url::{Position, Url};

const BASE: &str = "https://good.example/a/b";

/// Scheme, host and port, as the URL Standard finds them.
fn origin(url: &Url) -> (String, Option<String>, Option<u16>) {
    (
        url.scheme().to_string(),
        url.host_str().map(str::to_string),
        url.port_or_known_default(),
    )
}

/// The path and query of an absolute URL as it is written: what a request for it
/// carries.
fn target(url: &str) -> String {
    let after_scheme = url.find("://").map_or(url, |at| &url[at + 3..]);
    let path = after_scheme
        .find(['/', '?', '#'])
        .map_or("", |at| &after_scheme[at..]);
    let path = path.find('#').map_or(path, |at| &path[..at]);
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// The path and query the URL Standard writes for `url`.
fn their_target(url: &Url) -> &str {
    &url[Position::BeforePath..Position::AfterQuery]
}

/// Checks that `ours` (a URL as the connection wrote it, from `input`) is `theirs`
/// once the URL Standard has written both its way (so its origin too), and that
/// its path and query are as the Standard writes them.
fn same_url(ours: &str, theirs: &Url, input: &str) -> Result<(), TestCaseError> {
    let read = Url::parse(ours);
    prop_assert!(read.is_ok(), "{input:?} -> {ours:?}: {read:?}");
    let read = read.unwrap();
    prop_assert_eq!(read.as_str(), theirs.as_str(), "{:?}", input);
    prop_assert_eq!(target(ours), their_target(theirs), "{:?}", input);
    Ok(())
}

/// What the connection does with a redirect to `location`: the next request's URL
/// and whether it keeps `Authorization`; `None` if it does not follow it.
fn follow(location: &str) -> Option<(String, bool)> {
    let config = ConnectionConfig::new().header("Authorization", "Bearer s");
    let mut conn = Connection::new(Time::ZERO, BASE, config).unwrap();
    conn.poll_request().unwrap();
    conn.handle_response(Time::ZERO, 302, [("Location", location)]);
    let request = conn.poll_request()?;
    Some((
        request.url().to_string(),
        request.header("Authorization").is_some(),
    ))
}

/// Pieces that URL parsers read differently from one another.
fn location() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "/",
        "\\",
        "//",
        "\\\\",
        "@",
        ":",
        "?",
        "#",
        ".",
        "..",
        "%2e",
        "%40",
        "%5c",
        "https:",
        "http:",
        "good.example",
        "evil.example",
        "GOOD.example",
        "good.example.",
        ":443",
        ":0443",
        ":80",
        "[::1]",
        "0x7f.1",
        "u:p",
        " ",
        "\t",
        "\u{fc}",
        "x",
        "\"",
        "<",
        ">",
        "`",
        "{",
        "}",
        "^",
        "'",
        "|",
    ]);
    let start = prop::sample::select(vec![
        "", "https://", "//", "\\\\", "/\\", "https:", "HTTP://",
    ]);
    (start, prop::collection::vec(piece, 0..9))
        .prop_map(|(start, pieces)| format!("{start}{}", pieces.concat()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn a_redirect_goes_where_a_browser_goes(location in location()) {
        let base = Url::parse(BASE).unwrap();
        let Some((url, kept)) = follow(&location) else {
            return Ok(());
        };
        // Where the URL Standard sends the request, if it follows it at all.
        let Ok(theirs) = base.join(&location) else {
            return Ok(());
        };
        // The fragment is never sent.
        let mut theirs_sent = theirs.clone();
        theirs_sent.set_fragment(None);
        same_url(&url, &theirs_sent, &location)?;
        if kept {
            prop_assert_eq!(origin(&theirs), origin(&base), "{:?} kept Authorization", location);
        }
    }

    /// The constructor's URL, which the first request carries, is read the same way.
    #[test]
    fn the_first_request_goes_where_a_browser_goes(url in location()) {
        let Ok(conn) = Connection::new(Time::ZERO, &url, ConnectionConfig::new()) else {
            return Ok(());
        };
        let Ok(theirs) = Url::parse(&url) else {
            return Ok(());
        };
        same_url(conn.url(), &theirs, &url)?;
    }
}

/// The case that made this test: the host ends at the backslash.
#[test]
fn a_backslash_ends_the_host() {
    let (url, kept) = follow("https://evil.example\\@good.example/").unwrap();
    assert_eq!(url, "https://evil.example/@good.example/");
    assert!(!kept);
    let conn = Connection::new(
        Time::ZERO,
        "https://evil.example\\@good.example/",
        ConnectionConfig::new(),
    )
    .unwrap();
    assert_eq!(conn.url(), "https://evil.example/@good.example/");
}
