//! The wordings of issue #10 point 6, one test each, with the verbatim text.

use super::tests::{PENDING_NOT_PRESENTED, URL, challenge_with, self_check};
use super::*;

fn cause_of(text: &str) -> PresentCause {
    parse(text)
        .and_then(|r| r.present_failure())
        .map(|p| p.cause)
        .unwrap_or(PresentCause::Other)
}

#[test]
fn bare_present_error_webhook_denial_is_a_present_failure() {
    // cert-manager#7913's Event without its prefix: status.reason holds the bare error
    // (acmechallenges/sync.go@v1.21.1 L181-184).
    let text = "admission webhook \"validate.nginx.ingress.kubernetes.io\" denied the request: ingress contains invalid paths: path /.well-known/acme-challenge/VbgIvfnY7sOUxkkRy3_TRIUgA5IFlwgSUSIGglEvWCw cannot be used with pathType Exact";
    let r = parse(text).unwrap();
    assert_eq!(
        r,
        Reason::PresentFailed {
            detail: text.into()
        }
    );
    let p = r.present_failure().unwrap();
    assert_eq!(p.cause, PresentCause::WebhookDenied);
    assert_eq!(
        p.webhook.as_deref(),
        Some("validate.nginx.ingress.kubernetes.io")
    );
    assert_eq!(
        phase(&challenge_with(text, PENDING_NOT_PRESENTED)),
        Phase::Present
    );
    assert!(
        observation(&r).is_none(),
        "a Present error proves nothing about the network"
    );
}

#[test]
fn bare_present_error_forbidden_is_a_present_failure() {
    // cert-manager/website#635, status.reason.
    let text =
        "pods \"cm-acme-http-solver-\" is forbidden: PodSecurityPolicy: unable to admit pod: []";
    let p = parse(text).unwrap().present_failure().unwrap();
    assert_eq!(p.cause, PresentCause::PodSecurity);
    assert_eq!(p.resource.as_deref(), Some("pods"));
    assert_eq!(p.name.as_deref(), Some("cm-acme-http-solver-"));
    let rbac = "ingresses.networking.k8s.io is forbidden: User \"system:serviceaccount:cert-manager:cert-manager\" cannot create resource \"ingresses\" in API group \"networking.k8s.io\" in the namespace \"shop\"";
    let p = parse(rbac).unwrap().present_failure().unwrap();
    assert_eq!(
        (p.cause, p.resource.as_deref(), p.name),
        (
            PresentCause::Rbac,
            Some("ingresses.networking.k8s.io"),
            None
        )
    );
}

#[test]
fn bare_present_error_exceeded_quota_is_a_present_failure() {
    let text = "pods \"cm-acme-http-solver-8kq2d\" is forbidden: exceeded quota: compute-resources, requested: pods=1, used: pods=10, limited: pods=10";
    assert_eq!(cause_of(text), PresentCause::Quota);
}

#[test]
fn present_failure_inside_the_self_check_is_a_present_failure() {
    // http.go Solver.Check calls Present first: its bare error follows the self-check lead-in.
    let text = "Waiting for HTTP-01 challenge propagation: pods \"cm-acme-http-solver-8kq2d\" is forbidden: exceeded quota: compute-resources, requested: pods=1, used: pods=10, limited: pods=10";
    assert_eq!(cause_of(text), PresentCause::Quota);
    // A webhook timeout inside it is the API server's, not the self check's.
    let text = "Waiting for HTTP-01 challenge propagation: Internal error occurred: failed calling webhook \"validate.nginx.ingress.kubernetes.io\": failed to call webhook: Post \"https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s\": context deadline exceeded";
    assert_eq!(cause_of(text), PresentCause::WebhookUnreachable);
    // Anything else behind the HTTP-01 lead-in can only be Present's error (upstream guarantee).
    let text =
        "Waiting for HTTP-01 challenge propagation: something cert-manager's Present returned";
    assert!(matches!(parse(text), Some(Reason::PresentFailed { .. })));
}

