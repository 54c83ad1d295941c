//! `kubectl acmecheck renewals` through the whole CLI on the network lab (root): the fake API
//! server (with its fake kubelet running the probe pod, the freshly built binary, in the lab's
//! cluster namespace) serves the scenario's Certificates; the CLI runs in the lab's client
//! namespace, so both vantages are real. Scenarios: testkit/src/lab/renewals.rs.
//!
//! Every run must leave no probe pod and must keep the never-silent invariant: exit 0 ⇒ every
//! verdict of every name probed with a token passes and there is no error finding; a failing
//! verdict ⇒ its certificate is at risk and the exit code is 1. Needs root; with
//! ACMECHECK_SKIP_ROOT_TESTS=1 cargo lists these as ignored.

use acmecheck_testkit::fakeapi::KubeletConfig;
use acmecheck_testkit::lab;
use acmecheck_testkit::lab::cli::{self as labcli, LabCli};
use kubectl_acmecheck::image::DEFAULT_PROBE_IMAGE;
use serde_json::Value;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-acmecheck");

type Setup = LabCli;

/// The scenario's lab and API server; its kubelet runs the probe pod (and, for the replay
/// scenarios, the shared stand-in: the same binary in solver mode).
fn setup(scenario: &str) -> Option<Setup> {
    LabCli::for_test(
        scenario,
        Some(KubeletConfig::default().image(DEFAULT_PROBE_IMAGE, BIN)),
    )
}

struct Run {
    code: i32,
    json: Value,
    stderr: String,
}

fn run(s: &Setup, args: &[&str]) -> Run {
    let mut argv = vec!["renewals"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["-o", "json", "--attempts", "20"]);
    let mut cmd = s.command(BIN, &argv);
    cmd.env_remove("KUBERNETES_SERVICE_HOST");
    let labcli::Run {
        code, json, stderr, ..
    } = s.output(&mut cmd);
    assert!(json.is_object(), "not JSON: {stderr}");
    let r = Run { code, json, stderr };
    never_silent(&r);
    nothing_left(s);
    r
}

/// Every kind a run may create: the probe pod, and with --replay the stand-ins.
const KINDS: &[(&str, &str)] = &[
    ("v1", "Pod"),
    ("v1", "Service"),
    ("networking.k8s.io/v1", "Ingress"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
];

/// Nothing with the tool's label is left, of any kind it creates (a pod being deleted goes
/// within seconds).
fn nothing_left(s: &Setup) {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let left: Vec<String> = KINDS
            .iter()
            .flat_map(|(av, kind)| {
                s.api
                    .list(av, kind)
                    .into_iter()
                    .filter(|o| {
                        o["metadata"]["labels"]["app.kubernetes.io/managed-by"]
                            == "kubectl-acmecheck"
                    })
                    .map(move |o| format!("{kind} {}", o["metadata"]["name"]))
            })
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < until, "left behind: {left:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn certs(r: &Run) -> &Vec<Value> {
    r.json["certificates"].as_array().unwrap()
}

/// exit 0 ⇒ every name probed with a token passes both verdicts and nothing is an error; a
/// failing verdict ⇒ its certificate is at risk and exit 1.
fn never_silent(r: &Run) {
    for c in certs(r) {
        let errors = c["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error")
            .count();
        for n in c["names"].as_array().unwrap() {
            for v in ["selfCheck", "ca"] {
                let o = &n[v];
                if o.is_string() && o != "pass" {
                    assert_eq!(c["verdict"], "atRisk", "{} {v} {o}: {c:#}", n["name"]);
                    assert!(errors > 0, "{} {v} {o} without an error finding", n["name"]);
                    assert_eq!(r.code, 1);
                }
            }
        }
        if r.code == 0 {
            assert_eq!(errors, 0, "exit 0 with errors: {c:#}");
            assert_ne!(c["verdict"], "atRisk");
        }
    }
}

/// The table at `columns` (the exit code is checked by the JSON runs).
fn table(s: &Setup, columns: u16) -> String {
    let mut cmd = s.command(BIN, &["renewals", "-A", "--attempts", "10"]);
    cmd.env("COLUMNS", columns.to_string())
        .env_remove("KUBERNETES_SERVICE_HOST");
    s.output(&mut cmd).stdout
}

fn cert<'a>(r: &'a Run, id: &str) -> &'a Value {
    certs(r)
        .iter()
        .find(|c| {
            format!(
                "{}/{}",
                c["namespace"].as_str().unwrap(),
                c["name"].as_str().unwrap()
            ) == id
        })
        .unwrap_or_else(|| panic!("{id} not in {:#}", r.json))
}

