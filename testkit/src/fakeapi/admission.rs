//! Pod Security admission (`k8s.io/pod-security-admission`) as a pure
//! function over the pod JSON: the checks of the Pod Security Standards as
//! of Kubernetes v1.32 (the fake server's version), in the plugin's order
//! (baseline check IDs sorted, then restricted ones; a restricted check
//! replaces the baseline check it overrides), with the plugin's reasons and
//! details word for word.
//!
//! Namespaces opt in with `pod-security.kubernetes.io/enforce:
//! baseline|restricted` (an invalid level means `restricted`, as the plugin
//! fails closed) and optionally `…/enforce-version: v1.N` (printed in the
//! message; it only decides which checks exist at that version — older
//! revisions of a check's wording are not reproduced). `warn` and `audit`
//! labels and exemptions are not implemented. Only pod CREATE is checked.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::status::ApiError;
use super::util::{array_at as arr, str_at as s};

/// A policy level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

/// The newest policy version this fake knows (its reported server version).
const LATEST_MINOR: u32 = 32;

/// One failed check: the forbidden reason and its detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub reason: String,
    pub detail: String,
}

fn is_true(v: &Value, ptr: &str) -> bool {
    v.pointer(ptr).and_then(Value::as_bool) == Some(true)
}

/// `"a", "b"` (the plugin's joinQuote: no escaping).
fn join_quote(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    format!("\"{}\"", items.join("\", \""))
}

fn plural<'a>(one: &'a str, many: &'a str, n: usize) -> &'a str {
    if n == 1 { one } else { many }
}

/// `container "a"` / `containers "a", "b"`.
fn containers_phrase(names: &[String]) -> String {
    format!(
        "{} {}",
        plural("container", "containers", names.len()),
        join_quote(names)
    )
}

/// Init, regular, then ephemeral containers (the plugin's visit order).
fn containers(pod: &Value) -> Vec<&Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|l| arr(pod, &format!("/spec/{l}")))
        .collect()
}

fn name(c: &Value) -> String {
    s(c, "/name").to_string()
}

fn fail(reason: &str, detail: String) -> Option<Violation> {
    Some(Violation {
        reason: reason.into(),
        detail,
    })
}

fn windows(pod: &Value) -> bool {
    s(pod, "/spec/os/name") == "windows"
}

type Check = fn(&Value) -> Option<Violation>;

/// (id, level, first version, check, baseline check it overrides).
const CHECKS: &[(&str, Level, u32, Check, Option<&str>)] = &[
    ("appArmorProfile", Level::Baseline, 0, app_armor, None),
    (
        "capabilities_baseline",
        Level::Baseline,
        0,
        caps_baseline,
        None,
    ),
    ("hostNamespaces", Level::Baseline, 0, host_namespaces, None),
    (
        "hostPathVolumes",
        Level::Baseline,
        0,
        host_path_volumes,
        None,
    ),
    ("hostPorts", Level::Baseline, 0, host_ports, None),
    ("privileged", Level::Baseline, 0, privileged, None),
    ("procMount", Level::Baseline, 0, proc_mount, None),
    ("seLinuxOptions", Level::Baseline, 0, selinux, None),
    (
        "seccompProfile_baseline",
        Level::Baseline,
        0,
        seccomp_baseline,
        None,
    ),
    ("sysctls", Level::Baseline, 0, sysctls, None),
    (
        "windowsHostProcess",
        Level::Baseline,
        0,
        windows_host_process,
        None,
    ),
    (
        "allowPrivilegeEscalation",
        Level::Restricted,
        8,
        allow_privilege_escalation,
        None,
    ),
    (
        "capabilities_restricted",
        Level::Restricted,
        22,
        caps_restricted,
        Some("capabilities_baseline"),
    ),
    (
        "restrictedVolumes",
        Level::Restricted,
        0,
        restricted_volumes,
        Some("hostPathVolumes"),
    ),
    ("runAsNonRoot", Level::Restricted, 0, run_as_non_root, None),
    ("runAsUser", Level::Restricted, 23, run_as_user, None),
    (
        "seccompProfile_restricted",
        Level::Restricted,
        19,
        seccomp_restricted,
        Some("seccompProfile_baseline"),
    ),
];

