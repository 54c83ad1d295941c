//! CA_REJECTED: the CA validated the challenge and said no (its problem text on the Challenge):
//! what the CA reported it got, that cert-manager removed the solver, when cert-manager tries
//! again, and how to reproduce the validation before that. What answers the URL now is added
//! by the probe (`vantages/after_failure.rs`), folded into this finding by the walk.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{backoff, renew_hint};
use crate::diagnose::view::Certificate;
use crate::evidence::{CertificateEvidence, ChallengeEvidence, ClusterEvidence};
use crate::reason::{self, Phase, Reason};

/// What the CA says it got, from its problem detail (Boulder: `203.0.113.10: Invalid response
/// from <url>: 404`, `… Timeout during connect (likely firewall problem)`, `… Connection
/// refused`; Pebble: `Non-200 status code from HTTP: <url> returned 404`).
pub(crate) fn ca_saw(detail: &str) -> Option<String> {
    let lower = detail.to_ascii_lowercase();
    // Boulder puts the address it dialled first (`203.0.113.10: …`), or `[ip]` after the URL.
    let addr = detail
        .split(": ")
        .next()
        .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
        .map(str::to_owned)
        .or_else(|| {
            let start = detail.find(" [")? + 2;
            let end = start + detail[start..].find(']')?;
            Some(detail[start..end].to_owned()).filter(|a| a.parse::<std::net::IpAddr>().is_ok())
        });
    let at = addr.map(|a| format!(" from {a}")).unwrap_or_default();
    let status = if lower.contains("invalid response from") {
        detail.rsplit(": ").next()
    } else if lower.contains("non-200 status code") {
        detail.rsplit(" returned ").next()
    } else {
        None
    }
    .and_then(|s| s.trim().get(..3))
    .and_then(|s| s.parse::<u16>().ok());
    if let Some(s) = status {
        return Some(format!("the CA got HTTP {s}{at}"));
    }
    for (needle, what) in [
        ("timeout during connect", "the CA's connection timed out"),
        ("connection refused", "the CA's connection was refused"),
        (
            "timeout after connect",
            "the CA connected but got no answer in time",
        ),
        ("connection reset", "the CA's connection was reset"),
        (
            "no valid ip addresses found",
            "the CA found no usable address",
        ),
        (
            "tls",
            "the CA's TLS handshake (after a redirect to https) failed",
        ),
        (
            "the key authorization file from the server did not match",
            "the CA got a body that is not the key",
        ),
    ] {
        if lower.contains(needle) {
            return Some(format!("{what}{at}"));
        }
    }
    None
}

fn no_solver(ch: &ChallengeEvidence) -> bool {
    ch.solver_pods.is_empty() && ch.solver_services.is_empty() && ch.solver_ingresses.is_empty()
}

/// How to try the validation again before cert-manager does: a stand-in for the solver by
/// hand (the same acmesolver image and arguments cert-manager would give it).
fn reproduce(
    cert: &CertificateEvidence,
    ch: &ChallengeEvidence,
    cluster: &ClusterEvidence,
) -> String {
    let image = cluster
        .cert_manager
        .as_ref()
        .and_then(|c| c.version.as_deref())
        .map_or(
            "quay.io/jetstack/cert-manager-acmesolver:<controller version>".to_owned(),
            |v| format!("quay.io/jetstack/cert-manager-acmesolver:{v}"),
        );
    format!(
        "to reproduce it before then, stand in for the solver by hand: kubectl -n {ns} run acme-standin --image={image} -- --listen-port=8089 --domain={d} --token={t} --key={k}; kubectl -n {ns} expose pod acme-standin --port=8089; route http://{d}/.well-known/acme-challenge/{t} to that Service through the solver's Ingress class or Gateway; curl it from outside the cluster; then delete both",
        ns = cert.namespace,
        d = ch.dns_name,
        t = ch.token,
        k = ch.key,
    )
}

