//! create → watch → logs → delete, four requests, with the pod deleted on every path.
//!
//! * POST the pod (a 403 from RBAC in cert-manager's namespace: one more POST in the
//!   Certificate's namespace). The POST runs in its own task and is registered with the
//!   [`Tracker`] first, so an interruption while it is in flight still deletes what it created.
//! * One WATCH of the probe namespace's pods with the managed-by label and no resourceVersion:
//!   the initial ADDED events give our pod's current state and show leftovers of earlier runs;
//!   later events carry it to Succeeded/Failed (or a state that will not get better, such as
//!   ImagePullBackOff). No polling.
//! * GET pods/<name>/log with `limitBytes`, read with the same cap, parsed by [`super::report`].
//! * DELETE with `gracePeriodSeconds: 0`, whatever happened before.

use super::report::{self, MAX_REPORT_BYTES};
use super::spec::{self, PlacementPlan};
use super::status::{Hold, Seen};
use super::{CONTAINER, PodOptions};
use crate::evidence::CertManagerEvidence;
use crate::probe::incluster::{InCluster, Placement, Problem, ProblemKind};
use crate::probe::plan::{ProbePlan, TargetReport};
use futures::{AsyncReadExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, LogParams, PostParams};
use kube::core::{Status, WatchEvent};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Extra time the client waits beyond `activeDeadlineSeconds` for the kubelet to report the
/// pod's end before it gives up itself: a tenth of the deadline, between 2 and 10 s.
pub fn deadline_grace(timeout: Duration) -> Duration {
    (timeout / 10).clamp(Duration::from_secs(2), Duration::from_secs(10))
}
/// How long an interrupted run waits for an in-flight POST and for each DELETE.
const CLEANUP_WAIT: Duration = Duration::from_secs(10);
/// `labelSelector=app.kubernetes.io/managed-by=kubectl-acmecheck,app.kubernetes.io/component!=replay-solver`,
/// percent-encoded: probe pods (this run's and leftovers, also those of versions without the
/// component label), never the replay's stand-in solver pods, whose own deadline is longer.
const SELECTOR_QUERY: &str = "app.kubernetes.io%2Fmanaged-by%3Dkubectl-acmecheck%2Capp.kubernetes.io%2Fcomponent%21%3Dreplay-solver";

// ---------------------------------------------------------------------------------------------
// Interruption
// ---------------------------------------------------------------------------------------------

/// SIGINT and SIGTERM, registered before the run starts (from then on they no longer kill the
/// process: the run deletes its pod and exits 130/143).
pub struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// The next signal's number (2 or 15).
    pub async fn recv(&mut self) -> i32 {
        tokio::select! {
            _ = self.interrupt.recv() => 2,
            _ = self.terminate.recv() => 15,
        }
    }
}

/// What a tracked object is, which decides how it is deleted.
#[derive(Clone, Debug)]
pub enum TrackedKind {
    /// A pod: deleted with grace period 0 ([`delete_pod`]).
    Pod,
    /// Any other namespaced object (the replay's Services, Ingresses and HTTPRoutes).
    Object(kube::api::ApiResource),
}

impl TrackedKind {
    fn same(&self, other: &TrackedKind) -> bool {
        match (self, other) {
            (TrackedKind::Pod, TrackedKind::Pod) => true,
            (TrackedKind::Object(a), TrackedKind::Object(b)) => {
                a.group == b.group && a.plural == b.plural
            }
            _ => false,
        }
    }
}

struct Tracked {
    client: kube::Client,
    kind: TrackedKind,
    namespace: String,
    name: String,
    /// Becomes true once the POST has an answer (so the object exists or never will).
    settled: tokio::sync::watch::Receiver<bool>,
}

/// The objects this run created or is creating (the probe pod; the replay's stand-ins), for
/// deletion when the run is interrupted.
#[derive(Clone, Default)]
pub struct Tracker(Arc<Mutex<Vec<Tracked>>>);

