//! Diagnosis: pure functions from evidence to findings. No I/O happens here.
//!
//! Each rule is a small function `fn(&Input) -> Vec<Finding>` in one of the rule modules; the
//! rule list in [`diagnose`] runs them all and ranks the result so that the root cause comes
//! first (proof before support, errors before warnings).

use serde::{Deserialize, Serialize};

pub mod api;

/// Stable finding codes. The string form (SCREAMING_SNAKE_CASE) never changes once released:
/// scripts match on it and `docs/findings/<CODE>.md` documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    // Chain / API (issue: the cert-manager chain)
    CertManagerMissing,
    IssuerNotFound,
    IssuerNotReady,
    IssuerNotAcme,
    WildcardNeedsDns01,
    SolverConfig,
    NoMatchingSolver,
    PresentFailed,
    SolverPodNotRunning,
    SolverPodStale,
    SolverUnreachable,
    SolverIngressRejected,
    IngressClassUnserved,
    DuplicateController,
    HttprouteNotAttached,
    GatewayApiDisabled,
    ChallengeNotScheduled,
    SelfCheckFailing,
    SelfCheckSkipped,
    CaRejected,
    RateLimited,
    IssuanceBackoff,
    // Probing (issue: probe engine)
    MixedBackends,
    StaleAddress,
    Ipv6Broken,
    HttpsRedirectUnserved,
    BadRedirect,
    AuthRequired,
    BodyMismatch,
    InboundBlocked,
    DnsNotReady,
    CdnInFront,
    NonPublicName,
    // Cross-vantage (issue: probe pod)
    HairpinUnreachable,
    SplitHorizon,
    IpAllowlist,
    ProxyProtocolMismatch,
    SelfcheckViaProxy,
    SelfcheckEgressBlocked,
    // The tool could not check something
    NotChecked,
}

impl Code {
    /// The stable string, e.g. `MIXED_BACKENDS`.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// How bad it is. `Error` blocks issuance; `Warning` may; `Info` is context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// How directly the evidence proves the finding (failure-modes.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proof {
    /// The minimal evidence that rules out the neighbours was observed.
    Proves,
    /// Consistent with the cause, but not conclusive on its own.
    Supports,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub proof: Proof,
    /// Challenge name when the finding is about one challenge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// One line, with numbers where there are numbers.
    pub summary: String,
    /// Facts behind the finding: object names, field values, counts.
    pub evidence: Vec<String>,
    /// What to do: a command or a YAML patch for this cluster's objects.
    pub fix: String,
}

impl Finding {
    pub fn new(code: Code, severity: Severity, proof: Proof, summary: impl Into<String>) -> Self {
        Finding {
            code,
            severity,
            proof,
            challenge: None,
            summary: summary.into(),
            evidence: Vec::new(),
            fix: String::new(),
        }
    }
    pub fn challenge(mut self, name: &str) -> Self {
        self.challenge = Some(name.to_owned());
        self
    }
    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = fix.into();
        self
    }
    /// Where the finding's page lives in the repository.
    pub fn doc_path(&self) -> String {
        format!("docs/findings/{}.md", self.code)
    }
}

/// Order findings so that the root cause comes first: errors before warnings before info,
/// proof before support; stable otherwise (rule order is meaningful).
pub fn rank(findings: &mut [Finding]) {
    findings.sort_by_key(|f| (f.severity, f.proof));
}
