//! Unit tests: the wordings the issues name, one test each with the verbatim text (more texts,
//! with sources, in `tests/fixtures/reasons.json`), what each text proves, and a property test
//! over generated texts.

use super::*;

pub(super) const URL: &str = "http://shop.example.com/.well-known/acme-challenge/tok";

pub(super) fn self_check(err: &str) -> Reason {
    parse(&format!("Waiting for HTTP-01 challenge propagation: {err}")).unwrap()
}

#[test]
fn wrong_status_code_in_both_cases() {
    assert_eq!(
        self_check("wrong status code '404', expected '200'"),
        Reason::WrongStatus { status: 404 }
    );
    let old =
        parse("Waiting for http-01 challenge propagation: wrong status code '503', expected '200'");
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
            Some("203.0.113.10:80"),
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
            got: None,
            expected: Some("tok.thumb".into()),
            truncated: false,
        }
    );
    assert_eq!(
        self_check(
            "did not get expected response when querying endpoint, expected \"tok.thumb\" but got: <html><body>Welcome... (truncated)"
        ),
        Reason::BodyMismatch {
            wording: MismatchWording::Quoted,
            got: Some("<html><body>Welcome".into()),
            expected: Some("tok.thumb".into()),
            truncated: true,
        }
    );
    assert_eq!(
        self_check("presented key () did not match expected (tok.thumb)"),
        Reason::BodyMismatch {
            wording: MismatchWording::Legacy,
            got: Some(String::new()),
            expected: Some("tok.thumb".into()),
            truncated: false,
        }
    );
}

#[test]
fn present_errors() {
    let r = parse("Error presenting challenge: admission webhook \"validate.nginx.ingress.kubernetes.io\" denied the request: ingress contains invalid paths: path /.well-known/acme-challenge/tok cannot be used with pathType Exact").unwrap();
    assert!(matches!(r, Reason::PresentFailed { ref detail } if detail.contains("pathType Exact")));
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
        "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'".into(),
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

pub(super) const PENDING_NOT_PRESENTED: (&str, bool, bool) = ("pending", false, true);

pub(super) fn challenge_with(
    reason: &str,
    (state, presented, processing): (&str, bool, bool),
) -> ChallengeEvidence {
    ChallengeEvidence {
        type_: "HTTP-01".into(),
        state: state.into(),
        presented,
        processing,
        reason: Some(reason.into()),
        ..Default::default()
    }
}
