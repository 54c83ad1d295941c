//! Texts about the ACME server: its problem documents, and requests to it that failed.
//!
//! * cert-manager's ACME client prints a problem as `<status> <type>: <detail>`
//!   (`third_party/forked/acme/types.go` `Error.Error`; `<type>` is empty for a non-JSON answer,
//!   e.g. `429 : <html>…`), an authorization failure as `acme: authorization error for <id>:
//!   <problem>[; <problem>…]` (`AuthorizationError.Error`), and its own errors as `acme: …`.
//! * The Challenge controller writes them behind a prefix (`sync.go`: `Error accepting
//!   authorization: `, `Error accepting challenge: `, `Failed to retrieve Order resource: `,
//!   `unexpected non-ACME API error: ` since v1.16), the Order controller likewise
//!   (`acmeorders/sync.go`: `Failed to create Order: `, `Failed to finalize Order: `, …), and the
//!   Issuer its account errors (`Failed to verify ACME account: `, …).
//! * `syncChallengeStatus` (sync.go) writes the challenge's problem `Detail` **bare**: Boulder's
//!   `<ip>: Invalid response from <url>: 404`, `During secondary validation: …`, Pebble's
//!   `The key authorization file from the server did not match this challenge …`.

use super::Reason;
use super::goerr;
use super::text::{find, flat};

const URN: &str = "urn:ietf:params:acme:error:";
/// ACMEv1 problem types (cert-manager ≤ v0.7).
const URN_V1: &str = "urn:acme:error:";

/// Prefixes before an ACME client result, lowercase, with where cert-manager writes them.
pub(super) const ACME_PREFIXES: [&str; 15] = [
    "error accepting authorization:", // acmechallenges/sync.go handleAuthorizationError
    "accepting challenge authorization failed:", // its Event (reason Failed)
    "error accepting challenge:",     // acmechallenges/sync.go acceptChallenge
    "unexpected non-acme api error:", // acmechallenges/sync.go handleError (v1.16+)
    "failed to retrieve order resource:", // acmechallenges + acmeorders sync.go
    "failed to create order:",        // acmeorders/sync.go createOrder
    "failed to finalize order:",      // acmeorders/sync.go finalizeOrder
    "failed to fetch authorization:", // acmeorders/sync.go
    "failed to retrieve signed certificate:", // acmeorders/sync.go
    "invalid certificate retrieved from acme server:", // acmeorders/sync.go
    "failed to verify acme account:", // issuer/acme/setup.go
    "failed to register acme account:", // issuer/acme/setup.go
    "failed to update acme account:", // issuer/acme/setup.go
    "error initializing issuer:",     // issuer controller (v0.x Event)
    "error checking acme domain validation:", // ACMEv1 (v0.2-v0.5)
];

/// Bare problem details of Boulder (`va/va.go` `detailedError`, `va/http.go`, `bdns`) and Pebble
/// (`va/va.go`), lowercase, as `syncChallengeStatus` copies them into `status.reason`.
const BARE_DETAILS: [&str; 22] = [
    "invalid response from ",
    "during secondary validation:",
    "timeout during connect",
    "timeout after connect",
    "timeout during read",
    "timeout during write",
    "connection refused",
    "connection reset by peer",
    "network unreachable",
    "error getting validation data",
    "dns problem:",
    "no valid ip addresses found",
    "no valid a records found",
    "no valid aaaa records found",
    "fetching http",
    "redirect loop detected",
    "too many redirects",
    "in redirect target",
    "server only speaks http, not tls",
    "server is speaking http/2 over http",
    "the key authorization file from the server did not match this challenge",
    "error reading http response body",
];

