//! The fake kubelet end to end: scheduling, status transitions and watch
//! events, real local processes and their logs, deadlines, deletion, image
//! pull failures, Pod Security admission, with a kube-rs client and with the
//! real `kubectl`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use acmecheck_testkit::fakeapi::{FakeApi, KubeletConfig};
use futures::{AsyncReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, LogParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};

const NS: &str = "probe";
const IMAGE: &str = "ghcr.io/example/acmecheck:v0.1.0";
const SELECTOR: &str = "app.kubernetes.io/managed-by=kubectl-acmecheck";

/// Executable scripts in a temporary directory, removed on drop.
struct Scripts(PathBuf);

impl Scripts {
    fn new(tag: &str) -> Scripts {
        let dir = std::env::temp_dir().join(format!(
            "kubelet-test-{}-{tag}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scripts(dir)
    }

    fn write(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.0.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }
}

impl Drop for Scripts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fake API server with the kubelet on, IMAGE mapped to `exe`, and the
/// probe namespace (with `labels`).
fn cluster(exe: &Path, start_delay_ms: u64, labels: Value) -> FakeApi {
    let api = FakeApi::spawn().unwrap();
    api.enable_kubelet(KubeletConfig {
        start_delay: Duration::from_millis(start_delay_ms),
        ..KubeletConfig::default().image(IMAGE, exe)
    });
    api.insert(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": NS, "labels": labels}}))
        .unwrap();
    api
}

/// [`cluster`] with IMAGE running a shell script with `body`, a pods client
/// for the probe namespace, and the scripts (keep them until the test ends).
async fn env(
    tag: &str,
    body: &str,
    start_delay_ms: u64,
    labels: Value,
) -> (FakeApi, Api<Pod>, Scripts) {
    let scripts = Scripts::new(tag);
    let exe = scripts.write("probe", body);
    let api = cluster(&exe, start_delay_ms, labels);
    let pods = client(&api).await;
    (api, pods, scripts)
}

async fn client(api: &FakeApi) -> Api<Pod> {
    let kc = Kubeconfig::read_from(api.kubeconfig()).unwrap();
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Api::namespaced(Client::try_from(cfg).unwrap(), NS)
}

/// A pod in the shape of the probe pod (restricted-compliant).
fn pod_json(name: &str, image: &str, args: &[&str]) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "kubectl-acmecheck"}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": false,
            "securityContext": {"runAsNonRoot": true, "runAsUser": 65532,
                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "probe", "image": image, "args": args,
                "env": [{"name": "GREETING", "value": "hi"},
                    {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                    "capabilities": {"drop": ["ALL"]}},
            }],
        },
    })
}

fn pod(name: &str, image: &str, args: &[&str]) -> Pod {
    serde_json::from_value(pod_json(name, image, args)).unwrap()
}

/// Log parameters changed by `f`.
fn lp(f: impl FnOnce(&mut LogParams)) -> LogParams {
    let mut p = LogParams::default();
    f(&mut p);
    p
}

/// Reads from a log stream until `text` holds at least `n` bytes (fails after 20 s).
async fn read_at_least(
    stream: &mut (impl futures::AsyncRead + Unpin),
    text: &mut String,
    n: usize,
) {
    let mut buf = [0u8; 4096];
    while text.len() < n {
        let got = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no log line within 20 s; so far {text:?}"))
            .unwrap();
        assert!(got > 0, "the stream ended early: {text:?}");
        text.push_str(std::str::from_utf8(&buf[..got]).unwrap());
    }
}

fn with(mut p: Value, f: impl FnOnce(&mut Value)) -> Pod {
    f(&mut p);
    serde_json::from_value(p).unwrap()
}

