//! Renderings compared with what cert-manager's own code produces for the same input.
//!
//! The expected objects are written from `pkg/issuer/acme/http/{pod,service,ingress,httproute}.go`
//! and their tests (`pod_test.go` `TestEnsurePod` and `TestMergePodObjectMetaWithPodTemplate`,
//! `service_test.go`, `ingress_test.go` `TestMergeIngressObjectMetaWithIngressResourceTemplate`,
//! `httproute_test.go`), as the Go structs serialise (empty fields omitted). Both sides are then
//! reduced by the documented differences only: cert-manager's identity labels, generateName and
//! ownerReferences on its side; the tool's labels, annotations, name and activeDeadlineSeconds,
//! and the Service selector, on ours. What is left must be equal.

use super::super::IDENTITY_LABELS;
use super::super::route;
use super::super::settings::{ImageSource, SolverSettings};
use super::*;
use crate::evidence::IngressEvidence;

pub(crate) const IMAGE: &str = "quay.io/jetstack/cert-manager-acmesolver:v1.19.1";

pub(crate) fn settings() -> SolverSettings {
    SolverSettings {
        image: Some(IMAGE.into()),
        image_source: ImageSource::ControllerFlag,
        request_cpu: "10m".into(),
        request_memory: "64Mi".into(),
        limits_cpu: "100m".into(),
        limits_memory: "64Mi".into(),
        run_as_non_root: true,
        runtime_class_name: None,
        extra_labels: BTreeMap::new(),
        ingress_path_type: "Exact".into(),
        gateway_api_enabled: Some(true),
        version: Some("v1.19.1".into()),
        notes: vec![],
    }
}

pub(crate) fn target(dns_name: &str) -> Target<'_> {
    Target {
        object_name: "acmecheck-solver-abc-0",
        namespace: "foo",
        run_id: "abc",
        dns_name,
        token: "token",
        key: "key",
        deadline_seconds: 300,
        deadline_at: "2026-01-01T00:05:00Z",
    }
}

pub(crate) fn ingress_solver(cfg: Value) -> Http01Solver {
    Http01Solver {
        ingress: Some(serde_json::from_value(cfg).unwrap()),
        gateway_http_route: None,
    }
}

pub(crate) fn route_solver(cfg: Value) -> Http01Solver {
    Http01Solver {
        ingress: None,
        gateway_http_route: Some(serde_json::from_value(cfg).unwrap()),
    }
}

/// Our object without what the tool adds on purpose.
pub(crate) fn ours_reduced(mut v: Value) -> Value {
    let own = own_labels(&target(""));
    let meta = v["metadata"].as_object_mut().unwrap();
    meta.remove("name");
    meta.remove("namespace");
    for (key, own_keys) in [
        ("labels", own.keys().cloned().collect::<Vec<_>>()),
        (
            "annotations",
            vec![DEADLINE_ANNOTATION.into(), DNS_NAME_ANNOTATION.into()],
        ),
    ] {
        if let Some(m) = meta.get_mut(key).and_then(Value::as_object_mut) {
            for k in own_keys {
                m.remove(&k);
            }
            if m.is_empty() {
                meta.remove(key);
            }
        }
    }
    if let Some(spec) = v["spec"].as_object_mut() {
        spec.remove("activeDeadlineSeconds");
        spec.remove("selector");
    }
    v
}

/// cert-manager's object without its identity labels, generateName and ownerReferences.
pub(crate) fn upstream_reduced(mut v: Value) -> Value {
    let meta = v["metadata"].as_object_mut().unwrap();
    for k in ["generateName", "namespace", "ownerReferences"] {
        meta.remove(k);
    }
    if let Some(m) = meta.get_mut("labels").and_then(Value::as_object_mut) {
        for k in IDENTITY_LABELS {
            m.remove(k);
        }
        if m.is_empty() {
            meta.remove("labels");
        }
    }
    if let Some(spec) = v["spec"].as_object_mut() {
        spec.remove("selector");
    }
    v
}

pub(crate) fn identity(dns: &str, token: &str) -> Value {
    json!({
        "acme.cert-manager.io/http-domain": crate::gather::assemble::adler32(dns.as_bytes()).to_string(),
        "acme.cert-manager.io/http-token": crate::gather::assemble::adler32(token.as_bytes()).to_string(),
        "acme.cert-manager.io/http01-solver": "true",
    })
}

/// `TestEnsurePod`'s expected pod for a Challenge (example.com, token, key).
fn upstream_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "generateName": "cm-acme-http-solver-", "namespace": "foo",
            "labels": identity("example.com", "token"),
            "annotations": {"sidecar.istio.io/inject": "false", "cluster-autoscaler.kubernetes.io/safe-to-evict": "true"},
            "ownerReferences": [{"apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge", "name": "", "uid": "", "controller": true, "blockOwnerDeletion": true}],
        },
        "spec": {
            "automountServiceAccountToken": false,
            "enableServiceLinks": false,
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "restartPolicy": "OnFailure",
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "acmesolver", "image": IMAGE, "imagePullPolicy": "IfNotPresent",
                "args": ["--listen-port=8089", "--domain=example.com", "--token=token", "--key=key"],
                "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
                "ports": [{"name": "http", "containerPort": 8089}],
                "securityContext": {"readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
            }],
        },
    })
}

