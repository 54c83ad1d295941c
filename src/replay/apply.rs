//! Create the stand-ins, wait until their pods run, hand back probe targets, delete them.
//!
//! Requests for a plan with N stand-ins: N POST pods, N POST services, N POST ingresses (or
//! httproutes), one WATCH of the namespace's stand-in pods (label selector, no
//! resourceVersion: the initial ADDED events also show leftovers of earlier runs), and 3N
//! DELETEs at the end. No polling, no GET.
//!
//! Every object is registered with the run's [`Tracker`] before its POST is sent (the POST runs
//! in its own task), so a signal at any moment deletes what exists or is being created. On an
//! error everything created so far is deleted before the error is returned; on success the
//! caller gets [`Live`] and deletes with [`Live::teardown`] (dropping it deletes too, as a best
//! effort on the current runtime).

use super::SELECTOR;
use super::error::{ApplyError, ApplyErrorKind, Denied, role_rule};
use super::live::{Created, DELETE_WAIT, delete_created, now_unix};
pub use super::live::{Leftover, Live, LiveSolver, Teardown, leftover_warning, overdue};
use super::manifest;
use super::plan::ReplayPlan;
use super::podstate::{self, PodState};
use crate::probe::pod::RUN_ID_LABEL;
use crate::probe::pod::lifecycle::{Progress, TrackedKind, Tracker, delete_object, delete_pod};
use futures::TryStreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use kube::core::WatchEvent;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The kinds replay creates, in the order they are deleted.
pub fn kinds() -> [ApiResource; 4] {
    let ar = |group: &str, version: &str, kind: &str, plural: &str| ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        },
        kind: kind.to_owned(),
        plural: plural.to_owned(),
    };
    [
        ar("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes"),
        ar("networking.k8s.io", "v1", "Ingress", "ingresses"),
        ar("", "v1", "Service", "services"),
        ar("", "v1", "Pod", "pods"),
    ]
}

fn kind_of(kind: &str) -> Option<ApiResource> {
    kinds().into_iter().find(|k| k.kind == kind)
}

/// `services`, `ingresses.networking.k8s.io`: how RBAC and the API server name a resource.
fn qualified(ar: &ApiResource) -> String {
    if ar.group.is_empty() {
        ar.plural.clone()
    } else {
        format!("{}.{}", ar.plural, ar.group)
    }
}

fn tracked_kind(ar: &ApiResource) -> TrackedKind {
    if ar.group.is_empty() && ar.kind == "Pod" {
        TrackedKind::Pod
    } else {
        TrackedKind::Object(ar.clone())
    }
}

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// How long the stand-in pods may take to be ready (image pull included).
    pub ready_timeout: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            ready_timeout: Duration::from_secs(120),
        }
    }
}

/// A failed request as an [`ApplyError`] naming the verb, the resource and the namespace.
pub fn api_error(
    e: &kube::Error,
    verb: &str,
    ar: &ApiResource,
    ns: &str,
    name: &str,
) -> ApplyError {
    let resource = qualified(ar);
    match e {
        kube::Error::Api(s) if s.code == 403 && s.message.contains("cannot ") => ApplyError::new(
            ApplyErrorKind::Forbidden(Box::new(Denied {
                verb: verb.to_owned(),
                resource: resource.clone(),
                namespace: ns.to_owned(),
                rule: role_rule(ns),
            })),
            format!(
                "not allowed to {verb} {resource} in namespace {ns:?}: {}; going on without replay",
                s.message
            ),
            format!(
                "replay needs create, get, watch and delete on pods and create, get and delete on services, ingresses and httproutes in namespace {ns:?}: {}",
                role_rule(ns)
            ),
        ),
        kube::Error::Api(s) if verb == "create" && matches!(s.code, 400 | 403 | 422) => {
            ApplyError::new(
                ApplyErrorKind::Rejected,
                format!(
                    "the stand-in {} {ns}/{name} was refused: {}",
                    ar.kind, s.message
                ),
                format!(
                    "cert-manager's own solver {} is built the same way and meets the same admission rules: fix the rule or the solver configuration it objects to",
                    ar.kind
                ),
            )
            .about(&ar.kind)
        }
        kube::Error::Api(s)
            if s.code == 404 && s.message.contains("could not find the requested resource") =>
        {
            ApplyError::new(
                ApplyErrorKind::Api,
                format!(
                    "the API server does not serve {resource}: cannot {verb} {name} in namespace {ns:?}"
                ),
                "install the Gateway API CRDs (for HTTPRoute solvers), or check the API server",
            )
        }
        kube::Error::Api(s) => ApplyError::new(
            ApplyErrorKind::Api,
            format!(
                "cannot {verb} {resource} {name} in namespace {ns:?}: {} {}: {}",
                s.code, s.reason, s.message
            ),
            "check the API server and --request-timeout, and run again",
        ),
        other => ApplyError::new(
            ApplyErrorKind::Api,
            format!("cannot {verb} {resource} {name} in namespace {ns:?}: {other}"),
            "check the API server and --request-timeout, and run again",
        ),
    }
}