/// Polls the stored pod until `pred` holds (test-side, no API request).
fn wait_for(api: &FakeApi, name: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let p = api.get("v1", "Pod", NS, name);
        if let Some(p) = &p
            && pred(p)
        {
            return p.clone();
        }
        assert!(Instant::now() < until, "pod {name} never {what}: {p:#?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls until the pod object is gone (test-side).
fn wait_removed(api: &FakeApi, name: &str) {
    let until = Instant::now() + Duration::from_secs(10);
    while api.get("v1", "Pod", NS, name).is_some() {
        assert!(Instant::now() < until, "pod {name} not removed");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// DELETE with `gracePeriodSeconds`.
fn grace(seconds: u32) -> DeleteParams {
    DeleteParams {
        grace_period_seconds: Some(seconds),
        ..DeleteParams::default()
    }
}

fn phase(p: &Value) -> &str {
    p["status"]["phase"].as_str().unwrap_or("")
}

fn gone(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

fn wait_gone(pid: u32) {
    let until = Instant::now() + Duration::from_secs(10);
    while !gone(pid) {
        assert!(Instant::now() < until, "process {pid} still exists");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One watch event as `TYPE PHASE STATE`, e.g. `MODIFIED Pending waiting:ContainerCreating`.
fn summary(etype: &str, p: &Pod) -> String {
    let v = serde_json::to_value(p).unwrap();
    let cs = &v["status"]["containerStatuses"][0]["state"];
    let state = if let Some(w) = cs.get("waiting") {
        format!("waiting:{}", w["reason"].as_str().unwrap_or(""))
    } else if cs.get("running").is_some() {
        "running".to_string()
    } else if let Some(t) = cs.get("terminated") {
        format!(
            "terminated:{}:{}",
            t["reason"].as_str().unwrap_or(""),
            t["exitCode"]
        )
    } else if v["spec"]["nodeName"].is_string() {
        "scheduled".to_string()
    } else {
        "unbound".to_string()
    };
    let deleting = if v["metadata"]["deletionTimestamp"].is_string() {
        " deleting"
    } else {
        ""
    };
    format!("{etype} {} {state}{deleting}", phase(&v))
}

/// Watches the probe pods (label selector, initial list) until `stop`
/// matches a summary; returns the summaries and resourceVersions.
async fn watch_until(
    pods: &Api<Pod>,
    start: impl std::future::Future<Output = ()>,
    stop: impl Fn(&str) -> bool,
) -> (Vec<String>, Vec<u64>) {
    let wp = WatchParams::default().labels(SELECTOR).timeout(30);
    let mut stream = pods.watch(&wp, "0").await.unwrap().boxed();
    start.await;
    let (mut seen, mut rvs) = (Vec::new(), Vec::new());
    while let Some(ev) = stream.try_next().await.unwrap() {
        let (t, p) = match ev {
            WatchEvent::Added(p) => ("ADDED", p),
            WatchEvent::Modified(p) => ("MODIFIED", p),
            WatchEvent::Deleted(p) => ("DELETED", p),
            other => panic!("unexpected event {other:?}"),
        };
        rvs.push(
            p.metadata
                .resource_version
                .clone()
                .unwrap()
                .parse::<u64>()
                .unwrap(),
        );
        let s = summary(t, &p);
        let done = stop(&s);
        seen.push(s);
        if done {
            return (seen, rvs);
        }
    }
    panic!("watch ended early: {seen:?}");
}

#[tokio::test]
async fn lifecycle_events_status_and_logs() {
    let (api, pods, _scripts) = env(
        "ok",
        "echo \"args: $*\"\necho \"env: $GREETING $POD $HOSTNAME\"\necho oops >&2\nexit 0",
        50,
        json!({}),
    )
    .await;
    let create = async {
        pods.create(
            &PostParams::default(),
            &pod("probe-a", IMAGE, &["probe", "--plan-json", "{}"]),
        )
        .await
        .unwrap();
    };
    let (seen, rvs) = watch_until(&pods, create, |s| s.contains("Succeeded")).await;
    assert_eq!(
        seen,
        [
            "ADDED Pending unbound",
            "MODIFIED Pending scheduled",
            "MODIFIED Pending waiting:ContainerCreating",
            "MODIFIED Running running",
            "MODIFIED Succeeded terminated:Completed:0",
        ]
    );
    assert!(rvs.windows(2).all(|w| w[0] < w[1]), "{rvs:?}");

    let p = api.get("v1", "Pod", NS, "probe-a").unwrap();
    let st = &p["status"];
    assert_eq!(p["spec"]["nodeName"], "node-a");
    assert_eq!(st["podIP"], "198.51.100.100");
    assert_eq!(st["podIPs"], json!([{"ip": "198.51.100.100"}]));
    assert_eq!(st["hostIP"], "198.51.100.201");
    assert_eq!(st["qosClass"], "BestEffort");
    let cs = &st["containerStatuses"][0];
    assert_eq!(cs["name"], "probe");
    assert_eq!(cs["ready"], false);
    assert_eq!(cs["started"], false);
    assert_eq!(cs["restartCount"], 0);
    assert_eq!(cs["image"], IMAGE);
    assert!(
        cs["imageID"]
            .as_str()
            .unwrap()
            .starts_with("ghcr.io/example/acmecheck@sha256:")
    );
    let term = &cs["state"]["terminated"];
    assert!(
        term["containerID"]
            .as_str()
            .unwrap()
            .starts_with("containerd://")
    );
    assert!(term["startedAt"].is_string() && term["finishedAt"].is_string());
    let conds: Vec<(String, String)> = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap().to_string(),
                format!(
                    "{}/{}",
                    c["status"].as_str().unwrap(),
                    c["reason"].as_str().unwrap_or("")
                ),
            )
        })
        .collect();
    let want = [
        ("PodReadyToStartContainers", "False/"),
        ("Initialized", "True/PodCompleted"),
        ("Ready", "False/PodCompleted"),
        ("ContainersReady", "False/PodCompleted"),
        ("PodScheduled", "True/"),
    ];
    assert_eq!(conds, want.map(|(a, b)| (a.to_string(), b.to_string())));
    // The API server defaulted the spec on create.
    assert_eq!(p["spec"]["terminationGracePeriodSeconds"], 30);
    assert_eq!(p["spec"]["schedulerName"], "default-scheduler");

    let logs = pods.logs("probe-a", &LogParams::default()).await.unwrap();
    // stdout and stderr interleave in arrival order (two pipes): check each.
    let stdout: String = logs
        .split_inclusive('\n')
        .filter(|l| *l != "oops\n")
        .collect();
    assert_eq!(
        stdout,
        "args: probe --plan-json {}\nenv: hi probe-a probe-a\n"
    );
    assert_eq!(logs.len(), stdout.len() + "oops\n".len(), "{logs:?}");
    let tail = pods
        .logs("probe-a", &lp(|p| p.tail_lines = Some(1)))
        .await
        .unwrap();
    assert_eq!(tail.lines().count(), 1);
    let head = pods
        .logs("probe-a", &lp(|p| p.limit_bytes = Some(5)))
        .await
        .unwrap();
    assert_eq!(head, logs[..5]);
    // Deleting a finished pod is immediate.
    pods.delete("probe-a", &DeleteParams::default())
        .await
        .unwrap();
    assert!(api.get("v1", "Pod", NS, "probe-a").is_none());
}

#[tokio::test]
async fn running_status_and_exit_codes() {
    let (api, pods, _scripts) = env("codes", "case \"$1\" in\n  fail) echo bad >&2; exit 3;;\n  term) kill -TERM $$;;\n  *) exec sleep 30;;\nesac", 0, json!({})).await;
    let pp = PostParams::default();
    pods.create(&pp, &pod("fail", IMAGE, &["fail"]))
        .await
        .unwrap();
    pods.create(&pp, &pod("term", IMAGE, &["term"]))
        .await
        .unwrap();
    let mut fallback = pod_json("fallback", IMAGE, &["fail"]);
    fallback["spec"]["containers"][0]["terminationMessagePolicy"] = json!("FallbackToLogsOnError");
    pods.create(&pp, &serde_json::from_value(fallback).unwrap())
        .await
        .unwrap();
    pods.create(&pp, &pod("oom", IMAGE, &["sleep"]))
        .await
        .unwrap();

    let running = wait_for(&api, "oom", "ran", |p| phase(p) == "Running");
    let cs = &running["status"]["containerStatuses"][0];
    assert_eq!(cs["ready"], true);
    assert_eq!(cs["started"], true);
    assert!(cs["state"]["running"]["startedAt"].is_string());
    let ready: Vec<&str> = running["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(ready, ["True"; 5]);
    let pid = api.pod_pid(NS, "oom").unwrap();
    api.kill_pod(NS, "oom", libc::SIGKILL).unwrap();
    wait_gone(pid);

    let term_of = |name: &str| {
        let p = wait_for(&api, name, "failed", |p| phase(p) == "Failed");
        p["status"]["containerStatuses"][0]["state"]["terminated"].clone()
    };
    let t = term_of("fail");
    assert_eq!(
        (t["exitCode"].as_i64(), t["reason"].as_str()),
        (Some(3), Some("Error"))
    );
    assert!(t.get("message").is_none(), "{t}");
    let t = term_of("fallback");
    assert_eq!(t["message"], "bad\n");
    let t = term_of("term");
    assert_eq!(
        (t["exitCode"].as_i64(), t["reason"].as_str()),
        (Some(143), Some("Error"))
    );
    let t = term_of("oom");
    assert_eq!(
        (t["exitCode"].as_i64(), t["reason"].as_str()),
        (Some(137), Some("OOMKilled"))
    );
    assert!(api.kill_pod(NS, "oom", libc::SIGKILL).is_err());
}

#[tokio::test]
async fn follow_logs_until_the_container_ends() {
    // The container waits for the test at two gates (files beside the script), so what the
    // follow stream must have delivered at each point does not depend on timing.
    let (api, pods, scripts) = env(
        "follow",
        "g=\"$(dirname \"$0\")/gate\"\necho one\nwhile [ ! -e \"$g.1\" ]; do sleep 0.01; done\n\
         printf 'two\\nthr'\nwhile [ ! -e \"$g.2\" ]; do sleep 0.01; done\necho ee",
        // ContainerCreating lasts 2 s: the window for the 400 below, generous on a busy machine.
        2000,
        json!({}),
    )
    .await;
    let open_gate = |n: u32| std::fs::write(scripts.0.join(format!("gate.{n}")), "").unwrap();
    pods.create(&PostParams::default(), &pod("f", IMAGE, &[]))
        .await
        .unwrap();
    // While ContainerCreating, the API answers 400 like the real one.
    wait_for(&api, "f", "creating", |p| {
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
    });
    match pods.logs("f", &LogParams::default()).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 400);
            assert_eq!(s.reason, "BadRequest");
            assert_eq!(
                s.message,
                "container \"probe\" in pod \"f\" is waiting to start: ContainerCreating"
            );
        }
        other => panic!("expected 400, got {other:?}"),
    }
    wait_for(&api, "f", "ran", |p| phase(p) == "Running");
    let mut stream = pods
        .log_stream("f", &lp(|p| p.follow = true))
        .await
        .unwrap();
    let mut all = String::new();
    // The stream delivers what the running container wrote so far…
    read_at_least(&mut stream, &mut all, 4).await;
    assert_eq!(all, "one\n");
    assert_eq!(phase(&api.get("v1", "Pod", NS, "f").unwrap()), "Running");
    // …then what it writes later, whole lines only ("thr" waits for its newline)…
    open_gate(1);
    read_at_least(&mut stream, &mut all, 8).await;
    assert_eq!(all, "one\ntwo\n");
    // …and ends with the container.
    open_gate(2);
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_string(&mut all))
        .await
        .expect("the follow stream did not end within 20 s of the container's end")
        .unwrap();
    assert_eq!(all, "one\ntwo\nthree\n");
    // The terminal status is written before the stream ends.
    let p = api.get("v1", "Pod", NS, "f").unwrap();
    if phase(&p) != "Succeeded" {
        std::thread::sleep(Duration::from_secs(1));
        panic!(
            "stream ended while the pod was {:#}\na second later: {:#}",
            p["status"],
            api.get("v1", "Pod", NS, "f").unwrap()["status"]
        );
    }
    // limitBytes also bounds a follow stream.
    let mut limited = pods
        .log_stream(
            "f",
            &lp(|p| {
                p.follow = true;
                p.limit_bytes = Some(6);
            }),
        )
        .await
        .unwrap();
    let mut head = String::new();
    limited.read_to_string(&mut head).await.unwrap();
    assert_eq!(head, "one\ntw");
}

#[tokio::test]
async fn active_deadline_kills_the_process() {
    let (api, pods, _scripts) = env("deadline", "echo started\nexec sleep 60", 0, json!({})).await;
    let p = with(pod_json("d", IMAGE, &[]), |p| {
        p["spec"]["activeDeadlineSeconds"] = json!(1);
        p["spec"]["terminationGracePeriodSeconds"] = json!(2);
    });
    pods.create(&PostParams::default(), &p).await.unwrap();
    wait_for(&api, "d", "ran", |p| phase(p) == "Running");
    let pid = api.pod_pid(NS, "d").unwrap();
    let p = wait_for(&api, "d", "failed", |p| phase(p) == "Failed");
    assert!(gone(pid));
    assert_eq!(p["status"]["reason"], "DeadlineExceeded");
    assert_eq!(
        p["status"]["message"],
        "Pod was active on the node longer than the specified deadline"
    );
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        143
    );
    let logs = pods.logs("d", &LogParams::default()).await.unwrap();
    assert_eq!(logs, "started\n");
}