fn render_pod(http01: &Http01Solver, s: &SolverSettings) -> (Value, Vec<String>) {
    let mut notes = Vec::new();
    let p = pod(&target("example.com"), http01, s, IMAGE, &mut notes).unwrap();
    (p, notes)
}

#[test]
fn default_pod_is_cert_managers() {
    let (p, notes) = render_pod(&ingress_solver(json!({})), &settings());
    assert_eq!(ours_reduced(p.clone()), upstream_reduced(upstream_pod()));
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(p["spec"]["activeDeadlineSeconds"], 300);
    assert_eq!(p["metadata"]["name"], "acmecheck-solver-abc-0");
}

#[test]
fn pod_template_is_merged_like_cert_manager() {
    // TestMergePodObjectMetaWithPodTemplate, "should use labels, annotations and spec fields
    // from template", for the Ingress and the Gateway API solver.
    let tpl = json!({
        "metadata": {
            "labels": {"this is a": "label", "acme.cert-manager.io/http-domain": "44655555555"},
            "annotations": {"sidecar.istio.io/inject": "true", "cluster-autoscaler.kubernetes.io/safe-to-evict": "false", "foo": "bar"},
        },
        "spec": {
            "priorityClassName": "high", "nodeSelector": {"node": "selector"},
            "tolerations": [{"key": "key", "operator": "Exists", "effect": "NoSchedule"}],
            "serviceAccountName": "cert-manager", "imagePullSecrets": [{"name": "cred"}],
        },
    });
    let mut want = upstream_pod();
    want["metadata"]["labels"] = json!({"this is a": "label", "acme.cert-manager.io/http-domain": "44655555555", "acme.cert-manager.io/http-token": "1", "acme.cert-manager.io/http01-solver": "true"});
    want["metadata"]["annotations"] = json!({"sidecar.istio.io/inject": "true", "cluster-autoscaler.kubernetes.io/safe-to-evict": "false", "foo": "bar"});
    want["spec"]["nodeSelector"] = json!({"kubernetes.io/os": "linux", "node": "selector"});
    want["spec"]["tolerations"] =
        json!([{"key": "key", "operator": "Exists", "effect": "NoSchedule"}]);
    want["spec"]["priorityClassName"] = json!("high");
    want["spec"]["serviceAccountName"] = json!("cert-manager");
    want["spec"]["imagePullSecrets"] = json!([{"name": "cred"}]);
    for solver in [
        ingress_solver(json!({"podTemplate": tpl})),
        route_solver(json!({"podTemplate": tpl})),
    ] {
        let (p, notes) = render_pod(&solver, &settings());
        assert_eq!(ours_reduced(p), upstream_reduced(want.clone()));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0]
                .contains("acme.cert-manager.io/http-domain are cert-manager's identity labels"),
            "{notes:?}"
        );
    }
}

