//! Unit tests over address strings: public addresses where Let's Encrypt is asked (the lab's
//! documentation ranges are reserved, and Boulder drops them).

use super::*;
use crate::probe::perspectives::Day;
use crate::probe::plan::{
    ArrivalOrder, CaProfile, DnsReport, DnsSample, OutcomeCount, PebbleSettings, ResolverAnswer,
    TargetReport,
};

const URL: &str = "http://a.test/.well-known/acme-challenge/t";

/// An address where `passes` attempts pass and `fails` end in `fail_class` (a 404 when None).
fn addr(ip: &str, passes: u32, fails: u32, fail_class: Option<ErrorClass>) -> AddressReport {
    let mut outcomes = vec![OutcomeCount {
        status: Some(200),
        responder: "nginx".into(),
        cert_manager_pass: true,
        acme_pass: true,
        count: passes,
        ..Default::default()
    }];
    let text = match fail_class {
        Some(ErrorClass::ConnectRefused) => {
            format!("dial tcp {ip}:80: connect: connection refused")
        }
        Some(c) => format!("dial tcp {ip}:80: {c}"),
        None => "wrong status code '404', expected '200'".into(),
    };
    outcomes.push(OutcomeCount {
        status: fail_class.is_none().then_some(404),
        error_class: fail_class,
        responder: "envoy".into(),
        cert_manager_error: text,
        acme_error: format!("{ip}: Invalid response from {URL}: 404"),
        count: fails,
        ..Default::default()
    });
    AddressReport {
        address: ip.into(),
        family: if ip.contains(':') { "ipv6" } else { "ipv4" }.into(),
        resolved_by: vec!["system".into()],
        source_address: if ip.contains(':') {
            "2606:2800::2"
        } else {
            "93.184.215.2"
        }
        .into(),
        attempts: passes + fails,
        outcomes,
        cert_manager_passes: passes,
        acme_passes: passes,
        ..Default::default()
    }
}

/// This vantage has no source address for `a` (an IPv4-only pod and an AAAA).
fn unroutable(mut a: AddressReport) -> AddressReport {
    a.unroutable = true;
    a.source_address.clear();
    a
}

/// A report whose primary resolver returned the addresses in this order.
fn target(addrs: Vec<AddressReport>) -> TargetReport {
    let (a, aaaa): (Vec<String>, Vec<String>) = (
        addrs
            .iter()
            .filter(|a| !a.is_ipv6())
            .map(|a| a.address.clone())
            .collect(),
        addrs
            .iter()
            .filter(|a| a.is_ipv6())
            .map(|a| a.address.clone())
            .collect(),
    );
    TargetReport {
        url: URL.into(),
        dns_name: "a.test".into(),
        dns: DnsReport {
            resolvers: vec![ResolverAnswer {
                resolver: "system".into(),
                role: "primary".into(),
                a,
                aaaa,
                ..Default::default()
            }],
            system_server: "198.51.100.53:53".into(),
            ..Default::default()
        },
        addresses: addrs,
        ..Default::default()
    }
}

/// The same with these lookups sampled (A records of each; a lookup with none failed).
fn sampled(mut t: TargetReport, a_orders: &[&[&str]]) -> TargetReport {
    let aaaa = t.dns.resolvers[0].aaaa.clone();
    t.dns.samples = a_orders
        .iter()
        .map(|a| DnsSample {
            a: a.iter().map(|s| s.to_string()).collect(),
            aaaa: if a.is_empty() { vec![] } else { aaaa.clone() },
            error: a.is_empty().then_some(ErrorClass::DnsServfail),
        })
        .collect();
    t
}

fn day() -> Day {
    Day::parse("2026-12-06").unwrap()
}

fn ctx(profile: CaProfile) -> CaContext {
    CaContext::new(profile, day())
}

fn le(t: &TargetReport) -> Verdict {
    ca(t, &ctx(CaProfile::Letsencrypt))
}

