//! Fixtures of the cross-vantage rules' tests: outcomes, addresses, direct probes, both
//! vantages' reports and the probe pod's run.

use super::util::count;
use crate::evidence::{ChallengeEvidence, ClusterEvidence, PodEvidence};
use crate::probe::incluster::{InCluster, Placement};
use crate::probe::plan::{
    AddressReport, DirectResult, DnsReport, ErrorClass, KeyMatch, OutcomeCount, ResolverAnswer,
    TargetReport,
};
use std::collections::HashMap;

pub const NAME: &str = "shop.example.test";

pub const EDGE: &str = "203.0.113.10";

pub fn oc(status: Option<u16>, err: Option<ErrorClass>, who: &str, count: u32) -> OutcomeCount {
    let pass = status == Some(200) && who != "wrong";
    OutcomeCount {
        status,
        error_class: err,
        responder: who.into(),
        key_match: if pass {
            KeyMatch::Exact
        } else {
            KeyMatch::NotApplicable
        },
        cert_manager_pass: pass,
        acme_pass: pass,
        count,
        ..Default::default()
    }
}

pub fn ok(who: &str, n: u32) -> OutcomeCount {
    oc(Some(200), None, who, n)
}

pub fn status(s: u16, who: &str, n: u32) -> OutcomeCount {
    oc(Some(s), None, who, n)
}

pub fn err(e: ErrorClass, n: u32) -> OutcomeCount {
    oc(None, Some(e), "-", n)
}

pub fn addr(ip: &str, outcomes: Vec<OutcomeCount>) -> AddressReport {
    AddressReport {
        address: ip.into(),
        family: "ipv4".into(),
        attempts: outcomes.iter().map(|o| o.count).sum(),
        cert_manager_passes: count(&outcomes, |o| o.cert_manager_pass),
        acme_passes: count(&outcomes, |o| o.acme_pass),
        outcomes,
        ..Default::default()
    }
}

pub fn direct(label: &str, address: &str, outcomes: Vec<OutcomeCount>) -> DirectResult {
    DirectResult {
        address: address.into(),
        host: NAME.into(),
        label: label.into(),
        attempts: outcomes.iter().map(|o| o.count).sum(),
        cert_manager_passes: count(&outcomes, |o| o.cert_manager_pass),
        outcomes,
        ..Default::default()
    }
}

pub const NGINX_SVC: &str = "ingress-nginx Service ingress-nginx/ingress-nginx-controller";

pub const GW_SVC: &str = "gateway infra/public (cilium) Service infra/cilium-gateway-public";

pub const SOLVER_SVC: &str = "solver Service shop/cm-acme-http-solver-xyz";

/// A report whose primary resolver answered `dns` (empty: NXDOMAIN).
pub fn report(resolver: &str, dns: &[&str], addresses: Vec<AddressReport>) -> TargetReport {
    TargetReport {
        id: "shop/web-1".into(),
        url: ch().challenge_url(),
        dns_name: NAME.into(),
        expected_key: "tok.thumb".into(),
        dns: DnsReport {
            resolvers: vec![ResolverAnswer {
                resolver: resolver.into(),
                role: "primary".into(),
                a: dns.iter().map(|s| s.to_string()).collect(),
                error: dns.is_empty().then_some(ErrorClass::DnsNxdomain),
                ..Default::default()
            }],
            ip_literal: false,
            ..Default::default()
        },
        addresses,
        ..Default::default()
    }
}

pub fn local(addresses: Vec<AddressReport>) -> TargetReport {
    let dns: Vec<String> = addresses.iter().map(|a| a.address.clone()).collect();
    let dns: Vec<&str> = dns.iter().map(String::as_str).collect();
    report("system", &dns, addresses)
}

/// This machine: the edge serves the key on all 66 attempts.
pub fn outside_ok() -> TargetReport {
    local(vec![addr(EDGE, vec![ok("nginx", 66)])])
}

/// The pod: the edge address answers `outcomes`.
pub fn inside_edge(outcomes: Vec<OutcomeCount>, direct: Vec<DirectResult>) -> TargetReport {
    inside(vec![addr(EDGE, outcomes)], direct)
}

pub fn inside(addresses: Vec<AddressReport>, direct: Vec<DirectResult>) -> TargetReport {
    let dns: Vec<String> = addresses.iter().map(|a| a.address.clone()).collect();
    let dns: Vec<&str> = dns.iter().map(String::as_str).collect();
    let mut r = report("system", &dns, addresses);
    r.direct = direct;
    r
}

pub fn ran(t: TargetReport) -> InCluster {
    ran_all(vec![t])
}

pub fn ran_all(ts: Vec<TargetReport>) -> InCluster {
    InCluster::Ran {
        placement: Placement {
            namespace: "cert-manager".into(),
            pod: "acmecheck-probe-1".into(),
            node: Some("node-a".into()),
            why: "cert-manager's namespace, like the self check".into(),
        },
        targets: ts
            .into_iter()
            .map(|t| (t.id.clone(), t))
            .collect::<HashMap<_, _>>(),
    }
}