/// Evaluates a pod against a level at policy version `v1.minor`.
pub fn evaluate(pod: &Value, level: Level, minor: u32) -> Vec<Violation> {
    if level == Level::Privileged {
        return Vec::new();
    }
    let minor = minor.min(LATEST_MINOR);
    let active: Vec<_> = CHECKS
        .iter()
        .filter(|(_, l, since, _, _)| *l <= level && *since <= minor)
        .collect();
    let overridden: Vec<&str> = active.iter().filter_map(|c| c.4).collect();
    active
        .into_iter()
        .filter(|(id, ..)| !overridden.contains(id))
        .filter_map(|(_, _, _, check, _)| check(pod))
        .collect()
}

/// The `reason (detail), reason (detail)` text of the plugin.
pub fn forbidden_detail(v: &[Violation]) -> String {
    v.iter()
        .map(|x| {
            if x.detail.is_empty() {
                x.reason.clone()
            } else {
                format!("{} ({})", x.reason, x.detail)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The enforce policy from namespace labels: (level, version text, minor).
pub fn enforce_policy(labels: &Value) -> (Level, String, u32) {
    let level = match labels
        .get("pod-security.kubernetes.io/enforce")
        .and_then(Value::as_str)
    {
        None | Some("privileged") => Level::Privileged,
        Some("baseline") => Level::Baseline,
        Some(_) => Level::Restricted, // "restricted" or invalid: fail closed
    };
    let version = labels
        .get("pod-security.kubernetes.io/enforce-version")
        .and_then(Value::as_str)
        .unwrap_or("latest");
    let minor = version
        .strip_prefix("v1.")
        .filter(|m| m.bytes().all(|b| b.is_ascii_digit()) && (m.len() == 1 || !m.starts_with('0')))
        .and_then(|m| m.parse::<u32>().ok());
    match minor {
        Some(m) => (level, format!("v1.{m}"), m),
        None => (level, "latest".into(), LATEST_MINOR),
    }
}

/// Admission: Ok, or the 403 Forbidden Status the plugin returns.
pub fn enforce(ns_labels: &Value, pod: &Value) -> Result<(), ApiError> {
    let (level, version, minor) = enforce_policy(ns_labels);
    let violations = evaluate(pod, level, minor);
    if violations.is_empty() {
        return Ok(());
    }
    let level_name = match level {
        Level::Privileged => "privileged",
        Level::Baseline => "baseline",
        Level::Restricted => "restricted",
    };
    let pod_name = s(pod, "/metadata/name");
    Err(ApiError {
        code: 403,
        reason: "Forbidden",
        message: format!(
            "pods {pod_name:?} is forbidden: violates PodSecurity \"{level_name}:{version}\": {}",
            forbidden_detail(&violations)
        ),
        details: json!({"name": pod_name, "kind": "pods"}),
    })
}

fn app_armor(pod: &Value) -> Option<Violation> {
    let allowed = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let mut setters = Vec::new();
    let mut values = BTreeSet::new();
    if let Some(p) = pod.pointer("/spec/securityContext/appArmorProfile") {
        let t = s(p, "/type");
        if !allowed(t) {
            setters.push("pod".to_string());
            values.insert(t.to_string());
        }
    }
    let mut bad = Vec::new();
    for c in containers(pod) {
        if let Some(p) = c.pointer("/securityContext/appArmorProfile") {
            let t = s(p, "/type");
            if !allowed(t) {
                bad.push(name(c));
                values.insert(t.to_string());
            }
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    let mut values: Vec<String> = values.into_iter().collect();
    let mut annotations: Vec<String> = pod
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("container.apparmor.security.beta.kubernetes.io/"))
        .filter_map(|(k, v)| {
            let v = v.as_str().unwrap_or("");
            let ok = v.is_empty() || v == "runtime/default" || v.starts_with("localhost/");
            (!ok).then(|| format!("{k}={v:?}"))
        })
        .collect();
    if !annotations.is_empty() {
        annotations.sort();
        setters.push(plural("annotation", "annotations", annotations.len()).to_string());
        values.extend(annotations);
    }
    if setters.is_empty() {
        return None;
    }
    fail(
        plural(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            values.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            setters.join(" and "),
            join_quote(&values)
        ),
    )
}

const DEFAULT_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn caps_baseline(pod: &Value) -> Option<Violation> {
    let (bad, caps) = scan(pod, |c| {
        arr(c, "/securityContext/capabilities/add")
            .iter()
            .map(|x| x.as_str().unwrap_or("").to_string())
            .filter(|x| !DEFAULT_CAPS.contains(&x.as_str()))
            .collect()
    });
    if bad.is_empty() {
        return None;
    }
    fail(
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&bad),
            join_quote(&caps)
        ),
    )
}

/// Containers for which `bad` finds forbidden values, and the sorted set of
/// those values (the plugin's `badContainers` + `sets.String.List()`).
fn scan(pod: &Value, bad: impl Fn(&Value) -> Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut names = Vec::new();
    let mut values = BTreeSet::new();
    for c in containers(pod) {
        let found = bad(c);
        if !found.is_empty() {
            names.push(name(c));
            values.extend(found);
        }
    }
    (names, values.into_iter().collect())
}

fn host_namespaces(pod: &Value) -> Option<Violation> {
    let used: Vec<&str> = [
        ("hostNetwork", "hostNetwork=true"),
        ("hostPID", "hostPID=true"),
        ("hostIPC", "hostIPC=true"),
    ]
    .iter()
    .filter(|(f, _)| is_true(pod, &format!("/spec/{f}")))
    .map(|(_, t)| *t)
    .collect();
    if used.is_empty() {
        return None;
    }
    fail("host namespaces", used.join(", "))
}

fn host_path_volumes(pod: &Value) -> Option<Violation> {
    let vols: Vec<String> = arr(pod, "/spec/volumes")
        .iter()
        .filter(|v| v.get("hostPath").is_some_and(|h| !h.is_null()))
        .map(name)
        .collect();
    if vols.is_empty() {
        return None;
    }
    fail(
        "hostPath volumes",
        format!(
            "{} {}",
            plural("volume", "volumes", vols.len()),
            join_quote(&vols)
        ),
    )
}

fn host_ports(pod: &Value) -> Option<Violation> {
    let (bad, ports) = scan(pod, |c| {
        arr(c, "/ports")
            .iter()
            .filter_map(|p| p.get("hostPort").and_then(Value::as_i64))
            .filter(|hp| *hp != 0)
            .map(|hp| hp.to_string())
            .collect()
    });
    if bad.is_empty() {
        return None;
    }
    fail(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_phrase(&bad),
            plural("uses", "use", bad.len()),
            plural("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
    )
}

fn privileged(pod: &Value) -> Option<Violation> {
    let bad: Vec<String> = containers(pod)
        .into_iter()
        .filter(|c| is_true(c, "/securityContext/privileged"))
        .map(name)
        .collect();
    if bad.is_empty() {
        return None;
    }
    fail(
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&bad)
        ),
    )
}

fn proc_mount(pod: &Value) -> Option<Violation> {
    let (bad, kinds) = scan(pod, |c| {
        c.pointer("/securityContext/procMount")
            .and_then(Value::as_str)
            .filter(|pm| *pm != "Default")
            .map(str::to_string)
            .into_iter()
            .collect()
    });
    if bad.is_empty() {
        return None;
    }
    fail(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&bad),
            join_quote(&kinds)
        ),
    )
}

