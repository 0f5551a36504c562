//! Just enough URL handling to follow redirects without a URL crate: check that the
//! URL given to the constructor is an absolute `http`/`https` URL, resolve a
//! `Location` against the current URL (RFC 3986 §5.2), and compare origins.
//!
//! This is RFC 3986, not the WHATWG URL Standard a browser uses. The differences
//! that decide where a request goes and what it carries are handled the way the
//! WHATWG parser handles them: leading and trailing C0 controls and spaces are
//! trimmed, tabs and newlines inside are removed, and spaces and non-ASCII bytes are
//! percent-encoded ([`clean`]); other ASCII controls make the reference unusable.
//! And since `http` and `https` are "special" schemes, a backslash before the
//! query is a slash, any run of slashes may stand before the host, `http:path` is
//! relative to an `http` URL, `%2e` spells a dot segment, and what the Standard
//! percent-encodes in a path or query is ([`special`]). There is no IDNA, and no
//! host or port normalisation beyond lower-casing the scheme: hosts the WHATWG
//! parser would find the same that differ here (`ex%61mple.com` and
//! `example.com`, an IPv4 address written in hex, full-width letters) are taken
//! as different origins, which only ever drops credentials; where it finds the
//! host, this finds the same host.

use alloc::string::String;

/// A URL or reference split into the five RFC 3986 components (Appendix B).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    pub scheme: Option<&'a str>,
    pub authority: Option<&'a str>,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub fragment: Option<&'a str>,
}

/// Splits a URI reference as the RFC 3986 Appendix B regular expression does:
/// `^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?`. Returns `None` if what
/// would be the scheme is not a valid scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" /
/// "." )`): such a string is not a URI reference at all, since a relative reference
/// cannot have a colon in its first segment.
pub(crate) fn split(s: &str) -> Option<Parts<'_>> {
    let mut rest = s;
    let (rest_no_fragment, fragment) = match rest.find('#') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    rest = rest_no_fragment;
    let (rest_no_query, query) = match rest.find('?') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    rest = rest_no_query;
    let mut scheme = None;
    if let Some(colon) = rest.find(':') {
        if !rest[..colon].contains('/') {
            let candidate = &rest[..colon];
            if !is_scheme(candidate) {
                return None;
            }
            scheme = Some(candidate);
            rest = &rest[colon + 1..];
        }
    }
    let mut authority = None;
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find('/').unwrap_or(after.len());
        authority = Some(&after[..end]);
        rest = &after[end..];
    }
    Some(Parts {
        scheme,
        authority,
        path: rest,
        query,
        fragment,
    })
}

fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// Recomposes components (RFC 3986 §5.3).
fn recompose(out: &mut String, parts: &Parts<'_>) {
    if let Some(scheme) = parts.scheme {
        out.push_str(scheme);
        out.push(':');
    }
    if let Some(authority) = parts.authority {
        out.push_str("//");
        out.push_str(authority);
    }
    out.push_str(parts.path);
    if let Some(query) = parts.query {
        out.push('?');
        out.push_str(query);
    }
    if let Some(fragment) = parts.fragment {
        out.push('#');
        out.push_str(fragment);
    }
}

/// Cleans a reference as the WHATWG URL parser would before parsing: trims leading
/// and trailing C0 controls and spaces, removes tabs and newlines, and percent-encodes
/// spaces and bytes outside ASCII. Other ASCII controls make it unusable (`None`).
pub(crate) fn clean(reference: &[u8]) -> Option<String> {
    let is_c0_or_space = |b: &u8| *b <= b' ';
    let start = reference
        .iter()
        .position(|b| !is_c0_or_space(b))
        .unwrap_or(reference.len());
    let end = reference
        .iter()
        .rposition(|b| !is_c0_or_space(b))
        .map_or(start, |i| i + 1);
    let mut out = String::with_capacity(end - start);
    for &b in &reference[start..end] {
        match b {
            b'\t' | b'\n' | b'\r' => {}
            0..=0x1F | 0x7F => return None,
            b' ' | 0x80..=0xFF => push_escaped(&mut out, b),
            _ => out.push(char::from(b)),
        }
    }
    Some(out)
}

