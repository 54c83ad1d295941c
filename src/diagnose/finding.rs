//! The finding types every rule returns: stable [`Code`]s, [`Severity`], [`Proof`], and the
//! [`Finding`] itself. Shared by all rule modules; imports none of them.

use serde::{Deserialize, Serialize};

/// Declares [`Code`] from one list: each variant with its one-line meaning as its doc comment,
/// in declaration order. [`Code::ALL`], [`Code::index`] and [`Code::meaning`] are generated
/// from the same list, so they cannot miss a variant. New codes go at the end: the string form
/// and the position of a released code never change.
macro_rules! codes {
    ($($(#[doc = $doc:literal])+ $variant:ident,)+) => {
        /// Stable finding codes. The string form (SCREAMING_SNAKE_CASE) never changes once
        /// released: scripts match on it and `docs/findings/<CODE>.md` documents it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum Code {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl Code {
            /// Every code, in declaration order (docs and tests iterate over it).
            pub const ALL: &[Code] = &[$(Code::$variant,)+];

            /// Position in [`Code::ALL`]: the declaration order.
            pub fn index(self) -> usize {
                self as usize
            }

            /// What the code means, in one line: its doc comment, which the index in
            /// `docs/findings/README.md` repeats.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Code::$variant => concat!($($doc),+).trim(),)+
                }
            }
        }
    };
}