fn selinux(pod: &Value) -> Option<Violation> {
    const TYPES: &[&str] = &[
        "",
        "container_t",
        "container_init_t",
        "container_kvm_t",
        "container_engine_t",
    ];
    let mut types = BTreeSet::new();
    let (mut user, mut role) = (false, false);
    let mut valid = |o: &Value| {
        let mut ok = true;
        let t = s(o, "/type");
        if !TYPES.contains(&t) {
            ok = false;
            types.insert(t.to_string());
        }
        if !s(o, "/user").is_empty() {
            ok = false;
            user = true;
        }
        if !s(o, "/role").is_empty() {
            ok = false;
            role = true;
        }
        ok
    };
    let mut setters = Vec::new();
    if let Some(o) = pod.pointer("/spec/securityContext/seLinuxOptions")
        && !valid(o)
    {
        setters.push("pod".to_string());
    }
    let bad: Vec<String> = containers(pod)
        .into_iter()
        .filter(|c| {
            c.pointer("/securityContext/seLinuxOptions")
                .is_some_and(|o| !valid(o))
        })
        .map(name)
        .collect();
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    if !types.is_empty() {
        let t: Vec<String> = types.into_iter().collect();
        data.push(format!(
            "{} {}",
            plural("type", "types", t.len()),
            join_quote(&t)
        ));
    }
    if user {
        data.push("user may not be set".to_string());
    }
    if role {
        data.push("role may not be set".to_string());
    }
    fail(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            data.join("; ")
        ),
    )
}

