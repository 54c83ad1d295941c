//! assemble() against the scenario fixtures in tests/fixtures/chain (pure, no server).

use super::*;
use crate::evidence::*;
use serde_json::{Value, json};

fn load(scenario: &str) -> Vec<Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/chain")
        .join(scenario);
    let mut out = Vec::new();
    for f in ["chain.yaml", "cluster.yaml"] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
        out.extend(docs.into_iter().filter(|d| !d.is_null()));
    }
    out
}

fn scope_one(name: &str) -> Scope {
    Scope {
        namespace: "shop".into(),
        names: vec![name.into()],
        ..Default::default()
    }
}

fn run(scenario: &str) -> (Vec<CertificateEvidence>, ClusterEvidence) {
    assemble(&Snapshot::from_objects(scope_one("web"), load(scenario))).unwrap()
}

fn one(scenario: &str) -> (CertificateEvidence, ClusterEvidence) {
    let (mut certs, cluster) = run(scenario);
    assert_eq!(certs.len(), 1, "{scenario}");
    (certs.remove(0), cluster)
}

#[test]
fn healthy_certificate_has_nothing_in_flight() {
    let (c, cl) = one("healthy");
    assert_eq!(c.revision, Some(1));
    assert!(c.request.is_none() && c.order.is_none() && c.challenges.is_empty());
    assert_eq!(condition(&c.conditions, "Ready").unwrap().status, "True");
    let iss = c.issuer.as_ref().unwrap();
    assert_eq!(
        (iss.kind.as_str(), iss.name.as_str()),
        ("ClusterIssuer", "letsencrypt")
    );
    assert_eq!(iss.acme.as_ref().unwrap().solvers.len(), 1);
    assert!(c.issuer_problem.is_none());

    assert!(cl.cert_manager_installed && cl.gateway_api_installed);
    assert_eq!(
        cl.ingress_classes,
        vec![IngressClassEvidence {
            name: "nginx".into(),
            controller: "k8s.io/ingress-nginx".into(),
            is_default: true
        }]
    );
    let dp = &cl.data_planes[0];
    assert_eq!(dp.product.as_deref(), Some("ingress-nginx"));
    assert_eq!(dp.controller.as_deref(), Some("k8s.io/ingress-nginx"));
    assert_eq!(dp.ingress_classes, vec!["nginx"]);
    assert!(!dp.watches_classless);
    assert_eq!(dp.ready_replicas, Some(2));
    assert_eq!(
        dp.services.len(),
        1,
        "the admission Service is not a data plane"
    );
    let s = &dp.services[0];
    assert_eq!(
        (s.type_.as_str(), s.lb_addresses.as_slice()),
        ("LoadBalancer", &["203.0.113.10".to_string()][..])
    );
    assert_eq!(s.external_traffic_policy.as_deref(), Some("Local"));
    assert_eq!(s.ready_endpoints, 2);
    let cm = cl.cert_manager.as_ref().unwrap();
    assert_eq!(cm.version.as_deref(), Some("v1.19.1"));
    assert_eq!(
        (cm.namespace.as_str(), cm.deployment.as_str()),
        ("cert-manager", "cert-manager")
    );
    assert!(!cm.gateway_api_enabled);
    assert_eq!(cm.dns_policy.as_deref(), Some("ClusterFirst"));
    assert!(cl.unreadable.is_empty(), "{:?}", cl.unreadable);

    // --all keeps only certificates that are not Ready.
    let all = Scope {
        namespace: "shop".into(),
        all: true,
        ..Default::default()
    };
    let (certs, _) = assemble(&Snapshot::from_objects(all, load("healthy"))).unwrap();
    assert!(certs.is_empty());
}