impl Tracker {
    fn add(&self, client: &kube::Client, p: &Placement) -> tokio::sync::watch::Sender<bool> {
        self.track(client, TrackedKind::Pod, &p.namespace, &p.pod)
    }

    fn remove(&self, p: &Placement) {
        self.untrack(&TrackedKind::Pod, &p.namespace, &p.pod);
    }

    /// Track an object before its POST is sent; send `true` on the returned channel once the
    /// POST has an answer (a signal then waits for it before deleting).
    pub fn track(
        &self,
        client: &kube::Client,
        kind: TrackedKind,
        namespace: &str,
        name: &str,
    ) -> tokio::sync::watch::Sender<bool> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        if let Ok(mut v) = self.0.lock() {
            v.push(Tracked {
                client: client.clone(),
                kind,
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                settled: rx,
            });
        }
        tx
    }

    /// Stop tracking an object (it was deleted, or its POST failed).
    pub fn untrack(&self, kind: &TrackedKind, namespace: &str, name: &str) {
        if let Ok(mut v) = self.0.lock() {
            v.retain(|t| !(t.kind.same(kind) && t.namespace == namespace && t.name == name));
        }
    }

    /// How many objects are tracked.
    pub fn len(&self) -> usize {
        self.0.lock().map(|v| v.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Delete every tracked object, the last tracked first (so an Ingress goes before its
    /// Service and pod), waiting for an in-flight POST first. Returns what was deleted and what
    /// could not be (with the reason): `namespace/name` for pods, `<kind> namespace/name` for
    /// other objects.
    pub async fn cleanup(&self) -> (Vec<String>, Vec<String>) {
        let tracked: Vec<Tracked> = self
            .0
            .lock()
            .map(|mut v| v.drain(..).rev().collect())
            .unwrap_or_default();
        let (mut deleted, mut failed) = (Vec::new(), Vec::new());
        for mut t in tracked {
            let _ = tokio::time::timeout(CLEANUP_WAIT, t.settled.wait_for(|done| *done)).await;
            let id = match &t.kind {
                TrackedKind::Pod => format!("{}/{}", t.namespace, t.name),
                TrackedKind::Object(ar) => {
                    format!("{} {}/{}", ar.kind.to_lowercase(), t.namespace, t.name)
                }
            };
            let delete = async {
                match &t.kind {
                    TrackedKind::Pod => delete_pod(&t.client, &t.namespace, &t.name).await,
                    TrackedKind::Object(ar) => {
                        delete_object(&t.client, ar, &t.namespace, &t.name).await
                    }
                }
            };
            match tokio::time::timeout(CLEANUP_WAIT, delete).await {
                Ok(Ok(true)) => deleted.push(id),
                Ok(Ok(false)) => {}
                Ok(Err(e)) => failed.push(format!("{id}: {e}")),
                Err(_) => failed.push(format!(
                    "{id}: no answer to DELETE in {}s",
                    CLEANUP_WAIT.as_secs()
                )),
            }
        }
        (deleted, failed)
    }
}

/// DELETE a namespaced object of any kind. Ok(false) when it was already gone.
pub async fn delete_object(
    client: &kube::Client,
    ar: &kube::api::ApiResource,
    ns: &str,
    name: &str,
) -> Result<bool, String> {
    let api: Api<kube::api::DynamicObject> = Api::namespaced_with(client.clone(), ns, ar);
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(error_text(&e)),
    }
}

/// DELETE with grace period 0. Ok(false) when the pod was already gone.
pub async fn delete_pod(client: &kube::Client, ns: &str, name: &str) -> Result<bool, String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let dp = DeleteParams {
        grace_period_seconds: Some(0),
        ..Default::default()
    };
    match api.delete(name, &dp).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(error_text(&e)),
    }
}

pub(crate) use super::progress::Progress;

