//! Pod semantics of the API server itself (not the kubelet): what a POST
//! does to a pod (defaulting and the status reset of `PrepareForCreate`),
//! which container `pods/log` reads and when it refuses, and the cells of
//! `kubectl get pods` (the printer's READY / STATUS / RESTARTS logic).

use serde_json::{Map, Value, json};

use super::status::{self, ApiError};
use super::util::{array_at, str_at};

/// Sets `obj[key] = value` when the key is absent or null.
fn default_key(obj: &mut Map<String, Value>, key: &str, value: Value) {
    if obj.get(key).is_none_or(Value::is_null) {
        obj.insert(key.into(), value);
    }
}

/// `imagePullPolicy` default: `Always` for `:latest` or untagged images,
/// `IfNotPresent` otherwise (digests count as tagged).
fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn default_container(c: &mut Value) {
    let Some(m) = c.as_object_mut() else { return };
    let image = m
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    default_key(m, "terminationMessagePath", json!("/dev/termination-log"));
    default_key(m, "terminationMessagePolicy", json!("File"));
    default_key(m, "imagePullPolicy", json!(pull_policy(&image)));
    default_key(m, "resources", json!({}));
    // Requests default to the limits when only limits are given.
    if let Some(res) = m.get_mut("resources").and_then(Value::as_object_mut)
        && let Some(limits) = res.get("limits").and_then(Value::as_object).cloned()
    {
        let req = res
            .entry("requests")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(req) = req {
            for (k, v) in limits {
                req.entry(k).or_insert(v);
            }
        }
    }
    if let Some(ports) = m.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            default_key(p, "protocol", json!("TCP"));
        }
    }
}

