//! The fake scheduler and kubelet behind
//! [`FakeApi::enable_kubelet`](super::FakeApi::enable_kubelet).
//!
//! Every pod created while the kubelet is enabled (through the API, or
//! inserted by a test without a status) gets a worker task that does what
//! kube-scheduler and the kubelet would do, writing each step as a status
//! update (one MODIFIED watch event with a new resourceVersion each):
//!
//! 1. schedule: keep `spec.nodeName`, or bind to the first Ready,
//!    schedulable Node whose labels match `nodeSelector` (kubelet nodes
//!    first); none → `PodScheduled=False/Unschedulable` with the scheduler's
//!    message, and the pod stays Pending;
//! 2. Pending, container `waiting: ContainerCreating`, for `start_delay`;
//! 3. image lookup in [`KubeletConfig::images`]: unknown → `ErrImagePull`
//!    (containerd's message) then `ImagePullBackOff`, alternating with the
//!    kubelet's back-off (10 s doubling to 300 s), Pending for ever;
//! 4. Running: the image's executable runs as a local process with the
//!    container's `args` and `env` (`ip netns exec NS` first when a netns is
//!    configured), in its own process group, stdout and stderr going line by
//!    line into the pod log;
//! 5. Succeeded/Failed when it exits (`Completed` / `Error`, 128+n when
//!    killed by signal n, `OOMKilled` through
//!    [`FakeApi::kill_pod`](super::FakeApi::kill_pod) with SIGKILL), or
//!    Failed/`DeadlineExceeded` after `activeDeadlineSeconds` (SIGTERM,
//!    SIGKILL after `terminationGracePeriodSeconds`).
//!
//! Deletion: the API server sets `deletionTimestamp` (graceful deletion);
//! the worker sends SIGTERM, SIGKILL after the grace period, writes the
//! terminal status and removes the object. A pod that never ran is removed
//! at once. Dropping the [`FakeApi`](super::FakeApi) SIGKILLs every process
//! group it started; the processes also get `PR_SET_PDEATHSIG`.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;
use tokio::time::Instant;

use super::server::{Shared, lock};
use super::store::{self, Obj, Store, UpdateMode};
use super::util;

/// The pod IP reported when [`KubeletConfig::pod_ip`] is not set (the lab's
/// "cluster" namespace address).
pub const DEFAULT_POD_IP: &str = "198.51.100.100";

/// What the fake kubelet runs and where.
#[derive(Clone, Debug)]
pub struct KubeletConfig {
    /// Image reference (exactly as written in the pod spec) → local
    /// executable that plays the image's entrypoint.
    pub images: BTreeMap<String, PathBuf>,
    /// Run containers with `ip netns exec NETNS` (needs root).
    pub netns: Option<String>,
    /// `status.podIP` of every pod (default [`DEFAULT_POD_IP`]).
    pub pod_ip: Option<String>,
    /// `status.podIP` of the pods running an image (exactly as written in the pod spec),
    /// instead of [`KubeletConfig::pod_ip`]: a lab gives the acmesolver the solver pod's
    /// address. The container still runs in [`KubeletConfig::netns`], which must have it.
    pub image_pod_ips: BTreeMap<String, String>,
    /// `status.podIP` of the pods whose container's first argument is the key, before
    /// [`KubeletConfig::image_pod_ips`]: one image with several modes (the plugin's `probe`
    /// and `solver`) gets an address per mode.
    pub arg_pod_ips: BTreeMap<String, String>,
    /// Node objects to create (if absent) and run pods on; default `["node-a"]`.
    pub nodes: Vec<String>,
    /// How long a pod stays `ContainerCreating` before its image is
    /// resolved (default 100 ms).
    pub start_delay: Duration,
}

impl Default for KubeletConfig {
    fn default() -> Self {
        KubeletConfig {
            images: BTreeMap::new(),
            netns: None,
            pod_ip: None,
            image_pod_ips: BTreeMap::new(),
            arg_pod_ips: BTreeMap::new(),
            nodes: vec!["node-a".into()],
            start_delay: Duration::from_millis(100),
        }
    }
}

impl KubeletConfig {
    /// Adds an image → executable mapping.
    pub fn image(mut self, reference: impl Into<String>, exe: impl Into<PathBuf>) -> Self {
        self.images.insert(reference.into(), exe.into());
        self
    }

    /// Runs the acmesolver stand-in (`testkit/go/acmesolver`, built with Go on first use) for
    /// `reference`, e.g. `quay.io/jetstack/cert-manager-acmesolver:v1.19.1`: pods with that
    /// image serve their `--domain/--token/--key` args as cert-manager's solver does.
    pub fn acmesolver(self, reference: impl Into<String>) -> anyhow::Result<Self> {
        Ok(self.image(reference, crate::gobuild::build("acmesolver")?))
    }
}

/// A container process that is running.
#[derive(Debug)]
struct Proc {
    ns: String,
    name: String,
    pid: i32,
    /// Killed through `kill_pod(.., SIGKILL)`: report `OOMKilled`.
    oom: bool,
}

