//! Present errors: what cert-manager writes when it cannot create the solver's Pod, Service,
//! Ingress or HTTPRoute.
//!
//! Where they appear (cert-manager `pkg/controller/acmechallenges/sync.go` `Sync`):
//! * `status.reason` holds the **bare** error (`ch.Status.Reason = err.Error()` since v0.14,
//!   `stabilizeSolverErrorMessage(err)` since v1.20); only the `PresentError` Event carries the
//!   prefix `Error presenting challenge: `.
//! * inside the self check: HTTP-01 `Check` calls `Present` again first (`pkg/issuer/acme/http/
//!   http.go` `Solver.Check`, v0.8 to master), so a Present failure there reads
//!   `Waiting for HTTP-01 challenge propagation: <bare error>`.
//!
//! The error is cert-manager's own (http.go, pod.go, service.go, ingress.go, httproute.go) or the
//! Kubernetes API server's `StatusError` text, aggregated as `[err1, err2]` when several solver
//! objects fail (`utilerrors.NewAggregate` in `Solver.Present`).

use super::text::flat;
use serde::{Deserialize, Serialize};

/// Why the solver's objects could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PresentCause {
    /// `admission webhook "<name>" denied the request`: a validating webhook (ingress-nginx's
    /// path checks, Gatekeeper, Kyverno) rejected a solver object.
    WebhookDenied,
    /// `failed calling webhook "<name>"`: the API server could not reach a webhook at all.
    WebhookUnreachable,
    /// `exceeded quota`: a ResourceQuota in the challenge's namespace is full.
    Quota,
    /// `violates PodSecurity` or `PodSecurityPolicy`: pod security admission refused the pod.
    PodSecurity,
    /// `User "…" cannot create resource …`: cert-manager's RBAC does not allow it.
    Rbac,
    /// Another `is forbidden` (e.g. the namespace is being terminated).
    Forbidden,
    /// `is invalid`: the API server's field validation refused an object.
    Invalid,
    /// `the server could not find the requested resource` / `no matches for kind`: the API
    /// (e.g. the Gateway API CRDs) is not installed.
    ApiMissing,
    /// The API server did not answer or was overloaded.
    ApiUnavailable,
    /// cert-manager refused the solver configuration (`gateway api is not enabled`, `the fields
    /// ingressClassName and class cannot be set at the same time`, no ingress/gateway solver).
    SolverConfig,
    /// cert-manager found duplicate solver objects, deleted them and retries (`… found and
    /// cleaned up. retrying challenge sync`): transient unless it repeats.
    Retrying,
    /// A Present error of another kind (e.g. a DNS-01 provider's API error).
    Other,
}

/// A Present error taken apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresentFailure {
    pub cause: PresentCause,
    /// The API resource named first (`pods`, `ingresses.networking.k8s.io`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The object's name when the text gives one (`cm-acme-http-solver-rvt6g`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The webhook's name for the webhook causes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
}

/// cert-manager's own Present errors (http.go, pod.go, service.go, ingress.go, httproute.go,
/// v1.0.0 to master), lowercase.
const SOLVER_CONFIG: [&str; 7] = [
    "gateway api is not enabled",
    "ingressclassname and class cannot be set at the same time",
    "no ingress nor gateway http01 solvers were specified",
    "neither http01 ingress nor gateway solvers were found",
    "no http01 ingress config provided",
    "multiple httproutes found",
    "received nil *acme.challenge",
];

/// Kubernetes API `StatusError` texts that mean the API server is not answering properly
/// (apimachinery `errors.go` reason messages, client-go transport errors).
const API_UNAVAILABLE: [&str; 8] = [
    "the server is currently unable to handle the request",
    "the server was unable to return a response in the time allotted",
    "timeout: request did not complete within",
    "the server has received too many requests",
    "an error on the server",
    "context deadline exceeded",
    "connection refused",
    "i/o timeout",
];

