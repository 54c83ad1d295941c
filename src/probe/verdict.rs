//! Emulated verdicts: from the observed mix of outcomes, how likely is one round of
//! cert-manager's self check, and one validation by the CA, to pass? Pure functions.
//!
//! * **cert-manager**: 5 passes in a row (2 s apart, fresh connection and DNS lookup each), any
//!   failure ends the round: `P = p⁵`, where `p` is the per-request pass fraction on the
//!   addresses the self check dials. Go's dialer prefers IPv6 when the host can reach IPv6
//!   (RFC 6724) and falls back to IPv4 on dial failures, and DNS answers rotate, so `p` is the
//!   mean over the preferred family's addresses, with dial failures replaced by the IPv4 pass
//!   fraction.
//! * **Let's Encrypt**: the primary perspective must pass, then at most one of four remote
//!   perspectives may fail: `P = p·(p⁴ + 4p³(1−p))`. Each perspective uses the first AAAA, and
//!   falls back to the first A only when the IPv6 dial fails.
//! * **Pebble**: three validations in parallel that must all pass, first AAAA else first A, no
//!   fallback: `P = p³`.
//! * **private** ACME servers: one validation, `P = p`.
//!
//! Each request is modelled as an independent draw from the observed mix. That holds for random
//! balancing, and for round-robin when other traffic shares the balancer. It does not hold for a
//! balancer that rotates strictly over its backends with nothing else in between: requests sent
//! close together then land on *consecutive* backends (behind a 50/50 round-robin, Pebble's 3
//! parallel requests always include the bad backend: never, not p³ = 12.5 %). So when an address
//! shows mixed outcomes, the engine also sends a short run of attempts one at a time
//! ([`super::plan::ArrivalOrder`]); when that run is periodic ([`rotation_period`]), validators
//! that send several requests close together — cert-manager's 5 checks, Pebble's 3 parallel
//! requests, Let's Encrypt's primary + 4 remote perspectives — are evaluated over consecutive
//! slots of the rotation, each starting slot equally likely (other requests moved the rotation
//! since), and the verdict's `rotation` and `reason` say so. A private CA's single request gives
//! the same expectation either way.
//!
//! False alarms: a 50/50 random mix is periodic over 30 attempts with period ≤ 10 with
//! probability < 2⁻¹⁹; a 90/10 random mix with one failure per period of 10 with ≈ 6·10⁻⁴.

use super::plan::{
    AddressReport, CaProfile, DnsReport, ErrorClass, ROTATION_MIN_REPEATS, Slot, Verdict,
    VerdictOutcome,
};

/// `pass` needs at least this estimated round pass probability.
pub const PASS_THRESHOLD: f64 = 0.99;

pub fn self_check_probability(p: f64) -> f64 {
    p.powi(5)
}

pub fn letsencrypt_probability(p: f64) -> f64 {
    p * (p.powi(4) + 4.0 * p.powi(3) * (1.0 - p))
}

pub fn pebble_probability(p: f64) -> f64 {
    p.powi(3)
}

fn dial_failures(a: &AddressReport) -> u32 {
    a.outcomes
        .iter()
        .filter(|o| o.error_class.is_some_and(ErrorClass::is_dial_failure))
        .map(|o| o.count)
        .sum()
}

/// Every attempt failed with "network unreachable": this vantage cannot reach that family.
fn unreachable_here(a: &AddressReport) -> bool {
    a.attempts > 0
        && a.outcomes
            .iter()
            .filter(|o| o.count > 0)
            .all(|o| o.error_class == Some(ErrorClass::NetworkUnreachable))
}

fn frac(n: u32, d: u32) -> f64 {
    if d == 0 {
        0.0
    } else {
        f64::from(n) / f64::from(d)
    }
}

fn outcome(p_round: f64, p: f64) -> VerdictOutcome {
    if p <= 0.0 || p_round <= 0.0 {
        VerdictOutcome::Fail
    } else if p_round >= PASS_THRESHOLD {
        VerdictOutcome::Pass
    } else {
        VerdictOutcome::Flaky
    }
}

/// The smallest period `k ≥ 2` with which a sequence that is not constant repeats at least
/// [`ROTATION_MIN_REPEATS`] times (`seq[i] == seq[i - k]` for every `i ≥ k`): a strict rotation.
pub fn rotation_period<T: PartialEq>(seq: &[T]) -> Option<usize> {
    if seq.windows(2).all(|w| w[0] == w[1]) {
        return None;
    }
    (2..=seq.len() / ROTATION_MIN_REPEATS).find(|&k| (k..seq.len()).all(|i| seq[i] == seq[i - k]))
}

