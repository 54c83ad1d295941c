//! The stand-in's pod and Service, rendered as cert-manager renders its solver's (pure).
//!
//! After `pkg/issuer/acme/http/pod.go` (`buildDefaultPod`, `mergePodObjectMetaWithPodTemplate`)
//! and `pkg/issuer/acme/http/service.go` (`buildService`). What differs is on purpose and is
//! returned as notes: the tool's labels and annotations instead of cert-manager's identity
//! labels (which podTemplate labels may not bring back), a fixed name instead of
//! `generateName`, no ownerReference (there may be no Challenge), and `activeDeadlineSeconds`.
//! The Ingress and HTTPRoute are in [`super::route`].

use super::settings::SolverSettings;
use super::{
    COMPONENT, COMPONENT_LABEL, DEADLINE_ANNOTATION, DNS_NAME_ANNOTATION, IDENTITY_LABELS,
    LISTEN_PORT, SOLVER_LABEL,
};
use crate::evidence::Http01Solver;
use crate::probe::pod::{APP, RUN_ID_LABEL};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// One stand-in's identity: where it goes, what it serves, until when.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The name of each of its objects (pod, Service, Ingress/HTTPRoute).
    pub object_name: &'a str,
    pub namespace: &'a str,
    pub run_id: &'a str,
    pub dns_name: &'a str,
    pub token: &'a str,
    pub key: &'a str,
    /// `activeDeadlineSeconds` of the pod.
    pub deadline_seconds: u64,
    /// The deadline annotation's value (RFC 3339).
    pub deadline_at: &'a str,
}

/// The labels every stand-in object carries (and nothing may override).
pub fn own_labels(t: &Target) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), APP.to_owned()),
        ("app.kubernetes.io/managed-by".to_owned(), APP.to_owned()),
        (COMPONENT_LABEL.to_owned(), COMPONENT.to_owned()),
        (RUN_ID_LABEL.to_owned(), t.run_id.to_owned()),
        (SOLVER_LABEL.to_owned(), t.object_name.to_owned()),
    ])
}

/// The annotations every stand-in object carries.
pub fn own_annotations(t: &Target) -> BTreeMap<String, String> {
    BTreeMap::from([
        (DEADLINE_ANNOTATION.to_owned(), t.deadline_at.to_owned()),
        (DNS_NAME_ANNOTATION.to_owned(), t.dns_name.to_owned()),
    ])
}

/// cert-manager's labels for a solver object after `extra` (the controller's extra labels) and
/// `template` (podTemplate/ingressTemplate/HTTPRoute labels), in that order, then ours. The
/// identity labels never survive; what was dropped or overridden is said in `notes`.
pub fn merged_labels(
    t: &Target,
    extra: &BTreeMap<String, String>,
    template: &BTreeMap<String, String>,
    what: &str,
    notes: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let mut labels = extra.clone();
    labels.extend(template.iter().map(|(k, v)| (k.clone(), v.clone())));
    let dropped: Vec<&str> = IDENTITY_LABELS
        .iter()
        .copied()
        .filter(|k| labels.remove(*k).is_some())
        .collect();
    if !dropped.is_empty() {
        notes.push(format!(
            "{what} labels {} are cert-manager's identity labels: cert-manager's own objects carry them, the stand-in does not",
            dropped.join(", ")
        ));
    }
    let own = own_labels(t);
    let clashes: Vec<&str> = own
        .iter()
        .filter(|(k, v)| labels.get(*k).is_some_and(|x| x != *v))
        .map(|(k, _)| k.as_str())
        .collect();
    if !clashes.is_empty() {
        notes.push(format!(
            "{what} labels {} are replaced by the tool's own values",
            clashes.join(", ")
        ));
    }
    labels.extend(own);
    labels
}

fn metadata(
    t: &Target,
    labels: BTreeMap<String, String>,
    mut annotations: BTreeMap<String, String>,
) -> Value {
    annotations.extend(own_annotations(t));
    json!({
        "name": t.object_name,
        "namespace": t.namespace,
        "labels": labels,
        "annotations": annotations,
    })
}

