//! NO_MATCHING_SOLVER: the Order says no solver matches, and some of its names have no
//! challenge.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::issuer_kind_cmd;
use crate::diagnose::view::Certificate;
use crate::reason::{self, Reason};

pub(crate) fn no_matching_solver(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let Some(order) = &cert.order else {
        return vec![];
    };
    let no_solver = order
        .reason
        .as_deref()
        .and_then(reason::parse)
        .is_some_and(|r| matches!(r, Reason::NoSolver { .. }));
    let wildcard_only = cert.dns_names.iter().all(|n| n.starts_with("*."));
    if !no_solver || wildcard_only {
        return vec![];
    }
    let uncovered: Vec<_> = order
        .authorizations
        .iter()
        .filter(|a| !a.wildcard && a.initial_state.as_deref() != Some("valid"))
        .filter(|a| !cert.challenges.iter().any(|c| c.dns_name == a.identifier))
        .map(|a| a.identifier.clone())
        .collect();
    vec![
        Finding::new(
            Code::NoMatchingSolver,
            Severity::Error,
            Proof::Proves,
            "no solver of the issuer matches this certificate's names or labels",
        )
        .evidence(format!(
            "Order {}: {}",
            order.name,
            order.reason.as_deref().unwrap_or("")
        ))
        .evidence(format!(
            "names without a challenge: {}",
            uncovered.join(", ")
        ))
        .fix(format!(
            "check the selectors (matchLabels, dnsNames, dnsZones) of the solvers in the {}",
            issuer_kind_cmd(cert)
        )),
    ]
}
