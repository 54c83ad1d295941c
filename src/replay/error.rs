//! What can go wrong while stand-ins are created and run, as values the run can act on.

use serde::Serialize;

/// Why a replay could not be set up. Everything it created was deleted before this was
/// returned (except what [`ApplyError::leftovers`] names).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyError {
    pub kind: ApplyErrorKind,
    /// What failed and why.
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// Objects that could not be deleted on the way out (`kind namespace/name: reason`).
    pub leftovers: Vec<String>,
    /// The kind of the object the problem is about, when it is about one (`Pod`, `Ingress`).
    pub object_kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum ApplyErrorKind {
    /// RBAC denied a verb: the run goes on without replay.
    Forbidden(Box<Denied>),
    /// Admission refused an object (Pod Security, a validating webhook such as ingress-nginx's
    /// path check): cert-manager's own object would most likely be refused the same way.
    Rejected,
    /// The acmesolver image cannot be pulled: cert-manager's solver pod uses the same image.
    ImagePull,
    /// The scheduler cannot place the pod: cert-manager's solver pod has the same constraints.
    Unschedulable,
    /// The container did not start or did not keep running.
    ContainerFailed,
    /// Someone else deleted a stand-in object.
    Deleted,
    /// The pods were not ready in time.
    Timeout,
    /// Any other API failure (server errors, dropped connections, a missing API).
    Api,
}

/// What RBAC denied, and the rule that allows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Denied {
    pub verb: String,
    /// The plural with its group: `ingresses.networking.k8s.io`.
    pub resource: String,
    pub namespace: String,
    /// The Role to create ([`role_rule`]).
    pub rule: String,
}

impl ApplyError {
    pub fn new(kind: ApplyErrorKind, message: impl Into<String>, hint: impl Into<String>) -> Self {
        ApplyError {
            kind,
            message: message.into(),
            hint: hint.into(),
            leftovers: Vec::new(),
            object_kind: None,
        }
    }

    /// The same, about an object of `kind`.
    pub fn about(mut self, kind: &str) -> Self {
        self.object_kind = Some(kind.to_owned());
        self
    }

    /// A short name of the kind of problem (`forbidden`, `imagePull`, …), as the report says it.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ApplyErrorKind::Forbidden(_) => "forbidden",
            ApplyErrorKind::Rejected => "rejected",
            ApplyErrorKind::ImagePull => "imagePull",
            ApplyErrorKind::Unschedulable => "unschedulable",
            ApplyErrorKind::ContainerFailed => "containerFailed",
            ApplyErrorKind::Deleted => "deleted",
            ApplyErrorKind::Timeout => "timeout",
            ApplyErrorKind::Api => "api",
        }
    }

    /// RBAC said no: the run should go on without replay (and say why).
    pub fn is_forbidden(&self) -> bool {
        matches!(self.kind, ApplyErrorKind::Forbidden(_))
    }

    /// Would cert-manager's own solver hit the same problem? Then the error is a finding about
    /// the cluster, not about the tool.
    pub fn also_hits_cert_manager(&self) -> bool {
        matches!(
            self.kind,
            ApplyErrorKind::Rejected | ApplyErrorKind::ImagePull | ApplyErrorKind::Unschedulable
        )
    }
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        for l in &self.leftovers {
            write!(f, "\n  left behind: {l}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApplyError {}

/// The Role that replay needs in `namespace` (README: permissions).
pub fn role_rule(namespace: &str) -> String {
    format!(
        "kubectl create role acmecheck-replay -n {namespace} --verb=create,get,watch,delete --resource=pods,services,ingresses.networking.k8s.io,httproutes.gateway.networking.k8s.io && kubectl create rolebinding acmecheck-replay -n {namespace} --role=acmecheck-replay --user=<you>"
    )
}