fn verdicts(r: &Run) -> Vec<(String, String)> {
    certs(r)
        .iter()
        .map(|c| {
            (
                format!(
                    "{}/{}",
                    c["namespace"].as_str().unwrap(),
                    c["name"].as_str().unwrap()
                ),
                c["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The screen (no --replay): healthy names pass it, the live challenge is probed as a
/// diagnosis probes it, and the name behind the wrong data plane is the one at risk.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn the_screen_flags_the_name_behind_the_wrong_data_plane() {
    let Some(s) = setup("renewals-wrong-plane") else {
        return;
    };
    let r = run(&s, &["-A"]);
    if std::env::var_os("RENEWALS_LAB_PRINT").is_some() {
        eprintln!("{:#}\n{}", r.json, r.stderr);
    }
    assert_eq!(r.code, 1, "{:#}\n{}", r.json, r.stderr);
    assert_eq!(r.json["kind"], "RenewalsReport");
    assert_eq!(r.json["summary"]["mode"], "screen");
    assert_eq!(r.json["summary"]["certificates"], 4);
    assert_eq!(r.json["summary"]["atRisk"], 1, "{:#?}", verdicts(&r));
    assert_eq!(r.json["inCluster"]["state"], "ran", "{}", r.stderr);
    // Sorted by renewal time: api (4 days), docs (10), blog (20), then web (no renewal time).
    assert_eq!(
        verdicts(&r),
        [
            ("api/api".to_owned(), "atRisk".to_owned()),
            ("docs/docs".to_owned(), "ok".to_owned()),
            ("blog/blog".to_owned(), "ok".to_owned()),
            ("shop/web".to_owned(), "ok".to_owned()),
        ]
    );
    let api = cert(&r, "api/api");
    assert_eq!(api["firstFinding"]["code"], "WRONG_DATA_PLANE", "{api:#}");
    assert_eq!(api["firstFinding"]["name"], lab::WRONG_NAME);
    assert_eq!(api["names"][0]["checkedBy"], "screen");
    let summary = api["firstFinding"]["summary"].as_str().unwrap();
    assert!(summary.contains("gateway infra/public"), "{summary}");
    // Every address stayed under the cap, from both vantages; the edge was asked by both.
    let conns = &r.json["summary"]["connections"];
    let cap = conns["capPerAddress"].as_u64().unwrap();
    for side in ["local", "inCluster"] {
        let per: &serde_json::Map<String, Value> = conns[side].as_object().unwrap();
        assert!(
            per.values().all(|n| n.as_u64().unwrap() <= cap),
            "{conns:#}"
        );
        assert!(
            per.get(lab::EDGE_V4)
                .is_some_and(|n| n.as_u64().unwrap() > 0),
            "{conns:#}"
        );
    }
    let first = r.json["summary"]["firstAtRisk"].clone();
    assert_eq!(first["name"], "api");
    assert!(
        r.json["summary"]["line"]
            .as_str()
            .unwrap()
            .starts_with("4 certificates, 1 at risk, first renewal at risk in 4 days"),
        "{}",
        r.json["summary"]["line"]
    );
    // The table says the same, counts first.
    let text = table(&s, 120);
    if std::env::var_os("RENEWALS_LAB_PRINT").is_some() {
        eprintln!("{text}");
    }
    assert!(
        text.starts_with("4 certificates, 1 at risk, first renewal at risk in 4 days\n"),
        "{text}"
    );
    let api_row = text
        .lines()
        .find(|l| l.contains("api/api"))
        .unwrap_or_default();
    assert!(
        api_row.contains("at risk") && api_row.contains("WRONG_DATA_PLANE"),
        "{text}"
    );
    // The live challenge: probed with its token from both vantages, and it passes.
    let web = cert(&r, "shop/web");
    assert_eq!(web["names"][0]["checkedBy"], "live");
    assert_eq!(web["names"][0]["selfCheck"], "pass", "{web:#}");
    assert_eq!(web["names"][0]["ca"], "pass");
    // Screened names say which evidence they rest on.
    let docs = cert(&r, "docs/docs");
    for n in docs["names"].as_array().unwrap() {
        assert_eq!(n["checkedBy"], "screen");
        assert_eq!(n["verdict"], "ok");
    }
    let passed = docs["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "SCREEN_PASSED")
        .expect("the screen's evidence");
    assert!(
        passed["evidence"]
            .to_string()
            .contains("asked directly from inside")
    );
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn all_healthy_exits_0() {
    let Some(s) = setup("renewals-healthy") else {
        return;
    };
    let r = run(&s, &["-A"]);
    assert_eq!(r.code, 0, "{:#}\n{}", r.json, r.stderr);
    assert_eq!(r.json["summary"]["atRisk"], 0);
    assert_eq!(r.json["summary"]["ok"], 4, "{:#?}", verdicts(&r));
    // One namespace: the Certificates of the others are not read.
    let r = run(&s, &["-n", "blog"]);
    assert_eq!(verdicts(&r), [("blog/blog".to_owned(), "ok".to_owned())]);
    // The table a person reads: counts first, names never split.
    let text = table(&s, 72);
    assert!(text.starts_with("4 certificates, 0 at risk\n"), "{text}");
    assert!(text.contains("www.docs.example.test"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 72), "{text}");
}

/// With --replay, every name without a live challenge gets a stand-in, probed with a token it
/// serves — one shared stand-in (pod, Service, Ingress) for every name of the four
/// Certificates in four namespaces: healthy → every certificate ok and exit 0; one name behind
/// the wrong data plane → exactly that certificate at risk with WRONG_DATA_PLANE, exit 1.
/// Every stand-in is deleted.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn replay_proves_healthy_renewals_and_names_the_wrong_data_plane() {
    for (scenario, code) in [
        ("renewals-replay-healthy", 0),
        ("renewals-replay-wrong-plane", 1),
    ] {
        let Some(s) = setup(scenario) else {
            return;
        };
        let r = run(&s, &["-A", "--replay", "--replay-wait", "3s"]);
        assert_eq!(r.code, code, "{scenario}: {:#}\n{}", r.json, r.stderr);
        assert_eq!(r.json["summary"]["mode"], "replay");
        let expected: Vec<(String, String)> = ["api/api", "blog/blog", "docs/docs", "shop/web"]
            .iter()
            .map(|c| {
                let v = if code == 1 && *c == "api/api" {
                    "atRisk"
                } else {
                    "ok"
                };
                ((*c).to_owned(), v.to_owned())
            })
            .collect();
        let mut got = verdicts(&r);
        got.sort();
        assert_eq!(got, expected, "{scenario}: {:#}", r.json);
        let mut challenges = Vec::new();
        for c in certs(&r) {
            for name in c["names"].as_array().unwrap() {
                assert_eq!(name["checkedBy"], "replay", "{scenario}: {c:#}");
                let ch = name["challenge"].as_str().unwrap_or_default().to_owned();
                assert!(ch.starts_with("acmecheck-solver-"), "{scenario}: {name:#}");
                challenges.push(ch);
                if c["verdict"] == "ok" {
                    assert_eq!(name["selfCheck"], "pass", "{c:#}");
                    assert_eq!(name["ca"], "pass", "{c:#}");
                }
            }
            if c["verdict"] == "atRisk" {
                assert_eq!(c["firstFinding"]["code"], "WRONG_DATA_PLANE", "{c:#}");
            }
        }
        challenges.sort();
        challenges.dedup();
        assert_eq!(challenges.len(), 5, "a challenge per name: {challenges:?}");
        let posts: Vec<String> = s
            .api
            .requests()
            .into_iter()
            .filter(|q| q.method == "POST")
            .map(|q| q.path)
            .collect();
        // One shared stand-in (pod, Service, Ingress) in the run's namespace (the
        // kubeconfig's), and the probe pod in cert-manager's.
        assert_eq!(
            posts,
            [
                "/api/v1/namespaces/shop/pods",
                "/api/v1/namespaces/shop/services",
                "/apis/networking.k8s.io/v1/namespaces/shop/ingresses",
                "/api/v1/namespaces/cert-manager/pods",
            ],
        );
        assert!(
            r.json
                .to_string()
                .contains("--replay: 1 shared stand-in(s)"),
            "the report says so: {:#}",
            r.json
        );
    }
}
