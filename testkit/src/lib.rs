//! Test infrastructure for kubectl-acmecheck (never shipped).

pub mod fakeapi;
