//! Probe rules about *who* or *what* answered, and DNS health (one vantage, pure): broken DNS
//! (SERVFAIL/timeout, not a missing record) and a home router or NAS answering instead of the
//! cluster. Registered in [`super::probe`]'s rule list.

use super::probe::primary_answer;
use super::util::outcome_summary;
use super::view::Vantage;
use super::{Code, Finding, Proof, Severity};
use crate::probe::plan::{AddressReport, Attempt, ErrorClass};

/// RC25 seen by the probe: the self check's resolver fails for the name (SERVFAIL, REFUSED,
/// timeout, other error) rather than saying it does not exist. One failing record type while
/// the other resolves is not reported: validators use the family that resolved.
pub(super) fn dns_broken(c: &Vantage) -> Vec<Finding> {
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

/// Words in a `Server` header or page that name a home router, firewall or NAS UI.
const DEVICES: &[&str] = &[
    "pfsense",
    "opnsense",
    "fritz!box",
    "fritzbox",
    "mikrotik",
    "routeros",
    "synology",
    "diskstation",
    "qnap",
    "unifi",
    "openwrt",
    "luci",
    "dd-wrt",
    "sophos",
    "fortigate",
    "zyxel",
    "tp-link",
    "netgear",
    "asuswrt",
    "acme-protocol",
];

/// The device an attempt names, from the responder id, `Server` header or body prefix.
fn device(responder: &str, a: &Attempt) -> Option<String> {
    if responder == "router-ui" {
        let server = a.hops.last().and_then(|h| h.headers.get("server").cloned());
        return Some(server.unwrap_or_else(|| "router web UI".into()));
    }
    let server = a
        .hops
        .last()
        .and_then(|h| h.headers.get("server"))
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let body = a.body_prefix.to_ascii_lowercase();
    DEVICES
        .iter()
        .find(|d| server.contains(*d) || body.contains(*d))
        .map(|d| (*d).to_owned())
}

fn device_on(a: &AddressReport) -> Option<(String, u32)> {
    a.outcomes.iter().find_map(|o| {
        let sample = a.samples.iter().find(|s| s.responder == o.responder)?;
        device(&o.responder, sample).map(|d| (d, o.count))
    })
}

/// RC37: the request lands on a router/firewall/NAS UI (port forwarding to the wrong host,
/// NAT reflection hitting the router itself, a corporate firewall block page).
pub(super) fn wrong_device(c: &Vantage) -> Vec<Finding> {
    let Some((a, (what, n))) = c
        .report
        .addresses
        .iter()
        .find_map(|a| device_on(a).map(|d| (a, d)))
    else {
        return vec![];
    };
    vec![
        Finding::new(
            Code::WrongDevice,
            Severity::Error,
            Proof::Proves,
            format!(
                "{} is answered by a router/firewall/NAS ({what}), not by the cluster: {n} of {} requests",
                a.address, a.attempts
            ),
        )
        .challenge(&c.ch.name)
        .evidence(format!("{}  {}", a.address, outcome_summary(a)))
        .fix(format!(
            "forward TCP port 80 on the router that owns {} to the cluster's ingress (node IP/NodePort or load-balancer address), not to the router's own web UI; from inside the LAN enable NAT reflection (hairpin) or resolve the name to the internal address; a firewall block page (acme-protocol) needs an exception for /.well-known/acme-challenge/",
            a.address
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::ChallengeEvidence;
    use crate::probe::plan::{
        CaProfile, DnsReport, Hop, KeyMatch, OutcomeCount, ResolverAnswer, TargetReport,
    };

    fn ctx_codes(r: &TargetReport) -> Vec<Finding> {
        let ch = ChallengeEvidence {
            name: "c".into(),
            dns_name: "shop.example.com".into(),
            ..Default::default()
        };
        let found = super::super::probe::findings(&ch, r, CaProfile::Pebble);
        crate::diagnose::testdata::assert_complete(&found);
        found
    }

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

    fn answered(server: &str, body: &str, responder: &str) -> TargetReport {
        let mut headers = std::collections::BTreeMap::new();
        headers.insert("server".to_owned(), server.to_owned());
        TargetReport {
            addresses: vec![AddressReport {
                address: "198.51.100.1".into(),
                family: "ipv4".into(),
                attempts: 10,
                outcomes: vec![OutcomeCount {
                    status: Some(200),
                    responder: responder.into(),
                    key_match: KeyMatch::No,
                    count: 10,
                    ..Default::default()
                }],
                samples: vec![Attempt {
                    status: Some(200),
                    responder: responder.into(),
                    body_prefix: body.into(),
                    hops: vec![Hop {
                        headers,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn router_ui_is_the_wrong_device() {
        let r = answered(
            "",
            "<html><head><title>pfSense - Login</title>",
            "unknown-abc",
        );
        let f = ctx_codes(&r);
        assert!(f.iter().any(|f| f.code == Code::WrongDevice), "{f:?}");
        let r = answered("micro_httpd", "<html>", "router-ui");
        assert!(ctx_codes(&r).iter().any(|f| f.code == Code::WrongDevice));
        let r = answered("nginx", "<html><body>shop</body>", "nginx");
        assert!(!ctx_codes(&r).iter().any(|f| f.code == Code::WrongDevice));
    }
}
