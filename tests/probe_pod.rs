//! The probe pod against the fake API server and its fake kubelet: the whole binary creates,
//! watches, reads and deletes its pod, and the kubelet runs the freshly built binary as the
//! image (or a small script standing in for a broken or slow image).
//!
//! The challenge's dnsName is rewritten to 127.0.0.1, so both vantages probe 127.0.0.1:80 (nothing
//! listens there: a fast, real `connect_refused` report) and no DNS query leaves the machine.

use acmecheck_testkit::fakeapi::{FakeApi, KubeletConfig, PodSecurityLevel, pod_security_evaluate};
use kubectl_acmecheck::image::DEFAULT_PROBE_IMAGE;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_kubectl-acmecheck");
const MANAGED: &str = "app.kubernetes.io/managed-by";

/// Images the fake kubelet knows besides the default one (which runs the binary itself).
const IMAGES: &[(&str, &str)] = &[
    // Slow: Running for 0.4 s before the probe starts.
    ("test/slow:1", "sleep 0.4\nexec \"$BIN\" \"$@\""),
    // 7 MB of blank lines before a slow probe: a log read that takes a while.
    (
        "test/padded:1",
        "yes \"$(printf '%1000s' '')\" | head -n 7000\nsleep 0.4\nexec \"$BIN\" \"$@\"",
    ),
    ("test/hang:1", "exec sleep 30"),
    ("test/junk:1", "echo 'exec /probe: exec format error'"),
    (
        "test/v2:1",
        "echo '{\"apiVersion\":\"acmecheck.io/v2\",\"targets\":[]}'",
    ),
    (
        "test/big:1",
        "head -c 20971520 /dev/zero | tr '\\0' x\necho",
    ),
    (
        "test/fails:1",
        "echo 'error: cannot bind: permission denied' >&2\nexit 2",
    ),
];

struct Cluster {
    api: FakeApi,
    kubeconfig: PathBuf,
    _scripts: tempfile::TempDir,
}

fn cluster() -> Cluster {
    cluster_with(Duration::from_millis(20))
}

/// The selfcheck-refused scenario, a cert-manager namespace, and the fake kubelet with
/// `start_delay` (how long a pod stays ContainerCreating).
fn cluster_with(start_delay: Duration) -> Cluster {
    let api = FakeApi::spawn().expect("fake API server");
    api.load_dir(Path::new(ROOT).join("tests/fixtures/chain/selfcheck-refused"))
        .expect("fixtures");
    api.insert(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cert-manager"}}),
    )
    .unwrap();
    for mut ch in api.list("acme.cert-manager.io/v1", "Challenge") {
        ch["spec"]["dnsName"] = json!("127.0.0.1");
        api.update(ch).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = KubeletConfig {
        start_delay,
        ..Default::default()
    }
    .image(DEFAULT_PROBE_IMAGE, BIN);
    for (image, body) in IMAGES {
        let path = dir.path().join(image.replace(['/', ':'], "_"));
        std::fs::write(&path, format!("#!/bin/sh\nBIN='{BIN}'\n{body}\n")).unwrap();
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&path, perms).unwrap();
        cfg = cfg.image(*image, path);
    }
    api.enable_kubelet(cfg);
    let kubeconfig = api.kubeconfig().to_owned();
    Cluster {
        api,
        kubeconfig,
        _scripts: dir,
    }
}

fn probe_pods(api: &FakeApi) -> Vec<Value> {
    api.list("v1", "Pod")
        .into_iter()
        .filter(|p| p["metadata"]["labels"][MANAGED] == "kubectl-acmecheck")
        .collect()
}

fn start(c: &Cluster, extra: &[&str]) -> Child {
    Command::new(BIN)
        .args(["web", "-n", "shop", "-o", "json", "--attempts", "3"])
        .args(extra)
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .env_remove("KUBECONFIG")
        .env_remove("ACMECHECK_PROBE_IMAGE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kubectl-acmecheck")
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// How long any run may take before the test kills it and fails: far beyond what a run needs
/// (its probe pod deadline is 120 s only in the tests that wait for a pod that never ends, and
/// none of them gets that far), so only a hang reaches it.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// Wait for the run to exit (at most [`RUN_LIMIT`]: then it is killed and the test fails).
fn finish(child: Child, started: Instant) -> Out {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(RUN_LIMIT) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("kubectl-acmecheck (pid {pid}) did not exit within {RUN_LIMIT:?}; killed");
        }
    };
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