/// Rewrites a reference to an `http` or `https` URL, or one relative to `base_scheme`
/// (`http` or `https`), into the RFC 3986 form of what the WHATWG URL parser makes
/// of it for these "special" schemes; any other reference is returned as it is.
///
/// - A backslash before the query or fragment is a slash (the authority, path
///   start and path states treat `\` as `/` in a special URL).
/// - After the scheme, or at the start of a reference that begins with two
///   slashes, any number of slashes stand before the host ("special authority
///   ignore slashes state"): `http:/\\host` and `///host` name `host`.
/// - `http:path` with an `http` base is relative to it, as `path` is ("special
///   relative or authority state"); with no base or another scheme, it is
///   `http://path`.
/// - A path segment `%2e` is `.`, and `.%2e`, `%2e.` and `%2e%2e` are `..`; a
///   colon in a relative reference's first segment is part of the path (RFC
///   3986 would not take it as a reference at all).
/// - `"`, `<`, `>`, `` ` ``, `{`, `}` and `^` are percent-encoded before the query,
///   and `"`, `<`, `>` and `'` in it (the path and special-query percent-encode
///   sets, beyond what [`clean`] encodes): the request carries what a browser's
///   carries, in a form HTTP libraries accept.
///
/// Without the first rule, `http://evil.example\@good.example/` would be taken
/// here as an authority with user info `evil.example\` and host `good.example`,
/// while a WHATWG parser (a browser, the `url` crate) sends the request to
/// `evil.example`: credentials kept for `good.example` would go there.
pub(crate) fn special(reference: &str, base_scheme: Option<&str>) -> String {
    let scheme_end = reference
        .find(':')
        .filter(|&colon| is_scheme(&reference[..colon]));
    let scheme = scheme_end.map(|colon| &reference[..colon]);
    if scheme.is_some_and(|s| !is_http(s)) || (scheme.is_none() && base_scheme.is_none()) {
        return String::from(reference);
    }
    // Up to the query or fragment: slashes for backslashes, and the dot segments
    // written with `%2e` as dots ("single-dot" and "double-dot URL path segment").
    let after_scheme = scheme_end.map_or(0, |colon| colon + 1);
    let end = reference.find(['?', '#']).unwrap_or(reference.len());
    let mut out = String::with_capacity(reference.len() + 2);
    out.push_str(&reference[..after_scheme]);
    for (i, segment) in reference[after_scheme..end].split(['/', '\\']).enumerate() {
        if i > 0 {
            out.push('/');
        }
        let is = |spellings: &[&str]| spellings.iter().any(|s| s.eq_ignore_ascii_case(segment));
        let segment = if is(&["%2e"]) {
            "."
        } else if is(&[".%2e", "%2e.", "%2e%2e"]) {
            ".."
        } else {
            segment
        };
        percent_encode(&mut out, segment, PATH_SET);
    }
    // The query (the fragment is never sent).
    let query_end = reference.find('#').unwrap_or(reference.len()).max(end);
    percent_encode(&mut out, &reference[end..query_end], SPECIAL_QUERY_SET);
    out.push_str(&reference[query_end..]);
    let rest = &out[after_scheme..];
    let same_scheme = match scheme {
        Some(scheme) => base_scheme.is_some_and(|base| base.eq_ignore_ascii_case(scheme)),
        None => true,
    };
    if rest.starts_with("//") || !same_scheme {
        // An authority, after any run of slashes.
        return alloc::format!("{}//{}", &out[..after_scheme], rest.trim_start_matches('/'));
    }
    // Relative to the base (its scheme dropped if named): a colon in the first
    // segment is the path's, not a scheme's.
    let first = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if rest[..first].contains(':') {
        alloc::format!("./{rest}")
    } else {
        String::from(rest)
    }
}

/// What the URL Standard percent-encodes in a special URL's path, beyond what
/// [`clean`] has ("path percent-encode set"; `?` and `#` end the path).
const PATH_SET: &[u8] = b"\"<>`{}^";

/// What it percent-encodes in a special URL's query ("special-query
/// percent-encode set"; `#` ends the query).
const SPECIAL_QUERY_SET: &[u8] = b"\"<>'";

/// Appends `text` to `out` with the bytes of `set` percent-encoded.
fn percent_encode(out: &mut String, text: &str, set: &[u8]) {
    for c in text.chars() {
        match u8::try_from(c) {
            Ok(b) if set.contains(&b) => push_escaped(out, b),
            _ => out.push(c),
        }
    }
}

/// Appends `%XX` for `b`.
fn push_escaped(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0xF)]));
}

