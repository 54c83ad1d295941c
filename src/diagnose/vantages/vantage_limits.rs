//! NOT_CHECKED for what a vantage could not observe (issue 14: a vantage's own trouble is not
//! the domain's). Each vantage checks itself first (`probe::health`): when its resolver reaches
//! no server, refuses or fails for names that must exist, or knows no public name, its failed
//! lookup of the challenge's name says nothing about that name, its verdicts are `unknown`,
//! and this says which view is missing and why. From this machine (the CA's side) also the
//! addresses it has no route or source address for. Limitations, never findings about the
//! domain.

use super::util::cm_names;
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantages;
use crate::probe::health::own_trouble;
use crate::probe::plan::{
    ResolverAnswer, ResolverHealth, ResolverState, TargetReport, VantageHealth,
};

fn primary(t: &TargetReport) -> Option<&ResolverAnswer> {
    t.dns.resolvers.iter().find(|a| a.role == "primary")
}

/// `resolver system (192.0.2.98:53): unreachable — pebble.lab.example.test: dns_timeout`.
fn resolver_line(r: &ResolverHealth) -> String {
    let servers = if r.servers.is_empty() {
        "no nameserver configured".to_owned()
    } else {
        r.servers.join(", ")
    };
    let names: Vec<String> = r
        .names
        .iter()
        .map(|n| match (n.addresses.first(), n.error) {
            (Some(a), _) => format!("{}: {a}", n.name),
            (None, Some(e)) => format!("{}: {e}", n.name),
            (None, None) => format!("{}: no address", n.name),
        })
        .collect();
    format!(
        "resolver {} ({servers}): {} — {}",
        r.resolver,
        r.state.as_str(),
        if names.is_empty() {
            "no name asked".to_owned()
        } else {
            names.join("; ")
        }
    )
}

fn env_proxy_line(h: &VantageHealth) -> Option<String> {
    h.proxy.as_ref().filter(|p| p.source == "environment").map(|p| {
        format!(
            "this machine's environment names a proxy ({}): the probe does not use it, it connects directly as the CA does",
            p.proxy
        )
    })
}

