//! A fake Kubernetes API server for tests and demos.
//!
//! [`FakeApi::spawn`] starts an HTTP/1.1 server on `127.0.0.1:<random>` in its
//! own thread with its own tokio runtime, and writes a kubeconfig
//! (`server: http://127.0.0.1:PORT`, context `fake`, namespace `default`) that
//! both kube-rs clients and real `kubectl` accept. Objects are loaded from YAML
//! fixtures or inserted as JSON, and are served with the semantics of
//! kube-apiserver. `testkit/tests/kubectl.rs` checks this with real `kubectl`
//! (v1.32), `testkit/tests/kube_client.rs` with a kube-rs client.
//!
//! ```no_run
//! use acmecheck_testkit::fakeapi::FakeApi;
//! # fn main() -> anyhow::Result<()> {
//! let api = FakeApi::spawn()?;
//! api.load_dir("testkit/fixtures/basic")?;
//! api.deny("list", "acme.cert-manager.io", "challenges", Some("shop"));
//! // ... run the code under test with KUBECONFIG=api.kubeconfig() ...
//! let lists = api.requests().iter().filter(|r| r.method == "GET").count();
//! # let _ = lists;
//! # Ok(())
//! # }
//! ```
//!
//! Scale: [`generate_certificates`]`(1000, 10)` (7,011 objects) loads in
//! ~55 ms in a release build (~300 ms debug); a LIST over ~10,000 stored
//! objects is served from per-object cached JSON (release: 1,429 pods, 2 MB,
//! ~45 ms the first time, ~2 ms after). See `examples/fakeapi_scale.rs`.
//!
//! # Faithful
//! - Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<g>`,
//!   `/apis/<g>/<v>` (APIVersions, APIGroupList, APIGroup, APIResourceList with
//!   verbs, shortNames, categories and subresources), and aggregated
//!   discovery v2 (`APIGroupDiscoveryList` on `/api` and `/apis` when the
//!   Accept header asks for it, as kubectl 1.32 and kube's
//!   `Discovery::run_aggregated` do). `kubectl get cert`, `get
//!   cert-manager` (category) and `get po` (short name) resolve as usual.
//!   [`FakeApi::remove_group`] makes a group vanish like uninstalled CRDs: gone
//!   from discovery, and its paths answer 404 `the server could not find the
//!   requested resource`.
//! - GET, LIST (namespaced and all-namespaces paths, `labelSelector` with `=`,
//!   `==`, `!=`, `in`, `notin`, `key`, `!key`; `fieldSelector` with
//!   `metadata.name`, `metadata.namespace` and the kind's own field labels such
//!   as `status.phase`/`spec.nodeName` for pods — others are refused with 400
//!   `field label not supported`; `limit`/`continue` paging), list kind
//!   `<Kind>List` with `metadata.resourceVersion`.
//! - `Table` responses when the client asks for them (`kubectl get`), with the
//!   cert-manager CRDs' printer columns and a human Age.
//! - WATCH (`?watch=true|1` or the legacy `/watch/` prefix): newline-delimited
//!   `{"type":..,"object":..}` in a chunked response. Without a
//!   resourceVersion (or with `0`) it starts with synthetic ADDED events for
//!   the current objects; from resourceVersion R it replays every later
//!   change. `timeoutSeconds` ends it; `allowWatchBookmarks` adds a BOOKMARK at
//!   the end; `sendInitialEvents` ends the initial batch with the
//!   `k8s.io/initial-events-end` bookmark. An object that stops (starts)
//!   matching the selector is reported as DELETED (ADDED), like the watch
//!   cache. A resourceVersion older than the kept history (see
//!   [`FakeApi::compact`]) gets an `ERROR` event with a 410 `Expired` Status,
//!   as the real server sends it.
//! - One global, monotonically increasing resourceVersion; no-op updates do
//!   not bump it.
//! - POST (`generateName` with the 5-character suffix, `uid`,
//!   `creationTimestamp`, `generation`, namespace from the URL; 409
//!   AlreadyExists; 422 Invalid when neither name nor generateName is given;
//!   404 when the namespace does not exist), PUT (409 Conflict on a stale
//!   resourceVersion, 422 when it is missing), PATCH (merge patch, JSON patch,
//!   apply patch), DELETE (returns the object and emits DELETED; objects with
//!   finalizers only get a `deletionTimestamp` until an update removes the
//!   last finalizer), deletecollection. On kinds with a status subresource the
//!   main resource ignores status changes and `/status` changes only status.
//! - Errors are `metav1.Status` in the real shape and wording (NotFound,
//!   AlreadyExists, Conflict, Invalid, Forbidden, BadRequest,
//!   MethodNotAllowed, Expired). [`FakeApi::deny`] produces the RBAC
//!   authorizer's 403 text, naming the `Impersonate-User` (or
//!   `system:anonymous`). `SelfSubjectAccessReview` (`kubectl auth can-i`)
//!   answers from the same rules.
//! - `pods/log` as text/plain with `tailLines`, `limitBytes`, `container`
//!   and `follow` (the stream carries what [`FakeApi::append_pod_logs`] adds
//!   until the pod is deleted, or — for pods the kubelet runs — until the
//!   container ends). Pods the kubelet runs answer like the kubelet: 400
//!   `container "probe" in pod "x" is waiting to start: ContainerCreating`
//!   (or `image can't be pulled`, `trying and failing to pull image`) while
//!   waiting, an empty body while unscheduled.
//! - Pods created through the API get the API server's defaults
//!   (`terminationGracePeriodSeconds`, `restartPolicy`, `dnsPolicy`,
//!   `imagePullPolicy`, tolerations, …) and their status reset to
//!   `{phase: Pending, qosClass}`; `kubectl get pods` shows the pod
//!   printer's READY/STATUS/RESTARTS.
//! - Services created through the API get the API server's defaults
//!   (`type`, `sessionAffinity`, IP families, ports' `protocol` and
//!   `targetPort`), a ClusterIP from `203.0.113.129–254` ([`SERVICE_RANGE`])
//!   and nodePorts (30000–32767) for NodePort/LoadBalancer, with the 422s
//!   for missing ports, an unknown type or a taken IP/port; Ingresses are
//!   validated for `pathType`, absolute paths and class annotation + field;
//!   HTTPRoutes get the CRD schema's defaults (`defaults.rs`). DELETE answers
//!   with the object for pods, services and namespaces (and whenever the
//!   deletion is pending), else with a `Status` `Success` whose details name
//!   the plural resource, as `genericregistry.Store` does.
//! - Pod Security admission on pod create (`admission.rs`): namespaces
//!   labelled `pod-security.kubernetes.io/enforce: baseline|restricted` get
//!   the plugin's 403 `pods "x" is forbidden: violates PodSecurity
//!   "restricted:latest": …` with every check of the v1.32 standards.
//! - A fake scheduler + kubelet ([`FakeApi::enable_kubelet`], `kubelet.rs`):
//!   Node objects, scheduling with `nodeSelector` (and the scheduler's
//!   Unschedulable message), real-shaped status transitions Pending →
//!   Running → Succeeded/Failed as MODIFIED events, containers run as real
//!   local processes (optionally in a network namespace) with their output
//!   as the pod log, ErrImagePull/ImagePullBackOff for unknown images,
//!   `activeDeadlineSeconds`, graceful deletion (SIGTERM, SIGKILL after the
//!   grace period, then DELETED), [`FakeApi::kill_pod`] for OOM kills.
//!
//! # Simplified
//! - No authentication, TLS, HTTP/2, or schema validation; no admission or
//!   defaulting beyond the pod rules above: objects of any shape are stored
//!   as given.
//! - Strategic merge patch knows the merge keys of the common built-in list
//!   fields only (ports, containers, env, volumes, volumeMounts, conditions,
//!   ownerReferences, …); other lists are replaced. Server-side
//!   apply is a merge patch that creates the object when absent; there are no
//!   managedFields.
//! - No garbage collection through ownerReferences; deleting a Namespace
//!   deletes its objects at once (no Terminating phase); pods are deleted
//!   immediately unless the kubelet runs them.
//! - Kubelet: one container per pod (no init containers, no sidecars, no
//!   restarts: `restartPolicy` Always/OnFailure end like Never), the
//!   image's entrypoint only (a `command` fails with StartError), `env`
//!   values and simple `fieldRef`s only (no secrets, configMaps or volumes),
//!   no probes, no resource limits, no uid switch (`runAsUser` is not
//!   applied; the process runs as the test's user), every pod gets the same
//!   pod IP. The scheduler ignores taints, tolerations, affinity and
//!   resources, and does not retry an unschedulable pod when nodes change.
//!   Image references must match the configured ones exactly;
//!   [`KubeletConfig::acmesolver`] maps an image to the Go acmesolver stand-in.
//! - `resourceVersion` on LIST/GET is ignored (always the latest state);
//!   `continue` tokens are not tied to a snapshot. `dryRun` is refused.
//! - Protobuf request bodies are refused with 415, except a
//!   `SelfSubjectAccessReview` (which `kubectl auth can-i` always sends as
//!   protobuf); responses are always JSON.
//! - RBAC is "allow everything except what [`FakeApi::deny`] lists".
//! - `/openapi/v3` serves a minimal document per group/version: no schemas,
//!   only the PATCH operations with their group/version/kind and the
//!   `fieldValidation` parameter, which is what `kubectl apply` checks before
//!   leaving field validation to the server. `fieldValidation` itself is
//!   ignored (unknown fields are kept). `/openapi/v2` is not served.
//! - Kinds not in the resource table are accepted from fixtures with a guessed
//!   plural (`Foo` → `foos`).

