//! Pure tests of [`assemble`] over the chain fixtures (tests/fixtures/chain/<scenario>/).

use super::assemble::{DOMAIN_LABEL, REVISION_ANNOTATION, adler32, assemble};
use super::snapshot::Snapshot;
use crate::diagnose::{Code, certificate};
use crate::evidence::{CertificateEvidence, ClusterEvidence};

fn load(scenario: &str) -> Result<Snapshot, crate::error::UserError> {
    let dir = format!(
        "{}/tests/fixtures/chain/{scenario}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let text = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n");
    Snapshot::from_yaml(&text)
}

fn scenario(name: &str) -> (Vec<CertificateEvidence>, ClusterEvidence) {
    assemble(&load(name).unwrap())
}

fn codes(cert: &CertificateEvidence, cluster: &ClusterEvidence) -> Vec<Code> {
    certificate::findings(&crate::diagnose::view::Certificate { cert, cluster })
        .into_iter()
        .map(|f| f.code)
        .collect()
}

#[test]
fn healthy_has_no_request_in_flight() {
    let (certs, cluster) = scenario("healthy");
    assert_eq!(certs.len(), 1);
    let c = &certs[0];
    assert_eq!((c.namespace.as_str(), c.name.as_str()), ("shop", "web"));
    assert_eq!(c.revision, Some(1));
    assert!(c.request.is_none(), "revision 1 is history, not in flight");
    assert!(c.order.is_none() && c.challenges.is_empty());
    let issuer = c.issuer.as_ref().unwrap();
    assert_eq!(issuer.kind, "ClusterIssuer");
    assert!(issuer.acme.as_ref().unwrap().server.contains("letsencrypt"));
    assert!(codes(c, &cluster).is_empty(), "{:?}", codes(c, &cluster));

    assert!(cluster.cert_manager_installed && cluster.gateway_api_installed);
    assert_eq!(cluster.ingress_classes.len(), 1);
    assert!(cluster.ingress_classes[0].is_default);
    let nginx = &cluster.data_planes[0];
    assert_eq!(nginx.product.as_deref(), Some("ingress-nginx"));
    assert_eq!(nginx.controller.as_deref(), Some("k8s.io/ingress-nginx"));
    assert_eq!(nginx.ingress_classes, ["nginx"]);
    assert!(!nginx.watches_classless);
    assert_eq!(nginx.services.len(), 1);
    let svc = &nginx.services[0];
    assert_eq!(svc.type_, "LoadBalancer");
    assert_eq!(svc.lb_addresses, ["203.0.113.10"]);
    assert_eq!(svc.external_traffic_policy.as_deref(), Some("Local"));
    assert_eq!(svc.ready_endpoints, 1);
    let cm = cluster.cert_manager.as_ref().unwrap();
    assert_eq!(cm.version.as_deref(), Some("v1.19.1"));
    assert_eq!(cm.dns_policy.as_deref(), Some("ClusterFirst"));
    assert!(!cm.gateway_api_enabled);
    // The Deployment's selector: the probe pod prefers the node of a pod with these labels.
    assert_eq!(
        cm.pod_labels
            .get("app.kubernetes.io/component")
            .map(String::as_str),
        Some("controller")
    );
}

#[test]
fn selfcheck_404_walks_the_whole_chain() {
    let (certs, cluster) = scenario("selfcheck-404");
    let c = &certs[0];
    let req = c.request.as_ref().unwrap();
    assert_eq!((req.name.as_str(), req.revision), ("web-1", Some(1)));
    let order = c.order.as_ref().unwrap();
    assert_eq!(order.state, "pending");
    assert_eq!(order.authorizations.len(), 2);
    assert_eq!(
        order.authorizations[0].challenge_types,
        ["http-01", "dns-01", "tls-alpn-01"]
    );
    assert_eq!(c.challenges.len(), 2);
    for ch in &c.challenges {
        assert!(ch.is_http01() && ch.processing && ch.presented);
        assert_eq!(ch.solver_pods.len(), 1, "{}", ch.name);
        let pod = &ch.solver_pods[0];
        assert!(pod.ready && pod.args_match && pod.phase == "Running");
        assert_eq!(ch.solver_services.len(), 1);
        let svc = &ch.solver_services[0];
        assert_eq!((svc.ready_endpoints, svc.not_ready_endpoints), (1, 0));
        assert_eq!(svc.endpoint_addresses, [pod.pod_ip.clone().unwrap()]);
        assert_eq!(svc.type_, "NodePort");
        assert_eq!(ch.solver_ingresses.len(), 1);
        let ing = &ch.solver_ingresses[0];
        assert_eq!(ing.class_name.as_deref(), Some("nginx"));
        assert_eq!(ing.lb_addresses, ["203.0.113.10"]);
        assert_eq!(
            ing.relevant_annotations
                .get("nginx.ingress.kubernetes.io/whitelist-source-range")
                .map(String::as_str),
            Some("0.0.0.0/0,::/0")
        );
        assert_eq!(ing.rules[0].host, ch.dns_name);
        assert_eq!(
            ing.rules[0].path,
            format!("/.well-known/acme-challenge/{}", ch.token)
        );
    }
    // Each challenge got its own pod (labels differ by dnsName).
    assert_ne!(
        c.challenges[0].solver_pods[0].name,
        c.challenges[1].solver_pods[0].name
    );
    assert!(codes(c, &cluster).contains(&Code::SelfCheckFailing));
}

