//! The screen's WRONG_DATA_PLANE and MIXED_BACKENDS: with no solver serving a token, the
//! answers for the name's challenge path (some or all of them) come from a data plane that
//! does not carry the solver's route, as the probe pod's direct probes show. A renewal's solver
//! route would be on the other data plane: those connections would not reach it.

use super::util::{Facts, Who};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantages;

pub(super) fn wrong_data_plane(c: &Vantages, f: &Facts) -> Vec<Finding> {
    let other: u32 = f.others().map(|t| t.count).sum();
    if other == 0 {
        return vec![];
    }
    let answered: u32 = f
        .tallies
        .iter()
        .filter(|t| !matches!(t.who, Who::NoConnection | Who::Error))
        .map(|t| t.count)
        .sum();
    let mut wrong: Vec<&str> = f
        .others()
        .filter_map(|t| match &t.who {
            Who::Other(p) => Some(p.as_str()),
            _ => None,
        })
        .collect();
    wrong.dedup();
    let wrong = wrong.join(" and ");
    let right = if f.expected.is_empty() {
        "the data plane of the solver's route".to_owned()
    } else {
        f.expected.join(" and ")
    };
    let host = &c.ch.dns_name;
    let all = other == answered;
    let (code, summary) = if all {
        (
            Code::WrongDataPlane,
            format!(
                "renewal at risk: traffic for {host} reaches {wrong}, not {right}, which would carry the solver's route: all {other} answers on the challenge path are {wrong}'s (no solver serves a token yet: this rests on who answers, as the probe pod's direct probes show)"
            ),
        )
    } else {
        (
            Code::MixedBackends,
            format!(
                "renewal at risk: {other} of {answered} fresh connections for {host} reach {wrong}, not {right}, which would carry the solver's route (no solver serves a token yet: this rests on who answers, as the probe pod's direct probes show)"
            ),
        )
    };
    let mut finding =
        Finding::new(code, Severity::Error, Proof::Supports, summary).challenge(&c.ch.name);
    for l in f.lines().into_iter().chain(f.plane_lines()) {
        finding = finding.evidence(l);
    }
    let fix = if all {
        format!(
            "point {host}'s DNS record, or the load balancer's port-80 listener it resolves to, at {right}; or move the solver to {wrong} (solvers[].http01: the ingress class or the Gateway of {wrong}); then `kubectl acmecheck renewals --replay` proves it with a stand-in solver"
        )
    } else {
        format!(
            "take {wrong} out of the port-80 pool for {host} (the load balancer's backends, the extra A/AAAA record), or route the challenge path on it to the solver too; then `kubectl acmecheck renewals --replay` proves it with a stand-in solver"
        )
    };
    vec![finding.fix(fix)]
}
