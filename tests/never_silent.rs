//! Never silent, over generated evidence: whenever a verdict of a probed challenge (the self
//! check or the CA validation, from this machine or from the probe pod) is `fail` or `flaky`,
//! or cert-manager's own reason says the self check fails, the report carries an error finding
//! that explains it, and the exit code is 1.
//!
//! The evidence is generated, not hand-picked: the lab's cert-manager objects (gathered offline
//! as the CLI would), with a random challenge reason and state, random per-address mixes of
//! outcomes and responders, IPv4/IPv6, one or both vantages (the probe pod ran, failed, or was
//! not asked), random direct probes of each data plane and the solver, and a random egress
//! witness. Verdicts follow from the outcomes (no pass: fail; all pass: pass; a mix: flaky,
//! or pass when nearly all pass; now and then unknown). A hand-rolled generator with fixed
//! seeds: a failure names its seed, and the run is the same every time.

use acmecheck_testkit::lab;
use kubectl_acmecheck::diagnose::{Code, Severity};
use kubectl_acmecheck::evidence::{CertificateEvidence, ClusterEvidence};
use kubectl_acmecheck::gather;
use kubectl_acmecheck::probe::Probes;
use kubectl_acmecheck::probe::incluster::{InCluster, Placement, Problem, ProblemKind};
use kubectl_acmecheck::probe::plan::{
    AddressReport, Attempt, DirectResult, DnsReport, EgressReport, ErrorClass, KeyMatch,
    OutcomeCount, ResolverAnswer, TargetReport, Verdict, VerdictOutcome, Verdicts,
};
use kubectl_acmecheck::probe::targets::{probe_candidates, probe_id};
use kubectl_acmecheck::run::build_report;
use std::collections::HashMap;

const CASES: u64 = 3000;

/// xorshift64*: small, deterministic, good enough to spread cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// (status, error, responder, key match, body): the answers the generator mixes.
type Kind = (
    Option<u16>,
    Option<ErrorClass>,
    &'static str,
    KeyMatch,
    &'static str,
);

const KINDS: &[Kind] = &[
    (Some(200), None, "nginx", KeyMatch::Exact, "key"),
    (Some(200), None, "acmesolver", KeyMatch::Exact, "key"),
    (Some(404), None, "envoy", KeyMatch::NotApplicable, ""),
    (
        Some(404),
        None,
        "nginx",
        KeyMatch::NotApplicable,
        "<html>nginx</html>",
    ),
    (
        Some(404),
        None,
        "apache",
        KeyMatch::NotApplicable,
        "Not Found",
    ),
    (
        Some(403),
        None,
        "nginx",
        KeyMatch::NotApplicable,
        "forbidden",
    ),
    (
        Some(401),
        None,
        "router-ui",
        KeyMatch::NotApplicable,
        "login",
    ),
    (
        Some(403),
        None,
        "cloudflare",
        KeyMatch::NotApplicable,
        "blocked",
    ),
    (
        Some(503),
        None,
        "nginx",
        KeyMatch::NotApplicable,
        "unavailable",
    ),
    (Some(200), None, "unknown-1a2b3c", KeyMatch::No, "welcome"),
    (Some(200), None, "nginx", KeyMatch::Trimmed, "key\n"),
    (
        None,
        Some(ErrorClass::ConnectTimeout),
        "-",
        KeyMatch::NotApplicable,
        "",
    ),
    (
        None,
        Some(ErrorClass::ConnectRefused),
        "-",
        KeyMatch::NotApplicable,
        "",
    ),
    (
        None,
        Some(ErrorClass::Eof),
        "-",
        KeyMatch::NotApplicable,
        "",
    ),
    (
        None,
        Some(ErrorClass::NetworkUnreachable),
        "-",
        KeyMatch::NotApplicable,
        "",
    ),
];

fn outcome(k: &Kind, count: u32) -> (OutcomeCount, Attempt) {
    let (status, error_class, responder, key_match, body) = *k;
    let cm = key_match == KeyMatch::Exact;
    let ca = cm || key_match == KeyMatch::Trimmed;
    let o = OutcomeCount {
        status,
        error_class,
        responder: responder.into(),
        key_match,
        cert_manager_pass: cm,
        acme_pass: ca,
        cert_manager_error: if cm { String::new() } else { "fails".into() },
        acme_error: if ca { String::new() } else { "fails".into() },
        count,
        ..Default::default()
    };
    let sample = Attempt {
        status,
        error_class,
        responder: responder.into(),
        key_match,
        body_sha256: format!("sha-of-{body}"),
        cert_manager_pass: cm,
        acme_pass: ca,
        ..Default::default()
    };
    (o, sample)
}

