//! The API reads: one request per kind, never per certificate. Read-only; never Secrets.

use super::Scope;
use super::client::Unreachable;
use super::snapshot::{RawList, Snapshot};
use crate::error::UserError;
use crate::evidence::condition;
use kube::api::ListParams;
use kube::core::Status;
use serde_json::Value;

/// An API resource (group/version/plural), enough to build URLs and messages.
#[derive(Debug, Clone, Copy)]
pub struct Res {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
}

const fn res(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> Res {
    Res {
        group,
        version,
        plural,
        kind,
        namespaced,
    }
}

pub const CERTIFICATES: Res = res("cert-manager.io", "v1", "certificates", "Certificate", true);
pub const CERTIFICATE_REQUESTS: Res = res(
    "cert-manager.io",
    "v1",
    "certificaterequests",
    "CertificateRequest",
    true,
);
pub const ISSUERS: Res = res("cert-manager.io", "v1", "issuers", "Issuer", true);
pub const CLUSTER_ISSUERS: Res = res(
    "cert-manager.io",
    "v1",
    "clusterissuers",
    "ClusterIssuer",
    false,
);
pub const ORDERS: Res = res("acme.cert-manager.io", "v1", "orders", "Order", true);
pub const CHALLENGES: Res = res(
    "acme.cert-manager.io",
    "v1",
    "challenges",
    "Challenge",
    true,
);
pub const PODS: Res = res("", "v1", "pods", "Pod", true);
pub const SERVICES: Res = res("", "v1", "services", "Service", true);
pub const INGRESSES: Res = res("networking.k8s.io", "v1", "ingresses", "Ingress", true);
pub const INGRESS_CLASSES: Res = res(
    "networking.k8s.io",
    "v1",
    "ingressclasses",
    "IngressClass",
    false,
);
pub const DEPLOYMENTS: Res = res("apps", "v1", "deployments", "Deployment", true);
pub const HTTP_ROUTES: Res = res(
    "gateway.networking.k8s.io",
    "v1",
    "httproutes",
    "HTTPRoute",
    true,
);
pub const GATEWAYS: Res = res(
    "gateway.networking.k8s.io",
    "v1",
    "gateways",
    "Gateway",
    true,
);

impl Res {
    /// `challenges.acme.cert-manager.io`, or `pods` for the core group.
    pub fn resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The collection URL, namespaced when `ns` is given and the kind is namespaced.
    pub fn path(&self, ns: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match ns.filter(|_| self.namespaced) {
            Some(ns) => format!("{base}/namespaces/{ns}/{}", self.plural),
            None => format!("{base}/{}", self.plural),
        }
    }
}

/// What a read returned: a list body (decoded in one go) or single objects.
pub(super) enum Fetched {
    List(String),
    Items(Vec<Value>),
}

/// A failed read, classified.
pub(super) enum ReadError {
    /// 404 for the object (it does not exist).
    ObjectNotFound,
    /// 404 for the resource type (the CRD is not installed).
    NoSuchResource,
    Forbidden(String),
    /// Anything else, already turned into a message.
    Other(UserError),
}

/// Walk an error's sources into one line, skipping repeats.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

fn find_unreachable<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Unreachable> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(u) = err.downcast_ref::<Unreachable>() {
            return Some(u);
        }
        cur = err.source();
    }
    None
}

/// Did the client's auth layer fail (exec plugin, token file, OIDC refresh)?
fn is_auth_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<kube::client::AuthError>().is_some() {
            return true;
        }
        cur = err.source();
    }
    false
}

