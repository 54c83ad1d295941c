//! Gather: read the cert-manager chain and the cluster around it into [`crate::evidence`].
//!
//! I/O and logic are split: [`fetch()`] makes a fixed, small number of API requests (12 for one
//! certificate; with `--all -A` the same number whatever the number of certificates) and returns
//! a raw [`Snapshot`]; [`assemble()`] is a pure function from that snapshot to evidence.
//! [`gather()`] does both. [`client::connect`] builds the client from kubectl-style flags.

pub mod assemble;
pub mod client;
pub mod cluster;
pub mod fetch;
pub mod suggest;
pub mod types;

pub use assemble::assemble;
pub use fetch::{Scope, Snapshot, fetch};

use crate::error::UserError;
use crate::evidence::{CertificateEvidence, ClusterEvidence};

/// Read the chain for the certificates in `scope` and the cluster around them.
///
/// With `scope.all` (and no names) only certificates whose `Ready` condition is not `True` are
/// returned. Errors are phrased for the user: certificate not found (with close names),
/// cert-manager not installed, forbidden (with the RBAC rule to add), API unreachable, a
/// malformed object on the chain.
pub async fn gather(
    client: kube::Client,
    scope: Scope,
) -> Result<(Vec<CertificateEvidence>, ClusterEvidence), UserError> {
    let snapshot = fetch(&client, &scope).await?;
    assemble(&snapshot)
}

#[cfg(test)]
mod tests;
