//! Layout for the table output: wrapping that never splits a word, tables whose columns are
//! never narrower than their longest word (a Kubernetes name, a host, an address), and a record
//! layout (one block per row) when such a table cannot fit the terminal.
//!
//! comfy-table splits any word longer than its column at the column's edge, which cut a
//! challenge name in two at 110 columns and below. Here every column gets a lower bound of its
//! longest word; when the bounds do not leave a readable table, the rows are printed as records
//! instead. Only prose (finding texts) ever breaks a token, and then only a token longer than the
//! whole text column (a URL), after a `/`, `-`, `.` or similar — see [`break_token`].

use comfy_table::{
    Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table, TableStyle, Width, presets,
};
use std::fmt::Write as _;

/// One cell: its text (lines separated by `\n`) and an optional colour.
#[derive(Debug, Clone, Default)]
pub(super) struct Text {
    pub text: String,
    pub color: Option<Color>,
}

impl<S: Into<String>> From<S> for Text {
    fn from(s: S) -> Self {
        Text {
            text: s.into(),
            color: None,
        }
    }
}

impl Text {
    pub fn colored(text: impl Into<String>, color: Color) -> Self {
        Text {
            text: text.into(),
            color: Some(color),
        }
    }
}

/// A table of plain cells (no frame), as the challenge, address, direct-probe and summary
/// tables are drawn.
pub(super) struct Sheet {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Text>>,
}

/// A column narrower than this is not readable prose; a cell with shorter text needs no more.
const READABLE: usize = 16;

/// Columns of one comfy-table row: a space of padding on each side.
const PADDING: usize = 2;

/// Display width as the tests measure it: one column per char.
pub(super) fn width(s: &str) -> usize {
    s.chars().count()
}

/// [`width`] without ANSI colour sequences (`ESC [ … m`).
pub(super) fn visible_width(s: &str) -> usize {
    let mut n = 0;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            n += 1;
        }
    }
    n
}

fn widest_line(text: &str) -> usize {
    text.lines().map(width).max().unwrap_or(0)
}

/// The longest word (split at spaces and newlines).
pub(super) fn longest_word(text: &str) -> usize {
    text.split([' ', '\n']).map(width).max().unwrap_or(0)
}

/// The table when its columns fit `total` columns without splitting a word, else one record per
/// row (`HEADER value` then `header: value` fields).
pub(super) fn sheet(s: &Sheet, total: usize, color: bool) -> String {
    let n = s.headers.len();
    let column = |i: usize| {
        std::iter::once(s.headers[i]).chain(
            s.rows
                .iter()
                .map(move |r| r.get(i).map_or("", |c: &Text| c.text.as_str())),
        )
    };
    let natural: Vec<usize> = (0..n)
        .map(|i| column(i).map(widest_line).max().unwrap_or(0))
        .collect();
    let words: Vec<usize> = (0..n)
        .map(|i| column(i).map(longest_word).max().unwrap_or(0))
        .collect();
    let need: usize = (0..n)
        .map(|i| words[i].max(natural[i].min(READABLE)) + PADDING)
        .sum();
    if need <= total {
        let mut t = table(total, color, presets::NOTHING);
        t.set_header(header(&s.headers, color));
        for row in &s.rows {
            t.add_row(row.iter().map(|c| cell(c, color)).collect::<Vec<_>>());
        }
        for (i, w) in words.iter().enumerate() {
            if let Some(c) = t.column_mut(i) {
                let lower = u16::try_from(w + PADDING).unwrap_or(u16::MAX);
                c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(lower)));
            }
        }
        let text: String = t
            .to_string()
            .lines()
            .map(|l| format!("{}\n", l.trim_end()))
            .collect();
        // comfy-table honours the bounds; this only guards against a layout it could not make.
        if text.lines().all(|l| visible_width(l) <= total) {
            return text;
        }
    }
    records(s, total, color)
}

