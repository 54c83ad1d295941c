//! Where the probe pod goes and what it looks like (pure: evidence and options in, a Pod out).
//!
//! Placement copies the self check's vantage: cert-manager's namespace, the controller's node
//! (exact when known, else a preferred pod affinity to the controller's pods), and the controller pod's `dnsPolicy`/`dnsConfig`/`hostAliases` (its proxy
//! environment and `--acme-http01-solver-nameservers` travel in the plan instead). The pod itself
//! passes the Pod Security `restricted` profile, so every namespace admits it.

use super::{APP, COMPONENT, COMPONENT_LABEL, CONTAINER, PodOptions, RUN_ID_LABEL, pod_name};
use crate::evidence::{CertManagerEvidence, CertificateEvidence, ClusterEvidence};
use crate::probe::incluster::Placement;
use crate::probe::targets::probe_candidates;
use k8s_openapi::api::core::v1::{
    Affinity, Capabilities, Container, HostAlias, LocalObjectReference, Pod, PodAffinity,
    PodAffinityTerm, PodDNSConfig, PodSecurityContext, PodSpec, ResourceRequirements,
    SeccompProfile, SecurityContext, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::ObjectMeta;
use std::collections::BTreeMap;

/// The uid/gid the probe runs as (distroless "nonroot"; the image's `USER`).
pub const PROBE_UID: i64 = 65532;

/// Where to create the pod first, and where to go when creating there is forbidden.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementPlan {
    pub primary: Placement,
    /// The Certificate's namespace, when the primary is cert-manager's and differs from it.
    pub fallback: Option<Placement>,
}

/// The namespace of the first certificate that has a challenge to probe.
fn certificate_namespace(certs: &[CertificateEvidence]) -> Option<&str> {
    certs
        .iter()
        .find(|c| probe_candidates(c).next().is_some())
        .or(certs.first())
        .map(|c| c.namespace.as_str())
}

/// Decide where the probe pod runs (see the module docs). `--probe-namespace` wins; then
/// cert-manager's namespace with the Certificate's as the fallback on a 403; then the
/// Certificate's namespace when the controller was not found.
pub fn placement(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    opts: &PodOptions,
    run_id: &str,
) -> PlacementPlan {
    let cm = cluster.cert_manager.as_ref();
    let (node, node_why) = match (&opts.node, cm.and_then(|c| c.node_name.as_ref())) {
        (Some(n), _) => (Some(n.clone()), format!(", on node {n} (--probe-node)")),
        (None, Some(n)) => (Some(n.clone()), format!(", on the controller's node {n}")),
        (None, None) if near_controller(cm).is_some() => (
            None,
            ", preferably on the controller's node (pod affinity)".to_owned(),
        ),
        (None, None) => (None, String::new()),
    };
    let cert_ns = certificate_namespace(certs).unwrap_or("default").to_owned();
    let at = |namespace: &str, why: String| Placement {
        namespace: namespace.to_owned(),
        pod: pod_name(run_id),
        node: node.clone(),
        why: format!("{why}{node_why}"),
    };
    if let Some(ns) = &opts.namespace {
        return PlacementPlan {
            primary: at(ns, "--probe-namespace".into()),
            fallback: None,
        };
    }
    match cm.filter(|c| !c.namespace.is_empty()) {
        Some(c) => PlacementPlan {
            primary: at(
                &c.namespace,
                format!(
                    "cert-manager's namespace {:?}, like the self check",
                    c.namespace
                ),
            ),
            fallback: (c.namespace != cert_ns).then(|| {
                at(
                    &cert_ns,
                    format!(
                        "the Certificate's namespace {cert_ns:?}: creating pods in cert-manager's namespace {:?} is forbidden",
                        c.namespace
                    ),
                )
            }),
        },
        None => PlacementPlan {
            primary: at(
                &cert_ns,
                format!(
                    "the Certificate's namespace {cert_ns:?}: the cert-manager controller was not found"
                ),
            ),
            fallback: None,
        },
    }
}

