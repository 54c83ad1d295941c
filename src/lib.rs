//! kubectl-acmecheck: why is this cert-manager HTTP-01 challenge stuck?
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! gather (cluster API)  ─┐
//!                        ├─> evidence ─> diagnose (pure rules) ─> report (table / json / yaml)
//! probe (local, pod)    ─┘
//! ```
//!
//! * [`gather`] reads cert-manager objects and the cluster around them into [`evidence`].
//! * [`probe`] is the network probe engine, the same on the user's machine and in the probe pod;
//!   its output for a run is [`probe::Probes`].
//! * [`diagnose`] turns all the evidence for one certificate into ranked findings with stable
//!   codes through one entry point, [`diagnose::diagnose`]; it does no I/O.
//! * [`replay`] creates a stand-in for cert-manager's solver when its own is gone or not there
//!   yet (plan, dry run, apply, teardown); `--replay` and `preflight` run it between gather and
//!   probe ([`replay::stage`]), and its stand-ins are probed and diagnosed as challenges.
//! * [`report`] renders findings for people (table) and scripts (JSON/YAML, versioned schema).
//! * [`run`] wires the stages together for the CLI in `main.rs`: one call into diagnosis per
//!   certificate.
//! * [`solver`] is not a stage: the multi-name stand-in solver a `renewals --replay` stand-in
//!   pod runs (`kubectl-acmecheck solver`, hidden); only `main.rs` calls it.
//! * [`time`] converts RFC 3339 UTC times to and from seconds since 1970 for every stage.

pub mod cli;
pub mod completion;
pub mod diagnose;
pub mod error;
pub mod evidence;
pub mod gather;
pub mod image;
pub mod probe;
pub mod reason;
pub mod renewals;
pub mod replay;
pub mod report;
pub mod run;
pub mod solver;
pub mod time;