fn run(c: &Cluster, extra: &[&str]) -> Out {
    let t = Instant::now();
    finish(start(c, extra), t)
}

/// Pods as the API server saw them created (from the POST bodies we cannot see, so from the
/// watch history): the pods' specs are checked while they exist.
fn created_pod(c: &Cluster, child: &mut Child) -> Value {
    let mut found = None;
    assert!(wait_for(Duration::from_secs(20), || {
        found = probe_pods(&c.api).into_iter().next();
        found.is_some() || child.try_wait().ok().flatten().is_some()
    }));
    found.expect("a probe pod was created")
}

/// `text` contains every one of `needles`.
#[track_caller]
fn says(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "{n:?} not in:\n{text}");
    }
}

fn report(out: &Out) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr))
}

fn resource_requests(api: &FakeApi) -> Vec<String> {
    api.requests()
        .into_iter()
        .filter(|r| !r.is_discovery())
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect()
}

#[test]
fn success_both_vantages_four_pod_requests_and_the_pod_is_gone() {
    let c = cluster();
    let t = Instant::now();
    let mut child = start(&c, &[]);
    let pod = created_pod(&c, &mut child);
    let out = finish(child, t);
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    assert_eq!(out.stderr, "", "nothing on stderr on success");
    let r = report(&out);
    let ch = &r["certificates"][0]["challenges"][0];
    assert_eq!(
        ch["vantages"]["local"]["addresses"][0]["address"], "127.0.0.1",
        "{ch:#}"
    );
    let inside = &ch["vantages"]["inCluster"];
    assert_eq!(inside["addresses"][0]["address"], "127.0.0.1", "{ch:#}");
    assert_eq!(inside["addresses"][0]["attempts"], 3, "{inside:#}");
    // Placed in cert-manager's namespace with the default image, our labels and the plan.
    assert_eq!(pod["metadata"]["namespace"], "cert-manager");
    assert_eq!(
        pod["metadata"]["labels"]["app.kubernetes.io/name"],
        "kubectl-acmecheck"
    );
    let k = &pod["spec"]["containers"][0];
    assert_eq!(k["image"], DEFAULT_PROBE_IMAGE);
    assert_eq!(k["args"][0], "probe");
    assert_eq!(k["args"][1], "--plan-json");
    let plan: Value = serde_json::from_str(k["args"][2].as_str().unwrap()).unwrap();
    assert_eq!(plan["options"]["vantage"], "in-cluster");
    assert!(probe_pods(&c.api).is_empty(), "probe pod left behind");
    let reqs = resource_requests(&c.api);
    let pod_reqs: Vec<&String> = reqs
        .iter()
        .filter(|r| r.contains("/pods") && !r.contains("http01-solver"))
        .collect();
    println!(
        "{} requests ({} for the probe pod), whole run {:?}:\n{}",
        reqs.len(),
        pod_reqs.len(),
        out.took,
        reqs.join("\n")
    );
    assert_eq!(pod_reqs.len(), 4, "{pod_reqs:#?}");
    assert!(pod_reqs[0].starts_with("POST /api/v1/namespaces/cert-manager/pods"));
    assert!(pod_reqs[1].starts_with("GET /api/v1/namespaces/cert-manager/pods?watch=true&labelSelector=app.kubernetes.io%2Fmanaged-by%3Dkubectl-acmecheck"));
    assert!(!pod_reqs[1].contains("resourceVersion"));
    assert!(
        pod_reqs[2].contains("/log?") && pod_reqs[2].contains("limitBytes=8388609"),
        "{}",
        pod_reqs[2]
    );
    assert!(pod_reqs[3].starts_with("DELETE "));
    assert_eq!(reqs.len(), 16, "chain 12 + pod 4");
}

