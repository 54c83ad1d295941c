//! NON_PUBLIC_NAME: a public CA cannot validate the name (a non-public suffix, or only private
//! or reserved addresses).

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantage;
use std::net::IpAddr;

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

pub(crate) fn non_public_name(c: &Vantage) -> Vec<Finding> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::probe::tests::{codes, report};
    use crate::diagnose::testdata::{addr, oc};
    use crate::probe::plan::KeyMatch;
    use crate::probe::plan::{CaProfile, ErrorClass};

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
