//! PATH_CAPTURED (RC05): another Ingress for the same host captures or rewrites
//! `/.well-known/acme-challenge/<token>` (seen in its rules and annotations, in what answers, or
//! in the solver's log).

use super::util::effective_class;
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{issuer_kind_cmd, log_summary, outcome_summary};
use crate::diagnose::view::Joint;
use crate::evidence::{ChallengeEvidence, IngressEvidence};
use crate::probe::plan::TargetReport;

fn challenge_path(ch: &ChallengeEvidence) -> String {
    format!("/.well-known/acme-challenge/{}", ch.token)
}

/// Annotations with which another Ingress for the host captures the challenge path.
const CAPTURING: &[&str] = &[
    "/rewrite-target",
    "/use-regex",
    "/app-root",
    "/permanent-redirect",
    "/temporal-redirect",
    "/auth-url",
    "/auth-type",
    "/server-snippet",
    "/configuration-snippet",
    "/router.middlewares",
];

/// How `ing` captures `path` for `host`: a conflicting path, or a catch-all with a capturing
/// annotation. None when it does not.
fn capture(ing: &IngressEvidence, host: &str, path: &str) -> Option<String> {
    let annotations: Vec<String> = ing
        .relevant_annotations
        .iter()
        .filter(|(k, _)| CAPTURING.iter().any(|s| k.ends_with(s)))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let wildcard = host.split_once('.').map(|(_, p)| format!("*.{p}"));
    for r in ing
        .rules
        .iter()
        .filter(|r| r.host == host || Some(&r.host) == wildcard.as_ref())
    {
        let kind = r.path_type.as_deref().unwrap_or("ImplementationSpecific");
        let svc = r.service.as_deref().unwrap_or("-");
        if r.path == path && !ing.edit_in_place {
            return Some(format!(
                "Ingress {}/{} also routes {path} ({kind}) for {host}, to Service {svc}",
                ing.namespace, ing.name
            ));
        }
        let prefix = r.path.is_empty() || path.starts_with(&r.path) || r.path.contains(".*");
        if prefix && !annotations.is_empty() {
            return Some(format!(
                "Ingress {}/{} routes {} ({kind}) for {} to Service {svc} with {}",
                ing.namespace,
                ing.name,
                if r.path.is_empty() { "/" } else { &r.path },
                r.host,
                annotations.join(", ")
            ));
        }
    }
    None
}

/// Probe outcomes that show an application answered (not the solver, not a plain 404).
fn app_answers(probe: Option<&TargetReport>) -> Vec<String> {
    probe
        .into_iter()
        .flat_map(|t| &t.addresses)
        .filter(|a| {
            a.outcomes.iter().any(|o| {
                !o.cert_manager_pass
                    && matches!(o.status, Some(s) if s != 404 && s < 500)
                    && !o.responder.starts_with("acmesolver")
            })
        })
        .map(|a| format!("{}  {}", a.address, outcome_summary(a)))
        .collect()
}