#[test]
fn local_only_and_no_probe_start_no_pod() {
    let c = cluster();
    for flag in ["--local-only", "--no-probe"] {
        let out = run(&c, &[flag]);
        assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
        assert!(
            !resource_requests(&c.api)
                .iter()
                .any(|r| r.starts_with("POST")),
            "{flag}"
        );
    }
}

#[test]
fn restricted_namespace_admits_the_probe_pod() {
    let c = cluster();
    let mut ns = c.api.get("v1", "Namespace", "", "cert-manager").unwrap();
    ns["metadata"]["labels"] = json!({"pod-security.kubernetes.io/enforce": "restricted"});
    c.api.update(ns).unwrap();
    let t = Instant::now();
    let mut child = start(&c, &[]);
    let pod = created_pod(&c, &mut child);
    let out = finish(child, t);
    assert_eq!(out.stderr, "");
    assert!(report(&out)["certificates"][0]["challenges"][0]["vantages"]["inCluster"].is_object());
    assert_eq!(pod["metadata"]["namespace"], "cert-manager");
    assert!(pod_security_evaluate(&pod, PodSecurityLevel::Restricted, u32::MAX).is_empty());
    // The namespace does enforce: the same pod, one rule weaker, is refused by the API server.
    let mut weak = pod.clone();
    weak["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = json!(true);
    weak["metadata"] = json!({"name": "weak", "namespace": "cert-manager"});
    weak.as_object_mut().unwrap().remove("status");
    assert!(!pod_security_evaluate(&weak, PodSecurityLevel::Restricted, u32::MAX).is_empty());
    let mut kubectl = Command::new("kubectl")
        .args(["create", "-f", "-", "--kubeconfig"])
        .arg(&c.kubeconfig)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl on PATH");
    std::io::Write::write_all(kubectl.stdin.as_mut().unwrap(), weak.to_string().as_bytes())
        .unwrap();
    drop(kubectl.stdin.take());
    let refused = kubectl.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{err}");
    says(&err, &["violates PodSecurity \"restricted:latest\""]);
}

#[test]
fn forbidden_in_cert_manager_falls_back_to_the_certificates_namespace() {
    let c = cluster();
    c.api.deny("create", "", "pods", Some("cert-manager"));
    let t = Instant::now();
    let mut child = start(&c, &[]);
    let pod = created_pod(&c, &mut child);
    let out = finish(child, t);
    assert_eq!(out.stderr, "");
    assert!(report(&out)["certificates"][0]["challenges"][0]["vantages"]["inCluster"].is_object());
    assert_eq!(pod["metadata"]["namespace"], "shop");
    let posts: Vec<String> = resource_requests(&c.api)
        .into_iter()
        .filter(|r| r.starts_with("POST"))
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(probe_pods(&c.api).is_empty());
}

#[test]
fn forbidden_everywhere_goes_on_with_the_local_vantage() {
    let c = cluster();
    c.api.deny("create", "", "pods", None);
    let out = run(&c, &[]);
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    says(
        &out.stderr,
        &[
            "not allowed to create pods in namespace \"shop\"",
            "continuing with the local vantage only",
            "--verb=create,get,watch,delete --resource=pods,pods/log -n shop",
        ],
    );
    let r = report(&out);
    let v = &r["certificates"][0]["challenges"][0]["vantages"];
    assert!(v["local"].is_object());
    assert!(v["inCluster"].is_null());
    // With --probe-namespace there is no fallback: one POST.
    c.api.clear_requests();
    let out = run(&c, &["--probe-namespace", "cert-manager"]);
    assert!(
        out.stderr
            .contains("not allowed to create pods in namespace \"cert-manager\""),
        "{}",
        out.stderr
    );
    let posts = resource_requests(&c.api)
        .iter()
        .filter(|r| r.starts_with("POST"))
        .count();
    assert_eq!(posts, 1);
}

/// A run whose probe pod fails: the run goes on (exit 0/1), the local vantage is reported,
/// the in-cluster one is missing, the pod is gone, and stderr says why.
fn failing(c: &Cluster, extra: &[&str]) -> String {
    failing_run(c, extra).stderr
}

/// [`failing`], with the whole output.
fn failing_run(c: &Cluster, extra: &[&str]) -> Out {
    let out = run(c, extra);
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    assert!(probe_pods(&c.api).is_empty(), "probe pod left behind");
    let v = &report(&out)["certificates"][0]["challenges"][0]["vantages"];
    assert!(v["local"].is_object() && v["inCluster"].is_null(), "{v:#}");
    assert!(
        out.stderr.starts_with("warning: in-cluster probe: "),
        "{}",
        out.stderr
    );
    out
}

#[test]
fn unknown_image_is_named_with_a_hint() {
    let c = cluster();
    let err = failing(&c, &["--probe-image", "mirror.example/probe:v0"]);
    says(
        &err,
        &[
            "the probe image \"mirror.example/probe:v0\" could not be pulled (ErrImagePull: ",
            "pass --probe-image",
        ],
    );
    // The environment variable works the same way.
    let out = Command::new(BIN)
        .args(["web", "-n", "shop", "-o", "json", "--attempts", "1"])
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .env("ACMECHECK_PROBE_IMAGE", "env.example/probe:v1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    says(&err, &["\"env.example/probe:v1\" could not be pulled"]);
}

