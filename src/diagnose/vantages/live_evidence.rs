//! Live evidence first: when the probe pod asked cert-manager's solver (its Service or pod, on
//! port 8089) directly and got the key, findings the cluster rules drew from endpoint and
//! readiness state in the API (SOLVER_UNREACHABLE: no ready endpoints; SOLVER_POD_NOT_RUNNING)
//! are contradicted by the network. They stay in the report, as warnings that say the API and
//! the network disagree, so they no longer rank as the root cause. A step of the walk, run
//! after the cluster rules' findings are known.

use super::util::{direct_line, is_solver};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantages;
use crate::probe::plan::DirectResult;

/// Codes drawn from endpoint or readiness state in the API.
const API_STATE: &[Code] = &[Code::SolverUnreachable, Code::SolverPodNotRunning];

pub(crate) fn live_evidence_first(findings: &mut [Finding], c: &Vantages) {
    let Some(inside) = c.inside else { return };
    let serving: Vec<&DirectResult> = inside
        .direct
        .iter()
        .filter(|d| is_solver(d) && d.cert_manager_passes > 0)
        .collect();
    if serving.is_empty() {
        return;
    }
    let ns = serving
        .iter()
        .find_map(|d| d.label.split_whitespace().nth(2))
        .and_then(|obj| obj.split('/').next())
        .unwrap_or("<namespace>")
        .to_owned();
    for f in findings.iter_mut().filter(|f| {
        API_STATE.contains(&f.code)
            && f.severity == Severity::Error
            && f.challenge.as_deref() == Some(c.ch.name.as_str())
    }) {
        f.severity = Severity::Warning;
        f.proof = Proof::Supports;
        f.summary = format!(
            "the API and the network disagree: {}, yet asked directly from inside, the solver serves the key",
            f.summary
        );
        for d in &serving {
            f.evidence.push(direct_line(d));
        }
        f.fix = format!(
            "the live answer wins: the solver serves the key, so this is not what blocks the challenge (the other findings say what does); the API state lags behind, or what it says (a pod not Ready on a node that went NotReady, a stale EndpointSlice) is not what kube-proxy and the data plane use: kubectl -n {ns} get pods,endpointslices -o wide"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::pod_report;
    use crate::probe::plan::ErrorClass;

    fn api_finding(code: Code) -> Finding {
        Finding::new(
            code,
            Severity::Error,
            Proof::Proves,
            "solver Service x has no ready endpoints",
        )
        .challenge("web-1")
        .evidence("Service shop/x: 0 ready, 1 not ready endpoint(s)")
        .fix("kubectl describe service x -n shop")
    }

    fn demote(direct_results: Vec<crate::probe::plan::DirectResult>) -> Vec<Finding> {
        let mut f = vec![
            api_finding(Code::SolverUnreachable),
            api_finding(Code::SolverPodNotRunning),
            api_finding(Code::MixedBackends),
        ];
        let ic = ran(inside_edge(vec![ok("nginx", 20)], direct_results));
        let cl = cluster();
        let ch = ch();
        live_evidence_first(
            &mut f,
            &Vantages {
                ch: &ch,
                local: None,
                inside: pod_report(&ic),
                in_cluster: &ic,
                cluster: &cl,
                ca: crate::probe::plan::CaProfile::Pebble,
            },
        );
        f
    }

    #[test]
    fn a_serving_solver_demotes_what_the_api_said() {
        let f = demote(vec![direct(
            SOLVER_SVC,
            "198.51.100.30:8089",
            vec![ok("acmesolver", 20)],
        )]);
        for f in &f[..2] {
            assert_eq!(
                (f.severity, f.proof),
                (Severity::Warning, Proof::Supports),
                "{}",
                f.code
            );
            assert!(
                f.summary.starts_with("the API and the network disagree: "),
                "{}",
                f.summary
            );
            assert!(
                f.evidence.iter().any(|e| e.contains("serves the key")),
                "{:?}",
                f.evidence
            );
        }
        assert_eq!(f[2].severity, Severity::Error, "other codes stay");
        // A solver that does not answer changes nothing.
        let f = demote(vec![direct(
            SOLVER_SVC,
            "198.51.100.30:8089",
            vec![err(ErrorClass::ConnectTimeout, 20)],
        )]);
        assert!(f.iter().all(|f| f.severity == Severity::Error));
    }
}
