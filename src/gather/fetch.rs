//! The I/O half of gather: a fixed, small set of API requests into a raw [`Snapshot`].
//!
//! Request plan (one request each; the count does not depend on the number of certificates):
//!
//! | what | one certificate | several names / `--all` | `-A` |
//! |---|---|---|---|
//! | certificates | get | list in namespace | list all |
//! | certificaterequests, orders, challenges | list in namespace | list in namespace | list all |
//! | issuer | get (Issuer or ClusterIssuer) | list issuers in ns + clusterissuers | list all + clusterissuers |
//! | pods (`acme.cert-manager.io/http01-solver` label) | list in namespace | list in namespace | list all |
//! | services, ingresses, httproutes, deployments, gateways | list all | list all | list all |
//! | ingressclasses | list | list | list |
//!
//! That is 12 requests for one certificate. Only the "certificate not found" error path makes
//! one more (a list of the namespace's certificates, for suggestions). Secrets are never read,
//! nothing is written.

use super::client::{Transport, error_chain};
use super::types::{self, Kind, RawMeta};
use crate::error::UserError;
use crate::evidence::IssuerRef;
use kube::api::{GetParams, ListParams, Request};
use serde_json::Value;
use std::collections::BTreeMap;

/// What to diagnose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Namespace of the certificates (ignored with `all_namespaces`).
    pub namespace: String,
    /// Certificate names; empty with `--all`.
    pub names: Vec<String>,
    /// Every certificate that is not Ready.
    pub all: bool,
    /// Across every namespace (`-A`).
    pub all_namespaces: bool,
}

impl Scope {
    /// The namespace to list chain objects in; `None` = all namespaces.
    pub fn list_namespace(&self) -> Option<&str> {
        (!self.all_namespaces).then_some(self.namespace.as_str())
    }
}

/// The raw objects one run read, per kind. Pure data: [`super::assemble()`] turns it into evidence,
/// and tests build it from YAML fixtures with [`Snapshot::from_objects`].
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub scope: Scope,
    pub certificates: Vec<Value>,
    pub certificate_requests: Vec<Value>,
    pub orders: Vec<Value>,
    pub challenges: Vec<Value>,
    pub issuers: Vec<Value>,
    pub cluster_issuers: Vec<Value>,
    pub pods: Vec<Value>,
    pub services: Vec<Value>,
    pub ingresses: Vec<Value>,
    pub ingress_classes: Vec<Value>,
    pub deployments: Vec<Value>,
    pub http_routes: Vec<Value>,
    pub gateways: Vec<Value>,
    pub gateway_api_installed: bool,
    /// Optional context that could not be read, one plain sentence each.
    pub unreadable: Vec<String>,
    /// Why an issuer could not be read (`Issuer shop/le` or `ClusterIssuer le` -> reason).
    pub issuer_problems: BTreeMap<String, String>,
}

impl Snapshot {
    /// Sort objects into their kinds by `apiVersion` and `kind` (unknown kinds are ignored).
    /// Gateway API counts as installed. For tests and fixtures.
    pub fn from_objects(scope: Scope, objects: impl IntoIterator<Item = Value>) -> Snapshot {
        let mut s = Snapshot {
            scope,
            gateway_api_installed: true,
            ..Default::default()
        };
        for o in objects {
            let api_version = o["apiVersion"].as_str().unwrap_or_default();
            let kind = o["kind"].as_str().unwrap_or_default();
            if let Some(k) = types::ALL_KINDS
                .iter()
                .find(|k| k.kind == kind && k.api_version() == api_version)
            {
                s.bucket(k).push(o);
            }
        }
        s
    }

    fn bucket(&mut self, k: &Kind) -> &mut Vec<Value> {
        match k.kind {
            "Certificate" => &mut self.certificates,
            "CertificateRequest" => &mut self.certificate_requests,
            "Order" => &mut self.orders,
            "Challenge" => &mut self.challenges,
            "Issuer" => &mut self.issuers,
            "ClusterIssuer" => &mut self.cluster_issuers,
            "Pod" => &mut self.pods,
            "Service" => &mut self.services,
            "Ingress" => &mut self.ingresses,
            "IngressClass" => &mut self.ingress_classes,
            "Deployment" => &mut self.deployments,
            "HTTPRoute" => &mut self.http_routes,
            _ => &mut self.gateways,
        }
    }
}

/// The label every solver pod carries; the pod list is restricted to it.
pub const SOLVER_LABEL: &str = "acme.cert-manager.io/http01-solver";

// ---------------------------------------------------------------------------------------------
// Requests and their failures
// ---------------------------------------------------------------------------------------------

