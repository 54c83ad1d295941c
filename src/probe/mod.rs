//! The probe engine: DNS, per-address HTTP with fresh connections, redirects under
//! cert-manager's and the CA's rules, fingerprints and emulated verdicts.
//!
//! The same engine runs on the user's machine (local vantage) and, through
//! `kubectl acmecheck probe --plan`, inside the cluster.

pub mod addrsel;
pub mod budget;
pub mod cmd;
pub mod dns;
pub mod egress;
pub mod engine;
pub mod fingerprint;
pub mod health;
pub mod http;
pub mod iana;
pub mod incluster;
pub mod judge;
pub mod perspectives;
pub mod plan;
pub mod pod;
pub mod proxy;
pub mod targets;
pub mod url;
pub mod verdict;
mod wire;

pub use engine::{Observer, run_plan, run_plan_observed};

use incluster::InCluster;
use plan::TargetReport;
use std::collections::HashMap;

/// What the probe stage produced for one run: the input of diagnosis next to the cluster
/// evidence.
#[derive(Debug, Default)]
pub struct Probes {
    /// Whether probing ran at all (false with `--no-probe`).
    pub enabled: bool,
    /// Local-vantage reports keyed by `<namespace>/<challenge>`.
    pub local: HashMap<String, TargetReport>,
    /// The probe pod's view (or why there is none).
    pub in_cluster: InCluster,
}
