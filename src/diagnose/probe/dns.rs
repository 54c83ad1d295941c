//! DNS_NOT_READY (the name does not exist or has no address) and DNS_BROKEN (RC25 seen by the
//! probe: a resolver that answers names that must exist fails for this one with SERVFAIL or a
//! timeout: along the name's delegation, not a missing record).
//!
//! Neither is said when the vantage's own resolver explains the failure (it reaches no server,
//! refuses, fails or knows no public name: `probe::health`), nor for a refusal of this name by
//! this machine's resolver (its policy): those are limitations of the vantage
//! (`vantages/vantage_limits.rs`), not facts about the domain.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantage;
use crate::probe::health::own_trouble;
use crate::probe::plan::{ErrorClass, ResolverAnswer, ResolverState, TargetReport};

pub(super) fn primary_answer(r: &TargetReport) -> Option<&ResolverAnswer> {
    r.dns.resolvers.iter().find(|a| a.role == "primary")
}

/// The primary answer, unless the vantage's own resolver explains its failure.
fn about_the_name(r: &TargetReport) -> Option<&ResolverAnswer> {
    let ans = primary_answer(r)?;
    match &r.health {
        Some(h) if own_trouble(ans, h).is_some() => None,
        _ => Some(ans),
    }
}

/// `the same resolver answers acme-v02.api.letsencrypt.org`: what makes the failure the name's.
fn healthy_line(r: &TargetReport, ans: &ResolverAnswer) -> Option<String> {
    let h = r.health.as_ref()?.resolver(&ans.resolver)?;
    (h.state == ResolverState::Answers).then(|| {
        let names: Vec<&str> = h
            .names
            .iter()
            .filter(|n| !n.addresses.is_empty())
            .map(|n| n.name.as_str())
            .collect();
        format!(
            "the same resolver answers names that must exist ({}): it works, the failure is this name's",
            names.join(", ")
        )
    })
}

pub(crate) fn dns_not_ready(c: &Vantage) -> Vec<Finding> {
    let Some(ans) = about_the_name(c.report) else {
        return vec![];
    };
    // SERVFAIL, timeouts and other resolver errors are DNS_BROKEN (dns_broken below).
    let what = match ans.error {
        Some(ErrorClass::DnsNxdomain) => "does not exist (NXDOMAIN)",
        Some(ErrorClass::DnsNoRecords) => "has no A or AAAA record",
        _ => return vec![],
    };
    vec![
        Finding::new(Code::DnsNotReady, Severity::Error, Proof::Proves, format!("{} {what} for resolver {}", c.ch.dns_name, ans.resolver))
            .challenge(&c.ch.name)
            .evidence(if ans.detail.is_empty() {
                format!("resolver {}: {}", ans.resolver, ans.error.map_or("", |e| e.as_str()))
            } else {
                ans.detail.join("; ")
            })
            .fix(format!(
                "create an A (and/or AAAA) record for {} pointing at your ingress load balancer; after a new record, negative caching can delay it by the zone's SOA minimum TTL: dig +short {} A",
                c.ch.dns_name, c.ch.dns_name
            )),
    ]
}

