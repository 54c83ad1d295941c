//! Where a challenge is stuck (its phase) and what its `status.reason` says, as structured data.
//!
//! cert-manager writes free text into `Challenge.status.reason` (and Order/CertificateRequest
//! texts). The wordings differ between releases (`cert-manager-http01.md` §1.8-1.11); this module
//! knows them (the fixture `tests/fixtures/reasons.json` lists each with its source) and parses
//! them into a [`Reason`] so diagnosis rules never match on raw strings, and [`observation`] says
//! what a self-check reason proves about the controller's own network view. Pure functions.
//!
//! * `selfcheck` — `Waiting for HTTP-01 challenge propagation: <err>` and older wordings;
//! * `goerr` — the Go network error inside them ([`Failure`]);
//! * `present` — Present errors, bare in `status.reason` ([`PresentFailure`]);
//! * `ca` — ACME problem documents and failed requests to the ACME server;
//! * `observe` — what a self-check reason proves ([`Observation`]);
//! * `when` — when the reason was written and what its age means ([`when::ReasonTime`]).

mod ca;
mod goerr;
mod observe;
mod present;
mod selfcheck;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fixture;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_observe;
#[cfg(test)]
mod tests_wordings;
mod text;
pub mod when;

pub use goerr::{Failure, connection_class};
pub use observe::{BodySeen, BodyShape, Known, Observation, observation};
pub use present::{PresentCause, PresentFailure, present_failure};

use crate::evidence::ChallengeEvidence;
use serde::{Deserialize, Serialize};
use text::{find, flat, strip_lead, truncate};

/// The phases of failure-modes.md §1.4, plus `Scheduling` for a challenge the scheduler has not
/// picked up yet (cert-manager runs one challenge per DNS name and type at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// No solver could be chosen: no Challenge exists for an authorization.
    SolverSelection,
    /// Waiting for cert-manager's scheduler (`processing=false`, no state yet).
    Scheduling,
    /// Creating the solver pod/Service/Ingress/HTTPRoute (`presented=false`).
    Present,
    /// cert-manager's own reachability check before asking the CA.
    SelfCheck,
    /// The CA validates (or has rejected) the challenge.
    CaValidation,
    /// The CA accepted the challenge.
    Done,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::SolverSelection => "solver selection",
            Phase::Scheduling => "scheduling",
            Phase::Present => "present",
            Phase::SelfCheck => "self check",
            Phase::CaValidation => "CA validation",
            Phase::Done => "done",
        }
    }
}

/// How a connection failed, as Go's error text shows it. [`Failure`] (from [`observation`]) is
/// the precise cause; this is the coarse class the diagnosis rules match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionClass {
    /// `no such host` — the name does not resolve from where the check ran.
    NoSuchHost,
    /// Other DNS failures (`server misbehaving`, lookup timeouts, resolver unreachable).
    Dns,
    /// `i/o timeout`, `connection timed out`, `Client.Timeout exceeded`, `context deadline
    /// exceeded`.
    Timeout,
    /// `connection refused`.
    Refused,
    /// `connection reset by peer`.
    Reset,
    /// `EOF` — the peer closed without answering (e.g. PROXY protocol expected).
    Eof,
    /// `tls:` / `x509:` / `remote error` after a redirect to https.
    Tls,
    /// `http: server gave HTTP response to HTTPS client` — an https redirect to a port that
    /// speaks plain HTTP.
    PlainHttpOnHttps,
    /// `stopped after 10 redirects`.
    RedirectLoop,
    /// `proxyconnect` — the controller's HTTP proxy could not be used.
    Proxy,
    /// `no route to host`, `network is unreachable`, or a local policy (`permission denied`).
    Unreachable,
    /// `cannot assign requested address` — no source address of that family (an IPv6
    /// destination from an IPv4-only pod).
    AddressNotAvailable,
    /// `malformed HTTP response` — something that is not HTTP answered.
    NotHttp,
    Other,
}

impl ConnectionClass {
    pub fn label(self) -> &'static str {
        match self {
            ConnectionClass::NoSuchHost => "no such host",
            ConnectionClass::Dns => "DNS error",
            ConnectionClass::Timeout => "timeout",
            ConnectionClass::Refused => "connection refused",
            ConnectionClass::Reset => "connection reset",
            ConnectionClass::Eof => "connection closed (EOF)",
            ConnectionClass::Tls => "TLS error",
            ConnectionClass::PlainHttpOnHttps => "plain HTTP answered an HTTPS request",
            ConnectionClass::RedirectLoop => "too many redirects",
            ConnectionClass::Proxy => "proxy error",
            ConnectionClass::Unreachable => "host or network unreachable",
            ConnectionClass::AddressNotAvailable => "no source address for that family",
            ConnectionClass::NotHttp => "answer is not HTTP",
            ConnectionClass::Other => "connection error",
        }
    }
}

