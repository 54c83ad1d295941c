//! The renewal screen (`kubectl acmecheck renewals` without `--replay`): findings for a name
//! that has no live challenge, from probes of its challenge path with a random token that no
//! solver serves (`ChallengeEvidence::screen`).
//!
//! What a screen can prove: with no solver, nothing passes, so the screen judges *who answers*:
//! each answer is attributed to the data planes that give the same answer (status, responder
//! fingerprint) when the probe pod asks them directly ([`util`]). The name is at risk when
//! some answers come from a data plane that would not carry the solver's route
//! ([`wrong_data_plane`]), or when it does not resolve or takes no connection ([`no_answer`]);
//! it passes the screen when every answer from both vantages is the solver's data plane's and
//! no other data plane answers alike; anything else is inconclusive ([`verdict`]): replay to be
//! sure.

use super::finding::Finding;
use super::view::Vantages;

mod no_answer;
mod util;
mod verdict;
mod wrong_data_plane;

type Rule = fn(&Vantages, &util::Facts) -> Vec<Finding>;

/// The screen's rules, in order.
const RULES: &[Rule] = &[
    no_answer::no_answer,
    wrong_data_plane::wrong_data_plane,
    verdict::verdict,
];

/// The findings for one screened name.
pub fn findings(c: &Vantages) -> Vec<Finding> {
    let facts = util::facts(c);
    RULES.iter().flat_map(|r| r(c, &facts)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::finding::{Code, Severity};
    use super::super::vantages::testdata::*;
    use super::*;
    use crate::evidence::{ChallengeEvidence, ClusterEvidence};
    use crate::probe::Probes;
    use crate::probe::incluster::InCluster;
    use crate::probe::plan::{CaProfile, ErrorClass, TargetReport};

    fn screened() -> ChallengeEvidence {
        let mut c = nginx_solver(ch());
        c.screen = true;
        c.solver_pods.clear();
        c.presented = true;
        c.processing = true;
        c.state = "pending".into();
        c
    }

    fn planes() -> Vec<crate::probe::plan::DirectResult> {
        vec![
            direct(
                NGINX_SVC,
                "198.51.100.10:80",
                vec![status(404, "nginx", 20)],
            ),
            gateway_404(),
        ]
    }

    fn run_with(
        l: Option<&TargetReport>,
        i: Option<&TargetReport>,
        cl: &ClusterEvidence,
    ) -> Vec<Finding> {
        let ch = screened();
        let ic = InCluster::NotRequested;
        findings(&Vantages {
            ch: &ch,
            local: l,
            inside: i,
            in_cluster: &ic,
            cluster: cl,
            ca: CaProfile::Pebble,
        })
    }

    fn run(l: Option<&TargetReport>, i: Option<&TargetReport>) -> Vec<Finding> {
        run_with(l, i, &cluster_nginx_class())
    }

    fn codes(f: &[Finding]) -> Vec<Code> {
        f.iter().map(|f| f.code).collect()
    }

    fn both(outcomes: Vec<crate::probe::plan::OutcomeCount>) -> (TargetReport, TargetReport) {
        (
            local(vec![addr(EDGE, outcomes.clone())]),
            inside(vec![addr(EDGE, outcomes)], planes()),
        )
    }

    #[test]
    fn the_solvers_data_plane_answers_everywhere_passes_the_screen() {
        let (l, i) = both(vec![status(404, "nginx", 20)]);
        let f = run(Some(&l), Some(&i));
        assert_eq!(codes(&f), [Code::ScreenPassed]);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(
            f[0].summary.contains("all 40 answers") && f[0].summary.contains("ingress-nginx"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e.contains("(would carry the solver's route)"))
        );
    }

    #[test]
    fn another_data_plane_answering_puts_the_renewal_at_risk() {
        let (l, i) = both(vec![status(404, "envoy", 20)]);
        let f = run(Some(&l), Some(&i));
        assert_eq!(codes(&f), [Code::WrongDataPlane]);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            f[0].summary.starts_with("renewal at risk: traffic for shop.example.test reaches gateway infra/public (cilium), not ingress-nginx"),
            "{}",
            f[0].summary
        );
        // Some connections only: mixed backends.
        let (l, i) = both(vec![status(404, "nginx", 10), status(404, "envoy", 10)]);
        let f = run(Some(&l), Some(&i));
        assert_eq!(codes(&f), [Code::MixedBackends]);
        assert!(
            f[0].summary.contains("20 of 40 fresh connections"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn what_the_screen_cannot_tell_is_unknown() {
        // No probe pod: nobody asked the data planes directly.
        let (l, _) = both(vec![status(404, "nginx", 20)]);
        let f = run(Some(&l), None);
        assert_eq!(codes(&f), [Code::ScreenInconclusive]);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].summary.contains("only one vantage"),
            "{}",
            f[0].summary
        );
        // Both data planes answer alike.
        let (l, mut i) = both(vec![status(404, "nginx", 20)]);
        i.direct[1] = direct(GW_SVC, "198.51.100.20:80", vec![status(404, "nginx", 20)]);
        let f = run(Some(&l), Some(&i));
        assert_eq!(codes(&f), [Code::ScreenInconclusive]);
        assert!(f[0].summary.contains("give alike"), "{}", f[0].summary);
        // An answer no data plane gives (a CDN, an old server).
        let (l, i) = both(vec![status(404, "apache", 20)]);
        assert_eq!(codes(&run(Some(&l), Some(&i))), [Code::ScreenInconclusive]);
        // A redirect.
        let mut o = status(404, "nginx", 20);
        o.redirect_chain = vec!["308 https://shop.example.test/".into()];
        let (l, i) = both(vec![o]);
        assert_eq!(codes(&run(Some(&l), Some(&i))), [Code::ScreenInconclusive]);
    }

    #[test]
    fn a_name_the_connection_cap_left_unprobed_is_unknown_never_ok() {
        let (mut l, mut i) = both(vec![status(404, "nginx", 20)]);
        for t in [&mut l, &mut i] {
            t.addresses[0].outcomes.clear();
            t.addresses[0].attempts = 0;
            t.addresses[0].capped = true;
        }
        let f = run(Some(&l), Some(&i));
        assert_eq!(codes(&f), [Code::ScreenInconclusive]);
        assert!(
            f[0].summary.contains("--max-connections-per-address"),
            "{}",
            f[0].summary
        );
        // The data planes' direct probes capped: nothing to attribute the answers to.
        let (l, mut i) = both(vec![status(404, "nginx", 20)]);
        for d in &mut i.direct {
            d.outcomes.clear();
            d.attempts = 0;
            d.capped = true;
        }
        let f = run(Some(&l), Some(&i));
        assert_eq!(codes(&f), [Code::ScreenInconclusive]);
        assert!(
            f[0].summary.contains("connection cap for 198.51.100.10:80"),
            "{}",
            f[0].summary
        );
    }

    /// This machine's own resolver cannot answer (probe::health): the failed lookup is not the
    /// name's, so no DNS finding; the screen cannot tell from that vantage.
    #[test]
    fn a_vantage_whose_resolver_fails_says_nothing_about_the_name() {
        use crate::probe::plan::{ResolverHealth, ResolverState, VantageHealth};
        let mut nx = report("system", &[], vec![]);
        nx.dns.resolvers[0].error = Some(ErrorClass::DnsTimeout);
        nx.health = Some(VantageHealth {
            vantage: "local".into(),
            resolvers: vec![ResolverHealth {
                resolver: "system".into(),
                state: ResolverState::Unreachable,
                ..Default::default()
            }],
            ..Default::default()
        });
        let (_, i) = both(vec![status(404, "nginx", 20)]);
        let f = run(Some(&nx), Some(&i));
        assert_eq!(codes(&f), [Code::ScreenInconclusive], "{f:#?}");
        assert!(
            !f[0].summary.contains("only one vantage"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn no_name_or_no_connection_is_at_risk() {
        let nx = report("system", &[], vec![]);
        let (_, i) = both(vec![status(404, "nginx", 20)]);
        let f = run(Some(&nx), Some(&i));
        assert_eq!(codes(&f), [Code::DnsNotReady]);
        assert!(
            f[0].summary.contains("from this machine (dns_nxdomain)"),
            "{}",
            f[0].summary
        );
        let dead = local(vec![addr(EDGE, vec![err(ErrorClass::ConnectTimeout, 20)])]);
        assert_eq!(codes(&run(Some(&dead), Some(&i))), [Code::InboundBlocked]);
        let (l, _) = both(vec![status(404, "nginx", 20)]);
        let dead_inside = inside(
            vec![addr(EDGE, vec![err(ErrorClass::ConnectTimeout, 20)])],
            planes(),
        );
        assert_eq!(
            codes(&run(Some(&l), Some(&dead_inside))),
            [Code::HairpinUnreachable]
        );
    }

    /// An address this machine has no route to (no IPv6 here) is its own trouble: never
    /// INBOUND_BLOCKED for the name, while the addresses it reaches still count.
    #[test]
    fn an_address_this_machine_cannot_route_to_says_nothing_about_the_name() {
        let mut v6 = addr(
            "2001:db8::10",
            vec![err(ErrorClass::NetworkUnreachable, 20)],
        );
        v6.unroutable = true;
        let (mut l, i) = both(vec![status(404, "nginx", 20)]);
        l.addresses.push(v6);
        let f = run(Some(&l), Some(&i));
        assert_eq!(codes(&f), [Code::ScreenInconclusive], "{f:#?}");
        assert!(
            f[0].summary
                .contains("this machine has no route to 2001:db8::10"),
            "{}",
            f[0].summary
        );
        // A reachable address that takes no connection is still the name's.
        let mut dead = local(vec![addr(EDGE, vec![err(ErrorClass::ConnectTimeout, 20)])]);
        let mut v6 = addr(
            "2001:db8::10",
            vec![err(ErrorClass::NetworkUnreachable, 20)],
        );
        v6.unroutable = true;
        dead.addresses.push(v6);
        assert_eq!(codes(&run(Some(&dead), Some(&i))), [Code::InboundBlocked]);
    }

    /// Through the entry point: a screened name gets the screen's findings only (no failing
    /// self check, no UNEXPLAINED_FAILURE for a token that nothing is meant to serve).
    #[test]
    fn diagnose_judges_screened_names_by_the_screen_only() {
        let mut gw = both(vec![status(404, "envoy", 20)]);
        let mut ok = both(vec![status(404, "nginx", 20)]);
        let a = screened();
        let mut b = screened();
        b.name = "web-2".into();
        for (t, id) in [
            (&mut gw.0, "shop/web-1"),
            (&mut gw.1, "shop/web-1"),
            (&mut ok.0, "shop/web-2"),
            (&mut ok.1, "shop/web-2"),
        ] {
            t.id = id.into();
        }
        let cert = ready_certificate("shop", vec![a, b]);
        let probes = Probes {
            enabled: true,
            local: [(gw.0.id.clone(), gw.0), (ok.0.id.clone(), ok.0)]
                .into_iter()
                .collect(),
            in_cluster: ran_all(vec![gw.1, ok.1]),
        };
        let cl = cluster_nginx_class();
        let d = crate::diagnose::diagnose(&crate::diagnose::Evidence {
            cert: &cert,
            cluster: &cl,
            probes: &probes,
        });
        let got: Vec<(Code, Option<&str>)> = d
            .findings
            .iter()
            .map(|f| (f.code, f.challenge.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Code::WrongDataPlane, Some("web-1")),
                (Code::ScreenPassed, Some("web-2"))
            ],
            "{:#?}",
            d.findings
        );
    }
}
