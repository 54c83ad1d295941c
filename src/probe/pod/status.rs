//! What one observed state of a pod says (pure), for the two kinds of pod this plugin watches:
//! the probe pod ([`super::lifecycle::assess`]) and the replay's stand-in solver pods
//! (`replay::podstate::assess`). Both read the same fields the same way: the container they
//! run, the kubelet's waiting reason (an image that cannot be pulled, a container the kubelet
//! will not start), the scheduler's `PodScheduled=False/Unschedulable`, and the progress text.
//! What an ended pod means differs (the probe pod runs to its end, a stand-in must keep
//! running), so each caller reads that itself; every message is the caller's own.

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateTerminated, ContainerStatus, Pod, PodStatus,
};

/// Waiting reasons of an image the kubelet cannot pull: it will not get better by waiting.
const IMAGE_PULL: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "RegistryUnavailable",
    "SignatureValidationFailed",
];

/// Waiting reasons of a container the kubelet will not start, for both kinds of pod; each
/// caller names its own further ones ([`Seen::hold`]).
const CONTAINER_REFUSED: &[&str] = &[
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// One observed state of a pod, with the container the caller watches.
#[derive(Debug)]
pub struct Seen<'a> {
    /// `namespace/name`, for the caller's messages.
    pub id: String,
    pub status: &'a PodStatus,
    /// `status.phase`, "Pending" until the kubelet sets it.
    pub phase: &'a str,
    /// The watched container's status, once the kubelet reports it.
    pub container: Option<&'a ContainerStatus>,
}

/// Why a pod that has not ended gets no further, or that it is still on its way.
#[derive(Debug, Clone, PartialEq)]
pub enum Hold<'a> {
    /// The container waits for an image that cannot be pulled.
    ImagePull {
        reason: &'a str,
        message: Option<&'a str>,
    },
    /// The kubelet will not start the container.
    Refused {
        reason: &'a str,
        message: Option<&'a str>,
    },
    /// The scheduler finds no node (its message, or "Unschedulable").
    Unschedulable { message: &'a str },
    /// Still on its way: the phase, with the container's waiting reason if it has one
    /// ("Pending (ContainerCreating)"), for the progress line.
    OnItsWay(String),
}

impl<'a> Seen<'a> {
    /// The pod as seen, watching the container named `container`; None while the pod has no
    /// status yet.
    pub fn read(pod: &'a Pod, container: &str) -> Option<Seen<'a>> {
        let status = pod.status.as_ref()?;
        Some(Seen {
            id: format!(
                "{}/{}",
                pod.metadata.namespace.as_deref().unwrap_or(""),
                pod.metadata.name.as_deref().unwrap_or("")
            ),
            status,
            phase: status.phase.as_deref().unwrap_or("Pending"),
            container: status
                .container_statuses
                .iter()
                .flatten()
                .find(|c| c.name == container),
        })
    }

    /// The watched container's state.
    pub fn state(&self) -> Option<&'a ContainerState> {
        self.container.and_then(|c| c.state.as_ref())
    }

