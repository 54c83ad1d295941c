//! Test infrastructure for kubectl-acmecheck. Never shipped.

pub mod fakeapi;
