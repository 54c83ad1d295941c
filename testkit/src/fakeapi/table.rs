//! `meta.k8s.io/v1` `Table` responses, which `kubectl get` asks for
//! (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`). Columns come
//! from the resource table: Name, the kind's printer columns, Age.

use serde_json::{Value, json};

use super::resources::{Column, Resource};
use super::store::Obj;
use super::util;

/// Does the Accept header ask for a Table?
pub fn wanted(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table") && first.contains("g=meta.k8s.io"))
}

/// Builds a Table of `items`.
/// Kinds whose printer lists its own columns instead of Name … Age
/// (kubectl's events table: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE).
fn own_layout(r: &Resource) -> bool {
    r.kind == "Event" && r.group.is_empty()
}

/// One cell: `age` columns show a human duration since the timestamp,
/// `object` columns `kind/name` of an object reference, others the
/// JSONPath values joined by commas.
fn cell(o: &Value, c: &Column, now: u64) -> Value {
    match c.kind {
        "age" => json!(
            eval(o, c.json_path)
                .first()
                .and_then(|t| util::parse_rfc3339(t))
                .map(|t| human_duration(now.saturating_sub(t)))
                .unwrap_or_else(|| "<unknown>".into())
        ),
        "pod-ready" => json!(super::pods::printer_cells(o).0),
        "pod-status" => json!(super::pods::printer_cells(o).1),
        "pod-restarts" => json!(super::pods::printer_cells(o).2),
        "or-none" => match eval(o, c.json_path).join(",") {
            v if v.is_empty() => json!("<none>"),
            v => json!(v),
        },
        "object" => {
            let kind = eval(o, &format!("{}.kind", c.json_path))
                .join("")
                .to_lowercase();
            let name = eval(o, &format!("{}.name", c.json_path)).join("");
            json!(format!("{kind}/{name}"))
        }
        _ => json!(eval(o, c.json_path).join(",")),
    }
}

const NAME: Column = Column {
    name: "Name",
    kind: "string",
    json_path: ".metadata.name",
    priority: 0,
};
const AGE: Column = Column {
    name: "Age",
    kind: "age",
    json_path: ".metadata.creationTimestamp",
    priority: 0,
};

/// Builds a Table of `items`.
pub fn table(r: &Resource, items: &[Obj], rv: &str, cont: Option<&str>) -> Value {
    let cols: Vec<&Column> = if own_layout(r) {
        r.columns.iter().collect()
    } else if r.columns.iter().any(|c| c.name == "Age") {
        std::iter::once(&NAME).chain(&r.columns).collect()
    } else {
        std::iter::once(&NAME)
            .chain(&r.columns)
            .chain(std::iter::once(&AGE))
            .collect()
    };
    let defs: Vec<Value> = cols
        .iter()
        .map(|c| {
            let (kind, format) = match c.kind {
                "age" => ("date", ""),
                "object" | "or-none" | "pod-ready" | "pod-status" | "pod-restarts" => {
                    ("string", "")
                }
                _ if c.json_path == ".metadata.name" => ("string", "name"),
                k => (k, ""),
            };
            json!({"name": c.name, "type": kind, "format": format, "description": c.json_path, "priority": c.priority})
        })
        .collect();
    let now = util::now_secs();
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let cells: Vec<Value> = cols.iter().map(|c| cell(o, c, now)).collect();
            json!({
                "cells": cells,
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o.get("metadata").cloned().unwrap_or_else(|| json!({})),
                },
            })
        })
        .collect();
    let mut meta = json!({"resourceVersion": rv});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": defs, "rows": rows})
}

/// Evaluates the JSONPath subset used by printer columns: `.a.b`, `[0]`,
/// `[*]`, `[?(@.k=="v")]`. Returns every matched scalar as a string.
pub fn eval(obj: &Value, path: &str) -> Vec<String> {
    let mut cur: Vec<&Value> = vec![obj];
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            cur = cur.into_iter().filter_map(|v| v.get(key)).collect();
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else {
                return vec![];
            };
            let inner = &r[..end];
            rest = &r[end + 1..];
            cur = if inner == "*" {
                cur.into_iter()
                    .filter_map(Value::as_array)
                    .flatten()
                    .collect()
            } else if let Ok(i) = inner.parse::<usize>() {
                cur.into_iter().filter_map(|v| v.get(i)).collect()
            } else if let Some(f) = inner.strip_prefix("?(@.").and_then(|f| f.strip_suffix(')')) {
                let Some((k, want)) = f.split_once("==") else {
                    return vec![];
                };
                let want = want.trim_matches('"');
                cur.into_iter()
                    .filter_map(Value::as_array)
                    .flatten()
                    .filter(|e| e.get(k).and_then(Value::as_str) == Some(want))
                    .collect()
            } else {
                return vec![];
            };
        } else {
            return vec![];
        }
    }
    cur.into_iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            other => Some(other.to_string()),
        })
        .collect()
}

/// `k8s.io/apimachinery/pkg/util/duration.HumanDuration`.
pub fn human_duration(secs: u64) -> String {
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86_400);
    let y = d / 365;
    if secs < 120 {
        format!("{secs}s")
    } else if m < 10 {
        match secs % 60 {
            0 => format!("{m}m"),
            s => format!("{m}m{s}s"),
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        match m % 60 {
            0 => format!("{h}h"),
            mm => format!("{h}h{mm}m"),
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 192 {
        match h % 24 {
            0 => format!("{d}d"),
            hh => format!("{d}d{hh}h"),
        }
    } else if y < 2 {
        format!("{d}d")
    } else if y < 8 {
        match d % 365 {
            0 => format!("{y}y"),
            dd => format!("{y}y{dd}d"),
        }
    } else {
        format!("{y}y")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonpath_subset() {
        let o = json!({"status": {"conditions": [
            {"type": "Issuing", "status": "True"},
            {"type": "Ready", "status": "False", "message": "m"}]},
            "spec": {"rules": [{"host": "a"}, {"host": "b"}]}});
        assert_eq!(
            eval(&o, r#".status.conditions[?(@.type=="Ready")].status"#),
            vec!["False"]
        );
        assert_eq!(eval(&o, ".spec.rules[*].host"), vec!["a", "b"]);
        assert_eq!(eval(&o, ".spec.rules[1].host"), vec!["b"]);
        assert!(eval(&o, ".spec.missing").is_empty());
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 60), "3h1m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86_400), "3d");
        assert_eq!(human_duration(100 * 86_400), "100d");
    }

    #[test]
    fn accept_header() {
        assert!(wanted(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        ));
        assert!(!wanted("application/json"));
    }
}