/// `ACMEChallengeSolverHTTP01IngressPodTemplate`, as far as cert-manager merges it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct PodTemplate {
    metadata: TemplateMeta,
    spec: TemplateSpec,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TemplateMeta {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct TemplateSpec {
    node_selector: BTreeMap<String, String>,
    affinity: Option<Value>,
    tolerations: Vec<Value>,
    priority_class_name: String,
    service_account_name: String,
    image_pull_secrets: Vec<Value>,
    security_context: Option<Map<String, Value>>,
    resources: Option<TemplateResources>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct TemplateResources {
    requests: Option<BTreeMap<String, Value>>,
    limits: Option<BTreeMap<String, Value>>,
}

/// The pod security context fields a podTemplate may set (cert-manager copies these and drops
/// the rest of its default when the template has one).
const POD_SECURITY_FIELDS: &[&str] = &[
    "seLinuxOptions",
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "supplementalGroups",
    "fsGroup",
    "sysctls",
    "fsGroupChangePolicy",
    "seccompProfile",
];

fn parse_template(v: Option<&Value>, what: &str) -> Result<Option<PodTemplate>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| format!("the solver's {what} cannot be read: {e}")),
    }
}

/// Apply one podTemplate the way `mergePodObjectMetaWithPodTemplate` does.
fn merge_template(
    tpl: PodTemplate,
    labels: &mut BTreeMap<String, String>,
    annotations: &mut BTreeMap<String, String>,
    spec: &mut Map<String, Value>,
    requests: &mut BTreeMap<String, Value>,
    limits: &mut BTreeMap<String, Value>,
) {
    labels.extend(tpl.metadata.labels);
    annotations.extend(tpl.metadata.annotations);
    let s = tpl.spec;
    if let Some(Value::Object(ns)) = spec.get_mut("nodeSelector") {
        for (k, v) in s.node_selector {
            ns.insert(k, Value::String(v));
        }
    }
    let mut append = |key: &str, items: Vec<Value>| {
        if items.is_empty() {
            return;
        }
        match spec.get_mut(key) {
            Some(Value::Array(a)) => a.extend(items),
            _ => {
                spec.insert(key.to_owned(), Value::Array(items));
            }
        }
    };
    append("tolerations", s.tolerations);
    append("imagePullSecrets", s.image_pull_secrets);
    if let Some(a) = s.affinity.filter(|a| !a.is_null()) {
        spec.insert("affinity".into(), a);
    }
    if !s.priority_class_name.is_empty() {
        spec.insert("priorityClassName".into(), json!(s.priority_class_name));
    }
    if !s.service_account_name.is_empty() {
        spec.insert("serviceAccountName".into(), json!(s.service_account_name));
    }
    if let Some(sc) = s.security_context {
        let subset: Map<String, Value> = sc
            .into_iter()
            .filter(|(k, v)| POD_SECURITY_FIELDS.contains(&k.as_str()) && !v.is_null())
            .collect();
        spec.insert("securityContext".into(), Value::Object(subset));
    }
    if let Some(r) = s.resources {
        requests.extend(r.requests.unwrap_or_default());
        limits.extend(r.limits.unwrap_or_default());
    }
}

