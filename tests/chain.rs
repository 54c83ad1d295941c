//! gather against the fake API server: every scenario, the error paths, and the request budget.

use acmecheck_testkit::fakeapi::{FakeApi, generate_certificates};
use kubectl_acmecheck::cli::KubeFlags;
use kubectl_acmecheck::evidence::{CertificateEvidence, ClusterEvidence};
use kubectl_acmecheck::gather::{self, Scope, Snapshot};
use std::path::PathBuf;

fn fixture_dir(scenario: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/chain")
        .join(scenario)
}

const SCENARIOS: &[&str] = &[
    "healthy",
    "selfcheck-404",
    "selfcheck-timeout",
    "selfcheck-refused",
    "selfcheck-nosuchhost",
    "body-mismatch",
    "wildcard-http01-only",
    "class-unserved",
    "image-pull-backoff",
    "no-endpoints",
    "httproute-not-accepted",
    "rate-limited",
    "founding-incident",
];

fn fake(scenario: &str) -> FakeApi {
    let api = FakeApi::spawn().unwrap();
    api.load_dir(fixture_dir(scenario)).unwrap();
    api
}

async fn connect(api: &FakeApi) -> (kube::Client, String) {
    let flags = KubeFlags {
        kubeconfig: Some(api.kubeconfig_with_namespace("shop").unwrap()),
        ..Default::default()
    };
    gather::connect(&flags).await.unwrap()
}

fn scope(ns: &str, names: &[&str]) -> Scope {
    Scope {
        namespace: ns.into(),
        names: names.iter().map(|s| s.to_string()).collect(),
        all: false,
        all_namespaces: false,
    }
}

type Evidence = (Vec<CertificateEvidence>, ClusterEvidence);

/// Gather certificates `names` in namespace shop; the error as the user reads it.
async fn gather_names(client: &kube::Client, names: &[&str]) -> Result<Evidence, String> {
    gather::gather(client.clone(), &scope("shop", names))
        .await
        .map_err(|e| e.to_string())
}

/// The same fixture joined in memory, without the API.
fn offline(scenario: &str) -> (Vec<CertificateEvidence>, ClusterEvidence) {
    let mut text = String::new();
    let mut files: Vec<_> = std::fs::read_dir(fixture_dir(scenario))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for f in files {
        text.push_str(&std::fs::read_to_string(f).unwrap());
        text.push_str("\n---\n");
    }
    gather::assemble(&Snapshot::from_yaml(&text).unwrap())
}

fn assert_read_only(api: &FakeApi) {
    for r in api.requests() {
        assert_eq!(r.method, "GET", "{r:?}");
        assert!(!r.is_watch(), "{r:?}");
        assert!(!r.path.contains("secrets"), "never read Secrets: {r:?}");
    }
}

#[tokio::test]
async fn every_scenario_through_the_api_matches_the_offline_join() {
    for scenario in SCENARIOS {
        let api = fake(scenario);
        let (client, ns) = connect(&api).await;
        assert_eq!(ns, "shop");
        let (want_certs, want_cluster) = offline(scenario);
        let names: Vec<&str> = want_certs.iter().map(|c| c.name.as_str()).collect();
        api.clear_requests();
        let (certs, cluster) = gather::gather(client, &scope("shop", &names))
            .await
            .unwrap_or_else(|e| panic!("{scenario}: {e}"));
        let mut certs = certs;
        certs.sort_by(|a, b| a.name.cmp(&b.name));
        let mut want = want_certs.clone();
        want.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(certs, want, "{scenario}");
        // The live read records its clock (what diagnosis calls "now"); the offline join has none.
        let mut cluster = cluster;
        assert!(
            cluster.now.is_some(),
            "{scenario}: the live read has a clock"
        );
        cluster.now = None;
        assert_eq!(cluster, want_cluster, "{scenario}");
        let n = api.requests().len();
        assert!(n <= 12, "{scenario}: {n} requests: {:#?}", api.requests());
        assert_read_only(&api);
    }
}

