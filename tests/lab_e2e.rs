//! The whole tool with both vantages on the lab: the fake API server (with its fake kubelet)
//! serves the scenario's cert-manager objects; the CLI runs in the lab's client namespace (the
//! user's machine); its probe pod is run by the kubelet as the freshly built binary inside the
//! cluster namespace (pod IP 198.51.100.100, the cluster DNS as resolver). The first error
//! finding must name the scenario's root cause, the per-vantage numbers in `-o json` must be
//! what each side can see, no probe pod may be left, one certificate costs at most 16 API
//! requests, and a run that exits 0 has no failing verdict (never silent). Needs root; with
//! ACMECHECK_SKIP_ROOT_TESTS=1 cargo lists them as ignored.

use acmecheck_testkit::lab::cli::{self, LabCli, Run};
use acmecheck_testkit::lab::{
    ACME_HOST, ACME_PORT, ACME_V4, EDGE_V4, ENVOY_V4, NGINX_V4, SOLVER_V4,
};
use kubectl_acmecheck::image::DEFAULT_PROBE_IMAGE;
use serde_json::Value;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-acmecheck");
/// Fixed attempts per address on each vantage (`--attempts`).
const ATTEMPTS: u64 = 20;

/// The scenario with the API server's kubelet running the built binary as the probe pod.
fn setup(scenario: &str) -> Option<LabCli> {
    let kubelet = cli::probe_kubelet(DEFAULT_PROBE_IMAGE, BIN, Duration::from_millis(20));
    LabCli::for_test(scenario, Some(kubelet))
}

/// `kubectl-acmecheck web -n shop -o json` in the client namespace, both vantages.
fn acmecheck(s: &LabCli) -> Run {
    let attempts = ATTEMPTS.to_string();
    let r = s.run_env(
        BIN,
        &["web", "-n", "shop", "-o", "json", "--attempts", &attempts],
        // A fixed "now" inside failed-validation's 2 h backoff (2026-11-28T05:03 to 07:03).
        &[("ACMECHECK_NOW", "2026-11-28T06:03:00Z")],
    );
    if r.code == 0 {
        cli::every_verdict_passes(&r.json);
    }
    r
}

/// The one address a vantage probed: (address, attempts, certManagerPasses).
fn address(v: &Value) -> (&str, u64, u64) {
    let a = v["addresses"].as_array().unwrap();
    assert_eq!(a.len(), 1, "{v:#}");
    (
        a[0]["address"].as_str().unwrap(),
        a[0]["attempts"].as_u64().unwrap(),
        a[0]["certManagerPasses"].as_u64().unwrap(),
    )
}

