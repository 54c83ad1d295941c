//! cert-manager's self-check texts: `Waiting for <type> challenge propagation: <err>`
//! (`pkg/controller/acmechallenges/sync.go` ≤ v1.20, `readiness.go` v1.21+), where `<err>` is one
//! of `testReachability`'s errors (`pkg/issuer/acme/http/http.go`, v1.0.0 to master):
//! (a) `failed to perform self check GET request '<url>': <url.Error>`,
//! (b) `wrong status code '<n>', expected '200'`,
//! (c) `failed to read response body: <err>`,
//! (d) `did not get expected response when querying endpoint, expected "<key>" but got: <body>`
//!     (v0.14 to v1.21.1; `<body>` untrimmed when ≤ 24 bytes, else its first 24 bytes trimmed
//!     plus `... (truncated)`), `did not get expected response "<key>" when querying endpoint`
//!     (master since e2591d9e1), `presented key (<body>) did not match expected (<key>)` (≤ v0.13),
//!
//! or, because `Solver.Check` calls `Present` first (v0.8 to master), whatever `Present` returned.
//! Older wordings read too: `failed to GET '<url>': …` (v0.7 status, v0.6 log) behind
//! `could not reach '<url>': ` (v0.6 log), `propagation check failed: <err>` (the ≤ v1.20 log
//! line) and `Error self checking HTTP01 challenge: wrong status code '502'` (pre-v0.3 log).

use super::goerr;
use super::present::looks_like_present;
use super::text::{find, go_quoted, match_at, strip_lead};
use super::{MismatchWording, Reason};

/// A self-check text: the status wording, a log wording, or a bare `<err>`; None if `raw` is none
/// of them. `raw` is the reason with leading whitespace removed and its end as written (a short
/// body may end in a newline that matters).
pub(super) fn parse(raw: &str) -> Option<Reason> {
    let t = raw.trim_end();
    if let Some(after) = strip_lead(raw, "waiting for") {
        let (start, end) = find(after, " challenge propagation")?;
        let kind = &after[..start];
        if kind.is_empty() || kind.contains(char::is_whitespace) {
            return None;
        }
        let rest = &after[end..];
        let Some(inner) = rest.strip_prefix(':') else {
            // v0.6 wrote the lead-in alone: the self check is pending, the cause not recorded.
            return Some(other(t));
        };
        if !kind.eq_ignore_ascii_case("http-01") {
            // DNS-01's own propagation check: not an HTTP self check.
            return Some(other(t));
        }
        return Some(parse_err(inner.trim_start(), true).unwrap_or_else(|| other(t)));
    }
    for lead in [
        "propagation check failed:",
        "error self checking http01 challenge:",
    ] {
        if let Some((_, end)) = find(raw, lead) {
            let inner = raw[end..].trim_start();
            return Some(parse_err(inner, false).unwrap_or_else(|| other(t)));
        }
    }
    if let Some(r) = known(raw) {
        return Some(r);
    }
    // A log line quoting (a) after its own header (`I0213 … http.go:111] could not reach '…`).
    for lead in [
        "could not reach '",
        "failed to perform self check get request '",
    ] {
        if let Some((start, _)) = find(raw, lead) {
            return known(&raw[start..]);
        }
    }
    None
}

fn other(t: &str) -> Reason {
    Reason::Other { text: t.to_owned() }
}

/// The `<err>`. `strict`: it stands in `status.reason` behind the HTTP-01 lead-in, where upstream
/// guarantees it is (a)-(d) or a Present error; log lines get no such guarantee.
fn parse_err(err: &str, strict: bool) -> Option<Reason> {
    if err.trim().is_empty() {
        return None;
    }
    if let Some(r) = known(err) {
        return Some(r);
    }
    let detail = err.trim_end().to_owned();
    (strict || looks_like_present(err)).then_some(Reason::PresentFailed { detail })
}

/// (a)-(d) at the start of `err`.
fn known(err: &str) -> Option<Reason> {
    if let Some(rest) = strip_lead(err, "wrong status code '") {
        let end = rest.find('\'')?;
        let status = rest[..end].trim().parse().ok()?;
        return Some(Reason::WrongStatus { status });
    }
    if let Some((Some(_), url, cause)) = request_parts(err) {
        let go = goerr::analyse(cause);
        return Some(Reason::ConnectionFailed {
            class: go.class(),
            address: go.address,
            url,
            detail: err.trim_end().to_owned(),
        });
    }
    if let Some(rest) = strip_lead(err, "failed to read response body:") {
        let detail = rest.trim_end().to_owned();
        return Some(Reason::BodyReadFailed {
            class: goerr::analyse(&detail).class(),
            detail,
        });
    }
    mismatch(err)
}

