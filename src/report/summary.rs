//! The report at a glance: one line per certificate — ready, the phase of its stuck challenge,
//! the self-check and CA verdicts, the first finding — problems first, and a count line
//! (`3 certificates: 1 with a problem`). It is `summary.lines` in `-o json|yaml`, and the first
//! thing the table prints for a run over more than one certificate.

use super::layout::{Sheet, Text, sheet};
use super::{CertificateReport, ChallengeReport};
use crate::diagnose::Severity;
use crate::probe::plan::{TargetReport, VerdictOutcome};
use crate::reason::Phase;
use comfy_table::Color;
use serde::{Deserialize, Serialize};

/// How a certificate came out of the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// At least one error finding.
    Problem,
    /// No error finding, but a challenge in the self-check phase was probed from neither
    /// vantage (`--no-probe`, or no probe report for it): its path was not checked.
    NotChecked,
    /// No error finding, and every challenge that could be probed was.
    Ok,
}

/// One certificate's line of the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub namespace: String,
    pub name: String,
    pub ready: bool,
    pub status: Status,
    /// The stuck challenge the line describes: the one the first finding is about, else the
    /// first challenge that is not done (absent: no challenge in flight).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub challenge: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub phase: Option<Phase>,
    /// cert-manager's self check: the probe pod's verdict, else this machine's estimate
    /// (absent: not probed).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub self_check: Option<VerdictAt>,
    /// The CA's validation: from this machine (outside), else estimated from the probe pod.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ca: Option<VerdictAt>,
    /// The first error finding, else the first warning (absent: neither).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_finding: Option<FirstFinding>,
}

/// A verdict and the vantage it was judged from (`local` or `inCluster`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictAt {
    pub outcome: VerdictOutcome,
    pub vantage: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirstFinding {
    pub code: String,
    pub severity: Severity,
}

/// One line per certificate, problems first, then those not checked, then the rest (each group
/// in report order).
pub fn lines(certs: &[CertificateReport]) -> Vec<Line> {
    let mut lines: Vec<Line> = certs.iter().map(line).collect();
    lines.sort_by_key(|l| l.status);
    lines
}

fn line(c: &CertificateReport) -> Line {
    let first = c
        .findings
        .iter()
        .find(|f| f.severity == Severity::Error)
        .or_else(|| c.findings.iter().find(|f| f.severity == Severity::Warning));
    let stuck = first
        .and_then(|f| f.challenge.as_deref())
        .and_then(|name| c.challenges.iter().find(|ch| ch.name == name))
        .filter(|ch| ch.phase != Phase::Done)
        .or_else(|| c.challenges.iter().find(|ch| ch.phase != Phase::Done));
    let unprobed = c.challenges.iter().any(|ch| {
        ch.type_.eq_ignore_ascii_case("HTTP-01")
            && ch.phase == Phase::SelfCheck
            && ch.vantages.local.is_none()
            && ch.vantages.in_cluster.is_none()
    });
    let status = if c.has_problem() {
        Status::Problem
    } else if unprobed {
        Status::NotChecked
    } else {
        Status::Ok
    };
    let (self_check, ca) = stuck.map_or((None, None), verdicts);
    Line {
        namespace: c.namespace.clone(),
        name: c.name.clone(),
        ready: c.ready,
        status,
        challenge: stuck.map(|ch| ch.name.clone()),
        phase: stuck.map(|ch| ch.phase),
        self_check,
        ca,
        first_finding: first.map(|f| FirstFinding {
            code: f.code.to_string(),
            severity: f.severity,
        }),
    }
}

