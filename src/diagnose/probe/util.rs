//! Helpers the probe rules share: evidence lines per address.

use crate::diagnose::finding::Finding;
use crate::diagnose::util::outcome_summary;
use crate::probe::plan::AddressReport;
use std::net::IpAddr;

/// A private-use address (RFC 1918, shared CGNAT 100.64/10, loopback, link-local, IPv6 ULA and
/// link-local): routed only inside some network, so publishing it in public DNS reaches nobody
/// outside. Documentation ranges are not in it (test networks, like the project's lab, use them
/// as public addresses); NON_PUBLIC_NAME's reserved-range test is the wider one.
pub(super) fn is_private_address(address: &str) -> bool {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

pub(super) fn address_lines(addrs: &[&AddressReport]) -> Vec<String> {
    addrs
        .iter()
        .map(|a| format!("{}  {}", a.address, outcome_summary(a)))
        .collect()
}

pub(super) fn with_evidence(mut f: Finding, lines: Vec<String>) -> Finding {
    f.evidence.extend(lines);
    f
}