/// Leads of (a), old and new, each followed by `'<url>': `.
const REQUEST_LEADS: [&str; 3] = [
    "failed to perform self check get request '",
    "failed to get '",
    "could not reach '",
];

/// (a) taken apart: (the checked URL, the URL of the failing request, the Go cause). The checked
/// URL is None when `text` is a bare Go error; the request URL when Go printed none.
pub(super) fn request_parts(text: &str) -> Option<(Option<String>, Option<String>, &str)> {
    let mut rest = text.trim_start();
    let mut checked = None;
    // `could not reach '<u>': failed to GET '<u>': Get <u>: …` (v0.6) nests two leads.
    while let Some(after) = REQUEST_LEADS.iter().find_map(|l| strip_lead(rest, l)) {
        let end = after.find('\'')?;
        checked = Some(after[..end].to_owned());
        rest = after[end + 1..].strip_prefix(':')?.trim_start();
    }
    let (url, cause) = url_error(rest);
    Some((checked, url, cause))
}

/// `Get "<url>": <cause>` (Go ≥ 1.14) or `Get <url>: <cause>` (older Go): (url, cause). Without a
/// method word the whole text is the cause.
fn url_error(s: &str) -> (Option<String>, &str) {
    for method in ["get", "head", "post"] {
        let Some(end) = match_at(s, 0, method) else {
            continue;
        };
        let after = &s[end..];
        if !after.starts_with(char::is_whitespace) {
            continue;
        }
        let after = after.trim_start();
        let base = s.len() - after.len();
        if after.starts_with('"') {
            if let Some((url, close)) = go_quoted(s, base)
                && let Some(cause) = s[close..].strip_prefix(':')
            {
                return (Some(url), cause.trim());
            }
        } else if let Some((colon, next)) = find(after, ": ") {
            let url = &after[..colon];
            if url.contains("://") {
                return (Some(url.to_owned()), after[next..].trim());
            }
        }
    }
    (None, s.trim())
}

/// (d) in its three wordings. The body is taken from the text as written.
fn mismatch(err: &str) -> Option<Reason> {
    if let Some(rest) = strip_lead(
        err,
        "did not get expected response when querying endpoint, expected",
    ) {
        let base = err.len() - rest.len();
        let Some((expected, close)) = go_quoted(err, base) else {
            return Some(Reason::BodyMismatch {
                wording: MismatchWording::Quoted,
                got: None,
                expected: None,
                truncated: false,
            });
        };
        let body = match_at(err, close, " but got:").map(|end| {
            let b = &err[end..];
            b.strip_prefix(' ').unwrap_or(b)
        });
        let (got, truncated) = match body {
            Some(b) => match b.strip_suffix("... (truncated)") {
                Some(cut) => (Some(cut.to_owned()), true),
                None => (Some(b.to_owned()), false),
            },
            None => (None, false),
        };
        return Some(Reason::BodyMismatch {
            wording: MismatchWording::Quoted,
            got,
            expected: Some(expected),
            truncated,
        });
    }
    if let Some(rest) = strip_lead(err, "did not get expected response") {
        let base = err.len() - rest.len();
        let expected = go_quoted(err, base).map(|(k, _)| k);
        return Some(Reason::BodyMismatch {
            wording: MismatchWording::Current,
            got: None,
            expected,
            truncated: false,
        });
    }
    if let Some(start) = match_at(err, 0, "presented key (") {
        // The body is printed whole here, so split at the last `) did not match expected (`.
        let lower = err.to_ascii_lowercase();
        let (got, expected) = match lower.rfind(") did not match expected (") {
            Some(i) if i >= start => {
                let k = &err[i + ") did not match expected (".len()..];
                let k = k.trim_end();
                (
                    Some(err[start..i].to_owned()),
                    Some(k.strip_suffix(')').unwrap_or(k).to_owned()),
                )
            }
            _ => (None, None),
        };
        return Some(Reason::BodyMismatch {
            wording: MismatchWording::Legacy,
            got,
            expected,
            truncated: false,
        });
    }
    None
}
