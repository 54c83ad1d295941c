//! The findings table: ranked, with rules between them, the root cause labelled.
//!
//! ```text
//! ────────────────────────────────────────────────────────────────────────────────
//!  #   SEVERITY   FINDING
//! ════════════════════════════════════════════════════════════════════════════════
//!  1   error      SELF_CHECK_FAILING (root cause)
//!                 cert-manager's self check for shop.example.test fails: self
//!                 check got HTTP 404, expected 200
//!                 • Challenge web-1-3571442311-2617004231 reason: Waiting for
//!                   HTTP-01 challenge propagation: wrong status code '404'
//!                 fix: the probe findings show why; to see it by hand, from a pod
//!                      in the cluster:
//!                        curl -sv http://shop.example.test/.well-known/acme-challenge/GyBCgvtZQEY1tQV2BRXQ7yAr5LafxpnvzwbhEO0cTgk
//!                 docs: https://github.com/kubectl-acmecheck/kubectl-acmecheck/blob/main/docs/findings/SELF_CHECK_FAILING.md
//! ────────────────────────────────────────────────────────────────────────────────
//! ```
//!
//! Prose wraps at spaces under its own start (evidence under its bullet, the fix under `fix:`).
//! Nothing that must be copied whole is ever broken: a command of the fix ([`super::fix`]) gets
//! a line of its own, indented two columns, however long; a word longer than the line (a URL,
//! a key, an annotation) gets a line of its own too. Those are the only lines that may be wider
//! than the terminal.

use super::fix::{Part, parts};
use super::layout::{width, wrap_words};
use super::picture::Charset;
use super::table::Style;
use crate::diagnose::{DOCS_BASE, Finding, Proof, Severity};
use owo_colors::OwoColorize;
use std::fmt::Write as _;

/// Evidence lines shown per finding without `-o wide`.
const EVIDENCE_SHOWN: usize = 4;

/// Text columns narrower than this are not readable; the table then overflows instead.
const MIN_ROOM: usize = 20;

/// The label of the fix, and the columns its continuation lines are indented by.
const FIX: &str = "fix: ";

/// How many columns a command is indented by, past the fix's text.
const COMMAND_INDENT: usize = 2;

pub(super) fn findings_table(findings: &[Finding], style: Style, charset: Charset) -> String {
    let total = usize::from(style.width);
    let (rule, double) = match charset {
        Charset::Unicode => ('─', '═'),
        Charset::Ascii => ('-', '='),
    };
    let rule = rule.to_string().repeat(total);
    let digits = findings.len().to_string().len();
    // ` # ` and ` SEVERITY ` with a column of space after each, then the text's own space.
    let column = 1 + digits + 1 + 1 + 1 + "SEVERITY".len() + 1 + 1 + 1;
    let room = total.saturating_sub(column).max(MIN_ROOM);
    let mut out = String::new();
    let header = format!(" {:<digits$}   {:<8}   {}", "#", "SEVERITY", "FINDING");
    let header = if style.color {
        header.bold().to_string()
    } else {
        header
    };
    let _ = writeln!(
        out,
        "{rule}\n{header}\n{}",
        double.to_string().repeat(total)
    );
    let roles = roles(findings);
    for (i, f) in findings.iter().enumerate() {
        let lines = body(f, &roles[i], room, style.wide);
        for (j, line) in lines.iter().enumerate() {
            if j == 0 {
                let _ = writeln!(
                    out,
                    " {:<digits$}   {}   {line}",
                    i + 1,
                    severity(f.severity, style.color)
                );
            } else if line.is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "{}{line}", " ".repeat(column));
            }
        }
        let _ = writeln!(out, "{rule}");
    }
    out
}

/// `error   ` padded to the column, coloured when asked.
fn severity(s: Severity, color: bool) -> String {
    let text = match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    let padded = format!("{text:<8}");
    if !color {
        return padded;
    }
    let pad = &padded[text.len()..];
    let painted = match s {
        Severity::Error => text.red().to_string(),
        Severity::Warning => text.yellow().to_string(),
        Severity::Info => text.blue().to_string(),
    };
    format!("{painted}{pad}")
}

/// ` (root cause)`, ` (consequence of X)`, ` (secondary)` or nothing, per finding. The root
/// cause is the first error that is not a consequence of another finding (a proving one first).
fn roles(findings: &[Finding]) -> Vec<String> {
    let cause = |f: &&Finding| f.severity == Severity::Error && f.consequence_of.is_none();
    let root = findings
        .iter()
        .position(|f| cause(&f) && f.proof == Proof::Proves)
        .or_else(|| findings.iter().position(|f| cause(&f)));
    findings
        .iter()
        .enumerate()
        .map(|(i, f)| match (root, f.consequence_of) {
            (Some(r), _) if r == i => " (root cause)".to_owned(),
            (_, Some(cause)) => format!(" (consequence of {cause})"),
            (Some(r), None) if i > r && f.severity != Severity::Info => " (secondary)".to_owned(),
            _ => String::new(),
        })
        .collect()
}

