//! The progress line on stderr, rewritten in place, only when stderr is a terminal (the probe
//! pod's, the replay's, a renewals run's).
//!
//! There is one line per process: a run that shows its own count ([`Progress::owner`], e.g.
//! `renewals: 37/120 names probed …, 3 at risk so far`) keeps the start of it, and what other
//! stages show meanwhile (the probe pod's state) follows it after ` · ` instead of replacing
//! it. The line is cut to the terminal's width, so rewriting it never leaves wrapped rests.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

/// What the line shows now.
struct Line {
    owner: Option<String>,
    detail: String,
    shown: bool,
}

static LINE: Mutex<Line> = Mutex::new(Line {
    owner: None,
    detail: String::new(),
    shown: false,
});

/// A writer of the progress line.
pub(crate) struct Progress {
    enabled: bool,
    owner: bool,
    last: String,
}

/// The text of the line: the owner's, then the detail.
fn text(owner: Option<&str>, detail: &str) -> String {
    match (owner, detail.is_empty()) {
        (Some(o), false) => format!("{o} · {detail}"),
        (Some(o), true) => o.to_owned(),
        (None, _) => detail.to_owned(),
    }
}

/// `text` cut to `width` columns (the spinner and a space included), on a char boundary.
fn fitted(text: &str, width: usize) -> String {
    let room = width.saturating_sub(3).max(10);
    if text.chars().count() <= room {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(room.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `COLUMNS`, else stderr's terminal width, else 100.
fn width() -> usize {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
    {
        return w.max(40);
    }
    terminal_size::terminal_size_of(std::io::stderr())
        .map_or(100, |(terminal_size::Width(w), _)| usize::from(w))
}

impl Progress {
    /// A stage's progress (the probe pod's, the replay's): it follows an owner's text.
    pub(crate) fn new() -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            owner: false,
            last: String::new(),
        }
    }

    /// A run's own count, which keeps the start of the line.
    pub(crate) fn owner() -> Progress {
        Progress {
            owner: true,
            ..Progress::new()
        }
    }

    fn draw(&self, line: &mut Line) {
        if !self.enabled {
            return;
        }
        let t = text(line.owner.as_deref(), &line.detail);
        let mut err = std::io::stderr().lock();
        if t.is_empty() {
            if line.shown {
                let _ = write!(err, "\r\x1b[2K");
                line.shown = false;
            }
        } else {
            let _ = write!(err, "\r\x1b[2K⠿ {}", fitted(&t, width()));
            line.shown = true;
        }
        let _ = err.flush();
    }

    pub(crate) fn show(&mut self, text: &str) {
        if text == self.last {
            return;
        }
        text.clone_into(&mut self.last);
        let Ok(mut line) = LINE.lock() else {
            return;
        };
        if self.owner {
            line.owner = Some(text.to_owned());
        } else {
            text.clone_into(&mut line.detail);
        }
        self.draw(&mut line);
    }

    /// Take this writer's part off the line (all of it for an owner).
    pub(crate) fn clear(&mut self) {
        self.last.clear();
        let Ok(mut line) = LINE.lock() else {
            return;
        };
        if self.owner {
            line.owner = None;
            line.detail.clear();
        } else {
            line.detail.clear();
        }
        self.draw(&mut line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_follows_the_owners_count_and_the_line_fits() {
        assert_eq!(
            text(
                Some("renewals: 3/5 names, 1 at risk so far"),
                "probe pod: Running"
            ),
            "renewals: 3/5 names, 1 at risk so far · probe pod: Running"
        );
        assert_eq!(text(Some("renewals: 3/5"), ""), "renewals: 3/5");
        assert_eq!(text(None, "probe pod: Running"), "probe pod: Running");
        assert_eq!(fitted("abcdefghijklmnop", 13), "abcdefghi…");
        assert_eq!(fitted("abc", 80), "abc");
        assert_eq!(fitted("ééééééééééééé", 13).chars().count(), 10);
    }
}