fn valid_seccomp(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

/// Explicitly invalid seccomp types: (setters, sorted bad values, pod set a
/// valid type, containers without a type).
fn seccomp_scan(pod: &Value) -> (Vec<String>, Vec<String>, bool, Vec<String>) {
    let mut setters = Vec::new();
    let mut values = BTreeSet::new();
    let mut pod_ok = false;
    if let Some(p) = pod.pointer("/spec/securityContext/seccompProfile") {
        let t = s(p, "/type");
        if valid_seccomp(t) {
            pod_ok = true;
        } else {
            setters.push("pod".to_string());
            values.insert(t.to_string());
        }
    }
    let (mut explicit, mut implicit) = (Vec::new(), Vec::new());
    for c in containers(pod) {
        match c.pointer("/securityContext/seccompProfile") {
            Some(p) => {
                let t = s(p, "/type");
                if !valid_seccomp(t) {
                    explicit.push(name(c));
                    values.insert(t.to_string());
                }
            }
            None => implicit.push(name(c)),
        }
    }
    if !explicit.is_empty() {
        setters.push(containers_phrase(&explicit));
    }
    (setters, values.into_iter().collect(), pod_ok, implicit)
}

fn seccomp_explicit(setters: &[String], values: &[String]) -> Option<Violation> {
    fail(
        "seccompProfile",
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters.join(" and "),
            join_quote(values)
        ),
    )
}

fn seccomp_baseline(pod: &Value) -> Option<Violation> {
    let (setters, values, _, _) = seccomp_scan(pod);
    if setters.is_empty() {
        return None;
    }
    seccomp_explicit(&setters, &values)
}

fn seccomp_restricted(pod: &Value) -> Option<Violation> {
    if windows(pod) {
        return None;
    }
    let (setters, values, pod_ok, implicit) = seccomp_scan(pod);
    if !setters.is_empty() {
        return seccomp_explicit(&setters, &values);
    }
    if pod_ok || implicit.is_empty() {
        return None;
    }
    fail(
        "seccompProfile",
        format!(
            "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
            containers_phrase(&implicit)
        ),
    )
}

fn sysctls(pod: &Value) -> Option<Violation> {
    const SAFE: &[&str] = &[
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    ];
    let bad: Vec<&str> = arr(pod, "/spec/securityContext/sysctls")
        .iter()
        .map(|x| s(x, "/name"))
        .filter(|n| !SAFE.contains(n))
        .collect();
    if bad.is_empty() {
        return None;
    }
    fail("forbidden sysctls", bad.join(", "))
}

fn windows_host_process(pod: &Value) -> Option<Violation> {
    const F: &str = "/securityContext/windowsOptions/hostProcess";
    let mut setters = Vec::new();
    if is_true(pod, &format!("/spec{F}")) {
        setters.push("pod".to_string());
    }
    let bad: Vec<String> = containers(pod)
        .into_iter()
        .filter(|c| is_true(c, F))
        .map(name)
        .collect();
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    fail(
        "hostProcess",
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters.join(" and ")
        ),
    )
}

fn allow_privilege_escalation(pod: &Value) -> Option<Violation> {
    if windows(pod) {
        return None;
    }
    let bad: Vec<String> = containers(pod)
        .into_iter()
        .filter(|c| {
            c.pointer("/securityContext/allowPrivilegeEscalation")
                .and_then(Value::as_bool)
                != Some(false)
        })
        .map(name)
        .collect();
    if bad.is_empty() {
        return None;
    }
    fail(
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&bad)
        ),
    )
}

