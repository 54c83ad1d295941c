//! Go's destination address order and dialing, as cert-manager's self check (Go's
//! `net/http` with the zero `net.Dialer`) and Pebble without `-dnsserver` (`LookupHost`) see
//! them. Pure functions, except [`source_for`], which asks the kernel.
//!
//! * **Order** — Go's pure resolver sorts the answers with `sortByRFC6724`
//!   (`net/addrselect.go`): for every destination it asks the kernel which source address it
//!   would use (a UDP "connect", `srcAddrs`), then applies RFC 6724 rules 1 (no source:
//!   last), 2 (matching scope), 5 (matching label), 6 (higher precedence), 8 (smaller scope)
//!   and 9 (longest matching prefix, IPv6 only), stably. On a host without an IPv6 source
//!   address the AAAA records sort last; with a ULA (fc00::/7) source and a global AAAA, rule 5
//!   puts IPv4 first.
//! * **Dialing** — `net.Dialer.DialContext` (`net/dial.go`): the addresses of the first
//!   one's family are the *primaries*, the others the *fallbacks* (`addrList.partition`).
//!   `dialParallel` runs `dialSerial` over the primaries; the fallbacks start after 300 ms
//!   (`FallbackDelay`) or as soon as every primary failed; the first connection wins.
//!   `dialSerial` tries one address after the other, each with an equal share of the time left
//!   but at least 2 s (`partialDeadline`): a refused or unreachable address costs nothing, a
//!   black hole costs its share. Only a dial error moves on; an address that connects and
//!   answers wrongly ends the attempt.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The source address the kernel picks to reach `ip`, as Go's `srcAddrs` finds it (a UDP
/// socket "connected" to port 9: no packet is sent). None: no route, or no address of that
/// family here (Go's "Source(D) undefined").
pub fn source_for(ip: IpAddr) -> Option<IpAddr> {
    let bind = match ip {
        IpAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        IpAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    };
    let socket = std::net::UdpSocket::bind(bind).ok()?;
    socket.connect(SocketAddr::new(ip, 9)).ok()?;
    let local = socket.local_addr().ok()?.ip();
    (!local.is_unspecified()).then_some(local)
}

/// RFC 6724 §3.1 scopes as Go's `classifyScope` assigns them.
fn scope(ip: IpAddr) -> u8 {
    const LINK_LOCAL: u8 = 0x2;
    const SITE_LOCAL: u8 = 0x5;
    const GLOBAL: u8 = 0xe;
    match ip {
        IpAddr::V4(v4) if v4.is_loopback() || v4.is_link_local() => LINK_LOCAL,
        IpAddr::V4(_) => GLOBAL,
        IpAddr::V6(v6) => {
            let o = v6.octets();
            if v6.is_loopback() || (o[0] == 0xfe && o[1] & 0xc0 == 0x80) {
                LINK_LOCAL
            } else if o[0] == 0xff {
                o[1] & 0x0f
            } else if o[0] == 0xfe && o[1] & 0xc0 == 0xc0 {
                SITE_LOCAL
            } else {
                GLOBAL
            }
        }
    }
}

/// (precedence, label) from the RFC 6724 §2.1 policy table Go uses (`rfc6724policyTable`),
/// longest prefix first. IPv4 addresses are classified as IPv4-mapped (`::ffff:0:0/96`).
fn policy(ip: IpAddr) -> (u8, u8) {
    let v6 = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    let bits = u128::from(v6);
    let within = |prefix: u128, len: u32| len == 0 || bits >> (128 - len) == prefix >> (128 - len);
    // (prefix, length, precedence, label), longest prefix first.
    const TABLE: &[(u128, u32, u8, u8)] = &[
        (1, 128, 50, 0),               // ::1/128
        (0xffff_0000_0000, 96, 35, 4), // ::ffff:0:0/96
        (0, 96, 1, 3),                 // ::/96
        (0x2001_0000 << 96, 32, 5, 5), // 2001::/32 (Teredo)
        (0x2002 << 112, 16, 30, 2),    // 2002::/16 (6to4)
        (0x3ffe << 112, 16, 1, 12),    // 3ffe::/16
        (0xfec0 << 112, 10, 1, 11),    // fec0::/10
        (0xfc00 << 112, 7, 3, 13),     // fc00::/7 (ULA)
        (0, 0, 40, 1),                 // ::/0
    ];
    TABLE
        .iter()
        .find(|(p, len, _, _)| within(*p, *len))
        .map_or((0, 0), |&(_, _, prec, label)| (prec, label))
}

