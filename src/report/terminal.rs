//! What the table can know about the terminal it is printed on: its width, its height (only
//! when stdout is a terminal), and whether its locale can show box-drawing characters.

use super::picture::Charset;
use super::table::Look;
use std::io::IsTerminal;

/// Table width: `$COLUMNS`, else the terminal's, else 100; never below 40.
pub fn width() -> u16 {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<u16>().ok())
    {
        return w.max(40);
    }
    if std::io::stdout().is_terminal()
        && let Some((terminal_size::Width(w), _)) =
            terminal_size::terminal_size_of(std::io::stdout())
    {
        return w.max(40);
    }
    100
}

/// The terminal's height when stdout is a terminal (`$LINES` first, as for `$COLUMNS`).
pub fn rows() -> Option<u16> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    if let Some(h) = std::env::var("LINES")
        .ok()
        .and_then(|c| c.parse::<u16>().ok())
    {
        return Some(h);
    }
    terminal_size::terminal_size_of(std::io::stdout()).map(|(_, terminal_size::Height(h))| h)
}

/// The [`Look`] for this process's stdout: the locale's character set, the picture unless
/// `--no-picture`, and the terminal's height.
pub fn look(picture: bool) -> Look {
    Look {
        charset: Charset::from_locale(|k| std::env::var(k).ok()),
        picture,
        rows: rows(),
    }
}
