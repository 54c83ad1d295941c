//! Findings from probing the challenge URL (one vantage). Pure functions over a
//! [`TargetReport`]; each rule is small and names the numbers it saw.

use super::util::outcome_summary;
use super::view::Vantage;
use super::{Code, Finding, Proof, Severity};
use crate::evidence::ChallengeEvidence;
use crate::probe::plan::{
    AddressReport, CaProfile, ErrorClass, KeyMatch, OutcomeCount, TargetReport,
};
use std::net::IpAddr;

type Rule = fn(&Vantage) -> Vec<Finding>;

pub(super) const RULES: &[Rule] = &[
    dns_not_ready,
    super::responder::dns_broken,
    super::responder::wrong_device,
    non_public_name,
    mixed_backends,
    stale_address,
    ipv6_broken,
    inbound_blocked,
    https_redirect_unserved,
    bad_redirect,
    auth_required,
    body_mismatch,
    cdn_in_front,
];

/// Run every probe rule for one challenge.
pub fn findings(ch: &ChallengeEvidence, report: &TargetReport, ca: CaProfile) -> Vec<Finding> {
    let ctx = Vantage { ch, report, ca };
    RULES.iter().flat_map(|r| r(&ctx)).collect()
}

fn address_lines(addrs: &[&AddressReport]) -> Vec<String> {
    addrs
        .iter()
        .map(|a| format!("{}  {}", a.address, outcome_summary(a)))
        .collect()
}

fn with_evidence(mut f: Finding, lines: Vec<String>) -> Finding {
    f.evidence.extend(lines);
    f
}

fn pct(n: u32, d: u32) -> u32 {
    if d == 0 {
        0
    } else {
        (f64::from(n) * 100.0 / f64::from(d)).round() as u32
    }
}

pub(super) fn primary_answer(r: &TargetReport) -> Option<&crate::probe::plan::ResolverAnswer> {
    r.dns.resolvers.iter().find(|a| a.role == "primary")
}

// ---------------------------------------------------------------------------------------------

