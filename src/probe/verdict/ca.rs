//! The CA's validation: Let's Encrypt (Boulder), Pebble, or a private ACME server.

use super::selfcheck::{
    Lookup, describe_order, go_order, go_orders, go_pass, lookups, primary_addresses,
};
use super::{
    Burst, apply_rotation, dial_failures, frac, joint_rotation, likeliest_failure, no_ipv6_here,
    outcome, over_dns_rotation, pebble_probability, quorum_probability, rotation_period,
};
use crate::probe::iana;
use crate::probe::perspectives::{self, Day};
use crate::probe::plan::{
    AddressReport, CaProfile, ErrorClass, PebbleSettings, TargetReport, Verdict, VerdictOutcome,
};
use std::net::IpAddr;

/// What decides the CA verdict besides the observations.
#[derive(Debug, Clone, PartialEq)]
pub struct CaContext {
    pub profile: CaProfile,
    /// The day the validation happens (Let's Encrypt's perspectives depend on it).
    pub day: Day,
    /// Remote perspectives overriding the dated table.
    pub remotes: Option<u32>,
    pub pebble: PebbleSettings,
}

impl CaContext {
    pub fn new(profile: CaProfile, day: Day) -> Self {
        CaContext {
            profile,
            day,
            remotes: None,
            pebble: PebbleSettings::default(),
        }
    }
}

/// The CA's validation of `t`.
pub fn ca(t: &TargetReport, ctx: &CaContext) -> Verdict {
    // Pebble on another port than the URL's: its own attempts.
    let own;
    let t = if t.ca_addresses.is_empty() {
        t
    } else {
        own = TargetReport {
            addresses: t.ca_addresses.clone(),
            ..t.clone()
        };
        &own
    };
    match ctx.profile {
        CaProfile::Letsencrypt => letsencrypt(t, ctx),
        CaProfile::Pebble => pebble(t, &ctx.pebble),
        CaProfile::Private => private(t),
        CaProfile::Public => {
            let mut v = private(t);
            v.basis = format!(
                "another public CA: how it picks addresses, which redirects it follows and how many places it validates from are not known; estimated as one validation from the Internet with Go's client rules: {}",
                v.basis
            );
            v
        }
    }
}

fn pass(a: &AddressReport) -> f64 {
    frac(a.acme_passes, a.attempts)
}

/// Boulder's text for a lookup that failed (`bdns` `Error.Error`, both record types).
fn boulder_dns_text(host: &str, class: ErrorClass) -> String {
    let (detail, extra) = match class {
        ErrorClass::DnsNxdomain => (
            "NXDOMAIN",
            " - check that a DNS record exists for this domain",
        ),
        ErrorClass::DnsServfail => (
            "SERVFAIL",
            " - the domain's nameservers may be malfunctioning",
        ),
        ErrorClass::DnsTimeout => ("query timed out", ""),
        // Boulder `bdns/problem.go` `Error.Error`: `dns.RcodeToString` for other rcodes, a
        // `net.OpError` that is not a timeout is a "networking error".
        ErrorClass::DnsRefused => ("REFUSED", ""),
        ErrorClass::DnsUnreachable => ("networking error", ""),
        ErrorClass::DnsNoRecords => {
            return format!(
                "no valid A records found for {host}; no valid AAAA records found for {host}"
            );
        }
        _ => ("server failure at resolver", ""),
    };
    format!(
        "DNS problem: {detail} looking up A for {host}{extra}; DNS problem: {detail} looking up AAAA for {host}{extra}"
    )
}

