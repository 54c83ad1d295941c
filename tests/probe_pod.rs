//! The probe pod against the fake API server: the whole binary creates, watches, reads and
//! deletes its pod. Pod states are driven by the test itself ([`Driver`]) standing in for the
//! kubelet: it runs the freshly built binary with the pod's own args for a successful pod, or
//! writes the status a real kubelet/scheduler would for the failure cases.
//!
//! The challenge's dnsName is rewritten to 127.0.0.1, so both vantages probe 127.0.0.1:80 (nothing
//! listens there: a fast, real `connect_refused` report) and no DNS query leaves the machine.

use acmecheck_testkit::fakeapi::FakeApi;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_kubectl-acmecheck");
const MANAGED: &str = "app.kubernetes.io/managed-by";

struct Cluster {
    api: Arc<FakeApi>,
    kubeconfig: PathBuf,
}

fn cluster() -> Cluster {
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
    let kubeconfig = api.kubeconfig().to_owned();
    Cluster {
        api: Arc::new(api),
        kubeconfig,
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

fn finish(child: Child, started: Instant) -> Out {
    let out = child.wait_with_output().expect("wait");
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

/// What the stand-in kubelet does with a new probe pod.
#[derive(Clone)]
enum Act {
    /// Run the binary with the pod's args, log its output, end Succeeded (or Failed).
    Run,
    /// Like `Run`, but Pending for `pending`, then Running for at least `running`, and the log
    /// padded with `pad` bytes of blank lines before the report (a slow log read).
    Slow {
        pending: Duration,
        running: Duration,
        pad: usize,
    },
    /// Log this text and end Succeeded.
    Log(String),
    /// Set this `status`.
    Status(Value),
    /// Leave it Pending.
    Nothing,
}

/// A stand-in kubelet: acts once on each new probe pod. Stops when dropped.
struct Driver {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    seen: Arc<Mutex<Vec<Value>>>,
}

impl Driver {
    fn new(api: &Arc<FakeApi>, act: Act) -> Driver {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (api, s, seen2) = (api.clone(), stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            let mut done: Vec<String> = Vec::new();
            while !s.load(Ordering::Relaxed) {
                for pod in probe_pods(&api) {
                    let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
                    if done.contains(&name) {
                        continue;
                    }
                    done.push(name.clone());
                    seen2.lock().unwrap().push(pod.clone());
                    act_on(&api, pod, &act);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Driver {
            stop,
            thread: Some(thread),
            seen,
        }
    }

    fn pods(&self) -> Vec<Value> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn set_status(api: &FakeApi, pod: &Value, status: Value) {
    let mut pod = pod.clone();
    pod["status"] = status;
    let _ = api.update(pod);
}

fn terminated(exit_code: i32, reason: &str) -> Value {
    json!({"phase": if exit_code == 0 { "Succeeded" } else { "Failed" },
        "containerStatuses": [{"name": "probe", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": exit_code, "reason": reason}}}]})
}

fn act_on(api: &FakeApi, pod: Value, act: &Act) {
    let ns = pod["metadata"]["namespace"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let name = pod["metadata"]["name"].as_str().unwrap_or("").to_owned();
    match act {
        Act::Run => act_on(
            api,
            pod,
            &Act::Slow {
                pending: Duration::ZERO,
                running: Duration::ZERO,
                pad: 0,
            },
        ),
        Act::Slow {
            pending,
            running,
            pad,
        } => {
            let args: Vec<String> =
                serde_json::from_value(pod["spec"]["containers"][0]["args"].clone()).unwrap();
            set_status(
                api,
                &pod,
                json!({"phase": "Pending", "containerStatuses": [{"name": "probe", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ContainerCreating"}}}]}),
            );
            std::thread::sleep(*pending);
            let Some(pod) = api.get("v1", "Pod", &ns, &name) else {
                return;
            };
            set_status(api, &pod, json!({"phase": "Running"}));
            let t = Instant::now();
            let out = Command::new(BIN).args(&args).output().unwrap();
            std::thread::sleep(running.saturating_sub(t.elapsed()));
            let mut log = "\n".repeat(*pad);
            log.push_str(&String::from_utf8_lossy(&out.stdout));
            log.push_str(&String::from_utf8_lossy(&out.stderr));
            if api.get("v1", "Pod", &ns, &name).is_none() {
                return;
            }
            api.set_pod_logs(&ns, &name, &log);
            let code = out.status.code().unwrap_or(137);
            if let Some(p) = api.get("v1", "Pod", &ns, &name) {
                set_status(
                    api,
                    &p,
                    terminated(code, if code == 0 { "Completed" } else { "Error" }),
                );
            }
        }
        Act::Log(text) => {
            api.set_pod_logs(&ns, &name, text);
            set_status(api, &pod, terminated(0, "Completed"));
        }
        Act::Status(s) => set_status(api, &pod, s.clone()),
        Act::Nothing => {}
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
    let driver = Driver::new(&c.api, Act::Run);
    let out = run(&c, &[]);
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
    // The pod was placed in cert-manager's namespace with the default image and our labels.
    let pods = driver.pods();
    assert_eq!(pods.len(), 1);
    let pod = &pods[0];
    assert_eq!(pod["metadata"]["namespace"], "cert-manager");
    assert_eq!(
        pod["spec"]["containers"][0]["image"],
        format!(
            "ghcr.io/kubectl-acmecheck/acmecheck-probe:v{}",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert_eq!(pod["spec"]["containers"][0]["args"][1], "--plan-json");
    assert!(probe_pods(&c.api).is_empty(), "probe pod left behind");
    let reqs = resource_requests(&c.api);
    let pod_reqs: Vec<&String> = reqs
        .iter()
        .filter(|r| r.contains("/pods"))
        .filter(|r| !r.contains("http01-solver"))
        .collect();
    println!(
        "{} requests ({} for the probe pod) in {:?}:\n{}",
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
    assert!(reqs.len() <= 16, "{} requests", reqs.len());
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
fn forbidden_in_cert_manager_falls_back_to_the_certificates_namespace() {
    let c = cluster();
    c.api.deny("create", "", "pods", Some("cert-manager"));
    let driver = Driver::new(&c.api, Act::Run);
    let out = run(&c, &[]);
    assert_eq!(out.stderr, "");
    let r = report(&out);
    assert!(r["certificates"][0]["challenges"][0]["vantages"]["inCluster"].is_object());
    assert_eq!(driver.pods()[0]["metadata"]["namespace"], "shop");
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
    assert!(
        out.stderr
            .contains("not allowed to create pods in namespace \"shop\"")
            && out
                .stderr
                .contains("continuing with the local vantage only")
            && out
                .stderr
                .contains("--verb=create,get,watch,delete --resource=pods,pods/log -n shop"),
        "{}",
        out.stderr
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
    assert_eq!(
        resource_requests(&c.api)
            .iter()
            .filter(|r| r.starts_with("POST"))
            .count(),
        1
    );
}

/// Runs with a stand-in kubelet that does `act` and returns the stderr, checking the pod is gone.
fn failing(act: Act, extra: &[&str]) -> Out {
    let c = cluster();
    let _driver = Driver::new(&c.api, act);
    let out = run(&c, extra);
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    assert!(probe_pods(&c.api).is_empty(), "probe pod left behind");
    assert!(report(&out)["certificates"][0]["challenges"][0]["vantages"]["inCluster"].is_null());
    out
}

#[test]
fn image_pull_failure_names_the_image() {
    let waiting = json!({"phase": "Pending", "containerStatuses": [{"name": "probe", "image": "mirror.example/probe:v0", "imageID": "", "ready": false, "restartCount": 0,
        "state": {"waiting": {"reason": "ErrImagePull", "message": "rpc error: code = NotFound desc = failed to pull and unpack image"}}}]});
    let out = failing(
        Act::Status(waiting),
        &["--probe-image", "mirror.example/probe:v0"],
    );
    assert!(
        out.stderr.contains("the probe image \"mirror.example/probe:v0\" could not be pulled (ErrImagePull: rpc error")
            && out.stderr.contains("--probe-image"),
        "{}",
        out.stderr
    );
}

#[test]
fn unschedulable_shows_the_schedulers_message() {
    let status = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
        "message": "0/3 nodes are available: 3 Insufficient memory."}]});
    let out = failing(Act::Status(status), &[]);
    assert!(
        out.stderr
            .contains("cannot be scheduled: 0/3 nodes are available: 3 Insufficient memory."),
        "{}",
        out.stderr
    );
}

#[test]
fn deadline_exceeded_client_side() {
    let out = failing(Act::Nothing, &["--probe-timeout", "1s"]);
    assert!(
        out.stderr
            .contains("did not finish within 1s (--probe-timeout); it was last Pending"),
        "{}",
        out.stderr
    );
}

#[test]
fn malformed_and_oversized_reports() {
    let out = failing(Act::Log("exec /probe: exec format error\n".into()), &[]);
    assert!(
        out.stderr
            .contains("is unusable: the probe pod's output is not JSON"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("exec format error"), "{}", out.stderr);
    let out = failing(
        Act::Log("{\"apiVersion\":\"acmecheck.io/v2\"}\n".into()),
        &[],
    );
    assert!(
        out.stderr
            .contains("reported apiVersion \"acmecheck.io/v2\""),
        "{}",
        out.stderr
    );
    let big = format!("{}\n", "x".repeat(20 << 20));
    let out = failing(Act::Log(big), &[]);
    assert!(
        out.stderr.contains("larger than the 8 MiB limit"),
        "{}",
        out.stderr
    );
}

#[test]
fn killed_pod_is_said_plainly() {
    let out = failing(Act::Status(terminated(137, "OOMKilled")), &[]);
    assert!(out.stderr.contains("was OOMKilled"), "{}", out.stderr);
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
    /// This long after the POST (the pod is Pending for 300 ms).
    Pending(u64),
    /// This long after the pod is Running (it runs for 400 ms).
    Running(u64),
    /// As soon as the log GET is seen (7 MiB of log).
    ReadingLog,
}

fn posted(api: &FakeApi) -> bool {
    api.requests().iter().any(|r| r.method == "POST")
}

/// One run interrupted at `moment` with `sig`: returns (exit code, stderr).
fn interrupted_run(moment: Moment, sig: &str) -> (i32, String) {
    let c = cluster();
    let _driver = Driver::new(
        &c.api,
        Act::Slow {
            pending: Duration::from_millis(300),
            running: Duration::from_millis(400),
            pad: 7 << 20,
        },
    );
    let started = Instant::now();
    let child = start(&c, &[]);
    let api = &c.api;
    let limit = Duration::from_secs(20);
    let reached = match moment {
        Moment::Chain(n) => wait_for(limit, || {
            api.requests().iter().filter(|r| !r.is_discovery()).count() >= n
        }),
        Moment::Pending(ms) => {
            let ok = wait_for(limit, || posted(api));
            std::thread::sleep(Duration::from_millis(ms));
            ok
        }
        Moment::Running(ms) => {
            let ok = wait_for(limit, || {
                probe_pods(api)
                    .iter()
                    .any(|p| p["status"]["phase"] == "Running")
            });
            std::thread::sleep(Duration::from_millis(ms));
            ok
        }
        Moment::ReadingLog => wait_for(limit, || {
            api.requests().iter().any(|r| r.path.ends_with("/log"))
        }),
    };
    assert!(reached, "{moment:?} never came");
    signal(&child, sig);
    let out = finish(child, started);
    let left = probe_pods(api);
    assert!(
        left.is_empty(),
        "{moment:?} {sig}: probe pods left behind: {left:#?}\n{}",
        out.stderr
    );
    (out.code, out.stderr)
}

/// SIGINT and SIGTERM at 24 moments of a run (before the POST, Pending, Running, reading the
/// log), in parallel: never a pod left behind, exit 130/143 after deleting it.
#[test]
fn interrupted_at_any_moment_leaves_no_pod() {
    let mut moments = vec![Moment::Chain(1), Moment::Chain(6), Moment::Chain(12)];
    moments.extend([0, 50, 150, 250].map(Moment::Pending));
    moments.extend([0, 100, 200, 300].map(Moment::Running));
    moments.push(Moment::ReadingLog);
    let runs: Vec<(Moment, &str)> = moments
        .iter()
        .flat_map(|m| [(*m, "INT"), (*m, "TERM")])
        .collect();
    assert!(runs.len() >= 20);
    let results: Vec<(Moment, &str, i32, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .chunks(runs.len().div_ceil(8))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(m, sig)| {
                            let (code, stderr) = interrupted_run(*m, sig);
                            (*m, *sig, code, stderr)
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
    let mut interrupted = 0;
    for (m, sig, code, stderr) in &results {
        let want = if *sig == "INT" { 130 } else { 143 };
        println!(
            "{m:?} SIG{sig}: exit {code}: {}",
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
            if !matches!(m, Moment::Chain(_)) {
                assert!(
                    stderr.contains("deleted probe pod cert-manager/acmecheck-probe-"),
                    "{m:?}: {stderr}"
                );
            }
        }
    }
    assert!(interrupted >= 20, "{interrupted} runs interrupted");
}

/// A `kill -9` leaves the pod; the next run warns about it once it is older than the deadline,
/// and `cleanup` removes it and says so.
#[test]
fn kill_9_leftover_is_warned_about_and_cleaned_up() {
    let c = cluster();
    let child = start(&c, &[]);
    assert!(wait_for(Duration::from_secs(20), || !probe_pods(&c.api).is_empty()));
    signal(&child, "KILL");
    let _ = finish(child, Instant::now());
    let leftover = probe_pods(&c.api);
    assert_eq!(leftover.len(), 1);
    let name = leftover[0]["metadata"]["name"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(2100));
    let _driver = Driver::new(&c.api, Act::Run);
    let out = run(&c, &["--probe-timeout", "1s"]);
    assert!(
        out.stderr.contains(&format!(
            "warning: 1 probe pod(s) of earlier runs are still in namespace \"cert-manager\", older than the 1s deadline: {name} ("
        )) && out.stderr.contains("kubectl acmecheck cleanup -n cert-manager"),
        "{}",
        out.stderr
    );
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
