//! The probe's DNS error classes and its vantage health, from real resolver behaviour (issue
//! 14): dnsmasq in a lab namespace configured to refuse (no records, no upstream: dnsmasq 2.90
//! answers REFUSED), to forward to a dead server (it never answers what it must forward), and
//! to answer NXDOMAIN for the challenge's name (`--address=/<name>/`); an on-link address where
//! nothing listens; a server of a family the namespace has no route for. The engine's own DNS
//! code (`probe::dns::resolve`, `probe::health::check`) runs inside the lab's client namespace.
//! Each resolver also knows (or refuses) the ACME server's name, the name that must exist.
//! Needs root.

use acmecheck_testkit::lab::{self, ACME_HOST, ACME_V4, DNS_NAME, Lab};
use kubectl_acmecheck::probe::dns::{self, Source};
use kubectl_acmecheck::probe::health;
use kubectl_acmecheck::probe::plan::{
    ErrorClass, HealthPlan, ProbeOptions, ResolverAnswer, ResolverHealth, ResolverState,
};
use std::net::SocketAddr;

const REFUSING: &str = "192.0.2.61";
const DEAD_FORWARDER: &str = "192.0.2.62";
const NXDOMAIN: &str = "192.0.2.63";
/// On-link in the lab, owned by no host: queries are dropped unanswered.
const NOBODY: &str = "192.0.2.98";

/// The client namespace and three dnsmasq resolvers in a host of their own.
fn resolvers() -> Option<(Lab, String)> {
    if lab::skip_without_root("the resolver lab") {
        return None;
    }
    let mut lab = Lab::new().unwrap();
    lab.client().unwrap();
    let ns = lab
        .host("resolvers", &[REFUSING, DEAD_FORWARDER, NXDOMAIN])
        .unwrap();
    lab.dnsmasq(&ns, REFUSING, &[], None).unwrap();
    lab.dnsmasq(&ns, DEAD_FORWARDER, &[(ACME_HOST, ACME_V4)], Some(NOBODY))
        .unwrap();
    let nx = format!("--address=/{DNS_NAME}/");
    lab.dnsmasq_with(&ns, NXDOMAIN, &[(ACME_HOST, ACME_V4)], None, &[&nx])
        .unwrap();
    Some((lab, ns))
}

fn server(ip: &str) -> SocketAddr {
    format!("{ip}:53").parse().unwrap()
}

/// What the engine's resolver answers for `name` from `server`, and that server's health (the
/// ACME server's name asked as the name that must exist), from inside namespace `ns`.
fn ask(ns: &str, server: SocketAddr, name: &'static str) -> (ResolverAnswer, ResolverHealth) {
    acmecheck_testkit::proc::in_netns(ns, move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let answer = dns::resolve(name, &Source::Servers(vec![server]), "primary").await;
            let opts = ProbeOptions {
                nameservers: vec![server.to_string()],
                health: Some(HealthPlan {
                    names: vec![ACME_HOST.to_owned()],
                }),
                ..Default::default()
            };
            let h = health::check(&opts, "2026-12-06T04:38:00Z").await.unwrap();
            let r = h
                .resolvers
                .iter()
                .find(|r| r.resolver == answer.resolver)
                .cloned()
                .unwrap_or_else(|| panic!("no health for {}: {h:#?}", answer.resolver));
            (answer, r)
        })
    })
    .unwrap()
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn refused_is_the_resolvers_policy_not_servfail() {
    let Some((lab, _)) = resolvers() else { return };
    let (a, h) = ask(&lab.client, server(REFUSING), DNS_NAME);
    assert_eq!(a.error, Some(ErrorClass::DnsRefused), "{a:#?}");
    assert!(a.a.is_empty() && a.aaaa.is_empty());
    // It refuses the name that must exist too: the resolver refuses this client.
    assert_eq!(h.state, ResolverState::Refuses, "{h:#?}");
    assert!(health::resolver_explains(Some(&h), ErrorClass::DnsRefused));
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn a_dead_forwarder_times_out_while_the_resolver_answers_what_it_has() {
    let Some((lab, _)) = resolvers() else { return };
    let (a, h) = ask(&lab.client, server(DEAD_FORWARDER), DNS_NAME);
    assert_eq!(a.error, Some(ErrorClass::DnsTimeout), "{a:#?}");
    // The ACME server's name resolves: the resolver works, the failure is along the name's
    // path (what DNS_BROKEN means), not this vantage's.
    assert_eq!(h.state, ResolverState::Answers, "{h:#?}");
    assert_eq!(h.names[0].addresses, [ACME_V4]);
    assert!(!health::resolver_explains(Some(&h), ErrorClass::DnsTimeout));
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn nxdomain_is_a_missing_name() {
    let Some((lab, _)) = resolvers() else { return };
    let (a, h) = ask(&lab.client, server(NXDOMAIN), DNS_NAME);
    assert_eq!(a.error, Some(ErrorClass::DnsNxdomain), "{a:#?}");
    assert_eq!(h.state, ResolverState::Answers, "{h:#?}");
    assert!(!health::resolver_explains(
        Some(&h),
        ErrorClass::DnsNxdomain
    ));
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn nobody_at_the_resolver_address_is_this_vantages_trouble() {
    let Some((lab, ns)) = resolvers() else { return };
    // Nothing listens there: no answer at all, for any name.
    let (a, h) = ask(&lab.client, server(NOBODY), DNS_NAME);
    assert!(
        matches!(
            a.error,
            Some(ErrorClass::DnsTimeout | ErrorClass::DnsUnreachable)
        ),
        "{a:#?}"
    );
    assert_eq!(h.state, ResolverState::Unreachable, "{h:#?}");
    assert!(health::resolver_explains(Some(&h), a.error.unwrap()));
    // A server of a family this namespace has no route for (the resolvers' host has IPv4
    // only): the query cannot even be sent.
    let v6: SocketAddr = "[2001:db8::53]:53".parse().unwrap();
    let (a, h) = ask(&ns, v6, DNS_NAME);
    assert_eq!(a.error, Some(ErrorClass::DnsUnreachable), "{a:#?}");
    assert_eq!(h.state, ResolverState::Unreachable, "{h:#?}");
}
