use super::*;
use crate::evidence::{
    AcmeIssuer, CertManagerEvidence, CertificateEvidence, ClusterEvidence, Http01GatewayRoute,
    Http01Ingress, Http01Solver, IssuerEvidence, Solver,
};
use crate::gather::Snapshot;
use crate::replay::pooled::{Planned, plan_all};
use crate::replay::stage::StageOptions;
use std::time::Duration;

const IMAGE: &str = "ghcr.io/example/kubectl-acmecheck:0.1.0";

fn issuer(http01: Http01Solver) -> IssuerEvidence {
    IssuerEvidence {
        kind: "ClusterIssuer".into(),
        name: "le".into(),
        acme: Some(AcmeIssuer {
            server: "https://acme-v02.api.letsencrypt.org/directory".into(),
            solvers: vec![Solver {
                http01: Some(http01),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn ingress(class: &str) -> Http01Solver {
    Http01Solver {
        ingress: Some(Http01Ingress {
            ingress_class_name: Some(class.into()),
            ..Default::default()
        }),
        gateway_http_route: None,
    }
}

fn gateway() -> Http01Solver {
    Http01Solver {
        ingress: None,
        gateway_http_route: Some(Http01GatewayRoute {
            parent_refs: vec![
                serde_json::from_value(json!({"name": "edge", "namespace": "gw"})).unwrap(),
            ],
            ..Default::default()
        }),
    }
}

pub(crate) fn cert(
    ns: &str,
    name: &str,
    dns: &[&str],
    http01: Http01Solver,
) -> CertificateEvidence {
    CertificateEvidence {
        namespace: ns.into(),
        name: name.into(),
        dns_names: dns.iter().map(|d| (*d).to_owned()).collect(),
        issuer: Some(issuer(http01)),
        ..Default::default()
    }
}

/// Pooled plans of `certs` (run r1, namespace ops).
pub(crate) fn planned(certs: &[CertificateEvidence]) -> Planned {
    let cluster = ClusterEvidence {
        cert_manager_installed: true,
        gateway_api_installed: true,
        cert_manager: Some(CertManagerEvidence {
            namespace: "cert-manager".into(),
            version: Some("v1.19.1".into()),
            gateway_api_enabled: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    let opts = StageOptions {
        solver_image: None,
        ready_timeout: Duration::from_secs(60),
        propagation_wait: Duration::from_secs(20),
        deadline: Duration::from_secs(300),
        user_agent: "ua".into(),
    };
    plan_all(
        certs,
        &cluster,
        &Snapshot::default(),
        &opts,
        "r1",
        "ops",
        &crate::probe::pod::PodOptions {
            image: IMAGE.into(),
            image_pull_secrets: vec!["mirror".into()],
            ..Default::default()
        },
    )
}

fn args(p: &Pooled) -> Vec<String> {
    serde_json::from_value(p.plan.shared[0]["spec"]["containers"][0]["args"].clone()).unwrap()
}

#[test]
fn ingress_solvers_of_many_namespaces_share_one_stand_in_in_the_runs_namespace() {
    let certs = vec![
        cert(
            "shop",
            "web",
            &["shop.example.test", "www.shop.example.test"],
            ingress("nginx"),
        ),
        cert("blog", "blog", &["blog.example.test"], ingress("nginx")),
        // The same name in a second Certificate: its own token on the same host.
        cert("blog", "blog2", &["blog.example.test"], ingress("nginx")),
    ];
    let p = planned(&certs);
    assert_eq!(p.pools.len(), 1);
    assert_eq!(p.objects(), 3);
    let pooled = &p.pools[0];
    assert_eq!(pooled.certs, [0, 0, 1, 2]);
    let [pod, service, route] = &pooled.plan.shared[..] else {
        panic!("{:?}", pooled.plan.shared)
    };
    for o in [pod, service, route] {
        assert_eq!(o["metadata"]["name"], "acmecheck-solver-r1-0");
        assert_eq!(o["metadata"]["namespace"], "ops");
        assert_eq!(
            o["metadata"]["labels"][SOLVER_LABEL],
            "acmecheck-solver-r1-0"
        );
        assert_eq!(o["metadata"]["labels"][RUN_ID_LABEL], "r1");
        assert_eq!(
            o["metadata"]["annotations"][DNS_NAME_ANNOTATION],
            "shop.example.test,www.shop.example.test,blog.example.test,blog.example.test"
        );
    }
    assert_eq!(pod["spec"]["containers"][0]["image"], IMAGE);
    assert_eq!(pod["spec"]["imagePullSecrets"], json!([{"name": "mirror"}]));
    let a = args(pooled);
    assert_eq!(a[..2], ["solver", "--listen-port=8089"]);
    assert_eq!(a.len(), 6);
    for (i, item) in pooled.plan.items.iter().enumerate() {
        let Decision::Replay(s) = &item.decision else {
            panic!("{item:?}")
        };
        assert_eq!(s.object_name, "acmecheck-solver-r1-0");
        assert_eq!(s.challenge_name, format!("acmecheck-solver-r1-0-{i}"));
        assert_eq!(
            a[i + 2],
            format!("--serve={}/{}/{}", s.dns_name, s.token, s.key)
        );
    }
    assert_eq!(
        service["spec"]["selector"],
        json!({SOLVER_LABEL: "acmecheck-solver-r1-0", RUN_ID_LABEL: "r1"})
    );
    let rules = route["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 4);
    assert_eq!(route["spec"]["ingressClassName"], "nginx");
    for r in rules {
        assert_eq!(
            r["http"]["paths"][0]["backend"]["service"]["name"],
            "acmecheck-solver-r1-0"
        );
    }
    assert_eq!(rules[2]["host"], "blog.example.test");
    assert_ne!(
        rules[2]["http"]["paths"][0]["path"], rules[3]["http"]["paths"][0]["path"],
        "two tokens for one host"
    );
}

#[test]
fn different_configurations_get_different_stand_ins() {
    let certs = vec![
        cert("shop", "web", &["shop.example.test"], ingress("nginx")),
        cert("blog", "blog", &["blog.example.test"], ingress("traefik")),
        cert("api", "api", &["api.example.test"], ingress("nginx")),
    ];
    let p = planned(&certs);
    assert_eq!(p.pools.len(), 2);
    assert_eq!(p.pools[0].certs, [0, 2]);
    assert_eq!(p.pools[1].certs, [1]);
    assert_eq!(
        p.pools[1].plan.shared[0]["metadata"]["name"],
        "acmecheck-solver-r1-1"
    );
}

#[test]
fn httproute_solvers_stay_in_their_namespace_sixteen_names_at_most() {
    let names: Vec<String> = (0..17).map(|i| format!("n{i}.example.test")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let certs = vec![
        cert("shop", "web", &refs, gateway()),
        cert("blog", "blog", &["blog.example.test"], gateway()),
    ];
    let p = planned(&certs);
    let sizes: Vec<(String, usize)> = p
        .pools
        .iter()
        .map(|x| (x.plan.namespace.clone(), x.plan.items.len()))
        .collect();
    assert_eq!(
        sizes,
        [("shop".into(), 16), ("shop".into(), 1), ("blog".into(), 1)]
    );
    let route = &p.pools[0].plan.shared[2];
    assert_eq!(route["kind"], "HTTPRoute");
    assert_eq!(route["spec"]["hostnames"].as_array().unwrap().len(), 16);
    let rules = route["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["matches"].as_array().unwrap().len(), 16);
    assert_eq!(rules[0]["backendRefs"][0]["name"], "acmecheck-solver-r1-0");
    assert_eq!(rules[0]["backendRefs"][0]["namespace"], "shop");
    assert_eq!(route["spec"]["parentRefs"][0]["name"], "edge");
}

#[test]
fn edit_in_place_solvers_stay_with_the_users_ingress() {
    let p = planned(&[cert(
        "shop",
        "web",
        &["shop.example.test"],
        ingress("nginx"),
    )]);
    let plan = &p.plans[0];
    let mut s = plan.stand_ins().next().unwrap().clone();
    let opts = PoolOptions {
        run_id: "r1",
        namespace: "ops",
        image: IMAGE,
        image_pull_secrets: &[],
    };
    assert_eq!(key(plan, &s, &opts).0, "ops");
    if let Some(i) = s.solver.http01.as_mut().and_then(|h| h.ingress.as_mut()) {
        i.name = Some("web".into());
    }
    assert_eq!(key(plan, &s, &opts).0, "shop");
}