/// The finding's lines in the FINDING column, without the column's indentation.
fn body(f: &Finding, role: &str, room: usize, wide: bool) -> Vec<String> {
    let mut lines = vec![format!("{}{role}", f.code)];
    for line in f.summary.lines() {
        lines.extend(hanging("", line, room));
    }
    let shown = if wide {
        f.evidence.len()
    } else {
        EVIDENCE_SHOWN
    };
    for e in f.evidence.iter().take(shown) {
        for (i, line) in e.lines().enumerate() {
            lines.extend(hanging(if i == 0 { "• " } else { "  " }, line, room));
        }
    }
    if f.evidence.len() > shown {
        lines.push(format!("• … {} more (-o wide)", f.evidence.len() - shown));
    }
    if !f.fix.is_empty() {
        lines.extend(fix_lines(&f.fix, room));
    }
    let docs = if f.docs.is_empty() {
        format!("{DOCS_BASE}/{}.md", f.code)
    } else {
        f.docs.clone()
    };
    lines.push(format!("docs: {docs}"));
    lines
}

/// `head` then `text` wrapped at spaces to `room`, continuation lines under the text's start.
fn hanging(head: &str, text: &str, room: usize) -> Vec<String> {
    let indent = width(head);
    wrap_words(text, room.saturating_sub(indent).max(MIN_ROOM))
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            if i == 0 {
                format!("{head}{piece}")
            } else {
                format!("{}{piece}", " ".repeat(indent))
            }
        })
        .collect()
}

