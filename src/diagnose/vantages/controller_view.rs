//! CONTROLLER_DISAGREES: cert-manager's own reason is a witness (issue 14). What its last self
//! check got (`reason::observation`: resolved, connected, answered, the status) and when
//! (`reason::when`), against the probe pod, placed and configured like the controller:
//!
//! * the pod passes, the controller fails (not a connection timeout: that one is
//!   `controller_egress.rs`'s, unless the reason is too young to tell);
//! * the controller got an HTTP answer, the pod could not connect or resolve;
//! * the controller could not resolve the name, the pod resolves it;
//! * the controller could not connect, the pod connects.
//!
//! A reason older than one check cycle has been seen again by the controller since (it writes
//! its status only when it changes), so the difference is the two paths' (proven); a younger
//! one may predate a change, and cert-manager's next check is at most a cycle away. The
//! findings the pod's failure rests on are then contradicted by the controller ([`weigh`]): they
//! rank below what the controller saw and never call themselves the root cause.

use super::util::{
    cm_names, count, facts, from_the_controller_pod, got, no_connection, no_ready_endpoint,
    passes_all, pod_where, witness,
};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantages;
use crate::probe::health::own_trouble;
use crate::probe::plan::{TargetReport, VerdictOutcome};
use crate::reason::{ConnectionClass, Known, Reason};

/// Codes whose finding rests on the probe pod not reaching (or not resolving) the name.
/// (Not INBOUND_BLOCKED: it rests on this machine too, the CA's side, which the controller's
/// answer does not contradict; the symptom is still never its consequence, see rank.rs.)
const REACHABILITY: &[Code] = &[
    Code::HairpinUnreachable,
    Code::SelfcheckEgressBlocked,
    Code::SplitHorizon,
];

/// What the pod saw of the challenge URL, in the terms the controller's reason can contradict.
enum PodSaw {
    Passed { passes: u32, attempts: u32 },
    Answered,
    NoConnection,
    Unresolved(String),
    Nothing,
}

fn pod_saw(inside: &TargetReport) -> PodSaw {
    let attempts: u32 = inside.addresses.iter().map(|a| a.attempts).sum();
    let passes: u32 = inside.addresses.iter().map(|a| a.cert_manager_passes).sum();
    // Every request passed (as controller_egress.rs asks), or the verdict says it passes.
    if attempts > 0
        && (inside.addresses.iter().all(passes_all)
            || inside.verdicts.self_check.outcome == VerdictOutcome::Pass)
    {
        return PodSaw::Passed { passes, attempts };
    }
    if inside.addresses.is_empty() {
        let primary = inside.dns.resolvers.iter().find(|r| r.role == "primary");
        return match primary {
            // The pod's own resolver trouble is a limitation, not an observation.
            Some(a)
                if inside
                    .health
                    .as_ref()
                    .is_some_and(|h| own_trouble(a, h).is_some()) =>
            {
                PodSaw::Nothing
            }
            Some(a) => PodSaw::Unresolved(a.error.map_or("no address", |e| e.as_str()).into()),
            None => PodSaw::Nothing,
        };
    }
    let all_fail_to_connect = inside
        .addresses
        .iter()
        .all(|a| a.attempts > 0 && count(&a.outcomes, no_connection) == a.attempts);
    if all_fail_to_connect {
        PodSaw::NoConnection
    } else if inside
        .addresses
        .iter()
        .any(|a| a.outcomes.iter().any(|o| o.status.is_some()))
    {
        PodSaw::Answered
    } else {
        PodSaw::Nothing
    }
}

