//! IPV6_BROKEN: IPv4 serves the key, the AAAA path does not (or, without an IPv6 route here,
//! NOT_CHECKED for it).

use super::util::{address_lines, with_evidence};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantage;
use crate::probe::plan::{AddressReport, CaProfile, ErrorClass};

/// What the CA does with the AAAA address, for the profile that validates: only what is known
/// of that CA (Boulder `va/http.go` `newHTTPValidationTarget`: the first AAAA first, no
/// fallback on an HTTP answer; Pebble `va/va.go`: the first address of its own lookup, AAAA
/// first with `-dnsserver`, no fallback).
fn why(ca: CaProfile, first_broken: bool) -> &'static str {
    match ca {
        CaProfile::Letsencrypt if first_broken => {
            ": Let's Encrypt tries the AAAA address first and does not fall back on an HTTP error"
        }
        CaProfile::Pebble if first_broken => {
            ": Pebble dials the first address of its own lookup (AAAA first when it runs with -dnsserver) and does not fall back"
        }
        CaProfile::Private | CaProfile::Public => {
            ": which address this CA dials first is not known; whenever it dials the AAAA address, validation fails"
        }
        _ => "",
    }
}

pub(crate) fn ipv6_broken(c: &Vantage) -> Vec<Finding> {
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
            format!("IPv4 serves the key, IPv6 does not{}", why(c.ca, first_broken)),
        )
        .challenge(&c.ch.name),
        address_lines(&c.report.addresses.iter().collect::<Vec<_>>()),
    )
    .fix(format!(
        "make the IPv6 address serve the challenge (same load balancer as IPv4), or remove the AAAA record for {}; cert-manager's self check in an IPv4-only cluster never tests it",
        c.ch.dns_name
    ))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::probe::tests::{codes, report};
    use crate::diagnose::testdata::{addr, failing, oc, serving};
    use crate::probe::plan::CaProfile;
    use crate::probe::plan::KeyMatch;

    #[test]
    fn ipv6_answers_wrong() {
        let r = report(vec![
            serving("192.0.2.10"),
            addr(
                "2001:db8::10",
                vec![oc(Some(404), None, "apache", KeyMatch::NotApplicable, 66)],
            ),
        ]);
        assert_eq!(codes(&r, CaProfile::Pebble), vec![Code::Ipv6Broken]);
        // No IPv6 route from here: say it was not checked instead.
        let r = report(vec![
            serving("192.0.2.10"),
            failing("2001:db8::10", ErrorClass::NetworkUnreachable),
        ]);
        assert_eq!(codes(&r, CaProfile::Pebble), vec![Code::NotChecked]);
    }

    #[test]
    fn the_reason_names_the_ca_that_validates() {
        let r = report(vec![
            addr(
                "2001:db8::10",
                vec![oc(Some(404), None, "envoy", KeyMatch::No, 66)],
            ),
            serving("192.0.2.10"),
        ]);
        let summary = |ca| {
            crate::diagnose::probe::findings(
                &crate::evidence::ChallengeEvidence {
                    name: "c".into(),
                    dns_name: "shop.example.com".into(),
                    ..Default::default()
                },
                &r,
                ca,
            )
            .into_iter()
            .find(|f| f.code == Code::Ipv6Broken)
            .map(|f| f.summary)
            .unwrap_or_default()
        };
        assert!(summary(CaProfile::Letsencrypt).contains("Let's Encrypt tries the AAAA"));
        let pebble = summary(CaProfile::Pebble);
        assert!(
            pebble.contains("Pebble dials the first address"),
            "{pebble}"
        );
        assert!(!pebble.contains("Let's Encrypt"), "{pebble}");
        let private = summary(CaProfile::Private);
        assert!(private.contains("is not known"), "{private}");
        assert!(!private.contains("Let's Encrypt"), "{private}");
    }
}
