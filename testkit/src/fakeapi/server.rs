//! The HTTP side: routing, discovery, CRUD, watch and log streaming.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use futures::channel::mpsc;
use http::{HeaderMap, Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use serde_json::{Value, json};

use super::Request;
use super::patch;
use super::resources::ResourceDef;
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::{EventType, State, meta_str};

pub type Body = BoxBody<Bytes, Infallible>;
type Chunk = Result<Frame<Bytes>, Infallible>;

/// What the server thread and the test-side handle share.
pub struct Shared {
    pub state: Mutex<State>,
    /// Bumped after every change to objects or logs; watches and log follows wait on it.
    pub changed: tokio::sync::watch::Sender<u64>,
    pub requests: Mutex<Vec<Request>>,
    pub addr: SocketAddr,
}

impl Shared {
    pub fn new(addr: SocketAddr) -> Self {
        Shared {
            state: Mutex::new(State::new()),
            changed: tokio::sync::watch::channel(0).0,
            requests: Mutex::new(Vec::new()),
            addr,
        }
    }

    /// The state, recovering from a poisoned lock (a panicking test thread must not wedge the server).
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn notify(&self) {
        self.changed.send_modify(|v| *v += 1);
    }
}

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = status;
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

fn json_response(status: StatusCode, v: &Value) -> Response<Body> {
    full(
        status,
        "application/json",
        serde_json::to_vec(v).unwrap_or_default(),
    )
}

pub fn error_response(e: &ApiError) -> Response<Body> {
    let code = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(code, &e.to_status())
}

fn streaming(content_type: &str) -> (mpsc::Sender<Chunk>, Response<Body>) {
    let (tx, rx) = mpsc::channel::<Chunk>(64);
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(rx)));
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    (tx, r)
}

fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parsed query string (last value wins, as in Go's `url.Values.Get` for our parameters).
#[derive(Default, Debug)]
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: &str) -> Self {
        Query(
            raw.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect(),
        )
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
    fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1"))
    }
}

/// Entry point for one HTTP request.
pub async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let h = req.headers();
    let entry = Request {
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
        query: req.uri().query().unwrap_or("").to_string(),
        user_agent: header_str(h, "user-agent"),
        impersonate_user: header_str(h, "impersonate-user"),
        impersonate_groups: h
            .get_all("impersonate-group")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect(),
        accept: header_str(h, "accept"),
        content_type: header_str(h, "content-type"),
    };
    shared
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(entry);
    Ok(match route(&shared, req).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    })
}

fn version_doc() -> Value {
    json!({
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-acmecheck-fake",
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc",
        "platform": "linux/amd64"
    })
}

fn group_version_entry(group: &str, version: &str) -> Value {
    json!({"groupVersion": format!("{group}/{version}"), "version": version})
}

