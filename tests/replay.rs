//! Replay against the fake API server and its kubelet, which runs the Go acmesolver stand-in
//! (`testkit/go/acmesolver`) for the solver image: plan → apply → the stand-in answers the key
//! for its host and token → teardown leaves nothing of any kind. Also: RBAC denials, a live
//! challenge, images that cannot be pulled, leftovers of earlier runs, `cleanup`, and
//! interruptions at many moments of an apply.
//!
//! The acmesolver listens on cert-manager's port 8089. Without a network namespace every pod
//! shares this machine's, so the tests that start one take [`SERIAL`]; the root-only test runs
//! the kubelet's containers in a namespace of its own with the pod address on it.

use acmecheck_testkit::fakeapi::{FakeApi, KubeletConfig};
use acmecheck_testkit::lab::skip_without_root;
use acmecheck_testkit::proc::Netns;
use kubectl_acmecheck::evidence::{
    AcmeIssuer, CertManagerEvidence, CertificateEvidence, ChallengeEvidence, ClusterEvidence,
    Http01Ingress, Http01Solver, IssuerEvidence, Solver,
};
use kubectl_acmecheck::probe::pod::lifecycle::Tracker;
use kubectl_acmecheck::replay::apply::{self, ApplyOptions};
use kubectl_acmecheck::replay::error::ApplyErrorKind;
use kubectl_acmecheck::replay::{self as replay, ReplayInput, ReplayOptions, SkipReason};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-acmecheck");
const IMAGE: &str = "quay.io/jetstack/cert-manager-acmesolver:v1.19.1";
const NS: &str = "shop";
const HOST: &str = "shop.example.test";
const KINDS: &[(&str, &str)] = &[
    ("v1", "Pod"),
    ("v1", "Service"),
    ("networking.k8s.io/v1", "Ingress"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
];

/// Taken by every test whose stand-in listens on this machine's port 8089.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn server(kubelet: KubeletConfig) -> FakeApi {
    let api = FakeApi::spawn().unwrap();
    api.enable_kubelet(kubelet);
    api.insert(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}))
        .unwrap();
    api
}

fn kubelet() -> KubeletConfig {
    KubeletConfig {
        start_delay: Duration::from_millis(20),
        ..Default::default()
    }
    .acmesolver(IMAGE)
    .unwrap()
}

async fn client(api: &FakeApi) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(api.kubeconfig()).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

