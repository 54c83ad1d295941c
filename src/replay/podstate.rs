//! What one observed state of a stand-in solver pod means (pure).
//!
//! The acmesolver has no readiness probe (neither has cert-manager's pod), so the container is
//! ready once it runs. States that will not get better end the wait: an image that cannot be
//! pulled, an unschedulable pod, a container that cannot be created or that ended. The first
//! two would stop cert-manager's own solver pod the same way: same image, same podTemplate.
//! The pod's fields are read as the probe pod's are ([`crate::probe::pod::status`]); the
//! words are the replay's.

use super::error::{ApplyError, ApplyErrorKind};
use crate::probe::pod::status::{Hold, Seen};
use k8s_openapi::api::core::v1::Pod;

/// The solver container's name (cert-manager's).
pub const CONTAINER: &str = "acmesolver";

#[derive(Debug, Clone, PartialEq)]
pub enum PodState {
    /// Still on its way; the text is for the progress line.
    Waiting(String),
    /// Running with a ready container.
    Ready {
        pod_ip: Option<String>,
        node: Option<String>,
    },
    /// It will not get better.
    Failed(ApplyError),
}

/// A stand-in's own reason for a container the kubelet will not start (besides the shared
/// ones in [`Seen::hold`]).
const ALSO_REFUSED: &[&str] = &["CrashLoopBackOff"];

fn reason_text(reason: &str, message: Option<&str>) -> String {
    match message.filter(|m| !m.trim().is_empty()) {
        Some(m) => format!("{reason}: {}", m.trim()),
        None => reason.to_owned(),
    }
}

