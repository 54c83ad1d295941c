//! Test infrastructure for kubectl-acmecheck. Never shipped.

pub mod lab;
pub mod proc;
