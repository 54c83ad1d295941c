//! Vantage health: what a vantage can observe at all, checked before what it observed counts
//! (issue #14: a vantage's own trouble is not the domain's).
//!
//! * **Resolvers** — every resolver the vantage uses (the self check's: the plan's nameservers
//!   or the system resolver; and the system resolver when that is another one) is asked for
//!   names that must exist (the Issuer's ACME server; for this machine also the API server's
//!   host). One that does not answer them at all, refuses them or fails for them cannot answer
//!   for the challenge's name either: then a failed lookup of that name says nothing about the
//!   name's DNS, and the vantage's verdicts become `unknown` ([`qualify`]).
//! * **Routes** — for each address family, the source address the kernel picks for a global
//!   destination (the ACME server's address of that family when known, else a root name
//!   server's), with a UDP "connect" that sends nothing, as Go's `srcAddrs` does. Linux answers
//!   `ENETUNREACH` without a route, and `EADDRNOTAVAIL` (or an unspecified source) when it has
//!   a route but no address of the family.
//! * **Proxy** — the one the vantage must use: the controller's `HTTP(S)_PROXY` given in the
//!   plan (a TCP connect to it), or the one this machine's environment names (recorded only:
//!   the probe connects directly, as the CA does).
//!
//! Runs beside the targets; never fails: what could not be checked is in the report.

use super::dns::{self, Source};
use super::plan::{
    ErrorClass, NameCheck, ProbeOptions, ProxyHealth, ResolverAnswer, ResolverHealth,
    ResolverState, RouteHealth, TargetReport, VantageHealth, VerdictOutcome,
};
use super::proxy;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// a.root-servers.net (IANA root zone): a global destination of each family, asked about only
/// when the ACME server has no address of that family. No packet is sent to it.
const ANCHOR_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 41, 0, 4));
const ANCHOR_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0x503, 0xba3e, 0, 0, 0, 2, 0x30));

/// How long a TCP connect to the plan's proxy may take.
const PROXY_CONNECT: Duration = Duration::from_secs(3);

/// The vantage's check, when the plan asks for it (`options.health`).
pub async fn check(opts: &ProbeOptions, checked_at: &str) -> Option<VantageHealth> {
    let plan = opts.health.as_ref()?;
    let names: Vec<&str> = plan
        .names
        .iter()
        .map(String::as_str)
        .filter(|n| !n.is_empty() && n.parse::<IpAddr>().is_err())
        .collect();
    let mut sources = Vec::new();
    match dns::parse_servers(&opts.nameservers) {
        Ok(s) if !s.is_empty() => {
            sources.push(Source::Servers(s));
            sources.push(Source::System);
        }
        _ => sources.push(Source::System),
    }
    let resolvers = futures::future::join_all(sources.iter().map(|s| resolver(s, &names))).await;
    let routes = [ANCHOR_V4, ANCHOR_V6]
        .into_iter()
        .map(|anchor| route(anchor, &resolvers))
        .collect();
    Some(VantageHealth {
        vantage: opts.vantage.clone().unwrap_or_else(|| "local".to_owned()),
        checked_at: checked_at.to_owned(),
        resolvers,
        routes,
        proxy: proxy_health(opts).await,
    })
}

async fn resolver(source: &Source, names: &[&str]) -> ResolverHealth {
    let answers =
        futures::future::join_all(names.iter().map(|n| dns::resolve(n, source, "health"))).await;
    let names: Vec<NameCheck> = names
        .iter()
        .zip(answers)
        .map(|(n, a)| NameCheck {
            name: (*n).to_owned(),
            addresses: a.a.iter().chain(&a.aaaa).cloned().collect(),
            error: a.error,
            detail: a.detail,
        })
        .collect();
    ResolverHealth {
        resolver: source.label(),
        servers: match source {
            Source::System => dns::system_servers(),
            Source::Servers(s) => s.iter().map(ToString::to_string).collect(),
        },
        state: state_of(&names),
        names,
    }
}

