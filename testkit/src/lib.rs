//! Test infrastructure for kubectl-acmecheck: a fake Kubernetes API server, a network lab of
//! real daemons in network namespaces, and Pebble (a real ACME server) in that lab with a
//! minimal ACME client for the agreement tests. Never shipped.

pub mod acme;
pub mod fakeapi;
pub mod gobuild;
pub mod lab;
pub mod pebble;
pub mod proc;
pub mod tools;
