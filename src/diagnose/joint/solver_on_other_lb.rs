//! SOLVER_ON_OTHER_LB (RC07): the solver Ingress got its own load-balancer address, which DNS
//! does not point at.

use super::util::effective_class;
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::solver_patch;
use crate::diagnose::view::Joint;
use crate::evidence::ClusterEvidence;

/// IngressClass controllers that create one cloud load balancer per Ingress.
fn per_ingress_lb(class: &str, cluster: &ClusterEvidence) -> bool {
    let controller = cluster
        .ingress_classes
        .iter()
        .find(|k| k.name == class)
        .map(|k| k.controller.as_str())
        .unwrap_or("");
    class == "gce"
        || class == "alb"
        || controller.contains("ingress.k8s.aws")
        || controller.contains("gce")
}

/// RC07: the solver Ingress got its own load-balancer address, which DNS does not point at.
pub(crate) fn solver_on_other_lb(c: &Joint) -> Vec<Finding> {
    let Some(ans) = c
        .probe
        .and_then(|p| p.dns.resolvers.iter().find(|a| a.role == "primary"))
    else {
        return vec![];
    };
    let dns: Vec<&String> = ans.a.iter().chain(&ans.aaaa).chain(&ans.cname).collect();
    if dns.is_empty() {
        return vec![];
    }
    let shared: Vec<&String> = c
        .cluster
        .data_planes
        .iter()
        .flat_map(|p| &p.services)
        .flat_map(|s| &s.lb_addresses)
        .collect();
    let mut out = Vec::new();
    for ing in
        c.ch.solver_ingresses
            .iter()
            .filter(|i| !i.edit_in_place && !i.lb_addresses.is_empty())
    {
        if ing.lb_addresses.iter().any(|a| dns.contains(&a)) {
            continue;
        }
        let class = effective_class(ing, c.cluster).unwrap_or("");
        let dedicated = per_ingress_lb(class, c.cluster)
            || !ing.lb_addresses.iter().any(|a| shared.contains(&a));
        if !dedicated {
            continue;
        }
        let app =
            c.ch.host_ingresses
                .iter()
                .find(|i| i.lb_addresses.iter().any(|a| dns.contains(&a)));
        let mut f = Finding::new(
            Code::SolverOnOtherLb,
            Severity::Error,
            Proof::Proves,
            format!(
                "the solver Ingress {} has its own load balancer {}, but {} resolves to {}",
                ing.name,
                ing.lb_addresses.join(", "),
                c.ch.dns_name,
                dns.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .challenge(&c.ch.name)
        .evidence(format!(
            "Ingress {}/{} class {class:?}: status.loadBalancer {}",
            ing.namespace,
            ing.name,
            ing.lb_addresses.join(", ")
        ))
        .evidence(format!(
            "DNS ({}): {}",
            ans.resolver,
            dns.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if let Some(a) = app {
            f = f.evidence(format!(
                "Ingress {}/{} (the application's) has {}",
                a.namespace,
                a.name,
                a.lb_addresses.join(", ")
            ));
        }
        let target = app.map_or(
            "<the Ingress that owns the address in DNS>".to_owned(),
            |a| a.name.clone(),
        );
        let fix = if class == "alb" || class.contains("aws") {
            solver_patch(
                c.cert,
                &c.ch.solver,
                "ingress/ingressTemplate",
                "{\"metadata\":{\"annotations\":{\"alb.ingress.kubernetes.io/group.name\":\"<group of the application's Ingress>\"}}}",
            )
        } else {
            solver_patch(
                c.cert,
                &c.ch.solver,
                "ingress/name",
                &format!("\"{target}\""),
            )
        };
        out.push(f.fix(format!(
            "{fix} (so the challenge path joins the load balancer DNS points at), or use DNS-01"
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::joint::tests::{code, run};
    use crate::evidence::IngressClassEvidence;

    #[test]
    fn solver_ingress_on_its_own_load_balancer() {
        let (mut cert, mut cluster) = base();
        cluster.ingress_classes[0] = IngressClassEvidence {
            name: "gce".into(),
            controller: "k8s.io/ingress-gce".into(),
            is_default: false,
        };
        cluster.data_planes.clear();
        let ch = &mut cert.challenges[0];
        ch.solver_ingresses[0].class_name = Some("gce".into());
        ch.solver_ingresses[0].lb_addresses = vec!["198.51.100.77".into()];
        let mut app = app_ingress(None, "/", "Prefix");
        app.lb_addresses = vec!["203.0.113.10".into()];
        ch.host_ingresses = vec![app];
        let p = probe(vec![addr(
            "203.0.113.10",
            vec![oc(Some(404), None, "gclb", false, 66)],
        )]);
        let f = code(&run(&cert, &cluster, Some(&p)), Code::SolverOnOtherLb).expect("other lb");
        assert!(
            f.fix.contains("/http01/ingress/name") && f.fix.contains("\"web\""),
            "{}",
            f.fix
        );
        // Same address as DNS: fine.
        cert.challenges[0].solver_ingresses[0].lb_addresses = vec!["203.0.113.10".into()];
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::SolverOnOtherLb).is_none());
    }

    #[test]
    fn shared_controller_address_behind_an_edge_is_not_another_lb() {
        // DNS points at an external edge; the solver Ingress shows the controller's own LB.
        let (cert, cluster) = base();
        let p = probe(vec![addr(
            "192.0.2.5",
            vec![oc(Some(200), None, "nginx", true, 66)],
        )]);
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::SolverOnOtherLb).is_none());
    }
}