/// Classify one observed state of the stand-in pod running `image`: its container's end or the
/// pod's first (a stand-in must keep running), then readiness, then what holds it
/// ([`Seen::hold`]).
pub fn assess(pod: &Pod, image: &str) -> PodState {
    let Some(seen) = Seen::read(pod, CONTAINER) else {
        return PodState::Waiting("Pending".into());
    };
    let (id, status, phase) = (&seen.id, seen.status, seen.phase);
    let failed = |kind, message: String, hint: &str| {
        PodState::Failed(ApplyError::new(kind, message, hint).about("Pod"))
    };
    if let Some(t) = seen.terminated() {
        return failed(
            ApplyErrorKind::ContainerFailed,
            format!(
                "the acmesolver in stand-in pod {id} ended with exit code {} ({})",
                t.exit_code,
                reason_text(
                    t.reason.as_deref().unwrap_or("Terminated"),
                    t.message.as_deref()
                )
            ),
            "look at the pod's events (kubectl describe pod); the image must be cert-manager's acmesolver",
        );
    }
    match phase {
        "Failed" | "Succeeded" => {
            let reason = status.reason.as_deref().unwrap_or(phase);
            let kind = if reason == "DeadlineExceeded" {
                ApplyErrorKind::Timeout
            } else {
                ApplyErrorKind::ContainerFailed
            };
            return failed(
                kind,
                format!(
                    "stand-in pod {id} is {phase} ({})",
                    reason_text(reason, status.message.as_deref())
                ),
                "run again; if it keeps happening, look at the node's events",
            );
        }
        "Running" if seen.container.is_some_and(|c| c.ready) => {
            return PodState::Ready {
                pod_ip: status.pod_ip.clone(),
                node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            };
        }
        _ => {}
    }
    match seen.hold(ALSO_REFUSED) {
        Hold::ImagePull { reason, message } => failed(
            ApplyErrorKind::ImagePull,
            format!(
                "the acmesolver image {image:?} cannot be pulled ({}); cert-manager's own solver pod uses the same image and cannot start either",
                reason_text(reason, message)
            ),
            "make the image pullable (mirror it and set --acme-http01-solver-image on the cert-manager controller), or add imagePullSecrets to the solver's podTemplate",
        ),
        Hold::Refused { reason, message } => failed(
            ApplyErrorKind::ContainerFailed,
            format!(
                "the acmesolver container of stand-in pod {id} does not start ({})",
                reason_text(reason, message)
            ),
            "cert-manager's solver pod is built the same way: check the solver's podTemplate securityContext and the --acme-http01-solver-run-as-non-root setting",
        ),
        Hold::Unschedulable { message } => failed(
            ApplyErrorKind::Unschedulable,
            format!(
                "stand-in pod {id} cannot be scheduled: {message}; cert-manager's solver pod has the same nodeSelector, tolerations and affinity"
            ),
            "fix the solver's podTemplate (nodeSelector, tolerations, affinity) or the nodes' capacity",
        ),
        Hold::OnItsWay(text) => PodState::Waiting(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "acmecheck-solver-x-0", "namespace": "shop"},
            "spec": {"nodeName": "node-a", "containers": []},
            "status": status,
        }))
        .unwrap()
    }

    fn container(state: serde_json::Value, ready: bool) -> serde_json::Value {
        json!([{"name": "acmesolver", "image": "i", "imageID": "", "ready": ready, "restartCount": 0, "state": state}])
    }

    fn kind(s: PodState) -> ApplyErrorKind {
        match s {
            PodState::Failed(e) => e.kind,
            other => panic!("not a failure: {other:?}"),
        }
    }

    #[test]
    fn waiting_then_ready() {
        assert_eq!(
            assess(&pod(json!(null)), "i"),
            PodState::Waiting("Pending".into())
        );
        assert_eq!(
            assess(
                &pod(
                    json!({"phase": "Pending", "containerStatuses": container(json!({"waiting": {"reason": "ContainerCreating"}}), false)})
                ),
                "i"
            ),
            PodState::Waiting("Pending (ContainerCreating)".into())
        );
        // Running but not (yet) ready: keep waiting.
        assert_eq!(
            assess(
                &pod(
                    json!({"phase": "Running", "containerStatuses": container(json!({"running": {}}), false)})
                ),
                "i"
            ),
            PodState::Waiting("Running".into())
        );
        assert_eq!(
            assess(
                &pod(
                    json!({"phase": "Running", "podIP": "198.51.100.100", "containerStatuses": container(json!({"running": {}}), true)})
                ),
                "i"
            ),
            PodState::Ready {
                pod_ip: Some("198.51.100.100".into()),
                node: Some("node-a".into())
            }
        );
    }

    #[test]
    fn states_that_will_not_get_better() {
        let pull = assess(
            &pod(
                json!({"phase": "Pending", "containerStatuses": container(json!({"waiting": {"reason": "ErrImagePull", "message": "not found"}}), false)}),
            ),
            "quay.io/jetstack/cert-manager-acmesolver:v1.19.1",
        );
        match &pull {
            PodState::Failed(e) => {
                assert!(e.message.contains("\"quay.io/jetstack/cert-manager-acmesolver:v1.19.1\" cannot be pulled (ErrImagePull: not found)"), "{}", e.message);
                assert!(e.also_hits_cert_manager());
            }
            other => panic!("{other:?}"),
        }
        let unsched = pod(
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available"}]}),
        );
        assert_eq!(kind(assess(&unsched, "i")), ApplyErrorKind::Unschedulable);
        let config = pod(
            json!({"phase": "Pending", "containerStatuses": container(json!({"waiting": {"reason": "CreateContainerConfigError", "message": "container has runAsNonRoot and image will run as root"}}), false)}),
        );
        assert_eq!(kind(assess(&config, "i")), ApplyErrorKind::ContainerFailed);
        let exited = pod(
            json!({"phase": "Running", "containerStatuses": container(json!({"terminated": {"exitCode": 1, "reason": "Error", "message": "bind: address already in use"}}), false)}),
        );
        match assess(&exited, "i") {
            PodState::Failed(e) => assert!(
                e.message
                    .ends_with("ended with exit code 1 (Error: bind: address already in use)"),
                "{}",
                e.message
            ),
            other => panic!("{other:?}"),
        }
        let deadline = pod(
            json!({"phase": "Failed", "reason": "DeadlineExceeded", "message": "Pod was active on the node longer than the specified deadline"}),
        );
        assert_eq!(kind(assess(&deadline, "i")), ApplyErrorKind::Timeout);
        let evicted = pod(
            json!({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."}),
        );
        assert_eq!(kind(assess(&evicted, "i")), ApplyErrorKind::ContainerFailed);
    }
}
