//! Findings from comparing vantage points: this machine (local) and the probe pod inside the
//! cluster (where cert-manager's self check runs), plus the pod's direct probes of every data
//! plane and of the solver. Pure functions over [`TargetReport`]s and the cluster evidence.
//!
//! The local view stands in for the CA's (outside) view; the in-cluster view for the self
//! check's. Each rule names the numbers it saw per vantage and the objects to change.
//! One file per finding code (or a few closely related ones); [`findings`] runs them in order.
//! The attribution lines ([`attribution`]), live evidence over API state ([`live_evidence`])
//! and what could not be checked ([`not_checked`]) are called by the walk in
//! `diagnose/mod.rs`; the general finding that keeps failures from going unexplained
//! ([`unexplained`]) by its final step (`rank::finish`).

use super::finding::Finding;
use super::view::Vantages;
use crate::evidence::{ChallengeEvidence, ClusterEvidence};
use crate::probe::incluster::InCluster;
use crate::probe::plan::{CaProfile, TargetReport};

pub mod acme_unreachable;
pub mod after_failure;
pub mod attribution;
pub mod backend_pinned;
pub mod controller_egress;
pub mod controller_view;
pub mod hairpin_or_egress;
pub mod ip_allowlist;
pub mod live_evidence;
pub mod not_checked;
pub mod proxy_protocol;
pub mod selfcheck_via_proxy;
pub mod solver_unanswered;
pub mod split_horizon;
#[cfg(test)]
pub(crate) mod testdata;
pub mod unexplained;
pub mod util;
pub mod vantage_limits;
pub mod wrong_data_plane;
pub mod wrong_data_plane_local;

type Rule = fn(&Vantages) -> Vec<Finding>;

/// The rules, in the order their findings are most useful when severities tie.
pub(crate) const RULES: &[Rule] = &[
    split_horizon::split_horizon,
    hairpin_or_egress::hairpin_or_egress,
    acme_unreachable::acme_unreachable,
    controller_egress::egress_blocked_for_the_controller_only,
    controller_view::controller_disagrees,
    ip_allowlist::ip_allowlist,
    proxy_protocol::proxy_protocol_mismatch,
    selfcheck_via_proxy::selfcheck_via_proxy,
    backend_pinned::backend_pinned_by_source,
    wrong_data_plane::wrong_data_plane,
    wrong_data_plane_local::wrong_data_plane_by_responder,
    solver_unanswered::solver_unanswered,
    after_failure::after_failure,
    vantage_limits::vantage_limits,
];

