//! cert-manager's self check from this vantage: Go's resolver and dialer over what was seen.
//!
//! Per check (cert-manager `pkg/issuer/acme/http/http.go` `testReachability`): a new
//! transport, a fresh lookup (Go's resolver has no cache), the answers in RFC 6724 order for
//! this host (`net/addrselect.go` `sortByRFC6724`), then `net/dial.go`'s `dialParallel` over
//! them. A round (`Check`) is 5 checks, the first failure ending it.

use super::{
    Behaviour, Burst, apply_rotation, behaviour, dial_failures, first_hop_dial, frac,
    joint_rotation, likeliest_failure, no_ipv6_here, outcome, over_dns_rotation, rotation_period,
    self_check_probability, unreachable_here,
};
use crate::probe::addrsel::{self, DialOdds};
use crate::probe::plan::{AddressReport, ErrorClass, TargetReport, Verdict, VerdictOutcome};
use std::net::IpAddr;

/// The addresses the primary resolver (the one the self check uses) returned and that were
/// probed; every address for an IP literal.
pub(super) fn primary_addresses(t: &TargetReport) -> Vec<&AddressReport> {
    let primary = t
        .dns
        .resolvers
        .iter()
        .find(|r| r.role == "primary")
        .map(|r| r.resolver.as_str());
    t.addresses
        .iter()
        .filter(|a| a.attempts > 0)
        .filter(|a| {
            t.dns.ip_literal || primary.is_none_or(|p| a.resolved_by.iter().any(|r| r == p))
        })
        .collect()
}

/// One lookup: the probed addresses it returned (A records first), or how it failed.
pub(super) enum Lookup<'a> {
    Addrs(Vec<&'a AddressReport>),
    Failed(ErrorClass),
}

/// Every lookup sampled with the primary resolver (its first answer when none were sampled).
pub(super) fn lookups<'a>(t: &'a TargetReport, used: &[&'a AddressReport]) -> Vec<Lookup<'a>> {
    if t.dns.ip_literal {
        return vec![Lookup::Addrs(used.to_vec())];
    }
    let pick = |a: &[String], aaaa: &[String]| -> Vec<&'a AddressReport> {
        a.iter()
            .chain(aaaa)
            .filter_map(|ip| used.iter().copied().find(|r| &r.address == ip))
            .collect()
    };
    let mut out: Vec<Lookup<'a>> = t
        .dns
        .samples
        .iter()
        .filter_map(|s| {
            if s.a.is_empty() && s.aaaa.is_empty() {
                return Some(Lookup::Failed(s.error.unwrap_or(ErrorClass::DnsNoRecords)));
            }
            let v = pick(&s.a, &s.aaaa);
            (!v.is_empty()).then_some(Lookup::Addrs(v))
        })
        .collect();
    if out.is_empty() {
        match t.dns.resolvers.iter().find(|r| r.role == "primary") {
            Some(r) if r.a.is_empty() && r.aaaa.is_empty() => {
                out.push(Lookup::Failed(r.error.unwrap_or(ErrorClass::DnsNoRecords)));
            }
            Some(r) => out.push(Lookup::Addrs(pick(&r.a, &r.aaaa))),
            None if !used.is_empty() => out.push(Lookup::Addrs(used.to_vec())),
            None => {}
        }
    }
    out
}

/// The source address Go's sort sees for `a` (None: unusable from here). Reports without
/// one recorded count as reachable with a matching source.
pub(super) fn source_of(a: &AddressReport) -> Option<IpAddr> {
    if unreachable_here(a) {
        return None;
    }
    a.source_address
        .parse()
        .ok()
        .or_else(|| a.address.parse().ok())
}

/// Each lookup's addresses in Go's order from this vantage; None for a failed lookup.
pub(super) fn go_orders<'a>(looks: &[Lookup<'a>]) -> Vec<Option<Vec<&'a AddressReport>>> {
    looks
        .iter()
        .map(|l| match l {
            Lookup::Addrs(v) => Some(go_order(v)),
            Lookup::Failed(_) => None,
        })
        .collect()
}

/// `addrs` in Go's order from this vantage.
pub(super) fn go_order<'a>(addrs: &[&'a AddressReport]) -> Vec<&'a AddressReport> {
    let mut v: Vec<(IpAddr, Option<IpAddr>, &AddressReport)> = addrs
        .iter()
        .filter_map(|a| Some((a.address.parse().ok()?, source_of(a), *a)))
        .collect();
    addrsel::sort_rfc6724(&mut v);
    v.into_iter().map(|(_, _, a)| a).collect()
}