/// One to three kinds of answer, with counts.
fn outcomes(rng: &mut Rng, attempts: u32) -> (Vec<OutcomeCount>, Vec<Attempt>) {
    // A third of the time all is well (the key from one of the serving kinds).
    if rng.chance(33) {
        let (o, s) = outcome(&KINDS[rng.below(2) as usize], attempts);
        return (vec![o], vec![s]);
    }
    let n = 1 + rng.below(3) as usize;
    let mut kinds: Vec<&Kind> = (0..n).map(|_| rng.pick(KINDS)).collect();
    kinds.dedup();
    let mut left = attempts;
    let mut out = Vec::new();
    for (i, k) in kinds.iter().enumerate() {
        let c = if i + 1 == kinds.len() {
            left
        } else {
            1 + rng.below(u64::from(left.max(2) - 1)) as u32
        };
        left -= c.min(left);
        if c > 0 {
            out.push(outcome(k, c));
        }
    }
    out.into_iter().unzip()
}

fn verdict(rng: &mut Rng, passes: u32, attempts: u32) -> Verdict {
    let outcome = if rng.chance(5) {
        VerdictOutcome::Unknown
    } else if passes == 0 {
        VerdictOutcome::Fail
    } else if passes == attempts || (passes * 100 >= attempts * 97 && rng.chance(50)) {
        VerdictOutcome::Pass
    } else {
        VerdictOutcome::Flaky
    };
    Verdict {
        outcome,
        pass_probability: f64::from(passes) / f64::from(attempts.max(1)),
        reason: "generated".into(),
        ..Default::default()
    }
}

fn report(rng: &mut Rng, id: &str, dns_name: &str, key: &str) -> TargetReport {
    let addrs: &[(&str, &str)] = &[
        ("203.0.113.10", "ipv4"),
        ("203.0.113.11", "ipv4"),
        ("2001:db8::10", "ipv6"),
    ];
    let n = rng.below(3) as usize; // 0: the name did not resolve
    let mut addresses = Vec::new();
    for (ip, family) in addrs.iter().take(n) {
        let attempts = 20;
        let (outcomes, samples) = outcomes(rng, attempts);
        let sum = |f: fn(&OutcomeCount) -> bool| {
            outcomes
                .iter()
                .filter(|o| f(o))
                .map(|o| o.count)
                .sum::<u32>()
        };
        addresses.push(AddressReport {
            address: (*ip).into(),
            family: (*family).into(),
            attempts,
            cert_manager_passes: sum(|o| o.cert_manager_pass),
            acme_passes: sum(|o| o.acme_pass),
            outcomes,
            samples,
            ..Default::default()
        });
    }
    let total: u32 = addresses.iter().map(|a| a.attempts).sum();
    let cm: u32 = addresses.iter().map(|a| a.cert_manager_passes).sum();
    let ca: u32 = addresses.iter().map(|a| a.acme_passes).sum();
    TargetReport {
        id: id.into(),
        url: format!("http://{dns_name}/.well-known/acme-challenge/tok"),
        dns_name: dns_name.into(),
        expected_key: key.into(),
        dns: DnsReport {
            resolvers: vec![ResolverAnswer {
                resolver: "system".into(),
                role: "primary".into(),
                a: addresses
                    .iter()
                    .filter(|a| a.family == "ipv4")
                    .map(|a| a.address.clone())
                    .collect(),
                aaaa: addresses
                    .iter()
                    .filter(|a| a.family == "ipv6")
                    .map(|a| a.address.clone())
                    .collect(),
                error: addresses.is_empty().then_some(ErrorClass::DnsNxdomain),
                ..Default::default()
            }],
            ..Default::default()
        },
        verdicts: Verdicts {
            self_check: verdict(rng, cm, total),
            acme: verdict(rng, ca, total),
        },
        addresses,
        ..Default::default()
    }
}