codes! {
    // Chain / API (issue: the cert-manager chain)
    /// cert-manager's APIs or controller are not found in the cluster
    CertManagerMissing,
    /// `spec.issuerRef` names an Issuer/ClusterIssuer that does not exist
    IssuerNotFound,
    /// the issuer's `Ready` condition is not `True` (ACME account problem)
    IssuerNotReady,
    /// the issuer has no `spec.acme`; HTTP-01 does not apply
    IssuerNotAcme,
    /// a `*.` name needs a DNS-01 solver and the issuer has none for it
    WildcardNeedsDns01,
    /// both `class` and `ingressClassName`, or a route solver without `parentRefs`
    SolverConfig,
    /// no solver selector matches some of the Order's names
    NoMatchingSolver,
    /// cert-manager cannot create the solver resources
    PresentFailed,
    /// the solver pod is refused, unschedulable, or cannot pull its image
    SolverPodNotRunning,
    /// the solver pod serves another token, domain or key
    SolverPodStale,
    /// the solver Service has no ready endpoints (or is missing)
    SolverUnreachable,
    /// an admission webhook refused the solver Ingress (e.g. pathType Exact)
    SolverIngressRejected,
    /// no running controller serves the solver Ingress's class
    IngressClassUnserved,
    /// two default IngressClasses, or two controllers for one class
    DuplicateController,
    /// the solver HTTPRoute is not accepted by a port-80 HTTP listener
    HttprouteNotAttached,
    /// the solver uses Gateway API but cert-manager's support is off
    GatewayApiDisabled,
    /// the scheduler has not started the challenge (same name busy, or the cap)
    ChallengeNotScheduled,
    /// cert-manager's self check fails; the symptom, other findings give the cause
    SelfCheckFailing,
    /// `waitInsteadOfSelfCheck` replaces the self check with a wait
    SelfCheckSkipped,
    /// the CA validated and said no: what it got, and who answers the URL now
    CaRejected,
    /// the ACME server rate-limits this account or these names
    RateLimited,
    /// the last attempt failed; cert-manager waits 1 h to 32 h before retrying
    IssuanceBackoff,
    // Probing (issue: probe engine)
    /// one address serves the key on some connections and not on others
    MixedBackends,
    /// some of the name's addresses do not reach this cluster
    StaleAddress,
    /// the AAAA path does not serve the token (the CA prefers IPv6)
    Ipv6Broken,
    /// a redirect to https ends somewhere that does not serve the token
    HttpsRedirectUnserved,
    /// a redirect Let's Encrypt refuses (303, port, reserved IP, non-IANA TLD, missing `/`, >11 hops, loop)
    BadRedirect,
    /// authentication (401, login redirect) covers the challenge path
    AuthRequired,
    /// 200, but the body is not the key (exact compare)
    BodyMismatch,
    /// port 80 is closed to the Internet or geo-blocked; the CA cannot connect
    InboundBlocked,
    /// the name does not resolve (missing record or cached NXDOMAIN)
    DnsNotReady,
    /// a CDN/WAF answers for the name instead of the cluster
    CdnInFront,
    /// a public CA cannot validate the name (non-public suffix, reserved addresses)
    NonPublicName,
    // Cross-vantage (issue: probe pod)
    /// works from outside, the cluster cannot reach its own public address
    HairpinUnreachable,
    /// cluster DNS and public DNS give different addresses
    SplitHorizon,
    /// source-IP rules admit one vantage (e.g. the cluster) but not the other
    IpAllowlist,
    /// plain requests fail, the same with a PROXY protocol header pass
    ProxyProtocolMismatch,
    /// the controller's `HTTP_PROXY` catches the self check
    SelfcheckViaProxy,
    /// a NetworkPolicy blocks the controller's egress to the challenge
    SelfcheckEgressBlocked,
    /// the balancer pins each source to one backend: this machine and the cluster see different ones
    BackendPinnedBySource,
    // Advice across findings (issue: diagnosis)
    /// the network works against HTTP-01 here; add a DNS-01 solver
    Dns01Advised,
    // The tool could not check something
    /// something could not be checked (permission, missing vantage)
    NotChecked,
    // Coverage of failure-modes.md §5 (issue: diagnosis); appended to keep indexes stable
    /// another Ingress for the host captures or rewrites the challenge path
    PathCaptured,
    /// a proxy rewrites the Host header; the solver logs `invalid host`
    HostNotPreserved,
    /// the solver Ingress got its own load balancer, which DNS does not point at
    SolverOnOtherLb,
    /// the controller accepted the route but its replicas do not (all) serve it
    DataplaneStale,
    /// `externalTrafficPolicy: Local` and nodes without a controller pod drop connections
    EtpLocalPartial,
    /// port 80 is wired to a TLS port ("plain HTTP request was sent to HTTPS port")
    EdgeProtocolMismatch,
    /// the name's DNS servers fail (SERVFAIL, timeout, DNSSEC), also for CAA
    DnsBroken,
    /// a CAA record excludes this CA, method or account
    CaaForbids,
    /// a remote perspective got 404 after the primary passed (solver gone too early?)
    SolverRemovedEarly,
    /// the running cert-manager version has a known issue matching this failure
    VersionPitfall,
    /// a router, firewall or NAS UI answers instead of the cluster
    WrongDevice,
    /// an IP-address certificate; the solver route must carry no host
    IpIdentifier,
    // Never silent (issue 10); appended to keep indexes stable
    /// the name's traffic reaches a data plane that does not serve the challenge; the solver's does
    WrongDataPlane,
    /// the controller's namespace cannot reach the ACME server: issuance cannot work at all
    AcmeUnreachable,
    /// a check fails and no rule names a more specific cause: what was expected, what each vantage saw
    UnexplainedFailure,
    // Weighing the witnesses (issue 14); appended to keep indexes stable
    /// cert-manager's own self check saw otherwise than the probe pod placed like it: their paths differ, or it changed since
    ControllerDisagrees,
    // Renewal screen (issue 13); appended to keep indexes stable
    /// renewal screen: every answer for the name is from the data plane that would carry the solver's route
    ScreenPassed,
    /// renewal screen: who would answer the solver's route cannot be told without a solver; replay to be sure
    ScreenInconclusive,
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
    /// When another finding in the same report explains this one: its code. Set by [`crate::diagnose::rank::rank`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consequence_of: Option<Code>,
    /// When a witness contradicts what this finding rests on (cert-manager's own self check
    /// got an answer where the probe pod could not connect, say): the code of the finding that
    /// says so. Such a finding ranks below what the controller saw and is never the root cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contradicted_by: Option<Code>,
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
            contradicted_by: None,
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

    /// The released codes, in declaration order. A code's string and position never change once
    /// released (scripts match on the string): a rename, a removal, a reordering or a code
    /// inserted in the middle fails here. A new code is appended to the declaration and here.
    const RELEASED: &[&str] = &[
        "CERT_MANAGER_MISSING",
        "ISSUER_NOT_FOUND",
        "ISSUER_NOT_READY",
        "ISSUER_NOT_ACME",
        "WILDCARD_NEEDS_DNS01",
        "SOLVER_CONFIG",
        "NO_MATCHING_SOLVER",
        "PRESENT_FAILED",
        "SOLVER_POD_NOT_RUNNING",
        "SOLVER_POD_STALE",
        "SOLVER_UNREACHABLE",
        "SOLVER_INGRESS_REJECTED",
        "INGRESS_CLASS_UNSERVED",
        "DUPLICATE_CONTROLLER",
        "HTTPROUTE_NOT_ATTACHED",
        "GATEWAY_API_DISABLED",
        "CHALLENGE_NOT_SCHEDULED",
        "SELF_CHECK_FAILING",
        "SELF_CHECK_SKIPPED",
        "CA_REJECTED",
        "RATE_LIMITED",
        "ISSUANCE_BACKOFF",
        "MIXED_BACKENDS",
        "STALE_ADDRESS",
        "IPV6_BROKEN",
        "HTTPS_REDIRECT_UNSERVED",
        "BAD_REDIRECT",
        "AUTH_REQUIRED",
        "BODY_MISMATCH",
        "INBOUND_BLOCKED",
        "DNS_NOT_READY",
        "CDN_IN_FRONT",
        "NON_PUBLIC_NAME",
        "HAIRPIN_UNREACHABLE",
        "SPLIT_HORIZON",
        "IP_ALLOWLIST",
        "PROXY_PROTOCOL_MISMATCH",
        "SELFCHECK_VIA_PROXY",
        "SELFCHECK_EGRESS_BLOCKED",
        "BACKEND_PINNED_BY_SOURCE",
        "DNS01_ADVISED",
        "NOT_CHECKED",
        "PATH_CAPTURED",
        "HOST_NOT_PRESERVED",
        "SOLVER_ON_OTHER_LB",
        "DATAPLANE_STALE",
        "ETP_LOCAL_PARTIAL",
        "EDGE_PROTOCOL_MISMATCH",
        "DNS_BROKEN",
        "CAA_FORBIDS",
        "SOLVER_REMOVED_EARLY",
        "VERSION_PITFALL",
        "WRONG_DEVICE",
        "IP_IDENTIFIER",
        "WRONG_DATA_PLANE",
        "ACME_UNREACHABLE",
        "UNEXPLAINED_FAILURE",
        "CONTROLLER_DISAGREES",
        "SCREEN_PASSED",
        "SCREEN_INCONCLUSIVE",
    ];

    #[test]
    fn released_codes_keep_their_names_and_positions() {
        let names: Vec<String> = Code::ALL.iter().map(|c| c.as_str()).collect();
        for (i, want) in RELEASED.iter().enumerate() {
            assert_eq!(
                names.get(i).map(String::as_str),
                Some(*want),
                "position {i}: released codes keep their string and position"
            );
        }
        assert_eq!(
            &names[RELEASED.len().min(names.len())..],
            &[] as &[String],
            "new codes: append them to RELEASED too"
        );
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(c.index(), i, "{c}");
            // The string is serde's: it parses back to the same code, and Display agrees.
            let back: Code = serde_json::from_value(serde_json::json!(c.as_str())).unwrap();
            assert_eq!(back, *c);
            assert_eq!(c.to_string(), names[i]);
            let meaning = c.meaning();
            assert!(
                !meaning.is_empty() && !meaning.contains('\n') && meaning == meaning.trim(),
                "{c}: one line of meaning, got {meaning:?}"
            );
        }
        assert_eq!(Code::Ipv6Broken.as_str(), "IPV6_BROKEN");
        assert_eq!(
            Code::HttprouteNotAttached.meaning(),
            "the solver HTTPRoute is not accepted by a port-80 HTTP listener"
        );
    }
}