/// As the table's probe section judges them: the self check from inside when there is an
/// inside view (that is where cert-manager runs), the CA from outside when there is one.
fn verdicts(ch: &ChallengeReport) -> (Option<VerdictAt>, Option<VerdictAt>) {
    let at = |t: &TargetReport, vantage: &str, ca: bool| VerdictAt {
        outcome: if ca {
            t.verdicts.acme.outcome
        } else {
            t.verdicts.self_check.outcome
        },
        vantage: vantage.to_owned(),
    };
    let (local, inside) = (ch.vantages.local.as_ref(), ch.vantages.in_cluster.as_ref());
    let self_check = inside
        .map(|t| at(t, "inCluster", false))
        .or_else(|| local.map(|t| at(t, "local", false)));
    let ca = local
        .map(|t| at(t, "local", true))
        .or_else(|| inside.map(|t| at(t, "inCluster", true)));
    (self_check, ca)
}

/// `14 certificates: 3 with problems, 1 not checked`.
pub fn count_line(lines: &[Line]) -> String {
    let n = lines.len();
    let count = |s: Status| lines.iter().filter(|l| l.status == s).count();
    let problems = match count(Status::Problem) {
        0 => "no problem found".to_owned(),
        1 => "1 with a problem".to_owned(),
        p => format!("{p} with problems"),
    };
    let plural = if n == 1 { "" } else { "s" };
    let mut text = format!("{n} certificate{plural}: {problems}");
    let unchecked = count(Status::NotChecked);
    if unchecked > 0 {
        text.push_str(&format!(", {unchecked} not checked"));
    }
    text
}

fn outcome(v: Option<&VerdictAt>) -> &'static str {
    match v.map(|v| v.outcome) {
        None => "-",
        Some(VerdictOutcome::Pass) => "pass",
        Some(VerdictOutcome::Fail) => "fail",
        Some(VerdictOutcome::Flaky) => "flaky",
        Some(VerdictOutcome::Unknown) => "unknown",
    }
}

