//! Client-side models of the objects gather reads.
//!
//! cert-manager and Gateway API kinds are `kube::api::Object<Spec, Status>` with small, lenient
//! spec/status structs: every field is optional or defaulted and unknown fields are ignored, so
//! any cert-manager >= 1.x shape parses. Built-in kinds use k8s-openapi.
//!
//! Objects arrive as raw JSON and are decoded one at a time with [`decode`], so one malformed
//! object yields a message naming the object and the field instead of failing a whole list.

use crate::evidence::{Condition, IssuerRef, ParentRef, Solver};
use kube::api::{ApiResource, GroupVersionKind, Object};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// `null` in JSON becomes the type's default (some tools write `dnsNames: null`).
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// API resources
// ---------------------------------------------------------------------------------------------

/// A resource gather reads: where it lives in the API and whether it is namespaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
}

impl Kind {
    /// `challenges.acme.cert-manager.io`, `pods` (core group has no suffix).
    pub fn resource_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
    /// `acme.cert-manager.io/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    pub fn api_resource(&self) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(self.group, self.version, self.kind),
            self.plural,
        )
    }
    /// The URL path of the collection, in `namespace` or across all namespaces (`None`).
    pub fn url_path(&self, namespace: Option<&str>) -> String {
        let prefix = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{prefix}/namespaces/{ns}/{}", self.plural),
            _ => format!("{prefix}/{}", self.plural),
        }
    }
}