/// Which cert-manager release family wrote a body-mismatch message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MismatchWording {
    /// `presented key (...) did not match expected (...)` — v0.13 and older.
    Legacy,
    /// `... expected "<key>" but got: <24 bytes>` — v0.14 to v1.21.1.
    Quoted,
    /// `did not get expected response "<key>" when querying endpoint` — after v1.21.1.
    Current,
}

/// A parsed `Challenge.status.reason` (or Order/CertificateRequest failure text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Reason {
    /// Self check: the URL answered with a status other than 200.
    WrongStatus { status: u16 },
    /// Self check: the GET failed at the network level.
    #[serde(rename_all = "camelCase")]
    ConnectionFailed {
        class: ConnectionClass,
        /// The remote address in the Go error (`203.0.113.10:80`), when present.
        #[serde(skip_serializing_if = "Option::is_none")]
        address: Option<String>,
        /// The URL of the request that failed (`Get "<url>"`): a redirect target when it is not
        /// the challenge URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        detail: String,
    },
    /// Self check: a 200 came back, then reading the body failed.
    BodyReadFailed {
        #[serde(default = "other_class")]
        class: ConnectionClass,
        detail: String,
    },
    /// Self check: 200, but the body was not the key.
    #[serde(rename_all = "camelCase")]
    BodyMismatch {
        wording: MismatchWording,
        /// The body as printed (without `... (truncated)`); None when the wording has none.
        #[serde(skip_serializing_if = "Option::is_none")]
        got: Option<String>,
        /// The key authorization cert-manager expected.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected: Option<String>,
        /// The body was longer than the 24 bytes printed.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        truncated: bool,
    },
    /// `waitInsteadOfSelfCheck`: cert-manager waits instead of checking (v1.21+).
    WaitingWithoutSelfCheck { detail: String },
    /// Creating the solver resources failed: the bare error in `status.reason`, the Event's
    /// `Error presenting challenge: <err>`, or a Present error inside the self check.
    /// [`Reason::present_failure`] takes the detail apart.
    PresentFailed { detail: String },
    /// Removing the solver resources failed (`Error cleaning up challenge: <err>`).
    CleanUpFailed { detail: String },
    /// The ACME server answered with a problem document (or its detail, written bare).
    #[serde(rename_all = "camelCase")]
    CaProblem {
        #[serde(skip_serializing_if = "Option::is_none")]
        http_status: Option<u16>,
        /// The urn type without prefix: `unauthorized`, `connection`, `dns`, `rateLimited`, ...
        #[serde(skip_serializing_if = "Option::is_none")]
        problem_type: Option<String>,
        detail: String,
        /// True when a remote perspective failed (`During secondary validation`).
        secondary: bool,
    },
    /// A request to the ACME server failed without a problem document: the controller's network
    /// to the ACME server (class), or cert-manager's ACME client itself (`other`).
    AcmeRequestFailed {
        class: ConnectionClass,
        detail: String,
    },
    /// The order could not pick a solver for an authorization.
    NoSolver { detail: String },
    /// `Successfully authorized domain`.
    Authorized,
    /// Text this tool does not recognise, kept as-is.
    Other { text: String },
}

fn other_class() -> ConnectionClass {
    ConnectionClass::Other
}

impl Reason {
    /// True for CA problems of type rateLimited (or an HTTP 429).
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Reason::CaProblem { problem_type: Some(t), .. } if t == "rateLimited")
            || matches!(
                self,
                Reason::CaProblem {
                    http_status: Some(429),
                    ..
                }
            )
    }

    /// A Present error taken apart (cause, resource, webhook); None for other reasons.
    pub fn present_failure(&self) -> Option<PresentFailure> {
        match self {
            Reason::PresentFailed { detail } => Some(present_failure(detail)),
            _ => None,
        }
    }

    /// What this self-check reason proves about the controller's view ([`observation`]).
    pub fn observation(&self) -> Option<Observation> {
        observation(self)
    }

    /// Short human text for tables.
    pub fn short(&self) -> String {
        match self {
            Reason::WrongStatus { status } => format!("self check got HTTP {status}, expected 200"),
            Reason::ConnectionFailed { class, address, .. } => match address {
                Some(a) => format!("self check: {} ({a})", class.label()),
                None => format!("self check: {}", class.label()),
            },
            Reason::BodyReadFailed { .. } => "self check: reading the body failed".into(),
            Reason::BodyMismatch {
                got: Some(g),
                truncated,
                ..
            } => {
                let more = if *truncated { "…" } else { "" };
                format!("self check: body is not the key (got {g:?}{more})")
            }
            Reason::BodyMismatch { got: None, .. } => "self check: body is not the key".into(),
            Reason::WaitingWithoutSelfCheck { detail } => detail.clone(),
            Reason::PresentFailed { detail } => format!("present failed: {}", truncate(detail, 90)),
            Reason::CleanUpFailed { detail } => {
                format!("clean-up failed: {}", truncate(detail, 90))
            }
            Reason::CaProblem {
                problem_type,
                detail,
                secondary,
                ..
            } => {
                let t = problem_type.as_deref().unwrap_or("error");
                let s = if *secondary {
                    " (remote perspective)"
                } else {
                    ""
                };
                format!("CA {t}{s}: {}", truncate(detail, 90))
            }
            Reason::AcmeRequestFailed { class, detail } => match class {
                ConnectionClass::Other => format!("ACME request failed: {}", truncate(detail, 80)),
                c => format!("ACME server not reached: {}", c.label()),
            },
            Reason::NoSolver { .. } => "no configured solver can be used".into(),
            Reason::Authorized => "authorized".into(),
            Reason::Other { text } => truncate(text, 100),
        }
    }
}

