//! The replay's own findings: setup failures, a replay that did not run, an unfinished route,
//! an unreachable stand-in (NetworkPolicy caveat), a pre-flight's names without a solver.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::evidence::CertificateEvidence;
use crate::evidence::replay::{ReplayEvidence, ReplayState};
use crate::probe::incluster::InCluster;

/// The code of a setup failure cert-manager's own solver would meet too.
fn cert_manager_code(kind: &str, object_kind: Option<&str>) -> Code {
    match (kind, object_kind) {
        ("rejected", Some("Ingress")) => Code::SolverIngressRejected,
        ("rejected", _) => Code::PresentFailed,
        _ => Code::SolverPodNotRunning,
    }
}

fn names(r: &ReplayEvidence) -> String {
    r.stand_ins
        .iter()
        .map(|s| s.dns_name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn setup_findings(r: &ReplayEvidence) -> Option<Finding> {
    let p = r.problem.as_ref()?;
    let what = if r.preflight { "pre-flight" } else { "replay" };
    let mut f = match r.state {
        ReplayState::Failed if p.also_hits_cert_manager => Finding::new(
            cert_manager_code(&p.kind, p.object_kind.as_deref()),
            Severity::Error,
            Proof::Proves,
            format!(
                "the {what}'s stand-in solver for {} could not be set up, and cert-manager's own solver is built the same way: {}",
                names(r),
                p.message
            ),
        ),
        ReplayState::Failed => Finding::new(
            Code::NotChecked,
            Severity::Error,
            Proof::Supports,
            format!(
                "the {what} could not be set up ({}), so {} was not probed: {}",
                p.kind,
                names(r),
                p.message
            ),
        ),
        ReplayState::Forbidden => Finding::new(
            Code::NotChecked,
            if r.preflight {
                Severity::Error
            } else {
                Severity::Warning
            },
            Proof::Supports,
            format!(
                "the {what} did not run: {}; {}",
                p.message,
                if r.preflight {
                    "nothing was probed"
                } else {
                    "the rest of this diagnosis is without it"
                }
            ),
        ),
        _ => return None,
    };
    f = f.evidence(format!("{what} problem ({}): {}", p.kind, p.message));
    for s in &r.stand_ins {
        f = f.evidence(format!(
            "stand-in for {}: {}",
            s.dns_name,
            s.objects.join(", ")
        ));
    }
    for l in &p.left_behind {
        f = f.evidence(format!("left behind: {l}"));
    }
    Some(f.fix(p.hint.clone()))
}

fn propagation_finding(r: &ReplayEvidence) -> Option<Finding> {
    let p = r.propagation.as_ref().filter(|p| !p.finished)?;
    Some(
        Finding::new(
            Code::NotChecked,
            Severity::Warning,
            Proof::Supports,
            format!(
                "the stand-in's path did not serve its key from this machine within the {:.0}s wait before probing: findings about the path may also describe a route the data plane had not programmed yet",
                std::time::Duration::from_millis(p.waited_ms).as_secs_f64()
            ),
        )
        .evidence(p.detail.clone())
        .fix(format!(
            "run again with a longer --replay-wait; if the answer stays the same, the data plane in front of the name does not serve the solver's route ({})",
            r.command
        )),
    )
}

/// The probe pod could not reach a stand-in pod directly (connections failed, no HTTP answer).
fn network_policy_findings(
    cert: &CertificateEvidence,
    r: &ReplayEvidence,
    in_cluster: &InCluster,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &r.stand_ins {
        let id = format!("{}/{}", cert.namespace, s.challenge());
        let Some(report) = in_cluster.target(&id) else {
            continue;
        };
        let pod_label = format!("solver pod {}/{}", r.namespace_of(s), s.object_name);
        let Some(d) = report.direct.iter().find(|d| d.label == pod_label) else {
            continue;
        };
        let unreachable = d.attempts > 0
            && d.outcomes
                .iter()
                .all(|o| o.status.is_none() && o.error_class.is_some());
        if !unreachable {
            continue;
        }
        let errors: Vec<String> = d
            .outcomes
            .iter()
            .map(|o| {
                format!(
                    "{} ×{}",
                    o.error_class.map_or("error", |e| e.as_str()),
                    o.count
                )
            })
            .collect();
        out.push(
            Finding::new(
                Code::NotChecked,
                Severity::Warning,
                Proof::Supports,
                format!(
                    "the probe pod could not connect to the stand-in pod {} at {}: a NetworkPolicy that admits solver pods by acme.cert-manager.io/http01-solver admits cert-manager's solver but not the stand-in, which never carries that label, so what depends on reaching the solver may differ for cert-manager's own",
                    s.object_name, d.address
                ),
            )
            .challenge(s.challenge())
            .evidence(format!("direct probe {}: {}", d.label, errors.join(", ")))
            .fix(format!(
                "look for NetworkPolicies in namespace {}: kubectl get networkpolicy -n {} -o yaml; if one selects acme.cert-manager.io/http01-solver, cert-manager's solver is admitted and this is an artefact of the replay",
                r.namespace_of(s), r.namespace_of(s)
            )),
        );
    }
    out
}

/// A pre-flight's names without a stand-in, as cert-manager would fail them.
fn preflight_skips(r: &ReplayEvidence) -> Vec<Finding> {
    if !r.preflight {
        return Vec::new();
    }
    r.skipped
        .iter()
        .filter_map(|s| {
            let (code, severity) = match s.reason.as_str() {
                "noSolver" => (Code::NoMatchingSolver, Severity::Error),
                "wildcard" => (Code::WildcardNeedsDns01, Severity::Error),
                "invalidSolver" => (Code::SolverConfig, Severity::Error),
                "gatewayApiDisabled" => (Code::GatewayApiDisabled, Severity::Error),
                "editInPlaceIngressMissing" => (Code::PresentFailed, Severity::Error),
                "solverImageUnknown" | "randomness" => (Code::NotChecked, Severity::Error),
                "dns01" | "liveChallenge" => (Code::NotChecked, Severity::Info),
                // The issuer rules say what is wrong with a missing or non-ACME issuer.
                _ => return None,
            };
            let fix = match s.reason.as_str() {
                "solverImageUnknown" => "name the acmesolver image: --solver-image quay.io/jetstack/cert-manager-acmesolver:<cert-manager version>".to_owned(),
                "liveChallenge" => format!("cert-manager is validating {} now: run kubectl acmecheck on its Certificate instead", s.name),
                "dns01" => "nothing to check over HTTP: the name is validated over DNS-01".to_owned(),
                _ => "fix the issuer's solvers (spec.acme.solvers) or the annotations, then run the pre-flight again".to_owned(),
            };
            Some(
                Finding::new(
                    code,
                    severity,
                    Proof::Proves,
                    format!("pre-flight: {} gets no solver to replay: {}", s.name, s.message),
                )
                .evidence(format!("{}: {} ({})", s.name, s.message, s.reason))
                .fix(fix),
            )
        })
        .collect()
}

/// Every finding of a certificate's replay itself.
pub(crate) fn replayed(cert: &CertificateEvidence, in_cluster: &InCluster) -> Vec<Finding> {
    let Some(r) = &cert.replay else {
        return Vec::new();
    };
    let mut out: Vec<Finding> = setup_findings(r).into_iter().collect();
    if r.state == ReplayState::Ran {
        out.extend(propagation_finding(r));
        out.extend(network_policy_findings(cert, r, in_cluster));
    }
    out.extend(preflight_skips(r));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::replayed::testdata::{replay, with_problem};
    use crate::diagnose::testdata::assert_complete;
    use crate::evidence::replay::{Propagation, SkippedName};
    use crate::probe::incluster::Placement;
    use crate::probe::plan::{DirectResult, ErrorClass, OutcomeCount, TargetReport};
    use std::collections::HashMap;

    fn codes(c: &CertificateEvidence, in_cluster: &InCluster) -> Vec<(Code, Severity)> {
        let f = replayed(c, in_cluster);
        assert_complete(&f);
        f.iter().map(|f| (f.code, f.severity)).collect()
    }

    #[test]
    fn setup_failures_cert_manager_meets_too_are_findings_about_the_cluster() {
        let none = InCluster::NotRequested;
        for (kind, object, code) in [
            ("imagePull", Some("Pod"), Code::SolverPodNotRunning),
            ("unschedulable", Some("Pod"), Code::SolverPodNotRunning),
            ("rejected", Some("Ingress"), Code::SolverIngressRejected),
            ("rejected", Some("Pod"), Code::PresentFailed),
        ] {
            let c = with_problem(ReplayState::Failed, kind, object, true);
            assert_eq!(codes(&c, &none), [(code, Severity::Error)], "{kind}");
        }
        let c = with_problem(ReplayState::Failed, "timeout", Some("Pod"), false);
        assert_eq!(codes(&c, &none), [(Code::NotChecked, Severity::Error)]);
        let c = with_problem(ReplayState::Forbidden, "forbidden", None, false);
        assert_eq!(codes(&c, &none), [(Code::NotChecked, Severity::Warning)]);
        let f = replayed(&c, &none);
        assert_eq!(f[0].fix, "the hint");
        assert!(f[0].summary.contains("the message"), "{}", f[0].summary);
        let mut pre = with_problem(ReplayState::Forbidden, "forbidden", None, false);
        if let Some(r) = pre.replay.as_mut() {
            r.preflight = true;
        }
        assert_eq!(codes(&pre, &none), [(Code::NotChecked, Severity::Error)]);
        // Planned or ran without problems: nothing to say here.
        assert!(codes(&replay(ReplayState::Planned), &none).is_empty());
        assert!(codes(&replay(ReplayState::Ran), &none).is_empty());
        assert!(codes(&CertificateEvidence::default(), &none).is_empty());
    }

    #[test]
    fn an_unfinished_route_and_an_unreachable_stand_in_are_said() {
        let mut c = replay(ReplayState::Ran);
        if let Some(r) = c.replay.as_mut() {
            r.propagation = Some(Propagation {
                finished: false,
                waited_ms: 20_000,
                detail: "shop.example.test not served within 20s: 203.0.113.20: 404 from envoy"
                    .into(),
            });
        }
        let unreachable = DirectResult {
            address: "198.51.100.31:8089".into(),
            label: "solver pod shop/acmecheck-solver-r-0".into(),
            attempts: 20,
            outcomes: vec![OutcomeCount {
                error_class: Some(ErrorClass::ConnectTimeout),
                count: 20,
                ..Default::default()
            }],
            ..Default::default()
        };
        let in_cluster = |d: DirectResult| InCluster::Ran {
            placement: Placement::default(),
            targets: HashMap::from([(
                "shop/acmecheck-solver-r-0".to_owned(),
                TargetReport {
                    direct: vec![d],
                    ..Default::default()
                },
            )]),
        };
        assert_eq!(
            codes(&c, &in_cluster(unreachable.clone())),
            [
                (Code::NotChecked, Severity::Warning),
                (Code::NotChecked, Severity::Warning)
            ]
        );
        let f = replayed(&c, &in_cluster(unreachable.clone()));
        assert!(
            f[0].summary.contains("within the 20s wait"),
            "{}",
            f[0].summary
        );
        assert!(f[1].summary.contains("NetworkPolicy"), "{}", f[1].summary);
        // The stand-in answered: no NetworkPolicy caveat.
        let mut answered = unreachable;
        answered.outcomes[0].error_class = None;
        answered.outcomes[0].status = Some(200);
        if let Some(r) = c.replay.as_mut() {
            r.propagation = None;
        }
        assert!(codes(&c, &in_cluster(answered)).is_empty());
    }

    #[test]
    fn preflight_names_without_a_stand_in_say_why() {
        let mut c = replay(ReplayState::NothingToReplay);
        if let Some(r) = c.replay.as_mut() {
            r.preflight = true;
            r.stand_ins.clear();
            r.skipped = ["noSolver", "wildcard", "dns01", "notAcme"]
                .iter()
                .map(|reason| SkippedName {
                    name: format!("{reason}.example.test"),
                    reason: (*reason).into(),
                    message: "why".into(),
                })
                .collect();
        }
        assert_eq!(
            codes(&c, &InCluster::NotRequested),
            [
                (Code::NoMatchingSolver, Severity::Error),
                (Code::WildcardNeedsDns01, Severity::Error),
                (Code::NotChecked, Severity::Info),
            ]
        );
        // For a Certificate, the other rules read its Order: no double findings.
        if let Some(r) = c.replay.as_mut() {
            r.preflight = false;
        }
        assert!(codes(&c, &InCluster::NotRequested).is_empty());
    }
}
