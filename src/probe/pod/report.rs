//! The probe pod's report, read back from its log. The log is untrusted input: it is size-limited,
//! must hold a JSON [`ProbeReport`] of this version, and only targets of the plan are kept.

use crate::probe::plan::{API_VERSION, ProbePlan, ProbeReport, TargetReport};
use std::collections::HashMap;

/// The largest log accepted (a plan for a thousand challenges reports well under this).
pub const MAX_REPORT_BYTES: usize = 8 << 20;

/// Why the pod's output is not a usable report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

/// A short, printable excerpt of untrusted text (control characters escaped).
pub fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// Parse the pod's log. `truncated` is true when the log reached the size limit.
pub fn parse(
    log: &[u8],
    truncated: bool,
    plan: &ProbePlan,
) -> Result<HashMap<String, TargetReport>, Malformed> {
    if truncated || log.len() > MAX_REPORT_BYTES {
        return Err(Malformed(format!(
            "the probe pod's output is larger than the {} MiB limit",
            MAX_REPORT_BYTES >> 20
        )));
    }
    let text = String::from_utf8_lossy(log);
    // Pod mode prints exactly one line; anything the runtime adds before it (a warning on
    // stderr) is skipped, the report is the last non-empty line.
    let Some(line) = text.lines().rev().find(|l| !l.trim().is_empty()) else {
        return Err(Malformed("the probe pod printed nothing".into()));
    };
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| {
        Malformed(format!(
            "the probe pod's output is not JSON ({e}): {}",
            excerpt(line, 120)
        ))
    })?;
    match value.get("apiVersion").and_then(|v| v.as_str()) {
        Some(API_VERSION) => {}
        Some(other) => {
            return Err(Malformed(format!(
                "the probe pod reported apiVersion {:?}, this plugin reads {API_VERSION}",
                excerpt(other, 60)
            )));
        }
        None => {
            return Err(Malformed(format!(
                "the probe pod's output has no apiVersion (expected {API_VERSION})"
            )));
        }
    }
    let report: ProbeReport = serde_path_to_error::deserialize(value).map_err(|e| {
        Malformed(format!(
            "the probe pod's report is malformed at {}: {}",
            e.path(),
            e.inner()
        ))
    })?;
    let wanted: std::collections::HashSet<&str> =
        plan.targets.iter().map(|t| t.id.as_str()).collect();
    Ok(report
        .targets
        .into_iter()
        .filter(|t| wanted.contains(t.id.as_str()))
        .map(|t| (t.id.clone(), t))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::plan::{ProbeOptions, Target};

    fn plan() -> ProbePlan {
        ProbePlan::new(
            vec![Target {
                id: "shop/web-1".into(),
                ..Default::default()
            }],
            ProbeOptions::default(),
        )
    }

    fn report(ids: &[&str]) -> String {
        let targets: Vec<_> = ids
            .iter()
            .map(|id| serde_json::json!({"id": id, "url": "http://x/"}))
            .collect();
        serde_json::json!({"apiVersion": API_VERSION, "vantage": "in-cluster", "startedAt": "2026-01-01T00:00:00Z", "durationMs": 5, "targets": targets}).to_string()
    }

    #[test]
    fn keeps_the_plans_targets_only() {
        let log = format!("{}\n", report(&["shop/web-1", "other/x"]));
        let got = parse(log.as_bytes(), false, &plan()).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got["shop/web-1"].url, "http://x/");
        // A stray stderr line before the report does not matter.
        let log = format!("warning: something\n{}\n", report(&["shop/web-1"]));
        assert_eq!(parse(log.as_bytes(), false, &plan()).unwrap().len(), 1);
    }

    #[test]
    fn rejects_with_a_clear_message() {
        let err = |log: &[u8], truncated| parse(log, truncated, &plan()).unwrap_err().0;
        assert_eq!(err(b"", false), "the probe pod printed nothing");
        assert_eq!(err(b"\n \n", false), "the probe pod printed nothing");
        let e = err(b"exec format error\x1b[31m", false);
        assert!(e.starts_with("the probe pod's output is not JSON"), "{e}");
        assert!(e.contains("exec format error\\u{1b}[31m"), "{e}");
        assert!(err(b"x", true).contains("larger than the 8 MiB limit"));
        assert!(err(&vec![b' '; MAX_REPORT_BYTES + 1], false).contains("8 MiB"));
        let e = err(br#"{"apiVersion":"acmecheck.io/v9","targets":[]}"#, false);
        assert_eq!(
            e,
            "the probe pod reported apiVersion \"acmecheck.io/v9\", this plugin reads acmecheck.io/v1alpha1"
        );
        assert!(err(br#"{"targets":[]}"#, false).contains("no apiVersion"));
        let e = err(
            br#"{"apiVersion":"acmecheck.io/v1alpha1","vantage":"x","startedAt":"","durationMs":1,"targets":[{"id":5}]}"#,
            false,
        );
        assert!(e.contains("malformed at targets[0].id"), "{e}");
        assert_eq!(excerpt(&"a".repeat(10), 4), "aaaa…");
    }
}