/// (status, errorClass, responder, count) of each outcome on the first address.
fn outcomes(v: &Value) -> Vec<(Option<u64>, Option<&str>, &str, u64)> {
    v["addresses"][0]["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["status"].as_u64(),
                o["errorClass"].as_str(),
                o["responder"].as_str().unwrap_or(""),
                o["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn a_records(v: &Value) -> Vec<&str> {
    v["dns"]["resolvers"][0]["a"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// certManagerPasses/attempts of the pod's direct probe of `address`.
fn direct(v: &Value, address: &str) -> (u64, u64) {
    let d = v["direct"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["address"] == address)
        .unwrap_or_else(|| panic!("no direct probe of {address}: {:#}", v["direct"]));
    let passes = d["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["certManagerPass"] == true)
        .map(|o| o["count"].as_u64().unwrap())
        .sum();
    (passes, d["attempts"].as_u64().unwrap())
}

/// What every run must leave: no probe pod, ≤ 16 API requests for the certificate, and the
/// in-cluster vantage from the pod (not a failure).
fn common(s: &LabCli, r: &Run) {
    let pods = s.managed(&[("v1", "Pod")]);
    assert!(pods.is_empty(), "probe pod left behind: {pods:#?}");
    let requests: Vec<String> = s
        .api
        .requests()
        .into_iter()
        .filter(|r| !r.is_discovery())
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect();
    assert!(
        requests.len() <= 16,
        "{} requests: {requests:#?}",
        requests.len()
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("POST ") && r.contains("/pods")),
        "{requests:#?}"
    );
    let in_cluster = &r.json["inCluster"];
    assert_eq!(in_cluster["state"], "ran", "{in_cluster:#}\n{}", r.stderr);
    assert_eq!(
        in_cluster["placement"]["namespace"], "cert-manager",
        "the pod runs in cert-manager's namespace: {in_cluster:#}"
    );
}

/// Run the scenario: exit 1 and `code` as the first error finding.
fn diagnosed(scenario: &str, code: &str) -> Option<Run> {
    let s = setup(scenario)?;
    let r = acmecheck(&s);
    common(&s, &r);
    assert_eq!(r.code, 1, "{scenario}");
    assert_eq!(
        r.error_codes().first().copied(),
        Some(code),
        "{scenario}: {:#}",
        r.json["certificates"][0]["findings"]
    );
    Some(r)
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn hairpin_inside_times_out_outside_passes() {
    let Some(r) = diagnosed("hairpin", "HAIRPIN_UNREACHABLE") else {
        return;
    };
    let (local, inside) = (r.vantage("local"), r.vantage("inCluster"));
    assert_eq!(address(local), (EDGE_V4, ATTEMPTS, ATTEMPTS));
    assert_eq!(address(inside), (EDGE_V4, ATTEMPTS, 0));
    let o = outcomes(inside);
    assert_eq!(o.len(), 1, "{inside:#}");
    assert_eq!(
        (o[0].0, o[0].1, o[0].3),
        (None, Some("connect_timeout"), ATTEMPTS)
    );
    // Asked directly inside the cluster, ingress-nginx serves the key.
    let (passes, attempts) = direct(inside, &format!("{NGINX_V4}:80"));
    assert!(attempts > 0 && passes == attempts, "{passes}/{attempts}");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn split_horizon_cluster_dns_answers_the_gateway() {
    let Some(r) = diagnosed("split-horizon", "SPLIT_HORIZON") else {
        return;
    };
    let (local, inside) = (r.vantage("local"), r.vantage("inCluster"));
    assert_eq!(a_records(local), [EDGE_V4]);
    assert_eq!(a_records(inside), [ENVOY_V4]);
    assert_eq!(address(local), (EDGE_V4, ATTEMPTS, ATTEMPTS));
    assert_eq!(address(inside), (ENVOY_V4, ATTEMPTS, 0));
    assert_eq!(outcomes(inside), [(Some(404), None, "envoy", ATTEMPTS)]);
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn allowlist_403_inside_only() {
    let Some(r) = diagnosed("allowlist", "IP_ALLOWLIST") else {
        return;
    };
    let (local, inside) = (r.vantage("local"), r.vantage("inCluster"));
    assert_eq!(address(local), (EDGE_V4, ATTEMPTS, ATTEMPTS));
    assert_eq!(outcomes(inside), [(Some(403), None, "nginx", ATTEMPTS)]);
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn founding_incident_seen_from_both_sides() {
    let Some(r) = diagnosed("founding-incident", "MIXED_BACKENDS") else {
        return;
    };
    for side in ["local", "inCluster"] {
        let v = r.vantage(side);
        let (addr, attempts, passes) = address(v);
        assert_eq!(addr, EDGE_V4);
        // Round-robin: about half of the fresh connections reach nginx, from either side.
        assert!(
            attempts >= ATTEMPTS && passes > 0 && passes < attempts,
            "{side}: {passes}/{attempts}"
        );
        let mut responders: Vec<&str> = outcomes(v).iter().map(|o| o.2).collect();
        responders.sort_unstable();
        responders.dedup();
        assert_eq!(responders, ["envoy", "nginx"], "{side}");
    }
    // Attribution from inside: nginx serves the key, the gateway has no route, the solver answers.
    let inside = r.vantage("inCluster");
    let (p, a) = direct(inside, &format!("{NGINX_V4}:80"));
    assert!(a > 0 && p == a, "nginx {p}/{a}");
    let (p, a) = direct(inside, &format!("{ENVOY_V4}:80"));
    assert!(a > 0 && p == 0, "gateway {p}/{a}");
    let (p, a) = direct(inside, &format!("{SOLVER_V4}:8089"));
    assert!(a > 0 && p == a, "solver {p}/{a}");
}

/// All of port 80 goes to the Gateway (404), ingress-nginx (the solver's data plane) serves the
/// key when asked directly: the data plane is named, with the load balancer to change.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn gateway_takes_all_names_the_data_plane() {
    let Some(r) = diagnosed("gateway-takes-all", "WRONG_DATA_PLANE") else {
        return;
    };
    let first = &r.json["certificates"][0]["findings"][0];
    assert_eq!(first["proof"], "proves", "{first:#}");
    let summary = first["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("traffic for shop.example.test reaches gateway infra/public (cilium), not ingress-nginx, which serves the challenge"),
        "{summary}"
    );
    assert!(
        first["fix"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{EDGE_V4} is the load-balancer address of Service ingress-nginx/ingress-nginx-controller")),
        "{first:#}"
    );
    for side in ["local", "inCluster"] {
        let v = r.vantage(side);
        assert_eq!(
            outcomes(v),
            [(Some(404), None, "envoy", ATTEMPTS)],
            "{side}"
        );
        assert_eq!(v["verdicts"]["selfCheck"]["outcome"], "fail", "{side}");
    }
    let inside = r.vantage("inCluster");
    let (p, a) = direct(inside, &format!("{NGINX_V4}:80"));
    assert!(a > 0 && p == a, "nginx {p}/{a}");
    let (p, a) = direct(inside, &format!("{ENVOY_V4}:80"));
    assert!(a > 0 && p == 0, "gateway {p}/{a}");
}

/// An external LB in front of NodePorts that the cluster cannot reach back: the egress witness
/// (the ACME server answers the probe pod) proves hairpin, not blocked egress.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn hairpin_behind_an_external_lb_with_working_egress() {
    let Some(r) = diagnosed("hairpin-external-lb", "HAIRPIN_UNREACHABLE") else {
        return;
    };
    let first = &r.json["certificates"][0]["findings"][0];
    assert_eq!(first["proof"], "proves", "{first:#}");
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .contains(&format!("while the ACME server https://{ACME_HOST}:{ACME_PORT}/dir outside the cluster is reachable from there")),
        "{first:#}"
    );
    let inside = r.vantage("inCluster");
    assert_eq!(address(inside), (EDGE_V4, ATTEMPTS, 0));
    let egress = &inside["egress"];
    assert_eq!(egress["status"], 200, "{egress:#}");
    assert_eq!(
        egress["address"],
        format!("{ACME_V4}:{ACME_PORT}"),
        "{egress:#}"
    );
    // Not named as blocked egress.
    assert!(
        !r.error_codes()
            .iter()
            .any(|c| *c == "SELFCHECK_EGRESS_BLOCKED" || *c == "ACME_UNREACHABLE"),
        "{:?}",
        r.error_codes()
    );
}

/// The API says the solver pod is not Ready (no endpoints), but it answers directly and the
/// challenge URL serves the key from both sides: the API-based finding is a warning, and
/// cert-manager's 503 is weighed as a witness against the pod (issue 14): the pod passes where
/// the controller got 503, and a 503 with no ready endpoint in the API is what ingress-nginx
/// answers then: the finding names it and points at the solver pod's readiness.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn endpoints_not_ready_but_the_solver_answers() {
    let Some(r) = diagnosed("endpoints-not-ready", "CONTROLLER_DISAGREES") else {
        return;
    };
    let findings = r.json["certificates"][0]["findings"].as_array().unwrap();
    let first = &findings[0];
    let summary = first["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "passes {ATTEMPTS} of {ATTEMPTS} requests, but cert-manager's own self check got HTTP 503 (time unknown): a 503 is what ingress-nginx and Envoy answer when the backend has no ready endpoint, and the API shows none (Service shop/cm-acme-http-solver-8kqzt: 0 ready, 1 not ready endpoint(s))"
        )),
        "{first:#}"
    );
    assert_eq!(first["proof"], "supports", "{first:#}");
    assert!(
        !findings.iter().any(|f| f["code"] == "UNEXPLAINED_FAILURE"),
        "{findings:#?}"
    );
    let api = findings
        .iter()
        .find(|f| f["code"] == "SOLVER_UNREACHABLE")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(api["severity"], "warning", "{api:#}");
    assert!(
        api["summary"]
            .as_str()
            .unwrap()
            .starts_with("the API and the network disagree: "),
        "{api:#}"
    );
    for side in ["local", "inCluster"] {
        assert_eq!(
            address(r.vantage(side)),
            (EDGE_V4, ATTEMPTS, ATTEMPTS),
            "{side}"
        );
    }
    let (p, a) = direct(r.vantage("inCluster"), &format!("{SOLVER_V4}:8089"));
    assert!(a > 0 && p == a, "solver {p}/{a}");
}

/// After a failed validation (the challenge invalid, its solver gone, the Certificate in
/// backoff), the URL is probed anyway: the gateway answers it, as it answered the CA.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn failed_validation_is_probed_and_attributed() {
    let Some(r) = diagnosed("failed-validation", "WRONG_DATA_PLANE") else {
        return;
    };
    let findings = r.json["certificates"][0]["findings"].as_array().unwrap();
    let first = &findings[0];
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .starts_with("after the failed validation, traffic for shop.example.test still reaches gateway infra/public (cilium), not ingress-nginx"),
        "{first:#}"
    );
    let rejected = findings
        .iter()
        .find(|f| f["code"] == "CA_REJECTED")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(
        rejected["consequenceOf"], "WRONG_DATA_PLANE",
        "{rejected:#}"
    );
    let fix = rejected["fix"].as_str().unwrap();
    assert!(
        fix.contains("cert-manager tries again at 2026-11-28T07:03:00Z (2 h after the failure at 2026-11-28T05:03:00Z, failedIssuanceAttempts 2)"),
        "{fix}"
    );
    assert!(!fix.contains("self check passed"), "{fix}");
    let evidence: Vec<&str> = rejected["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        evidence.contains(
            &format!(
                "now, from this machine (the CA's side): {EDGE_V4} (IPv4) {ATTEMPTS}×404 (envoy)"
            )
            .as_str()
        ),
        "{evidence:#?}"
    );
    assert!(
        evidence
            .iter()
            .any(|e| e.starts_with("cert-manager removed the solver pod")),
        "{evidence:#?}"
    );
    for side in ["local", "inCluster"] {
        assert_eq!(
            outcomes(r.vantage(side)),
            [(Some(404), None, "envoy", ATTEMPTS)],
            "{side}"
        );
    }
}

