//! The raw result of the API reads: typed lists, one per kind, plus what could not be read.

use super::types::{
    self, Certificate, CertificateRequest, Challenge, Gateway, HttpRoute, Issuer, Order,
};
use crate::error::UserError;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use serde_json::Value;

/// Every object gather read, unjoined. [`super::assemble::assemble`] joins it in memory.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub certificates: Vec<Certificate>,
    pub requests: Vec<CertificateRequest>,
    pub orders: Vec<Order>,
    pub challenges: Vec<Challenge>,
    pub issuers: Vec<Issuer>,
    pub cluster_issuers: Vec<Issuer>,
    /// Why Issuers / ClusterIssuers could not be read (forbidden, ...); None = read fine.
    pub issuers_error: Option<String>,
    pub cluster_issuers_error: Option<String>,
    /// Solver pods (label `acme.cert-manager.io/http01-solver`).
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub ingresses: Vec<Ingress>,
    pub httproutes: Vec<HttpRoute>,
    pub ingress_classes: Vec<IngressClass>,
    pub deployments: Vec<Deployment>,
    pub gateways: Vec<Gateway>,
    pub cert_manager_installed: bool,
    pub gateway_api_installed: bool,
    /// Optional context that could not be read, said plainly.
    pub unreadable: Vec<String>,
    /// When the reads started, seconds since 1970 (UTC); None for fixtures.
    pub now: Option<i64>,
}

/// How a decode failure is handled: chain objects stop the run, context objects are skipped.
fn push_decoded<T: serde::de::DeserializeOwned>(
    kind: &str,
    v: Value,
    out: &mut Vec<T>,
    unreadable: &mut Vec<String>,
    fatal: bool,
) -> Result<(), UserError> {
    match types::decode::<T>(kind, v) {
        Ok(o) => out.push(o),
        Err(msg) if fatal => {
            return Err(UserError::new(msg).hint(format!(
                "look at it with kubectl get {} -o yaml; it does not match the {kind} schema",
                kind.to_ascii_lowercase()
            )));
        }
        Err(msg) => unreadable.push(format!("{msg} (skipped)")),
    }
    Ok(())
}

/// A list response with its items still raw.
#[derive(serde::Deserialize)]
pub struct RawList {
    #[serde(default)]
    pub items: Option<Vec<Value>>,
}

#[derive(serde::Deserialize)]
#[serde(bound(deserialize = "T: serde::de::DeserializeOwned"))]
struct TypedList<T> {
    #[serde(default)]
    items: Option<Vec<T>>,
}

/// Decode a whole list response. Fast path: straight into the typed structs; if that fails,
/// go object by object to name the malformed one and its field.
fn decode_list<T: serde::de::DeserializeOwned>(
    kind: &str,
    text: &str,
    out: &mut Vec<T>,
    unreadable: &mut Vec<String>,
    fatal: bool,
) -> Result<(), UserError> {
    if let Ok(list) = serde_json::from_str::<TypedList<T>>(text) {
        out.extend(list.items.unwrap_or_default());
        return Ok(());
    }
    let raw: RawList = serde_json::from_str(text).map_err(|e| {
        UserError::new(format!(
            "the API server sent a {kind} list that is not JSON"
        ))
        .why(e.to_string())
    })?;
    for v in raw.items.unwrap_or_default() {
        push_decoded(kind, v, out, unreadable, fatal)?;
    }
    Ok(())
}

/// Apply `$f(kind, $arg, &mut <the list for kind>, &mut unreadable, fatal)`.
macro_rules! dispatch {
    ($self:ident, $kind:expr, $f:ident, $arg:expr) => {{
        let un = &mut $self.unreadable;
        match $kind {
            "Certificate" => $f($kind, $arg, &mut $self.certificates, un, true),
            "CertificateRequest" => $f($kind, $arg, &mut $self.requests, un, true),
            "Order" => $f($kind, $arg, &mut $self.orders, un, true),
            "Challenge" => $f($kind, $arg, &mut $self.challenges, un, true),
            "Issuer" => $f($kind, $arg, &mut $self.issuers, un, true),
            "ClusterIssuer" => $f($kind, $arg, &mut $self.cluster_issuers, un, true),
            "Pod" => $f($kind, $arg, &mut $self.pods, un, false),
            "Service" => $f($kind, $arg, &mut $self.services, un, false),
            "Ingress" => $f($kind, $arg, &mut $self.ingresses, un, false),
            "HTTPRoute" => $f($kind, $arg, &mut $self.httproutes, un, false),
            "IngressClass" => $f($kind, $arg, &mut $self.ingress_classes, un, false),
            "Deployment" => $f($kind, $arg, &mut $self.deployments, un, false),
            "Gateway" => $f($kind, $arg, &mut $self.gateways, un, false),
            _ => Ok(()),
        }
    }};
}

impl Snapshot {
    /// Add one raw object of the given kind (as the API returns it) to the snapshot.
    ///
    /// A malformed cert-manager object is an error naming the object and the field; a malformed
    /// context object (Pod, Service, ...) is skipped and recorded in `unreadable`.
    pub fn add(&mut self, kind: &str, v: Value) -> Result<(), UserError> {
        dispatch!(self, kind, push_decoded, v)
    }

    /// Add every item of a list response body (JSON text), with the same rules as [`Self::add`].
    pub fn add_list(&mut self, kind: &str, text: &str) -> Result<(), UserError> {
        dispatch!(self, kind, decode_list, text)
    }

    /// Build a snapshot from loose objects (each with `kind`), e.g. YAML fixtures. Both CRD
    /// families count as installed.
    pub fn from_objects(objects: impl IntoIterator<Item = Value>) -> Result<Self, UserError> {
        let mut snap = Snapshot {
            cert_manager_installed: true,
            gateway_api_installed: true,
            ..Snapshot::default()
        };
        for v in objects {
            let kind = v
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            snap.add(&kind, v)?;
        }
        Ok(snap)
    }

    /// Parse multi-document YAML (fixtures) into a snapshot.
    pub fn from_yaml(text: &str) -> Result<Self, UserError> {
        let docs: Vec<Value> = serde_saphyr::from_multiple(text)
            .map_err(|e| UserError::new("cannot parse YAML objects").why(e.to_string()))?;
        Self::from_objects(docs.into_iter().filter(|d| !d.is_null()))
    }
}