#[test]
fn template_security_context_resources_and_flags() {
    // TestEnsurePod "security context should be configurable": the template's subset replaces
    // the default (runAsNonRoot goes away).
    let (p, _) = render_pod(
        &ingress_solver(
            json!({"podTemplate": {"spec": {"securityContext": {"runAsUser": 1020, "seccompProfile": {"type": "RuntimeDefault"}}}}}),
        ),
        &settings(),
    );
    let mut want = upstream_pod();
    want["spec"]["securityContext"] =
        json!({"runAsUser": 1020, "seccompProfile": {"type": "RuntimeDefault"}});
    assert_eq!(ours_reduced(p), upstream_reduced(want));
    // "should handle partial resources in podTemplate by merging with ACMEOptions values" and
    // "should override ACMEOptions values when podTemplate resources are set".
    let (p, _) = render_pod(
        &ingress_solver(
            json!({"podTemplate": {"spec": {"resources": {"requests": {"cpu": "25m"}}}}}),
        ),
        &settings(),
    );
    assert_eq!(
        p["spec"]["containers"][0]["resources"],
        json!({"requests": {"cpu": "25m", "memory": "64Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}})
    );
    let (p, _) = render_pod(
        &ingress_solver(
            json!({"podTemplate": {"spec": {"resources": {"requests": {"cpu": "75m", "memory": "96Mi"}, "limits": {"cpu": "150m", "memory": "192Mi"}}}}}),
        ),
        &settings(),
    );
    assert_eq!(
        p["spec"]["containers"][0]["resources"],
        json!({"requests": {"cpu": "75m", "memory": "96Mi"}, "limits": {"cpu": "150m", "memory": "192Mi"}})
    );
    // Controller flags: run-as-non-root, runtime class, resources.
    let mut s = settings();
    s.run_as_non_root = false;
    s.runtime_class_name = Some("gvisor".into());
    s.limits_memory = "128Mi".into();
    let (p, _) = render_pod(&ingress_solver(json!({})), &s);
    assert_eq!(p["spec"]["securityContext"]["runAsNonRoot"], false);
    assert_eq!(p["spec"]["runtimeClassName"], "gvisor");
    assert_eq!(
        p["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "128Mi"
    );
    // An unreadable template is an error, not a silently different pod.
    let mut notes = Vec::new();
    let err = pod(
        &target("example.com"),
        &ingress_solver(json!({"podTemplate": {"spec": {"tolerations": "all"}}})),
        &settings(),
        IMAGE,
        &mut notes,
    )
    .unwrap_err();
    assert!(
        err.starts_with("the solver's http01.ingress.podTemplate cannot be read"),
        "{err}"
    );
}

#[test]
fn extra_labels_and_template_labels_like_cert_manager() {
    // "should apply extra labels from HTTP01SolverExtraLabels and filter ACME identity labels"
    // (the filter happens in settings) and "should allow pod template to override extra labels".
    let mut s = settings();
    s.extra_labels = BTreeMap::from([
        ("custom-extra-label".into(), "custom-extra-value".into()),
        ("extra-only-label".into(), "extra-only-value".into()),
    ]);
    let (p, _) = render_pod(
        &ingress_solver(
            json!({"podTemplate": {"metadata": {"labels": {"custom-extra-label": "overridden-by-template"}}}}),
        ),
        &s,
    );
    assert_eq!(
        p["metadata"]["labels"]["custom-extra-label"],
        "overridden-by-template"
    );
    assert_eq!(
        p["metadata"]["labels"]["extra-only-label"],
        "extra-only-value"
    );
    let svc = service(&target("example.com"), &ingress_solver(json!({})), &s);
    assert_eq!(
        svc["metadata"]["labels"]["custom-extra-label"],
        "custom-extra-value"
    );
}

#[test]
fn service_is_cert_managers_and_selects_the_stand_in_pod() {
    let upstream = |ty: &str| {
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"generateName": "cm-acme-http-solver-", "namespace": "foo", "labels": identity("example.com", "token"), "annotations": {"auth.istio.io/8089": "NONE"}},
            "spec": {"type": ty, "ports": [{"name": "http", "port": 8089, "targetPort": 8089}], "selector": identity("example.com", "token")},
        })
    };
    let t = target("example.com");
    for (solver, ty) in [
        (ingress_solver(json!({})), "NodePort"),
        (
            ingress_solver(json!({"serviceType": "ClusterIP"})),
            "ClusterIP",
        ),
        (
            route_solver(json!({"serviceType": "ClusterIP"})),
            "ClusterIP",
        ),
        (route_solver(json!({})), "NodePort"),
    ] {
        let svc = service(&t, &solver, &settings());
        assert_eq!(ours_reduced(svc.clone()), upstream_reduced(upstream(ty)));
        let (p, _) = render_pod(&solver, &settings());
        for (k, v) in svc["spec"]["selector"].as_object().unwrap() {
            assert_eq!(
                &p["metadata"]["labels"][k], v,
                "the Service selects the stand-in pod"
            );
        }
    }
}

#[test]
fn stand_ins_never_carry_cert_managers_identity_labels() {
    let all_identity: Value = json!({
        "acme.cert-manager.io/http01-solver": "true",
        "acme.cert-manager.io/http-domain": "1",
        "acme.cert-manager.io/http-token": "2",
    });
    let mut s = settings();
    s.extra_labels = serde_json::from_value(all_identity.clone()).unwrap();
    let t = target("example.com");
    let mut notes = Vec::new();
    let ing = ingress_solver(
        json!({"podTemplate": {"metadata": {"labels": all_identity}}, "ingressTemplate": {"metadata": {"labels": all_identity}}}),
    );
    let rt = route_solver(
        json!({"podTemplate": {"metadata": {"labels": all_identity}}, "labels": all_identity, "parentRefs": [{"name": "g"}]}),
    );
    let objects = vec![
        pod(&t, &ing, &s, IMAGE, &mut notes).unwrap(),
        pod(&t, &rt, &s, IMAGE, &mut notes).unwrap(),
        service(&t, &ing, &s),
        route::ingress(&t, ing.ingress.as_ref().unwrap(), &s, &mut notes).unwrap(),
        route::http_route(&t, rt.gateway_http_route.as_ref().unwrap(), &s, &mut notes),
        route::edit_in_place_ingress(&t, &IngressEvidence::default(), &s, &mut notes),
    ];
    for o in &objects {
        for scope in ["/metadata/labels", "/spec/selector"] {
            if let Some(m) = o.pointer(scope).and_then(Value::as_object) {
                for k in IDENTITY_LABELS {
                    assert!(!m.contains_key(k), "{k} in {scope} of {o}");
                }
            }
        }
        assert_eq!(
            o.pointer("/metadata/labels/app.kubernetes.io~1managed-by"),
            Some(&json!("kubectl-acmecheck"))
        );
        assert_eq!(
            o.pointer("/metadata/labels/acmecheck.io~1run-id"),
            Some(&json!("abc"))
        );
        assert_eq!(
            o.pointer("/metadata/annotations/acmecheck.io~1deadline"),
            Some(&json!("2026-01-01T00:05:00Z"))
        );
    }
}
