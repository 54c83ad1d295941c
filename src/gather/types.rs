//! Client-side models of the objects gather reads, and path-aware decoding.
//!
//! The cert-manager and Gateway API kinds are small serde structs with only the fields the
//! diagnosis reads (the `kube::api::Object<Spec, Status>` pattern, without the `derive`
//! feature): every field has a default, unknown fields are ignored, so older and newer
//! versions parse. Built-in kinds use k8s-openapi. A value of the wrong type is reported with
//! the object and the field path (`Challenge shop/web-1 is malformed: spec.token: ...`).

use crate::evidence::{AcmeIssuer, Condition, IssuerRef, ParentRef, RouteParentEvidence, Solver};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `null` reads as the default (the API server omits fields; fixtures sometimes write `null`).
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A Kubernetes object with typed spec and status (missing spec/status read as defaults).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(
    default,
    bound(deserialize = "S: Deserialize<'de> + Default, T: Deserialize<'de> + Default")
)]
pub struct Obj<S: Default, T: Default> {
    #[serde(deserialize_with = "null_default")]
    pub metadata: ObjectMeta,
    #[serde(deserialize_with = "null_default")]
    pub spec: S,
    #[serde(deserialize_with = "null_default")]
    pub status: T,
}

impl<S: Default, T: Default> Obj<S, T> {
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or("")
    }
    pub fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or("")
    }
    pub fn uid(&self) -> &str {
        self.metadata.uid.as_deref().unwrap_or("")
    }
}

/// The UID of the controller ownerReference (`metav1.GetControllerOf`).
pub fn controller_uid(meta: &ObjectMeta) -> Option<&str> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
        .map(|o| o.uid.as_str())
}

