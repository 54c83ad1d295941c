//! Shared helpers of the rule folders: the words findings use for probe outcomes and the probe
//! pod, and lookups over cluster objects that rules of more than one folder need. Rules import
//! it; it imports no rule.

use crate::evidence::{
    CertificateEvidence, ChallengeEvidence, ClusterEvidence, DataPlaneEvidence, IngressEvidence,
    Solver, SolverLogEvidence, condition,
};
use crate::probe::incluster::{Placement, ProblemKind};
use crate::probe::plan::{AddressReport, KeyMatch, OutcomeCount};
use crate::reason::{self, Phase, Reason};

// ---------------------------------------------------------------------------------------------
// Cluster objects
// ---------------------------------------------------------------------------------------------

/// HTTP-01 challenges that are not finished.
pub fn open_http01(cert: &CertificateEvidence) -> impl Iterator<Item = &ChallengeEvidence> {
    cert.challenges
        .iter()
        .filter(|c| c.is_http01() && reason::phase(c) != Phase::Done)
}

pub fn parsed(ch: &ChallengeEvidence) -> Option<Reason> {
    ch.reason.as_deref().and_then(reason::parse)
}

pub fn issuer_kind_cmd(cert: &CertificateEvidence) -> String {
    let r = &cert.issuer_ref;
    if r.is_cluster_issuer() {
        format!("clusterissuer {}", r.name)
    } else {
        format!("issuer {} -n {}", r.name, cert.namespace)
    }
}

/// `kubectl patch` that sets one field of the solver the challenge uses, when the solver's
/// index in the issuer is known; otherwise the YAML to put in the issuer.
pub fn solver_patch(
    cert: &CertificateEvidence,
    solver: &Solver,
    field: &str,
    value: &str,
) -> String {
    let index = cert
        .issuer
        .as_ref()
        .and_then(|i| i.acme.as_ref())
        .and_then(|a| a.solvers.iter().position(|s| s.http01 == solver.http01));
    match index {
        Some(i) => format!(
            "kubectl patch {} --type=json -p '[{{\"op\":\"add\",\"path\":\"/spec/acme/solvers/{i}/http01/{field}\",\"value\":{value}}}]'",
            issuer_kind_cmd(cert)
        ),
        None => format!(
            "in {}: spec.acme.solvers[].http01.{}: {value}",
            issuer_kind_cmd(cert),
            field.replace('/', ".")
        ),
    }
}

pub fn renew_hint(cert: &CertificateEvidence) -> String {
    format!(
        "then retry now: cmctl renew {} -n {} (or kubectl cert-manager renew)",
        cert.name, cert.namespace
    )
}

/// The class an Ingress asks for: `spec.ingressClassName`, else the legacy annotation.
pub fn ingress_class(ing: &IngressEvidence) -> Option<&str> {
    ing.class_name
        .as_deref()
        .or(ing.class_annotation.as_deref())
}

/// Data planes that carry the solver's route, or would carry it once cert-manager creates it
/// again (a rejected challenge's solver resources are gone): the ingress controllers of the
/// class its Ingress has (else the class in the solver's config, else the default
/// IngressClass), the Gateways its HTTPRoute (else the solver's config) names as parents.
pub fn solver_planes<'a>(
    ch: &ChallengeEvidence,
    cluster: &'a ClusterEvidence,
) -> Vec<&'a DataPlaneEvidence> {
    let default_class = || {
        cluster
            .ingress_classes
            .iter()
            .find(|k| k.is_default)
            .map(|k| k.name.clone())
    };
    let http01 = ch.solver.http01.as_ref();
    let mut classes: Vec<String> = ch
        .solver_ingresses
        .iter()
        .filter_map(|i| ingress_class(i).map(str::to_owned).or_else(default_class))
        .collect();
    if ch.solver_ingresses.is_empty()
        && let Some(ing) = http01.and_then(|h| h.ingress.as_ref())
    {
        classes.extend(
            ing.ingress_class_name
                .clone()
                .or_else(|| ing.class.clone())
                .or_else(default_class),
        );
    }
    // (namespace if known, name) of each parent Gateway.
    let mut parents: Vec<(Option<String>, String)> = ch
        .solver_routes
        .iter()
        .flat_map(|r| {
            r.parent_refs.iter().map(|p| {
                let ns = p.namespace.clone().unwrap_or_else(|| r.namespace.clone());
                (Some(ns), p.name.clone())
            })
        })
        .collect();
    if ch.solver_routes.is_empty()
        && let Some(route) = http01.and_then(|h| h.gateway_http_route.as_ref())
    {
        parents.extend(
            route
                .parent_refs
                .iter()
                .map(|p| (p.namespace.clone(), p.name.clone())),
        );
    }
    cluster
        .data_planes
        .iter()
        .filter(|p| {
            let by_class = p.kind == "ingress-controller"
                && classes.iter().any(|k| {
                    p.ingress_classes.contains(k)
                        || cluster.ingress_classes.iter().any(|ic| {
                            ic.name == *k && Some(&ic.controller) == p.controller.as_ref()
                        })
                });
            let by_route = p.kind == "gateway"
                && parents.iter().any(|(ns, name)| {
                    *name == p.name && ns.as_ref().is_none_or(|n| *n == p.namespace)
                });
            by_class || by_route
        })
        .collect()
}