#[tokio::test]
async fn selfcheck_404_evidence_via_the_api() {
    let api = fake("selfcheck-404");
    let (client, _) = connect(&api).await;
    let (certs, cluster) = gather_names(&client, &["web"]).await.unwrap();
    let c = &certs[0];
    assert_eq!(c.request.as_ref().unwrap().name, "web-1");
    assert_eq!(c.order.as_ref().unwrap().name, "web-1-3571442311");
    assert_eq!(c.challenges.len(), 2);
    for ch in &c.challenges {
        assert_eq!(ch.solver_pods.len(), 1);
        assert_eq!(ch.solver_services[0].ready_endpoints, 1);
        assert_eq!(ch.solver_ingresses[0].lb_addresses, ["203.0.113.10"]);
    }
    assert_eq!(c.issuer.as_ref().unwrap().name, "letsencrypt-prod");
    assert_eq!(cluster.data_planes[0].ingress_classes, ["nginx"]);
    assert_eq!(
        cluster.cert_manager.as_ref().unwrap().version.as_deref(),
        Some("v1.19.1")
    );
}

#[tokio::test]
async fn one_certificate_costs_twelve_requests_at_most() {
    let api = fake("founding-incident");
    let (client, _) = connect(&api).await;
    api.clear_requests();
    gather_names(&client, &["web"]).await.unwrap();
    let reqs = api.requests();
    let mut paths: Vec<&str> = reqs.iter().map(|r| r.path.as_str()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/api/v1/namespaces/shop/pods",
            "/api/v1/services",
            "/apis/acme.cert-manager.io/v1/namespaces/shop/challenges",
            "/apis/acme.cert-manager.io/v1/namespaces/shop/orders",
            "/apis/apps/v1/deployments",
            "/apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod",
            "/apis/cert-manager.io/v1/namespaces/shop/certificaterequests",
            "/apis/cert-manager.io/v1/namespaces/shop/certificates/web",
            "/apis/gateway.networking.k8s.io/v1/gateways",
            "/apis/gateway.networking.k8s.io/v1/httproutes",
            "/apis/networking.k8s.io/v1/ingressclasses",
            "/apis/networking.k8s.io/v1/ingresses",
        ],
        "{reqs:#?}"
    );
    let pods = reqs.iter().find(|r| r.path.ends_with("/pods")).unwrap();
    assert!(
        pods.query
            .contains("labelSelector=acme.cert-manager.io%2Fhttp01-solver%3Dtrue"),
        "{pods:?}"
    );
    assert_read_only(&api);
}

async fn all_requests(n: usize) -> (usize, usize, std::time::Duration) {
    let api = FakeApi::spawn().unwrap();
    api.insert_many(generate_certificates(n, 10)).unwrap();
    let (client, _) = connect(&api).await;
    api.clear_requests();
    let started = std::time::Instant::now();
    let scope = Scope {
        namespace: "shop".into(),
        names: vec![],
        all: true,
        all_namespaces: true,
    };
    let snap = gather::fetch(&client, &scope).await.unwrap();
    let fetched = started.elapsed();
    let (certs, _) = gather::assemble(&snap);
    let took = started.elapsed();
    println!(
        "{n} certificates: fetch {fetched:?}, assemble {:?}",
        took - fetched
    );
    assert_read_only(&api);
    // Every generated chain is complete: the join found each challenge's solver pod.
    assert!(
        certs
            .iter()
            .all(|c| c.challenges.len() == 1 && c.challenges[0].solver_pods.len() == 1),
        "incomplete chains"
    );
    (certs.len(), api.requests().len(), took)
}

#[tokio::test]
async fn all_namespaces_request_count_does_not_grow_with_certificates() {
    let (n10, small, _) = all_requests(10).await;
    let (n1000, large, took) = all_requests(1000).await;
    assert_eq!((n10, n1000), (10, 1000));
    assert_eq!(small, large, "requests for 10 vs 1000 certificates");
    assert!(large <= 13, "{large}");
    println!(
        "--all -A: {large} requests for 1000 certificates (same as for 10); gather took {took:?} (debug build)"
    );
}

