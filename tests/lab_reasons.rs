//! The lab's cluster objects say what a real cluster would: for every lab scenario,
//!
//! * the Challenge that the fake API server serves carries what cert-manager writes after one
//!   real round of its self check from the cluster namespace (the Go reference,
//!   `testkit/go/selfcheck`; see `testkit/src/lab/selfcheck.rs`), or the scenario's state kept on
//!   purpose — and the round recorded for objects made without a lab (`lab::cluster_objects`,
//!   `lab list`) is that same round;
//! * everything the objects name that the probe pod asks directly — the solver's Service and
//!   pod, every data plane's Service — accepts connections from the cluster namespace, so a
//!   direct probe reaches what the API says exists.
//!
//! Needs root (network namespaces); with ACMECHECK_SKIP_ROOT_TESTS=1 cargo lists it as ignored.

use acmecheck_testkit::lab::selfcheck::{self, Round, State};
use acmecheck_testkit::lab::{self, Lab};
use kubectl_acmecheck::gather::{self, Snapshot};
use kubectl_acmecheck::probe::targets::in_cluster_plan;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn fixtures() -> std::path::PathBuf {
    Path::new(ROOT).join("tests/fixtures/chain")
}

/// The scenario's objects as documents (without a lab: the recorded state).
fn documents(scenario: &str) -> Vec<Value> {
    lab::cluster_objects(&fixtures(), scenario)
        .unwrap()
        .iter()
        .flat_map(|(_, y)| serde_saphyr::from_multiple::<Value>(y).unwrap())
        .filter(|d| !d.is_null())
        .collect()
}

/// The state a Challenge's status shows, read back as cert-manager wrote it.
fn state_of(ch: &Value) -> State {
    let st = &ch["status"];
    let reason = st["reason"].as_str().unwrap_or("");
    if st["state"] == "invalid" {
        return State::Rejected(reason.to_owned());
    }
    match reason.strip_prefix("Waiting for HTTP-01 challenge propagation: ") {
        Some(e) => State::SelfCheck(Round::Failed(e.to_owned())),
        None => {
            assert_eq!(st["state"], "processing", "{st:#}");
            assert!(reason.is_empty(), "{st:#}");
            State::SelfCheck(Round::Passed)
        }
    }
}

fn same(a: &State, b: &State) -> bool {
    match (a, b) {
        (State::SelfCheck(x), State::SelfCheck(y)) => selfcheck::same_round(x, y),
        _ => a == b,
    }
}

/// Every direct target of the probe pod's plan that does not accept a TCP connection from the
/// cluster namespace.
fn unreachable_direct_targets(lab: &Lab, scenario: &str) -> Vec<String> {
    let text: String = lab::cluster_objects(&fixtures(), scenario)
        .unwrap()
        .into_iter()
        .map(|(_, t)| format!("{t}\n---\n"))
        .collect();
    let (certs, cluster) = gather::assemble(&Snapshot::from_yaml(&text).unwrap());
    let plan = in_cluster_plan(&certs, &cluster, None)
        .unwrap_or_else(|| panic!("{scenario}: no challenge to probe"));
    assert!(
        !plan.options.direct_targets.is_empty(),
        "{scenario}: no direct targets"
    );
    let mut out = Vec::new();
    for d in &plan.options.direct_targets {
        let addr: SocketAddr = d.address.parse().unwrap();
        let ok = acmecheck_testkit::proc::in_netns(&lab.cluster, move || {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
        })
        .unwrap();
        if !ok {
            out.push(format!("{} ({})", d.address, d.label));
        }
    }
    out
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn every_scenario_says_what_cert_manager_wrote_and_runs_what_it_names() {
    if lab::skip_without_root("lab reasons") {
        return;
    }
    let mut wrong = Vec::new();
    for (scenario, _) in lab::SCENARIOS {
        let lab = lab::scenario(scenario, lab::Options::default())
            .unwrap_or_else(|e| panic!("lab {scenario}: {e:#}"));
        // The round alone (the fake API server below reuses it: one round per lab).
        let started = Instant::now();
        let live = selfcheck::kept(scenario).is_none().then(|| {
            lab.self_check_round(&selfcheck::settings(&documents(scenario)).unwrap())
                .unwrap()
        });
        let round_took = started.elapsed();
        let api = lab::fake_api(&lab, scenario, &fixtures(), None).unwrap();
        let challenges = api.list("acme.cert-manager.io/v1", "Challenge");
        assert_eq!(challenges.len(), 1, "{scenario}");
        let served = state_of(&challenges[0]);
        let without_lab = selfcheck::state_without_lab(scenario).unwrap();
        eprintln!(
            "{scenario:34} round {:>5} ms  {}",
            round_took.as_millis(),
            served.describe()
        );
        if let Some(round) = live
            && served != State::SelfCheck(round.clone())
        {
            wrong.push(format!(
                "{scenario}: the API serves {served:?}, the round got {round:?}"
            ));
        }
        if !same(&served, &without_lab) {
            wrong.push(format!(
                "{scenario}: the lab's Challenge says {served:?}, the recorded state {without_lab:?}"
            ));
        }
        for t in unreachable_direct_targets(&lab, scenario) {
            wrong.push(format!(
                "{scenario}: the objects name {t}, which nothing in the cluster answers"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