pub(crate) fn controller_disagrees(c: &Vantages) -> Vec<Finding> {
    let Some(inside) = c.inside else {
        return vec![];
    };
    let Some(w) = witness(c) else {
        return vec![];
    };
    let o = &w.seen;
    if o.via_proxy {
        // The proxy resolves and connects: nothing to compare about the name.
        return vec![];
    }
    let host = &c.ch.dns_name;
    let pod = pod_where(c.in_cluster);
    let rechecked = w.time.rechecked();
    let connect_timeout = matches!(
        w.reason,
        Reason::ConnectionFailed {
            class: ConnectionClass::Timeout | ConnectionClass::Unreachable,
            ..
        }
    );
    let pod_text = inside
        .addresses
        .iter()
        .map(|a| format!("{} {}", a.address, outcome_summary(a)))
        .collect::<Vec<_>>()
        .join("; ");
    let proven = if rechecked == Some(true) {
        Proof::Proves
    } else {
        Proof::Supports
    };
    let theirs = format!(
        "cert-manager's own self check got {} ({}), {}",
        got(&w.reason),
        w.time.words(),
        facts(o, host)
    );
    // A 503 while the API shows the solver without a ready endpoint is what ingress-nginx
    // ("503 Service Temporarily Unavailable") and Envoy ("no healthy upstream") answer for a
    // backend with no ready endpoint.
    let no_endpoint = no_ready_endpoint(c.ch).filter(|_| o.status == Some(503));
    let saw = pod_saw(inside);
    let passed = matches!(saw, PodSaw::Passed { .. });
    let (summary, proof) = match saw {
        // A timeout the controller keeps seeing is egress blocked for the controller alone
        // (controller_egress.rs); here only when the reason may predate a change.
        PodSaw::Passed { .. } if connect_timeout && rechecked != Some(false) => return vec![],
        PodSaw::Passed { passes, attempts } => {
            let what = format!(
                "{pod}, with the controller's resolvers and proxy settings, passes {passes} of {attempts} requests, but cert-manager's own self check got {} ({})",
                got(&w.reason),
                w.time.words()
            );
            let cycle = w.time.cycle_secs;
            let summary = match (rechecked, &no_endpoint) {
                (_, Some((_, svc))) => format!(
                    "{what}: a 503 is what ingress-nginx and Envoy answer when the backend has no ready endpoint, and the API shows none ({svc}); the data plane serves the key now, so either the endpoint became ready after that check (cert-manager will see it within {cycle} s) or the data plane still routes to a pod the API calls not Ready"
                ),
                (rechecked, None) => match rechecked {
                    Some(false) => format!(
                        "{what}: it has not checked again since; it passes now from the pod, and cert-manager will see that at its next check, within {cycle} s, unless its own path differs"
                    ),
                    Some(true) => format!(
                        "{what} and has kept failing since (it checks every {cycle} s and rewrites its reason only when it changes): the controller's own path differs from the pod's"
                    ),
                    None => format!(
                        "{what}: either the controller's own path differs from the pod's, or the answer changed after its last check"
                    ),
                },
            };
            (summary, proven)
        }
        saw @ (PodSaw::NoConnection | PodSaw::Unresolved(_)) if o.answered == Known::Yes => {
            let pod_failed = match saw {
                PodSaw::Unresolved(e) => format!("could not resolve {host} ({e})"),
                _ => format!("could not connect ({pod_text})"),
            };
            (
                format!(
                    "{theirs}; but {pod} {pod_failed}: the pod's path differs from the controller's, and what the pod could not reach is no finding about the controller"
                ),
                proven,
            )
        }
        PodSaw::Answered if o.resolved == Known::No || o.connected == Known::No => (
            format!(
                "{theirs}; but {pod}, with the controller's resolvers, resolves {host} and connects ({pod_text}): the controller's path differs from the pod's (its node, its DNS settings), or it changed after its last check"
            ),
            proven,
        ),
        PodSaw::NoConnection if o.resolved == Known::No => (
            format!(
                "{theirs}; but {pod}, with the controller's resolvers, resolves {host} (and gets no connection: {pod_text}): the controller's resolver differs from the pod's, or it changed after its last check"
            ),
            proven,
        ),
        _ => return vec![],
    };
    let (ns, deploy) = cm_names(c.cluster);
    let mut f = Finding::new(Code::ControllerDisagrees, Severity::Error, proof, summary)
        .challenge(&c.ch.name)
        .evidence(format!(
            "Challenge {} reason: {}",
            c.ch.name,
            c.ch.reason.as_deref().unwrap_or("")
        ))
        .evidence(format!("cert-manager's reason: {}", w.time.detail()));
    if let Some(sw) = &c.ch.status_written {
        f = f.evidence(format!(
            "dated by the managedFields entry of {} ({}{})",
            sw.manager,
            sw.operation,
            if sw.subresource.is_empty() {
                String::new()
            } else {
                format!(", subresource {}", sw.subresource)
            }
        ));
    }
    for a in &inside.addresses {
        f = f.evidence(format!("in cluster: {}  {}", a.address, outcome_summary(a)));
    }
    if let Some(n) = c
        .cluster
        .cert_manager
        .as_ref()
        .and_then(|m| m.node_name.as_deref())
    {
        f = f.evidence(format!("the controller runs on node {n}"));
    }
    let compare = format!(
        "compare the controller's path with the probe pod's: its node (the pod asks for it, preferably), NetworkPolicies that select the controller's pods but not the pod's (kubectl -n {ns} get networkpolicy), its DNS settings (dnsPolicy, dnsConfig, hostAliases of deployment {deploy}) and proxy variables; {}",
        from_the_controller_pod(c)
    );
    let fix = if let Some((svc_ns, svc)) = no_endpoint.filter(|_| passed) {
        f = f.evidence(svc);
        format!(
            "see why the solver pod is not Ready (kubectl -n {svc_ns} get pods,endpointslices -o wide; the node it runs on), then watch cert-manager's next check: kubectl -n {svc_ns} get challenge {} -w",
            c.ch.name
        )
    } else if rechecked == Some(true) {
        compare
    } else {
        format!(
            "watch cert-manager's next check: kubectl -n {} get challenge {} -w; if the reason stays, {compare}",
            inside
                .id
                .split_once('/')
                .map_or("<namespace>", |(ns, _)| ns),
            c.ch.name
        )
    };
    vec![f.fix(fix)]
}

