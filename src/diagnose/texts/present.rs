//! PRESENT_FAILED, SOLVER_INGRESS_REJECTED and SOLVER_POD_NOT_RUNNING from cert-manager's
//! Present error: what refused the solver resources.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{open_http01, parsed};
use crate::diagnose::view::Certificate;
use crate::evidence::ChallengeEvidence;
use crate::reason::Reason;

fn present_detail(ch: &ChallengeEvidence) -> Option<String> {
    match parsed(ch)? {
        Reason::PresentFailed { detail } => Some(detail),
        _ => None,
    }
}

fn is_ingress_rejection(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    d.contains("admission webhook") && d.contains("ingress")
        || d.contains("cannot be used with pathtype exact")
}

fn is_pod_rejection(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    d.contains("violates podsecurity")
        || d.contains("exceeded quota")
        || (d.contains("pods \"cm-acme-http-solver") && d.contains("forbidden"))
}

pub(crate) fn present_failed(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let mut out = Vec::new();
    for ch in open_http01(cert) {
        let Some(detail) = present_detail(ch) else {
            continue;
        };
        let evidence = format!(
            "Challenge {} reason: {}",
            ch.name,
            ch.reason.as_deref().unwrap_or("")
        );
        if is_ingress_rejection(&detail) {
            out.push(
                Finding::new(
                    Code::SolverIngressRejected,
                    Severity::Error,
                    Proof::Proves,
                    "the API server refused the solver Ingress (admission webhook)",
                )
                .challenge(&ch.name)
                .evidence(evidence)
                .fix(if detail.contains("pathType Exact") {
                    "ingress-nginx >= 1.12 rejects pathType Exact paths containing dots: set the cert-manager feature gate ACMEHTTP01IngressPathTypeExact=false (cert-manager >= 1.18.1), or strict-validate-path-type: \"false\" in the ingress-nginx ConfigMap".to_owned()
                } else {
                    "read the webhook's message above; exempt Ingresses labelled acme.cert-manager.io/http01-solver=true or change the solver's ingressTemplate".to_owned()
                }),
            );
        } else if is_pod_rejection(&detail) {
            out.push(
                Finding::new(
                    Code::SolverPodNotRunning,
                    Severity::Error,
                    Proof::Proves,
                    "the solver pod cannot be created (admission or quota)",
                )
                .challenge(&ch.name)
                .evidence(evidence)
                .fix("allow the solver pod: relax the namespace's PodSecurity level or quota, or set securityContext/resources in the solver's podTemplate"),
            );
        } else if !detail
            .to_ascii_lowercase()
            .contains("gateway api is not enabled")
            && !detail.contains("ingressClassName and class cannot be set")
        {
            out.push(
                Finding::new(
                    Code::PresentFailed,
                    Severity::Error,
                    Proof::Proves,
                    "cert-manager cannot create the solver resources",
                )
                .challenge(&ch.name)
                .evidence(evidence)
                .fix(format!(
                    "kubectl describe challenge {} -n {} — the message names the object and the refusal",
                    ch.name, cert.namespace
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
    fn present_errors_are_classified() {
        let (mut cert, cluster) = stuck();
        let c = ch(&mut cert);
        c.presented = false;
        c.reason = Some("Error presenting challenge: admission webhook \"validate.nginx.ingress.kubernetes.io\" denied the request: ingress contains invalid paths: path /.well-known/acme-challenge/tok cannot be used with pathType Exact".into());
        assert_eq!(
            codes(&cert, &cluster),
            vec![(Code::SolverIngressRejected, Proof::Proves)]
        );
        ch(&mut cert).reason = Some("Error presenting challenge: pods \"cm-acme-http-solver-x\" is forbidden: violates PodSecurity \"restricted:latest\"".into());
        assert_eq!(
            codes(&cert, &cluster),
            vec![(Code::SolverPodNotRunning, Proof::Proves)]
        );
        ch(&mut cert).reason = Some("Error presenting challenge: something else".into());
        assert_eq!(
            codes(&cert, &cluster),
            vec![(Code::PresentFailed, Proof::Proves)]
        );
    }
}
