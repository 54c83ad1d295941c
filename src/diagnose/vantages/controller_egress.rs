//! SELFCHECK_EGRESS_BLOCKED for the controller only: the probe pod passes with the controller's
//! resolvers and proxy, but cert-manager's own self check reports a connection timeout. When
//! the reason is younger than one check cycle it may predate a change (CONTROLLER_DISAGREES
//! says so instead); otherwise the controller has kept failing while the pod passes.

use super::util::{cm_names, passes_all, pod_where, witness};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantages;
use crate::reason::{self, ConnectionClass, Reason};

/// The probe pod passes with the controller's resolvers and proxy, but cert-manager's own
/// self check reports a connection timeout: only the controller's pods are cut off.
pub(crate) fn egress_blocked_for_the_controller_only(c: &Vantages) -> Vec<Finding> {
    let Some(inside) = c.inside else {
        return vec![];
    };
    let Some(Reason::ConnectionFailed {
        class: ConnectionClass::Timeout | ConnectionClass::Unreachable,
        detail,
        ..
    }) = c.ch.reason.as_deref().and_then(reason::parse)
    else {
        return vec![];
    };
    if inside.addresses.is_empty() || !inside.addresses.iter().all(passes_all) {
        return vec![];
    }
    let time = witness(c).map(|w| w.time);
    if time.as_ref().and_then(|t| t.rechecked()) == Some(false) {
        return vec![];
    }
    let (ns, deploy) = cm_names(c.cluster);
    let pod = pod_where(c.in_cluster);
    let mut f = Finding::new(
        Code::SelfcheckEgressBlocked,
        Severity::Error,
        Proof::Proves,
        format!(
            "{pod}, with the controller's resolvers and proxy settings, passes {} of {} requests, but cert-manager's own self check cannot connect: egress from the controller pods is blocked",
            inside.addresses.iter().map(|a| a.cert_manager_passes).sum::<u32>(),
            inside.addresses.iter().map(|a| a.attempts).sum::<u32>()
        ),
    )
    .challenge(&c.ch.name)
    .evidence(format!("Challenge {} reason: {detail}", c.ch.name));
    if let Some(t) = &time {
        f = f.evidence(format!(
            "cert-manager's reason: {}{}",
            t.detail(),
            if t.rechecked() == Some(true) {
                format!(
                    "; it checks again every {} s and rewrites the reason only when it changes, so it has kept failing since",
                    t.cycle_secs
                )
            } else {
                String::new()
            }
        ));
    }
    for a in &inside.addresses {
        f = f.evidence(format!("in cluster: {}  {}", a.address, outcome_summary(a)));
    }
    vec![f.fix(format!(
        "an egress policy selects the controller pods (label app.kubernetes.io/component=controller) but not the probe pod: allow egress TCP 80/443 to {} and UDP/TCP 53 to cluster DNS (kubectl -n {ns} get networkpolicy -o yaml; Helm networkPolicy.egress for deployment {deploy})",
        inside
            .addresses
            .iter()
            .map(|a| a.address.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::{codes, run_on};

    #[test]
    fn the_pod_passes_but_the_controller_times_out() {
        let mut c = ch();
        c.reason = Some(format!(
            "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request '{0}': Get \"{0}\": dial tcp 203.0.113.10:80: i/o timeout",
            c.challenge_url()
        ));
        let l = outside_ok();
        let ic = ran(inside_edge(vec![ok("nginx", 66)], vec![]));
        let f = run_on(&c, Some(&l), &ic, &cluster());
        assert_eq!(codes(&f), [Code::SelfcheckEgressBlocked]);
        assert_eq!(f[0].proof, Proof::Proves);
        assert!(f[0].summary.contains("passes 66 of 66"), "{}", f[0].summary);
        // A 404 reason is not an egress problem: the controller connected (CONTROLLER_DISAGREES
        // says how its view and the pod's differ).
        c.reason = Some(
            "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'"
                .into(),
        );
        let f = run_on(&c, Some(&l), &ic, &cluster());
        assert_eq!(codes(&f), [Code::ControllerDisagrees]);
    }
}
