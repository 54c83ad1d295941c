//! ETP_LOCAL_PARTIAL (RC14): `externalTrafficPolicy: Local`, and some connections to the
//! Service's own load-balancer addresses get through while others are dropped or refused (nodes
//! without a ready controller pod).
//!
//! Only the Service's addresses count (`status.loadBalancer.ingress`, `externalIPs`): an address
//! the name also publishes that is not the Service's (a stale A record, a private address, an
//! AAAA nobody holds) says nothing about its nodes. A connection that fails at once because
//! this vantage has no route to the address (network unreachable) is no node dropping it either.

use super::util::solver_planes;
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Joint;
use crate::evidence::{DataPlaneEvidence, ServiceEvidence};
use crate::probe::plan::{AddressReport, ErrorClass, TargetReport};
use std::net::IpAddr;

/// LoadBalancer/NodePort Services with `externalTrafficPolicy: Local` among the solver's planes.
fn local_services<'a>(planes: &[&'a DataPlaneEvidence]) -> Vec<&'a ServiceEvidence> {
    planes
        .iter()
        .flat_map(|p| &p.services)
        .filter(|s| s.external_traffic_policy.as_deref() == Some("Local"))
        .filter(|s| s.type_ == "LoadBalancer" || s.type_ == "NodePort")
        .collect()
}

/// Connections a node dropped or refused: timeouts and refusals, never "network unreachable"
/// (no route from this vantage: nothing reached any node).
fn dial_failures(a: &AddressReport) -> u32 {
    if a.unroutable {
        return 0;
    }
    a.outcomes
        .iter()
        .filter(|o| {
            matches!(
                o.error_class,
                Some(ErrorClass::ConnectTimeout | ErrorClass::ConnectRefused)
            )
        })
        .map(|o| o.count)
        .sum()
}

/// Whether `address` is one of the Service's own (its load-balancer addresses and externalIPs),
/// compared as IP addresses so that IPv6 spellings agree.
fn is_service_address(svc: &ServiceEvidence, address: &str) -> bool {
    let ip = address.parse::<IpAddr>().ok();
    svc.lb_addresses
        .iter()
        .any(|a| a == address || (ip.is_some() && a.parse::<IpAddr>().ok() == ip))
}

/// RC14: `externalTrafficPolicy: Local`, and some connections to the Service's own addresses
/// get through while others are dropped or refused — nodes without a ready controller pod.
pub(crate) fn etp_local_partial(c: &Joint) -> Vec<Finding> {
    let planes = solver_planes(c);
    let Some(t) = c.probe else { return vec![] };
    for svc in local_services(&planes) {
        let own: Vec<&AddressReport> = t
            .addresses
            .iter()
            .filter(|a| is_service_address(svc, &a.address))
            .collect();
        let passing = own.iter().any(|a| a.cert_manager_passes > 0);
        let dropped = own.iter().filter(|a| dial_failures(a) > 0).count();
        if passing && dropped > 0 {
            return vec![finding(c, t, svc, &own, dropped)];
        }
    }
    vec![]
}

fn finding(
    c: &Joint,
    t: &TargetReport,
    svc: &ServiceEvidence,
    own: &[&AddressReport],
    dropped: usize,
) -> Finding {
    let mut f = Finding::new(
        Code::EtpLocalPartial,
        Severity::Error,
        Proof::Supports,
        format!(
            "Service {}/{} has externalTrafficPolicy: Local with {} ready endpoint(s); {} of its {} load-balancer address(es) probed drop or refuse some connections while others get through — nodes without a controller pod do not answer",
            svc.namespace,
            svc.name,
            svc.ready_endpoints,
            dropped,
            own.len()
        ),
    )
    .challenge(&c.ch.name);
    for a in own {
        f = f.evidence(format!("{}  {}", a.address, outcome_summary(a)));
    }
    let others = t.addresses.len() - own.len();
    if others > 0 {
        f = f.evidence(format!(
            "{others} other address(es) of {} are not this Service's: not counted here",
            t.dns_name
        ));
    }
    let ports: Vec<String> = svc
        .ports
        .iter()
        .filter_map(|p| p.node_port.map(|n| format!("{}→NodePort {n}", p.port)))
        .collect();
    if !ports.is_empty() {
        f = f.evidence(format!("Service ports: {}", ports.join(", ")));
    }
    f.fix(format!(
        "kubectl -n {} patch service {} -p '{{\"spec\":{{\"externalTrafficPolicy\":\"Cluster\"}}}}' (loses the client IP), or run the controller on every node the edge sends to (DaemonSet), or make the edge health-check the Service's healthCheckNodePort",
        svc.namespace, svc.name
    ))
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
        cluster.data_planes[0].services[0].lb_addresses =
            vec!["192.0.2.11".into(), "192.0.2.12".into()];
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

    fn local(
        lb: &[&str],
    ) -> (
        crate::evidence::CertificateEvidence,
        crate::evidence::ClusterEvidence,
    ) {
        let (cert, mut cluster) = base();
        let svc = &mut cluster.data_planes[0].services[0];
        svc.external_traffic_policy = Some("Local".into());
        svc.lb_addresses = lb.iter().map(|a| a.to_string()).collect();
        (cert, cluster)
    }

    #[test]
    fn one_lb_address_that_drops_some_connections() {
        // A cloud LB in front of the nodes: one address, some connections land on nodes
        // without a controller pod.
        let (cert, cluster) = local(&["203.0.113.10"]);
        let p = probe(vec![addr(
            "203.0.113.10",
            vec![
                oc(Some(200), None, "nginx", true, 40),
                oc(None, Some(ErrorClass::ConnectTimeout), "-", false, 26),
            ],
        )]);
        let f = code(&run(&cert, &cluster, Some(&p)), Code::EtpLocalPartial).expect("etp");
        assert!(
            f.summary.contains("1 of its 1 load-balancer"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn addresses_that_are_not_the_services_are_not_its_nodes() {
        let (cert, cluster) = local(&["203.0.113.10"]);
        // private-address: the name also publishes 10.0.0.5, which no vantage can route to.
        let mut private = addr(
            "10.0.0.5",
            vec![oc(
                None,
                Some(ErrorClass::NetworkUnreachable),
                "-",
                false,
                66,
            )],
        );
        private.unroutable = true;
        let ok = || addr("203.0.113.10", vec![oc(Some(200), None, "nginx", true, 66)]);
        let p = probe(vec![ok(), private]);
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::EtpLocalPartial).is_none());
        // two-a-one-refusing: a second A record (another host) refuses port 80.
        let p = probe(vec![
            ok(),
            addr(
                "192.0.2.99",
                vec![oc(None, Some(ErrorClass::ConnectRefused), "-", false, 66)],
            ),
        ]);
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::EtpLocalPartial).is_none());
        // ipv4-cluster-aaaa-dead: an AAAA nobody holds.
        let p = probe(vec![
            ok(),
            addr(
                "2001:db8::dead",
                vec![oc(None, Some(ErrorClass::ConnectTimeout), "-", false, 66)],
            ),
        ]);
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::EtpLocalPartial).is_none());
        // The Service's own IPv6 address, spelled differently by DNS and the API: it counts.
        let (cert, cluster) = local(&["203.0.113.10", "2001:DB8:0::10"]);
        let p = probe(vec![
            ok(),
            addr(
                "2001:db8::10",
                vec![oc(None, Some(ErrorClass::ConnectTimeout), "-", false, 66)],
            ),
        ]);
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::EtpLocalPartial).is_some());
    }
}