/// The resolver's state from its answers for names that must exist: one resolved name is
/// enough; otherwise the most telling failure.
pub fn state_of(names: &[NameCheck]) -> ResolverState {
    if names.is_empty() {
        return ResolverState::NotChecked;
    }
    if names.iter().any(|n| !n.addresses.is_empty()) {
        return ResolverState::Answers;
    }
    let errors: Vec<ErrorClass> = names.iter().filter_map(|n| n.error).collect();
    let any = |c: ErrorClass| errors.contains(&c);
    if any(ErrorClass::DnsRefused) {
        ResolverState::Refuses
    } else if any(ErrorClass::DnsServfail) {
        ResolverState::Fails
    } else if errors
        .iter()
        .all(|e| matches!(e, ErrorClass::DnsNxdomain | ErrorClass::DnsNoRecords))
    {
        ResolverState::UnknownNames
    } else {
        ResolverState::Unreachable
    }
}

/// The route of `anchor`'s family, asked for the first address of that family the resolvers
/// returned for the names that must exist (else for `anchor`).
fn route(anchor: IpAddr, resolvers: &[ResolverHealth]) -> RouteHealth {
    let destination = resolvers
        .iter()
        .flat_map(|r| &r.names)
        .flat_map(|n| &n.addresses)
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .find(|a| a.is_ipv6() == anchor.is_ipv6())
        .unwrap_or(anchor);
    let (source, error) = match source_for(destination) {
        Ok(src) => (Some(src.to_string()), None),
        Err(e) => (None, Some(e)),
    };
    RouteHealth {
        family: if anchor.is_ipv6() { "ipv6" } else { "ipv4" }.to_owned(),
        destination: destination.to_string(),
        source,
        error,
    }
}

/// The source address the kernel picks for `ip` (a UDP "connect" to port 9; nothing is
/// sent), or why there is none, in the words of the errno.
pub fn source_for(ip: IpAddr) -> Result<IpAddr, String> {
    let bind = match ip {
        IpAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        IpAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    };
    let socket = std::net::UdpSocket::bind(bind).map_err(|e| errno_words(&e))?;
    socket
        .connect(SocketAddr::new(ip, 9))
        .map_err(|e| errno_words(&e))?;
    let local = socket.local_addr().map_err(|e| errno_words(&e))?.ip();
    if local.is_unspecified() {
        return Err("no source address".to_owned());
    }
    Ok(local)
}

fn errno_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NetworkUnreachable => "network is unreachable".to_owned(),
        std::io::ErrorKind::AddrNotAvailable => "no source address".to_owned(),
        std::io::ErrorKind::HostUnreachable => "no route to host".to_owned(),
        // EAFNOSUPPORT: the family is off in this kernel or namespace.
        _ if e.raw_os_error() == Some(97) => "no source address".to_owned(),
        _ => e.to_string(),
    }
}

/// The plan's proxy for the challenge URL (`http://`, so `HTTP_PROXY`), with a TCP connect to
/// it; else the one this machine's environment names, recorded only.
async fn proxy_health(opts: &ProbeOptions) -> Option<ProxyHealth> {
    if let Some(settings) = opts.proxy.as_ref().filter(|_| opts.proxy_unknown.is_none()) {
        let value = settings.http.as_deref().or(settings.https.as_deref())?;
        let p = proxy::parse_proxy(value)?;
        let target = format!("{}:{}", p.host, p.port);
        let connect = tokio::time::timeout(PROXY_CONNECT, tokio::net::TcpStream::connect(&target));
        let (reached, error) = match connect.await {
            Ok(Ok(_)) => (true, None),
            Ok(Err(e)) => (false, Some(e.to_string())),
            Err(_) => (
                false,
                Some(format!("no connection within {}s", PROXY_CONNECT.as_secs())),
            ),
        };
        return Some(ProxyHealth {
            proxy: p.display(),
            source: "plan".into(),
            reached: Some(reached),
            error,
        });
    }
    if opts.vantage.as_deref() == Some("in-cluster") {
        return None;
    }
    ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .and_then(|v| proxy::parse_proxy(&v))
        .map(|p| ProxyHealth {
            proxy: p.display(),
            source: "environment".into(),
            reached: None,
            error: None,
        })
}

/// Whether the vantage's own resolver explains a failed lookup of the challenge's name:
/// `health` is that resolver's check (None: not checked), `error` the lookup's class.
pub fn resolver_explains(health: Option<&ResolverHealth>, error: ErrorClass) -> bool {
    match health.map(|h| h.state) {
        Some(ResolverState::Unreachable | ResolverState::Refuses | ResolverState::Fails) => true,
        // A resolver that knows none of the names that must exist does not know public names.
        Some(ResolverState::UnknownNames) => true,
        // No server could even be asked: the vantage's, whatever the name.
        _ => error == ErrorClass::DnsUnreachable,
    }
}