/// Checks that `url` is an absolute `http` or `https` URL with a host and returns it
/// with the scheme in lower case, read as [`clean`] and [`special`] read it, and
/// its path without dot segments.
pub(crate) fn absolute_http(url: &str) -> Result<String, UrlProblem> {
    let cleaned = clean(url.as_bytes()).ok_or(UrlProblem::Invalid)?;
    let cleaned = special(&cleaned, None);
    let parts = split(&cleaned).ok_or(UrlProblem::Invalid)?;
    let Some(scheme) = parts.scheme else {
        return Err(UrlProblem::Invalid);
    };
    if !is_http(scheme) {
        return Err(UrlProblem::Scheme);
    }
    if host(parts.authority.unwrap_or_default()).is_empty() {
        return Err(UrlProblem::Invalid);
    }
    let scheme = scheme.to_ascii_lowercase();
    let path = remove_dot_segments(parts.path);
    let mut out = String::with_capacity(cleaned.len());
    recompose(
        &mut out,
        &Parts {
            scheme: Some(&scheme),
            path: &path,
            ..parts
        },
    );
    Ok(out)
}

/// Why a URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlProblem {
    /// Not an absolute URL with a host.
    Invalid,
    /// Not `http` or `https`.
    Scheme,
}

/// Whether a scheme is an HTTP(S) scheme (case-insensitive).
pub(crate) fn is_http(scheme: &str) -> bool {
    scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
}

/// Resolves `reference` against the absolute URL `base` (RFC 3986 §5.2.2, with the
/// merge of §5.2.3 and the dot-segment removal of §5.2.4). `None` if either cannot be
/// split or `base` has no scheme.
pub(crate) fn resolve(base: &str, reference: &str) -> Option<String> {
    let b = split(base)?;
    let reference = special(reference, Some(b.scheme?));
    let r = split(&reference)?;
    let mut merged = String::new();
    let (scheme, authority, path, query);
    if r.scheme.is_some() {
        scheme = r.scheme;
        authority = r.authority;
        path = remove_dot_segments(r.path);
        query = r.query;
    } else {
        if r.authority.is_some() {
            authority = r.authority;
            path = remove_dot_segments(r.path);
            query = r.query;
        } else {
            if r.path.is_empty() {
                path = String::from(b.path);
                query = r.query.or(b.query);
            } else {
                if r.path.starts_with('/') {
                    path = remove_dot_segments(r.path);
                } else {
                    // §5.2.3 Merge Paths.
                    if b.authority.is_some() && b.path.is_empty() {
                        merged.push('/');
                    } else if let Some(slash) = b.path.rfind('/') {
                        merged.push_str(&b.path[..=slash]);
                    }
                    merged.push_str(r.path);
                    path = remove_dot_segments(&merged);
                }
                query = r.query;
            }
            authority = b.authority;
        }
        scheme = b.scheme;
    }
    let mut out = String::with_capacity(base.len() + reference.len());
    recompose(
        &mut out,
        &Parts {
            scheme,
            authority,
            path: &path,
            query,
            fragment: r.fragment,
        },
    );
    Some(out)
}

/// RFC 3986 §5.2.4 Remove Dot Segments, step by step as written there.
pub(crate) fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut output = String::with_capacity(path.len());
    while !input.is_empty() {
        // A. Remove a prefix of "../" or "./".
        if let Some(rest) = input.strip_prefix("../") {
            input = rest;
        } else if let Some(rest) = input.strip_prefix("./") {
            input = rest;
        }
        // B. Replace a prefix of "/./" or an input of "/." with "/".
        else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        }
        // C. Replace a prefix of "/../" or an input of "/.." with "/", and remove the
        // last segment and its preceding "/" (if any) from the output.
        else if input.starts_with("/../") || input == "/.." {
            input = if input == "/.." { "/" } else { &input[3..] };
            let cut = output.rfind('/').unwrap_or(0);
            output.truncate(cut);
        }
        // D. An input of "." or ".." is removed.
        else if input == "." || input == ".." {
            input = "";
        }
        // E. Move the first path segment, with its initial "/" if any, to the output.
        else {
            let from = usize::from(input.starts_with('/'));
            let end = input[from..].find('/').map_or(input.len(), |i| i + from);
            output.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    output
}

/// `url` without its fragment: fragments are never sent in a request.
pub(crate) fn without_fragment(url: &str) -> &str {
    match url.find('#') {
        Some(i) => &url[..i],
        None => url,
    }
}

/// The host part of an authority, lower-cased comparison left to the caller.
fn host(authority: &str) -> &str {
    let host_port = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    if host_port.starts_with('[') {
        return match host_port.find(']') {
            Some(end) => &host_port[..=end],
            None => host_port,
        };
    }
    match host_port.rfind(':') {
        Some(colon) => &host_port[..colon],
        None => host_port,
    }
}