#[tokio::test]
async fn missing_certificate_suggests_close_names() {
    let api = fake("body-mismatch");
    let (client, _) = connect(&api).await;
    api.clear_requests();
    let err = gather_names(&client, &["web-legacyy"]).await.unwrap_err();
    assert!(
        err.contains("certificate \"web-legacyy\" not found in namespace \"shop\""),
        "{err}"
    );
    assert!(err.contains("did you mean web-legacy"), "{err}");
    // The get, then one list for the suggestions; nothing else.
    assert_eq!(api.requests().len(), 2, "{:#?}", api.requests());
}

#[tokio::test]
async fn forbidden_challenges_name_the_permission() {
    let api = fake("selfcheck-404");
    api.deny("list", "acme.cert-manager.io", "challenges", Some("shop"));
    let (client, _) = connect(&api).await;
    let err = gather_names(&client, &["web"]).await.unwrap_err();
    assert!(
        err.contains("not allowed to list challenges.acme.cert-manager.io (API group \"acme.cert-manager.io\") in namespace \"shop\""),
        "{err}"
    );
    assert!(err.contains("forbidden"), "the server's message: {err}");
    assert!(
        err.contains("kubectl create role acmecheck-read --verb=get,list --resource=challenges.acme.cert-manager.io -n shop"),
        "{err}"
    );
}

#[tokio::test]
async fn forbidden_context_is_recorded_and_the_run_goes_on() {
    let api = fake("selfcheck-404");
    api.deny("list", "networking.k8s.io", "ingressclasses", None);
    api.deny("list", "apps", "deployments", None);
    // Services readable in shop only: the solver Services are still found.
    api.deny("list", "", "services", Some("ingress-nginx"));
    let (client, _) = connect(&api).await;
    let (certs, cluster) = gather_names(&client, &["web"]).await.unwrap();
    assert_eq!(
        cluster.unreadable,
        [
            "could not list services cluster-wide: forbidden (needs list on services, cluster-wide); read namespace shop only",
            "could not list ingressclasses.networking.k8s.io: forbidden (needs list on ingressclasses.networking.k8s.io, cluster-wide)",
            "could not list deployments.apps: forbidden (needs list on deployments.apps, cluster-wide)",
        ]
    );
    assert!(cluster.ingress_classes.is_empty() && cluster.data_planes.is_empty());
    assert_eq!(certs[0].challenges[0].solver_services.len(), 1);
}

#[tokio::test]
async fn forbidden_cluster_issuer_becomes_an_issuer_problem() {
    let api = fake("selfcheck-404");
    api.deny("get", "cert-manager.io", "clusterissuers", None);
    let (client, _) = connect(&api).await;
    let (certs, cluster) = gather_names(&client, &["web"]).await.unwrap();
    let problem = certs[0].issuer_problem.clone().unwrap();
    assert!(
        problem.contains("could not get clusterissuers.cert-manager.io: forbidden"),
        "{problem}"
    );
    assert!(cluster.unreadable.contains(&problem));
}

