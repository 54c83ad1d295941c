//! Replay and pre-flight through the whole CLI on the network lab (root): the fake API server
//! (with its fake kubelet) serves the scenario's objects; the kubelet runs the probe pod (the
//! freshly built binary) and the Go acmesolver stand-in for cert-manager's solver image inside
//! the lab's cluster namespace, the latter on the solver pod's address, so the lab's data
//! planes route the challenge path to it; a Gateway controller stand-in writes HTTPRoute status.
//! The CLI runs in the lab's client namespace (the user's machine).
//!
//! Every run must leave nothing of any kind replay creates (pods, Services, Ingresses,
//! HTTPRoutes with the tool's label) and no probe pod, and must hold the never-silent invariant:
//! exit 0 ⇒ every verdict of every probed challenge passes, and a failing verdict ⇒ exit 1.
//! Scenarios: testkit/src/lab/replay.rs. Needs root; with ACMECHECK_SKIP_ROOT_TESTS=1 cargo
//! lists them as ignored.

use acmecheck_testkit::lab::cli::{self, LabCli, Run};
use kubectl_acmecheck::image::DEFAULT_PROBE_IMAGE;
use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_kubectl-acmecheck");
/// Fresh connections per address on each vantage.
const ATTEMPTS: &str = "20";
/// Every kind a replay creates, and the probe pod's.
const KINDS: &[(&str, &str)] = &[
    ("v1", "Pod"),
    ("v1", "Service"),
    ("networking.k8s.io/v1", "Ingress"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
];

fn setup(scenario: &str) -> Option<LabCli> {
    setup_with(scenario, Duration::from_millis(20))
}

/// `setup` with pods that stay ContainerCreating for `start_delay`.
fn setup_with(scenario: &str, start_delay: Duration) -> Option<LabCli> {
    let kubelet = cli::probe_kubelet(DEFAULT_PROBE_IMAGE, BIN, start_delay);
    LabCli::for_test(scenario, Some(kubelet))
}

/// `args` plus `-o json`, attempts, a short route wait.
fn with_options<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["-o", "json", "--attempts", ATTEMPTS, "--replay-wait", "3s"]);
    all
}

/// The CLI in the client namespace with `args` (plus `-o json`, attempts, a short route wait).
fn command(s: &LabCli, args: &[&str]) -> Command {
    s.command(BIN, &with_options(args))
}

fn run(s: &LabCli, args: &[&str]) -> Run {
    let r = s.run(BIN, &with_options(args));
    never_silent(&r);
    nothing_left(s);
    r
}

