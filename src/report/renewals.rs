//! The renewal-risk report (`kubectl acmecheck renewals`): one line per Certificate, sorted by
//! renewal time — its names, when it renews and expires, the self-check and CA verdicts of what
//! was probed with a token (live challenges, stand-ins), the verdict (`ok`, `atRisk`,
//! `unknown`) and the first finding — with the counts on top. The same facts as JSON/YAML
//! (`kind: RenewalsReport`, schema `docs/renewals-schema.json`).
//!
//! Built from the diagnosis report of the same run (its findings are the diagnosis's, ranked)
//! and how each name was checked; no rule here. The table is drawn by `renewals_table.rs`.

use super::{API_VERSION, CertificateReport, InClusterSummary, Report};
use crate::diagnose::{Code, Finding, Severity};
use crate::evidence::CertificateEvidence;
use crate::probe::plan::VerdictOutcome;
use serde::{Deserialize, Serialize};

pub use super::renewals_table::render_text;

/// How a name was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CheckedBy {
    /// cert-manager's own live challenge, probed.
    Live,
    /// A stand-in solver (`--replay`), probed.
    Replay,
    /// The read-only screen: who answers the challenge path for a random token.
    Screen,
    /// No solver of the issuer can be used for the name: the renewal cannot succeed.
    Unsolvable,
    /// DNS-01 or a wildcard: not checked.
    NotHttp01,
}

/// A name's or a certificate's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    AtRisk,
    Unknown,
    Ok,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::AtRisk => "at risk",
            Verdict::Unknown => "unknown",
            Verdict::Ok => "ok",
        }
    }
}

