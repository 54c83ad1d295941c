//! The stand-ins of one run while they run: what to probe ([`LiveSolver`], also as a
//! Challenge with its solver objects for the probe stage and the diagnosis), leftovers of
//! earlier runs, and deletion in reverse creation order ([`Live::teardown`]).

use super::DEADLINE_ANNOTATION;
use super::plan::{RouteKind, StandIn};
use crate::evidence::{
    ChallengeEvidence, IngressEvidence, IngressRuleEvidence, PodEvidence, RouteEvidence,
    RouteParentEvidence, ServiceEvidence, ServicePortEvidence,
};
use crate::probe::pod::lifecycle::{TrackedKind, Tracker, delete_object, delete_pod};
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// How long one DELETE (or an in-flight POST) may take on the way out.
pub(super) const DELETE_WAIT: Duration = Duration::from_secs(10);

/// A running stand-in: what to probe and where.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveSolver {
    pub dns_name: String,
    pub token: String,
    pub key: String,
    pub namespace: String,
    /// The pod, Service and Ingress/HTTPRoute all have this name.
    pub object_name: String,
    /// Its challenge's name (the object name unless the stand-in is shared).
    pub challenge_name: String,
    pub pod_ip: Option<String>,
    pub node: Option<String>,
    pub service_type: Option<String>,
    pub cluster_ip: Option<String>,
    pub node_port: Option<i32>,
    pub route_kind: RouteKind,
    /// The HTTPRoute's `status.parents` as the Gateway controller wrote it (read after the
    /// propagation wait; empty until then or when nobody reported).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub route_parents: Vec<RouteParentEvidence>,
    /// The Ingress's `status.loadBalancer` addresses, read likewise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub route_lb_addresses: Vec<String>,
    /// The rendered objects (as created).
    #[serde(skip)]
    pub(super) stand_in: StandIn,
}

impl LiveSolver {
    /// The stand-in as a Challenge with its solver objects, in the shape the probe stage and
    /// the diagnosis rules read: presented and processing, in the self-check phase, as a live
    /// challenge is (`state` is empty: no CA is involved).
    pub fn as_challenge(&self) -> ChallengeEvidence {
        let s = &self.stand_in;
        let ready = self.pod_ip.is_some();
        let mut ch = ChallengeEvidence {
            name: self.challenge_name.clone(),
            dns_name: self.dns_name.clone(),
            type_: "HTTP-01".into(),
            token: self.token.clone(),
            key: self.key.clone(),
            url: String::new(),
            solver: s.solver.clone(),
            presented: true,
            processing: true,
            solver_pods: vec![PodEvidence {
                namespace: self.namespace.clone(),
                name: self.object_name.clone(),
                phase: "Running".into(),
                ready,
                node_name: self.node.clone(),
                pod_ip: self.pod_ip.clone(),
                image: s
                    .pod
                    .pointer("/spec/containers/0/image")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                args_match: true,
                ..Default::default()
            }],
            solver_services: vec![ServiceEvidence {
                namespace: self.namespace.clone(),
                name: self.object_name.clone(),
                type_: self.service_type.clone().unwrap_or_default(),
                cluster_ip: self.cluster_ip.clone(),
                ports: vec![ServicePortEvidence {
                    name: Some("http".into()),
                    port: super::LISTEN_PORT,
                    target_port: Some(super::LISTEN_PORT.to_string()),
                    node_port: self.node_port,
                    protocol: "TCP".into(),
                }],
                ready_endpoints: u32::from(ready),
                endpoint_addresses: self.pod_ip.iter().cloned().collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let path = format!("{}/{}", super::CHALLENGE_PATH, self.token);
        match self.route_kind {
            RouteKind::Ingress => ch.solver_ingresses.push(IngressEvidence {
                namespace: self.namespace.clone(),
                name: self.object_name.clone(),
                class_name: s
                    .route
                    .pointer("/spec/ingressClassName")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                class_annotation: s
                    .route
                    .pointer("/metadata/annotations/kubernetes.io~1ingress.class")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                rules: vec![IngressRuleEvidence {
                    host: s
                        .route
                        .pointer("/spec/rules/0/host")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    path,
                    path_type: s
                        .route
                        .pointer("/spec/rules/0/http/paths/0/pathType")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    service: Some(self.object_name.clone()),
                    port: Some(super::LISTEN_PORT),
                }],
                lb_addresses: self.route_lb_addresses.clone(),
                ..Default::default()
            }),
            RouteKind::HttpRoute => ch.solver_routes.push(RouteEvidence {
                namespace: self.namespace.clone(),
                name: self.object_name.clone(),
                hostnames: s
                    .route
                    .pointer("/spec/hostnames")
                    .and_then(|h| serde_json::from_value(h.clone()).ok())
                    .unwrap_or_default(),
                parent_refs: s
                    .solver
                    .http01
                    .as_ref()
                    .and_then(|h| h.gateway_http_route.as_ref())
                    .map(|g| g.parent_refs.clone())
                    .unwrap_or_default(),
                parents: self.route_parents.clone(),
            }),
        }
        ch
    }
}

/// A stand-in pod of an earlier run, past its deadline (seen in the watch's initial events).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Leftover {
    pub namespace: String,
    pub name: String,
    /// Seconds since its deadline.
    pub overdue_seconds: u64,
}

/// The warning a run prints about leftovers, if any.
pub fn leftover_warning(leftovers: &[Leftover]) -> Option<String> {
    let first = leftovers.first()?;
    let names: Vec<String> = leftovers
        .iter()
        .map(|l| format!("{} ({}s past its deadline)", l.name, l.overdue_seconds))
        .collect();
    Some(format!(
        "warning: {} replay stand-in pod(s) of earlier runs are still in namespace {:?}: {}\n  hint: remove them with: kubectl acmecheck cleanup -n {}",
        leftovers.len(),
        first.namespace,
        names.join(", "),
        first.namespace
    ))
}

/// Is this stand-in object past its deadline annotation at `now` (seconds since the epoch)?
/// Returns the seconds overdue. Objects without a readable deadline are not judged.
pub fn overdue(
    annotations: Option<&std::collections::BTreeMap<String, String>>,
    now: i64,
) -> Option<u64> {
    let at: k8s_openapi::jiff::Timestamp = annotations?.get(DEADLINE_ANNOTATION)?.parse().ok()?;
    let late = now - at.as_second();
    (late > 0).then(|| u64::try_from(late).unwrap_or(0))
}

pub(super) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// One created object, for deletion.
#[derive(Debug, Clone)]
pub(super) struct Created {
    pub(super) kind: TrackedKind,
    pub(super) name: String,
}

/// The stand-ins of one run, running. Delete them with [`Live::teardown`].
pub struct Live {
    pub namespace: String,
    pub run_id: String,
    pub solvers: Vec<LiveSolver>,
    /// Stand-in pods of earlier runs past their deadline.
    pub leftovers: Vec<Leftover>,
    pub(super) created: Vec<Created>,
    pub(super) client: kube::Client,
    pub(super) tracker: Tracker,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("namespace", &self.namespace)
            .field("run_id", &self.run_id)
            .field("solvers", &self.solvers)
            .field("leftovers", &self.leftovers)
            .field("created", &self.created.len())
            .finish()
    }
}

/// What a teardown deleted and what it could not (`kind namespace/name[: reason]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Teardown {
    pub deleted: Vec<String>,
    pub failed: Vec<String>,
}

