//! Helpers the joint rules share: the class an Ingress is served under, and the data planes
//! that carry the solver's route.

use crate::diagnose::util::ingress_class;
use crate::diagnose::view::Joint;
use crate::evidence::{ClusterEvidence, DataPlaneEvidence, IngressEvidence};

/// The class an Ingress is served under: its own, else the default IngressClass.
pub(super) fn effective_class<'a>(
    ing: &'a IngressEvidence,
    cluster: &'a ClusterEvidence,
) -> Option<&'a str> {
    ingress_class(ing).or_else(|| {
        cluster
            .ingress_classes
            .iter()
            .find(|k| k.is_default)
            .map(|k| k.name.as_str())
    })
}

/// Data planes that carry the solver's route: ingress controllers for its class, Gateways in
/// its HTTPRoute's parentRefs.
pub(super) fn solver_planes<'a>(c: &Joint<'a>) -> Vec<&'a DataPlaneEvidence> {
    let classes: Vec<&str> =
        c.ch.solver_ingresses
            .iter()
            .filter_map(|i| effective_class(i, c.cluster))
            .collect();
    c.cluster
        .data_planes
        .iter()
        .filter(|p| {
            let by_class = p.kind == "ingress-controller"
                && classes.iter().any(|k| {
                    p.ingress_classes.iter().any(|pc| pc == k)
                        || c.cluster.ingress_classes.iter().any(|ic| {
                            ic.name == *k && Some(&ic.controller) == p.controller.as_ref()
                        })
                });
            let by_route = p.kind == "gateway"
                && c.ch
                    .solver_routes
                    .iter()
                    .flat_map(|r| {
                        r.parent_refs.iter().map(move |pr| {
                            (
                                pr.namespace.as_deref().unwrap_or(&r.namespace),
                                pr.name.as_str(),
                            )
                        })
                    })
                    .any(|(ns, name)| ns == p.namespace && name == p.name);
            by_class || by_route
        })
        .collect()
}