/// Nothing of any kind is left (a pod being deleted goes within seconds).
fn nothing_left(s: &LabCli) {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let left = s.managed(KINDS);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < until, "left behind: {left:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// exit 0 ⇒ every verdict passes; a verdict that does not pass ⇒ exit 1 and an error finding.
fn never_silent(r: &Run) {
    let mut failing = Vec::new();
    for c in r.json["certificates"].as_array().unwrap() {
        for ch in c["challenges"].as_array().unwrap() {
            for side in ["local", "inCluster"] {
                let v = &ch["vantages"][side];
                if !v.is_object() {
                    continue;
                }
                for which in ["selfCheck", "acme"] {
                    let outcome = v["verdicts"][which]["outcome"].as_str().unwrap_or("");
                    if outcome != "pass" {
                        failing.push(format!("{} {side} {which}: {outcome}", ch["name"]));
                    }
                }
            }
        }
    }
    if r.code == 0 {
        assert!(failing.is_empty(), "exit 0 with {failing:?}: {:#}", r.json);
        assert!(
            r.error_codes().is_empty(),
            "exit 0 with errors: {:?}",
            r.error_codes()
        );
    }
    if !failing.is_empty() {
        assert_eq!(r.code, 1, "{failing:?} without exit 1");
        assert!(
            !r.error_codes().is_empty(),
            "{failing:?} without an error finding"
        );
    }
}

fn replay(r: &Run) -> &Value {
    &r.json["certificates"][0]["replay"]
}

/// The stand-in's name (the challenge name of its probes).
fn stand_in(r: &Run) -> String {
    replay(r)["standIns"][0]["objectName"]
        .as_str()
        .unwrap_or_else(|| panic!("no stand-in: {:#}", replay(r)))
        .to_owned()
}

fn requests(s: &LabCli) -> Vec<String> {
    s.api
        .requests()
        .into_iter()
        .filter(|r| !r.is_discovery())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn replaying_the_founding_incident_names_mixed_backends() {
    let Some(s) = setup("replay-founding-incident") else {
        return;
    };
    // Without --replay: the CA's 404 and the command that would replay it.
    let r = run(&s, &["web", "-n", "shop"]);
    assert_eq!(replay(&r)["state"], "planned", "{:#}", replay(&r));
    assert_eq!(
        replay(&r)["command"],
        "kubectl acmecheck web -n shop --replay"
    );
    assert!(
        requests(&s)
            .iter()
            .all(|q| q.starts_with("GET ") || !q.contains("/namespaces/shop/")),
        "the hint creates nothing in the Certificate's namespace: {:#?}",
        requests(&s)
    );
    // With --replay: the stand-in meets the 50/50 round-robin from both sides.
    let r = run(&s, &["web", "-n", "shop", "--replay"]);
    assert_eq!(r.code, 1);
    assert_eq!(replay(&r)["state"], "ran", "{}", r.stderr);
    assert_eq!(replay(&r)["propagation"]["finished"], true);
    let name = stand_in(&r);
    let first = r.first_error();
    assert_eq!(first["code"], "MIXED_BACKENDS", "{:#?}", r.findings());
    assert_eq!(first["challenge"], name.as_str());
    let ca = r
        .findings()
        .iter()
        .find(|f| f["code"] == "CA_REJECTED")
        .expect("the CA's old rejection");
    assert_eq!(ca["consequenceOf"], "MIXED_BACKENDS");
    let ch = r.json["certificates"][0]["challenges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name.as_str())
        .expect("the stand-in's challenge");
    for side in ["local", "inCluster"] {
        let a = &ch["vantages"][side]["addresses"][0];
        let (passes, attempts) = (
            a["certManagerPasses"].as_u64().unwrap(),
            a["attempts"].as_u64().unwrap(),
        );
        assert!(
            passes > 0 && passes < attempts,
            "{side}: {passes}/{attempts}"
        );
    }
    // Created, read, deleted: the stand-in's objects in dependency order.
    let reqs = requests(&s);
    let posts: Vec<&String> = reqs.iter().filter(|q| q.starts_with("POST /")).collect();
    assert_eq!(
        posts.len(),
        4,
        "3 stand-in objects + the probe pod: {reqs:#?}"
    );
    let deletes: Vec<String> = reqs
        .iter()
        .filter(|q| q.starts_with("DELETE /") && q.contains(&name))
        .cloned()
        .collect();
    assert_eq!(
        deletes,
        [
            format!("DELETE /apis/networking.k8s.io/v1/namespaces/shop/ingresses/{name}"),
            format!("DELETE /api/v1/namespaces/shop/services/{name}"),
            format!("DELETE /api/v1/namespaces/shop/pods/{name}"),
        ]
    );
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn replaying_all_traffic_to_the_wrong_data_plane_names_the_gateway() {
    let Some(s) = setup("replay-wrong-backend") else {
        return;
    };
    let r = run(&s, &["web", "-n", "shop", "--replay"]);
    assert_eq!(r.code, 1);
    let name = stand_in(&r);
    let first = r.first_error();
    assert_eq!(first["code"], "WRONG_DATA_PLANE", "{:#?}", r.findings());
    assert_eq!(first["challenge"], name.as_str());
    let evidence = first["evidence"].to_string();
    assert!(evidence.contains("gateway infra/public"), "{evidence}");
    assert!(evidence.contains("ingress-nginx"), "{evidence}");
    let ca = r
        .findings()
        .iter()
        .find(|f| f["code"] == "CA_REJECTED")
        .unwrap();
    assert_eq!(ca["consequenceOf"], "WRONG_DATA_PLANE");
    // The route never served the key from outside: said, not hidden.
    assert_eq!(replay(&r)["propagation"]["finished"], false);
    assert!(
        r.findings()
            .iter()
            .any(|f| f["code"] == "NOT_CHECKED" && f["severity"] == "warning"),
        "{:#?}",
        r.findings()
    );
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn a_healthy_preflight_exits_0() {
    let Some(s) = setup("preflight-healthy") else {
        return;
    };
    let r = run(&s, &["preflight", "ingress/web", "-n", "shop"]);
    assert_eq!(r.code, 0, "{:#?}\n{}", r.findings(), r.stderr);
    assert_eq!(replay(&r)["state"], "ran");
    assert_eq!(replay(&r)["preflight"], true);
    assert_eq!(replay(&r)["standIns"][0]["dnsName"], "shop.example.test");
    assert_eq!(r.json["inCluster"]["state"], "ran", "{}", r.stderr);
    let ch = &r.json["certificates"][0]["challenges"][0];
    for side in ["local", "inCluster"] {
        assert_eq!(
            ch["vantages"][side]["verdicts"]["selfCheck"]["outcome"],
            "pass"
        );
    }
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn a_preflight_through_an_ingress_class_nobody_serves() {
    let Some(s) = setup("preflight-class-unserved") else {
        return;
    };
    let r = run(&s, &["preflight", "ingress/web", "-n", "shop"]);
    assert_eq!(r.code, 1);
    let first = r.first_error();
    assert_eq!(
        first["code"],
        "INGRESS_CLASS_UNSERVED",
        "{:#?}",
        r.findings()
    );
    assert!(
        first["summary"].as_str().unwrap().contains("\"traefik\""),
        "{first:#}"
    );
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn a_preflight_of_an_httproute_the_gateway_does_not_allow() {
    let Some(s) = setup("preflight-route-not-allowed") else {
        return;
    };
    let r = run(
        &s,
        &[
            "preflight",
            "--issuer",
            "letsencrypt-gateway",
            "--cluster-issuer",
            "--host",
            "shop.example.test",
            "-n",
            "shop",
        ],
    );
    assert_eq!(r.code, 1);
    let first = r.first_error();
    assert_eq!(
        first["code"],
        "HTTPROUTE_NOT_ATTACHED",
        "{:#?}",
        r.findings()
    );
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .contains("NotAllowedByListeners"),
        "{first:#}"
    );
    assert_eq!(replay(&r)["standIns"][0]["routeKind"], "HTTPRoute");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn without_create_on_ingresses_the_run_goes_on_without_replay() {
    let Some(s) = setup("replay-founding-incident") else {
        return;
    };
    s.api
        .deny("create", "networking.k8s.io", "ingresses", Some("shop"));
    let r = run(&s, &["web", "-n", "shop", "--replay"]);
    assert_eq!(r.code, 1, "the CA's rejection still stands");
    assert!(
        r.stderr.contains(
            "warning: replay: not allowed to create ingresses.networking.k8s.io in namespace \"shop\""
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "kubectl create role acmecheck-replay -n shop --verb=create,get,watch,delete"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(replay(&r)["state"], "forbidden");
    let nc = r
        .findings()
        .iter()
        .find(|f| f["code"] == "NOT_CHECKED")
        .expect("the replay that did not run is said");
    assert_eq!(nc["severity"], "warning");
    assert!(
        nc["fix"]
            .as_str()
            .unwrap()
            .contains("kubectl create role acmecheck-replay"),
        "{nc:#}"
    );
    assert_eq!(r.first_error()["code"], "CA_REJECTED");
    // No stand-in, so nothing was probed: the failed challenge has no probe report.
    assert_eq!(
        r.json["certificates"][0]["challenges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// SIGINT and SIGTERM at 12 moments of a replay each (24 runs): before, during and after the
/// stand-ins are created, while the pods start, while the route is awaited, while both
/// vantages probe and while everything is deleted. Every run exits 130/143 (or 1 when it
/// finished first) and leaves nothing of any kind.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn signals_at_any_moment_of_a_replay_leave_nothing_behind() {
    // Pods start after 150 ms: the runs last about a second and a half.
    let Some(s) = setup_with("replay-founding-incident", Duration::from_millis(150)) else {
        return;
    };
    let moments_ms = [0u64, 30, 60, 100, 150, 220, 300, 400, 520, 660, 820, 1000];
    // The README says how many; keep it true.
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let claim = format!(
        "SIGINT and SIGTERM at {} moments of a replay ({} runs)",
        moments_ms.len(),
        2 * moments_ms.len()
    );
    assert!(readme.contains(&claim), "README.md does not say {claim:?}");
    let (mut interrupted, mut finished) = (0, 0);
    for (sig, name) in [(2, "SIGINT"), (15, "SIGTERM")] {
        for ms in moments_ms {
            let child = command(&s, &["web", "-n", "shop", "--replay"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(ms));
            // `ip netns exec` execs the CLI: the child's PID is the CLI's.
            let sent = Command::new("kill")
                .args([format!("-{sig}"), child.id().to_string()])
                .status()
                .unwrap()
                .success();
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                Some(c) if c == 128 + sig => {
                    interrupted += 1;
                    assert!(
                        stderr.contains(&format!("interrupted ({name})")),
                        "{ms} ms: {stderr}"
                    );
                }
                // It ended before the signal came.
                Some(1) if !sent || !stderr.contains("interrupted") => finished += 1,
                // Before the handlers are installed (nothing is created before that), the
                // signal's default action ends the process.
                None if out.status.signal() == Some(sig) => interrupted += 1,
                other => panic!("{ms} ms, {name}: exit {other:?}: {stderr}"),
            }
            nothing_left(&s);
        }
    }
    println!("{interrupted} interrupted, {finished} finished first");
    assert!(
        interrupted >= 18,
        "{interrupted} of 24 runs were interrupted"
    );
}
