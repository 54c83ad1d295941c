//! Addresses and names a public CA refuses, as Let's Encrypt's Boulder decides it.
//!
//! * `iana.IsReservedAddr` (Boulder `iana/ip.go`): an address inside any block of the IANA
//!   IPv4 and IPv6 Special-Purpose Address Registries is reserved, whatever the registry's
//!   "globally reachable" column says — private use, shared address space, loopback,
//!   link-local, documentation, ULA, benchmarking, … The most specific block names it:
//!   `IP address is in a reserved address block: [RFC1918]: Private-Use`. Boulder drops such
//!   addresses from DNS answers (`va/dns.go` `getAddrs`) and refuses redirects to them
//!   (`va/http.go` `extractRequestTarget`).
//! * `iana.ExtractSuffix`: a redirect host must end in a TLD of the ICANN section of the
//!   Public Suffix List. This module does not carry that list; it refuses what can never be
//!   in it (names without a dot, the special-use names of RFC 6761/6762/7686/9476 and the
//!   private TLDs people use: `.test`, `.example`, `.local`, `.internal`, …) and accepts the
//!   rest, so an unusual *unregistered* TLD is not caught.
//!
//! Every address of the project's test lab is in a documentation range, which this registry
//! lists: in the lab, Let's Encrypt's rules refuse every address, as Boulder would. The filter
//! is exercised by unit tests over address strings.

use std::net::IpAddr;

