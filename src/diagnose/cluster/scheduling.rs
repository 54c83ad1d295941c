//! CHALLENGE_NOT_SCHEDULED: cert-manager's scheduler has not started the challenge.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::open_http01;
use crate::diagnose::view::Certificate;
use crate::reason::{self, Phase};

pub(crate) fn challenge_not_scheduled(input: &Certificate) -> Vec<Finding> {
    open_http01(input.cert)
        .filter(|c| reason::phase(c) == Phase::Scheduling)
        .map(|ch| {
            Finding::new(
                Code::ChallengeNotScheduled,
                Severity::Warning,
                Proof::Supports,
                format!("challenge for {} is waiting for cert-manager's scheduler", ch.dns_name),
            )
            .challenge(&ch.name)
            .evidence("processing=false, no state yet")
            .fix(format!(
                "cert-manager runs one challenge per DNS name at a time, cluster-wide (and at most 60): kubectl get challenges -A | grep {}",
                ch.dns_name
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::codes;
    use crate::diagnose::testdata::{ch, stuck};

    #[test]
    fn scheduling_and_skipped_self_check() {
        let (mut cert, cluster) = stuck();
        let c = ch(&mut cert);
        c.processing = false;
        c.presented = false;
        c.state = String::new();
        c.reason = None;
        c.solver.wait_instead_of_self_check = Some("5m".into());
        let got = codes(&cert, &cluster);
        assert!(got.contains(&(Code::ChallengeNotScheduled, Proof::Supports)));
        assert!(got.contains(&(Code::SelfCheckSkipped, Proof::Proves)));
    }
}
