//! SOLVER_UNREACHABLE from the API: the solver Service has no ready endpoints, or is missing.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::open_http01;
use crate::diagnose::view::Certificate;
use crate::reason::{self, Phase};

pub(crate) fn solver_unreachable(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let mut out = Vec::new();
    for ch in open_http01(cert).filter(|c| c.presented && reason::phase(c) == Phase::SelfCheck) {
        let pods_ready = ch.solver_pods.iter().any(|p| p.ready);
        for svc in ch.solver_services.iter().filter(|s| s.ready_endpoints == 0) {
            let (proof, why) = if pods_ready {
                (
                    Proof::Proves,
                    "the solver pod is ready, but the Service selects no ready pod".to_owned(),
                )
            } else {
                (
                    Proof::Supports,
                    "a consequence of the solver pod not being ready".to_owned(),
                )
            };
            out.push(
                Finding::new(
                    Code::SolverUnreachable,
                    Severity::Error,
                    proof,
                    format!("solver Service {} has no ready endpoints ({why})", svc.name),
                )
                .challenge(&ch.name)
                .evidence(format!(
                    "Service {}/{}: {} ready, {} not ready endpoint(s)",
                    svc.namespace, svc.name, svc.ready_endpoints, svc.not_ready_endpoints
                ))
                .fix(if pods_ready {
                    format!("kubectl describe service {} -n {} — compare its selector with the solver pod's labels (podTemplate labels must not override the acme.cert-manager.io/* ones)", svc.name, svc.namespace)
                } else {
                    "fix the solver pod first (see SOLVER_POD_NOT_RUNNING)".to_owned()
                }),
            );
        }
        if ch.solver_services.is_empty() && !ch.solver_pods.is_empty() {
            out.push(
                Finding::new(
                    Code::SolverUnreachable,
                    Severity::Error,
                    Proof::Supports,
                    "the challenge is presented but its solver Service is missing",
                )
                .challenge(&ch.name)
                .evidence(format!(
                    "no Service with acme.cert-manager.io/http01-solver=true owned by Challenge {} (solver pod {} exists)",
                    ch.name, ch.solver_pods[0].name
                ))
                .fix(format!(
                    "kubectl get events -n {} --field-selector involvedObject.name={}",
                    cert.namespace, ch.name
                )),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::codes;
    use crate::diagnose::testdata::{ch, stuck};

    #[test]
    fn service_without_endpoints_while_pod_ready() {
        let (mut cert, cluster) = stuck();
        ch(&mut cert).solver_services[0].ready_endpoints = 0;
        assert!(codes(&cert, &cluster).contains(&(Code::SolverUnreachable, Proof::Proves)));
    }
}