#[test]
fn self_check_404_walks_the_chain() {
    let (c, _) = one("selfcheck-404");
    let req = c.request.as_ref().unwrap();
    assert_eq!((req.name.as_str(), req.revision), ("web-1", Some(1)));
    assert!(c.duplicate_requests.is_empty());
    let o = c.order.as_ref().unwrap();
    assert_eq!(
        (o.name.as_str(), o.state.as_str()),
        ("web-1-1234567890", "pending")
    );
    assert_eq!(o.authorizations.len(), 2);
    let www = o
        .authorizations
        .iter()
        .find(|a| a.identifier == "www.example.com")
        .unwrap();
    assert_eq!(
        www.initial_state.as_deref(),
        Some("valid"),
        "already authorized: no challenge"
    );
    assert_eq!(c.challenges.len(), 1);
    let ch = &c.challenges[0];
    assert_eq!(ch.dns_name, "shop.example.com");
    assert!(ch.is_http01() && ch.processing && ch.presented);
    assert_eq!(
        ch.reason.as_deref(),
        Some("Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'")
    );
    assert_eq!(
        ch.solver
            .http01
            .as_ref()
            .unwrap()
            .ingress
            .as_ref()
            .unwrap()
            .ingress_class_name
            .as_deref(),
        Some("nginx")
    );

    // The stale pod has the same identity labels but another controller: not picked.
    assert_eq!(ch.solver_pods.len(), 1);
    let p = &ch.solver_pods[0];
    assert_eq!(p.name, "cm-acme-http-solver-x7k2p");
    assert!(p.ready && p.args_match);
    assert_eq!(p.phase, "Running");
    assert_eq!(p.pod_ip.as_deref(), Some("10.244.1.17"));

    let s = &ch.solver_services[0];
    // The Service selects by labels only, so the stale pod is an endpoint too (as in a cluster).
    assert_eq!(
        (s.type_.as_str(), s.ready_endpoints, s.not_ready_endpoints),
        ("NodePort", 2, 0)
    );
    assert_eq!(s.endpoint_addresses, vec!["10.244.1.17", "10.244.2.9"]);
    assert!(!s.endpoints_unknown);

    let i = &ch.solver_ingresses[0];
    assert_eq!(i.class_name.as_deref(), Some("nginx"));
    assert!(!i.edit_in_place);
    assert_eq!(i.lb_addresses, vec!["203.0.113.10"]);
    assert_eq!(
        i.rules[0].path,
        format!("/.well-known/acme-challenge/{}", ch.token)
    );
    assert_eq!(i.rules[0].path_type.as_deref(), Some("Exact"));
    assert_eq!(
        (i.rules[0].service.as_deref(), i.rules[0].port),
        (Some(s.name.as_str()), Some(8089))
    );
    assert_eq!(
        i.relevant_annotations
            .get("nginx.ingress.kubernetes.io/whitelist-source-range")
            .map(String::as_str),
        Some("0.0.0.0/0,::/0")
    );
    assert!(ch.solver_routes.is_empty());
}

#[test]
fn every_self_check_wording_is_carried() {
    for (scenario, needle) in [
        ("selfcheck-404", "wrong status code '404'"),
        (
            "selfcheck-timeout",
            "Client.Timeout exceeded while awaiting headers",
        ),
        ("selfcheck-refused", "connect: connection refused"),
        ("selfcheck-nxdomain", "no such host"),
        ("selfcheck-mismatch-old", "but got: <html>"),
        ("selfcheck-mismatch-new", "when querying endpoint"),
    ] {
        let (c, _) = one(scenario);
        let reason = c.challenges[0].reason.clone().unwrap_or_default();
        assert!(
            reason.starts_with("Waiting for HTTP-01 challenge propagation: "),
            "{scenario}: {reason}"
        );
        assert!(reason.contains(needle), "{scenario}: {reason}");
    }
}

#[test]
fn renewal_picks_the_request_for_the_next_revision() {
    let (c, _) = one("selfcheck-timeout");
    assert_eq!(c.revision, Some(2));
    let req = c.request.as_ref().unwrap();
    assert_eq!(
        (req.name.as_str(), req.revision),
        ("web-3", Some(3)),
        "web-2 is history"
    );
    assert_eq!(c.challenges.len(), 1);
}

