//! DUPLICATE_CONTROLLER: two default IngressClasses, or two controllers for one class.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::open_http01;
use crate::diagnose::view::Certificate;

pub(crate) fn duplicate_controller(input: &Certificate) -> Vec<Finding> {
    let (cert, cluster) = (input.cert, input.cluster);
    if open_http01(cert).next().is_none() {
        return vec![];
    }
    let mut out = Vec::new();
    let defaults: Vec<_> = cluster
        .ingress_classes
        .iter()
        .filter(|c| c.is_default)
        .collect();
    if defaults.len() > 1 {
        let names: Vec<_> = defaults.iter().map(|c| c.name.as_str()).collect();
        out.push(
            Finding::new(
                Code::DuplicateController,
                Severity::Warning,
                Proof::Proves,
                format!("{} IngressClasses are marked default: class-less Ingresses are refused or served by the wrong controller", defaults.len()),
            )
            .evidence(format!("default IngressClasses: {}", names.join(", ")))
            .fix(format!(
                "keep one default: kubectl annotate ingressclass {} ingressclass.kubernetes.io/is-default-class-",
                names[1..].join(" ")
            )),
        );
    }
    // Two ingress controllers serving the same class.
    let planes: Vec<_> = cluster
        .data_planes
        .iter()
        .filter(|d| d.kind == "ingress-controller")
        .collect();
    let mut seen = std::collections::BTreeMap::<&str, Vec<String>>::new();
    for p in &planes {
        for class in &p.ingress_classes {
            seen.entry(class.as_str())
                .or_default()
                .push(format!("{}/{}", p.namespace, p.name));
        }
    }
    for (class, owners) in seen.into_iter().filter(|(_, o)| o.len() > 1) {
        out.push(
            Finding::new(
                Code::DuplicateController,
                Severity::Warning,
                Proof::Proves,
                format!("{} controllers serve IngressClass {class:?}; only one of them may be behind the public address", owners.len()),
            )
            .evidence(format!("controllers for {class:?}: {}", owners.join(", ")))
            .fix("give each controller its own class (and controller value / election id), set the solver's ingressClassName explicitly, and remove the stale controller"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::codes;
    use crate::diagnose::testdata::stuck;
    use crate::evidence::*;

    #[test]
    fn two_defaults_and_two_controllers_for_one_class() {
        let (cert, mut cluster) = stuck();
        cluster.ingress_classes.push(IngressClassEvidence {
            name: "traefik".into(),
            controller: "traefik.io/ingress-controller".into(),
            is_default: true,
        });
        let mut second = cluster.data_planes[0].clone();
        second.name = "ingress-nginx-old".into();
        cluster.data_planes.push(second);
        let dups = codes(&cert, &cluster)
            .iter()
            .filter(|(c, _)| *c == Code::DuplicateController)
            .count();
        assert_eq!(dups, 2);
    }
}
