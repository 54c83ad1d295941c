//! ISSUANCE_BACKOFF: the last issuance failed and cert-manager waits before the next try: 1 h,
//! doubling per failed attempt, at most 32 h, from `status.lastFailureTime` (util::backoff).

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{backoff, renew_hint};
use crate::diagnose::view::Certificate;

pub(crate) fn issuance_backoff(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let Some(b) = backoff(cert) else {
        return vec![];
    };
    let until =
        b.at.as_deref()
            .map(|t| format!(", until {t}"))
            .unwrap_or_default();
    let request = match &cert.request {
        Some(r) => format!(
            "CertificateRequest {} failed (kept until the backoff ends)",
            r.name
        ),
        None => "no CertificateRequest in flight".to_owned(),
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
        .evidence(format!(
            "Certificate status.lastFailureTime={}, failedIssuanceAttempts={}; {request}",
            b.last_failure, b.attempts
        ))
        .fix(format!("fix the cause, {}", renew_hint(cert))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::{codes, findings};
    use crate::diagnose::testdata::{ch, stuck};

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
}