#[test]
fn requests_must_match_owner_and_revision() {
    let mut objs = load("selfcheck-404");
    for o in objs.iter_mut() {
        if o["kind"] == "CertificateRequest" {
            o["metadata"]["ownerReferences"][0]["uid"] = json!("uid-someone-else");
        }
    }
    let (c, _) = one_from(objs.clone());
    assert!(c.request.is_none() && c.challenges.is_empty());

    let mut objs = load("selfcheck-404");
    let mut dup = Value::Null;
    for o in objs.iter_mut() {
        if o["kind"] == "CertificateRequest" {
            dup = o.clone();
            o["metadata"]["annotations"]["cert-manager.io/certificate-revision"] = json!("7");
        }
    }
    let objs2 = objs.clone();
    let (c, _) = one_from(objs);
    assert!(
        c.request.is_none(),
        "revision 7 is not the next revision (1)"
    );

    // Two requests for the same revision: the newest is taken, the other is reported.
    dup["metadata"]["name"] = json!("web-1-dup");
    dup["metadata"]["uid"] = json!("uid-web-1-dup");
    dup["metadata"]["creationTimestamp"] = json!("2026-11-28T06:00:00Z");
    let mut objs = objs2;
    objs.push(dup);
    for o in objs.iter_mut() {
        if o["kind"] == "CertificateRequest" && o["metadata"]["name"] == "web-1" {
            o["metadata"]["annotations"]["cert-manager.io/certificate-revision"] = json!("1");
        }
    }
    let (c, _) = one_from(objs);
    assert_eq!(c.request.as_ref().unwrap().name, "web-1-dup");
    assert_eq!(c.duplicate_requests, vec!["web-1"]);
}

#[test]
fn wildcard_with_http01_only_issuer_has_no_challenge() {
    let (mut certs, _) = assemble(&Snapshot::from_objects(
        scope_one("wild"),
        load("wildcard-http01-only"),
    ))
    .unwrap();
    let c = certs.remove(0);
    let o = c.order.as_ref().unwrap();
    assert_eq!(o.authorizations.len(), 1);
    let a = &o.authorizations[0];
    assert!(a.wildcard);
    assert_eq!(a.challenge_types, vec!["dns-01"]);
    assert!(c.challenges.is_empty());
    assert_eq!(c.dns_names, vec!["*.example.com"]);
}

#[test]
fn ingress_class_unserved() {
    let (c, cl) = one("ingress-class-unserved");
    let i = &c.challenges[0].solver_ingresses[0];
    assert_eq!(i.class_name.as_deref(), Some("public"));
    assert!(i.lb_addresses.is_empty());
    assert!(cl.ingress_classes.iter().all(|k| k.name != "public"));
    assert!(
        cl.data_planes
            .iter()
            .all(|d| !d.ingress_classes.contains(&"public".to_string()))
    );
}

#[test]
fn solver_pod_image_pull_backoff() {
    let (c, _) = one("pod-imagepullbackoff");
    let ch = &c.challenges[0];
    let p = &ch.solver_pods[0];
    assert_eq!(p.phase, "Pending");
    assert!(!p.ready);
    assert_eq!(p.waiting_reason.as_deref(), Some("ImagePullBackOff"));
    assert!(
        p.waiting_message
            .as_deref()
            .unwrap()
            .contains("cert-manager-acmesolver")
    );
    assert_eq!(ch.solver_services[0].ready_endpoints, 0);
}

#[test]
fn service_without_endpoints() {
    let (c, _) = one("service-no-endpoints");
    let s = &c.challenges[0].solver_services[0];
    assert_eq!((s.ready_endpoints, s.not_ready_endpoints), (0, 1));
    assert!(s.endpoint_addresses.is_empty());
    assert!(!s.endpoints_unknown);
}

#[test]
fn httproute_not_accepted() {
    let (c, cl) = one("httproute-not-accepted");
    let ch = &c.challenges[0];
    assert!(ch.solver_ingresses.is_empty());
    let r = &ch.solver_routes[0];
    assert_eq!(r.hostnames, vec!["shop.example.com"]);
    assert_eq!(r.parent_refs[0].name, "shared");
    let parent = &r.parents[0];
    assert_eq!(parent.controller_name, "io.cilium/gateway-controller");
    let acc = condition(&parent.conditions, "Accepted").unwrap();
    assert_eq!(
        (acc.status.as_str(), acc.reason.as_deref()),
        ("False", Some("NotAllowedByListeners"))
    );

    assert!(cl.cert_manager.as_ref().unwrap().gateway_api_enabled);
    let g = &cl.gateways[0];
    assert_eq!(
        (
            g.namespace.as_str(),
            g.name.as_str(),
            g.gateway_class.as_str()
        ),
        ("infra", "shared", "cilium")
    );
    assert_eq!(g.listeners[0].allowed_routes_from.as_deref(), Some("Same"));
    assert_eq!(g.addresses, vec!["203.0.113.20"]);
    let dp = cl.data_planes.iter().find(|d| d.kind == "gateway").unwrap();
    assert_eq!(dp.product.as_deref(), Some("cilium"));
    assert_eq!(
        dp.controller.as_deref(),
        Some("io.cilium/gateway-controller")
    );
    assert_eq!(dp.services[0].name, "cilium-gateway-shared");
    assert!(
        dp.services[0].endpoints_unknown,
        "no selector: cilium manages the endpoints"
    );
}

