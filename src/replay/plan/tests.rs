use super::*;
use crate::evidence::{
    AcmeIssuer, CertManagerEvidence, CertificateEvidence, ChallengeEvidence, Http01GatewayRoute,
    Http01Ingress, Http01Solver, IngressEvidence, IssuerEvidence, IssuerRef, OrderEvidence,
    ParentRef, SolverSelector,
};
use crate::replay::manifest;
use serde_json::json;

fn ingress_solver(cfg: Http01Ingress) -> Solver {
    Solver {
        http01: Some(Http01Solver {
            ingress: Some(cfg),
            gateway_http_route: None,
        }),
        ..Default::default()
    }
}

fn issuer(solvers: Vec<Solver>) -> IssuerEvidence {
    IssuerEvidence {
        kind: "ClusterIssuer".into(),
        name: "letsencrypt".into(),
        acme: Some(AcmeIssuer {
            server: "https://acme-v02.api.letsencrypt.org/directory".into(),
            solvers,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn cert(names: &[&str]) -> CertificateEvidence {
    CertificateEvidence {
        namespace: "shop".into(),
        name: "web-tls".into(),
        dns_names: names.iter().map(|s| (*s).to_owned()).collect(),
        issuer_ref: IssuerRef {
            name: "letsencrypt".into(),
            kind: Some("ClusterIssuer".into()),
            group: None,
        },
        issuer: Some(issuer(vec![ingress_solver(Http01Ingress {
            ingress_class_name: Some("nginx".into()),
            ..Default::default()
        })])),
        ..Default::default()
    }
}

fn cluster() -> ClusterEvidence {
    ClusterEvidence {
        cert_manager_installed: true,
        gateway_api_installed: true,
        cert_manager: Some(CertManagerEvidence {
            namespace: "cert-manager".into(),
            deployment: "cert-manager".into(),
            version: Some("v1.19.1".into()),
            args: vec!["--enable-gateway-api".into()],
            gateway_api_enabled: true,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn opts() -> ReplayOptions {
    let fixed = ["shop.example.com", "www.example.com", "api.example.com"]
        .iter()
        .map(|n| {
            (
                (*n).to_owned(),
                Credentials {
                    token: format!("tok-{n}"),
                    key: format!("tok-{n}.thumb"),
                },
            )
        })
        .collect();
    ReplayOptions {
        run_id: "r1".into(),
        now_unix: 1_767_225_600, // 2026-01-01T00:00:00Z
        deadline: Duration::from_secs(300),
        solver_image: None,
        credentials: CredentialSource::Fixed(fixed),
    }
}

fn decisions(p: &ReplayPlan) -> Vec<(&str, Option<SkipReason>)> {
    p.items
        .iter()
        .map(|i| {
            (
                i.name.as_str(),
                match &i.decision {
                    Decision::Replay(_) => None,
                    Decision::Skip(s) => Some(s.reason),
                },
            )
        })
        .collect()
}

#[test]
fn names_follow_the_order_cert_manager_builds() {
    let mut c = cert(&["shop.example.com", "www.example.com"]);
    c.ip_addresses = vec!["192.0.2.7".into()];
    c.common_name = Some("shop.example.com".into());
    assert_eq!(
        ReplayInput::from_certificate(&c).names,
        ["shop.example.com", "www.example.com", "192.0.2.7"]
    );
    c.common_name = Some("api.example.com".into());
    assert_eq!(ReplayInput::from_certificate(&c).names.len(), 4);
    // Not a fully qualified lowercase DNS name: cert-manager leaves it out of the Order.
    c.common_name = Some("My Shop".into());
    assert_eq!(ReplayInput::from_certificate(&c).names.len(), 3);
}

#[test]
fn a_plan_renders_a_stand_in_per_name() {
    let input = ReplayInput::from_certificate(&cert(&["shop.example.com", "www.example.com"]));
    let p = plan(&input, &cluster(), &opts());
    assert_eq!(
        decisions(&p),
        [("shop.example.com", None), ("www.example.com", None)]
    );
    assert_eq!(p.deadline_at, "2026-01-01T00:05:00Z");
    assert_eq!(p.subject, "Certificate shop/web-tls");
    let s: Vec<&StandIn> = p.stand_ins().collect();
    assert_eq!(s[0].object_name, "acmecheck-solver-r1-0");
    assert_eq!(s[1].object_name, "acmecheck-solver-r1-1");
    assert_eq!(s[0].token, "tok-shop.example.com");
    assert_eq!(s[0].route_kind, RouteKind::Ingress);
    assert_eq!(s[0].route["spec"]["ingressClassName"], "nginx");
    assert_eq!(s[0].route["spec"]["rules"][0]["host"], "shop.example.com");
    assert_eq!(
        s[0].route["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
        "acmecheck-solver-r1-0"
    );
    assert_eq!(
        s[0].pod["spec"]["containers"][0]["image"],
        "quay.io/jetstack/cert-manager-acmesolver:v1.19.1"
    );
    assert_eq!(
        s[1].pod["spec"]["containers"][0]["args"],
        json!([
            "--listen-port=8089",
            "--domain=www.example.com",
            "--token=tok-www.example.com",
            "--key=tok-www.example.com.thumb"
        ])
    );
    assert_eq!(s[0].pod["metadata"]["namespace"], "shop");
    // Random credentials: fresh and different per name.
    let mut o = opts();
    o.credentials = CredentialSource::Random;
    let p = plan(&input, &cluster(), &o);
    let s: Vec<&StandIn> = p.stand_ins().collect();
    assert_ne!(s[0].token, s[1].token);
    assert_eq!(s[0].token.len(), 43);
}

#[test]
fn names_that_are_not_replayed_say_why() {
    let mut c = cert(&[
        "shop.example.com",
        "*.example.com",
        "www.example.com",
        "api.example.com",
    ]);
    c.challenges = vec![ChallengeEvidence {
        name: "web-tls-1-2-3".into(),
        dns_name: "shop.example.com".into(),
        type_: "HTTP-01".into(),
        state: "pending".into(),
        presented: true,
        ..Default::default()
    }];
    let mut dns = Solver {
        selector: Some(SolverSelector {
            dns_names: Some(vec!["api.example.com".into()]),
            ..Default::default()
        }),
        dns01: Some(json!({"cloudflare": {}})),
        ..Default::default()
    };
    c.issuer = Some(issuer(vec![
        ingress_solver(Http01Ingress::default()),
        dns.clone(),
    ]));
    let p = plan(&ReplayInput::from_certificate(&c), &cluster(), &opts());
    assert_eq!(
        decisions(&p),
        [
            ("shop.example.com", Some(SkipReason::LiveChallenge)),
            ("*.example.com", Some(SkipReason::Wildcard)),
            ("www.example.com", None),
            ("api.example.com", Some(SkipReason::Dns01)),
        ]
    );
    // The first replayed name gets index 0 even after skipped ones.
    assert_eq!(
        p.stand_ins().next().map(|s| s.object_name.as_str()),
        Some("acmecheck-solver-r1-0")
    );
    match &p.items[0].decision {
        Decision::Skip(s) => assert!(s.message.contains("Challenge web-tls-1-2-3 for shop.example.com is live (state \"pending\", presented)"), "{}", s.message),
        other => panic!("{other:?}"),
    }
    // No solver at all, no issuer, not ACME, unknown image.
    dns.selector = Some(SolverSelector {
        match_labels: Some([("team".to_owned(), "x".to_owned())].into()),
        ..Default::default()
    });
    c.issuer = Some(issuer(vec![dns]));
    c.challenges.clear();
    let p = plan(&ReplayInput::from_certificate(&c), &cluster(), &opts());
    assert_eq!(
        decisions(&p)[2],
        ("www.example.com", Some(SkipReason::NoSolver))
    );
    c.issuer = None;
    c.issuer_problem = Some("clusterissuers.cert-manager.io \"letsencrypt\" not found".into());
    let p = plan(&ReplayInput::from_certificate(&c), &cluster(), &opts());
    match &p.items[0].decision {
        Decision::Skip(s) => assert_eq!(
            (s.reason, s.message.as_str()),
            (
                SkipReason::NoIssuer,
                "clusterissuers.cert-manager.io \"letsencrypt\" not found"
            )
        ),
        other => panic!("{other:?}"),
    }
    let mut ca = issuer(vec![]);
    ca.acme = None;
    c.issuer = Some(ca);
    assert_eq!(
        decisions(&plan(
            &ReplayInput::from_certificate(&c),
            &cluster(),
            &opts()
        ))[0]
            .1,
        Some(SkipReason::NotAcme)
    );
    let c = cert(&["shop.example.com"]);
    let mut unknown = cluster();
    unknown.cert_manager = None;
    assert_eq!(
        decisions(&plan(&ReplayInput::from_certificate(&c), &unknown, &opts()))[0].1,
        Some(SkipReason::SolverImageUnknown)
    );
    let mut o = opts();
    o.solver_image = Some("registry.local/acmesolver:v1.19.1".into());
    let p = plan(&ReplayInput::from_certificate(&c), &unknown, &o);
    assert_eq!(
        p.stand_ins().next().unwrap().pod["spec"]["containers"][0]["image"],
        "registry.local/acmesolver:v1.19.1"
    );
}

#[test]
fn override_annotations_and_edit_in_place() {
    let c = cert(&["shop.example.com"]);
    let mut input = ReplayInput::from_certificate(&c);
    input.annotations = [(select::OVERRIDE_INGRESS_NAME.to_owned(), "web".to_owned())].into();
    assert_eq!(input.edit_in_place_names(), ["web"]);
    let p = plan(&input, &cluster(), &opts());
    assert_eq!(
        decisions(&p)[0].1,
        Some(SkipReason::EditInPlaceIngressMissing)
    );
    input.ingresses = vec![IngressEvidence {
        namespace: "shop".into(),
        name: "web".into(),
        class_annotation: Some("public".into()),
        ..Default::default()
    }];
    let p = plan(&input, &cluster(), &opts());
    let s = p.stand_ins().next().unwrap();
    assert_eq!(
        s.route["metadata"]["annotations"]["kubernetes.io/ingress.class"],
        "public"
    );
    assert_eq!(
        s.route["spec"].get("ingressClassName"),
        None,
        "the override cleared the issuer's ingressClassName"
    );
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("edits Ingress shop/web in place"))
    );
    input
        .annotations
        .insert(select::OVERRIDE_INGRESS_CLASS.to_owned(), "x".to_owned());
    let p = plan(&input, &cluster(), &opts());
    match &p.items[0].decision {
        Decision::Skip(s) => {
            assert_eq!(s.reason, SkipReason::InvalidSolver);
            assert!(s.message.ends_with("may not specify more than one of: name, class, ingressClassName override annotations"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn gateway_solvers_need_cert_managers_gateway_support() {
    let mut c = cert(&["shop.example.com"]);
    c.issuer = Some(issuer(vec![Solver {
        http01: Some(Http01Solver {
            ingress: None,
            gateway_http_route: Some(Http01GatewayRoute {
                parent_refs: vec![ParentRef {
                    name: "public".into(),
                    namespace: Some("gateways".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        }),
        ..Default::default()
    }]));
    let input = ReplayInput::from_certificate(&c);
    let p = plan(&input, &cluster(), &opts());
    let s = p.stand_ins().next().unwrap();
    assert_eq!(s.route_kind, RouteKind::HttpRoute);
    assert_eq!(
        s.route["spec"]["parentRefs"],
        json!([{"name": "public", "namespace": "gateways"}])
    );
    let mut off = cluster();
    if let Some(cm) = off.cert_manager.as_mut() {
        cm.args.clear();
        cm.gateway_api_enabled = false;
    }
    assert_eq!(
        decisions(&plan(&input, &off, &opts()))[0].1,
        Some(SkipReason::GatewayApiDisabled)
    );
    let mut no_crds = cluster();
    no_crds.gateway_api_installed = false;
    assert_eq!(
        decisions(&plan(&input, &no_crds, &opts()))[0].1,
        Some(SkipReason::GatewayApiDisabled)
    );
}

#[test]
fn dry_run_lists_every_object_in_creation_order() {
    let mut c = cert(&["shop.example.com", "www.example.com", "*.example.com"]);
    c.order = Some(OrderEvidence::default());
    let p = plan(&ReplayInput::from_certificate(&c), &cluster(), &opts());
    let kinds: Vec<(&str, &str)> = manifest::objects(&p)
        .iter()
        .map(|(n, o)| (*n, o["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("shop.example.com", "Pod"),
            ("www.example.com", "Pod"),
            ("shop.example.com", "Service"),
            ("www.example.com", "Service"),
            ("shop.example.com", "Ingress"),
            ("www.example.com", "Ingress"),
        ]
    );
    let yaml = manifest::yaml(&p);
    assert!(yaml.starts_with("# kubectl acmecheck replay, dry run: the objects a replay of Certificate shop/web-tls would create in namespace \"shop\" (run r1), in creation order"), "{yaml}");
    assert!(
        yaml.contains("# *.example.com: not replayed: *.example.com is a wildcard name"),
        "{yaml}"
    );
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    let docs: Vec<&serde_json::Value> = docs.iter().filter(|d| !d.is_null()).collect();
    assert_eq!(docs.len(), 6);
    assert_eq!(
        docs[0],
        &p.stand_ins().next().unwrap().pod,
        "the YAML is the rendered object"
    );
}
