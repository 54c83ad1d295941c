//! The finding types every rule returns: stable [`Code`]s, [`Severity`], [`Proof`], and the
//! [`Finding`] itself. Shared by all rule modules; imports none of them.

use serde::{Deserialize, Serialize};

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
    BackendPinnedBySource,
    // Advice across findings (issue: diagnosis)
    Dns01Advised,
    // The tool could not check something
    NotChecked,
    // Coverage of failure-modes.md §5 (issue: diagnosis); appended to keep indexes stable
    PathCaptured,
    HostNotPreserved,
    SolverOnOtherLb,
    DataplaneStale,
    EtpLocalPartial,
    EdgeProtocolMismatch,
    DnsBroken,
    CaaForbids,
    SolverRemovedEarly,
    VersionPitfall,
    WrongDevice,
    IpIdentifier,
}

impl Code {
    /// Every code, in declaration order (docs and tests iterate over it).
    pub const ALL: &[Code] = &[
        Code::CertManagerMissing,
        Code::IssuerNotFound,
        Code::IssuerNotReady,
        Code::IssuerNotAcme,
        Code::WildcardNeedsDns01,
        Code::SolverConfig,
        Code::NoMatchingSolver,
        Code::PresentFailed,
        Code::SolverPodNotRunning,
        Code::SolverPodStale,
        Code::SolverUnreachable,
        Code::SolverIngressRejected,
        Code::IngressClassUnserved,
        Code::DuplicateController,
        Code::HttprouteNotAttached,
        Code::GatewayApiDisabled,
        Code::ChallengeNotScheduled,
        Code::SelfCheckFailing,
        Code::SelfCheckSkipped,
        Code::CaRejected,
        Code::RateLimited,
        Code::IssuanceBackoff,
        Code::MixedBackends,
        Code::StaleAddress,
        Code::Ipv6Broken,
        Code::HttpsRedirectUnserved,
        Code::BadRedirect,
        Code::AuthRequired,
        Code::BodyMismatch,
        Code::InboundBlocked,
        Code::DnsNotReady,
        Code::CdnInFront,
        Code::NonPublicName,
        Code::HairpinUnreachable,
        Code::SplitHorizon,
        Code::IpAllowlist,
        Code::ProxyProtocolMismatch,
        Code::SelfcheckViaProxy,
        Code::SelfcheckEgressBlocked,
        Code::BackendPinnedBySource,
        Code::Dns01Advised,
        Code::NotChecked,
        Code::PathCaptured,
        Code::HostNotPreserved,
        Code::SolverOnOtherLb,
        Code::DataplaneStale,
        Code::EtpLocalPartial,
        Code::EdgeProtocolMismatch,
        Code::DnsBroken,
        Code::CaaForbids,
        Code::SolverRemovedEarly,
        Code::VersionPitfall,
        Code::WrongDevice,
        Code::IpIdentifier,
    ];

    /// Position in [`Code::ALL`]; the exhaustive match makes a new variant fail to compile
    /// until it is listed there too.
    pub fn index(self) -> usize {
        match self {
            Code::CertManagerMissing => 0,
            Code::IssuerNotFound => 1,
            Code::IssuerNotReady => 2,
            Code::IssuerNotAcme => 3,
            Code::WildcardNeedsDns01 => 4,
            Code::SolverConfig => 5,
            Code::NoMatchingSolver => 6,
            Code::PresentFailed => 7,
            Code::SolverPodNotRunning => 8,
            Code::SolverPodStale => 9,
            Code::SolverUnreachable => 10,
            Code::SolverIngressRejected => 11,
            Code::IngressClassUnserved => 12,
            Code::DuplicateController => 13,
            Code::HttprouteNotAttached => 14,
            Code::GatewayApiDisabled => 15,
            Code::ChallengeNotScheduled => 16,
            Code::SelfCheckFailing => 17,
            Code::SelfCheckSkipped => 18,
            Code::CaRejected => 19,
            Code::RateLimited => 20,
            Code::IssuanceBackoff => 21,
            Code::MixedBackends => 22,
            Code::StaleAddress => 23,
            Code::Ipv6Broken => 24,
            Code::HttpsRedirectUnserved => 25,
            Code::BadRedirect => 26,
            Code::AuthRequired => 27,
            Code::BodyMismatch => 28,
            Code::InboundBlocked => 29,
            Code::DnsNotReady => 30,
            Code::CdnInFront => 31,
            Code::NonPublicName => 32,
            Code::HairpinUnreachable => 33,
            Code::SplitHorizon => 34,
            Code::IpAllowlist => 35,
            Code::ProxyProtocolMismatch => 36,
            Code::SelfcheckViaProxy => 37,
            Code::SelfcheckEgressBlocked => 38,
            Code::BackendPinnedBySource => 39,
            Code::Dns01Advised => 40,
            Code::NotChecked => 41,
            Code::PathCaptured => 42,
            Code::HostNotPreserved => 43,
            Code::SolverOnOtherLb => 44,
            Code::DataplaneStale => 45,
            Code::EtpLocalPartial => 46,
            Code::EdgeProtocolMismatch => 47,
            Code::DnsBroken => 48,
            Code::CaaForbids => 49,
            Code::SolverRemovedEarly => 50,
            Code::VersionPitfall => 51,
            Code::WrongDevice => 52,
            Code::IpIdentifier => 53,
        }
    }
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
    /// When another finding in the same report explains this one: its code. Set by [`rank`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consequence_of: Option<Code>,
    /// The finding's page (`docs/findings/<CODE>.md` in the repository).
    #[serde(default)]
    pub docs: String,
}

/// Where the finding pages are published.
pub const DOCS_BASE: &str =
    "https://github.com/kubectl-acmecheck/kubectl-acmecheck/blob/main/docs/findings";

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
            consequence_of: None,
            docs: format!("{DOCS_BASE}/{code}.md"),
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

impl Code {
    /// Codes that restate what cert-manager already reports (the self check fails) rather
    /// than explain it: they rank after any cause of the same severity and proof.
    pub fn is_symptom(self) -> bool {
        matches!(self, Code::SelfCheckFailing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_code_once_in_order() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(c.index(), i, "{c}");
        }
        assert_eq!(Code::MixedBackends.as_str(), "MIXED_BACKENDS");
        assert_eq!(Code::Ipv6Broken.as_str(), "IPV6_BROKEN");
        assert_eq!(
            Code::HttprouteNotAttached.as_str(),
            "HTTPROUTE_NOT_ATTACHED"
        );
    }
}
