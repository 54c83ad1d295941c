//! SOLVER_UNREACHABLE seen by the probe pod (P4): the solver asked directly on port 8089 does
//! not answer, no data plane serves the key, and neither does the challenge URL.

use super::util::{direct_line, is_solver, plane_results, pod_where};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantages;
use crate::probe::plan::{DirectResult, TargetReport};

/// Some attempt at the challenge URL got the key (either vantage).
fn url_serves(t: Option<&TargetReport>) -> bool {
    t.is_some_and(|t| t.addresses.iter().any(|a| a.cert_manager_passes > 0))
}

pub(crate) fn solver_unanswered(c: &Vantages) -> Vec<Finding> {
    let Some(inside) = c.inside else {
        return vec![];
    };
    let solver: Vec<&DirectResult> = inside.direct.iter().filter(|d| is_solver(d)).collect();
    if solver.is_empty()
        || solver
            .iter()
            .any(|d| d.outcomes.iter().any(|o| o.status.is_some()))
    {
        return vec![];
    }
    // A data plane that serves the key reaches the solver: a policy that admits only the
    // ingress controller keeps the probe pod out, which is fine (the attribution says so).
    if plane_results(inside).any(|d| d.cert_manager_passes > 0) {
        return vec![];
    }
    // No data plane answered the pod either: it reached no Service inside the cluster, which
    // says nothing about the solver in particular (the egress rules speak to that).
    let planes: Vec<&DirectResult> = plane_results(inside).collect();
    if !planes.is_empty()
        && planes
            .iter()
            .all(|d| d.outcomes.iter().all(|o| o.status.is_none()))
    {
        return vec![];
    }
    // The challenge URL itself serves the key: whatever carries it reaches the solver (a
    // redirect to another port, an edge that is not a data plane of this cluster), and the
    // probe pod is only kept out of the direct way.
    if url_serves(Some(inside)) || url_serves(c.local) {
        return vec![];
    }
    let pod = pod_where(c.in_cluster);
    // Where the validators' requests go meanwhile: what the challenge URL answered the pod.
    let path: Vec<String> = inside
        .addresses
        .iter()
        .filter(|a| a.attempts > 0)
        .map(|a| format!("{} {}", a.address, outcome_summary(a)))
        .collect();
    let mut f = Finding::new(
        Code::SolverUnreachable,
        Severity::Error,
        Proof::Supports,
        format!(
            "cert-manager's solver does not answer {pod} on port 8089 ({} direct probe(s), {} attempts, no response){}",
            solver.len(),
            solver.iter().map(|d| d.attempts).sum::<u32>(),
            if path.is_empty() {
                String::new()
            } else {
                format!(
                    ", and the challenge URL does not serve the key from there: {}",
                    path.join(", ")
                )
            }
        ),
    )
    .challenge(&c.ch.name);
    for d in &solver {
        f = f.evidence(direct_line(d));
    }
    let ns =
        c.ch.solver_pods
            .first()
            .map_or("<namespace>", |p| p.namespace.as_str());
    // NetworkPolicies do not carry the solver's label: list them all.
    vec![f.fix(format!(
        "check that the solver pod is Ready (kubectl -n {ns} get pods,endpointslices -l acme.cert-manager.io/http01-solver=true) and that no NetworkPolicy in {ns} denies ingress on TCP 8089 (kubectl -n {ns} get networkpolicy); the ingress controller must be allowed to reach it"
    ))]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::{codes, run};
    use crate::probe::plan::ErrorClass;

    #[test]
    fn solver_that_does_not_answer() {
        let l = local(vec![addr(EDGE, vec![status(404, "envoy", 66)])]);
        let i = inside_edge(
            vec![status(404, "envoy", 66)],
            vec![direct(
                SOLVER_SVC,
                "198.51.100.30:8089",
                vec![err(ErrorClass::ConnectTimeout, 20)],
            )],
        );
        let f = run(Some(&l), &ran(i.clone()), &cluster());
        assert_eq!(codes(&f), [Code::SolverUnreachable]);
        // A data plane serves the key, so it reaches the solver: only the probe pod is kept out.
        let mut i = i;
        i.direct.push(nginx_serves());
        assert!(run(Some(&l), &ran(i), &cluster()).is_empty());
        assert!(
            f[0].summary
                .contains("(1 direct probe(s), 20 attempts, no response), and the challenge URL does not serve the key from there: 203.0.113.10 66×404 (envoy)"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].fix.contains("(kubectl -n shop get networkpolicy)")
                && !f[0].fix.contains("networkpolicy -l"),
            "{}",
            f[0].fix
        );
    }

    #[test]
    fn quiet_when_the_challenge_url_serves_the_key() {
        // redirect-8443: the URL serves the key (after a redirect); the pod cannot reach the
        // solver or the data planes directly.
        let solver = || {
            direct(
                SOLVER_SVC,
                "198.51.100.30:8089",
                vec![err(ErrorClass::ConnectTimeout, 20)],
            )
        };
        let i = inside_edge(vec![ok("nginx", 66)], vec![solver()]);
        assert!(run(Some(&outside_ok()), &ran(i), &cluster()).is_empty());
        // Only this machine gets the key (the pod cannot reach the edge): not this finding.
        let i = inside_edge(vec![err(ErrorClass::ConnectTimeout, 66)], vec![solver()]);
        let f = run(Some(&outside_ok()), &ran(i), &cluster());
        assert!(
            !codes(&f).contains(&Code::SolverUnreachable),
            "{:?}",
            codes(&f)
        );
    }
}
