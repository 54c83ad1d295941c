//! The path as a picture, under the probes: for each probed address, who looked (this machine,
//! the probe pod), the address, and who answered behind it with the share of fresh connections
//! each got and what it answered:
//!
//! ```text
//! this machine ─┐                 ┌─ 50 %  nginx (ingress-nginx)                 200 key
//!               ├─ 203.0.113.10 ──┤
//! probe pod ────┘                 └─ 50 %  envoy (gateway infra/public, cilium)  404
//! ```
//!
//! Both vantages share one drawing only when they saw the same answers in the same shares (as
//! printed); otherwise each vantage gets its own, so no share is shown that neither saw. A
//! backend is named after the data plane whose direct probe (from the probe pod) got the same
//! answer from the same fingerprint, when exactly one did. When the drawing is wider than the
//! terminal the branches hang under the address instead; in a locale that is not UTF-8 the lines
//! are ASCII ([`Charset`]).

use super::layout::{width, wrap_words};
use crate::probe::plan::{
    AddressReport, DirectResult, ErrorClass, KeyMatch, OutcomeCount, TargetReport,
};
use crate::probe::targets::SOLVER_LABEL;

/// Which characters draw lines: box drawing, or ASCII when the terminal's locale is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Charset {
    #[default]
    Unicode,
    Ascii,
}

impl Charset {
    /// From the locale, as C programs (`setlocale(LC_CTYPE, "")`) and other CLIs decide: the
    /// first of `LC_ALL`, `LC_CTYPE`, `LANG` that is set and not empty names the character
    /// set (`en_US.UTF-8`, `C.utf8`); none set means the POSIX locale, which is ASCII.
    pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Charset {
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .into_iter()
            .find_map(|k| var(k).filter(|v| !v.is_empty()))
            .unwrap_or_default();
        let codeset = locale
            .split_once('.')
            .map_or("", |(_, c)| c.split('@').next().unwrap_or(c));
        if codeset.eq_ignore_ascii_case("utf-8") || codeset.eq_ignore_ascii_case("utf8") {
            Charset::Unicode
        } else {
            Charset::Ascii
        }
    }

    /// `─ │ ┌ ┐ └ ┘ ├ ┤ ┼ ┴`, or their ASCII stand-ins.
    fn glyphs(self) -> Glyphs {
        match self {
            Charset::Unicode => Glyphs {
                h: '─',
                v: '│',
                down_right: '┌',
                down_left: '┐',
                up_right: '└',
                up_left: '┘',
                tee_right: '├',
                tee_left: '┤',
                cross: '┼',
                tee_up: '┴',
            },
            Charset::Ascii => Glyphs {
                h: '-',
                v: '|',
                down_right: '+',
                down_left: '+',
                up_right: '+',
                up_left: '+',
                tee_right: '+',
                tee_left: '+',
                cross: '+',
                tee_up: '+',
            },
        }
    }
}

#[derive(Clone, Copy)]
struct Glyphs {
    h: char,
    v: char,
    down_right: char,
    down_left: char,
    up_right: char,
    up_left: char,
    tee_right: char,
    tee_left: char,
    cross: char,
    tee_up: char,
}

/// One backend as one vantage saw it: `50 %`, `nginx (ingress-nginx)`, `200 key`.
#[derive(Debug, Clone, PartialEq)]
struct Branch {
    share: String,
    who: String,
    what: String,
}

/// One drawing: the vantages that saw these branches behind this address.
struct Tree {
    vantages: Vec<&'static str>,
    address: String,
    branches: Vec<Branch>,
}

