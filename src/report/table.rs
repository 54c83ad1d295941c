//! The table for people: for a run over several certificates a summary first (one line each,
//! problems first); then per certificate one header line, the chain, the challenges, the probes
//! with the path as a picture, and the findings with the root cause first. Readable at 80
//! columns; a name, host or address is never split across lines ([`super::layout`]).

use super::layout::{self, Sheet, Text, break_long_tokens, sheet};
use super::picture::Charset;
use super::probes::probes;
use super::{CertificateReport, InClusterSummary, Report, summary};
use crate::diagnose::{Finding, Proof, Severity};
use comfy_table::{Cell, Color, presets};
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

/// What the terminal can show besides [`Style`]: which characters draw lines, whether to draw
/// the path picture (`--no-picture` turns it off), and the terminal's height when stdout is a
/// terminal (a run taller than it repeats the summary at the end, where the reader is).
#[derive(Debug, Clone, Copy)]
pub struct Look {
    pub charset: Charset,
    pub picture: bool,
    pub rows: Option<u16>,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            charset: Charset::Unicode,
            picture: true,
            rows: None,
        }
    }
}

/// The table with the default [`Look`]: box drawing, the picture, no terminal height.
pub fn render(report: &Report, style: Style) -> String {
    render_with(report, style, Look::default())
}

pub fn render_with(report: &Report, style: Style, look: Look) -> String {
    let total = usize::from(style.width);
    let summary = (report.certificates.len() > 1)
        .then(|| summary::render(&report.summary.lines, total, style.color));
    let mut out = String::new();
    if let Some(s) = &summary {
        out.push_str(s);
        out.push('\n');
    }
    out.push_str(&render_untrimmed(report, style, look));
    if let (Some(s), Some(rows)) = (&summary, look.rows)
        && out.lines().count() > usize::from(rows)
    {
        out.push('\n');
        out.push_str(s);
    }
    // comfy-table pads every cell; trailing blanks only get in the way of copy and paste.
    out = out
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

fn render_untrimmed(report: &Report, style: Style, look: Look) -> String {
    let mut out = String::new();
    for (i, cert) in report.certificates.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        certificate(&mut out, cert, report.in_cluster.as_ref(), style, look);
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

fn certificate(
    out: &mut String,
    c: &CertificateReport,
    in_cluster: Option<&InClusterSummary>,
    style: Style,
    look: Look,
) {
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
    }
    for ch in &c.challenges {
        if ch.vantages.local.is_some() || ch.vantages.in_cluster.is_some() {
            out.push('\n');
            probes(out, &ch.vantages, in_cluster, style, look);
        }
    }
    out.push('\n');
    if c.findings.iter().all(|f| f.severity == Severity::Info) {
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
        field(out, "checked", &checked(c), usize::from(style.width));
        if c.findings.is_empty() {
            return;
        }
        out.push('\n');
    }
    out.push_str(&findings_table(&c.findings, style, look.charset));
    out.push('\n');
}

/// What a run with no problem looked at: rules, and per vantage the addresses and attempts.
fn checked(c: &CertificateReport) -> String {
    let mut parts = vec![format!(
        "{} rules over the certificate, issuer, order, challenges and solver resources",
        crate::diagnose::rule_count()
    )];
    for ch in &c.challenges {
        for (label, t) in [
            ("from this machine", &ch.vantages.local),
            ("in the cluster", &ch.vantages.in_cluster),
        ] {
            if let Some(t) = t {
                let attempts: u32 = t.addresses.iter().map(|a| a.attempts).sum();
                parts.push(format!(
                    "{} probed {label}: {} address(es), {attempts} fresh connection(s)",
                    ch.dns_name,
                    t.addresses.len()
                ));
            }
        }
    }
    if parts.len() == 1 && !c.challenges.is_empty() {
        parts.push("no probe of the challenge URL".into());
    }
    parts.join("; ")
}

/// `  label:   text`, wrapped at spaces to `width` with the text column kept.
fn field(out: &mut String, label: &str, text: &str, width: usize) {
    let head = format!("  {:<9}", format!("{label}:"));
    let indent = head.chars().count();
    wrap(out, &head, indent, text, width);
}

/// `head` then `text`, wrapped at spaces to `width`; continuation lines indented by `indent`.
pub(super) fn wrap(out: &mut String, head: &str, indent: usize, text: &str, width: usize) {
    let mut prefix = head.to_owned();
    let mut room = width.saturating_sub(prefix.chars().count()).max(20);
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            let _ = writeln!(out, "{prefix}{line}");
            prefix = " ".repeat(indent);
            room = width.saturating_sub(indent).max(20);
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    let _ = writeln!(out, "{prefix}{line}");
}

fn challenge_table(c: &CertificateReport, style: Style) -> String {
    let rows = c
        .challenges
        .iter()
        .map(|ch| {
            let reason = match (&ch.parsed_reason, &ch.reason) {
                (_, Some(raw)) if style.wide => raw.clone(),
                (Some(p), _) => p.short(),
                (None, _) => "-".to_owned(),
            };
            let state = if ch.state.is_empty() { "-" } else { &ch.state };
            vec![
                Text::from(&ch.name),
                Text::from(&ch.dns_name),
                Text::from(ch.phase.label()),
                Text::from(state),
                Text::from(reason),
            ]
        })
        .collect();
    let s = Sheet {
        headers: vec!["CHALLENGE", "DOMAIN", "PHASE", "STATE", "REASON"],
        rows,
    };
    sheet(&s, usize::from(style.width), style.color)
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

/// The findings, ranked, with rules between them. The FINDING column takes what the `#` and
/// SEVERITY columns leave; a token longer than that (a URL) is broken after a `/` or `-` rather
/// than at the column's edge.
fn findings_table(findings: &[Finding], style: Style, charset: Charset) -> String {
    let preset = match charset {
        Charset::Unicode => presets::UTF8_HORIZONTAL_ONLY,
        Charset::Ascii => presets::ASCII_HORIZONTAL_ONLY,
    };
    let mut t = layout::table(usize::from(style.width), style.color, preset);
    t.set_header(layout::header(&["#", "SEVERITY", "FINDING"], style.color));
    // `#` and SEVERITY with a space of padding each side and one border column after each,
    // then the FINDING column's own padding.
    let digits = findings.len().to_string().len();
    let room =
        usize::from(style.width).saturating_sub(digits + 2 + 1 + "SEVERITY".len() + 2 + 1 + 2);
    // The ranking's root cause: the first error that is not a consequence of another finding.
    let cause = |f: &&Finding| f.severity == Severity::Error && f.consequence_of.is_none();
    let root = findings
        .iter()
        .position(|f| cause(&f) && f.proof == Proof::Proves)
        .or_else(|| findings.iter().position(|f| cause(&f)));
    for (i, f) in findings.iter().enumerate() {
        let mut text = String::new();
        let role = match (root, f.consequence_of) {
            (Some(r), _) if r == i => " (root cause)".to_owned(),
            (_, Some(cause)) => format!(" (consequence of {cause})"),
            (Some(r), None) if i > r && f.severity != Severity::Info => " (secondary)".to_owned(),
            _ => String::new(),
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
            Cell::new(break_long_tokens(&text, room.max(20))),
        ]);
    }
    t.to_string()
}
