//! ISSUANCE_BACKOFF: the last issuance failed and cert-manager waits before the next try: 1 h,
//! doubling per failed attempt, at most 32 h, from `status.lastFailureTime` (util::backoff).
//!
//! Compared with "now" (`ClusterEvidence::now`, the time gather read the cluster; diagnosis
//! stays pure): a wait that is still running is a warning in the future tense; one that ended
//! without a new CertificateRequest means cert-manager has not retried when it should have
//! (cert-manager's trigger controller re-issues once the backoff is over:
//! `pkg/controller/certificates/trigger` `shouldBackoffReissuingOnFailure`), which asks whether
//! the controller runs.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{Retry, backoff, renew_hint, span};
use crate::diagnose::view::Certificate;
use crate::evidence::CertificateEvidence;

/// After the wait, cert-manager's trigger controller needs a moment (its resync, the request
/// manager's new CertificateRequest): within this many seconds, no new request is not news.
const GRACE_SECS: i64 = 10 * 60;

pub(crate) fn issuance_backoff(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let Some(b) = backoff(cert) else {
        return vec![];
    };
    let request = match &cert.request {
        Some(r) => format!(
            "CertificateRequest {} failed (kept until the backoff ends)",
            r.name
        ),
        None => "no CertificateRequest in flight".to_owned(),
    };
    let evidence = format!(
        "Certificate status.lastFailureTime={}, failedIssuanceAttempts={}; {request}",
        b.last_failure, b.attempts
    );
    let left = b.seconds_left(input.cluster.now);
    match left {
        Some(left) if left < -GRACE_SECS => vec![ended(input, &b, -left, evidence)],
        Some(left) if left <= 0 => vec![
            Finding::new(
                Code::IssuanceBackoff,
                Severity::Warning,
                Proof::Proves,
                format!(
                    "issuance failed at {} (attempt {}); cert-manager's {}h wait ended {} ago, at {}: it should start a new CertificateRequest within minutes",
                    b.last_failure,
                    b.attempts.max(1),
                    b.hours,
                    span(-left),
                    at(&b)
                ),
            )
            .evidence(evidence)
            .fix(format!(
                "watch for the new request: kubectl -n {} get certificaterequests -w; fix the cause first, or the next attempt fails the same way",
                cert.namespace
            )),
        ],
        _ => {
            let until = match (b.at.as_deref(), left) {
                (Some(t), Some(left)) => format!(", until {t} (in {})", span(left)),
                (Some(t), None) => format!(", until {t}"),
                _ => String::new(),
            };
            vec![
                Finding::new(
                    Code::IssuanceBackoff,
                    Severity::Warning,
                    Proof::Proves,
                    format!(
                        "issuance failed at {} (attempt {}); cert-manager waits {}h before the next try{until}",
                        b.last_failure,
                        b.attempts.max(1),
                        b.hours
                    ),
                )
                .evidence(evidence)
                .fix(format!("fix the cause, {}", renew_hint(cert))),
            ]
        }
    }
}

fn at(b: &Retry) -> &str {
    b.at.as_deref().unwrap_or("an unknown time")
}