/// A validator that sends `requests` requests close together, passing when `round` does for
/// the slots they land on (in request order).
struct Burst {
    who: &'static str,
    requests: usize,
    round: fn(&[&Slot]) -> bool,
}

const SELF_CHECK_BURST: Burst = Burst {
    who: "cert-manager's 5 checks (2 s apart)",
    requests: 5,
    round: |w| w.iter().all(|s| s.cert_manager_pass),
};

fn ca_burst(ca: CaProfile) -> Option<Burst> {
    match ca {
        CaProfile::Pebble => Some(Burst {
            who: "Pebble's 3 parallel requests",
            requests: 3,
            round: |w| w.iter().all(|s| s.acme_pass),
        }),
        CaProfile::Letsencrypt => Some(Burst {
            who: "Let's Encrypt's primary and 4 remote perspectives",
            requests: 5,
            round: |w| w[0].acme_pass && w[1..].iter().filter(|s| !s.acme_pass).count() <= 1,
        }),
        // One request: the same expectation over a rotation as over independent draws.
        CaProfile::Private => None,
    }
}

fn slot_label(s: &Slot) -> String {
    let what = s
        .status
        .map(|c| c.to_string())
        .or(s.error_class.map(|e| e.as_str().to_owned()))
        .unwrap_or_else(|| "-".to_owned());
    format!("{} {what}", s.responder)
}

/// When `a` rotates strictly: the round pass probability of `burst` over consecutive slots
/// (each starting slot equally likely) and the explanation, given the `independent` estimate.
fn over_rotation(a: &AddressReport, burst: &Burst, independent: f64) -> Option<(f64, String)> {
    let order = a.arrival_order.as_ref()?;
    let k = order.period? as usize;
    let cycle = order.sequence.get(..k)?;
    let passing = (0..k)
        .filter(|&start| {
            let window: Vec<&Slot> = (0..burst.requests)
                .map(|i| &cycle[(start + i) % k])
                .collect();
            (burst.round)(&window)
        })
        .count();
    let pattern: Vec<String> = cycle.iter().map(slot_label).collect();
    let note = format!(
        "{} rotates strictly over {k} slots ({}; {} attempts sent one at a time): {} land on {} consecutive slots, and {passing} of {k} starting slots pass; other traffic sharing the balancer would make them independent draws instead (flaky, ≈{:.1} % of rounds)",
        a.address,
        pattern.join(", "),
        order.sequence.len(),
        burst.who,
        burst.requests,
        independent * 100.0
    );
    Some((passing as f64 / k as f64, note))
}

/// Apply a detected rotation of the single address `a` to `v` (round probability, outcome,
/// reason, basis).
fn apply_rotation(
    v: &mut Verdict,
    a: &AddressReport,
    burst: &Burst,
    failure: impl FnOnce() -> String,
) {
    let Some((p_round, note)) = over_rotation(a, burst, v.pass_probability) else {
        return;
    };
    v.pass_probability = p_round;
    v.outcome = outcome(p_round, v.per_request_pass);
    v.basis = format!(
        "P over consecutive slots of a strict rotation: {p_round:.3} (independent draws: {})",
        v.basis
    );
    v.reason = if v.outcome == VerdictOutcome::Pass {
        String::new()
    } else {
        format!("{}; {note}", failure())
    };
    v.rotation = Some(note);
}

/// The most frequent failure text among `addrs` for one rule set.
fn likeliest_failure(addrs: &[&AddressReport], cert_manager: bool) -> String {
    addrs
        .iter()
        .flat_map(|a| &a.outcomes)
        .filter(|o| {
            if cert_manager {
                !o.cert_manager_pass
            } else {
                !o.acme_pass
            }
        })
        .max_by_key(|o| o.count)
        .map(|o| {
            if cert_manager {
                o.cert_manager_error.clone()
            } else {
                o.acme_error.clone()
            }
        })
        .unwrap_or_default()
}