const fn kind(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Kind {
    Kind {
        group,
        version,
        kind,
        plural,
        namespaced,
    }
}

pub const CERTIFICATES: Kind = kind("cert-manager.io", "v1", "Certificate", "certificates", true);
pub const CERTIFICATE_REQUESTS: Kind = kind(
    "cert-manager.io",
    "v1",
    "CertificateRequest",
    "certificaterequests",
    true,
);
pub const ISSUERS: Kind = kind("cert-manager.io", "v1", "Issuer", "issuers", true);
pub const CLUSTER_ISSUERS: Kind = kind(
    "cert-manager.io",
    "v1",
    "ClusterIssuer",
    "clusterissuers",
    false,
);
pub const ORDERS: Kind = kind("acme.cert-manager.io", "v1", "Order", "orders", true);
pub const CHALLENGES: Kind = kind(
    "acme.cert-manager.io",
    "v1",
    "Challenge",
    "challenges",
    true,
);
pub const PODS: Kind = kind("", "v1", "Pod", "pods", true);
pub const SERVICES: Kind = kind("", "v1", "Service", "services", true);
pub const INGRESSES: Kind = kind("networking.k8s.io", "v1", "Ingress", "ingresses", true);
pub const INGRESS_CLASSES: Kind = kind(
    "networking.k8s.io",
    "v1",
    "IngressClass",
    "ingressclasses",
    false,
);
pub const DEPLOYMENTS: Kind = kind("apps", "v1", "Deployment", "deployments", true);
pub const HTTP_ROUTES: Kind = kind(
    "gateway.networking.k8s.io",
    "v1",
    "HTTPRoute",
    "httproutes",
    true,
);
pub const GATEWAYS: Kind = kind(
    "gateway.networking.k8s.io",
    "v1",
    "Gateway",
    "gateways",
    true,
);

/// Every kind gather knows, for routing fixture objects by `apiVersion`/`kind`.
pub const ALL_KINDS: &[Kind] = &[
    CERTIFICATES,
    CERTIFICATE_REQUESTS,
    ISSUERS,
    CLUSTER_ISSUERS,
    ORDERS,
    CHALLENGES,
    PODS,
    SERVICES,
    INGRESSES,
    INGRESS_CLASSES,
    DEPLOYMENTS,
    HTTP_ROUTES,
    GATEWAYS,
];

// ---------------------------------------------------------------------------------------------
// cert-manager.io
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CertificateSpec {
    #[serde(deserialize_with = "nullable")]
    pub dns_names: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub ip_addresses: Vec<String>,
    pub common_name: Option<String>,
    pub secret_name: String,
    pub issuer_ref: IssuerRef,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CertificateStatus {
    #[serde(deserialize_with = "nullable")]
    pub conditions: Vec<Condition>,
    pub revision: Option<i64>,
    pub last_failure_time: Option<String>,
    pub failed_issuance_attempts: Option<i64>,
    pub not_after: Option<String>,
    pub renewal_time: Option<String>,
}

pub type Certificate = Object<CertificateSpec, CertificateStatus>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CertificateRequestSpec {
    pub issuer_ref: IssuerRef,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CertificateRequestStatus {
    #[serde(deserialize_with = "nullable")]
    pub conditions: Vec<Condition>,
    pub failure_time: Option<String>,
}

pub type CertificateRequest = Object<CertificateRequestSpec, CertificateRequestStatus>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IssuerSpec {
    pub acme: Option<crate::evidence::AcmeIssuer>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IssuerStatus {
    #[serde(deserialize_with = "nullable")]
    pub conditions: Vec<Condition>,
}

/// Issuer and ClusterIssuer share their shape.
pub type Issuer = Object<IssuerSpec, IssuerStatus>;

// ---------------------------------------------------------------------------------------------
// acme.cert-manager.io
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderSpec {
    #[serde(deserialize_with = "nullable")]
    pub dns_names: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub ip_addresses: Vec<String>,
    pub common_name: Option<String>,
    pub issuer_ref: IssuerRef,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderStatus {
    pub url: Option<String>,
    pub state: Option<String>,
    pub reason: Option<String>,
    pub failure_time: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub authorizations: Vec<AcmeAuthorization>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AcmeAuthorization {
    pub url: String,
    pub identifier: String,
    pub wildcard: Option<bool>,
    pub initial_state: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub challenges: Vec<AcmeChallenge>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AcmeChallenge {
    pub url: String,
    pub token: String,
    #[serde(rename = "type")]
    pub type_: String,
}

pub type Order = Object<OrderSpec, OrderStatus>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChallengeSpec {
    pub url: String,
    #[serde(rename = "authorizationURL")]
    pub authorization_url: String,
    pub dns_name: String,
    pub wildcard: bool,
    #[serde(rename = "type")]
    pub type_: String,
    pub token: String,
    pub key: String,
    pub solver: Solver,
    pub issuer_ref: IssuerRef,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChallengeStatus {
    pub processing: bool,
    pub presented: bool,
    pub presented_at: Option<String>,
    pub reason: Option<String>,
    pub state: Option<String>,
}

pub type Challenge = Object<ChallengeSpec, ChallengeStatus>;

// ---------------------------------------------------------------------------------------------
// gateway.networking.k8s.io
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRouteSpec {
    #[serde(deserialize_with = "nullable")]
    pub parent_refs: Vec<ParentRef>,
    #[serde(deserialize_with = "nullable")]
    pub hostnames: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRouteStatus {
    #[serde(deserialize_with = "nullable")]
    pub parents: Vec<RouteParentStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteParentStatus {
    pub parent_ref: ParentRef,
    pub controller_name: String,
    #[serde(deserialize_with = "nullable")]
    pub conditions: Vec<Condition>,
}

pub type HttpRoute = Object<HttpRouteSpec, HttpRouteStatus>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewaySpec {
    pub gateway_class_name: String,
    #[serde(deserialize_with = "nullable")]
    pub listeners: Vec<Listener>,
    #[serde(deserialize_with = "nullable")]
    pub addresses: Vec<GatewayAddress>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Listener {
    pub name: String,
    pub port: i32,
    pub protocol: String,
    pub hostname: Option<String>,
    pub allowed_routes: Option<AllowedRoutes>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AllowedRoutes {
    pub namespaces: Option<RouteNamespaces>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteNamespaces {
    pub from: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayAddress {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayStatus {
    #[serde(deserialize_with = "nullable")]
    pub addresses: Vec<GatewayAddress>,
    #[serde(deserialize_with = "nullable")]
    pub conditions: Vec<Condition>,
}

pub type Gateway = Object<GatewaySpec, GatewayStatus>;

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// Identity of a raw object, read leniently (never fails): used to name objects in messages
/// and to link them before (and without) decoding them fully.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawMeta {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `(kind, uid)` of the controller ownerReference.
    pub controller: Option<(String, String)>,
    /// Every ownerReference as `(kind, name, uid)`.
    pub owners: Vec<(String, String, String)>,
    pub creation_timestamp: Option<String>,
}

impl RawMeta {
    pub fn of(v: &Value) -> RawMeta {
        let m = &v["metadata"];
        let s = |x: &Value| x.as_str().unwrap_or_default().to_string();
        let map = |x: &Value| -> BTreeMap<String, String> {
            x.as_object()
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        let controller = m["ownerReferences"].as_array().and_then(|refs| {
            refs.iter()
                .find(|r| r["controller"].as_bool() == Some(true))
                .map(|r| (s(&r["kind"]), s(&r["uid"])))
        });
        let owners = m["ownerReferences"]
            .as_array()
            .map(|refs| {
                refs.iter()
                    .map(|r| (s(&r["kind"]), s(&r["name"]), s(&r["uid"])))
                    .collect()
            })
            .unwrap_or_default();
        RawMeta {
            kind: s(&v["kind"]),
            owners,
            namespace: s(&m["namespace"]),
            name: s(&m["name"]),
            uid: s(&m["uid"]),
            labels: map(&m["labels"]),
            annotations: map(&m["annotations"]),
            controller,
            creation_timestamp: m["creationTimestamp"].as_str().map(str::to_string),
        }
    }

    /// True when the controller ownerReference points at `uid` (what `metav1.IsControlledBy` checks).
    pub fn controlled_by(&self, uid: &str) -> bool {
        !uid.is_empty() && self.controller.as_ref().is_some_and(|(_, u)| u == uid)
    }

    /// True when every `key=value` of `selector` is among the labels.
    pub fn has_labels(&self, selector: &BTreeMap<String, String>) -> bool {
        selector.iter().all(|(k, v)| self.labels.get(k) == Some(v))
    }

    /// `Kind ns/name` or `Kind name` for cluster-scoped objects.
    pub fn display(&self, kind: &str) -> String {
        if self.namespace.is_empty() {
            format!("{kind} {}", self.name)
        } else {
            format!("{kind} {}/{}", self.namespace, self.name)
        }
    }
}

/// A malformed object: which one, which field, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// `Challenge shop/web-1-123`.
    pub object: String,
    /// `spec.dnsName` (`.` when the problem is the object itself).
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is malformed: field {}: {}",
            self.object, self.field, self.message
        )
    }
}

/// Decode one raw object into a typed one, naming the object and the JSON path on failure.
/// A missing `spec` is tolerated (treated as empty).
pub fn decode<T: DeserializeOwned>(kind: &str, v: &Value) -> Result<T, DecodeError> {
    let meta = RawMeta::of(v);
    let object = meta.display(kind);
    if !v.is_object() {
        return Err(DecodeError {
            object,
            field: ".".into(),
            message: format!("expected an object, got {}", json_type(v)),
        });
    }
    let patched;
    let v = if v.get("spec").is_none_or(Value::is_null) {
        let mut c = v.clone();
        c["spec"] = Value::Object(Default::default());
        patched = c;
        &patched
    } else {
        v
    };
    serde_path_to_error::deserialize(v).map_err(|e| {
        let field = e.path().to_string();
        // serde_json's message carries no path; keep only the part before " at line".
        let message = e.inner().to_string();
        DecodeError {
            object,
            field,
            message,
        }
    })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        assert_eq!(
            CHALLENGES.url_path(Some("shop")),
            "/apis/acme.cert-manager.io/v1/namespaces/shop/challenges"
        );
        assert_eq!(PODS.url_path(None), "/api/v1/pods");
        assert_eq!(
            CLUSTER_ISSUERS.url_path(Some("x")),
            "/apis/cert-manager.io/v1/clusterissuers"
        );
        assert_eq!(
            CHALLENGES.resource_name(),
            "challenges.acme.cert-manager.io"
        );
        assert_eq!(SERVICES.resource_name(), "services");
        assert_eq!(CHALLENGES.api_resource().plural, "challenges");
    }

    #[test]
    fn tolerates_unknown_and_missing_fields() {
        let v = json!({
            "apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
            "metadata": {"name": "c", "namespace": "shop", "uid": "u1"},
            "spec": {"dnsName": "a.example", "somethingNew": {"x": 1}, "type": "HTTP-01"},
        });
        let ch: Challenge = decode("Challenge", &v).unwrap();
        assert_eq!(ch.spec.dns_name, "a.example");
        assert!(ch.status.is_none());
        let v = json!({"metadata": {"name": "c"}});
        let cert: Certificate = decode("Certificate", &v).unwrap();
        assert!(cert.spec.dns_names.is_empty());
        let v = json!({"metadata": {"name": "c"}, "spec": {"dnsNames": null}});
        let cert: Certificate = decode("Certificate", &v).unwrap();
        assert!(cert.spec.dns_names.is_empty());
    }

    #[test]
    fn malformed_names_object_and_field() {
        let v = json!({
            "metadata": {"name": "web-1-2", "namespace": "shop"},
            "spec": {"dnsName": "a.example", "token": 5},
        });
        let err = decode::<Challenge>("Challenge", &v).unwrap_err();
        assert_eq!(err.object, "Challenge shop/web-1-2");
        assert_eq!(err.field, "spec.token");
        assert!(
            err.message.contains("invalid type: integer `5`"),
            "{}",
            err.message
        );
        let v = json!({"metadata": {"name": "w", "namespace": "shop"},
            "spec": {"dnsNames": "a.example"}});
        let err = decode::<Certificate>("Certificate", &v).unwrap_err();
        assert_eq!(err.field, "spec.dnsNames");
        assert_eq!(
            err.to_string(),
            format!(
                "Certificate shop/w is malformed: field spec.dnsNames: {}",
                err.message
            )
        );
        let err = decode::<Certificate>("Certificate", &json!([1])).unwrap_err();
        assert!(err.message.contains("expected an object"));
    }

    #[test]
    fn raw_meta_is_lenient() {
        let v = json!({"metadata": {"name": "p", "labels": {"a": "1", "b": 2},
            "ownerReferences": [{"kind": "X", "uid": "o", "controller": false},
                                {"kind": "Challenge", "uid": "c1", "controller": true}]}});
        let m = RawMeta::of(&v);
        assert_eq!(m.labels.len(), 1);
        assert!(m.controlled_by("c1"));
        assert!(!m.controlled_by("o"));
        assert!(!m.controlled_by(""));
        let m = RawMeta::of(&json!("junk"));
        assert_eq!(m, RawMeta::default());
    }
}