fn caps_restricted(pod: &Value) -> Option<Violation> {
    if windows(pod) {
        return None;
    }
    let (mut missing, mut adding) = (Vec::new(), Vec::new());
    let mut forbidden = BTreeSet::new();
    for c in containers(pod) {
        let Some(caps) = c
            .pointer("/securityContext/capabilities")
            .filter(|v| !v.is_null())
        else {
            missing.push(name(c));
            continue;
        };
        if !arr(caps, "/drop").iter().any(|d| d.as_str() == Some("ALL")) {
            missing.push(name(c));
        }
        let mut added = false;
        for a in arr(caps, "/add") {
            let a = a.as_str().unwrap_or("");
            if a != "NET_BIND_SERVICE" {
                added = true;
                forbidden.insert(a.to_string());
            }
        }
        if added {
            adding.push(name(c));
        }
    }
    let mut details = Vec::new();
    if !missing.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing)
        ));
    }
    if !adding.is_empty() {
        let f: Vec<String> = forbidden.into_iter().collect();
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding),
            join_quote(&f)
        ));
    }
    if details.is_empty() {
        return None;
    }
    fail("unrestricted capabilities", details.join("; "))
}

fn restricted_volumes(pod: &Value) -> Option<Violation> {
    const ALLOWED: &[&str] = &[
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ];
    const KNOWN: &[&str] = &[
        "hostPath",
        "gcePersistentDisk",
        "awsElasticBlockStore",
        "gitRepo",
        "nfs",
        "iscsi",
        "glusterfs",
        "rbd",
        "flexVolume",
        "cinder",
        "cephfs",
        "flocker",
        "fc",
        "azureFile",
        "vsphereVolume",
        "quobyte",
        "azureDisk",
        "photonPersistentDisk",
        "portworxVolume",
        "scaleIO",
        "storageos",
    ];
    let set = |v: &Value, k: &str| v.get(k).is_some_and(|x| !x.is_null());
    let mut bad = Vec::new();
    let mut types = BTreeSet::new();
    for v in arr(pod, "/spec/volumes") {
        if ALLOWED.iter().any(|k| set(v, k)) {
            continue;
        }
        bad.push(name(v));
        let t = KNOWN.iter().find(|k| set(v, k)).unwrap_or(&"unknown");
        types.insert(t.to_string());
    }
    if bad.is_empty() {
        return None;
    }
    let types: Vec<String> = types.into_iter().collect();
    fail(
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            plural("volume", "volumes", bad.len()),
            join_quote(&bad),
            plural("uses", "use", bad.len()),
            plural(
                "restricted volume type",
                "restricted volume types",
                types.len()
            ),
            join_quote(&types)
        ),
    )
}

fn run_as_non_root(pod: &Value) -> Option<Violation> {
    let mut setters = Vec::new();
    let mut pod_ok = false;
    match pod
        .pointer("/spec/securityContext/runAsNonRoot")
        .and_then(Value::as_bool)
    {
        Some(false) => setters.push("pod".to_string()),
        Some(true) => pod_ok = true,
        None => {}
    }
    let (mut explicit, mut implicit) = (Vec::new(), Vec::new());
    for c in containers(pod) {
        match c
            .pointer("/securityContext/runAsNonRoot")
            .and_then(Value::as_bool)
        {
            Some(false) => explicit.push(name(c)),
            Some(true) => {}
            None if !pod_ok => implicit.push(name(c)),
            None => {}
        }
    }
    if !explicit.is_empty() {
        setters.push(containers_phrase(&explicit));
    }
    if !setters.is_empty() {
        return fail(
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
        );
    }
    if implicit.is_empty() {
        return None;
    }
    fail(
        "runAsNonRoot != true",
        format!(
            "pod or {} must set securityContext.runAsNonRoot=true",
            containers_phrase(&implicit)
        ),
    )
}