// ---------------------------------------------------------------------------------------------
// Reading the pod's state (pure)
// ---------------------------------------------------------------------------------------------

/// What one observed state of the probe pod means.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Still on its way; the text is for the progress line.
    Waiting(String),
    /// The probe finished: read the report from the log.
    Succeeded,
    /// The probe exited non-zero on its own: its message (termination message) if any.
    Exited { code: i32, message: String },
    /// It will not get better.
    Failed(Problem),
}

/// The probe pod's own reason for a container the kubelet will not start (besides the shared
/// ones in [`Seen::hold`]).
const ALSO_REFUSED: &[&str] = &["PreStartHookError"];

fn problem(kind: ProblemKind, message: String, hint: impl Into<String>) -> Problem {
    Problem {
        kind,
        message,
        hint: hint.into(),
    }
}

/// Hint for a pod that ended without a report.
const KILLED_HINT: &str = "the pod is deleted; run again, or look at the node's events (kubectl get events -n <namespace>) if it keeps happening";

/// Classify one observed state of the probe pod: its end first (the probe runs to it), then
/// what holds it ([`Seen::hold`]).
pub fn assess(pod: &Pod, image: &str) -> State {
    let Some(seen) = Seen::read(pod, CONTAINER) else {
        return State::Waiting("Pending".into());
    };
    let (id, status) = (&seen.id, seen.status);
    let with_message = |reason: &str, message: Option<&str>| match message.filter(|m| !m.is_empty())
    {
        Some(m) => format!("{reason}: {m}"),
        None => reason.to_owned(),
    };
    match seen.phase {
        "Succeeded" => return State::Succeeded,
        "Failed" => {
            let reason = status.reason.as_deref().unwrap_or("");
            if reason == "DeadlineExceeded" {
                return State::Failed(problem(
                    ProblemKind::DeadlineExceeded,
                    format!(
                        "the probe pod {id} did not finish within its deadline ({})",
                        with_message("DeadlineExceeded", status.message.as_deref())
                    ),
                    "raise --probe-timeout (a plan with many challenges or slow targets takes longer)",
                ));
            }
            if let Some(t) = seen.terminated() {
                let why = t.reason.as_deref().unwrap_or("Error");
                if why == "OOMKilled" {
                    return State::Failed(problem(
                        ProblemKind::Killed,
                        format!(
                            "the probe pod {id} was OOMKilled (exit code {}, memory limit 128Mi)",
                            t.exit_code
                        ),
                        KILLED_HINT,
                    ));
                }
                if t.signal.is_some() || t.exit_code >= 128 {
                    return State::Failed(problem(
                        ProblemKind::Killed,
                        format!(
                            "the probe pod {id} was killed before it reported ({why}, exit code {}{})",
                            t.exit_code,
                            t.signal
                                .map(|s| format!(", signal {s}"))
                                .unwrap_or_default()
                        ),
                        KILLED_HINT,
                    ));
                }
                return State::Exited {
                    code: t.exit_code,
                    message: t.message.clone().unwrap_or_default(),
                };
            }
            let text = with_message(
                if reason.is_empty() { "Failed" } else { reason },
                status.message.as_deref(),
            );
            return State::Failed(problem(
                ProblemKind::Killed,
                format!("the probe pod {id} failed before it reported: {text}"),
                KILLED_HINT,
            ));
        }
        _ => {}
    }
    State::Failed(match seen.hold(ALSO_REFUSED) {
        Hold::ImagePull { reason, message } => problem(
            ProblemKind::ImagePull,
            format!(
                "the probe image {image:?} could not be pulled ({})",
                with_message(reason, message)
            ),
            format!(
                "copy the image to a registry the cluster can pull from and pass --probe-image (or set ACMECHECK_PROBE_IMAGE); add --image-pull-secret NAME for a private registry; the default is {}",
                crate::image::DEFAULT_PROBE_IMAGE
            ),
        ),
        Hold::Refused { reason, message } => problem(
            ProblemKind::Rejected,
            format!(
                "the kubelet refused to start the probe container of {id} ({})",
                with_message(reason, message)
            ),
            "the image must run as a non-root numeric user (65532); check --probe-image",
        ),
        Hold::Unschedulable { message } => problem(
            ProblemKind::Unschedulable,
            format!("the probe pod {id} cannot be scheduled: {message}"),
            "pick a node with --probe-node or a namespace with --probe-namespace where pods fit, or skip the pod with --local-only",
        ),
        Hold::OnItsWay(text) => return State::Waiting(text),
    })
}

