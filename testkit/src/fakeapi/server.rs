//! The HTTP side: routing, verbs, discovery, watch and log streaming.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, Method, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use super::selector::{FieldSelector, LabelSelector};
use super::status::{self, ApiError};
use super::store::{self, Event, EventType, Store, UpdateMode};
use super::{DenyRule, Request, table};

pub type Body = BoxBody<Bytes, Infallible>;

/// State shared by the server tasks and the test-side handle.
pub struct Shared {
    pub store: Mutex<Store>,
    /// Bumped after every change (objects or logs); watchers wait on it.
    pub tick: watch::Sender<u64>,
    pub requests: Mutex<Vec<Request>>,
    pub denies: Mutex<Vec<DenyRule>>,
    pub addr: SocketAddr,
    /// The fake kubelet, once enabled.
    pub kubelet: Mutex<Option<Arc<super::kubelet::Kubelet>>>,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn notify(&self) {
        self.tick.send_modify(|t| *t = t.wrapping_add(1));
    }
}

const MAX_BODY: usize = 32 << 20;
const DEFAULT_WATCH_TIMEOUT: u64 = 1800;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

fn json_response(code: StatusCode, v: &Value) -> Response<Body> {
    bytes_response(
        code,
        serde_json::to_vec(v).unwrap_or_default(),
        "application/json",
    )
}

fn bytes_response(code: StatusCode, body: Vec<u8>, ct: &'static str) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = code;
    r.headers_mut()
        .insert(CONTENT_TYPE, http::HeaderValue::from_static(ct));
    r
}

pub fn status_response(e: &ApiError) -> Response<Body> {
    let code = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    bytes_response(code, e.to_json().into_bytes(), "application/json")
}

/// Query parameters the server understands.
#[derive(Default, Debug)]
struct Query {
    label_selector: String,
    field_selector: String,
    watch: bool,
    resource_version: Option<String>,
    timeout_seconds: Option<u64>,
    limit: Option<usize>,
    continue_token: Option<String>,
    follow: bool,
    tail_lines: Option<usize>,
    limit_bytes: Option<usize>,
    container: Option<String>,
    previous: bool,
    grace_period: Option<i64>,
    allow_bookmarks: bool,
    send_initial_events: bool,
    dry_run: bool,
}

fn truthy(v: &str) -> bool {
    v == "true" || v == "1"
}

impl Query {
    fn parse(raw: &str) -> Query {
        let mut q = Query::default();
        for (k, v) in super::util::parse_query(raw) {
            match k.as_str() {
                "labelSelector" => q.label_selector = v,
                "fieldSelector" => q.field_selector = v,
                "watch" => q.watch = truthy(&v),
                "resourceVersion" => q.resource_version = Some(v),
                "timeoutSeconds" => q.timeout_seconds = v.parse().ok(),
                "limit" => q.limit = v.parse().ok().filter(|l| *l > 0),
                "continue" => q.continue_token = Some(v).filter(|s| !s.is_empty()),
                "follow" => q.follow = truthy(&v),
                "tailLines" => q.tail_lines = v.parse().ok(),
                "limitBytes" => q.limit_bytes = v.parse().ok().filter(|l| *l > 0),
                "container" => q.container = Some(v).filter(|s| !s.is_empty()),
                "previous" => q.previous = truthy(&v),
                "gracePeriodSeconds" => q.grace_period = v.parse().ok(),
                "allowWatchBookmarks" => q.allow_bookmarks = truthy(&v),
                "sendInitialEvents" => q.send_initial_events = truthy(&v),
                "dryRun" => q.dry_run = !v.is_empty(),
                _ => {}
            }
        }
        q
    }
}

/// Where a request points after routing.
struct Target {
    res: usize,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

pub async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query_raw = parts.uri.query().unwrap_or("").to_string();
    let header = |h: &HeaderMap, n| {
        h.get(n)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let user = header(&parts.headers, "impersonate-user");
    let groups: Vec<String> = parts
        .headers
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    lock(&shared.requests).push(Request {
        method: parts.method.to_string(),
        path: path.clone(),
        query: query_raw.clone(),
        user_agent: header(&parts.headers, USER_AGENT.as_str()).unwrap_or_default(),
        impersonate_user: user.clone(),
        impersonate_groups: groups,
    });
    let body = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return Ok(status_response(&status::bad_request(format!(
                "reading body: {e}"
            ))));
        }
    };
    let ctx = Ctx {
        shared,
        method: parts.method,
        query: Query::parse(&query_raw),
        accept: header(&parts.headers, ACCEPT.as_str()).unwrap_or_default(),
        content_type: header(&parts.headers, CONTENT_TYPE.as_str()).unwrap_or_default(),
        user: user.unwrap_or_else(|| "system:anonymous".into()),
        body,
    };
    Ok(route(&ctx, &path)
        .await
        .unwrap_or_else(|e| status_response(&e)))
}

struct Ctx {
    shared: Arc<Shared>,
    method: Method,
    query: Query,
    accept: String,
    content_type: String,
    user: String,
    body: Bytes,
}

impl Ctx {
    fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.shared.store)
    }
}