pub(crate) fn ca_rejected(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    cert.challenges
        .iter()
        .filter(|c| c.is_http01() && reason::phase(c) == Phase::CaValidation)
        .filter_map(|ch| {
            // With the state: a bare ACME problem detail in an invalid challenge is the CA's.
            let r = reason::of_challenge(ch)?;
            let Reason::CaProblem { problem_type, detail, secondary, .. } = &r else { return None };
            if r.is_rate_limited() {
                return None;
            }
            let t = problem_type.as_deref().unwrap_or("error");
            let saw = ca_saw(detail);
            let mut f = Finding::new(
                Code::CaRejected,
                Severity::Error,
                Proof::Proves,
                format!(
                    "the CA rejected the challenge for {}{}: {t}{}",
                    ch.dns_name,
                    if *secondary { " from a remote perspective" } else { "" },
                    saw.as_deref().map(|s| format!(" ({s})")).unwrap_or_default()
                ),
            )
            .challenge(&ch.name)
            .evidence(format!("CA detail: {detail}"))
            .evidence(format!("Challenge state: {}", ch.state));
            if no_solver(ch) {
                f = f.evidence(
                    "cert-manager removed the solver pod, Service and Ingress when the challenge failed (an HTTPRoute stays until the Challenge is deleted): its URL answers 404 by design now",
                );
            }
            let what = match saw.as_deref() {
                Some(s) if s.starts_with("the CA got HTTP") => format!(
                    "{s}: a server other than the solver answered the CA; who answers the URL now (when it was probed) says which"
                ),
                Some(s) => format!("{s}: look at what stands between the Internet and the cluster (firewall, load balancer, IPv6/AAAA, redirects)"),
                None => "read the CA detail above; what answers the URL now (when it was probed) locates the CA's request".to_owned(),
            };
            let when = match backoff(cert) {
                // The wait is over (ISSUANCE_BACKOFF says whether cert-manager retried).
                Some(b) if b.seconds_left(input.cluster.now).is_some_and(|s| s <= 0) => format!(
                    "cert-manager's wait ended at {} ({} h after the failure at {}, failedIssuanceAttempts {}): it retries with a new order",
                    b.at.as_deref().unwrap_or("an unknown time"),
                    b.hours,
                    b.last_failure,
                    b.attempts
                ),
                Some(b) => format!(
                    "cert-manager tries again at {} ({} h after the failure at {}, failedIssuanceAttempts {})",
                    b.at.as_deref().unwrap_or("an unknown time"),
                    b.hours,
                    b.last_failure,
                    b.attempts
                ),
                None => "cert-manager retries with a new order after its backoff (1 h, doubling per failed attempt, at most 32 h)".to_owned(),
            };
            Some(f.fix(format!(
                "{what}; after fixing it, {when}, or {}; {}",
                renew_hint(cert).trim_start_matches("then "),
                reproduce(cert, ch, input.cluster)
            )))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::has;
    use crate::diagnose::testdata::{ch, stuck_with_controller};

    #[test]
    fn what_the_ca_reported() {
        for (detail, want) in [
            (
                "203.0.113.10: Invalid response from http://shop.example.com/.well-known/acme-challenge/tok: 404",
                Some("the CA got HTTP 404 from 203.0.113.10"),
            ),
            (
                "Invalid response from http://dex.example.net/.well-known/acme-challenge/zR6n [147.75.34.96]: 404",
                Some("the CA got HTTP 404 from 147.75.34.96"),
            ),
            (
                "Non-200 status code from HTTP: http://shop.example.test/.well-known/acme-challenge/tok returned 404",
                Some("the CA got HTTP 404"),
            ),
            (
                "2001:db8::10: Fetching http://shop.example.com/.well-known/acme-challenge/tok: Timeout during connect (likely firewall problem)",
                Some("the CA's connection timed out from 2001:db8::10"),
            ),
            ("something new", None),
        ] {
            assert_eq!(ca_saw(detail).as_deref(), want, "{detail}");
        }
    }

    #[test]
    fn after_a_rejection_the_fix_says_what_was_seen_and_when_it_retries() {
        let (mut cert, cluster) = stuck_with_controller();
        let c = ch(&mut cert);
        c.state = "invalid".into();
        c.processing = false;
        c.presented = false;
        c.solver_pods.clear();
        c.solver_services.clear();
        c.solver_ingresses.clear();
        c.reason = Some("Error accepting authorization: acme: authorization error for shop.example.com: 403 urn:ietf:params:acme:error:unauthorized: 203.0.113.10: Invalid response from http://shop.example.com/.well-known/acme-challenge/tok: 404".into());
        cert.last_failure_time = Some("2026-11-28T05:03:00Z".into());
        cert.failed_issuance_attempts = Some(2);
        cert.request = None;
        let f = has(&cert, &cluster, Code::CaRejected).expect("CA_REJECTED");
        assert_eq!(
            f.summary,
            "the CA rejected the challenge for shop.example.com: unauthorized (the CA got HTTP 404 from 203.0.113.10)"
        );
        assert!(
            !f.fix.contains("self check passed"),
            "no claim without evidence: {}",
            f.fix
        );
        assert!(f.fix.contains("cert-manager tries again at 2026-11-28T07:03:00Z (2 h after the failure at 2026-11-28T05:03:00Z, failedIssuanceAttempts 2)"), "{}", f.fix);
        assert!(f.fix.contains("--image=quay.io/jetstack/cert-manager-acmesolver:v1.19.1 -- --listen-port=8089 --domain=shop.example.com --token=tok --key=tok.thumb"), "{}", f.fix);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.starts_with("cert-manager removed the solver pod")),
            "{:?}",
            f.evidence
        );
        let b = has(&cert, &cluster, Code::IssuanceBackoff).expect("backoff");
        assert!(b.summary.contains("2026-11-28T07:03:00Z"), "{}", b.summary);
    }
}
