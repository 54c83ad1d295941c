//! One log line in klog's text form, as cert-manager's acmesolver writes them and as
//! [`crate::gather::logs::parse`] reads them:
//!
//! ```text
//! I1206 08:30:00.123456       7 handler.rs:120] "invalid host" logger="cert-manager.acmesolver" host="x" ... headers={"User-Agent":["curl/8"]}
//! ```
//!
//! Strings are quoted like Go's `strconv.Quote`, maps are JSON like Go's `json.Marshal` (keys
//! sorted, `<`, `>`, `&` escaped), numbers bare. The time is UTC (a pod's clock).

use std::fmt::Write as _;

/// A field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(u64),
    /// A header map, `(canonical name, values)` sorted by name.
    Headers(Vec<(String, Vec<String>)>),
}

/// One line, newline included. `source` is `file.rs:line` of the call site.
pub fn line(
    now: std::time::SystemTime,
    source: &str,
    msg: &str,
    fields: &[(&str, Value)],
) -> String {
    let since = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(0);
    let (_, month, day) = crate::time::civil(secs);
    let tod = secs.rem_euclid(86_400);
    let mut out = format!(
        "I{month:02}{day:02} {:02}:{:02}:{:02}.{:06} {:>7} {source}] {} logger=\"cert-manager.acmesolver\"",
        tod / 3600,
        tod / 60 % 60,
        tod % 60,
        since.subsec_micros(),
        std::process::id(),
        quote(msg),
    );
    for (key, value) in fields {
        let _ = write!(out, " {key}=");
        match value {
            Value::Str(s) => out.push_str(&quote(s)),
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Headers(h) => out.push_str(&headers_json(h)),
        }
    }
    out.push('\n');
    out
}

/// Go's `strconv.Quote`: printable characters as they are, `"` and `\` escaped, the C escapes,
/// other control characters as `\x..` (ASCII) or `\u....`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `json.Marshal` of an `http.Header`: `{"Name":["v1","v2"]}`, names sorted.
fn headers_json(h: &[(String, Vec<String>)]) -> String {
    let mut out = String::from("{");
    for (i, (name, values)) in h.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_string(name));
        out.push_str(":[");
        for (j, v) in values.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str(&json_string(v));
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// A JSON string as Go's encoder writes it (HTML-safe: `<`, `>`, `&` as `\u00XX`).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_line_in_klog_text_form() {
        // 2026-12-06 08:30:05.000042 UTC
        let t = UNIX_EPOCH + Duration::new(1_796_545_805, 42_000);
        let l = line(
            t,
            "handler.rs:9",
            "invalid token",
            &[
                ("host", Value::Str("shop.example.com".into())),
                ("n", Value::Int(3)),
                (
                    "headers",
                    Value::Headers(vec![("User-Agent".into(), vec!["a<b>\"c\"".into()])]),
                ),
            ],
        );
        let want_tail = "handler.rs:9] \"invalid token\" logger=\"cert-manager.acmesolver\" host=\"shop.example.com\" n=3 headers={\"User-Agent\":[\"a\\u003cb\\u003e\\\"c\\\"\"]}\n";
        assert!(l.starts_with("I1206 08:30:05.000042 "), "{l}");
        assert!(l.ends_with(want_tail), "{l}");
    }

    #[test]
    fn quoting_as_go() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\u{1b}[31m\n"), r#""\x1b[31m\n""#);
        assert_eq!(quote("é"), "\"é\"");
        assert_eq!(quote("\u{85}"), r#""\u0085""#);
        assert_eq!(json_string("a\u{1}&"), r#""a\u0001\u0026""#);
    }
}
