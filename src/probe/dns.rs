//! DNS: A, AAAA and the CNAME chain, from the system resolver or from explicit `ip:port`
//! nameservers (cert-manager's `--acme-http01-solver-nameservers`), recorded per resolver.

use super::http::Url;
use super::plan::{
    DNS_ORDER_LOOKUPS, DnsReport, DnsSample, ErrorClass, ProbeOptions, ResolverAnswer,
};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use std::net::IpAddr;
use std::net::SocketAddr;
use std::time::Duration;
use std::time::Instant;

/// Which resolver to ask.
#[derive(Debug, Clone)]
pub enum Source {
    /// `/etc/resolv.conf` (search list and ndots apply, as for the self check).
    System,
    /// These `ip:port` servers, first first.
    Servers(Vec<SocketAddr>),
}

impl Source {
    pub fn label(&self) -> String {
        match self {
            Source::System => "system".to_owned(),
            Source::Servers(s) => format!(
                "nameservers {}",
                s.iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

/// Parse `ip:port` (or a bare ip, port 53) nameserver strings.
pub fn parse_servers(list: &[String]) -> Result<Vec<SocketAddr>, String> {
    list.iter()
        .map(|s| {
            s.parse::<SocketAddr>()
                .or_else(|_| {
                    s.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, 53))
                })
                .map_err(|_| format!("invalid nameserver {s:?}: want ip:port"))
        })
        .collect()
}

fn build(source: &Source) -> Result<TokioResolver, String> {
    let mut builder = match source {
        Source::System => {
            TokioResolver::builder_tokio().map_err(|e| format!("reading /etc/resolv.conf: {e}"))?
        }
        Source::Servers(servers) => {
            let ns = servers
                .iter()
                .map(|a| {
                    let conns = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
                        .into_iter()
                        .map(|mut c| {
                            c.port = a.port();
                            c
                        })
                        .collect();
                    NameServerConfig::new(a.ip(), true, conns)
                })
                .collect();
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(ns),
                TokioRuntimeProvider::default(),
            )
        }
    };
    let opts: &mut ResolverOpts = builder.options_mut();
    // A fresh answer every time: the self check does a fresh lookup per attempt.
    opts.cache_size = 0;
    opts.timeout = Duration::from_secs(3);
    opts.attempts = 2;
    builder.build().map_err(|e| e.to_string())
}

/// The class of a failed lookup, from what hickory reports (`hickory-net` `NetError`,
/// `DnsError::from_response`): the rcode when a server answered (NXDOMAIN, NOERROR without data,
/// REFUSED, SERVFAIL and the other error rcodes), no answer in time, or no server that could be
/// asked at all (`NoConnections`: the pool had no connection to use; an I/O error that refuses or
/// cannot route the query). hickory's pool stops at the first REFUSED or SERVFAIL
/// (`name_server_pool.rs` `try_send`), so one answer decides.
pub fn classify(e: &NetError) -> ErrorClass {
    match e {
        NetError::Dns(DnsError::NoRecordsFound(nr)) => {
            if nr.response_code == ResponseCode::NXDomain {
                ErrorClass::DnsNxdomain
            } else {
                ErrorClass::DnsNoRecords
            }
        }
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => ErrorClass::DnsRefused,
        NetError::Dns(DnsError::ResponseCode(_)) => ErrorClass::DnsServfail,
        NetError::Timeout => ErrorClass::DnsTimeout,
        NetError::NoConnections => ErrorClass::DnsUnreachable,
        NetError::Io(io) if unreachable_io(io.kind()) => ErrorClass::DnsUnreachable,
        _ => {
            let s = e.to_string().to_ascii_lowercase();
            if s.contains("timed out") || s.contains("timeout") {
                ErrorClass::DnsTimeout
            } else {
                ErrorClass::DnsError
            }
        }
    }
}

/// I/O errors that mean the query could not be sent to (or was refused by) the server's
/// address: nothing about the name.
fn unreachable_io(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        kind,
        ConnectionRefused
            | ConnectionReset
            | NetworkUnreachable
            | HostUnreachable
            | AddrNotAvailable
            | NotConnected
    )
}