fn api_group(st: &State, group: &str) -> Option<Value> {
    let mut versions: Vec<&str> = Vec::new();
    for r in st.resources.iter().filter(|r| r.group == group) {
        if !versions.contains(&r.version) {
            versions.push(r.version);
        }
    }
    let first = versions.first()?;
    Some(json!({
        "name": group,
        "versions": versions.iter().map(|v| group_version_entry(group, v)).collect::<Vec<_>>(),
        "preferredVersion": group_version_entry(group, first),
    }))
}

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn resource_list(st: &State, group: &str, version: &str) -> Option<Value> {
    let defs: Vec<&ResourceDef> = st
        .resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if defs.is_empty() || !st.group_served(group) {
        return None;
    }
    let mut resources = Vec::new();
    for d in defs {
        let mut r = json!({
            "name": d.plural, "singularName": d.singular(), "namespaced": d.namespaced,
            "kind": d.kind, "verbs": VERBS,
        });
        if !d.short_names.is_empty() {
            r["shortNames"] = json!(d.short_names);
        }
        if !d.categories.is_empty() {
            r["categories"] = json!(d.categories);
        }
        resources.push(r);
        for sub in d.subresources {
            let verbs: &[&str] = if *sub == "log" {
                &["get"]
            } else {
                &["get", "patch", "update"]
            };
            resources.push(json!({
                "name": format!("{}/{sub}", d.plural), "singularName": "", "namespaced": d.namespaced,
                "kind": if *sub == "log" { "Pod" } else { d.kind }, "verbs": verbs,
            }));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

/// `/openapi/v3`: one entry per served group/version.
fn openapi_root(st: &State) -> Value {
    let mut paths = serde_json::Map::new();
    for r in st.resources.iter().filter(|r| st.group_served(r.group)) {
        let key = if r.group.is_empty() {
            "api/v1".to_string()
        } else {
            format!("apis/{}/{}", r.group, r.version)
        };
        let url = format!("/openapi/v3/{key}?hash={:016X}", st.resources.len());
        paths
            .entry(key)
            .or_insert_with(|| json!({ "serverRelativeURL": url }));
    }
    json!({ "paths": paths })
}

/// A minimal OpenAPI v3 document for one group/version: no schemas, only the PATCH
/// operations with their `x-kubernetes-group-version-kind` and the `fieldValidation`
/// parameter, which is what kubectl checks before it asks for server-side validation.
fn openapi_gv(st: &State, group: &str, version: &str) -> Option<Value> {
    if !st.group_served(group) {
        return None;
    }
    let mut paths = serde_json::Map::new();
    for r in st
        .resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let prefix = if group.is_empty() {
            "/api/v1".to_string()
        } else {
            format!("/apis/{group}/{version}")
        };
        let scope = if r.namespaced {
            "/namespaces/{namespace}"
        } else {
            ""
        };
        let params = json!([
            {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
        ]);
        let gvk = json!({"group": group, "version": version, "kind": r.kind});
        paths.insert(
            format!("{prefix}{scope}/{}/{{name}}", r.plural),
            json!({"patch": {
                "operationId": format!("patch{}", r.kind),
                "parameters": params,
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk,
            }}),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0-acmecheck-fake"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

async fn route(
    shared: &Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let path = req.uri().path().to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let discovery = |v: Option<Value>| {
        v.map(|v| json_response(StatusCode::OK, &v))
            .ok_or_else(ApiError::no_route)
    };
    let is_get = req.method() == Method::GET;
    match segs.as_slice() {
        ["version"] if is_get => Ok(json_response(StatusCode::OK, &version_doc())),
        ["healthz" | "livez" | "readyz"] if is_get => {
            Ok(full(StatusCode::OK, "text/plain; charset=utf-8", "ok"))
        }
        ["api"] if is_get => Ok(json_response(
            StatusCode::OK,
            &json!({"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": shared.addr.to_string()}]}),
        )),
        ["api", "v1"] if is_get => discovery(resource_list(&shared.state(), "", "v1")),
        ["apis"] if is_get => {
            let st = shared.state();
            let mut groups: Vec<&str> = Vec::new();
            for r in &st.resources {
                if !r.group.is_empty() && st.group_served(r.group) && !groups.contains(&r.group) {
                    groups.push(r.group);
                }
            }
            let groups: Vec<Value> = groups.iter().filter_map(|g| api_group(&st, g)).collect();
            Ok(json_response(
                StatusCode::OK,
                &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
            ))
        }
        ["apis", g] if is_get => {
            let st = shared.state();
            let doc = if st.group_served(g) {
                api_group(&st, g).map(|mut v| {
                    v["kind"] = "APIGroup".into();
                    v["apiVersion"] = "v1".into();
                    v
                })
            } else {
                None
            };
            discovery(doc)
        }
        ["apis", g, v] if is_get => discovery(resource_list(&shared.state(), g, v)),
        ["openapi", "v3"] if is_get => Ok(json_response(
            StatusCode::OK,
            &openapi_root(&shared.state()),
        )),
        ["openapi", "v3", "api", "v1"] if is_get => {
            discovery(openapi_gv(&shared.state(), "", "v1"))
        }
        ["openapi", "v3", "apis", g, v] if is_get => discovery(openapi_gv(&shared.state(), g, v)),
        ["api", "v1", rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            resource_request(shared, req, "", "v1", &rest).await
        }
        ["apis", g, v, rest @ ..] if !rest.is_empty() => {
            let (g, v) = (g.to_string(), v.to_string());
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            resource_request(shared, req, &g, &v, &rest).await
        }
        _ => Err(ApiError::no_route()),
    }
}

/// A parsed resource path.
struct Target {
    res: usize,
    def: ResourceDef,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

impl Target {
    fn ns_key(&self) -> &str {
        if self.def.namespaced {
            self.ns.as_deref().unwrap_or("")
        } else {
            ""
        }
    }
}

async fn resource_request(
    shared: &Arc<Shared>,
    req: hyper::Request<Incoming>,
    group: &str,
    version: &str,
    rest: &[String],
) -> Result<Response<Body>, ApiError> {
    let mut rest = rest;
    let watch_prefix = rest.first().is_some_and(|s| s == "watch");
    if watch_prefix {
        rest = &rest[1..];
    }
    let (ns, rest) = if rest.len() >= 3
        && rest[0] == "namespaces"
        && !matches!(rest[2].as_str(), "status" | "finalize")
    {
        (Some(rest[1].clone()), &rest[2..])
    } else {
        (None, rest)
    };
    let (plural, name, sub) = match rest {
        [p] => (p, None, None),
        [p, n] => (p, Some(n.clone()), None),
        [p, n, s] => (p, Some(n.clone()), Some(s.clone())),
        _ => return Err(ApiError::no_route()),
    };
    let (res, def) = {
        let st = shared.state();
        let res = st
            .find_plural(group, version, plural)
            .ok_or_else(ApiError::no_route)?;
        (res, st.resources[res].clone())
    };
    if !def.namespaced && ns.is_some() {
        return Err(ApiError::no_route());
    }
    if let Some(s) = &sub {
        if !def.subresources.contains(&s.as_str()) {
            return Err(ApiError::no_route());
        }
    }
    let query = Query::parse(req.uri().query().unwrap_or(""));
    let method = req.method().clone();
    let verb = match (&method, &name, sub.as_deref()) {
        (&Method::GET, Some(_), Some("log")) => "get",
        (_, _, Some("log")) => return Err(ApiError::method_not_allowed()),
        (&Method::GET, Some(_), _) if watch_prefix => "watch",
        (&Method::GET, Some(_), _) => "get",
        (&Method::GET, None, _) if watch_prefix || query.flag("watch") => "watch",
        (&Method::GET, None, _) => "list",
        (&Method::POST, None, _) => "create",
        (&Method::PUT, Some(_), _) => "update",
        (&Method::PATCH, Some(_), _) => "patch",
        (&Method::DELETE, Some(_), None) => "delete",
        (&Method::DELETE, None, _) => "deletecollection",
        _ => return Err(ApiError::method_not_allowed()),
    };
    if def.namespaced && ns.is_none() && !matches!(verb, "list" | "watch") {
        return Err(ApiError::no_route());
    }
    let user =
        header_str(req.headers(), "impersonate-user").unwrap_or_else(|| "system:anonymous".into());
    let authz_resource = match &sub {
        Some(s) => format!("{}/{s}", def.plural),
        None => def.plural.to_string(),
    };
    if shared
        .state()
        .denied(verb, def.group, &authz_resource, ns.as_deref())
    {
        return Err(ApiError::forbidden(
            &def,
            sub.as_deref(),
            name.as_deref().unwrap_or(""),
            verb,
            &user,
            ns.as_deref(),
        ));
    }
    let t = Target {
        res,
        def,
        ns,
        name,
        sub,
    };
    match verb {
        "get" if t.sub.as_deref() == Some("log") => pod_log(shared, &t, &query),
        "get" => {
            let obj = shared
                .state()
                .get(t.res, t.ns_key(), t.name.as_deref().unwrap_or(""))?;
            Ok(full(
                StatusCode::OK,
                "application/json",
                serde_json::to_vec(&*obj).unwrap_or_default(),
            ))
        }
        "list" => list(shared, &t, &query),
        "watch" => watch(shared, &t, &query),
        "deletecollection" => delete_collection(shared, &t, &query),
        "delete" => {
            let gone = shared
                .state()
                .delete(t.res, t.ns_key(), t.name.as_deref().unwrap_or(""))?;
            shared.notify();
            Ok(deleted_response(&t.def, &gone))
        }
        _ => {
            let headers = req.headers().clone();
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            write(shared, &t, verb, &headers, &body)
        }
    }
}

/// Pods and custom resources return the deleted object; other built-ins a Success Status.
fn deleted_response(def: &ResourceDef, gone: &Value) -> Response<Body> {
    let builtin = def.group.is_empty() || def.group.ends_with(".k8s.io") || def.group == "apps";
    if builtin && def.kind != "Pod" {
        let mut details = json!({"name": meta_str(gone, "name").unwrap_or(""), "kind": def.plural});
        if !def.group.is_empty() {
            details["group"] = def.group.into();
        }
        details["uid"] = meta_str(gone, "uid").unwrap_or("").into();
        json_response(
            StatusCode::OK,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
        )
    } else {
        json_response(StatusCode::OK, gone)
    }
}

fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let ct = header_str(headers, "content-type").unwrap_or_default();
    let ct_main = ct.split(';').next().unwrap_or("").trim();
    if ct_main.ends_with("yaml") {
        let text = std::str::from_utf8(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
        serde_saphyr::from_str::<Value>(text).map_err(|e| ApiError::bad_request(e.to_string()))
    } else if ct_main.is_empty() || ct_main.ends_with("json") {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding body: {e}")))
    } else {
        Err(ApiError::unsupported_media_type(&ct))
    }
}

fn write(
    shared: &Arc<Shared>,
    t: &Target,
    verb: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let name = t.name.as_deref().unwrap_or("");
    let status_only = t.sub.as_deref() == Some("status");
    let result = match verb {
        "create" => {
            let obj = parse_body(headers, body)?;
            let created = shared.state().create(t.res, t.ns.as_deref(), obj)?;
            shared.notify();
            return Ok(json_response(StatusCode::CREATED, &created));
        }
        "update" => {
            let obj = parse_body(headers, body)?;
            shared
                .state()
                .replace(t.res, t.ns_key(), name, obj, status_only)?
        }
        "patch" => {
            let ct = header_str(headers, "content-type").unwrap_or_default();
            let ct_main = ct.split(';').next().unwrap_or("").trim().to_string();
            let p: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            let mut st = shared.state();
            let current = st.get(t.res, t.ns_key(), name)?;
            let mut obj = (*current).clone();
            match ct_main.as_str() {
                "application/merge-patch+json" => patch::merge_patch(&mut obj, &p),
                "application/strategic-merge-patch+json" => {
                    patch::strategic_merge_patch(&mut obj, &p)
                }
                "application/json-patch+json" => {
                    patch::json_patch(&mut obj, &p).map_err(|e| ApiError {
                        code: 422,
                        reason: "Invalid",
                        message: e,
                        details: None,
                    })?
                }
                _ => return Err(ApiError::unsupported_media_type(&ct)),
            }
            st.replace(t.res, t.ns_key(), name, obj, status_only)?
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    shared.notify();
    Ok(json_response(StatusCode::OK, &result))
}

/// Selectors and scope of a LIST/WATCH.
struct Filter {
    ns: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn new(t: &Target, q: &Query) -> Result<Self, ApiError> {
        let labels = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?;
        let mut field_text = q.get("fieldSelector").unwrap_or("").to_string();
        if let Some(n) = &t.name {
            if !field_text.is_empty() {
                field_text.push(',');
            }
            field_text.push_str(&format!("metadata.name={n}"));
        }
        let fields = FieldSelector::parse(&field_text, t.def.selectable_fields)
            .map_err(ApiError::bad_request)?;
        let ns = if t.def.namespaced { t.ns.clone() } else { None };
        Ok(Filter { ns, labels, fields })
    }

    fn matches(&self, obj: &Value) -> bool {
        if let Some(ns) = &self.ns {
            if meta_str(obj, "namespace") != Some(ns.as_str()) {
                return false;
            }
        }
        (self.labels.is_empty() || self.labels.matches(obj))
            && (self.fields.is_empty() || self.fields.matches(obj))
    }
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if s.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

fn list_kind(def: &ResourceDef) -> String {
    format!("{}List", def.kind)
}

/// Writes `{"kind":..,"apiVersion":..,"metadata":{..},"items":[..]}` without cloning the items.
fn list_body(def: &ResourceDef, meta: &Value, items: &[std::sync::Arc<Value>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + items.len() * 1024);
    out.extend_from_slice(
        format!(
            "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":",
            list_kind(def),
            def.api_version()
        )
        .as_bytes(),
    );
    let _ = serde_json::to_writer(&mut out, meta);
    out.extend_from_slice(b",\"items\":[");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let _ = serde_json::to_writer(&mut out, &**it);
    }
    out.extend_from_slice(b"]}");
    out
}

fn list(shared: &Arc<Shared>, t: &Target, q: &Query) -> Result<Response<Body>, ApiError> {
    let filter = Filter::new(t, q)?;
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let start_after = match q.get("continue").filter(|c| !c.is_empty()) {
        Some(c) => {
            let bad = || {
                ApiError::bad_request(
                    "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
                )
            };
            let (ns, name) = c.split_once('.').ok_or_else(bad)?;
            Some((unhex(ns).ok_or_else(bad)?, unhex(name).ok_or_else(bad)?))
        }
        None => None,
    };
    let (items, rv, more) = {
        let st = shared.state();
        let ns = if t.def.namespaced {
            t.ns.as_deref()
        } else {
            None
        };
        let mut items = Vec::new();
        let mut more = 0usize;
        let mut last_key = None;
        // A name equality term narrows the scan to one key when the namespace is known.
        let direct = filter
            .fields
            .equals("metadata.name")
            .filter(|_| !t.def.namespaced || ns.is_some());
        let iter: Box<dyn Iterator<Item = _>> = match direct {
            Some(n) => Box::new(
                st.objects[t.res]
                    .get_key_value(&(ns.unwrap_or("").to_string(), n.to_string()))
                    .into_iter(),
            ),
            None => st.scan(t.res, ns),
        };
        for (k, obj) in iter {
            if start_after.as_ref().is_some_and(|s| k <= s) || !filter.matches(obj) {
                continue;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                more += 1;
                continue;
            }
            last_key = Some(k.clone());
            items.push(obj.clone());
        }
        let cont = if more > 0 {
            last_key.map(|(ns, name)| format!("{}.{}", hex(&ns), hex(&name)))
        } else {
            None
        };
        (items, st.rv, cont.map(|c| (c, more)))
    };
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some((c, n)) = more {
        meta["continue"] = c.into();
        meta["remainingItemCount"] = n.into();
    }
    Ok(full(
        StatusCode::OK,
        "application/json",
        list_body(&t.def, &meta, &items),
    ))
}

fn delete_collection(
    shared: &Arc<Shared>,
    t: &Target,
    q: &Query,
) -> Result<Response<Body>, ApiError> {
    let filter = Filter::new(t, q)?;
    let (gone, rv) = {
        let mut st = shared.state();
        let ns = if t.def.namespaced {
            t.ns.as_deref()
        } else {
            None
        };
        let keys: Vec<_> = st
            .scan(t.res, ns)
            .filter(|(_, o)| filter.matches(o))
            .map(|(k, _)| k.clone())
            .collect();
        let mut gone = Vec::new();
        for (ns, name) in keys {
            gone.push(st.delete(t.res, &ns, &name)?);
        }
        (gone, st.rv)
    };
    shared.notify();
    Ok(full(
        StatusCode::OK,
        "application/json",
        list_body(&t.def, &json!({"resourceVersion": rv.to_string()}), &gone),
    ))
}

fn event_line(kind: &str, obj: &Value) -> Bytes {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    let _ = serde_json::to_writer(&mut out, obj);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn bookmark(def: &ResourceDef, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    event_line(
        "BOOKMARK",
        &json!({"kind": def.kind, "apiVersion": def.api_version(), "metadata": meta}),
    )
}

async fn send(tx: &mut mpsc::Sender<Chunk>, b: Bytes) -> bool {
    tx.send(Ok(Frame::data(b))).await.is_ok()
}

fn watch(shared: &Arc<Shared>, t: &Target, q: &Query) -> Result<Response<Body>, ApiError> {
    let filter = Filter::new(t, q)?;
    let rv_param = q.get("resourceVersion").unwrap_or("");
    let start: Option<u64> = match rv_param {
        "" | "0" => None,
        s => Some(
            s.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s}")))?,
        ),
    };
    let send_initial = match q.get("sendInitialEvents") {
        Some(v) => v == "true",
        None => start.is_none(),
    };
    let bookmarks = q.flag("allowWatchBookmarks");
    // Streaming lists end their initial events with an annotated BOOKMARK.
    let explicit_initial = q.get("sendInitialEvents") == Some("true");
    let timeout = Duration::from_secs(
        q.get("timeoutSeconds")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1800),
    );
    let (res, def) = (t.res, t.def.clone());
    let (mut tx, resp) = streaming("application/json");
    let shared = shared.clone();
    let mut changed = shared.changed.subscribe();
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + timeout;
        // Initial state (synthetic ADDED events) and the starting cursor.
        let (initial, mut cursor) = {
            let st = shared.state();
            let initial: Vec<_> = if send_initial {
                st.scan(res, filter.ns.as_deref())
                    .filter(|(_, o)| filter.matches(o))
                    .map(|(_, o)| o.clone())
                    .collect()
            } else {
                Vec::new()
            };
            (initial, start.filter(|_| !send_initial).unwrap_or(st.rv))
        };
        for o in initial {
            if !send(&mut tx, event_line("ADDED", &o)).await {
                return;
            }
        }
        if explicit_initial && bookmarks && !send(&mut tx, bookmark(&def, cursor, true)).await {
            return;
        }
        let mut last_bookmark = tokio::time::Instant::now();
        loop {
            let batch: Result<Vec<Bytes>, u64> = {
                let st = shared.state();
                match st.events_after(cursor) {
                    None => Err(st.compacted),
                    Some(events) => {
                        let mut out = Vec::new();
                        for e in events {
                            cursor = e.rv;
                            if e.res != res {
                                continue;
                            }
                            let now = filter.matches(&e.obj);
                            let before = e.prev.as_ref().is_some_and(|p| filter.matches(p));
                            let kind = match (e.kind, before, now) {
                                (EventType::Modified, true, true) => "MODIFIED",
                                (EventType::Modified, false, true) => "ADDED",
                                (EventType::Modified, true, false) => "DELETED",
                                (EventType::Added, _, true) => "ADDED",
                                (EventType::Deleted, _, _) if before || now => "DELETED",
                                _ => continue,
                            };
                            out.push(event_line(kind, &e.obj));
                        }
                        Ok(out)
                    }
                }
            };
            match batch {
                Err(oldest) => {
                    let err = ApiError::expired(format!(
                        "too old resource version: {cursor} ({})",
                        oldest + 1
                    ));
                    let _ = send(&mut tx, event_line("ERROR", &err.to_status())).await;
                    return;
                }
                Ok(lines) => {
                    for l in lines {
                        if !send(&mut tx, l).await {
                            return;
                        }
                    }
                }
            }
            let tick = tokio::time::sleep(Duration::from_millis(500));
            tokio::select! {
                r = changed.changed() => if r.is_err() { return },
                _ = tick => {}
                _ = tokio::time::sleep_until(deadline) => return,
            }
            if tx.is_closed() || tokio::time::Instant::now() >= deadline {
                return;
            }
            if bookmarks && last_bookmark.elapsed() >= Duration::from_secs(5) {
                last_bookmark = tokio::time::Instant::now();
                if !send(&mut tx, bookmark(&def, cursor, false)).await {
                    return;
                }
            }
        }
    });
    Ok(resp)
}

fn pod_log(shared: &Arc<Shared>, t: &Target, q: &Query) -> Result<Response<Body>, ApiError> {
    let name = t.name.clone().unwrap_or_default();
    let ns = t.ns_key().to_string();
    let key = (ns.clone(), name.clone());
    let (text, pod) = {
        let st = shared.state();
        let pod = st.get(t.res, &ns, &name)?;
        (st.logs.get(&key).cloned().unwrap_or_default(), pod)
    };
    let containers: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name")?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match q.get("container") {
        Some(c) if !containers.is_empty() && !containers.iter().any(|n| n == c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        None if containers.len() > 1 => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
        _ => {}
    }
    let mut initial = text.clone();
    if let Some(n) = q.get("tailLines").and_then(|n| n.parse::<usize>().ok()) {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        initial = lines[lines.len().saturating_sub(n)..].concat();
    }
    if let Some(n) = q.get("limitBytes").and_then(|n| n.parse::<usize>().ok()) {
        let mut cut = n.min(initial.len());
        while !initial.is_char_boundary(cut) {
            cut -= 1;
        }
        initial.truncate(cut);
    }
    if !q.flag("follow") {
        return Ok(full(StatusCode::OK, "text/plain", initial));
    }
    let (mut tx, resp) = streaming("text/plain");
    let shared = shared.clone();
    let res = t.res;
    let mut changed = shared.changed.subscribe();
    tokio::spawn(async move {
        if !initial.is_empty() && !send(&mut tx, Bytes::from(initial)).await {
            return;
        }
        let mut sent = text;
        loop {
            tokio::select! {
                r = changed.changed() => if r.is_err() { return },
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            if tx.is_closed() {
                return;
            }
            let (now, exists) = {
                let st = shared.state();
                (
                    st.logs.get(&key).cloned().unwrap_or_default(),
                    st.objects[res].contains_key(&key),
                )
            };
            let new = match now.strip_prefix(sent.as_str()) {
                Some(rest) => rest.to_string(),
                None => now.clone(),
            };
            if !new.is_empty() && !send(&mut tx, Bytes::from(new)).await {
                return;
            }
            sent = now;
            if !exists {
                return;
            }
        }
    });
    Ok(resp)
}
