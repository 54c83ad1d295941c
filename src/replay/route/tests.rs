//! The Ingress and the HTTPRoute compared with what cert-manager's `ingress.go` and
//! `httproute.go` produce for the same input (see `render/tests.rs` for the method): the
//! expected objects follow `ingress_test.go` (`TestMergeIngressObjectMetaWithIngressResourceTemplate`,
//! the class cases, the IP case) and `httproute_test.go`.

use super::super::LISTEN_PORT;
use super::super::render::tests::{identity, ours_reduced, settings, target, upstream_reduced};
use super::super::settings::SolverSettings;
use super::*;
use crate::evidence::{Http01GatewayRoute, Http01Ingress, IngressEvidence};

fn upstream_ingress(
    annotations: Value,
    labels: Value,
    class_name: Option<&str>,
    host: Option<&str>,
    path_type: &str,
) -> Value {
    let mut rule = json!({"http": {"paths": [{"path": "/.well-known/acme-challenge/token", "pathType": path_type,
        "backend": {"service": {"name": "acmecheck-solver-abc-0", "port": {"number": LISTEN_PORT}}}}]}});
    if let Some(h) = host {
        rule["host"] = json!(h);
    }
    let mut v = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"generateName": "cm-acme-http-solver-", "namespace": "foo", "labels": labels, "annotations": annotations},
        "spec": {"rules": [rule]},
    });
    if let Some(c) = class_name {
        v["spec"]["ingressClassName"] = json!(c);
    }
    v
}

fn render_ingress(
    dns: &str,
    cfg: Value,
    s: &SolverSettings,
) -> Result<(Value, Vec<String>), String> {
    let mut notes = Vec::new();
    let cfg: Http01Ingress = serde_json::from_value(cfg).unwrap();
    ingress(&target(dns), &cfg, s, &mut notes).map(|v| (v, notes))
}

#[test]
fn ingress_is_cert_managers() {
    let wl = "nginx.ingress.kubernetes.io/whitelist-source-range";
    let id = identity("example.com", "token");
    let cases = [
        // class → annotation; ingressClassName → the field (ingress_test.go).
        (
            json!({"class": "nginx"}),
            upstream_ingress(
                json!({wl: "0.0.0.0/0,::/0", "kubernetes.io/ingress.class": "nginx"}),
                id.clone(),
                None,
                Some("example.com"),
                "Exact",
            ),
        ),
        (
            json!({"ingressClassName": "nginx"}),
            upstream_ingress(
                json!({wl: "0.0.0.0/0,::/0"}),
                id.clone(),
                Some("nginx"),
                Some("example.com"),
                "Exact",
            ),
        ),
        (
            json!({}),
            upstream_ingress(
                json!({wl: "0.0.0.0/0,::/0"}),
                id.clone(),
                None,
                Some("example.com"),
                "Exact",
            ),
        ),
        // TestMergeIngressObjectMetaWithIngressResourceTemplate, both cases.
        (
            json!({"class": "nginx", "ingressTemplate": {"metadata": {"labels": {"this is a": "label", "acme.cert-manager.io/http-domain": "44655555555"},
                "annotations": {wl: "0.0.0.0/0,::/0", "nginx.org/mergeable-ingress-type": "minion", "traefik.ingress.kubernetes.io/frontend-entry-points": "http"}}}}),
            upstream_ingress(
                json!({wl: "0.0.0.0/0,::/0", "nginx.org/mergeable-ingress-type": "minion", "traefik.ingress.kubernetes.io/frontend-entry-points": "http", "kubernetes.io/ingress.class": "nginx"}),
                json!({"this is a": "label"}),
                None,
                Some("example.com"),
                "Exact",
            ),
        ),
        (
            json!({"class": "nginx", "ingressTemplate": {"metadata": {"annotations": {"ingress.kubernetes.io/whitelist-source-range": "0.0.0.0/0,::/0", "nginx.org/mergeable-ingress-type": "minion"}}}}),
            upstream_ingress(
                json!({"ingress.kubernetes.io/whitelist-source-range": "0.0.0.0/0,::/0", "nginx.org/mergeable-ingress-type": "minion", "kubernetes.io/ingress.class": "nginx"}),
                id.clone(),
                None,
                Some("example.com"),
                "Exact",
            ),
        ),
    ];
    for (cfg, want) in cases {
        let (got, _) = render_ingress("example.com", cfg.clone(), &settings()).unwrap();
        assert_eq!(ours_reduced(got), upstream_reduced(want), "{cfg}");
    }
    // "should return one ingress for IP that matches": no host for an IP identifier.
    let (got, _) = render_ingress("10.0.0.1", json!({}), &settings()).unwrap();
    assert_eq!(got["spec"]["rules"][0].get("host"), None);
    let mut s = settings();
    s.ingress_path_type = "ImplementationSpecific".into();
    let (got, _) = render_ingress("example.com", json!({}), &s).unwrap();
    assert_eq!(
        got["spec"]["rules"][0]["http"]["paths"][0]["pathType"],
        "ImplementationSpecific"
    );
    assert_eq!(
        render_ingress(
            "example.com",
            json!({"class": "a", "ingressClassName": "b"}),
            &settings()
        )
        .unwrap_err(),
        "the fields ingressClassName and class cannot be set at the same time"
    );
}