/// POST one object, tracked before the request is sent. Returns the object as created.
async fn create(
    client: &kube::Client,
    tracker: &Tracker,
    ns: &str,
    obj: &Value,
) -> Result<(TrackedKind, Value), ApplyError> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let bad = |why: String| {
        ApplyError::new(
            ApplyErrorKind::Api,
            format!("cannot create {kind} {ns}/{name}: {why}"),
            "",
        )
    };
    let ar = kind_of(kind).ok_or_else(|| bad("not a kind replay creates".into()))?;
    let body: DynamicObject =
        serde_json::from_value(obj.clone()).map_err(|e| bad(e.to_string()))?;
    let tk = tracked_kind(&ar);
    let settled = tracker.track(client, tk.clone(), ns, &name);
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
    let task = tokio::spawn(async move {
        let r = api.create(&PostParams::default(), &body).await;
        let _ = settled.send(true);
        r
    });
    let result = match task.await {
        Ok(r) => r,
        Err(e) => Err(kube::Error::Service(Box::new(e))),
    };
    match result {
        Ok(created) => Ok((tk, serde_json::to_value(created).unwrap_or(Value::Null))),
        Err(e) => {
            // Without an answer the object may exist all the same: delete it by name.
            if !matches!(e, kube::Error::Api(_)) {
                let _ = tokio::time::timeout(DELETE_WAIT, async {
                    match &tk {
                        TrackedKind::Pod => delete_pod(client, ns, &name).await,
                        TrackedKind::Object(ar) => delete_object(client, ar, ns, &name).await,
                    }
                })
                .await;
            }
            tracker.untrack(&tk, ns, &name);
            Err(api_error(&e, "create", &ar, ns, &name))
        }
    }
}

/// Create the plan's stand-ins and wait until their pods are ready.
pub async fn apply(
    client: &kube::Client,
    plan: &ReplayPlan,
    tracker: &Tracker,
    opts: &ApplyOptions,
) -> Result<Live, ApplyError> {
    let ns = plan.namespace.clone();
    let mut live = Live {
        namespace: ns.clone(),
        run_id: plan.run_id.clone(),
        solvers: Vec::new(),
        leftovers: Vec::new(),
        created: Vec::new(),
        client: client.clone(),
        tracker: tracker.clone(),
    };
    for s in plan.stand_ins() {
        live.solvers.push(LiveSolver {
            dns_name: s.dns_name.clone(),
            token: s.token.clone(),
            key: s.key.clone(),
            namespace: ns.clone(),
            object_name: s.object_name.clone(),
            challenge_name: s.challenge_name.clone(),
            pod_ip: None,
            node: None,
            service_type: None,
            cluster_ip: None,
            node_port: None,
            route_kind: s.route_kind,
            route_parents: Vec::new(),
            route_lb_addresses: Vec::new(),
            stand_in: s.clone(),
        });
    }
    if live.solvers.is_empty() {
        return Ok(live);
    }
    let outcome = async {
        let mut progress = Progress::new();
        for (_, obj) in manifest::objects(plan) {
            progress.show(&format!(
                "replay: creating {} {ns}/{}",
                obj.get("kind").and_then(Value::as_str).unwrap_or("object"),
                obj.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ));
            let (kind, created) = create(client, tracker, &ns, obj).await?;
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if created.get("kind").and_then(Value::as_str) == Some("Service") {
                // Every name the Service serves (one, or all of a shared stand-in's).
                for ls in live.solvers.iter_mut().filter(|l| l.object_name == name) {
                    ls.service_type = created
                        .pointer("/spec/type")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    ls.cluster_ip = created
                        .pointer("/spec/clusterIP")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    ls.node_port = created
                        .pointer("/spec/ports/0/nodePort")
                        .and_then(Value::as_i64)
                        .and_then(|p| i32::try_from(p).ok());
                }
            }
            live.created.push(Created { kind, name });
        }
        progress.clear();
        wait_ready(client, plan, opts, &mut live).await
    }
    .await;
    match outcome {
        Ok(()) => Ok(live),
        Err(mut e) => {
            let created = std::mem::take(&mut live.created);
            let t = delete_created(client, tracker, &ns, created).await;
            e.leftovers = t.failed;
            Err(e)
        }
    }
}

