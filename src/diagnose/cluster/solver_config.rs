//! SOLVER_CONFIG: a solver cert-manager refuses (both `class` and `ingressClassName`, or a
//! route solver without `parentRefs`).

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{issuer_kind_cmd, open_http01, solver_patch};
use crate::diagnose::view::Certificate;

pub(crate) fn solver_config(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let mut out = Vec::new();
    for ch in open_http01(cert) {
        let http01 = ch.solver.http01.as_ref();
        let ing = http01.and_then(|h| h.ingress.as_ref());
        let both = ing.is_some_and(|i| i.class.is_some() && i.ingress_class_name.is_some());
        let reason_says = ch
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("ingressClassName and class cannot be set"));
        if both || reason_says {
            out.push(
                Finding::new(
                    Code::SolverConfig,
                    Severity::Error,
                    Proof::Proves,
                    "the solver sets both class and ingressClassName; cert-manager refuses it",
                )
                .challenge(&ch.name)
                .evidence(format!(
                    "Challenge {} spec.solver.http01.ingress: class={:?} ingressClassName={:?}",
                    ch.name,
                    ing.and_then(|i| i.class.as_deref()).unwrap_or(""),
                    ing.and_then(|i| i.ingress_class_name.as_deref()).unwrap_or("")
                ))
                .fix(format!(
                    "keep one: remove `class` from the solver in the {} (and any acme.cert-manager.io/http01-override-ingress-* annotation on the Certificate)",
                    issuer_kind_cmd(cert)
                )),
            );
        }
        if let Some(route) = http01.and_then(|h| h.gateway_http_route.as_ref())
            && route.parent_refs.is_empty()
        {
            out.push(
                Finding::new(
                    Code::SolverConfig,
                    Severity::Error,
                    Proof::Proves,
                    "the gatewayHTTPRoute solver has no parentRefs: the route attaches to no Gateway",
                )
                .challenge(&ch.name)
                .evidence(format!("Challenge {} spec.solver.http01.gatewayHTTPRoute.parentRefs: []", ch.name))
                .fix(solver_patch(
                    cert,
                    &ch.solver,
                    "gatewayHTTPRoute/parentRefs",
                    "[{\"name\":\"<gateway>\",\"namespace\":\"<ns>\",\"kind\":\"Gateway\"}]",
                )),
            );
        }
    }
    out
}