/// RC25 seen by the probe: the self check's resolver fails for the name (SERVFAIL, REFUSED,
/// timeout, other error) rather than saying it does not exist. One failing record type while
/// the other resolves is not reported: validators use the family that resolved.
pub(crate) fn dns_broken(c: &Vantage) -> Vec<Finding> {
    let Some(ans) = about_the_name(c.report) else {
        return vec![];
    };
    // REFUSED is the resolver's policy and "unreachable" its absence, never the name's servers.
    let Some(e) = ans.error.filter(|e| {
        matches!(
            e,
            ErrorClass::DnsServfail | ErrorClass::DnsTimeout | ErrorClass::DnsError
        )
    }) else {
        return vec![];
    };
    let healthy = healthy_line(c.report, ans);
    let mut f = Finding::new(
        Code::DnsBroken,
        Severity::Error,
        // Without knowing that the resolver answers other names, a timeout may be its own.
        if healthy.is_some() || e == ErrorClass::DnsServfail {
            Proof::Proves
        } else {
            Proof::Supports
        },
        format!(
            "{} cannot be resolved: resolver {} answers {e} (the name's DNS servers fail along its delegation; this is not a missing record)",
            c.ch.dns_name, ans.resolver
        ),
    )
    .challenge(&c.ch.name)
    .evidence(format!("resolver {}: {e}", ans.resolver));
    for d in &ans.detail {
        f = f.evidence(d.clone());
    }
    if let Some(line) = healthy {
        f = f.evidence(line);
    }
    vec![f.fix(format!(
        "query each authoritative server and check DNSSEC: dig +trace {n} A; dig +dnssec {n} AAAA; dig {n} CAA — fix or remove the failing nameserver (NS/glue) or the broken DS record",
        n = c.ch.dns_name
    ))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::probe::tests::ctx_codes;
    use crate::probe::plan::{DnsReport, NameCheck, ResolverHealth, VantageHealth};

    fn dns(error: Option<ErrorClass>, detail: &[&str], a: &[&str]) -> TargetReport {
        TargetReport {
            dns: DnsReport {
                resolvers: vec![ResolverAnswer {
                    resolver: "system".into(),
                    role: "primary".into(),
                    error,
                    a: a.iter().map(|s| s.to_string()).collect(),
                    detail: detail.iter().map(|s| s.to_string()).collect(),
                    ..Default::default()
                }],
                ip_literal: false,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn servfail_is_broken_dns_not_a_missing_record() {
        let r = dns(
            Some(ErrorClass::DnsServfail),
            &["A: dns_servfail: SERVFAIL"],
            &[],
        );
        let f = ctx_codes(&r);
        assert_eq!(
            f.iter().map(|f| f.code).collect::<Vec<_>>(),
            [Code::DnsBroken]
        );
        assert_eq!(f[0].severity, Severity::Error);
        // AAAA fails while A works: validators use A; not reported.
        let r = dns(None, &["AAAA: dns_timeout: timed out"], &["192.0.2.1"]);
        assert!(ctx_codes(&r).is_empty());
        // NXDOMAIN stays DNS_NOT_READY.
        let r = dns(
            Some(ErrorClass::DnsNxdomain),
            &["A: dns_nxdomain: no record"],
            &[],
        );
        assert_eq!(
            ctx_codes(&r).iter().map(|f| f.code).collect::<Vec<_>>(),
            [Code::DnsNotReady]
        );
        // REFUSED and "no server to ask" are never the domain's DNS.
        for e in [ErrorClass::DnsRefused, ErrorClass::DnsUnreachable] {
            assert!(ctx_codes(&dns(Some(e), &[], &[])).is_empty(), "{e}");
        }
    }

    fn with_health(mut r: TargetReport, state: ResolverState) -> TargetReport {
        r.health = Some(VantageHealth {
            vantage: "local".into(),
            resolvers: vec![ResolverHealth {
                resolver: "system".into(),
                state,
                names: vec![NameCheck {
                    name: "acme-v02.api.letsencrypt.org".into(),
                    addresses: if state == ResolverState::Answers {
                        vec!["192.0.2.41".into()]
                    } else {
                        vec![]
                    },
                    error: (state != ResolverState::Answers).then_some(ErrorClass::DnsTimeout),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        });
        r
    }

    /// Issue 14: a machine whose resolver answers nothing says nothing about the domain; a
    /// resolver that answers names that must exist and times out on this one proves the
    /// delegation fails.
    #[test]
    fn the_vantages_own_resolver_is_not_the_domains_dns() {
        let timeout = dns(
            Some(ErrorClass::DnsTimeout),
            &["A: dns_timeout: request timed out"],
            &[],
        );
        for s in [
            ResolverState::Unreachable,
            ResolverState::Refuses,
            ResolverState::Fails,
            ResolverState::UnknownNames,
        ] {
            assert!(
                ctx_codes(&with_health(timeout.clone(), s)).is_empty(),
                "{s:?}"
            );
        }
        let nx = dns(Some(ErrorClass::DnsNxdomain), &[], &[]);
        assert!(ctx_codes(&with_health(nx, ResolverState::UnknownNames)).is_empty());
        let f = ctx_codes(&with_health(timeout.clone(), ResolverState::Answers));
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].code, f[0].proof), (Code::DnsBroken, Proof::Proves));
        assert!(
            f[0].evidence.iter().any(|e| e.starts_with(
                "the same resolver answers names that must exist (acme-v02.api.letsencrypt.org)"
            )),
            "{:?}",
            f[0].evidence
        );
        // Not checked: a timeout may be the resolver's own; it supports, no more.
        assert_eq!(ctx_codes(&timeout)[0].proof, Proof::Supports);
    }
}