/// Parse any cert-manager reason text. Returns None for empty text. Text only: where the state
/// of the Challenge decides what a bare text means, use [`of_challenge`].
pub fn parse(text: &str) -> Option<Reason> {
    let raw = text.trim_start();
    let t = raw.trim_end();
    if t.is_empty() {
        return None;
    }
    let f = flat(t);
    if f.starts_with("successfully authorized domain") {
        return Some(Reason::Authorized);
    }
    if f.contains("no configured challenge solvers can be used") {
        return Some(Reason::NoSolver {
            detail: t.to_owned(),
        });
    }
    if f.starts_with("waiting ") && f.contains(" challenge without self-check") {
        return Some(Reason::WaitingWithoutSelfCheck {
            detail: t.to_owned(),
        });
    }
    if let Some(r) = selfcheck::parse(raw) {
        return Some(r);
    }
    if let Some(rest) = strip_lead(t, "error presenting challenge:") {
        return Some(Reason::PresentFailed {
            detail: rest.to_owned(),
        });
    }
    if let Some(rest) = strip_lead(t, "error cleaning up challenge:") {
        return Some(Reason::CleanUpFailed {
            detail: rest.to_owned(),
        });
    }
    if let Some(rest) = ca::after_acme_prefix(t) {
        return Some(ca::parse_acme_result(t, rest));
    }
    // A CertificateRequest/Certificate message quoting the Order's reason:
    // `… order is in "errored" state: <Order.status.reason>` (certificaterequests/acme/acme.go).
    if let Some((_, end)) = find(t, "order is in \"")
        && let Some((_, after)) = text::find_from(t, end, "\" state:")
        && let Some(inner) = parse(&t[after..])
        && !matches!(inner, Reason::Other { .. })
    {
        return Some(inner);
    }
    if f.contains("urn:ietf:params:acme:error:")
        || f.contains("urn:acme:error:")
        || f.contains("acme: ")
    {
        return Some(ca::parse_problem(t));
    }
    if present::looks_like_present(t) {
        return Some(Reason::PresentFailed {
            detail: t.to_owned(),
        });
    }
    if ca::looks_like_bare_detail(t) {
        return Some(ca::parse_problem(t));
    }
    Some(Reason::Other { text: t.to_owned() })
}

/// [`parse`] with the Challenge's state: a text no wording explains is placed by where
/// cert-manager's `Sync` (acmechallenges/sync.go) can have written it.
/// * not presented, processing, state set but not final: `Present` failed, and its bare error
///   is the reason (`ch.Status.Reason = err.Error()` / `stabilizeSolverErrorMessage(err)`);
/// * state `invalid`: `syncChallengeStatus` copied the ACME problem's bare `Detail`.
pub fn of_challenge(ch: &ChallengeEvidence) -> Option<Reason> {
    let r = parse(ch.reason.as_deref()?)?;
    let Reason::Other { text } = &r else {
        return Some(r);
    };
    let final_state = matches!(
        ch.state.as_str(),
        "valid" | "invalid" | "errored" | "expired"
    );
    if ch.processing && !ch.presented && !ch.state.is_empty() && !final_state {
        return Some(Reason::PresentFailed {
            detail: text.clone(),
        });
    }
    if ch.state == "invalid" {
        return Some(ca::parse_problem(text));
    }
    Some(r)
}

/// The phase a challenge is in, from its state flags and reason.
pub fn phase(ch: &ChallengeEvidence) -> Phase {
    match ch.state.as_str() {
        "valid" => return Phase::Done,
        "invalid" | "errored" | "expired" => return Phase::CaValidation,
        _ => {}
    }
    match of_challenge(ch) {
        Some(Reason::Authorized) => return Phase::Done,
        Some(Reason::CaProblem { .. } | Reason::AcmeRequestFailed { .. }) => {
            return Phase::CaValidation;
        }
        Some(Reason::PresentFailed { .. }) => return Phase::Present,
        _ => {}
    }
    if !ch.processing && ch.state.is_empty() {
        return Phase::Scheduling;
    }
    if !ch.presented {
        return Phase::Present;
    }
    Phase::SelfCheck
}