/// (block, RFC column, name) of the IANA registries as Boulder embeds them
/// (`iana/data/iana-ipv{4,6}-special-registry-1.csv`), most specific block first.
const RESERVED: &[(&str, &str, &str)] = &[
    (
        "0.0.0.0/32",
        "[RFC1122], Section 3.2.1.3",
        "\"This host on this network\"",
    ),
    ("192.0.0.8/32", "[RFC7600]", "IPv4 dummy address"),
    ("192.0.0.9/32", "[RFC7723]", "Port Control Protocol Anycast"),
    (
        "192.0.0.10/32",
        "[RFC8155]",
        "Traversal Using Relays around NAT Anycast",
    ),
    (
        "192.0.0.170/32",
        "[RFC8880][RFC7050], Section 2.2",
        "NAT64/DNS64 Discovery",
    ),
    (
        "192.0.0.171/32",
        "[RFC8880][RFC7050], Section 2.2",
        "NAT64/DNS64 Discovery",
    ),
    ("192.88.99.2/32", "[RFC6751]", "6a44-relay anycast address"),
    (
        "255.255.255.255/32",
        "[RFC8190] [RFC919], Section 7",
        "Limited Broadcast",
    ),
    (
        "192.0.0.0/29",
        "[RFC7335]",
        "IPv4 Service Continuity Prefix",
    ),
    (
        "192.0.0.0/24",
        "[RFC6890], Section 2.1",
        "IETF Protocol Assignments",
    ),
    ("192.0.2.0/24", "[RFC5737]", "Documentation (TEST-NET-1)"),
    ("192.31.196.0/24", "[RFC7535]", "AS112-v4"),
    ("192.52.193.0/24", "[RFC7450]", "AMT"),
    (
        "192.88.99.0/24",
        "[RFC7526]",
        "Deprecated (6to4 Relay Anycast)",
    ),
    (
        "192.175.48.0/24",
        "[RFC7534]",
        "Direct Delegation AS112 Service",
    ),
    ("198.51.100.0/24", "[RFC5737]", "Documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "[RFC5737]", "Documentation (TEST-NET-3)"),
    ("169.254.0.0/16", "[RFC3927]", "Link Local"),
    ("192.168.0.0/16", "[RFC1918]", "Private-Use"),
    ("198.18.0.0/15", "[RFC2544]", "Benchmarking"),
    ("172.16.0.0/12", "[RFC1918]", "Private-Use"),
    ("100.64.0.0/10", "[RFC6598]", "Shared Address Space"),
    ("0.0.0.0/8", "[RFC791], Section 3.2", "\"This network\""),
    ("10.0.0.0/8", "[RFC1918]", "Private-Use"),
    ("127.0.0.0/8", "[RFC1122], Section 3.2.1.3", "Loopback"),
    ("240.0.0.0/4", "[RFC1112], Section 4", "Reserved"),
    ("::1/128", "[RFC4291]", "Loopback Address"),
    ("::/128", "[RFC4291]", "Unspecified Address"),
    (
        "2001:1::1/128",
        "[RFC7723]",
        "Port Control Protocol Anycast",
    ),
    (
        "2001:1::2/128",
        "[RFC8155]",
        "Traversal Using Relays around NAT Anycast",
    ),
    (
        "2001:1::3/128",
        "[RFC9665]",
        "DNS-SD Service Registration Protocol Anycast",
    ),
    ("::ffff:0:0/96", "[RFC4291]", "IPv4-mapped Address"),
    ("64:ff9b::/96", "[RFC6052]", "IPv4-IPv6 Translat."),
    ("100::/64", "[RFC6666]", "Discard-Only Address Block"),
    ("100:0:0:1::/64", "[RFC9780]", "Dummy IPv6 Prefix"),
    ("64:ff9b:1::/48", "[RFC8215]", "IPv4-IPv6 Translat."),
    ("2001:2::/48", "[RFC5180][RFC Errata 1752]", "Benchmarking"),
    ("2001:4:112::/48", "[RFC7535]", "AS112-v6"),
    (
        "2620:4f:8000::/48",
        "[RFC7534]",
        "Direct Delegation AS112 Service",
    ),
    ("2001::/32", "[RFC4380] [RFC8190]", "TEREDO"),
    ("2001:3::/32", "[RFC7450]", "AMT"),
    ("2001:db8::/32", "[RFC3849]", "Documentation"),
    (
        "2001:10::/28",
        "[RFC4843]",
        "Deprecated (previously ORCHID)",
    ),
    ("2001:20::/28", "[RFC7343]", "ORCHIDv2"),
    (
        "2001:30::/28",
        "[RFC9374]",
        "Drone Remote ID Protocol Entity Tags (DETs) Prefix",
    ),
    ("2001::/23", "[RFC2928]", "IETF Protocol Assignments"),
    ("3fff::/20", "[RFC9637]", "Documentation"),
    ("2002::/16", "[RFC3056]", "6to4"),
    ("5f00::/16", "[RFC9602]", "Segment Routing (SRv6) SIDs"),
    ("fe80::/10", "[RFC4291]", "Link-Local Unicast"),
    ("fc00::/7", "[RFC4193] [RFC8190]", "Unique-Local"),
];

fn contains(block: &str, ip: IpAddr) -> bool {
    let Some((net, bits)) = block.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    bits <= if net.is_ipv4() { 32 } else { 128 } && cidr_contains(net, bits, ip)
}

/// Whether `ip` lies in `net`/`bits` (of the same family; `bits` at most 32 or 128).
pub(super) fn cidr_contains(net: IpAddr, bits: u32, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

/// Boulder's `iana.IsReservedAddr`: the error text when `ip` is reserved, None when a public CA
/// may connect to it.
pub fn reserved(ip: IpAddr) -> Option<String> {
    RESERVED
        .iter()
        .find(|(block, _, _)| contains(block, ip))
        .map(|(_, rfc, name)| format!("IP address is in a reserved address block: {rfc}: {name}"))
}

/// TLDs that are not (and will not be) in the ICANN section of the Public Suffix List: the
/// special-use names (RFC 6761 `test`, `example`, `invalid`, `localhost`; RFC 6762 `local`;
/// RFC 7686 `onion`; RFC 9476 `alt`), ICANN's private-use `internal`, and names common on
/// private networks.
const NOT_IANA: &[&str] = &[
    "test",
    "example",
    "invalid",
    "localhost",
    "local",
    "onion",
    "alt",
    "internal",
    "localdomain",
    "lan",
    "home",
    "corp",
    "intranet",
    "private",
];

/// Whether a redirect host passes Boulder's "must end in IANA registered TLD" (approximately:
/// see the module docs).
pub fn has_iana_tld(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match host.rsplit_once('.') {
        Some((_, tld)) => {
            !tld.is_empty()
                && !NOT_IANA.contains(&tld)
                && !host.ends_with(".home.arpa")
                && (tld.starts_with("xn--") || tld.bytes().all(|b| b.is_ascii_alphabetic()))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Option<String> {
        reserved(s.parse().unwrap())
    }

    /// Boulder `iana/ip.go` `IsReservedAddr` and its registries: private, shared, loopback,
    /// link-local, documentation and ULA addresses are reserved, named by the most specific
    /// block; public addresses are not.
    #[test]
    fn reserved_addresses_as_boulder() {
        let reason = |s: &str| r(s).unwrap_or_default();
        assert_eq!(
            reason("10.0.0.5"),
            "IP address is in a reserved address block: [RFC1918]: Private-Use"
        );
        assert_eq!(
            reason("100.64.1.1"),
            "IP address is in a reserved address block: [RFC6598]: Shared Address Space"
        );
        assert_eq!(
            reason("192.0.0.9"),
            "IP address is in a reserved address block: [RFC7723]: Port Control Protocol Anycast"
        );
        assert!(reason("203.0.113.10").ends_with("[RFC5737]: Documentation (TEST-NET-3)"));
        assert!(reason("2001:db8::99").ends_with("[RFC3849]: Documentation"));
        assert!(reason("fd00::1").ends_with("[RFC4193] [RFC8190]: Unique-Local"));
        assert!(reason("fe80::1").ends_with("Link-Local Unicast"));
        assert!(reason("::1").ends_with("Loopback Address"));
        assert!(reason("127.0.0.53").ends_with("Loopback"));
        assert!(reason("::ffff:8.8.8.8").ends_with("IPv4-mapped Address"));
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "2606:4700::1111",
            "2a00:1450::1",
        ] {
            assert_eq!(r(public), None, "{public}");
        }
    }

    #[test]
    fn redirect_hosts_need_an_iana_tld() {
        for ok in [
            "example.com",
            "shop.example.org",
            "xn--bcher-kva.xn--tckwe",
            "a.co.uk.",
        ] {
            assert!(has_iana_tld(ok), "{ok}");
        }
        for bad in [
            "shop.example.test",
            "printer.local",
            "intranet",
            "x.internal",
            "a.home.arpa",
            "x.123",
        ] {
            assert!(!has_iana_tld(bad), "{bad}");
        }
    }
}
