//! What a text proves (observation), the Challenge state as context, and the ACME side.

use super::tests::{PENDING_NOT_PRESENTED, URL, challenge_with, self_check};
use super::*;

#[test]
fn an_unknown_text_is_placed_by_the_challenge_state() {
    // A DNS-01 provider's error has no telling shape (cert-manager PR #3101's demo output).
    let text = "Cloudflare API Error for GET \"/zones?name=unauthorized-domain-name\"";
    assert!(matches!(parse(text), Some(Reason::Other { .. })));
    let present = challenge_with(text, PENDING_NOT_PRESENTED);
    assert!(matches!(
        of_challenge(&present),
        Some(Reason::PresentFailed { .. })
    ));
    // Presented, or not yet processed, or final: Sync cannot have written a Present error.
    for flags in [
        ("pending", true, true),
        ("", false, true),
        ("pending", false, false),
        ("valid", false, true),
    ] {
        let r = of_challenge(&challenge_with(text, flags));
        assert!(matches!(r, Some(Reason::Other { .. })), "{flags:?}: {r:?}");
    }
}

#[test]
fn a_status_proves_resolution_and_connection() {
    let o = observation(&self_check("wrong status code '404', expected '200'")).unwrap();
    assert_eq!(
        (o.resolved, o.connected, o.answered, o.status),
        (Known::Yes, Known::Yes, Known::Yes, Some(404))
    );
    assert!(o.failure.is_none());
    assert!(
        o.basis
            .iter()
            .any(|b| b.contains("http.go testReachability"))
    );
}

#[test]
fn dns_failures_are_told_apart_and_name_the_resolver_really_asked() {
    let lookup = |tail: &str| {
        let text = format!(
            "failed to perform self check GET request '{URL}': Get \"{URL}\": dial tcp: lookup shop.example.com on 10.96.0.10:53: {tail}"
        );
        observation(&self_check(&text)).unwrap()
    };
    let o = lookup("no such host");
    assert_eq!(
        (o.resolved, o.failure),
        (Known::No, Some(Failure::NameNotFound))
    );
    assert_eq!(
        lookup("server misbehaving").failure,
        Some(Failure::ResolverMisbehaving)
    );
    assert_eq!(
        lookup("no answer from DNS server").failure,
        Some(Failure::ResolverBadAnswer)
    );
    let o = lookup("read udp 10.244.1.5:45678->192.0.2.53:53: i/o timeout");
    assert_eq!(o.failure, Some(Failure::ResolverTimeout));
    // With --acme-http01-solver-nameservers the `on` server is resolv.conf's; the socket's is real.
    assert_eq!(o.resolver.as_deref(), Some("192.0.2.53:53"));
    let o = lookup("read udp 10.244.1.5:45678->10.96.0.10:53: read: connection refused");
    assert_eq!(o.failure, Some(Failure::ResolverUnreachable));
}

#[test]
fn a_client_timeout_leaves_the_stage_open_unless_go_names_the_dial() {
    let o = observation(&self_check(&format!("failed to perform self check GET request '{URL}': Get \"{URL}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"))).unwrap();
    assert_eq!(
        (o.resolved, o.connected, o.answered),
        (Known::Unknown, Known::Unknown, Known::No)
    );
    let o = observation(&self_check(&format!("failed to perform self check GET request '{URL}': Get \"{URL}\": dial tcp 203.0.113.10:80: i/o timeout (Client.Timeout exceeded while awaiting headers)"))).unwrap();
    assert_eq!((o.resolved, o.connected), (Known::Yes, Known::No));
}

#[test]
fn a_proxy_error_says_nothing_about_the_challenge_host() {
    let r = self_check(&format!(
        "failed to perform self check GET request '{URL}': Get \"{URL}\": proxyconnect tcp: dial tcp 192.0.2.8:3128: connect: connection refused"
    ));
    let o = observation(&r).unwrap();
    assert!(o.via_proxy);
    assert_eq!((o.resolved, o.connected), (Known::Unknown, Known::Unknown));
    assert_eq!(o.address.as_deref(), Some("192.0.2.8:3128"));
}

#[test]
fn what_the_body_shows() {
    let key =
        "Xq2l8Yx6V3jd0K4x7BvN1oXyZ9pQ3rT5uW8sA2cE4gI.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";
    let shape_of = |body: &str| {
        let text = format!(
            "did not get expected response when querying endpoint, expected \"{key}\" but got: {body}"
        );
        observation(&self_check(&text)).unwrap().body.unwrap().shape
    };
    assert_eq!(
        shape_of(&format!("{}... (truncated)", &key[..24])),
        BodyShape::StartsWithKey
    );
    assert_eq!(
        shape_of("h1Ubrxwz-ZfC3aPOq8Rr2LgY... (truncated)"),
        BodyShape::OtherKeyAuthorization
    );
    assert_eq!(
        shape_of("<!DOCTYPE html><html lan... (truncated)"),
        BodyShape::Html
    );
    assert_eq!(shape_of("OK\n"), BodyShape::Text);
    assert_eq!(shape_of("\n"), BodyShape::Empty);
    // The master wording prints no body: nothing to say about it.
    let r = self_check(&format!(
        "did not get expected response \"{key}\" when querying endpoint"
    ));
    assert_eq!(observation(&r).unwrap().body, None);
}

#[test]
fn acme_requests_without_a_problem_document() {
    let r = parse("Failed to verify ACME account: Get https://acme-staging-v02.api.letsencrypt.org/directory: dial tcp: i/o timeout").unwrap();
    assert!(matches!(
        r,
        Reason::AcmeRequestFailed {
            class: ConnectionClass::Timeout,
            ..
        }
    ));
    assert!(observation(&r).is_none(), "not the self check");
    let r = parse("Failed to retrieve Order resource: 429 : <html>\r\n<head><title>429 Too Many Requests</title></head>").unwrap();
    assert!(r.is_rate_limited(), "{r:?}");
    let mut ch = challenge_with(
        "Error accepting challenge: Post \"https://acme-v02.api.letsencrypt.org/acme/chall/1\": read tcp 10.244.1.5:40000->192.0.2.20:443: read: connection reset by peer",
        ("pending", true, true),
    );
    assert_eq!(
        phase(&ch),
        Phase::CaValidation,
        "the self check passed: accepting failed"
    );
    ch.reason = Some(
        "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'".into(),
    );
    assert_eq!(phase(&ch), Phase::SelfCheck);
}

#[test]
fn clean_up_errors_are_their_own_kind() {
    let r = parse("Error cleaning up challenge: ingresses.networking.k8s.io \"cm-acme-http-solver-x7d2k\" not found").unwrap();
    assert!(matches!(r, Reason::CleanUpFailed { .. }));
}
