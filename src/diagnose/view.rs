//! What each kind of rule sees: one view of the evidence per rule folder. Rules read these
//! types; the walk (`diagnose/mod.rs` and each folder's `mod.rs`) builds them.

use crate::evidence::{CertificateEvidence, ChallengeEvidence, ClusterEvidence};
use crate::probe::incluster::InCluster;
use crate::probe::plan::{CaProfile, TargetReport};

/// What the rules over cluster objects and cert-manager's texts (`cluster/`, `texts/`) see: one
/// certificate and the cluster around it.
pub struct Certificate<'a> {
    pub cert: &'a CertificateEvidence,
    pub cluster: &'a ClusterEvidence,
}

/// What a rule over one vantage's probe report (`probe/`) sees: one challenge, the report of one
/// vantage for it, and the kind of CA that validates.
pub struct Vantage<'a> {
    pub ch: &'a ChallengeEvidence,
    pub report: &'a TargetReport,
    pub ca: CaProfile,
}

/// What a cross-vantage rule (`vantages/`) sees: one challenge, this machine's and the probe
/// pod's reports for it, the pod's run as a whole, and the cluster.
pub struct Vantages<'a> {
    pub ch: &'a ChallengeEvidence,
    pub local: Option<&'a TargetReport>,
    pub inside: Option<&'a TargetReport>,
    pub in_cluster: &'a InCluster,
    pub cluster: &'a ClusterEvidence,
    pub ca: CaProfile,
}

/// What a joint rule (`joint/`) sees: one challenge, its certificate, the cluster and (when
/// probed) the local vantage's report.
pub struct Joint<'a> {
    pub cert: &'a CertificateEvidence,
    pub ch: &'a ChallengeEvidence,
    pub cluster: &'a ClusterEvidence,
    pub probe: Option<&'a TargetReport>,
}