fn run_as_user(pod: &Value) -> Option<Violation> {
    let root = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_i64) == Some(0);
    let mut setters = Vec::new();
    if root(pod, "/spec/securityContext/runAsUser") {
        setters.push("pod".to_string());
    }
    let bad: Vec<String> = containers(pod)
        .into_iter()
        .filter(|c| root(c, "/securityContext/runAsUser"))
        .map(name)
        .collect();
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    fail(
        "runAsUser=0",
        format!("{} must not set runAsUser=0", setters.join(" and ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pod that passes `restricted` (the probe pod's shape).
    fn compliant() -> Value {
        json!({
            "metadata": {"name": "probe-x"},
            "spec": {
                "securityContext": {"runAsNonRoot": true, "runAsUser": 65532,
                    "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{"name": "probe", "image": "i:1",
                    "securityContext": {"allowPrivilegeEscalation": false,
                        "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}}}],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            }
        })
    }

    /// The compliant pod changed by `f`, evaluated at `level`.
    fn with(level: Level, f: impl FnOnce(&mut Value)) -> String {
        let mut p = compliant();
        f(&mut p);
        forbidden_detail(&evaluate(&p, level, LATEST_MINOR))
    }

    fn r(f: impl FnOnce(&mut Value)) -> String {
        with(Level::Restricted, f)
    }

    fn c0(p: &mut Value) -> &mut Value {
        &mut p["spec"]["containers"][0]["securityContext"]
    }

    #[test]
    fn compliant_pod_passes_every_level() {
        for l in [Level::Privileged, Level::Baseline, Level::Restricted] {
            assert!(evaluate(&compliant(), l, LATEST_MINOR).is_empty());
        }
        assert!(
            enforce(
                &json!({"pod-security.kubernetes.io/enforce": "restricted"}),
                &compliant()
            )
            .is_ok()
        );
    }

    #[test]
    fn bare_pod_gets_the_real_message() {
        let pod = json!({"metadata": {"name": "x"}, "spec": {"containers": [{"name": "probe", "image": "i"}]}});
        let e = enforce(
            &json!({"pod-security.kubernetes.io/enforce": "restricted"}),
            &pod,
        )
        .unwrap_err();
        assert_eq!(e.code, 403);
        assert_eq!(e.reason, "Forbidden");
        assert_eq!(
            e.message,
            "pods \"x\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"probe\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"probe\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"probe\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"probe\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
        );
        assert_eq!(e.details, json!({"name": "x", "kind": "pods"}));
        // The same pod is fine under baseline and without a label.
        assert!(
            enforce(
                &json!({"pod-security.kubernetes.io/enforce": "baseline"}),
                &pod
            )
            .is_ok()
        );
        assert!(enforce(&json!({}), &pod).is_ok());
        // Version label printed; invalid level fails closed.
        let e = enforce(
            &json!({"pod-security.kubernetes.io/enforce": "strict", "pod-security.kubernetes.io/enforce-version": "v1.30"}),
            &pod,
        )
        .unwrap_err();
        assert!(e.message.contains("\"restricted:v1.30\""), "{}", e.message);
    }

    #[test]
    fn restricted_rules_one_by_one() {
        assert_eq!(
            r(|p| c0(p)["allowPrivilegeEscalation"] = json!(true)),
            "allowPrivilegeEscalation != false (container \"probe\" must set securityContext.allowPrivilegeEscalation=false)"
        );
        assert_eq!(
            r(|p| c0(p)["capabilities"] = json!({"drop": ["NET_RAW"]})),
            "unrestricted capabilities (container \"probe\" must set securityContext.capabilities.drop=[\"ALL\"])"
        );
        assert_eq!(
            r(|p| c0(p)["capabilities"]["add"] = json!(["NET_BIND_SERVICE", "NET_ADMIN"])),
            "unrestricted capabilities (container \"probe\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)"
        );
        assert_eq!(
            r(|p| p["spec"]["volumes"] =
                json!([{"name": "data", "nfs": {"server": "x", "path": "/"}}])),
            "restricted volume types (volume \"data\" uses restricted volume type \"nfs\")"
        );
        assert_eq!(
            r(|p| p["spec"]["securityContext"]["runAsNonRoot"] = json!(false)),
            "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)"
        );
        assert_eq!(
            r(|p| {
                p["spec"]["securityContext"]
                    .as_object_mut()
                    .unwrap()
                    .remove("runAsNonRoot");
            }),
            "runAsNonRoot != true (pod or container \"probe\" must set securityContext.runAsNonRoot=true)"
        );
        assert_eq!(
            r(|p| c0(p)["runAsUser"] = json!(0)),
            "runAsUser=0 (container \"probe\" must not set runAsUser=0)"
        );
        assert_eq!(
            r(|p| {
                p["spec"]["securityContext"]
                    .as_object_mut()
                    .unwrap()
                    .remove("seccompProfile");
            }),
            "seccompProfile (pod or container \"probe\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
        );
        assert_eq!(
            r(|p| c0(p)["seccompProfile"] = json!({"type": "Unconfined"})),
            "seccompProfile (container \"probe\" must not set securityContext.seccompProfile.type to \"Unconfined\")"
        );
        // Restricted volumes replace the baseline hostPath check.
        assert_eq!(
            r(|p| p["spec"]["volumes"] = json!([{"name": "h", "hostPath": {"path": "/"}}])),
            "restricted volume types (volume \"h\" uses restricted volume type \"hostPath\")"
        );
        // A windows pod is exempt from the linux-only restricted checks.
        assert_eq!(
            r(|p| {
                p["spec"]["os"] = json!({"name": "windows"});
                c0(p)["allowPrivilegeEscalation"] = json!(true);
            }),
            ""
        );
    }

    #[test]
    fn baseline_rules_one_by_one() {
        let b = |f: fn(&mut Value)| with(Level::Baseline, f);
        assert_eq!(
            b(|p| {
                p["spec"]["hostNetwork"] = json!(true);
                p["spec"]["hostPID"] = json!(true);
                p["spec"]["hostIPC"] = json!(true);
            }),
            "host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)"
        );
        assert_eq!(
            b(|p| c0(p)["privileged"] = json!(true)),
            "privileged (container \"probe\" must not set securityContext.privileged=true)"
        );
        assert_eq!(
            b(|p| p["spec"]["volumes"] = json!([{"name": "h", "hostPath": {"path": "/"}}])),
            "hostPath volumes (volume \"h\")"
        );
        assert_eq!(
            b(|p| p["spec"]["containers"][0]["ports"] =
                json!([{"containerPort": 80, "hostPort": 8080}])),
            "hostPort (container \"probe\" uses hostPort 8080)"
        );
        assert_eq!(
            b(|p| c0(p)["capabilities"]["add"] = json!(["SYS_ADMIN", "CHOWN"])),
            "non-default capabilities (container \"probe\" must not include \"SYS_ADMIN\" in securityContext.capabilities.add)"
        );
        assert_eq!(
            b(|p| c0(p)["procMount"] = json!("Unmasked")),
            "procMount (container \"probe\" must not set securityContext.procMount to \"Unmasked\")"
        );
        assert_eq!(
            b(|p| c0(p)["seLinuxOptions"] = json!({"type": "spc_t", "user": "u"})),
            "seLinuxOptions (container \"probe\" set forbidden securityContext.seLinuxOptions: type \"spc_t\"; user may not be set)"
        );
        assert_eq!(
            b(|p| p["spec"]["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"})),
            "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")"
        );
        assert_eq!(
            b(
                |p| p["spec"]["securityContext"]["sysctls"] = json!([{"name": "net.ipv4.tcp_syncookies", "value": "1"}, {"name": "kernel.msgmax", "value": "1"}])
            ),
            "forbidden sysctls (kernel.msgmax)"
        );
        assert_eq!(
            b(|p| c0(p)["appArmorProfile"] = json!({"type": "Unconfined"})),
            "forbidden AppArmor profile (container \"probe\" must not set AppArmor profile type to \"Unconfined\")"
        );
        assert_eq!(
            b(|p| c0(p)["windowsOptions"] = json!({"hostProcess": true})),
            "hostProcess (container \"probe\" must not set securityContext.windowsOptions.hostProcess=true)"
        );
        // Baseline does not ask for restricted settings.
        assert_eq!(b(|p| p["spec"]["securityContext"] = json!({})), "");
    }

    #[test]
    fn versions_gate_checks() {
        let mut p = compliant();
        c0(&mut p)["capabilities"] = json!({});
        assert!(evaluate(&p, Level::Restricted, 21).is_empty());
        assert_eq!(evaluate(&p, Level::Restricted, 22).len(), 1);
        let (l, v, m) = enforce_policy(&json!({"pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/enforce-version": "v1.99"}));
        assert_eq!((l, v.as_str(), m), (Level::Baseline, "v1.99", 99));
        let (_, v, _) =
            enforce_policy(&json!({"pod-security.kubernetes.io/enforce-version": "1.2"}));
        assert_eq!(v, "latest");
    }
}