/// After the walk: findings that rest on the pod not reaching the name are contradicted when
/// cert-manager's own self check got an HTTP answer and a CONTROLLER_DISAGREES finding says so.
/// They become supports, say who contradicts them, and rank below what the controller saw.
pub(crate) fn weigh(findings: &mut [Finding], c: &Vantages) {
    let about = |f: &Finding| f.challenge.as_deref() == Some(c.ch.name.as_str());
    if !findings
        .iter()
        .any(|f| about(f) && f.code == Code::ControllerDisagrees)
    {
        return;
    }
    let Some(w) = witness(c).filter(|w| w.seen.answered == Known::Yes) else {
        return;
    };
    for f in findings
        .iter_mut()
        .filter(|f| about(f) && REACHABILITY.contains(&f.code))
    {
        f.contradicted_by = Some(Code::ControllerDisagrees);
        f.proof = Proof::Supports;
        f.evidence.push(format!(
            "contradicted by cert-manager's own self check: it got {} ({}), so the controller reaches {}; see CONTROLLER_DISAGREES",
            got(&w.reason),
            w.time.words(),
            c.ch.dns_name
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::rank::rank;
    use crate::diagnose::vantages::findings;
    use crate::diagnose::vantages::tests::{codes, pod_report};
    use crate::evidence::{ChallengeEvidence, StatusWrite};
    use crate::probe::incluster::InCluster;
    use crate::probe::plan::{CaProfile, ErrorClass, ResolverState};

    const REASON_404: &str =
        "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'";

    /// The challenge with `reason`, its status written at `time` (the probes ran at
    /// 2026-12-06T04:38:00Z).
    fn reasoned(reason: &str, time: Option<&str>) -> ChallengeEvidence {
        let mut c = ch();
        c.reason = Some(reason.into());
        c.status_written = time.map(|t| StatusWrite {
            time: t.into(),
            manager: "cert-manager-challenges".into(),
            operation: "Update".into(),
            subresource: "status".into(),
        });
        c
    }

    fn timeout_reason(c: &ChallengeEvidence) -> String {
        format!(
            "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request '{0}': Get \"{0}\": dial tcp 203.0.113.10:80: i/o timeout",
            c.challenge_url()
        )
    }

    fn all(c: &ChallengeEvidence, ic: &InCluster) -> Vec<Finding> {
        let l = with_health(outside_ok(), "local", ResolverState::Answers);
        findings(
            c,
            Some(&l),
            pod_report(ic),
            ic,
            &cluster(),
            CaProfile::Pebble,
        )
    }

    fn pod_passes() -> InCluster {
        ran(with_health(
            inside_edge(vec![ok("nginx", 20)], vec![]),
            "in-cluster",
            ResolverState::Answers,
        ))
    }

    #[test]
    fn the_pod_passes_where_the_controller_fails() {
        // Written 3 min before the probes: the controller has checked again since and still
        // fails, so its path differs (proven).
        let c = reasoned(REASON_404, Some("2026-12-06T04:35:00Z"));
        let f = all(&c, &pod_passes());
        assert_eq!(codes(&f), [Code::ControllerDisagrees]);
        assert_eq!(f[0].proof, Proof::Proves);
        assert!(
            f[0].summary.starts_with("the probe pod (namespace cert-manager), with the controller's resolvers and proxy settings, passes 20 of 20 requests, but cert-manager's own self check got HTTP 404 (written 2026-12-06T04:35:00Z, 3 min before the probes ran) and has kept failing since"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].summary
                .ends_with("the controller's own path differs from the pod's")
        );
        assert!(
            f[0].fix.starts_with("compare the controller's path"),
            "{}",
            f[0].fix
        );
        // Written 8 s before: it passes now, the next check will see it.
        let c = reasoned(REASON_404, Some("2026-12-06T04:37:52Z"));
        let f = all(&c, &pod_passes());
        assert_eq!(
            (f[0].code, f[0].proof),
            (Code::ControllerDisagrees, Proof::Supports)
        );
        assert!(
            f[0].summary
                .contains("cert-manager will see that at its next check, within 20 s"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].fix.starts_with("watch cert-manager's next check"),
            "{}",
            f[0].fix
        );
        // Undated: either.
        let c = reasoned(REASON_404, None);
        let f = all(&c, &pod_passes());
        assert_eq!(f[0].proof, Proof::Supports);
        assert!(
            f[0].summary.contains("HTTP 404 (time unknown)"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].summary
                .ends_with("or the answer changed after its last check"),
            "{}",
            f[0].summary
        );
    }

    /// A timeout the controller keeps seeing while the pod passes is egress blocked for the
    /// controller (controller_egress.rs); one written just now may predate a change.
    #[test]
    fn a_controller_timeout_defers_to_egress_unless_it_is_too_young() {
        let mut c = ch();
        let reason = timeout_reason(&c);
        c = reasoned(&reason, Some("2026-12-06T04:35:00Z"));
        let f = all(&c, &pod_passes());
        assert_eq!(codes(&f), [Code::SelfcheckEgressBlocked]);
        assert!(
            f[0].evidence.iter().any(|e| e.starts_with(
                "cert-manager's reason: written 2026-12-06T04:35:00Z, 3 min before the probes ran; it checks again every 20 s"
            )),
            "{:#?}",
            f[0].evidence
        );
        let c = reasoned(&reason, Some("2026-12-06T04:37:55Z"));
        let f = all(&c, &pod_passes());
        assert_eq!(codes(&f), [Code::ControllerDisagrees]);
    }

    /// The controller got an HTTP answer; the pod could not connect: the pod's hairpin finding
    /// is contradicted, ranks below what the controller saw, and is not the root cause.
    #[test]
    fn an_answer_to_the_controller_contradicts_the_pods_timeouts() {
        let c = reasoned(REASON_404, Some("2026-12-06T04:30:00Z"));
        let i = with_health(
            inside_edge(
                vec![err(ErrorClass::ConnectTimeout, 20)],
                vec![nginx_serves()],
            ),
            "in-cluster",
            ResolverState::Answers,
        );
        let ic = ran(i);
        let mut f = all(&c, &ic);
        assert!(codes(&f).contains(&Code::ControllerDisagrees), "{f:#?}");
        assert!(codes(&f).contains(&Code::HairpinUnreachable), "{f:#?}");
        let l = with_health(outside_ok(), "local", ResolverState::Answers);
        let view = Vantages {
            ch: &c,
            local: Some(&l),
            inside: pod_report(&ic),
            in_cluster: &ic,
            cluster: &cluster(),
            ca: CaProfile::Pebble,
        };
        weigh(&mut f, &view);
        rank(&mut f);
        assert_eq!(f[0].code, Code::ControllerDisagrees, "{f:#?}");
        assert!(
            f[0].summary.starts_with("cert-manager's own self check got HTTP 404 (written 2026-12-06T04:30:00Z, 8 min before the probes ran), so shop.example.test resolved and port 80 answered from the controller; but the probe pod (namespace cert-manager) could not connect"),
            "{}",
            f[0].summary
        );
        let hairpin = f
            .iter()
            .find(|f| f.code == Code::HairpinUnreachable)
            .unwrap();
        assert_eq!(hairpin.contradicted_by, Some(Code::ControllerDisagrees));
        assert_eq!(hairpin.proof, Proof::Supports);
        assert!(
            hairpin
                .evidence
                .last()
                .is_some_and(|e| e
                    .starts_with("contradicted by cert-manager's own self check: it got HTTP 404")),
            "{:#?}",
            hairpin.evidence
        );
        // Without CONTROLLER_DISAGREES (the reason says a timeout too), nothing is contradicted.
        let c = reasoned(&timeout_reason(&c), Some("2026-12-06T04:30:00Z"));
        let mut f = all(&c, &ic);
        let view = Vantages { ch: &c, ..view };
        weigh(&mut f, &view);
        assert!(f.iter().all(|f| f.contradicted_by.is_none()), "{f:#?}");
    }

    /// The controller's lookup failed (`server misbehaving`), the pod resolves the name with
    /// the controller's resolvers: the two resolvers differ.
    #[test]
    fn the_controller_cannot_resolve_what_the_pod_resolves() {
        let mut c = ch();
        let reason = format!(
            "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request '{0}': Get \"{0}\": dial tcp: lookup shop.example.test on 10.96.0.10:53: server misbehaving",
            c.challenge_url()
        );
        c = reasoned(&reason, Some("2026-12-06T04:30:00Z"));
        let i = with_health(
            inside_edge(vec![status(404, "envoy", 20)], vec![]),
            "in-cluster",
            ResolverState::Answers,
        );
        let f = all(&c, &ran(i));
        let d = f
            .iter()
            .find(|f| f.code == Code::ControllerDisagrees)
            .unwrap_or_else(|| panic!("{f:#?}"));
        assert!(
            d.summary.contains("the controller's resolver failed for shop.example.test (Go's `server misbehaving` is SERVFAIL or REFUSED alike)"),
            "{}",
            d.summary
        );
        assert!(
            d.summary
                .contains("resolves shop.example.test and connects"),
            "{}",
            d.summary
        );
    }
}
