//! Ground truth from a real ACME server: for each lab scenario, the tool's forecast for
//! "ACME server validation" (the `acme` verdict, CA profile Pebble, chosen from the issuer URL)
//! must agree with what Pebble (Let's Encrypt's test CA) actually does.
//!
//! Per scenario: a fresh ACME account (its thumbprint goes into the scenario's stateless
//! key-serving nginx), Pebble in the lab, N+1 fresh authorizations. The first one's challenge
//! goes into the cert-manager objects of the fake API server and the real CLI
//! (`kubectl-acmecheck web -o json --local-only`) forecasts; then Pebble validates the other N,
//! one after the other, and the count of `valid` authorizations is compared with the forecast:
//!
//! * `pass` (no failure seen) ⇒ all N valid; `fail` ⇒ none valid;
//! * `flaky` with P ⇒ the count lies in a two-sided binomial interval with a false-alarm rate of
//!   [`ALPHA`], widened by the sampling error of the tool's own per-request pass fraction.
//!
//! Needs root (network namespaces); with ACMECHECK_SKIP_ROOT_TESTS=1 cargo lists them as ignored.

use acmecheck_testkit::acme::{AccountKey, Client, Validation};
use acmecheck_testkit::fakeapi::FakeApi;
use acmecheck_testkit::lab::agreement::{self, ALPHA, binomial_quantile, z};
use acmecheck_testkit::lab::{self, DNS_NAME, Lab};
use acmecheck_testkit::pebble;
use acmecheck_testkit::proc::in_netns;
use kubectl_acmecheck::probe::verdict::pebble_probability;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// What one scenario showed.
struct Observed {
    label: String,
    outcome: String,
    pass_probability: f64,
    basis: String,
    reason: String,
    /// The verdict's strict-rotation note, empty when it assumed independent draws.
    rotation: String,
    valid: u32,
    n: u32,
    interval: (u32, u32),
    pebble_errors: Vec<String>,
}

/// Never true: without root it panics (see `lab::skip_without_root`); with
/// ACMECHECK_SKIP_ROOT_TESTS set the root tests are ignored and never get here.
fn skip(name: &str) -> bool {
    lab::skip_without_root(&format!("pebble agreement {name}"))
}

/// Build `scenario`, let the tool forecast (with `attempts` per address, adaptive when None)
/// and Pebble validate `n` times.
fn observe(
    scenario: &str,
    balance_random: bool,
    n: u32,
    attempts: Option<u32>,
    deployed: pebble::Config,
    flags: &[&str],
) -> Observed {
    let key = AccountKey::generate().unwrap();
    let opts = lab::Options {
        key_thumbprint: Some(key.thumbprint()),
        balance_random,
        ..Default::default()
    };
    let mut lab = lab::scenario(scenario, opts).unwrap_or_else(|e| panic!("lab {scenario}: {e:#}"));
    let ca = pebble::start_with(&mut lab, deployed).unwrap_or_else(|e| panic!("pebble: {e:#}"));
    let mut acme = Client::register(&lab.client, &ca.directory, &ca.ca_der, key)
        .unwrap_or_else(|e| panic!("ACME account: {e:#}"));
    let challenges: Vec<_> = (0..=n)
        .map(|_| acme.new_http01(DNS_NAME).unwrap())
        .collect();

    let verdict = forecast(
        &lab,
        scenario,
        &challenges[0],
        &ca.directory,
        attempts,
        flags,
    );
    // The forecast names its own challenge; Pebble's errors name theirs: compare as <token>.
    let own = &challenges[0];
    let outcome = verdict["outcome"].as_str().unwrap_or("?").to_owned();
    let pass_probability = verdict["passProbability"].as_f64().unwrap_or(f64::NAN);

    let mut valid = 0;
    let mut pebble_errors: Vec<String> = Vec::new();
    for ch in &challenges[1..] {
        match acme.validate(ch, Duration::from_secs(60)).unwrap() {
            Validation::Valid => valid += 1,
            Validation::Invalid(e) => {
                // The detail names the token; keep one line per distinct failure.
                let e = e
                    .replace(&ch.token, "<token>")
                    .replace(&ch.key_authorization, "<key>");
                if !pebble_errors.contains(&e) {
                    pebble_errors.push(e);
                }
            }
        }
    }
    let interval = expected_interval(&verdict, n);
    let o = Observed {
        label: format!(
            "{scenario}{}",
            if balance_random {
                " (balance random)"
            } else {
                ""
            }
        ),
        outcome,
        pass_probability,
        basis: verdict["basis"].as_str().unwrap_or("").to_owned(),
        reason: verdict["reason"]
            .as_str()
            .unwrap_or("")
            .replace(&own.key_authorization, "<key>")
            .replace(&own.token, "<token>"),
        rotation: verdict["rotation"].as_str().unwrap_or("").to_owned(),
        valid,
        n,
        interval,
        pebble_errors,
    };
    eprintln!("pebble agreement {o}");
    o
}