#[test]
fn connection_timed_out_is_a_timeout_that_resolved_but_did_not_connect() {
    let text = format!(
        "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request '{URL}': Get \"{URL}\": dial tcp 203.0.113.10:80: connect: connection timed out"
    );
    let r = parse(&text).unwrap();
    assert!(matches!(
        r,
        Reason::ConnectionFailed {
            class: ConnectionClass::Timeout,
            ..
        }
    ));
    let o = observation(&r).unwrap();
    assert_eq!(
        (o.resolved, o.connected, o.answered),
        (Known::Yes, Known::No, Known::No)
    );
    assert_eq!(o.failure, Some(Failure::ConnectTimeout));
    assert_eq!(o.address.as_deref(), Some("203.0.113.10:80"));
}

#[test]
fn every_go_dial_error_gets_its_failure() {
    let cases = [
        (
            "dial tcp 203.0.113.10:80: i/o timeout",
            ConnectionClass::Timeout,
            Failure::ConnectTimeout,
        ),
        (
            "dial tcp 203.0.113.10:80: connect: no route to host",
            ConnectionClass::Unreachable,
            Failure::NoRoute,
        ),
        (
            "dial tcp [2001:db8::10]:80: connect: network is unreachable",
            ConnectionClass::Unreachable,
            Failure::NetworkUnreachable,
        ),
        (
            "dial tcp [2001:db8::10]:80: connect: cannot assign requested address",
            ConnectionClass::AddressNotAvailable,
            Failure::AddressNotAvailable,
        ),
        (
            "dial tcp 203.0.113.10:80: connect: connection refused",
            ConnectionClass::Refused,
            Failure::ConnectRefused,
        ),
        (
            "dial tcp 203.0.113.10:80: connect: operation not permitted",
            ConnectionClass::Unreachable,
            Failure::ConnectDenied,
        ),
        (
            "read tcp 10.0.0.5:41234->203.0.113.10:80: read: connection reset by peer",
            ConnectionClass::Reset,
            Failure::Reset,
        ),
        ("EOF", ConnectionClass::Eof, Failure::Eof),
        ("unexpected EOF", ConnectionClass::Eof, Failure::Eof),
        (
            "read tcp 10.0.0.5:41234->203.0.113.10:80: i/o timeout",
            ConnectionClass::Timeout,
            Failure::ReadTimeout,
        ),
    ];
    for (cause, class, failure) in cases {
        let text =
            format!("failed to perform self check GET request '{URL}': Get \"{URL}\": {cause}");
        let r = self_check(&text);
        assert!(
            matches!(r, Reason::ConnectionFailed { class: c, .. } if c == class),
            "{cause}: {r:?}"
        );
        assert_eq!(observation(&r).unwrap().failure, Some(failure), "{cause}");
    }
}

#[test]
fn could_not_reach_and_failed_to_get_are_read() {
    // v0.6 log line (cert-manager#1364): Go < 1.14 printed the URL unquoted.
    let text = "could not reach 'http://urlblock.mycompany.com/.well-known/acme-challenge/SB18eQcrrNCMpHqOIB3e-09qjlAthERkBw7KoSNafWU': failed to GET 'http://urlblock.mycompany.com/.well-known/acme-challenge/SB18eQcrrNCMpHqOIB3e-09qjlAthERkBw7KoSNafWU': Get http://urlblock.mycompany.com/.well-known/acme-challenge/SB18eQcrrNCMpHqOIB3e-09qjlAthERkBw7KoSNafWU: dial tcp 10.254.2.152:80: connect: connection timed out";
    match parse(text).unwrap() {
        Reason::ConnectionFailed {
            class,
            address,
            url,
            ..
        } => {
            assert_eq!(class, ConnectionClass::Timeout);
            assert_eq!(address.as_deref(), Some("10.254.2.152:80"));
            assert!(
                url.is_some_and(|u| u.ends_with("SB18eQcrrNCMpHqOIB3e-09qjlAthERkBw7KoSNafWU"))
            );
        }
        other => panic!("{other:?}"),
    }
    let v07 = format!(
        "Waiting for http-01 challenge propagation: failed to GET '{URL}': Get {URL}: dial tcp 203.0.113.10:80: connect: connection refused"
    );
    assert!(matches!(
        parse(&v07),
        Some(Reason::ConnectionFailed {
            class: ConnectionClass::Refused,
            ..
        })
    ));
}

