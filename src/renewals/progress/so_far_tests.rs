//! Fixtures of this machine's target reports: failing from here → counted; this machine's own
//! trouble (its resolver, no route for the family) → not counted; passing → not counted. And
//! the promise of the count: whatever it counts, the diagnosis puts at risk too, whatever the
//! probe pod adds.

use super::*;
use crate::diagnose::vantages::testdata::*;
use crate::evidence::ChallengeEvidence;
use crate::probe::incluster::InCluster;
use crate::probe::perspectives::Day;
use crate::probe::plan::{CaProfile, ResolverState, Verdicts};
use crate::probe::verdict::{self, CaContext};
use ErrorClass::*;

/// `t` with the verdicts the engine gives it (Pebble, this machine or the pod), qualified by
/// its vantage's check when it has one, as `probe::run_plan_observed` hands it over.
fn judged(mut t: TargetReport, in_cluster: bool) -> TargetReport {
    let Ok(day) = Day::parse("2026-12-06") else {
        panic!("day")
    };
    t.ca_profile = CaProfile::Pebble;
    t.verdicts = Verdicts {
        self_check: verdict::self_check(&t, in_cluster),
        acme: verdict::ca(&t, &CaContext::new(CaProfile::Pebble, day)),
    };
    if let Some(h) = t.health.clone() {
        crate::probe::health::qualify(&mut t, &h);
    }
    t
}

fn here(t: TargetReport) -> TargetReport {
    judged(with_health(t, "local", ResolverState::Answers), false)
}

fn here_resolver(t: TargetReport, state: ResolverState) -> TargetReport {
    judged(with_health(t, "local", state), false)
}

/// An address the system resolver returned, probed from here.
fn at(ip: &str, outcomes: Vec<crate::probe::plan::OutcomeCount>) -> AddressReport {
    let mut a = addr(ip, outcomes);
    a.resolved_by = vec!["system".into()];
    a
}

fn unroutable_v6(outcomes: Vec<crate::probe::plan::OutcomeCount>) -> AddressReport {
    let mut a = at("2001:db8::10", outcomes);
    a.family = "ipv6".into();
    a.unroutable = true;
    a
}

/// Token fixtures: (what, report, expected).
fn token_cases() -> Vec<(&'static str, TargetReport, Option<Fails>)> {
    vec![
        (
            "another server answers 404",
            here(local(vec![at(EDGE, vec![status(404, "envoy", 20)])])),
            Some(Fails::KeyNotServed),
        ),
        (
            "half the connections reach the solver",
            here(local(vec![addr(
                EDGE,
                vec![ok("nginx", 10), status(404, "envoy", 10)],
            )])),
            Some(Fails::KeyNotServed),
        ),
        (
            "port 80 takes no connection",
            here(local(vec![at(EDGE, vec![err(ConnectTimeout, 20)])])),
            Some(Fails::KeyNotServed),
        ),
        (
            "NXDOMAIN from a resolver that answers names that must exist",
            here(unresolved(DnsNxdomain)),
            Some(Fails::KeyNotServed),
        ),
        (
            "the key is served",
            here(local(vec![at(EDGE, vec![ok("nginx", 20)])])),
            None,
        ),
        (
            "this machine reaches no resolver",
            here_resolver(unresolved(DnsTimeout), ResolverState::Unreachable),
            None,
        ),
        (
            "this machine's resolver refuses names that must exist",
            here_resolver(unresolved(DnsRefused), ResolverState::Refuses),
            None,
        ),
        (
            "no IPv6 route here for the name's only address",
            here(local(vec![unroutable_v6(vec![err(
                NetworkUnreachable,
                20,
            )])])),
            None,
        ),
        (
            "an AAAA this machine cannot reach beside a failing A",
            here(local(vec![
                at(EDGE, vec![status(404, "envoy", 20)]),
                unroutable_v6(vec![err(NetworkUnreachable, 20)]),
            ])),
            None,
        ),
    ]
}

/// Screen fixtures: a random token nobody serves, so no answer ever passes.
fn screen_cases() -> Vec<(&'static str, TargetReport, Option<Fails>)> {
    vec![
        (
            "NXDOMAIN from a resolver that answers names that must exist",
            here(unresolved(DnsNxdomain)),
            Some(Fails::NoAddress),
        ),
        (
            "SERVFAIL for the name alone",
            here(unresolved(DnsServfail)),
            Some(Fails::NoAddress),
        ),
        (
            "port 80 takes no connection",
            here(local(vec![at(EDGE, vec![err(ConnectTimeout, 20)])])),
            Some(Fails::NoConnection),
        ),
        (
            "one address of two refuses every connection",
            here(local(vec![
                at(EDGE, vec![status(404, "nginx", 20)]),
                at("203.0.113.11", vec![err(ConnectRefused, 20)]),
            ])),
            Some(Fails::NoConnection),
        ),
        (
            "404 from someone: who it is needs the probe pod's direct probes",
            here(local(vec![at(EDGE, vec![status(404, "envoy", 20)])])),
            None,
        ),
        (
            "some connections answer",
            here(local(vec![addr(
                EDGE,
                vec![status(404, "nginx", 10), err(ConnectTimeout, 10)],
            )])),
            None,
        ),
        (
            "this machine reaches no resolver",
            here_resolver(unresolved(DnsTimeout), ResolverState::Unreachable),
            None,
        ),
        (
            "this machine's resolver does not know names that must exist",
            here_resolver(unresolved(DnsNxdomain), ResolverState::UnknownNames),
            None,
        ),
        (
            "no IPv6 route here",
            here(local(vec![
                at(EDGE, vec![status(404, "nginx", 20)]),
                unroutable_v6(vec![err(NetworkUnreachable, 20)]),
            ])),
            None,
        ),
    ]
}

