//! Replay and pre-flight through the whole CLI without a network (no root): the fake API server
//! serves a lab scenario's cert-manager objects (`lab::cluster_objects` is pure). What costs no
//! write: `--replay --dry-run` (the manifests), the hint after a failed issuance, and the
//! command-line checks. The runs that create and probe stand-ins are in tests/replay_lab.rs.

use acmecheck_testkit::fakeapi::FakeApi;
use acmecheck_testkit::lab;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_kubectl-acmecheck");

fn api(scenario: &str) -> FakeApi {
    let api = FakeApi::spawn().unwrap();
    let root = Path::new(ROOT).join("tests/fixtures/chain");
    for (_, yaml) in lab::cluster_objects(&root, scenario).unwrap() {
        api.load_yaml(&yaml).unwrap();
    }
    api
}

fn cli(api: &FakeApi, args: &[&str]) -> (i32, String, String) {
    api.clear_requests();
    let out = Command::new(BIN)
        .args(args)
        .arg("--kubeconfig")
        .arg(api.kubeconfig())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Only reads: no POST, PUT, PATCH or DELETE reached the API server.
fn read_only(api: &FakeApi) {
    let writes: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "{writes:#?}");
}

#[test]
fn dry_run_prints_the_manifests_and_creates_nothing() {
    let api = api("replay-founding-incident");
    let (code, out, err) = cli(&api, &["web", "-n", "shop", "--replay", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    read_only(&api);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&out).unwrap();
    let docs: Vec<&Value> = docs.iter().filter(|d| !d.is_null()).collect();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Pod", "Service", "Ingress"], "{out}");
    for d in &docs {
        let meta = &d["metadata"];
        assert_eq!(meta["namespace"], "shop");
        assert!(
            meta["annotations"]["acmecheck.io/deadline"].is_string(),
            "{d:#}"
        );
        assert_eq!(
            meta["labels"]["app.kubernetes.io/managed-by"],
            "kubectl-acmecheck"
        );
        assert_eq!(
            meta["labels"]["app.kubernetes.io/component"],
            "replay-solver"
        );
        assert!(
            !meta["labels"]
                .as_object()
                .unwrap()
                .keys()
                .any(|k| k.starts_with("acme.cert-manager.io/")),
            "{d:#}"
        );
    }
    let pod = docs[0];
    assert!(pod["spec"]["activeDeadlineSeconds"].as_i64().unwrap() > 0);
    assert_eq!(
        pod["spec"]["containers"][0]["image"],
        "quay.io/jetstack/cert-manager-acmesolver:v1.19.1"
    );
    assert_eq!(docs[2]["spec"]["rules"][0]["host"], "shop.example.test");
    assert!(
        out.starts_with("# kubectl acmecheck replay, dry run"),
        "{out}"
    );
}

#[test]
fn a_failed_certificate_without_replay_ends_with_the_command_and_what_it_creates() {
    let api = api("replay-founding-incident");
    let (code, out, err) = cli(&api, &["web", "-n", "shop", "--no-probe"]);
    assert_eq!(code, 1, "{err}");
    read_only(&api);
    assert!(
        out.contains("\n    kubectl acmecheck web -n shop --replay\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "- for shop.example.test: Pod, Service and Ingress shop/acmecheck-solver-<run-id>-0 (solver #0)"
        ),
        "{out}"
    );
    let (_, json, _) = cli(&api, &["web", "-n", "shop", "--no-probe", "-o", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    let r = &v["certificates"][0]["replay"];
    assert_eq!(r["state"], "planned");
    assert_eq!(
        r["standIns"][0]["objects"][2],
        "Ingress shop/acmecheck-solver-<run-id>-0"
    );
    // A certificate whose self check is in progress gets no hint: its own solver is probed.
    let live = self::api("founding-incident");
    let (_, json, _) = cli(&live, &["web", "-n", "shop", "--no-probe", "-o", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert!(v["certificates"][0].get("replay").is_none(), "{v:#}");
}

#[test]
fn a_live_challenge_is_never_replayed() {
    let api = api("founding-incident");
    let (code, out, err) = cli(&api, &["web", "-n", "shop", "--replay", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    read_only(&api);
    assert!(
        out.contains("# shop.example.test: not replayed: cert-manager's Challenge web-1-3571442311-2617004231 for shop.example.test is live"),
        "{out}"
    );
    assert!(!out.contains("kind: Pod"), "{out}");
}

#[test]
fn flags_that_do_not_fit_together_are_refused() {
    let api = api("replay-founding-incident");
    let (code, _, err) = cli(&api, &["web", "-n", "shop", "--dry-run"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--dry-run prints what --replay would create"),
        "{err}"
    );
    let (code, _, err) = cli(&api, &["web", "-n", "shop", "--replay", "--no-probe"]);
    assert_eq!(code, 2);
    assert!(err.contains("--no-probe probes nothing"), "{err}");
    let (code, _, err) = cli(
        &api,
        &["preflight", "-n", "shop", "--host", "a.example.test"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("nothing to check"), "{err}");
    read_only(&api);
}

#[test]
fn preflight_reads_hosts_and_issuer_from_an_ingress_or_a_gateway() {
    let api = api("preflight-healthy");
    let (code, out, err) = cli(
        &api,
        &["preflight", "ingress/web", "-n", "shop", "--dry-run"],
    );
    assert_eq!(code, 0, "{err}");
    read_only(&api);
    assert!(
        out.contains("preflight of Ingress shop/web through ClusterIssuer letsencrypt-prod"),
        "{out}"
    );
    assert!(out.contains("host: shop.example.test"), "{out}");
    // An Ingress cert-manager ignores (no issuer annotation) is said, with what to do.
    api.insert(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "plain", "namespace": "shop"},
        "spec": {"tls": [{"hosts": ["plain.example.test"], "secretName": "plain-tls"}]}}),
    )
    .unwrap();
    let (code, _, err) = cli(&api, &["preflight", "ingress/plain", "-n", "shop"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cert-manager's ingress-shim ignores Ingress shop/plain"),
        "{err}"
    );
    let (code, _, err) = cli(&api, &["preflight", "ingress/nope", "-n", "shop"]);
    assert_eq!(code, 2);
    assert!(err.contains("Ingress shop/nope not found"), "{err}");
    // A Gateway's HTTPS listener: its hostname, the Gateway as the solver's parentRef.
    api.insert(
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "shop-gw", "namespace": "shop",
            "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}},
        "spec": {"gatewayClassName": "cilium", "listeners": [
            {"name": "https", "protocol": "HTTPS", "port": 443, "hostname": "gw.example.test",
             "tls": {"mode": "Terminate", "certificateRefs": [{"name": "gw-tls"}]}}]}}),
    )
    .unwrap();
    let (code, out, err) = cli(
        &api,
        &["preflight", "gateway/shop-gw", "-n", "shop", "--dry-run"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("preflight of Gateway shop/shop-gw"), "{out}");
    assert!(out.contains("host: gw.example.test"), "{out}");
    read_only(&api);
}

/// `renewals --replay --dry-run`: the four Certificates' five names (four namespaces) share one
/// stand-in — a pod running the plugin's solver mode with every name, token and key, a
/// Service, an Ingress with every name's rule — in the run's namespace; nothing is created.
/// `--max-stand-ins` below that stops before any write.
#[test]
fn renewals_replay_shares_one_stand_in_across_namespaces() {
    let api = api("renewals-replay-wrong-plane");
    let (code, out, err) = cli(&api, &["renewals", "-A", "--replay", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    read_only(&api);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&out).unwrap();
    let docs: Vec<&Value> = docs.iter().filter(|d| !d.is_null()).collect();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Pod", "Service", "Ingress"], "{out}");
    let ns = docs[0]["metadata"]["namespace"].as_str().unwrap();
    assert!(
        docs.iter().all(|d| d["metadata"]["namespace"] == ns),
        "{out}"
    );
    // What `kubectl acmecheck cleanup` selects them by, and their deadline.
    for d in &docs {
        let meta = &d["metadata"];
        assert_eq!(
            meta["labels"]["app.kubernetes.io/managed-by"],
            "kubectl-acmecheck"
        );
        assert_eq!(
            meta["labels"]["app.kubernetes.io/component"],
            "replay-solver"
        );
        assert!(
            meta["annotations"]["acmecheck.io/deadline"].is_string(),
            "{d:#}"
        );
    }
    let args: Vec<&str> = docs[0]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[..2], ["solver", "--listen-port=8089"], "{out}");
    let served: Vec<&str> = args[2..]
        .iter()
        .map(|a| {
            a.strip_prefix("--serve=")
                .unwrap()
                .split('/')
                .next()
                .unwrap()
        })
        .collect();
    let mut hosts: Vec<&str> = docs[2]["spec"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host"].as_str().unwrap())
        .collect();
    assert_eq!(served, hosts, "a rule per served name: {out}");
    hosts.sort_unstable();
    assert_eq!(
        hosts,
        [
            "api.example.test",
            "blog.example.test",
            "docs.example.test",
            "shop.example.test",
            "www.docs.example.test"
        ]
    );
    assert_eq!(
        docs[1]["spec"]["selector"]["acmecheck.io/replay-solver"],
        docs[0]["metadata"]["name"]
    );
    let (code, _, err) = cli(
        &api,
        &["renewals", "-A", "--replay", "--max-stand-ins", "0"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "--replay would create 1 stand-in solvers (3 objects), more than --max-stand-ins 0"
        ),
        "{err}"
    );
    read_only(&api);
}