fn certificate(names: &[&str]) -> CertificateEvidence {
    CertificateEvidence {
        namespace: NS.into(),
        name: "web-tls".into(),
        dns_names: names.iter().map(|n| (*n).to_owned()).collect(),
        issuer: Some(IssuerEvidence {
            kind: "ClusterIssuer".into(),
            name: "letsencrypt".into(),
            acme: Some(AcmeIssuer {
                server: "https://acme-v02.api.letsencrypt.org/directory".into(),
                solvers: vec![Solver {
                    http01: Some(Http01Solver {
                        ingress: Some(Http01Ingress {
                            ingress_class_name: Some("nginx".into()),
                            service_type: Some("ClusterIP".into()),
                            ..Default::default()
                        }),
                        gateway_http_route: None,
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn cluster() -> ClusterEvidence {
    ClusterEvidence {
        cert_manager_installed: true,
        cert_manager: Some(CertManagerEvidence {
            namespace: "cert-manager".into(),
            deployment: "cert-manager".into(),
            version: Some("v1.19.1".into()),
            args: vec![format!("--acme-http01-solver-image={IMAGE}")],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn options(run_id: &str) -> ReplayOptions {
    ReplayOptions {
        run_id: run_id.into(),
        now_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
        deadline: Duration::from_secs(120),
        solver_image: None,
        credentials: Default::default(),
    }
}

fn plan_for(names: &[&str], run_id: &str) -> replay::ReplayPlan {
    replay::plan(
        &ReplayInput::from_certificate(&certificate(names)),
        &cluster(),
        &options(run_id),
    )
}

/// Every object of every kind replay creates, in the namespace (`kind/name`).
fn everything(api: &FakeApi) -> Vec<String> {
    KINDS
        .iter()
        .flat_map(|(av, kind)| {
            api.list(av, kind)
                .into_iter()
                .filter(|o| o["metadata"]["namespace"] == NS)
                .map(move |o| format!("{kind}/{}", o["metadata"]["name"].as_str().unwrap_or("")))
        })
        .collect()
}

/// GET the challenge path with `Host`, over TCP to 127.0.0.1:8089, once something listens.
fn fetch_local(host: &str, token: &str) -> (u16, String) {
    let until = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match TcpStream::connect(("127.0.0.1", 8089)) {
            Ok(s) => break s,
            Err(e) if Instant::now() > until => panic!("the stand-in does not listen: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    write!(s, "GET /.well-known/acme-challenge/{token} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (
        head.split(' ').nth(1).unwrap().parse().unwrap(),
        body.to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stand_in_serves_the_key_and_leaves_nothing_behind() {
    let _g = SERIAL.lock().await;
    let api = server(kubelet());
    let client = client(&api).await;
    let plan = plan_for(&[HOST], "t1");
    let tracker = Tracker::default();
    api.clear_requests();
    let live = apply::apply(&client, &plan, &tracker, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(
        tracker.len(),
        3,
        "pod, Service and Ingress are tracked for signals"
    );
    let s = &live.solvers[0];
    assert_eq!(
        (s.dns_name.as_str(), s.object_name.as_str()),
        (HOST, "acmecheck-solver-t1-0")
    );
    assert_eq!(
        s.pod_ip.as_deref(),
        Some(acmecheck_testkit::fakeapi::DEFAULT_POD_IP)
    );
    assert_eq!(s.service_type.as_deref(), Some("ClusterIP"));
    assert!(
        s.cluster_ip
            .as_deref()
            .is_some_and(|ip| ip.starts_with("203.0.113.")),
        "{:?}",
        s.cluster_ip
    );
    // The objects are the rendered ones, under the tool's labels only.
    let ing = api
        .get("networking.k8s.io/v1", "Ingress", NS, &s.object_name)
        .unwrap();
    assert_eq!(ing["spec"]["rules"][0]["host"], HOST);
    assert_eq!(
        ing["spec"]["rules"][0]["http"]["paths"][0]["path"],
        format!("/.well-known/acme-challenge/{}", s.token)
    );
    for o in everything(&api) {
        let (kind, name) = o.split_once('/').unwrap();
        let av = KINDS.iter().find(|(_, k)| *k == kind).unwrap().0;
        let labels = api.get(av, kind, NS, name).unwrap()["metadata"]["labels"].clone();
        assert!(
            !labels
                .as_object()
                .unwrap()
                .keys()
                .any(|k| k.starts_with("acme.cert-manager.io/")),
            "{o}: {labels}"
        );
        assert_eq!(labels["app.kubernetes.io/managed-by"], "kubectl-acmecheck");
    }
    // The acmesolver stand-in answers for the rendered host and token, and only for them.
    assert_eq!(fetch_local(HOST, &s.token), (200, s.key.clone()));
    assert_eq!(fetch_local("other.example.test", &s.token).0, 404);
    // The challenge-shaped evidence for the probe stage.
    let ch = s.as_challenge();
    assert_eq!(
        (ch.token.as_str(), ch.key.as_str(), ch.challenge_url()),
        (
            s.token.as_str(),
            s.key.as_str(),
            format!("http://{HOST}/.well-known/acme-challenge/{}", s.token)
        )
    );
    assert_eq!(
        ch.solver_services[0].endpoint_addresses,
        [acmecheck_testkit::fakeapi::DEFAULT_POD_IP]
    );
    let t = live.teardown().await;
    assert!(t.failed.is_empty(), "{t:?}");
    assert_eq!(
        t.deleted,
        [
            format!("ingress {NS}/acmecheck-solver-t1-0"),
            format!("service {NS}/acmecheck-solver-t1-0"),
            format!("pod {NS}/acmecheck-solver-t1-0"),
        ]
    );
    assert!(tracker.is_empty());
    let until = Instant::now() + Duration::from_secs(10);
    while !everything(&api).is_empty() {
        assert!(
            Instant::now() < until,
            "left behind: {:?}",
            everything(&api)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // 3 POSTs, one WATCH, 3 DELETEs: nothing else.
    let reqs: Vec<String> = api
        .requests()
        .iter()
        .filter(|r| !r.is_discovery())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        reqs,
        [
            format!("POST /api/v1/namespaces/{NS}/pods"),
            format!("POST /api/v1/namespaces/{NS}/services"),
            format!("POST /apis/networking.k8s.io/v1/namespaces/{NS}/ingresses"),
            format!("GET /api/v1/namespaces/{NS}/pods"),
            format!(
                "DELETE /apis/networking.k8s.io/v1/namespaces/{NS}/ingresses/acmecheck-solver-t1-0"
            ),
            format!("DELETE /api/v1/namespaces/{NS}/services/acmecheck-solver-t1-0"),
            format!("DELETE /api/v1/namespaces/{NS}/pods/acmecheck-solver-t1-0"),
        ],
        "{reqs:#?}"
    );
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn the_stand_in_answers_on_its_pod_address() {
    if skip_without_root("the_stand_in_answers_on_its_pod_address") {
        return;
    }
    let ns = Netns::create("replay").unwrap();
    ns.exec("ip", &["addr", "add", "198.51.100.31/32", "dev", "lo"])
        .unwrap();
    let api = server(KubeletConfig {
        netns: Some(ns.name.clone()),
        pod_ip: Some("198.51.100.31".into()),
        ..kubelet()
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let plan = plan_for(&[HOST], "t2");
    let tracker = Tracker::default();
    let live = rt.block_on(async {
        let client = client(&api).await;
        apply::apply(&client, &plan, &tracker, &ApplyOptions::default())
            .await
            .unwrap()
    });
    let s = live.solvers[0].clone();
    assert_eq!(s.pod_ip.as_deref(), Some("198.51.100.31"));
    let url = format!(
        "http://198.51.100.31:8089/.well-known/acme-challenge/{}",
        s.token
    );
    let curl = |host: &str| {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let out = ns.exec(
                "curl",
                &[
                    "-s",
                    "-w",
                    "\n%{http_code}",
                    "-H",
                    &format!("Host: {host}"),
                    &url,
                ],
            );
            match out {
                Ok(o) => return o,
                Err(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => panic!("{e}"),
            }
        }
    };
    assert_eq!(curl(HOST), format!("{}\n200", s.key));
    assert_eq!(curl("www.example.test"), "404 page not found\n\n404");
    let t = rt.block_on(live.teardown());
    assert!(t.failed.is_empty(), "{t:?}");
    let until = Instant::now() + Duration::from_secs(10);
    while !everything(&api).is_empty() {
        assert!(
            Instant::now() < until,
            "left behind: {:?}",
            everything(&api)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forbidden_ingresses_are_a_clear_error_and_nothing_stays() {
    let _g = SERIAL.lock().await;
    let api = server(kubelet());
    api.deny("create", "networking.k8s.io", "ingresses", Some(NS));
    let client = client(&api).await;
    let tracker = Tracker::default();
    let err = apply::apply(
        &client,
        &plan_for(&[HOST], "t3"),
        &tracker,
        &ApplyOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(err.is_forbidden(), "{err}");
    match &err.kind {
        ApplyErrorKind::Forbidden(d) => {
            assert_eq!(
                (d.verb.as_str(), d.resource.as_str(), d.namespace.as_str()),
                ("create", "ingresses.networking.k8s.io", NS)
            );
            assert!(
                d.rule.starts_with(
                    "kubectl create role acmecheck-replay -n shop --verb=create,get,watch,delete"
                ),
                "{}",
                d.rule
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.message.starts_with("not allowed to create ingresses.networking.k8s.io in namespace \"shop\": ingresses.networking.k8s.io is forbidden: User \"system:anonymous\" cannot create resource \"ingresses\""), "{}", err.message);
    assert!(
        err.message.ends_with("going on without replay"),
        "{}",
        err.message
    );
    assert!(err.leftovers.is_empty());
    assert!(tracker.is_empty());
    let until = Instant::now() + Duration::from_secs(10);
    while !everything(&api).is_empty() {
        assert!(
            Instant::now() < until,
            "left behind: {:?}",
            everything(&api)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_challenge_is_never_replayed() {
    let api = server(kubelet());
    let mut cert = certificate(&[HOST]);
    cert.challenges = vec![ChallengeEvidence {
        name: "web-tls-1-2-3".into(),
        dns_name: HOST.into(),
        type_: "HTTP-01".into(),
        state: "pending".into(),
        processing: true,
        presented: true,
        ..Default::default()
    }];
    let plan = replay::plan(
        &ReplayInput::from_certificate(&cert),
        &cluster(),
        &options("t4"),
    );
    match &plan.items[0].decision {
        replay::Decision::Skip(s) => assert_eq!(s.reason, SkipReason::LiveChallenge),
        other => panic!("{other:?}"),
    }
    api.clear_requests();
    let live = apply::apply(
        &client(&api).await,
        &plan,
        &Tracker::default(),
        &ApplyOptions::default(),
    )
    .await
    .unwrap();
    assert!(live.solvers.is_empty());
    assert!(
        api.requests().iter().all(|r| r.method == "GET"),
        "nothing is created"
    );
    assert!(everything(&api).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_that_cannot_be_pulled_is_cert_managers_problem_too() {
    let api = server(KubeletConfig {
        start_delay: Duration::from_millis(20),
        ..Default::default()
    });
    let mut o = options("t5");
    o.solver_image = Some("registry.invalid/acmesolver:v1.19.1".into());
    let plan = replay::plan(
        &ReplayInput::from_certificate(&certificate(&[HOST])),
        &cluster(),
        &o,
    );
    let err = apply::apply(
        &client(&api).await,
        &plan,
        &Tracker::default(),
        &ApplyOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ApplyErrorKind::ImagePull, "{err}");
    assert!(err.also_hits_cert_manager());
    assert!(
        err.message
            .contains("\"registry.invalid/acmesolver:v1.19.1\" cannot be pulled (ErrImagePull"),
        "{}",
        err.message
    );
    let until = Instant::now() + Duration::from_secs(10);
    while !everything(&api).is_empty() {
        assert!(
            Instant::now() < until,
            "left behind: {:?}",
            everything(&api)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Stand-in objects as a `kill -9` leaves them: three kinds, one of them past its deadline.
fn leftovers(api: &FakeApi, run_id: &str, deadline: &str) {
    let meta = |name: &str| {
        json!({"name": name, "namespace": NS,
        "labels": {"app.kubernetes.io/managed-by": "kubectl-acmecheck", "app.kubernetes.io/component": "replay-solver", "acmecheck.io/run-id": run_id},
        "annotations": {"acmecheck.io/deadline": deadline}})
    };
    let name = format!("acmecheck-solver-{run_id}-0");
    api.insert(json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta(&name),
        "spec": {"nodeName": "elsewhere", "containers": [{"name": "acmesolver", "image": IMAGE}]}, "status": {"phase": "Running"}})).unwrap();
    api.insert(json!({"apiVersion": "v1", "kind": "Service", "metadata": meta(&name), "spec": {"ports": [{"port": 8089}]}})).unwrap();
    api.insert(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(&name), "spec": {}})).unwrap();
    api.insert(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": meta(&name), "spec": {}})).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn old_leftovers_are_reported_and_cleanup_removes_every_kind() {
    let _g = SERIAL.lock().await;
    let api = server(kubelet());
    leftovers(&api, "old", "2020-01-01T00:00:00Z");
    let client = client(&api).await;
    let live = apply::apply(
        &client,
        &plan_for(&[HOST], "t6"),
        &Tracker::default(),
        &ApplyOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(live.leftovers.len(), 1, "{:?}", live.leftovers);
    assert_eq!(live.leftovers[0].name, "acmecheck-solver-old-0");
    assert!(live.leftovers[0].overdue_seconds > 86_400);
    let warning = apply::leftover_warning(&live.leftovers).unwrap();
    assert!(
        warning.contains("kubectl acmecheck cleanup -n shop"),
        "{warning}"
    );
    // A kill -9 now: nothing deletes this run's stand-ins.
    std::mem::forget(live);
    assert_eq!(everything(&api).len(), 4 + 3);
    let out = Command::new(BIN)
        .args(["cleanup", "-n", NS, "--kubeconfig"])
        .arg(api.kubeconfig())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{stdout}");
    for (line, prefix) in lines.iter().zip([
        "deleted httproute shop/acmecheck-solver-old-0 (",
        "deleted ingress shop/acmecheck-solver",
        "deleted ingress shop/acmecheck-solver",
        "deleted service shop/acmecheck-solver",
        "deleted service shop/acmecheck-solver",
        "deleted pod shop/acmecheck-solver",
        "deleted pod shop/acmecheck-solver",
    ]) {
        assert!(line.starts_with(prefix), "{line} / {prefix}");
    }
    assert!(
        stdout.contains("deleted ingress shop/acmecheck-solver-t6-0\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("deleted pod shop/acmecheck-solver-old-0 (Running, "),
        "{stdout}"
    );
    assert!(lines[0].ends_with("s past its deadline)"), "{stdout}");
    let until = Instant::now() + Duration::from_secs(10);
    while !everything(&api).is_empty() {
        assert!(
            Instant::now() < until,
            "left behind: {:?}",
            everything(&api)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_apply_leaves_nothing_at_any_moment() {
    let _g = SERIAL.lock().await;
    // Pods stay ContainerCreating for a while: the apply is interrupted while creating or
    // while waiting, as a signal would (the run drops the apply and runs the tracker's cleanup).
    let api = server(KubeletConfig {
        start_delay: Duration::from_millis(150),
        ..kubelet()
    });
    let client = client(&api).await;
    let mut interrupted = 0;
    for (i, delay_ms) in [0u64, 1, 2, 3, 5, 8, 12, 20, 30, 50, 80, 120]
        .into_iter()
        .enumerate()
    {
        let tracker = Tracker::default();
        let plan = plan_for(&[HOST, "www.example.test"], &format!("i{i}"));
        let opts = ApplyOptions::default();
        let run = apply::apply(&client, &plan, &tracker, &opts);
        tokio::select! {
            r = run => {
                // Finished first: tear down as a run would.
                if let Ok(live) = r { live.teardown().await; }
            }
            _ = tokio::time::sleep(Duration::from_millis(delay_ms)) => {
                interrupted += 1;
                let (_, failed) = tracker.cleanup().await;
                assert!(failed.is_empty(), "{failed:?}");
            }
        }
        let until = Instant::now() + Duration::from_secs(10);
        while !everything(&api).is_empty() {
            assert!(
                Instant::now() < until,
                "interrupted after {delay_ms} ms, left behind: {:?}",
                everything(&api)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(interrupted >= 10, "{interrupted}");
}
