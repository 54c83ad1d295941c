//! INGRESS_CLASS_UNSERVED: no running controller serves the solver Ingress's class.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{ingress_class, open_http01, solver_patch};
use crate::diagnose::view::Certificate;
use crate::evidence::ClusterEvidence;

/// IngressClass names some running data plane serves.
pub(super) fn served_classes(cluster: &ClusterEvidence) -> Vec<String> {
    let mut served: Vec<String> = cluster
        .data_planes
        .iter()
        .filter(|d| d.kind == "ingress-controller")
        .flat_map(|d| d.ingress_classes.iter().cloned())
        .collect();
    for class in &cluster.ingress_classes {
        let implemented = cluster
            .data_planes
            .iter()
            .any(|d| d.controller.as_deref() == Some(class.controller.as_str()));
        if implemented && !served.contains(&class.name) {
            served.push(class.name.clone());
        }
    }
    served
}

fn class_list(cluster: &ClusterEvidence) -> String {
    if cluster.ingress_classes.is_empty() {
        return "none".into();
    }
    cluster
        .ingress_classes
        .iter()
        .map(|c| {
            format!(
                "{} ({}{})",
                c.name,
                c.controller,
                if c.is_default { ", default" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn ingress_class_unserved(input: &Certificate) -> Vec<Finding> {
    let (cert, cluster) = (input.cert, input.cluster);
    let classes_readable = !cluster
        .unreadable
        .iter()
        .any(|u| u.contains("ingressclasses"));
    if !classes_readable {
        return vec![];
    }
    let served = served_classes(cluster);
    let planes_known = cluster
        .data_planes
        .iter()
        .any(|d| d.kind == "ingress-controller");
    let suggestion = served.first().cloned().or_else(|| {
        cluster
            .ingress_classes
            .iter()
            .find(|c| c.is_default)
            .map(|c| c.name.clone())
    });
    let mut out = Vec::new();
    for ch in open_http01(cert) {
        for ing in ch.solver_ingresses.iter().filter(|i| !i.edit_in_place) {
            let class = ingress_class(ing);
            let exists = class.is_some_and(|c| cluster.ingress_classes.iter().any(|k| k.name == c));
            let is_served = class.is_some_and(|c| served.iter().any(|s| s == c));
            let finding = match class {
                Some(c) if !exists && !is_served => Some((
                    Proof::Proves,
                    format!(
                        "solver Ingress {} asks for IngressClass {c:?}, which does not exist and no controller serves",
                        ing.name
                    ),
                )),
                Some(c) if !is_served && planes_known => Some((
                    Proof::Supports,
                    format!(
                        "IngressClass {c:?} exists, but no running controller for it was found"
                    ),
                )),
                None => {
                    let default = cluster
                        .ingress_classes
                        .iter()
                        .filter(|k| k.is_default)
                        .count();
                    let classless = cluster.data_planes.iter().any(|d| d.watches_classless);
                    (default == 0 && !classless).then(|| (
                        Proof::Proves,
                        format!("solver Ingress {} has no class, there is no default IngressClass and no controller takes class-less Ingresses", ing.name),
                    ))
                }
                _ => None,
            };
            let Some((proof, summary)) = finding else {
                continue;
            };
            let value = suggestion
                .as_deref()
                .unwrap_or("<class of the controller behind your DNS name>");
            out.push(
                Finding::new(Code::IngressClassUnserved, Severity::Error, proof, summary)
                    .challenge(&ch.name)
                    .evidence(format!(
                        "Ingress {}/{}: ingressClassName={:?}, kubernetes.io/ingress.class={:?}",
                        ing.namespace,
                        ing.name,
                        ing.class_name.as_deref().unwrap_or(""),
                        ing.class_annotation.as_deref().unwrap_or("")
                    ))
                    .evidence(format!("IngressClasses: {}", class_list(cluster)))
                    .evidence(if ing.lb_addresses.is_empty() {
                        "the solver Ingress has no load-balancer address: no controller picked it up".to_owned()
                    } else {
                        format!("the solver Ingress has address {}", ing.lb_addresses.join(", "))
                    })
                    .fix(solver_patch(cert, &ch.solver, "ingress/ingressClassName", &format!("\"{value}\""))),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::{codes, findings};
    use crate::diagnose::testdata::{ch, stuck};

    #[test]
    fn unserved_ingress_class() {
        let (mut cert, cluster) = stuck();
        ch(&mut cert).solver_ingresses[0].class_name = Some("nginx-002".into());
        ch(&mut cert).solver_ingresses[0].lb_addresses.clear();
        let found = findings(&Certificate {
            cert: &cert,
            cluster: &cluster,
        });
        let f = found
            .iter()
            .find(|f| f.code == Code::IngressClassUnserved)
            .expect("finding");
        assert_eq!(f.proof, Proof::Proves);
        assert!(
            f.fix
                .contains("/spec/acme/solvers/0/http01/ingress/ingressClassName"),
            "{}",
            f.fix
        );
        assert!(f.fix.contains("\"nginx\""), "{}", f.fix);
    }

    #[test]
    fn classless_ingress_without_default() {
        let (mut cert, mut cluster) = stuck();
        ch(&mut cert).solver_ingresses[0].class_name = None;
        assert!(
            !codes(&cert, &cluster)
                .iter()
                .any(|(c, _)| *c == Code::IngressClassUnserved)
        );
        cluster.ingress_classes[0].is_default = false;
        assert!(codes(&cert, &cluster).contains(&(Code::IngressClassUnserved, Proof::Proves)));
    }
}