/// The fix: prose wrapped under `fix: `, each command on a line of its own two columns further
/// in (never wrapped), preformatted lines as they are. A command that closes a parenthesis
/// (`(or kubectl cert-manager renew)`, `(see kubectl … -o jsonpath='…')`) loses that
/// parenthesis: its own line sets it apart already, and a `(` or `)` alone on a line reads as
/// noise.
fn fix_lines(fix: &str, room: usize) -> Vec<String> {
    let hang = " ".repeat(FIX.len());
    // (line, is prose)
    let mut lines: Vec<(String, bool)> = Vec::new();
    let mut prose = String::new();
    let flush = |lines: &mut Vec<(String, bool)>, prose: &mut String| {
        let text = prose.trim();
        if !text.is_empty() {
            for piece in wrap_words(text, room.saturating_sub(FIX.len()).max(MIN_ROOM)) {
                lines.push((format!("{hang}{piece}"), true));
            }
        }
        prose.clear();
    };
    let mut after_command = false;
    let mut close = false;
    let parts = parts(fix);
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Prose(s) => {
                let mut s = s.as_str();
                if close {
                    s = s.strip_prefix(')').unwrap_or(s);
                }
                // The separator after a command is the line break.
                if after_command {
                    s = s.trim_start_matches([' ', ';', ',']);
                }
                prose.push_str(s);
                after_command = false;
                close = false;
            }
            Part::Command(c) => {
                let closes = matches!(parts.get(i + 1), Some(Part::Prose(n)) if n.starts_with(')'));
                if let Some(open) = prose.rfind('(')
                    && closes
                    && !prose[open..].contains(')')
                {
                    prose.remove(open);
                    close = true;
                }
                flush(&mut lines, &mut prose);
                let indent = " ".repeat(FIX.len() + COMMAND_INDENT);
                lines.push((format!("{indent}{c}"), false));
                after_command = true;
            }
            Part::Block(b) => {
                flush(&mut lines, &mut prose);
                lines.push((format!("{hang}{b}"), false));
                after_command = false;
                close = false;
            }
            Part::Break => {
                flush(&mut lines, &mut prose);
                after_command = false;
                close = false;
            }
        }
    }
    flush(&mut lines, &mut prose);
    // The label goes on the first line when that is prose, else on a line of its own.
    match lines.first_mut() {
        Some((first, true)) => first.replace_range(..FIX.len(), FIX),
        _ => lines.insert(0, (FIX.trim_end().to_owned(), true)),
    }
    lines.into_iter().map(|(l, _)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Code;

    fn style(width: u16) -> Style {
        Style {
            width,
            color: false,
            wide: false,
        }
    }

    const URL: &str = "http://shop.example.test/.well-known/acme-challenge/GyBCgvtZQEY1tQV2BRXQ7yAr5LafxpnvzwbhEO0cTgk";

    #[test]
    fn a_command_gets_a_line_of_its_own_however_long() {
        let fix = format!(
            "the probe findings show why; to see it by hand, from a pod in the cluster: curl -sv {URL}"
        );
        assert_eq!(
            fix_lines(&fix, 64),
            [
                "fix: the probe findings show why; to see it by hand, from a pod",
                "     in the cluster:",
                &format!("       curl -sv {URL}"),
            ]
        );
        // A fix that starts with its command: the label alone above it.
        assert_eq!(
            fix_lines(
                "kubectl -n x patch service y -p '{}' (loses the client IP), or z",
                64
            ),
            [
                "fix:",
                "       kubectl -n x patch service y -p '{}'",
                "     (loses the client IP), or z"
            ]
        );
        // A command alone in parentheses loses them; its lead-in stays.
        assert_eq!(
            fix_lines(
                "retry now: cmctl renew web -n shop (or kubectl cert-manager renew); or wait",
                64
            ),
            [
                "fix: retry now:",
                "       cmctl renew web -n shop",
                "     or",
                "       kubectl cert-manager renew",
                "     or wait"
            ]
        );
        // A parenthesis that goes on after its command keeps both halves.
        assert_eq!(
            fix_lines(
                "check the mode (`kubectl -n k get cm p -o yaml`: ipvs needs more)",
                64
            ),
            [
                "fix: check the mode (",
                "       kubectl -n k get cm p -o yaml",
                "     : ipvs needs more)"
            ]
        );
        // Separators between commands are the line breaks.
        assert_eq!(
            fix_lines(
                "check: dig +trace a.test A; dig a.test CAA — then fix it",
                64
            ),
            [
                "fix: check:",
                "       dig +trace a.test A",
                "       dig a.test CAA",
                "     — then fix it"
            ]
        );
    }

    #[test]
    fn preformatted_lines_keep_their_indentation() {
        let fix = "add a DNS-01 solver, e.g.\n  solvers:\n  - dns01: {x: y}\nHTTP-01 can keep serving the other names.";
        assert_eq!(
            fix_lines(fix, 60),
            [
                "fix: add a DNS-01 solver, e.g.",
                "       solvers:",
                "       - dns01: {x: y}",
                "     HTTP-01 can keep serving the other names."
            ]
        );
    }

    /// Every line of the table is within the width except a command or a single word, each of
    /// which appears whole.
    #[test]
    fn only_unbreakable_lines_are_wider_than_the_table() {
        let annotation = "`service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: preserve_client_ip.enabled=false`";
        let f = Finding::new(
            Code::HairpinUnreachable,
            Severity::Error,
            Proof::Proves,
            "works from outside, the cluster cannot reach its own public address",
        )
        .evidence(format!("Get \"{URL}\": dial tcp 203.0.113.10:80: i/o timeout"))
        .fix(format!(
            "annotate the Service with {annotation} (see kubectl -n ingress-nginx get svc ingress-nginx-controller -o jsonpath='{{.status.loadBalancer.ingress}}')"
        ));
        let text = findings_table(&[f], style(80), Charset::Unicode);
        let wide: Vec<&str> = text.lines().filter(|l| width(l) > 80).collect();
        assert_eq!(wide.len(), 4, "{text}");
        for l in wide {
            let t = l.trim();
            let word = t.strip_prefix("docs: ").unwrap_or(t);
            assert!(
                !word.contains(' ')
                    || t == annotation
                    || t.starts_with("kubectl -n ingress-nginx get svc"),
                "{l}"
            );
        }
        assert!(
            text.contains(&format!(
                "\n{}docs: {DOCS_BASE}/HAIRPIN_UNREACHABLE.md\n",
                " ".repeat(16)
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("\n{}\"{URL}\":\n", " ".repeat(18))),
            "{text}"
        );
    }

    #[test]
    fn the_columns_are_those_comfy_table_drew() {
        let f = Finding::new(Code::DnsNotReady, Severity::Warning, Proof::Supports, "x");
        let text = findings_table(&[f], style(40), Charset::Ascii);
        assert_eq!(
            text,
            format!(
                "{}\n #   SEVERITY   FINDING\n{}\n 1   warning    DNS_NOT_READY\n                x\n                docs: {DOCS_BASE}/DNS_NOT_READY.md\n{}\n",
                "-".repeat(40),
                "=".repeat(40),
                "-".repeat(40)
            )
        );
    }
}
