//! The walk over one certificate's cluster objects and texts: every rule of [`super::cluster`]
//! and [`super::texts`], in the order their findings are most useful when severities tie.
//! Rules return findings for what they can prove, and "supports" findings for what they can
//! only suggest (the probe rules then prove or disprove them).

use super::finding::Finding;
use super::view::Certificate;
use super::{cluster, texts};

type Rule = fn(&Certificate) -> Vec<Finding>;

/// The rules, in the order their findings are most useful when severities tie.
pub(super) const RULES: &[Rule] = &[
    cluster::not_acted::not_acted_on,
    cluster::issuer::issuer_problems,
    texts::rate_limited::rate_limited,
    cluster::wildcard::wildcard_needs_dns01,
    cluster::no_matching_solver::no_matching_solver,
    cluster::solver_config::solver_config,
    cluster::gateway_api::gateway_api_disabled,
    texts::present::present_failed,
    cluster::solver_pod::solver_pod_not_running,
    cluster::solver_unreachable::solver_unreachable,
    cluster::ingress_class::ingress_class_unserved,
    cluster::duplicate_controller::duplicate_controller,
    cluster::httproute::httproute_not_attached,
    cluster::solver_pod::solver_pod_stale,
    texts::ca_rejected::ca_rejected,
    texts::self_check::self_check_failing,
    cluster::scheduling::challenge_not_scheduled,
    texts::self_check::self_check_skipped,
    cluster::issuance_backoff::issuance_backoff,
    texts::ca_problems::caa_forbids,
    texts::ca_problems::dns_broken,
    texts::ca_problems::solver_removed_early,
    texts::version_pitfall::version_pitfall,
    cluster::ip_identifier::ip_identifier,
];

/// Run every rule over one certificate's objects and texts.
pub fn findings(input: &Certificate) -> Vec<Finding> {
    RULES.iter().flat_map(|rule| rule(input)).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diagnose::finding::{Code, Proof};
    use crate::diagnose::testdata::{assert_complete, stuck};
    use crate::evidence::{CertificateEvidence, ClusterEvidence};

    /// The rules, with every finding checked for evidence, fix and docs link.
    pub(crate) fn findings(input: &Certificate) -> Vec<Finding> {
        let found = super::findings(input);
        assert_complete(&found);
        found
    }

    /// `(code, proof)` of every finding, in rule order.
    pub(crate) fn codes(
        cert: &CertificateEvidence,
        cluster: &ClusterEvidence,
    ) -> Vec<(Code, Proof)> {
        findings(&Certificate { cert, cluster })
            .iter()
            .map(|f| (f.code, f.proof))
            .collect()
    }

    /// The finding with `code`, if any.
    pub(crate) fn has(
        cert: &CertificateEvidence,
        cluster: &ClusterEvidence,
        code: Code,
    ) -> Option<Finding> {
        findings(&Certificate { cert, cluster })
            .into_iter()
            .find(|f| f.code == code)
    }

    #[test]
    fn healthy_solver_only_reports_the_self_check() {
        let (cert, cluster) = stuck();
        assert_eq!(
            codes(&cert, &cluster),
            vec![(Code::SelfCheckFailing, Proof::Supports)]
        );
    }

    #[test]
    fn issued_certificate_has_no_findings() {
        let (mut cert, cluster) = stuck();
        cert.conditions[0].status = "True".into();
        cert.request = None;
        cert.order = None;
        cert.challenges.clear();
        assert!(codes(&cert, &cluster).is_empty());
    }
}