fn classify(e: kube::Error, verb: &str, r: &Res) -> ReadError {
    match e {
        kube::Error::Api(status) => classify_status(&status, verb, r),
        other => {
            let unreachable = find_unreachable(&other);
            let server = unreachable.map(|u| u.server.clone());
            let cause = match unreachable {
                Some(u) => chain(u.source.as_ref()),
                None => chain(&other),
            };
            let is_transport =
                matches!(other, kube::Error::Service(_) | kube::Error::HyperError(_));
            let at = server.map(|s| format!(" at {s}")).unwrap_or_default();
            if is_auth_error(&other) {
                ReadError::Other(
                    UserError::new(format!(
                        "cannot authenticate to the Kubernetes API server{at}"
                    ))
                    .why(cause)
                    .hint(super::client::AUTH_HINT),
                )
            } else if is_transport {
                ReadError::Other(
                    UserError::new(format!("cannot reach the Kubernetes API server{at}"))
                        .why(cause)
                        .hint("check the kubeconfig context (kubectl config current-context), your VPN or network, and that the cluster is up"),
                )
            } else {
                ReadError::Other(
                    UserError::new(format!(
                        "unexpected answer from the API server to {verb} {}",
                        r.resource()
                    ))
                    .why(chain(&other)),
                )
            }
        }
    }
}

fn classify_status(s: &Status, verb: &str, r: &Res) -> ReadError {
    match s.code {
        404 => {
            let object = s.details.as_ref().is_some_and(|d| !d.name.is_empty());
            if object && verb == "get" {
                ReadError::ObjectNotFound
            } else {
                ReadError::NoSuchResource
            }
        }
        403 => ReadError::Forbidden(s.message.clone()),
        401 => ReadError::Other(
            UserError::new("the API server rejected the credentials (401 Unauthorized)")
                .why(s.message.clone())
                .hint("log in again or refresh the credentials of the kubeconfig user"),
        ),
        code => ReadError::Other(
            UserError::new(format!(
                "the API server answered {code} {} to {verb} {}",
                s.reason,
                r.resource()
            ))
            .why(s.message.clone()),
        ),
    }
}

fn scope_words(r: &Res, ns: Option<&str>) -> String {
    match ns.filter(|_| r.namespaced) {
        Some(ns) => format!("in namespace {ns:?}"),
        None => "cluster-wide".to_owned(),
    }
}

/// The error for a forbidden read of a chain object: what, and the RBAC rule to add.
pub fn forbidden_error(verb: &str, r: &Res, ns: Option<&str>, message: &str) -> UserError {
    let resource = r.resource();
    let hint = match ns.filter(|_| r.namespaced) {
        Some(ns) => format!(
            "ask for read access, e.g.: kubectl create role acmecheck-read --verb=get,list --resource={resource} -n {ns} && kubectl create rolebinding acmecheck-read --role=acmecheck-read --user=<you> -n {ns}"
        ),
        None => format!(
            "ask for read access, e.g.: kubectl create clusterrole acmecheck-read --verb=get,list --resource={resource} && kubectl create clusterrolebinding acmecheck-read --clusterrole=acmecheck-read --user=<you>"
        ),
    };
    UserError::new(format!(
        "not allowed to {verb} {resource} (API group {:?}) {}",
        r.group,
        scope_words(r, ns)
    ))
    .why(message.to_owned())
    .hint(hint)
}

pub(super) fn not_installed(r: &Res) -> UserError {
    UserError::new(format!(
        "cert-manager is not installed in this cluster (no {} API)",
        r.resource()
    ))
    .hint("install cert-manager (https://cert-manager.io/docs/installation/), or check that --context points at the right cluster")
}

/// Turn a chain read failure into the error the user sees.
pub(super) fn chain_error(e: ReadError, verb: &str, r: &Res, ns: Option<&str>) -> UserError {
    match e {
        ReadError::ObjectNotFound | ReadError::NoSuchResource => not_installed(r),
        ReadError::Forbidden(m) => forbidden_error(verb, r, ns, &m),
        ReadError::Other(u) => u,
    }
}

