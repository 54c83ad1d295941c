//! Every text of `tests/fixtures/reasons.json` (reason texts with their sources) parsed into the
//! kind, class and fields it states; one failure message per text, all reported together.

use super::*;
use serde_json::{Map, Value};

const FIXTURE: &str = include_str!("../../tests/fixtures/reasons.json");

/// The wordings issue #10 point 6 (and the task list for it) name: each needs a fixture case.
const REQUIRED: [&str; 20] = [
    "bare-present-webhook",
    "bare-present-forbidden",
    "bare-present-quota",
    "present-inside-check",
    "connection-timed-out",
    "connection-timed-out-reported",
    "dial-io-timeout",
    "no-route-to-host",
    "network-unreachable",
    "reset",
    "eof",
    "address-not-available",
    "could-not-reach",
    "plain-http-on-https",
    "lowercase-http-01",
    "unquoted-url",
    "body-newlines",
    "body-truncated",
    "empty-got",
    "bare-ca-detail",
];

fn challenge(ctx: &Value, text: &str) -> ChallengeEvidence {
    ChallengeEvidence {
        type_: "HTTP-01".into(),
        state: ctx["state"].as_str().unwrap_or_default().into(),
        presented: ctx["presented"].as_bool().unwrap_or_default(),
        processing: ctx["processing"].as_bool().unwrap_or_default(),
        reason: Some(text.into()),
        ..Default::default()
    }
}

/// Differences between the `want` fields and `got` (null in `want`: absent or null in `got`;
/// nested objects compared field by field).
fn diff(path: &str, want: &Map<String, Value>, got: &Value, out: &mut Vec<String>) {
    for (k, w) in want {
        let g = got.get(k).unwrap_or(&Value::Null);
        match (w, g) {
            (Value::Object(wm), Value::Object(_)) => diff(&format!("{path}{k}."), wm, g, out),
            _ if w == g => {}
            _ => out.push(format!("{path}{k}: want {w}, got {g}")),
        }
    }
}

#[test]
fn every_fixture_text_parses_as_stated() {
    let doc: Value = serde_json::from_str(FIXTURE).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() > 100, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let text = c["text"].as_str().unwrap();
        assert!(
            c["source"].as_str().is_some_and(|s| !s.is_empty()),
            "case {i} has no source"
        );
        assert!(
            matches!(c["origin"].as_str(), Some("reported" | "format")),
            "case {i}: origin"
        );
        let parsed = match c.get("context") {
            Some(ctx) => of_challenge(&challenge(ctx, text)),
            None => parse(text),
        };
        let Some(r) = parsed else {
            failures.push(format!("#{i} {text:?}: no reason"));
            continue;
        };
        let mut out = Vec::new();
        diff(
            "",
            c["expect"].as_object().unwrap(),
            &serde_json::to_value(&r).unwrap(),
            &mut out,
        );
        if let Some(want) = c["presentCause"].as_str() {
            let got = r
                .present_failure()
                .map(|p| serde_json::to_value(p.cause).unwrap());
            if got.as_ref().and_then(Value::as_str) != Some(want) {
                out.push(format!("presentCause: want {want}, got {got:?}"));
            }
        }
        if let Some(want) = c["observation"].as_object() {
            match observation(&r) {
                Some(o) => diff(
                    "observation.",
                    want,
                    &serde_json::to_value(&o).unwrap(),
                    &mut out,
                ),
                None => out.push("observation: none".into()),
            }
        }
        if !out.is_empty() {
            failures.push(format!("#{i} {text:?}\n    {}", out.join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_required_wording_has_a_fixture_case() {
    let doc: Value = serde_json::from_str(FIXTURE).unwrap();
    let covered: Vec<&str> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["covers"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    let missing: Vec<_> = REQUIRED.iter().filter(|r| !covered.contains(r)).collect();
    assert!(missing.is_empty(), "no fixture case for {missing:?}");
}

#[test]
fn every_real_reason_of_the_reference_notes_is_in_the_fixture() {
    // real-reasons.json (44 texts users reported) is quoted whole in the fixture.
    let doc: Value = serde_json::from_str(FIXTURE).unwrap();
    let n = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["source"]
                .as_str()
                .unwrap_or("")
                .contains("real-reasons.json #")
        })
        .count();
    assert_eq!(n, 44);
}