/// One WATCH of the namespace's stand-in pods until every pod of this run is ready.
async fn wait_ready(
    client: &kube::Client,
    plan: &ReplayPlan,
    opts: &ApplyOptions,
    live: &mut Live,
) -> Result<(), ApplyError> {
    let ns = live.namespace.clone();
    let image = plan.settings.image.clone().unwrap_or_default();
    let pods = kinds()[3].clone();
    let started = Instant::now();
    let mut last = String::from("Pending");
    let mut progress = Progress::new();
    let watched = tokio::time::timeout(opts.ready_timeout, async {
        let selector: String = SELECTOR.replace('/', "%2F").replace('=', "%3D").replace(',', "%2C");
        let path = format!(
            "/api/v1/namespaces/{ns}/pods?watch=true&labelSelector={selector}&timeoutSeconds={}",
            opts.ready_timeout.as_secs().max(1)
        );
        let req = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| ApplyError::new(ApplyErrorKind::Api, format!("cannot build the watch request: {e}"), ""))?;
        let events = client
            .request_events::<Pod>(req)
            .await
            .map_err(|e| api_error(&e, "watch", &pods, &ns, ""))?;
        let mut events = std::pin::pin!(events);
        loop {
            let event = events.try_next().await.map_err(|e| api_error(&e, "watch", &pods, &ns, ""))?;
            let pod = match event {
                Some(WatchEvent::Added(p) | WatchEvent::Modified(p)) => p,
                Some(WatchEvent::Deleted(p)) => {
                    let name = p.metadata.name.clone().unwrap_or_default();
                    if live.solvers.iter().any(|l| l.object_name == name) {
                        return Err(ApplyError::new(
                            ApplyErrorKind::Deleted,
                            format!("the stand-in pod {ns}/{name} was deleted by someone else while it was {last}"),
                            "run again; if something deletes it every time, look for a controller or policy that removes unknown pods",
                        ));
                    }
                    continue;
                }
                Some(WatchEvent::Bookmark(_)) => continue,
                Some(WatchEvent::Error(s)) => return Err(api_error(&kube::Error::Api(s), "watch", &pods, &ns, "")),
                None if started.elapsed() + Duration::from_secs(1) < opts.ready_timeout => {
                    return Err(ApplyError::new(
                        ApplyErrorKind::Api,
                        format!("the watch on pods in namespace {ns:?} ended after {}s while the stand-in pods were {last}", started.elapsed().as_secs()),
                        "a --request-timeout shorter than the wait also ends the watch; raise it or run again",
                    ));
                }
                None => return Err(timeout(&ns, opts, &last)),
            };
            let name = pod.metadata.name.clone().unwrap_or_default();
            let ours = pod.metadata.labels.as_ref().and_then(|l| l.get(RUN_ID_LABEL)) == Some(&live.run_id);
            if !(ours && live.solvers.iter().any(|l| l.object_name == name)) {
                if let Some(overdue_seconds) = overdue(pod.metadata.annotations.as_ref(), now_unix())
                    && !live.leftovers.iter().any(|l| l.name == name)
                {
                    live.leftovers.push(Leftover { namespace: ns.clone(), name, overdue_seconds });
                }
                continue;
            }
            match podstate::assess(&pod, &image) {
                PodState::Ready { pod_ip, node } => {
                    // Every name the pod serves.
                    for ls in live.solvers.iter_mut().filter(|l| l.object_name == name) {
                        ls.pod_ip.clone_from(&pod_ip);
                        ls.node.clone_from(&node);
                    }
                }
                PodState::Waiting(text) => {
                    progress.show(&format!("replay: stand-in pod {ns}/{name}: {text}"));
                    last = format!("{name}: {text}");
                }
                PodState::Failed(e) => return Err(e),
            }
            if live.solvers.iter().all(|l| l.pod_ip.is_some()) {
                return Ok(());
            }
        }
    })
    .await;
    progress.clear();
    watched.unwrap_or_else(|_| Err(timeout(&ns, opts, &last)))
}

fn timeout(ns: &str, opts: &ApplyOptions, last: &str) -> ApplyError {
    ApplyError::new(
        ApplyErrorKind::Timeout,
        format!(
            "the stand-in pods in namespace {ns:?} were not ready within {}s; last seen: {last}",
            opts.ready_timeout.as_secs()
        ),
        "look at the pods' events (kubectl get events -n NAMESPACE); an image pull can take long the first time",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_verb_resource_namespace_and_rule() {
        let e = kube::Error::Api(Box::new(kube::core::Status {
            code: 403,
            reason: "Forbidden".into(),
            message: "ingresses.networking.k8s.io is forbidden: User \"jane\" cannot create resource \"ingresses\" in API group \"networking.k8s.io\" in the namespace \"shop\"".into(),
            ..Default::default()
        }));
        let err = api_error(&e, "create", &kinds()[1], "shop", "acmecheck-solver-x-0");
        assert!(err.is_forbidden());
        match &err.kind {
            ApplyErrorKind::Forbidden(d) => {
                assert_eq!(
                    (d.verb.as_str(), d.resource.as_str(), d.namespace.as_str()),
                    ("create", "ingresses.networking.k8s.io", "shop")
                );
                assert!(d.rule.contains("--resource=pods,services,ingresses.networking.k8s.io,httproutes.gateway.networking.k8s.io"));
            }
            other => panic!("{other:?}"),
        }
        assert!(err.message.starts_with(
            "not allowed to create ingresses.networking.k8s.io in namespace \"shop\""
        ));
        let webhook = kube::Error::Api(Box::new(kube::core::Status {
            code: 400,
            reason: "BadRequest".into(),
            message: "admission webhook \"validate.nginx.ingress.kubernetes.io\" denied the request: ingress contains invalid paths".into(),
            ..Default::default()
        }));
        let err = api_error(&webhook, "create", &kinds()[1], "shop", "x");
        assert_eq!(err.kind, ApplyErrorKind::Rejected);
        assert!(err.also_hits_cert_manager());
    }
}
