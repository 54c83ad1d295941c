//! Rules over the cluster's API objects (Certificate, Issuer, Order, Challenge, solver Pod,
//! Service, Ingress, HTTPRoute, IngressClasses, data planes): what can be proven without a
//! probe. One file per finding code (or a few closely related ones); the walk in
//! [`super::certificate`] runs them in order.

pub mod duplicate_controller;
pub mod gateway_api;
pub mod httproute;
pub mod ingress_class;
pub mod ip_identifier;
pub mod issuance_backoff;
pub mod issuer;
pub mod no_matching_solver;
pub mod not_acted;
pub mod scheduling;
pub mod solver_config;
pub mod solver_pod;
pub mod solver_unreachable;
pub mod wildcard;