#[test]
fn connection_error_scenarios_carry_the_reason() {
    for (name, needle) in [
        ("selfcheck-timeout", "context deadline exceeded"),
        ("selfcheck-refused", "connection refused"),
        ("selfcheck-nosuchhost", "no such host"),
    ] {
        let (certs, cluster) = scenario(name);
        let ch = &certs[0].challenges[0];
        assert!(ch.reason.as_deref().unwrap().contains(needle), "{name}");
        assert!(
            codes(&certs[0], &cluster).contains(&Code::SelfCheckFailing),
            "{name}"
        );
    }
}

#[test]
fn body_mismatch_old_and_new_wording() {
    let (certs, _) = scenario("body-mismatch");
    assert_eq!(certs.len(), 2);
    let by_name = |n: &str| certs.iter().find(|c| c.name == n).unwrap();
    let new = &by_name("web").challenges[0];
    assert!(
        new.reason
            .as_deref()
            .unwrap()
            .contains("did not get expected response \"")
    );
    let old = &by_name("web-legacy").challenges[0];
    assert!(old.reason.as_deref().unwrap().contains("but got: <html>"));
    assert_eq!(old.dns_name, "shop.example.com");
    assert_eq!(old.solver_pods.len(), 1);
}

#[test]
fn wildcard_offers_only_dns01() {
    let (certs, cluster) = scenario("wildcard-http01-only");
    let c = &certs[0];
    let a = &c.order.as_ref().unwrap().authorizations[0];
    assert!(a.wildcard);
    assert_eq!(a.challenge_types, ["dns-01"]);
    assert!(c.challenges.is_empty());
    assert!(codes(c, &cluster).contains(&Code::WildcardNeedsDns01));
}

#[test]
fn class_unserved() {
    let (certs, cluster) = scenario("class-unserved");
    let ing = &certs[0].challenges[0].solver_ingresses[0];
    assert_eq!(ing.class_name.as_deref(), Some("public"));
    assert!(ing.lb_addresses.is_empty());
    assert!(codes(&certs[0], &cluster).contains(&Code::IngressClassUnserved));
}

#[test]
fn image_pull_backoff() {
    let (certs, cluster) = scenario("image-pull-backoff");
    let ch = &certs[0].challenges[0];
    let pod = &ch.solver_pods[0];
    assert_eq!(pod.phase, "Pending");
    assert!(!pod.ready);
    assert_eq!(pod.waiting_reason.as_deref(), Some("ImagePullBackOff"));
    assert!(
        pod.waiting_message
            .as_deref()
            .unwrap()
            .contains("Back-off pulling image")
    );
    let svc = &ch.solver_services[0];
    assert_eq!((svc.ready_endpoints, svc.not_ready_endpoints), (0, 1));
    assert!(codes(&certs[0], &cluster).contains(&Code::SolverPodNotRunning));
}

#[test]
fn no_endpoints() {
    let (certs, cluster) = scenario("no-endpoints");
    let ch = &certs[0].challenges[0];
    assert_eq!(ch.solver_pods[0].phase, "Running");
    assert!(!ch.solver_pods[0].ready);
    let svc = &ch.solver_services[0];
    assert_eq!((svc.ready_endpoints, svc.not_ready_endpoints), (0, 1));
    assert!(svc.endpoint_addresses.is_empty());
    assert!(codes(&certs[0], &cluster).contains(&Code::SolverUnreachable));
}