#[test]
fn rate_limited_order() {
    let (c, _) = one("rate-limited");
    let o = c.order.as_ref().unwrap();
    assert_eq!(o.state, "errored");
    assert!(
        o.reason
            .as_deref()
            .unwrap()
            .starts_with("429 urn:ietf:params:acme:error:rateLimited")
    );
    let req = c.request.as_ref().unwrap();
    assert!(
        condition(&req.conditions, "Ready")
            .unwrap()
            .message
            .as_deref()
            .unwrap()
            .contains("rateLimited")
    );
    assert_eq!(c.failed_issuance_attempts, Some(3));
    assert!(c.challenges.is_empty());
}

#[test]
fn founding_incident_has_two_data_planes_on_port_80() {
    let (c, cl) = one("founding-incident");
    assert!(c.challenges[0].reason.as_deref().unwrap().contains("'404'"));
    let on80: Vec<(&str, Option<&str>)> = cl
        .data_planes
        .iter()
        .filter(|d| {
            d.services
                .iter()
                .any(|s| s.ports.iter().any(|p| p.port == 80))
        })
        .map(|d| (d.kind.as_str(), d.product.as_deref()))
        .collect();
    assert_eq!(
        on80,
        vec![
            ("ingress-controller", Some("ingress-nginx")),
            ("gateway", Some("cilium"))
        ]
    );
}

#[test]
fn malformed_challenge_names_object_and_field() {
    let err = assemble(&Snapshot::from_objects(scope_one("web"), load("malformed")))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Challenge shop/web-1-1234567890-2000000001 is malformed"),
        "{err}"
    );
    assert!(
        err.contains("field spec.token: invalid type: integer `12345`"),
        "{err}"
    );
    assert!(err.contains("kubectl get challenges.acme.cert-manager.io web-1-1234567890-2000000001 -n shop -o yaml"), "{err}");

    // A malformed object that is not on the chain is skipped and said.
    let mut objs = load("malformed");
    for o in objs.iter_mut() {
        if o["kind"] == "Challenge" {
            o["spec"]["token"] = json!("tok1-shop-example-com-Zx81aQ");
        }
    }
    let (certs, cl) = assemble(&Snapshot::from_objects(scope_one("web"), objs)).unwrap();
    assert_eq!(certs[0].challenges[0].solver_pods.len(), 1);
    assert!(
        cl.unreadable
            .iter()
            .any(|u| u.contains("Pod shop/junk is malformed: field spec.containers")),
        "{:?}",
        cl.unreadable
    );
}

#[test]
fn malformed_certificate_in_scope_is_an_error_out_of_scope_is_not() {
    let mut objs = load("healthy");
    let mut other = objs[0].clone();
    other["metadata"]["name"] = json!("other");
    other["spec"]["dnsNames"] = json!("not-a-list");
    objs.push(other);
    assert!(assemble(&Snapshot::from_objects(scope_one("web"), objs.clone())).is_ok());
    let err = assemble(&Snapshot::from_objects(scope_one("other"), objs))
        .unwrap_err()
        .to_string();
    assert!(err.contains("Certificate shop/other is malformed"), "{err}");
    assert!(err.contains("field spec.dnsNames"), "{err}");
}