async fn route(ctx: &Ctx, path: &str) -> Result<Response<Body>, ApiError> {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let get_only = |v: Value| {
        if ctx.method == Method::GET {
            Ok(json_response(StatusCode::OK, &v))
        } else {
            Err(status::method_not_allowed())
        }
    };
    match segs.as_slice() {
        ["version"] => get_only(version()),
        ["healthz"] | ["livez"] | ["readyz"] => Ok(bytes_response(
            StatusCode::OK,
            b"ok".to_vec(),
            "text/plain; charset=utf-8",
        )),
        ["api"] | ["apis"] if ctx.method == Method::GET && wants_aggregated(&ctx.accept) => {
            let core = segs.len() == 1 && segs[0] == "api";
            let body = serde_json::to_vec(&aggregated(&ctx.store(), core)).unwrap_or_default();
            Ok(bytes_response(StatusCode::OK, body, AGGREGATED_CT))
        }
        ["api"] => get_only(json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ctx.shared.addr.to_string()}],
        })),
        ["apis"] => get_only(group_list(&ctx.store())),
        ["api", "v1"] => {
            get_only(resource_list(&ctx.store(), "", "v1").ok_or_else(status::no_such_resource)?)
        }
        ["apis", g] => get_only(api_group(&ctx.store(), g).ok_or_else(status::no_such_resource)?),
        ["apis", g, v] => {
            get_only(resource_list(&ctx.store(), g, v).ok_or_else(status::no_such_resource)?)
        }
        ["openapi", "v3"] => get_only(openapi_root(&ctx.store())),
        ["openapi", "v3", "api", "v1"] => {
            get_only(openapi_gv(&ctx.store(), "", "v1").ok_or_else(status::no_such_resource)?)
        }
        ["openapi", "v3", "apis", g, v] => {
            get_only(openapi_gv(&ctx.store(), g, v).ok_or_else(status::no_such_resource)?)
        }
        ["api", "v1", rest @ ..] => resource_request(ctx, "", "v1", rest).await,
        ["apis", g, v, rest @ ..] => resource_request(ctx, g, v, rest).await,
        _ => Err(status::no_such_resource()),
    }
}

