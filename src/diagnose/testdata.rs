//! Test fixtures shared by the rule modules' unit tests.

use crate::diagnose::finding::Finding;
use crate::evidence::*;
use crate::probe::plan::{AddressReport, ErrorClass, KeyMatch, OutcomeCount};

/// A certificate stuck in the self check with a healthy solver: the base fixture.
pub fn stuck() -> (CertificateEvidence, ClusterEvidence) {
    let solver = Solver {
        http01: Some(Http01Solver {
            ingress: Some(Http01Ingress {
                ingress_class_name: Some("nginx".into()),
                ..Default::default()
            }),
            gateway_http_route: None,
        }),
        ..Default::default()
    };
    let cert = CertificateEvidence {
        namespace: "shop".into(),
        name: "web".into(),
        dns_names: vec!["shop.example.com".into()],
        issuer_ref: IssuerRef { name: "le".into(), kind: Some("ClusterIssuer".into()), group: None },
        conditions: vec![Condition { type_: "Ready".into(), status: "False".into(), ..Default::default() }],
        issuer: Some(IssuerEvidence {
            kind: "ClusterIssuer".into(),
            name: "le".into(),
            conditions: vec![Condition { type_: "Ready".into(), status: "True".into(), ..Default::default() }],
            acme: Some(AcmeIssuer {
                server: "https://acme-v02.api.letsencrypt.org/directory".into(),
                email: None,
                solvers: vec![solver.clone()],
            }),
            namespace: None,
        }),
        request: Some(RequestEvidence { name: "web-1".into(), ..Default::default() }),
        order: Some(OrderEvidence { name: "web-1-123".into(), state: "pending".into(), ..Default::default() }),
        challenges: vec![ChallengeEvidence {
            name: "web-1-123-456".into(),
            dns_name: "shop.example.com".into(),
            type_: "HTTP-01".into(),
            token: "tok".into(),
            key: "tok.thumb".into(),
            solver,
            processing: true,
            presented: true,
            state: "pending".into(),
            reason: Some("Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'".into()),
            solver_pods: vec![PodEvidence {
                namespace: "shop".into(),
                name: "cm-acme-http-solver-abc".into(),
                phase: "Running".into(),
                ready: true,
                args_match: true,
                ..Default::default()
            }],
            solver_services: vec![ServiceEvidence {
                namespace: "shop".into(),
                name: "cm-acme-http-solver-svc".into(),
                type_: "NodePort".into(),
                ready_endpoints: 1,
                ..Default::default()
            }],
            solver_ingresses: vec![IngressEvidence {
                namespace: "shop".into(),
                name: "cm-acme-http-solver-ing".into(),
                class_name: Some("nginx".into()),
                lb_addresses: vec!["203.0.113.10".into()],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let cluster = ClusterEvidence {
        cert_manager_installed: true,
        gateway_api_installed: true,
        ingress_classes: vec![IngressClassEvidence {
            name: "nginx".into(),
            controller: "k8s.io/ingress-nginx".into(),
            is_default: true,
        }],
        data_planes: vec![DataPlaneEvidence {
            kind: "ingress-controller".into(),
            namespace: "ingress-nginx".into(),
            name: "ingress-nginx-controller".into(),
            controller: Some("k8s.io/ingress-nginx".into()),
            product: Some("ingress-nginx".into()),
            ingress_classes: vec!["nginx".into()],
            ready_replicas: Some(2),
            services: vec![ServiceEvidence {
                namespace: "ingress-nginx".into(),
                name: "ingress-nginx-controller".into(),
                type_: "LoadBalancer".into(),
                lb_addresses: vec!["203.0.113.10".into()],
                external_traffic_policy: Some("Cluster".into()),
                ready_endpoints: 2,
                ports: vec![ServicePortEvidence {
                    name: Some("http".into()),
                    port: 80,
                    target_port: Some("http".into()),
                    node_port: Some(30080),
                    protocol: "TCP".into(),
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    (cert, cluster)
}

/// The first challenge of a fixture certificate.
pub fn ch(cert: &mut CertificateEvidence) -> &mut ChallengeEvidence {
    &mut cert.challenges[0]
}

/// [`stuck`], with the cert-manager controller (v1.19.1) known.
pub fn stuck_with_controller() -> (CertificateEvidence, ClusterEvidence) {
    let (cert, mut cluster) = crate::diagnose::testdata::stuck();
    cluster.cert_manager = Some(CertManagerEvidence {
        namespace: "cert-manager".into(),
        deployment: "cert-manager".into(),
        image: Some("quay.io/jetstack/cert-manager-controller:v1.19.1".into()),
        version: Some("v1.19.1".into()),
        ..Default::default()
    });
    (cert, cluster)
}

/// One outcome: `km == Exact` passes both rule sets, `Trimmed` passes the CA only.
pub fn oc(
    status: Option<u16>,
    err: Option<ErrorClass>,
    who: &str,
    km: KeyMatch,
    count: u32,
) -> OutcomeCount {
    let pass = km == KeyMatch::Exact;
    OutcomeCount {
        status,
        error_class: err,
        responder: who.into(),
        key_match: km,
        cert_manager_pass: pass,
        acme_pass: pass || km == KeyMatch::Trimmed,
        count,
        ..Default::default()
    }
}

/// An address with its outcomes and the pass counts they imply.
pub fn addr(ip: &str, outcomes: Vec<OutcomeCount>) -> AddressReport {
    let attempts = outcomes.iter().map(|o| o.count).sum();
    AddressReport {
        address: ip.into(),
        family: if ip.contains(':') { "ipv6" } else { "ipv4" }.into(),
        attempts,
        cert_manager_passes: outcomes
            .iter()
            .filter(|o| o.cert_manager_pass)
            .map(|o| o.count)
            .sum(),
        acme_passes: outcomes
            .iter()
            .filter(|o| o.acme_pass)
            .map(|o| o.count)
            .sum(),
        outcomes,
        ..Default::default()
    }
}

/// An address where all 66 attempts get the key from nginx (200, exact body).
pub fn serving(ip: &str) -> AddressReport {
    addr(ip, vec![oc(Some(200), None, "nginx", KeyMatch::Exact, 66)])
}

/// An address where all 66 attempts fail with `class`, without an answer.
pub fn failing(ip: &str, class: ErrorClass) -> AddressReport {
    addr(
        ip,
        vec![oc(None, Some(class), "-", KeyMatch::NotApplicable, 66)],
    )
}

/// Test helper: every finding a rule fixture produces is complete — a summary, at least one
/// non-empty evidence line, a fix, and a docs link for its code. Rule tests call it on every
/// finding they look at.
pub(crate) fn assert_complete(findings: &[Finding]) {
    for f in findings {
        assert!(!f.summary.trim().is_empty(), "{}: empty summary", f.code);
        assert!(
            !f.evidence.is_empty() && f.evidence.iter().all(|e| !e.trim().is_empty()),
            "{}: no evidence: {f:?}",
            f.code
        );
        assert!(!f.fix.trim().is_empty(), "{}: no fix: {f:?}", f.code);
        assert!(f.docs.ends_with(&format!("/{}.md", f.code)), "{}", f.docs);
    }
}