/// One block per row: ` HEADER value` for the first column, then the others as
/// `header: value`, short ones side by side, long ones wrapped at spaces.
fn records(s: &Sheet, total: usize, color: bool) -> String {
    let mut out = String::new();
    for row in &s.rows {
        let first = row.first().map_or("", |c| c.text.as_str());
        let first = first.replace('\n', " ");
        if 1 + width(s.headers[0]) + 1 + width(&first) <= total {
            let _ = writeln!(out, " {} {first}", paint(s.headers[0], color, true));
        } else {
            // The value alone, wrapped at spaces: a name stays whole even when longer.
            for piece in wrap_words(&first, total.saturating_sub(1)) {
                let _ = writeln!(out, " {piece}");
            }
        }
        let mut line = String::new();
        let mut line_width = 0;
        let indent = "   ";
        let flush = |out: &mut String, line: &mut String, line_width: &mut usize| {
            if !line.is_empty() {
                let _ = writeln!(out, "{indent}{line}");
                line.clear();
                *line_width = 0;
            }
        };
        for (h, c) in s.headers.iter().zip(row).skip(1) {
            let label = format!("{}: ", h.to_lowercase());
            let value = c.text.trim();
            let single = !value.contains('\n');
            let field_width = width(&label) + width(value);
            let sep = if line.is_empty() { 0 } else { 3 };
            if single && width(indent) + line_width + sep + field_width <= total {
                if sep > 0 {
                    line.push_str("   ");
                }
                line.push_str(&label);
                line.push_str(&paint_cell(value, c.color, color));
                line_width += sep + field_width;
                continue;
            }
            flush(&mut out, &mut line, &mut line_width);
            if single && width(indent) + field_width <= total {
                line.push_str(&label);
                line.push_str(&paint_cell(value, c.color, color));
                line_width = field_width;
                continue;
            }
            // Multi-line or long: each line wrapped at spaces under the value's column.
            let hang = width(indent) + width(&label);
            let room = total.saturating_sub(hang).max(READABLE);
            let mut prefix = format!("{indent}{label}");
            for part in value.lines() {
                for piece in wrap_words(part, room) {
                    let _ = writeln!(out, "{prefix}{}", paint_cell(&piece, c.color, color));
                    prefix = " ".repeat(hang);
                }
            }
        }
        flush(&mut out, &mut line, &mut line_width);
    }
    out
}

