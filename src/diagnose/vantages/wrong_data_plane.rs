//! WRONG_DATA_PLANE, proven with the probe pod's direct probes: every answer for the challenge
//! URL, from every vantage, is one data plane's (status, fingerprint, body), that data plane
//! does not serve the key when asked directly, and another one (the solver's, preferably)
//! does. After a failed validation (the solver gone) the solver's data plane answering
//! differently supports it. Without direct probes `wrong_data_plane_local.rs` compares the
//! responder with the solver's data-plane product instead.

use super::util::{
    Answer, Seen, direct_line, lb_owner, one_failing_answer, plane_results, seen_lines,
    uniform_failure, vantage_counts,
};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{plane_label, solver_planes};
use crate::diagnose::view::Vantages;
use crate::evidence::{ClusterEvidence, DataPlaneEvidence};
use crate::probe::plan::{DirectResult, TargetReport};
use crate::probe::targets::{is_rejected, plane_name};

pub(crate) fn wrong_data_plane(c: &Vantages) -> Vec<Finding> {
    let Some(inside) = c.inside.filter(|i| plane_results(i).next().is_some()) else {
        return vec![];
    };
    let Some(seen) = one_failing_answer(c) else {
        return vec![];
    };
    asked_directly(c, inside, &seen, &solver_planes(c.ch, c.cluster))
}

/// The data planes the pod asked directly, grouped: (plane, its results).
fn planes(inside: &TargetReport) -> Vec<(&str, Vec<&DirectResult>)> {
    let mut out: Vec<(&str, Vec<&DirectResult>)> = Vec::new();
    for d in plane_results(inside) {
        let p = plane_label(d);
        match out.iter_mut().find(|(n, _)| *n == p) {
            Some((_, v)) => v.push(d),
            None => out.push((p, vec![d])),
        }
    }
    out
}

fn serves(results: &[&DirectResult]) -> bool {
    results
        .iter()
        .any(|d| d.attempts > 0 && d.cert_manager_passes == d.attempts)
}

fn answer_of(results: &[&DirectResult]) -> Option<Answer> {
    results
        .iter()
        .find_map(|d| uniform_failure(&d.outcomes, &d.samples))
}

fn asked_directly(
    c: &Vantages,
    inside: &TargetReport,
    seen: &[Seen],
    solver: &[&DataPlaneEvidence],
) -> Vec<Finding> {
    let answer = &seen[0].answer;
    let solver_names: Vec<String> = solver.iter().map(|p| plane_name(p)).collect();
    let all = planes(inside);
    let rejected = is_rejected(c.ch);
    // The plane that answers like the challenge address, and does not serve the key.
    let Some((wrong, wrong_results)) = all
        .iter()
        .find(|(_, r)| !serves(r) && answer_of(r).is_some_and(|a| a.same_as(answer)))
    else {
        return vec![];
    };
    // The plane that should answer: one that serves the key (the solver's first); once the
    // solver is gone (a rejected challenge), the solver's plane answering differently.
    let right = all
        .iter()
        .filter(|(p, r)| {
            p != wrong
                && if rejected {
                    solver_names.iter().any(|n| n == p)
                        && answer_of(r).is_none_or(|a| !a.same_as(answer))
                } else {
                    serves(r)
                }
        })
        .min_by_key(|(p, _)| !solver_names.iter().any(|n| n == p));
    let Some((right, right_results)) = right else {
        return vec![];
    };
    let host = &c.ch.dns_name;
    let counts = vantage_counts(seen);
    let summary = if rejected {
        let theirs = answer_of(right_results)
            .map(|a| format!(", while {right} answers {}", a.text()))
            .unwrap_or_default();
        format!(
            "after the failed validation, traffic for {host} still reaches {wrong}, not {right}, which carries the solver's route: {counts} are {}, as {wrong} answers when asked directly{theirs}; the CA's error most likely came from {wrong}",
            answer.text()
        )
    } else {
        format!(
            "traffic for {host} reaches {wrong}, not {right}, which serves the challenge: {counts} are {}, which is what {wrong} answers when asked directly",
            answer.text()
        )
    };
    let mut f = Finding::new(
        Code::WrongDataPlane,
        Severity::Error,
        if rejected {
            Proof::Supports
        } else {
            Proof::Proves
        },
        summary,
    )
    .challenge(&c.ch.name);
    f = seen_lines(f, seen);
    let same_body = answer_of(wrong_results)
        .and_then(|a| a.body_sha256)
        .filter(|h| answer.body_sha256.as_ref() == Some(h))
        .map(|h| format!(", the same body (sha256 {})", &h[..h.len().min(12)]))
        .unwrap_or_default();
    f = f.evidence(format!(
        "asked directly from inside, {wrong} answers the same: {}{same_body}",
        answer.text()
    ));
    for d in right_results.iter().chain(wrong_results) {
        f = f.evidence(direct_line(d));
    }
    if !solver_names.is_empty() {
        f = f.evidence(format!(
            "the solver's route is carried by {}",
            solver_names.join(" and ")
        ));
    }
    let plane = |name: &str| c.cluster.data_planes.iter().find(|p| plane_name(p) == name);
    vec![f.fix(fix(
        c.cluster,
        host,
        &seen[0].addr.address,
        (wrong, plane(wrong)),
        (right, plane(right)),
    ))]
}

