//! HTTPROUTE_NOT_ATTACHED: the solver HTTPRoute is not accepted by a Gateway's port-80 HTTP
//! listener.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{issuer_kind_cmd, open_http01};
use crate::diagnose::view::Certificate;
use crate::evidence::{ClusterEvidence, RouteEvidence};

fn route_problem(
    route: &RouteEvidence,
    cluster: &ClusterEvidence,
) -> Option<(Proof, String, Vec<String>)> {
    let mut evidence = Vec::new();
    for parent in &route.parents {
        for c in parent
            .conditions
            .iter()
            .filter(|c| c.type_ == "Accepted" || c.type_ == "ResolvedRefs")
        {
            evidence.push(format!(
                "parent {}: {}={} {} {}",
                parent.parent_ref.name,
                c.type_,
                c.status,
                c.reason.as_deref().unwrap_or(""),
                c.message.as_deref().unwrap_or("")
            ));
            if c.status != "True" {
                return Some((
                    Proof::Proves,
                    format!(
                        "solver HTTPRoute {} is not attached: {} is {} ({})",
                        route.name,
                        c.type_,
                        c.status,
                        c.reason.as_deref().unwrap_or("no reason")
                    ),
                    evidence,
                ));
            }
        }
    }
    for r in &route.parent_refs {
        let ns = r.namespace.as_deref().unwrap_or(&route.namespace);
        let Some(gw) = cluster
            .gateways
            .iter()
            .find(|g| g.name == r.name && g.namespace == ns)
        else {
            if cluster.gateway_api_installed {
                return Some((
                    Proof::Proves,
                    format!(
                        "solver HTTPRoute {} points at Gateway {ns}/{} which does not exist",
                        route.name, r.name
                    ),
                    evidence,
                ));
            }
            continue;
        };
        let http80 = gw.listeners.iter().any(|l| {
            l.protocol.eq_ignore_ascii_case("HTTP")
                && l.port == 80
                && r.section_name.as_ref().is_none_or(|s| s == &l.name)
        });
        if !http80 {
            evidence.push(format!(
                "Gateway {ns}/{} listeners: {}",
                gw.name,
                gw.listeners
                    .iter()
                    .map(|l| format!("{} {}:{}", l.name, l.protocol, l.port))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return Some((
                Proof::Proves,
                format!(
                    "Gateway {ns}/{} has no HTTP listener on port 80 for the solver route",
                    gw.name
                ),
                evidence,
            ));
        }
    }
    if route.parents.is_empty() {
        evidence.push(format!(
            "HTTPRoute {}/{} status.parents: [] (parentRefs: {})",
            route.namespace,
            route.name,
            route
                .parent_refs
                .iter()
                .map(|r| format!(
                    "{}/{}",
                    r.namespace.as_deref().unwrap_or(&route.namespace),
                    r.name
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return Some((
            Proof::Supports,
            format!(
                "no Gateway has reported status for solver HTTPRoute {} (not attached yet?)",
                route.name
            ),
            evidence,
        ));
    }
    None
}

pub(crate) fn httproute_not_attached(input: &Certificate) -> Vec<Finding> {
    let (cert, cluster) = (input.cert, input.cluster);
    let mut out = Vec::new();
    for ch in open_http01(cert) {
        for route in &ch.solver_routes {
            let Some((proof, summary, evidence)) = route_problem(route, cluster) else {
                continue;
            };
            let mut f = Finding::new(Code::HttprouteNotAttached, Severity::Error, proof, summary)
                .challenge(&ch.name);
            for e in evidence {
                f = f.evidence(e);
            }
            let gateways: Vec<String> = route
                .parent_refs
                .iter()
                .map(|r| {
                    format!(
                        "kubectl get gateway {} -n {} -o yaml",
                        r.name,
                        r.namespace.as_deref().unwrap_or(&route.namespace)
                    )
                })
                .collect();
            out.push(f.fix(format!(
                "attach the route to an HTTP listener on port 80: set parentRefs[].sectionName to that listener (in the {}) and allow routes from namespace {} (allowedRoutes.namespaces.from: All or a selector); the listener hostname must cover {}; see kubectl describe httproute {} -n {}{}",
                issuer_kind_cmd(cert),
                route.namespace,
                ch.dns_name,
                route.name,
                route.namespace,
                gateways.iter().map(|g| format!("; {g}")).collect::<String>()
            )));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::codes;
    use crate::diagnose::testdata::{ch, stuck};
    use crate::evidence::*;

    #[test]
    fn httproute_not_accepted() {
        let (mut cert, cluster) = stuck();
        ch(&mut cert).solver_ingresses.clear();
        ch(&mut cert).solver_routes.push(RouteEvidence {
            namespace: "shop".into(),
            name: "cm-acme-http-solver-route".into(),
            parent_refs: vec![ParentRef {
                name: "public".into(),
                namespace: Some("gw".into()),
                ..Default::default()
            }],
            parents: vec![RouteParentEvidence {
                parent_ref: ParentRef {
                    name: "public".into(),
                    ..Default::default()
                },
                controller_name: "io.cilium/gateway-controller".into(),
                conditions: vec![Condition {
                    type_: "Accepted".into(),
                    status: "False".into(),
                    reason: Some("NotAllowedByListeners".into()),
                    ..Default::default()
                }],
            }],
            ..Default::default()
        });
        assert!(codes(&cert, &cluster).contains(&(Code::HttprouteNotAttached, Proof::Proves)));
    }
}
