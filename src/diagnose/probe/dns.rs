//! DNS_NOT_READY (the name does not exist or has no address) and DNS_BROKEN (RC25 seen by the
//! probe: the resolver fails with SERVFAIL, a timeout or another error rather than saying the
//! name does not exist).

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantage;
use crate::probe::plan::{ErrorClass, TargetReport};

pub(super) fn primary_answer(r: &TargetReport) -> Option<&crate::probe::plan::ResolverAnswer> {
    r.dns.resolvers.iter().find(|a| a.role == "primary")
}

pub(crate) fn dns_not_ready(c: &Vantage) -> Vec<Finding> {
    let Some(ans) = primary_answer(c.report) else {
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
    let Some(ans) = primary_answer(c.report) else {
        return vec![];
    };
    let Some(e) = ans.error.filter(|e| {
        matches!(
            e,
            ErrorClass::DnsServfail | ErrorClass::DnsTimeout | ErrorClass::DnsError
        )
    }) else {
        return vec![];
    };
    let mut f = Finding::new(
        Code::DnsBroken,
        Severity::Error,
        Proof::Proves,
        format!(
            "{} cannot be resolved: resolver {} answers {e} (the name's DNS servers fail; this is not a missing record)",
            c.ch.dns_name, ans.resolver
        ),
    )
    .challenge(&c.ch.name)
    .evidence(format!("resolver {}: {e}", ans.resolver));
    for d in &ans.detail {
        f = f.evidence(d.clone());
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
    use crate::probe::plan::{DnsReport, ResolverAnswer};

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
    }
}