    /// The watched container's end, if it ended.
    pub fn terminated(&self) -> Option<&'a ContainerStateTerminated> {
        self.state().and_then(|s| s.terminated.as_ref())
    }

    /// For a pod the caller has found not ended: what holds it, in this order: the
    /// container's waiting reason (an image pull, then a refusal: [`CONTAINER_REFUSED`] and
    /// the caller's `also_refused`), the scheduler, else it is on its way.
    pub fn hold(&self, also_refused: &[&str]) -> Hold<'a> {
        let waiting = self.state().and_then(|s| s.waiting.as_ref());
        if let Some(w) = waiting {
            let reason = w.reason.as_deref().unwrap_or("");
            let message = w.message.as_deref();
            if IMAGE_PULL.contains(&reason) {
                return Hold::ImagePull { reason, message };
            }
            if CONTAINER_REFUSED.contains(&reason) || also_refused.contains(&reason) {
                return Hold::Refused { reason, message };
            }
        }
        let unschedulable = self.status.conditions.iter().flatten().find(|c| {
            c.type_ == "PodScheduled"
                && c.status == "False"
                && c.reason.as_deref() == Some("Unschedulable")
        });
        if let Some(c) = unschedulable {
            return Hold::Unschedulable {
                message: c.message.as_deref().unwrap_or("Unschedulable"),
            };
        }
        Hold::OnItsWay(match waiting.and_then(|w| w.reason.as_deref()) {
            Some(d) => format!("{} ({d})", self.phase),
            None => self.phase.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "status": status,
        }))
        .unwrap()
    }

    /// A pod whose container `name` waits with `waiting` (reason, message).
    fn waiting(name: &str, waiting: serde_json::Value, extra: serde_json::Value) -> Pod {
        let mut status = json!({"phase": "Pending", "containerStatuses": [{"name": name, "image": "i", "imageID": "", "ready": false, "restartCount": 0, "state": {"waiting": waiting}}]});
        if let (Some(s), Some(e)) = (status.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        pod(status)
    }

    #[test]
    fn the_watched_container_and_its_end() {
        assert!(Seen::read(&pod(json!(null)), "c").is_none());
        let p = pod(json!({"containerStatuses": [
            {"name": "other", "image": "i", "imageID": "", "ready": true, "restartCount": 0, "state": {"running": {}}},
            {"name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 3}}},
        ]}));
        let seen = Seen::read(&p, "c").unwrap();
        assert_eq!((seen.id.as_str(), seen.phase), ("ns/p", "Pending"));
        assert_eq!(seen.terminated().map(|t| t.exit_code), Some(3));
        let other = Seen::read(&p, "other").unwrap();
        assert!(other.terminated().is_none());
        assert!(Seen::read(&p, "absent").unwrap().container.is_none());
    }

    #[test]
    fn what_holds_a_pod_that_has_not_ended() {
        let no_node = json!({"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]});
        let none = json!({});
        let pull = json!({"reason": "ImagePullBackOff", "message": "Back-off"});
        let crash = json!({"reason": "CrashLoopBackOff"});
        let cases: Vec<(&str, Pod, &[&str], Hold)> = vec![
            (
                "an image pull",
                waiting("c", pull, none.clone()),
                &[],
                Hold::ImagePull {
                    reason: "ImagePullBackOff",
                    message: Some("Back-off"),
                },
            ),
            (
                "a shared refusal",
                waiting("c", json!({"reason": "RunContainerError"}), none.clone()),
                &[],
                Hold::Refused {
                    reason: "RunContainerError",
                    message: None,
                },
            ),
            (
                "the caller's own refusal",
                waiting("c", crash.clone(), none.clone()),
                &["CrashLoopBackOff"],
                Hold::Refused {
                    reason: "CrashLoopBackOff",
                    message: None,
                },
            ),
            (
                "another caller's refusal",
                waiting("c", crash, none.clone()),
                &[],
                Hold::OnItsWay("Pending (CrashLoopBackOff)".into()),
            ),
            (
                "another container's waiting reason",
                waiting("x", json!({"reason": "ErrImagePull"}), none.clone()),
                &[],
                Hold::OnItsWay("Pending".into()),
            ),
            (
                "no node",
                waiting("c", json!({}), no_node.clone()),
                &[],
                Hold::Unschedulable {
                    message: "Unschedulable",
                },
            ),
            (
                "the waiting reason before the scheduler",
                waiting("c", json!({"reason": "ErrImagePull"}), no_node),
                &[],
                Hold::ImagePull {
                    reason: "ErrImagePull",
                    message: None,
                },
            ),
            (
                "on its way",
                waiting("c", json!({"reason": "ContainerCreating"}), none),
                &[],
                Hold::OnItsWay("Pending (ContainerCreating)".into()),
            ),
            (
                "running",
                pod(json!({"phase": "Running"})),
                &[],
                Hold::OnItsWay("Running".into()),
            ),
        ];
        for (what, pod, also_refused, want) in &cases {
            let seen = Seen::read(pod, "c").unwrap();
            assert_eq!(&seen.hold(also_refused), want, "{what}");
        }
    }
}
