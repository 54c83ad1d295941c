//! The screen's verdicts when nothing puts the renewal at risk: SCREEN_PASSED when every
//! answer, from both vantages, is the one the data plane that would carry the solver's route
//! gives (and no other data plane answers alike), else SCREEN_INCONCLUSIVE with what kept the
//! screen from telling.

use super::util::{Facts, Who};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantages;

pub(super) fn verdict(c: &Vantages, f: &Facts) -> Vec<Finding> {
    if f.at_risk() {
        return vec![];
    }
    let host = &c.ch.dns_name;
    if f.all_expected() {
        let n: u32 = f.tallies.iter().map(|t| t.count).sum();
        let mut finding = Finding::new(
            Code::ScreenPassed,
            Severity::Info,
            Proof::Supports,
            format!(
                "{host}: all {n} answers on the challenge path, from this machine and from inside the cluster, are {}'s, which would carry the solver's route (a screen: no solver served a token, so whether one would pass is not proven)",
                f.expected.join(" and ")
            ),
        )
        .challenge(&c.ch.name);
        for l in f.lines().into_iter().chain(f.plane_lines()) {
            finding = finding.evidence(l);
        }
        return vec![finding];
    }
    let mut why: Vec<String> = Vec::new();
    if f.vantages.len() < 2 && f.own_trouble.is_empty() {
        why.push(
            "only one vantage probed the name (the probe pod did not run, or --local-only)"
                .to_owned(),
        );
    }
    if f.expected.is_empty() {
        why.push("the data plane that would carry the solver's route is not known (no class, Gateway or controller found)".to_owned());
    }
    if f.planes.is_empty() {
        why.push("no data plane was asked directly from inside the cluster".to_owned());
    }
    let kinds = [
        (
            Who::Both,
            "answers that the solver's data plane and another one give alike",
        ),
        (
            Who::Unknown,
            "answers that no data plane gave when asked directly",
        ),
        (
            Who::Redirect,
            "redirects (the solver's own route may take precedence)",
        ),
        (Who::Error, "connection errors"),
        (Who::NoConnection, "some connections failed"),
    ];
    for (who, text) in kinds {
        let n: u32 = f
            .tallies
            .iter()
            .filter(|t| t.who == who)
            .map(|t| t.count)
            .sum();
        if n > 0 {
            why.push(format!("{n} {text}"));
        }
    }
    why.extend(f.own_trouble.iter().cloned());
    for (vantage, address) in &f.capped {
        why.push(format!(
            "the run's connection cap for {address} was reached ({vantage}): raise --max-connections-per-address or check fewer names at once"
        ));
    }
    if why.is_empty() {
        why.push("nothing answered".to_owned());
    }
    let mut finding = Finding::new(
        Code::ScreenInconclusive,
        Severity::Warning,
        Proof::Supports,
        format!(
            "{host}: unknown — replay to be sure: the screen cannot tell who would answer the solver's route ({})",
            why.join("; ")
        ),
    )
    .challenge(&c.ch.name);
    for l in f.lines().into_iter().chain(f.plane_lines()) {
        finding = finding.evidence(l);
    }
    vec![finding.fix(
        "run `kubectl acmecheck renewals --replay` (it creates a stand-in solver for the name, probes it from both vantages and deletes it)",
    )]
}
