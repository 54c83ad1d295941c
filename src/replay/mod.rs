//! Replay: a stand-in for the HTTP-01 solver cert-manager would create, for names whose
//! challenge is gone (failed, backed off) or not there yet (pre-flight, renewal checks).
//!
//! cert-manager deletes its solver pod, Service and Ingress/HTTPRoute once a Challenge fails,
//! so after the fact nothing serves a token and nothing can be probed. Replay creates what
//! cert-manager would create for a name — from the solver the Issuer would select, rendered as
//! cert-manager renders it, with the controller's acmesolver image — under the tool's own labels,
//! waits until the solver pod runs, hands back probe targets, and deletes everything again.
//!
//! The stages, each with one entry point:
//!
//! * [`plan()`] (pure): for every name of a Certificate (or a pre-flight), the solver cert-manager
//!   would select and the rendered objects ([`render`], [`route`]), or why not ([`Skip`]).
//!   Names with a live cert-manager challenge are never replayed ([`guard`]).
//! * [`manifest::yaml`] (pure): what `--dry-run` prints, in creation order.
//! * [`apply::apply`]: create (pods, then Services, then Ingresses/HTTPRoutes), wait for the
//!   pods through one watch, return [`apply::Live`] stand-ins; [`apply::Live::teardown`] deletes
//!   them in reverse order. Every object is registered with the run's
//!   [`Tracker`](crate::probe::pod::lifecycle::Tracker) before it is created, so a signal
//!   deletes it too; `kubectl acmecheck cleanup` removes leftovers by label.
//! * [`stage`]: what a run (`--replay`, `preflight`) calls — the above for every certificate,
//!   then the wait until the data plane serves the stand-in ([`propagation`]), its route's
//!   status ([`status`]), and the stand-ins as challenges for the probe stage; the hint for a
//!   failed certificate without `--replay` (pure).
//!
//! How a stand-in differs from cert-manager's own objects, always (each plan item's `notes` add
//! what is particular to it):
//! * fixed names `acmecheck-solver-<run id>-<n>` instead of `generateName: cm-acme-http-solver-`,
//!   no ownerReference to a Challenge;
//! * the tool's labels (`app.kubernetes.io/managed-by=kubectl-acmecheck`,
//!   `app.kubernetes.io/component=replay-solver`, `acmecheck.io/run-id`,
//!   `acmecheck.io/replay-solver`) and never cert-manager's identity labels
//!   (`acme.cert-manager.io/http01-solver`, `http-domain`, `http-token`): cert-manager deletes
//!   solver objects it finds by those and does not own. The Service selects the pod by the
//!   tool's labels. A NetworkPolicy that admits traffic to solver pods by
//!   `acme.cert-manager.io/http01-solver` does not admit the stand-in;
//! * a deadline annotation on every object and `activeDeadlineSeconds` on the pod;
//! * a random token and key (the CA is not involved: its own validation is not replayed).

pub mod apply;
pub mod creds;
pub mod error;
pub mod guard;
mod input;
mod live;
pub mod manifest;
mod plan;
pub mod podstate;
pub mod pool;
pub mod pooled;
pub mod propagation;
pub mod render;
pub mod route;
pub mod select;
pub mod settings;
pub mod stage;
pub mod status;

pub use plan::{
    CredentialSource, Decision, PlanItem, ReplayInput, ReplayOptions, ReplayPlan, RouteKind, Skip,
    SkipReason, StandIn, plan, solver_for,
};

use crate::gather::assemble::{DOMAIN_LABEL, SOLVER_LABEL as CM_SOLVER_LABEL, TOKEN_LABEL};
use std::time::Duration;

/// cert-manager's identity labels: a stand-in never carries them.
pub const IDENTITY_LABELS: [&str; 3] = [CM_SOLVER_LABEL, DOMAIN_LABEL, TOKEN_LABEL];
/// `app.kubernetes.io/component` and its value on every stand-in object.
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
pub const COMPONENT: &str = "replay-solver";
/// The label with the stand-in's object name; the Service selects its pod by it.
pub const SOLVER_LABEL: &str = "acmecheck.io/replay-solver";
/// When the object may be deleted by anyone (RFC 3339, UTC).
pub const DEADLINE_ANNOTATION: &str = "acmecheck.io/deadline";
/// The name the stand-in serves.
pub const DNS_NAME_ANNOTATION: &str = "acmecheck.io/replay-dns-name";
/// Selects every stand-in object (this run's and leftovers).
pub const SELECTOR: &str =
    "app.kubernetes.io/managed-by=kubectl-acmecheck,app.kubernetes.io/component=replay-solver";
/// The acmesolver's port (cert-manager's `acmeSolverListenPort`).
pub const LISTEN_PORT: i32 = 8089;
/// The acmesolver's base path (`solver.HTTPChallengePath`).
pub const CHALLENGE_PATH: &str = "/.well-known/acme-challenge";
/// Default lifetime of a stand-in (`activeDeadlineSeconds`, deadline annotation).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);

/// The object name of the `index`-th stand-in of a run (a DNS-1035 label: Services need one).
pub fn object_name(run_id: &str, index: usize) -> String {
    format!("acmecheck-solver-{run_id}-{index}")
}