/// True when `text` reads like a problem detail the ACME server wrote.
pub(super) fn looks_like_bare_detail(text: &str) -> bool {
    let f = flat(text);
    // A Go error text (`dial tcp …: connect: connection refused`) is the client's, not the CA's.
    let go_error = [
        "dial tcp",
        "dial udp",
        "read tcp",
        "lookup ",
        "get \"",
        "post \"",
        "connect: ",
    ]
    .iter()
    .any(|m| f.contains(m));
    !go_error && BARE_DETAILS.iter().any(|d| f.contains(d)) || f.contains("remote perspective")
}

/// `text` after one of the ACME prefixes, if it starts with one.
pub(super) fn after_acme_prefix(text: &str) -> Option<&str> {
    ACME_PREFIXES
        .iter()
        .find_map(|p| super::text::strip_lead(text, p))
}

/// The result of an ACME request written after a prefix: a problem document, or a request that
/// failed before any answer (a Go network error, or cert-manager's own client error).
pub(super) fn parse_acme_result(full: &str, rest: &str) -> Reason {
    let f = flat(rest);
    if f.contains(URN)
        || f.contains(URN_V1)
        || problem_status(rest).is_some()
        || f.starts_with("acme: ")
    {
        return parse_problem(full);
    }
    // A request that got no problem document back: the Go network error (or the client's own
    // error text) as the controller saw it.
    Reason::AcmeRequestFailed {
        class: goerr::analyse(rest).class(),
        detail: rest.to_owned(),
    }
}

/// `429 : <detail>` / `403 urn:…`: the HTTP status at the start of an ACME `Error` text.
fn problem_status(s: &str) -> Option<u16> {
    let s = s.trim_start();
    let (num, rest) = s.split_at_checked(3)?;
    let status: u16 = num.parse().ok()?;
    if !(100..600).contains(&status) {
        return None;
    }
    let rest = rest.strip_prefix(' ')?;
    (rest.starts_with(": ")
        || rest.starts_with(':')
        || rest.to_ascii_lowercase().starts_with("urn:"))
    .then_some(status)
}

/// A CA problem anywhere in `text`: `… <status> urn:…:<type>: <detail>`, `… <status> :
/// <detail>`, or any other text about the CA (the detail is then the whole text).
pub(super) fn parse_problem(text: &str) -> Reason {
    let lower = text.to_ascii_lowercase();
    let urn = lower
        .find(URN)
        .map(|i| (i, URN.len()))
        .or_else(|| lower.find(URN_V1).map(|i| (i, URN_V1.len())));
    let (problem_type, detail, http_status) = match urn {
        Some((i, len)) => {
            let after = &text[i + len..];
            let (ty, detail) = match after.find(": ") {
                Some(j) => (&after[..j], after[j + 2..].to_owned()),
                None => (after.trim_end_matches(':'), String::new()),
            };
            // The HTTP status stands right before the urn: "... 403 urn:...".
            let status = text[..i]
                .trim_end()
                .rsplit([' ', ':'])
                .next()
                .and_then(|s| s.parse::<u16>().ok());
            (Some(ty.trim().to_owned()), detail, status)
        }
        None => match status_without_type(text) {
            Some((status, detail)) => (None, detail, Some(status)),
            None => (None, text.to_owned(), None),
        },
    };
    let secondary = find(text, "during secondary validation").is_some();
    let problem_type = problem_type.or_else(|| {
        let f = flat(text);
        (f.contains("ratelimited") || f.contains("rate limit")).then(|| "rateLimited".to_owned())
    });
    Reason::CaProblem {
        http_status,
        problem_type,
        detail,
        secondary,
    }
}

/// `… 429 : <detail>`: an ACME `Error` without a problem type (a non-JSON answer).
fn status_without_type(text: &str) -> Option<(u16, String)> {
    let i = text
        .find(" : ")
        .or_else(|| text.ends_with(" :").then(|| text.len() - 2))?;
    let num = text[..i].rsplit([' ', ':']).next()?;
    let status: u16 = num.parse().ok()?;
    let detail = text.get(i + 3..).unwrap_or_default();
    (100..600)
        .contains(&status)
        .then(|| (status, detail.to_owned()))
}