/// Why a failed lookup of the challenge's name is this vantage's own trouble, if it is: its
/// resolver's state explains it, or (from this machine) the resolver refused this one name,
/// which is its policy, not the domain's DNS. From the probe pod a refusal of the name alone
/// stays a failure: the controller asks the same resolver.
pub fn own_trouble(answer: &ResolverAnswer, health: &VantageHealth) -> Option<String> {
    let error = answer.error?;
    let vantage = health.vantage.as_str();
    let h = health.resolver(&answer.resolver);
    let here = if vantage == "in-cluster" {
        "the probe pod"
    } else {
        "this machine"
    };
    if resolver_explains(h, error) {
        let state = h.map_or(ResolverState::NotChecked, |h| h.state);
        let asked = h
            .map(|h| {
                h.names
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let what = match state {
            ResolverState::Refuses => {
                format!("{here}'s resolver refuses names that must exist ({asked})")
            }
            ResolverState::Fails => {
                format!("{here}'s resolver fails for names that must exist ({asked})")
            }
            ResolverState::UnknownNames => {
                format!("{here}'s resolver does not know names that must exist ({asked})")
            }
            ResolverState::Unreachable => format!("{here} reaches no DNS resolver"),
            _ => format!("{here} could ask no DNS server ({error})"),
        };
        return Some(what);
    }
    if error == ErrorClass::DnsRefused && vantage != "in-cluster" {
        return Some(format!(
            "{here}'s resolver refuses to answer for this name (its policy)"
        ));
    }
    None
}

/// Verdicts of a vantage that could not look: when the challenge's name gave no address and
/// the vantage's own resolver explains it, both verdicts are `unknown`, with the reason.
pub fn qualify(report: &mut TargetReport, health: &VantageHealth) {
    if !report.addresses.is_empty() || report.dns.ip_literal {
        return;
    }
    let Some(answer) = report.dns.resolvers.iter().find(|r| r.role == "primary") else {
        return;
    };
    let Some(why) = own_trouble(answer, health) else {
        return;
    };
    for v in [&mut report.verdicts.self_check, &mut report.verdicts.acme] {
        v.outcome = VerdictOutcome::Unknown;
        v.pass_probability = 0.0;
        v.per_request_pass = 0.0;
        v.rotation = None;
        v.basis = format!(
            "not observable from here: {why}; the lookup of {} ({}) says nothing about its DNS",
            report.dns_name,
            answer.error.map_or("no address", ErrorClass::as_str)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::plan::{DnsReport, HealthPlan, Verdict, Verdicts};

    fn name(error: Option<ErrorClass>, addresses: &[&str]) -> NameCheck {
        NameCheck {
            name: "acme-v02.api.letsencrypt.org".into(),
            addresses: addresses.iter().map(|s| s.to_string()).collect(),
            error,
            detail: vec![],
        }
    }

    #[test]
    fn a_resolver_is_judged_by_names_that_must_exist() {
        use ErrorClass::*;
        assert_eq!(state_of(&[]), ResolverState::NotChecked);
        assert_eq!(
            state_of(&[name(Some(DnsTimeout), &[]), name(None, &["192.0.2.41"])]),
            ResolverState::Answers
        );
        assert_eq!(
            state_of(&[name(Some(DnsRefused), &[])]),
            ResolverState::Refuses
        );
        assert_eq!(
            state_of(&[name(Some(DnsServfail), &[])]),
            ResolverState::Fails
        );
        assert_eq!(
            state_of(&[name(Some(DnsNxdomain), &[]), name(Some(DnsNoRecords), &[])]),
            ResolverState::UnknownNames
        );
        for e in [DnsTimeout, DnsUnreachable, DnsError] {
            assert_eq!(
                state_of(&[name(Some(e), &[])]),
                ResolverState::Unreachable,
                "{e}"
            );
        }
    }

    fn health(state: ResolverState, vantage: &str) -> VantageHealth {
        VantageHealth {
            vantage: vantage.into(),
            checked_at: "2026-12-06T04:00:00Z".into(),
            resolvers: vec![ResolverHealth {
                resolver: "system".into(),
                servers: vec!["192.0.2.53:53".into()],
                state,
                names: vec![name(None, &[])],
            }],
            ..Default::default()
        }
    }

    fn failed(error: ErrorClass) -> TargetReport {
        let fail = Verdict {
            outcome: VerdictOutcome::Fail,
            ..Default::default()
        };
        TargetReport {
            dns_name: "shop.example.test".into(),
            dns: DnsReport {
                resolvers: vec![ResolverAnswer {
                    resolver: "system".into(),
                    role: "primary".into(),
                    error: Some(error),
                    ..Default::default()
                }],
                ..Default::default()
            },
            verdicts: Verdicts {
                self_check: fail.clone(),
                acme: fail,
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_vantage_that_cannot_look_gives_unknown_verdicts() {
        use ErrorClass::*;
        // The resolver answers names that must exist: a SERVFAIL or a timeout for the
        // challenge's name is along its delegation; the verdicts stand.
        for e in [DnsServfail, DnsTimeout, DnsNxdomain] {
            let mut r = failed(e);
            qualify(&mut r, &health(ResolverState::Answers, "local"));
            assert_eq!(r.verdicts.self_check.outcome, VerdictOutcome::Fail, "{e}");
        }
        // It answers nothing, refuses or fails for names that must exist: unknown.
        for s in [
            ResolverState::Unreachable,
            ResolverState::Refuses,
            ResolverState::Fails,
        ] {
            for vantage in ["local", "in-cluster"] {
                let mut r = failed(DnsTimeout);
                qualify(&mut r, &health(s, vantage));
                assert_eq!(r.verdicts.acme.outcome, VerdictOutcome::Unknown, "{s:?}");
                assert!(
                    r.verdicts
                        .self_check
                        .basis
                        .starts_with("not observable from here: "),
                    "{}",
                    r.verdicts.self_check.basis
                );
            }
        }
        let mut r = failed(DnsTimeout);
        qualify(&mut r, &health(ResolverState::Unreachable, "local"));
        assert!(
            r.verdicts
                .acme
                .basis
                .contains("this machine reaches no DNS resolver"),
            "{}",
            r.verdicts.acme.basis
        );
        // REFUSED for the name alone: this machine's resolver policy, but from the probe pod
        // the controller asks the same resolver, so it is a failure there.
        let mut r = failed(DnsRefused);
        qualify(&mut r, &health(ResolverState::Answers, "local"));
        assert_eq!(r.verdicts.self_check.outcome, VerdictOutcome::Unknown);
        let mut r = failed(DnsRefused);
        qualify(&mut r, &health(ResolverState::Answers, "in-cluster"));
        assert_eq!(r.verdicts.self_check.outcome, VerdictOutcome::Fail);
        // No server could be asked at all: the vantage's, also without a health check of it.
        let mut r = failed(DnsUnreachable);
        qualify(&mut r, &health(ResolverState::NotChecked, "local"));
        assert_eq!(r.verdicts.self_check.outcome, VerdictOutcome::Unknown);
        // A name that resolved keeps its verdicts, whatever the resolver's state.
        let mut r = failed(DnsTimeout);
        r.addresses.push(Default::default());
        qualify(&mut r, &health(ResolverState::Unreachable, "local"));
        assert_eq!(r.verdicts.self_check.outcome, VerdictOutcome::Fail);
    }

    #[test]
    fn routes_name_the_source_or_the_errno() {
        assert_eq!(
            source_for(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        let none = std::io::Error::from(std::io::ErrorKind::NetworkUnreachable);
        assert_eq!(errno_words(&none), "network is unreachable");
        let none = std::io::Error::from_raw_os_error(99); // EADDRNOTAVAIL
        assert_eq!(errno_words(&none), "no source address");
    }

    #[tokio::test]
    async fn no_plan_no_health_and_no_names_not_checked() {
        let opts = ProbeOptions::default();
        assert_eq!(check(&opts, "t").await, None);
        let opts = ProbeOptions {
            health: Some(HealthPlan { names: vec![] }),
            vantage: Some("in-cluster".into()),
            ..Default::default()
        };
        let h = check(&opts, "2026-12-06T04:00:00Z").await.unwrap();
        assert_eq!(h.checked_at, "2026-12-06T04:00:00Z");
        assert_eq!(h.resolvers.len(), 1);
        assert_eq!(h.resolvers[0].state, ResolverState::NotChecked);
        assert_eq!(
            h.routes
                .iter()
                .map(|r| r.family.as_str())
                .collect::<Vec<_>>(),
            ["ipv4", "ipv6"]
        );
        assert_eq!(h.proxy, None);
    }
}