/// One Let's Encrypt lookup: the pass chance of a perspective's request, or why none.
enum Perspective<'a> {
    /// Pass chance, and the addresses that decide it (first AAAA and/or first A).
    Request(f64, Vec<&'a AddressReport>),
    Dns(String),
    /// The first AAAA cannot be reached from this vantage.
    Unobservable(&'a AddressReport),
}

fn reserved_of(a: &AddressReport) -> Option<String> {
    a.address.parse::<IpAddr>().ok().and_then(iana::reserved)
}

/// Boulder's request as one perspective makes it after this lookup (`va/dns.go` `getAddrs`,
/// `va/http.go` `newHTTPValidationTarget`, `processHTTPValidation`).
fn boulder_request<'a>(t: &TargetReport, look: &Lookup<'a>) -> Perspective<'a> {
    let v = match look {
        Lookup::Failed(c) => return Perspective::Dns(boulder_dns_text(&t.dns_name, *c)),
        Lookup::Addrs(v) => v,
    };
    let usable = |v6: bool| -> Vec<&'a AddressReport> {
        v.iter()
            .copied()
            .filter(|a| a.is_ipv6() == v6 && (t.dns.ip_literal || reserved_of(a).is_none()))
            .collect()
    };
    let (v6, v4) = (usable(true), usable(false));
    match (v6.first(), v4.first()) {
        (None, None) => Perspective::Dns(boulder_dns_text(&t.dns_name, ErrorClass::DnsNoRecords)),
        (Some(a6), _) if no_ipv6_here(a6) => Perspective::Unobservable(a6),
        (Some(a6), a4) => {
            let dial = frac(dial_failures(a6), a6.attempts);
            let p = pass(a6) + dial * a4.map_or(0.0, |a| pass(a));
            let deciding = std::iter::once(*a6)
                .chain(a4.copied().filter(|_| dial > 0.0))
                .collect();
            Perspective::Request(p, deciding)
        }
        (None, Some(a4)) => Perspective::Request(pass(a4), vec![*a4]),
    }
}