/// Resolve `name` (A, AAAA, CNAME chain) with one resolver.
pub async fn resolve(name: &str, source: &Source, role: &str) -> ResolverAnswer {
    let mut answer = ResolverAnswer {
        resolver: source.label(),
        role: role.to_owned(),
        ..Default::default()
    };
    let resolver = match build(source) {
        Ok(r) => r,
        Err(e) => {
            // Nothing to ask (no `nameserver` line, or resolv.conf unreadable): Go would fall
            // back to 127.0.0.1:53 and ::1 (`dnsconfig_unix.go` `defaultNS`); either way no
            // resolver answers for this vantage.
            answer.error = Some(
                if e.contains("no nameservers") || e.contains("resolv.conf") {
                    ErrorClass::DnsUnreachable
                } else {
                    ErrorClass::DnsError
                },
            );
            answer.detail.push(e);
            return answer;
        }
    };
    let (a, aaaa) = tokio::join!(
        resolver.lookup(name, RecordType::A),
        resolver.lookup(name, RecordType::AAAA)
    );
    let mut errors = Vec::new();
    for (rt, res) in [("A", a), ("AAAA", aaaa)] {
        match res {
            Ok(lookup) => {
                for record in lookup.answers() {
                    match &record.data {
                        RData::A(ip) => answer.a.push(ip.to_string()),
                        RData::AAAA(ip) => answer.aaaa.push(ip.to_string()),
                        RData::CNAME(target) => {
                            let t = target.to_string();
                            let t = t.trim_end_matches('.').to_owned();
                            if !answer.cname.contains(&t) {
                                answer.cname.push(t);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Err(e) => {
                let class = classify(&e);
                answer.detail.push(format!("{rt}: {}: {e}", class.as_str()));
                errors.push(class);
            }
        }
    }
    answer.a.dedup();
    answer.aaaa.dedup();
    if answer.a.is_empty() && answer.aaaa.is_empty() {
        // The most telling error: an answer about the name (NXDOMAIN, SERVFAIL, REFUSED) over
        // no answer (timeouts, no server to ask) over "no records".
        let order = [
            ErrorClass::DnsNxdomain,
            ErrorClass::DnsServfail,
            ErrorClass::DnsRefused,
            ErrorClass::DnsTimeout,
            ErrorClass::DnsUnreachable,
            ErrorClass::DnsError,
            ErrorClass::DnsNoRecords,
        ];
        answer.error = order
            .into_iter()
            .find(|c| errors.contains(c))
            .or(Some(ErrorClass::DnsNoRecords));
    }
    answer
}

/// The first `nameserver` of `/etc/resolv.conf` as `ip:53`: the server Go's resolver names in
/// its errors (`lookup <host> on <server>: no such host`), also when cert-manager's own
/// `Resolver.Dial` sends the query elsewhere.
pub fn system_server() -> String {
    system_servers()
        .into_iter()
        .next()
        .unwrap_or_else(|| "127.0.0.1:53".to_owned())
}

/// Every `nameserver` of `/etc/resolv.conf` as `ip:53`, in order (empty when there is none or
/// the file cannot be read).
pub fn system_servers() -> Vec<String> {
    std::fs::read_to_string("/etc/resolv.conf")
        .map(|t| {
            t.lines()
                .filter_map(|l| {
                    let mut w = l.split_whitespace();
                    (w.next() == Some("nameserver"))
                        .then(|| w.next())
                        .flatten()
                        .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
                        .map(|ip| SocketAddr::new(ip, 53).to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Go's words for a failed lookup of `host` (`net.DNSError`), as a dial reports it.
pub fn go_lookup_error(host: &str, class: ErrorClass) -> String {
    let what = match class {
        ErrorClass::DnsNxdomain | ErrorClass::DnsNoRecords => "no such host",
        // Go prints one text for every error rcode (`dnsclient_unix.go` `checkHeader`).
        ErrorClass::DnsServfail | ErrorClass::DnsRefused => "server misbehaving",
        ErrorClass::DnsTimeout | ErrorClass::DnsUnreachable => "i/o timeout",
        _ => "no such host",
    };
    format!("dial tcp: lookup {host} on {}: {what}", system_server())
}

/// A and AAAA of `host` for a dial (A first), or the class and Go's text of the failure.
pub async fn lookup_ips(
    host: &str,
    source: &Source,
) -> Result<Vec<std::net::IpAddr>, (ErrorClass, String)> {
    let answer = resolve(host, source, "dial").await;
    let ips: Vec<std::net::IpAddr> = answer
        .a
        .iter()
        .chain(&answer.aaaa)
        .filter_map(|s| s.parse().ok())
        .collect();
    if ips.is_empty() {
        let class = answer.error.unwrap_or(ErrorClass::DnsNoRecords);
        return Err((class, go_lookup_error(host, class)));
    }
    Ok(ips)
}

/// Stop sampling after this long (a slow resolver shortens the record).
const SAMPLING_BUDGET: Duration = Duration::from_secs(5);

/// DNS for a target: the resolver the self check uses first, then comparison resolvers, then
/// [`DNS_ORDER_LOOKUPS`] more lookups with the first one (every validator looks the name up
/// for every request). Returns the addresses to probe with the resolvers that returned them.
pub async fn resolve_target(
    url: &Url,
    opts: &ProbeOptions,
    dns_report: &mut DnsReport,
) -> Vec<(IpAddr, Vec<String>)> {
    dns_report.system_server = system_server();
    let mut addresses: Vec<(IpAddr, Vec<String>)> = Vec::new();
    if let Ok(ip) = url.host.parse::<IpAddr>() {
        dns_report.ip_literal = true;
        addresses.push((ip, vec!["literal".to_owned()]));
        return addresses;
    }
    let mut sources = Vec::new();
    match parse_servers(&opts.nameservers) {
        Ok(s) if !s.is_empty() => sources.push((Source::Servers(s), "primary")),
        Ok(_) => sources.push((Source::System, "primary")),
        Err(e) => dns_report.resolvers.push(ResolverAnswer {
            resolver: opts.nameservers.join(","),
            role: "primary".into(),
            error: Some(ErrorClass::DnsError),
            detail: vec![e],
            ..Default::default()
        }),
    }
    for ns in &opts.compare_nameservers {
        match parse_servers(std::slice::from_ref(ns)) {
            Ok(s) => sources.push((Source::Servers(s), "compare")),
            Err(e) => dns_report.resolvers.push(ResolverAnswer {
                resolver: ns.clone(),
                role: "compare".into(),
                error: Some(ErrorClass::DnsError),
                detail: vec![e],
                ..Default::default()
            }),
        }
    }
    let answers =
        futures::future::join_all(sources.iter().map(|(s, role)| resolve(&url.host, s, role)))
            .await;
    for answer in answers {
        for ip in answer.a.iter().chain(&answer.aaaa) {
            let Ok(ip) = ip.parse::<IpAddr>() else {
                continue;
            };
            match addresses.iter_mut().find(|(a, _)| *a == ip) {
                Some((_, by)) => by.push(answer.resolver.clone()),
                None => addresses.push((ip, vec![answer.resolver.clone()])),
            }
        }
        dns_report.resolvers.push(answer);
    }
    let Some((source, role)) = sources.first().filter(|(_, role)| *role == "primary") else {
        return addresses;
    };
    let several = dns_report
        .resolvers
        .iter()
        .any(|r| r.role == "primary" && (r.a.len() > 1 || r.aaaa.len() > 1));
    let started = Instant::now();
    for _ in 0..DNS_ORDER_LOOKUPS {
        // A slow resolver shortens the record (then no rotation is concluded).
        if started.elapsed() > SAMPLING_BUDGET {
            break;
        }
        let again = resolve(&url.host, source, role).await;
        // An address seen only now is probed too (the answer changes between lookups).
        for ip in again.a.iter().chain(&again.aaaa) {
            if let Ok(ip) = ip.parse::<IpAddr>()
                && !addresses.iter().any(|(a, _)| *a == ip)
            {
                addresses.push((ip, vec![again.resolver.clone()]));
            }
        }
        if several {
            let first = |v: &[String]| v.first().cloned().unwrap_or_default();
            dns_report.first_a.push(first(&again.a));
            dns_report.first_aaaa.push(first(&again.aaaa));
        }
        dns_report.samples.push(DnsSample {
            error: again
                .error
                .filter(|_| again.a.is_empty() && again.aaaa.is_empty()),
            a: again.a,
            aaaa: again.aaaa,
        });
    }
    addresses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameserver_strings() {
        let s = parse_servers(&[
            "192.0.2.53:5353".into(),
            "[2001:db8::53]:53".into(),
            "198.51.100.1".into(),
        ])
        .unwrap();
        assert_eq!(s[0].port(), 5353);
        assert!(s[1].is_ipv6());
        assert_eq!(s[2].port(), 53);
        assert!(parse_servers(&["dns.example".into()]).is_err());
    }
}