/// Direct probes from the pod, labelled as the in-cluster plan labels the lab's objects.
fn direct(rng: &mut Rng) -> Vec<DirectResult> {
    let targets = [
        (
            "solver Service shop/cm-acme-http-solver-8kqzt",
            "198.51.100.30:8089",
        ),
        (
            "solver pod shop/cm-acme-http-solver-7x2kq",
            "198.51.100.31:8089",
        ),
        (
            "ingress-nginx Service ingress-nginx/ingress-nginx-controller",
            "198.51.100.10:80",
        ),
        (
            "gateway infra/public (cilium) Service infra/cilium-gateway-public",
            "198.51.100.20:80",
        ),
    ];
    let mut out = Vec::new();
    for (label, address) in targets {
        if !rng.chance(70) {
            continue;
        }
        let (outcomes, samples) = outcomes(rng, 20);
        out.push(DirectResult {
            address: (*address).into(),
            label: (*label).into(),
            attempts: 20,
            cert_manager_passes: outcomes
                .iter()
                .filter(|o| o.cert_manager_pass)
                .map(|o| o.count)
                .sum(),
            outcomes,
            samples,
            ..Default::default()
        });
    }
    out
}

fn egress(rng: &mut Rng) -> Option<EgressReport> {
    match rng.below(3) {
        0 => None,
        1 => Some(EgressReport {
            url: "https://pebble.lab.example.test:14000/dir".into(),
            address: "192.0.2.41:14000".into(),
            status: Some(200),
            responder: "nginx".into(),
            ..Default::default()
        }),
        _ => Some(EgressReport {
            url: "https://pebble.lab.example.test:14000/dir".into(),
            address: "192.0.2.41:14000".into(),
            error_class: Some(ErrorClass::ConnectTimeout),
            error: Some("dial tcp 192.0.2.41:14000: i/o timeout".into()),
            responder: "-".into(),
            ..Default::default()
        }),
    }
}

const REASONS: &[Option<&str>] = &[
    None,
    Some("Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'"),
    Some("Waiting for http-01 challenge propagation: wrong status code '503', expected '200'"),
    Some(
        "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request 'http://shop.example.test/.well-known/acme-challenge/x': Get \"http://shop.example.test/.well-known/acme-challenge/x\": dial tcp 203.0.113.10:80: i/o timeout",
    ),
    Some(
        "Waiting for HTTP-01 challenge propagation: did not get expected response \"k\" when querying endpoint",
    ),
    Some("Waiting for HTTP-01 challenge propagation: failed to read response body: unexpected EOF"),
    Some(
        "Waiting for HTTP-01 challenge propagation: did not get expected response when querying endpoint, expected \"k\" but got: <html>Welcome ... (truncated)",
    ),
];

const CA_REASON: &str = "Error accepting authorization: acme: authorization error for shop.example.test: 403 urn:ietf:params:acme:error:unauthorized: Non-200 status code from HTTP: http://shop.example.test/.well-known/acme-challenge/x returned 404";

/// The lab's objects, joined offline like the gather stage does.
fn lab_evidence() -> (Vec<CertificateEvidence>, ClusterEvidence) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chain");
    let files = lab::cluster_objects(&root, "founding-incident").unwrap();
    let text: Vec<&str> = files.iter().map(|(_, t)| t.as_str()).collect();
    gather::assemble(&gather::Snapshot::from_yaml(&text.join("\n---\n")).unwrap())
}

fn placement() -> Placement {
    Placement {
        namespace: "cert-manager".into(),
        pod: "acmecheck-probe-1".into(),
        node: Some("node-a".into()),
        why: "cert-manager's namespace, like the self check".into(),
    }
}

#[derive(Default)]
struct Tally {
    failing: u32,
    passing: u32,
    general: u32,
    specific: u32,
    rejected: u32,
}