/// Go's `commonPrefixLen`: IPv4 over 32 bits, IPv6 over the first 64 bits only.
fn common_prefix_len(a: IpAddr, b: IpAddr) -> u32 {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) ^ u32::from(b)).leading_zeros(),
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let x = (u128::from(a) ^ u128::from(b)) >> 64;
            (x as u64).leading_zeros()
        }
        _ => 0,
    }
}

/// Whether Go's `byRFC6724.Less` prefers destination `a` (with source `sa`) over `b`.
fn prefer(a: IpAddr, sa: Option<IpAddr>, b: IpAddr, sb: Option<IpAddr>) -> bool {
    // Rule 1: avoid unusable destinations.
    let (sa, sb) = match (sa, sb) {
        (None, None) => return false,
        (Some(_), None) => return true,
        (None, Some(_)) => return false,
        (Some(sa), Some(sb)) => (sa, sb),
    };
    // Rule 2: prefer matching scope.
    let (match_a, match_b) = (scope(a) == scope(sa), scope(b) == scope(sb));
    if match_a != match_b {
        return match_a;
    }
    // Rule 5: prefer matching label.
    let (label_a, label_b) = (policy(sa).1 == policy(a).1, policy(sb).1 == policy(b).1);
    if label_a != label_b {
        return label_a;
    }
    // Rule 6: prefer higher precedence.
    if policy(a).0 != policy(b).0 {
        return policy(a).0 > policy(b).0;
    }
    // Rule 8: prefer smaller scope.
    if scope(a) != scope(b) {
        return scope(a) < scope(b);
    }
    // Rule 9: longest matching prefix, IPv6 only (Go issues 13283, 18518).
    if a.is_ipv6() && b.is_ipv6() {
        let (ca, cb) = (common_prefix_len(sa, a), common_prefix_len(sb, b));
        if ca != cb {
            return ca > cb;
        }
    }
    // Rule 10: leave the order unchanged.
    false
}