/// cert-manager's self check, from this vantage.
pub fn self_check(addrs: &[AddressReport]) -> Verdict {
    let v4: Vec<&AddressReport> = addrs
        .iter()
        .filter(|a| !a.is_ipv6() && a.attempts > 0)
        .collect();
    let v6: Vec<&AddressReport> = addrs
        .iter()
        .filter(|a| a.is_ipv6() && a.attempts > 0)
        .collect();
    if v4.is_empty() && v6.is_empty() {
        return Verdict {
            reason: "no address to probe".into(),
            ..Default::default()
        };
    }
    let mean = |set: &[&AddressReport], f: &dyn Fn(&AddressReport) -> f64| {
        set.iter().map(|a| f(a)).sum::<f64>() / set.len() as f64
    };
    let p4 = if v4.is_empty() {
        0.0
    } else {
        mean(&v4, &|a| frac(a.cert_manager_passes, a.attempts))
    };
    let v6_reachable = v6.iter().any(|a| dial_failures(a) < a.attempts);
    if v4.is_empty() && !v6_reachable && v6.iter().all(|a| unreachable_here(a)) {
        return Verdict {
            reason:
                "only IPv6 addresses, and this vantage has no IPv6 route: not observable from here"
                    .into(),
            ..Default::default()
        };
    }
    let (p, used, basis) = if v6_reachable {
        let p = mean(&v6, &|a| {
            frac(a.cert_manager_passes, a.attempts) + frac(dial_failures(a), a.attempts) * p4
        });
        (
            p,
            v6.clone(),
            "IPv6 addresses (preferred by Go when reachable), IPv4 on dial failures",
        )
    } else {
        (
            p4,
            v4.clone(),
            "IPv4 addresses (IPv6 absent or unreachable from here)",
        )
    };
    let p_round = self_check_probability(p);
    let o = outcome(p_round, p);
    let single = (used.len() == 1 && dial_failures(used[0]) == 0).then(|| used[0]);
    let used: Vec<&AddressReport> = if v6_reachable {
        v6.iter().chain(&v4).copied().collect()
    } else {
        used
    };
    let failure = || {
        format!(
            "Waiting for HTTP-01 challenge propagation: {}",
            likeliest_failure(&used, true)
        )
    };
    let mut v = Verdict {
        outcome: o,
        pass_probability: p_round,
        per_request_pass: p,
        reason: if o == VerdictOutcome::Pass {
            String::new()
        } else {
            failure()
        },
        basis: format!("P = p^5 with p = {p:.3} over {basis}"),
        rotation: None,
    };
    if let Some(a) = single {
        apply_rotation(&mut v, a, &SELF_CHECK_BURST, failure);
    }
    v
}

/// One validation by `ca` when every request passes independently with `p`, and the formula.
fn independent(ca: CaProfile, p: f64) -> (f64, &'static str) {
    match ca {
        CaProfile::Letsencrypt => (
            letsencrypt_probability(p),
            "primary + 4 remote perspectives, at most 1 remote failure: P = p(p^4 + 4p^3(1-p))",
        ),
        CaProfile::Pebble => (
            pebble_probability(p),
            "Pebble: 3 parallel validations, all must pass: P = p^3",
        ),
        CaProfile::Private => (p, "one validation: P = p"),
    }
}

/// One validation by `ca` when its requests pass with `ps` (in request order; as many as
/// [`burst_len`]): Pebble all, Let's Encrypt the primary and all but at most one remote.
fn round_probability(ca: CaProfile, ps: &[f64]) -> f64 {
    match (ca, ps.split_first()) {
        (_, None) => 0.0,
        (CaProfile::Letsencrypt, Some((primary, remotes))) => {
            let all: f64 = remotes.iter().product();
            let one_fails: f64 = (0..remotes.len())
                .map(|i| {
                    (1.0 - remotes[i])
                        * remotes
                            .iter()
                            .enumerate()
                            .filter(|(j, _)| *j != i)
                            .map(|(_, q)| q)
                            .product::<f64>()
                })
                .sum();
            primary * (all + one_fails)
        }
        _ => ps.iter().product(),
    }
}

fn burst_len(ca: CaProfile) -> usize {
    ca_burst(ca).map_or(1, |b| b.requests)
}