fn version() -> Value {
    json!({
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-fakeapi",
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// Visible (group, version) pairs in table order, core excluded.
fn group_versions(store: &Store) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for r in &store.resources {
        if r.group.is_empty() || !store.group_visible(&r.group) {
            continue;
        }
        if !out.iter().any(|(g, v)| *g == r.group && *v == r.version) {
            out.push((r.group.clone(), r.version.clone()));
        }
    }
    out
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({"name": group, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(json!({}))})
}

fn group_list(store: &Store) -> Value {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (g, v) in group_versions(store) {
        match groups.iter_mut().find(|(n, _)| *n == g) {
            Some((_, vs)) => vs.push(v),
            None => groups.push((g, vec![v])),
        }
    }
    let groups: Vec<Value> = groups.iter().map(|(g, vs)| group_json(g, vs)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn api_group(store: &Store, group: &str) -> Option<Value> {
    let vs: Vec<String> = group_versions(store)
        .into_iter()
        .filter(|(g, _)| g == group)
        .map(|(_, v)| v)
        .collect();
    if vs.is_empty() {
        return None;
    }
    let mut g = group_json(group, &vs);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    Some(g)
}

fn resource_list(store: &Store, group: &str, version: &str) -> Option<Value> {
    if !store.group_visible(group) {
        return None;
    }
    let entries: Vec<Value> = store
        .resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .flat_map(|r| r.discovery_entries())
        .collect();
    if entries.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": entries}),
    )
}

const AGGREGATED_CT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Does the client prefer aggregated discovery v2 (kubectl ≥ 1.30, kube-rs
/// `Discovery::run_aggregated`)? Only v2 is served; clients that ask for
/// v2beta1 only get the legacy documents.
fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|a| {
        a.contains("as=APIGroupDiscoveryList") && a.contains("v=v2;") || a.ends_with("v=v2")
    }) && accept.contains("g=apidiscovery.k8s.io")
}

/// `APIGroupDiscoveryList` for `/api` (core) or `/apis` (all other groups).
fn aggregated(store: &Store, core: bool) -> Value {
    let gvs: Vec<(String, String)> = if core {
        vec![(String::new(), "v1".into())]
    } else {
        group_versions(store)
    };
    let mut items: Vec<(String, Vec<Value>)> = Vec::new();
    for (g, v) in gvs {
        let resources: Vec<Value> = store
            .resources
            .iter()
            .filter(|r| r.group == g && r.version == v)
            .map(|r| {
                let mut d = r.discovery_entries().into_iter();
                let main = d.next().unwrap_or_else(|| json!({}));
                let kind = |k: &str| json!({"group": r.group, "version": r.version, "kind": k});
                let subs: Vec<Value> = r
                    .subresources
                    .iter()
                    .zip(d)
                    .map(|(sub, e)| {
                        json!({"subresource": sub, "responseKind": kind(e["kind"].as_str().unwrap_or("")), "verbs": e["verbs"]})
                    })
                    .collect();
                let mut out = json!({
                    "resource": r.plural,
                    "responseKind": kind(&r.kind),
                    "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                    "singularResource": main["singularName"],
                    "verbs": main["verbs"],
                });
                for k in ["shortNames", "categories"] {
                    if let Some(x) = main.get(k) {
                        out[k] = x.clone();
                    }
                }
                if !subs.is_empty() {
                    out["subresources"] = json!(subs);
                }
                out
            })
            .collect();
        let version = json!({"version": v, "resources": resources, "freshness": "Current"});
        match items.iter_mut().find(|(n, _)| *n == g) {
            Some((_, vs)) => vs.push(version),
            None => items.push((g, vec![version])),
        }
    }
    let items: Vec<Value> = items
        .into_iter()
        .map(|(g, versions)| {
            let meta = if g.is_empty() {
                json!({"creationTimestamp": null})
            } else {
                json!({"name": g, "creationTimestamp": null})
            };
            json!({"metadata": meta, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

/// `/openapi/v3`: one entry per served group/version.
fn openapi_root(store: &Store) -> Value {
    let mut paths = serde_json::Map::new();
    paths.insert(
        "api/v1".into(),
        json!({"serverRelativeURL": format!("/openapi/v3/api/v1?hash={:016X}", store.rv)}),
    );
    for (g, v) in group_versions(store) {
        paths.insert(
            format!("apis/{g}/{v}"),
            json!({"serverRelativeURL": format!("/openapi/v3/apis/{g}/{v}?hash={:016X}", store.rv)}),
        );
    }
    json!({"paths": paths})
}

/// `/openapi/v3/apis/<g>/<v>`: a minimal document with no schemas, only the
/// PATCH operations with their `x-kubernetes-group-version-kind` and the
/// `fieldValidation` parameter. kubectl reads it to learn that the server
/// validates fields itself (so `kubectl apply` needs no client-side schema).
fn openapi_gv(store: &Store, group: &str, version: &str) -> Option<Value> {
    if !store.group_visible(group) {
        return None;
    }
    let mut paths = serde_json::Map::new();
    for r in store
        .resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let prefix = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let path = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
        } else {
            format!("{prefix}/{}/{{name}}", r.plural)
        };
        paths.insert(
            path,
            json!({"patch": {
                "operationId": format!("patch{}", r.kind),
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                ],
                "responses": {"200": {"description": "OK"}},
            }}),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

/// Parses `[watch/]([namespaces/NS/]PLURAL[/NAME[/SUB]])`.
fn parse_target(
    store: &Store,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<(Target, bool), ApiError> {
    let (rest, watch_path) = match rest {
        ["watch", r @ ..] => (r, true),
        r => (r, false),
    };
    let (ns, rest) = match rest {
        ["namespaces", ns, plural, r @ ..]
            if !(group.is_empty() && matches!(*plural, "status" | "finalize") && r.is_empty()) =>
        {
            (Some(ns.to_string()), {
                let mut v = vec![*plural];
                v.extend_from_slice(r);
                v
            })
        }
        r => (None, r.to_vec()),
    };
    let (plural, name, sub) = match rest.as_slice() {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(n.to_string()), None),
        [p, n, s] => (*p, Some(n.to_string()), Some(s.to_string())),
        _ => return Err(status::no_such_resource()),
    };
    let res = store
        .find(group, version, plural)
        .ok_or_else(status::no_such_resource)?;
    let r = &store.resources[res];
    if ns.is_some() && !r.namespaced {
        return Err(status::no_such_resource());
    }
    if let Some(s) = &sub
        && !r.has_subresource(s)
    {
        return Err(status::no_such_resource());
    }
    if r.namespaced && ns.is_none() && name.is_some() {
        return Err(status::no_such_resource());
    }
    Ok((Target { res, ns, name, sub }, watch_path))
}

fn verb_of(method: &Method, t: &Target, watch: bool) -> Result<&'static str, ApiError> {
    Ok(match (method.as_str(), &t.name) {
        ("GET", Some(_)) if watch && t.sub.is_none() => "watch",
        ("GET", Some(_)) => "get",
        ("GET", None) if watch => "watch",
        ("GET", None) => "list",
        ("POST", None) if t.sub.is_none() => "create",
        ("PUT", Some(_)) => "update",
        ("PATCH", Some(_)) => "patch",
        ("DELETE", Some(_)) if t.sub.is_none() => "delete",
        ("DELETE", None) => "deletecollection",
        _ => return Err(status::method_not_allowed()),
    })
}

/// Is `verb` on `group`/`resource` (with subresource) in `ns` denied?
/// `ns: None` is a cluster-wide request.
fn is_denied(
    denies: &[DenyRule],
    verb: &str,
    group: &str,
    resource: &str,
    ns: Option<&str>,
    namespaced: bool,
) -> bool {
    denies.iter().any(|d| {
        (d.verb == verb || d.verb == "*")
            && (d.group == group || d.group == "*")
            && (d.resource == resource || d.resource == "*")
            && match (&d.namespace, ns) {
                (None, _) => true,
                (Some(dn), Some(tn)) => dn == tn,
                // A user denied in one namespace has no cluster-wide grant.
                (Some(_), None) => namespaced,
            }
    })
}

fn authorize(ctx: &Ctx, store: &Store, t: &Target, verb: &str) -> Result<(), ApiError> {
    let r = &store.resources[t.res];
    let full_res = match &t.sub {
        Some(s) => format!("{}/{}", r.plural, s),
        None => r.plural.clone(),
    };
    let denied = is_denied(
        &lock(&ctx.shared.denies),
        verb,
        &r.group,
        &full_res,
        t.ns.as_deref(),
        r.namespaced,
    );
    if denied {
        return Err(status::forbidden(
            r,
            t.sub.as_deref(),
            t.name.as_deref().unwrap_or(""),
            verb,
            &ctx.user,
            t.ns.as_deref(),
        ));
    }
    Ok(())
}

/// `SelfSubjectAccessReview` (what `kubectl auth can-i` sends): answered
/// from the [`FakeApi::deny`](super::FakeApi::deny) rules.
fn access_review(ctx: &Ctx, store: &Store, mut review: Value) -> Value {
    let attrs = review
        .pointer("/spec/resourceAttributes")
        .cloned()
        .unwrap_or(Value::Null);
    let field = |k: &str| {
        attrs
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (verb, group, resource, sub, ns) = (
        field("verb"),
        field("group"),
        field("resource"),
        field("subresource"),
        field("namespace"),
    );
    let full = if sub.is_empty() {
        resource.clone()
    } else {
        format!("{resource}/{sub}")
    };
    let namespaced = store
        .resources
        .iter()
        .find(|r| r.group == group && r.plural == resource)
        .is_none_or(|r| r.namespaced);
    let ns = (!ns.is_empty()).then_some(ns.as_str());
    let allowed = attrs.is_object()
        && !is_denied(
            &lock(&ctx.shared.denies),
            &verb,
            &group,
            &full,
            ns,
            namespaced,
        );
    review["status"] = json!({"allowed": allowed});
    let meta = store::meta_mut(&mut review);
    meta.insert("creationTimestamp".into(), Value::Null);
    review
}

async fn resource_request(
    ctx: &Ctx,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Response<Body>, ApiError> {
    let (t, watch_path) = parse_target(&ctx.store(), group, version, rest)?;
    let watch = watch_path || ctx.query.watch;
    let verb = verb_of(&ctx.method, &t, watch)?;
    authorize(ctx, &ctx.store(), &t, verb)?;
    if ctx.query.dry_run {
        return Err(status::bad_request(
            "dryRun is not supported by the fake API server",
        ));
    }
    let ns = t.ns.clone().unwrap_or_default();
    match (verb, t.sub.as_deref()) {
        ("get", Some("log")) => pod_logs(ctx, &ns, t.name.as_deref().unwrap_or("")).await,
        ("get", _) => {
            let name = t.name.as_deref().unwrap_or("");
            let obj = ctx.store().get(t.res, &ns, name);
            let store = ctx.store();
            let r = &store.resources[t.res];
            let obj = obj.ok_or_else(|| status::not_found(r, name))?;
            if table::wanted(&ctx.accept) {
                let rv = store::rv_of(&obj).to_string();
                return Ok(json_response(
                    StatusCode::OK,
                    &table::table(r, &[obj], &rv, None),
                ));
            }
            Ok(json_response(StatusCode::OK, &obj))
        }
        ("list", _) => list(ctx, &t),
        ("watch", _) => watch_stream(ctx, &t),
        ("create", _) if ctx.store().resources[t.res].is_review() => {
            let obj = if ctx.content_type.starts_with(PROTOBUF) {
                super::proto::decode_access_review(&ctx.body)
                    .ok_or_else(|| status::bad_request("cannot decode the protobuf body"))?
            } else {
                decode_body(ctx)?
            };
            let store = ctx.store();
            Ok(json_response(
                StatusCode::CREATED,
                &access_review(ctx, &store, obj),
            ))
        }
        ("create", _) => {
            let obj = decode_body(ctx)?;
            let mut store = ctx.store();
            let created = create(&mut store, &t, obj)?;
            drop(store);
            ctx.shared.notify();
            Ok(json_response(StatusCode::CREATED, &created))
        }
        ("update", sub) => {
            let obj = decode_body(ctx)?;
            let name = t.name.as_deref().unwrap_or("");
            let mut store = ctx.store();
            let r = &store.resources[t.res];
            let body_name = store::name_of(&obj);
            if !body_name.is_empty() && body_name != name {
                return Err(status::bad_request(format!(
                    "the name of the object ({body_name}) does not match the name on the URL ({name})"
                )));
            }
            if store::rv_of(&obj).is_empty() {
                return Err(status::invalid(
                    r,
                    name,
                    "metadata.resourceVersion",
                    "FieldValueInvalid",
                    "0x0: must be specified for an update",
                ));
            }
            let mode = if sub == Some("status") {
                UpdateMode::Status
            } else {
                UpdateMode::Main
            };
            let updated = store.update(t.res, &ns, name, obj, mode, true)?;
            drop(store);
            ctx.shared.notify();
            Ok(json_response(StatusCode::OK, &updated))
        }
        ("patch", sub) => patch(ctx, &t, sub),
        ("delete", _) => {
            let name = t.name.as_deref().unwrap_or("");
            let grace = grace_period(ctx);
            let mut store = ctx.store();
            let deleted = store.delete_graceful(t.res, &ns, name, grace)?;
            let uid = store::uid_of(&deleted).to_string();
            let pending = store
                .get(t.res, &ns, name)
                .is_some_and(|o| store::uid_of(&o) == uid);
            let r = &store.resources[t.res];
            let body = if pending || r.returns_deleted_object() {
                (*deleted).clone()
            } else {
                status::deleted(r, name, &uid)
            };
            drop(store);
            ctx.shared.notify();
            Ok(json_response(StatusCode::OK, &body))
        }
        ("deletecollection", _) => {
            let (label, field) = selectors(ctx, &ctx.store(), &t)?;
            let grace = grace_period(ctx);
            let mut store = ctx.store();
            let victims: Vec<_> = store
                .list(t.res, t.ns.as_deref(), None)
                .into_iter()
                .filter(|o| label.matches(o) && field.matches(o))
                .collect();
            let mut items = Vec::new();
            for v in victims {
                let (vns, vname) = (
                    store::namespace_of(&v).to_string(),
                    store::name_of(&v).to_string(),
                );
                if let Ok(d) = store.delete_graceful(t.res, &vns, &vname, grace) {
                    items.push(d);
                }
            }
            let r = &store.resources[t.res];
            let out = json!({
                "kind": format!("{}List", r.kind), "apiVersion": r.api_version(),
                "metadata": {"resourceVersion": store.rv.to_string()},
                "items": items.iter().map(|o| (**o).clone()).collect::<Vec<_>>(),
            });
            drop(store);
            ctx.shared.notify();
            Ok(json_response(StatusCode::OK, &out))
        }
        _ => Err(status::method_not_allowed()),
    }
}

/// POST semantics on top of [`Store::create`]: body/URL consistency and the
/// namespace must exist.
fn create(store: &mut Store, t: &Target, obj: Value) -> Result<store::Obj, ApiError> {
    let r = &store.resources[t.res];
    check_kind(r, &obj)?;
    let ns = t.ns.clone().unwrap_or_default();
    let body_ns = store::namespace_of(&obj);
    if r.namespaced && !body_ns.is_empty() && body_ns != ns {
        return Err(status::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    if r.namespaced && !store.namespace_exists(&ns) {
        return Err(status::namespace_not_found(&ns));
    }
    let mut obj = obj;
    store::meta_mut(&mut obj).remove("resourceVersion");
    for k in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "generation",
    ] {
        store::meta_mut(&mut obj).remove(k);
    }
    match (r.group.as_str(), r.kind.as_str()) {
        ("", "Pod") => admit_pod(store, &ns, &mut obj)?,
        ("", "Service") => super::defaults::service(store, t.res, &mut obj)?,
        ("networking.k8s.io", "Ingress") => super::defaults::ingress(store, t.res, &mut obj)?,
        ("gateway.networking.k8s.io", "HTTPRoute") => super::defaults::http_route(&mut obj),
        _ => {}
    }
    store.create(t.res, &ns, obj)
}

/// A new pod as the API server handles it before storing: defaults and
/// status reset, the generated name, then Pod Security admission against
/// the namespace's `pod-security.kubernetes.io/enforce` label.
fn admit_pod(store: &Store, ns: &str, pod: &mut Value) -> Result<(), ApiError> {
    super::pods::prepare_for_create(pod);
    let meta = store::meta_mut(pod);
    if meta
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
        && let Some(g) = meta.get("generateName").and_then(Value::as_str)
        && !g.is_empty()
    {
        let name = format!("{g}{}", super::util::name_suffix());
        meta.insert("name".into(), json!(name));
    }
    let labels = store
        .get(0, "", ns)
        .and_then(|n| n.pointer("/metadata/labels").cloned())
        .unwrap_or_default();
    super::admission::enforce(&labels, pod)
}

/// `gracePeriodSeconds` from the query or the DeleteOptions body.
fn grace_period(ctx: &Ctx) -> Option<i64> {
    ctx.query.grace_period.or_else(|| {
        serde_json::from_slice::<Value>(&ctx.body)
            .ok()
            .and_then(|b| b.get("gracePeriodSeconds").and_then(Value::as_i64))
    })
}

fn check_kind(r: &super::resources::Resource, obj: &Value) -> Result<(), ApiError> {
    if let Some(k) = obj.get("kind").and_then(Value::as_str)
        && k != r.kind
    {
        return Err(status::bad_request(format!(
            "the kind of the object ({k}) does not match the kind on the URL ({})",
            r.kind
        )));
    }
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str)
        && av != r.api_version()
    {
        return Err(status::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            r.api_version()
        )));
    }
    Ok(())
}

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

fn decode_body(ctx: &Ctx) -> Result<Value, ApiError> {
    if ctx.content_type.starts_with(PROTOBUF) {
        return Err(status::unsupported_media_type(&ctx.content_type));
    }
    let text = std::str::from_utf8(&ctx.body)
        .map_err(|e| status::bad_request(format!("body is not UTF-8: {e}")))?;
    let v: Value = if ctx.content_type.contains("yaml") {
        serde_saphyr::from_str(text)
            .map_err(|e| status::bad_request(format!("error decoding YAML: {e}")))?
    } else {
        serde_json::from_str(text)
            .map_err(|e| status::bad_request(format!("error decoding JSON: {e}")))?
    };
    if !v.is_object() {
        return Err(status::bad_request(
            "the body of the request is not an object",
        ));
    }
    Ok(v)
}

/// Removes strategic-merge-patch directives (`$patch`, `$setElementOrder/…`,
/// `$retainKeys`, `$deleteFromPrimitiveList/…`) from a value that is stored
/// as is.
fn strip_directives(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !k.starts_with('$'));
            m.values_mut().for_each(strip_directives);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_directives),
        _ => {}
    }
}

fn stripped(v: &Value) -> Value {
    let mut v = v.clone();
    strip_directives(&mut v);
    v
}

/// The `patchMergeKey` of the well-known built-in list fields (lists not
/// named here are replaced, as for atomic lists).
fn merge_key(field: &str, items: &[Value]) -> Option<&'static str> {
    Some(match field {
        "ports" if items.iter().any(|i| i.get("containerPort").is_some()) => "containerPort",
        "ports" => "port",
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "hostAliases" => "ip",
        "conditions" => "type",
        "ownerReferences" => "uid",
        _ => return None,
    })
}

/// A strategic merge patch for the common cases: maps merge, `null`
/// deletes, lists with a known merge key merge element-wise (with
/// `$patch: delete` elements), `$patch: replace` maps replace,
/// `$deleteFromPrimitiveList/<f>` removes values, other lists replace.
fn strategic_merge(doc: &mut Value, patch: &Value) {
    let Some(p) = patch.as_object() else {
        *doc = stripped(patch);
        return;
    };
    if p.get("$patch").and_then(Value::as_str) == Some("replace") || !doc.is_object() {
        *doc = stripped(patch);
        return;
    }
    let Some(d) = doc.as_object_mut() else { return };
    for (k, v) in p {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Some(gone)) = (d.get_mut(field), v.as_array()) {
                list.retain(|x| !gone.contains(x));
            }
            continue;
        }
        if k.starts_with('$') {
            continue;
        }
        if v.is_null() {
            d.remove(k);
            continue;
        }
        match (d.get_mut(k), v) {
            (Some(dv @ Value::Object(_)), Value::Object(_)) => strategic_merge(dv, v),
            (Some(Value::Array(da)), Value::Array(pa)) if merge_key(k, pa).is_some() => {
                let key = merge_key(k, pa).unwrap_or("name");
                for elem in pa {
                    let id = elem.get(key);
                    let pos = id.and_then(|id| da.iter().position(|x| x.get(key) == Some(id)));
                    let delete = elem.get("$patch").and_then(Value::as_str) == Some("delete");
                    match (pos, delete) {
                        (Some(i), true) => {
                            da.remove(i);
                        }
                        (None, true) => {}
                        (Some(i), false) => strategic_merge(&mut da[i], elem),
                        (None, false) => da.push(stripped(elem)),
                    }
                }
            }
            _ => {
                d.insert(k.clone(), stripped(v));
            }
        }
    }
}