#[test]
fn unschedulable_shows_the_schedulers_message() {
    let c = cluster();
    let err = failing(&c, &["--probe-node", "node-zz"]);
    says(
        &err,
        &[
            "cannot be scheduled: 0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector",
        ],
    );
}

#[test]
fn deadline_exceeded() {
    let c = cluster();
    let args = ["--probe-image", "test/hang:1", "--probe-timeout", "1s"];
    let out = failing_run(&c, &args);
    let err = &out.stderr;
    // Two ways to see the deadline, both right: the kubelet fails the pod at 1 s
    // (DeadlineExceeded), or, when the kubelet is slow to say so, the client gives up on its
    // own 2 s later. Which one wins is timing; that it is a deadline, and said so, is not.
    let by_kubelet = err.contains("did not finish within its deadline (DeadlineExceeded");
    let by_client = err.contains("did not finish within 1s (--probe-timeout)");
    assert!(by_kubelet || by_client, "no deadline message:\n{err}");
    println!(
        "deadline seen by the {}",
        if by_kubelet { "kubelet" } else { "client" }
    );
    says(err, &["raise --probe-timeout"]);
    assert_eq!(
        report(&out)["inCluster"]["problem"]["kind"],
        "deadline-exceeded",
        "{}",
        out.stderr
    );
}

#[test]
fn malformed_and_oversized_reports() {
    let c = cluster();
    let err = failing(&c, &["--probe-image", "test/junk:1"]);
    says(&err, &["is unusable: the probe pod's output is not JSON"]);
    says(&err, &["exec /probe: exec format error"]);
    let err = failing(&c, &["--probe-image", "test/v2:1"]);
    says(&err, &["reported apiVersion \"acmecheck.io/v2\""]);
    let err = failing(&c, &["--probe-image", "test/big:1"]);
    says(&err, &["larger than the 8 MiB limit"]);
    let err = failing(&c, &["--probe-image", "test/fails:1"]);
    says(
        &err,
        &["exited with code 2 without a report: error: cannot bind: permission denied"],
    );
}

