//! CA_REJECTED, what the probes add after a failed validation: the challenge is `invalid` and
//! cert-manager removed its solver, so the URL answers 404 by design; but who answers it now,
//! on which address and family, from where, and whether port 80 is reachable at all, still say
//! where the CA's request went. The walk folds these lines into the CA_REJECTED finding of the
//! challenge's texts (`texts/ca_rejected.rs`), which says what the CA reported.

use super::util::direct_line;
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantages;
use crate::probe::plan::TargetReport;
use crate::probe::targets::is_rejected;

fn lines(vantage: &str, t: &TargetReport) -> Vec<String> {
    if t.addresses.is_empty() {
        let dns = t
            .dns
            .resolvers
            .iter()
            .find(|r| r.role == "primary")
            .and_then(|r| r.error)
            .map_or("no address", |e| e.as_str());
        return vec![format!(
            "now, {vantage}: {} does not resolve ({dns})",
            t.dns_name
        )];
    }
    t.addresses
        .iter()
        .map(|a| {
            format!(
                "now, {vantage}: {} ({}) {}",
                a.address,
                if a.is_ipv6() { "IPv6" } else { "IPv4" },
                outcome_summary(a)
            )
        })
        .collect()
}

pub(crate) fn after_failure(c: &Vantages) -> Vec<Finding> {
    if !is_rejected(c.ch) || (c.local.is_none() && c.inside.is_none()) {
        return vec![];
    }
    let mut f = Finding::new(
        Code::CaRejected,
        Severity::Error,
        Proof::Supports,
        format!(
            "the CA rejected the challenge for {}; its solver is gone, and the URL was probed again to see who answers it now",
            c.ch.dns_name
        ),
    )
    .challenge(&c.ch.name)
    .evidence(
        "the challenge URL was probed after the failure: its token is gone, so 404 is expected; who answers, where and how still locate the CA's request",
    );
    if let Some(l) = c.local {
        f.evidence
            .extend(lines("from this machine (the CA's side)", l));
    }
    if let Some(i) = c.inside {
        f.evidence.extend(lines("from inside the cluster", i));
        for d in &i.direct {
            f = f.evidence(direct_line(d));
        }
    }
    vec![f.fix(
        "compare who answers now with what the CA reported; a server other than the solver's data plane means the CA's request went there (see WRONG_DATA_PLANE when it is named)",
    )]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::pod_report;

    #[test]
    fn who_answers_after_the_rejection() {
        let mut ch = ch();
        let l = local(vec![addr(EDGE, vec![status(404, "envoy", 20)])]);
        let i = inside(
            vec![addr(EDGE, vec![status(404, "envoy", 20)])],
            vec![gateway_404()],
        );
        let ic = ran(i);
        let cl = cluster();
        let run = |ch: &crate::evidence::ChallengeEvidence| {
            after_failure(&Vantages {
                ch,
                local: Some(&l),
                inside: pod_report(&ic),
                in_cluster: &ic,
                cluster: &cl,
                ca: crate::probe::plan::CaProfile::Pebble,
            })
        };
        assert!(run(&ch).is_empty(), "only for rejected challenges");
        ch.state = "invalid".into();
        let f = run(&ch);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, Code::CaRejected);
        assert!(
            f[0].evidence.contains(
                &"now, from this machine (the CA's side): 203.0.113.10 (IPv4) 20×404 (envoy)"
                    .to_owned()
            ),
            "{:#?}",
            f[0].evidence
        );
        assert!(
            f[0].evidence.iter().any(|e| e.starts_with("direct from inside: gateway infra/public (cilium) Service")),
            "{:#?}",
            f[0].evidence
        );
    }
}