/// Ask the scheduler to prefer the node of a cert-manager controller pod (its Deployment's
/// selector), so the probe shares the self check's node-level view (hairpin, node-local DNS)
/// without a request to find the controller's pod. Preferred, not required: a full node must not
/// keep the probe from running.
fn near_controller(cm: Option<&CertManagerEvidence>) -> Option<Affinity> {
    let cm = cm.filter(|c| !c.pod_labels.is_empty() && !c.namespace.is_empty())?;
    Some(Affinity {
        pod_affinity: Some(PodAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![
                WeightedPodAffinityTerm {
                    weight: 100,
                    pod_affinity_term: PodAffinityTerm {
                        label_selector: Some(LabelSelector {
                            match_labels: Some(cm.pod_labels.clone()),
                            match_expressions: None,
                        }),
                        namespaces: Some(vec![cm.namespace.clone()]),
                        topology_key: "kubernetes.io/hostname".to_owned(),
                        ..Default::default()
                    },
                },
            ]),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn quantities(cpu: &str, memory: &str) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".to_owned(), Quantity(cpu.to_owned())),
        ("memory".to_owned(), Quantity(memory.to_owned())),
    ])
}

/// Labels every probe pod carries (the managed-by label is what `cleanup` and the watch select;
/// the component label tells probe pods from the replay's stand-in solver pods).
pub fn labels(run_id: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), APP.to_owned()),
        ("app.kubernetes.io/managed-by".to_owned(), APP.to_owned()),
        (COMPONENT_LABEL.to_owned(), COMPONENT.to_owned()),
        (RUN_ID_LABEL.to_owned(), run_id.to_owned()),
    ])
}

/// Keep service-mesh sidecars out: an injected proxy would change the network path (and keep
/// the pod from ever completing). The evidence does not say whether the cert-manager controller
/// pod itself has a sidecar (only its Deployment's container, args and env are gathered), so we
/// cannot copy that; we always keep sidecars out, which matches the default cert-manager install.
fn annotations() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("sidecar.istio.io/inject".to_owned(), "false".to_owned()),
        ("linkerd.io/inject".to_owned(), "disabled".to_owned()),
    ])
}

/// The largest single argument passed to the container (Linux refuses to exec with one longer
/// than `MAX_ARG_STRLEN`, 128 KiB); a longer plan goes in several `--plan-json` values.
pub const MAX_ARG_BYTES: usize = 96 << 10;

/// `text` in parts of at most `max` bytes, cut at character boundaries.
pub fn split_arg(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        parts.push(rest[..cut].to_owned());
        rest = &rest[cut..];
    }
    parts.push(rest.to_owned());
    parts
}

