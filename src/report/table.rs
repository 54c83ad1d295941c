//! The table for people: per certificate, one header line, the chain, the challenges, then the
//! findings with the root cause first. Readable at 80 columns.

use super::{CertificateReport, Report};
use crate::diagnose::{Finding, Proof, Severity};
use crate::probe::plan::{CaProfile, TargetReport, Verdict, VerdictOutcome};
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table, presets};
use owo_colors::OwoColorize;
use std::fmt::Write as _;

/// How to render: width and whether to use colour.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub width: u16,
    pub color: bool,
    /// `-o wide`: every evidence line and the raw reason text.
    pub wide: bool,
}

pub fn render(report: &Report, style: Style) -> String {
    let mut out = render_untrimmed(report, style);
    // comfy-table pads every cell; trailing blanks only get in the way of copy and paste.
    out = out
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

fn render_untrimmed(report: &Report, style: Style) -> String {
    let mut out = String::new();
    for (i, cert) in report.certificates.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        certificate(&mut out, cert, style);
    }
    if report.certificates.is_empty() {
        out.push_str("No certificates to check.\n");
    }
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

fn paint(s: &str, color: bool, f: impl Fn(&str) -> String) -> String {
    if color { f(s) } else { s.to_owned() }
}

fn certificate(out: &mut String, c: &CertificateReport, style: Style) {
    let ready = if c.ready {
        paint("Ready", style.color, |s| s.green().bold().to_string())
    } else {
        paint("Not ready", style.color, |s| s.red().bold().to_string())
    };
    let title = paint(
        &format!("Certificate {}/{}", c.namespace, c.name),
        style.color,
        |s| s.bold().to_string(),
    );
    let _ = writeln!(out, "{title}  {ready}");
    let w = usize::from(style.width);
    if !c.dns_names.is_empty() {
        field(out, "names", &c.dns_names.join(", "), w);
    }
    let issuer_state = match c.issuer.ready {
        Some(true) => "ready",
        Some(false) => "NOT ready",
        None => "not found",
    };
    field(
        out,
        "issuer",
        &format!("{} {} ({issuer_state})", c.issuer.kind, c.issuer.name),
        w,
    );
    if let Some(server) = &c.issuer.acme_server {
        field(out, "ACME", server, w);
    }
    match &c.request {
        Some(r) => field(
            out,
            "request",
            &format!("CertificateRequest {} ({})", r.name, r.state),
            w,
        ),
        None => field(out, "request", "no CertificateRequest in flight", w),
    }
    if let Some(o) = &c.order {
        let n = c.challenges.len();
        let plural = if n == 1 { "" } else { "s" };
        field(
            out,
            "order",
            &format!("Order {} ({}), {n} challenge{plural}", o.name, o.state),
            w,
        );
    }
    if !c.already_authorized.is_empty() {
        let _ = writeln!(
            out,
            "  already authorized: {}",
            c.already_authorized.join(", ")
        );
    }
    if !c.challenges.is_empty() {
        out.push('\n');
        out.push_str(&challenge_table(c, style));
        out.push('\n');
    }
    for ch in &c.challenges {
        if let Some(local) = &ch.vantages.local {
            out.push('\n');
            vantage(out, "from this machine", local, style);
        }
    }
    out.push('\n');
    if c.findings.is_empty() {
        let what = if c.ready {
            "certificate is Ready"
        } else if c.challenges.is_empty() {
            "no issuance in flight"
        } else {
            "challenges, solver resources and issuer look right"
        };
        let _ = writeln!(
            out,
            "{} ({what})",
            paint("No problem found", style.color, |s| s.green().to_string())
        );
        return;
    }
    out.push_str(&findings_table(&c.findings, style));
    out.push('\n');
}

fn verdict_line(v: &Verdict) -> String {
    let what = match v.outcome {
        VerdictOutcome::Pass => "pass",
        VerdictOutcome::Fail => "fail",
        VerdictOutcome::Flaky => "flaky",
        VerdictOutcome::Unknown => "unknown",
    };
    // Over consecutive slots of a strict rotation (the findings explain it); short for 80 columns.
    if v.rotation.is_some() && v.outcome != VerdictOutcome::Pass {
        return match v.outcome {
            VerdictOutcome::Flaky => format!(
                "{what} (≈{:.1} %, strict round-robin)",
                v.pass_probability * 100.0
            ),
            _ => format!("{what} (strict round-robin)"),
        };
    }
    if v.outcome == VerdictOutcome::Flaky {
        format!(
            "{what} (≈{:.1} % of rounds pass)",
            v.pass_probability * 100.0
        )
    } else {
        what.to_owned()
    }
}

/// One vantage's probe results: DNS, per-address outcome counts, the two verdicts.
fn vantage(out: &mut String, label: &str, t: &TargetReport, style: Style) {
    // The URL itself is in -o json/yaml (vantages.local.url); its token would not fit 80 columns.
    let _ = writeln!(
        out,
        "Probe {label}: http://{}/.well-known/acme-challenge/…",
        t.dns_name
    );
    for r in &t.dns.resolvers {
        let answer = match r.error {
            Some(e) => e.as_str().to_owned(),
            None => {
                let mut parts = Vec::new();
                if !r.cname.is_empty() {
                    parts.push(format!("CNAME {}", r.cname.join(" → ")));
                }
                if !r.a.is_empty() {
                    parts.push(format!("A {}", r.a.join(", ")));
                }
                if !r.aaaa.is_empty() {
                    parts.push(format!("AAAA {}", r.aaaa.join(", ")));
                }
                parts.join("; ")
            }
        };
        let _ = writeln!(out, "  DNS ({}): {answer}", r.resolver);
    }
    if !t.addresses.is_empty() {
        let mut tbl = base_table(style, presets::NOTHING);
        tbl.set_header(header(
            &["ADDRESS", "TRIES", "RESULTS (fresh connection each)"],
            style,
        ));
        for a in &t.addresses {
            tbl.add_row(vec![
                Cell::new(&a.address),
                Cell::new(a.attempts),
                Cell::new(crate::diagnose::probe::outcome_summary(a)),
            ]);
        }
        out.push_str(&tbl.to_string());
        out.push('\n');
    }
    let ca = match t.ca_profile {
        CaProfile::Letsencrypt => "Let's Encrypt rules",
        CaProfile::Pebble => "Pebble rules",
        CaProfile::Private => "private ACME server",
    };
    let _ = writeln!(
        out,
        "  cert-manager self check: {}",
        verdict_line(&t.verdicts.self_check)
    );
    let _ = writeln!(
        out,
        "  ACME server validation ({ca}): {}",
        verdict_line(&t.verdicts.acme)
    );
}

/// `  label:   text`, wrapped at spaces to `width` with the text column kept.
fn field(out: &mut String, label: &str, text: &str, width: usize) {
    let head = format!("  {:<9}", format!("{label}:"));
    let room = width.saturating_sub(head.len()).max(20);
    let mut line = String::new();
    let mut first = true;
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            let _ = writeln!(
                out,
                "{}{line}",
                if first {
                    head.clone()
                } else {
                    " ".repeat(head.len())
                }
            );
            first = false;
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    let _ = writeln!(
        out,
        "{}{line}",
        if first {
            head.clone()
        } else {
            " ".repeat(head.len())
        }
    );
}

fn base_table(style: Style, preset: comfy_table::TableStyle) -> Table {
    let mut t = Table::new();
    t.load_style(preset)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width);
    if style.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

fn header(names: &[&str], style: Style) -> Vec<Cell> {
    names
        .iter()
        .map(|n| {
            let c = Cell::new(n);
            if style.color {
                c.add_attribute(Attribute::Bold)
            } else {
                c
            }
        })
        .collect()
}

fn challenge_table(c: &CertificateReport, style: Style) -> String {
    let mut t = base_table(style, presets::NOTHING);
    t.set_header(header(
        &["CHALLENGE", "DOMAIN", "PHASE", "STATE", "REASON"],
        style,
    ));
    for ch in &c.challenges {
        let reason = match (&ch.parsed_reason, &ch.reason) {
            (_, Some(raw)) if style.wide => raw.clone(),
            (Some(p), _) => p.short(),
            (None, _) => "-".to_owned(),
        };
        let state = if ch.state.is_empty() { "-" } else { &ch.state };
        t.add_row(vec![
            Cell::new(&ch.name),
            Cell::new(&ch.dns_name),
            Cell::new(ch.phase.label()),
            Cell::new(state),
            Cell::new(reason),
        ]);
    }
    t.to_string()
}

fn severity_cell(f: &Finding, style: Style) -> Cell {
    let (text, color) = match f.severity {
        Severity::Error => ("error", Color::Red),
        Severity::Warning => ("warning", Color::Yellow),
        Severity::Info => ("info", Color::Blue),
    };
    let cell = Cell::new(text);
    if style.color { cell.fg(color) } else { cell }
}

fn findings_table(findings: &[Finding], style: Style) -> String {
    let mut t = base_table(style, presets::UTF8_HORIZONTAL_ONLY);
    t.set_header(header(&["#", "SEVERITY", "FINDING"], style));
    let root = findings
        .iter()
        .position(|f| f.severity == Severity::Error && f.proof == Proof::Proves)
        .or_else(|| findings.iter().position(|f| f.severity == Severity::Error));
    for (i, f) in findings.iter().enumerate() {
        let mut text = String::new();
        let role = match root {
            Some(r) if r == i => " (root cause)",
            Some(r) if i > r && f.severity == Severity::Error => " (consequence or secondary)",
            _ => "",
        };
        let code = format!("{}{role}", f.code);
        // Plain text inside cells: comfy-table measures width without escape codes.
        text.push_str(&code);
        text.push('\n');
        text.push_str(&f.summary);
        let shown = if style.wide { f.evidence.len() } else { 4 };
        for e in f.evidence.iter().take(shown) {
            let _ = write!(text, "\n• {e}");
        }
        if f.evidence.len() > shown {
            let _ = write!(text, "\n• … {} more (-o wide)", f.evidence.len() - shown);
        }
        if !f.fix.is_empty() {
            let _ = write!(text, "\nfix: {}", f.fix);
        }
        let _ = write!(text, "\ndocs: {}", f.doc_path());
        t.add_row(vec![
            Cell::new(i + 1),
            severity_cell(f, style),
            Cell::new(text),
        ]);
    }
    t.to_string()
}
