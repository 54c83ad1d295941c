//! Ground truth for the self-check forecast: per lab scenario, the tool's in-cluster
//! `selfCheck` verdict must agree with what cert-manager's own client does from the same place.
//!
//! The reference is `testkit/go/selfcheck` (Go's `net/http` as cert-manager's
//! `pkg/issuer/acme/http/http.go` `testReachability` configures it, rounds of 5 checks as
//! `Check`). Both run in the lab's cluster namespace — the controller's vantage — with the plan
//! the probe pod would get (`in_cluster_plan` over the scenario's cert-manager objects:
//! resolver, solver nameservers, proxy environment). First the engine (`probe --plan -`, the
//! real binary), then R rounds of the reference, one after the other, never both at once (they
//! would share the balancers' rotations):
//!
//! * `pass` ⇔ R of R rounds pass; `fail` ⇔ none does, and the tool's reason is one of the
//!   reference's messages (cert-manager's words);
//! * `flaky` with P ⇔ the count lies in the binomial interval of `lab::agreement` (false-alarm
//!   rate 10⁻⁴ per side, widened by the sampling error of the tool's per-request fraction).
//!
//! The reference runs without cert-manager's 2 s sleeps between checks (`-sleep 0s`): in the
//! lab nothing else sends traffic to a balancer or a DNS server, HAProxy's round-robin and
//! random balancing and dnsmasq's answer rotation advance per request, never with time, and
//! dnsmasq's answers have TTL 0 (nothing is cached in between), so the sequence of backends
//! and answers a round sees is the same with or without the sleeps. Scenarios that black-hole
//! a connection use a 2 s client timeout on both sides instead of 10 s (a black hole never
//! answers, whatever the wait).
//!
//! Needs root (network namespaces); skips loudly with ACMECHECK_SKIP_ROOT_TESTS=1.

use acmecheck_testkit::lab::{self, Lab, agreement, cli, selfcheck};
use kubectl_acmecheck::evidence::{CertificateEvidence, ClusterEvidence};
use kubectl_acmecheck::gather::{self, Snapshot};
use kubectl_acmecheck::probe::plan::*;
use kubectl_acmecheck::probe::targets::in_cluster_plan;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Reference rounds for a deterministic forecast (25 checks).
const DETERMINISTIC_ROUNDS: u32 = 5;
/// Reference rounds for a flaky forecast (rounds end at their first failure: cheap).
const FLAKY_ROUNDS: u32 = 1000;
/// The engine's attempts per address where the mix matters: p to about ±0.06.
const MIXED_ATTEMPTS: u32 = 1000;

/// The scenario's cert-manager objects, joined as the plugin would from the API.
fn evidence(scenario: &str) -> (Vec<CertificateEvidence>, ClusterEvidence) {
    let text: String =
        lab::cluster_objects(&Path::new(ROOT).join("tests/fixtures/chain"), scenario)
            .unwrap()
            .into_iter()
            .map(|(_, t)| format!("{t}\n---\n"))
            .collect();
    gather::assemble(&Snapshot::from_yaml(&text).unwrap())
}

/// The engine (the real binary's `probe --plan -`) in the cluster namespace.
fn tool(lab: &Lab, plan: &ProbePlan) -> TargetReport {
    let plan = serde_json::to_string(plan).unwrap();
    let out = cli::probe_in(env!("CARGO_BIN_EXE_kubectl-acmecheck"), &lab.cluster, &plan);
    let mut report: ProbeReport = serde_json::from_str(&out).unwrap();
    report.targets.remove(0)
}

/// What the reference saw over its rounds.
struct Reference {
    rounds: u32,
    passed: u32,
    /// Distinct errors that ended rounds, most frequent first.
    errors: Vec<(String, u32)>,
}

/// `rounds` rounds of the Go reference in the cluster namespace, with the plan's resolver,
/// proxy environment and User-Agent.
fn reference(lab: &Lab, plan: &ProbePlan, rounds: u32) -> Reference {
    let t = &plan.targets[0];
    let o = &plan.options;
    let mut env = Vec::new();
    if let Some(p) = &o.proxy {
        for (name, v) in [
            ("HTTP_PROXY", &p.http),
            ("HTTPS_PROXY", &p.https),
            ("NO_PROXY", &p.no_proxy),
        ] {
            if let Some(v) = v {
                env.push((name.to_owned(), v.clone()));
            }
        }
    }
    let settings = selfcheck::Settings {
        url: t.url.clone(),
        key: t.expected_key.clone(),
        nameservers: o.nameservers.join(","),
        env,
        user_agent: o.user_agent.clone(),
    };
    let timeout = format!("{}ms", o.timeout_ms);
    let mut cmd = selfcheck::reference_command(&lab.cluster, &settings, rounds, &timeout)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "reference self check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut r = Reference {
        rounds: 0,
        passed: 0,
        errors: Vec::new(),
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v.get("round").is_none() {
            r.rounds = v["rounds"].as_u64().unwrap_or(0) as u32;
            r.passed = v["passed"].as_u64().unwrap_or(0) as u32;
            continue;
        }
        let e = v["error"].as_str().unwrap_or("").to_owned();
        if !e.is_empty() {
            match r.errors.iter_mut().find(|(s, _)| *s == e) {
                Some((_, n)) => *n += 1,
                None => r.errors.push((e, 1)),
            }
        }
    }
    r.errors.sort_by_key(|e| std::cmp::Reverse(e.1));
    r
}