#[test]
fn a_name_probed_with_a_token_counts_when_the_ca_validation_fails_from_here() {
    for (what, t, want) in token_cases() {
        assert_eq!(fails_from_here(&t, Checked::Token), want, "{what}: {t:#?}");
    }
}

#[test]
fn a_screened_name_counts_when_it_has_no_address_or_takes_no_connection() {
    for (what, t, want) in screen_cases() {
        assert_eq!(fails_from_here(&t, Checked::Screen), want, "{what}: {t:#?}");
    }
}

/// Without the vantage's check (a plan of an earlier version): only a lookup that could ask no
/// server is surely this machine's.
#[test]
fn without_a_health_check_only_no_server_asked_is_this_machines() {
    let t = judged(unresolved(DnsUnreachable), false);
    assert_eq!(fails_from_here(&t, Checked::Screen), None);
    let t = judged(unresolved(DnsNxdomain), false);
    assert_eq!(fails_from_here(&t, Checked::Screen), Some(Fails::NoAddress));
}

fn live(name: &str, dns_name: &str, screen: bool) -> ChallengeEvidence {
    let mut c = nginx_solver(ch());
    c.name = name.into();
    c.dns_name = dns_name.into();
    c.presented = true;
    c.processing = true;
    c.state = "pending".into();
    c.screen = screen;
    if screen {
        c.solver_pods.clear();
    }
    c
}

fn with_id(mut t: TargetReport, id: &str, dns_name: &str) -> TargetReport {
    t.id = id.into();
    t.dns_name = dns_name.into();
    t
}

#[test]
fn the_count_is_of_names_and_their_certificates_and_every_finished_name_is_done() {
    let certs = vec![
        ready_certificate(
            "shop",
            vec![
                live("web-1", "shop.example.test", false),
                live("web-2", "www.shop.example.test", true),
            ],
        ),
        ready_certificate("blog", vec![live("blog-1", "blog.example.test", true)]),
        ready_certificate("docs", vec![live("docs-1", "docs.example.test", true)]),
    ];
    let so_far = SoFar::new(&certs, 4);
    assert_eq!(
        so_far.counts(),
        Counts {
            done: 0,
            total: 4,
            names_at_risk: 0,
            certificates_at_risk: 0
        }
    );
    let failing = || here(local(vec![at(EDGE, vec![status(404, "envoy", 20)])]));
    let dead = || here(local(vec![at(EDGE, vec![err(ConnectTimeout, 20)])]));
    // shop: the live challenge fails from here, and its screened name takes no connection.
    so_far.observe(&with_id(failing(), "shop/web-1", "shop.example.test"));
    so_far.observe(&with_id(dead(), "shop/web-2", "www.shop.example.test"));
    // blog: a 404 on the screen's random token is not a failure from here.
    so_far.observe(&with_id(failing(), "blog/blog-1", "blog.example.test"));
    assert_eq!(
        so_far.counts(),
        Counts {
            done: 3,
            total: 4,
            names_at_risk: 2,
            certificates_at_risk: 1
        }
    );
    // docs: this machine reaches no resolver; its failed lookup is not the name's.
    let own = here_resolver(unresolved(DnsTimeout), ResolverState::Unreachable);
    so_far.observe(&with_id(own, "docs/docs-1", "docs.example.test"));
    // A report the plan did not name is done, never judged.
    so_far.observe(&with_id(dead(), "other/x", "x.example.test"));
    assert_eq!(
        so_far.counts(),
        Counts {
            done: 5,
            total: 4,
            names_at_risk: 2,
            certificates_at_risk: 1
        }
    );
}

/// What the count says is at risk, the diagnosis says too (an error finding about the name's
/// challenge: the renewals report's `at risk`), from this machine's report alone and with a
/// probe pod whose view passes.
#[test]
fn whatever_is_counted_the_diagnosis_puts_at_risk_whatever_the_pod_adds() {
    let cases = token_cases()
        .into_iter()
        .map(|c| (false, c))
        .chain(screen_cases().into_iter().map(|c| (true, c)));
    let cluster = cluster_nginx_class();
    let mut checked = 0;
    for (screen, (what, t, want)) in cases {
        if want.is_none() {
            continue;
        }
        let ch = live("web-1", NAME, screen);
        let cert = ready_certificate("shop", vec![ch]);
        let t = with_id(t, "shop/web-1", NAME);
        let pod = if screen {
            inside(
                vec![at(EDGE, vec![status(404, "nginx", 20)])],
                vec![nginx_serves(), gateway_404()],
            )
        } else {
            inside(vec![at(EDGE, vec![ok("nginx", 20)])], vec![])
        };
        let pod = with_id(
            judged(with_health(pod, "in-cluster", ResolverState::Answers), true),
            "shop/web-1",
            NAME,
        );
        for in_cluster in [InCluster::NotRequested, ran(pod)] {
            let probes = crate::probe::Probes {
                enabled: true,
                local: [(t.id.clone(), t.clone())].into_iter().collect(),
                in_cluster,
            };
            let d = crate::diagnose::diagnose(&crate::diagnose::Evidence {
                cert: &cert,
                cluster: &cluster,
                probes: &probes,
            });
            assert!(
                d.findings
                    .iter()
                    .any(|f| f.severity == crate::diagnose::Severity::Error
                        && f.challenge.as_deref() == Some("web-1")),
                "{what} (screen: {screen}): counted, but the diagnosis has no error: {:#?}",
                d.findings
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * (4 + 4));
}