// ---------------------------------------------------------------------------------------------
// API errors in words
// ---------------------------------------------------------------------------------------------

fn error_text(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message),
        other => other.to_string(),
    }
}

fn rbac_hint(ns: &str) -> String {
    format!(
        "the probe pod needs create, get, watch and delete on pods and get on pods/log in namespace {ns:?}, e.g. kubectl create role acmecheck-probe --verb=create,get,watch,delete --resource=pods,pods/log -n {ns} && kubectl create rolebinding acmecheck-probe --role=acmecheck-probe --user=<you> -n {ns}; or pick a namespace with --probe-namespace, or skip the pod with --local-only"
    )
}

/// Is this 403 from RBAC (rather than admission, which also answers 403)?
fn is_rbac_denial(s: &Status) -> bool {
    s.code == 403 && s.message.contains("cannot ")
}

/// A failed request on the probe pod, as a problem naming the verb, resource and namespace.
fn api_problem(e: &kube::Error, verb: &str, resource: &str, ns: &str) -> Problem {
    match e {
        kube::Error::Api(s) if is_rbac_denial(s) => problem(
            ProblemKind::Forbidden,
            format!(
                "not allowed to {verb} {resource} in namespace {ns:?}: {}; continuing with the local vantage only",
                s.message
            ),
            rbac_hint(ns),
        ),
        kube::Error::Api(s) if verb == "create" && matches!(s.code, 400 | 403 | 422) => problem(
            ProblemKind::Rejected,
            format!(
                "the probe pod was rejected in namespace {ns:?}: {}",
                s.message
            ),
            "the probe pod already meets Pod Security \"restricted\"; ask for an exception for pods labelled app.kubernetes.io/managed-by=kubectl-acmecheck, or pick another namespace with --probe-namespace",
        ),
        _ => problem(
            ProblemKind::Api,
            format!(
                "cannot {verb} {resource} in namespace {ns:?}: {}",
                error_text(e)
            ),
            "check the API server and --request-timeout, or skip the pod with --local-only",
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/// What the lifecycle needs from the run.
pub struct Context<'a> {
    pub client: &'a kube::Client,
    pub opts: &'a PodOptions,
    pub run_id: &'a str,
    pub tracker: &'a Tracker,
}

/// POST the pod for this placement, saying so on the progress line; Err keeps the API error.
/// The POST runs in its own task (see the module docs).
async fn create(
    ctx: &Context<'_>,
    p: &Placement,
    plan_json: &str,
    cm: Option<&CertManagerEvidence>,
    progress: &mut Progress,
) -> Result<(), kube::Error> {
    progress.show(&format!("creating probe pod {}/{}", p.namespace, p.pod));
    let pod = spec::pod(plan_json, p, ctx.opts, ctx.run_id, cm);
    let settled = ctx.tracker.add(ctx.client, p);
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &p.namespace);
    let task = tokio::spawn(async move {
        let r = api.create(&PostParams::default(), &pod).await;
        let _ = settled.send(true);
        r
    });
    let result = match task.await {
        Ok(r) => r.map(|_| ()),
        Err(e) => Err(kube::Error::Service(Box::new(e))),
    };
    if result.is_err() {
        ctx.tracker.remove(p);
    }
    result
}

/// A pod of an earlier run, seen in the watch's initial events.
struct Leftover {
    name: String,
    age: Duration,
}

fn age(pod: &Pod) -> Option<Duration> {
    let created = pod.metadata.creation_timestamp.as_ref()?.0.as_second();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(Duration::from_secs(
        now.saturating_sub(u64::try_from(created).ok()?),
    ))
}

/// Run the probe pod and return the in-cluster vantage. Never fails the run: every problem
/// becomes [`InCluster::Failed`]. The pod is deleted before this returns.
pub async fn run(
    ctx: &Context<'_>,
    plan: &ProbePlan,
    places: PlacementPlan,
    cm: Option<&CertManagerEvidence>,
) -> InCluster {
    let plan_json = match serde_json::to_string(plan) {
        Ok(j) => j,
        Err(e) => {
            return InCluster::Failed {
                placement: None,
                problem: problem(
                    ProblemKind::Api,
                    format!("cannot encode the probe plan: {e}"),
                    "",
                ),
            };
        }
    };
    let mut progress = Progress::new();
    // 1. POST (with the fallback namespace on an RBAC 403).
    let mut placement = places.primary;
    let mut created = create(ctx, &placement, &plan_json, cm, &mut progress).await;
    if let (Err(kube::Error::Api(s)), Some(mut fb)) = (&created, places.fallback)
        && is_rbac_denial(s)
    {
        fb.why = format!("{} ({})", fb.why, s.message);
        placement = fb;
        created = create(ctx, &placement, &plan_json, cm, &mut progress).await;
    }
    if let Err(e) = created {
        progress.clear();
        // Without an answer from the API server (a timeout, a dropped connection) the pod may
        // exist all the same: delete it by name (a 404 is fine).
        if !matches!(e, kube::Error::Api(_)) {
            let _ = delete_pod(ctx.client, &placement.namespace, &placement.pod).await;
        }
        return InCluster::Failed {
            problem: api_problem(&e, "create", "pods", &placement.namespace),
            placement: Some(placement),
        };
    }
    // 2, 3. WATCH until it ends, then GET its log.
    let mut leftovers = Vec::new();
    let outcome = observe(ctx, &placement, plan, &mut progress, &mut leftovers).await;
    progress.clear();
    // 4. DELETE, whatever happened.
    match delete_pod(ctx.client, &placement.namespace, &placement.pod).await {
        Ok(_) => ctx.tracker.remove(&placement),
        Err(e) => eprintln!(
            "warning: could not delete the probe pod {}/{}: {e}\n  hint: kubectl delete pod -n {} {} (or kubectl acmecheck cleanup -n {})",
            placement.namespace,
            placement.pod,
            placement.namespace,
            placement.pod,
            placement.namespace
        ),
    }
    warn_leftovers(&placement.namespace, &leftovers, ctx.opts.timeout);
    match outcome {
        Ok(targets) => InCluster::Ran { placement, targets },
        Err(problem) => InCluster::Failed {
            placement: Some(placement),
            problem,
        },
    }
}

fn warn_leftovers(ns: &str, leftovers: &[Leftover], deadline: Duration) {
    let old: Vec<&Leftover> = leftovers.iter().filter(|l| l.age > deadline).collect();
    if old.is_empty() {
        return;
    }
    let names: Vec<String> = old
        .iter()
        .map(|l| format!("{} ({}s old)", l.name, l.age.as_secs()))
        .collect();
    eprintln!(
        "warning: {} probe pod(s) of earlier runs are still in namespace {ns:?}, older than the {}s deadline: {}\n  hint: remove them with: kubectl acmecheck cleanup -n {ns}",
        old.len(),
        deadline.as_secs(),
        names.join(", ")
    );
}

/// WATCH the pod to its end, then read the report (or the error) from its log.
async fn observe(
    ctx: &Context<'_>,
    p: &Placement,
    plan: &ProbePlan,
    progress: &mut Progress,
    leftovers: &mut Vec<Leftover>,
) -> Result<HashMap<String, TargetReport>, Problem> {
    let limit = ctx.opts.timeout + deadline_grace(ctx.opts.timeout);
    let mut last = String::from("Pending");
    let watch_started = std::time::Instant::now();
    let ended = tokio::time::timeout(limit, async {
        let path = format!(
            "/api/v1/namespaces/{}/pods?watch=true&labelSelector={SELECTOR_QUERY}&timeoutSeconds={}",
            p.namespace,
            limit.as_secs()
        );
        let req = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| problem(ProblemKind::Api, format!("cannot build the watch request: {e}"), ""))?;
        let events = ctx
            .client
            .request_events::<Pod>(req)
            .await
            .map_err(|e| api_problem(&e, "watch", "pods", &p.namespace))?;
        let mut events = std::pin::pin!(events);
        loop {
            let event = events
                .try_next()
                .await
                .map_err(|e| api_problem(&e, "watch", "pods", &p.namespace))?;
            let pod = match event {
                Some(WatchEvent::Added(pod) | WatchEvent::Modified(pod)) => pod,
                Some(WatchEvent::Deleted(pod)) => {
                    if pod.metadata.name.as_deref() == Some(p.pod.as_str()) {
                        return Err(problem(
                            ProblemKind::Killed,
                            format!("the probe pod {}/{} was deleted by someone else while it was {last}", p.namespace, p.pod),
                            KILLED_HINT,
                        ));
                    }
                    continue;
                }
                Some(WatchEvent::Bookmark(_)) => continue,
                Some(WatchEvent::Error(s)) => {
                    return Err(api_problem(&kube::Error::Api(s), "watch", "pods", &p.namespace));
                }
                None if watch_started.elapsed() + Duration::from_secs(1) < limit => {
                    return Err(problem(
                        ProblemKind::Api,
                        format!(
                            "the watch on pods in namespace {:?} ended after {}s while the probe pod {} was {last}",
                            p.namespace,
                            watch_started.elapsed().as_secs(),
                            p.pod
                        ),
                        "a --request-timeout shorter than the probe also ends the watch; raise it or run again",
                    ));
                }
                None => return Err(deadline_problem(ctx, p, &last)),
            };
            let name = pod.metadata.name.clone().unwrap_or_default();
            if name != p.pod {
                if !leftovers.iter().any(|l| l.name == name)
                    && let Some(age) = age(&pod)
                {
                    leftovers.push(Leftover { name, age });
                }
                continue;
            }
            match assess(&pod, &ctx.opts.image) {
                State::Waiting(text) => {
                    progress.show(&format!("probe pod {}/{}: {text}", p.namespace, p.pod));
                    last = text;
                }
                State::Succeeded => return Ok(None),
                State::Exited { code, message } => return Ok(Some((code, message))),
                State::Failed(problem) => return Err(problem),
            }
        }
    })
    .await
    .unwrap_or_else(|_| Err(deadline_problem(ctx, p, &last)))?;
    progress.show(&format!(
        "reading the report of probe pod {}/{}",
        p.namespace, p.pod
    ));
    let (log, truncated) = read_log(ctx.client, p).await?;
    match ended {
        None => report::parse(&log, truncated, plan).map_err(|m| {
            problem(
                ProblemKind::MalformedReport,
                format!("the report of probe pod {}/{} is unusable: {}", p.namespace, p.pod, m.0),
                format!("the probe image must run this plugin's version (v{}); check --probe-image (default {})", env!("CARGO_PKG_VERSION"), crate::image::DEFAULT_PROBE_IMAGE),
            )
        }),
        Some((code, message)) => {
            let text = if message.trim().is_empty() {
                String::from_utf8_lossy(&log).into_owned()
            } else {
                message
            };
            let tail: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let tail = tail[tail.len().saturating_sub(3)..].join(" / ");
            Err(problem(
                ProblemKind::Killed,
                format!(
                    "the probe in pod {}/{} exited with code {code} without a report: {}",
                    p.namespace,
                    p.pod,
                    report::excerpt(&tail, 300)
                ),
                format!("the probe image must run this plugin's version (v{}); check --probe-image", env!("CARGO_PKG_VERSION")),
            ))
        }
    }
}