/// The wait ended `ago` seconds back and no new CertificateRequest exists: has the controller
/// stopped?
fn ended(input: &Certificate, b: &Retry, ago: i64, evidence: String) -> Finding {
    let cert: &CertificateEvidence = input.cert;
    let cm = input.cluster.cert_manager.as_ref();
    let (ns, deploy) = cm.map_or(("cert-manager", "cert-manager"), |c| {
        (c.namespace.as_str(), c.deployment.as_str())
    });
    let (severity, controller) = match cm.map(|c| c.ready_replicas) {
        Some(Some(n)) if n <= 0 => (
            Severity::Error,
            format!("the cert-manager controller {ns}/{deploy} has no ready replica: nothing retries"),
        ),
        Some(Some(n)) => (
            Severity::Warning,
            format!("the cert-manager controller {ns}/{deploy} has {n} ready replica(s): it runs, yet did not retry (leader election, a crash loop, or it does not watch this namespace?)"),
        ),
        Some(None) => (
            Severity::Warning,
            format!("the cert-manager controller {ns}/{deploy} reports no ready replicas count"),
        ),
        None => (
            Severity::Warning,
            "the cert-manager controller's Deployment was not found (or could not be read): is it running?".to_owned(),
        ),
    };
    Finding::new(
        Code::IssuanceBackoff,
        severity,
        Proof::Supports,
        format!(
            "issuance failed at {} (attempt {}); cert-manager's {}h wait ended {} ago, at {}, yet no new CertificateRequest exists: cert-manager has not retried",
            b.last_failure,
            b.attempts.max(1),
            b.hours,
            span(ago),
            at(b)
        ),
    )
    .evidence(evidence)
    .evidence(controller)
    .fix(format!(
        "check that the controller runs and acts on this Certificate: kubectl -n {ns} get deploy {deploy}; kubectl -n {ns} logs deploy/{deploy} | grep {}/{}; once it runs, {}",
        cert.namespace,
        cert.name,
        renew_hint(cert).trim_start_matches("then ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::{codes, findings};
    use crate::diagnose::testdata::{ch, stuck, stuck_with_controller};
    use crate::time::unix_seconds;

    #[test]
    fn ca_rejection_and_backoff() {
        let (mut cert, cluster) = stuck();
        let c = ch(&mut cert);
        c.state = "invalid".into();
        c.processing = false;
        c.reason = Some("Error accepting authorization: acme: authorization error for shop.example.com: 403 urn:ietf:params:acme:error:connection: 2001:db8::10: Fetching http://shop.example.com/.well-known/acme-challenge/tok: Timeout during connect (likely firewall problem)".into());
        assert_eq!(
            codes(&cert, &cluster),
            vec![(Code::CaRejected, Proof::Proves)]
        );
        cert.request = None;
        cert.last_failure_time = Some("2026-11-28T05:00:00Z".into());
        cert.failed_issuance_attempts = Some(3);
        let found = findings(&Certificate {
            cert: &cert,
            cluster: &cluster,
        });
        let f = found
            .iter()
            .find(|f| f.code == Code::IssuanceBackoff)
            .expect("backoff");
        assert!(f.summary.contains("4h"), "{}", f.summary);
    }

    fn backoff_at(now: &str, ready: Option<i32>) -> Finding {
        let (mut cert, mut cluster) = stuck_with_controller();
        cert.request = None;
        cert.last_failure_time = Some("2026-11-28T05:03:00Z".into());
        cert.failed_issuance_attempts = Some(2);
        cluster.now = unix_seconds(now);
        if let Some(cm) = cluster.cert_manager.as_mut() {
            cm.ready_replicas = ready;
        }
        let found = findings(&Certificate {
            cert: &cert,
            cluster: &cluster,
        });
        found
            .into_iter()
            .find(|f| f.code == Code::IssuanceBackoff)
            .expect("backoff")
    }

    #[test]
    fn a_wait_still_running_says_how_long() {
        let f = backoff_at("2026-11-28T06:00:00Z", Some(1));
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            f.summary
                .ends_with("waits 2h before the next try, until 2026-11-28T07:03:00Z (in 1h 3min)"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn a_wait_that_ended_is_past_and_asks_about_the_controller() {
        // failed-validation, run on 2026-12-06: the 2 h wait ended long ago.
        let f = backoff_at("2026-12-06T05:30:00Z", Some(1));
        assert!(
            f.summary.contains(
                "cert-manager's 2h wait ended 7d 22h ago, at 2026-11-28T07:03:00Z, yet no new CertificateRequest exists"
            ),
            "{}",
            f.summary
        );
        assert!(!f.summary.contains("waits"), "{}", f.summary);
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            f.fix.starts_with("check that the controller runs"),
            "{}",
            f.fix
        );
        // No ready controller: that is why nothing retried.
        let f = backoff_at("2026-12-06T05:30:00Z", Some(0));
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.evidence.iter().any(|e| e.contains("no ready replica")),
            "{:?}",
            f.evidence
        );
        // Just ended: not news yet.
        let f = backoff_at("2026-11-28T07:05:00Z", Some(1));
        assert!(f.summary.contains("ended 2min ago"), "{}", f.summary);
        assert!(f.summary.ends_with("within minutes"), "{}", f.summary);
    }
}