#[test]
fn killed_pod_is_said_plainly() {
    let c = cluster();
    let child = start(&c, &["--probe-image", "test/hang:1"]);
    let t = Instant::now();
    let mut name = String::new();
    assert!(wait_for(Duration::from_secs(20), || {
        probe_pods(&c.api).iter().any(|p| {
            name = p["metadata"]["name"].as_str().unwrap_or("").to_owned();
            p["status"]["phase"] == "Running"
        })
    }));
    c.api.kill_pod("cert-manager", &name, 9).unwrap();
    let out = finish(child, t);
    says(&out.stderr, &["was OOMKilled (exit code 137"]);
    assert!(probe_pods(&c.api).is_empty());
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([format!("-{sig}"), child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

/// Wait until `cond` holds (polling the fake API), at most `limit`.
fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

/// When, in a run, the signal is sent.
#[derive(Clone, Copy, Debug)]
enum Moment {
    /// After this many resource requests (1: during the chain, before the POST; the chain's
    /// requests go out together, so 6 and 12 usually land just after the POST).
    Chain(usize),
    /// This long after the POST; the kubelet keeps the pod ContainerCreating for a minute, so it
    /// is still Pending when the signal goes out (checked).
    Pending(u64),
    /// This long after the pod is Running; its container never ends on its own (checked).
    Running(u64),
    /// As soon as the log GET is seen (7 MiB of log; the only moment at which the run may
    /// finish before the signal arrives).
    ReadingLog,
}

impl Moment {
    /// Every moment the interrupt test uses: 12.
    fn all() -> Vec<Moment> {
        let mut moments = vec![Moment::Chain(1), Moment::Chain(6), Moment::Chain(12)];
        moments.extend([0, 50, 150, 250].map(Moment::Pending));
        moments.extend([0, 100, 200, 300].map(Moment::Running));
        moments.push(Moment::ReadingLog);
        moments
    }
}

fn posted(api: &FakeApi) -> bool {
    api.requests().iter().any(|r| r.method == "POST")
}

/// The phase of the probe pod ("-" when there is none).
fn pod_phase(api: &FakeApi) -> String {
    probe_pods(api)
        .first()
        .and_then(|p| p["status"]["phase"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "-".into())
}

/// One run interrupted at `moment` with `sig`: returns (exit code, stderr, the pod's phase when
/// the signal was sent). Apart from ReadingLog, the run cannot end on its own before the
/// signal: its pod never finishes (an image that sleeps, or one that never starts), so no
/// sleep window decides what is tested.
fn interrupted_run(moment: Moment, sig: &str) -> (i32, String, String) {
    let (start_delay, image) = match moment {
        Moment::Pending(_) => (Duration::from_secs(60), "test/hang:1"),
        Moment::ReadingLog => (Duration::from_millis(300), "test/padded:1"),
        Moment::Chain(_) | Moment::Running(_) => (Duration::from_millis(20), "test/hang:1"),
    };
    let c = cluster_with(start_delay);
    let started = Instant::now();
    let child = start(&c, &["--probe-image", image]);
    let api = &c.api;
    let limit = Duration::from_secs(20);
    let reached = match moment {
        Moment::Chain(n) => wait_for(limit, || {
            api.requests().iter().filter(|r| !r.is_discovery()).count() >= n
        }),
        Moment::Pending(ms) => {
            // The POST is logged before the pod is stored: wait for the pod itself.
            let ok = wait_for(limit, || posted(api) && pod_phase(api) == "Pending");
            std::thread::sleep(Duration::from_millis(ms));
            ok
        }
        Moment::Running(ms) => {
            let ok = wait_for(limit, || pod_phase(api) == "Running");
            std::thread::sleep(Duration::from_millis(ms));
            ok
        }
        Moment::ReadingLog => wait_for(limit, || {
            api.requests().iter().any(|r| r.path.ends_with("/log"))
        }),
    };
    assert!(reached, "{moment:?} never came");
    let phase = pod_phase(api);
    signal(&child, sig);
    match moment {
        Moment::Pending(_) => assert_eq!(phase, "Pending", "{moment:?}"),
        Moment::Running(_) => assert_eq!(phase, "Running", "{moment:?}"),
        _ => {}
    }
    // Bounded: the run exits within RUN_LIMIT (its cleanup waits 10 s per request at most).
    let out = finish(child, started);
    let left = probe_pods(api);
    assert!(
        left.is_empty(),
        "{moment:?} {sig}: probe pods left behind: {left:#?}\n{}",
        out.stderr
    );
    (out.code, out.stderr, phase)
}

/// SIGINT and SIGTERM at 12 moments of a run (before the POST, Pending, Running, reading the
/// log): 24 runs, 8 at a time. Never a pod left behind; exit 130/143 after deleting it.
#[test]
fn interrupted_at_any_moment_leaves_no_pod() {
    let moments = Moment::all();
    let runs: Vec<(Moment, &str)> = moments
        .iter()
        .flat_map(|m| [(*m, "INT"), (*m, "TERM")])
        .collect();
    println!(
        "SIGINT and SIGTERM at {} moments of a run ({} runs)",
        moments.len(),
        runs.len()
    );
    // The README says how many; keep it true.
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let claim = format!(
        "at {} moments of a run ({} runs)",
        moments.len(),
        runs.len()
    );
    assert!(readme.contains(&claim), "README.md does not say {claim:?}");
    let results: Vec<(Moment, &str, i32, String, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .chunks(runs.len().div_ceil(8))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(m, sig)| {
                            let (code, stderr, phase) = interrupted_run(*m, sig);
                            (*m, *sig, code, stderr, phase)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(results.len(), runs.len());
    let mut interrupted = 0;
    for (m, sig, code, stderr, phase) in &results {
        let want = if *sig == "INT" { 130 } else { 143 };
        println!(
            "{m:?} SIG{sig} (pod {phase}): exit {code}: {}",
            stderr.trim().replace('\n', " | ")
        );
        match m {
            // The log read can end before the signal arrives: then the run completes.
            Moment::ReadingLog if *code != want => assert!(*code == 0 || *code == 1, "{stderr}"),
            _ => assert_eq!(*code, want, "{m:?} SIG{sig}: {stderr}"),
        }
        if *code == want {
            interrupted += 1;
            assert!(
                stderr.contains(&format!("interrupted (SIG{sig})")),
                "{stderr}"
            );
            // At ReadingLog the run may already have deleted its pod on its own path (right
            // after the log) when the signal arrives, while this machine's probe or the report
            // still runs: nothing is left to delete then (no pod left: see interrupted_run).
            if !matches!(m, Moment::Chain(_) | Moment::ReadingLog) {
                assert!(
                    stderr.contains("deleted probe pod cert-manager/acmecheck-probe-"),
                    "{m:?}: {stderr}"
                );
            }
        }
    }
    // Every run but the two at ReadingLog cannot end before its signal.
    assert!(
        interrupted >= runs.len() - 2,
        "{interrupted} of {} runs interrupted",
        runs.len()
    );
}

/// A `kill -9` leaves the pod; the next run warns about it once it is older than the deadline,
/// and `cleanup` removes it and says so.
#[test]
fn kill_9_leftover_is_warned_about_and_cleaned_up() {
    let c = cluster();
    let child = start(&c, &["--probe-image", "test/hang:1"]);
    assert!(wait_for(Duration::from_secs(20), || {
        probe_pods(&c.api)
            .iter()
            .any(|p| p["status"]["phase"] == "Running")
    }));
    signal(&child, "KILL");
    let _ = finish(child, Instant::now());
    let leftover = probe_pods(&c.api);
    assert_eq!(leftover.len(), 1);
    let name = leftover[0]["metadata"]["name"].as_str().unwrap().to_owned();
    // The next run warns about pods older than its deadline, in whole seconds from the
    // creationTimestamp (both truncated: waiting 5.1 s makes an age of at least 5 s, > 4 s).
    // The leftover ages by waiting (a lower bound: a busy machine only makes it older); the
    // deadline is 4 s, not 1 s, because the next run's own probe pod must finish within it.
    std::thread::sleep(Duration::from_millis(5100));
    let out = run(&c, &["--probe-timeout", "4s"]);
    says(
        &out.stderr,
        &[
            &format!(
                "warning: 1 probe pod(s) of earlier runs are still in namespace \"cert-manager\", older than the 4s deadline: {name} ("
            ),
            "kubectl acmecheck cleanup -n cert-manager",
        ],
    );
    assert!(report(&out)["certificates"][0]["challenges"][0]["vantages"]["inCluster"].is_object());
    assert_eq!(probe_pods(&c.api).len(), 1, "only the leftover remains");
    let cleanup = |args: &[&str]| {
        let out = Command::new(BIN)
            .arg("cleanup")
            .args(args)
            .arg("--kubeconfig")
            .arg(&c.kubeconfig)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(
        cleanup(&["-n", "shop"]),
        "no probe pods in namespace \"shop\"\n"
    );
    let said = cleanup(&["-n", "cert-manager"]);
    assert!(
        said.starts_with(&format!("deleted pod cert-manager/{name} (")),
        "{said}"
    );
    assert!(probe_pods(&c.api).is_empty());
    assert_eq!(cleanup(&["-A"]), "no probe pods in any namespace\n");
}

/// Pod mode: exactly one line on stdout (the report), nothing on stderr.
#[test]
fn pod_mode_prints_one_line_and_nothing_on_stderr() {
    let plan = json!({"apiVersion": "acmecheck.io/v1alpha1",
        "targets": [{"id": "shop/x", "dnsName": "127.0.0.1", "token": "t", "expectedKey": "k"}],
        "options": {"attemptsPerAddress": 2, "vantage": "in-cluster"}});
    let out = Command::new(BIN)
        .args(["probe", "--plan-json", &plan.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.ends_with('\n'));
    let r: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(r["vantage"], "in-cluster");
    assert_eq!(r["targets"][0]["addresses"][0]["attempts"], 2);
    // A plan in parts (as a plan larger than one exec argument is passed) is joined.
    let text = plan.to_string();
    let (a, b) = text.split_at(text.len() / 2);
    let out = Command::new(BIN)
        .args(["probe", "--plan-json", a, b])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["targets"][0]["id"], "shop/x");
}

/// RBAC on the other three verbs: a forbidden watch or log read is named and the pod still
/// deleted; a forbidden delete is said with the command that removes the pod.
#[test]
fn forbidden_watch_log_and_delete_are_named() {
    let c = cluster();
    c.api.deny("watch", "", "pods", Some("cert-manager"));
    let err = failing(&c, &[]);
    says(
        &err,
        &[
            "not allowed to watch pods in namespace \"cert-manager\"",
            "--resource=pods,pods/log -n cert-manager",
        ],
    );
    c.api.allow_all();
    c.api.deny("get", "", "pods/log", Some("cert-manager"));
    let err = failing(&c, &[]);
    says(
        &err,
        &["not allowed to get pods/log in namespace \"cert-manager\""],
    );
    c.api.allow_all();
    c.api.deny("delete", "", "pods", Some("cert-manager"));
    let out = run(&c, &[]);
    says(
        &out.stderr,
        &[
            "warning: could not delete the probe pod cert-manager/acmecheck-probe-",
            "kubectl acmecheck cleanup -n cert-manager",
        ],
    );
    // The report itself was read before the delete failed.
    assert!(report(&out)["certificates"][0]["challenges"][0]["vantages"]["inCluster"].is_object());
    assert_eq!(probe_pods(&c.api).len(), 1);
}

/// On a terminal, stderr carries a progress line that is cleared at the end (elsewhere stderr
/// stays empty: see the success test). `script` (util-linux) provides the terminal.
#[test]
fn progress_line_only_on_a_terminal() {
    let c = cluster();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("tty.log");
    let cmd = format!(
        "{BIN} web -n shop -o json --attempts 3 --kubeconfig {} >/dev/null",
        c.kubeconfig.display()
    );
    let status = Command::new("script")
        .args(["-qec", &cmd])
        .arg(&log)
        .stdout(Stdio::null())
        .status()
        .expect("script (util-linux) on PATH");
    assert!(status.code() == Some(0) || status.code() == Some(1));
    let text = String::from_utf8_lossy(&std::fs::read(&log).unwrap()).into_owned();
    says(
        &text,
        &[
            "\r\x1b[2K⠿ creating probe pod cert-manager/acmecheck-probe-",
            ": Running",
            "\r\x1b[2K⠿ reading the report of probe pod cert-manager/acmecheck-probe-",
        ],
    );
    // Cleared at the end: the last thing written is the erase sequence.
    let progress_end = text.rfind("\r\x1b[2K").unwrap();
    assert!(!text[progress_end + 5..].contains('⠿'), "{text:?}");
}