mod admission;
mod defaults;
mod gateways;
mod generate;
mod kubelet;
mod pods;
mod proto;
mod resources;
mod selector;
mod server;
mod status;
mod store;
mod table;
mod util;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use anyhow::{Context, bail};
use serde_json::Value;

pub use admission::{Level as PodSecurityLevel, Violation, evaluate as pod_security_evaluate};
pub use defaults::{SERVICE_NET, SERVICE_RANGE};
pub use generate::generate_certificates;
pub use kubelet::{DEFAULT_POD_IP, KubeletConfig};
pub use resources::{Column, Resource};
pub use selector::{FieldSelector, LabelSelector};
pub use status::ApiError;
pub use util::{adler32, now_secs, rfc3339};

use server::{Shared, lock};
use store::Store;

/// One request as the server saw it (for counting API calls in tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The URL path, e.g. `/apis/cert-manager.io/v1/namespaces/shop/certificates`.
    pub path: String,
    /// The raw query string (percent-encoded), empty if none.
    pub query: String,
    pub user_agent: String,
    /// The `Impersonate-User` header.
    pub impersonate_user: Option<String>,
    /// The `Impersonate-Group` headers.
    pub impersonate_groups: Vec<String>,
}

impl Request {
    /// Was this a discovery request (`/version`, `/api`, `/apis`,
    /// `/api/v1`, `/apis/<g>[/<v>]`, `/openapi/...`) rather than one on a
    /// resource?
    pub fn is_discovery(&self) -> bool {
        let segs: Vec<&str> = self.path.trim_matches('/').split('/').collect();
        matches!(
            segs.as_slice(),
            ["version"] | ["api"] | ["apis"] | ["api", _] | ["apis", _] | ["apis", _, _]
        ) || segs.first() == Some(&"openapi")
    }