/// Greedy wrap at spaces to `room` columns. A word longer than `room` stays whole on its own
/// line (a name is never split); use [`break_token`] first where a line must not overflow.
pub(super) fn wrap_words(text: &str, room: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && width(&line) + 1 + width(word) > room {
            lines.push(std::mem::take(&mut line));
        } else if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// Where a long token (a URL, a path, a JSON patch, a long name) may be broken: preferably
/// after a `/` or `,` (between path segments or list items) past the first third of the line,
/// else after any of the others.
const BREAK_FIRST: &[char] = &['/', ',', ';', '&', '?', '='];
const BREAK_ALSO: &[char] = &['-', '.', '_', ':'];

/// `token` in pieces of at most `max` columns, each ending at a separator when one exists within
/// reach (after `/` in a URL, after `-` or `.` in a name); only a run without any separator (a
/// key, a digest) is cut at `max`.
pub(super) fn break_token(token: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let chars: Vec<char> = token.chars().collect();
    let mut pieces = Vec::new();
    let mut start = 0;
    while chars.len() - start > max {
        let window = &chars[start..start + max];
        let last = |set: &[char]| window.iter().rposition(|c| set.contains(c));
        let cut = last(BREAK_FIRST)
            .filter(|&p| p >= max / 3)
            .or_else(|| {
                let any = last(BREAK_FIRST).into_iter().chain(last(BREAK_ALSO));
                any.max()
            })
            .filter(|&p| p > 0)
            .map_or(max, |p| p + 1);
        pieces.push(chars[start..start + cut].iter().collect());
        start += cut;
    }
    pieces.push(chars[start..].iter().collect());
    pieces
}

/// Every space-separated token of `text` longer than `max`, broken by [`break_token`] with line
/// breaks; everything else is left to the table's own wrapping.
pub(super) fn break_long_tokens(text: &str, max: usize) -> String {
    text.split('\n')
        .map(|line| {
            line.split(' ')
                .map(|w| {
                    if width(w) > max {
                        break_token(w, max).join("\n")
                    } else {
                        w.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn table(total: usize, color: bool, preset: TableStyle) -> Table {
    let mut t = Table::new();
    t.load_style(preset)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(total).unwrap_or(u16::MAX));
    if color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

pub(super) fn header(names: &[&str], color: bool) -> Vec<Cell> {
    names
        .iter()
        .map(|n| {
            let c = Cell::new(n);
            if color {
                c.add_attribute(Attribute::Bold)
            } else {
                c
            }
        })
        .collect()
}

pub(super) fn cell(c: &Text, color: bool) -> Cell {
    let cell = Cell::new(&c.text);
    match c.color {
        Some(fg) if color => cell.fg(fg),
        _ => cell,
    }
}

fn paint(s: &str, color: bool, bold: bool) -> String {
    use owo_colors::OwoColorize;
    if color && bold {
        s.bold().to_string()
    } else {
        s.to_owned()
    }
}

fn paint_cell(s: &str, fg: Option<Color>, color: bool) -> String {
    use owo_colors::OwoColorize;
    match fg {
        Some(Color::Red) if color => s.red().to_string(),
        Some(Color::Yellow) if color => s.yellow().to_string(),
        Some(Color::Green) if color => s.green().to_string(),
        Some(Color::Blue) if color => s.blue().to_string(),
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_whole() {
        assert_eq!(
            wrap_words("self check got HTTP 404, expected 200", 12),
            ["self check", "got HTTP", "404,", "expected 200"]
        );
        let long = "web-1-3571442311-2617004231-a-very-long-suffix";
        assert_eq!(wrap_words(&format!("x {long} y"), 10), ["x", long, "y"]);
    }

    #[test]
    fn long_tokens_break_after_separators() {
        let url = "http://shop.example.test/.well-known/acme-challenge/GyBCgvtZQEY1tQV2BRXQ7yAr5LafxpnvzwbhEO0cTgk";
        let pieces = break_token(url, 63);
        assert_eq!(
            pieces,
            [
                "http://shop.example.test/.well-known/acme-challenge/",
                "GyBCgvtZQEY1tQV2BRXQ7yAr5LafxpnvzwbhEO0cTgk"
            ]
        );
        assert_eq!(pieces.concat(), url);
        // No separator within reach: cut at the limit, nothing lost.
        assert_eq!(break_token("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(break_token("short", 10), ["short"]);
        // A `,` late in the line wins over a later `:` or `.`.
        assert_eq!(
            break_token("\"x\":\"--ns=1.1.1.1:53,8.8.8.8:53\"", 28),
            ["\"x\":\"--ns=1.1.1.1:53,", "8.8.8.8:53\""]
        );
        assert_eq!(
            break_long_tokens("curl -sv a/bb/ccc", 5),
            "curl -sv a/bb/\nccc"
        );
    }

    fn challenge_sheet(name: &str) -> Sheet {
        Sheet {
            headers: vec!["CHALLENGE", "DOMAIN", "PHASE", "STATE", "REASON"],
            rows: vec![vec![
                name.into(),
                "shop.example.test".into(),
                "self check".into(),
                "pending".into(),
                "self check got HTTP 404, expected 200".into(),
            ]],
        }
    }

    /// A name longer than its column would be at any of these widths is printed whole: in the
    /// table when the other columns leave room, else in a record of its own.
    #[test]
    fn a_long_challenge_name_is_never_split() {
        let name = "web-tls-production-frontend-1-3571442311-2617004231";
        for total in [60, 80, 100, 110, 120] {
            let out = sheet(&challenge_sheet(name), total, false);
            assert!(out.contains(name), "{total}:\n{out}");
            assert!(out.contains("shop.example.test"), "{total}:\n{out}");
            for line in out.lines() {
                assert!(width(line.trim_end()) <= total, "{total}: {line}");
            }
        }
        // Wide enough: a table; too narrow: records.
        assert!(sheet(&challenge_sheet(name), 140, false).starts_with(" CHALLENGE "));
        let narrow = sheet(&challenge_sheet(name), 80, false);
        assert!(
            narrow.starts_with(&format!(" CHALLENGE {name}\n")),
            "{narrow}"
        );
        assert!(
            narrow.contains("   domain: shop.example.test   phase: self check   state: pending"),
            "{narrow}"
        );
        assert!(
            narrow.contains("   reason: self check got HTTP 404, expected 200"),
            "{narrow}"
        );
    }

    #[test]
    fn records_wrap_long_values_under_their_label() {
        let s = Sheet {
            headers: vec!["TARGET", "RESULTS"],
            rows: vec![vec![
                "ingress-nginx Service ingress-nginx/ingress-nginx-controller".into(),
                "20×200 key (nginx)\nwith PROXY header: 20×400 (nginx)".into(),
            ]],
        };
        let out = records(&s, 40, false);
        assert_eq!(
            out,
            " ingress-nginx Service\n ingress-nginx/ingress-nginx-controller\n   \
             results: 20×200 key (nginx)\n            with PROXY header: 20×400\n            \
             (nginx)\n"
        );
    }
}
