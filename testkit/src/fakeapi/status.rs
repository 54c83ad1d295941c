//! `metav1.Status` errors, byte-for-byte in the shape kube-apiserver writes.

use serde_json::{Map, Value, json};

use super::resources::Resource;

/// An API error that becomes a `Status` response body.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    /// The `metav1.Status` as a JSON value (key order not preserved).
    pub fn to_status(&self) -> Value {
        serde_json::from_str(&self.to_json()).unwrap_or(Value::Null)
    }

    /// The `metav1.Status` JSON text, with the field order of the real
    /// server (`kind`, `apiVersion`, `metadata`, `status`, `message`,
    /// `reason`, `details` {`name`, `group`, `kind`, `causes`}, `code`).
    pub fn to_json(&self) -> String {
        let q = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        let mut details = String::from("{");
        let mut first = true;
        for k in ["name", "group", "kind", "causes"] {
            if let Some(v) = self.details.get(k) {
                if !first {
                    details.push(',');
                }
                first = false;
                details.push_str(&format!("\"{k}\":{}", q(v)));
            }
        }
        details.push('}');
        format!(
            "{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{{}},\"status\":\"Failure\",\"message\":{},\"reason\":{},\"details\":{details},\"code\":{}}}",
            q(&json!(self.message)),
            q(&json!(self.reason)),
            self.code
        )
    }
}

/// `details` as `StatusDetails` with omitempty: `{name, group, kind}`.
fn details(name: &str, group: &str, kind: &str) -> Value {
    let mut m = Map::new();
    if !name.is_empty() {
        m.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        m.insert("group".into(), json!(group));
    }
    if !kind.is_empty() {
        m.insert("kind".into(), json!(kind));
    }
    Value::Object(m)
}

/// 404 `certificates.cert-manager.io "web" not found`.
pub fn not_found(res: &Resource, name: &str) -> ApiError {
    ApiError {
        code: 404,
        reason: "NotFound",
        message: format!("{} \"{}\" not found", res.qualified(), name),
        details: details(name, &res.group, &res.plural),
    }
}

/// 404 `namespaces "x" not found` (creating into an absent namespace).
pub fn namespace_not_found(ns: &str) -> ApiError {
    ApiError {
        code: 404,
        reason: "NotFound",
        message: format!("namespaces \"{ns}\" not found"),
        details: details(ns, "", "namespaces"),
    }
}

/// 404 for a path no resource serves (e.g. a CRD that is not installed).
pub fn no_such_resource() -> ApiError {
    ApiError {
        code: 404,
        reason: "NotFound",
        message: "the server could not find the requested resource".into(),
        details: json!({}),
    }
}

/// 409 `... already exists`.
pub fn already_exists(res: &Resource, name: &str) -> ApiError {
    ApiError {
        code: 409,
        reason: "AlreadyExists",
        message: format!("{} \"{}\" already exists", res.qualified(), name),
        details: details(name, &res.group, &res.plural),
    }
}

/// 409 optimistic-concurrency conflict.
pub fn conflict(res: &Resource, name: &str) -> ApiError {
    ApiError {
        code: 409,
        reason: "Conflict",
        message: format!(
            "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply your changes to the latest version and try again",
            res.qualified(),
            name
        ),
        details: details(name, &res.group, &res.plural),
    }
}

/// 422 `Kind.group "name" is invalid: field: Reason: detail`.
pub fn invalid(
    res: &Resource,
    name: &str,
    field: &str,
    cause_reason: &str,
    detail: &str,
) -> ApiError {
    let human = match cause_reason {
        "FieldValueRequired" => "Required value",
        "FieldValueInvalid" => "Invalid value",
        "FieldValueForbidden" => "Forbidden",
        "FieldValueNotSupported" => "Unsupported value",
        _ => "Invalid value",
    };
    let cause_msg = if detail.is_empty() {
        human.to_string()
    } else {
        format!("{human}: {detail}")
    };
    let mut d = details(name, &res.group, &res.kind);
    d["causes"] = json!([{ "reason": cause_reason, "message": cause_msg, "field": field }]);
    ApiError {
        code: 422,
        reason: "Invalid",
        message: format!(
            "{} \"{}\" is invalid: {}: {}",
            res.qualified_kind(),
            name,
            field,
            cause_msg
        ),
        details: d,
    }
}

/// 403 in the RBAC authorizer's wording.
pub fn forbidden(
    res: &Resource,
    sub: Option<&str>,
    name: &str,
    verb: &str,
    user: &str,
    namespace: Option<&str>,
) -> ApiError {
    let rbac_resource = match sub {
        Some(s) => format!("{}/{}", res.plural, s),
        None => res.plural.clone(),
    };
    let scope = match namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".into(),
    };
    let subject = if name.is_empty() {
        res.qualified()
    } else {
        format!("{} \"{}\"", res.qualified(), name)
    };
    ApiError {
        code: 403,
        reason: "Forbidden",
        message: format!(
            "{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{rbac_resource}\" in API group \"{}\" {scope}",
            res.group
        ),
        details: details(name, &res.group, &res.plural),
    }
}

/// The `Status` a DELETE answers when the object is gone and its storage does not return
/// deleted objects (`genericregistry.Store` without `ReturnDeletedObject`): `details.kind` is
/// the plural resource, as the real server writes it.
pub fn deleted(res: &Resource, name: &str, uid: &str) -> Value {
    let mut d = details(name, &res.group, &res.plural);
    if !uid.is_empty() {
        d["uid"] = json!(uid);
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d})
}

/// 400 BadRequest with a free-form message.
pub fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError {
        code: 400,
        reason: "BadRequest",
        message: message.into(),
        details: json!({}),
    }
}

/// 405 for a verb the path does not support.
pub fn method_not_allowed() -> ApiError {
    ApiError {
        code: 405,
        reason: "MethodNotAllowed",
        message: "the server does not allow this method on the requested resource".into(),
        details: json!({}),
    }
}

/// 410 for a watch whose resourceVersion was compacted away (sent as a watch
/// `ERROR` event, as the real server does).
pub fn expired(requested: u64, oldest: u64) -> ApiError {
    ApiError {
        code: 410,
        reason: "Expired",
        message: format!("too old resource version: {requested} ({oldest})"),
        details: json!({}),
    }
}

/// 415 for a PATCH content type the server does not know.
pub fn unsupported_media_type(ct: &str) -> ApiError {
    ApiError {
        code: 415,
        reason: "UnsupportedMediaType",
        message: format!(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json; got {ct}"
        ),
        details: json!({}),
    }
}
