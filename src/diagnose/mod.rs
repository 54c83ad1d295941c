//! Diagnosis: pure functions from evidence to findings. No I/O happens here.
//!
//! Each rule is a small function `fn(&Input) -> Vec<Finding>` in one of the rule modules; the
//! rule list in [`diagnose`] runs them all and ranks the result so that the root cause comes
//! first (proof before support, errors before warnings).

pub mod advice;
pub mod certificate;
pub mod cluster;
pub mod finding;
pub mod joint;
pub mod merge;
pub mod probe;
pub mod rank;
#[cfg(test)]
pub(crate) mod testdata;
pub mod texts;
pub mod util;
pub mod vantages;
pub mod view;
pub mod wanted;

pub use finding::{Code, DOCS_BASE, Finding, Proof, Severity};
pub use rank::rank;

/// How many rules a full run applies to each certificate (cluster objects and texts, probe, joint, DNS-01 advice).
pub fn rule_count() -> usize {
    certificate::RULES.len() + probe::RULES.len() + joint::RULES.len() + 1
}