#[test]
fn a_failing_verdict_or_self_check_is_always_an_explained_error() {
    let (base_certs, cluster) = lab_evidence();
    let mut tally = Tally::default();
    for seed in 1..=CASES {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut certs = base_certs.clone();
        let ch = &mut certs[0].challenges[0];
        if rng.chance(15) {
            ch.state = "invalid".into();
            ch.processing = false;
            ch.presented = false;
            ch.reason = Some(CA_REASON.into());
            ch.solver_pods.clear();
            ch.solver_services.clear();
            ch.solver_ingresses.clear();
        } else {
            ch.reason = rng.pick(REASONS).map(str::to_owned);
        }
        let cert = &certs[0];
        let candidates: Vec<_> = probe_candidates(cert).collect();
        assert_eq!(candidates.len(), 1, "seed {seed}: the challenge is probed");
        let c = candidates[0];
        let id = probe_id(cert, c);
        let local = rng
            .chance(85)
            .then(|| report(&mut rng, &id, &c.dns_name, &c.key));
        let in_cluster = match rng.below(4) {
            0 => InCluster::NotRequested,
            1 => InCluster::Failed {
                placement: Some(placement()),
                problem: Problem {
                    kind: ProblemKind::ImagePull,
                    message: "image could not be pulled".into(),
                    hint: "use --probe-image".into(),
                },
            },
            _ => {
                let mut t = report(&mut rng, &id, &c.dns_name, &c.key);
                t.direct = direct(&mut rng);
                t.egress = egress(&mut rng);
                InCluster::Ran {
                    placement: placement(),
                    targets: HashMap::from([(id.clone(), t)]),
                }
            }
        };
        let probes = Probes {
            enabled: true,
            local: local.into_iter().map(|t| (id.clone(), t)).collect(),
            in_cluster,
        };
        let seen: Vec<&TargetReport> = probes
            .local
            .get(&id)
            .into_iter()
            .chain(probes.in_cluster.target(&id))
            .collect();
        let verdict_fails = seen.iter().any(|t| {
            [&t.verdicts.self_check, &t.verdicts.acme]
                .iter()
                .any(|v| matches!(v.outcome, VerdictOutcome::Fail | VerdictOutcome::Flaky))
        });
        let reason_fails = c
            .reason
            .as_deref()
            .is_some_and(|r| r.to_ascii_lowercase().starts_with("waiting for "));
        let report = build_report(&certs, &cluster, &probes);
        let findings = &report.certificates[0].findings;
        let errors: Vec<Code> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.code)
            .collect();
        let context = || {
            format!(
                "seed {seed}: reason {:?}, state {}, findings {:#?}, reports {seen:#?}",
                c.reason, c.state, findings
            )
        };
        if !(verdict_fails || reason_fails) {
            tally.passing += 1;
            continue;
        }
        tally.failing += 1;
        tally.rejected += u32::from(c.state == "invalid");
        // The invariant: an error finding about this challenge that names a cause (or the
        // general one), and exit 1.
        let explaining: Vec<&kubectl_acmecheck::diagnose::Finding> = findings
            .iter()
            .filter(|f| {
                f.severity == Severity::Error
                    && f.challenge.as_deref() == Some(c.name.as_str())
                    && !matches!(f.code, Code::NotChecked)
            })
            .collect();
        assert!(
            explaining.iter().any(|f| f.code != Code::SelfCheckFailing)
                || seen.is_empty() && errors.contains(&Code::SelfCheckFailing),
            "no error finding explains the failure: {}",
            context()
        );
        assert_eq!(report.summary.exit_code, 1, "{}", context());
        match findings.iter().find(|f| f.code == Code::UnexplainedFailure) {
            Some(g) => {
                tally.general += 1;
                // Only when no rule named a cause; and it says what was expected and seen.
                assert!(
                    !explaining.iter().any(|f| !matches!(
                        f.code,
                        Code::UnexplainedFailure | Code::SelfCheckFailing
                    )),
                    "the general finding beside a specific one: {}",
                    context()
                );
                assert!(
                    g.evidence[0].starts_with("expected: HTTP 200 with exactly the key"),
                    "{}",
                    context()
                );
                for (vantage, present) in [
                    ("this machine: self check ", probes.local.contains_key(&id)),
                    (
                        "in cluster: self check ",
                        probes.in_cluster.target(&id).is_some(),
                    ),
                ] {
                    assert_eq!(
                        g.evidence.iter().any(|e| e.starts_with(vantage)),
                        present,
                        "{vantage}: {}",
                        context()
                    );
                }
                assert!(!g.fix.is_empty(), "{}", context());
            }
            None => tally.specific += 1,
        }
    }
    eprintln!(
        "{CASES} cases: {} failing ({} rejected challenges), {} passing; explained by a specific rule {}, by the general finding {}",
        tally.failing, tally.rejected, tally.passing, tally.specific, tally.general
    );
    // The generator reaches every branch it is meant to.
    assert!(
        tally.failing > CASES as u32 / 2 && tally.passing > 50,
        "failing {} passing {}",
        tally.failing,
        tally.passing
    );
    assert!(
        tally.general > 50 && tally.specific > 300 && tally.rejected > 100,
        "general {} specific {} rejected {}",
        tally.general,
        tally.specific,
        tally.rejected
    );
}
