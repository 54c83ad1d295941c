//! Rules that join the cluster objects with what one vantage's probe saw and, when they were
//! read, the solver pod's logs: who captured the path, who rewrote the Host, which load
//! balancer the solver sits on, which data plane is stale, `externalTrafficPolicy: Local` with
//! too few nodes, and protocol mix-ups at the edge. Pure; each rule is small.
//! One file per finding code; [`findings`] runs them in order.

use super::finding::Finding;
use super::view::Joint;
use crate::evidence::{CertificateEvidence, ChallengeEvidence, ClusterEvidence};
use crate::probe::plan::TargetReport;
use crate::reason::{self, Phase};

pub mod dataplane_stale;
pub mod edge_protocol_mismatch;
pub mod etp_local_partial;
pub mod host_not_preserved;
pub mod path_captured;
pub mod solver_on_other_lb;
#[cfg(test)]
pub(crate) mod testdata;
pub mod util;

type Rule = fn(&Joint) -> Vec<Finding>;

/// The rules, in the order their findings are most useful when severities tie.
pub(crate) const RULES: &[Rule] = &[
    host_not_preserved::host_not_preserved,
    path_captured::path_captured,
    solver_on_other_lb::solver_on_other_lb,
    dataplane_stale::dataplane_stale,
    etp_local_partial::etp_local_partial,
    edge_protocol_mismatch::edge_protocol_mismatch,
];

/// Run every joint rule for the open HTTP-01 challenges of one certificate; `probe` looks up a
/// challenge's probe report.
pub fn findings<'a>(
    cert: &'a CertificateEvidence,
    cluster: &'a ClusterEvidence,
    probe: impl Fn(&ChallengeEvidence) -> Option<&'a TargetReport>,
) -> Vec<Finding> {
    cert.challenges
        .iter()
        .filter(|c| c.is_http01() && !matches!(reason::phase(c), Phase::Done))
        .flat_map(|ch| {
            let ctx = Joint {
                cert,
                ch,
                cluster,
                probe: probe(ch),
            };
            RULES.iter().flat_map(|r| r(&ctx)).collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::testdata::*;
    use super::*;
    use crate::diagnose::finding::Code;
    use crate::diagnose::testdata::assert_complete;

    pub(crate) fn run(
        cert: &CertificateEvidence,
        cluster: &ClusterEvidence,
        p: Option<&TargetReport>,
    ) -> Vec<Finding> {
        let found = findings(cert, cluster, |_| p);
        assert_complete(&found);
        found
    }

    pub(crate) fn code(found: &[Finding], c: Code) -> Option<Finding> {
        found.iter().find(|f| f.code == c).cloned()
    }

    #[test]
    fn healthy_challenge_has_no_joint_findings() {
        let (cert, cluster) = base();
        assert!(run(&cert, &cluster, Some(&healthy_probe())).is_empty());
        assert!(run(&cert, &cluster, None).is_empty());
    }
}
