//! Report: the versioned result model (`-o json|yaml`) and its renderings.
//!
//! [`Report`] is what scripts consume; its schema is documented in `docs/report-schema.json` and
//! versioned by `apiVersion`. The table in [`table`] is rendered from the same model, so both
//! always say the same thing.

use crate::diagnose::{Finding, Severity};
use crate::evidence::{CertificateEvidence, ClusterEvidence, condition};
use crate::probe::incluster::{InCluster, Placement, Problem};
use crate::reason::{self, Phase, Reason};
use serde::{Deserialize, Serialize};

mod backends;
mod findings;
pub mod fix;
mod layout;
pub mod overflow;
pub mod picture;
mod probes;
pub mod renewals;
mod renewals_table;
pub mod replay;
pub mod summary;
pub mod table;
pub mod terminal;

pub const API_VERSION: &str = "acmecheck.io/v1alpha1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub api_version: String,
    pub kind: String,
    pub certificates: Vec<CertificateReport>,
    /// Things the tool could not read or check (forbidden lists, skipped probes).
    pub notes: Vec<String>,
    pub summary: Summary,
    /// The in-cluster vantage: where the probe pod ran, or why it did not (absent when it was
    /// not asked for).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub in_cluster: Option<InClusterSummary>,
}

/// Where the probe pod ran, or why the in-cluster vantage is missing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InClusterSummary {
    /// `ran` or `failed`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub placement: Option<Placement>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub problem: Option<Problem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub certificates: usize,
    /// Certificates with at least one error finding.
    pub with_problems: usize,
    /// Certificates without an error finding whose challenge URL was not probed (see
    /// [`summary::Status::NotChecked`]).
    #[serde(default)]
    pub not_checked: usize,
    /// The process exit code: 0 no problem, 1 problem found.
    pub exit_code: i32,
    /// One line per certificate, problems first: what the table's summary shows.
    #[serde(default)]
    pub lines: Vec<summary::Line>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateReport {
    pub namespace: String,
    pub name: String,
    pub ready: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_message: Option<String>,
    pub dns_names: Vec<String>,
    pub issuer: IssuerSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<ObjectStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<ObjectStatus>,
    pub challenges: Vec<ChallengeReport>,
    /// Authorizations the CA already considers valid (no challenge needed).
    pub already_authorized: Vec<String>,
    /// Ranked: the first error finding is the root cause.
    pub findings: Vec<Finding>,
    /// What a replay created and probed (`--replay`, `preflight`), or, after a failed issuance
    /// without `--replay`, what it would create (`state: planned`) and the command.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub replay: Option<crate::evidence::ReplayEvidence>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IssuerSummary {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acme_server: Option<String>,
}

/// Name and state of a CertificateRequest or Order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStatus {
    pub name: String,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeReport {
    pub name: String,
    pub dns_name: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub url: String,
    pub phase: Phase,
    pub state: String,
    pub presented: bool,
    pub processing: bool,
    /// `status.reason` as cert-manager wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The same, parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parsed_reason: Option<Reason>,
    /// How the solver routes traffic: `ingress class=nginx`, `httpRoute parents=gw/public`, ...
    pub solver: String,
    /// What each vantage point saw when probing the challenge URL.
    pub vantages: Vantages,
}

/// Probe results per vantage point (`local`: this machine; `inCluster`: the probe pod).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Vantages {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<crate::probe::plan::TargetReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_cluster: Option<crate::probe::plan::TargetReport>,
}

