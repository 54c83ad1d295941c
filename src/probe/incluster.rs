//! The in-cluster vantage as data: where the probe pod ran, what it reported, or why it could
//! not run. The pod lifecycle (`probe::pod`) produces an [`InCluster`]; it travels in
//! [`super::Probes`] to diagnosis, whose cross-vantage rules read it.

use crate::probe::plan::TargetReport;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Where the probe pod ran and why there.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Placement {
    pub namespace: String,
    /// The pod's name (`acmecheck-probe-<run id>`).
    pub pod: String,
    /// The node asked for (the controller's, or `--probe-node`), if any; requested through the
    /// `kubernetes.io/hostname` node selector.
    pub node: Option<String>,
    /// One sentence: "cert-manager's namespace, like the self check" / "--probe-namespace" /
    /// "the Certificate's namespace: creating pods in cert-manager is forbidden".
    pub why: String,
}

/// Why the in-cluster vantage is missing, in words a user can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// RBAC: the user may not create/watch/read logs of/delete pods there.
    Forbidden,
    /// ErrImagePull / ImagePullBackOff / InvalidImageName.
    ImagePull,
    /// PodScheduled=False.
    Unschedulable,
    /// Admission (Pod Security, a policy engine, quota) refused the pod.
    Rejected,
    /// `activeDeadlineSeconds` or the client-side deadline passed.
    DeadlineExceeded,
    /// The pod ended without a report (OOMKilled, evicted, deleted by someone else).
    Killed,
    /// The pod's output was not a valid probe report (too large, malformed, wrong version).
    MalformedReport,
    /// The run was interrupted (SIGINT/SIGTERM) before the pod finished.
    Interrupted,
    /// Any other API error.
    Api,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    pub kind: ProblemKind,
    /// What failed and why, e.g. `image "x" could not be pulled: ErrImagePull: ...`.
    pub message: String,
    /// What to do, e.g. `use --probe-image to point at a mirror`.
    pub hint: String,
}

/// The in-cluster vantage for one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum InCluster {
    /// `--local-only` or `--no-probe`, or nothing to probe.
    #[default]
    NotRequested,
    /// The pod ran and reported; reports keyed like the local ones (`<namespace>/<challenge>`).
    Ran {
        placement: Placement,
        targets: HashMap<String, TargetReport>,
    },
    /// The pod could not run or report.
    Failed {
        placement: Option<Placement>,
        problem: Problem,
    },
}

impl InCluster {
    /// The in-cluster report for one challenge, when the pod ran.
    pub fn target(&self, id: &str) -> Option<&TargetReport> {
        match self {
            InCluster::Ran { targets, .. } => targets.get(id),
            _ => None,
        }
    }
}