// ---------------------------------------------------------------------------------------------
// cert-manager.io/v1
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CertificateSpec {
    #[serde(deserialize_with = "null_default")]
    pub dns_names: Vec<String>,
    #[serde(deserialize_with = "null_default")]
    pub ip_addresses: Vec<String>,
    pub common_name: Option<String>,
    pub secret_name: String,
    #[serde(deserialize_with = "null_default")]
    pub issuer_ref: IssuerRef,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CertificateStatus {
    #[serde(deserialize_with = "null_default")]
    pub conditions: Vec<Condition>,
    pub revision: Option<i64>,
    pub last_failure_time: Option<String>,
    pub failed_issuance_attempts: Option<i64>,
    pub not_after: Option<String>,
    pub renewal_time: Option<String>,
}

pub type Certificate = Obj<CertificateSpec, CertificateStatus>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CertificateRequestSpec {
    #[serde(deserialize_with = "null_default")]
    pub issuer_ref: IssuerRef,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CertificateRequestStatus {
    #[serde(deserialize_with = "null_default")]
    pub conditions: Vec<Condition>,
    pub failure_time: Option<String>,
}

pub type CertificateRequest = Obj<CertificateRequestSpec, CertificateRequestStatus>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IssuerSpec {
    pub acme: Option<AcmeIssuer>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IssuerStatus {
    #[serde(deserialize_with = "null_default")]
    pub conditions: Vec<Condition>,
}

/// Issuer and ClusterIssuer have the same shape.
pub type Issuer = Obj<IssuerSpec, IssuerStatus>;

// ---------------------------------------------------------------------------------------------
// acme.cert-manager.io/v1
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderSpec {
    #[serde(deserialize_with = "null_default")]
    pub dns_names: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderStatus {
    pub url: Option<String>,
    pub state: Option<String>,
    pub reason: Option<String>,
    pub failure_time: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub authorizations: Vec<Authorization>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Authorization {
    pub url: String,
    pub identifier: String,
    pub wildcard: Option<bool>,
    pub initial_state: Option<String>,
    #[serde(deserialize_with = "null_default")]
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

pub type Order = Obj<OrderSpec, OrderStatus>;

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
    #[serde(deserialize_with = "null_default")]
    pub solver: Solver,
    #[serde(deserialize_with = "null_default")]
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

pub type Challenge = Obj<ChallengeSpec, ChallengeStatus>;

// ---------------------------------------------------------------------------------------------
// gateway.networking.k8s.io/v1
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRouteSpec {
    #[serde(deserialize_with = "null_default")]
    pub hostnames: Vec<String>,
    #[serde(deserialize_with = "null_default")]
    pub parent_refs: Vec<ParentRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRouteStatus {
    #[serde(deserialize_with = "null_default")]
    pub parents: Vec<RouteParentEvidence>,
}

pub type HttpRoute = Obj<HttpRouteSpec, HttpRouteStatus>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewaySpec {
    pub gateway_class_name: String,
    #[serde(deserialize_with = "null_default")]
    pub listeners: Vec<Listener>,
    #[serde(deserialize_with = "null_default")]
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
    #[serde(deserialize_with = "null_default")]
    pub addresses: Vec<GatewayAddress>,
    #[serde(deserialize_with = "null_default")]
    pub conditions: Vec<Condition>,
}

pub type Gateway = Obj<GatewaySpec, GatewayStatus>;

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// `<namespace>/<name>` (or `<name>`) of a raw object, for messages.
pub fn raw_ident(v: &Value) -> String {
    let meta = v.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>");
    match meta
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
    {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_owned(),
    }
}

/// Decode one object; on a type error say which object and which field.
pub fn decode<T: DeserializeOwned>(kind: &str, v: Value) -> Result<T, String> {
    let ident = raw_ident(&v);
    serde_path_to_error::deserialize::<_, T>(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            format!("{kind} {ident} is malformed: {inner}")
        } else {
            format!("{kind} {ident} is malformed: field {path}: {inner}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_and_missing_fields_are_fine() {
        let c: Challenge = decode(
            "Challenge",
            json!({
                "metadata": {"name": "web-1", "namespace": "shop", "uid": "u1",
                    "ownerReferences": [{"apiVersion": "acme.cert-manager.io/v1", "kind": "Order",
                        "name": "o", "uid": "o1", "controller": true}]},
                "spec": {"dnsName": "www.example.com", "futureField": {"x": 1}},
            }),
        )
        .unwrap();
        assert_eq!(c.spec.dns_name, "www.example.com");
        assert_eq!(c.spec.token, "");
        assert!(!c.status.processing);
        assert_eq!(controller_uid(&c.metadata), Some("o1"));
    }

    #[test]
    fn null_spec_and_status_read_as_defaults() {
        let c: Certificate = decode(
            "Certificate",
            json!({"metadata": {"name": "web"}, "spec": null, "status": null}),
        )
        .unwrap();
        assert!(c.spec.dns_names.is_empty());
        assert_eq!(c.status.revision, None);
    }

    #[test]
    fn wrong_type_names_object_and_field() {
        let err = decode::<Challenge>(
            "Challenge",
            json!({"metadata": {"name": "web-1", "namespace": "shop"},
                   "spec": {"token": 42}}),
        )
        .unwrap_err();
        assert!(err.contains("Challenge shop/web-1 is malformed"), "{err}");
        assert!(err.contains("spec.token"), "{err}");
        assert!(err.contains("expected a string"), "{err}");

        let err = decode::<Certificate>(
            "Certificate",
            json!({"metadata": {"name": "web", "namespace": "shop"},
                   "status": {"revision": "two"}}),
        )
        .unwrap_err();
        assert!(err.contains("status.revision"), "{err}");

        let err = decode::<k8s_openapi::api::core::v1::Pod>(
            "Pod",
            json!({"metadata": {"name": "p", "namespace": "shop"},
                   "status": {"containerStatuses": {"oops": 1}}}),
        )
        .unwrap_err();
        assert!(err.contains("Pod shop/p is malformed"), "{err}");
        assert!(err.contains("status.containerStatuses"), "{err}");
    }
}
