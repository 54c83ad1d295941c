//! Weighing the witnesses through the whole CLI with both vantages (issue 14), as
//! tests/lab_e2e.rs runs it: the fake API server and its kubelet serve the lab's cert-manager
//! objects, the CLI runs in the lab's client namespace (this machine) and its probe pod in the
//! cluster namespace.
//!
//! * The same cluster (`gateway-takes-all`: cert-manager's reason says 404, the gateway answers
//!   404 from everywhere, ingress-nginx serves the key when asked directly) seen from a machine
//!   whose resolver works, answers nothing, or refuses: the first finding is never about the
//!   domain's DNS, and when this machine could not look the report says the outside view is
//!   missing and its verdicts are unknown.
//! * A controller whose own self check (its reason, 3 min old) timed out while the probe pod
//!   passes: the controller's view ranks first and names the difference.
//!
//! Needs root; with ACMECHECK_SKIP_ROOT_TESTS=1 cargo lists them as ignored.

use acmecheck_testkit::lab::cli::{self, LabCli, Run, verdicts};
use acmecheck_testkit::lab::{DEAD_RESOLVER_V4, EDGE_V4, REFUSING_RESOLVER_V4};
use kubectl_acmecheck::image::DEFAULT_PROBE_IMAGE;
use serde_json::Value;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-acmecheck");
const ATTEMPTS: u64 = 20;

/// The scenario with the API server's kubelet running the built binary as the probe pod.
fn setup(scenario: &str) -> Option<LabCli> {
    let kubelet = cli::probe_kubelet(DEFAULT_PROBE_IMAGE, BIN, Duration::from_millis(20));
    LabCli::for_test(scenario, Some(kubelet))
}

/// `kubectl-acmecheck web -n shop -o json` in the client namespace, both vantages: the exit
/// code and the report. No probe pod may be left, and the pod must have run.
fn acmecheck(s: &LabCli) -> Run {
    acmecheck_with(s, &[])
}

/// [`acmecheck`] with more arguments; with `--local-only` no pod may have run.
fn acmecheck_with(s: &LabCli, extra: &[&str]) -> Run {
    let attempts = ATTEMPTS.to_string();
    let mut args = vec!["web", "-n", "shop", "-o", "json", "--attempts", &attempts];
    args.extend_from_slice(extra);
    let r = s.run(BIN, &args);
    let local_only = extra.contains(&"--local-only");
    assert_eq!(
        r.json["inCluster"]["state"] == "ran",
        !local_only,
        "{}: {:#}",
        r.stderr,
        r.json["inCluster"]
    );
    let left = s.managed(&[("v1", "Pod")]);
    assert!(left.is_empty(), "probe pod left behind: {left:#?}");
    r
}

/// The same cluster objects and data planes, three resolvers on this machine.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn this_machines_resolver_is_not_the_domains_dns() {
    for (scenario, resolver, state, class) in [
        ("gateway-takes-all", None, "answers", None),
        (
            "no-resolver-here",
            Some(DEAD_RESOLVER_V4),
            "unreachable",
            Some(["dns_timeout", "dns_unreachable"].as_slice()),
        ),
        (
            "refusing-resolver-here",
            Some(REFUSING_RESOLVER_V4),
            "refuses",
            Some(["dns_refused"].as_slice()),
        ),
    ] {
        let Some(s) = setup(scenario) else { return };
        let r = acmecheck(&s);
        let all = r.findings();
        assert_eq!(r.code, 1, "{scenario}: {all:#?}");
        let errs = r.error_codes();
        // The first finding is the data plane (the pod's direct probes prove it), never the
        // domain's DNS; no DNS finding at all comes from this machine's resolver.
        assert_eq!(
            errs.first(),
            Some(&"WRONG_DATA_PLANE"),
            "{scenario}: {all:#?}"
        );
        assert!(
            !errs.iter().any(|c| c.starts_with("DNS_")),
            "{scenario}: {errs:?}"
        );
        let local = r.vantage("local");
        let health = &local["health"]["resolvers"][0];
        assert_eq!(health["state"], state, "{scenario}: {health:#}");
        let outside_missing = all.iter().find(|f| {
            f["code"] == "NOT_CHECKED"
                && f["summary"].as_str().is_some_and(|t| {
                    t.contains("the outside view (the CA's side) of shop.example.test is missing")
                })
        });
        let inside = r.vantage("inCluster");
        assert_eq!(verdicts(inside), ("fail", "fail"), "{scenario}");
        match (resolver, class) {
            (Some(ns), Some(classes)) => {
                assert_eq!(
                    health["servers"][0],
                    format!("{ns}:53"),
                    "{scenario}: {health:#}"
                );
                let primary = &local["dns"]["resolvers"][0];
                assert!(
                    classes.contains(&primary["error"].as_str().unwrap_or("")),
                    "{scenario}: {primary:#}"
                );
                // This machine could not look: unknown, not fail.
                assert_eq!(verdicts(local), ("unknown", "unknown"), "{scenario}");
                let f = outside_missing
                    .unwrap_or_else(|| panic!("{scenario}: no limitation: {all:#?}"));
                assert_eq!(f["severity"], "info", "{f:#}");
            }
            _ => {
                assert_eq!(local["addresses"][0]["address"], EDGE_V4, "{local:#}");
                assert_eq!(verdicts(local), ("fail", "fail"), "{scenario}");
                assert!(outside_missing.is_none(), "{scenario}: {all:#?}");
            }
        }
    }
}