impl CertificateReport {
    /// Build the report for one certificate from its evidence and ranked findings.
    pub fn new(cert: &CertificateEvidence, findings: Vec<Finding>) -> Self {
        let ready_cond = condition(&cert.conditions, "Ready");
        let issuer = IssuerSummary {
            kind: cert.issuer_ref.kind_or_default().to_owned(),
            name: cert.issuer_ref.name.clone(),
            ready: cert
                .issuer
                .as_ref()
                .map(|i| condition(&i.conditions, "Ready").is_some_and(|c| c.status == "True")),
            acme_server: cert
                .issuer
                .as_ref()
                .and_then(|i| i.acme.as_ref())
                .map(|a| a.server.clone()),
        };
        let request = cert.request.as_ref().map(|r| {
            let c = condition(&r.conditions, "Ready");
            ObjectStatus {
                name: r.name.clone(),
                state: c
                    .and_then(|c| c.reason.clone())
                    .unwrap_or_else(|| "Unknown".into()),
                reason: c.and_then(|c| c.message.clone()),
            }
        });
        let order = cert.order.as_ref().map(|o| ObjectStatus {
            name: o.name.clone(),
            state: if o.state.is_empty() {
                "unknown".into()
            } else {
                o.state.clone()
            },
            reason: o.reason.clone().filter(|r| !r.is_empty()),
        });
        let challenges = cert
            .challenges
            .iter()
            .map(|ch| ChallengeReport {
                name: ch.name.clone(),
                dns_name: ch.dns_name.clone(),
                type_: ch.type_.clone(),
                url: ch.challenge_url(),
                phase: reason::phase(ch),
                state: ch.state.clone(),
                presented: ch.presented,
                processing: ch.processing,
                reason: ch.reason.clone().filter(|r| !r.is_empty()),
                parsed_reason: ch.reason.as_deref().and_then(reason::parse),
                solver: solver_description(&ch.solver),
                vantages: Vantages::default(),
            })
            .collect();
        let already_authorized = cert
            .order
            .iter()
            .flat_map(|o| &o.authorizations)
            .filter(|a| a.initial_state.as_deref() == Some("valid"))
            .map(|a| a.identifier.clone())
            .collect();
        CertificateReport {
            namespace: cert.namespace.clone(),
            name: cert.name.clone(),
            ready: ready_cond.is_some_and(|c| c.status == "True"),
            ready_reason: ready_cond.and_then(|c| c.reason.clone()),
            ready_message: ready_cond.and_then(|c| c.message.clone()),
            dns_names: cert.dns_names.clone(),
            issuer,
            request,
            order,
            challenges,
            already_authorized,
            findings,
            replay: cert.replay.clone(),
        }
    }

    pub fn has_problem(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

fn solver_description(s: &crate::evidence::Solver) -> String {
    if let Some(h) = &s.http01 {
        if let Some(i) = &h.ingress {
            if let Some(name) = &i.name {
                return format!("ingress edit-in-place {name}");
            }
            return match (&i.ingress_class_name, &i.class) {
                (Some(c), _) => format!("ingress class {c}"),
                (None, Some(c)) => format!("ingress class {c} (annotation)"),
                (None, None) => "ingress (no class)".into(),
            };
        }
        if let Some(r) = &h.gateway_http_route {
            let parents: Vec<_> = r
                .parent_refs
                .iter()
                .map(|p| match &p.namespace {
                    Some(ns) => format!("{ns}/{}", p.name),
                    None => p.name.clone(),
                })
                .collect();
            return format!("httpRoute parents {}", parents.join(","));
        }
    }
    if s.dns01.is_some() {
        return "dns01".into();
    }
    "unknown".into()
}

impl Report {
    pub fn new(certificates: Vec<CertificateReport>, cluster: &ClusterEvidence) -> Self {
        let with_problems = certificates.iter().filter(|c| c.has_problem()).count();
        let lines = summary::lines(&certificates);
        Report {
            api_version: API_VERSION.into(),
            kind: "Report".into(),
            summary: Summary {
                certificates: certificates.len(),
                with_problems,
                not_checked: lines
                    .iter()
                    .filter(|l| l.status == summary::Status::NotChecked)
                    .count(),
                lines,
                exit_code: if with_problems > 0 {
                    crate::error::exit::PROBLEM
                } else {
                    crate::error::exit::OK
                },
            },
            certificates,
            notes: cluster.unreadable.clone(),
            in_cluster: None,
        }
    }

    /// Record where the probe pod ran or why it did not.
    pub fn with_in_cluster(mut self, in_cluster: &InCluster) -> Self {
        self.in_cluster = match in_cluster {
            InCluster::NotRequested => None,
            InCluster::Ran { placement, .. } => Some(InClusterSummary {
                state: "ran".into(),
                placement: Some(placement.clone()),
                problem: None,
            }),
            InCluster::Failed { placement, problem } => Some(InClusterSummary {
                state: "failed".into(),
                placement: placement.clone(),
                problem: Some(problem.clone()),
            }),
        };
        self
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).unwrap_or_else(|e| format!("error: {e}\n"))
    }
}

#[cfg(test)]
mod schema;
#[cfg(test)]
pub(crate) use schema::schema_errors_with;
#[cfg(test)]
mod glance_tests;
#[cfg(test)]
mod renewals_tests;