#[test]
fn httproute_not_accepted() {
    let (certs, cluster) = scenario("httproute-not-accepted");
    let ch = &certs[0].challenges[0];
    assert!(ch.solver_ingresses.is_empty());
    assert_eq!(ch.solver_routes.len(), 1);
    let accepted = &ch.solver_routes[0].parents[0].conditions[0];
    assert_eq!(
        (accepted.status.as_str(), accepted.reason.as_deref()),
        ("False", Some("NotAllowedByListeners"))
    );
    assert!(cluster.cert_manager.as_ref().unwrap().gateway_api_enabled);
    let gw = &cluster.gateways[0];
    assert_eq!(
        (gw.namespace.as_str(), gw.name.as_str()),
        ("infra", "public")
    );
    assert_eq!(gw.listeners[0].allowed_routes_from.as_deref(), Some("Same"));
    let plane = cluster
        .data_planes
        .iter()
        .find(|d| d.kind == "gateway")
        .unwrap();
    assert_eq!(plane.product.as_deref(), Some("envoy-gateway"));
    assert_eq!(plane.services[0].namespace, "envoy-gateway-system");
    assert_eq!(plane.services[0].lb_addresses, ["198.51.100.20"]);
    assert!(codes(&certs[0], &cluster).contains(&Code::HttprouteNotAttached));
}

#[test]
fn rate_limited() {
    let (certs, cluster) = scenario("rate-limited");
    let c = &certs[0];
    assert_eq!(c.failed_issuance_attempts, Some(3));
    let order = c.order.as_ref().unwrap();
    assert_eq!(order.state, "errored");
    assert!(order.reason.as_deref().unwrap().contains("rateLimited"));
    assert!(codes(c, &cluster).contains(&Code::RateLimited));
}

