//! The renewals report as a table (`kubectl acmecheck renewals`, `-o table`): the count line,
//! one row per certificate (one record each when the terminal is too narrow; names are never
//! split), what the screen is when names were screened, the first finding of each certificate
//! that is not `ok`, and the notes.

use super::layout::{Sheet, Text, sheet};
use super::renewals::{CheckedBy, RenewalsReport, Verdict, human};
use crate::probe::plan::VerdictOutcome;
use comfy_table::Color;

/// Prose wrapped at spaces (names never split).
fn wrap(text: &str, total: usize) -> String {
    super::layout::wrap_words(text, total.max(20)).join("\n")
}

fn outcome(o: Option<VerdictOutcome>) -> &'static str {
    match o {
        None => "-",
        Some(VerdictOutcome::Pass) => "pass",
        Some(VerdictOutcome::Fail) => "fail",
        Some(VerdictOutcome::Flaky) => "flaky",
        Some(VerdictOutcome::Unknown) => "unknown",
    }
}

fn when(secs: Option<i64>, past: &str) -> String {
    match secs {
        None => "-".into(),
        Some(s) if s <= 0 => past.into(),
        Some(s) => human(s),
    }
}

/// The table: the count line, one row per certificate (records when the terminal is too
/// narrow for the columns), then what each at-risk or unknown certificate's first finding says.
pub fn render_text(r: &RenewalsReport, width: u16, color: bool) -> String {
    let rows = r
        .certificates
        .iter()
        .map(|l| {
            let names: Vec<&str> = l
                .names
                .iter()
                .filter(|n| n.checked_by != CheckedBy::NotHttp01)
                .map(|n| n.name.as_str())
                .collect();
            let (label, fg) = match l.verdict {
                Verdict::AtRisk => ("at risk", Color::Red),
                Verdict::Unknown => ("unknown", Color::Yellow),
                Verdict::Ok => ("ok", Color::Green),
            };
            let finding = match &l.first_finding {
                Some(f) => match &f.name {
                    Some(n) => format!("{}\n{n}", f.code),
                    None => f.code.clone(),
                },
                None => "-".into(),
            };
            vec![
                Text::from(format!("{}/{}", l.namespace, l.name)),
                Text::from(names.join("\n")),
                Text::from(when(l.renews_in_seconds, "due")),
                Text::from(when(l.expires_in_seconds, "expired")),
                Text::from(outcome(l.self_check)),
                Text::from(outcome(l.ca)),
                Text::colored(label, fg),
                Text::from(finding),
            ]
        })
        .collect();
    let s = Sheet {
        headers: vec![
            "CERTIFICATE",
            "NAMES",
            "RENEWS IN",
            "EXPIRES IN",
            "SELF CHECK",
            "CA",
            "VERDICT",
            "FIRST FINDING",
        ],
        rows,
    };
    let total = usize::from(width);
    let mut out = format!(
        "{}\n{}",
        wrap(&r.summary.line, total),
        sheet(&s, total, color)
    );
    let screened = r
        .certificates
        .iter()
        .flat_map(|l| &l.names)
        .any(|n| n.checked_by == CheckedBy::Screen);
    if screened {
        out.push_str(&wrap(
            "Names without a live challenge were screened (no --replay): with no solver serving a token, the screen shows who answers the challenge path for the name, as the probe pod asks every data plane directly; SELF CHECK and CA are for names probed with a token (live challenges, stand-ins); unknown means replay to be sure.",
            total,
        ));
        out.push('\n');
    }
    for l in r.certificates.iter().filter(|l| l.verdict != Verdict::Ok) {
        if let Some(f) = &l.first_finding {
            out.push_str(&wrap(
                &format!("{}/{}: {} {}", l.namespace, l.name, f.code, f.summary),
                total,
            ));
            out.push('\n');
        }
    }
    for n in &r.notes {
        out.push_str(&wrap(&format!("note: {n}"), total));
        out.push('\n');
    }
    out
}
