//! Which Certificates a renewal check covers, and how each of their names is checked (pure,
//! apart from the screen's random tokens).
//!
//! A Certificate is covered when its issuer is an ACME issuer that picks an HTTP-01 solver for
//! at least one of its names — cert-manager's selection, as the replay plans it
//! ([`crate::replay::solver_for`]: `dnsNames`, then the most specific `dnsZones`, then most
//! `matchLabels`; the Order's override annotations) — Ready or not. Each name is then:
//! * `live`: a cert-manager HTTP-01 Challenge for it is live (processing, presented or not
//!   final; [`crate::replay::guard`]): probed as a diagnosis probes it;
//! * `check`: no live challenge, an HTTP-01 solver: screened (a random token, read-only) or,
//!   with `--replay`, replayed with a stand-in solver;
//! * `unsolvable`: no solver of the ACME issuer can be used (cert-manager's own message): the
//!   renewal cannot succeed;
//! * `notHttp01`: DNS-01, a wildcard, or not an ACME issuer: out of scope.

use crate::evidence::{CertificateEvidence, ChallengeEvidence, Solver};
use crate::gather::{Snapshot, context};
use crate::replay::{ReplayInput, SkipReason, creds::Credentials, guard, solver_for};
use serde::Serialize;

/// How one name is checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "detail")]
pub enum How {
    /// A live cert-manager challenge (its name).
    Live(String),
    /// No live challenge; the HTTP-01 solver cert-manager would pick.
    Check(Box<Solver>),
    /// cert-manager could use no solver for it (its message).
    Unsolvable(String),
    /// Out of scope (why).
    NotHttp01(String),
}

/// One name of a covered Certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct NamePlan {
    pub name: String,
    pub how: How,
}

/// How every name of `cert` would be checked; None when the Certificate is out of scope.
pub fn names(cert: &CertificateEvidence, snap: &Snapshot) -> Option<Vec<NamePlan>> {
    let input = ReplayInput::for_certificate(cert, snap);
    let out: Vec<NamePlan> = input
        .names
        .iter()
        .map(|name| {
            let how = if let Some(ch) = guard::live_challenge(name, &input.challenges) {
                How::Live(ch.name.clone())
            } else {
                match solver_for(&input, name) {
                    Ok((_, solver)) => How::Check(Box::new(solver)),
                    Err(s)
                        if matches!(s.reason, SkipReason::NoSolver | SkipReason::InvalidSolver) =>
                    {
                        How::Unsolvable(s.message)
                    }
                    Err(s) => How::NotHttp01(s.message),
                }
            };
            NamePlan {
                name: name.clone(),
                how,
            }
        })
        .collect();
    let has_http01_solver = cert
        .issuer
        .as_ref()
        .and_then(|i| i.acme.as_ref())
        .is_some_and(|a| a.solvers.iter().any(|s| s.http01.is_some()));
    let covered = out.iter().any(|n| match n.how {
        How::Live(_) | How::Check(_) => true,
        How::Unsolvable(_) => has_http01_solver,
        How::NotHttp01(_) => false,
    });
    covered.then_some(out)
}

/// The name of the `index`-th screened name's challenge (unique within the certificate).
pub fn screen_name(cert: &CertificateEvidence, index: usize) -> String {
    format!("{}-screen-{index}", cert.name)
}

/// The read-only screen of one name: a challenge in the self-check phase with a random token
/// and key that no solver serves, marked `screen`, with the Ingresses that have a rule for the
/// host (they may capture the path).
pub fn screen_challenge(
    cert: &CertificateEvidence,
    index: usize,
    name: &str,
    solver: &Solver,
    snap: &Snapshot,
) -> Result<ChallengeEvidence, String> {
    let creds = Credentials::random()?;
    let mut ch = ChallengeEvidence {
        name: screen_name(cert, index),
        dns_name: name.to_owned(),
        type_: "HTTP-01".to_owned(),
        token: creds.token,
        key: creds.key,
        solver: solver.clone(),
        processing: true,
        presented: true,
        state: "pending".to_owned(),
        screen: true,
        ..Default::default()
    };
    ch.host_ingresses = context::host_ingresses(snap, &ch);
    Ok(ch)
}

