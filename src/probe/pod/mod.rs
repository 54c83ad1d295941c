//! The in-cluster vantage: one short-lived probe pod per run that runs the plugin's own probe
//! engine (`probe --plan-json`) where cert-manager's self check runs, and is always deleted.
//!
//! * [`spec`]: where the pod goes ([`spec::placement`]) and what it looks like
//!   ([`spec::pod`]); pure, unit-tested field by field.
//! * [`lifecycle`]: create → watch → logs → delete, with every failure mapped to an
//!   [`crate::probe::incluster::Problem`], and deletion on every path (signals included).
//! * [`report`]: the pod's output is untrusted; parse it with a size limit.
//! * [`status`]: what one observed state of a pod says (pure); the replay's stand-in solver
//!   pods are read with it too.
//! * [`cleanup`]: `kubectl acmecheck cleanup`, which removes leftovers by label.
//!
//! Requests for one run: POST pod, one WATCH (label selector, no resourceVersion: the initial
//! ADDED events also show leftovers of earlier runs), GET pods/log, DELETE pod. A 403 on the
//! POST in cert-manager's namespace costs one more POST in the Certificate's namespace.

pub mod cleanup;
pub mod lifecycle;
mod progress;
pub mod report;
pub mod spec;
pub mod status;

use std::time::Duration;

/// `app.kubernetes.io/name` and `app.kubernetes.io/managed-by` of every probe pod.
pub const APP: &str = "kubectl-acmecheck";
/// `app.kubernetes.io/component` of a probe pod (the replay's stand-ins have `replay-solver`).
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
pub const COMPONENT: &str = "probe";
/// Label with the run id.
pub const RUN_ID_LABEL: &str = "acmecheck.io/run-id";
/// The selector that finds every probe pod (this run's and leftovers).
pub const MANAGED_SELECTOR: &str = "app.kubernetes.io/managed-by=kubectl-acmecheck";
/// Name prefix of probe pods.
pub const POD_PREFIX: &str = "acmecheck-probe-";
/// The probe container's name.
pub const CONTAINER: &str = "probe";
/// Default `--probe-timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// What the user asked for about the probe pod (from the CLI).
#[derive(Debug, Clone)]
pub struct PodOptions {
    /// `--probe-namespace`.
    pub namespace: Option<String>,
    /// `--probe-node`.
    pub node: Option<String>,
    /// `--probe-image` / `ACMECHECK_PROBE_IMAGE` / the default pinned image.
    pub image: String,
    /// `--image-pull-secret` (repeatable).
    pub image_pull_secrets: Vec<String>,
    /// `--probe-timeout`: the pod's `activeDeadlineSeconds` and the client's own deadline.
    pub timeout: Duration,
}

impl Default for PodOptions {
    fn default() -> Self {
        PodOptions {
            namespace: None,
            node: None,
            image: crate::image::DEFAULT_PROBE_IMAGE.to_owned(),
            image_pull_secrets: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// A fresh run id: 10 lowercase hex digits (valid in a label value and a pod name).
pub fn new_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    format!("{:010x}", h.finish() & 0xff_ffff_ffff)
}

/// The probe pod's name for a run id.
pub fn pod_name(run_id: &str) -> String {
    format!("{POD_PREFIX}{run_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_fresh_label_values() {
        let a = new_run_id();
        let b = new_run_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 10);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(pod_name(&a), format!("acmecheck-probe-{a}"));
    }
}
