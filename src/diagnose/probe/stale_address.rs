//! STALE_ADDRESS: some of the name's addresses (of one family) serve the key and others do not.

use super::util::{address_lines, with_evidence};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantage;
use crate::probe::plan::{AddressReport, ErrorClass};

fn passes(a: &AddressReport) -> bool {
    a.attempts > 0 && a.cert_manager_passes == a.attempts
}

fn fails(a: &AddressReport) -> bool {
    a.attempts > 0 && a.cert_manager_passes == 0
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::probe::tests::{codes, report};
    use crate::diagnose::testdata::{addr, oc};
    use crate::probe::plan::CaProfile;
    use crate::probe::plan::KeyMatch;

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
}