pub(super) async fn delete_created(
    client: &kube::Client,
    tracker: &Tracker,
    ns: &str,
    created: Vec<Created>,
) -> Teardown {
    let mut out = Teardown::default();
    for c in created.into_iter().rev() {
        let id = match &c.kind {
            TrackedKind::Pod => format!("pod {ns}/{}", c.name),
            TrackedKind::Object(ar) => format!("{} {ns}/{}", ar.kind.to_lowercase(), c.name),
        };
        let delete = async {
            match &c.kind {
                TrackedKind::Pod => delete_pod(client, ns, &c.name).await,
                TrackedKind::Object(ar) => delete_object(client, ar, ns, &c.name).await,
            }
        };
        match tokio::time::timeout(DELETE_WAIT, delete).await {
            Ok(Ok(_)) => {
                tracker.untrack(&c.kind, ns, &c.name);
                out.deleted.push(id);
            }
            Ok(Err(e)) => out.failed.push(format!("{id}: {e}")),
            Err(_) => out.failed.push(format!(
                "{id}: no answer to DELETE in {}s",
                DELETE_WAIT.as_secs()
            )),
        }
    }
    out
}

impl Live {
    /// Delete every stand-in object, Ingresses/HTTPRoutes first, then Services, then pods.
    pub async fn teardown(mut self) -> Teardown {
        let created = std::mem::take(&mut self.created);
        delete_created(&self.client, &self.tracker, &self.namespace, created).await
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if self.created.is_empty() {
            return;
        }
        let created = std::mem::take(&mut self.created);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (client, tracker, ns) = (
                self.client.clone(),
                self.tracker.clone(),
                self.namespace.clone(),
            );
            rt.spawn(async move {
                let _ = delete_created(&client, &tracker, &ns, created).await;
            });
        }
        // Without a runtime the objects stay in the tracker (a signal deletes them) and carry
        // their deadline for `kubectl acmecheck cleanup`.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn overdue_reads_the_deadline_annotation() {
        let ann = |v: &str| BTreeMap::from([(DEADLINE_ANNOTATION.to_owned(), v.to_owned())]);
        let at = k8s_openapi::jiff::Timestamp::from_second(1_800_000_000)
            .unwrap()
            .to_string();
        assert_eq!(overdue(Some(&ann(&at)), 1_800_000_030), Some(30));
        assert_eq!(overdue(Some(&ann(&at)), 1_800_000_000), None);
        assert_eq!(overdue(Some(&ann("soon")), 1_900_000_000), None);
        assert_eq!(overdue(None, 1_900_000_000), None);
        let w = leftover_warning(&[Leftover {
            namespace: "shop".into(),
            name: "acmecheck-solver-a-0".into(),
            overdue_seconds: 30,
        }])
        .unwrap();
        assert!(w.starts_with("warning: 1 replay stand-in pod(s) of earlier runs are still in namespace \"shop\": acmecheck-solver-a-0 (30s past its deadline)"));
        assert!(w.ends_with("kubectl acmecheck cleanup -n shop"));
        assert_eq!(leftover_warning(&[]), None);
    }
}