/// The solver pod for this stand-in. `Err` when a podTemplate cannot be read.
pub fn pod(
    t: &Target,
    http01: &Http01Solver,
    settings: &SolverSettings,
    image: &str,
    notes: &mut Vec<String>,
) -> Result<Value, String> {
    let mut template_labels = BTreeMap::new();
    let mut annotations = BTreeMap::from([
        ("sidecar.istio.io/inject".to_owned(), "false".to_owned()),
        (
            "cluster-autoscaler.kubernetes.io/safe-to-evict".to_owned(),
            "true".to_owned(),
        ),
    ]);
    let mut spec = Map::new();
    spec.insert("automountServiceAccountToken".into(), json!(false));
    spec.insert("nodeSelector".into(), json!({"kubernetes.io/os": "linux"}));
    spec.insert("restartPolicy".into(), json!("OnFailure"));
    spec.insert("enableServiceLinks".into(), json!(false));
    if let Some(rc) = &settings.runtime_class_name {
        spec.insert("runtimeClassName".into(), json!(rc));
    }
    spec.insert(
        "securityContext".into(),
        json!({"runAsNonRoot": settings.run_as_non_root, "seccompProfile": {"type": "RuntimeDefault"}}),
    );
    let mut requests = BTreeMap::from([
        ("cpu".to_owned(), json!(settings.request_cpu)),
        ("memory".to_owned(), json!(settings.request_memory)),
    ]);
    let mut limits = BTreeMap::from([
        ("cpu".to_owned(), json!(settings.limits_cpu)),
        ("memory".to_owned(), json!(settings.limits_memory)),
    ]);
    // buildPod: the Ingress solver's template, then the HTTPRoute solver's.
    let templates = [
        (
            http01
                .ingress
                .as_ref()
                .and_then(|i| i.pod_template.as_ref()),
            "http01.ingress.podTemplate",
        ),
        (
            http01
                .gateway_http_route
                .as_ref()
                .and_then(|g| g.pod_template.as_ref()),
            "http01.gatewayHTTPRoute.podTemplate",
        ),
    ];
    for (tpl, what) in templates {
        if let Some(tpl) = parse_template(tpl, what)? {
            merge_template(
                tpl,
                &mut template_labels,
                &mut annotations,
                &mut spec,
                &mut requests,
                &mut limits,
            );
        }
    }
    let labels = merged_labels(
        t,
        &settings.extra_labels,
        &template_labels,
        "podTemplate",
        notes,
    );
    spec.insert("activeDeadlineSeconds".into(), json!(t.deadline_seconds));
    spec.insert(
        "containers".into(),
        json!([{
            "name": "acmesolver",
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "args": [
                format!("--listen-port={LISTEN_PORT}"),
                format!("--domain={}", t.dns_name),
                format!("--token={}", t.token),
                format!("--key={}", t.key),
            ],
            "resources": {"requests": requests, "limits": limits},
            "ports": [{"name": "http", "containerPort": LISTEN_PORT}],
            "securityContext": {
                "readOnlyRootFilesystem": true,
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]},
            },
        }]),
    );
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata(t, labels, annotations),
        "spec": spec,
    }))
}

/// The Service in front of the stand-in pod (`buildService`): NodePort unless the solver says
/// otherwise, port `http` 8089 → 8089. Its selector is the tool's labels, not the identity labels.
pub fn service(t: &Target, http01: &Http01Solver, settings: &SolverSettings) -> Value {
    // getServiceType: the Ingress solver's, else the HTTPRoute solver's.
    let service_type = match (&http01.ingress, &http01.gateway_http_route) {
        (Some(i), _) => i.service_type.clone(),
        (None, Some(g)) => g.service_type.clone(),
        (None, None) => None,
    }
    .filter(|s| !s.is_empty())
    .unwrap_or_else(|| "NodePort".to_owned());
    let mut ignored = Vec::new();
    let labels = merged_labels(
        t,
        &settings.extra_labels,
        &BTreeMap::new(),
        "extra",
        &mut ignored,
    );
    let annotations = BTreeMap::from([("auth.istio.io/8089".to_owned(), "NONE".to_owned())]);
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(t, labels, annotations),
        "spec": {
            "type": service_type,
            "ports": [{"name": "http", "port": LISTEN_PORT, "targetPort": LISTEN_PORT}],
            "selector": {SOLVER_LABEL: t.object_name, RUN_ID_LABEL: t.run_id},
        },
    })
}

#[cfg(test)]
pub(super) mod tests;