    /// Was this a watch request?
    pub fn is_watch(&self) -> bool {
        self.path.contains("/watch/")
            || util::parse_query(&self.query)
                .iter()
                .any(|(k, v)| k == "watch" && (v == "true" || v == "1"))
    }
}

/// An RBAC denial installed with [`FakeApi::deny`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenyRule {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`, or `*`.
    pub verb: String,
    /// API group (`""` for core), or `*`.
    pub group: String,
    /// Plural resource, optionally with subresource (`pods/log`), or `*`.
    pub resource: String,
    /// `None` = everywhere; `Some(ns)` = in that namespace (and therefore
    /// also for cluster-wide requests on namespaced resources).
    pub namespace: Option<String>,
}

/// A running fake API server. Dropping it stops the server.
pub struct FakeApi {
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    dir: PathBuf,
    kubeconfig: PathBuf,
    rt: tokio::runtime::Handle,
}

impl FakeApi {
    /// Starts a server on `127.0.0.1:<random port>`.
    pub fn spawn() -> anyhow::Result<FakeApi> {
        Self::spawn_on(SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Starts a server on the given loopback address (port 0 = random).
    pub fn spawn_on(addr: SocketAddr) -> anyhow::Result<FakeApi> {
        if !addr.ip().is_loopback() {
            bail!("the fake API server listens on loopback only, not {addr}");
        }
        let listener = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (tick, _) = tokio::sync::watch::channel(0u64);
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new()),
            tick,
            requests: Mutex::new(Vec::new()),
            denies: Mutex::new(Vec::new()),
            addr,
            kubelet: Mutex::new(None),
        });
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fakeapi")
            .enable_all()
            .build()
            .context("building the fake API runtime")?;
        let handle = rt.handle().clone();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let srv = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fakeapi-accept".into())
            .spawn(move || {
                rt.block_on(serve(srv, listener, stop_rx));
                rt.shutdown_background();
            })
            .context("spawning the fake API thread")?;
        let dir = std::env::temp_dir().join(format!(
            "fakeapi-{}-{}-{:08x}",
            std::process::id(),
            addr.port(),
            util::random_u64() as u32
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut api = FakeApi {
            shared,
            stop: Some(stop),
            thread: Some(thread),
            kubeconfig: dir.join("kubeconfig"),
            dir,
            rt: handle,
        };
        let path = api.kubeconfig.clone();
        api.write_kubeconfig(&path, "default")?;
        api.kubeconfig = path;
        Ok(api)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The kubeconfig file (context `fake`, namespace `default`).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// Writes another kubeconfig whose context namespace is `ns`.
    pub fn kubeconfig_with_namespace(&self, ns: &str) -> anyhow::Result<PathBuf> {
        let path = self.dir.join(format!("kubeconfig-{ns}"));
        self.write_kubeconfig(&path, ns)?;
        Ok(path)
    }

    /// The kubeconfig text for this server.
    pub fn kubeconfig_yaml(&self, ns: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: {ns}\ncurrent-context: fake\npreferences: {{}}\nusers:\n- name: fake\n  user: {{}}\n",
            self.url()
        )
    }

    /// Writes a kubeconfig for this server to `path`.
    pub fn write_kubeconfig(&self, path: &Path, ns: &str) -> anyhow::Result<()> {
        std::fs::write(path, self.kubeconfig_yaml(ns))
            .with_context(|| format!("writing {}", path.display()))
    }

    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let out = f(&mut lock(&self.shared.store));
        self.shared.notify();
        out
    }

