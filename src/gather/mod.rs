//! Gather: read the cert-manager chain and the cluster around it into [`crate::evidence`].
//!
//! I/O and logic are split: [`fetch::fetch`] makes the API calls (a fixed number, whatever the
//! number of certificates) and returns a raw [`Snapshot`]; [`assemble::assemble`] is a pure
//! function that joins it into evidence.

pub mod assemble;
pub mod client;
pub mod dataplane;
pub mod fetch;
pub mod snapshot;
pub mod types;

#[cfg(test)]
mod tests;

pub use assemble::{adler32, assemble};
pub use client::connect;
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

/// Read the cluster and return the evidence for every certificate in scope.
pub async fn gather(
    client: kube::Client,
    scope: &Scope,
) -> Result<(Vec<CertificateEvidence>, ClusterEvidence), UserError> {
    let snap = fetch(&client, scope).await?;
    Ok(assemble(&snap))
}