#[test]
fn founding_incident_sees_both_data_planes() {
    let (certs, cluster) = scenario("founding-incident");
    assert_eq!(certs[0].challenges.len(), 1);
    let addrs: Vec<(String, Vec<String>)> = cluster
        .data_planes
        .iter()
        .map(|d| {
            (
                format!("{}:{}", d.kind, d.product.clone().unwrap_or_default()),
                d.services
                    .iter()
                    .flat_map(|s| s.lb_addresses.clone())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        addrs,
        [
            (
                "ingress-controller:ingress-nginx".to_owned(),
                vec!["203.0.113.10".to_owned()]
            ),
            ("gateway:cilium".to_owned(), vec!["203.0.113.20".to_owned()]),
        ]
    );
    let gw_svc = &cluster.data_planes[1].services[0];
    assert!(gw_svc.selector.is_empty());
    assert!(gw_svc.ports.iter().any(|p| p.port == 80));
}

#[test]
fn malformed_object_is_named_with_its_field() {
    let err = load("malformed").unwrap_err().to_string();
    assert!(
        err.contains("Challenge shop/web-1-3571442311-2617004231 is malformed"),
        "{err}"
    );
    assert!(err.contains("spec.token"), "{err}");
    assert!(err.contains("expected a string"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Linking rules, by editing the fixtures
// ---------------------------------------------------------------------------------------------

#[test]
fn request_is_matched_by_owner_and_next_revision() {
    let mut snap = load("selfcheck-404").unwrap();
    // Revision 1 issued: the request for revision 1 is history now.
    snap.certificates[0].status.revision = Some(1);
    let (certs, _) = assemble(&snap);
    assert!(certs[0].request.is_none() && certs[0].challenges.is_empty());

    // A request for revision 2 owned by the certificate is the one in flight.
    let mut next = snap.requests[0].clone();
    next.metadata.name = Some("web-2".into());
    next.metadata.uid = Some("cr-2".into());
    next.metadata
        .annotations
        .get_or_insert_default()
        .insert(REVISION_ANNOTATION.into(), "2".into());
    snap.requests.push(next.clone());
    let (certs, _) = assemble(&snap);
    assert_eq!(certs[0].request.as_ref().unwrap().name, "web-2");
    assert!(certs[0].duplicate_requests.is_empty());

    // Same revision but owned by another certificate: not ours.
    let mut foreign = next.clone();
    foreign.metadata.name = Some("other-2".into());
    if let Some(refs) = foreign.metadata.owner_references.as_mut() {
        refs[0].uid = "another-certificate".into();
    }
    snap.requests.push(foreign);
    let (certs, _) = assemble(&snap);
    assert!(certs[0].duplicate_requests.is_empty());

    // Two requests for revision 2: both reported.
    let mut dup = next;
    dup.metadata.name = Some("web-2-dup".into());
    snap.requests.push(dup);
    let (certs, _) = assemble(&snap);
    assert_eq!(certs[0].duplicate_requests.len(), 2);
}

#[test]
fn solver_resources_need_the_owner_uid_and_the_labels() {
    let mut snap = load("selfcheck-404").unwrap();
    let ch_name = snap.challenges[0].name().to_owned();
    // A pod with the same identity labels but owned by another Challenge: not picked.
    let mut foreign = snap.pods[0].clone();
    foreign.metadata.name = Some("cm-acme-http-solver-other".into());
    if let Some(refs) = foreign.metadata.owner_references.as_mut() {
        refs[0].uid = "some-other-challenge".into();
    }
    snap.pods.push(foreign);
    // A pod owned by the Challenge whose labels are for another name: not picked either.
    let mut stale = snap.pods[0].clone();
    stale.metadata.name = Some("cm-acme-http-solver-stale".into());
    stale
        .metadata
        .labels
        .get_or_insert_default()
        .insert(DOMAIN_LABEL.into(), adler32(b"old.example.com").to_string());
    snap.pods.push(stale);
    let (certs, _) = assemble(&snap);
    let ch = certs[0]
        .challenges
        .iter()
        .find(|c| c.name == ch_name)
        .unwrap();
    let names: Vec<_> = ch.solver_pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["cm-acme-http-solver-7x2kq"]);
    // The foreign pod has the Service's labels, so it counts as an endpoint (as in Kubernetes).
    assert_eq!(ch.solver_services[0].ready_endpoints, 2);
}

#[test]
fn stale_pod_args_are_flagged() {
    let mut snap = load("selfcheck-404").unwrap();
    let spec = snap.pods[0].spec.as_mut().unwrap();
    spec.containers[0].args = Some(vec![
        "--listen-port=8089".into(),
        "--domain=example.com".into(),
        "--token=oldtoken".into(),
        "--key=oldtoken.thumb".into(),
    ]);
    let (certs, _) = assemble(&snap);
    let pod = &certs[0].challenges[0].solver_pods[0];
    assert!(!pod.args_match);
}

#[test]
fn edit_in_place_ingress_is_found_by_name() {
    let mut snap = load("selfcheck-404").unwrap();
    let ing: k8s_openapi::api::networking::v1::Ingress = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web", "namespace": "shop", "annotations": {
            "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
            "nginx.ingress.kubernetes.io/auth-url": "https://auth.example.com/check",
            "kubernetes.io/ingress.class": "nginx",
            "unrelated": "x"}},
        "spec": {"rules": [{"host": "example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}
    }))
    .unwrap();
    snap.ingresses.push(ing);
    for ch in &mut snap.challenges {
        ch.spec.solver =
            serde_json::from_value(serde_json::json!({"http01": {"ingress": {"name": "web"}}}))
                .unwrap();
    }
    let (certs, _) = assemble(&snap);
    let ch = &certs[0].challenges[0];
    let eip: Vec<_> = ch
        .solver_ingresses
        .iter()
        .filter(|i| i.edit_in_place)
        .collect();
    assert_eq!(eip.len(), 1);
    assert_eq!(eip[0].class_annotation.as_deref(), Some("nginx"));
    let keys: Vec<_> = eip[0].relevant_annotations.keys().collect();
    assert_eq!(
        keys,
        [
            "nginx.ingress.kubernetes.io/auth-url",
            "nginx.ingress.kubernetes.io/force-ssl-redirect"
        ]
    );
}

#[test]
fn issuer_missing_or_forbidden_is_explained() {
    let mut snap = load("selfcheck-404").unwrap();
    snap.cluster_issuers.clear();
    let (certs, _) = assemble(&snap);
    assert_eq!(
        certs[0].issuer_problem.as_deref(),
        Some("ClusterIssuer \"letsencrypt-prod\" not found")
    );
    snap.cluster_issuers_error =
        Some("could not get clusterissuers.cert-manager.io: forbidden".into());
    let (certs, _) = assemble(&snap);
    assert!(
        certs[0]
            .issuer_problem
            .as_deref()
            .unwrap()
            .contains("forbidden")
    );
}

#[test]
fn classless_and_default_classes() {
    let mut snap = load("healthy").unwrap();
    let nginx = snap
        .deployments
        .iter_mut()
        .find(|d| d.metadata.name.as_deref() == Some("ingress-nginx-controller"))
        .unwrap();
    let args = nginx
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
        .args
        .as_mut()
        .unwrap();
    args.push("--watch-ingress-without-class=true".into());
    let (_, cluster) = assemble(&snap);
    let plane = cluster
        .data_planes
        .iter()
        .find(|d| d.kind == "ingress-controller")
        .unwrap();
    assert!(plane.watches_classless);
}

#[test]
fn malformed_context_objects_are_skipped_and_said() {
    let mut snap = load("selfcheck-404").unwrap();
    snap.add(
        "Service",
        serde_json::json!({"metadata": {"name": "odd", "namespace": "shop"},
                           "spec": {"ports": "80"}}),
    )
    .unwrap();
    let list = r#"{"kind":"IngressClassList","items":[
        {"metadata":{"name":"ok"},"spec":{"controller":"example.com/x"}},
        {"metadata":{"name":"bad"},"spec":{"controller":7}}]}"#;
    snap.add_list("IngressClass", list).unwrap();
    let (_, cluster) = assemble(&snap);
    assert_eq!(cluster.unreadable.len(), 2, "{:?}", cluster.unreadable);
    assert!(cluster.unreadable[0].starts_with("Service shop/odd is malformed: field spec.ports"));
    assert!(
        cluster.unreadable[1].starts_with("IngressClass bad is malformed: field spec.controller")
    );
    assert!(cluster.ingress_classes.iter().any(|c| c.name == "ok"));
    // A malformed chain object in a list is an error naming it.
    let list = r#"{"items":[{"metadata":{"name":"o","namespace":"shop"},"status":{"authorizations":{}}}]}"#;
    let err = snap.add_list("Order", list).unwrap_err().to_string();
    assert!(
        err.contains("Order shop/o is malformed: field status.authorizations"),
        "{err}"
    );
}