    /// Loads every `*.yaml` / `*.yml` file (multi-document) in `dir`, in
    /// file-name order. Returns the number of objects loaded.
    pub fn load_dir(&self, dir: impl AsRef<Path>) -> anyhow::Result<usize> {
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

    /// Loads a (multi-document) YAML string. `List` objects are expanded.
    pub fn load_yaml(&self, yaml: &str) -> anyhow::Result<usize> {
        let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).context("parsing YAML")?;
        let mut objs = Vec::new();
        for d in docs {
            match d {
                Value::Null => {}
                Value::Object(ref m)
                    if m.get("kind")
                        .and_then(Value::as_str)
                        .is_some_and(|k| k.ends_with("List"))
                        && m.get("items").is_some() =>
                {
                    if let Some(items) = m.get("items").and_then(Value::as_array) {
                        objs.extend(items.iter().cloned());
                    }
                }
                other => objs.push(other),
            }
        }
        self.insert_many(objs)
    }

    /// Inserts (or replaces) one object; returns it as stored.
    pub fn insert(&self, obj: Value) -> anyhow::Result<Value> {
        let stored = self
            .with_store(|s| s.upsert(obj))
            .map_err(anyhow::Error::msg)?;
        Ok((*stored).clone())
    }

    /// Inserts (or replaces) many objects under one lock.
    pub fn insert_many(&self, objs: impl IntoIterator<Item = Value>) -> anyhow::Result<usize> {
        self.with_store(|s| {
            let mut n = 0;
            for o in objs {
                s.upsert(o).map_err(anyhow::Error::msg)?;
                n += 1;
            }
            Ok(n)
        })
    }

    /// Replaces an existing object (found by apiVersion/kind/namespace/name)
    /// and emits MODIFIED. Fails if it does not exist.
    pub fn update(&self, obj: Value) -> anyhow::Result<Value> {
        self.with_store(|s| {
            let res = s.resource_for(&obj).map_err(anyhow::Error::msg)?;
            let ns = if s.resources[res].namespaced {
                match store::namespace_of(&obj) {
                    "" => "default".to_string(),
                    ns => ns.to_string(),
                }
            } else {
                String::new()
            };
            let name = store::name_of(&obj).to_string();
            let mut obj = obj;
            store::meta_mut(&mut obj).remove("resourceVersion");
            s.update(res, &ns, &name, obj, store::UpdateMode::Whole, false)
                .map(|o| (*o).clone())
                .map_err(|e| anyhow::anyhow!(e.message))
        })
    }