/// When cert-manager tries the certificate again after a failed issuance, from
/// `status.lastFailureTime` and `status.failedIssuanceAttempts`: 1 h doubling per failed
/// attempt, at most 32 h, 1 h when the count is missing or not positive (cert-manager's
/// defaults; `shouldBackoffReissuingOnFailure` in
/// pkg/controller/certificates/trigger/trigger_controller.go,
/// `defaultCertificateRequest{Minimum,Maximum}BackoffDuration` in
/// internal/apis/config/controller/v1alpha1/defaults.go).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub last_failure: String,
    pub attempts: i64,
    /// The wait in hours (1 to 32).
    pub hours: u64,
    /// `lastFailureTime` + the wait, RFC 3339 UTC (None when the time does not parse).
    pub at: Option<String>,
}

impl Retry {
    /// Seconds from `now` to the end of the wait: negative once it has ended. None when either
    /// time is unknown (diagnosis gets "now" as evidence: `ClusterEvidence::now`).
    pub fn seconds_left(&self, now: Option<i64>) -> Option<i64> {
        Some(crate::time::unix_seconds(self.at.as_deref()?)? - now?)
    }
}

/// A span of seconds in words a reader takes in at once: `45min`, `2h 5min`, `8d 1h` (no
/// space inside a figure, so a wrapped line never splits one).
pub fn span(secs: i64) -> String {
    let m = secs.abs() / 60;
    match (m / 1440, m / 60 % 24, m % 60) {
        (0, 0, min) => format!("{min}min"),
        (0, h, 0) => format!("{h}h"),
        (0, h, min) => format!("{h}h {min}min"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// The certificate is in cert-manager's issuance backoff: its last issuance failed and no
/// other issuance is running (no CertificateRequest for the next revision, or only the failed
/// one, which cert-manager keeps until the backoff ends).
pub fn backoff(cert: &CertificateEvidence) -> Option<Retry> {
    let ready = condition(&cert.conditions, "Ready").is_some_and(|c| c.status == "True");
    let request_failed = cert.request.as_ref().is_none_or(|r| {
        condition(&r.conditions, "Ready")
            .is_some_and(|c| c.status == "False" && c.reason.as_deref() == Some("Failed"))
            || r.failure_time.is_some()
    });
    if ready || !request_failed {
        return None;
    }
    let last_failure = cert.last_failure_time.clone()?;
    let attempts = cert.failed_issuance_attempts.unwrap_or(0);
    let hours = if attempts <= 0 {
        1
    } else {
        2u64.saturating_pow(u32::try_from(attempts - 1).unwrap_or(u32::MAX))
            .min(32)
    };
    let at = crate::time::unix_seconds(&last_failure)
        .map(|t| crate::time::rfc3339(t + hours as i64 * 3600));
    Some(Retry {
        last_failure,
        attempts,
        hours,
        at,
    })
}

// ---------------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------------

/// `12 requests: 3 OK, 9 invalid host …` — what the solver log shows, for evidence lines.
pub fn log_summary(l: &SolverLogEvidence) -> String {
    if l.lines == 0 {
        return format!(
            "solver pod {}/{} has an empty log (restarted, or logs not kept): nothing to count",
            l.namespace, l.pod
        );
    }
    let sum = |v: &[(String, u32)]| v.iter().map(|(_, n)| n).sum::<u32>();
    let agents = l
        .user_agents
        .iter()
        .map(|(ua, n)| format!("{n}× {ua:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "solver pod {}/{} logged {} request(s) in its last {} line(s){}: {} served the key, {} health check(s) on /, {} wrong Host, {} wrong path, {} wrong token{}",
        l.namespace,
        l.pod,
        l.requests,
        l.lines,
        if l.truncated {
            " (cut at the size limit)"
        } else {
            ""
        },
        l.served,
        l.health_checks,
        sum(&l.invalid_hosts),
        sum(&l.invalid_paths),
        sum(&l.invalid_tokens),
        if agents.is_empty() {
            String::new()
        } else {
            format!("; User-Agents: {agents}")
        }
    )
}

/// `13×200 key (nginx)  11×404 (envoy)` — the outcomes on one address.
pub fn outcome_summary(addr: &AddressReport) -> String {
    addr.outcomes
        .iter()
        .map(outcome_text)
        .collect::<Vec<_>>()
        .join("  ")
}

/// `13×200 key (nginx)` — one outcome and its count.
pub fn outcome_text(o: &OutcomeCount) -> String {
    let what = match (o.status, o.error_class) {
        (Some(s), _) => {
            let body = match (s, o.key_match) {
                (_, KeyMatch::Exact) => " key",
                (_, KeyMatch::Trimmed) => " key+whitespace",
                (200, KeyMatch::No) => " wrong body",
                _ => "",
            };
            let via = if o.redirect_chain.is_empty() {
                String::new()
            } else {
                format!(" after {} redirect(s)", o.redirect_chain.len())
            };
            format!("{s}{body}{via}")
        }
        (None, Some(c)) => c.as_str().to_owned(),
        (None, None) => "no response".to_owned(),
    };
    let who = if o.responder == "-" {
        String::new()
    } else {
        format!(" ({})", o.responder)
    };
    format!("{}×{what}{who}", o.count)
}

pub fn problem_kind(kind: ProblemKind) -> &'static str {
    match kind {
        ProblemKind::Forbidden => "forbidden",
        ProblemKind::ImagePull => "image pull failed",
        ProblemKind::Unschedulable => "unschedulable",
        ProblemKind::Rejected => "rejected by admission",
        ProblemKind::DeadlineExceeded => "deadline exceeded",
        ProblemKind::Killed => "killed",
        ProblemKind::MalformedReport => "malformed report",
        ProblemKind::Interrupted => "interrupted",
        ProblemKind::Api => "API error",
    }
}

/// `cert-manager/acmecheck-probe-x on node node-a (why)`.
pub fn placement_text(p: &Placement) -> String {
    let node = p
        .node
        .as_deref()
        .map_or(String::new(), |n| format!(" on node {n}"));
    let why = if p.why.is_empty() {
        String::new()
    } else {
        format!(" ({})", p.why)
    };
    format!("{}/{}{node}{why}", p.namespace, p.pod)
}

/// The data plane a direct probe asked: its label up to ` Service ` or ` pod `
/// (`gateway infra/public (cilium)`, `ingress-nginx`).
pub fn plane_label(d: &crate::probe::plan::DirectResult) -> &str {
    let l = d.label.as_str();
    let end = [" Service ", " pod "]
        .iter()
        .filter_map(|sep| l.find(sep))
        .min()
        .unwrap_or(l.len());
    &l[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::testdata::{ch, stuck};
    use crate::evidence::{Condition, Http01GatewayRoute, ParentRef};

    #[test]
    fn backoff_doubles_from_one_hour_to_thirty_two() {
        let (mut cert, _) = stuck();
        assert_eq!(backoff(&cert), None, "a request in flight is no backoff");
        cert.request = None;
        assert_eq!(backoff(&cert), None, "no failure recorded");
        cert.last_failure_time = Some("2026-11-28T05:03:00Z".into());
        for (attempts, hours, at) in [
            (None, 1, "2026-11-28T06:03:00Z"),
            (Some(0), 1, "2026-11-28T06:03:00Z"),
            (Some(1), 1, "2026-11-28T06:03:00Z"),
            (Some(3), 4, "2026-11-28T09:03:00Z"),
            (Some(6), 32, "2026-11-29T13:03:00Z"),
            (Some(40), 32, "2026-11-29T13:03:00Z"),
        ] {
            cert.failed_issuance_attempts = attempts;
            let r = backoff(&cert).unwrap();
            assert_eq!(
                (r.hours, r.at.as_deref()),
                (hours, Some(at)),
                "{attempts:?}"
            );
        }
        // The failed request for the next revision stays until the backoff ends.
        cert.request = Some(crate::evidence::RequestEvidence {
            name: "web-1".into(),
            conditions: vec![Condition {
                type_: "Ready".into(),
                status: "False".into(),
                reason: Some("Failed".into()),
                ..Default::default()
            }],
            ..Default::default()
        });
        assert!(backoff(&cert).is_some());
        // Across a month and a leap day; a time that does not parse gives no instant.
        cert.last_failure_time = Some("2028-02-28T23:30:00.5Z".into());
        cert.failed_issuance_attempts = Some(2);
        assert_eq!(
            backoff(&cert).unwrap().at.as_deref(),
            Some("2028-02-29T01:30:00Z")
        );
        cert.last_failure_time = Some("yesterday".into());
        assert_eq!(backoff(&cert).unwrap().at, None);
    }

    #[test]
    fn the_solvers_planes_from_its_objects_or_its_config() {
        let (mut cert, mut cluster) = stuck();
        let names = |cert: &CertificateEvidence, cluster: &ClusterEvidence| -> Vec<String> {
            solver_planes(&cert.challenges[0], cluster)
                .iter()
                .map(|p| p.name.clone())
                .collect()
        };
        assert_eq!(names(&cert, &cluster), ["ingress-nginx-controller"]);
        // The solver's resources are gone (a rejected challenge): its config says the class.
        ch(&mut cert).solver_ingresses.clear();
        assert_eq!(names(&cert, &cluster), ["ingress-nginx-controller"]);
        // A Gateway solver names its parents.
        cluster.data_planes.push(DataPlaneEvidence {
            kind: "gateway".into(),
            namespace: "infra".into(),
            name: "public".into(),
            ..Default::default()
        });
        ch(&mut cert).solver.http01 = Some(crate::evidence::Http01Solver {
            ingress: None,
            gateway_http_route: Some(Http01GatewayRoute {
                parent_refs: vec![ParentRef {
                    name: "public".into(),
                    namespace: Some("infra".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        });
        assert_eq!(names(&cert, &cluster), ["public"]);
    }
}