#[tokio::test]
async fn cert_manager_not_installed() {
    let api = fake("selfcheck-404");
    api.remove_group("cert-manager.io");
    let (client, _) = connect(&api).await;
    let err = gather_names(&client, &["web"]).await.unwrap_err();
    assert!(
        err.contains(
            "cert-manager is not installed in this cluster (no certificates.cert-manager.io API)"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn gateway_api_absent_is_a_fact_not_an_error() {
    let api = fake("selfcheck-404");
    api.remove_group("gateway.networking.k8s.io");
    let (client, _) = connect(&api).await;
    let (certs, cluster) = gather_names(&client, &["web"]).await.unwrap();
    assert!(!cluster.gateway_api_installed);
    assert!(cluster.gateways.is_empty());
    assert!(cluster.unreadable.is_empty(), "{:?}", cluster.unreadable);
    assert_eq!(certs[0].challenges.len(), 2);
}

#[tokio::test]
async fn api_down_names_the_server_and_the_cause() {
    let api = fake("healthy");
    let (client, _) = connect(&api).await;
    let url = api.url();
    drop(api);
    let err = gather_names(&client, &["web"]).await.unwrap_err();
    assert!(
        err.contains(&format!("cannot reach the Kubernetes API server at {url}")),
        "{err}"
    );
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
    assert!(err.contains("VPN"), "{err}");
    println!("{err}");
}

#[tokio::test]
async fn malformed_objects_are_named_never_a_panic() {
    let api = fake("malformed");
    let (client, _) = connect(&api).await;
    let err = gather_names(&client, &["web"]).await.unwrap_err();
    assert!(
        err.contains("Challenge shop/web-1-3571442311-2617004231 is malformed: field spec.token"),
        "{err}"
    );

    // A Certificate whose status has the wrong shape, and one with only a name.
    let api = FakeApi::spawn().unwrap();
    api.load_yaml(
        "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: web, namespace: shop}\nspec: {dnsNames: www.example.com}\n---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: bare, namespace: shop}\n",
    )
    .unwrap();
    let (client, _) = connect(&api).await;
    let err = gather_names(&client, &["web"]).await.unwrap_err();
    assert!(
        err.contains("Certificate shop/web is malformed: field spec.dnsNames"),
        "{err}"
    );
    let (certs, _) = gather_names(&client, &["bare"]).await.unwrap();
    assert_eq!(certs[0].name, "bare");
    assert!(certs[0].dns_names.is_empty() && certs[0].request.is_none());
    assert!(certs[0].issuer_problem.is_some());
}

#[tokio::test]
async fn all_keeps_only_certificates_that_are_not_ready() {
    let api = fake("healthy");
    let (client, _) = connect(&api).await;
    api.clear_requests();
    let (certs, _) = gather::gather(
        client,
        &Scope {
            namespace: "shop".into(),
            names: vec![],
            all: true,
            all_namespaces: false,
        },
    )
    .await
    .unwrap();
    assert!(certs.is_empty());
    // Nothing to diagnose: only the certificate list was read.
    assert_eq!(api.requests().len(), 1);
}

#[tokio::test]
async fn impersonation_headers_are_sent() {
    let api = fake("healthy");
    let flags = KubeFlags {
        kubeconfig: Some(api.kubeconfig_with_namespace("shop").unwrap()),
        as_user: Some("jane".into()),
        as_groups: vec!["ops".into(), "dev".into()],
        request_timeout: Some(std::time::Duration::from_secs(5)),
        ..Default::default()
    };
    let (client, _) = gather::connect(&flags).await.unwrap();
    gather_names(&client, &["web"]).await.unwrap();
    let reqs = api.requests();
    assert!(!reqs.is_empty());
    for r in reqs {
        assert_eq!(r.impersonate_user.as_deref(), Some("jane"));
        assert_eq!(r.impersonate_groups, ["ops", "dev"]);
    }
}

#[tokio::test]
async fn request_timeout_bounds_a_silent_server() {
    // Accepts connections (kernel backlog) but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {{server: '{url}'}}\nusers:\n- name: u\n  user: {{}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u, namespace: shop}}\n"
        ),
    )
    .unwrap();
    let flags = KubeFlags {
        kubeconfig: Some(path),
        request_timeout: Some(std::time::Duration::from_millis(500)),
        ..Default::default()
    };
    let (client, _) = gather::connect(&flags).await.unwrap();
    let started = std::time::Instant::now();
    let err = gather_names(&client, &["web"]).await.unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.contains(&format!("cannot reach the Kubernetes API server at {url}")),
        "{err}"
    );
    println!("{err}");
    drop(silent);
}

