//! SOLVER_UNREACHABLE seen by the probe pod (P4): the solver asked directly on port 8089 does
//! not answer, and no data plane serves the key.

use super::util::{direct_line, is_solver, plane_results, pod_where};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantages;
use crate::probe::plan::DirectResult;

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
    let pod = pod_where(c.in_cluster);
    let mut f = Finding::new(
        Code::SolverUnreachable,
        Severity::Error,
        Proof::Supports,
        format!(
            "cert-manager's solver does not answer {pod} on port 8089: {} direct probe(s), {} attempts, no response",
            solver.len(),
            solver.iter().map(|d| d.attempts).sum::<u32>()
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
    vec![f.fix(format!(
        "check that the solver pod is Ready and that no NetworkPolicy in {ns} denies ingress on TCP 8089 (kubectl -n {ns} get pods,endpointslices,networkpolicy -l acme.cert-manager.io/http01-solver=true); the ingress controller must be allowed to reach it"
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
        let l = outside_ok();
        let i = inside_edge(
            vec![ok("nginx", 66)],
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
                .contains("1 direct probe(s), 20 attempts, no response"),
            "{}",
            f[0].summary
        );
    }
}
