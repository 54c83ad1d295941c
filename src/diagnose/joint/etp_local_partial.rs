//! ETP_LOCAL_PARTIAL (RC14): `externalTrafficPolicy: Local`, and some addresses get through
//! while others are dropped or refused (nodes without a ready controller pod).

use super::util::solver_planes;
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Joint;
use crate::evidence::{DataPlaneEvidence, ServiceEvidence};
use crate::probe::plan::AddressReport;

/// LoadBalancer/NodePort Services with `externalTrafficPolicy: Local` among the solver's planes.
fn local_services<'a>(planes: &[&'a DataPlaneEvidence]) -> Vec<&'a ServiceEvidence> {
    planes
        .iter()
        .flat_map(|p| &p.services)
        .filter(|s| s.external_traffic_policy.as_deref() == Some("Local"))
        .filter(|s| s.type_ == "LoadBalancer" || s.type_ == "NodePort")
        .collect()
}

fn dial_failures(a: &AddressReport) -> u32 {
    a.outcomes
        .iter()
        .filter(|o| o.error_class.is_some_and(|e| e.is_dial_failure()))
        .map(|o| o.count)
        .sum()
}

/// RC14: `externalTrafficPolicy: Local`, and some addresses (or connections) get through while
/// others are dropped or refused — nodes without a ready controller pod.
pub(crate) fn etp_local_partial(c: &Joint) -> Vec<Finding> {
    let planes = solver_planes(c);
    let Some(svc) = local_services(&planes).into_iter().next() else {
        return vec![];
    };
    let Some(t) = c.probe else { return vec![] };
    let passing = t.addresses.iter().any(|a| a.cert_manager_passes > 0);
    let dropped: Vec<&AddressReport> = t
        .addresses
        .iter()
        .filter(|a| dial_failures(a) > 0)
        .collect();
    if !passing || dropped.is_empty() {
        return vec![];
    }
    let mut f = Finding::new(
        Code::EtpLocalPartial,
        Severity::Error,
        Proof::Supports,
        format!(
            "Service {}/{} has externalTrafficPolicy: Local with {} ready endpoint(s); {} of {} probed address(es) drop or refuse connections — nodes without a controller pod do not answer",
            svc.namespace,
            svc.name,
            svc.ready_endpoints,
            dropped.len(),
            t.addresses.len()
        ),
    )
    .challenge(&c.ch.name);
    for a in &t.addresses {
        f = f.evidence(format!("{}  {}", a.address, outcome_summary(a)));
    }
    let ports: Vec<String> = svc
        .ports
        .iter()
        .filter_map(|p| p.node_port.map(|n| format!("{}→NodePort {n}", p.port)))
        .collect();
    if !ports.is_empty() {
        f = f.evidence(format!("Service ports: {}", ports.join(", ")));
    }
    vec![f.fix(format!(
        "kubectl -n {} patch service {} -p '{{\"spec\":{{\"externalTrafficPolicy\":\"Cluster\"}}}}' (loses the client IP), or run the controller on every node the edge sends to (DaemonSet), or make the edge health-check the Service's healthCheckNodePort",
        svc.namespace, svc.name
    ))]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::joint::tests::{code, run};
    use crate::probe::plan::ErrorClass;

    #[test]
    fn etp_local_with_nodes_that_drop() {
        let (cert, mut cluster) = base();
        cluster.data_planes[0].services[0].external_traffic_policy = Some("Local".into());
        let p = probe(vec![
            addr("192.0.2.11", vec![oc(Some(200), None, "nginx", true, 66)]),
            addr(
                "192.0.2.12",
                vec![oc(None, Some(ErrorClass::ConnectTimeout), "-", false, 66)],
            ),
        ]);
        let f = code(&run(&cert, &cluster, Some(&p)), Code::EtpLocalPartial).expect("etp");
        assert!(
            f.fix
                .contains("kubectl -n ingress-nginx patch service ingress-nginx-controller"),
            "{}",
            f.fix
        );
        // Founding incident shape (ETP Local, but a 404 from another backend): not this.
        let p = probe(vec![addr(
            "203.0.113.10",
            vec![
                oc(Some(200), None, "nginx", true, 33),
                oc(Some(404), None, "envoy", false, 33),
            ],
        )]);
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::EtpLocalPartial).is_none());
        // ETP Cluster: not this either.
        cluster.data_planes[0].services[0].external_traffic_policy = Some("Cluster".into());
        let p = probe(vec![
            addr("192.0.2.11", vec![oc(Some(200), None, "nginx", true, 66)]),
            addr(
                "192.0.2.12",
                vec![oc(None, Some(ErrorClass::ConnectTimeout), "-", false, 66)],
            ),
        ]);
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::EtpLocalPartial).is_none());
    }
}