/// RC05: another Ingress for the same host captures `/.well-known/acme-challenge/<token>`.
pub(crate) fn path_captured(c: &Joint) -> Vec<Finding> {
    let path = challenge_path(c.ch);
    let solver_class =
        c.ch.solver_ingresses
            .iter()
            .find(|i| !i.edit_in_place)
            .and_then(|i| effective_class(i, c.cluster));
    let captures: Vec<(&IngressEvidence, String)> =
        c.ch.host_ingresses
            .iter()
            .chain(c.ch.solver_ingresses.iter().filter(|i| i.edit_in_place))
            .filter(|i| {
                let class = effective_class(i, c.cluster);
                solver_class.is_none() || class.is_none() || class == solver_class
            })
            .filter_map(|i| capture(i, &c.ch.dns_name, &path).map(|how| (i, how)))
            .collect();
    let log_proof = c.ch.solver_log.as_ref().and_then(|l| {
        let rewritten = l.invalid_paths.first().map(|(p, n)| {
            format!("the solver received {n} request(s) for path {p:?} instead of {path:?}")
        });
        let health = (l.health_checks > 0 && l.served == 0).then(|| {
            format!("the solver received {} request(s) rewritten to / (answered 200 with an empty body)", l.health_checks)
        });
        rewritten.or(health)
    });
    if captures.is_empty() && log_proof.is_none() {
        return vec![];
    }
    let apps = app_answers(c.probe);
    let proof = if log_proof.is_some() || (!captures.is_empty() && !apps.is_empty()) {
        Proof::Proves
    } else {
        Proof::Supports
    };
    let mut f = Finding::new(
        Code::PathCaptured,
        Severity::Error,
        proof,
        match (&log_proof, captures.first()) {
            (Some(l), _) => {
                format!("the challenge path is rewritten before it reaches the solver: {l}")
            }
            (None, Some((i, _))) => format!(
                "{} other Ingress(es) for {} can capture {path}, e.g. {}/{}",
                captures.len(),
                c.ch.dns_name,
                i.namespace,
                i.name
            ),
            (None, None) => String::new(),
        },
    )
    .challenge(&c.ch.name);
    for (_, how) in &captures {
        f = f.evidence(how.clone());
    }
    for a in apps {
        f = f.evidence(format!("answered by something other than the solver: {a}"));
    }
    if let Some(l) = &c.ch.solver_log {
        f = f.evidence(log_summary(l));
    }
    let fix = match captures.first() {
        Some((i, _)) if i.edit_in_place => format!(
            "stop editing Ingress {}/{} in place (its annotations apply to the challenge path): remove `name` from the solver in the {} so cert-manager creates its own Ingress",
            i.namespace,
            i.name,
            issuer_kind_cmd(c.cert)
        ),
        Some((i, _)) => format!(
            "kubectl -n {} edit ingress {} — take the capturing annotation or the conflicting path away from {} for host {} (move the rewrite/regex/redirect/auth to an Ingress for the application's own paths, so /.well-known/acme-challenge/ is matched by the solver's Exact path only)",
            i.namespace, i.name, path, c.ch.dns_name
        ),
        None => "remove rewrite-target / path-rewriting middlewares from the route that carries /.well-known/acme-challenge/ to the solver".to_owned(),
    };
    vec![f.fix(fix)]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::joint::tests::{code, run};
    use crate::evidence::SolverLogEvidence;

    #[test]
    fn rewrite_on_a_catch_all_captures_the_path() {
        let (mut cert, cluster) = base();
        cert.challenges[0].host_ingresses = vec![app_ingress(
            Some(("nginx.ingress.kubernetes.io/rewrite-target", "/")),
            "/",
            "Prefix",
        )];
        let f = code(&run(&cert, &cluster, None), Code::PathCaptured).expect("captured");
        assert_eq!(f.proof, Proof::Supports);
        assert!(
            f.fix.contains("kubectl -n shop edit ingress web"),
            "{}",
            f.fix
        );
        // The probe sees the application's page: proved.
        let p = probe(vec![addr(
            "203.0.113.10",
            vec![oc(Some(200), None, "nginx", false, 66)],
        )]);
        let f = code(&run(&cert, &cluster, Some(&p)), Code::PathCaptured).unwrap();
        assert_eq!(f.proof, Proof::Proves);
        // Without the annotation a Prefix "/" does not beat the solver's Exact path.
        cert.challenges[0].host_ingresses = vec![app_ingress(None, "/", "Prefix")];
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::PathCaptured).is_none());
        // Another class (another controller) does not capture.
        let mut other = app_ingress(
            Some(("nginx.ingress.kubernetes.io/rewrite-target", "/")),
            "/",
            "Prefix",
        );
        other.class_name = Some("traefik".into());
        cert.challenges[0].host_ingresses = vec![other];
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::PathCaptured).is_none());
    }

    #[test]
    fn exact_conflict_and_rewritten_path_in_the_logs() {
        let (mut cert, cluster) = base();
        cert.challenges[0].host_ingresses = vec![app_ingress(
            None,
            "/.well-known/acme-challenge/tok",
            "Exact",
        )];
        assert!(code(&run(&cert, &cluster, None), Code::PathCaptured).is_some());
        let (mut cert, cluster) = base();
        cert.challenges[0].solver_log = Some(SolverLogEvidence {
            requests: 5,
            invalid_paths: vec![("/tok".into(), 5)],
            ..Default::default()
        });
        let f = code(&run(&cert, &cluster, None), Code::PathCaptured).expect("rewritten");
        assert_eq!(f.proof, Proof::Proves);
        assert!(f.summary.contains("\"/tok\""), "{}", f.summary);
    }
}