#[tokio::test]
async fn failing_auth_plugin_is_an_auth_error_not_a_network_one() {
    let api = fake("healthy");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {{server: '{}'}}\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: 'false'\n      interactiveMode: Never\ncontexts:\n- name: c\n  context: {{cluster: c, user: u, namespace: shop}}\n",
            api.url()
        ),
    )
    .unwrap();
    let flags = KubeFlags {
        kubeconfig: Some(path),
        ..Default::default()
    };
    // kube runs the exec plugin when the client is built.
    let err = gather::connect(&flags).await.err().unwrap().to_string();
    assert!(
        err.contains(&format!(
            "cannot authenticate to the Kubernetes API server at {}",
            api.url()
        )),
        "{err}"
    );
    println!("{err}");
}

// ---------------------------------------------------------------------------------------------
// Diagnosis over every scenario, and the solver logs (read only when they decide)
// ---------------------------------------------------------------------------------------------

use kubectl_acmecheck::diagnose::Code;
use kubectl_acmecheck::probe::plan::{AddressReport, KeyMatch, OutcomeCount, TargetReport};
use kubectl_acmecheck::run::{self, Probes};

#[test]
fn every_finding_of_every_scenario_has_evidence_a_fix_and_a_docs_link() {
    for scenario in SCENARIOS {
        let (certs, cluster) = offline(scenario);
        let report = run::build_report(&certs, &cluster, &Probes::default());
        for f in report.certificates.iter().flat_map(|c| &c.findings) {
            assert!(
                !f.fix.trim().is_empty(),
                "{scenario}: {} has no fix",
                f.code
            );
            assert!(
                !f.evidence.is_empty() && f.evidence.iter().all(|e| !e.trim().is_empty()),
                "{scenario}: {} has no evidence",
                f.code
            );
            assert!(
                f.docs.ends_with(&format!("docs/findings/{}.md", f.code)),
                "{scenario}: {}",
                f.docs
            );
        }
    }
}

const INVALID_HOST: &str = r#"I1128 09:00:01.000000       1 solver.go:84] "validating request" logger="cert-manager.acmesolver" host="10.32.3.80" path="/.well-known/acme-challenge/t" base_path="/.well-known/acme-challenge" token="t" headers={"User-Agent":["cert-manager-challenges/v1.19.1 (linux/amd64) cert-manager/abc"]}
I1128 09:00:01.000000       1 solver.go:93] "invalid host" logger="cert-manager.acmesolver" host="10.32.3.80" path="/.well-known/acme-challenge/t" base_path="/.well-known/acme-challenge" token="t" headers={"User-Agent":["cert-manager-challenges/v1.19.1 (linux/amd64) cert-manager/abc"]} expected_host="example.com"
"#;

#[tokio::test]
async fn solver_logs_decide_a_404_that_nothing_else_explains() {
    let api = fake("selfcheck-404");
    let (client, _) = connect(&api).await;
    let (mut certs, mut cluster) = gather_names(&client, &["web"]).await.unwrap();
    for ch in &certs[0].challenges {
        let pod = &ch.solver_pods[0];
        api.set_pod_logs(&pod.namespace, &pod.name, INVALID_HOST);
    }
    let probes = Probes::default();
    let before = run::build_report(&certs, &cluster, &probes);
    assert_eq!(
        before.certificates[0].findings[0].code,
        Code::SelfCheckFailing
    );
    api.clear_requests();
    let report = run::with_solver_logs(&client, &mut certs, &mut cluster, &probes).await;
    let reqs = api.requests();
    assert_eq!(
        reqs.len(),
        2,
        "one log read per challenge's solver pod: {reqs:#?}"
    );
    for r in &reqs {
        assert!(r.path.ends_with("/log"), "{r:?}");
        assert!(
            r.query.contains("tailLines=500") && r.query.contains("limitBytes="),
            "{r:?}"
        );
    }
    assert_read_only(&api);
    let f = &report.certificates[0].findings;
    assert_eq!(f[0].code, Code::HostNotPreserved, "{f:#?}");
    assert!(f[0].summary.contains("10.32.3.80"), "{}", f[0].summary);
    let symptom = f.iter().find(|f| f.code == Code::SelfCheckFailing).unwrap();
    assert_eq!(symptom.consequence_of, Some(Code::HostNotPreserved));
    assert!(
        symptom
            .evidence
            .iter()
            .any(|e| e.contains("logged 1 request(s)")),
        "{symptom:#?}"
    );
}

