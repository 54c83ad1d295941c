//! A fake Kubernetes API server for tests and demos.
//!
//! [`FakeApi::spawn`] starts an HTTP/1.1 server on `127.0.0.1:<random port>` in its own
//! thread with its own tokio runtime, and writes a kubeconfig (`server:
//! http://127.0.0.1:PORT`, context `fake`, namespace `default`, anonymous user) that both
//! kube-rs clients and a real `kubectl` accept.
//!
//! ```no_run
//! use acmecheck_testkit::fakeapi::FakeApi;
//! let api = FakeApi::spawn()?;
//! api.load_dir("testkit/fixtures/basic")?;
//! api.deny("list", "acme.cert-manager.io", "challenges", Some("shop"));
//! // run kubectl / the plugin with KUBECONFIG=api.kubeconfig()
//! assert!(api.requests().iter().all(|r| r.method == "GET"));
//! # anyhow::Ok(())
//! ```
//!
//! # What is faithful
//! - Paths: `/api/v1/...`, `/apis/<group>/<version>/...`, namespaced and all-namespaces
//!   collection paths, `namespaces/<ns>/<plural>/<name>[/status|/log]`, and the legacy
//!   `/watch/` prefix. Resources come from one data-driven table ([`resources::builtin`]):
//!   core pods (+`log`, `status`), services, endpoints, configmaps, namespaces, events,
//!   nodes; apps deployments, daemonsets; discovery.k8s.io endpointslices;
//!   networking.k8s.io ingresses, ingressclasses; gateway.networking.k8s.io gateways,
//!   gatewayclasses, httproutes; cert-manager.io certificates, certificaterequests,
//!   issuers, clusterissuers; acme.cert-manager.io orders, challenges.
//! - Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<g>`, `/apis/<g>/<v>` with
//!   verbs, shortNames, categories and subresources (kubectl resolves `cert`, `all`,
//!   `cert-manager` through it). Aggregated discovery is not served: clients fall back to
//!   these legacy documents, which is what they do against any pre-1.26 server.
//! - LIST with `labelSelector` (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`) and
//!   `fieldSelector` (`metadata.name`, `metadata.namespace`, and per resource the fields the
//!   real server allows, e.g. `status.phase`/`spec.nodeName` for pods,
//!   `involvedObject.*` for events; other keys give the real 400 `field label not
//!   supported`), `limit`/`continue` with `remainingItemCount`, list kind `<Kind>List`
//!   and `metadata.resourceVersion`.
//! - WATCH (`watch=true|1` or `/watch/`): newline-delimited `{"type","object"}` events.
//!   No resourceVersion (or `0`) sends the current state as ADDED first; a resourceVersion R
//!   replays every later event; R older than the retained history gives an `ERROR` event
//!   with a 410 `Expired` Status (`too old resource version: R (oldest)`), as the real
//!   watch cache does. Selector watches turn MODIFIED into ADDED/DELETED when an object
//!   enters/leaves the selection. `timeoutSeconds`, `allowWatchBookmarks` (BOOKMARK every
//!   5 s) and `sendInitialEvents=true` (with the `k8s.io/initial-events-end` bookmark).
//! - Writes: POST (generateName, uid, resourceVersion, creationTimestamp, generation,
//!   namespace defaulting, 409 AlreadyExists, 422 Invalid without name/generateName, 400
//!   on namespace mismatch), PUT (409 Conflict on a stale resourceVersion; `/status`
//!   replaces only `.status`), PATCH (merge patch, JSON patch, strategic merge patch
//!   approximated — see [`patch::strategic_merge_patch`]), DELETE (pods and custom
//!   resources return the object, other built-ins a `Success` Status, as the real
//!   registries do), DELETE on a collection. One global, monotonically increasing
//!   resourceVersion.
//! - Errors are `metav1.Status` objects in the real shape and wording: NotFound
//!   (`certificates.cert-manager.io "web" not found`), AlreadyExists, Conflict, Invalid,
//!   Forbidden (RBAC wording, user from `Impersonate-User` or `system:anonymous`),
//!   MethodNotAllowed, BadRequest, Expired; unknown resources and removed groups give 404
//!   `the server could not find the requested resource`.
//! - pods/log: plain text, `follow` (streams appended text until the pod is deleted or the
//!   client goes away), `tailLines`, `limitBytes`, `container` validation.
//!
//! # What is simplified
//! - No authentication, no TLS, no admission, no schema validation (any object shape is
//!   stored as-is; only `metadata.name` is required). Authorization is allow-all except
//!   rules added with [`FakeApi::deny`].
//! - Deletion is immediate: finalizers, graceful deletion and garbage collection of owned
//!   objects are not simulated. Namespaces are not required to exist (fixtures create the
//!   Namespace objects they imply).
//! - Strategic merge patch merges lists of named objects by `name` only (no per-field
//!   patch strategies); server-side apply (`application/apply-patch+yaml`) answers 415.
//! - No Table output (`as=Table` is ignored; kubectl then prints NAME/AGE client-side), no
//!   protobuf, no OpenAPI documents (kubectl `apply` needs `--validate=false`, as against any
//!   server without OpenAPI), no aggregated discovery.
//! - Removing a group ([`FakeApi::remove_group`]) deletes its objects, like deleting CRDs;
//!   inserting an object of that group from the test side serves it again.