/// The probe pod for one run: `plan_json` goes in the container's `--plan-json` argument(s).
pub fn pod(
    plan_json: &str,
    placement: &Placement,
    opts: &PodOptions,
    run_id: &str,
    cm: Option<&CertManagerEvidence>,
) -> Pod {
    let deadline = i64::try_from(opts.timeout.as_secs().max(1)).unwrap_or(i64::MAX);
    // The controller's DNS settings (malformed values from the cluster are left out).
    let dns_config = cm
        .and_then(|c| c.dns_config.clone())
        .and_then(|v| serde_json::from_value::<PodDNSConfig>(v).ok());
    let host_aliases = cm
        .and_then(|c| c.host_aliases.clone())
        .and_then(|v| serde_json::from_value::<Vec<HostAlias>>(v).ok())
        .filter(|h| !h.is_empty());
    let seccomp = || {
        Some(SeccompProfile {
            type_: "RuntimeDefault".to_owned(),
            localhost_profile: None,
        })
    };
    let container = Container {
        name: CONTAINER.to_owned(),
        image: Some(opts.image.clone()),
        args: Some(
            ["probe", "--plan-json"]
                .map(str::to_owned)
                .into_iter()
                .chain(split_arg(plan_json, MAX_ARG_BYTES))
                .collect(),
        ),
        resources: Some(ResourceRequirements {
            requests: Some(quantities("50m", "32Mi")),
            limits: Some(quantities("500m", "128Mi")),
            ..Default::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_owned()]),
                add: None,
            }),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(PROBE_UID),
            run_as_group: Some(PROBE_UID),
            seccomp_profile: seccomp(),
            ..Default::default()
        }),
        termination_message_policy: Some("FallbackToLogsOnError".to_owned()),
        ..Default::default()
    };
    Pod {
        metadata: ObjectMeta {
            name: Some(placement.pod.clone()),
            namespace: Some(placement.namespace.clone()),
            labels: Some(labels(run_id)),
            annotations: Some(annotations()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![container],
            restart_policy: Some("Never".to_owned()),
            active_deadline_seconds: Some(deadline),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            termination_grace_period_seconds: Some(0),
            // Through the scheduler (not spec.nodeName), so a wrong --probe-node or a full node
            // is reported with the scheduler's message instead of a pod that never starts.
            node_selector: placement
                .node
                .as_ref()
                .map(|n| BTreeMap::from([("kubernetes.io/hostname".to_owned(), n.clone())])),
            // A node given (--probe-node, or the controller's when known) is exact; otherwise
            // prefer the controller's node.
            affinity: placement
                .node
                .is_none()
                .then(|| near_controller(cm))
                .flatten(),
            dns_policy: cm.and_then(|c| c.dns_policy.clone()),
            dns_config,
            host_aliases,
            image_pull_secrets: (!opts.image_pull_secrets.is_empty()).then(|| {
                opts.image_pull_secrets
                    .iter()
                    .map(|s| LocalObjectReference { name: s.clone() })
                    .collect()
            }),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(PROBE_UID),
                run_as_group: Some(PROBE_UID),
                seccomp_profile: seccomp(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::time::Duration;

    fn cm() -> CertManagerEvidence {
        CertManagerEvidence {
            namespace: "cert-manager".into(),
            deployment: "cert-manager".into(),
            dns_policy: Some("None".into()),
            dns_config: Some(
                json!({"nameservers": ["192.0.2.53"], "searches": ["svc.cluster.local"], "options": [{"name": "ndots", "value": "2"}]}),
            ),
            host_aliases: Some(json!([{"ip": "192.0.2.10", "hostnames": ["web.example.com"]}])),
            node_name: Some("node-b".into()),
            ..Default::default()
        }
    }

    fn cert(ns: &str) -> CertificateEvidence {
        serde_json::from_value(json!({"namespace": ns, "name": "web"})).unwrap()
    }

    fn cluster(cm: Option<CertManagerEvidence>) -> ClusterEvidence {
        ClusterEvidence {
            cert_manager: cm,
            ..Default::default()
        }
    }

    #[test]
    fn cert_managers_namespace_and_node_by_default_with_the_certificates_as_fallback() {
        let p = placement(
            &[cert("shop")],
            &cluster(Some(cm())),
            &PodOptions::default(),
            "abc",
        );
        assert_eq!(p.primary.namespace, "cert-manager");
        assert_eq!(p.primary.pod, "acmecheck-probe-abc");
        assert_eq!(p.primary.node.as_deref(), Some("node-b"));
        assert_eq!(
            p.primary.why,
            "cert-manager's namespace \"cert-manager\", like the self check, on the controller's node node-b"
        );
        let f = p.fallback.unwrap();
        assert_eq!(f.namespace, "shop");
        assert!(
            f.why.contains(
                "creating pods in cert-manager's namespace \"cert-manager\" is forbidden"
            ),
            "{}",
            f.why
        );
    }

    #[test]
    fn flags_override_namespace_and_node() {
        let opts = PodOptions {
            namespace: Some("probes".into()),
            node: Some("node-z".into()),
            ..Default::default()
        };
        let p = placement(&[cert("shop")], &cluster(Some(cm())), &opts, "abc");
        assert_eq!(p.primary.namespace, "probes");
        assert_eq!(p.primary.node.as_deref(), Some("node-z"));
        assert_eq!(
            p.primary.why,
            "--probe-namespace, on node node-z (--probe-node)"
        );
        assert_eq!(p.fallback, None);
    }

    #[test]
    fn without_a_controller_the_certificates_namespace() {
        let p = placement(
            &[cert("shop")],
            &cluster(None),
            &PodOptions::default(),
            "abc",
        );
        assert_eq!(p.primary.namespace, "shop");
        assert_eq!(p.primary.node, None);
        assert!(p.primary.why.contains("controller was not found"));
        assert_eq!(p.fallback, None);
        // Same namespace as cert-manager: nothing to fall back to.
        let p = placement(
            &[cert("cert-manager")],
            &cluster(Some(cm())),
            &PodOptions::default(),
            "abc",
        );
        assert_eq!(p.fallback, None);
    }

    #[test]
    fn prefers_the_controllers_node_by_pod_affinity_when_its_node_is_unknown() {
        let c = CertManagerEvidence {
            node_name: None,
            pod_labels: BTreeMap::from([
                (
                    "app.kubernetes.io/name".to_owned(),
                    "cert-manager".to_owned(),
                ),
                (
                    "app.kubernetes.io/component".to_owned(),
                    "controller".to_owned(),
                ),
            ]),
            ..cm()
        };
        let opts = PodOptions::default();
        let p = placement(&[cert("shop")], &cluster(Some(c.clone())), &opts, "r1");
        assert_eq!(p.primary.node, None);
        assert!(
            p.primary
                .why
                .ends_with(", preferably on the controller's node (pod affinity)"),
            "{}",
            p.primary.why
        );
        let v = spec_json(&opts, Some(&c));
        assert_eq!(v["spec"].get("nodeSelector"), None);
        assert_eq!(
            v["spec"]["affinity"],
            json!({"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                "weight": 100,
                "podAffinityTerm": {
                    "labelSelector": {"matchLabels": {
                        "app.kubernetes.io/name": "cert-manager",
                        "app.kubernetes.io/component": "controller"}},
                    "namespaces": ["cert-manager"],
                    "topologyKey": "kubernetes.io/hostname"
                }
            }]}})
        );
        // An explicit node wins: no affinity next to the nodeSelector.
        let opts = PodOptions {
            node: Some("node-z".into()),
            ..Default::default()
        };
        let v = spec_json(&opts, Some(&c));
        assert_eq!(v["spec"].get("affinity"), None);
        assert_eq!(
            v["spec"]["nodeSelector"],
            json!({"kubernetes.io/hostname": "node-z"})
        );
    }

    fn spec_json(opts: &PodOptions, cm: Option<&CertManagerEvidence>) -> Value {
        let p = placement(&[cert("shop")], &cluster(cm.cloned()), opts, "r1");
        serde_json::to_value(pod("{\"plan\":1}", &p.primary, opts, "r1", cm)).unwrap()
    }

    #[test]
    fn pod_spec_field_by_field() {
        let opts = PodOptions {
            image: "registry.example/acmecheck-probe:v9".into(),
            image_pull_secrets: vec!["regcred".into(), "mirror".into()],
            timeout: Duration::from_secs(90),
            ..Default::default()
        };
        let c = cm();
        let v = spec_json(&opts, Some(&c));
        let m = &v["metadata"];
        assert_eq!(m["name"], "acmecheck-probe-r1");
        assert_eq!(m["namespace"], "cert-manager");
        assert_eq!(
            m["labels"],
            json!({"app.kubernetes.io/name": "kubectl-acmecheck", "app.kubernetes.io/managed-by": "kubectl-acmecheck", "app.kubernetes.io/component": "probe", "acmecheck.io/run-id": "r1"})
        );
        assert_eq!(
            m["annotations"],
            json!({"sidecar.istio.io/inject": "false", "linkerd.io/inject": "disabled"})
        );
        let s = &v["spec"];
        assert_eq!(s["restartPolicy"], "Never");
        assert_eq!(s["activeDeadlineSeconds"], 90);
        assert_eq!(s["automountServiceAccountToken"], false);
        assert_eq!(s["enableServiceLinks"], false);
        assert_eq!(
            s["nodeSelector"],
            json!({"kubernetes.io/hostname": "node-b"})
        );
        assert_eq!(s.get("nodeName"), None);
        assert_eq!(s["dnsPolicy"], "None");
        assert_eq!(s["dnsConfig"], c.dns_config.clone().unwrap());
        assert_eq!(s["hostAliases"], c.host_aliases.clone().unwrap());
        assert_eq!(
            s["imagePullSecrets"],
            json!([{"name": "regcred"}, {"name": "mirror"}])
        );
        assert_eq!(
            s["securityContext"],
            json!({"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}})
        );
        let containers = s["containers"].as_array().unwrap();
        assert_eq!(containers.len(), 1);
        let k = &containers[0];
        assert_eq!(k["name"], "probe");
        assert_eq!(k["image"], "registry.example/acmecheck-probe:v9");
        assert_eq!(k.get("command"), None);
        assert_eq!(k["args"], json!(["probe", "--plan-json", "{\"plan\":1}"]));
        assert_eq!(k["terminationMessagePolicy"], "FallbackToLogsOnError");
        assert_eq!(
            k["resources"],
            json!({"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}})
        );
        assert_eq!(
            k["securityContext"],
            json!({
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]},
                "privileged": false,
                "readOnlyRootFilesystem": true,
                "runAsNonRoot": true,
                "runAsUser": 65532,
                "runAsGroup": 65532,
                "seccompProfile": {"type": "RuntimeDefault"}
            })
        );
        assert_eq!(k.get("env"), None);
        assert_eq!(s.get("volumes"), None);
    }

    #[test]
    fn large_plans_go_in_parts_cut_at_characters() {
        assert_eq!(split_arg("abc", 5), ["abc"]);
        assert_eq!(split_arg("abcdef", 3), ["abc", "def"]);
        assert_eq!(split_arg("aé€x", 3), ["aé", "€", "x"]);
        let plan = format!("{{\"x\":\"{}\"}}", "é".repeat(MAX_ARG_BYTES));
        let p = placement(&[cert("shop")], &cluster(None), &PodOptions::default(), "r");
        let v = serde_json::to_value(pod(&plan, &p.primary, &PodOptions::default(), "r", None))
            .unwrap();
        let args: Vec<String> =
            serde_json::from_value(v["spec"]["containers"][0]["args"].clone()).unwrap();
        assert_eq!(args.len(), 5);
        assert!(args[2..].iter().all(|a| a.len() <= MAX_ARG_BYTES));
        assert_eq!(args[2..].concat(), plan);
    }

    #[test]
    fn defaults_without_controller_settings() {
        let v = spec_json(&PodOptions::default(), None);
        let s = &v["spec"];
        assert_eq!(s["activeDeadlineSeconds"], 120);
        for absent in [
            "nodeName",
            "nodeSelector",
            "dnsPolicy",
            "dnsConfig",
            "hostAliases",
            "imagePullSecrets",
        ] {
            assert_eq!(s.get(absent), None, "{absent}");
        }
        assert_eq!(
            s["containers"][0]["image"],
            crate::image::DEFAULT_PROBE_IMAGE
        );
        // Malformed DNS settings from the cluster are dropped, not passed on.
        let bad = CertManagerEvidence {
            dns_config: Some(json!("nonsense")),
            host_aliases: Some(json!({"ip": 1})),
            ..cm()
        };
        let v = spec_json(&PodOptions::default(), Some(&bad));
        assert_eq!(v["spec"].get("dnsConfig"), None);
        assert_eq!(v["spec"].get("hostAliases"), None);
    }

    /// Every check of the Pod Security `restricted` profile, as the fake API server's admission
    /// (a port of k8s.io/pod-security-admission/policy) evaluates it at the latest version.
    fn restricted_violations(pod: &Value) -> Vec<String> {
        use acmecheck_testkit::fakeapi::{PodSecurityLevel, pod_security_evaluate};
        pod_security_evaluate(pod, PodSecurityLevel::Restricted, u32::MAX)
            .into_iter()
            .map(|v| format!("{}: {}", v.reason, v.detail))
            .collect()
    }

    #[test]
    fn the_pod_passes_every_restricted_check() {
        let c = cm();
        let v = spec_json(&PodOptions::default(), Some(&c));
        assert_eq!(restricted_violations(&v), Vec::<String>::new());
        // readOnlyRootFilesystem is not a PSS rule but is asked for.
        assert_eq!(
            v["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"],
            true
        );
        // The checker itself catches each weakening.
        let weakened: &[(&str, Value)] = &[
            (
                "/spec/containers/0/securityContext/allowPrivilegeEscalation",
                json!(true),
            ),
            (
                "/spec/containers/0/securityContext/capabilities/drop",
                json!([]),
            ),
            (
                "/spec/containers/0/securityContext/runAsNonRoot",
                json!(false),
            ),
            (
                "/spec/containers/0/securityContext/seccompProfile/type",
                json!("Unconfined"),
            ),
            ("/spec/containers/0/securityContext/privileged", json!(true)),
            ("/spec/containers/0/securityContext/runAsUser", json!(0)),
            ("/spec/hostNetwork", json!(true)),
        ];
        for (path, value) in weakened {
            let mut w = v.clone();
            let (parent, key) = path.rsplit_once('/').unwrap();
            w.pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .unwrap()
                .insert(key.to_owned(), value.clone());
            assert!(!restricted_violations(&w).is_empty(), "{path} not caught");
        }
    }
}