pub(super) async fn list(
    client: &kube::Client,
    r: &Res,
    ns: Option<&str>,
    selector: Option<&str>,
) -> Result<Fetched, ReadError> {
    let mut lp = ListParams::default();
    if let Some(sel) = selector {
        lp = lp.labels(sel);
    }
    let req = kube::core::Request::new(r.path(ns))
        .list(&lp)
        .map_err(|e| {
            ReadError::Other(UserError::new("cannot build a request").why(e.to_string()))
        })?;
    let text = client
        .request_text(req)
        .await
        .map_err(|e| classify(e, "list", r))?;
    Ok(Fetched::List(text))
}

pub(super) async fn get(
    client: &kube::Client,
    r: &Res,
    ns: Option<&str>,
    name: &str,
) -> Result<Value, ReadError> {
    let req = kube::core::Request::new(r.path(ns))
        .get(name, &kube::api::GetParams::default())
        .map_err(|e| {
            ReadError::Other(UserError::new("cannot build a request").why(e.to_string()))
        })?;
    client
        .request::<Value>(req)
        .await
        .map_err(|e| classify(e, "get", r))
}

/// Levenshtein distance (for "did you mean").
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Names close to `wanted`: small edit distance, or one containing the other; closest first.
pub fn suggestions(wanted: &str, names: &[String]) -> Vec<String> {
    let limit = (wanted.chars().count() / 3).max(2);
    let mut close: Vec<(usize, &String)> = names
        .iter()
        .map(|n| (edit_distance(wanted, n), n))
        .filter(|(d, n)| *d <= limit || n.contains(wanted) || wanted.contains(n.as_str()))
        .collect();
    close.sort();
    close.into_iter().take(5).map(|(_, n)| n.clone()).collect()
}

fn not_found_error(wanted: &str, ns: Option<&str>, names: &[String]) -> UserError {
    let where_ = match ns {
        Some(ns) => format!("in namespace {ns:?}"),
        None => "in any namespace".to_owned(),
    };
    let listing = match ns {
        Some(ns) => format!("kubectl get certificates -n {ns}"),
        None => "kubectl get certificates -A".to_owned(),
    };
    let close = suggestions(wanted, names);
    let err = UserError::new(format!("certificate {wanted:?} not found {where_}"));
    if !close.is_empty() {
        err.hint(format!("did you mean {}? ({listing})", close.join(", ")))
    } else if names.is_empty() {
        err.hint(format!(
            "there are no certificates {where_}; pick the namespace with -n, or use --all -A"
        ))
    } else {
        err.hint(format!("see the certificates there: {listing}"))
    }
}

pub(super) fn decode_into(
    snap: &mut Snapshot,
    kind: &str,
    fetched: Fetched,
) -> Result<(), UserError> {
    match fetched {
        Fetched::List(text) => snap.add_list(kind, &text),
        Fetched::Items(items) => items.into_iter().try_for_each(|v| snap.add(kind, v)),
    }
}

/// The raw items of a list body (for name look-ups that must not decode every object).
fn raw_items(fetched: Fetched) -> Vec<Value> {
    match fetched {
        Fetched::List(text) => serde_json::from_str::<RawList>(&text)
            .ok()
            .and_then(|l| l.items)
            .unwrap_or_default(),
        Fetched::Items(items) => items,
    }
}

