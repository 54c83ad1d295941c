//! SOLVER_POD_NOT_RUNNING and SOLVER_POD_STALE: the solver pod of a presented challenge is
//! missing, cannot run, or serves another token.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::open_http01;
use crate::diagnose::view::Certificate;
use crate::reason::{self, Phase};

const POD_BLOCKING_WAIT_REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "CrashLoopBackOff",
];

pub(crate) fn solver_pod_not_running(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let mut out = Vec::new();
    for ch in open_http01(cert).filter(|c| c.presented && reason::phase(c) == Phase::SelfCheck) {
        if ch.solver_pods.is_empty() {
            out.push(
                Finding::new(
                    Code::SolverPodNotRunning,
                    Severity::Error,
                    Proof::Supports,
                    "the challenge is presented but no solver pod exists",
                )
                .challenge(&ch.name)
                .evidence(format!(
                    "no pod with acme.cert-manager.io/http01-solver=true owned by Challenge {}",
                    ch.name
                ))
                .fix(format!(
                    "kubectl get events -n {} --field-selector involvedObject.name={} ; cert-manager recreates the pod on each self check, so a refusal shows there",
                    cert.namespace, ch.name
                )),
            );
        }
        for pod in &ch.solver_pods {
            let waiting = pod
                .waiting_reason
                .as_deref()
                .filter(|r| POD_BLOCKING_WAIT_REASONS.contains(r));
            let problem = if let Some(w) = waiting {
                Some(format!(
                    "container waiting: {w}{}",
                    pod.waiting_message
                        .as_deref()
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default()
                ))
            } else if let Some(m) = &pod.unschedulable_message {
                Some(format!("unschedulable: {m}"))
            } else if pod.phase == "Failed" {
                Some("pod phase Failed".to_owned())
            } else {
                None
            };
            let Some(problem) = problem else { continue };
            let fix = if waiting.is_some_and(|w| w.contains("Image")) {
                format!(
                    "the solver image {} cannot be pulled: mirror it and set --acme-http01-solver-image on cert-manager, or add imagePullSecrets to the solver's podTemplate",
                    pod.image.as_deref().unwrap_or("(unknown)")
                )
            } else if pod.unschedulable_message.is_some() {
                "give the solver pod a place to run: tolerations / nodeSelector / affinity in the solver's podTemplate".to_owned()
            } else {
                format!("kubectl describe pod {} -n {}", pod.name, pod.namespace)
            };
            out.push(
                Finding::new(
                    Code::SolverPodNotRunning,
                    Severity::Error,
                    Proof::Proves,
                    format!("solver pod {} is not running: {problem}", pod.name),
                )
                .challenge(&ch.name)
                .evidence(format!(
                    "Pod {}/{} phase {}",
                    pod.namespace, pod.name, pod.phase
                ))
                .fix(fix),
            );
        }
    }
    out
}

pub(crate) fn solver_pod_stale(input: &Certificate) -> Vec<Finding> {
    open_http01(input.cert)
        .flat_map(|ch| {
            ch.solver_pods.iter().filter(|p| !p.args_match).map(|p| {
                Finding::new(
                    Code::SolverPodStale,
                    Severity::Warning,
                    Proof::Supports,
                    format!(
                        "solver pod {} serves another token or domain than the challenge",
                        p.name
                    ),
                )
                .challenge(&ch.name)
                .evidence(format!(
                    "pod args --domain/--token/--key differ from Challenge {}",
                    ch.name
                ))
                .fix(format!(
                    "kubectl delete pod {} -n {} (cert-manager recreates it)",
                    p.name, p.namespace
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::codes;
    use crate::diagnose::testdata::{ch, stuck};

    #[test]
    fn image_pull_backoff() {
        let (mut cert, cluster) = stuck();
        let pod = &mut ch(&mut cert).solver_pods[0];
        pod.phase = "Pending".into();
        pod.ready = false;
        pod.waiting_reason = Some("ImagePullBackOff".into());
        pod.image = Some("quay.io/jetstack/cert-manager-acmesolver:v1.19.1".into());
        ch(&mut cert).solver_services[0].ready_endpoints = 0;
        let c = codes(&cert, &cluster);
        assert!(c.contains(&(Code::SolverPodNotRunning, Proof::Proves)));
        // The empty Service is a consequence, not a second root cause.
        assert!(c.contains(&(Code::SolverUnreachable, Proof::Supports)));
    }
}