fn deadline_problem(ctx: &Context<'_>, p: &Placement, last: &str) -> Problem {
    problem(
        ProblemKind::DeadlineExceeded,
        format!(
            "the probe pod {}/{} did not finish within {}s (--probe-timeout); it was last {last}",
            p.namespace,
            p.pod,
            ctx.opts.timeout.as_secs()
        ),
        "raise --probe-timeout, or look at why the pod is slow to start (image pulls, node capacity)",
    )
}

/// GET the log with `limitBytes` and read at most one byte more than the report limit.
async fn read_log(client: &kube::Client, p: &Placement) -> Result<(Vec<u8>, bool), Problem> {
    let cap = MAX_REPORT_BYTES as u64 + 1;
    let lp = LogParams {
        container: Some(CONTAINER.to_owned()),
        limit_bytes: i64::try_from(cap).ok(),
        ..Default::default()
    };
    let fail = |e: &kube::Error| api_problem(e, "get", "pods/log", &p.namespace);
    let req = kube::core::Request::new(format!("/api/v1/namespaces/{}/pods", p.namespace))
        .logs(&p.pod, &lp)
        .map_err(|e| {
            problem(
                ProblemKind::Api,
                format!("cannot build the log request: {e}"),
                "",
            )
        })?;
    let body = client.request_stream(req).await.map_err(|e| fail(&e))?;
    let mut log = Vec::new();
    Box::pin(body)
        .take(cap)
        .read_to_end(&mut log)
        .await
        .map_err(|e| {
            problem(
                ProblemKind::Api,
                format!(
                    "cannot read the log of probe pod {}/{}: {e}",
                    p.namespace, p.pod
                ),
                "",
            )
        })?;
    let truncated = log.len() as u64 >= cap;
    Ok((log, truncated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "acmecheck-probe-x", "namespace": "cert-manager"}, "status": status})).unwrap()
    }

    fn kind(s: State) -> ProblemKind {
        match s {
            State::Failed(p) => p.kind,
            other => panic!("not a failure: {other:?}"),
        }
    }

    fn message(s: State) -> String {
        match s {
            State::Failed(p) => p.message,
            other => panic!("not a failure: {other:?}"),
        }
    }

    #[test]
    fn waiting_states() {
        assert_eq!(
            assess(&pod(json!(null)), "img"),
            State::Waiting("Pending".into())
        );
        assert_eq!(
            assess(
                &pod(
                    json!({"phase": "Pending", "containerStatuses": [{"name": "probe", "image": "i", "imageID": "", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]})
                ),
                "img"
            ),
            State::Waiting("Pending (ContainerCreating)".into())
        );
        assert_eq!(
            assess(&pod(json!({"phase": "Running"})), "img"),
            State::Waiting("Running".into())
        );
        assert_eq!(
            assess(&pod(json!({"phase": "Succeeded"})), "img"),
            State::Succeeded
        );
    }

    fn waiting(reason: &str, message: &str) -> Pod {
        pod(
            json!({"phase": "Pending", "containerStatuses": [{"name": "probe", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": reason, "message": message}}}]}),
        )
    }

    fn terminated(t: serde_json::Value) -> Pod {
        pod(
            json!({"phase": "Failed", "containerStatuses": [{"name": "probe", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": t}}]}),
        )
    }

    #[test]
    fn failures_are_named() {
        let s = assess(
            &waiting("ErrImagePull", "pull access denied for x"),
            "mirror/x:v1",
        );
        assert_eq!(
            message(s.clone()),
            "the probe image \"mirror/x:v1\" could not be pulled (ErrImagePull: pull access denied for x)"
        );
        assert_eq!(kind(s), ProblemKind::ImagePull);
        assert_eq!(
            kind(assess(&waiting("ImagePullBackOff", "Back-off"), "i")),
            ProblemKind::ImagePull
        );
        assert_eq!(
            kind(assess(
                &waiting(
                    "CreateContainerConfigError",
                    "container has runAsNonRoot and image will run as root"
                ),
                "i"
            )),
            ProblemKind::Rejected
        );
        let unsched = pod(
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient cpu."}]}),
        );
        let s = assess(&unsched, "i");
        assert!(
            message(s.clone())
                .ends_with("cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu.")
        );
        assert_eq!(kind(s), ProblemKind::Unschedulable);
        let deadline = pod(
            json!({"phase": "Failed", "reason": "DeadlineExceeded", "message": "Pod was active on the node longer than the specified deadline"}),
        );
        assert_eq!(kind(assess(&deadline, "i")), ProblemKind::DeadlineExceeded);
        let oom = terminated(json!({"reason": "OOMKilled", "exitCode": 137}));
        let s = assess(&oom, "i");
        assert!(message(s.clone()).contains("OOMKilled"));
        assert_eq!(kind(s), ProblemKind::Killed);
        assert_eq!(
            kind(assess(
                &terminated(json!({"reason": "Error", "exitCode": 143})),
                "i"
            )),
            ProblemKind::Killed
        );
        assert_eq!(
            assess(
                &terminated(
                    json!({"reason": "Error", "exitCode": 2, "message": "error: bad plan"})
                ),
                "i"
            ),
            State::Exited {
                code: 2,
                message: "error: bad plan".into()
            }
        );
        let evicted = pod(
            json!({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."}),
        );
        let s = assess(&evicted, "i");
        assert!(message(s.clone()).ends_with("Evicted: The node was low on resource: memory."));
        assert_eq!(kind(s), ProblemKind::Killed);
    }

    #[test]
    fn rbac_denials_and_admission_rejections_are_told_apart() {
        let status = |code, message: &str| {
            kube::Error::Api(Box::new(Status {
                code,
                message: message.into(),
                reason: "Forbidden".into(),
                ..Default::default()
            }))
        };
        let rbac = status(
            403,
            "pods is forbidden: User \"jane\" cannot create resource \"pods\" in API group \"\" in the namespace \"cert-manager\"",
        );
        let p = api_problem(&rbac, "create", "pods", "cert-manager");
        assert_eq!(p.kind, ProblemKind::Forbidden);
        assert!(
            p.message
                .starts_with("not allowed to create pods in namespace \"cert-manager\"")
        );
        assert!(
            p.message
                .ends_with("continuing with the local vantage only")
        );
        assert!(
            p.hint.contains(
                "--verb=create,get,watch,delete --resource=pods,pods/log -n cert-manager"
            )
        );
        let psa = status(
            403,
            "pods \"acmecheck-probe-x\" is forbidden: violates PodSecurity \"restricted:latest\": runAsNonRoot != true",
        );
        let p = api_problem(&psa, "create", "pods", "shop");
        assert_eq!(p.kind, ProblemKind::Rejected);
        assert!(p.message.contains("violates PodSecurity"));
        let watch = api_problem(
            &status(
                403,
                "pods is forbidden: User \"jane\" cannot watch resource \"pods\"",
            ),
            "watch",
            "pods",
            "shop",
        );
        assert_eq!(watch.kind, ProblemKind::Forbidden);
        assert!(
            watch
                .message
                .starts_with("not allowed to watch pods in namespace \"shop\"")
        );
        assert_eq!(
            api_problem(&status(500, "boom"), "get", "pods/log", "shop").kind,
            ProblemKind::Api
        );
    }
}
