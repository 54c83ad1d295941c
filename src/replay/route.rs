//! The stand-in's Ingress or HTTPRoute, rendered as cert-manager renders its solver's (pure).
//!
//! After `pkg/issuer/acme/http/ingress.go` (`buildIngressResource`,
//! `mergeIngressObjectMetaWithIngressResourceTemplate`, `ingressPath`) and
//! `pkg/issuer/acme/http/httproute.go` (`createGatewayHTTPRoute`, `generateHTTPRouteSpec`).
//!
//! An edit-in-place solver (`http01.ingress.name`) makes cert-manager add the challenge path to
//! the user's own Ingress (`addChallengePathToIngress`). The stand-in never patches a user's
//! object: it renders a separate Ingress with the same class and host, and says what that
//! changes (the user's Ingress annotations, TLS and other paths do not apply to it).

use super::render::{Target, merged_labels, own_annotations, own_labels};
use super::settings::SolverSettings;
use super::{CHALLENGE_PATH, LISTEN_PORT};
use crate::evidence::{Http01GatewayRoute, Http01Ingress, IngressEvidence};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// `ACMEChallengeSolverHTTP01IngressTemplate`: only metadata labels and annotations.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct IngressTemplate {
    metadata: super::render::TemplateMeta,
}

const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
const WHITELIST: &str = "nginx.ingress.kubernetes.io/whitelist-source-range";

/// `http://<host>/.well-known/acme-challenge/<token>`'s path.
pub fn challenge_path(token: &str) -> String {
    format!("{CHALLENGE_PATH}/{token}")
}

/// IP identifiers get no host (cert-manager: "the challenge should propagate on all hosts").
fn is_ip(name: &str) -> bool {
    name.parse::<std::net::IpAddr>().is_ok()
}

fn rule(t: &Target, path_type: &str) -> Value {
    let mut rule = json!({
        "http": {"paths": [{
            "path": challenge_path(t.token),
            "pathType": path_type,
            "backend": {"service": {"name": t.object_name, "port": {"number": LISTEN_PORT}}},
        }]},
    });
    if !is_ip(t.dns_name) {
        rule["host"] = json!(t.dns_name);
    }
    rule
}

fn ingress_object(
    t: &Target,
    labels: BTreeMap<String, String>,
    mut annotations: BTreeMap<String, String>,
    class_name: Option<&str>,
    path_type: &str,
) -> Value {
    annotations.extend(own_annotations(t));
    let mut spec = json!({"rules": [rule(t, path_type)]});
    if let Some(c) = class_name {
        spec["ingressClassName"] = json!(c);
    }
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": t.object_name, "namespace": t.namespace, "labels": labels, "annotations": annotations},
        "spec": spec,
    })
}

/// The Ingress for an Ingress solver that cert-manager creates itself (no `name`).
pub fn ingress(
    t: &Target,
    cfg: &Http01Ingress,
    settings: &SolverSettings,
    notes: &mut Vec<String>,
) -> Result<Value, String> {
    if cfg.class.is_some() && cfg.ingress_class_name.is_some() {
        return Err(
            "the fields ingressClassName and class cannot be set at the same time".to_owned(),
        );
    }
    let tpl = match &cfg.ingress_template {
        None | Some(Value::Null) => IngressTemplate::default(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
            format!("the solver's http01.ingress.ingressTemplate cannot be read: {e}")
        })?,
    }
    .metadata;
    let mut annotations = BTreeMap::from([(WHITELIST.to_owned(), "0.0.0.0/0,::/0".to_owned())]);
    if let Some(class) = &cfg.class {
        annotations.insert(CLASS_ANNOTATION.to_owned(), class.clone());
    }
    for (k, v) in tpl.annotations {
        // Any `<prefix>/whitelist-source-range` in the template replaces nginx's default.
        if k.rsplit('/').next() == Some("whitelist-source-range") {
            annotations.remove(WHITELIST);
        }
        annotations.insert(k, v);
    }
    let labels = merged_labels(
        t,
        &settings.extra_labels,
        &tpl.labels,
        "ingressTemplate",
        notes,
    );
    Ok(ingress_object(
        t,
        labels,
        annotations,
        cfg.ingress_class_name.as_deref(),
        &settings.ingress_path_type,
    ))
}

/// The separate Ingress that stands in for an edit-in-place solver: the class of `existing`
/// (the user's Ingress named by `http01.ingress.name`) and the same host.
pub fn edit_in_place_ingress(
    t: &Target,
    existing: &IngressEvidence,
    settings: &SolverSettings,
    notes: &mut Vec<String>,
) -> Value {
    let mut annotations = BTreeMap::new();
    let class_name = existing.class_name.as_deref();
    if class_name.is_none()
        && let Some(c) = &existing.class_annotation
    {
        annotations.insert(CLASS_ANNOTATION.to_owned(), c.clone());
    }
    let class = class_name
        .map(|c| format!("ingressClassName {c}"))
        .or(existing
            .class_annotation
            .as_ref()
            .map(|c| format!("class annotation {c}")))
        .unwrap_or_else(|| "no class".to_owned());
    let applies: Vec<String> = existing
        .relevant_annotations
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    notes.push(format!(
        "the solver edits Ingress {}/{} in place: cert-manager would add the challenge path to that Ingress; the stand-in is a separate Ingress with the same {class} and host {}, so what is set on Ingress {} (annotations{}, TLS, its other paths) does not apply to the stand-in's path",
        existing.namespace,
        existing.name,
        t.dns_name,
        existing.name,
        if applies.is_empty() {
            String::new()
        } else {
            format!(" such as {}", applies.join(", "))
        }
    ));
    ingress_object(
        t,
        own_labels(t),
        annotations,
        class_name,
        &settings.ingress_path_type,
    )
}

/// The HTTPRoute for a Gateway API solver (parentRefs already after the override annotations).
pub fn http_route(
    t: &Target,
    cfg: &Http01GatewayRoute,
    settings: &SolverSettings,
    notes: &mut Vec<String>,
) -> Value {
    let labels = merged_labels(
        t,
        &settings.extra_labels,
        &cfg.labels.clone().unwrap_or_default(),
        "gatewayHTTPRoute",
        notes,
    );
    let mut spec = json!({
        "parentRefs": cfg.parent_refs,
        "rules": [{
            "matches": [{"path": {"type": "Exact", "value": challenge_path(t.token)}}],
            "backendRefs": [{
                "group": "", "kind": "Service", "name": t.object_name,
                "namespace": t.namespace, "port": LISTEN_PORT, "weight": 1,
            }],
        }],
    });
    if !is_ip(t.dns_name) {
        spec["hostnames"] = json!([t.dns_name]);
    }
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": t.object_name, "namespace": t.namespace, "labels": labels, "annotations": own_annotations(t)},
        "spec": spec,
    })
}

#[cfg(test)]
mod tests;