mod generate;
pub mod patch;
pub mod resources;
pub mod selector;
mod server;
pub mod status;
mod store;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{Context, Result, anyhow, bail};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;

pub use generate::{adler32, generate_certificates};
pub use resources::ResourceDef;
pub use status::ApiError;
pub use store::{DenyRule, rfc3339};

use server::Shared;
use store::meta_str;

/// One request the server received (for counting API calls in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Raw query string, `""` when absent.
    pub query: String,
    pub user_agent: Option<String>,
    pub impersonate_user: Option<String>,
    pub impersonate_groups: Vec<String>,
    pub accept: Option<String>,
    pub content_type: Option<String>,
}

impl Request {
    /// Whether this was a watch (`watch=true|1` or a `/watch/` path).
    pub fn is_watch(&self) -> bool {
        self.path.contains("/watch/")
            || self
                .query
                .split('&')
                .any(|p| p == "watch=true" || p == "watch=1")
    }

    /// Whether this was a discovery or version request rather than a resource call.
    pub fn is_discovery(&self) -> bool {
        let segs = self.path.split('/').filter(|s| !s.is_empty()).count();
        matches!(self.path.as_str(), "/version" | "/api" | "/apis")
            || (self.path.starts_with("/api/") && segs == 2)
            || (self.path.starts_with("/apis/") && segs <= 3)
            || self.path.starts_with("/openapi")
    }
}