/// The cross-vantage findings for one challenge: `local` is this machine's report, `inside`
/// the probe pod's report for the same challenge (`InCluster::target`), `in_cluster` the run of
/// the pod as a whole (placement, or why it did not run).
pub fn findings(
    ch: &ChallengeEvidence,
    local: Option<&TargetReport>,
    inside: Option<&TargetReport>,
    in_cluster: &InCluster,
    cluster: &ClusterEvidence,
    profile: CaProfile,
) -> Vec<Finding> {
    let ctx = Vantages {
        ch,
        local,
        inside,
        in_cluster,
        cluster,
        ca: profile,
    };
    RULES.iter().flat_map(|r| r(&ctx)).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::testdata::*;
    use super::*;
    use crate::diagnose::finding::{Code, Proof, Severity};

    pub(crate) fn run(
        local: Option<&TargetReport>,
        ic: &InCluster,
        cl: &ClusterEvidence,
    ) -> Vec<Finding> {
        run_on(&ch(), local, ic, cl)
    }

    /// [`run`] for the challenge `c`.
    pub(crate) fn run_on(
        c: &ChallengeEvidence,
        local: Option<&TargetReport>,
        ic: &InCluster,
        cl: &ClusterEvidence,
    ) -> Vec<Finding> {
        findings(c, local, pod_report(ic), ic, cl, CaProfile::Pebble)
    }

    /// One rule alone on the challenge `c`, as [`run_on`] runs them all.
    pub(crate) fn rule_on(
        rule: Rule,
        c: &ChallengeEvidence,
        local: Option<&TargetReport>,
        ic: &InCluster,
        cl: &ClusterEvidence,
    ) -> Vec<Finding> {
        rule(&Vantages {
            ch: c,
            local,
            inside: pod_report(ic),
            in_cluster: ic,
            cluster: cl,
            ca: CaProfile::Pebble,
        })
    }

    /// The pod's report for `ch()`, looked up by its id as `run::build_report` does.
    pub(crate) fn pod_report(ic: &InCluster) -> Option<&TargetReport> {
        ic.target("shop/web-1")
    }

    pub(crate) fn codes(f: &[Finding]) -> Vec<Code> {
        f.iter().map(|f| f.code).collect()
    }

    /// Every finding's code, severity and proof.
    pub(crate) fn graded(f: &[Finding]) -> Vec<(Code, Severity, Proof)> {
        f.iter().map(|f| (f.code, f.severity, f.proof)).collect()
    }

    /// The first finding's code and proof.
    pub(crate) fn first(f: &[Finding]) -> (Code, Proof) {
        (f[0].code, f[0].proof)
    }

    #[test]
    fn healthy_from_both_sides_has_no_cross_vantage_finding() {
        let l = outside_ok();
        let i = inside_edge(
            vec![ok("nginx", 66)],
            vec![
                nginx_serves(),
                direct(SOLVER_SVC, "198.51.100.30:8089", vec![ok("acmesolver", 20)]),
            ],
        );
        assert!(run(Some(&l), &ran(i), &cluster()).is_empty());
        // No in-cluster view: nothing to compare.
        assert!(run(Some(&l), &InCluster::NotRequested, &cluster()).is_empty());
    }

    /// endpoints-not-ready (reviewer): cert-manager got 503 and the API shows the solver
    /// Service without a ready endpoint, which is what ingress-nginx and Envoy answer then;
    /// the pod passes now. CONTROLLER_DISAGREES names that, and the fix is the pod's readiness.
    #[test]
    fn a_503_with_no_ready_endpoint_is_named() {
        let mut c = ch();
        c.reason = Some(
            "Waiting for HTTP-01 challenge propagation: wrong status code '503', expected '200'"
                .into(),
        );
        c.solver_services = vec![crate::evidence::ServiceEvidence {
            namespace: "shop".into(),
            name: "cm-acme-http-solver-svc".into(),
            not_ready_endpoints: 1,
            ..Default::default()
        }];
        let l = outside_ok();
        let ic = ran(inside_edge(vec![ok("nginx", 20)], vec![nginx_serves()]));
        let pod = pod_report(&ic);
        let f = findings(&c, Some(&l), pod, &ic, &cluster(), CaProfile::Pebble);
        assert_eq!(codes(&f), [Code::ControllerDisagrees], "{f:#?}");
        assert!(
            f[0].summary.ends_with("a 503 is what ingress-nginx and Envoy answer when the backend has no ready endpoint, and the API shows none (Service shop/cm-acme-http-solver-svc: 0 ready, 1 not ready endpoint(s)); the data plane serves the key now, so either the endpoint became ready after that check (cert-manager will see it within 20 s) or the data plane still routes to a pod the API calls not Ready"),
            "{}",
            f[0].summary
        );
        assert!(f[0].fix.starts_with("see why the solver pod is not Ready (kubectl -n shop get pods,endpointslices -o wide"), "{}", f[0].fix);
        // Another status, or endpoints that are ready: the general wording.
        c.solver_services[0].ready_endpoints = 1;
        let f = findings(&c, Some(&l), pod, &ic, &cluster(), CaProfile::Pebble);
        assert!(
            !f[0].summary.contains("no ready endpoint"),
            "{}",
            f[0].summary
        );
    }
}