#[test]
fn edit_in_place_ingress_by_name() {
    let mut objs = load("selfcheck-404");
    let token = "tok1-shop-example-com-Zx81aQ";
    for o in objs.iter_mut() {
        if o["kind"] == "Challenge" {
            o["spec"]["solver"] = json!({"http01": {"ingress": {"name": "shop"}}});
        }
    }
    objs.push(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "shop", "namespace": "shop", "uid": "uid-shop-ing",
            "annotations": {"nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
                            "kubernetes.io/ingress.class": "nginx", "unrelated": "x"}},
        "spec": {"tls": [{"hosts": ["shop.example.com"], "secretName": "web-secret"}], "rules": [
            {"host": "shop.example.com", "http": {"paths": [
                {"path": format!("/.well-known/acme-challenge/{token}"), "pathType": "ImplementationSpecific",
                 "backend": {"service": {"name": "cm-acme-http-solver-q9v4d", "port": {"number": 8089}}}},
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "shop", "port": {"name": "http"}}}}]}},
            {"host": "other.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "o", "port": {"number": 80}}}}]}}]},
    }));
    let (c, _) = one_from(objs);
    let edited: Vec<&IngressEvidence> = c.challenges[0]
        .solver_ingresses
        .iter()
        .filter(|i| i.edit_in_place)
        .collect();
    assert_eq!(edited.len(), 1);
    let i = edited[0];
    assert_eq!(i.name, "shop");
    assert_eq!(i.class_annotation.as_deref(), Some("nginx"));
    assert_eq!(i.rules.len(), 2, "only the rule for the challenge host");
    assert!(i.rules.iter().all(|r| r.host == "shop.example.com"));
    assert_eq!(i.rules[1].port, None, "named port");
    assert_eq!(
        i.relevant_annotations.keys().collect::<Vec<_>>(),
        vec!["nginx.ingress.kubernetes.io/force-ssl-redirect"]
    );
}

fn one_from(objs: Vec<Value>) -> (CertificateEvidence, ClusterEvidence) {
    let (mut certs, cl) = assemble(&Snapshot::from_objects(scope_one("web"), objs)).unwrap();
    (certs.remove(0), cl)
}

#[test]
fn args_mismatch_and_unschedulable() {
    let mut objs = load("selfcheck-404");
    for o in objs.iter_mut() {
        if o["kind"] == "Pod" && o["metadata"]["name"] == "cm-acme-http-solver-x7k2p" {
            o["spec"]["containers"][0]["args"][2] = json!("--token=an-older-token");
            o["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."}]);
        }
    }
    let (c, _) = one_from(objs);
    let p = &c.challenges[0].solver_pods[0];
    assert!(!p.args_match);
    assert!(
        p.unschedulable_message
            .as_deref()
            .unwrap()
            .contains("didn't match Pod's node affinity")
    );
}

#[test]
fn issuer_problems() {
    let objs: Vec<Value> = load("healthy")
        .into_iter()
        .filter(|o| o["kind"] != "ClusterIssuer")
        .collect();
    let (c, _) = one_from(objs.clone());
    assert!(c.issuer.is_none());
    assert_eq!(
        c.issuer_problem.as_deref(),
        Some("ClusterIssuer letsencrypt not found")
    );
    let mut snap = Snapshot::from_objects(scope_one("web"), objs.clone());
    snap.issuer_problems.insert(
        "ClusterIssuer letsencrypt".into(),
        "forbidden (needs get on clusterissuers.cert-manager.io)".into(),
    );
    let (certs, _) = assemble(&snap).unwrap();
    assert!(
        certs[0]
            .issuer_problem
            .as_deref()
            .unwrap()
            .contains("forbidden")
    );
    let mut objs = objs;
    objs[0]["spec"]["issuerRef"] =
        json!({"name": "vault", "kind": "VaultIssuer", "group": "example.io"});
    let (c, _) = one_from(objs);
    assert!(
        c.issuer_problem
            .as_deref()
            .unwrap()
            .contains("external issuer (example.io/VaultIssuer)")
    );
}

#[test]
fn all_namespaces_and_not_ready_filter() {
    let mut objs = load("selfcheck-404");
    objs.extend(
        load("healthy")
            .into_iter()
            .filter(|o| o["kind"] == "Certificate")
            .map(|mut o| {
                o["metadata"]["namespace"] = json!("blog");
                o["metadata"]["uid"] = json!("uid-blog-web");
                o
            }),
    );
    let scope = Scope {
        all: true,
        all_namespaces: true,
        ..Default::default()
    };
    let (certs, _) = assemble(&Snapshot::from_objects(scope, objs.clone())).unwrap();
    assert_eq!(
        certs
            .iter()
            .map(|c| (c.namespace.as_str(), c.name.as_str()))
            .collect::<Vec<_>>(),
        vec![("shop", "web")]
    );
    // Named explicitly: Ready ones are kept too.
    let scope = Scope {
        names: vec!["web".into()],
        all_namespaces: true,
        ..Default::default()
    };
    let (certs, _) = assemble(&Snapshot::from_objects(scope, objs)).unwrap();
    assert_eq!(certs.len(), 2);
}