#[tokio::test]
async fn a_proven_cause_keeps_the_common_path_at_twelve_requests() {
    let api = fake("founding-incident");
    let (client, _) = connect(&api).await;
    api.clear_requests();
    let (mut certs, mut cluster) = gather_names(&client, &["web"]).await.unwrap();
    // The local probe saw the founding incident: two backends behind one address.
    let outcome = |status, responder: &str, key, pass, count| OutcomeCount {
        status: Some(status),
        responder: responder.into(),
        key_match: key,
        cert_manager_pass: pass,
        acme_pass: pass,
        count,
        ..Default::default()
    };
    let mut probes = Probes {
        enabled: true,
        ..Default::default()
    };
    for ch in &certs[0].challenges {
        probes.local.insert(
            format!("shop/{}", ch.name),
            TargetReport {
                addresses: vec![AddressReport {
                    address: "203.0.113.10".into(),
                    family: "ipv4".into(),
                    attempts: 200,
                    cert_manager_passes: 100,
                    acme_passes: 100,
                    outcomes: vec![
                        outcome(200, "nginx", KeyMatch::Exact, true, 100),
                        outcome(404, "envoy", KeyMatch::NotApplicable, false, 100),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            },
        );
    }
    let report = run::with_solver_logs(&client, &mut certs, &mut cluster, &probes).await;
    assert_eq!(api.requests().len(), 12, "{:#?}", api.requests());
    let f = &report.certificates[0].findings;
    // (The fixture's documentation addresses also make NON_PUBLIC_NAME fire for Let's Encrypt.)
    assert!(f.iter().any(|f| f.code == Code::MixedBackends), "{f:#?}");
    assert!(certs[0].challenges.iter().all(|c| c.solver_log.is_none()));
}

#[tokio::test]
async fn a_healthy_challenge_says_no_problem_and_what_was_checked() {
    use kubectl_acmecheck::report::table;
    // selfcheck-404's objects, with a probe that sees the key on every connection.
    let (certs, cluster) = offline("selfcheck-404");
    let mut probes = Probes {
        enabled: true,
        ..Default::default()
    };
    for ch in &certs[0].challenges {
        probes.local.insert(
            format!("shop/{}", ch.name),
            TargetReport {
                dns_name: ch.dns_name.clone(),
                addresses: vec![AddressReport {
                    address: "192.0.2.10".into(),
                    family: "ipv4".into(),
                    attempts: 66,
                    cert_manager_passes: 66,
                    acme_passes: 66,
                    outcomes: vec![OutcomeCount {
                        status: Some(200),
                        responder: "acmesolver".into(),
                        key_match: KeyMatch::Exact,
                        cert_manager_pass: true,
                        acme_pass: true,
                        count: 66,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            },
        );
    }
    let mut certs = certs;
    for ch in &mut certs[0].challenges {
        ch.reason = None; // the self check has not failed yet
    }
    // A private ACME server: documentation addresses are fine for it.
    let acme = certs[0].issuer.as_mut().unwrap().acme.as_mut().unwrap();
    acme.server = "https://ca.internal.example/acme/directory".into();
    let report = run::build_report(&certs, &cluster, &probes);
    let f = &report.certificates[0].findings;
    assert!(
        f.iter()
            .all(|f| f.severity == kubectl_acmecheck::diagnose::Severity::Info),
        "{f:#?}"
    );
    let text = table::render(
        &report,
        table::Style {
            width: 100,
            color: false,
            wide: false,
        },
    );
    assert!(text.contains("No problem found"), "{text}");
    assert!(text.contains("rules over the certificate"), "{text}");
    assert!(
        text.contains("example.com probed from this machine: 1 address, 66 fresh connections"),
        "{text}"
    );
}