#[tokio::test]
async fn delete_terminates_gracefully_then_removes() {
    let (api, pods, _scripts) = env(
        "delete",
        "if [ \"$1\" = stubborn ]; then trap '' TERM; fi\necho up\nsleep 60 & wait",
        0,
        json!({}),
    )
    .await;
    let pp = PostParams::default();
    let create = async {
        pods.create(&pp, &pod("polite", IMAGE, &[])).await.unwrap();
    };
    let (seen, _) = watch_until(&pods, create, |s| s.contains("Running")).await;
    assert_eq!(seen.last().unwrap(), "MODIFIED Running running");
    let pid = api.pod_pid(NS, "polite").unwrap();
    let delete = async {
        let r = pods
            .delete("polite", &DeleteParams::default())
            .await
            .unwrap();
        let p = r.left().expect("graceful deletion returns the pod");
        assert_eq!(p.metadata.deletion_grace_period_seconds, Some(30));
        assert!(p.metadata.deletion_timestamp.is_some());
    };
    let (seen, _) = watch_until(&pods, delete, |s| s.starts_with("DELETED")).await;
    assert_eq!(
        &seen[seen.len() - 3..],
        [
            "MODIFIED Running running deleting",
            "MODIFIED Failed terminated:Error:143 deleting",
            "DELETED Failed terminated:Error:143 deleting",
        ]
    );
    wait_gone(pid);

    // A container that ignores SIGTERM is SIGKILLed after the grace period.
    pods.create(&pp, &pod("stubborn", IMAGE, &["stubborn"]))
        .await
        .unwrap();
    wait_for(&api, "stubborn", "ran", |p| phase(p) == "Running");
    let until = Instant::now() + Duration::from_secs(10);
    while !pods
        .logs("stubborn", &LogParams::default())
        .await
        .unwrap()
        .contains("up")
    {
        assert!(Instant::now() < until);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = api.pod_pid(NS, "stubborn").unwrap();
    let t0 = Instant::now();
    pods.delete("stubborn", &grace(1)).await.unwrap();
    wait_gone(pid);
    // SIGTERM is ignored, so only the SIGKILL at the end of the 1 s grace period ends it: the
    // process lived that long after the DELETE was sent (900 ms: a little slack for timer
    // rounding). A lower bound: a busy machine only makes it longer; wait_gone caps it at 10 s.
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    wait_removed(&api, "stubborn");

    // gracePeriodSeconds=0 removes the object at once and kills the process.
    pods.create(&pp, &pod("forced", IMAGE, &[])).await.unwrap();
    wait_for(&api, "forced", "ran", |p| phase(p) == "Running");
    let pid = api.pod_pid(NS, "forced").unwrap();
    pods.delete("forced", &grace(0)).await.unwrap();
    assert!(api.get("v1", "Pod", NS, "forced").is_none());
    wait_gone(pid);
}

#[tokio::test]
async fn unknown_image_pulls_then_backs_off_for_ever() {
    let (api, pods, _scripts) = env("pull", "exit 0", 20, json!({})).await;
    let image = "registry.example/acmecheck:v9";
    let create = async {
        pods.create(&PostParams::default(), &pod("nopull", image, &[]))
            .await
            .unwrap();
    };
    let (seen, _) = watch_until(&pods, create, |s| s.contains("ImagePullBackOff")).await;
    assert_eq!(
        &seen[2..],
        [
            "MODIFIED Pending waiting:ContainerCreating",
            "MODIFIED Pending waiting:ErrImagePull",
            "MODIFIED Pending waiting:ImagePullBackOff",
        ]
    );
    let p = api.get("v1", "Pod", NS, "nopull").unwrap();
    let w = &p["status"]["containerStatuses"][0]["state"]["waiting"];
    assert_eq!(
        w["message"],
        "Back-off pulling image \"registry.example/acmecheck:v9\""
    );
    match pods.logs("nopull", &LogParams::default()).await {
        Err(kube::Error::Api(s)) => assert_eq!(
            s.message,
            "container \"probe\" in pod \"nopull\" is waiting to start: trying and failing to pull image"
        ),
        other => panic!("expected 400, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        phase(&api.get("v1", "Pod", NS, "nopull").unwrap()),
        "Pending"
    );
    // Deleting a pod that never ran removes it promptly.
    let t0 = Instant::now();
    pods.delete("nopull", &DeleteParams::default())
        .await
        .unwrap();
    wait_removed(&api, "nopull");
    // Not after the 30 s grace period of a running pod (wait_removed gives up at 10 s anyway).
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
}

#[test]
fn deadline_applies_while_the_image_cannot_be_pulled() {
    let scripts = Scripts::new("pulldeadline");
    let exe = scripts.write("probe", "exit 0");
    let api = cluster(&exe, 20, json!({}));
    let mut p = pod_json("late", "registry.example/nope:1", &[]).tap_ns();
    p["spec"]["activeDeadlineSeconds"] = json!(1);
    api.insert(p).unwrap();
    let p = wait_for(&api, "late", "failed", |p| phase(p) == "Failed");
    assert_eq!(p["status"]["reason"], "DeadlineExceeded");
    let t = &p["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(t["reason"], "ContainerStatusUnknown");
    assert_eq!(t["exitCode"], 137);
}

#[test]
fn a_missing_executable_or_a_command_is_a_start_error() {
    let scripts = Scripts::new("starterr");
    let missing = scripts.0.join("no-such-binary");
    let api = cluster(&missing, 0, json!({}));
    api.insert(pod_json("nobin", IMAGE, &[]).tap_ns()).unwrap();
    let mut p = pod_json("cmd", IMAGE, &[]).tap_ns();
    p["spec"]["containers"][0]["command"] = json!(["/bin/true"]);
    api.insert(p).unwrap();
    for name in ["nobin", "cmd"] {
        let p = wait_for(&api, name, "failed", |p| phase(p) == "Failed");
        let t = &p["status"]["containerStatuses"][0]["state"]["terminated"];
        assert_eq!(
            (t["reason"].as_str(), t["exitCode"].as_i64()),
            (Some("StartError"), Some(128)),
            "{t}"
        );
        assert!(
            t["message"]
                .as_str()
                .unwrap()
                .starts_with("failed to create containerd task: "),
            "{t}"
        );
    }
}

#[test]
fn err_image_pull_message_is_containerds() {
    let scripts = Scripts::new("pullmsg");
    let exe = scripts.write("probe", "exit 0");
    let api = cluster(&exe, 300, json!({}));
    // Inserted without a status: the kubelet takes it on like a new pod.
    let mut p = pod_json("x", "nosuch:1", &[]);
    p["metadata"]["namespace"] = json!(NS);
    api.insert(p).unwrap();
    let p = wait_for(&api, "x", "failed to pull", |p| {
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ErrImagePull"
    });
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["waiting"]["message"],
        "rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nosuch:1\": failed to resolve reference \"docker.io/library/nosuch:1\": docker.io/library/nosuch:1: not found"
    );
}

#[tokio::test]
async fn unmatched_node_selector_is_unschedulable() {
    let scripts = Scripts::new("sched");
    let exe = scripts.write("probe", "exit 0");
    let api = cluster(&exe, 0, json!({}));
    let nodes = api.list("v1", "Node");
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["status"]["conditions"][3]["type"], "Ready");
    assert_eq!(nodes[0]["status"]["conditions"][3]["status"], "True");
    let pods = client(&api).await;
    let p = with(pod_json("picky", IMAGE, &[]), |p| {
        p["spec"]["nodeSelector"] = json!({"disktype": "ssd"});
    });
    pods.create(&PostParams::default(), &p).await.unwrap();
    let p = wait_for(&api, "picky", "judged", |p| {
        p["status"]["conditions"].is_array()
    });
    assert_eq!(phase(&p), "Pending");
    let c = &p["status"]["conditions"][0];
    assert_eq!(
        (
            c["type"].as_str(),
            c["status"].as_str(),
            c["reason"].as_str()
        ),
        (Some("PodScheduled"), Some("False"), Some("Unschedulable"))
    );
    assert_eq!(
        c["message"],
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    );
    assert!(p["spec"].get("nodeName").is_none());
    // Logs of an unbound pod are empty, deletion is immediate.
    assert_eq!(pods.logs("picky", &LogParams::default()).await.unwrap(), "");
    pods.delete("picky", &DeleteParams::default())
        .await
        .unwrap();
    assert!(api.get("v1", "Pod", NS, "picky").is_none());

    // A selector that matches a node label schedules there.
    let p = with(pod_json("linux", IMAGE, &[]), |p| {
        p["spec"]["nodeSelector"] = json!({"kubernetes.io/os": "linux"});
    });
    pods.create(&PostParams::default(), &p).await.unwrap();
    wait_for(&api, "linux", "succeeded", |p| phase(p) == "Succeeded");
}

#[tokio::test]
async fn pod_security_admission_rejects_like_the_real_one() {
    let scripts = Scripts::new("psa");
    let exe = scripts.write("probe", "echo admitted");
    let api = cluster(
        &exe,
        0,
        json!({"pod-security.kubernetes.io/enforce": "restricted"}),
    );
    let pods = client(&api).await;
    let bare: Pod = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"generateName": "acmecheck-probe-"},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "probe", "image": IMAGE}]}}))
    .unwrap();
    let e = match pods.create(&PostParams::default(), &bare).await {
        Err(kube::Error::Api(s)) => s,
        other => panic!("expected 403, got {other:?}"),
    };
    assert_eq!((e.code, e.reason.as_str()), (403, "Forbidden"));
    let prefix = "pods \"acmecheck-probe-";
    assert!(e.message.starts_with(prefix), "{}", e.message);
    let rest = &e.message[prefix.len() + 5..];
    assert_eq!(
        rest,
        "\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"probe\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"probe\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"probe\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"probe\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    );
    assert!(api.list("v1", "Pod").is_empty());
    // The probe-shaped pod is admitted and runs.
    pods.create(&PostParams::default(), &pod("ok", IMAGE, &[]))
        .await
        .unwrap();
    wait_for(&api, "ok", "succeeded", |p| phase(p) == "Succeeded");
    // Baseline: hostNetwork is refused, the bare pod is fine.
    api.insert(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS,
        "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}),
    )
    .unwrap();
    let host = with(pod_json("host", IMAGE, &[]), |p| {
        p["spec"]["hostNetwork"] = json!(true)
    });
    match pods.create(&PostParams::default(), &host).await {
        Err(kube::Error::Api(s)) => assert_eq!(
            s.message,
            "pods \"host\" is forbidden: violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)"
        ),
        other => panic!("expected 403, got {other:?}"),
    }
    pods.create(&PostParams::default(), &bare).await.unwrap();
}