/// How attempts on `a` ended, for the dialing model (cert-manager's or the CA's passes).
pub(super) fn odds(a: &AddressReport, cert_manager: bool) -> DialOdds {
    let (mut fast, mut slow) = (0, 0);
    for o in &a.outcomes {
        let (f, s) = first_hop_dial(o);
        fast += if f { o.count } else { 0 };
        slow += if s { o.count } else { 0 };
    }
    let passes = if cert_manager {
        a.cert_manager_passes
    } else {
        a.acme_passes
    };
    let (pass, fast_fail, slow_fail) = (
        frac(passes, a.attempts),
        frac(fast, a.attempts),
        frac(slow, a.attempts),
    );
    DialOdds {
        pass,
        connected_fail: (1.0 - pass - fast_fail - slow_fail).max(0.0),
        fast_fail,
        slow_fail,
    }
}

/// The chance that one request through Go's dialer passes over `ordered` (Go's order).
pub(super) fn go_pass(ordered: &[&AddressReport], cert_manager: bool) -> f64 {
    let list: Vec<(bool, DialOdds)> = ordered
        .iter()
        .map(|a| (a.is_ipv6(), odds(a, cert_manager)))
        .collect();
    addrsel::go_dial_pass(&list)
}

/// `203.0.113.10, then 2001:db8::99 (no route or source address for it here)`.
pub(super) fn describe_order(ordered: &[&AddressReport]) -> String {
    ordered
        .iter()
        .map(|a| {
            if unreachable_here(a) {
                format!("{} (unreachable from here)", a.address)
            } else {
                a.address.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", then ")
}

/// Go's text for a lookup that failed with `class`.
fn lookup_text(t: &TargetReport, class: ErrorClass) -> String {
    let what = match class {
        // Go prints one text for every error rcode (`dnsclient_unix.go` `checkHeader`).
        ErrorClass::DnsServfail | ErrorClass::DnsRefused => "server misbehaving",
        ErrorClass::DnsTimeout | ErrorClass::DnsUnreachable => "i/o timeout",
        _ => "no such host",
    };
    let server = if t.dns.system_server.is_empty() {
        "127.0.0.53:53"
    } else {
        &t.dns.system_server
    };
    format!(
        "failed to perform self check GET request '{}': Get \"{}\": dial tcp: lookup {} on {server}: {what}",
        t.url, t.url, t.dns_name
    )
}

/// What a flaky round means in time (D18): cert-manager re-queues the challenge after a failed
/// round (`pkg/controller/acmechallenges/sync.go`, `AddAfter(DNS01CheckRetryPeriod)`: 10 s,
/// `--dns01-check-retry-period`) with no limit, so a round passes after about 1/P rounds of at
/// most 8 s of checks plus that wait; then the CA validates once.
fn retry_note(p_round: f64) -> String {
    if p_round <= 0.0 {
        return String::new();
    }
    let rounds = (1.0 / p_round).ceil();
    let minutes = rounds * 18.0 / 60.0;
    format!(
        "; flaky: cert-manager retries a failed round 10 s later (--dns01-check-retry-period), so one passes after about {rounds:.0} rounds (at most ≈{minutes:.0} min), and then the CA validates once"
    )
}

/// cert-manager's self check, from this vantage. From the in-cluster vantage (cert-manager's
/// own), an address this vantage cannot reach at all is a failure; from elsewhere it is not
/// observable.
pub fn self_check(t: &TargetReport, in_cluster: bool) -> Verdict {
    let used = primary_addresses(t);
    let looks = lookups(t, &used);
    if looks.is_empty() {
        return Verdict {
            reason: "no address to probe".into(),
            ..Default::default()
        };
    }
    if !in_cluster && !used.is_empty() && used.iter().all(|a| no_ipv6_here(a)) {
        return Verdict {
            reason:
                "only IPv6 addresses, and this vantage has no IPv6 route: not observable from here"
                    .into(),
            ..Default::default()
        };
    }
    let orders = go_orders(&looks);
    let slots: Vec<f64> = orders
        .iter()
        .map(|o| o.as_ref().map_or(0.0, |v| go_pass(v, true)))
        .collect();
    let p = slots.iter().sum::<f64>() / slots.len() as f64;
    let failed: Vec<ErrorClass> = looks
        .iter()
        .filter_map(|l| match l {
            Lookup::Failed(c) => Some(*c),
            Lookup::Addrs(_) => None,
        })
        .collect();
    let dns_share = failed.len() as f64 / looks.len() as f64;
    let failure_text = || {
        let connect_share = 1.0 - dns_share - p;
        if let Some(class) = failed.first().filter(|_| dns_share >= connect_share) {
            return lookup_text(t, *class);
        }
        let connected: Vec<&AddressReport> = used
            .iter()
            .copied()
            .filter(|a| dial_failures(a) < a.attempts)
            .collect();
        if connected.is_empty() {
            // Nothing connects: Go reports the first address's dial error.
            let first = orders
                .iter()
                .flatten()
                .next()
                .and_then(|o| o.first().copied());
            likeliest_failure(&first.into_iter().collect::<Vec<_>>(), true)
        } else {
            likeliest_failure(&connected, true)
        }
    };
    let failure = || {
        format!(
            "Waiting for HTTP-01 challenge propagation: {}",
            failure_text()
        )
    };
    let keys: Vec<String> = orders
        .iter()
        .zip(&looks)
        .map(|(o, l)| match (o, l) {
            (Some(v), _) => v
                .iter()
                .map(|a| a.address.as_str())
                .collect::<Vec<_>>()
                .join(","),
            (None, Lookup::Failed(c)) => format!("error {c}"),
            (None, _) => String::new(),
        })
        .collect();
    let first_order = orders.iter().flatten().next();
    let order_text = first_order.map_or_else(|| "no address".to_owned(), |o| describe_order(o));
    let lookups_text = if looks.len() > 1 {
        format!(
            "{} lookups sampled{}",
            looks.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(", {} failed", failed.len())
            }
        )
    } else {
        "one lookup".to_owned()
    };
    let mut v = Verdict {
        per_request_pass: p,
        pass_probability: self_check_probability(p),
        basis: format!(
            "P = p^5 with p = {p:.3}: each check looks the name up again ({lookups_text}) and Go dials, in its RFC 6724 order from here, {order_text} (the next address only after a dial error)"
        ),
        ..Default::default()
    };
    let burst = Burst::self_check();
    let joint = rotation_period(&keys).and_then(|k| {
        joint_rotation(&orders[..k], &burst, true, true).map(|p| (k, p, " and the balancers behind the addresses rotate strictly too (each advances once per check that lands on it)"))
    });
    let dns = rotation_period(&keys)
        .filter(|&k| slots[..k].windows(2).any(|w| w[0] != w[1]))
        .map(|k| (k, over_dns_rotation(&slots[..k], &burst), ""));
    if let Some((k, p_round, also)) = joint.or(dns) {
        v.pass_probability = p_round;
        let note = format!(
            "the resolver rotates its answers strictly ({}){also}: {} each look the name up, so they see consecutive answers of that rotation; other queries reaching the resolver in between would make them independent draws instead (≈{:.1} % of rounds)",
            keys[..k].join(" / "),
            burst.who,
            self_check_probability(p) * 100.0
        );
        v.basis = format!(
            "P over consecutive answers of the DNS rotation: {:.3} (independent draws: {})",
            v.pass_probability, v.basis
        );
        v.rotation = Some(note);
    }
    v.outcome = outcome(v.pass_probability, p);
    if v.outcome != VerdictOutcome::Pass {
        v.reason = failure();
        if let Some(note) = &v.rotation {
            v.reason = format!("{}; {note}", v.reason);
        }
    }
    if v.outcome == VerdictOutcome::Flaky {
        v.basis.push_str(&retry_note(v.pass_probability));
    }
    // One address decides every check (the others never connect): its own rotation.
    let deciders: Vec<&AddressReport> = orders
        .iter()
        .flatten()
        .filter_map(|o| {
            o.iter()
                .copied()
                .find(|a| behaviour(a, true) != Some(Behaviour::NoDial))
        })
        .collect();
    if let Some(first) = deciders.first()
        && failed.is_empty()
        && v.rotation.is_none()
        && deciders.iter().all(|d| d.address == first.address)
        && dial_failures(first) == 0
    {
        apply_rotation(&mut v, first, &burst, true, failure);
    }
    v
}
