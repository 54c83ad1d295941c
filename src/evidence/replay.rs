//! What a replay did for one certificate (or pre-flight), as plain data: the diagnosis reads it
//! ([`crate::diagnose`]'s replay rule) and the report carries it (`replay` in `-o json`).
//!
//! The stand-in challenges themselves are ordinary [`super::ChallengeEvidence`] entries of the
//! certificate (their `name` is the stand-in's object name); this says which ones they are,
//! what was created, what was not replayed and why, and how it ended.

use serde::{Deserialize, Serialize};

/// How far the replay got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum ReplayState {
    /// Planned only: a dry run, or what `--replay` would do (the hint after a failed issuance).
    #[default]
    Planned,
    /// The stand-ins ran and were probed like a live challenge.
    Ran,
    /// RBAC denied a verb: the run went on without replay.
    Forbidden,
    /// Setting the stand-ins up failed (admission, image pull, scheduling, timeout, API).
    Failed,
    /// Every name was skipped: nothing to create.
    NothingToReplay,
}

/// The replay of one certificate's names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplayEvidence {
    pub state: ReplayState,
    /// A pre-flight (no Certificate: `kubectl acmecheck preflight`).
    pub preflight: bool,
    /// `Certificate shop/web`, `preflight of Ingress shop/web`.
    pub subject: String,
    /// Where the stand-ins go (the Certificate's namespace).
    pub namespace: String,
    pub run_id: String,
    /// The command that runs this replay (shown when the replay only was planned).
    pub command: String,
    /// The acmesolver image the stand-in pods run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub stand_ins: Vec<StandInEvidence>,
    pub skipped: Vec<SkippedName>,
    /// How every stand-in differs from cert-manager's objects, and how the controller's
    /// settings were read.
    pub notes: Vec<String>,
    /// Why the replay did not run or failed (state `forbidden` or `failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<ReplayProblem>,
    /// Whether the data plane served the stand-in's path before probing began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation: Option<Propagation>,
}

/// One stand-in: a name, the objects created for it, and where they differ from
/// cert-manager's own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StandInEvidence {
    pub dns_name: String,
    /// The pod, Service and Ingress/HTTPRoute share this name; it is also the name of the
    /// stand-in's challenge in the report unless [`StandInEvidence::challenge_name`] is set.
    pub object_name: String,
    /// The stand-in's challenge in the report when one stand-in serves several names
    /// (`renewals --replay`): `<object name>-<n>`. Empty: [`StandInEvidence::object_name`].
    #[serde(skip_serializing_if = "String::is_empty")]
    pub challenge_name: String,
    /// Where its objects are, when not in the replay's namespace (a shared stand-in).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// `Ingress` or `HTTPRoute`.
    pub route_kind: String,
    /// The issuer's solver it stands in for (index in `spec.acme.solvers`).
    pub solver_index: usize,
    /// `Pod shop/acmecheck-solver-…`, in creation order.
    pub objects: Vec<String>,
    /// Differences particular to this stand-in.
    pub notes: Vec<String>,
}

/// A name that gets no stand-in, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SkippedName {
    pub name: String,
    /// `liveChallenge`, `noSolver`, `wildcard`, `dns01`, … (the plan's skip reason).
    pub reason: String,
    pub message: String,
}

/// Why a replay did not run or failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplayProblem {
    /// `forbidden`, `rejected`, `imagePull`, `unschedulable`, `containerFailed`, `deleted`,
    /// `timeout`, `api`.
    pub kind: String,
    pub message: String,
    pub hint: String,
    /// cert-manager's own solver would meet the same problem (admission, image, scheduling).
    pub also_hits_cert_manager: bool,
    /// The kind of object that was refused, when one was (`Pod`, `Ingress`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_kind: Option<String>,
    /// Objects that could not be deleted on the way out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_behind: Vec<String>,
}

/// Whether the stand-in's route served the key from this machine before the probes ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Propagation {
    /// The key was served at least once within the wait.
    pub finished: bool,
    /// How long the run waited, in milliseconds.
    pub waited_ms: u64,
    /// What the last attempt saw, in words.
    pub detail: String,
}

impl ReplayEvidence {
    /// Is `challenge` (a challenge's name) one of this replay's stand-ins?
    pub fn is_stand_in(&self, challenge: &str) -> bool {
        self.stand_ins.iter().any(|s| s.challenge() == challenge)
    }

    /// The namespace of `s`'s objects.
    pub fn namespace_of<'a>(&'a self, s: &'a StandInEvidence) -> &'a str {
        if s.namespace.is_empty() {
            &self.namespace
        } else {
            &s.namespace
        }
    }
}

impl StandInEvidence {
    /// The name of the stand-in's challenge in the report.
    pub fn challenge(&self) -> &str {
        if self.challenge_name.is_empty() {
            &self.object_name
        } else {
            &self.challenge_name
        }
    }
}