/// The port of an authority, or the scheme's default.
fn port<'a>(scheme: &str, authority: &'a str) -> &'a str {
    let host = host(authority);
    let after_userinfo = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let port = after_userinfo[host.len()..]
        .strip_prefix(':')
        .unwrap_or_default();
    if !port.is_empty() {
        port.trim_start_matches('0')
    } else if scheme.eq_ignore_ascii_case("https") {
        "443"
    } else {
        "80"
    }
}

/// Whether two absolute URLs have the same origin (scheme, host, port; the scheme
/// and host compared case-insensitively, default ports filled in).
pub(crate) fn same_origin(a: &str, b: &str) -> bool {
    let (Some(a), Some(b)) = (split(a), split(b)) else {
        return false;
    };
    let (Some(sa), Some(sb)) = (a.scheme, b.scheme) else {
        return false;
    };
    let (aa, ab) = (
        a.authority.unwrap_or_default(),
        b.authority.unwrap_or_default(),
    );
    sa.eq_ignore_ascii_case(sb)
        && host(aa).eq_ignore_ascii_case(host(ab))
        && port(sa, aa) == port(sb, ab)
}

/// The scheme of an absolute URL.
pub(crate) fn scheme(url: &str) -> Option<&str> {
    split(url)?.scheme
}

