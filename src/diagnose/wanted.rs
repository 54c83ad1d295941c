//! What further evidence would decide more, asked for after the walk: today, which solver pod
//! logs to read (the gather stage reads them and diagnosis runs again).

use super::finding::{Finding, Proof, Severity};
use crate::evidence::CertificateEvidence;
use crate::reason::{self, Phase, Reason};

/// Evidence the walk could use but did not have: the gather stage fetches it and diagnosis runs
/// again with it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wanted {
    /// `(namespace, pod)` of the solver pods whose logs can decide ([`solver_logs_wanted`]).
    pub solver_logs: Vec<(String, String)>,
}

impl Wanted {
    /// What is wanted for `cert`, given the ranked findings of its diagnosis.
    pub(super) fn after(cert: &CertificateEvidence, findings: &[Finding]) -> Wanted {
        Wanted {
            solver_logs: solver_logs_wanted(cert, findings),
        }
    }
}

/// Solver pods whose logs can decide something: the self check fails at the HTTP level
/// (a status or a wrong body, so a request may have reached the solver) and no error finding
/// proves a cause for that challenge. `(namespace, pod)` of the first ready pod each.
pub fn solver_logs_wanted(
    cert: &CertificateEvidence,
    findings: &[Finding],
) -> Vec<(String, String)> {
    cert.challenges
        .iter()
        .filter(|c| c.is_http01() && reason::phase(c) == Phase::SelfCheck && c.solver_log.is_none())
        .filter(|c| {
            matches!(
                c.reason.as_deref().and_then(reason::parse),
                Some(Reason::WrongStatus { .. } | Reason::BodyMismatch { .. })
            )
        })
        .filter(|c| {
            !findings.iter().any(|f| {
                f.severity == Severity::Error
                    && f.proof == Proof::Proves
                    && f.challenge.as_deref().is_none_or(|n| n == c.name)
            })
        })
        .filter_map(|c| c.solver_pods.iter().find(|p| p.ready))
        .map(|p| (p.namespace.clone(), p.name.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::finding::Code;
    use crate::diagnose::joint::testdata::base;
    use crate::evidence::SolverLogEvidence;

    #[test]
    fn logs_are_wanted_only_when_they_can_decide() {
        let (cert, _) = base();
        assert_eq!(
            solver_logs_wanted(&cert, &[]),
            [("shop".to_owned(), "cm-acme-http-solver-abc".to_owned())]
        );
        let proven = Finding::new(Code::MixedBackends, Severity::Error, Proof::Proves, "x");
        assert!(solver_logs_wanted(&cert, &[proven]).is_empty());
        let mut timeout = cert.clone();
        timeout.challenges[0].reason = Some("Waiting for HTTP-01 challenge propagation: failed to perform self check GET request 'http://shop.example.com/.well-known/acme-challenge/tok': Get \"http://shop.example.com/.well-known/acme-challenge/tok\": dial tcp 203.0.113.10:80: i/o timeout".into());
        assert!(solver_logs_wanted(&timeout, &[]).is_empty());
        let mut read = cert;
        read.challenges[0].solver_log = Some(SolverLogEvidence::default());
        assert!(solver_logs_wanted(&read, &[]).is_empty());
    }
}