/// The ACME server's validation, knowing the DNS answers. When the primary resolver returned
/// several addresses of the family the CA dials, the CA's "first address" is whichever its own
/// lookup puts first, and every request looks the name up again: each request is a draw over
/// those addresses — or, for Pebble (which asks the configured server directly, uncached),
/// when the recorded lookups show the server rotating its answers strictly
/// ([`DnsReport::first_a`]), consecutive slots of that rotation. Otherwise as [`acme`].
pub fn acme_with_dns(addrs: &[AddressReport], dns: &DnsReport, ca: CaProfile) -> Verdict {
    let primary = dns
        .resolvers
        .iter()
        .find(|r| r.role == "primary")
        .map(|r| r.resolver.as_str());
    let family = |v6: bool| -> Vec<&AddressReport> {
        addrs
            .iter()
            .filter(|a| a.is_ipv6() == v6 && a.attempts > 0)
            .filter(|a| primary.is_none_or(|p| a.resolved_by.iter().any(|r| r == p)))
            .collect()
    };
    let (v6, v4) = (family(true), family(false));
    let (used, order, rr) = if v6.is_empty() {
        (v4, &dns.first_a, "A")
    } else {
        (v6, &dns.first_aaaa, "AAAA")
    };
    // One address, an unreachable or (for Let's Encrypt) a fallback IPv6: the address model.
    if used.len() < 2
        || used.iter().any(|a| unreachable_here(a))
        || (ca == CaProfile::Letsencrypt && used.iter().any(|a| dial_failures(a) > 0))
    {
        return acme(addrs, ca);
    }
    let pass = |a: &AddressReport| frac(a.acme_passes, a.attempts);
    let p = used.iter().map(|a| pass(a)).sum::<f64>() / used.len() as f64;
    let n = burst_len(ca);
    // Only Pebble asks the one DNS server directly, uncached, for every request; Let's
    // Encrypt's perspectives each ask their own caching resolver: independent draws.
    let pebble = ca == CaProfile::Pebble;
    let (p_independent, formula) = independent(ca, p);
    let cycle: Option<Vec<&AddressReport>> =
        rotation_period(order).filter(|_| pebble).and_then(|k| {
            order[..k]
                .iter()
                .map(|ip| used.iter().find(|a| &a.address == ip).copied())
                .collect()
        });
    let names: Vec<&str> = used.iter().map(|a| a.address.as_str()).collect();
    let mut v = Verdict {
        per_request_pass: p,
        pass_probability: p_independent,
        basis: format!(
            "{formula}; each request dials the first {rr} of its own lookup, which varies over {}: p = {p:.3} on average",
            names.join(", ")
        ),
        ..Default::default()
    };
    if let Some(c) = &cycle {
        let k = c.len();
        v.pass_probability = (0..k)
            .map(|s| {
                let ps: Vec<f64> = (0..n).map(|i| pass(c[(s + i) % k])).collect();
                round_probability(ca, &ps)
            })
            .sum::<f64>()
            / k as f64;
        let who = ca_burst(ca).map_or("its requests", |b| b.who);
        v.rotation = Some(format!(
            "the DNS server rotates its {rr} records strictly (first {rr} of {} lookups one after the other: {}): {who} each look the name up, so their first {rr}s are consecutive in that rotation; other queries reaching the server in between would make them independent draws instead (≈{:.1} % of rounds)",
            order.len(),
            order.join(", "),
            p_independent * 100.0
        ));
        v.basis = format!(
            "P over consecutive slots of the DNS rotation: {:.3} (independent draws: {})",
            v.pass_probability, v.basis
        );
    }
    v.outcome = outcome(v.pass_probability, p);
    if v.outcome != VerdictOutcome::Pass {
        v.reason = likeliest_failure(&used, false);
        if let Some(note) = &v.rotation {
            v.reason = format!("{}; {note}", v.reason);
        }
    }
    v
}

