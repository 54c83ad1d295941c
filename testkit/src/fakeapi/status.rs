//! `metav1.Status` errors in the exact JSON shape the real API server sends.

use serde_json::{Map, Value, json};

use super::resources::ResourceDef;

/// An API error; rendered as a `Status` object with `code` as the HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `details`, omitted when `None` (the real server omits it for some errors).
    pub details: Option<Value>,
}

fn details(name: &str, group: &str, kind: &str) -> Value {
    let mut d = Map::new();
    if !name.is_empty() {
        d.insert("name".into(), name.into());
    }
    if !group.is_empty() {
        d.insert("group".into(), group.into());
    }
    d.insert("kind".into(), kind.into());
    Value::Object(d)
}

impl ApiError {
    pub fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        s["code"] = self.code.into();
        s
    }

    pub fn not_found(def: &ResourceDef, name: &str) -> Self {
        ApiError {
            code: 404,
            reason: "NotFound",
            message: format!("{} \"{name}\" not found", def.qualified()),
            details: Some(details(name, def.group, def.plural)),
        }
    }

    /// Unknown path or resource (e.g. a CRD that is not installed).
    pub fn no_route() -> Self {
        ApiError {
            code: 404,
            reason: "NotFound",
            message: "the server could not find the requested resource".into(),
            details: Some(json!({})),
        }
    }

    pub fn already_exists(def: &ResourceDef, name: &str) -> Self {
        ApiError {
            code: 409,
            reason: "AlreadyExists",
            message: format!("{} \"{name}\" already exists", def.qualified()),
            details: Some(details(name, def.group, def.plural)),
        }
    }

    pub fn conflict(def: &ResourceDef, name: &str) -> Self {
        ApiError {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; \
                 please apply your changes to the latest version and try again",
                def.qualified()
            ),
            details: Some(details(name, def.group, def.plural)),
        }
    }

    /// 422 Invalid for one field, as field validation reports it.
    pub fn invalid(
        def: &ResourceDef,
        name: &str,
        field: &str,
        cause_reason: &str,
        detail: &str,
    ) -> Self {
        let qkind = if def.group.is_empty() {
            def.kind.to_string()
        } else {
            format!("{}.{}", def.kind, def.group)
        };
        let mut d = details(name, def.group, def.kind);
        if name.is_empty() {
            d["name"] = "".into();
        }
        d["causes"] = json!([{ "reason": cause_reason, "message": detail, "field": field }]);
        ApiError {
            code: 422,
            reason: "Invalid",
            message: format!("{qkind} \"{name}\" is invalid: {field}: {detail}"),
            details: Some(d),
        }
    }

    /// 403 exactly as the RBAC authorizer words it.
    pub fn forbidden(
        def: &ResourceDef,
        subresource: Option<&str>,
        name: &str,
        verb: &str,
        user: &str,
        ns: Option<&str>,
    ) -> Self {
        let resource = match subresource {
            Some(s) => format!("{}/{s}", def.plural),
            None => def.plural.to_string(),
        };
        let subject = if name.is_empty() {
            def.qualified()
        } else {
            format!("{} \"{name}\"", def.qualified())
        };
        let scope = match ns {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        ApiError {
            code: 403,
            reason: "Forbidden",
            message: format!(
                "{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
                def.group
            ),
            details: Some(details(name, def.group, def.plural)),
        }
    }

    pub fn method_not_allowed() -> Self {
        ApiError {
            code: 405,
            reason: "MethodNotAllowed",
            message: "the server does not allow this method on the requested resource".into(),
            details: Some(json!({})),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            code: 400,
            reason: "BadRequest",
            message: message.into(),
            details: None,
        }
    }

    pub fn unsupported_media_type(ct: &str) -> Self {
        ApiError {
            code: 415,
            reason: "UnsupportedMediaType",
            message: format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {ct:?})"
            ),
            details: None,
        }
    }

    /// 410 for a watch or continue token older than the retained history.
    pub fn expired(message: impl Into<String>) -> Self {
        ApiError {
            code: 410,
            reason: "Expired",
            message: message.into(),
            details: None,
        }
    }
}