impl std::fmt::Display for Observed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: tool {} (P={:.3}; {}) → expected valid in [{}, {}] of {}; Pebble: {} valid; Pebble errors: {:?}; tool reason: {}",
            self.label,
            self.outcome,
            self.pass_probability,
            self.basis,
            self.interval.0,
            self.interval.1,
            self.n,
            self.valid,
            self.pebble_errors,
            self.reason
        )
    }
}

/// Load the scenario's cert-manager objects (with Pebble's challenge) into a fake API server
/// in the client namespace, run the real CLI there and return the `acme` verdict.
fn forecast(
    lab: &Lab,
    scenario: &str,
    ch: &acmecheck_testkit::acme::Http01,
    directory: &str,
    attempts: Option<u32>,
    flags: &[&str],
) -> serde_json::Value {
    let api = in_netns(&lab.client, FakeApi::spawn).unwrap().unwrap();
    let fixtures = Path::new(ROOT).join("tests/fixtures/chain");
    for (_, yaml) in pebble::cluster_objects(&fixtures, scenario, ch, directory).unwrap() {
        api.load_yaml(&yaml).unwrap();
    }
    let kubeconfig = api.kubeconfig_with_namespace("shop").unwrap();
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.client,
            env!("CARGO_BIN_EXE_kubectl-acmecheck"),
            "web",
            "-n",
            "shop",
            "-o",
            "json",
            "--local-only",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .args(attempts.map(|a| format!("--attempts={a}")))
        .args(flags)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let local = &json["certificates"][0]["challenges"][0]["vantages"]["local"];
    assert_eq!(
        local["caProfile"], "pebble",
        "the issuer URL {directory} must select the Pebble profile"
    );
    assert_eq!(
        local["expectedKey"].as_str(),
        Some(ch.key_authorization.as_str()),
        "the tool must probe Pebble's challenge"
    );
    let mut verdict = local["verdicts"]["acme"].clone();
    // For the interval: how many attempts the per-request fraction came from.
    verdict["attempts"] = local["addresses"]
        .as_array()
        .map(|a| a.iter().filter_map(|a| a["attempts"].as_u64()).max())
        .into();
    verdict
}

/// The range of `valid` counts (of `n`) that agrees with the verdict (`lab::agreement`).
fn expected_interval(verdict: &serde_json::Value, n: u32) -> (u32, u32) {
    let forecast = agreement::Forecast {
        outcome: verdict["outcome"].as_str().unwrap_or("").to_owned(),
        pass_probability: verdict["passProbability"].as_f64().unwrap_or(f64::NAN),
        per_request_pass: verdict["perRequestPass"].as_f64().unwrap_or(f64::NAN),
        attempts: verdict["attempts"].as_u64().unwrap_or(0) as u32,
        rotation: verdict["rotation"].is_string(),
    };
    agreement::expected_interval(&forecast, n, pebble_probability)
        .unwrap_or_else(|| panic!("no forecast to compare: {verdict}"))
}

fn agree(o: &Observed) {
    assert!(
        (o.interval.0..=o.interval.1).contains(&o.valid),
        "the tool's forecast and Pebble disagree: {o}"
    );
}

/// Deterministic scenarios: one outcome, N small.
const DETERMINISTIC_N: u32 = 10;
/// Mixed backends: the tool sends [`MIXED_ATTEMPTS`] connections, so its per-request fraction
/// p ≈ 0.5 is known to ±3.89·sqrt(0.25/1000) ≈ ±0.06 at ALPHA, and P = p³ to [0.085, 0.18];
/// 120 validations make even the low end distinguishable from "never" (0.915^120 ≈ 2e-5 <
/// ALPHA/2), so the interval of a flaky forecast excludes 0.
const MIXED_N: u32 = 120;
const MIXED_ATTEMPTS: Option<u32> = Some(1000);

/// One agreement case.
struct Case {
    scenario: &'static str,
    balance_random: bool,
    /// Pebble validations.
    n: u32,
    /// The tool's attempts per address (adaptive when None).
    attempts: Option<u32>,
    /// The forecast outcome the scenario must produce.
    outcome: &'static str,
    /// Text the verdict's strict-rotation note must contain; None: independent draws (no note).
    rotation: Option<&'static str>,
    /// How Pebble runs, and the tool's flags that say so.
    deployed: pebble::Config,
    flags: &'static [&'static str],
}