/// Take a Present error apart. Total: any text gets a cause (`Other` when unknown).
pub fn present_failure(detail: &str) -> PresentFailure {
    let f = flat(detail);
    let (resource, name) = subject(detail);
    let webhook = quoted_after(detail, "webhook \"");
    let cause = if f.contains("failed calling webhook") {
        PresentCause::WebhookUnreachable
    } else if f.contains("admission webhook") && f.contains("denied the request") {
        PresentCause::WebhookDenied
    } else if f.contains("exceeded quota") {
        PresentCause::Quota
    } else if f.contains("violates podsecurity") || f.contains("podsecuritypolicy") {
        PresentCause::PodSecurity
    } else if f.contains(" is forbidden: user ") || f.contains("cannot create resource") {
        PresentCause::Rbac
    } else if f.contains(" is forbidden") {
        PresentCause::Forbidden
    } else if f.contains(" is invalid") {
        PresentCause::Invalid
    } else if f.contains("could not find the requested resource")
        || f.contains("no matches for kind")
    {
        PresentCause::ApiMissing
    } else if f.contains("cleaned up. retrying challenge sync") {
        PresentCause::Retrying
    } else if SOLVER_CONFIG.iter().any(|s| f.contains(s))
        || f.starts_with("couldn't present challenge")
    {
        PresentCause::SolverConfig
    } else if API_UNAVAILABLE.iter().any(|s| f.contains(s)) {
        PresentCause::ApiUnavailable
    } else {
        PresentCause::Other
    };
    let webhook = webhook.filter(|_| {
        matches!(
            cause,
            PresentCause::WebhookDenied | PresentCause::WebhookUnreachable
        )
    });
    PresentFailure {
        cause,
        resource,
        name,
        webhook,
    }
}

/// True when the text has the shape of a Present error: a Kubernetes API refusal or one of
/// cert-manager's own solver errors. Used for bare `status.reason` texts, which carry no prefix.
pub(super) fn looks_like_present(text: &str) -> bool {
    let f = flat(text);
    let k8s = (f.contains("admission webhook") && f.contains("denied the request"))
        || f.contains("failed calling webhook")
        || f.contains("exceeded quota")
        || f.contains("violates podsecurity")
        || f.contains("podsecuritypolicy")
        || f.contains("cannot create resource")
        || subject(text).0.is_some() && (f.contains(" is forbidden") || f.contains(" is invalid"))
        || f.starts_with("the server could not find the requested resource")
        || f.starts_with("the server is currently unable to handle the request");
    let own = f.starts_with("couldn't present challenge")
        || f.contains("cleaned up. retrying challenge sync")
        || SOLVER_CONFIG.iter().any(|s| f.contains(s))
        || f.contains("cm-acme-http-solver")
        // stabilizeSolverErrorMessage (sync.go, v1.20+) for DNS-01 provider SDK errors.
        || f.contains("<redacted ") && f.contains("sdk error");
    k8s || own
}

/// The first `<resource> "<name>" is …` or `<resource> is forbidden` of a StatusError text
/// (apimachinery `NewForbidden`, `NewInvalid`, `NewAlreadyExists`).
fn subject(text: &str) -> (Option<String>, Option<String>) {
    let t = text.trim_start_matches(['[', ' ']);
    // Skip a leading "admission webhook … denied the request: " or "Internal error occurred: ".
    let mut words = t.split_whitespace();
    let Some(first) = words.next() else {
        return (None, None);
    };
    let is_resource = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c.is_ascii_digit() || c == '-')
            && w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
    };
    if !is_resource(first) {
        return (None, None);
    }
    let rest = t[first.len()..].trim_start();
    if let Some(after) = rest.strip_prefix('"')
        && let Some(end) = after.find('"')
    {
        let tail = after[end + 1..].trim_start();
        if tail.starts_with("is ") || tail.starts_with("already exists") {
            return (Some(first.to_owned()), Some(after[..end].to_owned()));
        }
        return (None, None);
    }
    if rest.starts_with("is forbidden") {
        return (Some(first.to_owned()), None);
    }
    (None, None)
}

/// The text between `<lead>` and the next `"` (webhook names).
fn quoted_after(text: &str, lead: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let i = lower.find(lead)? + lead.len();
    let end = text[i..].find('"')?;
    Some(text[i..i + end].to_owned())
}