/// The picture for one challenge's probes, each line prefixed with `indent`; empty when there
/// is nothing to draw.
pub(super) fn picture(
    local: Option<&TargetReport>,
    inside: Option<&TargetReport>,
    charset: Charset,
    total: usize,
    indent: &str,
) -> String {
    let views: Vec<(&'static str, &TargetReport)> =
        [("this machine", local), ("probe pod", inside)]
            .into_iter()
            .filter_map(|(l, t)| t.map(|t| (l, t)))
            .collect();
    let direct: &[DirectResult] = inside.map_or(&[], |t| t.direct.as_slice());
    let mut addresses: Vec<&str> = Vec::new();
    for (_, t) in &views {
        for a in t.addresses.iter().filter(|a| a.attempts > 0) {
            if !addresses.contains(&a.address.as_str()) {
                addresses.push(&a.address);
            }
        }
    }
    let mut trees: Vec<Tree> = Vec::new();
    for ip in addresses {
        let seen: Vec<(&'static str, Vec<Branch>)> = views
            .iter()
            .filter_map(|(label, t)| {
                let a = t
                    .addresses
                    .iter()
                    .find(|a| a.address == ip && a.attempts > 0)?;
                Some((*label, branches(a, direct)))
            })
            .filter(|(_, b)| !b.is_empty())
            .collect();
        match seen.as_slice() {
            [(l1, b1), (l2, b2)] if b1 == b2 => trees.push(Tree {
                vantages: vec![l1, l2],
                address: ip.to_owned(),
                branches: b1.clone(),
            }),
            _ => trees.extend(seen.into_iter().map(|(l, b)| Tree {
                vantages: vec![l],
                address: ip.to_owned(),
                branches: b,
            })),
        }
    }
    let mut out = String::new();
    let room = total.saturating_sub(width(indent));
    let g = charset.glyphs();
    let w = Widths::of(&trees);
    let drawn: Vec<Vec<String>> = trees.iter().map(|t| across(t, g, w)).collect();
    let fits = drawn.iter().flatten().all(|l| width(l) <= room);
    for (i, tree) in trees.iter().enumerate() {
        let lines = if fits {
            drawn[i].clone()
        } else {
            hanging(tree, g, w, room)
        };
        for l in lines {
            out.push_str(indent);
            out.push_str(l.trim_end());
            out.push('\n');
        }
    }
    let label_width = views.iter().map(|(l, _)| width(l)).max().unwrap_or(0);
    for (label, t) in &views {
        if t.addresses.iter().all(|a| a.attempts == 0) {
            let why = t.dns.resolvers.iter().find_map(|r| r.error).map_or_else(
                || "nothing resolved".to_owned(),
                |e| e.as_str().replace('_', " "),
            );
            let line = g.h.to_string().repeat(label_width - width(label) + 1);
            out.push_str(&format!(
                "{indent}{label} {line} no address to probe ({why})\n"
            ));
        }
    }
    out
}

/// Each outcome on the address is a backend: its share of the attempts, who answered (the
/// fingerprint, and the data plane when the direct probes attribute it), what it answered.
fn branches(a: &AddressReport, direct: &[DirectResult]) -> Vec<Branch> {
    let mut outcomes: Vec<&OutcomeCount> = a.outcomes.iter().filter(|o| o.count > 0).collect();
    outcomes.sort_by_key(|o| std::cmp::Reverse(o.count));
    outcomes
        .into_iter()
        .map(|o| Branch {
            share: share(o.count, a.attempts),
            who: who(o, direct),
            what: what(o),
        })
        .collect()
}

fn share(count: u32, attempts: u32) -> String {
    let pct = f64::from(count) * 100.0 / f64::from(attempts.max(1));
    let shown = format!("{pct:.0}");
    // Never a 0 % that answered, nor a 100 % next to another backend.
    match shown.as_str() {
        "0" if count > 0 => "<1 %".to_owned(),
        "100" if count < attempts => ">99 %".to_owned(),
        _ => format!("{shown} %"),
    }
}

/// `nginx (ingress-nginx)`: the fingerprint, and the one data plane whose direct probe got the
/// same answer (status and body) from the same fingerprint.
fn who(o: &OutcomeCount, direct: &[DirectResult]) -> String {
    if o.responder == "-" || o.responder.is_empty() {
        return "no answer".to_owned();
    }
    let mut planes: Vec<String> = Vec::new();
    for d in direct {
        let same = d.outcomes.iter().any(|x| {
            x.responder == o.responder && x.status == o.status && x.key_match == o.key_match
        });
        if same && o.status.is_some() {
            let plane = plane_of(&d.label);
            if !planes.contains(&plane) {
                planes.push(plane);
            }
        }
    }
    match planes.as_slice() {
        [plane] if *plane != o.responder => format!("{} ({plane})", o.responder),
        _ => o.responder.clone(),
    }
}

/// The data plane a direct probe's label names: `ingress-nginx Service ns/name` →
/// `ingress-nginx`; `gateway infra/public (cilium) pod 10.0.0.5` →
/// `gateway infra/public, cilium` (inside the parentheses the picture adds).
fn plane_of(label: &str) -> String {
    let plane = label
        .split(" Service ")
        .next()
        .and_then(|p| p.split(" pod ").next())
        .unwrap_or(label);
    if plane == SOLVER_LABEL {
        return "cert-manager solver".to_owned();
    }
    match plane.strip_suffix(')').and_then(|p| p.split_once(" (")) {
        Some((name, product)) => format!("{name}, {product}"),
        None => plane.to_owned(),
    }
}

/// `200 key`, `404`, `200 wrong body after 1 redirect(s)`, `connect timeout`.
fn what(o: &OutcomeCount) -> String {
    match (o.status, o.error_class) {
        (Some(s), _) => {
            let body = match (s, o.key_match) {
                (_, KeyMatch::Exact) => " key",
                (_, KeyMatch::Trimmed) => " key+whitespace",
                (200, KeyMatch::No) => " wrong body",
                _ => "",
            };
            let via = if o.redirect_chain.is_empty() {
                String::new()
            } else {
                format!(" after {} redirect(s)", o.redirect_chain.len())
            };
            format!("{s}{body}{via}")
        }
        (None, Some(ErrorClass::Eof)) => "connection closed (EOF)".to_owned(),
        (None, Some(c)) => c.as_str().replace('_', " "),
        (None, None) => "no response".to_owned(),
    }
}

/// Column widths shared by every drawing of one picture, so that addresses, shares and
/// fingerprints line up from one drawing to the next.
#[derive(Clone, Copy)]
struct Widths {
    label: usize,
    address: usize,
    share: usize,
    who: usize,
}

impl Widths {
    fn of(trees: &[Tree]) -> Widths {
        let max = |f: &dyn Fn(&Tree) -> usize| trees.iter().map(f).max().unwrap_or(0);
        Widths {
            label: max(&|t| t.vantages.iter().map(|v| width(v)).max().unwrap_or(0)),
            address: max(&|t| width(&t.address)),
            share: max(&|t| {
                t.branches
                    .iter()
                    .map(|b| width(&b.share))
                    .max()
                    .unwrap_or(0)
            }),
            who: max(&|t| t.branches.iter().map(|b| width(&b.who)).max().unwrap_or(0)),
        }
    }
}

/// The branch texts of a tree, aligned in columns: share, who, what.
fn branch_texts(t: &Tree, w: Widths) -> Vec<String> {
    t.branches
        .iter()
        .map(|b| {
            let pad_s = " ".repeat(w.share.saturating_sub(width(&b.share)));
            let pad_w = " ".repeat(w.who.saturating_sub(width(&b.who)));
            format!("{pad_s}{}  {}{pad_w}  {}", b.share, b.who, b.what)
        })
        .collect()
}

/// The vantage labels padded with the horizontal line to one width: `this machine ─`,
/// `probe pod ────`.
fn labels(t: &Tree, g: Glyphs, w: Widths) -> Vec<String> {
    t.vantages
        .iter()
        .map(|v| {
            let line = g.h.to_string().repeat(w.label.saturating_sub(width(v)) + 1);
            format!("{v} {line}")
        })
        .collect()
}

/// Rows a side with `n` items spans, centred on the address row: `n` when odd, `n + 1` when
/// even (the address row between the halves).
fn item_rows(n: usize, center: usize) -> Vec<usize> {
    let half = n / 2;
    if n % 2 == 1 {
        (center - half..=center + half).collect()
    } else {
        (center - half..center)
            .chain(center + 1..=center + half)
            .collect()
    }
}

/// The junction column of a side: which glyph on `row`, given the rows its items are on.
fn junction(row: usize, center: usize, items: &[usize], g: Glyphs, left: bool) -> char {
    let (first, last) = (items[0], items[items.len() - 1]);
    if items.len() == 1 {
        return if row == center { g.h } else { ' ' };
    }
    if row < first || row > last {
        return ' ';
    }
    let item = items.contains(&row);
    match (row == first, row == last, row == center, item) {
        (true, _, _, _) if left => g.down_left,
        (true, _, _, _) => g.down_right,
        (_, true, _, _) if left => g.up_left,
        (_, true, _, _) => g.up_right,
        (_, _, true, true) => g.cross,
        (_, _, true, false) if left => g.tee_right,
        (_, _, true, false) => g.tee_left,
        (_, _, false, true) if left => g.tee_left,
        (_, _, false, true) => g.tee_right,
        (_, _, false, false) => g.v,
    }
}

/// The drawing across: vantages on the left, the address in the middle, branches on the right.
fn across(t: &Tree, g: Glyphs, w: Widths) -> Vec<String> {
    let lefts = labels(t, g, w);
    let texts = branch_texts(t, w);
    let side = |n: usize| if n % 2 == 1 { n } else { n + 1 };
    let rows = side(lefts.len()).max(side(texts.len()));
    let center = rows / 2;
    let left_rows = item_rows(lefts.len(), center);
    let right_rows = item_rows(texts.len(), center);
    let lw = lefts.iter().map(|l| width(l)).max().unwrap_or(0);
    let h = g.h.to_string();
    let pad = h.repeat(w.address.saturating_sub(width(&t.address)));
    let middle = format!("{h} {} {pad}{h}{h}", t.address);
    (0..rows)
        .map(|row| {
            let mut line = match left_rows.iter().position(|&r| r == row) {
                Some(i) => lefts[i].clone(),
                None => " ".repeat(lw),
            };
            line.push(junction(row, center, &left_rows, g, true));
            if row == center {
                line.push_str(&middle);
            } else {
                line.push_str(&" ".repeat(width(&middle)));
            }
            line.push(junction(row, center, &right_rows, g, false));
            if let Some(i) = right_rows.iter().position(|&r| r == row) {
                line.push_str(&format!("{h} {}", texts[i]));
            }
            line
        })
        .collect()
}

/// The narrow drawing: the vantages join above the address, the branches hang below it, and a
/// branch's text wraps at spaces under itself.
fn hanging(t: &Tree, g: Glyphs, w: Widths, room: usize) -> Vec<String> {
    let lefts = labels(t, g, w);
    let h = g.h.to_string();
    let mut lines = Vec::new();
    let n = lefts.len();
    for (i, l) in lefts.iter().enumerate() {
        if i + 1 < n {
            lines.push(format!(
                "{l}{}",
                if i == 0 { g.down_left } else { g.tee_left }
            ));
        } else {
            let joint = if n > 1 { g.tee_up } else { g.h };
            lines.push(format!("{l}{joint}{h} {}", t.address));
        }
    }
    let hang = lefts.last().map_or(0, |l| width(l)) + 3;
    let texts = branch_texts(t, w);
    let sw = w.share;
    for (i, text) in texts.iter().enumerate() {
        let last = i + 1 == texts.len();
        let (joint, carry) = if last {
            (g.up_right, ' ')
        } else {
            (g.tee_right, g.v)
        };
        let first = format!("{}{joint}{h} ", " ".repeat(hang));
        let next = format!("{}{carry}  {}", " ".repeat(hang), " ".repeat(sw + 2));
        let text = if width(&first) + width(text) <= room {
            vec![text.clone()]
        } else {
            let b = &t.branches[i];
            let pad = " ".repeat(sw.saturating_sub(width(&b.share)));
            let body = format!("{}  {}", b.who, b.what);
            let mut out = wrap_words(&body, room.saturating_sub(width(&next)).max(12));
            out[0] = format!("{pad}{}  {}", b.share, out[0]);
            out
        };
        for (j, piece) in text.iter().enumerate() {
            let prefix = if j == 0 { &first } else { &next };
            lines.push(format!("{prefix}{piece}"));
        }
    }
    lines
}

#[cfg(test)]
#[path = "picture_tests.rs"]
mod tests;