/// One API request, for messages.
#[derive(Debug, Clone)]
struct Req {
    verb: &'static str,
    kind: Kind,
    namespace: Option<String>,
    name: Option<String>,
}

impl Req {
    fn list(kind: Kind, namespace: Option<&str>) -> Req {
        let namespace = namespace.filter(|_| kind.namespaced).map(str::to_string);
        Req {
            verb: "list",
            kind,
            namespace,
            name: None,
        }
    }
    fn get(kind: Kind, namespace: Option<&str>, name: &str) -> Req {
        let namespace = namespace.filter(|_| kind.namespaced).map(str::to_string);
        Req {
            verb: "get",
            kind,
            namespace,
            name: Some(name.to_string()),
        }
    }
    /// `in namespace "shop"`, `in all namespaces` or `(cluster-scoped)`.
    fn place(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("in namespace \"{ns}\""),
            None if self.kind.namespaced => "in all namespaces".into(),
            None => "(cluster-scoped)".into(),
        }
    }
    fn describe(&self) -> String {
        let target = match &self.name {
            Some(n) => format!("{} \"{n}\"", self.kind.resource_name()),
            None => self.kind.resource_name(),
        };
        format!("{} {target} {}", self.verb, self.place())
    }
}

/// Why a request failed, classified.
#[derive(Debug)]
enum Failure {
    /// 404. `resource_missing`: the resource type itself is not served (CRD absent).
    NotFound {
        resource_missing: bool,
    },
    Forbidden(String),
    /// Everything else, already phrased for the user.
    Other(UserError),
}

fn classify(e: kube::Error, req: &Req) -> Failure {
    match e {
        kube::Error::Api(status) => match status.code {
            404 => {
                let named = status.details.as_ref().is_some_and(|d| !d.name.is_empty());
                Failure::NotFound { resource_missing: req.name.is_none() || !named }
            }
            403 => Failure::Forbidden(status.message.clone()),
            401 => Failure::Other(
                UserError::new(format!("the API server rejected the credentials ({})", req.describe()))
                    .why(status.message.clone())
                    .hint("log in again or refresh the token of the kubeconfig user (kubectl get --raw /version shows whether kubectl can)"),
            ),
            code => Failure::Other(
                UserError::new(format!("the API server refused to {}", req.describe())).why(format!(
                    "HTTP {code} {}: {}",
                    status.reason, status.message
                )),
            ),
        },
        kube::Error::Service(boxed) => match boxed.downcast::<Transport>() {
            Ok(t) => Failure::Other(transport_error(&t)),
            Err(other) => Failure::Other(
                UserError::new("cannot reach the Kubernetes API server").why(error_chain(other.as_ref())),
            ),
        },
        kube::Error::SerdeError(e) => Failure::Other(
            UserError::new(format!("the API server's answer to \"{}\" is not the JSON expected", req.describe()))
                .why(e.to_string()),
        ),
        other => Failure::Other(
            UserError::new(format!("cannot {}", req.describe())).why(error_chain(&other)),
        ),
    }
}

/// `what: why` of a UserError, for one-line notes.
fn what_why(e: &UserError) -> String {
    match &e.why {
        Some(why) => format!("{}: {why}", e.what),
        None => e.what.clone(),
    }
}

fn transport_error(t: &Transport) -> UserError {
    // Authentication (exec plugins, token files) fails inside the client stack too.
    if let Some(kube::Error::Auth(a)) = t.source.downcast_ref::<kube::Error>() {
        return UserError::new(format!("cannot authenticate to the API server at {}", t.server))
            .why(error_chain(a))
            .hint("check the kubeconfig user's credentials or exec plugin (try: kubectl get --raw /version)");
    }
    UserError::new(format!("cannot reach the Kubernetes API server at {}", t.server))
        .why(t.to_string())
        .hint("check that the kubeconfig context is the right one (--context), and your VPN or network connection to the cluster")
}

fn forbidden_error(req: &Req, message: &str) -> UserError {
    let res = req.kind.resource_name();
    let group = if req.kind.group.is_empty() {
        "\"\" (core)".to_string()
    } else {
        format!("\"{}\"", req.kind.group)
    };
    let grant = match &req.namespace {
        Some(ns) => format!(
            "kubectl create role acmecheck-read --verb=get,list --resource={res} -n {ns} && \
             kubectl create rolebinding acmecheck-read --role=acmecheck-read --user=<you> -n {ns}"
        ),
        None => format!(
            "kubectl create clusterrole acmecheck-read --verb=get,list --resource={res} && \
             kubectl create clusterrolebinding acmecheck-read --clusterrole=acmecheck-read --user=<you>"
        ),
    };
    UserError::new(format!("forbidden: cannot {}", req.describe()))
        .why(format!(
            "{message} (needs verb \"{}\" on resource \"{}\" in API group {group} {})",
            req.verb,
            req.kind.plural,
            req.place()
        ))
        .hint(format!("ask an admin for read access, e.g.: {grant}"))
}