fn patch(ctx: &Ctx, t: &Target, sub: Option<&str>) -> Result<Response<Body>, ApiError> {
    let ct = ctx
        .content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let name = t.name.as_deref().unwrap_or("");
    let ns = t.ns.clone().unwrap_or_default();
    let mode = if sub == Some("status") {
        UpdateMode::Status
    } else {
        UpdateMode::Main
    };
    let mut store = ctx.store();
    let current = store.get(t.res, &ns, name);
    let (result, code) = match ct.as_str() {
        "application/apply-patch+yaml" => {
            let body = decode_body(ctx)?;
            match current {
                None => {
                    let mut obj = body;
                    store::meta_mut(&mut obj).insert("name".into(), json!(name));
                    (create(&mut store, t, obj)?, StatusCode::CREATED)
                }
                Some(cur) => {
                    let mut doc = (*cur).clone();
                    json_patch::merge(&mut doc, &body);
                    (
                        store.update(t.res, &ns, name, doc, mode, true)?,
                        StatusCode::OK,
                    )
                }
            }
        }
        "application/merge-patch+json"
        | "application/strategic-merge-patch+json"
        | "application/json-patch+json" => {
            let cur = current.ok_or_else(|| status::not_found(&store.resources[t.res], name))?;
            let mut doc = (*cur).clone();
            let patch: Value = serde_json::from_slice(&ctx.body)
                .map_err(|e| status::bad_request(format!("error decoding patch: {e}")))?;
            if ct == "application/json-patch+json" {
                let ops: json_patch::Patch = serde_json::from_value(patch)
                    .map_err(|e| status::bad_request(format!("error decoding json patch: {e}")))?;
                json_patch::patch(&mut doc, &ops.0).map_err(|e| ApiError {
                    code: 422,
                    reason: "Invalid",
                    message: format!(
                        "the server rejected our request due to an error in our request: {e}"
                    ),
                    details: json!({}),
                })?;
            } else {
                if !patch.is_object() {
                    return Err(status::bad_request("the patch is not a JSON object"));
                }
                let want_rv = patch
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if ct.starts_with("application/strategic") {
                    strategic_merge(&mut doc, &patch);
                } else {
                    json_patch::merge(&mut doc, &patch);
                }
                let rv = want_rv.unwrap_or_else(|| store::rv_of(&cur).to_string());
                store::meta_mut(&mut doc).insert("resourceVersion".into(), json!(rv));
            }
            (
                store.update(t.res, &ns, name, doc, mode, true)?,
                StatusCode::OK,
            )
        }
        other => return Err(status::unsupported_media_type(other)),
    };
    drop(store);
    ctx.shared.notify();
    Ok(json_response(code, &result))
}

