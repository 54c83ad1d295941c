//! HAIRPIN_UNREACHABLE and SELFCHECK_EGRESS_BLOCKED from the addresses that pass from this
//! machine and cannot be connected to from the probe pod: the cluster's own load balancer, a
//! foreign address while other outside addresses work (hairpin: another challenge's address,
//! or the egress witness, the ACME server, answered the pod), or nothing reachable at all
//! (egress; proven when the egress witness failed too).

use super::util::{
    address, cm_names, direct_egress, direct_line, egress_line, is_cluster_address, lb_owner,
    plane_results, pod_where, router_only, unreachable,
};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantages;
use crate::probe::incluster::InCluster;
use crate::probe::plan::{AddressReport, DirectResult, ErrorClass, TargetReport};

/// Addresses that pass from this machine and cannot be connected to from inside; not those the
/// pod has no route to (`unroutable`, e.g. an AAAA in an IPv4-only cluster): nothing was sent,
/// and Go's dialer moves on at once (`net/addrselect.go` `sortByRFC6724`, `net/dial.go`).
fn outside_only<'a>(
    local: &'a TargetReport,
    inside: &'a TargetReport,
) -> Vec<(&'a AddressReport, &'a AddressReport)> {
    inside
        .addresses
        .iter()
        .filter(|i| !i.unroutable)
        .filter(|i| unreachable(i) || router_only(i))
        .filter_map(|i| {
            address(local, &i.address)
                .filter(|l| l.cert_manager_passes > 0)
                .map(|l| (l, i))
        })
        .collect()
}

/// Some address that is not the cluster's own is reachable from the pod (any challenge).
fn other_public_reachable(c: &Vantages, except: &[&str]) -> Option<String> {
    let InCluster::Ran { targets, .. } = c.in_cluster else {
        return None;
    };
    targets
        .values()
        .flat_map(|t| &t.addresses)
        .find(|a| {
            !except.contains(&a.address.as_str())
                && !is_cluster_address(c.cluster, &a.address)
                && a.outcomes.iter().any(|o| o.status.is_some())
                && !router_only(a)
        })
        .map(|a| a.address.clone())
}