/// One scenario to agree on.
#[derive(Clone, Copy)]
struct Case {
    scenario: &'static str,
    balance_random: bool,
    /// The forecast outcome the scenario must produce.
    outcome: &'static str,
    /// Per-attempt timeout on both sides (ms).
    timeout_ms: u64,
    /// The engine's attempts per address (adaptive when None).
    attempts: Option<u32>,
}

const CASE: Case = Case {
    scenario: "",
    balance_random: false,
    outcome: "",
    timeout_ms: 10_000,
    attempts: None,
};

/// Build the lab, forecast, run the reference, print and check the agreement.
fn agree(c: Case) {
    let label = format!(
        "{}{}",
        c.scenario,
        if c.balance_random {
            " (balance random)"
        } else {
            ""
        }
    );
    if lab::skip_without_root(&format!("selfcheck agreement {label}")) {
        return;
    }
    let opts = lab::Options {
        balance_random: c.balance_random,
        ..Default::default()
    };
    let lab = lab::scenario(c.scenario, opts).unwrap_or_else(|e| panic!("lab {label}: {e:#}"));
    let (certs, cluster) = evidence(c.scenario);
    let mut plan = in_cluster_plan(&certs, &cluster, c.attempts).expect("a challenge to probe");
    plan.options.timeout_ms = c.timeout_ms;
    let t = &mut plan.targets[0];
    if t.url.is_empty() {
        t.url = format!(
            "http://{}/.well-known/acme-challenge/{}",
            t.dns_name, t.token
        );
    }
    let report = tool(&lab, &plan);
    let v = &report.verdicts.self_check;
    let outcome = serde_json::to_value(v.outcome).unwrap();
    let outcome = outcome.as_str().unwrap_or("?").to_owned();
    let forecast = agreement::Forecast {
        outcome: outcome.clone(),
        pass_probability: v.pass_probability,
        per_request_pass: v.per_request_pass,
        attempts: report
            .addresses
            .iter()
            .map(|a| a.attempts)
            .max()
            .unwrap_or(1),
        rotation: v.rotation.is_some(),
    };
    let rounds = if outcome == "flaky" {
        FLAKY_ROUNDS
    } else {
        DETERMINISTIC_ROUNDS
    };
    let r = reference(&lab, &plan, rounds);
    let interval = agreement::expected_interval(&forecast, r.rounds, |p| p.powi(5));
    eprintln!(
        "selfcheck agreement {label}: tool {outcome} (P={:.3}; {}) → reference passed {}/{} rounds (agreeing: {:?}); reference errors: {:?}; tool reason: {}",
        v.pass_probability, v.basis, r.passed, r.rounds, interval, r.errors, v.reason
    );
    assert_eq!(outcome, c.outcome, "{label}: the forecast ({})", v.basis);
    let (lo, hi) = interval.unwrap_or_else(|| panic!("{label}: no forecast to compare"));
    assert!(
        (lo..=hi).contains(&r.passed),
        "{label}: the tool's self-check forecast and cert-manager's client disagree: {} of {} rounds passed, expected [{lo}, {hi}]; reference errors {:?}",
        r.passed,
        r.rounds,
        r.errors
    );
    // A certain failure is worded as cert-manager words it.
    if outcome == "fail" {
        let reason = v
            .reason
            .strip_prefix("Waiting for HTTP-01 challenge propagation: ")
            .unwrap_or(&v.reason);
        let reason = reason.split("; ").next().unwrap_or(reason);
        assert!(
            r.errors.iter().any(|(e, _)| same_go_error(e, reason)),
            "{label}: the tool's reason {reason:?} is none of cert-manager's {:?}",
            r.errors
        );
    }
}

/// The same error, allowing for the one race in Go's own wording: a connect still pending
/// when `Client.Timeout` expires ends as `dial tcp <addr>: i/o timeout` or as `context deadline
/// exceeded`, whichever of the dial's deadline and the client's cancellation fires first (both
/// with ` (Client.Timeout exceeded while awaiting headers)`; the reference shows both).
fn same_go_error(a: &str, b: &str) -> bool {
    let normal = |s: &str| {
        let Some((head, tail)) = s.split_once(": dial tcp ") else {
            return s.to_owned();
        };
        match tail.split_once(": i/o timeout (Client.Timeout") {
            Some((_, rest)) => {
                format!("{head}: context deadline exceeded (Client.Timeout{rest}")
            }
            None => s.to_owned(),
        }
    };
    normal(a) == normal(b)
}