    fn locate(
        s: &Store,
        api_version: &str,
        kind: &str,
        ns: &str,
    ) -> anyhow::Result<(usize, String)> {
        let res = s
            .find_kind(api_version, kind)
            .with_context(|| format!("unknown kind {kind} in {api_version}"))?;
        let ns = if s.resources[res].namespaced {
            ns.to_string()
        } else {
            String::new()
        };
        Ok((res, ns))
    }

    /// Deletes an object as a DELETE request would (finalizers respected);
    /// returns the object. `namespace` is ignored for cluster-scoped kinds.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> anyhow::Result<Value> {
        self.with_store(|s| {
            let (res, ns) = Self::locate(s, api_version, kind, namespace)?;
            s.delete(res, &ns, name)
                .map(|o| (*o).clone())
                .map_err(|e| anyhow::anyhow!(e.message))
        })
    }

    /// One object, if it exists.
    pub fn get(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let s = lock(&self.shared.store);
        let (res, ns) = Self::locate(&s, api_version, kind, namespace).ok()?;
        s.get(res, &ns, name).map(|o| (*o).clone())
    }

    /// All objects of a kind (all namespaces).
    pub fn list(&self, api_version: &str, kind: &str) -> Vec<Value> {
        let s = lock(&self.shared.store);
        match s.find_kind(api_version, kind) {
            Some(res) => s
                .list(res, None, None)
                .iter()
                .map(|o| (**o).clone())
                .collect(),
            None => Vec::new(),
        }
    }

    /// Number of stored objects (all kinds, namespaces included).
    pub fn object_count(&self) -> usize {
        lock(&self.shared.store).count()
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        lock(&self.shared.store).rv
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Makes matching requests fail with 403 Forbidden, worded like RBAC.
    /// `namespace: None` denies everywhere.
    pub fn deny(&self, verb: &str, group: &str, resource: &str, namespace: Option<&str>) {
        lock(&self.shared.denies).push(DenyRule {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            namespace: namespace.map(str::to_string),
        });
    }

    /// Removes every [`FakeApi::deny`] rule.
    pub fn allow_all(&self) {
        lock(&self.shared.denies).clear();
    }

    /// Uninstalls an API group (as if its CRDs were deleted): its objects are
    /// deleted, discovery no longer lists it, its paths answer 404. Loading an
    /// object of the group (or [`FakeApi::install_crds`]) brings it back.
    pub fn remove_group(&self, group: &str) {
        self.with_store(|s| s.remove_group(group));
    }

    /// Serves a group again after [`FakeApi::remove_group`].
    pub fn install_crds(&self, group: &str) {
        self.with_store(|s| {
            s.hidden_groups.remove(group);
        });
    }

    /// Sets the whole log text of a pod (served by `pods/log`).
    pub fn set_pod_logs(&self, namespace: &str, name: &str, text: &str) {
        self.with_store(|s| s.set_logs(namespace, name, text.to_string()));
    }

    /// Appends to a pod's log; `follow` streams see the new text.
    pub fn append_pod_logs(&self, namespace: &str, name: &str, text: &str) {
        self.with_store(|s| s.append_logs(namespace, name, text));
    }

    /// Drops the change history (like an etcd compaction): watches that
    /// resume from an older resourceVersion get 410 Expired.
    pub fn compact(&self) {
        lock(&self.shared.store).compact();
    }

    /// Starts a stand-in for a Gateway API controller named `controller` (e.g.
    /// `io.cilium/gateway-controller`): it writes `status.parents` into HTTPRoutes as a real
    /// one would (see `gateways.rs`: Accepted after the listeners' `allowedRoutes`, hostnames
    /// and ports; ResolvedRefs after the backend Services).
    pub fn enable_gateway_controller(&self, controller: &str) {
        self.rt
            .spawn(gateways::run(self.shared.clone(), controller.to_owned()));
        self.shared.notify();
    }

    /// Turns on the fake scheduler + kubelet (see the module docs): creates
    /// the Node objects that do not exist yet, and runs every pod created
    /// from now on. Calling it again changes the configuration for pods
    /// created afterwards (running ones keep theirs; nodes accumulate).
    pub fn enable_kubelet(&self, cfg: KubeletConfig) {
        let existing = lock(&self.shared.kubelet).clone();
        let k = match existing {
            Some(k) => {
                k.configure(cfg);
                k
            }
            None => {
                let k = Arc::new(kubelet::Kubelet::new(cfg));
                *lock(&self.shared.kubelet) = Some(k.clone());
                self.rt.spawn(kubelet::run(self.shared.clone()));
                k
            }
        };
        let nodes = k.nodes();
        self.with_store(|s| {
            let mut all = s.kubelet_nodes.take().unwrap_or_default();
            for n in &nodes {
                if !all.contains(n) {
                    all.push(n.clone());
                }
            }
            s.kubelet_nodes = Some(all);
            let node_res = s.find_kind("v1", "Node");
            for (i, n) in nodes.iter().enumerate() {
                if node_res.is_some_and(|r| s.get(r, "", n).is_none()) {
                    let _ = s.upsert(kubelet::node_object(n, i));
                }
            }
        });
    }

    fn kubelet(&self) -> anyhow::Result<Arc<kubelet::Kubelet>> {
        lock(&self.shared.kubelet)
            .clone()
            .context("the fake kubelet is not enabled (FakeApi::enable_kubelet)")
    }

    /// Sends `signal` to a pod's running container (its process group),
    /// as the kernel or an eviction would. The container ends with exit
    /// code 128+signal; SIGKILL is reported as `OOMKilled` (the usual
    /// reason a container is SIGKILLed outside deletion and deadlines).
    pub fn kill_pod(&self, namespace: &str, name: &str, signal: i32) -> anyhow::Result<()> {
        if !self.kubelet()?.kill(namespace, name, signal) {
            bail!("pod {namespace}/{name} has no running container");
        }
        Ok(())
    }

    /// The PID of a pod's running container process (`ip netns exec`
    /// execs in place, so it is the container's main process).
    pub fn pod_pid(&self, namespace: &str, name: &str) -> Option<u32> {
        self.kubelet().ok()?.pid(namespace, name)
    }

    /// Deletes a pod as `DELETE` with `gracePeriodSeconds` would (graceful
    /// deletion for pods the kubelet runs); returns the object as the
    /// server answers it.
    pub fn delete_pod(
        &self,
        namespace: &str,
        name: &str,
        grace_period_seconds: Option<i64>,
    ) -> anyhow::Result<Value> {
        self.with_store(|s| {
            let (res, ns) = Self::locate(s, "v1", "Pod", namespace)?;
            s.delete_graceful(res, &ns, name, grace_period_seconds)
                .map(|o| (*o).clone())
                .map_err(|e| anyhow::anyhow!(e.message))
        })
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        // Container processes first, while the runtime still reaps them.
        if let Some(k) = lock(&self.shared.kubelet).take() {
            k.kill_all(std::time::Duration::from_secs(2));
        }
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

async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fake API server: {e}");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = &mut stop => break,
            acc = listener.accept() => {
                let Ok((stream, _)) = acc else { continue };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| server::handle(shared.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Request;

    fn req(path: &str, query: &str) -> Request {
        Request {
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            user_agent: String::new(),
            impersonate_user: None,
            impersonate_groups: vec![],
        }
    }

    #[test]
    fn request_classification() {
        for p in [
            "/api",
            "/apis",
            "/api/v1",
            "/apis/cert-manager.io",
            "/apis/cert-manager.io/v1",
            "/version",
            "/openapi/v3",
        ] {
            assert!(req(p, "").is_discovery(), "{p}");
        }
        for p in [
            "/api/v1/pods",
            "/apis/cert-manager.io/v1/certificates",
            "/api/v1/namespaces/shop/pods/x",
        ] {
            assert!(!req(p, "").is_discovery(), "{p}");
        }
        assert!(req("/api/v1/pods", "watch=1&resourceVersion=5").is_watch());
        assert!(req("/api/v1/watch/pods", "").is_watch());
        assert!(!req("/api/v1/pods", "watch=false").is_watch());
    }
}