/// The kubelet's state shared with the [`FakeApi`](super::FakeApi) handle.
pub struct Kubelet {
    /// The current configuration; each pod's worker keeps the one it
    /// started with.
    cfg: Mutex<Arc<KubeletConfig>>,
    procs: Mutex<HashMap<String, Proc>>,
    /// Set (under the `procs` lock) when the server stops: no new process.
    stopping: AtomicBool,
}

/// Sends `sig` to the process group led by `pid` (the container and
/// everything it started). Only the group: once the leader is reaped its
/// PID may belong to someone else, but a group ID stays reserved while the
/// group has members.
fn signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; the ID is a
    // process group this kubelet created (`process_group(0)`).
    unsafe {
        libc::kill(-pid, sig);
    }
}

impl KubeletConfig {
    /// Absolute executable paths, at least one node.
    fn normalized(mut self) -> KubeletConfig {
        for exe in self.images.values_mut() {
            if let Ok(abs) = std::path::absolute(&*exe) {
                *exe = abs;
            }
        }
        if self.nodes.is_empty() {
            self.nodes.push("node-a".into());
        }
        self
    }

    fn pod_ip_or_default(&self) -> &str {
        self.pod_ip.as_deref().unwrap_or(DEFAULT_POD_IP)
    }

    /// The pod IP of a pod running `image` with `first_arg` as its first argument.
    fn pod_ip_for(&self, image: &str, first_arg: &str) -> &str {
        self.arg_pod_ips
            .get(first_arg)
            .or_else(|| self.image_pod_ips.get(image))
            .map_or_else(|| self.pod_ip_or_default(), String::as_str)
    }
}

impl Kubelet {
    pub fn new(cfg: KubeletConfig) -> Kubelet {
        Kubelet {
            cfg: Mutex::new(Arc::new(cfg.normalized())),
            procs: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
        }
    }

    /// Replaces the configuration for pods created from now on (running
    /// containers stay managed by this kubelet).
    pub fn configure(&self, cfg: KubeletConfig) {
        *lock(&self.cfg) = Arc::new(cfg.normalized());
    }

    fn config(&self) -> Arc<KubeletConfig> {
        lock(&self.cfg).clone()
    }

    pub fn nodes(&self) -> Vec<String> {
        self.config().nodes.clone()
    }

    /// The PID of a pod's running container process.
    pub fn pid(&self, ns: &str, name: &str) -> Option<u32> {
        lock(&self.procs)
            .values()
            .find(|p| p.ns == ns && p.name == name)
            .and_then(|p| u32::try_from(p.pid).ok())
    }

    /// Sends `sig` to a pod's container; SIGKILL is reported as OOMKilled.
    pub fn kill(&self, ns: &str, name: &str, sig: i32) -> bool {
        let mut procs = lock(&self.procs);
        let Some(p) = procs.values_mut().find(|p| p.ns == ns && p.name == name) else {
            return false;
        };
        if sig == libc::SIGKILL {
            p.oom = true;
        }
        signal(p.pid, sig);
        true
    }

