//! Diagnosis: pure functions from evidence to findings. No I/O happens here.
//!
//! Each rule is a small function `fn(&Input) -> Vec<Finding>` in one of the rule modules; the
//! rule list in [`diagnose`] runs them all and ranks the result so that the root cause comes
//! first (proof before support, errors before warnings).

use serde::{Deserialize, Serialize};

pub mod advice;
pub mod api;
pub mod chain;
pub mod joint;
pub mod probe;
pub mod responder;
#[cfg(test)]
pub(crate) mod testdata;
pub mod vantage;

/// How many rules a full run applies to each certificate (API, probe, joint, DNS-01 advice).
pub fn rule_count() -> usize {
    api::RULES.len() + probe::RULES.len() + joint::RULES.len() + 1
}

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

/// `(cause, effect)`: when both are present, the effect is a consequence of the cause.
/// Symptoms ([`Code::is_symptom`]) are consequences of whichever cause ranks first.
const CONSEQUENCES: &[(Code, Code)] = &[
    (Code::SolverPodNotRunning, Code::SolverUnreachable),
    (Code::PathCaptured, Code::BodyMismatch),
    (Code::PathCaptured, Code::AuthRequired),
    (Code::PathCaptured, Code::HttpsRedirectUnserved),
    (Code::WrongDevice, Code::BodyMismatch),
    (Code::WrongDevice, Code::HttpsRedirectUnserved),
    (Code::WrongDevice, Code::AuthRequired),
    (Code::EdgeProtocolMismatch, Code::BodyMismatch),
    (Code::EtpLocalPartial, Code::StaleAddress),
    (Code::EtpLocalPartial, Code::InboundBlocked),
    (Code::EtpLocalPartial, Code::MixedBackends),
    (Code::SolverOnOtherLb, Code::StaleAddress),
    (Code::CaaForbids, Code::CaRejected),
    (Code::DnsBroken, Code::CaRejected),
    (Code::DnsBroken, Code::DnsNotReady),
    (Code::SolverRemovedEarly, Code::CaRejected),
    (Code::IpIdentifier, Code::HttprouteNotAttached),
    (Code::IpIdentifier, Code::PresentFailed),
];

fn same_scope(a: &Finding, b: &Finding) -> bool {
    a.challenge.is_none() || b.challenge.is_none() || a.challenge == b.challenge
}

/// The cause in [`CONSEQUENCES`] that explains `f`, if present in `all`.
fn table_cause(f: &Finding, all: &[Finding]) -> Option<Code> {
    CONSEQUENCES
        .iter()
        .find(|(c, e)| *e == f.code && all.iter().any(|o| o.code == *c && same_scope(o, f)))
        .map(|(c, _)| *c)
}

/// What explains each finding: the table, and for symptoms the first error cause in scope.
fn causes(all: &[Finding]) -> Vec<Option<Code>> {
    let table: Vec<Option<Code>> = all.iter().map(|f| table_cause(f, all)).collect();
    all.iter()
        .zip(&table)
        .map(|(f, t)| {
            if t.is_some() || !f.code.is_symptom() {
                return *t;
            }
            all.iter()
                .zip(&table)
                .filter(|(o, ot)| {
                    ot.is_none()
                        && !o.code.is_symptom()
                        && o.severity == Severity::Error
                        && same_scope(o, f)
                })
                .min_by_key(|(o, _)| o.proof)
                .map(|(o, _)| o.code)
        })
        .collect()
}

/// Order findings so that the root cause comes first: errors before warnings before info,
/// proof before support, causes before their consequences and symptoms; stable otherwise
/// (rule order is meaningful). Marks each consequence with the code that explains it.
pub fn rank(findings: &mut [Finding]) {
    let found = causes(findings);
    for (f, c) in findings.iter_mut().zip(found) {
        f.consequence_of = c;
    }
    findings.sort_by_key(|f| {
        (
            f.severity,
            f.consequence_of.is_some(),
            f.proof,
            f.code.is_symptom(),
        )
    });
}

/// Test helper: every finding a rule fixture produces is complete — a summary, at least one
/// non-empty evidence line, a fix, and a docs link for its code. Rule tests call it on every
/// finding they look at.
#[cfg(test)]
pub(crate) fn assert_complete(findings: &[Finding]) {
    for f in findings {
        assert!(!f.summary.trim().is_empty(), "{}: empty summary", f.code);
        assert!(
            !f.evidence.is_empty() && f.evidence.iter().all(|e| !e.trim().is_empty()),
            "{}: no evidence: {f:?}",
            f.code
        );
        assert!(!f.fix.trim().is_empty(), "{}: no fix: {f:?}", f.code);
        assert!(f.docs.ends_with(&format!("/{}.md", f.code)), "{}", f.docs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(code: Code, severity: Severity, proof: Proof, challenge: Option<&str>) -> Finding {
        let mut f = Finding::new(code, severity, proof, "x");
        f.challenge = challenge.map(str::to_owned);
        f
    }

    #[test]
    fn rank_puts_causes_first_and_names_them() {
        let mut v = vec![
            f(
                Code::SelfCheckFailing,
                Severity::Error,
                Proof::Supports,
                Some("a"),
            ),
            f(
                Code::SolverUnreachable,
                Severity::Error,
                Proof::Supports,
                Some("a"),
            ),
            f(
                Code::BodyMismatch,
                Severity::Error,
                Proof::Proves,
                Some("a"),
            ),
            f(
                Code::PathCaptured,
                Severity::Error,
                Proof::Supports,
                Some("a"),
            ),
            f(
                Code::SolverPodNotRunning,
                Severity::Error,
                Proof::Proves,
                Some("a"),
            ),
            f(
                Code::VersionPitfall,
                Severity::Warning,
                Proof::Proves,
                Some("a"),
            ),
        ];
        rank(&mut v);
        let order: Vec<(Code, Option<Code>)> =
            v.iter().map(|f| (f.code, f.consequence_of)).collect();
        assert_eq!(
            order,
            [
                (Code::SolverPodNotRunning, None),
                (Code::PathCaptured, None),
                (Code::BodyMismatch, Some(Code::PathCaptured)),
                (Code::SolverUnreachable, Some(Code::SolverPodNotRunning)),
                (Code::SelfCheckFailing, Some(Code::SolverPodNotRunning)),
                (Code::VersionPitfall, None),
            ]
        );
        // Without a cause in scope nothing is called a consequence.
        let mut v = vec![
            f(
                Code::SelfCheckFailing,
                Severity::Error,
                Proof::Supports,
                Some("a"),
            ),
            f(
                Code::MixedBackends,
                Severity::Error,
                Proof::Proves,
                Some("b"),
            ),
            f(
                Code::BodyMismatch,
                Severity::Error,
                Proof::Proves,
                Some("a"),
            ),
        ];
        rank(&mut v);
        assert_eq!(v[0].code, Code::MixedBackends);
        assert_eq!(v[2].consequence_of, Some(Code::BodyMismatch));
        assert_eq!(v[1].consequence_of, None);
        let json = serde_json::to_value(&v[2]).unwrap();
        assert_eq!(json["consequenceOf"], "BODY_MISMATCH");
        assert!(
            json["docs"]
                .as_str()
                .unwrap()
                .ends_with("docs/findings/SELF_CHECK_FAILING.md")
        );
    }

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
