//! Gather: read the cert-manager chain and the cluster around it into [`crate::evidence`].
//!
//! I/O and logic are split: [`fetch::fetch`] makes the API calls (a fixed number, whatever the
//! number of certificates) and returns a raw [`Snapshot`]; [`assemble::assemble`] is a pure
//! function that joins it into evidence.
//!
//! Requests (one each): certificate get (a list for several names or `--all`),
//! certificaterequests, orders, challenges (namespace, or all with `-A`), issuer get (or issuers
//! and clusterissuers lists when certificates use several), solver pods (label
//! `acme.cert-manager.io/http01-solver=true`), services, ingresses, httproutes, ingressclasses,
//! deployments, gateways (all namespaces). Twelve for one certificate; the same number for
//! `--all -A` over any number of certificates. Extra requests happen only on error paths: one
//! list for "did you mean" when a certificate is not found, and a namespace-scoped retry when a
//! cluster-wide services/ingresses/httproutes list is forbidden.
//!
//! Errors: a missing cert-manager API, a forbidden chain read, an unreachable server, a failing
//! auth plugin and malformed cert-manager objects are [`UserError`]s. Forbidden or absent
//! context (ingress classes, deployments, Gateway API, ...) is recorded in
//! `ClusterEvidence::unreadable` / `gateway_api_installed` and the run goes on.
//!
//! Known limits: only solver pods are listed, so data-plane Services get their endpoint counts
//! from the ready replicas of the Deployments their selector matches (no endpoint IPs), and
//! DaemonSet-based controllers (and Contour's Envoy) are not detected as data planes;
//! GatewayClasses are not read, so a Gateway's product is guessed from its class name.

pub mod assemble;
pub mod client;
pub mod context;
pub mod dataplane;
pub mod fetch;
pub mod logs;
pub mod preflight;
pub mod shim;
pub mod snapshot;
pub mod types;

#[cfg(test)]
mod tests;

pub use assemble::{adler32, assemble};
pub use client::{connect, connect_with_server};
pub use fetch::fetch;
pub use snapshot::Snapshot;

use crate::error::UserError;
use crate::evidence::{CertificateEvidence, ClusterEvidence};

/// What to look at.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The namespace of the certificates (ignored with `all_namespaces`).
    pub namespace: String,
    /// Certificate names; empty with `all`.
    pub names: Vec<String>,
    /// Every certificate whose Ready condition is not True.
    pub all: bool,
    /// Every namespace (`-A`).
    pub all_namespaces: bool,
}

/// [`gather`], with the snapshot it joined (a replay reads the Certificates' annotations, every
/// Challenge of their namespaces and the Ingresses from it).
pub async fn gather_with_snapshot(
    client: kube::Client,
    scope: &Scope,
) -> Result<(Vec<CertificateEvidence>, ClusterEvidence, Snapshot), UserError> {
    let snap = fetch(&client, scope).await?;
    let (certs, cluster) = assemble(&snap);
    Ok((certs, cluster, snap))
}

/// Read the cluster and return the evidence for every certificate in scope.
pub async fn gather(
    client: kube::Client,
    scope: &Scope,
) -> Result<(Vec<CertificateEvidence>, ClusterEvidence), UserError> {
    let snap = fetch(&client, scope).await?;
    Ok(assemble(&snap))
}