#[test]
fn dropping_the_server_kills_its_processes_even_on_panic() {
    let scripts = Scripts::new("drop");
    let exe = scripts.write("probe", "sleep 60 & wait");
    let pid = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = pid.clone();
    let r = std::panic::catch_unwind(move || {
        let api = cluster(&exe, 0, json!({}));
        api.insert(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "orphan", "namespace": NS},
            "spec": {"containers": [{"name": "probe", "image": IMAGE}]}}))
            .unwrap();
        wait_for(&api, "orphan", "ran", |p| phase(p) == "Running");
        *seen.lock().unwrap() = api.pod_pid(NS, "orphan");
        panic!("test failure while a container runs");
    });
    assert!(r.is_err());
    let pid = pid.lock().unwrap().expect("pid recorded");
    wait_gone(pid);
}

fn kubectl(api: &FakeApi, bin: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.arg("--kubeconfig")
        .arg(api.kubeconfig())
        .arg("--cache-dir")
        .arg(api.kubeconfig().parent().unwrap().join("kubectl-cache"))
        .args(["-n", NS])
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", std::env::temp_dir());
    c
}

/// A kubectl process whose stdout lines arrive on a channel; killed on drop.
struct Lines(std::process::Child, mpsc::Receiver<String>);

impl Lines {
    fn start(mut c: Command) -> Lines {
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Lines(child, rx)
    }