macro_rules! agreement {
    ($($name:ident: $case:expr;)*) => {$(
        #[test]
        #[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
        fn $name() {
            agree($case);
        }
    )*};
}

const MIXED: Case = Case {
    attempts: Some(MIXED_ATTEMPTS),
    ..CASE
};
const BLACK_HOLE: Case = Case {
    timeout_ms: 2_000,
    ..CASE
};

agreement! {
    healthy: Case { scenario: "healthy", outcome: "pass", ..CASE };
    founding_incident: Case { scenario: "founding-incident", outcome: "fail", ..MIXED };
    founding_incident_random: Case { scenario: "founding-incident", balance_random: true, outcome: "flaky", ..MIXED };
    founding_incident_90_10: Case { scenario: "founding-incident-90-10", outcome: "flaky", ..MIXED };
    founding_incident_two_addresses: Case { scenario: "founding-incident-two-addresses", outcome: "fail", ..MIXED };
    wrong_backend: Case { scenario: "wrong-backend", outcome: "fail", ..CASE };
    stale_a: Case { scenario: "stale-a", outcome: "fail", ..MIXED };
    aaaa_wrong: Case { scenario: "aaaa-wrong", outcome: "pass", ..CASE };
    https_redirect_unserved: Case { scenario: "https-redirect-unserved", outcome: "fail", ..CASE };
    redirect_8443: Case { scenario: "redirect-8443", outcome: "pass", ..CASE };
    basic_auth: Case { scenario: "basic-auth", outcome: "fail", ..CASE };
    refused: Case { scenario: "refused", outcome: "fail", ..CASE };
    dropped: Case { scenario: "dropped", outcome: "fail", ..BLACK_HOLE };
    hairpin: Case { scenario: "hairpin", outcome: "fail", ..BLACK_HOLE };
    split_horizon: Case { scenario: "split-horizon", outcome: "fail", ..CASE };
    split_horizon_solver_nameservers: Case { scenario: "split-horizon-solver-nameservers", outcome: "pass", ..CASE };
    allowlist: Case { scenario: "allowlist", outcome: "fail", ..CASE };
    proxy_protocol: Case { scenario: "proxy-protocol", outcome: "fail", ..CASE };
    selfcheck_via_proxy: Case { scenario: "selfcheck-via-proxy", outcome: "fail", ..CASE };
    egress_blocked: Case { scenario: "egress-blocked", outcome: "fail", ..BLACK_HOLE };
    source_pinned: Case { scenario: "source-pinned", outcome: "fail", ..CASE };
    ipv4_cluster_aaaa_ok: Case { scenario: "ipv4-cluster-aaaa-ok", outcome: "pass", ..CASE };
    ipv4_cluster_aaaa_dead: Case { scenario: "ipv4-cluster-aaaa-dead", outcome: "pass", ..CASE };
    two_a_one_refusing: Case { scenario: "two-a-one-refusing", outcome: "pass", ..CASE };
    redirect_public_ip: Case { scenario: "redirect-public-ip", outcome: "pass", ..CASE };
    redirect_303: Case { scenario: "redirect-303", outcome: "pass", ..CASE };
    private_address: Case { scenario: "private-address", outcome: "pass", ..CASE };
    gateway_takes_all: Case { scenario: "gateway-takes-all", outcome: "fail", ..CASE };
    hairpin_external_lb: Case { scenario: "hairpin-external-lb", outcome: "fail", ..BLACK_HOLE };
    endpoints_not_ready: Case { scenario: "endpoints-not-ready", outcome: "pass", ..CASE };
    failed_validation: Case { scenario: "failed-validation", outcome: "fail", ..CASE };
    no_resolver_here: Case { scenario: "no-resolver-here", outcome: "fail", ..CASE };
    refusing_resolver_here: Case { scenario: "refusing-resolver-here", outcome: "fail", ..CASE };
    controller_only_timeout: Case { scenario: "controller-only-timeout", outcome: "pass", ..CASE };
}

/// Every scenario of the lab is covered above.
#[test]
fn every_scenario_has_an_agreement_case() {
    let src =
        std::fs::read_to_string(Path::new(ROOT).join("tests/selfcheck_agreement.rs")).unwrap();
    for (name, _) in lab::SCENARIOS {
        assert!(
            src.contains(&format!("scenario: \"{name}\"")),
            "no self-check agreement case for lab scenario {name}"
        );
    }
}
