//! Test infrastructure for kubectl-acmecheck: a fake Kubernetes API server and a network lab of
//! real daemons in network namespaces. Never shipped.

pub mod acme;
pub mod fakeapi;
pub mod lab;
pub mod pebble;
pub mod proc;