fn cert_names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(|v| v.pointer("/metadata/name").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// Read the certificates in scope (step 1: fails fast on not found / not installed).
async fn certificates(
    client: &kube::Client,
    scope: &Scope,
    snap: &mut Snapshot,
) -> Result<(), UserError> {
    let ns = (!scope.all_namespaces).then_some(scope.namespace.as_str());
    let r = &CERTIFICATES;
    if let [name] = scope.names.as_slice()
        && let Some(ns) = ns
    {
        match get(client, r, Some(ns), name).await {
            Ok(v) => return decode_into(snap, r.kind, Fetched::Items(vec![v])),
            Err(ReadError::ObjectNotFound) => {
                // Error path only: one more request to suggest close names.
                let names = match list(client, r, Some(ns), None).await {
                    Ok(items) => cert_names(&raw_items(items)),
                    Err(_) => vec![],
                };
                return Err(not_found_error(name, Some(ns), &names));
            }
            Err(e) => return Err(chain_error(e, "get", r, Some(ns))),
        }
    }
    let items = list(client, r, ns, None)
        .await
        .map_err(|e| chain_error(e, "list", r, ns))?;
    if !scope.names.is_empty() {
        let items = raw_items(items);
        let names = cert_names(&items);
        if let Some(missing) = scope.names.iter().find(|n| !names.contains(n)) {
            return Err(not_found_error(missing, ns, &names));
        }
        let wanted: Vec<Value> = items
            .into_iter()
            .filter(|v| {
                v.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| scope.names.iter().any(|w| w == n))
            })
            .collect();
        return decode_into(snap, r.kind, Fetched::Items(wanted));
    }
    decode_into(snap, r.kind, items)
}

/// Record an optional read that failed; returns the items (empty on failure).
pub(super) fn optional(
    snap: &mut Snapshot,
    r: &Res,
    ns: Option<&str>,
    result: Result<Fetched, ReadError>,
) -> Result<Fetched, UserError> {
    match result {
        Ok(items) => Ok(items),
        Err(ReadError::Forbidden(_)) => {
            let resource = r.resource();
            let scope = match ns.filter(|_| r.namespaced) {
                Some(ns) => format!("in namespace {ns}"),
                None => "cluster-wide".into(),
            };
            snap.unreadable.push(format!(
                "could not list {resource}: forbidden (needs list on {resource}, {scope})"
            ));
            Ok(Fetched::Items(vec![]))
        }
        Err(ReadError::NoSuchResource | ReadError::ObjectNotFound) => {
            if r.group != HTTP_ROUTES.group {
                snap.unreadable.push(format!(
                    "could not list {}: not served by this cluster",
                    r.resource()
                ));
            }
            Ok(Fetched::Items(vec![]))
        }
        Err(ReadError::Other(u)) => Err(u),
    }
}

/// Issuers: one get when every certificate names the same issuer, else one list per kind.
pub(super) async fn issuers(
    client: &kube::Client,
    scope: &Scope,
    snap: &mut Snapshot,
) -> Result<(), UserError> {
    let mut refs: Vec<(bool, String, String)> = snap
        .certificates
        .iter()
        .filter(|c| !c.spec.issuer_ref.name.is_empty())
        .filter(|c| {
            c.spec
                .issuer_ref
                .group
                .as_deref()
                .is_none_or(|g| g.is_empty() || g == "cert-manager.io")
        })
        .map(|c| {
            let r = &c.spec.issuer_ref;
            let cluster = r.is_cluster_issuer();
            let ns = if cluster { "" } else { c.namespace() };
            (cluster, ns.to_owned(), r.name.clone())
        })
        .collect();
    refs.sort();
    refs.dedup();
    let reads: Vec<(Res, Option<String>, Option<String>)> = match refs.as_slice() {
        [] => vec![],
        [(cluster, ns, name)] => {
            let r = if *cluster { CLUSTER_ISSUERS } else { ISSUERS };
            vec![(
                r,
                Some(ns.clone()).filter(|n| !n.is_empty()),
                Some(name.clone()),
            )]
        }
        many => {
            let mut v = Vec::new();
            if many.iter().any(|(c, _, _)| !c) {
                let ns = (!scope.all_namespaces).then(|| scope.namespace.clone());
                v.push((ISSUERS, ns, None));
            }
            if many.iter().any(|(c, _, _)| *c) {
                v.push((CLUSTER_ISSUERS, None, None));
            }
            v
        }
    };
    for (r, ns, name) in reads {
        let verb = if name.is_some() { "get" } else { "list" };
        let result = match &name {
            Some(n) => get(client, &r, ns.as_deref(), n)
                .await
                .map(|v| Fetched::Items(vec![v])),
            None => list(client, &r, ns.as_deref(), None).await,
        };
        let problem = match result {
            Ok(items) => {
                decode_into(snap, r.kind, items)?;
                None
            }
            Err(ReadError::ObjectNotFound) => None,
            Err(ReadError::NoSuchResource) => Some(format!(
                "the {} API is not served by this cluster",
                r.resource()
            )),
            Err(ReadError::Forbidden(_)) => {
                let msg = format!(
                    "could not {verb} {}: forbidden (needs {verb} on {}, {})",
                    r.resource(),
                    r.resource(),
                    scope_words(&r, ns.as_deref())
                );
                snap.unreadable.push(msg.clone());
                Some(msg)
            }
            Err(ReadError::Other(u)) => return Err(u),
        };
        if r.kind == "ClusterIssuer" {
            snap.cluster_issuers_error = problem;
        } else {
            snap.issuers_error = problem;
        }
    }
    Ok(())
}