fn pebble(t: &TargetReport) -> Verdict {
    ca(t, &ctx(CaProfile::Pebble))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn formulas_against_hand_computed_values() {
    assert!(close(self_check_probability(0.5), 0.03125));
    assert!(close(self_check_probability(0.9), 0.59049));
    // 0.5 · (0.0625 + 4·0.125·0.5) = 0.5 · 0.3125
    assert!(close(letsencrypt_probability(0.5), 0.15625));
    // 0.9 · (0.6561 + 4·0.729·0.1) = 0.9 · 0.9477
    assert!(close(letsencrypt_probability(0.9), 0.85293));
    // 5 remotes, 1 failure: 0.9 · (0.9^5 + 5·0.9^4·0.1) = 0.9 · 0.91854
    assert!(close(quorum_probability(0.9, 5, 1), 0.9 * 0.91854));
    // 6 remotes, 2 failures: 0.5 · (1 + 6 + 15)/64
    assert!(close(quorum_probability(0.5, 6, 2), 0.5 * 22.0 / 64.0));
    assert!(close(pebble_probability(0.5), 0.125));
    assert!(close(letsencrypt_probability(1.0), 1.0));
    assert!(close(letsencrypt_probability(0.0), 0.0));
}

#[test]
fn founding_incident_is_flaky_with_each_validators_reason() {
    let t = target(vec![addr("93.184.216.10", 33, 33, None)]);
    let v = self_check(&t, false);
    assert_eq!(v.outcome, VerdictOutcome::Flaky);
    assert!(close(v.pass_probability, 0.03125));
    // D18 — cert-manager retries a failed round after DNS01CheckRetryPeriod (10 s) without a
    // limit: a flaky self check passes after about 1/P rounds.
    assert!(v.basis.contains("after about 32 rounds"), "{}", v.basis);
    assert_eq!(
        v.reason,
        "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'"
    );
    let le = le(&t);
    assert!(close(le.pass_probability, 0.15625));
    assert_eq!(
        le.reason,
        format!("93.184.216.10: Invalid response from {URL}: 404")
    );
    assert!(
        le.basis.contains("4 remote perspectives on 2026-12-06"),
        "{}",
        le.basis
    );
}

/// D1 — Boulder `va/http.go` `newHTTPValidationTarget`/`processHTTPValidation`: with an AAAA
/// Boulder dials `v6Addrs[0]` first and retries `v4Addrs[0]` only after *its own* dial error
/// (`fallbackErr`). A vantage without IPv6 cannot tell how that dial goes: unknown, not pass.
#[test]
fn no_ipv6_route_here_is_unknown_for_the_ca_not_pass() {
    let t = target(vec![
        addr("93.184.215.1", 66, 0, None),
        unroutable(addr(
            "2606:2800::1",
            0,
            66,
            Some(ErrorClass::NetworkUnreachable),
        )),
    ]);
    let v = le(&t);
    assert_eq!(v.outcome, VerdictOutcome::Unknown);
    assert!(
        v.reason.contains("dials the AAAA 2606:2800::1 first"),
        "{}",
        v.reason
    );
    assert_eq!(pebble(&t).outcome, VerdictOutcome::Unknown);
    // Only IPv6, from a vantage without it: cert-manager's own vantage fails, others cannot tell.
    let only6 = target(vec![unroutable(addr(
        "2606:2800::1",
        0,
        66,
        Some(ErrorClass::NetworkUnreachable),
    ))]);
    assert_eq!(self_check(&only6, false).outcome, VerdictOutcome::Unknown);
    assert_eq!(self_check(&only6, true).outcome, VerdictOutcome::Fail);
}

/// The IPv4-only pod (issue 11): the AAAA fails at once with EADDRNOTAVAIL, Go's
/// `sortByRFC6724` (rule 1, no source address) already put it last, and `dialSerial` never
/// needs it: every check passes over IPv4 (Go `net/addrselect.go`, `net/dial.go`).
#[test]
fn ipv4_only_pod_with_an_aaaa_passes_over_ipv4() {
    for aaaa in [
        unroutable(addr(
            "2606:2800::99",
            0,
            66,
            Some(ErrorClass::NetworkUnreachable),
        )),
        // A working AAAA makes no difference: it is not usable from here.
        unroutable(addr(
            "2606:2800::10",
            0,
            66,
            Some(ErrorClass::NetworkUnreachable),
        )),
    ] {
        let t = target(vec![addr("93.184.216.10", 66, 0, None), aaaa]);
        let v = self_check(&t, true);
        assert_eq!(v.outcome, VerdictOutcome::Pass, "{v:?}");
        assert!(
            v.basis.contains("93.184.216.10, then 2606:2800::"),
            "{}",
            v.basis
        );
    }
    // With the AAAA usable and answering 404, Go prefers IPv6 (rule 6): every check fails.
    let t = target(vec![
        addr("93.184.216.10", 66, 0, None),
        addr("2606:2800::99", 0, 66, None),
    ]);
    assert_eq!(self_check(&t, true).outcome, VerdictOutcome::Fail);
}

/// D8 — Go `net/addrselect.go` rule 5 (prefer matching label): a ULA source (label 13) for a
/// global AAAA (label 1) loses to IPv4 (labels 4 and 4), so Go dials the A first.
#[test]
fn ula_source_puts_ipv4_first() {
    let mut v6 = addr("2606:2800::99", 0, 66, None);
    v6.source_address = "fd00::5".into();
    let t = target(vec![addr("93.184.216.10", 66, 0, None), v6]);
    assert_eq!(self_check(&t, true).outcome, VerdictOutcome::Pass);
}

/// D2 — Go `net/dial.go` `dialSerial`: one refusing A record among several costs nothing;
/// Boulder keeps only `v4Addrs[0]` of each perspective's lookup (no intra-family fallback),
/// so Let's Encrypt draws over the first A; Pebble dials `addrs[0]` of each lookup.
#[test]
fn two_a_records_one_refusing() {
    let t = sampled(
        target(vec![
            addr("93.184.216.10", 66, 0, None),
            addr("93.184.216.20", 0, 66, Some(ErrorClass::ConnectRefused)),
        ]),
        &[
            &["93.184.216.10", "93.184.216.20"][..],
            &["93.184.216.20", "93.184.216.10"][..],
        ]
        .repeat(4),
    );
    let sc = self_check(&t, true);
    assert_eq!(sc.outcome, VerdictOutcome::Pass, "{sc:?}");
    let v = le(&t);
    assert!(close(v.per_request_pass, 0.5), "{v:?}");
    assert_eq!(v.outcome, VerdictOutcome::Flaky);
    // Pebble asks the rotating server for each of its 3 parallel requests: never all on the
    // good address.
    let p = pebble(&t);
    assert_eq!(p.outcome, VerdictOutcome::Fail, "{p:?}");
    assert!(p.rotation.is_some());
}

/// A wrong answer on the first A is not a dial error: Go ends the check there.
#[test]
fn stale_a_record_behind_a_rotating_resolver_fails_the_self_check() {
    let t = sampled(
        target(vec![
            addr("93.184.216.10", 66, 0, None),
            addr("93.184.216.99", 0, 66, None),
        ]),
        &[
            &["93.184.216.10", "93.184.216.99"][..],
            &["93.184.216.99", "93.184.216.10"][..],
        ]
        .repeat(4),
    );
    let v = self_check(&t, true);
    // Each of the 5 checks looks up again: the rotation alternates, a round never passes.
    assert_eq!(v.outcome, VerdictOutcome::Fail, "{v:?}");
    assert!(close(v.per_request_pass, 0.5));
    assert!(
        v.rotation
            .as_deref()
            .unwrap_or("")
            .contains("rotates its answers strictly")
    );
    // In an order that changes at random, independent draws.
    let shuffled = sampled(
        target(vec![
            addr("93.184.216.10", 66, 0, None),
            addr("93.184.216.99", 0, 66, None),
        ]),
        &[
            &["93.184.216.10", "93.184.216.99"],
            &["93.184.216.10", "93.184.216.99"],
            &["93.184.216.99", "93.184.216.10"],
            &["93.184.216.10", "93.184.216.99"],
            &["93.184.216.99", "93.184.216.10"],
            &["93.184.216.99", "93.184.216.10"],
        ],
    );
    let v = self_check(&shuffled, true);
    assert_eq!(v.outcome, VerdictOutcome::Flaky);
    assert!(close(v.pass_probability, 0.03125));
}

/// D11 — every check resolves again (a new transport per `testReachability`, Go's resolver
/// has no cache): a resolver that fails one lookup in nine makes the self check flaky.
#[test]
fn intermittent_dns_failures_show_up() {
    let mut orders: Vec<&[&str]> = vec![&["93.184.216.10"]; 8];
    orders.push(&[]);
    let t = sampled(target(vec![addr("93.184.216.10", 66, 0, None)]), &orders);
    let v = self_check(&t, true);
    assert_eq!(v.outcome, VerdictOutcome::Flaky);
    assert!(close(v.per_request_pass, 8.0 / 9.0));
    assert!(
        v.basis.contains("9 lookups sampled, 1 failed"),
        "{}",
        v.basis
    );
    // When every lookup fails: cert-manager's text for Go's failed lookup.
    let t = sampled(target(vec![]), &[&[], &[]]);
    let v = self_check(&t, true);
    assert_eq!(v.outcome, VerdictOutcome::Fail);
    assert_eq!(
        v.reason,
        format!(
            "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request '{URL}': Get \"{URL}\": dial tcp: lookup a.test on 198.51.100.53:53: server misbehaving"
        )
    );
}

/// D3 — Boulder `va/dns.go` `getAddrs`: reserved addresses are dropped (`iana.IsReservedAddr`);
/// none left is a DNS problem with Boulder's text; a public address left is used.
#[test]
fn reserved_addresses_are_dropped_for_lets_encrypt() {
    let private_only = target(vec![addr("10.0.0.5", 66, 0, None)]);
    let v = le(&private_only);
    assert_eq!(v.outcome, VerdictOutcome::Fail);
    assert_eq!(
        v.reason,
        "no valid A records found for a.test; no valid AAAA records found for a.test"
    );
    assert!(
        v.basis.contains("10.0.0.5 ([RFC1918]: Private-Use)"),
        "{}",
        v.basis
    );
    // The self check and Pebble do not filter.
    assert_eq!(
        self_check(&private_only, true).outcome,
        VerdictOutcome::Pass
    );
    assert_eq!(pebble(&private_only).outcome, VerdictOutcome::Pass);
    // A ULA AAAA before a public A: Boulder ignores the AAAA and dials the A.
    let t = target(vec![
        addr("8.8.4.4", 66, 0, None),
        addr("fd00::99", 0, 66, None),
    ]);
    assert_eq!(le(&t).outcome, VerdictOutcome::Pass);
}

/// D1/D2 — Boulder falls back from the first AAAA to the first A only on a dial error.
#[test]
fn ipv6_first_for_lets_encrypt_and_fallback_only_on_a_dial_error() {
    let refused6 = target(vec![
        addr("8.8.4.4", 66, 0, None),
        addr("2001:4860::1", 0, 66, Some(ErrorClass::ConnectRefused)),
    ]);
    assert_eq!(le(&refused6).outcome, VerdictOutcome::Pass);
    // Pebble dials the AAAA and does not fall back.
    assert_eq!(pebble(&refused6).outcome, VerdictOutcome::Fail);
    let wrong6 = target(vec![
        addr("8.8.4.4", 66, 0, None),
        addr("2001:4860::1", 0, 66, None),
    ]);
    assert_eq!(le(&wrong6).outcome, VerdictOutcome::Fail);
}

/// Let's Encrypt's remote perspectives change with the date (Boulder `va/va.go`
/// `doRemoteOperation`: at least 5 from 2026-12-15); the basis says which.
#[test]
fn perspectives_are_dated() {
    let t = target(vec![addr("8.8.4.4", 90, 10, None)]);
    let today = le(&t);
    assert!(close(today.pass_probability, quorum_probability(0.9, 4, 1)));
    let mut later = ctx(CaProfile::Letsencrypt);
    later.day = Day::parse("2026-12-15").unwrap();
    let v = ca(&t, &later);
    assert!(close(v.pass_probability, quorum_probability(0.9, 5, 1)));
    assert!(
        v.basis.contains("5 remote perspectives on 2026-12-15"),
        "{}",
        v.basis
    );
    later.remotes = Some(6);
    assert!(close(
        ca(&t, &later).pass_probability,
        quorum_probability(0.9, 6, 2)
    ));
}

/// Pebble as deployed (`va/va.go`): `PEBBLE_VA_ALWAYS_VALID` skips validation; without
/// `-dnsserver`, `LookupHost`'s RFC 6724 order decides the first address.
#[test]
fn pebble_as_deployed() {
    let t = target(vec![
        addr("93.184.216.10", 66, 0, None),
        unroutable(addr(
            "2606:2800::99",
            0,
            66,
            Some(ErrorClass::NetworkUnreachable),
        )),
    ]);
    let mut c = ctx(CaProfile::Pebble);
    c.pebble = PebbleSettings {
        dns_server: false,
        ..Default::default()
    };
    assert_eq!(ca(&t, &c).outcome, VerdictOutcome::Pass);
    c.pebble.always_valid = true;
    let wrong = target(vec![addr("93.184.216.10", 0, 66, None)]);
    let v = ca(&wrong, &c);
    assert_eq!(v.outcome, VerdictOutcome::Pass);
    assert!(v.basis.contains("PEBBLE_VA_ALWAYS_VALID"));
}

#[test]
fn pass_and_fail() {
    assert_eq!(
        self_check(&target(vec![addr("93.184.215.1", 66, 0, None)]), false).outcome,
        VerdictOutcome::Pass
    );
    assert_eq!(
        self_check(&target(vec![addr("93.184.215.1", 0, 66, None)]), false).outcome,
        VerdictOutcome::Fail
    );
    assert_eq!(
        self_check(&TargetReport::default(), false).outcome,
        VerdictOutcome::Unknown
    );
}

fn slots(pattern: &str) -> Vec<Slot> {
    pattern
        .chars()
        .map(|c| Slot {
            status: Some(if c == 'k' { 200 } else { 404 }),
            responder: if c == 'k' { "nginx" } else { "envoy" }.into(),
            cert_manager_pass: c == 'k',
            acme_pass: c == 'k',
            ..Default::default()
        })
        .collect()
}

/// `addr` with an arrival order of `pattern` repeated to 30 slots.
fn rotating(ip: &str, passes: u32, fails: u32, pattern: &str) -> AddressReport {
    let sequence: Vec<Slot> = slots(&pattern.repeat(30 / pattern.len()));
    AddressReport {
        arrival_order: Some(ArrivalOrder {
            period: rotation_period(&sequence).map(|p| p as u32),
            sequence,
        }),
        ..addr(ip, passes, fails, None)
    }
}

#[test]
fn burst_probabilities_per_request() {
    // Let's Encrypt: the primary must pass, one of four remotes may fail.
    let le = |ps: &[f64]| Burst::letsencrypt(4, 1).probability(ps);
    assert!(close(le(&[1.0, 1.0, 0.0, 1.0, 1.0]), 1.0));
    assert!(close(le(&[1.0, 0.0, 0.0, 1.0, 1.0]), 0.0));
    assert!(close(le(&[0.0, 1.0, 1.0, 1.0, 1.0]), 0.0));
    assert!(close(le(&[0.5; 5]), letsencrypt_probability(0.5)));
    assert!(close(le(&[0.9, 0.5, 1.0, 1.0, 1.0]), 0.9));
    assert!(close(Burst::pebble().probability(&[0.5, 1.0, 0.8]), 0.4));
}

#[test]
fn rotation_periods() {
    assert_eq!(rotation_period(&slots(&"kx".repeat(15))), Some(2));
    assert_eq!(rotation_period(&slots(&"kkkkkkkkkx".repeat(3))), Some(10));
    assert_eq!(rotation_period(&slots(&"k".repeat(30))), None);
    // Only twice: not enough repetitions to call it a rotation.
    assert_eq!(rotation_period(&slots(&"kkkkkkkkkkkkkx".repeat(2))), None);
    assert_eq!(
        rotation_period(&slots("kxxkxkkkxkxxkkxkxkkxxkxkkkxxkx")),
        None
    );
    assert_eq!(rotation_period::<Slot>(&[]), None);
}

#[test]
fn strict_round_robin_50_50_never_passes_a_burst() {
    let t = target(vec![rotating("93.184.216.10", 100, 100, "kx")]);
    let sc = self_check(&t, false);
    assert_eq!(sc.outcome, VerdictOutcome::Fail);
    assert!(close(sc.pass_probability, 0.0));
    assert!(close(sc.per_request_pass, 0.5));
    assert!(
        sc.reason.starts_with(
            "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'; 93.184.216.10 rotates strictly over 2 slots (nginx 200, envoy 404; 30 attempts sent one at a time)"
        ),
        "{}",
        sc.reason
    );
    assert!(sc.reason.contains("other traffic sharing the balancer"));
    assert!(sc.reason.contains("≈3.1 %"), "{}", sc.reason);
    for profile in [CaProfile::Pebble, CaProfile::Letsencrypt] {
        let v = ca(&t, &ctx(profile));
        assert_eq!(v.outcome, VerdictOutcome::Fail, "{profile:?}");
        assert!(v.rotation.is_some());
    }
    assert!(pebble(&t).reason.contains(
        "Pebble's 3 parallel requests land on 3 consecutive slots, and 0 of 2 starting slots pass"
    ));
    // One request: nothing changes for a private CA.
    let private = ca(&t, &ctx(CaProfile::Private));
    assert_eq!(private.outcome, VerdictOutcome::Flaky);
    assert_eq!(private.rotation, None);
}

#[test]
fn strict_round_robin_90_10_counts_starting_slots() {
    let t = target(vec![rotating("93.184.216.10", 180, 20, "kkkkkkkkkx")]);
    // 5 consecutive slots avoid the one bad slot from 5 of 10 starts.
    assert!(close(self_check(&t, false).pass_probability, 0.5));
    // 3 consecutive: 7 of 10.
    let p = pebble(&t);
    assert!(close(p.pass_probability, 0.7));
    assert_eq!(p.outcome, VerdictOutcome::Flaky);
    // Primary must pass (9 of 10); one remote failure is allowed.
    assert!(close(le(&t).pass_probability, 0.9));
}

#[test]
fn no_rotation_keeps_independent_draws() {
    let mut a = rotating("93.184.216.10", 100, 100, "kx");
    if let Some(o) = a.arrival_order.as_mut() {
        o.period = None;
    }
    let v = pebble(&target(vec![a]));
    assert!(close(v.pass_probability, 0.125));
    assert_eq!(v.rotation, None);
}

/// Two addresses behind two strictly rotating balancers, and a resolver that alternates them:
/// each balancer advances once per check that lands on it, so the checks that land on one
/// address alternate its backends. cert-manager's 5 checks (3 on one address) never all pass,
/// although each check alone passes half the time (what the lab's Go reference shows: 0 of
/// 1000 rounds).
#[test]
fn rotating_resolver_over_rotating_balancers() {
    let t = sampled(
        target(vec![
            rotating("93.184.216.10", 100, 100, "kx"),
            rotating("93.184.216.11", 100, 100, "kx"),
        ]),
        &[
            &["93.184.216.10", "93.184.216.11"][..],
            &["93.184.216.11", "93.184.216.10"][..],
        ]
        .repeat(4),
    );
    let v = self_check(&t, true);
    assert_eq!(v.outcome, VerdictOutcome::Fail, "{v:?}");
    assert!(
        v.rotation
            .as_deref()
            .unwrap_or("")
            .contains("balancers behind the addresses rotate strictly")
    );
    // Pebble's 3 requests: two land on one address, on both of its backends: never.
    let p = pebble(&t);
    assert_eq!(p.outcome, VerdictOutcome::Fail, "{p:?}");
    // With 90/10 balancers (one bad slot in 10), starting slots count per balancer.
    let t = sampled(
        target(vec![
            rotating("93.184.216.10", 180, 20, "kkkkkkkkkx"),
            addr("93.184.216.11", 66, 0, None),
        ]),
        &[
            &["93.184.216.10", "93.184.216.11"][..],
            &["93.184.216.11", "93.184.216.10"][..],
        ]
        .repeat(4),
    );
    // Three checks on .10 avoid its bad slot from 7 of 10 starts (or two, from 8 of 10).
    assert!(close(
        self_check(&t, true).pass_probability,
        (0.7 + 0.8) / 2.0
    ));
}

#[test]
fn another_public_ca_is_estimated_and_says_what_is_not_known() {
    // An A that serves the key and an AAAA that does not: Let's Encrypt takes the AAAA first;
    // for another public CA that is not known, and its verdict is Go's one validation.
    let t = target(vec![
        addr("93.184.216.10", 10, 0, None),
        addr("2001:db8::10", 0, 10, None),
    ]);
    let public = ca(&t, &ctx(CaProfile::Public));
    let private = ca(&t, &ctx(CaProfile::Private));
    assert_eq!(public.outcome, private.outcome);
    assert!(close(public.pass_probability, private.pass_probability));
    assert!(
        public
            .basis
            .starts_with("another public CA: how it picks addresses, which redirects it follows and how many places it validates from are not known"),
        "{}",
        public.basis
    );
    assert!(!public.basis.contains("Let's Encrypt"), "{}", public.basis);
}