/// Whether HTTP can carry `value` as a field value (RFC 9110 §5.5): no control
/// character but horizontal tab. (Fetch's own rule, no CR, LF or NUL, lets through
/// bytes that HTTP/1.1 implementations refuse, and a request they refuse would be
/// retried for ever.)
pub(crate) fn is_field_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Whether `value` is an HTTP token (RFC 9110 §5.6.2): a valid method or header name.
pub(crate) fn is_token(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each reference resolves against `base` to the URL beside it.
    fn assert_resolves(base: &str, cases: &[(&str, &str)]) {
        for &(reference, expected) in cases {
            assert_eq!(
                resolve(base, reference).as_deref(),
                Some(expected),
                "{reference}"
            );
        }
    }

    /// RFC 3986 §5.4.1 and §5.4.2, the normal and abnormal examples.
    #[test]
    fn rfc3986_examples() {
        let base = "http://a/b/c/d;p?q";
        let cases = [
            ("g:h", "g:h"),
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q#s"),
            ("g#s", "http://a/b/c/g#s"),
            ("g?y#s", "http://a/b/c/g?y#s"),
            (";x", "http://a/b/c/;x"),
            ("g;x", "http://a/b/c/g;x"),
            ("g;x?y#s", "http://a/b/c/g;x?y#s"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../", "http://a/"),
            ("../../g", "http://a/g"),
            // Abnormal examples.
            ("../../../g", "http://a/g"),
            ("../../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            (".g", "http://a/b/c/.g"),
            ("g..", "http://a/b/c/g.."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("./g/.", "http://a/b/c/g/"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
            ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("g?y/./x", "http://a/b/c/g?y/./x"),
            ("g?y/../x", "http://a/b/c/g?y/../x"),
            ("g#s/./x", "http://a/b/c/g#s/./x"),
            ("g#s/../x", "http://a/b/c/g#s/../x"),
            // RFC 3986 leaves this one to the parser ("http:g" under a strict
            // parser); for the special scheme `http` the WHATWG parser, which
            // browsers follow, takes it as relative.
            ("http:g", "http://a/b/c/g"),
        ];
        assert_resolves(base, &cases);
    }

    #[test]
    fn empty_base_path_merges_with_slash() {
        assert_resolves(
            "https://example.com",
            &[("events", "https://example.com/events")],
        );
        assert_resolves("https://example.com?x", &[("?y", "https://example.com?y")]);
    }

    #[test]
    fn remove_dot_segments_rfc_walkthrough() {
        // The two worked examples of §5.2.4.
        assert_eq!(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
        assert_eq!(remove_dot_segments("mid/content=5/../6"), "mid/6");
    }

    #[test]
    fn bad_scheme_is_a_path() {
        // Not a URI reference to RFC 3986; to the URL Standard, a relative path.
        assert_eq!(split("1http://x"), None);
        assert_resolves(
            "http://a/b/c",
            &[
                ("1http://x", "http://a/b/1http://x"),
                ("a%20b:c", "http://a/b/a%20b:c"),
                // A colon after a slash is part of the path.
                ("./x:y", "http://a/b/x:y"),
            ],
        );
    }

    #[test]
    fn cleaning_follows_the_whatwg_parser_cheaply() {
        assert_eq!(
            clean(b"  /a b\t\n\xc3\xa9 ").as_deref(),
            Some("/a%20b%C3%A9")
        );
        assert_eq!(clean(b"/a\x01b"), None);
        assert_eq!(clean(b"/a\x7fb"), None);
    }

    #[test]
    fn absolute_http_urls() {
        assert_eq!(
            absolute_http("HTTPS://Example.com/x").as_deref(),
            Ok("https://Example.com/x")
        );
        assert_eq!(absolute_http("/relative"), Err(UrlProblem::Invalid));
        assert_eq!(absolute_http("http:"), Err(UrlProblem::Invalid));
        assert_eq!(absolute_http("http:/\\"), Err(UrlProblem::Invalid));
        // As the WHATWG parser reads them with no base.
        assert_eq!(absolute_http("http:host").as_deref(), Ok("http://host"));
        assert_eq!(
            absolute_http("http://h/a/./b/../c/%2e%2E?x/../y").as_deref(),
            Ok("http://h/a/?x/../y")
        );
        assert_eq!(absolute_http("http:///host").as_deref(), Ok("http://host"));
        assert_eq!(
            absolute_http("HTTP:\\\\a.example\\x?y\\z").as_deref(),
            Ok("http://a.example/x?y\\z")
        );
        assert_eq!(absolute_http("ftp://x/"), Err(UrlProblem::Scheme));
        assert_eq!(absolute_http("mailto:a@b"), Err(UrlProblem::Scheme));
    }

    /// What the WHATWG URL parser makes of these references for `http` and
    /// `https`, state by state (the `url` crate reads the same, but for `///host`,
    /// where it stops at the empty host that the "special authority ignore slashes
    /// state" skips).
    #[test]
    fn special_schemes_as_the_whatwg_parser_reads_them() {
        let base = "https://good.example/a/b";
        let cases = [
            // A backslash ends the host: the user info is not `evil.example\`.
            (
                "https://evil.example\\@good.example/x",
                "https://evil.example/@good.example/x",
            ),
            (
                "//evil.example\\@good.example/",
                "https://evil.example/@good.example/",
            ),
            ("\\\\evil.example\\x", "https://evil.example/x"),
            ("/\\evil.example/x", "https://evil.example/x"),
            // Backslashes in the path are slashes; in the query and fragment not.
            (
                "c\\d\\..\\e?q\\r#f\\g",
                "https://good.example/a/c/e?q\\r#f\\g",
            ),
            ("\\x", "https://good.example/x"),
            // Dots written as `%2e` are dot segments; a colon in a relative
            // reference's first segment is the path's.
            ("%2E/x/.%2e/%2e%2e/y", "https://good.example/y"),
            ("x%2e/%2e.x", "https://good.example/a/x%2e/%2e.x"),
            ("_x:1/y", "https://good.example/a/_x:1/y"),
            ("https:%2e/..", "https://good.example/"),
            // Any number of slashes before the host.
            ("///evil.example/x", "https://evil.example/x"),
            ("https:////evil.example/x", "https://evil.example/x"),
            ("https:\\/\\evil.example", "https://evil.example"),
            // The base's scheme without slashes: relative.
            ("https:c", "https://good.example/a/c"),
            ("HTTPS:/c", "https://good.example/c"),
            ("https:?q", "https://good.example/a/b?q"),
            ("https:https:x", "https://good.example/a/https:x"),
            // Another special scheme without slashes: a host.
            ("http:evil.example/x", "http://evil.example/x"),
            ("http:\\evil.example", "http://evil.example"),
            // Other schemes are left alone (and not followed).
            ("ftp:\\x", "ftp:\\x"),
        ];
        assert_resolves(base, &cases);
        // The first case is another origin, as it is to a browser.
        let target = resolve(base, "https://evil.example\\@good.example/x").unwrap();
        assert!(!same_origin(base, &target));
    }

    #[test]
    fn origins() {
        assert!(same_origin("http://a.example/x", "HTTP://A.example:80/y"));
        assert!(same_origin(
            "https://u:p@a.example:443/",
            "https://a.example/"
        ));
        assert!(!same_origin("https://a.example/", "http://a.example/"));
        assert!(!same_origin("https://a.example/", "https://b.example/"));
        assert!(!same_origin(
            "https://a.example:8443/",
            "https://a.example/"
        ));
        assert!(same_origin("http://[::1]:8080/", "http://[::1]:8080/z"));
        assert!(!same_origin("http://[::1]:8080/", "http://[::1]/"));
    }

    #[test]
    fn tokens() {
        assert!(is_token("GET"));
        assert!(is_token("X-Custom_1"));
        assert!(!is_token(""));
        assert!(!is_token("Bad Name"));
        assert!(!is_token("a:b"));
    }
}