/// The request's selectors; a request naming one object (a watch on
/// `.../pods/NAME`) also selects `metadata.name=NAME`.
fn selectors(
    ctx: &Ctx,
    store: &Store,
    t: &Target,
) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let label = LabelSelector::parse(&ctx.query.label_selector).map_err(status::bad_request)?;
    let mut fs = ctx.query.field_selector.clone();
    if let Some(name) = &t.name {
        if !fs.is_empty() {
            fs.push(',');
        }
        fs.push_str(&format!("metadata.name={name}"));
    }
    let field = FieldSelector::parse(&fs, &store.resources[t.res].field_labels)
        .map_err(status::bad_request)?;
    Ok((label, field))
}

/// `continue` tokens are the hex of "namespace\0name" of the last item.
fn encode_continue(ns: &str, name: &str) -> String {
    format!("{ns}\0{name}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_continue(tok: &str) -> Option<(String, String)> {
    let bytes: Option<Vec<u8>> = (0..tok.len())
        .step_by(2)
        .map(|i| {
            tok.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let s = String::from_utf8(bytes?).ok()?;
    let (ns, name) = s.split_once('\0')?;
    Some((ns.to_string(), name.to_string()))
}

fn list(ctx: &Ctx, t: &Target) -> Result<Response<Body>, ApiError> {
    let store = ctx.store();
    let (label, field) = selectors(ctx, &store, t)?;
    let after = match &ctx.query.continue_token {
        Some(tok) => Some(decode_continue(tok).ok_or_else(|| {
            status::bad_request("continue key is not valid: illegal base64 data")
        })?),
        None => None,
    };
    let r = store.resources[t.res].clone();
    let rv = store.rv.to_string();
    let mut items: Vec<store::Obj> = store
        .list(t.res, t.ns.as_deref(), after.as_ref())
        .into_iter()
        .filter(|o| label.matches(o) && field.matches(o))
        .collect();
    drop(store);
    let mut cont = None;
    if let Some(limit) = ctx.query.limit
        && items.len() > limit
    {
        let remaining = items.len() - limit;
        items.truncate(limit);
        if let Some(last) = items.last() {
            cont = Some((
                encode_continue(store::namespace_of(last), store::name_of(last)),
                remaining,
            ));
        }
    }
    if table::wanted(&ctx.accept) {
        let tbl = table::table(&r, &items, &rv, cont.as_ref().map(|c| c.0.as_str()));
        return Ok(json_response(StatusCode::OK, &tbl));
    }
    let mut meta = json!({"resourceVersion": rv});
    if let Some((tok, remaining)) = &cont {
        meta["continue"] = json!(tok);
        meta["remainingItemCount"] = json!(remaining);
    }
    // Serialize item by item to avoid cloning every object into one Value.
    let mut out = Vec::with_capacity(items.len() * 1024 + 256);
    out.extend_from_slice(
        format!(
            "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
            r.kind,
            r.api_version(),
            meta
        )
        .as_bytes(),
    );
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item.json());
    }
    out.extend_from_slice(b"]}");
    Ok(bytes_response(StatusCode::OK, out, "application/json"))
}

/// A watch stream's state.
struct WatchState {
    shared: Arc<Shared>,
    rx: watch::Receiver<u64>,
    res: usize,
    ns: Option<String>,
    label: LabelSelector,
    field: FieldSelector,
    last_rv: u64,
    deadline: Instant,
    bookmarks: bool,
    table: Option<super::resources::Resource>,
    pending: VecDeque<Bytes>,
    done: bool,
}

fn event_line(etype: &str, obj: &Value) -> Bytes {
    event_line_raw(etype, &serde_json::to_vec(obj).unwrap_or_default())
}

/// `{"type":T,"object":<json>}\n` from already-serialized object JSON.
fn event_line_raw(etype: &str, json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(etype.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(json);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

impl WatchState {
    fn matches(&self, obj: &Value) -> bool {
        self.label.matches(obj) && self.field.matches(obj)
    }

    fn push(&mut self, etype: &str, obj: &store::Obj) {
        let line = match &self.table {
            Some(r) => {
                let rv = store::rv_of(obj).to_string();
                event_line(
                    etype,
                    &table::table(r, std::slice::from_ref(obj), &rv, None),
                )
            }
            None => event_line_raw(etype, obj.json()),
        };
        self.pending.push_back(line);
    }

    /// Turns a stored event into what this (filtered) watch sees.
    fn offer(&mut self, ev: &Event) {
        self.last_rv = ev.rv;
        if self.ns.as_deref().is_some_and(|ns| ns != ev.ns) {
            return;
        }
        let now = self.matches(&ev.obj);
        let before = ev.old.as_deref().is_some_and(|o| self.matches(o));
        let etype = match ev.etype {
            EventType::Added if now => "ADDED",
            EventType::Modified if now && before => "MODIFIED",
            EventType::Modified if now => "ADDED",
            EventType::Modified if before => "DELETED",
            EventType::Deleted if before || now => "DELETED",
            _ => return,
        };
        self.push(etype, &ev.obj);
    }

    fn bookmark(&mut self, rv: u64, initial_end: bool) {
        let (kind, api_version) = {
            let store = lock(&self.shared.store);
            let r = &store.resources[self.res];
            (r.kind.clone(), r.api_version())
        };
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({"kind": kind, "apiVersion": api_version, "metadata": meta});
        self.pending.push_back(event_line("BOOKMARK", &obj));
    }

    async fn next(mut self) -> Option<(Result<Frame<Bytes>, Infallible>, WatchState)> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Some((Ok(Frame::data(b)), self));
            }
            if self.done {
                return None;
            }
            self.rx.borrow_and_update();
            let evs = lock(&self.shared.store).events_since(self.res, self.last_rv);
            match evs {
                Err(e) => {
                    self.pending.push_back(Bytes::from(format!(
                        "{{\"type\":\"ERROR\",\"object\":{}}}\n",
                        e.to_json()
                    )));
                    self.done = true;
                    continue;
                }
                Ok(evs) if !evs.is_empty() => {
                    for ev in evs {
                        self.offer(&ev);
                    }
                    continue;
                }
                Ok(_) => {}
            }
            tokio::select! {
                changed = self.rx.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                _ = tokio::time::sleep_until(self.deadline) => {
                    if self.bookmarks {
                        let rv = lock(&self.shared.store).rv;
                        self.bookmark(rv, false);
                    }
                    self.done = true;
                }
            }
        }
    }
}

