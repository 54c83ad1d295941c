//! The probe engine on a real network: HAProxy, nginx and dnsmasq in network namespaces
//! (testkit::lab). The real binary runs `probe --plan -` inside the client namespace, exactly as
//! the probe pod will; the report goes through the real diagnosis. Needs root.

use acmecheck_testkit::lab::{self, DNS_NAME, KEY, Lab, TOKEN};
use kubectl_acmecheck::diagnose::{Code, Severity, probe::findings};
use kubectl_acmecheck::evidence::ChallengeEvidence;
use kubectl_acmecheck::probe::plan::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one `probe --plan` may run before the test kills it and fails (a hang, not a slow
/// machine: the longest scenario takes a few seconds).
const WATCHDOG: Duration = Duration::from_secs(120);

/// Build the scenario (panics without root: see `lab::skip_without_root`).
fn lab(name: &str) -> Option<Lab> {
    if lab::skip_without_root(name) {
        return None;
    }
    Some(
        lab::scenario(name, lab::Options::default())
            .unwrap_or_else(|e| panic!("building lab {name}: {e:#}")),
    )
}

struct Run {
    target: TargetReport,
    elapsed: Duration,
    peak_rss_kb: u64,
}

/// Run the real binary's `probe --plan -` in the lab's client namespace.
fn probe(lab: &Lab, attempts: Option<u32>, ca: CaProfile, timeout_ms: u64) -> Run {
    let plan = ProbePlan::new(
        vec![Target {
            id: "shop/web-1-2-3".into(),
            url: String::new(),
            dns_name: DNS_NAME.into(),
            token: TOKEN.into(),
            expected_key: KEY.into(),
            ..Default::default()
        }],
        ProbeOptions {
            attempts_per_address: attempts,
            ca_profile: ca,
            timeout_ms,
            ..Default::default()
        },
    );
    let started = Instant::now();
    // /usr/bin/time is not always there: read the peak RSS from /proc while it runs.
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.client,
            env!("CARGO_BIN_EXE_kubectl-acmecheck"),
            "probe",
            "--plan",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start probe");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&plan).unwrap().as_bytes())
        .unwrap();
    let pid = child.id();
    // `ip netns exec` execs the binary in place, so the PID is the probe's.
    let watcher = acmecheck_testkit::proc::watch_peak_rss(pid);
    // A probe that hangs is killed after WATCHDOG, and the test fails below saying so.
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let fired = wait.recv_timeout(WATCHDOG) == Err(std::sync::mpsc::RecvTimeoutError::Timeout);
        if fired {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        fired
    });
    let out = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    drop(done);
    assert!(
        !watchdog.join().unwrap(),
        "the probe did not end within {WATCHDOG:?}; killed"
    );
    let peak_rss_kb = watcher.join().unwrap();
    assert!(
        out.status.success(),
        "probe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut report: ProbeReport = serde_json::from_slice(&out.stdout).expect("report JSON");
    Run {
        target: report.targets.remove(0),
        elapsed,
        peak_rss_kb,
    }
}

fn challenge() -> ChallengeEvidence {
    ChallengeEvidence {
        name: "web-1-2-3".into(),
        dns_name: DNS_NAME.into(),
        type_: "HTTP-01".into(),
        token: TOKEN.into(),
        key: KEY.into(),
        ..Default::default()
    }
}

fn codes(t: &TargetReport, ca: CaProfile) -> Vec<Code> {
    findings(&challenge(), t, ca)
        .iter()
        .map(|f| f.code)
        .collect()
}

fn count(a: &AddressReport, responder: &str, status: u16) -> u32 {
    a.outcomes
        .iter()
        .filter(|o| o.responder == responder && o.status == Some(status))
        .map(|o| o.count)
        .sum()
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn healthy() {
    let Some(lab) = lab("healthy") else { return };
    let run = probe(&lab, None, CaProfile::Pebble, 10_000);
    let t = &run.target;
    assert_eq!(t.addresses.len(), 1);
    assert_eq!(t.addresses[0].address, lab::EDGE_V4);
    assert_eq!(t.addresses[0].attempts, MIN_ADAPTIVE_ATTEMPTS);
    assert_eq!(count(&t.addresses[0], "nginx", 200), MIN_ADAPTIVE_ATTEMPTS);
    assert_eq!(t.verdicts.self_check.outcome, VerdictOutcome::Pass);
    assert_eq!(t.verdicts.acme.outcome, VerdictOutcome::Pass);
    let f = findings(&challenge(), t, CaProfile::Pebble);
    assert!(f.iter().all(|f| f.severity != Severity::Error), "{f:#?}");
    // A public CA would refuse the lab's documentation addresses and .test name.
    assert_eq!(codes(t, CaProfile::Letsencrypt), vec![Code::NonPublicName]);
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn founding_incident_round_robin() {
    let Some(lab) = lab("founding-incident") else {
        return;
    };
    let run = probe(&lab, None, CaProfile::Pebble, 10_000);
    let t = &run.target;
    let a = &t.addresses[0];
    // Mixed outcomes extend the adaptive count to 200 fresh connections.
    assert_eq!(a.attempts, ADAPTIVE_MIXED_ATTEMPTS);
    let (nginx, envoy) = (count(a, "nginx", 200), count(a, "envoy", 404));
    assert_eq!(nginx + envoy, a.attempts, "{:#?}", a.outcomes);
    // Round-robin per request: an even split (binomial bounds would be 100 ± 30 for a coin).
    assert!((70..=130).contains(&nginx), "nginx {nginx}, envoy {envoy}");
    assert_eq!(a.cert_manager_passes, nginx);
    assert_eq!(codes(t, CaProfile::Pebble), vec![Code::MixedBackends]);
    // Strict round-robin, nothing else on the balancer: the arrival order alternates, so the
    // self check's 5 consecutive requests always include envoy (independent draws: ≈3 %).
    assert_eq!(a.arrival_order.as_ref().and_then(|o| o.period), Some(2));
    assert_eq!(t.verdicts.self_check.outcome, VerdictOutcome::Fail);
    assert!(t.verdicts.self_check.rotation.is_some());
    assert!(
        t.verdicts.self_check.reason.starts_with(
            "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'; "
        ),
        "{}",
        t.verdicts.self_check.reason
    );
    let f = &findings(&challenge(), t, CaProfile::Pebble)[0];
    assert!(
        f.evidence[0].contains("×200 key (nginx)") && f.evidence[0].contains("×404 (envoy)"),
        "{f:#?}"
    );
    assert!(
        run.peak_rss_kb > 0 && run.peak_rss_kb < 40 * 1024,
        "peak RSS {} kB",
        run.peak_rss_kb
    );
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn founding_incident_ninety_ten() {
    let Some(lab) = lab("founding-incident-90-10") else {
        return;
    };
    let t = probe(&lab, None, CaProfile::Pebble, 10_000).target;
    let a = &t.addresses[0];
    let envoy = count(a, "envoy", 404);
    // One connection in ten reaches the gateway: 200 attempts see it about 20 times.
    assert!(
        (10..=30).contains(&envoy),
        "envoy {envoy} of {}",
        a.attempts
    );
    assert_eq!(codes(&t, CaProfile::Pebble), vec![Code::MixedBackends]);
    // p ≈ 0.9: the self check passes a round with p^5 ≈ 0.59 over independent draws; over the
    // strict rotation of 10 slots, 5 consecutive slots avoid the gateway from 5 of 10 starts.
    let p = t.verdicts.self_check.pass_probability;
    assert!((0.4..0.8).contains(&p), "{p}");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn wrong_backend_only() {
    let Some(lab) = lab("wrong-backend") else {
        return;
    };
    let t = probe(&lab, Some(20), CaProfile::Pebble, 10_000).target;
    assert_eq!(count(&t.addresses[0], "envoy", 404), 20);
    assert_eq!(t.verdicts.self_check.outcome, VerdictOutcome::Fail);
    // Pebble's own words (`va/va.go` `fetchHTTP`: its URL carries the port).
    assert_eq!(
        t.verdicts.acme.reason,
        format!(
            "Non-200 status code from HTTP: http://{DNS_NAME}:80/.well-known/acme-challenge/{TOKEN} returned 404"
        )
    );
    // One backend, the wrong one: not "mixed"; the self check reason says the rest.
    assert!(codes(&t, CaProfile::Pebble).is_empty());
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn stale_a_record() {
    let Some(lab) = lab("stale-a") else { return };
    let t = probe(&lab, Some(20), CaProfile::Pebble, 10_000).target;
    assert_eq!(t.addresses.len(), 2);
    assert_eq!(codes(&t, CaProfile::Pebble), vec![Code::StaleAddress]);
    let old = t
        .addresses
        .iter()
        .find(|a| a.address == "203.0.113.99")
        .unwrap();
    assert_eq!(old.cert_manager_passes, 0);
    assert_eq!(old.responders(), ["apache"]);
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn aaaa_to_a_wrong_server() {
    let Some(lab) = lab("aaaa-wrong") else { return };
    let t = probe(&lab, Some(20), CaProfile::Pebble, 10_000).target;
    assert_eq!(
        t.addresses
            .iter()
            .map(|a| a.family.as_str())
            .collect::<Vec<_>>(),
        ["ipv4", "ipv6"]
    );
    assert_eq!(codes(&t, CaProfile::Pebble), vec![Code::Ipv6Broken]);
    // Pebble (AAAA first, no fallback) and Let's Encrypt (no fallback on an HTTP error) fail.
    assert_eq!(t.verdicts.acme.outcome, VerdictOutcome::Fail);
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn https_redirect_unserved() {
    let Some(lab) = lab("https-redirect-unserved") else {
        return;
    };
    let t = probe(&lab, Some(10), CaProfile::Pebble, 10_000).target;
    let o = &t.addresses[0].outcomes[0];
    assert_eq!((o.status, o.redirect_chain.len()), (Some(404), 1), "{o:#?}");
    assert_eq!(
        codes(&t, CaProfile::Pebble),
        vec![Code::HttpsRedirectUnserved]
    );
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn redirect_to_port_8443() {
    let Some(lab) = lab("redirect-8443") else {
        return;
    };
    let t = probe(&lab, Some(10), CaProfile::Letsencrypt, 10_000).target;
    assert_eq!(t.verdicts.self_check.outcome, VerdictOutcome::Pass);
    assert_eq!(t.verdicts.acme.outcome, VerdictOutcome::Fail);
    // Boulder's `getAddrs` drops the lab's documentation address first (the verdict's reason);
    // the redirect itself is refused by the redirect rules (each outcome's text).
    assert_eq!(
        t.verdicts.acme.reason,
        format!(
            "no valid A records found for {DNS_NAME}; no valid AAAA records found for {DNS_NAME}"
        )
    );
    assert!(
        t.addresses[0].outcomes[0]
            .acme_error
            .contains("Invalid port in redirect target"),
        "{}",
        t.addresses[0].outcomes[0].acme_error
    );
    let c = codes(&t, CaProfile::Letsencrypt);
    assert!(c.contains(&Code::BadRedirect), "{c:?}");
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn basic_auth_everywhere() {
    let Some(lab) = lab("basic-auth") else { return };
    let t = probe(&lab, Some(10), CaProfile::Pebble, 10_000).target;
    assert_eq!(codes(&t, CaProfile::Pebble), vec![Code::AuthRequired]);
    let f = &findings(&challenge(), &t, CaProfile::Pebble)[0];
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("Basic realm=\"Restricted\"")),
        "{f:#?}"
    );
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn connection_refused() {
    let Some(lab) = lab("refused") else { return };
    let t = probe(&lab, Some(10), CaProfile::Pebble, 5_000).target;
    assert_eq!(
        t.addresses[0].outcomes[0].error_class,
        Some(ErrorClass::ConnectRefused)
    );
    assert_eq!(codes(&t, CaProfile::Pebble), vec![Code::InboundBlocked]);
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn dropped_packets_time_out_within_the_limit() {
    let Some(lab) = lab("dropped") else { return };
    let run = probe(&lab, Some(10), CaProfile::Pebble, 2_000);
    let t = &run.target;
    assert_eq!(
        t.addresses[0].outcomes[0].error_class,
        Some(ErrorClass::ConnectTimeout)
    );
    assert_eq!(t.addresses[0].outcomes[0].count, 10);
    assert_eq!(codes(t, CaProfile::Pebble), vec![Code::InboundBlocked]);
    // All 10 attempts run at once and each ends at its 2 s timeout: about 2 s in all, where one
    // after the other would take 20 s. The bound leaves 6 s of margin for a busy machine and
    // still fails for attempts run one (20 s) or two (10 s) at a time; bench/bounds.sh measures
    // the real figure.
    assert!(run.elapsed < Duration::from_secs(8), "{:?}", run.elapsed);
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn the_lab_has_no_route_out() {
    let Some(lab) = lab("healthy") else { return };
    // `ip route get` asks the kernel's routing table; it sends nothing.
    for target in ["8.8.8.8", "10.0.0.1", "2001:4860:4860::8888"] {
        let out = Command::new("ip")
            .args(["netns", "exec", &lab.client, "ip", "route", "get", target])
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{target} is routable from the lab: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let ok = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.client,
            "ip",
            "route",
            "get",
            lab::EDGE_V4,
        ])
        .output()
        .unwrap();
    assert!(ok.status.success(), "the lab's own addresses are reachable");
}
