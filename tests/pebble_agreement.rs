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
use acmecheck_testkit::lab::{self, DNS_NAME, Lab};
use acmecheck_testkit::pebble;
use acmecheck_testkit::proc::in_netns;
use kubectl_acmecheck::probe::verdict::pebble_probability;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// False-alarm rate of each interval (binomial count, and the tool's per-request fraction).
const ALPHA: f64 = 1e-4;

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
fn observe(scenario: &str, balance_random: bool, n: u32, attempts: Option<u32>) -> Observed {
    let key = AccountKey::generate().unwrap();
    let opts = lab::Options {
        key_thumbprint: Some(key.thumbprint()),
        balance_random,
        ..Default::default()
    };
    let mut lab = lab::scenario(scenario, opts).unwrap_or_else(|e| panic!("lab {scenario}: {e:#}"));
    let ca = pebble::start(&mut lab).unwrap_or_else(|e| panic!("pebble: {e:#}"));
    let mut acme = Client::register(&lab.client, &ca.directory, &ca.ca_der, key)
        .unwrap_or_else(|e| panic!("ACME account: {e:#}"));
    let challenges: Vec<_> = (0..=n)
        .map(|_| acme.new_http01(DNS_NAME).unwrap())
        .collect();

    let verdict = forecast(&lab, scenario, &challenges[0], &ca.directory, attempts);
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
        reason: verdict["reason"].as_str().unwrap_or("").to_owned(),
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

/// The range of `valid` counts (of `n`) that agrees with the verdict.
fn expected_interval(verdict: &serde_json::Value, n: u32) -> (u32, u32) {
    let p_round = verdict["passProbability"].as_f64().unwrap_or(f64::NAN);
    match verdict["outcome"].as_str() {
        Some("pass") if p_round >= 1.0 => (n, n),
        Some("fail") => (0, 0),
        Some("pass" | "flaky") => {
            // Independent draws: P = p³ from the per-request fraction p, itself a sample of
            // `attempts` connections; widen P by p's own two-sided interval.
            // Over a strict rotation P is a fraction of starting slots, not a sample estimate.
            let (lo, hi) = if verdict["rotation"].is_string() {
                (p_round, p_round)
            } else {
                let p = verdict["perRequestPass"].as_f64().unwrap_or(f64::NAN);
                let m = verdict["attempts"].as_u64().unwrap_or(0).max(1) as f64;
                let half = z(ALPHA) * (p * (1.0 - p) / m).sqrt();
                (
                    pebble_probability((p - half).max(0.0)),
                    pebble_probability((p + half).min(1.0)),
                )
            };
            (
                binomial_quantile(n, lo, ALPHA / 2.0),
                binomial_quantile(n, hi, 1.0 - ALPHA / 2.0),
            )
        }
        other => panic!("no forecast to compare: {other:?} ({verdict})"),
    }
}

/// Two-sided standard normal quantile for `alpha` (bisection on erfc; no stats crate).
fn z(alpha: f64) -> f64 {
    let tail = |x: f64| 0.5 * erfc(x / std::f64::consts::SQRT_2);
    let (mut lo, mut hi) = (0.0, 10.0);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if tail(mid) > alpha / 2.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let y = t
        * (-x * x - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { y } else { 2.0 - y }
}

/// The smallest k with P(X ≤ k) ≥ q for X ~ Binomial(n, p) (exact pmf recursion).
fn binomial_quantile(n: u32, p: f64, q: f64) -> u32 {
    if p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    let mut pmf = (1.0 - p).powi(n as i32);
    let mut cdf = pmf;
    for k in 0..n {
        if cdf >= q {
            return k;
        }
        pmf *= f64::from(n - k) / f64::from(k + 1) * p / (1.0 - p);
        cdf += pmf;
    }
    n
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
}

const DETERMINISTIC: Case = Case {
    scenario: "",
    balance_random: false,
    n: DETERMINISTIC_N,
    attempts: None,
    outcome: "",
    rotation: None,
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
    let o = observe(c.scenario, c.balance_random, c.n, c.attempts);
    assert_eq!(o.outcome, c.outcome, "{label}: {}", o.basis);
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
        assert!(o.reason.contains("2001:db8::99"), "{}", o.reason);
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
        assert!(o.reason.contains("https://"), "{}", o.reason);
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
        rotation: Some("rotates its A records strictly"),
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

#[test]
fn binomial_helpers() {
    // Binomial(80, 0.125): mean 10; 0 is below the ALPHA/2 quantile, 10 inside.
    let lo = binomial_quantile(80, 0.125, ALPHA / 2.0);
    let hi = binomial_quantile(80, 0.125, 1.0 - ALPHA / 2.0);
    assert!((1..10).contains(&lo) && (11..30).contains(&hi), "{lo} {hi}");
    assert_eq!(binomial_quantile(10, 1.0, 0.5), 10);
    assert_eq!(binomial_quantile(10, 0.0, 0.5), 0);
    assert!((z(0.05) - 1.96).abs() < 0.01);
    assert!((z(1e-4) - 3.89).abs() < 0.01);
}
