//! Findings available from the Kubernetes API alone.
