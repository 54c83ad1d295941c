//! Gather: read the cert-manager chain and the cluster around it into [`crate::evidence`].
