//! STALE_ADDRESS: some of the name's addresses (of one family) serve the key and others do not.
//!
//! An address this vantage has no route to (every attempt "network unreachable") is a limit of
//! the vantage, not of the address — unless it is a private address (10.0.0.5): then nobody
//! outside its network reaches it either, and a validator that picks it fails. Let's Encrypt
//! drops reserved addresses from its DNS answers (Boulder `va/dns.go` `getAddrs`), so for that
//! profile a private address is left out.

use super::util::{address_lines, is_private_address, with_evidence};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantage;
use crate::probe::plan::{AddressReport, CaProfile, ErrorClass};

fn passes(a: &AddressReport) -> bool {
    a.attempts > 0 && a.cert_manager_passes == a.attempts
}

fn fails(a: &AddressReport) -> bool {
    a.attempts > 0 && a.cert_manager_passes == 0
}

/// Every attempt failed at once: this vantage has no route to the address.
fn unreachable_here(a: &AddressReport) -> bool {
    a.outcomes
        .iter()
        .all(|o| o.error_class == Some(ErrorClass::NetworkUnreachable))
}

pub(crate) fn stale_address(c: &Vantage) -> Vec<Finding> {
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
                    && (!unreachable_here(a)
                        || (is_private_address(&a.address) && c.ca != CaProfile::Letsencrypt))
            })
            .collect();
        if good.is_empty() || bad.is_empty() {
            continue;
        }
        let rtype = if v6 { "AAAA" } else { "A" };
        let mut lines = address_lines(&good);
        lines.extend(address_lines(&bad));
        let private: Vec<&str> = bad
            .iter()
            .filter(|a| is_private_address(&a.address))
            .map(|a| a.address.as_str())
            .collect();
        if !private.is_empty() {
            lines.push(format!(
                "{} {} a private address published in DNS: only hosts inside its own network can reach it, never the CA's validators",
                private.join(", "),
                if private.len() == 1 { "is" } else { "are" }
            ));
        }
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
            "remove the stale {rtype} record(s) {} for {} from public DNS (or make them serve the challenge): validators pick any of them",
            bad.iter().map(|a| a.address.as_str()).collect::<Vec<_>>().join(", "),
            c.ch.dns_name
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::probe::tests::{codes, report};
    use crate::diagnose::testdata::{failing, oc, serving};
    use crate::probe::plan::CaProfile;
    use crate::probe::plan::KeyMatch;

    #[test]
    fn stale_a_record() {
        let r = report(vec![
            serving("192.0.2.10"),
            failing("192.0.2.99", ErrorClass::ConnectTimeout),
        ]);
        let c = codes(&r, CaProfile::Pebble);
        assert!(c.contains(&Code::StaleAddress), "{c:?}");
        assert!(c.contains(&Code::InboundBlocked), "{c:?}");
    }

    #[test]
    fn private_address_published_in_dns() {
        // private-address: 10.0.0.5 beside the edge; no vantage has a route to it.
        let mut private = failing("10.0.0.5", ErrorClass::NetworkUnreachable);
        private.unroutable = true;
        let r = report(vec![serving("203.0.113.10"), private.clone()]);
        let found = crate::diagnose::probe::findings(
            &crate::evidence::ChallengeEvidence {
                name: "c".into(),
                dns_name: "shop.example.com".into(),
                ..Default::default()
            },
            &r,
            CaProfile::Pebble,
        );
        let f = found
            .iter()
            .find(|f| f.code == Code::StaleAddress)
            .expect("stale");
        assert!(f.summary.contains("(10.0.0.5)"), "{}", f.summary);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.contains("10.0.0.5 is a private address published in DNS")),
            "{:?}",
            f.evidence
        );
        // Let's Encrypt drops reserved addresses from its answers: not a stale record there.
        assert!(!codes(&r, CaProfile::Letsencrypt).contains(&Code::StaleAddress));
        // A documentation (public in the lab) address without a route from here is this
        // vantage's limit (an IPv4-only host and an AAAA), not a stale record.
        let mut v6 = failing("2001:db8::10", ErrorClass::NetworkUnreachable);
        v6.unroutable = true;
        let mut v6ok = v6.clone();
        v6ok.address = "2001:db8::11".into();
        v6ok.outcomes = vec![oc(Some(200), None, "nginx", KeyMatch::Exact, 66)];
        v6ok.cert_manager_passes = 66;
        v6ok.unroutable = false;
        let r = report(vec![v6ok, v6]);
        assert!(!codes(&r, CaProfile::Pebble).contains(&Code::StaleAddress));
    }
}
