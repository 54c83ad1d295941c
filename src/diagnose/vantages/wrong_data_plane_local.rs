//! WRONG_DATA_PLANE without the probe pod's direct probes (`--local-only`, or the pod could not
//! run or asked no data plane): every answer for the challenge URL comes from one responder
//! that is a known product, and not the one the data plane carrying the solver's route answers
//! as (ingress-nginx answers as nginx, Cilium, Envoy Gateway and Contour as envoy). That
//! supports the finding; the pod's direct probes prove it (`wrong_data_plane.rs`).

use super::util::{Seen, one_failing_answer, plane_results, seen_lines, vantage_counts};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::solver_planes;
use crate::diagnose::view::Vantages;
use crate::evidence::DataPlaneEvidence;
use crate::probe::targets::plane_name;

/// What a data-plane product answers as (its fingerprint), where it is distinctive.
fn product_responder(product: &str) -> Option<&'static str> {
    match product {
        "ingress-nginx" | "nginx-gateway-fabric" => Some("nginx"),
        "cilium" | "envoy-gateway" | "contour" => Some("envoy"),
        "istio" => Some("istio-envoy"),
        "kong" => Some("kong"),
        _ => None,
    }
}

pub(crate) fn wrong_data_plane_by_responder(c: &Vantages) -> Vec<Finding> {
    if c.inside.is_some_and(|i| plane_results(i).next().is_some()) {
        return vec![];
    }
    let Some(seen) = one_failing_answer(c) else {
        return vec![];
    };
    by_product(c, &seen, &solver_planes(c.ch, c.cluster))
}

/// Without direct probes: the responder is not what the solver's data plane answers as.
fn by_product(c: &Vantages, seen: &[Seen], solver: &[&DataPlaneEvidence]) -> Vec<Finding> {
    let answer = &seen[0].answer;
    let expected: Vec<(String, &str)> = solver
        .iter()
        .filter_map(|p| Some((plane_name(p), product_responder(p.product.as_deref()?)?)))
        .collect();
    if expected.is_empty() || expected.iter().any(|(_, r)| *r == answer.responder) {
        return vec![];
    }
    let others: Vec<String> = c
        .cluster
        .data_planes
        .iter()
        .filter(|p| {
            p.product.as_deref().and_then(product_responder) == Some(answer.responder.as_str())
        })
        .map(plane_name)
        .collect();
    let (planes, as_): (Vec<&str>, Vec<&str>) =
        expected.iter().map(|(p, r)| (p.as_str(), *r)).unzip();
    let host = &c.ch.dns_name;
    let likely = if others.is_empty() {
        String::new()
    } else {
        format!(
            "; {} answers as {} in this cluster",
            others.join(" and "),
            answer.responder
        )
    };
    let mut f = Finding::new(
        Code::WrongDataPlane,
        Severity::Error,
        Proof::Supports,
        format!(
            "traffic for {host} is answered by {}, not by {} as {} (which carries the solver's route) would answer: {} are {}{likely}",
            answer.responder,
            as_.join(" or "),
            planes.join(" and "),
            vantage_counts(seen),
            answer.text()
        ),
    )
    .challenge(&c.ch.name);
    f = seen_lines(f, seen);
    vec![f.fix(format!(
        "find where {} sends port 80 (the DNS record for {host}, the load balancer's port-80 listener or target, a router's port forward) and point it at {}; without --local-only the probe pod asks every data plane directly and names the one that answers",
        seen[0].addr.address,
        planes.join(" or ")
    ))]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::{graded, rule_on};
    use crate::evidence::ChallengeEvidence;
    use crate::probe::incluster::InCluster;
    use crate::probe::plan::TargetReport;

    fn find(ch: &ChallengeEvidence, l: Option<&TargetReport>, ic: &InCluster) -> Vec<Finding> {
        rule_on(
            wrong_data_plane_by_responder,
            ch,
            l,
            ic,
            &cluster_nginx_class(),
        )
    }

    #[test]
    fn without_the_pod_the_responder_supports_it() {
        let (l, _) = all_to_gateway();
        let ch = nginx_solver(ch());
        let f = find(&ch, Some(&l), &InCluster::NotRequested);
        assert_eq!(
            graded(&f),
            [(Code::WrongDataPlane, Severity::Error, Proof::Supports)]
        );
        assert!(
            f[0].summary.starts_with("traffic for shop.example.test is answered by envoy, not by nginx as ingress-nginx (which carries the solver's route) would answer: all 20 answers from this machine (203.0.113.10) are 404 (envoy)"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].summary
                .ends_with("gateway infra/public (cilium) answers as envoy in this cluster"),
            "{}",
            f[0].summary
        );
        // The solver's own product answering 404 is not another data plane.
        let l = local(vec![addr(EDGE, vec![status(404, "nginx", 20)])]);
        assert!(find(&ch, Some(&l), &InCluster::NotRequested).is_empty());
    }
}
