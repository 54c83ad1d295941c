//! What a replay (`--replay`, `preflight`) adds to a diagnosis, from `cert.replay` and the
//! stand-ins' probes:
//!
//! * [`setup`]: a stand-in that could not be set up for a reason cert-manager's own solver meets
//!   too (admission, image, scheduling) is a finding about the cluster; a replay that could not
//!   run is said (an error when nothing else was checked, a warning when RBAC denied it and the
//!   run went on without it); a route that did not serve the key before probing began and a
//!   stand-in pod the probe pod could not reach (a NetworkPolicy admitting solver pods by
//!   cert-manager's label does not admit it) qualify what the probes found; a pre-flight's
//!   names that get no stand-in say why, as cert-manager would fail them.
//! * A stand-in's failing verdict is never silent: it is probed like any challenge, so the
//!   final step's check (rank.rs, UNEXPLAINED_FAILURE when no rule explains it) covers it.
//! * [`history`]: what the CA said back then follows from what the replay shows now.
//!
//! The stand-ins' objects and probes are read by every other rule, as any challenge's.

pub mod history;
pub mod setup;
#[cfg(test)]
pub(crate) mod testdata;

pub(crate) use history::attribute_history;
pub(crate) use setup::replayed;
