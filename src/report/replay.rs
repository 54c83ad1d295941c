//! The replay part of the text report: what a replay created and probed, or — after a failed
//! issuance without `--replay` — the command that replays it and what it would create. Printed
//! after the table, one block per certificate that has one; `-o json|yaml` carry the same data
//! as each certificate's `replay`.

use super::{CertificateReport, Report};
use crate::evidence::replay::{ReplayEvidence, ReplayState};
use std::fmt::Write;

/// Word-wrap `text` to `width` columns, every line starting with `indent` (the first with
/// `first`).
fn wrap(out: &mut String, first: &str, indent: &str, text: &str, width: usize) {
    let mut line = first.to_owned();
    let mut empty = first.trim().is_empty() || first.ends_with(' ');
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            let _ = writeln!(out, "{line}");
            line = indent.to_owned();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    let _ = writeln!(out, "{line}");
}

fn objects(r: &ReplayEvidence) -> Vec<String> {
    r.stand_ins
        .iter()
        .map(|s| {
            format!(
                "for {}: Pod, Service and {} {}/{} (solver #{})",
                s.dns_name,
                s.route_kind,
                r.namespace_of(s),
                s.object_name,
                s.solver_index
            )
        })
        .collect()
}

fn block(out: &mut String, c: &CertificateReport, r: &ReplayEvidence, width: usize) {
    let what = if r.preflight { "Pre-flight" } else { "Replay" };
    let subject = if r.subject.is_empty() {
        format!("Certificate {}/{}", c.namespace, c.name)
    } else {
        r.subject.clone()
    };
    match r.state {
        ReplayState::Planned => {
            wrap(
                out,
                &format!("{what} ({subject}):"),
                "  ",
                "issuance failed and cert-manager has removed its solver, so nothing serves a token to probe; a stand-in solver, created as cert-manager would create it and deleted when the run ends, shows what cert-manager's self check and the CA would see now. Replay it with:",
                width,
            );
            let _ = writeln!(out, "    {}", r.command);
            wrap(
                out,
                "  ",
                "    ",
                &format!(
                    "It creates in namespace {} (see them first with --dry-run):",
                    r.namespace
                ),
                width,
            );
        }
        ReplayState::Ran => {
            wrap(
                out,
                &format!("{what} ({subject}):"),
                "  ",
                "stand-in solvers were created, probed from both vantages like a live challenge (their challenges are listed above under the stand-in's name), and deleted:",
                width,
            );
        }
        ReplayState::Forbidden | ReplayState::Failed => {
            let p = r.problem.as_ref().map_or("", |p| p.message.as_str());
            wrap(
                out,
                &format!("{what} ({subject}):"),
                "  ",
                &format!("did not run: {p}"),
                width,
            );
        }
        ReplayState::NothingToReplay => {
            wrap(
                out,
                &format!("{what} ({subject}):"),
                "  ",
                "no name gets a stand-in:",
                width,
            );
        }
    }
    for o in objects(r) {
        wrap(out, "  - ", "    ", &o, width);
    }
    if let Some(image) = &r.image
        && !r.stand_ins.is_empty()
    {
        wrap(
            out,
            "  ",
            "    ",
            &format!("acmesolver image: {image}"),
            width,
        );
    }
    if let Some(p) = &r.propagation {
        let text = if p.finished {
            format!("route: {}", p.detail)
        } else {
            format!("route NOT confirmed before probing: {}", p.detail)
        };
        wrap(out, "  ", "    ", &text, width);
    }
    for s in &r.skipped {
        wrap(
            out,
            "  - ",
            "    ",
            &format!("{}: not replayed: {}", s.name, s.message),
            width,
        );
    }
    if r.state == ReplayState::Ran || r.state == ReplayState::Planned {
        let _ = writeln!(
            out,
            "  Where the stand-ins differ from cert-manager's objects:"
        );
        for n in r.stand_ins.iter().flat_map(|s| &s.notes).chain(&r.notes) {
            wrap(out, "  - ", "    ", n, width);
        }
    }
}

/// The replay blocks of every certificate that has one, for the table output (empty when none),
/// in the summary's order like the certificates' reports above them.
pub fn render_text(report: &Report, width: u16) -> String {
    let width = usize::from(width).max(40);
    let mut out = String::new();
    let order = super::summary::order(&report.certificates);
    for c in order.into_iter().map(|i| &report.certificates[i]) {
        if let Some(r) = &c.replay {
            out.push('\n');
            block(&mut out, c, r, width);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::replay::{Propagation, StandInEvidence};
    use crate::evidence::{CertificateEvidence, ClusterEvidence};

    fn report(state: ReplayState) -> Report {
        let cert = CertificateEvidence {
            namespace: "shop".into(),
            name: "web".into(),
            replay: Some(ReplayEvidence {
                state,
                namespace: "shop".into(),
                subject: "Certificate shop/web".into(),
                command: "kubectl acmecheck web -n shop --replay".into(),
                image: Some("quay.io/jetstack/cert-manager-acmesolver:v1.19.1".into()),
                stand_ins: vec![StandInEvidence {
                    dns_name: "shop.example.test".into(),
                    object_name: "acmecheck-solver-r-0".into(),
                    route_kind: "Ingress".into(),
                    notes: vec!["pathType Exact (cert-manager v1.18+)".into()],
                    ..Default::default()
                }],
                notes: vec!["a random token and key".into()],
                propagation: (state == ReplayState::Ran).then(|| Propagation {
                    finished: true,
                    waited_ms: 400,
                    detail: "the path served the key from this machine after 0.4s".into(),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        Report::new(
            vec![CertificateReport::new(&cert, vec![])],
            &ClusterEvidence::default(),
        )
    }

    #[test]
    fn the_hint_names_the_command_and_what_it_creates() {
        let text = render_text(&report(ReplayState::Planned), 80);
        println!("{text}");
        assert!(
            text.contains("\n    kubectl acmecheck web -n shop --replay\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "for shop.example.test: Pod, Service and Ingress shop/acmecheck-solver-r-0"
            ),
            "{text}"
        );
        assert!(text.contains("- pathType Exact"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    }

    /// `--all`: the blocks follow the summary's order (problems first), as the reports do.
    #[test]
    fn blocks_follow_the_summary_order() {
        use crate::diagnose::{Code, Finding, Proof, Severity};
        let one = report(ReplayState::Planned);
        let cert = |name: &str, findings| {
            let mut c = one.certificates[0].clone();
            c.name = name.into();
            if let Some(r) = c.replay.as_mut() {
                r.subject = format!("Certificate shop/{name}");
            }
            c.findings = findings;
            c
        };
        let failing = Finding::new(Code::CaRejected, Severity::Error, Proof::Proves, "x");
        let mut both = one.clone();
        both.certificates = vec![cert("fine", vec![]), cert("broken", vec![failing])];
        let text = render_text(&both, 100);
        let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s}: {text}"));
        assert!(
            at("Certificate shop/broken") < at("Certificate shop/fine"),
            "{text}"
        );
    }

    #[test]
    fn a_replay_that_ran_says_what_was_created_and_the_route() {
        let text = render_text(&report(ReplayState::Ran), 100);
        assert!(text.contains("probed from both vantages"), "{text}");
        assert!(text.contains("route: the path served the key"), "{text}");
        assert!(render_text(&Report::new(vec![], &ClusterEvidence::default()), 100).is_empty());
    }
}
