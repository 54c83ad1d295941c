//! ISSUANCE_BACKOFF: the last issuance failed and cert-manager waits before the next try.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::renew_hint;
use crate::diagnose::view::Certificate;
use crate::evidence::condition;

pub(crate) fn issuance_backoff(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let ready = condition(&cert.conditions, "Ready").is_some_and(|c| c.status == "True");
    if ready || cert.request.is_some() {
        return vec![];
    }
    let Some(when) = &cert.last_failure_time else {
        return vec![];
    };
    let attempts = cert.failed_issuance_attempts.unwrap_or(1).max(1);
    let wait_h = 2u64.saturating_pow((attempts - 1).clamp(0, 5) as u32);
    vec![
        Finding::new(
            Code::IssuanceBackoff,
            Severity::Warning,
            Proof::Proves,
            format!("issuance failed at {when} (attempt {attempts}); cert-manager waits about {wait_h}h before the next try"),
        )
        .evidence(format!("Certificate status.lastFailureTime={when}, failedIssuanceAttempts={attempts}, no CertificateRequest in flight"))
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