/// What the run knows about one name before the verdicts (from the renewals stage).
#[derive(Debug, Clone, PartialEq)]
pub struct NameInput {
    pub name: String,
    pub checked_by: CheckedBy,
    /// The challenge its probes and findings are filed under (live, stand-in or screen).
    pub challenge: Option<String>,
    /// Why it was not checked, or cert-manager's message for an unsolvable name.
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameLine {
    pub name: String,
    pub checked_by: CheckedBy,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub challenge: Option<String>,
    /// Absent for names that are not checked (`notHttp01`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verdict: Option<Verdict>,
    /// cert-manager's self check (probe pod, else this machine) and the CA (this machine, else
    /// the probe pod) for a name probed with a token that something serves (`live`, `replay`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub self_check: Option<VerdictOutcome>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ca: Option<VerdictOutcome>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_finding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirstFinding {
    pub code: String,
    pub severity: Severity,
    /// The name it is about, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewalLine {
    pub namespace: String,
    pub name: String,
    pub ready: bool,
    /// `status.renewalTime` and `status.notAfter` (RFC 3339), when set.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub renewal_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub not_after: Option<String>,
    /// Seconds from the run to them (negative: past).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub renews_in_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expires_in_seconds: Option<i64>,
    pub verdict: Verdict,
    /// The worst verdict over its names probed with a token (absent: only screened).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub self_check: Option<VerdictOutcome>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ca: Option<VerdictOutcome>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_finding: Option<FirstFinding>,
    pub names: Vec<NameLine>,
    /// The diagnosis's findings, ranked.
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewalsSummary {
    pub certificates: usize,
    pub at_risk: usize,
    pub unknown: usize,
    pub ok: usize,
    /// The at-risk certificate that renews first.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_at_risk: Option<FirstAtRisk>,
    /// `screen` (read-only) or `replay` (stand-in solvers) for names without a live challenge.
    pub mode: String,
    /// `--strict`: unknown counts as at risk for the exit code.
    pub strict: bool,
    /// 1 when a certificate is at risk (or unknown with `--strict`), else 0.
    pub exit_code: i32,
    /// The count line the table starts with.
    pub line: String,
    /// Fresh connections the run made, per address and vantage, as the probe reports count
    /// them (every attempt, follow-ups and direct probes included).
    pub connections: Connections,
}

/// Fresh connections per address (`ip` for a name's address on the URL's port, `ip:port` for a
/// direct probe), per vantage, and the cap each vantage had per address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connections {
    /// `--max-connections-per-address`.
    pub cap_per_address: u32,
    pub local: std::collections::BTreeMap<String, u32>,
    pub in_cluster: std::collections::BTreeMap<String, u32>,
    /// With `--replay`: requests from this machine while waiting for the data plane to serve
    /// the stand-ins' paths (before the probes; each name asked once when served at once).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty", default)]
    pub replay_wait: std::collections::BTreeMap<String, u32>,
}

fn count_connections(
    t: &crate::probe::plan::TargetReport,
    into: &mut std::collections::BTreeMap<String, u32>,
) {
    for a in t.addresses.iter().chain(&t.ca_addresses) {
        let extra = a.with_proxy_protocol.as_ref().map_or(0, |p| p.attempts)
            + a.arrival_order
                .as_ref()
                .map_or(0, |o| u32::try_from(o.sequence.len()).unwrap_or(u32::MAX));
        *into.entry(a.address.clone()).or_default() += a.attempts + extra;
    }
    for d in &t.direct {
        let extra = d.with_proxy_protocol.as_ref().map_or(0, |p| p.attempts);
        *into.entry(d.address.clone()).or_default() += d.attempts + extra;
    }
}

/// What the probe reports of the run count, per vantage and address.
fn connections(report: &Report, cap: u32) -> Connections {
    let mut c = Connections {
        cap_per_address: cap,
        ..Default::default()
    };
    for ch in report.certificates.iter().flat_map(|r| &r.challenges) {
        if let Some(t) = &ch.vantages.local {
            count_connections(t, &mut c.local);
        }
        if let Some(t) = &ch.vantages.in_cluster {
            count_connections(t, &mut c.in_cluster);
        }
    }
    c
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirstAtRisk {
    pub namespace: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub renews_in_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewalsReport {
    pub api_version: String,
    pub kind: String,
    pub summary: RenewalsSummary,
    /// Sorted by renewal time (unknown last).
    pub certificates: Vec<RenewalLine>,
    /// What the run could not read or do, and what the reader should know (a missing vantage).
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub in_cluster: Option<InClusterSummary>,
}

/// What [`build`] reads.
pub struct Input<'a> {
    /// The diagnosis report of the run (certificates in the order of `certs`).
    pub report: &'a Report,
    pub certs: &'a [CertificateEvidence],
    /// Per certificate, its names (same order).
    pub names: &'a [Vec<NameInput>],
    pub replay: bool,
    pub strict: bool,
    pub now_unix: i64,
    pub notes: Vec<String>,
    /// The connection cap per address each vantage had.
    pub cap_per_address: u32,
    /// Requests of the `--replay` propagation wait per address (empty without `--replay`).
    pub replay_wait: std::collections::BTreeMap<String, u32>,
}

fn seconds_until(ts: Option<&str>, now: i64) -> Option<i64> {
    let t: k8s_openapi::jiff::Timestamp = ts?.parse().ok()?;
    Some(t.as_second() - now)
}

fn rank(o: VerdictOutcome) -> u8 {
    match o {
        VerdictOutcome::Fail => 0,
        VerdictOutcome::Flaky => 1,
        VerdictOutcome::Unknown => 2,
        VerdictOutcome::Pass => 3,
    }
}

fn worst(a: Option<VerdictOutcome>, b: Option<VerdictOutcome>) -> Option<VerdictOutcome> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if rank(y) < rank(x) { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}

fn name_line(c: &CertificateReport, n: &NameInput) -> NameLine {
    let mut line = NameLine {
        name: n.name.clone(),
        checked_by: n.checked_by,
        challenge: n.challenge.clone(),
        verdict: None,
        self_check: None,
        ca: None,
        first_finding: None,
        note: n.note.clone(),
    };
    match n.checked_by {
        CheckedBy::NotHttp01 => return line,
        CheckedBy::Unsolvable => {
            line.verdict = Some(Verdict::AtRisk);
            line.first_finding = Some(Code::NoMatchingSolver.to_string());
            return line;
        }
        _ => {}
    }
    let Some(ch) = n.challenge.as_deref() else {
        line.verdict = Some(Verdict::Unknown);
        return line;
    };
    let mine: Vec<&Finding> = c
        .findings
        .iter()
        .filter(|f| f.challenge.as_deref() == Some(ch))
        .collect();
    let first = mine
        .iter()
        .find(|f| f.severity == Severity::Error)
        .or_else(|| mine.iter().find(|f| f.severity == Severity::Warning));
    line.first_finding = first.map(|f| f.code.to_string());
    let report = c.challenges.iter().find(|r| r.name == ch);
    let probed =
        report.is_some_and(|r| r.vantages.local.is_some() || r.vantages.in_cluster.is_some());
    if n.checked_by != CheckedBy::Screen
        && let Some(r) = report
    {
        let (local, inside) = (r.vantages.local.as_ref(), r.vantages.in_cluster.as_ref());
        line.self_check = inside.or(local).map(|t| t.verdicts.self_check.outcome);
        line.ca = local.or(inside).map(|t| t.verdicts.acme.outcome);
    }
    line.verdict = Some(if mine.iter().any(|f| f.severity == Severity::Error) {
        Verdict::AtRisk
    } else if n.checked_by == CheckedBy::Screen {
        let passed = mine.iter().any(|f| f.code == Code::ScreenPassed);
        if passed {
            Verdict::Ok
        } else {
            Verdict::Unknown
        }
    } else if probed {
        Verdict::Ok
    } else {
        Verdict::Unknown
    });
    line
}

fn cert_line(
    c: &CertificateReport,
    ev: &CertificateEvidence,
    names: &[NameInput],
    now: i64,
) -> RenewalLine {
    let names: Vec<NameLine> = names.iter().map(|n| name_line(c, n)).collect();
    let any_error = c.findings.iter().any(|f| f.severity == Severity::Error);
    let verdict = if any_error || names.iter().any(|n| n.verdict == Some(Verdict::AtRisk)) {
        Verdict::AtRisk
    } else if names.iter().any(|n| n.verdict == Some(Verdict::Unknown)) {
        Verdict::Unknown
    } else {
        Verdict::Ok
    };
    let dns_of = |ch: Option<&str>| {
        ch.and_then(|ch| names.iter().find(|n| n.challenge.as_deref() == Some(ch)))
            .map(|n| n.name.clone())
    };
    let first = c
        .findings
        .iter()
        .find(|f| f.severity == Severity::Error)
        .or_else(|| c.findings.iter().find(|f| f.severity == Severity::Warning))
        .map(|f| FirstFinding {
            code: f.code.to_string(),
            severity: f.severity,
            name: dns_of(f.challenge.as_deref()),
            summary: f.summary.clone(),
        })
        .or_else(|| {
            names
                .iter()
                .find(|n| n.checked_by == CheckedBy::Unsolvable)
                .map(|n| FirstFinding {
                    code: Code::NoMatchingSolver.to_string(),
                    severity: Severity::Error,
                    name: Some(n.name.clone()),
                    summary: n.note.clone().unwrap_or_default(),
                })
        });
    RenewalLine {
        namespace: c.namespace.clone(),
        name: c.name.clone(),
        ready: c.ready,
        renewal_time: ev.renewal_time.clone(),
        not_after: ev.not_after.clone(),
        renews_in_seconds: seconds_until(ev.renewal_time.as_deref(), now),
        expires_in_seconds: seconds_until(ev.not_after.as_deref(), now),
        verdict,
        self_check: names.iter().fold(None, |w, n| worst(w, n.self_check)),
        ca: names.iter().fold(None, |w, n| worst(w, n.ca)),
        first_finding: first,
        names,
        findings: c.findings.clone(),
    }
}

/// `3 days`, `5 hours`, `12 minutes`, `now` (rounded to the nearest unit).
pub fn human(secs: i64) -> String {
    let (n, unit) = if secs < 3600 {
        return if secs <= 0 {
            "now".into()
        } else {
            format!("{} minutes", (secs + 59) / 60)
        };
    } else if secs < 2 * 86400 {
        ((secs + 1800) / 3600, "hours")
    } else {
        ((secs + 43_200) / 86_400, "days")
    };
    format!("{n} {unit}")
}

/// `212 certificates, 3 at risk, first renewal at risk in 4 days`.
fn count_line(s: &RenewalsSummary) -> String {
    let plural = if s.certificates == 1 { "" } else { "s" };
    let mut text = format!(
        "{} certificate{plural}, {} at risk",
        s.certificates, s.at_risk
    );
    if s.unknown > 0 {
        text.push_str(&format!(", {} unknown", s.unknown));
    }
    if let Some(f) = &s.first_at_risk {
        match f.renews_in_seconds {
            Some(secs) if secs <= 0 => text.push_str(", first renewal at risk due now"),
            Some(secs) => text.push_str(&format!(", first renewal at risk in {}", human(secs))),
            None => {}
        }
    }
    text
}

/// The renewals report of a run.
pub fn build(input: Input) -> RenewalsReport {
    let mut lines: Vec<RenewalLine> = input
        .report
        .certificates
        .iter()
        .zip(input.certs)
        .zip(input.names)
        .map(|((c, ev), names)| cert_line(c, ev, names, input.now_unix))
        .collect();
    lines.sort_by(|a, b| {
        (
            a.renews_in_seconds.is_none(),
            a.renews_in_seconds,
            &a.namespace,
            &a.name,
        )
            .cmp(&(
                b.renews_in_seconds.is_none(),
                b.renews_in_seconds,
                &b.namespace,
                &b.name,
            ))
    });
    let count = |v: Verdict| lines.iter().filter(|l| l.verdict == v).count();
    let (at_risk, unknown, ok) = (
        count(Verdict::AtRisk),
        count(Verdict::Unknown),
        count(Verdict::Ok),
    );
    let first_at_risk = lines
        .iter()
        .find(|l| l.verdict == Verdict::AtRisk)
        .map(|l| FirstAtRisk {
            namespace: l.namespace.clone(),
            name: l.name.clone(),
            renews_in_seconds: l.renews_in_seconds,
        });
    let fails = at_risk > 0 || (input.strict && unknown > 0);
    let mut summary = RenewalsSummary {
        certificates: lines.len(),
        at_risk,
        unknown,
        ok,
        first_at_risk,
        mode: if input.replay { "replay" } else { "screen" }.into(),
        strict: input.strict,
        exit_code: if fails {
            crate::error::exit::PROBLEM
        } else {
            crate::error::exit::OK
        },
        line: String::new(),
        connections: Connections {
            replay_wait: input.replay_wait,
            ..connections(input.report, input.cap_per_address)
        },
    };
    summary.line = count_line(&summary);
    let mut notes = input.notes;
    notes.extend(input.report.notes.iter().cloned());
    RenewalsReport {
        api_version: API_VERSION.into(),
        kind: "RenewalsReport".into(),
        summary,
        certificates: lines,
        notes,
        in_cluster: input.report.in_cluster.clone(),
    }
}

impl RenewalsReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).unwrap_or_else(|e| format!("error: {e}\n"))
    }
}