pub(crate) fn vantage_limits(c: &Vantages) -> Vec<Finding> {
    let host = &c.ch.dns_name;
    let mut out = Vec::new();
    for (inside, t) in [(false, c.local), (true, c.inside)] {
        let Some(t) = t else { continue };
        let Some(h) = &t.health else { continue };
        let view = if inside {
            "the in-cluster view (the self check's side)"
        } else {
            "the outside view (the CA's side)"
        };
        if let Some(ans) = primary(t)
            && let Some(why) = own_trouble(ans, h)
        {
            let mut f = Finding::new(
                Code::NotChecked,
                Severity::Info,
                Proof::Supports,
                format!(
                    "{why}: {view} of {host} is missing; its lookup of {host} failed ({}), which says nothing about {host}'s DNS, and its verdicts are unknown",
                    ans.error.map_or("no address", |e| e.as_str())
                ),
            )
            .challenge(&c.ch.name);
            for r in &h.resolvers {
                f = f.evidence(resolver_line(r));
            }
            for d in &ans.detail {
                f = f.evidence(format!("lookup of {host}: {d}"));
            }
            if let Some(line) = env_proxy_line(h) {
                f = f.evidence(line);
            }
            let names: Vec<&str> = h
                .resolvers
                .iter()
                .flat_map(|r| &r.names)
                .map(|n| n.name.as_str())
                .collect();
            let probe_name = names.first().copied().unwrap_or(host.as_str());
            let fix = if inside {
                let (ns, _) = cm_names(c.cluster);
                format!(
                    "check the cluster DNS from the controller's namespace: kubectl -n {ns} run dnscheck --rm -it --restart=Never --image=busybox -- nslookup {probe_name}; the controller uses the same resolver settings as the probe pod, so its own reason tells whether it fails the same way"
                )
            } else if h.resolvers.iter().any(|r| {
                r.state == ResolverState::Refuses || r.state == ResolverState::UnknownNames
            }) {
                format!(
                    "this machine's resolver does not answer for public names (a VPN's or an internal resolver): run from a machine that resolves them, or ask a public resolver by hand: dig @1.1.1.1 +trace {host} A; curl -sv {}",
                    c.ch.challenge_url()
                )
            } else {
                format!(
                    "give this machine a DNS resolver it can reach (/etc/resolv.conf names {}), or run from another machine; by hand from outside: dig +trace {host} A; curl -sv {}",
                    h.resolvers
                        .iter()
                        .find(|r| r.resolver == "system")
                        .map(|r| r.servers.join(", "))
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "no nameserver".to_owned()),
                    c.ch.challenge_url()
                )
            };
            out.push(f.fix(fix));
        }
        if inside {
            // The pod's missing routes are the controller's too when it runs beside it; the
            // self-check verdict already dials as Go does (an address without a route fails
            // at once, the next one is tried).
            continue;
        }
        let unroutable: Vec<&str> = t
            .addresses
            .iter()
            .filter(|a| a.unroutable)
            .map(|a| a.address.as_str())
            .collect();
        if unroutable.is_empty() {
            continue;
        }
        let v6 = unroutable.iter().any(|a| a.contains(':'));
        let family = if v6 { "ipv6" } else { "ipv4" };
        let mut f = Finding::new(
            Code::NotChecked,
            Severity::Info,
            Proof::Supports,
            format!(
                "this machine has no route or no source address for {}: {} of {host} could not be probed from here, so the CA's view of {} is not observed (the CA reaches addresses this machine cannot)",
                if v6 { "IPv6" } else { "IPv4" },
                unroutable.join(", "),
                if unroutable.len() > 1 { "them" } else { "it" }
            ),
        )
        .challenge(&c.ch.name);
        for r in h.routes.iter().filter(|r| r.family == family) {
            f = f.evidence(format!(
                "route check ({}, asked for {}): {}",
                r.family,
                r.destination,
                match (&r.source, &r.error) {
                    (Some(s), _) => format!("source {s}"),
                    (None, Some(e)) => e.clone(),
                    (None, None) => "no source".to_owned(),
                }
            ));
        }
        out.push(f.fix(format!(
            "probe from a machine with {} connectivity: curl -{} -sv {}",
            if v6 { "IPv6" } else { "IPv4" },
            if v6 { "6" } else { "4" },
            c.ch.challenge_url()
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::run;
    use crate::probe::incluster::InCluster;
    use crate::probe::plan::ErrorClass;

    fn limits(local: Option<&TargetReport>, ic: &InCluster) -> Vec<Finding> {
        run(local, ic, &cluster())
            .into_iter()
            .filter(|f| f.code == Code::NotChecked)
            .collect()
    }

    fn no_pod() -> InCluster {
        InCluster::NotRequested
    }

    #[test]
    fn a_machine_without_a_resolver_says_the_outside_view_is_missing() {
        let l = with_health(
            unresolved(ErrorClass::DnsTimeout),
            "local",
            ResolverState::Unreachable,
        );
        let f = limits(Some(&l), &no_pod());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].summary.starts_with(
                "this machine reaches no DNS resolver: the outside view (the CA's side) of shop.example.test is missing"
            ),
            "{}",
            f[0].summary
        );
        assert_eq!(
            f[0].evidence[0],
            "resolver system (192.0.2.98:53): unreachable — pebble.lab.example.test: dns_timeout"
        );
        assert!(
            f[0].fix.starts_with("give this machine a DNS resolver"),
            "{}",
            f[0].fix
        );
        // A refusing resolver: its policy, and the fix says so.
        let l = with_health(
            unresolved(ErrorClass::DnsRefused),
            "local",
            ResolverState::Refuses,
        );
        let f = limits(Some(&l), &no_pod());
        assert!(
            f[0].summary.starts_with(
                "this machine's resolver refuses names that must exist (pebble.lab.example.test)"
            ),
            "{}",
            f[0].summary
        );
        assert!(f[0].fix.contains("dig @1.1.1.1 +trace"), "{}", f[0].fix);
        // The probe pod's resolver: the in-cluster view; the controller's reason decides.
        let i = with_health(
            unresolved(ErrorClass::DnsTimeout),
            "in-cluster",
            ResolverState::Unreachable,
        );
        let f = limits(None, &ran(i));
        assert!(
            f[0].summary
                .starts_with("the probe pod reaches no DNS resolver: the in-cluster view"),
            "{}",
            f[0].summary
        );
        // A resolver that answers names that must exist: the failure is the name's.
        let l = with_health(
            unresolved(ErrorClass::DnsTimeout),
            "local",
            ResolverState::Answers,
        );
        assert!(limits(Some(&l), &no_pod()).is_empty());
        // Without a health check (an older probe), nothing is concluded.
        assert!(limits(Some(&unresolved(ErrorClass::DnsTimeout)), &no_pod()).is_empty());
    }

    #[test]
    fn addresses_this_machine_cannot_route_are_not_observed() {
        let mut a = addr(
            "2001:db8::10",
            vec![err(ErrorClass::NetworkUnreachable, 20)],
        );
        a.family = "ipv6".into();
        a.unroutable = true;
        let l = with_health(
            local(vec![addr(EDGE, vec![ok("nginx", 20)]), a]),
            "local",
            ResolverState::Answers,
        );
        let f = limits(Some(&l), &no_pod());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].summary.starts_with(
                "this machine has no route or no source address for IPv6: 2001:db8::10"
            ),
            "{}",
            f[0].summary
        );
    }
}