    /// SIGKILLs every running container; waits up to `wait` until their
    /// workers have reaped them. Returns how many were still running.
    pub fn kill_all(&self, wait: Duration) -> usize {
        {
            let procs = lock(&self.procs);
            self.stopping.store(true, Ordering::SeqCst);
            for p in procs.values() {
                signal(p.pid, libc::SIGKILL);
            }
        }
        let until = std::time::Instant::now() + wait;
        loop {
            let n = lock(&self.procs).len();
            if n == 0 || std::time::Instant::now() >= until {
                return n;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// The Node object the kubelet registers (Ready, linux/amd64, an address
/// from 198.51.100.0/24 that no lab host uses).
pub fn node_object(name: &str, index: usize) -> Value {
    let now = util::now_rfc3339();
    let ip = format!("198.51.100.{}", 201 + index.min(50));
    let cond = |t: &str, s: &str, reason: &str, msg: &str| {
        json!({"type": t, "status": s, "reason": reason, "message": msg,
            "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}},
        "spec": {},
        "status": {
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "capacity": {"cpu": "2", "memory": "4026532Ki", "pods": "110", "ephemeral-storage": "20Gi"},
            "allocatable": {"cpu": "2", "memory": "3924132Ki", "pods": "110", "ephemeral-storage": "20Gi"},
            "nodeInfo": {"kubeletVersion": "v1.32.0-fakeapi", "kubeProxyVersion": "", "containerRuntimeVersion": "containerd://1.7.24",
                "operatingSystem": "linux", "architecture": "amd64", "osImage": "fake", "kernelVersion": "6.1.0",
                "machineID": "", "systemUUID": "", "bootID": ""},
        },
    })
}

/// The kubelet's main loop: starts a worker for every pod the store queued.
pub async fn run(shared: Arc<Shared>) {
    let mut rx = shared.tick.subscribe();
    loop {
        rx.borrow_and_update();
        let queued = std::mem::take(&mut lock(&shared.store).kubelet_queue);
        let kubelet = lock(&shared.kubelet).clone();
        if let Some(k) = kubelet {
            for (ns, name, uid) in queued {
                let w = Worker {
                    shared: shared.clone(),
                    cfg: k.config(),
                    k: k.clone(),
                    rx: shared.tick.subscribe(),
                    ns,
                    name,
                    uid,
                    deadline: None,
                };
                tokio::spawn(w.run());
            }
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// What a worker sees of its pod.
enum Seen {
    Gone,
    /// Graceful deletion with this many seconds left.
    Deleting(u64),
    Live,
}

/// Why a worker's wait ended.
enum Wake {
    Elapsed,
    Gone,
    Deleting,
    Deadline,
}

/// Sleeps until `t`, or for ever when `None`.
async fn at(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

fn pods_res(s: &Store) -> usize {
    s.find_kind("v1", "Pod").unwrap_or(0)
}

/// A condition, keeping `lastTransitionTime` when its status did not change.
fn condition(old: &Value, t: &str, ok: bool, reason: &str, message: &str, now: &str) -> Value {
    let status = if ok { "True" } else { "False" };
    let prev = old
        .get("conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(t))
        });
    let since = match prev {
        Some(p) if p.get("status").and_then(Value::as_str) == Some(status) => p
            .get("lastTransitionTime")
            .cloned()
            .unwrap_or_else(|| json!(now)),
        _ => json!(now),
    };
    let mut c =
        json!({"type": t, "status": status, "lastProbeTime": null, "lastTransitionTime": since});
    if !reason.is_empty() {
        c["reason"] = json!(reason);
    }
    if !message.is_empty() {
        c["message"] = json!(message);
    }
    c
}

/// Pod-level state of a status update.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Creating,
    Pulling,
    Running,
    Succeeded,
    Failed,
}

/// A containerd-style container ID.
fn container_id() -> String {
    let hex: String = (0..4)
        .map(|_| format!("{:016x}", util::random_u64()))
        .collect();
    format!("containerd://{hex}")
}

/// A stable fake image digest for a known image.
fn image_id(image: &str) -> String {
    let base = image.split('@').next().unwrap_or(image);
    let repo = match base.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => base,
    };
    let mut seed = util::adler32(image.as_bytes()) as u64;
    let hex: String = (0..8)
        .map(|i| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i);
            format!("{:08x}", (seed >> 32) as u32)
        })
        .collect();
    format!("{repo}@sha256:{hex}")
}

/// containerd's normalized name: `nosuch:1` → `docker.io/library/nosuch:1`.
fn normalized_image(image: &str) -> String {
    let (first, rest) = image.split_once('/').unwrap_or(("", image));
    let domain_like = first.contains('.') || first.contains(':') || first == "localhost";
    let mut full = if first.is_empty() {
        format!("docker.io/library/{rest}")
    } else if domain_like {
        image.to_string()
    } else {
        format!("docker.io/{image}")
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if !last.contains(':') && !full.contains('@') {
        full.push_str(":latest");
    }
    full
}

/// The CRI error containerd returns for an image that does not exist.
pub fn pull_error(image: &str) -> String {
    let n = normalized_image(image);
    format!(
        "rpc error: code = NotFound desc = failed to pull and unpack image \"{n}\": failed to resolve reference \"{n}\": {n}: not found"
    )
}

/// One pod's scheduler + kubelet.
struct Worker {
    shared: Arc<Shared>,
    k: Arc<Kubelet>,
    cfg: Arc<KubeletConfig>,
    rx: watch::Receiver<u64>,
    ns: String,
    name: String,
    uid: String,
    /// `startTime + activeDeadlineSeconds`.
    deadline: Option<Instant>,
}

/// Facts about the pod the status builders need.
struct Facts {
    container: String,
    image: String,
    image_id: String,
    host_ip: String,
    start_time: String,
    container_id: String,
    started_at: String,
    /// The container's first argument (its mode, for [`KubeletConfig::arg_pod_ips`]).
    first_arg: String,
}

impl Worker {
    fn current(&self, s: &Store) -> Option<Obj> {
        s.get(pods_res(s), &self.ns, &self.name)
            .filter(|p| store::uid_of(p) == self.uid)
    }

    fn observe(&self) -> Seen {
        let s = lock(&self.shared.store);
        let Some(p) = self.current(&s) else {
            return Seen::Gone;
        };
        match p.pointer("/metadata/deletionTimestamp") {
            Some(_) => {
                let grace = p
                    .pointer("/metadata/deletionGracePeriodSeconds")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                Seen::Deleting(grace)
            }
            None => Seen::Live,
        }
    }

    /// Read-modify-write of the pod (`f` gets the whole object); returns
    /// false when the pod is gone. Removes the pod afterwards when it is
    /// being deleted and `finish` is set.
    fn write(&self, finish: bool, f: impl FnOnce(&mut Value)) -> bool {
        let mut s = lock(&self.shared.store);
        let Some(cur) = self.current(&s) else {
            return false;
        };
        let res = pods_res(&s);
        let mut new = (*cur).clone();
        f(&mut new);
        let updated = s.update(res, &self.ns, &self.name, new, UpdateMode::Whole, false);
        if finish
            && let Ok(u) = &updated
            && u.pointer("/metadata/deletionTimestamp").is_some()
        {
            let _ = s.delete(res, &self.ns, &self.name);
        }
        drop(s);
        self.shared.notify();
        updated.is_ok()
    }

    /// Removes the pod (the kubelet's final delete with grace 0).
    fn finish_delete(&self) {
        let mut s = lock(&self.shared.store);
        if self.current(&s).is_some() {
            let res = pods_res(&s);
            let _ = s.delete(res, &self.ns, &self.name);
        }
        drop(s);
        self.shared.notify();
    }

    /// Waits for `dur` (None = for ever) unless the pod goes away, starts
    /// being deleted, or reaches its active deadline.
    async fn pause(&mut self, dur: Option<Duration>) -> Wake {
        let until = dur.map(|d| Instant::now() + d);
        loop {
            self.rx.borrow_and_update();
            match self.observe() {
                Seen::Gone => return Wake::Gone,
                Seen::Deleting(_) => return Wake::Deleting,
                Seen::Live => {}
            }
            tokio::select! {
                r = self.rx.changed() => if r.is_err() { return Wake::Gone },
                _ = at(until) => return Wake::Elapsed,
                _ = at(self.deadline) => return Wake::Deadline,
            }
        }
    }

    async fn run(mut self) {
        let Some(node) = self.schedule() else { return };
        if !self.cfg.nodes.contains(&node) {
            return; // bound to a node this kubelet does not run
        }
        let Some(pod) = self.current(&lock(&self.shared.store)) else {
            return;
        };
        let pod: Value = (*pod).clone();
        let containers = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let host_ip = {
            let s = lock(&self.shared.store);
            s.find_kind("v1", "Node")
                .and_then(|r| s.get(r, "", &node))
                .and_then(|n| {
                    n.pointer("/status/addresses/0/address")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_default()
        };
        let c = containers.first().cloned().unwrap_or_default();
        let image = c.get("image").and_then(Value::as_str).unwrap_or("");
        let mut facts = Facts {
            container: c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            image: image.to_string(),
            image_id: String::new(),
            host_ip,
            start_time: util::now_rfc3339(),
            container_id: String::new(),
            started_at: String::new(),
            first_arg: c
                .pointer("/args/0")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        };
        self.deadline = pod
            .pointer("/spec/activeDeadlineSeconds")
            .and_then(Value::as_u64)
            .map(|s| Instant::now() + Duration::from_secs(s));
        let unsupported = if containers.len() != 1 {
            Some("the fake kubelet runs pods with exactly one container")
        } else if pod
            .pointer("/spec/initContainers")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            Some("the fake kubelet does not run init containers")
        } else {
            None
        };
        self.status(
            &facts,
            Stage::Creating,
            waiting("ContainerCreating", ""),
            None,
        );
        if let Some(why) = unsupported {
            self.write(true, |p| {
                p["status"]["phase"] = json!("Failed");
                p["status"]["reason"] = json!("UnsupportedByFakeKubelet");
                p["status"]["message"] = json!(why);
            });
            return;
        }
        match self.pause(Some(self.cfg.start_delay)).await {
            Wake::Elapsed => {}
            other => return self.never_started(&facts, other),
        }
        let Some(exe) = self.cfg.images.get(image).cloned() else {
            return self.pull_forever(&facts).await;
        };
        facts.image_id = image_id(image);
        facts.container_id = container_id();
        if c.get("command")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            return self.start_error(
                &facts,
                "failed to create containerd task: the fake kubelet runs the image's entrypoint only (container `command` is not supported; use `args`)",
            );
        }
        let args: Vec<String> = c
            .get("args")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let env = container_env(
            &pod,
            &c,
            &node,
            self.cfg.pod_ip_for(&facts.image, &facts.first_arg),
            &facts.host_ip,
        );
        self.run_container(facts, &exe, &args, env, &pod).await;
    }

    /// The scheduler: returns the node the pod is bound to, or None (the
    /// pod is gone or unschedulable).
    fn schedule(&self) -> Option<String> {
        let mut s = lock(&self.shared.store);
        let pod = self.current(&s)?;
        let preset = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !preset.is_empty() {
            return Some(preset.to_string());
        }
        let nodes = match s.find_kind("v1", "Node") {
            Some(r) => s.list(r, None, None),
            None => Vec::new(),
        };
        let res = pods_res(&s);
        let now = util::now_rfc3339();
        let mut new = (*pod).clone();
        let old_status = new.get("status").cloned().unwrap_or_default();
        let (chosen, cond) = match choose_node(&pod, &nodes, &self.cfg.nodes) {
            Ok(n) => {
                new["spec"]["nodeName"] = json!(n);
                let c = condition(&old_status, "PodScheduled", true, "", "", &now);
                (Some(n), c)
            }
            Err(msg) => {
                let c = condition(
                    &old_status,
                    "PodScheduled",
                    false,
                    "Unschedulable",
                    &msg,
                    &now,
                );
                (None, c)
            }
        };
        set_conditions(&mut new, vec![cond]);
        let _ = s.update(res, &self.ns, &self.name, new, UpdateMode::Whole, false);
        drop(s);
        self.shared.notify();
        chosen
    }

    /// Writes the kubelet status for a stage with this container state.
    fn status(&self, f: &Facts, stage: Stage, state: Value, extra: Option<(&str, &str)>) -> bool {
        let pod_ip = self.cfg.pod_ip_for(&f.image, &f.first_arg).to_string();
        self.write(matches!(stage, Stage::Succeeded | Stage::Failed), |p| {
            let old = p.get("status").cloned().unwrap_or_default();
            let now = util::now_rfc3339();
            let cname = f.container.clone();
            let unready = format!("containers with unready status: [{cname}]");
            let (phase, sandbox, ready, done_reason) = match stage {
                Stage::Creating => ("Pending", false, false, ""),
                Stage::Pulling => ("Pending", true, false, ""),
                Stage::Running => ("Running", true, true, ""),
                Stage::Succeeded => ("Succeeded", false, false, "PodCompleted"),
                Stage::Failed => ("Failed", false, false, "PodFailed"),
            };
            let (ready_reason, ready_msg) = match stage {
                Stage::Running => ("", String::new()),
                Stage::Succeeded | Stage::Failed => (done_reason, String::new()),
                _ => ("ContainersNotReady", unready.clone()),
            };
            let init_reason = if stage == Stage::Succeeded {
                "PodCompleted"
            } else {
                ""
            };
            let conds = vec![
                condition(&old, "PodReadyToStartContainers", sandbox, "", "", &now),
                condition(&old, "Initialized", true, init_reason, "", &now),
                condition(&old, "Ready", ready, ready_reason, &ready_msg, &now),
                condition(
                    &old,
                    "ContainersReady",
                    ready,
                    ready_reason,
                    &ready_msg,
                    &now,
                ),
                condition(&old, "PodScheduled", true, "", "", &now),
            ];
            let st = p["status"].as_object_mut().map(std::mem::take);
            let mut st: Map<String, Value> = st.unwrap_or_default();
            st.insert("phase".into(), json!(phase));
            st.insert("hostIP".into(), json!(f.host_ip));
            st.insert("hostIPs".into(), json!([{"ip": f.host_ip}]));
            st.insert("startTime".into(), json!(f.start_time));
            if stage != Stage::Creating {
                st.insert("podIP".into(), json!(pod_ip));
                st.insert("podIPs".into(), json!([{"ip": pod_ip}]));
            }
            let running = state.get("running").is_some();
            let mut cs = json!({
                "name": cname, "state": state, "lastState": {}, "ready": running,
                "restartCount": 0, "image": f.image, "imageID": f.image_id,
                "started": running,
            });
            if !f.container_id.is_empty() && stage != Stage::Pulling {
                cs["containerID"] = json!(f.container_id);
            }
            st.insert("containerStatuses".into(), json!([cs]));
            if let Some((reason, message)) = extra {
                st.insert("reason".into(), json!(reason));
                st.insert("message".into(), json!(message));
            }
            p["status"] = Value::Object(st);
            set_conditions(p, conds);
        })
    }

    /// A pod whose container never started ends: removed when deleted,
    /// Failed/DeadlineExceeded at its deadline.
    fn never_started(&self, f: &Facts, why: Wake) {
        match why {
            Wake::Deleting => self.finish_delete(),
            Wake::Deadline => {
                let state = json!({"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown",
                    "message": "The container could not be located when the pod was terminated",
                    "startedAt": null, "finishedAt": null}});
                self.status(f, Stage::Failed, state, Some(DEADLINE));
            }
            Wake::Gone | Wake::Elapsed => {}
        }
    }

    /// `ErrImagePull` / `ImagePullBackOff` with the kubelet's back-off.
    async fn pull_forever(&mut self, f: &Facts) {
        let mut backoff = Duration::from_secs(10);
        loop {
            self.status(
                f,
                Stage::Pulling,
                waiting("ErrImagePull", &pull_error(&f.image)),
                None,
            );
            let step = self.cfg.start_delay.max(Duration::from_millis(50));
            match self.pause(Some(step)).await {
                Wake::Elapsed => {}
                other => return self.never_started(f, other),
            }
            let msg = format!("Back-off pulling image {:?}", f.image);
            self.status(f, Stage::Pulling, waiting("ImagePullBackOff", &msg), None);
            match self.pause(Some(backoff)).await {
                Wake::Elapsed => {}
                other => return self.never_started(f, other),
            }
            backoff = (backoff * 2).min(Duration::from_secs(300));
        }
    }

    /// The container could not be started (containerd's `StartError`).
    fn start_error(&self, f: &Facts, message: &str) {
        let state = json!({"terminated": {"exitCode": 128, "reason": "StartError", "message": message,
            "startedAt": "1970-01-01T00:00:00Z", "finishedAt": util::now_rfc3339(),
            "containerID": f.container_id}});
        self.status(f, Stage::Failed, state, None);
    }

    async fn run_container(
        &mut self,
        mut f: Facts,
        exe: &Path,
        args: &[String],
        env: Vec<(String, String)>,
        pod: &Value,
    ) {
        let mut cmd = match &self.cfg.netns {
            Some(ns) => {
                let mut c = tokio::process::Command::new("ip");
                c.args(["netns", "exec", ns]).arg(exe);
                c
            }
            None => tokio::process::Command::new(exe),
        };
        cmd.args(args)
            .env_clear()
            .envs(env)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe; it makes the
        // kernel kill the container if the test process dies first.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        // Spawn and register under the lock, so that `kill_all` either
        // sees the process or stops it from being started.
        let spawned = {
            let mut procs = lock(&self.k.procs);
            if self.k.stopping.load(Ordering::SeqCst) {
                return;
            }
            let r = match cmd.spawn() {
                Err(e) => Err(format!(
                    "failed to create containerd task: failed to start {}: {e}",
                    exe.display()
                )),
                Ok(child) => match child.id().and_then(|p| i32::try_from(p).ok()) {
                    Some(pid) => Ok((child, pid)),
                    None => Err("the container process vanished at start".to_string()),
                },
            };
            if let Ok((_, pid)) = &r {
                procs.insert(
                    self.uid.clone(),
                    Proc {
                        ns: self.ns.clone(),
                        name: self.name.clone(),
                        pid: *pid,
                        oom: false,
                    },
                );
            }
            r
        };
        let (mut child, pid) = match spawned {
            Ok(x) => x,
            Err(msg) => return self.start_error(&f, &msg),
        };
        let mut pumps = Vec::new();
        if let Some(out) = child.stdout.take() {
            pumps.push(tokio::spawn(pump(self.shared.clone(), self.key(), out)));
        }
        if let Some(err) = child.stderr.take() {
            pumps.push(tokio::spawn(pump(self.shared.clone(), self.key(), err)));
        }
        f.started_at = util::now_rfc3339();
        self.status(
            &f,
            Stage::Running,
            json!({"running": {"startedAt": f.started_at}}),
            None,
        );
        let grace_default = pod
            .pointer("/spec/terminationGracePeriodSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(30);
        let (mut term_sent, mut kill_at, mut deadline_hit, mut gone) =
            (false, None::<Instant>, false, false);
        let exit = loop {
            self.rx.borrow_and_update();
            match self.observe() {
                Seen::Gone if !gone => {
                    gone = true;
                    signal(pid, libc::SIGKILL);
                }
                Seen::Deleting(grace) => {
                    if !term_sent {
                        term_sent = true;
                        signal(pid, libc::SIGTERM);
                    }
                    let t = Instant::now() + Duration::from_secs(grace);
                    kill_at = Some(kill_at.map_or(t, |k| k.min(t)));
                }
                _ => {}
            }
            let deadline = if term_sent || gone {
                None
            } else {
                self.deadline
            };
            tokio::select! {
                st = child.wait() => break st,
                r = self.rx.changed(), if !gone => if r.is_err() { gone = true; signal(pid, libc::SIGKILL); },
                _ = at(deadline) => {
                    deadline_hit = true;
                    term_sent = true;
                    signal(pid, libc::SIGTERM);
                    kill_at = Some(Instant::now() + Duration::from_secs(grace_default));
                }
                _ = at(kill_at) => {
                    signal(pid, libc::SIGKILL);
                    kill_at = None;
                }
            }
        };
        // Like the container's PID namespace going away: nothing survives
        // the main process.
        signal(pid, libc::SIGKILL);
        for p in pumps {
            let _ = tokio::time::timeout(Duration::from_secs(2), p).await;
        }
        let oom = lock(&self.k.procs).remove(&self.uid).is_some_and(|p| p.oom);
        if gone {
            return;
        }
        let code = match &exit {
            Ok(st) => st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(9)),
            Err(_) => 128 + libc::SIGKILL,
        };
        let reason = if oom {
            "OOMKilled"
        } else if code == 0 {
            "Completed"
        } else {
            "Error"
        };
        let mut term = json!({"exitCode": code, "reason": reason, "startedAt": f.started_at,
            "finishedAt": util::now_rfc3339(), "containerID": f.container_id});
        if code != 0 && termination_policy(pod) == "FallbackToLogsOnError" {
            let log = lock(&self.shared.store)
                .logs(&self.ns, &self.name)
                .map(fallback_message)
                .unwrap_or_default();
            if !log.is_empty() {
                term["message"] = json!(log);
            }
        }
        let stage = if code == 0 && !deadline_hit {
            Stage::Succeeded
        } else {
            Stage::Failed
        };
        let extra = deadline_hit.then_some(DEADLINE);
        self.status(&f, stage, json!({ "terminated": term }), extra);
        // The log is complete: `follow` streams end (after the terminal
        // status is visible, so a client that saw the stream end reads it).
        lock(&self.shared.store).close_logs(&self.ns, &self.name);
        self.shared.notify();
    }

    fn key(&self) -> (String, String, String) {
        (self.ns.clone(), self.name.clone(), self.uid.clone())
    }
}

const DEADLINE: (&str, &str) = (
    "DeadlineExceeded",
    "Pod was active on the node longer than the specified deadline",
);

fn waiting(reason: &str, message: &str) -> Value {
    let mut w = json!({ "reason": reason });
    if !message.is_empty() {
        w["message"] = json!(message);
    }
    json!({ "waiting": w })
}

fn termination_policy(pod: &Value) -> &str {
    pod.pointer("/spec/containers/0/terminationMessagePolicy")
        .and_then(Value::as_str)
        .unwrap_or("File")
}

/// The kubelet's `FallbackToLogsOnError` message: the last 80 lines, at
/// most 2048 bytes.
fn fallback_message(log: &str) -> String {
    let lines: Vec<&str> = log.split_inclusive('\n').collect();
    let tail = lines[lines.len().saturating_sub(80)..].concat();
    let mut start = tail.len().saturating_sub(2048);
    while !tail.is_char_boundary(start) {
        start += 1;
    }
    tail[start..].to_string()
}

/// Replaces/merges conditions by type, keeping the others.
fn set_conditions(pod: &mut Value, conds: Vec<Value>) {
    if !pod.get("status").is_some_and(Value::is_object) {
        pod["status"] = json!({});
    }
    let mut list: Vec<Value> = pod["status"]
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for c in conds {
        let t = c.get("type").cloned();
        match list.iter_mut().find(|x| x.get("type") == t.as_ref()) {
            Some(slot) => *slot = c,
            None => list.push(c),
        }
    }
    const ORDER: [&str; 5] = [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ];
    let rank = |c: &Value| {
        let t = c.get("type").and_then(Value::as_str).unwrap_or("");
        ORDER.iter().position(|o| *o == t).unwrap_or(ORDER.len())
    };
    list.sort_by_key(rank);
    pod["status"]["conditions"] = json!(list);
}

/// The scheduler's filter: a node, or the FitError message.
fn choose_node(pod: &Value, nodes: &[Obj], preferred: &[String]) -> Result<String, String> {
    if nodes.is_empty() {
        return Err("no nodes available to schedule pods".into());
    }
    let selector = pod
        .pointer("/spec/nodeSelector")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    let mut fits: Vec<String> = Vec::new();
    for n in nodes {
        let name = store::name_of(n).to_string();
        let ready = n
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.get("type").and_then(Value::as_str) == Some("Ready")
                        && c.get("status").and_then(Value::as_str) == Some("True")
                })
            });
        let labels = n.pointer("/metadata/labels");
        let matches = selector
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
        if n.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
            *reasons.entry("node(s) were unschedulable").or_default() += 1;
        } else if !ready {
            *reasons
                .entry("node(s) had untolerated taint {node.kubernetes.io/not-ready: }")
                .or_default() += 1;
        } else if !matches {
            *reasons
                .entry("node(s) didn't match Pod's node affinity/selector")
                .or_default() += 1;
        } else {
            fits.push(name);
        }
    }
    if let Some(n) = preferred.iter().find(|p| fits.contains(p)) {
        return Ok(n.clone());
    }
    if let Some(n) = fits.into_iter().next() {
        return Ok(n);
    }
    let total = nodes.len();
    let mut parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    Err(format!(
        "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling.",
        parts.join(", ")
    ))
}