#[test]
fn plain_http_on_https_is_its_own_class_after_a_redirect() {
    // cert-manager#3318.
    let text = "Waiting for http-01 challenge propagation: failed to perform self check GET request 'http://jenkins-tools.qae.ppr-ci.xxxx.com/.well-known/acme-challenge/DQL32cbEdQI9fU-T6aV0T0kfqU0r-9QUKpdwn2JMDkg': Get \"https://jenkins-tools.qae.ppr-ci.xxxx.com/.well-known/acme-challenge/DQL32cbEdQI9fU-T6aV0T0kfqU0r-9QUKpdwn2JMDkg\": http: server gave HTTP response to HTTPS client";
    let r = parse(text).unwrap();
    assert!(matches!(
        r,
        Reason::ConnectionFailed {
            class: ConnectionClass::PlainHttpOnHttps,
            ..
        }
    ));
    let o = observation(&r).unwrap();
    assert_eq!(o.answered, Known::Yes, "port 80 answered with the redirect");
    assert!(o.redirected_to.is_some_and(|u| u.starts_with("https://")));
}

#[test]
fn lowercase_type_and_unquoted_urls_parse_like_the_current_wording() {
    let new = format!(
        "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request '{URL}': Get \"{URL}\": dial tcp 203.0.113.10:80: connect: connection refused"
    );
    let old = format!(
        "Waiting for http-01 challenge propagation: failed to perform self check GET request '{URL}': Get {URL}: dial tcp 203.0.113.10:80: connect: connection refused"
    );
    let (a, b) = (parse(&new).unwrap(), parse(&old).unwrap());
    let strip = |r: Reason| match r {
        Reason::ConnectionFailed {
            class,
            address,
            url,
            ..
        } => (class, address, url),
        other => panic!("{other:?}"),
    };
    assert_eq!(strip(a), strip(b));
}

#[test]
fn bodies_with_newlines_truncated_or_empty_are_kept_as_printed() {
    let key = "tok.thumb";
    let lead = format!(
        "Waiting for HTTP-01 challenge propagation: did not get expected response when querying endpoint, expected \"{key}\" but got: "
    );
    let body = |r: Option<Reason>| match r {
        Some(Reason::BodyMismatch { got, truncated, .. }) => (got, truncated),
        other => panic!("{other:?}"),
    };
    // A body with newlines, cut at 24 bytes.
    assert_eq!(
        body(parse(&format!(
            "{lead}<html>\n<head>\n<title>Wel... (truncated)"
        ))),
        (Some("<html>\n<head>\n<title>Wel".into()), true)
    );
    // ≤ 24 bytes: printed untrimmed, the trailing newline included.
    assert_eq!(
        body(parse(&format!("{lead}OK\n"))),
        (Some("OK\n".into()), false)
    );
    // Empty (cert-manager#3130), with and without the space Go printed.
    assert_eq!(body(parse(&lead)), (Some(String::new()), false));
    assert_eq!(body(parse(lead.trim_end())), (Some(String::new()), false));
    let o = observation(&parse(&lead).unwrap()).unwrap();
    assert_eq!(o.body.map(|b| b.shape), Some(BodyShape::Empty));
    assert_eq!(o.status, Some(200));
}

#[test]
fn bare_acme_problem_detail_is_a_ca_problem() {
    // syncChallengeStatus (sync.go) writes acmeErr.Detail bare, with state invalid.
    let text = "203.0.113.10: Invalid response from http://shop.example.com/.well-known/acme-challenge/tok: 404";
    let ch = challenge_with(text, ("invalid", false, false));
    assert!(matches!(
        of_challenge(&ch),
        Some(Reason::CaProblem {
            secondary: false,
            ..
        })
    ));
    assert!(matches!(parse(text), Some(Reason::CaProblem { .. })));
    let secondary = "During secondary validation: 198.51.100.7: Timeout during connect (likely firewall problem)";
    assert!(matches!(
        parse(secondary),
        Some(Reason::CaProblem {
            secondary: true,
            ..
        })
    ));
}