pub(crate) fn hairpin_or_egress(c: &Vantages) -> Vec<Finding> {
    let (Some(local), Some(inside)) = (c.local, c.inside) else {
        return vec![];
    };
    let pairs = outside_only(local, inside);
    if pairs.is_empty() {
        return vec![];
    }
    let pod = pod_where(c.in_cluster);
    let planes: Vec<&DirectResult> = plane_results(inside).collect();
    let direct_answers = planes
        .iter()
        .any(|d| d.outcomes.iter().any(|o| o.status.is_some()));
    let lines = |f: Finding, pairs: &[(&AddressReport, &AddressReport)]| {
        pairs.iter().fold(f, |f, (l, i)| {
            f.evidence(format!(
                "this machine: {}  {}",
                l.address,
                outcome_summary(l)
            ))
            .evidence(format!("in cluster: {}  {}", i.address, outcome_summary(i)))
        })
    };
    let mut out = Vec::new();
    // The egress witness (the ACME directory, asked straight, not through a proxy).
    let witness = direct_egress(inside);
    // It could not connect (not a DNS failure, which says nothing about TCP egress).
    let witness_failed = witness.is_some_and(|w| {
        !w.reached()
            && w.error_class
                .is_some_and(|e| e.is_dial_failure() || e == ErrorClass::Timeout)
    });
    // Blocked egress is proven when the witness could not connect either.
    let egress_proof = if witness_failed {
        Proof::Proves
    } else {
        Proof::Supports
    };
    // The probe pod reached nothing at all, not even Services inside the cluster.
    if !planes.is_empty() && !direct_answers && inside.addresses.iter().all(unreachable) {
        let (ns, _) = cm_names(c.cluster);
        let f = Finding::new(
            Code::SelfcheckEgressBlocked,
            Severity::Error,
            egress_proof,
            format!(
                "{pod} could connect to nothing: not {} (which passes from this machine) and not the data planes' Services inside the cluster ({} direct probes, no answer)",
                c.ch.dns_name,
                planes.len()
            ),
        )
        .challenge(&c.ch.name);
        let mut f = planes
            .iter()
            .fold(lines(f, &pairs), |f, d| f.evidence(direct_line(d)));
        if let Some(w) = witness {
            f = f.evidence(egress_line(w));
        }
        out.push(f.fix(format!(
            "an egress NetworkPolicy (or a Cilium/Calico policy) in namespace {ns} blocks the pods there: allow egress TCP 80/443 to the entry-point addresses and UDP/TCP 53 to cluster DNS for the cert-manager controller (kubectl -n {ns} get networkpolicy)"
        )));
        return out;
    }
    let (own, foreign): (Vec<_>, Vec<_>) = pairs
        .iter()
        .partition(|(l, _)| is_cluster_address(c.cluster, &l.address));
    if let Some((l, i)) = own.first() {
        let Some(owner) = lb_owner(c.cluster, &l.address) else {
            return out;
        };
        let plane = owner.plane.clone();
        let served: Vec<&&DirectResult> = planes
            .iter()
            .filter(|d| d.label.starts_with(&format!("{plane} ")) && d.cert_manager_passes > 0)
            .collect();
        let proof = if served.is_empty() {
            Proof::Supports
        } else {
            Proof::Proves
        };
        let timeouts = i.attempts - i.cert_manager_passes;
        let mut f = Finding::new(
            Code::HairpinUnreachable,
            Severity::Error,
            proof,
            format!(
                "{} is the load-balancer address of {}, yet from inside the cluster {timeouts} of {} connections to it fail while {} of {} from this machine pass{}",
                l.address,
                owner.object(),
                i.attempts,
                l.cert_manager_passes,
                l.attempts,
                if served.is_empty() {
                    String::new()
                } else {
                    format!("; asked directly, {plane} serves the key inside the cluster")
                }
            ),
        )
        .challenge(&c.ch.name);
        f = lines(f, &own);
        for d in served {
            f = f.evidence(direct_line(d));
        }
        out.push(f.fix(format!(
            "in-cluster traffic to a LoadBalancer address is normally short-circuited by kube-proxy; here it is not: check `{}` (ipMode: Proxy sends it out to the load balancer, which must hairpin it back) and kube-proxy's mode (`kubectl -n kube-system get cm kube-proxy -o yaml`: ipvs needs the LB IPs bound, `masqueradeAll: true` helps with hairpin; kubelet `--hairpin-mode=hairpin-veth`; an AWS NLB that preserves client IPs cannot hairpin: annotate the Service with `service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: preserve_client_ip.enabled=false`); or make the self check resolve {} inside the cluster to the data plane's Service (CoreDNS `rewrite name {} {}`); or (cert-manager ≥ 1.21) `waitInsteadOfSelfCheck` once the outside path is proven",
            owner.status_cmd(), c.ch.dns_name, c.ch.dns_name, owner.internal_name()
        )));
    }
    if foreign.is_empty() {
        return out;
    }
    let foreign_ips: Vec<&str> = foreign.iter().map(|(l, _)| l.address.as_str()).collect();
    let served: Vec<&&DirectResult> = planes
        .iter()
        .filter(|d| d.cert_manager_passes > 0)
        .collect();
    let fails: u32 = foreign
        .iter()
        .map(|(_, i)| i.attempts - i.cert_manager_passes)
        .sum();
    let tries: u32 = foreign.iter().map(|(_, i)| i.attempts).sum();
    // Egress works when another outside address answered the pod, or the ACME server did.
    let reachable = other_public_reachable(c, &foreign_ips).or_else(|| {
        witness
            .filter(|w| w.reached())
            .map(|w| format!("the ACME server {}", w.url))
    });
    match reachable {
        Some(other) => {
            let mut f = Finding::new(
                Code::HairpinUnreachable,
                Severity::Error,
                Proof::Proves,
                format!(
                    "{} passes from this machine but cannot be reached from inside the cluster ({fails} of {tries} connections fail), while {other} outside the cluster is reachable from there: whatever forwards {} into the cluster (router or load balancer, not a Service of this cluster) does not hairpin",
                    foreign_ips.join(", "),
                    foreign_ips.join(", ")
                ),
            )
            .challenge(&c.ch.name);
            f = lines(f, &foreign);
            if let Some(w) = witness {
                f = f.evidence(egress_line(w));
            }
            for d in served {
                f = f.evidence(direct_line(d));
            }
            out.push(f.fix(format!(
                "enable NAT reflection / hairpin NAT on the device that owns {}; or let the self check resolve {} to the internal entry point (CoreDNS rewrite/hosts, or --acme-http01-solver-nameservers pointing at a resolver with the internal view); or (cert-manager ≥ 1.21) waitInsteadOfSelfCheck; or DNS-01",
                foreign_ips.join(", "),
                c.ch.dns_name
            )));
        }
        None => {
            let (ns, deploy) = cm_names(c.cluster);
            let mut f = Finding::new(
                Code::SelfcheckEgressBlocked,
                Severity::Error,
                egress_proof,
                format!(
                    "{pod} cannot reach {} ({fails} of {tries} connections fail) although it passes from this machine, and no address outside the cluster was reachable from there{}{}",
                    foreign_ips.join(", "),
                    if witness_failed {
                        ", not even the ACME server"
                    } else {
                        ""
                    },
                    match served.len() {
                        0 => String::new(),
                        1 => "; a Service inside the cluster serves the key when asked directly".to_owned(),
                        n => format!("; {n} Services inside the cluster serve the key when asked directly"),
                    }
                ),
            )
            .challenge(&c.ch.name);
            f = lines(f, &foreign);
            match witness {
                Some(w) => f = f.evidence(egress_line(w)),
                None => {
                    f = f.evidence(format!(
                        "{} is not a load-balancer address of this cluster; if it is a router's public address that forwards port 80 inside (NAT), this is missing hairpin NAT instead (HAIRPIN_UNREACHABLE)",
                        foreign_ips.join(", ")
                    ));
                }
            }
            out.push(f.fix(format!(
                "allow egress TCP 80 (and 443 for redirects) to {} for the cert-manager controller (kubectl -n {ns} get networkpolicy; Helm networkPolicy.egress of deployment {deploy}), and UDP/TCP 53 to cluster DNS; if a router forwards {} into the cluster, enable NAT reflection on it instead",
                foreign_ips.join(", "),
                foreign_ips.join(", ")
            )));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::{codes, first, run};
    use crate::probe::plan::ErrorClass;

    #[test]
    fn hairpin_on_the_clusters_own_load_balancer() {
        let l = outside_ok();
        let i = inside_edge(
            vec![err(ErrorClass::ConnectTimeout, 66)],
            vec![nginx_serves(), gateway_404()],
        );
        let f = run(Some(&l), &ran(i.clone()), &cluster());
        assert_eq!(codes(&f), [Code::HairpinUnreachable]);
        let h = &f[0];
        assert_eq!(h.proof, Proof::Proves);
        assert!(
            h.summary
                .contains("66 of 66 connections to it fail while 66 of 66 from this machine pass"),
            "{}",
            h.summary
        );
        assert!(
            h.summary
                .contains("Service ingress-nginx/ingress-nginx-controller"),
            "{}",
            h.summary
        );
        assert!(
            h.evidence
                .iter()
                .any(|e| e == "in cluster: 203.0.113.10  66×connect_timeout"),
            "{:?}",
            h.evidence
        );
        assert!(
            h.fix
                .contains("kubectl -n ingress-nginx get svc ingress-nginx-controller"),
            "{}",
            h.fix
        );
        // A Gateway's own address: the Gateway is named, and how to read its status.
        let mut cl = cluster();
        cl.gateways[0].addresses = vec!["203.0.113.20".into()];
        let l2 = local(vec![addr("203.0.113.20", vec![ok("envoy", 66)])]);
        let i2 = inside(
            vec![addr(
                "203.0.113.20",
                vec![err(ErrorClass::ConnectTimeout, 66)],
            )],
            vec![],
        );
        let f = run(Some(&l2), &ran(i2), &cl);
        assert_eq!(first(&f), (Code::HairpinUnreachable, Proof::Supports));
        assert!(
            f[0].summary
                .contains("load-balancer address of Gateway infra/public, yet"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].fix
                .contains("kubectl -n infra get gateway public -o jsonpath='{.status.addresses}'"),
            "{}",
            f[0].fix
        );
        // Without a direct answer from that data plane it only supports.
        let mut weaker = i;
        weaker.direct = vec![gateway_404()];
        let f = run(Some(&l), &ran(weaker), &cluster());
        assert_eq!(first(&f), (Code::HairpinUnreachable, Proof::Supports));
    }

    #[test]
    fn a_foreign_address_is_hairpin_only_when_other_outside_addresses_work_from_inside() {
        let (l, i) = foreign_address(err(ErrorClass::ConnectTimeout, 66));
        let f = run(Some(&l), &ran(i.clone()), &cluster());
        assert_eq!(codes(&f), [Code::SelfcheckEgressBlocked]);
        assert_eq!(f[0].proof, Proof::Supports);
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e.contains("HAIRPIN_UNREACHABLE")),
            "{:?}",
            f[0].evidence
        );
        // Another challenge's outside address answers from inside: egress works, the NAT does not.
        let f = run(Some(&l), &ran_all(vec![i, other_challenge()]), &cluster());
        assert_eq!(codes(&f), [Code::HairpinUnreachable]);
        assert_eq!(f[0].proof, Proof::Proves);
        assert!(
            f[0].summary
                .contains("192.0.2.88 outside the cluster is reachable"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn the_egress_witness_tells_hairpin_from_blocked_egress() {
        use crate::probe::plan::EgressReport;
        let (l, mut i) = foreign_address(err(ErrorClass::ConnectTimeout, 66));
        let witness = |status: Option<u16>, class: Option<ErrorClass>| EgressReport {
            url: "https://acme.example/directory".into(),
            address: "192.0.2.41:443".into(),
            status,
            error_class: class,
            responder: "-".into(),
            ..Default::default()
        };
        // The ACME server answers the pod: egress works, the address does not hairpin.
        i.egress = Some(witness(Some(200), None));
        let f = run(Some(&l), &ran(i.clone()), &cluster());
        assert_eq!(codes(&f), [Code::HairpinUnreachable]);
        assert_eq!(f[0].proof, Proof::Proves);
        assert!(
            f[0].summary
                .contains("while the ACME server https://acme.example/directory outside the cluster is reachable from there"),
            "{}",
            f[0].summary
        );
        // It times out too: egress is blocked (and the witness is its own finding).
        i.egress = Some(witness(None, Some(ErrorClass::ConnectTimeout)));
        let f = run(Some(&l), &ran(i.clone()), &cluster());
        assert_eq!(
            codes(&f),
            [Code::SelfcheckEgressBlocked, Code::AcmeUnreachable]
        );
        assert_eq!(f[0].proof, Proof::Proves);
        assert!(
            f[0].summary.ends_with(
                "was reachable from there, not even the ACME server; a Service inside the cluster serves the key when asked directly"
            ),
            "{}",
            f[0].summary
        );
        // Through a proxy the witness says nothing about the pod's own egress.
        let mut proxied = witness(Some(200), None);
        proxied.proxy = Some("http://192.0.2.8:3128".into());
        i.egress = Some(proxied);
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(first(&f), (Code::SelfcheckEgressBlocked, Proof::Supports));
    }

    #[test]
    fn the_routers_own_page_from_inside_is_hairpin() {
        let (l, i) = foreign_address(status(401, "router-ui", 66));
        let f = run(Some(&l), &ran_all(vec![i, other_challenge()]), &cluster());
        assert_eq!(codes(&f), [Code::HairpinUnreachable]);
        assert!(
            f[0].summary.contains("(66 of 66 connections fail)"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn a_probe_pod_that_reaches_nothing_is_egress() {
        let l = outside_ok();
        let i = inside_edge(
            vec![err(ErrorClass::ConnectTimeout, 66)],
            vec![direct(
                NGINX_SVC,
                "198.51.100.10:80",
                vec![err(ErrorClass::ConnectTimeout, 20)],
            )],
        );
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::SelfcheckEgressBlocked]);
        assert!(
            f[0].summary.contains("could connect to nothing"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].fix
                .contains("kubectl -n cert-manager get networkpolicy")
                || f[0].fix.contains("namespace cert-manager"),
            "{}",
            f[0].fix
        );
    }

    #[test]
    fn an_address_the_pod_has_no_route_to_is_not_hairpin() {
        // ipv4-cluster-aaaa-ok: A and AAAA serve the key; the cluster has no IPv6.
        let l = local(vec![
            addr("203.0.113.10", vec![ok("nginx", 66)]),
            addr("2001:db8::10", vec![ok("nginx", 66)]),
        ]);
        let mut v6 = addr(
            "2001:db8::10",
            vec![err(ErrorClass::NetworkUnreachable, 66)],
        );
        v6.unroutable = true;
        let mut i = inside(
            vec![addr("203.0.113.10", vec![ok("nginx", 66)]), v6],
            vec![nginx_serves()],
        );
        i.egress = Some(crate::probe::plan::EgressReport {
            url: "https://acme.example/directory".into(),
            address: "192.0.2.41:443".into(),
            status: Some(200),
            responder: "-".into(),
            ..Default::default()
        });
        let f = run(Some(&l), &ran(i), &cluster());
        assert!(f.is_empty(), "{:?}", codes(&f));
    }
}
