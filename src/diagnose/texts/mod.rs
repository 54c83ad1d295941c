//! Rules over cert-manager's and the CA's own texts: the Challenge, Order, CertificateRequest
//! and Certificate reasons (parsed by `crate::reason`), the CA's problem documents, and known
//! regressions of the running cert-manager version. One file per finding code (or a few closely
//! related ones); the walk in [`super::certificate`] runs them in order.

pub mod ca_problems;
pub mod ca_rejected;
pub mod present;
pub mod rate_limited;
pub mod self_check;
pub mod version_pitfall;