/// Where the address leads and what to change: the load balancer's listener, the DNS record,
/// or whatever owns a foreign address; or the solver's route onto the other plane.
fn fix(
    cluster: &ClusterEvidence,
    host: &str,
    addr: &str,
    (wrong, wrong_plane): (&str, Option<&DataPlaneEvidence>),
    (right, right_plane): (&str, Option<&DataPlaneEvidence>),
) -> String {
    let right_addrs: Vec<String> = right_plane
        .iter()
        .flat_map(|p| &p.services)
        .flat_map(|s| s.lb_addresses.iter().cloned())
        .collect();
    let right_ports: Vec<String> = right_plane
        .iter()
        .flat_map(|p| &p.services)
        .flat_map(|s| {
            s.ports
                .iter()
                .filter(|p| p.port == 80 || p.name.as_deref() == Some("http"))
                .filter_map(move |p| {
                    p.node_port
                        .map(|n| format!("Service {}/{} NodePort {n}", s.namespace, s.name))
                })
        })
        .collect();
    let target = match (right_addrs.is_empty(), right_ports.is_empty()) {
        (false, _) => format!("{right} ({})", right_addrs.join(", ")),
        (true, false) => format!("{right} ({})", right_ports.join(", ")),
        (true, true) => right.to_owned(),
    };
    let owner = lb_owner(cluster, addr);
    let mut text = match owner {
        Some(o) if o.plane == right => format!(
            "{addr} is the load-balancer address of {}, yet its port 80 reaches {wrong}: the load balancer's port-80 listener (target group, backend pool, forwarding rule) points at {wrong}'s nodes or ports; point it at {}{} (see {})",
            o.object(),
            right,
            if right_ports.is_empty() {
                String::new()
            } else {
                format!(" ({})", right_ports.join(", "))
            },
            o.status_cmd()
        ),
        Some(o) if o.plane == wrong => format!(
            "{host} resolves to {addr}, the address of {}: change the DNS record for {host} to the address of {target}",
            o.object()
        ),
        _ => format!(
            "{addr} is not a load-balancer address of this cluster: whatever owns it (an external load balancer, a router's port forward, a cloud forwarding rule) sends port 80 to {wrong}; point its port-80 listener or target at {target}, or the DNS record for {host} at {right}'s address"
        ),
    };
    if let Some(g) = wrong_plane.filter(|p| p.kind == "gateway") {
        text.push_str(&format!(
            "; or, to serve the challenge from {wrong}, let the solver attach an HTTPRoute to it (solvers[].http01.gatewayHTTPRoute.parentRefs: Gateway {}/{}, with a port-80 HTTP listener that admits the route)",
            g.namespace, g.name
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::{codes, graded, rule_on, run};
    use crate::evidence::ChallengeEvidence;
    use crate::probe::incluster::InCluster;
    use crate::probe::plan::ErrorClass;

    fn find(ch: &ChallengeEvidence, l: Option<&TargetReport>, ic: &InCluster) -> Vec<Finding> {
        rule_on(wrong_data_plane, ch, l, ic, &cluster_nginx_class())
    }

    #[test]
    fn all_traffic_to_the_gateway_while_ingress_nginx_serves_the_key() {
        let (l, i) = all_to_gateway();
        let ch = nginx_solver(ch());
        let f = find(&ch, Some(&l), &ran(i.clone()));
        assert_eq!(
            graded(&f),
            [(Code::WrongDataPlane, Severity::Error, Proof::Proves)]
        );
        assert!(
            f[0].summary.starts_with(
                "traffic for shop.example.test reaches gateway infra/public (cilium), not ingress-nginx, which serves the challenge: all 20 answers from this machine and all 20 from inside the cluster (203.0.113.10) are 404 (envoy)"
            ),
            "{}",
            f[0].summary
        );
        // 203.0.113.10 is ingress-nginx's own LB address: the listener is wrong.
        assert!(
            f[0].fix.starts_with("203.0.113.10 is the load-balancer address of Service ingress-nginx/ingress-nginx-controller (ingress-nginx), yet its port 80 reaches gateway infra/public (cilium)"),
            "{}",
            f[0].fix
        );
        assert!(
            f[0].fix
                .contains("gatewayHTTPRoute.parentRefs: Gateway infra/public"),
            "{}",
            f[0].fix
        );
        assert!(
            f[0].evidence.iter().any(|e| e
                .starts_with("direct from inside: ingress-nginx Service")
                && e.contains("serves the key")),
            "{:#?}",
            f[0].evidence
        );
        // Run with the other cross-vantage rules: it is the one finding.
        assert_eq!(
            codes(&run(Some(&l), &ran(i), &cluster_nginx_class())),
            [Code::WrongDataPlane]
        );
    }

    #[test]
    fn a_foreign_address_and_the_dns_record() {
        let (mut l, mut i) = all_to_gateway();
        for t in [&mut l, &mut i] {
            t.addresses[0].address = "192.0.2.77".into();
        }
        let ch = nginx_solver(ch());
        let f = find(&ch, Some(&l), &ran(i.clone()));
        assert!(
            f[0].fix
                .starts_with("192.0.2.77 is not a load-balancer address of this cluster"),
            "{}",
            f[0].fix
        );
        assert!(
            f[0].fix.contains("at ingress-nginx (203.0.113.10)"),
            "{}",
            f[0].fix
        );
        // The gateway's own address: the DNS record is wrong.
        let mut cl = cluster_nginx_class();
        cl.data_planes[1].services[0].lb_addresses = vec!["192.0.2.77".into()];
        let c = Vantages {
            ch: &ch,
            local: Some(&l),
            inside: Some(&i),
            in_cluster: &InCluster::NotRequested,
            cluster: &cl,
            ca: crate::probe::plan::CaProfile::Pebble,
        };
        let f = wrong_data_plane(&c);
        assert!(
            f[0].fix.starts_with("shop.example.test resolves to 192.0.2.77, the address of Service infra/cilium-gateway-public (gateway infra/public (cilium)): change the DNS record"),
            "{}",
            f[0].fix
        );
    }

    #[test]
    fn partial_failures_and_errors_are_other_rules() {
        let ch = nginx_solver(ch());
        let (_, i) = all_to_gateway();
        // Outside passes: split horizon or source pinning, not this.
        assert!(find(&ch, Some(&outside_ok()), &ran(i.clone())).is_empty());
        // A mix on the address: mixed backends.
        let l = local(vec![addr(
            EDGE,
            vec![ok("nginx", 10), status(404, "envoy", 10)],
        )]);
        assert!(find(&ch, Some(&l), &ran(i.clone())).is_empty());
        // Time-outs: not a data plane's answer.
        let l = local(vec![addr(EDGE, vec![err(ErrorClass::ConnectTimeout, 20)])]);
        assert!(find(&ch, Some(&l), &ran(i.clone())).is_empty());
        // No plane serves the key: nothing to point at.
        let mut none = i.clone();
        none.direct
            .retain(|d| !d.label.starts_with("ingress-nginx"));
        let (l, _) = all_to_gateway();
        assert!(find(&ch, Some(&l), &ran(none)).is_empty());
        // The answer matches no plane asked directly.
        let l2 = local(vec![addr(EDGE, vec![status(404, "apache", 20)])]);
        let mut i2 = i;
        i2.addresses = l2.addresses.clone();
        assert!(find(&ch, Some(&l2), &ran(i2)).is_empty());
    }

    #[test]
    fn after_a_rejection_the_solver_plane_answers_differently() {
        let mut ch = nginx_solver(ch());
        ch.state = "invalid".into();
        let l = local(vec![addr(EDGE, vec![status(404, "envoy", 20)])]);
        let i = inside(
            vec![addr(EDGE, vec![status(404, "envoy", 20)])],
            vec![
                direct(
                    NGINX_SVC,
                    "198.51.100.10:80",
                    vec![status(404, "nginx", 20)],
                ),
                gateway_404(),
            ],
        );
        let f = find(&ch, Some(&l), &ran(i));
        assert_eq!(codes(&f), [Code::WrongDataPlane]);
        assert_eq!(f[0].proof, Proof::Supports);
        assert!(
            f[0].summary.starts_with("after the failed validation, traffic for shop.example.test still reaches gateway infra/public (cilium), not ingress-nginx, which carries the solver's route"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].summary
                .contains("while ingress-nginx answers 404 (nginx)"),
            "{}",
            f[0].summary
        );
    }
}
