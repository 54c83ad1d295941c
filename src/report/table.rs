//! The table for people: per certificate, one header line, the chain, the challenges, then the
//! findings with the root cause first. Readable at 80 columns.

use super::{CertificateReport, InClusterSummary, Report, Vantages};
use crate::diagnose::util::{outcome_text, placement_text, problem_kind};
use crate::diagnose::{Finding, Proof, Severity};
use crate::probe::plan::{
    AddressReport, CaProfile, DirectResult, OutcomeCount, ProxyProtocolProbe, TargetReport,
    Verdict, VerdictOutcome,
};
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
        certificate(&mut out, cert, report.in_cluster.as_ref(), style);
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
        out.push('\n');
    }
    for ch in &c.challenges {
        if ch.vantages.local.is_some() || ch.vantages.in_cluster.is_some() {
            out.push('\n');
            probes(out, &ch.vantages, in_cluster, style);
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
    out.push_str(&findings_table(&c.findings, style));
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

fn dns_answer(r: &crate::probe::plan::ResolverAnswer) -> String {
    match r.error {
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
    }
}

fn outcome_lines(outcomes: &[OutcomeCount]) -> Vec<String> {
    outcomes.iter().map(outcome_text).collect()
}

fn followup_line(p: &ProxyProtocolProbe) -> String {
    format!(
        "with PROXY header: {}",
        outcome_lines(&p.outcomes).join("  ")
    )
}

/// One vantage's cell for one address: outcomes one per line, the PROXY follow-up, and the
/// resolver when it is not the one the vantage's validator uses.
fn address_cell(t: &TargetReport, a: &AddressReport) -> String {
    let mut lines = outcome_lines(&a.outcomes);
    if let Some(p) = &a.with_proxy_protocol {
        lines.push(followup_line(p));
    }
    let primary = t
        .dns
        .resolvers
        .iter()
        .find(|r| r.role == "primary")
        .map(|r| r.resolver.as_str());
    if !a.resolved_by.is_empty() && !a.resolved_by.iter().any(|r| Some(r.as_str()) == primary) {
        lines.push(format!("(via {})", a.resolved_by.join(", ")));
    }
    lines.join("\n")
}

fn ca_rules(t: &TargetReport) -> &'static str {
    match t.ca_profile {
        CaProfile::Letsencrypt => "Let's Encrypt rules",
        CaProfile::Pebble => "Pebble rules",
        CaProfile::Private => "private ACME server",
    }
}

/// The probes of one challenge: DNS per vantage, every address with both vantages side by side,
/// the verdicts (self check from inside when there is an inside view, the CA from outside), the
/// pod's direct probes, and where the pod ran or why it did not.
fn probes(out: &mut String, v: &Vantages, in_cluster: Option<&InClusterSummary>, style: Style) {
    let views: Vec<(&str, &TargetReport)> = [
        ("this machine", v.local.as_ref()),
        ("in cluster", v.in_cluster.as_ref()),
    ]
    .into_iter()
    .filter_map(|(l, t)| t.map(|t| (l, t)))
    .collect();
    let Some((_, first)) = views.first() else {
        return;
    };
    // The URL itself is in -o json/yaml (vantages.*.url); its token would not fit 80 columns.
    let _ = writeln!(
        out,
        "Probes of http://{}/.well-known/acme-challenge/…",
        first.dns_name
    );
    for (label, t) in &views {
        for r in &t.dns.resolvers {
            let _ = writeln!(out, "  DNS {label} ({}): {}", r.resolver, dns_answer(r));
        }
    }
    let mut addresses: Vec<&str> = Vec::new();
    for (_, t) in &views {
        for a in &t.addresses {
            if !addresses.contains(&a.address.as_str()) {
                addresses.push(&a.address);
            }
        }
    }
    if !addresses.is_empty() {
        let mut tbl = base_table(style, presets::NOTHING);
        let mut head = vec!["ADDRESS"];
        for (label, _) in &views {
            head.push(if *label == "this machine" {
                "THIS MACHINE"
            } else {
                "IN CLUSTER (probe pod)"
            });
        }
        tbl.set_header(header(&head, style));
        for ip in addresses {
            let mut row = vec![Cell::new(ip)];
            for (_, t) in &views {
                row.push(Cell::new(
                    t.addresses
                        .iter()
                        .find(|a| a.address == ip)
                        .map_or_else(|| "not resolved here".to_owned(), |a| address_cell(t, a)),
                ));
            }
            tbl.add_row(row);
        }
        out.push_str(&tbl.to_string());
        out.push('\n');
    }
    verdicts(out, v, usize::from(style.width));
    if let Some(inside) = &v.in_cluster
        && !inside.direct.is_empty()
    {
        direct_table(out, inside, style);
    }
    match in_cluster {
        Some(s) if s.state == "ran" => {
            if let Some(p) = &s.placement {
                wrap(
                    out,
                    "  probe pod: ",
                    13,
                    &placement_text(p),
                    usize::from(style.width),
                );
            }
        }
        Some(s) => {
            let why = s.problem.as_ref().map_or_else(String::new, |p| {
                format!("{}: {}", problem_kind(p.kind), p.message)
            });
            wrap(
                out,
                "  probe pod: ",
                13,
                &format!("did not run ({why}); this machine's view only"),
                usize::from(style.width),
            );
        }
        None => wrap(
            out,
            "  probe pod: ",
            13,
            "not run (--local-only); this machine's view only",
            usize::from(style.width),
        ),
    }
}

/// The self check is judged from inside when there is an inside view (that is where
/// cert-manager runs); the CA from outside (this machine) when there is one.
fn verdicts(out: &mut String, v: &Vantages, width: usize) {
    let mut say = |text: String| wrap(out, "  ", 4, &text, width);
    let (local, inside) = (v.local.as_ref(), v.in_cluster.as_ref());
    let (sc, sc_where) = match (local, inside) {
        (_, Some(i)) => (i, "cert-manager, in cluster"),
        (Some(l), None) => (l, "estimated from this machine"),
        (None, None) => return,
    };
    say(format!(
        "self check ({sc_where}): {}",
        verdict_line(&sc.verdicts.self_check)
    ));
    if let (Some(l), Some(i)) = (local, inside)
        && l.verdicts.self_check.outcome != i.verdicts.self_check.outcome
    {
        say(format!(
            "  from this machine it would be {}",
            verdict_line(&l.verdicts.self_check)
        ));
    }
    let (ca, ca_where) = match (local, inside) {
        (Some(l), Some(_)) => (l, ", from outside"),
        (Some(l), None) => (l, ""),
        (None, _) => (sc, ", estimated from inside"),
    };
    say(format!(
        "CA validation ({}{ca_where}): {}",
        ca_rules(ca),
        verdict_line(&ca.verdicts.acme)
    ));
}

/// The probe pod's direct probes: each data plane and the solver, `Host: <dnsName>`.
fn direct_table(out: &mut String, t: &TargetReport, style: Style) {
    let _ = writeln!(
        out,
        "  Asked directly from the probe pod (Host: {}, challenge path):",
        t.dns_name
    );
    let mut tbl = base_table(style, presets::NOTHING);
    tbl.set_header(header(&["TARGET", "RESULTS"], style));
    for d in &t.direct {
        tbl.add_row(vec![
            Cell::new(format!("{}\n{}", d.label, d.address)),
            Cell::new(direct_cell(d)),
        ]);
    }
    out.push_str(&tbl.to_string());
    out.push('\n');
}

fn direct_cell(d: &DirectResult) -> String {
    let mut lines = outcome_lines(&d.outcomes);
    if d.proxy_protocol {
        lines.push("(sent with a PROXY header)".to_owned());
    }
    if let Some(p) = &d.with_proxy_protocol {
        lines.push(followup_line(p));
    }
    if lines.is_empty() {
        lines.push(
            d.samples
                .first()
                .and_then(|s| s.error.clone())
                .unwrap_or_else(|| "not probed".to_owned()),
        );
    }
    lines.join("\n")
}

/// `  label:   text`, wrapped at spaces to `width` with the text column kept.
fn field(out: &mut String, label: &str, text: &str, width: usize) {
    let head = format!("  {:<9}", format!("{label}:"));
    let indent = head.chars().count();
    wrap(out, &head, indent, text, width);
}

/// `head` then `text`, wrapped at spaces to `width`; continuation lines indented by `indent`.
fn wrap(out: &mut String, head: &str, indent: usize, text: &str, width: usize) {
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
    // A consequence (of a cause found elsewhere, e.g. by a replay) is never the root cause.
    let root = findings
        .iter()
        .position(|f| {
            f.severity == Severity::Error && f.proof == Proof::Proves && f.consequence_of.is_none()
        })
        .or_else(|| findings.iter().position(|f| f.severity == Severity::Error));
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
            Cell::new(text),
        ]);
    }
    t.to_string()
}