pub fn ch() -> ChallengeEvidence {
    ChallengeEvidence {
        name: "web-1".into(),
        dns_name: NAME.into(),
        type_: "HTTP-01".into(),
        token: "tok".into(),
        key: "tok.thumb".into(),
        solver_pods: vec![PodEvidence {
            namespace: "shop".into(),
            name: "cm-acme-http-solver-abc".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

pub fn cluster() -> ClusterEvidence {
    crate::probe::targets::tests::cluster()
}

pub fn nginx_serves() -> DirectResult {
    direct(NGINX_SVC, "198.51.100.10:80", vec![ok("nginx", 20)])
}

pub fn gateway_404() -> DirectResult {
    direct(GW_SVC, "198.51.100.20:80", vec![status(404, "envoy", 20)])
}

/// The lab's solver: an Ingress of class nginx, served by ingress-nginx.
pub fn cluster_nginx_class() -> crate::evidence::ClusterEvidence {
    let mut cl = cluster();
    cl.data_planes[0].ingress_classes = vec!["nginx".into()];
    cl
}

pub fn nginx_solver(
    mut c: crate::evidence::ChallengeEvidence,
) -> crate::evidence::ChallengeEvidence {
    c.solver.http01 = Some(crate::evidence::Http01Solver {
        ingress: Some(crate::evidence::Http01Ingress {
            ingress_class_name: Some("nginx".into()),
            ..Default::default()
        }),
        gateway_http_route: None,
    });
    c
}

pub fn all_to_gateway() -> (TargetReport, TargetReport) {
    let l = local(vec![addr(EDGE, vec![status(404, "envoy", 20)])]);
    let i = inside(
        vec![addr(EDGE, vec![status(404, "envoy", 20)])],
        vec![
            nginx_serves(),
            gateway_404(),
            direct(SOLVER_SVC, "198.51.100.30:8089", vec![ok("acmesolver", 20)]),
        ],
    );
    (l, i)
}

/// `t` with its vantage's own check: the system resolver (192.0.2.98:53) in `state` for the
/// lab's ACME server, checked at 2026-12-06T04:38:00Z.
pub fn with_health(
    mut t: TargetReport,
    vantage: &str,
    state: crate::probe::plan::ResolverState,
) -> TargetReport {
    use crate::probe::plan::{NameCheck, ResolverHealth, ResolverState, VantageHealth};
    let answers = state == ResolverState::Answers;
    t.health = Some(VantageHealth {
        vantage: vantage.into(),
        checked_at: "2026-12-06T04:38:00Z".into(),
        resolvers: vec![ResolverHealth {
            resolver: "system".into(),
            servers: vec!["192.0.2.98:53".into()],
            state,
            names: vec![NameCheck {
                name: "pebble.lab.example.test".into(),
                addresses: if answers {
                    vec!["192.0.2.41".into()]
                } else {
                    vec![]
                },
                error: (!answers).then_some(ErrorClass::DnsTimeout),
                ..Default::default()
            }],
        }],
        ..Default::default()
    });
    t
}

/// A report whose lookup of the name failed with `error` (nothing probed).
pub fn unresolved(error: ErrorClass) -> TargetReport {
    let mut t = report("system", &[], vec![]);
    t.dns.resolvers[0].error = Some(error);
    t.dns.resolvers[0].detail = vec![format!("A: {error}: request timed out")];
    t
}

/// An address outside the cluster (not a load-balancer address of [`cluster`]) that serves the
/// key from this machine (66 × 200) and answers the probe pod with `from_inside` (66 times),
/// ingress-nginx serving the key when the pod asks it directly: (local, inside).
pub fn foreign_address(from_inside: OutcomeCount) -> (TargetReport, TargetReport) {
    let foreign = "192.0.2.77";
    let l = local(vec![addr(foreign, vec![ok("nginx", 66)])]);
    let i = inside(vec![addr(foreign, vec![from_inside])], vec![nginx_serves()]);
    (l, i)
}

/// The probe pod's report for another challenge (shop/other-1), whose address outside the
/// cluster (192.0.2.88) answers the pod: egress from the pod works.
pub fn other_challenge() -> TargetReport {
    let mut other = inside(
        vec![addr("192.0.2.88", vec![status(404, "apache", 66)])],
        vec![],
    );
    other.id = "shop/other-1".into();
    other.url = "http://other.example.test/.well-known/acme-challenge/x".into();
    other
}

/// A Ready Certificate `<ns>/web` of ClusterIssuer `le` (Pebble, the nginx solver) with
/// `challenges`.
pub(crate) fn ready_certificate(
    ns: &str,
    challenges: Vec<crate::evidence::ChallengeEvidence>,
) -> crate::evidence::CertificateEvidence {
    let ready = vec![crate::evidence::Condition {
        type_: "Ready".into(),
        status: "True".into(),
        ..Default::default()
    }];
    crate::evidence::CertificateEvidence {
        namespace: ns.into(),
        name: "web".into(),
        conditions: ready.clone(),
        issuer_ref: crate::evidence::IssuerRef {
            name: "le".into(),
            kind: Some("ClusterIssuer".into()),
            group: None,
        },
        issuer: Some(crate::evidence::IssuerEvidence {
            kind: "ClusterIssuer".into(),
            name: "le".into(),
            conditions: ready,
            acme: Some(crate::evidence::AcmeIssuer {
                server: "https://pebble.lab.example.test:14000/dir".into(),
                solvers: vec![nginx_solver(ch()).solver],
                ..Default::default()
            }),
            ..Default::default()
        }),
        challenges,
        ..Default::default()
    }
}