/// The pod's QoS class from its (defaulted) containers' resources.
pub fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = array_at(pod, "/spec/containers")
        .iter()
        .chain(array_at(pod, "/spec/initContainers"))
        .collect();
    let get = |c: &Value, kind: &str, res: &str| {
        c.pointer(&format!("/resources/{kind}/{res}"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                c.pointer(&format!("/resources/{kind}/{res}"))
                    .filter(|v| v.is_number())
                    .map(Value::to_string)
            })
    };
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in &containers {
        for res in ["cpu", "memory"] {
            let (req, lim) = (get(c, "requests", res), get(c, "limits", res));
            any |= req.is_some() || lim.is_some();
            if lim.is_none() || req.as_ref().is_some_and(|r| Some(r) != lim.as_ref()) {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// What kube-apiserver does to a pod on create before storing it: the
/// defaults of `SetDefaults_Pod`/`PodSpec`/`Container`, the ServiceAccount,
/// Priority and DefaultTolerationSeconds admission plugins (without the
/// projected token volume), and the status reset of `PrepareForCreate`
/// (`{phase: Pending, qosClass}`).
pub fn prepare_for_create(pod: &mut Value) {
    if !pod.is_object() {
        return;
    }
    if !pod.get("spec").is_some_and(Value::is_object) {
        pod["spec"] = json!({});
    }
    if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
        default_key(spec, "restartPolicy", json!("Always"));
        default_key(spec, "terminationGracePeriodSeconds", json!(30));
        default_key(spec, "dnsPolicy", json!("ClusterFirst"));
        default_key(spec, "securityContext", json!({}));
        default_key(spec, "schedulerName", json!("default-scheduler"));
        default_key(spec, "enableServiceLinks", json!(true));
        default_key(spec, "serviceAccountName", json!("default"));
        let sa = spec.get("serviceAccountName").cloned().unwrap_or_default();
        default_key(spec, "serviceAccount", sa);
        default_key(spec, "priority", json!(0));
        default_key(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
        let tolerations = spec
            .entry("tolerations")
            .or_insert_with(|| json!([]))
            .as_array_mut();
        if let Some(t) = tolerations {
            for key in [
                "node.kubernetes.io/not-ready",
                "node.kubernetes.io/unreachable",
            ] {
                if !t
                    .iter()
                    .any(|x| x.get("key").and_then(Value::as_str) == Some(key))
                {
                    t.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
                }
            }
        }
        for list in ["containers", "initContainers"] {
            if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
                cs.iter_mut().for_each(default_container);
            }
        }
    }
    let qos = qos_class(pod);
    pod["status"] = json!({"phase": "Pending", "qosClass": qos});
}

/// Graceful deletion period the API server applies to a pod
/// (`podStrategy.CheckGracefulDelete`): the request's value, else
/// `terminationGracePeriodSeconds` (defaulted to 30); 0 when the pod is not
/// bound to a node or is already Succeeded/Failed.
pub fn grace_period(pod: &Value, requested: Option<i64>) -> i64 {
    let period = requested
        .or_else(|| {
            pod.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(30)
        .max(0);
    let phase = str_at(pod, "/status/phase");
    if str_at(pod, "/spec/nodeName").is_empty() || phase == "Succeeded" || phase == "Failed" {
        0
    } else {
        period
    }
}

/// What `pods/log` serves for a pod.
#[derive(Debug, PartialEq, Eq)]
pub enum LogSource {
    /// The stored log text.
    Stored,
    /// An empty body (the pod is not bound to a node yet).
    Empty,
}

fn container_names(pod: &Value) -> Vec<&str> {
    ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .flat_map(|l| array_at(pod, &format!("/spec/{l}")))
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect()
}

/// 400 from `pods/log` in the shape the API server relays from the kubelet.
fn log_error(pod_name: &str, message: String) -> ApiError {
    ApiError {
        code: 400,
        reason: "BadRequest",
        message,
        details: json!({"name": pod_name, "kind": "pods/log"}),
    }
}

/// Which container a `pods/log` request reads (`LogLocation`): the named
/// one, or the only one; 400 when the name is wrong or ambiguous.
pub fn log_container(pod: &Value, requested: Option<&str>) -> Result<String, ApiError> {
    let name = str_at(pod, "/metadata/name");
    let all = container_names(pod);
    match requested.filter(|c| !c.is_empty()) {
        Some(c) if all.contains(&c) => Ok(c.to_string()),
        Some(c) => Err(status::bad_request(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None => {
            let main: Vec<&str> = array_at(pod, "/spec/containers")
                .iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str))
                .collect();
            match main.as_slice() {
                [one] => Ok(one.to_string()),
                [] => Ok(String::new()),
                many => Err(status::bad_request(format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    many.join(" ")
                ))),
            }
        }
    }
}

/// The kubelet's `validateContainerLogStatus`: may the logs of `container`
/// be read in the pod's current state?
pub fn log_source(pod: &Value, container: &str, previous: bool) -> Result<LogSource, ApiError> {
    let name = str_at(pod, "/metadata/name");
    if str_at(pod, "/spec/nodeName").is_empty() {
        return Ok(LogSource::Empty);
    }
    let cs = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .flat_map(|l| array_at(pod, &format!("/status/{l}")))
        .find(|s| s.get("name").and_then(Value::as_str) == Some(container));
    let Some(cs) = cs else {
        return Err(log_error(
            name,
            format!("container {container:?} in pod {name:?} is not available"),
        ));
    };
    let last_id = str_at(cs, "/lastState/terminated/containerID");
    if previous {
        if last_id.is_empty() {
            return Err(log_error(
                name,
                format!("previous terminated container {container:?} in pod {name:?} not found"),
            ));
        }
        return Ok(LogSource::Stored);
    }
    let state = cs.get("state").cloned().unwrap_or_default();
    if state.get("running").is_some() {
        return Ok(LogSource::Stored);
    }
    if let Some(t) = state.get("terminated") {
        if !str_at(t, "/containerID").is_empty() || !last_id.is_empty() {
            return Ok(LogSource::Stored);
        }
        return Err(log_error(
            name,
            format!("container {container:?} in pod {name:?} is terminated"),
        ));
    }
    if let Some(w) = state.get("waiting") {
        let why = match str_at(w, "/reason") {
            "ErrImagePull" => "image can't be pulled".to_string(),
            "ImagePullBackOff" => "trying and failing to pull image".to_string(),
            other => other.to_string(),
        };
        return Err(log_error(
            name,
            format!("container {container:?} in pod {name:?} is waiting to start: {why}"),
        ));
    }
    Err(log_error(
        name,
        format!("container {container:?} in pod {name:?} is waiting to start - no logs yet"),
    ))
}

/// `kubectl get pods` cells (READY, STATUS, RESTARTS), following the
/// kubectl/kube-apiserver pod printer for pods without init containers.
pub fn printer_cells(pod: &Value) -> (String, String, String) {
    let total = array_at(pod, "/spec/containers").len();
    let phase = str_at(pod, "/status/phase");
    let mut reason = match str_at(pod, "/status/reason") {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    let (mut ready, mut restarts, mut has_running) = (0, 0, false);
    for c in array_at(pod, "/status/containerStatuses").iter().rev() {
        restarts += c.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
        let waiting = str_at(c, "/state/waiting/reason");
        let term = c.pointer("/state/terminated");
        if !waiting.is_empty() {
            reason = waiting.to_string();
        } else if let Some(t) = term {
            reason = match str_at(t, "/reason") {
                "" => match t.get("signal").and_then(Value::as_i64) {
                    Some(s) if s != 0 => format!("Signal:{s}"),
                    _ => format!(
                        "ExitCode:{}",
                        t.get("exitCode").and_then(Value::as_i64).unwrap_or(0)
                    ),
                },
                r => r.to_string(),
            };
        } else if c.get("ready").and_then(Value::as_bool) == Some(true)
            && c.pointer("/state/running").is_some()
        {
            has_running = true;
            ready += 1;
        }
    }
    if reason == "Completed" && has_running {
        reason = "Running".into();
    }
    let terminal = phase == "Succeeded" || phase == "Failed";
    if pod.pointer("/metadata/deletionTimestamp").is_some() && !terminal {
        reason = "Terminating".into();
    }
    (format!("{ready}/{total}"), reason, restarts.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_status_reset() {
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "c", "image": "x/y:v1", "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}]},
            "status": {"phase": "Running"}});
        prepare_for_create(&mut pod);
        assert_eq!(
            pod["status"],
            json!({"phase": "Pending", "qosClass": "Guaranteed"})
        );
        assert_eq!(pod["spec"]["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod["spec"]["restartPolicy"], "Always");
        assert_eq!(
            pod["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        assert_eq!(
            pod["spec"]["containers"][0]["resources"]["requests"]["cpu"],
            "100m"
        );
        assert_eq!(pod["spec"]["tolerations"].as_array().unwrap().len(), 2);
        assert_eq!(pull_policy("busybox"), "Always");
        assert_eq!(pull_policy("localhost:5000/busybox"), "Always");
        assert_eq!(pull_policy("busybox:latest"), "Always");
        assert_eq!(pull_policy("r/busybox@sha256:00"), "IfNotPresent");
        let mut be = json!({"spec": {"containers": [{"name": "c", "image": "i:1"}]}});
        prepare_for_create(&mut be);
        assert_eq!(be["status"]["qosClass"], "BestEffort");
        let mut bu = json!({"spec": {"containers": [{"name": "c", "image": "i:1",
            "resources": {"requests": {"cpu": "10m"}}}]}});
        prepare_for_create(&mut bu);
        assert_eq!(bu["status"]["qosClass"], "Burstable");
    }

    #[test]
    fn graceful_period_rules() {
        let running = json!({"spec": {"nodeName": "n", "terminationGracePeriodSeconds": 5},
            "status": {"phase": "Running"}});
        assert_eq!(grace_period(&running, None), 5);
        assert_eq!(grace_period(&running, Some(1)), 1);
        let unbound = json!({"spec": {}, "status": {"phase": "Pending"}});
        assert_eq!(grace_period(&unbound, Some(30)), 0);
        let done = json!({"spec": {"nodeName": "n"}, "status": {"phase": "Succeeded"}});
        assert_eq!(grace_period(&done, None), 0);
    }

    #[test]
    fn log_rules() {
        let pod = |state: Value| {
            json!({"metadata": {"name": "x"}, "spec": {"nodeName": "n", "containers": [{"name": "probe"}]},
                "status": {"containerStatuses": [{"name": "probe", "state": state}]}})
        };
        let waiting = pod(json!({"waiting": {"reason": "ContainerCreating"}}));
        let e = log_source(&waiting, "probe", false).unwrap_err();
        assert_eq!(
            e.message,
            "container \"probe\" in pod \"x\" is waiting to start: ContainerCreating"
        );
        assert_eq!(e.code, 400);
        let pull = pod(json!({"waiting": {"reason": "ImagePullBackOff"}}));
        assert!(
            log_source(&pull, "probe", false)
                .unwrap_err()
                .message
                .ends_with("trying and failing to pull image")
        );
        let running = pod(json!({"running": {"startedAt": "x"}}));
        assert_eq!(log_source(&running, "probe", false), Ok(LogSource::Stored));
        assert!(log_source(&running, "probe", true).is_err());
        let unbound =
            json!({"metadata": {"name": "x"}, "spec": {"containers": [{"name": "probe"}]}});
        assert_eq!(log_source(&unbound, "probe", false), Ok(LogSource::Empty));
        assert_eq!(log_container(&running, None).unwrap(), "probe");
        assert_eq!(
            log_container(&running, Some("nope")).unwrap_err().message,
            "container nope is not valid for pod x"
        );
    }

    #[test]
    fn printer() {
        let p = json!({"spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Pending",
            "containerStatuses": [{"name": "c", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}}}]}});
        assert_eq!(
            printer_cells(&p),
            ("0/1".into(), "ContainerCreating".into(), "0".into())
        );
        let r = json!({"spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Running",
            "containerStatuses": [{"name": "c", "ready": true, "state": {"running": {}}}]}});
        assert_eq!(printer_cells(&r).1, "Running");
        assert_eq!(printer_cells(&r).0, "1/1");
        let mut t = r.clone();
        t["metadata"] = json!({"deletionTimestamp": "2026-01-01T00:00:00Z"});
        assert_eq!(printer_cells(&t).1, "Terminating");
        let d = json!({"spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Failed", "reason": "DeadlineExceeded",
            "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 143, "reason": "Error"}}}]}});
        assert_eq!(printer_cells(&d).1, "Error");
    }
}