    fn next(&self) -> String {
        self.1.recv_timeout(Duration::from_secs(20)).unwrap()
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn real_kubectl_watch_logs_and_delete() {
    let bin = acmecheck_testkit::tools::kubectl();
    let scripts = Scripts::new("kubectl");
    let exe = scripts.write(
        "probe",
        "echo first\nsleep 0.5\necho second\n[ \"$1\" = wait ] && exec sleep 60\nexit 0",
    );
    let api = cluster(&exe, 200, json!({}));
    let watch = Lines::start(kubectl(
        &api,
        &bin,
        &["get", "pods", "-w", "--no-headers", "-l", SELECTOR],
    ));
    // kubectl lists, then watches from the list's resourceVersion.
    let until = Instant::now() + Duration::from_secs(20);
    while !api.requests().iter().any(|r| r.is_watch()) {
        assert!(Instant::now() < until, "kubectl never watched");
        std::thread::sleep(Duration::from_millis(10));
    }
    api.insert(pod_json("k", IMAGE, &[]).tap_ns()).unwrap();
    // `kubectl logs -f` once the container runs: both lines, then it exits.
    wait_for(&api, "k", "ran", |p| phase(p) == "Running");
    let out = kubectl(&api, &bin, &["logs", "-f", "k"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "first\nsecond\n");
    wait_for(&api, "k", "succeeded", |p| phase(p) == "Succeeded");
    let mut statuses: Vec<String> = Vec::new();
    while statuses.last().map(String::as_str) != Some("Completed") {
        let l = watch.next();
        let cols: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(cols[0], "k", "{l}");
        if statuses.last().map(String::as_str) != Some(cols[2]) {
            statuses.push(cols[2].to_string());
        }
    }
    assert_eq!(
        statuses,
        ["Pending", "ContainerCreating", "Running", "Completed"]
    );

    // A pending pod's logs: the API's 400, as kubectl prints it. (A long
    // ContainerCreating for pods created from now on.)
    let cfg = |delay| KubeletConfig {
        start_delay: Duration::from_millis(delay),
        ..KubeletConfig::default().image(IMAGE, &exe)
    };
    api.enable_kubelet(cfg(60_000));
    api.insert(pod_json("creating", IMAGE, &[]).tap_ns())
        .unwrap();
    let out = kubectl(&api, &bin, &["logs", "creating"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error from server (BadRequest): container \"probe\" in pod \"creating\" is waiting to start: ContainerCreating\n"
    );
    // `kubectl delete pod` waits for the kubelet to finish the deletion:
    // at once for a pod that never ran, after SIGTERM for a running one.
    let out = kubectl(&api, &bin, &["delete", "pod", "creating"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    api.enable_kubelet(cfg(0));
    api.insert(pod_json("slow", IMAGE, &["wait"]).tap_ns())
        .unwrap();
    wait_for(&api, "slow", "ran", |p| phase(p) == "Running");
    let pid = api.pod_pid(NS, "slow").unwrap();
    let out = kubectl(&api, &bin, &["delete", "pod", "slow"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pod \"slow\" deleted\n"
    );
    assert!(api.get("v1", "Pod", NS, "slow").is_none());
    wait_gone(pid);
    // `kubectl delete pod -l` on what is left.
    let out = kubectl(&api, &bin, &["delete", "pod", "-l", SELECTOR])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "pod \"k\" deleted\n");
    assert!(api.list("v1", "Pod").is_empty());
}

trait TapNs {
    fn tap_ns(self) -> Value;
}

impl TapNs for Value {
    fn tap_ns(mut self) -> Value {
        self["metadata"]["namespace"] = json!(NS);
        self
    }
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn netns_mode_runs_the_container_inside_the_namespace() {
    use acmecheck_testkit::proc::Netns;
    acmecheck_testkit::lab::require_root("the kubelet's netns mode");
    let netns = Netns::create("kubelet").unwrap();
    netns.set_resolver("198.51.100.53").unwrap();
    let scripts = Scripts::new("netns");
    let exe = scripts.write(
        "probe",
        "readlink /proc/self/ns/net\ngrep nameserver /etc/resolv.conf",
    );
    let api = FakeApi::spawn().unwrap();
    api.enable_kubelet(KubeletConfig {
        netns: Some(netns.name.clone()),
        pod_ip: Some("198.51.100.100".into()),
        start_delay: Duration::from_millis(0),
        ..KubeletConfig::default().image(IMAGE, &exe)
    });
    api.insert(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}))
        .unwrap();
    api.insert(pod_json("n", IMAGE, &[]).tap_ns()).unwrap();
    wait_for(&api, "n", "succeeded", |p| phase(p) == "Succeeded");
    let ours = std::fs::read_link("/proc/self/ns/net").unwrap();
    let theirs = acmecheck_testkit::proc::run(
        "ip",
        &[
            "netns",
            "exec",
            &netns.name,
            "readlink",
            "/proc/self/ns/net",
        ],
    )
    .unwrap();
    let want = format!("{}\nnameserver 198.51.100.53\n", theirs.trim());
    // The log shows the namespace's identity and its resolv.conf.
    let logs = {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            client(&api)
                .await
                .logs("n", &LogParams::default())
                .await
                .unwrap()
        })
    };
    assert_eq!(logs, want);
    assert_ne!(ours.to_string_lossy(), theirs.trim());
}

#[tokio::test]
async fn fake_apiserver_binary_runs_pods_and_kills_them_on_sigterm() {
    let scripts = Scripts::new("bin");
    let exe = scripts.write(
        "probe",
        "echo \"from the binary: $1\"\n[ \"$1\" = wait ] && exec sleep 60\nexit 0",
    );
    let kc = scripts.0.join("kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-apiserver"))
        .arg(format!("--kubelet-image={IMAGE}={}", exe.display()))
        .args(["--pod-ip", "198.51.100.77", "--namespace", NS])
        .arg("--kubeconfig-out")
        .arg(&kc)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(u32);
    impl Drop for Kill {
        fn drop(&mut self) {
            // SAFETY: signalling the child started by this test, by PID.
            unsafe { libc::kill(self.0 as i32, libc::SIGKILL) };
        }
    }
    let _guard = Kill(child.id());
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let cfg = Config::from_custom_kubeconfig(
        Kubeconfig::read_from(&kc).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    let client = Client::try_from(cfg).unwrap();
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": NS}})).unwrap(),
        )
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client, NS);
    let pp = PostParams::default();
    pods.create(&pp, &pod("once", IMAGE, &["once"]))
        .await
        .unwrap();
    pods.create(&pp, &pod("long", IMAGE, &["wait"]))
        .await
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    let (once, long) = loop {
        let once = pods.get("once").await.unwrap();
        let long = pods.get("long").await.unwrap();
        let ph = |p: &Pod| {
            p.status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_default()
        };
        if ph(&once) == "Succeeded" && ph(&long) == "Running" {
            break (once, long);
        }
        assert!(Instant::now() < until, "pods did not progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let ip = |p: &Pod| p.status.as_ref().and_then(|s| s.pod_ip.clone());
    assert_eq!(ip(&once).as_deref(), Some("198.51.100.77"));
    assert_eq!(ip(&long).as_deref(), Some("198.51.100.77"));
    let logs = pods.logs("once", &LogParams::default()).await.unwrap();
    assert_eq!(logs, "from the binary: once\n");
    // The long-running container's process: find it by its parent (the binary).
    let sleeper = children_of(child.id())
        .into_iter()
        .next()
        .expect("the container process is a child of fake-apiserver");
    // SAFETY: signalling the child started by this test, by PID.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    assert!(child.wait().unwrap().success());
    wait_gone(sleeper);
}

/// PIDs whose parent is `ppid` (from /proc).
fn children_of(ppid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
        if after.split_whitespace().nth(1) == Some(&ppid.to_string()) {
            out.push(pid);
        }
    }
    out
}

#[tokio::test]
async fn delete_collection_is_graceful_for_each_pod() {
    let (api, pods, _scripts) = env("collection", "exec sleep 60", 0, json!({})).await;
    let pp = PostParams::default();
    let mut pids = Vec::new();
    for name in ["c1", "c2"] {
        pods.create(&pp, &pod(name, IMAGE, &[])).await.unwrap();
        wait_for(&api, name, "ran", |p| phase(p) == "Running");
        pids.push(api.pod_pid(NS, name).unwrap());
    }
    let lp = kube::api::ListParams::default().labels(SELECTOR);
    let r = pods
        .delete_collection(&DeleteParams::default(), &lp)
        .await
        .unwrap();
    let list = r.left().expect("the list of pods being deleted");
    assert_eq!(list.items.len(), 2);
    assert!(
        list.items
            .iter()
            .all(|p| p.metadata.deletion_timestamp.is_some())
    );
    for pid in pids {
        wait_gone(pid);
    }
    let until = Instant::now() + Duration::from_secs(10);
    while !api.list("v1", "Pod").is_empty() {
        assert!(Instant::now() < until, "pods not removed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
