//! Label and field selectors with the syntax and semantics of
//! `k8s.io/apimachinery/pkg/labels` and `.../fields`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<LabelReq>);

fn label_of<'a>(labels: Option<&'a Value>, key: &str) -> Option<&'a str> {
    labels?.get(key)?.as_str()
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        let mut rest = s.trim();
        while !rest.is_empty() {
            // Split off one requirement: up to the next comma not inside parentheses.
            let mut depth = 0usize;
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth = depth.saturating_sub(1),
                    ',' if depth == 0 => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            let part = rest[..end].trim();
            rest = rest.get(end + 1..).unwrap_or("").trim_start();
            if part.is_empty() {
                return Err(format!(
                    "unable to parse requirement: found '', in selector {s:?}"
                ));
            }
            reqs.push(parse_label_req(part)?);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        self.0.iter().all(|r| match r {
            LabelReq::Eq(k, v) => label_of(labels, k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => label_of(labels, k) != Some(v.as_str()),
            LabelReq::In(k, vs) => label_of(labels, k).is_some_and(|l| vs.iter().any(|v| v == l)),
            LabelReq::NotIn(k, vs) => {
                !label_of(labels, k).is_some_and(|l| vs.iter().any(|v| v == l))
            }
            LabelReq::Exists(k) => label_of(labels, k).is_some(),
            LabelReq::NotExists(k) => label_of(labels, k).is_none(),
        })
    }
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 316
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_label_req(part: &str) -> Result<LabelReq, String> {
    let bad = |why: &str| format!("unable to parse requirement: {why}: {part:?}");
    if let Some(k) = part.strip_prefix('!') {
        let k = k.trim();
        return if valid_key(k) {
            Ok(LabelReq::NotExists(k.to_string()))
        } else {
            Err(bad("invalid label key"))
        };
    }
    for (op, ctor) in [("!=", 0u8), ("==", 1), ("=", 1)] {
        if let Some((k, v)) = part.split_once(op) {
            let (k, v) = (k.trim(), v.trim());
            if !valid_key(k) {
                return Err(bad("invalid label key"));
            }
            if !valid_value(v) {
                return Err(bad("invalid label value"));
            }
            return Ok(if ctor == 0 {
                LabelReq::NotEq(k.to_string(), v.to_string())
            } else {
                LabelReq::Eq(k.to_string(), v.to_string())
            });
        }
    }
    if let Some(open) = part.find('(') {
        let head = part[..open].trim();
        let close = part
            .rfind(')')
            .filter(|c| *c > open)
            .ok_or_else(|| bad("missing ')'"))?;
        if !part[close + 1..].trim().is_empty() {
            return Err(bad("unexpected text after ')'"));
        }
        let values: Vec<String> = part[open + 1..close]
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if values.iter().any(|v| !valid_value(v)) {
            return Err(bad("invalid label value"));
        }
        let mut words = head.split_whitespace();
        let (key, op) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        if words.next().is_some() || !valid_key(key) {
            return Err(bad("invalid label key"));
        }
        return match op {
            "in" if !values.is_empty() => Ok(LabelReq::In(key.to_string(), values)),
            "notin" if !values.is_empty() => Ok(LabelReq::NotIn(key.to_string(), values)),
            "in" | "notin" => Err(bad(
                "for 'in', 'notin' operators, values set can't be empty",
            )),
            _ => Err(bad("unknown operator")),
        };
    }
    if valid_key(part) {
        Ok(LabelReq::Exists(part.to_string()))
    } else {
        Err(bad("invalid label key"))
    }
}

/// A parsed field selector (`metadata.name=x,status.phase!=Running`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses `s`; every key must be `metadata.name`, `metadata.namespace` or in `allowed`.
    /// The error text is the real server's.
    pub fn parse(s: &str, allowed: &[&str]) -> Result<Self, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, eq, v) = if let Some((k, v)) = part.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                ));
            };
            let k = k.trim();
            if k != "metadata.name" && k != "metadata.namespace" && !allowed.contains(&k) {
                return Err(format!("field label not supported: {k}"));
            }
            out.push((k.to_string(), eq, v.trim().to_string()));
        }
        Ok(FieldSelector(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the object's field values satisfy every term. Missing fields compare as "".
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(k, eq, want)| {
            let mut cur = Some(obj);
            for seg in k.split('.') {
                cur = cur.and_then(|c| c.get(seg));
            }
            let have = match cur {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            (have == *want) == *eq
        })
    }

    /// The value of an equality term on `key`, if any (used to narrow by name).
    pub fn equals(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, eq, _)| k == key && *eq)
            .map(|(_, _, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns", "labels": labels}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_operators() {
        let o =
            obj(json!({"app": "web", "tier": "fe", "acme.cert-manager.io/http01-solver": "true"}));
        let m = |s: &str| LabelSelector::parse(s).unwrap().matches(&o);
        assert!(m("app=web"));
        assert!(m("app==web"));
        assert!(!m("app!=web"));
        assert!(m("app!=db"));
        assert!(m("missing!=x"));
        assert!(m("app in (db, web)"));
        assert!(!m("app notin (db,web)"));
        assert!(m("app notin (db)"));
        assert!(m("missing notin (db)"));
        assert!(m("tier"));
        assert!(!m("!tier"));
        assert!(m("!missing"));
        assert!(m(
            "acme.cert-manager.io/http01-solver=true,app in (web),!missing"
        ));
        assert!(!m("acme.cert-manager.io/http01-solver=true,app=db"));
        assert!(m(""));
    }

    #[test]
    fn label_errors() {
        assert!(LabelSelector::parse("app in ()").is_err());
        assert!(LabelSelector::parse("a b").is_err());
        assert!(LabelSelector::parse("app=we b").is_err());
        assert!(LabelSelector::parse("app,,x").is_err());
    }

    #[test]
    fn field_selector() {
        let o = obj(json!({}));
        let f = FieldSelector::parse("metadata.name=a,status.phase!=Pending", &["status.phase"])
            .unwrap();
        assert!(f.matches(&o));
        let f = FieldSelector::parse("status.phase=Pending", &["status.phase"]).unwrap();
        assert!(!f.matches(&o));
        assert_eq!(
            FieldSelector::parse("spec.foo=x", &[]).unwrap_err(),
            "field label not supported: spec.foo"
        );
        let f = FieldSelector::parse("metadata.namespace==ns", &[]).unwrap();
        assert_eq!(f.equals("metadata.namespace"), Some("ns"));
    }
}
