//! Shared helpers of the rule folders: the words findings use for probe outcomes and the probe
//! pod, and lookups over cluster objects that rules of more than one folder need. Rules import
//! it; it imports no rule.

use crate::evidence::{
    CertificateEvidence, ChallengeEvidence, IngressEvidence, Solver, SolverLogEvidence,
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