/// The ACME server's validation, for the CA profile.
pub fn acme(addrs: &[AddressReport], ca: CaProfile) -> Verdict {
    let first6 = addrs.iter().find(|a| a.is_ipv6() && a.attempts > 0);
    let first4 = addrs.iter().find(|a| !a.is_ipv6() && a.attempts > 0);
    // The CA tries the AAAA first; if this vantage cannot reach IPv6 at all, its answer is unknown.
    if let Some(a6) = first6
        && unreachable_here(a6)
        && (ca != CaProfile::Letsencrypt || first4.is_none())
    {
        return Verdict {
            reason: format!(
                "the CA would try {} first, and this vantage has no IPv6 route: not observable from here",
                a6.address
            ),
            ..Default::default()
        };
    }
    let pass = |a: Option<&AddressReport>| a.map_or(0.0, |a| frac(a.acme_passes, a.attempts));
    let (p, used, basis): (f64, Vec<&AddressReport>, String) = match (ca, first6, first4) {
        (_, None, None) => {
            return Verdict {
                reason: "no address to probe".into(),
                ..Default::default()
            };
        }
        (CaProfile::Letsencrypt, Some(a6), _) => {
            let d = frac(dial_failures(a6), a6.attempts);
            let p = pass(Some(a6)) + d * pass(first4);
            (
                p,
                [Some(a6), first4].into_iter().flatten().collect(),
                format!("first AAAA {} (first A on dial failure)", a6.address),
            )
        }
        (_, Some(a6), _) => (
            pass(Some(a6)),
            vec![a6],
            format!("first AAAA {}", a6.address),
        ),
        (_, None, Some(a4)) => (pass(Some(a4)), vec![a4], format!("first A {}", a4.address)),
    };
    let (p_round, formula) = independent(ca, p);
    let o = outcome(p_round, p);
    let mut v = Verdict {
        outcome: o,
        pass_probability: p_round,
        per_request_pass: p,
        reason: if o == VerdictOutcome::Pass {
            String::new()
        } else {
            likeliest_failure(&used, false)
        },
        basis: format!("{formula}; p = {p:.3} on {basis}"),
        rotation: None,
    };
    // The first address decides unless Let's Encrypt falls back to IPv4 on dial failures.
    if let Some(burst) = ca_burst(ca)
        && dial_failures(used[0]) == 0
    {
        apply_rotation(&mut v, used[0], &burst, || likeliest_failure(&used, false));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::plan::OutcomeCount;

    fn addr(ip: &str, passes: u32, fails: u32, fail_class: Option<ErrorClass>) -> AddressReport {
        let mut outcomes = vec![OutcomeCount {
            status: Some(200),
            responder: "nginx".into(),
            cert_manager_pass: true,
            acme_pass: true,
            count: passes,
            ..Default::default()
        }];
        outcomes.push(OutcomeCount {
            status: fail_class.is_none().then_some(404),
            error_class: fail_class,
            responder: "envoy".into(),
            cert_manager_error: "wrong status code '404', expected '200'".into(),
            acme_error: format!("{ip}: Invalid response from http://a.test/x: 404"),
            count: fails,
            ..Default::default()
        });
        AddressReport {
            address: ip.into(),
            family: if ip.contains(':') { "ipv6" } else { "ipv4" }.into(),
            attempts: passes + fails,
            outcomes,
            cert_manager_passes: passes,
            acme_passes: passes,
            ..Default::default()
        }
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
        assert!(close(pebble_probability(0.5), 0.125));
        assert!(close(letsencrypt_probability(1.0), 1.0));
        assert!(close(letsencrypt_probability(0.0), 0.0));
    }

    #[test]
    fn founding_incident_is_flaky_with_the_self_check_reason() {
        let v = self_check(&[addr("203.0.113.10", 33, 33, None)]);
        assert_eq!(v.outcome, VerdictOutcome::Flaky);
        assert!(close(v.pass_probability, 0.03125));
        assert_eq!(
            v.reason,
            "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'"
        );
        let le = acme(
            &[addr("203.0.113.10", 33, 33, None)],
            CaProfile::Letsencrypt,
        );
        assert!(close(le.pass_probability, 0.15625));
        assert_eq!(
            le.reason,
            "203.0.113.10: Invalid response from http://a.test/x: 404"
        );
    }

    #[test]
    fn unreachable_ipv6_is_unknown_not_fail() {
        let only6 = [addr(
            "2001:db8::1",
            0,
            66,
            Some(ErrorClass::NetworkUnreachable),
        )];
        assert_eq!(self_check(&only6).outcome, VerdictOutcome::Unknown);
        assert_eq!(
            acme(&only6, CaProfile::Letsencrypt).outcome,
            VerdictOutcome::Unknown
        );
        // Pebble never falls back to IPv4: unknown even with an A record.
        let both = [
            addr("192.0.2.1", 66, 0, None),
            addr("2001:db8::1", 0, 66, Some(ErrorClass::NetworkUnreachable)),
        ];
        assert_eq!(
            acme(&both, CaProfile::Pebble).outcome,
            VerdictOutcome::Unknown
        );
        // Let's Encrypt falls back to IPv4 on a dial failure.
        assert_eq!(
            acme(&both, CaProfile::Letsencrypt).outcome,
            VerdictOutcome::Pass
        );
        assert_eq!(self_check(&both).outcome, VerdictOutcome::Pass);
    }

    #[test]
    fn pass_and_fail() {
        assert_eq!(
            self_check(&[addr("192.0.2.1", 66, 0, None)]).outcome,
            VerdictOutcome::Pass
        );
        assert_eq!(
            self_check(&[addr("192.0.2.1", 0, 66, None)]).outcome,
            VerdictOutcome::Fail
        );
        assert_eq!(self_check(&[]).outcome, VerdictOutcome::Unknown);
    }

    #[test]
    fn ipv6_first_for_the_ca_and_fallback_only_on_dial_failure() {
        // AAAA answers 404 (not a dial failure): Let's Encrypt fails although IPv4 is fine.
        let addrs = [
            addr("192.0.2.1", 66, 0, None),
            addr("2001:db8::1", 0, 66, None),
        ];
        assert_eq!(
            acme(&addrs, CaProfile::Letsencrypt).outcome,
            VerdictOutcome::Fail
        );
        // AAAA unreachable (dial failure): Let's Encrypt falls back to IPv4 and passes.
        let addrs = [
            addr("192.0.2.1", 66, 0, None),
            addr("2001:db8::1", 0, 66, Some(ErrorClass::ConnectTimeout)),
        ];
        assert_eq!(
            acme(&addrs, CaProfile::Letsencrypt).outcome,
            VerdictOutcome::Pass
        );
        // Pebble does not fall back.
        assert_eq!(
            acme(&addrs, CaProfile::Pebble).outcome,
            VerdictOutcome::Fail
        );
        // The self check from an IPv4-only vantage uses IPv4.
        assert_eq!(self_check(&addrs).outcome, VerdictOutcome::Pass);
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
            arrival_order: Some(crate::probe::plan::ArrivalOrder {
                period: rotation_period(&sequence).map(|p| p as u32),
                sequence,
            }),
            ..addr(ip, passes, fails, None)
        }
    }

    #[test]
    fn round_probabilities_per_request() {
        // Let's Encrypt: the primary must pass, one of four remotes may fail.
        let le = |ps: &[f64]| round_probability(CaProfile::Letsencrypt, ps);
        assert!(close(le(&[1.0, 1.0, 0.0, 1.0, 1.0]), 1.0));
        assert!(close(le(&[1.0, 0.0, 0.0, 1.0, 1.0]), 0.0));
        assert!(close(le(&[0.0, 1.0, 1.0, 1.0, 1.0]), 0.0));
        assert!(close(le(&[0.5; 5]), letsencrypt_probability(0.5)));
        // 0.9 · (0.5·1·1·1 + 0.5·1·1·1) with one uncertain remote.
        assert!(close(le(&[0.9, 0.5, 1.0, 1.0, 1.0]), 0.9));
        assert!(close(
            round_probability(CaProfile::Pebble, &[0.5, 1.0, 0.8]),
            0.4
        ));
        assert!(close(round_probability(CaProfile::Private, &[0.3]), 0.3));
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
        let a = [rotating("203.0.113.10", 100, 100, "kx")];
        let sc = self_check(&a);
        assert_eq!(sc.outcome, VerdictOutcome::Fail);
        assert!(close(sc.pass_probability, 0.0));
        assert!(close(sc.per_request_pass, 0.5));
        assert!(
            sc.reason.starts_with(
                "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'; 203.0.113.10 rotates strictly over 2 slots (nginx 200, envoy 404; 30 attempts sent one at a time)"
            ),
            "{}",
            sc.reason
        );
        assert!(sc.reason.contains("other traffic sharing the balancer"));
        assert!(sc.reason.contains("≈3.1 %"), "{}", sc.reason);
        for ca in [CaProfile::Pebble, CaProfile::Letsencrypt] {
            let v = acme(&a, ca);
            assert_eq!(v.outcome, VerdictOutcome::Fail, "{ca:?}");
            assert!(v.rotation.is_some());
        }
        assert!(
            acme(&a, CaProfile::Pebble)
                .reason
                .contains("Pebble's 3 parallel requests land on 3 consecutive slots, and 0 of 2 starting slots pass")
        );
        // One request: nothing changes for a private CA.
        let private = acme(&a, CaProfile::Private);
        assert_eq!(private.outcome, VerdictOutcome::Flaky);
        assert_eq!(private.rotation, None);
    }

    #[test]
    fn strict_round_robin_90_10_counts_starting_slots() {
        let a = [rotating("203.0.113.10", 180, 20, "kkkkkkkkkx")];
        // 5 consecutive slots avoid the one bad slot from 5 of 10 starts.
        assert!(close(self_check(&a).pass_probability, 0.5));
        // 3 consecutive: 7 of 10.
        let pebble = acme(&a, CaProfile::Pebble);
        assert!(close(pebble.pass_probability, 0.7));
        assert_eq!(pebble.outcome, VerdictOutcome::Flaky);
        // Primary must pass (9 of 10); one remote failure is allowed.
        assert!(close(
            acme(&a, CaProfile::Letsencrypt).pass_probability,
            0.9
        ));
    }

    #[test]
    fn no_rotation_keeps_independent_draws() {
        let mut a = rotating("203.0.113.10", 100, 100, "kx");
        if let Some(o) = a.arrival_order.as_mut() {
            o.period = None;
        }
        let v = acme(&[a], CaProfile::Pebble);
        assert!(close(v.pass_probability, 0.125));
        assert_eq!(v.rotation, None);
    }

    fn dns_with_first_a(order: &[&str]) -> DnsReport {
        DnsReport {
            resolvers: vec![crate::probe::plan::ResolverAnswer {
                resolver: "system".into(),
                role: "primary".into(),
                ..Default::default()
            }],
            first_a: order.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn resolved(mut a: AddressReport) -> AddressReport {
        a.resolved_by = vec!["system".into()];
        a
    }

    #[test]
    fn several_a_records_with_a_strictly_rotating_dns_server() {
        let addrs = [
            resolved(addr("203.0.113.10", 66, 0, None)),
            resolved(addr("203.0.113.99", 0, 66, None)),
        ];
        let rotating = dns_with_first_a(&["203.0.113.10", "203.0.113.99"].repeat(5));
        // Pebble's 3 lookups alternate: one of them always dials the old server.
        let v = acme_with_dns(&addrs, &rotating, CaProfile::Pebble);
        assert_eq!(v.outcome, VerdictOutcome::Fail);
        assert!(close(v.per_request_pass, 0.5));
        let note = v.rotation.clone().unwrap();
        assert!(note.contains("rotates its A records strictly"), "{note}");
        assert!(note.contains("≈12.5 %"), "{note}");
        assert!(
            v.reason.starts_with("203.0.113.99: Invalid response"),
            "{}",
            v.reason
        );
        // Let's Encrypt's perspectives resolve through their own caching resolvers:
        // independent draws, not the rotation this vantage saw.
        let le = acme_with_dns(&addrs, &rotating, CaProfile::Letsencrypt);
        assert!(close(le.pass_probability, letsencrypt_probability(0.5)));
        assert_eq!(le.rotation, None);
        // A private CA sends one request: half of them pass whatever the order.
        let private = acme_with_dns(&addrs, &rotating, CaProfile::Private);
        assert!(close(private.pass_probability, 0.5));
        assert_eq!(private.rotation, None);
    }

    #[test]
    fn several_a_records_in_a_changing_order_are_independent_draws() {
        let addrs = [
            resolved(addr("203.0.113.10", 66, 0, None)),
            resolved(addr("203.0.113.99", 0, 66, None)),
        ];
        let shuffled = dns_with_first_a(&[
            "203.0.113.10",
            "203.0.113.10",
            "203.0.113.99",
            "203.0.113.10",
            "203.0.113.99",
            "203.0.113.99",
            "203.0.113.99",
            "203.0.113.10",
            "203.0.113.10",
        ]);
        let v = acme_with_dns(&addrs, &shuffled, CaProfile::Pebble);
        assert_eq!(v.outcome, VerdictOutcome::Flaky);
        assert!(close(v.pass_probability, 0.125));
        assert!(
            v.basis.contains("203.0.113.10, 203.0.113.99"),
            "{}",
            v.basis
        );
        // 4 remotes with at most one failure, equal p: the closed formula.
        assert!(close(
            acme_with_dns(&addrs, &shuffled, CaProfile::Letsencrypt).pass_probability,
            letsencrypt_probability(0.5)
        ));
        // One address: the address model.
        let one = [resolved(addr("203.0.113.10", 66, 0, None))];
        assert_eq!(
            acme_with_dns(&one, &shuffled, CaProfile::Pebble),
            acme(&one, CaProfile::Pebble)
        );
    }
}