fn not_installed(kind: &Kind) -> UserError {
    UserError::new(format!(
        "cert-manager is not installed in this cluster (no {} API)",
        kind.resource_name()
    ))
    .hint("install cert-manager (https://cert-manager.io/docs/installation/), or check that --context points at the right cluster")
}

async fn list(
    client: &kube::Client,
    req: &Req,
    selector: Option<&str>,
) -> Result<Vec<Value>, Failure> {
    let path = req.kind.url_path(req.namespace.as_deref());
    let mut lp = ListParams::default();
    if let Some(sel) = selector {
        lp = lp.labels(sel);
    }
    let http = Request::new(path).list(&lp).map_err(|e| {
        Failure::Other(
            UserError::new(format!("cannot build the request to {}", req.describe()))
                .why(e.to_string()),
        )
    })?;
    tracing::debug!(request = %req.describe(), "GET {}", http.uri());
    let v: Value = client.request(http).await.map_err(|e| classify(e, req))?;
    match v.get("items") {
        Some(Value::Array(items)) => Ok(items.clone()),
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(_) => Err(Failure::Other(UserError::new(format!(
            "the API server's answer to \"{}\" has no list of items",
            req.describe()
        )))),
    }
}

async fn get(client: &kube::Client, req: &Req) -> Result<Value, Failure> {
    let path = req.kind.url_path(req.namespace.as_deref());
    let name = req.name.as_deref().unwrap_or_default();
    let http = Request::new(path)
        .get(name, &GetParams::default())
        .map_err(|e| {
            Failure::Other(
                UserError::new(format!("cannot build the request to {}", req.describe()))
                    .why(e.to_string()),
            )
        })?;
    tracing::debug!(request = %req.describe(), "GET {}", http.uri());
    client.request(http).await.map_err(|e| classify(e, req))
}

/// A chain list (certificates, requests, orders, challenges): every failure stops the run.
async fn chain_list(
    client: &kube::Client,
    kind: Kind,
    ns: Option<&str>,
) -> Result<Vec<Value>, UserError> {
    let req = Req::list(kind, ns);
    list(client, &req, None).await.map_err(|f| match f {
        Failure::NotFound { .. } => not_installed(&kind),
        Failure::Forbidden(m) => forbidden_error(&req, &m),
        Failure::Other(e) => e,
    })
}

