//! Which lines of a rendered table may be wider than the terminal.
//!
//! The table wraps prose at spaces to the terminal's width, but never breaks what a user copies
//! whole: a command of a fix ([`super::fix`]), a preformatted line of a fix (YAML), the replay
//! command, or a single word longer than its column (a URL, a key, a name, a span in backticks). Those go on lines
//! of their own, and only those may be wider than the terminal. The golden tests check every
//! table with [`too_wide`].

use super::Report;
use super::fix::{Part, parts};
use super::layout::words;

/// The lines of `text` wider than `columns` that are not one of the report's unbreakable
/// texts. Empty when the table keeps to the width everywhere it can.
pub fn too_wide<'a>(report: &Report, text: &'a str, columns: usize) -> Vec<&'a str> {
    let whole = unbreakable(report);
    text.lines()
        .filter(|l| l.chars().count() > columns)
        .filter(|l| {
            let t = l.trim();
            let t = ["docs: ", "fix: ", "• "]
                .iter()
                .find_map(|label| t.strip_prefix(label))
                .unwrap_or(t);
            !(words(t).len() == 1 || whole.iter().any(|w| w == t))
        })
        .collect()
}

/// Every command and preformatted line of every fix, and every replay command, trimmed.
pub fn unbreakable(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for c in &report.certificates {
        for f in &c.findings {
            for p in parts(&f.fix) {
                match p {
                    Part::Command(s) | Part::Block(s) => out.push(s.trim().to_owned()),
                    Part::Prose(_) | Part::Break => {}
                }
            }
        }
        if let Some(r) = &c.replay {
            out.push(r.command.trim().to_owned());
        }
    }
    out
}