#[test]
fn edit_in_place_is_a_separate_ingress_on_the_same_class_and_host() {
    let existing = |class_name: Option<&str>, annotation: Option<&str>| IngressEvidence {
        namespace: "foo".into(),
        name: "web".into(),
        class_name: class_name.map(str::to_owned),
        class_annotation: annotation.map(str::to_owned),
        relevant_annotations: BTreeMap::from([(
            "nginx.ingress.kubernetes.io/ssl-redirect".into(),
            "true".into(),
        )]),
        ..Default::default()
    };
    let mut notes = Vec::new();
    let v = edit_in_place_ingress(
        &target("example.com"),
        &existing(Some("nginx"), None),
        &settings(),
        &mut notes,
    );
    assert_eq!(v["spec"]["ingressClassName"], "nginx");
    assert_eq!(v["spec"]["rules"][0]["host"], "example.com");
    assert_eq!(
        v["spec"]["rules"][0]["http"]["paths"][0]["path"],
        "/.well-known/acme-challenge/token"
    );
    assert_eq!(
        v["metadata"]["annotations"].get("nginx.ingress.kubernetes.io/whitelist-source-range"),
        None,
        "cert-manager adds no whitelist to an edited Ingress"
    );
    assert!(
        notes[0].contains("edits Ingress foo/web in place")
            && notes[0].contains("nginx.ingress.kubernetes.io/ssl-redirect=true"),
        "{notes:?}"
    );
    let v = edit_in_place_ingress(
        &target("example.com"),
        &existing(None, Some("public")),
        &settings(),
        &mut notes,
    );
    assert_eq!(
        v["metadata"]["annotations"]["kubernetes.io/ingress.class"],
        "public"
    );
    assert_eq!(v["spec"].get("ingressClassName"), None);
}

#[test]
fn http_route_is_cert_managers() {
    let cfg: Http01GatewayRoute = serde_json::from_value(json!({
        "parentRefs": [{"name": "public", "namespace": "gateways", "kind": "Gateway", "sectionName": "http"}],
        "labels": {"team": "web", "acme.cert-manager.io/http01-solver": "true"},
    }))
    .unwrap();
    let mut notes = Vec::new();
    let got = http_route(&target("example.com"), &cfg, &settings(), &mut notes);
    let mut labels = identity("example.com", "token");
    labels["team"] = json!("web");
    let want = json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"generateName": "cm-acme-http-solver-", "namespace": "foo", "labels": labels},
        "spec": {
            "parentRefs": [{"name": "public", "namespace": "gateways", "kind": "Gateway", "sectionName": "http"}],
            "hostnames": ["example.com"],
            "rules": [{
                "matches": [{"path": {"type": "Exact", "value": "/.well-known/acme-challenge/token"}}],
                "backendRefs": [{"group": "", "kind": "Service", "name": "acmecheck-solver-abc-0", "namespace": "foo", "port": 8089, "weight": 1}],
            }],
        },
    });
    assert_eq!(ours_reduced(got), upstream_reduced(want));
    assert!(
        notes[0].contains("gatewayHTTPRoute labels acme.cert-manager.io/http01-solver"),
        "{notes:?}"
    );
    let got = http_route(&target("2001:db8::1"), &cfg, &settings(), &mut notes);
    assert_eq!(
        got["spec"].get("hostnames"),
        None,
        "no hostnames for an IP identifier"
    );
}