fn watch_stream(ctx: &Ctx, t: &Target) -> Result<Response<Body>, ApiError> {
    let store = ctx.store();
    let (label, field) = selectors(ctx, &store, t)?;
    let rv_param = ctx.query.resource_version.clone().unwrap_or_default();
    let timeout = ctx.query.timeout_seconds.unwrap_or(DEFAULT_WATCH_TIMEOUT);
    let r = store.resources[t.res].clone();
    let mut st = WatchState {
        shared: ctx.shared.clone(),
        rx: ctx.shared.tick.subscribe(),
        res: t.res,
        ns: t.ns.clone(),
        label,
        field,
        last_rv: store.rv,
        deadline: Instant::now() + Duration::from_secs(timeout),
        bookmarks: ctx.query.allow_bookmarks,
        table: table::wanted(&ctx.accept).then(|| r.clone()),
        pending: VecDeque::new(),
        done: false,
    };
    let initial = rv_param.is_empty() || rv_param == "0" || ctx.query.send_initial_events;
    if initial {
        let objs = store.list(t.res, t.ns.as_deref(), None);
        let rv = store.rv;
        drop(store);
        for o in &objs {
            if st.matches(o) {
                st.push("ADDED", o);
            }
        }
        if ctx.query.send_initial_events && st.bookmarks {
            st.bookmark(rv, true);
        }
    } else {
        let from: u64 = rv_param
            .parse()
            .map_err(|_| status::bad_request(format!("invalid resource version: {rv_param}")))?;
        st.last_rv = from.min(store.rv);
    }
    let stream = futures::stream::unfold(st, WatchState::next);
    let mut resp = Response::new(StreamBody::new(stream).boxed());
    resp.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

async fn pod_logs(ctx: &Ctx, ns: &str, name: &str) -> Result<Response<Body>, ApiError> {
    use super::pods::{LogSource, log_container, log_source};
    let (text, pods, managed) = {
        let store = ctx.store();
        let pods = store.find_kind("v1", "Pod").unwrap_or(0);
        let Some(pod) = store.get(pods, ns, name) else {
            return Err(status::not_found(&store.resources[pods], name));
        };
        let container = log_container(&pod, ctx.query.container.as_deref())?;
        let managed = store.is_managed(&pod);
        if managed && log_source(&pod, &container, ctx.query.previous)? == LogSource::Empty {
            return Ok(bytes_response(StatusCode::OK, Vec::new(), "text/plain"));
        }
        (
            store.logs(ns, name).unwrap_or("").to_string(),
            pods,
            managed,
        )
    };
    let full_len = text.len();
    let text = match ctx.query.tail_lines {
        Some(n) => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            lines[lines.len().saturating_sub(n)..].concat()
        }
        None => text,
    };
    let mut budget = ctx.query.limit_bytes.unwrap_or(usize::MAX);
    let mut text = text.into_bytes();
    text.truncate(budget);
    budget -= text.len();
    if !ctx.query.follow {
        return Ok(bytes_response(StatusCode::OK, text, "text/plain"));
    }
    /// A `follow` stream: ends when the pod is gone, when its container
    /// has ended (kubelet pods) and everything was sent, or at limitBytes.
    struct Follow {
        shared: Arc<Shared>,
        rx: watch::Receiver<u64>,
        ns: String,
        name: String,
        pods: usize,
        sent: usize,
        first: Option<Vec<u8>>,
        budget: usize,
        managed: bool,
    }
    let st = Follow {
        shared: ctx.shared.clone(),
        rx: ctx.shared.tick.subscribe(),
        ns: ns.into(),
        name: name.into(),
        pods,
        sent: full_len,
        first: Some(text),
        budget,
        managed,
    };
    let stream = futures::stream::unfold(st, |mut st| async move {
        if let Some(first) = st.first.take()
            && !first.is_empty()
        {
            return Some((Ok::<_, Infallible>(Frame::data(Bytes::from(first))), st));
        }
        loop {
            if st.budget == 0 {
                return None;
            }
            st.rx.borrow_and_update();
            let (chunk, closed) = {
                let store = lock(&st.shared.store);
                store.get(st.pods, &st.ns, &st.name)?;
                let cur = store.logs(&st.ns, &st.name).unwrap_or("");
                if cur.len() < st.sent {
                    st.sent = 0; // replaced: start over
                }
                let mut c = cur.as_bytes().get(st.sent..).unwrap_or(&[]).to_vec();
                st.sent = cur.len();
                c.truncate(st.budget);
                st.budget -= c.len();
                (c, st.managed && store.logs_closed(&st.ns, &st.name))
            };
            if !chunk.is_empty() {
                return Some((Ok(Frame::data(Bytes::from(chunk))), st));
            }
            if closed || st.rx.changed().await.is_err() {
                return None;
            }
        }
    });
    let mut resp = Response::new(StreamBody::new(stream).boxed());
    resp.headers_mut()
        .insert(CONTENT_TYPE, http::HeaderValue::from_static("text/plain"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategic_merge_by_key() {
        let mut doc = json!({"spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "m", "port": 9}],
            "selector": {"a": "1", "b": "2"}, "tolerations": [{"key": "x"}]},
            "metadata": {"finalizers": ["f1", "f2"]}});
        let patch = json!({"spec": {"$setElementOrder/ports": [{"port": 80}], "ports": [{"port": 80, "targetPort": 9090}, {"port": 9, "$patch": "delete"}],
            "selector": {"b": null, "c": "3"}, "tolerations": [{"key": "y"}]},
            "metadata": {"$deleteFromPrimitiveList/finalizers": ["f1"]}});
        strategic_merge(&mut doc, &patch);
        assert_eq!(
            doc,
            json!({"spec": {"ports": [{"name": "http", "port": 80, "targetPort": 9090}],
            "selector": {"a": "1", "c": "3"}, "tolerations": [{"key": "y"}]},
            "metadata": {"finalizers": ["f2"]}})
        );
    }

    #[test]
    fn continue_token_roundtrip() {
        let t = encode_continue("shop", "web-1");
        assert_eq!(decode_continue(&t), Some(("shop".into(), "web-1".into())));
        assert_eq!(decode_continue("zz"), None);
    }
}