/// Optional context: a failure is noted and the run goes on. 404 = the API is not served.
async fn context_list(
    client: &kube::Client,
    kind: Kind,
    ns: Option<&str>,
    selector: Option<&str>,
) -> (Vec<Value>, Option<String>, bool) {
    let req = Req::list(kind, ns);
    match list(client, &req, selector).await {
        Ok(items) => (items, None, true),
        Err(Failure::NotFound { .. }) => (Vec::new(), None, false),
        Err(Failure::Forbidden(_)) => (
            Vec::new(),
            Some(format!(
                "could not {}: forbidden (needs list on {})",
                req.describe(),
                kind.resource_name()
            )),
            true,
        ),
        Err(Failure::Other(e)) => (
            Vec::new(),
            Some(format!("could not {}: {}", req.describe(), what_why(&e))),
            true,
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Certificates and suggestions
// ---------------------------------------------------------------------------------------------

async fn fetch_certificates(client: &kube::Client, scope: &Scope) -> Result<Vec<Value>, UserError> {
    let ns = scope.list_namespace();
    if let [name] = scope.names.as_slice()
        && !scope.all_namespaces
    {
        let req = Req::get(types::CERTIFICATES, ns, name);
        return match get(client, &req).await {
            Ok(v) => Ok(vec![v]),
            Err(Failure::NotFound { .. }) => {
                // Error path only: one list, to tell "no such certificate" (with suggestions)
                // from "no such API" and to suggest close names.
                let all = chain_list(client, types::CERTIFICATES, ns).await?;
                Err(not_found(scope, &all).unwrap_or_else(|| {
                    UserError::new(format!(
                        "certificate \"{name}\" could not be read {}",
                        req.place()
                    ))
                }))
            }
            Err(Failure::Forbidden(m)) => Err(forbidden_error(&req, &m)),
            Err(Failure::Other(e)) => Err(e),
        };
    }
    let all = chain_list(client, types::CERTIFICATES, ns).await?;
    if let Some(e) = not_found(scope, &all) {
        return Err(e);
    }
    Ok(all)
}

/// The error for the first requested name that is not among `existing`, with close names.
pub(crate) fn not_found(scope: &Scope, existing: &[Value]) -> Option<UserError> {
    let names: Vec<String> = existing.iter().map(|v| RawMeta::of(v).name).collect();
    let missing = scope.names.iter().find(|n| !names.contains(n))?;
    let place = match scope.list_namespace() {
        Some(ns) => format!("in namespace \"{ns}\""),
        None => "in any namespace".into(),
    };
    let close = super::suggest::close_names(missing, &names);
    let hint = if !close.is_empty() {
        format!(
            "did you mean {}?",
            close
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    } else if names.is_empty() {
        format!("there are no certificates {place}; pick the namespace with -n, or use --all -A")
    } else {
        format!(
            "list them with: kubectl get certificates {}",
            match scope.list_namespace() {
                Some(ns) => format!("-n {ns}"),
                None => "-A".into(),
            }
        )
    };
    Some(UserError::new(format!("certificate \"{missing}\" not found {place}")).hint(hint))
}

// ---------------------------------------------------------------------------------------------
// The whole fetch
// ---------------------------------------------------------------------------------------------

/// Read everything gather needs, in a fixed number of requests (see the module docs).
pub async fn fetch(client: &kube::Client, scope: &Scope) -> Result<Snapshot, UserError> {
    let certificates = fetch_certificates(client, scope).await?;
    let ns = scope.list_namespace();
    // With one named certificate in one namespace, get its issuer; otherwise list issuers.
    let single = (!scope.all && scope.names.len() == 1 && !scope.all_namespaces)
        .then(|| certificates.first())
        .flatten();
    let refs: Vec<IssuerRef> = certificates
        .iter()
        .filter_map(|c| serde_json::from_value(c["spec"]["issuerRef"].clone()).ok())
        .filter(|r: &IssuerRef| {
            r.group
                .as_deref()
                .is_none_or(|g| g.is_empty() || g == "cert-manager.io")
        })
        .collect();

    let issuers_fut = async {
        let mut problems = BTreeMap::new();
        let mut issuers = Vec::new();
        let mut cluster_issuers = Vec::new();
        if let Some(cert) = single {
            let cert_ns = RawMeta::of(cert).namespace;
            if let Some(r) = refs.first() {
                let (kind, is_cluster) = if r.is_cluster_issuer() {
                    (types::CLUSTER_ISSUERS, true)
                } else {
                    (types::ISSUERS, false)
                };
                let req = Req::get(kind, Some(&cert_ns), &r.name);
                let key = if is_cluster {
                    format!("ClusterIssuer {}", r.name)
                } else {
                    format!("Issuer {cert_ns}/{}", r.name)
                };
                match get(client, &req).await {
                    Ok(v) if is_cluster => cluster_issuers.push(v),
                    Ok(v) => issuers.push(v),
                    Err(Failure::NotFound {
                        resource_missing: false,
                    }) => {
                        problems.insert(key.clone(), format!("{key} not found"));
                    }
                    Err(Failure::NotFound {
                        resource_missing: true,
                    }) => {
                        problems.insert(
                            key.clone(),
                            format!("{key}: the {} API is not served", kind.resource_name()),
                        );
                    }
                    Err(Failure::Forbidden(_)) => {
                        problems.insert(
                            key.clone(),
                            format!("{key}: forbidden (needs get on {})", kind.resource_name()),
                        );
                    }
                    Err(Failure::Other(e)) => {
                        problems.insert(key.clone(), format!("{key}: {}", what_why(&e)));
                    }
                }
            }
            return (issuers, cluster_issuers, problems, Vec::new());
        }
        let mut notes = Vec::new();
        if refs.iter().any(|r| !r.is_cluster_issuer()) {
            let (items, note, _) = context_list(client, types::ISSUERS, ns, None).await;
            issuers = items;
            notes.extend(note);
        }
        if refs.iter().any(|r| r.is_cluster_issuer()) {
            let (items, note, _) = context_list(client, types::CLUSTER_ISSUERS, None, None).await;
            cluster_issuers = items;
            notes.extend(note);
        }
        (issuers, cluster_issuers, problems, notes)
    };

    // Solver pods live in the certificate's namespace (or all, with -A).
    let pod_ns = match single {
        Some(c) => Some(RawMeta::of(c).namespace),
        None => ns.map(str::to_string),
    };
    let chain_ns = pod_ns.clone();
    let selector = SOLVER_LABEL.to_string();

    let (
        crs,
        orders,
        challenges,
        issuers,
        pods,
        services,
        ingresses,
        classes,
        deployments,
        routes,
        gateways,
    ) = futures::join!(
        chain_list(client, types::CERTIFICATE_REQUESTS, chain_ns.as_deref()),
        chain_list(client, types::ORDERS, chain_ns.as_deref()),
        chain_list(client, types::CHALLENGES, chain_ns.as_deref()),
        issuers_fut,
        context_list(client, types::PODS, pod_ns.as_deref(), Some(&selector)),
        context_list(client, types::SERVICES, None, None),
        context_list(client, types::INGRESSES, None, None),
        context_list(client, types::INGRESS_CLASSES, None, None),
        context_list(client, types::DEPLOYMENTS, None, None),
        context_list(client, types::HTTP_ROUTES, None, None),
        context_list(client, types::GATEWAYS, None, None),
    );
    let (issuers, cluster_issuers, issuer_problems, mut unreadable) = issuers;
    let mut snap = Snapshot {
        scope: scope.clone(),
        certificates,
        certificate_requests: crs?,
        orders: orders?,
        challenges: challenges?,
        issuers,
        cluster_issuers,
        issuer_problems,
        gateway_api_installed: routes.2 || gateways.2,
        ..Default::default()
    };
    let mut take = |(items, note, _): (Vec<Value>, Option<String>, bool), dst: &mut Vec<Value>| {
        *dst = items;
        unreadable.extend(note);
    };
    take(pods, &mut snap.pods);
    take(services, &mut snap.services);
    take(ingresses, &mut snap.ingresses);
    take(classes, &mut snap.ingress_classes);
    take(deployments, &mut snap.deployments);
    take(routes, &mut snap.http_routes);
    take(gateways, &mut snap.gateways);
    snap.unreadable = unreadable;
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forbidden_message_names_the_permission() {
        let req = Req::list(types::CHALLENGES, Some("shop"));
        let e = forbidden_error(
            &req,
            "challenges.acme.cert-manager.io is forbidden: User \"jane\" cannot list",
        )
        .to_string();
        assert!(
            e.contains("cannot list challenges.acme.cert-manager.io in namespace \"shop\""),
            "{e}"
        );
        assert!(e.contains("needs verb \"list\" on resource \"challenges\" in API group \"acme.cert-manager.io\""), "{e}");
        assert!(e.contains("kubectl create role acmecheck-read --verb=get,list --resource=challenges.acme.cert-manager.io -n shop"), "{e}");
        let req = Req::list(types::PODS, None);
        let e = forbidden_error(&req, "no").to_string();
        assert!(e.contains("in all namespaces"), "{e}");
        assert!(e.contains("API group \"\" (core)"), "{e}");
        assert!(
            e.contains("kubectl create clusterrole acmecheck-read --verb=get,list --resource=pods"),
            "{e}"
        );
    }

    #[test]
    fn not_found_suggests_close_names() {
        let scope = Scope {
            namespace: "shop".into(),
            names: vec!["web-tsl".into()],
            ..Default::default()
        };
        let existing = vec![
            json!({"metadata": {"name": "web-tls"}}),
            json!({"metadata": {"name": "api-tls"}}),
            json!({"metadata": {"name": "zzz"}}),
        ];
        let e = not_found(&scope, &existing).unwrap().to_string();
        assert!(
            e.contains("certificate \"web-tsl\" not found in namespace \"shop\""),
            "{e}"
        );
        assert!(e.contains("did you mean \"web-tls\""), "{e}");
        assert!(!e.contains("zzz"), "{e}");
        let e = not_found(&scope, &[]).unwrap().to_string();
        assert!(
            e.contains("there are no certificates in namespace \"shop\""),
            "{e}"
        );
        let scope = Scope {
            names: vec!["zzz".into()],
            ..scope
        };
        assert!(not_found(&scope, &existing).is_none());
    }

    #[test]
    fn from_objects_routes_by_kind() {
        let s = Snapshot::from_objects(
            Scope::default(),
            vec![
                json!({"apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge"}),
                json!({"apiVersion": "v1", "kind": "Pod"}),
                json!({"apiVersion": "v1", "kind": "ConfigMap"}),
                json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway"}),
            ],
        );
        assert_eq!(
            (s.challenges.len(), s.pods.len(), s.gateways.len()),
            (1, 1, 1)
        );
        assert!(s.services.is_empty());
    }
}