const DETERMINISTIC: Case = Case {
    scenario: "",
    balance_random: false,
    n: DETERMINISTIC_N,
    attempts: None,
    outcome: "",
    rotation: None,
    deployed: pebble::Config {
        http_port: 80,
        always_valid: false,
        dns_server: true,
    },
    flags: &[],
};

const MIXED: Case = Case {
    n: MIXED_N,
    attempts: MIXED_ATTEMPTS,
    ..DETERMINISTIC
};

/// Fail without root (see `skip`); else observe, check the forecast's outcome, its rotation note
/// and the agreement with Pebble.
fn case(c: Case) -> Option<Observed> {
    let label = format!(
        "{}{}",
        c.scenario,
        if c.balance_random {
            " (balance random)"
        } else {
            ""
        }
    );
    if skip(&label) {
        return None;
    }
    let o = observe(
        c.scenario,
        c.balance_random,
        c.n,
        c.attempts,
        c.deployed,
        c.flags,
    );
    assert_eq!(o.outcome, c.outcome, "{label}: {}", o.basis);
    // A certain failure is worded as Pebble words it (its problem detail, without the type).
    if o.outcome == "fail" && o.rotation.is_empty() {
        let reason = o.reason.split("; ").next().unwrap_or("");
        assert!(
            o.pebble_errors.iter().any(|e| e
                .split_once(": ")
                .is_some_and(|(_, detail)| detail == reason)),
            "{label}: the tool's reason {reason:?} is none of Pebble's {:?}",
            o.pebble_errors
        );
    }
    match c.rotation {
        Some(text) => assert!(o.rotation.contains(text), "{label}: {}", o.rotation),
        None => assert!(o.rotation.is_empty(), "{label}: {}", o.rotation),
    }
    agree(&o);
    Some(o)
}