/// The probe pod passes from the controller's namespace with its resolvers and proxy, but
/// cert-manager's own reason (written 3 min before) is a connect timeout: the controller has
/// checked again since and kept failing, so its view ranks first and names the difference.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn the_controllers_timeout_outranks_a_passing_pod() {
    let Some(s) = setup("controller-only-timeout") else {
        return;
    };
    let r = acmecheck(&s);
    let all = r.findings();
    assert_eq!(r.code, 1, "{all:#?}");
    for side in ["local", "inCluster"] {
        assert_eq!(verdicts(r.vantage(side)), ("pass", "pass"), "{side}");
    }
    let first = &all[0];
    assert_eq!(first["code"], "SELFCHECK_EGRESS_BLOCKED", "{all:#?}");
    assert_eq!(first["proof"], "proves", "{first:#}");
    let summary = first["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!(
            "the probe pod (namespace cert-manager), with the controller's resolvers and proxy settings, passes {ATTEMPTS} of {ATTEMPTS} requests, but cert-manager's own self check cannot connect"
        )),
        "{summary}"
    );
    let evidence: Vec<&str> = first["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        evidence
            .iter()
            .any(|e| e.starts_with("cert-manager's reason: written ")
                && e.contains(" before the probes ran; it checks again every 20 s")),
        "{evidence:#?}"
    );
    // The reason's age is the lab's (3 min), read from the controller's managedFields entry.
    assert!(
        evidence
            .iter()
            .any(|e| e.contains(", 3 min before the probes ran; ")),
        "{evidence:#?}"
    );
}

/// The first reproduction: no probe pod (`--local-only`), this machine reaches no
/// resolver, cert-manager's reason says 404. Nothing may be said about the domain's DNS: the
/// outside view is missing, this machine's verdicts are unknown, and cert-manager's reason (the
/// name resolved and port 80 answered from the controller) is the only witness.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn without_the_pod_a_dead_resolver_here_says_nothing_about_the_domain() {
    let Some(s) = setup("no-resolver-here") else {
        return;
    };
    let r = acmecheck_with(&s, &["--local-only"]);
    let all = r.findings();
    assert_eq!(r.code, 1, "{all:#?}");
    assert!(
        !all.iter()
            .any(|f| f["code"].as_str().is_some_and(|c| c.starts_with("DNS_"))),
        "{all:#?}"
    );
    assert_eq!(verdicts(r.vantage("local")), ("unknown", "unknown"));
    let first = &all[0];
    assert_eq!(first["severity"], "error", "{all:#?}");
    let summary = first["summary"].as_str().unwrap();
    assert!(
        summary.contains("so shop.example.test resolved and port 80 answered from the controller")
            && summary.contains("cert-manager's own reason is the only witness"),
        "{first:#}"
    );
    assert!(
        all.iter().any(|f| f["code"] == "NOT_CHECKED"
            && f["summary"]
                .as_str()
                .is_some_and(|t| t
                    .contains("the outside view (the CA's side) of shop.example.test is missing"))),
        "{all:#?}"
    );
}