fn dns_not_ready(c: &Vantage) -> Vec<Finding> {
    let Some(ans) = primary_answer(c.report) else {
        return vec![];
    };
    // SERVFAIL, timeouts and other resolver errors are DNS_BROKEN (responder.rs).
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

const NON_PUBLIC_SUFFIXES: &[&str] = &[
    "local",
    "localhost",
    "internal",
    "intranet",
    "lan",
    "home",
    "corp",
    "test",
    "example",
    "invalid",
    "home.arpa",
    "cluster.local",
];

fn is_reserved(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 192 && o[1] == 0 && o[2] == 2)
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || (o[0] == 198 && o[1] == 51 && o[2] == 100)
                || (o[0] == 203 && o[1] == 0 && o[2] == 113)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

fn non_public_name(c: &Vantage) -> Vec<Finding> {
    // Private ACME servers (Pebble, step-ca) validate reserved addresses and private names.
    if !c.ca.is_public() {
        return vec![];
    }
    let name = c.ch.dns_name.trim_end_matches('.').to_ascii_lowercase();
    let suffix = NON_PUBLIC_SUFFIXES
        .iter()
        .find(|s| name == **s || name.ends_with(&format!(".{s}")));
    let addrs: Vec<IpAddr> = c
        .report
        .addresses
        .iter()
        .filter_map(|a| a.address.parse().ok())
        .collect();
    let all_reserved = !addrs.is_empty() && addrs.iter().all(|ip| is_reserved(*ip));
    if suffix.is_none() && !all_reserved {
        return vec![];
    }
    let mut f = Finding::new(
        Code::NonPublicName,
        Severity::Error,
        Proof::Proves,
        format!(
            "{} cannot be validated by a public CA from the Internet",
            c.ch.dns_name
        ),
    )
    .challenge(&c.ch.name);
    if let Some(s) = suffix {
        f = f.evidence(format!(
            "the name ends in .{s}, which is not a public suffix"
        ));
    }
    if all_reserved {
        f = f.evidence(format!(
            "every address is private or reserved: {}",
            addrs
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    vec![f.fix("use a public name whose DNS points at a public address, or validate with DNS-01 (no inbound traffic needed); for internal names use a private ACME server or a CA issuer")]
}

fn mixed_backends(c: &Vantage) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &c.report.addresses {
        let responders = a.responders();
        let serving: Vec<&OutcomeCount> = a
            .outcomes
            .iter()
            .filter(|o| o.key_match == KeyMatch::Exact)
            .collect();
        let failing: Vec<&OutcomeCount> =
            a.outcomes.iter().filter(|o| !o.cert_manager_pass).collect();
        if serving.is_empty() || failing.is_empty() || responders.len() < 2 {
            continue;
        }
        let good: u32 = serving.iter().map(|o| o.count).sum();
        let bad: u32 = failing.iter().map(|o| o.count).sum();
        let good_who = serving[0].responder.clone();
        let bad_who = failing[0].responder.clone();
        let sc = &c.report.verdicts.self_check;
        out.push(
            Finding::new(
                Code::MixedBackends,
                Severity::Error,
                Proof::Proves,
                format!(
                    "{} answers from {} different backends: {} of {} fresh connections reach {good_who}, which serves the key; {bad} get {} from {bad_who}",
                    a.address,
                    responders.len(),
                    good,
                    a.attempts,
                    failing[0].status.map_or_else(|| failing[0].error_class.map_or("no answer".into(), |e| e.as_str().to_owned()), |s| s.to_string()),
                ),
            )
            .challenge(&c.ch.name)
            .evidence(format!("{}  {}", a.address, outcome_summary(a)))
            .evidence(match &sc.rotation {
                // Strict round-robin: the rounds are not independent draws (probe::verdict).
                Some(note) => note.clone(),
                None => format!(
                    "cert-manager needs 5 passes in a row: ≈{:.1} % of rounds pass ({}% of requests)",
                    sc.pass_probability * 100.0,
                    pct(good, a.attempts)
                ),
            })
            .evidence("a browser with keep-alive sticks to one backend, so the URL can look fine by hand")
            .fix(format!(
                "every backend behind {} must serve /.well-known/acme-challenge/ for {}, or the load balancer in front must send that path to {good_who} only (HAProxy: `acl acme path_beg /.well-known/acme-challenge/` + `use_backend <{good_who} backend> if acme`); remove backends that do not belong",
                a.address, c.ch.dns_name
            )),
        );
    }
    out
}

fn passes(a: &AddressReport) -> bool {
    a.attempts > 0 && a.cert_manager_passes == a.attempts
}

fn fails(a: &AddressReport) -> bool {
    a.attempts > 0 && a.cert_manager_passes == 0
}

fn stale_address(c: &Vantage) -> Vec<Finding> {
    let mut out = Vec::new();
    for v6 in [false, true] {
        let family: Vec<&AddressReport> = c
            .report
            .addresses
            .iter()
            .filter(|a| a.is_ipv6() == v6)
            .collect();
        let good: Vec<&AddressReport> = family.iter().copied().filter(|a| passes(a)).collect();
        let bad: Vec<&AddressReport> = family
            .iter()
            .copied()
            .filter(|a| {
                fails(a)
                    && !a
                        .outcomes
                        .iter()
                        .all(|o| o.error_class == Some(ErrorClass::NetworkUnreachable))
            })
            .collect();
        if good.is_empty() || bad.is_empty() {
            continue;
        }
        let rtype = if v6 { "AAAA" } else { "A" };
        let mut lines = address_lines(&good);
        lines.extend(address_lines(&bad));
        out.push(with_evidence(
            Finding::new(
                Code::StaleAddress,
                Severity::Error,
                Proof::Proves,
                format!(
                    "{} has {} {rtype} records; {} serve the key and {} do not ({})",
                    c.ch.dns_name,
                    family.len(),
                    good.len(),
                    bad.len(),
                    bad.iter().map(|a| a.address.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
            .challenge(&c.ch.name),
            lines,
        )
        .fix(format!(
            "remove the stale {rtype} record(s) {} for {} (or make them serve the challenge): validators pick any of them",
            bad.iter().map(|a| a.address.as_str()).collect::<Vec<_>>().join(", "),
            c.ch.dns_name
        )));
    }
    out
}

fn ipv6_broken(c: &Vantage) -> Vec<Finding> {
    let v6: Vec<&AddressReport> = c.report.addresses.iter().filter(|a| a.is_ipv6()).collect();
    if v6.is_empty() {
        return vec![];
    }
    let v4_ok = c
        .report
        .addresses
        .iter()
        .any(|a| !a.is_ipv6() && a.cert_manager_passes > 0);
    let unreachable_here = v6.iter().all(|a| {
        a.outcomes
            .iter()
            .all(|o| o.error_class == Some(ErrorClass::NetworkUnreachable))
    });
    if unreachable_here {
        return vec![
            Finding::new(
                Code::NotChecked,
                Severity::Info,
                Proof::Supports,
                format!("{} has AAAA records, but this vantage has no IPv6 route: the IPv6 path was not checked", c.ch.dns_name),
            )
            .challenge(&c.ch.name)
            .evidence(format!("AAAA: {}", v6.iter().map(|a| a.address.as_str()).collect::<Vec<_>>().join(", ")))
            .fix(format!("check from an IPv6-capable host: curl -6 -sv {}", c.report.url)),
        ];
    }
    let broken: Vec<&AddressReport> = v6.iter().copied().filter(|a| a.acme_passes == 0).collect();
    if broken.is_empty() || !v4_ok {
        return vec![];
    }
    let first_broken = c
        .report
        .addresses
        .iter()
        .find(|a| a.is_ipv6())
        .is_some_and(|a| a.acme_passes == 0);
    vec![with_evidence(
        Finding::new(
            Code::Ipv6Broken,
            Severity::Error,
            Proof::Proves,
            format!(
                "IPv4 serves the key, IPv6 does not{}",
                if first_broken { ": Let's Encrypt tries the AAAA address first and does not fall back on an HTTP error" } else { "" }
            ),
        )
        .challenge(&c.ch.name),
        address_lines(&c.report.addresses.iter().collect::<Vec<_>>()),
    )
    .fix(format!(
        "make the IPv6 address serve the challenge (same load balancer as IPv4), or remove the AAAA record for {}; cert-manager's self check in an IPv4-only cluster never tests it",
        c.ch.dns_name
    ))]
}

fn inbound_blocked(c: &Vantage) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &c.report.addresses {
        let timeouts: u32 = a
            .outcomes
            .iter()
            .filter(|o| o.error_class == Some(ErrorClass::ConnectTimeout))
            .map(|o| o.count)
            .sum();
        let refused: u32 = a
            .outcomes
            .iter()
            .filter(|o| o.error_class == Some(ErrorClass::ConnectRefused))
            .map(|o| o.count)
            .sum();
        if a.attempts == 0 || (timeouts + refused) * 2 < a.attempts {
            continue;
        }
        let summary = if timeouts >= refused {
            format!(
                "{}:80 drops connections from here: {timeouts} of {} connects timed out (firewall or security group?)",
                a.address, a.attempts
            )
        } else {
            format!(
                "nothing accepts connections on {}:80: {refused} of {} refused",
                a.address, a.attempts
            )
        };
        out.push(
            Finding::new(Code::InboundBlocked, Severity::Error, Proof::Supports, summary)
                .challenge(&c.ch.name)
                .evidence(format!("{}  {}", a.address, outcome_summary(a)))
                .fix(format!(
                    "open TCP port 80 on {} to the whole Internet (the CA validates from several unpublished places), and check the load balancer listens on :80; if port 80 must stay closed, use DNS-01",
                    a.address
                )),
        );
    }
    out
}

fn sample_final_url(a: &AddressReport, o: &OutcomeCount) -> Option<String> {
    a.samples
        .iter()
        .find(|s| {
            s.status == o.status && s.error_class == o.error_class && s.responder == o.responder
        })
        .and_then(|s| s.hops.last())
        .map(|h| h.url.clone())
}

fn https_redirect_unserved(c: &Vantage) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &c.report.addresses {
        for o in a
            .outcomes
            .iter()
            .filter(|o| !o.cert_manager_pass && !o.redirect_chain.is_empty())
        {
            let Some(last) = sample_final_url(a, o) else {
                continue;
            };
            if !last.starts_with("https://") {
                continue;
            }
            let end = o.status.map_or_else(
                || {
                    o.error_class
                        .map_or("no answer".into(), |e| e.as_str().to_owned())
                },
                |s| format!("HTTP {s}"),
            );
            out.push(
                Finding::new(
                    Code::HttpsRedirectUnserved,
                    Severity::Error,
                    Proof::Proves,
                    format!("{} redirects the challenge to https, where it gets {end} instead of the key", a.address),
                )
                .challenge(&c.ch.name)
                .evidence(format!("{} × {} → {last}", o.count, o.redirect_chain.join(" → ")))
                .fix("exempt /.well-known/acme-challenge/ from the forced https redirect (ingress-nginx: annotation nginx.ingress.kubernetes.io/ssl-redirect: \"false\" via the solver's ingressTemplate; Traefik: no global entrypoint redirect for that path), or serve the challenge on the https side too"),
            );
            break;
        }
    }
    out
}

fn bad_redirect(c: &Vantage) -> Vec<Finding> {
    if c.ca != CaProfile::Letsencrypt {
        return vec![];
    }
    let mut out = Vec::new();
    for a in &c.report.addresses {
        if let Some(o) = a
            .outcomes
            .iter()
            .find(|o| o.cert_manager_pass && !o.acme_pass && !o.redirect_chain.is_empty())
        {
            out.push(
                Finding::new(
                    Code::BadRedirect,
                    Severity::Error,
                    Proof::Proves,
                    "cert-manager's self check follows this redirect, but Let's Encrypt refuses it: the self check passes and validation fails",
                )
                .challenge(&c.ch.name)
                .evidence(format!("redirects: {}", o.redirect_chain.join(" → ")))
                .evidence(format!("CA: {}", o.acme_error))
                .fix("redirect only to http(s) on ports 80/443 and to a host name (not an IP), or do not redirect the challenge path at all"),
            );
            break;
        }
    }
    out
}

fn auth_required(c: &Vantage) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &c.report.addresses {
        let n: u32 = a
            .outcomes
            .iter()
            .filter(|o| matches!(o.status, Some(401 | 407)))
            .map(|o| o.count)
            .sum();
        if n == 0 {
            continue;
        }
        let challenge = a
            .samples
            .iter()
            .find(|s| matches!(s.status, Some(401 | 407)))
            .and_then(|s| s.hops.last())
            .and_then(|h| h.headers.get("www-authenticate").cloned());
        let mut f = Finding::new(
            Code::AuthRequired,
            Severity::Error,
            Proof::Proves,
            format!(
                "{} asks for authentication on the challenge path ({n} of {} requests got 401)",
                a.address, a.attempts
            ),
        )
        .challenge(&c.ch.name)
        .evidence(format!("{}  {}", a.address, outcome_summary(a)));
        if let Some(ch) = challenge {
            f = f.evidence(format!("WWW-Authenticate: {ch}"));
        }
        out.push(f.fix("exclude /.well-known/acme-challenge/ from authentication (no auth-* annotations on the Ingress that serves it — beware edit-in-place — and no global auth for that path), or use DNS-01"));
        break;
    }
    out
}

fn body_mismatch(c: &Vantage) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &c.report.addresses {
        let Some(o) = a.outcomes.iter().find(|o| {
            o.status == Some(200) && matches!(o.key_match, KeyMatch::No | KeyMatch::Trimmed)
        }) else {
            continue;
        };
        let sample = a
            .samples
            .iter()
            .find(|s| s.status == Some(200) && s.key_match == o.key_match);
        let (summary, fix) = if o.key_match == KeyMatch::Trimmed {
            (
                format!(
                    "{} answers the key with trailing whitespace: the CA accepts it, cert-manager's exact comparison does not",
                    a.address
                ),
                "serve the key exactly, without a trailing newline (whatever answers instead of cert-manager's solver adds it)",
            )
        } else {
            (
                format!(
                    "{} answers 200 with a body that is not the key ({} of {} requests, responder {})",
                    a.address, o.count, a.attempts, o.responder
                ),
                "another application owns the challenge path (catch-all, rewrite to /, CDN or load-balancer page): route /.well-known/acme-challenge/ to the solver Service and remove rewrites for it",
            )
        };
        let mut f = Finding::new(Code::BodyMismatch, Severity::Error, Proof::Proves, summary)
            .challenge(&c.ch.name)
            .evidence(format!("{}  {}", a.address, outcome_summary(a)));
        if let Some(s) = sample {
            f = f.evidence(format!(
                "got {} bytes starting {:?}; expected {:?}",
                s.body_len, s.body_prefix, c.report.expected_key
            ));
        }
        out.push(f.fix(fix));
    }
    out
}

const CDNS: &[&str] = &["cloudflare", "gclb", "aws-alb", "azure-appgw"];

fn cdn_in_front(c: &Vantage) -> Vec<Finding> {
    let Some((a, who)) = c.report.addresses.iter().find_map(|a| {
        a.outcomes
            .iter()
            .find(|o| CDNS.contains(&o.responder.as_str()))
            .map(|o| (a, o.responder.clone()))
    }) else {
        return vec![];
    };
    vec![
        Finding::new(
            Code::CdnInFront,
            Severity::Warning,
            Proof::Proves,
            format!("{} is answered by {who}, a proxy/CDN in front of the cluster", a.address),
        )
        .challenge(&c.ch.name)
        .evidence(format!("{}  {}", a.address, outcome_summary(a)))
        .fix("make the proxy pass /.well-known/acme-challenge/ through unchanged over plain http (no 'always use https', no WAF/bot rules on it), or use DNS-01"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::plan::{Attempt, Hop, ResolverAnswer};

    use crate::diagnose::testdata::{addr, oc};

    fn report(addresses: Vec<AddressReport>) -> TargetReport {
        TargetReport {
            url: "http://shop.example.com/.well-known/acme-challenge/tok".into(),
            dns_name: "shop.example.com".into(),
            expected_key: "tok.thumb".into(),
            dns: crate::probe::plan::DnsReport {
                resolvers: vec![ResolverAnswer {
                    resolver: "system".into(),
                    role: "primary".into(),
                    ..Default::default()
                }],
                ip_literal: false,
                ..Default::default()
            },
            addresses,
            ..Default::default()
        }
    }

    fn ch() -> ChallengeEvidence {
        ChallengeEvidence {
            name: "web-1-2-3".into(),
            dns_name: "shop.example.com".into(),
            ..Default::default()
        }
    }

    /// The rules, with every finding checked for evidence, fix and docs link.
    fn findings(ch: &ChallengeEvidence, r: &TargetReport, ca: CaProfile) -> Vec<Finding> {
        let found = super::findings(ch, r, ca);
        crate::diagnose::testdata::assert_complete(&found);
        found
    }

    fn codes(r: &TargetReport, ca: CaProfile) -> Vec<Code> {
        findings(&ch(), r, ca).into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn founding_incident() {
        let a = addr(
            "192.0.2.10",
            vec![
                oc(Some(200), None, "nginx", KeyMatch::Exact, 13),
                oc(Some(404), None, "envoy", KeyMatch::NotApplicable, 11),
            ],
        );
        assert_eq!(outcome_summary(&a), "13×200 key (nginx)  11×404 (envoy)");
        let r = report(vec![a]);
        let f = findings(&ch(), &r, CaProfile::Pebble);
        assert_eq!(
            f.iter().map(|f| f.code).collect::<Vec<_>>(),
            vec![Code::MixedBackends]
        );
        assert!(f[0].summary.contains("13 of 24"), "{}", f[0].summary);
    }

    #[test]
    fn healthy_has_no_findings() {
        let r = report(vec![addr(
            "192.0.2.10",
            vec![oc(Some(200), None, "acmesolver", KeyMatch::Exact, 66)],
        )]);
        assert!(codes(&r, CaProfile::Pebble).is_empty());
    }

    #[test]
    fn same_responder_mix_is_not_mixed_backends() {
        let r = report(vec![addr(
            "192.0.2.10",
            vec![
                oc(Some(200), None, "nginx", KeyMatch::Exact, 10),
                oc(Some(404), None, "nginx", KeyMatch::NotApplicable, 10),
            ],
        )]);
        assert!(!codes(&r, CaProfile::Pebble).contains(&Code::MixedBackends));
    }

    #[test]
    fn stale_a_record() {
        let r = report(vec![
            addr(
                "192.0.2.10",
                vec![oc(Some(200), None, "nginx", KeyMatch::Exact, 66)],
            ),
            addr(
                "192.0.2.99",
                vec![oc(
                    None,
                    Some(ErrorClass::ConnectTimeout),
                    "-",
                    KeyMatch::NotApplicable,
                    66,
                )],
            ),
        ]);
        let c = codes(&r, CaProfile::Pebble);
        assert!(c.contains(&Code::StaleAddress), "{c:?}");
        assert!(c.contains(&Code::InboundBlocked), "{c:?}");
    }

    #[test]
    fn ipv6_answers_wrong() {
        let r = report(vec![
            addr(
                "192.0.2.10",
                vec![oc(Some(200), None, "nginx", KeyMatch::Exact, 66)],
            ),
            addr(
                "2001:db8::10",
                vec![oc(Some(404), None, "apache", KeyMatch::NotApplicable, 66)],
            ),
        ]);
        assert_eq!(codes(&r, CaProfile::Pebble), vec![Code::Ipv6Broken]);
        // No IPv6 route from here: say it was not checked instead.
        let r = report(vec![
            addr(
                "192.0.2.10",
                vec![oc(Some(200), None, "nginx", KeyMatch::Exact, 66)],
            ),
            addr(
                "2001:db8::10",
                vec![oc(
                    None,
                    Some(ErrorClass::NetworkUnreachable),
                    "-",
                    KeyMatch::NotApplicable,
                    66,
                )],
            ),
        ]);
        assert_eq!(codes(&r, CaProfile::Pebble), vec![Code::NotChecked]);
    }

    #[test]
    fn redirects() {
        let mut o = oc(Some(404), None, "nginx", KeyMatch::NotApplicable, 66);
        o.redirect_chain =
            vec!["308 http://shop.example.com/.well-known/acme-challenge/tok".into()];
        let mut a = addr("192.0.2.10", vec![o]);
        a.samples.push(Attempt {
            status: Some(404),
            responder: "nginx".into(),
            hops: vec![
                Hop {
                    url: "http://shop.example.com/x".into(),
                    ..Default::default()
                },
                Hop {
                    url: "https://shop.example.com/x".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        });
        assert_eq!(
            codes(&report(vec![a]), CaProfile::Pebble),
            vec![Code::HttpsRedirectUnserved]
        );

        let mut o = oc(Some(200), None, "nginx", KeyMatch::Exact, 66);
        o.acme_pass = false;
        o.acme_error =
            "Invalid port in redirect target. Only ports 80 and 443 are supported, not 8443".into();
        o.redirect_chain = vec!["302 http://shop.example.com/x".into()];
        let r = report(vec![addr("192.0.2.10", vec![o])]);
        assert!(codes(&r, CaProfile::Letsencrypt).contains(&Code::BadRedirect));
        assert!(!codes(&r, CaProfile::Pebble).contains(&Code::BadRedirect));
    }

    #[test]
    fn auth_body_cdn() {
        let r = report(vec![addr(
            "192.0.2.10",
            vec![oc(Some(401), None, "nginx", KeyMatch::NotApplicable, 66)],
        )]);
        assert_eq!(codes(&r, CaProfile::Pebble), vec![Code::AuthRequired]);
        let r = report(vec![addr(
            "192.0.2.10",
            vec![oc(Some(200), None, "unknown-abc", KeyMatch::No, 66)],
        )]);
        assert_eq!(codes(&r, CaProfile::Pebble), vec![Code::BodyMismatch]);
        let r = report(vec![addr(
            "192.0.2.10",
            vec![oc(Some(200), None, "acmesolver", KeyMatch::Trimmed, 66)],
        )]);
        let f = findings(&ch(), &r, CaProfile::Pebble);
        assert!(f[0].summary.contains("trailing whitespace"));
        let r = report(vec![addr(
            "192.0.2.10",
            vec![oc(
                Some(403),
                None,
                "cloudflare",
                KeyMatch::NotApplicable,
                66,
            )],
        )]);
        assert_eq!(codes(&r, CaProfile::Pebble), vec![Code::CdnInFront]);
    }

    #[test]
    fn dns_and_public_names() {
        let mut r = report(vec![]);
        r.dns.resolvers[0].error = Some(ErrorClass::DnsNxdomain);
        assert_eq!(codes(&r, CaProfile::Pebble), vec![Code::DnsNotReady]);
        // Documentation addresses: only a public CA cares.
        let r = report(vec![addr(
            "203.0.113.10",
            vec![oc(Some(200), None, "nginx", KeyMatch::Exact, 66)],
        )]);
        assert_eq!(codes(&r, CaProfile::Letsencrypt), vec![Code::NonPublicName]);
        assert!(codes(&r, CaProfile::Pebble).is_empty());
        assert!(codes(&r, CaProfile::Private).is_empty());
        let r = report(vec![addr(
            "8.8.8.8",
            vec![oc(Some(200), None, "nginx", KeyMatch::Exact, 66)],
        )]);
        assert!(codes(&r, CaProfile::Letsencrypt).is_empty());
    }
}
