//! Matching helpers for texts people copy around: ASCII case-insensitive, and a space in a
//! pattern matches any run of whitespace (kubectl, YAML folding and issue reporters wrap long
//! reasons at `: `). All indices are byte offsets on char boundaries of the original text, so
//! slices taken with them never panic and keep the text as cert-manager wrote it.

/// The end of `pat` matched at byte `i` of `hay`, if it matches there. A space in `pat` matches
/// one or more whitespace characters of `hay`; other pattern bytes (ASCII) match case-insensitively.
pub(super) fn match_at(hay: &str, i: usize, pat: &str) -> Option<usize> {
    let h = hay.as_bytes();
    let mut j = i;
    for &p in pat.as_bytes() {
        if p == b' ' {
            let start = j;
            while j < h.len() && h[j].is_ascii_whitespace() {
                j += 1;
            }
            if j == start {
                return None;
            }
        } else {
            if j >= h.len() || !h[j].eq_ignore_ascii_case(&p) {
                return None;
            }
            j += 1;
        }
    }
    Some(j)
}

/// First match of `pat` in `hay` at or after `from`: (start, end).
pub(super) fn find_from(hay: &str, from: usize, pat: &str) -> Option<(usize, usize)> {
    (from..hay.len())
        .filter(|&i| hay.is_char_boundary(i))
        .find_map(|i| match_at(hay, i, pat).map(|end| (i, end)))
}

/// First match of `pat` anywhere in `hay`.
pub(super) fn find(hay: &str, pat: &str) -> Option<(usize, usize)> {
    find_from(hay, 0, pat)
}

/// `hay` without the leading `pat` (and the whitespace after it).
pub(super) fn strip_lead<'a>(hay: &'a str, pat: &str) -> Option<&'a str> {
    match_at(hay, 0, pat).map(|end| hay[end..].trim_start())
}

/// Lowercase, whitespace runs collapsed to one space, trimmed: for `contains` tests only.
pub(super) fn flat(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    out
}

/// A Go `%q` string starting at byte `i` (which must be `"`): (its value, the index after the
/// closing quote). Escapes are kept as written except `\"` and `\\`; an unterminated string
/// yields None.
pub(super) fn go_quoted(s: &str, i: usize) -> Option<(String, usize)> {
    let b = s.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut out = String::new();
    let j = i + 1;
    let mut chars = s[j..].char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            '"' => return Some((out, j + k + 1)),
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e);
                }
                None => return None,
            },
            c => out.push(c),
        }
    }
    None
}

/// A text with at most `max` characters, `…` marking a cut.
pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