/// The container's environment: PATH and HOSTNAME as a container runtime
/// sets them, then `env[]` entries with a `value` or a `fieldRef` to the
/// pod's name, namespace, uid, node, IPs or service account. The host's
/// environment is not inherited, except `LLVM_PROFILE_FILE` (coverage runs).
fn container_env(
    pod: &Value,
    c: &Value,
    node: &str,
    pod_ip: &str,
    host_ip: &str,
) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "PATH".to_string(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        ),
        ("HOSTNAME".to_string(), store::name_of(pod).to_string()),
    ];
    if let Some(v) = std::env::var_os("LLVM_PROFILE_FILE").and_then(|v| v.into_string().ok()) {
        env.push(("LLVM_PROFILE_FILE".into(), v));
    }
    for e in c
        .get("env")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let Some(name) = e.get("name").and_then(Value::as_str) else {
            continue;
        };
        let value = if let Some(v) = e.get("value").and_then(Value::as_str) {
            Some(v.to_string())
        } else {
            let path = e
                .pointer("/valueFrom/fieldRef/fieldPath")
                .and_then(Value::as_str)
                .unwrap_or("");
            match path {
                "metadata.name" => Some(store::name_of(pod).to_string()),
                "metadata.namespace" => Some(store::namespace_of(pod).to_string()),
                "metadata.uid" => Some(store::uid_of(pod).to_string()),
                "spec.nodeName" => Some(node.to_string()),
                "spec.serviceAccountName" => pod
                    .pointer("/spec/serviceAccountName")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                "status.podIP" => Some(pod_ip.to_string()),
                "status.hostIP" => Some(host_ip.to_string()),
                _ => None,
            }
        };
        if let Some(v) = value {
            env.retain(|(k, _)| k != name);
            env.push((name.to_string(), v));
        }
    }
    env
}