/// The count line and the table of lines, for the top (and the end) of the table output.
pub(super) fn render(lines: &[Line], total: usize, color: bool) -> String {
    let rows = lines
        .iter()
        .map(|l| {
            let finding = match (&l.first_finding, l.status) {
                (Some(f), _) => {
                    let fg = match f.severity {
                        Severity::Error => Color::Red,
                        _ => Color::Yellow,
                    };
                    Text::colored(f.code.clone(), fg)
                }
                (None, Status::NotChecked) => Text::colored("not checked", Color::Yellow),
                (None, _) => Text::colored("ok", Color::Green),
            };
            vec![
                Text::from(format!("{}/{}", l.namespace, l.name)),
                Text::from(if l.ready { "yes" } else { "no" }),
                Text::from(l.phase.map_or("-", Phase::label)),
                Text::from(outcome(l.self_check.as_ref())),
                Text::from(outcome(l.ca.as_ref())),
                finding,
            ]
        })
        .collect();
    let s = Sheet {
        headers: vec![
            "CERTIFICATE",
            "READY",
            "PHASE",
            "SELF CHECK",
            "CA",
            "FIRST FINDING",
        ],
        rows,
    };
    format!("{}\n{}", count_line(lines), sheet(&s, total, color))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::finding::Code;
    use crate::diagnose::{Finding, Proof};
    use crate::probe::plan::{Verdict, Verdicts};
    use crate::report::{IssuerSummary, Vantages};

    fn cert(
        ns: &str,
        findings: Vec<Finding>,
        challenges: Vec<ChallengeReport>,
    ) -> CertificateReport {
        CertificateReport {
            namespace: ns.into(),
            name: "web".into(),
            ready: false,
            ready_reason: None,
            ready_message: None,
            dns_names: vec![],
            issuer: IssuerSummary {
                kind: "ClusterIssuer".into(),
                name: "le".into(),
                ready: Some(true),
                acme_server: None,
            },
            request: None,
            order: None,
            challenges,
            already_authorized: vec![],
            findings,
            replay: None,
        }
    }

    fn challenge(name: &str, phase: Phase, vantages: Vantages) -> ChallengeReport {
        ChallengeReport {
            name: name.into(),
            dns_name: "www.example.com".into(),
            type_: "HTTP-01".into(),
            url: String::new(),
            phase,
            state: "pending".into(),
            presented: true,
            processing: true,
            reason: None,
            parsed_reason: None,
            solver: String::new(),
            vantages,
        }
    }

    fn probed(self_check: VerdictOutcome, acme: VerdictOutcome) -> TargetReport {
        let v = |outcome| Verdict {
            outcome,
            ..Default::default()
        };
        TargetReport {
            verdicts: Verdicts {
                self_check: v(self_check),
                acme: v(acme),
            },
            ..Default::default()
        }
    }

    fn finding(code: Code, severity: Severity, challenge: Option<&str>) -> Finding {
        let mut f = Finding::new(code, severity, Proof::Proves, "x");
        f.challenge = challenge.map(str::to_owned);
        f
    }

    #[test]
    fn problems_first_then_not_checked_then_ok() {
        use VerdictOutcome::{Fail, Flaky, Pass};
        let both = Vantages {
            local: Some(probed(Fail, Pass)),
            in_cluster: Some(probed(Flaky, Fail)),
        };
        let certs = vec![
            cert(
                "a-ok",
                vec![finding(Code::NotChecked, Severity::Info, None)],
                vec![challenge(
                    "a-1",
                    Phase::SelfCheck,
                    Vantages {
                        local: Some(probed(Pass, Pass)),
                        in_cluster: None,
                    },
                )],
            ),
            cert(
                "b-unchecked",
                vec![],
                vec![challenge("b-1", Phase::SelfCheck, Vantages::default())],
            ),
            cert(
                "c-problem",
                vec![
                    finding(Code::DnsBroken, Severity::Warning, None),
                    finding(Code::MixedBackends, Severity::Error, Some("c-2")),
                ],
                vec![
                    challenge("c-1", Phase::Done, Vantages::default()),
                    challenge("c-2", Phase::SelfCheck, both),
                ],
            ),
        ];
        let lines = lines(&certs);
        let order: Vec<_> = lines
            .iter()
            .map(|l| (l.namespace.as_str(), l.status))
            .collect();
        assert_eq!(
            order,
            [
                ("c-problem", Status::Problem),
                ("b-unchecked", Status::NotChecked),
                ("a-ok", Status::Ok)
            ]
        );
        let c = &lines[0];
        assert_eq!(c.challenge.as_deref(), Some("c-2"));
        assert_eq!(c.phase, Some(Phase::SelfCheck));
        // The self check from inside, the CA from outside.
        assert_eq!(
            c.self_check,
            Some(VerdictAt {
                outcome: Flaky,
                vantage: "inCluster".into()
            })
        );
        assert_eq!(
            c.ca,
            Some(VerdictAt {
                outcome: Pass,
                vantage: "local".into()
            })
        );
        // The error comes first even when a warning is ranked above it.
        assert_eq!(c.first_finding.as_ref().unwrap().code, "MIXED_BACKENDS");
        // Without the pod, the self check is this machine's estimate.
        assert_eq!(lines[2].self_check.as_ref().unwrap().vantage, "local");
        // An info finding is not a first finding.
        assert_eq!(lines[2].first_finding, None);
        assert_eq!(
            count_line(&lines),
            "3 certificates: 1 with a problem, 1 not checked"
        );
        let text = render(&lines, 80, false);
        assert_eq!(
            text,
            "3 certificates: 1 with a problem, 1 not checked
 CERTIFICATE      READY  PHASE       SELF CHECK  CA    FIRST FINDING
 c-problem/web    no     self check  flaky       pass  MIXED_BACKENDS
 b-unchecked/web  no     self check  -           -     not checked
 a-ok/web         no     self check  pass        pass  ok
"
        );
    }

    #[test]
    fn count_lines() {
        let l = |status| Line {
            namespace: "n".into(),
            name: "c".into(),
            ready: false,
            status,
            challenge: None,
            phase: None,
            self_check: None,
            ca: None,
            first_finding: None,
        };
        assert_eq!(
            count_line(&[l(Status::Ok)]),
            "1 certificate: no problem found"
        );
        assert_eq!(
            count_line(&[l(Status::Problem), l(Status::Problem), l(Status::Ok)]),
            "3 certificates: 2 with problems"
        );
    }
}