/// Add a screen challenge for every `check` name of the certificate. Returns the names it
/// could not screen (no random token), with why.
pub fn add_screens(
    cert: &mut CertificateEvidence,
    plan: &[NamePlan],
    snap: &Snapshot,
) -> Vec<(String, String)> {
    let mut failed = Vec::new();
    let mut index = 0;
    for n in plan {
        if let How::Check(solver) = &n.how {
            match screen_challenge(cert, index, &n.name, solver, snap) {
                Ok(ch) => cert.challenges.push(ch),
                Err(e) => failed.push((n.name.clone(), e)),
            }
            index += 1;
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{AcmeIssuer, Http01Ingress, Http01Solver, IssuerEvidence};

    fn cert(names: &[&str], solvers: Vec<Solver>) -> CertificateEvidence {
        CertificateEvidence {
            namespace: "shop".into(),
            name: "web".into(),
            dns_names: names.iter().map(|s| s.to_string()).collect(),
            issuer: Some(IssuerEvidence {
                kind: "ClusterIssuer".into(),
                name: "le".into(),
                acme: Some(AcmeIssuer {
                    server: "https://acme-v02.api.letsencrypt.org/directory".into(),
                    solvers,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn http01() -> Solver {
        Solver {
            http01: Some(Http01Solver {
                ingress: Some(Http01Ingress {
                    ingress_class_name: Some("nginx".into()),
                    ..Default::default()
                }),
                gateway_http_route: None,
            }),
            ..Default::default()
        }
    }

    fn dns01() -> Solver {
        Solver {
            dns01: Some(serde_json::json!({"cloudflare": {}})),
            ..Default::default()
        }
    }

    #[test]
    fn http01_names_are_checked_dns01_and_wildcards_are_not() {
        let c = cert(&["shop.example.test", "*.example.test"], vec![http01()]);
        let plan = names(&c, &Snapshot::default()).unwrap();
        assert!(matches!(plan[0].how, How::Check(_)), "{plan:?}");
        assert!(matches!(plan[1].how, How::NotHttp01(_)), "{plan:?}");
        // DNS-01 only: out of scope.
        let c = cert(&["shop.example.test"], vec![dns01()]);
        assert_eq!(names(&c, &Snapshot::default()), None);
        // Not an ACME issuer: out of scope.
        let mut c = cert(&["shop.example.test"], vec![http01()]);
        c.issuer.as_mut().unwrap().acme = None;
        assert_eq!(names(&c, &Snapshot::default()), None);
    }

    #[test]
    fn a_live_challenge_is_probed_not_screened() {
        let mut c = cert(&["shop.example.test"], vec![http01()]);
        c.challenges.push(ChallengeEvidence {
            name: "web-1-2".into(),
            dns_name: "shop.example.test".into(),
            type_: "HTTP-01".into(),
            state: "pending".into(),
            presented: true,
            processing: true,
            ..Default::default()
        });
        let plan = names(&c, &Snapshot::default()).unwrap();
        assert_eq!(plan[0].how, How::Live("web-1-2".into()));
        // A valid (final) challenge of an earlier issuance does not count.
        c.challenges[0].state = "valid".into();
        c.challenges[0].presented = false;
        c.challenges[0].processing = false;
        let plan = names(&c, &Snapshot::default()).unwrap();
        assert!(matches!(plan[0].how, How::Check(_)));
    }

    #[test]
    fn screens_get_random_tokens_and_the_selected_solver() {
        let mut c = cert(&["a.example.test", "b.example.test"], vec![http01()]);
        let plan = names(&c, &Snapshot::default()).unwrap();
        assert!(add_screens(&mut c, &plan, &Snapshot::default()).is_empty());
        assert_eq!(c.challenges.len(), 2);
        let (a, b) = (&c.challenges[0], &c.challenges[1]);
        assert!(a.screen && b.screen);
        assert_eq!(
            (a.name.as_str(), b.name.as_str()),
            ("web-screen-0", "web-screen-1")
        );
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 43);
        assert_eq!(a.solver, http01());
        assert_eq!(crate::reason::phase(a), crate::reason::Phase::SelfCheck);
    }
}