/// A running fake API server. Dropping it stops the server and removes its kubeconfig.
pub struct FakeApi {
    shared: Arc<Shared>,
    url: String,
    dir: PathBuf,
    kubeconfig: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeApi {
    /// Starts a server on `127.0.0.1:0` (a free port).
    pub fn spawn() -> Result<Self> {
        Self::spawn_on("127.0.0.1:0".parse()?)
    }

    /// Starts a server on `addr`, which must be a loopback address.
    pub fn spawn_on(addr: SocketAddr) -> Result<Self> {
        if !addr.ip().is_loopback() {
            bail!("the fake API server only listens on loopback, not {addr}");
        }
        let listener = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(addr));
        shared.state().ensure_namespace("default");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fakeapi")
            .enable_all()
            .build()?;
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let srv = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fakeapi".into())
            .spawn(move || {
                runtime.block_on(serve(listener, srv, stop_rx));
                runtime.shutdown_background();
            })?;
        let url = format!("http://{addr}");
        let dir = std::env::temp_dir().join(format!(
            "acmecheck-fakeapi-{}-{}",
            std::process::id(),
            addr.port()
        ));
        std::fs::create_dir_all(&dir)?;
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(&kubeconfig, kubeconfig_text(&url, "default"))?;
        Ok(FakeApi {
            shared,
            url,
            dir,
            kubeconfig,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// Path of a kubeconfig (context `fake`, namespace `default`) for this server.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// Writes another kubeconfig whose context namespace is `ns`.
    pub fn kubeconfig_with_namespace(&self, ns: &str) -> Result<PathBuf> {
        let p = self.dir.join(format!("kubeconfig-{ns}"));
        std::fs::write(&p, kubeconfig_text(&self.url, ns))?;
        Ok(p)
    }

    /// Writes the kubeconfig (namespace `default`) to `path` as well.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<()> {
        std::fs::write(path, kubeconfig_text(&self.url, "default"))
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Loads every `*.yaml` / `*.yml` file in `dir` (sorted by name, multi-document,
    /// `kind: List` expanded). Returns the number of objects stored.
    pub fn load_dir(&self, dir: impl AsRef<Path>) -> Result<usize> {
        let dir = dir.as_ref();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        let mut n = 0;
        for f in files {
            let text =
                std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
            n += self
                .load_yaml(&text)
                .with_context(|| format!("loading {}", f.display()))?;
        }
        Ok(n)
    }

    /// Loads a (multi-document) YAML string. Returns the number of objects stored.
    pub fn load_yaml(&self, yaml: &str) -> Result<usize> {
        let docs: Vec<Value> =
            serde_saphyr::from_multiple(yaml).map_err(|e| anyhow!("invalid YAML: {e}"))?;
        self.insert_many(docs.into_iter().filter(|d| !d.is_null()))
    }

    /// Inserts (or replaces) many objects under one lock; one watch wake-up.
    pub fn insert_many(&self, objs: impl IntoIterator<Item = Value>) -> Result<usize> {
        let mut n = 0;
        {
            let mut st = self.shared.state();
            let mut stack: Vec<Value> = objs.into_iter().collect();
            stack.reverse();
            while let Some(obj) = stack.pop() {
                if obj
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List"))
                {
                    if let Some(items) = obj.get("items").and_then(Value::as_array) {
                        stack.extend(items.iter().rev().cloned());
                        continue;
                    }
                }
                insert_one(&mut st, obj)?;
                n += 1;
            }
        }
        self.shared.notify();
        Ok(n)
    }

    /// Inserts or replaces one object as a fixture (keeps a given uid/creationTimestamp,
    /// assigns the next resourceVersion, emits ADDED or MODIFIED). Returns the stored object.
    pub fn insert(&self, obj: Value) -> Result<Value> {
        let stored = insert_one(&mut self.shared.state(), obj)?;
        self.shared.notify();
        Ok(stored)
    }

    /// Replaces an existing object from the test side (no resourceVersion check; keeps
    /// uid and creationTimestamp; emits MODIFIED). Errors if it does not exist.
    pub fn update(&self, mut obj: Value) -> Result<Value> {
        let stored = {
            let mut st = self.shared.state();
            let (res, ns, name) = locate(&st, &obj)?;
            if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("resourceVersion");
            }
            st.replace(res, &ns, &name, obj, false)
                .map_err(|e| anyhow!(e.message))?
        };
        self.shared.notify();
        Ok((*stored).clone())
    }

    /// Deletes an object from the test side (emits DELETED). `namespace` is ignored for
    /// cluster-scoped kinds.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value> {
        let gone = {
            let mut st = self.shared.state();
            let res = st
                .find_kind(api_version, kind)
                .ok_or_else(|| anyhow!("unknown kind {kind} in {api_version}"))?;
            let ns = if st.resources[res].namespaced {
                namespace.unwrap_or("default")
            } else {
                ""
            };
            st.delete(res, ns, name).map_err(|e| anyhow!(e.message))?
        };
        self.shared.notify();
        Ok((*gone).clone())
    }

    /// The stored object, if any.
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let st = self.shared.state();
        let res = st.find_kind(api_version, kind)?;
        let ns = if st.resources[res].namespaced {
            namespace.unwrap_or("default")
        } else {
            ""
        };
        st.get(res, ns, name).ok().map(|o| (*o).clone())
    }

    /// Number of stored objects of a kind (all namespaces).
    pub fn count(&self, api_version: &str, kind: &str) -> usize {
        let st = self.shared.state();
        st.find_kind(api_version, kind)
            .map(|r| st.objects[r].len())
            .unwrap_or(0)
    }

    /// Sets the whole log text of a pod (served by `pods/log`; followers get the new tail).
    pub fn set_pod_logs(&self, namespace: &str, pod: &str, text: &str) {
        self.shared
            .state()
            .logs
            .insert((namespace.to_string(), pod.to_string()), text.to_string());
        self.shared.notify();
    }

    /// Appends to a pod's log (what `kubectl logs -f` followers then receive).
    pub fn append_pod_logs(&self, namespace: &str, pod: &str, text: &str) {
        self.shared
            .state()
            .logs
            .entry((namespace.to_string(), pod.to_string()))
            .or_default()
            .push_str(text);
        self.shared.notify();
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn clear_requests(&self) {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Makes `verb` (get, list, watch, create, update, patch, delete, deletecollection,
    /// or `*`) on `group`/`resource` (`plural`, `plural/subresource` or `*`) in
    /// `namespace` (`None` = every namespace and cluster scope) answer 403 like RBAC.
    pub fn deny(&self, verb: &str, group: &str, resource: &str, namespace: Option<&str>) {
        self.shared.state().deny.push(DenyRule {
            verb: verb.to_string(),
            group: group.to_string(),
            resource: resource.to_string(),
            namespace: namespace.map(str::to_string),
        });
    }

    /// Removes every deny rule.
    pub fn clear_denies(&self) {
        self.shared.state().deny.clear();
    }

    /// Stops serving `group` (discovery and paths), deleting its objects — like a cluster
    /// without those CRDs.
    pub fn remove_group(&self, group: &str) {
        self.shared.state().remove_group(group);
        self.shared.notify();
    }

    /// Serves `group` again after [`FakeApi::remove_group`] (all groups in the table are
    /// served by default).
    pub fn install_crds(&self, group: &str) {
        self.shared.state().removed_groups.remove(group);
    }

    /// Adds (or replaces) a row of the resource table.
    pub fn register_resource(&self, def: ResourceDef) {
        self.shared.state().add_resource(def);
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.state().rv
    }

    /// Drops the event history: watches from any older resourceVersion get 410 Expired.
    pub fn compact(&self) {
        self.shared.state().compact();
    }

    /// How many events are kept for watch replay (default 100,000).
    pub fn set_history_limit(&self, n: usize) {
        self.shared.state().history_limit = n.max(1);
    }

    /// Stops the server and waits for its thread (also done on drop).
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.stop_now();
    }
}

fn locate(st: &store::State, obj: &Value) -> Result<(usize, String, String)> {
    let api_version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("object without apiVersion"))?;
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("object without kind"))?;
    let res = st
        .find_kind(api_version, kind)
        .ok_or_else(|| anyhow!("the fake API server does not serve {kind} in {api_version}"))?;
    let name = meta_str(obj, "name")
        .ok_or_else(|| anyhow!("{kind} without metadata.name"))?
        .to_string();
    let ns = if st.resources[res].namespaced {
        meta_str(obj, "namespace").unwrap_or("default").to_string()
    } else {
        String::new()
    };
    Ok((res, ns, name))
}

fn insert_one(st: &mut store::State, obj: Value) -> Result<Value> {
    let (res, _, _) = locate(st, &obj)?;
    let group = st.resources[res].group;
    st.removed_groups.remove(group);
    let stored = st
        .insert_fixture(res, obj)
        .map_err(|e| anyhow!(e.message))?;
    Ok((*stored).clone())
}

fn kubeconfig_text(url: &str, ns: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {url}\n\
         contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: {ns}\n\
         current-context: fake\nusers:\n- name: fake\n  user: {{}}\npreferences: {{}}\n"
    )
}

async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| server::handle(shared.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        }
    }
}