fn deterministic(scenario: &'static str, outcome: &'static str) -> Option<Observed> {
    case(Case {
        scenario,
        outcome,
        ..DETERMINISTIC
    })
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn healthy_passes_every_validation() {
    deterministic("healthy", "pass");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn wrong_backend_fails_every_validation() {
    if let Some(o) = deterministic("wrong-backend", "fail") {
        assert!(
            o.pebble_errors[0].contains("returned 404"),
            "{:?}",
            o.pebble_errors
        );
    }
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn aaaa_to_a_wrong_server_fails_every_validation() {
    // Pebble dials the AAAA (no IPv4 fallback), as the tool's Pebble profile assumes.
    if let Some(o) = deterministic("aaaa-wrong", "fail") {
        assert!(o.basis.contains("2001:db8::99"), "{}", o.basis);
    }
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn https_redirect_unserved_fails_every_validation() {
    // Pebble follows the 308 (its detail names the first URL): the 404 comes from https.
    if let Some(o) = deterministic("https-redirect-unserved", "fail") {
        assert!(
            o.pebble_errors[0].contains("returned 404"),
            "{:?}",
            o.pebble_errors
        );
        // Pebble's text names its first URL (with the port) even after the redirect.
        assert!(
            o.reason.contains("http://shop.example.test:80/"),
            "{}",
            o.reason
        );
    }
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn redirect_to_8443_passes_pebble_unlike_lets_encrypt() {
    // Pebble follows Go's redirect rules (any port); Let's Encrypt would refuse port 8443.
    deterministic("redirect-8443", "pass");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn basic_auth_fails_every_validation() {
    deterministic("basic-auth", "fail");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn refused_fails_every_validation() {
    deterministic("refused", "fail");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn hairpin_passes_from_outside() {
    // Only the cluster cannot reach its own public address; Pebble, outside, can (and so can
    // the local vantage the forecast comes from).
    deterministic("hairpin", "pass");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn split_horizon_passes_from_outside() {
    // The cluster DNS answers the gateway's address; the public DNS Pebble asks, the edge's.
    deterministic("split-horizon", "pass");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn stale_a_record_behind_a_rotating_dns_server_never_passes() {
    // Two A records, dnsmasq rotates their order per query, and each of Pebble's 3 requests
    // looks the name up and dials the first A: one of them always gets the old server. (The
    // tool's first version assumed "the first A" of its own lookup: pass; Pebble said 0 of 10.)
    case(Case {
        scenario: "stale-a",
        outcome: "fail",
        rotation: Some("rotates its answers strictly"),
        attempts: None,
        ..MIXED
    });
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn founding_incident_with_random_balancing_is_flaky_at_p_cubed() {
    case(Case {
        scenario: "founding-incident",
        balance_random: true,
        outcome: "flaky",
        ..MIXED
    });
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn founding_incident_with_strict_round_robin_never_passes() {
    // Independent draws would say flaky ≈12.5 %: 0 of 120 would then have probability 1e-7.
    case(Case {
        scenario: "founding-incident",
        outcome: "fail",
        rotation: Some("rotates strictly over 2 slots"),
        ..MIXED
    });
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn founding_incident_90_10_with_strict_round_robin() {
    case(Case {
        scenario: "founding-incident-90-10",
        outcome: "flaky",
        rotation: Some("rotates strictly over 10 slots"),
        ..MIXED
    });
}

#[test]
fn the_mixed_design_tells_flaky_from_fail() {
    // For a 50/50 mix measured with MIXED_ATTEMPTS, even the low end of p's interval gives a
    // count interval that excludes 0 valid: "flaky" and "fail" are distinguishable.
    let m = MIXED_ATTEMPTS.map_or(1.0, f64::from);
    let p_lo = 0.5 - z(ALPHA) * (0.25 / m).sqrt();
    assert!(binomial_quantile(MIXED_N, pebble_probability(p_lo), ALPHA / 2.0) >= 1);
    // And a strict-rotation "fail" observed as 0 of MIXED_N refutes independent draws (p³).
    assert!(binomial_quantile(MIXED_N, pebble_probability(0.5), ALPHA / 2.0) >= 1);
}

// ---------------------------------------------------------------------------------------------
// Issue 11: the new lab scenarios, and Pebble as deployed
// ---------------------------------------------------------------------------------------------

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn aaaa_to_a_working_server_passes() {
    // Pebble (IPv6 here) dials the AAAA, which serves the key.
    deterministic("ipv4-cluster-aaaa-ok", "pass");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn aaaa_to_a_dead_address_fails_every_validation() {
    // Pebble dials only the first address (the AAAA, with -dnsserver): "no route to host".
    if let Some(o) = deterministic("ipv4-cluster-aaaa-dead", "fail") {
        assert!(o.reason.contains("2001:db8::dead"), "{}", o.reason);
    }
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn two_a_records_one_refusing_never_passes() {
    // No intra-family fallback in Pebble: each of the 3 requests dials its lookup's first A,
    // and the DNS server alternates them.
    case(Case {
        scenario: "two-a-one-refusing",
        outcome: "fail",
        rotation: Some("rotates its answers strictly"),
        ..DETERMINISTIC
    });
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn redirect_to_an_ip_host_passes() {
    deterministic("redirect-public-ip", "pass");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn redirect_303_passes_pebble_unlike_lets_encrypt() {
    // Go's client follows 303; Boulder refuses it (checked by the unit tests).
    deterministic("redirect-303", "pass");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn private_address_in_public_dns_never_passes() {
    // 10.0.0.5 is unreachable; Pebble dials it for every other lookup, no fallback.
    case(Case {
        scenario: "private-address",
        outcome: "fail",
        rotation: Some("rotates its answers strictly"),
        ..DETERMINISTIC
    });
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn pebble_on_its_own_port_validates_there() {
    // httpPort 5002 (Pebble's sample config): nothing listens there; told so, the tool probes
    // that port and forecasts the failure Pebble has.
    case(Case {
        scenario: "healthy",
        outcome: "fail",
        deployed: pebble::Config {
            http_port: 5002,
            ..DETERMINISTIC.deployed
        },
        flags: &["--pebble-http-port=5002"],
        ..DETERMINISTIC
    });
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn pebble_always_valid_passes_a_wrong_backend() {
    case(Case {
        scenario: "wrong-backend",
        outcome: "pass",
        deployed: pebble::Config {
            always_valid: true,
            ..DETERMINISTIC.deployed
        },
        flags: &["--pebble-always-valid"],
        ..DETERMINISTIC
    });
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn pebble_with_the_system_resolver() {
    // Without -dnsserver, Go's LookupHost order on a host with IPv6: the AAAA first (RFC 6724
    // rule 6), as from the tool's vantage.
    case(Case {
        scenario: "aaaa-wrong",
        outcome: "fail",
        deployed: pebble::Config {
            dns_server: false,
            ..DETERMINISTIC.deployed
        },
        flags: &["--pebble-system-resolver"],
        ..DETERMINISTIC
    });
}