/// Copies a container output stream into the pod log line by line (as the
/// CRI log does; a partial line is flushed at 16 KiB or at EOF).
async fn pump(
    shared: Arc<Shared>,
    (ns, name, uid): (String, String, String),
    mut r: impl AsyncRead + Unpin,
) {
    const MAX_LINE: usize = 16 * 1024;
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 8192];
    loop {
        let n = r.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            if !buf.is_empty() {
                append(&shared, &ns, &name, &uid, &buf);
            }
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        let cut = match buf.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if buf.len() >= MAX_LINE => buf.len(),
            None => continue,
        };
        let line: Vec<u8> = buf.drain(..cut).collect();
        append(&shared, &ns, &name, &uid, &line);
    }
}

/// Appends to the log of the pod if it still exists (same uid).
fn append(shared: &Shared, ns: &str, name: &str, uid: &str, bytes: &[u8]) {
    let mut s = lock(&shared.store);
    let alive = s
        .get(pods_res(&s), ns, name)
        .is_some_and(|p| store::uid_of(&p) == uid);
    if alive {
        s.append_logs(ns, name, &String::from_utf8_lossy(bytes));
    }
    drop(s);
    shared.notify();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn node(name: &str, labels: Value, ready: bool) -> Obj {
        let mut n = node_object(name, 0);
        n["metadata"]["labels"] = labels;
        if !ready {
            n["status"]["conditions"][3]["status"] = json!("False");
        }
        Arc::new(store::Stored::new(n))
    }

    #[test]
    fn scheduler_messages() {
        let pod = json!({"spec": {"nodeSelector": {"disk": "ssd"}}});
        let nodes = [node("a", json!({"disk": "hdd"}), true)];
        assert_eq!(
            choose_node(&pod, &nodes, &[]).unwrap_err(),
            "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        );
        let nodes = [
            node("a", json!({"disk": "hdd"}), true),
            node("b", json!({"disk": "ssd"}), false),
            node("c", json!({"disk": "ssd"}), true),
        ];
        assert_eq!(choose_node(&pod, &nodes, &[]).unwrap(), "c");
        let e = choose_node(&pod, &nodes[..2], &[]).unwrap_err();
        assert!(e.starts_with("0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }."), "{e}");
        assert_eq!(
            choose_node(&json!({}), &[], &[]).unwrap_err(),
            "no nodes available to schedule pods"
        );
    }

    #[test]
    fn image_names_and_messages() {
        assert_eq!(normalized_image("nosuch:1"), "docker.io/library/nosuch:1");
        assert_eq!(normalized_image("org/x"), "docker.io/org/x:latest");
        assert_eq!(
            normalized_image("ghcr.io/o/acmecheck:v1"),
            "ghcr.io/o/acmecheck:v1"
        );
        assert_eq!(
            pull_error("ghcr.io/o/x:v9"),
            "rpc error: code = NotFound desc = failed to pull and unpack image \"ghcr.io/o/x:v9\": failed to resolve reference \"ghcr.io/o/x:v9\": ghcr.io/o/x:v9: not found"
        );
        assert!(image_id("ghcr.io/o/x:v9").starts_with("ghcr.io/o/x@sha256:"));
        assert_eq!(image_id("a:1"), image_id("a:1"));
    }

    #[test]
    fn env_from_values_and_fields() {
        let pod = json!({"metadata": {"name": "p", "namespace": "ns", "uid": "u"}});
        let c = json!({"env": [{"name": "A", "value": "1"},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]});
        let env = container_env(&pod, &c, "n", "198.51.100.100", "198.51.100.201");
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("A"), Some("1"));
        assert_eq!(get("POD"), Some("p"));
        assert_eq!(get("IP"), Some("198.51.100.100"));
        assert_eq!(get("HOSTNAME"), Some("p"));
        assert_eq!(get("S"), None);
    }

    #[test]
    fn fallback_message_is_bounded() {
        let log: String = (0..200).map(|i| format!("line {i}\n")).collect();
        let m = fallback_message(&log);
        assert!(m.starts_with("line 120\n"), "{m}");
        let big = "x".repeat(5000);
        assert_eq!(fallback_message(&big).len(), 2048);
    }
}