/// The other two-vantage scenarios: the first error finding names the root cause.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn the_first_finding_names_the_root_cause_with_both_vantages() {
    let expected: &[(&str, Option<&str>)] = &[
        ("healthy", None),
        ("split-horizon-solver-nameservers", None),
        ("proxy-protocol", Some("PROXY_PROTOCOL_MISMATCH")),
        ("selfcheck-via-proxy", Some("SELFCHECK_VIA_PROXY")),
        ("egress-blocked", Some("SELFCHECK_EGRESS_BLOCKED")),
        ("source-pinned", Some("BACKEND_PINNED_BY_SOURCE")),
    ];
    let mut wrong = Vec::new();
    for (scenario, want) in expected {
        let Some(s) = setup(scenario) else { return };
        let r = acmecheck(&s);
        common(&s, &r);
        let codes = r.error_codes();
        let ok = match want {
            Some(c) => codes.first() == Some(c) && r.code == 1,
            None => codes.is_empty() && r.code == 0,
        };
        if !ok {
            wrong.push(format!(
                "{scenario}: want {want:?}, got {codes:?} (exit {})",
                r.code
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Egress blocked: the egress witness times out too, which proves it and is its own finding.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn egress_blocked_reaches_not_even_the_acme_server() {
    let Some(r) = diagnosed("egress-blocked", "SELFCHECK_EGRESS_BLOCKED") else {
        return;
    };
    let findings = r.json["certificates"][0]["findings"].as_array().unwrap();
    assert_eq!(findings[0]["proof"], "proves", "{:#}", findings[0]);
    assert!(
        r.error_codes().contains(&"ACME_UNREACHABLE"),
        "{findings:#?}"
    );
    let egress = &r.vantage("inCluster")["egress"];
    assert_eq!(egress["status"], Value::Null, "{egress:#}");
    assert_eq!(egress["errorClass"], "connect_timeout", "{egress:#}");
}