/// Sort destinations (with the source address each would use, None when unusable) the way
/// Go's `sortByRFC6724` does: stable, best first.
pub fn sort_rfc6724<T>(addrs: &mut [(IpAddr, Option<IpAddr>, T)]) {
    addrs.sort_by(|(a, sa, _), (b, sb, _)| {
        if prefer(*a, *sa, *b, *sb) {
            std::cmp::Ordering::Less
        } else if prefer(*b, *sb, *a, *sa) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
}

/// How the attempts on one address ended, as fractions, for a dialing model: passed, connected
/// but failed, failed to connect at once (refused, unreachable), failed to connect only after
/// waiting (a black hole: connect timeout).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DialOdds {
    pub pass: f64,
    pub connected_fail: f64,
    pub fast_fail: f64,
    pub slow_fail: f64,
}

/// What one family's `dialSerial` does: connects after fast failures only (then ends `pass` or
/// `fail`), connects after a slow failure (by then the other family has started), or fails.
#[derive(Debug, Clone, Copy, Default)]
struct Serial {
    fast_pass: f64,
    fast_fail: f64,
    slow_pass: f64,
    slow_fail: f64,
    none: f64,
}

fn serial(list: &[DialOdds]) -> Serial {
    let mut out = Serial::default();
    // Probability of reaching address i with only fast failures before it / with a slow one.
    let (mut fast, mut slow) = (1.0, 0.0);
    for d in list {
        out.fast_pass += fast * d.pass;
        out.fast_fail += fast * d.connected_fail;
        out.slow_pass += slow * d.pass;
        out.slow_fail += slow * d.connected_fail;
        let failed = d.fast_fail + d.slow_fail;
        slow = slow * failed + fast * d.slow_fail;
        fast *= d.fast_fail;
    }
    out.none = fast + slow;
    out
}

/// The chance that one request by Go's dialer passes, given the destinations in Go's order
/// (after [`sort_rfc6724`]) with their odds and families. Connections that succeed are taken
/// to do so within the 300 ms Happy Eyeballs delay (true of any address that answers at all
/// in practice); a black-holed primary lets the fallback family start, and a fallback that
/// connects without waiting wins the race.
pub fn go_dial_pass(ordered: &[(bool, DialOdds)]) -> f64 {
    let Some(&(first_v6, _)) = ordered.first() else {
        return 0.0;
    };
    let pick = |v6: bool| -> Vec<DialOdds> {
        ordered
            .iter()
            .filter(|(f, _)| *f == v6)
            .map(|(_, d)| *d)
            .collect()
    };
    let (p, f) = (serial(&pick(first_v6)), serial(&pick(!first_v6)));
    let fallbacks = ordered.iter().any(|(v6, _)| *v6 != first_v6);
    if !fallbacks {
        return p.fast_pass + p.slow_pass;
    }
    let f_fast = f.fast_pass + f.fast_fail;
    p.fast_pass
        + (p.slow_pass + p.slow_fail) * f.fast_pass
        + p.slow_pass * (1.0 - f_fast)
        + p.none * (f.fast_pass + f.slow_pass)
}

/// Which of `ordered` Go's dialer ends up connected to when each address either connects
/// (true) or not: the first connecting primary reached without a black hole, else a fallback
/// reached without one, else any connecting address in order. None when none connects.
pub fn go_dial_winner(ordered: &[(IpAddr, bool, bool)]) -> Option<IpAddr> {
    let first_v6 = ordered.first()?.0.is_ipv6();
    let family = |v6: bool| ordered.iter().filter(move |(ip, _, _)| ip.is_ipv6() == v6);
    // (address, connects, black hole)
    let fast = |v6: bool| {
        for (ip, connects, slow) in family(v6) {
            if *connects {
                return Some(*ip);
            }
            if *slow {
                return None;
            }
        }
        None
    };
    fast(first_v6)
        .or_else(|| fast(!first_v6))
        .or_else(|| ordered.iter().find(|(_, c, _)| *c).map(|(ip, _, _)| *ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn order(list: &[(&str, Option<&str>)]) -> Vec<String> {
        let mut v: Vec<(IpAddr, Option<IpAddr>, ())> =
            list.iter().map(|(d, s)| (ip(d), s.map(ip), ())).collect();
        sort_rfc6724(&mut v);
        v.iter().map(|(d, _, _)| d.to_string()).collect()
    }

    /// Go `net/addrselect.go` `sortByRFC6724`: cases of Go's own `addrselect_test.go`
    /// (`TestSortByRFC6724`) and the ones that decide the self check.
    #[test]
    fn go_rfc6724_order() {
        // Dual stack with global addresses: IPv6 first (rule 6, precedence 40 > 35).
        assert_eq!(
            order(&[
                ("203.0.113.10", Some("192.0.2.2")),
                ("2001:db8::99", Some("2001:db8::2"))
            ]),
            ["2001:db8::99", "203.0.113.10"]
        );
        // No IPv6 source (an IPv4-only pod): the AAAA sorts last (rule 1).
        assert_eq!(
            order(&[
                ("2001:db8::99", None),
                ("203.0.113.10", Some("198.51.100.100"))
            ]),
            ["203.0.113.10", "2001:db8::99"]
        );
        // A ULA source for a global AAAA: labels 13 vs 1 differ, IPv4's match: IPv4 first
        // (rule 5), although IPv6 "works".
        assert_eq!(
            order(&[
                ("2001:db8::99", Some("fd00::5")),
                ("203.0.113.10", Some("10.0.0.5"))
            ]),
            ["203.0.113.10", "2001:db8::99"]
        );
        // RFC 6724 §10.2 examples, as Go's `addrselect_test.go` `TestSortByRFC6724` has them:
        // prefer matching scope (twice), higher precedence, smaller scope.
        let rfc = [
            (
                ("2001:db8:1::1", "2001:db8:1::2"),
                ("198.51.100.121", "169.254.13.78"),
                true,
            ),
            (
                ("2001:db8:1::1", "fe80::1"),
                ("198.51.100.121", "198.51.100.117"),
                false,
            ),
            (
                ("2001:db8:1::1", "2001:db8:1::2"),
                ("10.1.2.3", "10.1.2.4"),
                true,
            ),
            (
                ("2001:db8:1::1", "2001:db8:1::2"),
                ("fe80::1", "fe80::2"),
                false,
            ),
        ];
        for ((a, sa), (b, sb), a_first) in rfc {
            let want = if a_first { [a, b] } else { [b, a] };
            assert_eq!(order(&[(a, Some(sa)), (b, Some(sb))]), want, "{a} {b}");
            assert_eq!(order(&[(b, Some(sb)), (a, Some(sa))]), want, "{b} {a}");
        }
        // Go issue 13283: a 10/8 source does not prefer 23/8 destinations (IPv4 keeps the
        // DNS order).
        let v4 = [
            "54.83.193.112",
            "184.72.238.214",
            "23.23.172.185",
            "23.21.50.150",
        ];
        let with_src: Vec<(&str, Option<&str>)> =
            v4.iter().map(|d| (*d, Some("10.2.3.4"))).collect();
        assert_eq!(order(&with_src), v4);
        // Rule 9: the longer common prefix with the source wins among IPv6.
        assert_eq!(
            order(&[
                ("2001:db8:2::1", Some("2001:db8:1::2")),
                ("2001:db8:1::1", Some("2001:db8:1::2"))
            ]),
            ["2001:db8:1::1", "2001:db8:2::1"]
        );
        // IPv4 addresses keep the DNS order (rule 9 is IPv6-only in Go).
        assert_eq!(
            order(&[
                ("203.0.113.99", Some("203.0.113.2")),
                ("198.51.100.10", Some("203.0.113.2"))
            ]),
            ["203.0.113.99", "198.51.100.10"]
        );
    }

    fn odds(pass: f64, connected_fail: f64, fast_fail: f64, slow_fail: f64) -> DialOdds {
        DialOdds {
            pass,
            connected_fail,
            fast_fail,
            slow_fail,
        }
    }

    const OK: DialOdds = DialOdds {
        pass: 1.0,
        connected_fail: 0.0,
        fast_fail: 0.0,
        slow_fail: 0.0,
    };
    const REFUSED: DialOdds = DialOdds {
        pass: 0.0,
        connected_fail: 0.0,
        fast_fail: 1.0,
        slow_fail: 0.0,
    };
    const HOLE: DialOdds = DialOdds {
        pass: 0.0,
        connected_fail: 0.0,
        fast_fail: 0.0,
        slow_fail: 1.0,
    };
    const WRONG: DialOdds = DialOdds {
        pass: 0.0,
        connected_fail: 1.0,
        fast_fail: 0.0,
        slow_fail: 0.0,
    };

    /// Go `net/dial.go`: `dialSerial` moves on after a dial error only; `dialParallel` starts
    /// the other family after `FallbackDelay` (300 ms) or when the primaries all failed.
    #[test]
    fn go_dialing() {
        // Two A records, one refusing: every request passes, in either order.
        assert_eq!(go_dial_pass(&[(false, REFUSED), (false, OK)]), 1.0);
        assert_eq!(go_dial_pass(&[(false, OK), (false, REFUSED)]), 1.0);
        // One black-holed A before a good one: dialSerial gives it its share, then moves on.
        assert_eq!(go_dial_pass(&[(false, HOLE), (false, OK)]), 1.0);
        // A wrong answer is not a dial error: no fallback.
        assert_eq!(go_dial_pass(&[(false, WRONG), (false, OK)]), 0.0);
        // An unusable AAAA after the A (IPv4-only pod): the A decides.
        assert_eq!(go_dial_pass(&[(false, OK), (true, REFUSED)]), 1.0);
        assert_eq!(go_dial_pass(&[(false, WRONG), (true, OK)]), 0.0);
        // AAAA first, refused: the IPv4 fallback starts at once and passes.
        assert_eq!(go_dial_pass(&[(true, REFUSED), (false, OK)]), 1.0);
        // AAAA black-holed: after 300 ms the IPv4 racer connects first.
        assert_eq!(go_dial_pass(&[(true, HOLE), (false, OK)]), 1.0);
        // AAAA answers wrongly within 300 ms: IPv4 never gets a chance.
        assert_eq!(go_dial_pass(&[(true, WRONG), (false, OK)]), 0.0);
        // Half the AAAA connections refused, half answering 404; IPv4 good: p = 0.5.
        assert!(
            (go_dial_pass(&[(true, odds(0.0, 0.5, 0.5, 0.0)), (false, OK)]) - 0.5).abs() < 1e-12
        );
        assert_eq!(go_dial_pass(&[]), 0.0);
    }

    #[test]
    fn winners() {
        let (a, b) = (ip("2001:db8::99"), ip("203.0.113.10"));
        assert_eq!(
            go_dial_winner(&[(a, false, false), (b, true, false)]),
            Some(b)
        );
        assert_eq!(
            go_dial_winner(&[(a, true, false), (b, true, false)]),
            Some(a)
        );
        assert_eq!(
            go_dial_winner(&[(a, false, true), (b, true, false)]),
            Some(b)
        );
        assert_eq!(
            go_dial_winner(&[(a, false, false), (b, false, false)]),
            None
        );
    }

    #[test]
    fn sources_are_asked_of_the_kernel() {
        // Loopback always has a route to itself.
        assert_eq!(source_for(ip("127.0.0.1")), Some(ip("127.0.0.1")));
    }
}