/// Is the certificate Ready=True?
pub fn is_ready(c: &super::types::Certificate) -> bool {
    condition(&c.status.conditions, "Ready").is_some_and(|c| c.status == "True")
}

/// The "now" diagnosis compares times with, seconds since 1970: `ACMECHECK_NOW` (an RFC 3339
/// UTC time, for reports that must not change with the clock: tests, runs compared later),
/// else this machine's clock.
pub(super) fn unix_now() -> Option<i64> {
    if let Some(t) = std::env::var_os("ACMECHECK_NOW") {
        return t.to_str().and_then(crate::time::unix_seconds);
    }
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    i64::try_from(d.as_secs()).ok()
}

/// Make every read for the scope and return the raw snapshot.
///
/// Requests: certificate get (or list), certificaterequests, orders, challenges, issuer get
/// (or issuers + clusterissuers lists), solver pods, services, ingresses, httproutes,
/// ingressclasses, deployments, gateways: at most 13, whatever the number of certificates.
pub async fn fetch(client: &kube::Client, scope: &Scope) -> Result<Snapshot, UserError> {
    let mut snap = Snapshot {
        now: unix_now(),
        ..Snapshot::default()
    };
    certificates(client, scope, &mut snap).await?;
    snap.cert_manager_installed = true;
    if scope.all {
        snap.certificates.retain(|c| !is_ready(c));
    }
    if snap.certificates.is_empty() {
        return Ok(snap);
    }
    let ns_owned = (!scope.all_namespaces).then(|| scope.namespace.clone());
    let ns = ns_owned.as_deref();
    let solver_selector = format!("{}=true", super::assemble::SOLVER_LABEL);

    let (
        crs,
        orders,
        challenges,
        pods,
        services,
        ingresses,
        routes,
        classes,
        deployments,
        gateways,
        issuers_done,
    ) = tokio::join!(
        list(client, &CERTIFICATE_REQUESTS, ns, None),
        list(client, &ORDERS, ns, None),
        list(client, &CHALLENGES, ns, None),
        list(client, &PODS, ns, Some(&solver_selector)),
        list(client, &SERVICES, None, None),
        list(client, &INGRESSES, None, None),
        list(client, &HTTP_ROUTES, None, None),
        list(client, &INGRESS_CLASSES, None, None),
        list(client, &DEPLOYMENTS, None, None),
        list(client, &GATEWAYS, None, None),
        async {
            let mut s = Snapshot {
                certificates: snap.certificates.clone(),
                ..Snapshot::default()
            };
            issuers(client, scope, &mut s).await.map(|()| s)
        },
    );
    for (r, result) in [
        (&CERTIFICATE_REQUESTS, crs),
        (&ORDERS, orders),
        (&CHALLENGES, challenges),
    ] {
        let items = result.map_err(|e| chain_error(e, "list", r, ns))?;
        decode_into(&mut snap, r.kind, items)?;
    }
    let issued = issuers_done?;
    snap.issuers = issued.issuers;
    snap.cluster_issuers = issued.cluster_issuers;
    snap.issuers_error = issued.issuers_error;
    snap.cluster_issuers_error = issued.cluster_issuers_error;
    snap.unreadable.extend(issued.unreadable);

    snap.gateway_api_installed = !matches!(
        (&routes, &gateways),
        (Err(ReadError::NoSuchResource), _) | (_, Err(ReadError::NoSuchResource))
    );
    let items = optional(&mut snap, &PODS, ns, pods)?;
    decode_into(&mut snap, PODS.kind, items)?;
    for (r, result) in [
        (&SERVICES, services),
        (&INGRESSES, ingresses),
        (&HTTP_ROUTES, routes),
    ] {
        // Cluster-wide reads forbidden: fall back to the certificates' namespace, where the
        // solver resources live (one more request, only on this path).
        let result = match (result, ns) {
            (Err(ReadError::Forbidden(_)), Some(n)) => {
                let resource = r.resource();
                snap.unreadable.push(format!(
                    "could not list {resource} cluster-wide: forbidden (needs list on {resource}, cluster-wide); read namespace {n} only"
                ));
                list(client, r, Some(n), None).await
            }
            (other, _) => other,
        };
        let items = optional(&mut snap, r, ns, result)?;
        decode_into(&mut snap, r.kind, items)?;
    }
    for (r, result) in [
        (&INGRESS_CLASSES, classes),
        (&DEPLOYMENTS, deployments),
        (&GATEWAYS, gateways),
    ] {
        let items = optional(&mut snap, r, None, result)?;
        decode_into(&mut snap, r.kind, items)?;
    }
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            CHALLENGES.path(Some("shop")),
            "/apis/acme.cert-manager.io/v1/namespaces/shop/challenges"
        );
        assert_eq!(PODS.path(None), "/api/v1/pods");
        assert_eq!(
            INGRESS_CLASSES.path(Some("shop")),
            "/apis/networking.k8s.io/v1/ingressclasses"
        );
        assert_eq!(CHALLENGES.resource(), "challenges.acme.cert-manager.io");
        assert_eq!(PODS.resource(), "pods");
    }

    #[test]
    fn close_names() {
        assert_eq!(edit_distance("web", "web"), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        let names: Vec<String> = ["web", "web-tls", "api", "shop-web-staging", "database"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(suggestions("wbe", &names), ["web"]);
        assert_eq!(suggestions("web-tl", &names), ["web-tls", "web"]);
        assert!(suggestions("zzzzzzzz", &names).is_empty());
        let err = not_found_error("wbe", Some("shop"), &names).to_string();
        assert!(
            err.contains("certificate \"wbe\" not found in namespace \"shop\""),
            "{err}"
        );
        assert!(err.contains("did you mean web?"), "{err}");
        let err = not_found_error("web", Some("shop"), &[]).to_string();
        assert!(err.contains("no certificates"), "{err}");
    }

    #[test]
    fn forbidden_names_the_permission() {
        let e = forbidden_error("list", &CHALLENGES, Some("shop"), "nope").to_string();
        assert!(
            e.contains("not allowed to list challenges.acme.cert-manager.io"),
            "{e}"
        );
        assert!(e.contains("\"acme.cert-manager.io\""), "{e}");
        assert!(e.contains("namespace \"shop\""), "{e}");
        assert!(
            e.contains(
                "kubectl create role acmecheck-read --verb=get,list --resource=challenges.acme.cert-manager.io -n shop"
            ),
            "{e}"
        );
        let e = forbidden_error("list", &CHALLENGES, None, "nope").to_string();
        assert!(e.contains("cluster-wide"), "{e}");
        assert!(e.contains("kubectl create clusterrole"), "{e}");
    }
}
