//! Where a challenge is stuck (its phase) and what its `status.reason` says, as structured data.
//!
//! cert-manager writes free text into `Challenge.status.reason`. The wordings differ between
//! releases (see `cert-manager-http01.md` §1.8); this module knows all of them and parses them into
//! a [`Reason`] so diagnosis rules never match on raw strings. Pure functions, no I/O.

use crate::evidence::ChallengeEvidence;
use serde::{Deserialize, Serialize};

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

/// How a connection failed, as Go's error text shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionClass {
    /// `no such host` — the name does not resolve from where the check ran.
    NoSuchHost,
    /// Other DNS failures (`server misbehaving`, lookup timeouts).
    Dns,
    /// `i/o timeout`, `Client.Timeout exceeded`, `context deadline exceeded`.
    Timeout,
    /// `connection refused`.
    Refused,
    /// `connection reset by peer`.
    Reset,
    /// `EOF` — the peer closed without answering (e.g. PROXY protocol expected).
    Eof,
    /// `tls:` / `x509:` / `remote error` after a redirect to https.
    Tls,
    /// `stopped after 10 redirects`.
    RedirectLoop,
    /// `proxyconnect` — an HTTP proxy is in the path.
    Proxy,
    /// `no route to host`, `network is unreachable`.
    Unreachable,
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
            ConnectionClass::RedirectLoop => "too many redirects",
            ConnectionClass::Proxy => "proxy error",
            ConnectionClass::Unreachable => "network unreachable",
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
        /// The address or host in the Go error (`203.0.113.10:80`), when present.
        #[serde(skip_serializing_if = "Option::is_none")]
        address: Option<String>,
        detail: String,
    },
    /// Self check: reading the body failed.
    BodyReadFailed { detail: String },
    /// Self check: 200, but the body was not the key.
    #[serde(rename_all = "camelCase")]
    BodyMismatch {
        wording: MismatchWording,
        #[serde(skip_serializing_if = "Option::is_none")]
        got: Option<String>,
    },
    /// `waitInsteadOfSelfCheck`: cert-manager waits instead of checking (v1.21+).
    WaitingWithoutSelfCheck { detail: String },
    /// Creating the solver resources failed (`Error presenting challenge`, or Present inside
    /// the check).
    PresentFailed { detail: String },
    /// The ACME server answered with a problem document.
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
    /// The order could not pick a solver for an authorization.
    NoSolver { detail: String },
    /// `Successfully authorized domain`.
    Authorized,
    /// Text this tool does not recognise, kept as-is.
    Other { text: String },
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

    /// Short human text for tables.
    pub fn short(&self) -> String {
        match self {
            Reason::WrongStatus { status } => format!("self check got HTTP {status}, expected 200"),
            Reason::ConnectionFailed { class, address, .. } => match address {
                Some(a) => format!("self check: {} ({a})", class.label()),
                None => format!("self check: {}", class.label()),
            },
            Reason::BodyReadFailed { .. } => "self check: reading the body failed".into(),
            Reason::BodyMismatch { got: Some(g), .. } => {
                format!("self check: body is not the key (got {g:?})")
            }
            Reason::BodyMismatch { got: None, .. } => "self check: body is not the key".into(),
            Reason::WaitingWithoutSelfCheck { detail } => detail.clone(),
            Reason::PresentFailed { detail } => format!("present failed: {}", truncate(detail, 90)),
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
            Reason::NoSolver { .. } => "no configured solver can be used".into(),
            Reason::Authorized => "authorized".into(),
            Reason::Other { text } => truncate(text, 100),
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Parse any cert-manager reason text. Returns None for empty text.
pub fn parse(text: &str) -> Option<Reason> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let lower = text.to_ascii_lowercase();

    if lower.starts_with("successfully authorized domain") {
        return Some(Reason::Authorized);
    }
    if lower.contains("no configured challenge solvers can be used") {
        return Some(Reason::NoSolver {
            detail: text.to_owned(),
        });
    }
    if lower.contains("before accepting http-01 challenge without self-check") {
        return Some(Reason::WaitingWithoutSelfCheck {
            detail: text.to_owned(),
        });
    }
    // "Waiting for HTTP-01 challenge propagation: <err>" (case varies between releases).
    const PROPAGATION: &str = "challenge propagation: ";
    if lower.starts_with("waiting for ")
        && let Some(i) = lower.find(PROPAGATION)
    {
        return Some(parse_self_check(&text[i + PROPAGATION.len()..]));
    }
    if let Some(rest) = strip_prefix_ci(text, "Error presenting challenge: ") {
        return Some(Reason::PresentFailed {
            detail: rest.to_owned(),
        });
    }
    if lower.contains("urn:ietf:params:acme:error:") || lower.contains("acme: ") {
        return Some(parse_ca_problem(text));
    }
    Some(Reason::Other {
        text: text.to_owned(),
    })
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The `<err>` part of a self-check failure (cert-manager-http01.md §1.8).
fn parse_self_check(err: &str) -> Reason {
    let lower = err.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("wrong status code '")
        && let Some(end) = rest.find('\'')
        && let Ok(status) = rest[..end].parse()
    {
        return Reason::WrongStatus { status };
    }
    if lower.starts_with("failed to perform self check get request") {
        let class = connection_class(&lower);
        return Reason::ConnectionFailed {
            class,
            address: dial_address(err),
            detail: err.to_owned(),
        };
    }
    if let Some(rest) = strip_prefix_ci(err, "failed to read response body: ") {
        return Reason::BodyReadFailed {
            detail: rest.to_owned(),
        };
    }
    if lower.starts_with("did not get expected response") {
        if let Some(i) = err.find(" but got: ") {
            let got = err[i + " but got: ".len()..].to_owned();
            return Reason::BodyMismatch {
                wording: MismatchWording::Quoted,
                got: Some(got),
            };
        }
        return Reason::BodyMismatch {
            wording: MismatchWording::Current,
            got: None,
        };
    }
    if let Some(rest) = lower.strip_prefix("presented key (") {
        let got = rest.find(") did not match").map(|end| {
            let start = "presented key (".len();
            err[start..start + end].to_owned()
        });
        return Reason::BodyMismatch {
            wording: MismatchWording::Legacy,
            got,
        };
    }
    if lower.starts_with("couldn't present challenge")
        || lower.contains("cleaned up. retrying challenge sync")
        || lower.contains("gateway api is not enabled")
        || lower.contains("ingressclassname and class cannot be set")
    {
        return Reason::PresentFailed {
            detail: err.to_owned(),
        };
    }
    Reason::Other {
        text: err.to_owned(),
    }
}

/// Classify a Go network error text.
pub fn connection_class(lower: &str) -> ConnectionClass {
    if lower.contains("no such host") {
        ConnectionClass::NoSuchHost
    } else if lower.contains("proxyconnect") {
        ConnectionClass::Proxy
    } else if lower.contains("stopped after 10 redirects") {
        ConnectionClass::RedirectLoop
    } else if lower.contains("lookup ") && lower.contains(" on ") {
        ConnectionClass::Dns
    } else if lower.contains("i/o timeout")
        || lower.contains("client.timeout exceeded")
        || lower.contains("context deadline exceeded")
        || lower.contains("timeout awaiting")
    {
        ConnectionClass::Timeout
    } else if lower.contains("connection refused") {
        ConnectionClass::Refused
    } else if lower.contains("connection reset") {
        ConnectionClass::Reset
    } else if lower.contains("tls:") || lower.contains("x509:") || lower.contains("remote error") {
        ConnectionClass::Tls
    } else if lower.contains("no route to host") || lower.contains("network is unreachable") {
        ConnectionClass::Unreachable
    } else if lower.ends_with(": eof") || lower.contains("eof") {
        ConnectionClass::Eof
    } else {
        ConnectionClass::Other
    }
}

/// `dial tcp 203.0.113.10:80: ...` → `203.0.113.10:80`.
fn dial_address(err: &str) -> Option<String> {
    let i = err.find("dial tcp ")?;
    let rest = &err[i + "dial tcp ".len()..];
    // Either "<addr>: <cause>" or "lookup <host> on <dns>: ..." (no address dialled).
    if rest.starts_with("lookup ") {
        return None;
    }
    let end = rest.find(": ")?;
    Some(rest[..end].to_owned())
}

/// `Error accepting authorization: acme: authorization error for <id>: 403
/// urn:ietf:params:acme:error:unauthorized: <detail>` and the Order/CR variants.
fn parse_ca_problem(text: &str) -> Reason {
    const URN: &str = "urn:ietf:params:acme:error:";
    let lower = text.to_ascii_lowercase();
    let (problem_type, detail, http_status) = match lower.find(URN) {
        Some(i) => {
            let after = &text[i + URN.len()..];
            let (ty, detail) = match after.find(": ") {
                Some(j) => (&after[..j], after[j + 2..].to_owned()),
                None => (after.trim_end_matches(':'), String::new()),
            };
            // The HTTP status stands right before the urn: "... 403 urn:...".
            let status = text[..i]
                .trim_end()
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse::<u16>().ok());
            (Some(ty.trim().to_owned()), detail, status)
        }
        None => (None, text.to_owned(), None),
    };
    let secondary = lower.contains("during secondary validation");
    let problem_type = problem_type.or_else(|| {
        (lower.contains("ratelimited") || lower.contains("rate limit"))
            .then(|| "rateLimited".to_owned())
    });
    Reason::CaProblem {
        http_status,
        problem_type,
        detail,
        secondary,
    }
}

/// The phase a challenge is in, from its state flags and reason.
pub fn phase(ch: &ChallengeEvidence) -> Phase {
    match ch.state.as_str() {
        "valid" => return Phase::Done,
        "invalid" | "errored" | "expired" => return Phase::CaValidation,
        _ => {}
    }
    let parsed = ch.reason.as_deref().and_then(parse);
    match parsed {
        Some(Reason::Authorized) => return Phase::Done,
        Some(Reason::CaProblem { .. }) => return Phase::CaValidation,
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

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://shop.example.com/.well-known/acme-challenge/tok";

    fn self_check(err: &str) -> Reason {
        parse(&format!("Waiting for HTTP-01 challenge propagation: {err}")).unwrap()
    }

    #[test]
    fn wrong_status_code_in_both_cases() {
        assert_eq!(
            self_check("wrong status code '404', expected '200'"),
            Reason::WrongStatus { status: 404 }
        );
        let old = parse(
            "Waiting for http-01 challenge propagation: wrong status code '503', expected '200'",
        );
        assert_eq!(old, Some(Reason::WrongStatus { status: 503 }));
    }

    #[test]
    fn connection_errors_by_class() {
        let cases = [
            (
                "dial tcp 203.0.113.10:80: i/o timeout",
                ConnectionClass::Timeout,
                Some("203.0.113.10:80"),
            ),
            (
                "dial tcp 203.0.113.10:80: connect: connection refused",
                ConnectionClass::Refused,
                Some("203.0.113.10:80"),
            ),
            (
                "read tcp 10.0.0.5:41234->203.0.113.10:80: read: connection reset by peer",
                ConnectionClass::Reset,
                None,
            ),
            ("EOF", ConnectionClass::Eof, None),
            (
                "dial tcp: lookup shop.example.com on 10.96.0.10:53: no such host",
                ConnectionClass::NoSuchHost,
                None,
            ),
            (
                "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
                ConnectionClass::Timeout,
                None,
            ),
            (
                "remote error: tls: handshake failure",
                ConnectionClass::Tls,
                None,
            ),
            (
                "stopped after 10 redirects",
                ConnectionClass::RedirectLoop,
                None,
            ),
            (
                "proxyconnect tcp: dial tcp 192.0.2.8:3128: connect: connection refused",
                ConnectionClass::Proxy,
                Some("192.0.2.8:3128"),
            ),
            (
                "dial tcp 203.0.113.10:80: connect: no route to host",
                ConnectionClass::Unreachable,
                Some("203.0.113.10:80"),
            ),
        ];
        for (cause, class, addr) in cases {
            let text =
                format!("failed to perform self check GET request '{URL}': Get \"{URL}\": {cause}");
            match self_check(&text) {
                Reason::ConnectionFailed {
                    class: c, address, ..
                } => {
                    assert_eq!(c, class, "{cause}");
                    assert_eq!(address.as_deref(), addr, "{cause}");
                }
                other => panic!("{cause}: {other:?}"),
            }
        }
    }

    #[test]
    fn body_mismatch_all_wordings() {
        assert_eq!(
            self_check("did not get expected response \"tok.thumb\" when querying endpoint"),
            Reason::BodyMismatch {
                wording: MismatchWording::Current,
                got: None
            }
        );
        assert_eq!(
            self_check(
                "did not get expected response when querying endpoint, expected \"tok.thumb\" but got: <html><body>Welcome... (truncated)"
            ),
            Reason::BodyMismatch {
                wording: MismatchWording::Quoted,
                got: Some("<html><body>Welcome... (truncated)".into())
            }
        );
        assert_eq!(
            self_check("presented key () did not match expected (tok.thumb)"),
            Reason::BodyMismatch {
                wording: MismatchWording::Legacy,
                got: Some(String::new())
            }
        );
    }

    #[test]
    fn present_errors() {
        let r = parse("Error presenting challenge: admission webhook \"validate.nginx.ingress.kubernetes.io\" denied the request: ingress contains invalid paths: path /.well-known/acme-challenge/tok cannot be used with pathType Exact").unwrap();
        assert!(
            matches!(r, Reason::PresentFailed { ref detail } if detail.contains("pathType Exact"))
        );
        let r = self_check("couldn't Present challenge shop/web-1: gateway api is not enabled");
        assert!(matches!(r, Reason::PresentFailed { .. }));
    }

    #[test]
    fn ca_problems() {
        let r = parse("Error accepting authorization: acme: authorization error for shop.example.com: 403 urn:ietf:params:acme:error:unauthorized: 203.0.113.10: Invalid response from http://shop.example.com/.well-known/acme-challenge/tok: 404").unwrap();
        assert_eq!(
            r,
            Reason::CaProblem {
                http_status: Some(403),
                problem_type: Some("unauthorized".into()),
                detail: "203.0.113.10: Invalid response from http://shop.example.com/.well-known/acme-challenge/tok: 404".into(),
                secondary: false,
            }
        );
        let r = parse("Failed to create Order: 429 urn:ietf:params:acme:error:rateLimited: Error creating new order :: too many certificates already issued for exact set of domains").unwrap();
        assert!(r.is_rate_limited());
        let r = parse("Error accepting authorization: acme: authorization error for a.example: 403 urn:ietf:params:acme:error:unauthorized: During secondary validation: 198.51.100.7: Timeout during connect (likely firewall problem)").unwrap();
        assert!(matches!(
            r,
            Reason::CaProblem {
                secondary: true,
                ..
            }
        ));
    }

    #[test]
    fn other_texts() {
        assert_eq!(
            parse("Successfully authorized domain"),
            Some(Reason::Authorized)
        );
        assert!(matches!(
            parse(
                "Failed to determine a valid solver configuration for the set of domains on the Order: no configured challenge solvers can be used for this challenge"
            ),
            Some(Reason::NoSolver { .. })
        ));
        assert!(matches!(
            parse("Waiting 4m30s before accepting HTTP-01 challenge without self-check"),
            Some(Reason::WaitingWithoutSelfCheck { .. })
        ));
        assert_eq!(parse("  "), None);
        assert!(matches!(parse("something new"), Some(Reason::Other { .. })));
    }

    #[test]
    fn phases() {
        let mut ch = ChallengeEvidence {
            type_: "HTTP-01".into(),
            ..Default::default()
        };
        assert_eq!(phase(&ch), Phase::Scheduling);
        ch.processing = true;
        assert_eq!(phase(&ch), Phase::Present);
        ch.presented = true;
        ch.state = "pending".into();
        ch.reason = Some(
            "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'"
                .into(),
        );
        assert_eq!(phase(&ch), Phase::SelfCheck);
        ch.state = "invalid".into();
        assert_eq!(phase(&ch), Phase::CaValidation);
        ch.state = "valid".into();
        assert_eq!(phase(&ch), Phase::Done);
        ch.state = "pending".into();
        ch.presented = false;
        ch.reason = Some("Error presenting challenge: pods \"cm-acme-http-solver-x\" is forbidden: violates PodSecurity".into());
        assert_eq!(phase(&ch), Phase::Present);
    }
}