/// The time cert-manager's controller last wrote a Challenge's status: its managedFields
/// entry that owns `status.reason` (as a real API server records it, with the field manager
/// cert-manager derives from its User-Agent), the status subresource's first.
#[test]
fn the_reason_is_dated_by_the_controllers_managed_fields_entry() {
    use super::assemble::status_written;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    let meta: ObjectMeta = serde_json::from_value(serde_json::json!({
        "name": "web-1-3571442311-2617004231",
        "managedFields": [
            {"apiVersion": "acme.cert-manager.io/v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:metadata": {"f:ownerReferences": {}}, "f:spec": {"f:token": {}}},
             "manager": "cert-manager-orders", "operation": "Update",
             "time": "2026-12-06T04:00:00Z"},
            {"apiVersion": "acme.cert-manager.io/v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:metadata": {"f:finalizers": {}}},
             "manager": "cert-manager-challenges", "operation": "Update",
             "time": "2026-12-06T04:30:00Z"},
            {"apiVersion": "acme.cert-manager.io/v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:status": {".": {}, "f:presented": {}, "f:processing": {},
                                       "f:reason": {}, "f:state": {}}},
             "manager": "cert-manager-challenges", "operation": "Update",
             "subresource": "status", "time": "2026-12-06T04:12:07Z"}
        ]
    }))
    .unwrap();
    let w = status_written(&meta).expect("the status entry");
    assert_eq!(
        (w.time.as_str(), w.manager.as_str(), w.operation.as_str()),
        ("2026-12-06T04:12:07Z", "cert-manager-challenges", "Update")
    );
    assert_eq!(w.subresource, "status");
    // No entry owns the reason (a fixture, a stripped export): time unknown.
    let bare: ObjectMeta = serde_json::from_value(serde_json::json!({"name": "x"})).unwrap();
    assert_eq!(status_written(&bare), None);
    // The chain fixtures carry none: their challenges are undated.
    let (certs, _) = scenario("selfcheck-404");
    assert_eq!(certs[0].challenges[0].status_written, None);
}