fn letsencrypt(t: &TargetReport, ctx: &CaContext) -> Verdict {
    let persp = perspectives::letsencrypt(ctx.day, ctx.remotes);
    let (n, f) = (persp.remotes, persp.allowed_failures);
    let used = primary_addresses(t);
    let looks = lookups(t, &used);
    if looks.is_empty() {
        return Verdict {
            reason: "no address to probe".into(),
            ..Default::default()
        };
    }
    let requests: Vec<Perspective> = looks.iter().map(|l| boulder_request(t, l)).collect();
    if let Some(a6) = requests.iter().find_map(|r| match r {
        Perspective::Unobservable(a) => Some(a),
        _ => None,
    }) {
        return Verdict {
            reason: format!(
                "Let's Encrypt dials the AAAA {} first (the first A only after that dial fails), and this vantage has no IPv6 route: not observable from here",
                a6.address
            ),
            basis: format!("Let's Encrypt: primary + {}", persp.why),
            ..Default::default()
        };
    }
    let slots: Vec<f64> = requests
        .iter()
        .map(|r| match r {
            Perspective::Request(p, _) => *p,
            _ => 0.0,
        })
        .collect();
    let p = slots.iter().sum::<f64>() / slots.len() as f64;
    let mut deciding: Vec<&AddressReport> = Vec::new();
    for r in &requests {
        if let Perspective::Request(_, v) = r {
            for a in v {
                if !deciding.iter().any(|d| d.address == a.address) {
                    deciding.push(a);
                }
            }
        }
    }
    let dns_text = requests.iter().find_map(|r| match r {
        Perspective::Dns(s) => Some(s.clone()),
        _ => None,
    });
    let dns_share = slots.len() as f64
        - requests
            .iter()
            .filter(|r| matches!(r, Perspective::Request(..)))
            .count() as f64;
    let dns_share = dns_share / slots.len() as f64;
    let dropped: Vec<String> = used
        .iter()
        .filter_map(|a| {
            reserved_of(a).filter(|_| !t.dns.ip_literal).map(|r| {
                format!(
                    "{} ({})",
                    a.address,
                    r.trim_start_matches("IP address is in a reserved address block: ")
                )
            })
        })
        .collect();
    let p_round = quorum_probability(p, n, f);
    let plural = if f == 1 { "" } else { "s" };
    let mut basis = format!(
        "Let's Encrypt: primary + {} (at most {f} remote failure{plural}): P = p·Σ(k≤{f}) C({n},k)(1-p)^k p^({n}-k); each perspective looks the name up itself, drops reserved addresses, dials the first AAAA, else the first A, and the first A only after an AAAA dial error: p = {p:.3} over {}",
        persp.why,
        if deciding.is_empty() {
            "no usable address".to_owned()
        } else {
            deciding
                .iter()
                .map(|a| a.address.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    if !dropped.is_empty() {
        basis.push_str(&format!("; dropped as reserved: {}", dropped.join(", ")));
    }
    let mut v = Verdict {
        outcome: outcome(p_round, p),
        pass_probability: p_round,
        per_request_pass: p,
        basis,
        ..Default::default()
    };
    let failure = || {
        let text = match &dns_text {
            Some(d) if dns_share >= 1.0 - dns_share - p => d.clone(),
            _ => likeliest_failure(&deciding, false),
        };
        // The primary fails with 1 - p; it passes and the remotes miss the quorum otherwise.
        if p - p_round > 1.0 - p && !text.is_empty() {
            format!("During secondary validation: {text}")
        } else {
            text
        }
    };
    if v.outcome != VerdictOutcome::Pass {
        v.reason = failure();
    }
    if let [a] = deciding.as_slice()
        && dns_text.is_none()
        && dial_failures(a) == 0
    {
        apply_rotation(&mut v, a, &Burst::letsencrypt(n, f), false, failure);
    }
    v
}

/// Pebble's words for a lookup that failed (`va/va.go` `fetchHTTP`'s dialer).
fn pebble_dns_text(t: &TargetReport, port: u16) -> String {
    let url = crate::probe::url::Url::parse(&t.url)
        .map(|u| u.with_port(port).to_string())
        .unwrap_or_else(|_| t.url.clone());
    format!(
        "Get \"{url}\": error occurred while resolving URL \"{url}\": lookup {}: no such host",
        t.dns_name
    )
}

fn pebble(t: &TargetReport, settings: &PebbleSettings) -> Verdict {
    if settings.always_valid {
        return Verdict {
            outcome: VerdictOutcome::Pass,
            pass_probability: 1.0,
            per_request_pass: 1.0,
            basis: "PEBBLE_VA_ALWAYS_VALID is set: Pebble marks every challenge valid without a request".into(),
            ..Default::default()
        };
    }
    let used = primary_addresses(t);
    let looks = lookups(t, &used);
    if looks.is_empty() {
        return Verdict {
            reason: "no address to probe".into(),
            ..Default::default()
        };
    }
    // Pebble's resolveIP: with -dnsserver, the AAAA answers then the A answers; without it,
    // Go's LookupHost order. It dials addrs[0], no fallback.
    let chosen: Vec<Option<&AddressReport>> = looks
        .iter()
        .map(|l| match l {
            Lookup::Failed(_) => None,
            Lookup::Addrs(v) if settings.dns_server => v
                .iter()
                .copied()
                .find(|a| a.is_ipv6())
                .or_else(|| v.first().copied()),
            Lookup::Addrs(v) => go_order(v).first().copied(),
        })
        .collect();
    if let Some(a) = chosen.iter().flatten().find(|a| no_ipv6_here(a)) {
        return Verdict {
            reason: format!(
                "Pebble dials {} (the first address of its lookup, no fallback), and this vantage cannot reach it: not observable from here",
                a.address
            ),
            ..Default::default()
        };
    }
    let slots: Vec<f64> = chosen.iter().map(|c| c.map_or(0.0, pass)).collect();
    let p = slots.iter().sum::<f64>() / slots.len() as f64;
    let keys: Vec<&str> = chosen
        .iter()
        .map(|c| c.map_or("error", |a| a.address.as_str()))
        .collect();
    let mut names: Vec<&str> = keys.clone();
    names.sort_unstable();
    names.dedup();
    let how = if settings.dns_server {
        "first AAAA, else first A, of its -dnsserver lookup"
    } else {
        "first address of Go's LookupHost order (RFC 6724)"
    };
    let mut v = Verdict {
        per_request_pass: p,
        pass_probability: pebble_probability(p),
        basis: format!(
            "Pebble: 3 parallel validations, all must pass: P = p^3; each dials the {how}, no fallback: p = {p:.3} over {}",
            names.join(", ")
        ),
        ..Default::default()
    };
    let burst = Burst::pebble();
    let single: Vec<Option<Vec<&AddressReport>>> =
        chosen.iter().map(|c| c.map(|a| vec![a])).collect();
    let joint = rotation_period(&keys)
        .and_then(|k| joint_rotation(&single[..k], &burst, false, false).map(|p| (k, p)));
    let dns = rotation_period(&keys)
        .filter(|&k| slots[..k].windows(2).any(|w| w[0] != w[1]))
        .map(|k| (k, over_dns_rotation(&slots[..k], &burst)));
    if let Some((_, p_round)) = joint.or(dns) {
        v.pass_probability = p_round;
        v.rotation = Some(format!(
            "the DNS server rotates its answers strictly (first address of {} lookups one after the other: {}): {} each look the name up, so their first addresses are consecutive in that rotation; other queries reaching the server in between would make them independent draws instead (≈{:.1} % of rounds)",
            keys.len(),
            keys.join(", "),
            burst.who,
            pebble_probability(p) * 100.0
        ));
        v.basis = format!(
            "P over consecutive slots of the DNS rotation: {:.3} (independent draws: {})",
            v.pass_probability, v.basis
        );
    }
    let deciding: Vec<&AddressReport> = {
        let mut d: Vec<&AddressReport> = chosen.iter().flatten().copied().collect();
        d.sort_by(|a, b| a.address.cmp(&b.address));
        d.dedup_by(|a, b| a.address == b.address);
        d
    };
    let failed_lookup = chosen.iter().any(Option::is_none);
    let failure = || {
        let text = likeliest_failure(&deciding, false);
        if text.is_empty() && failed_lookup {
            pebble_dns_text(t, settings.http_port)
        } else {
            text
        }
    };
    v.outcome = outcome(v.pass_probability, p);
    if v.outcome != VerdictOutcome::Pass {
        v.reason = failure();
        if let Some(note) = &v.rotation {
            v.reason = format!("{}; {note}", v.reason);
        }
    }
    if let [a] = deciding.as_slice()
        && !failed_lookup
        && v.rotation.is_none()
    {
        apply_rotation(&mut v, a, &burst, false, failure);
    }
    v
}

fn private(t: &TargetReport) -> Verdict {
    let used = primary_addresses(t);
    let looks = lookups(t, &used);
    if looks.is_empty() {
        return Verdict {
            reason: "no address to probe".into(),
            ..Default::default()
        };
    }
    let orders = go_orders(&looks);
    let p = orders
        .iter()
        .map(|o| o.as_ref().map_or(0.0, |v| go_pass(v, false)))
        .sum::<f64>()
        / orders.len() as f64;
    let order_text = orders
        .iter()
        .flatten()
        .next()
        .map_or_else(|| "no address".to_owned(), |o| describe_order(o));
    let o = outcome(p, p);
    Verdict {
        outcome: o,
        pass_probability: p,
        per_request_pass: p,
        reason: if o == VerdictOutcome::Pass {
            String::new()
        } else {
            likeliest_failure(&used, false)
        },
        basis: format!("one validation with Go's client: P = p = {p:.3}, dialling {order_text}"),
        rotation: None,
    }
}
