//! The probe plan (input) and probe report (output): versioned, camelCase JSON.
//!
//! `kubectl acmecheck probe --plan FILE|-` reads a [`ProbePlan`] and prints a [`ProbeReport`].
//! The same types carry the local vantage's results into the diagnosis, and the in-cluster probe
//! pod's results back to the CLI, so they only ever change additively: new fields are optional
//! (`#[serde(default)]`), nothing is renamed or removed within `acmecheck.io/v1alpha1`.
//!
//! # How many attempts
//!
//! A load balancer that sends a fraction `f` of fresh connections to a wrong backend is missed by
//! `n` independent connections with probability `(1 - f)^n`. To see a backend that takes at least
//! 10 % of connections with probability ≥ 99.9 %: `0.9^n ≤ 0.001` ⇔ `n ≥ ln 0.001 / ln 0.9 = 65.6`,
//! so **66 attempts per address** ([`MIN_ADAPTIVE_ATTEMPTS`]). With round-robin balancing the
//! attempts are not independent and a 10 % backend is seen far sooner; the bound is for the worst
//! (random) case.
//!
//! "Adaptive" (`attemptsPerAddress: null`) never stops before 66: no outcome seen in the first
//! attempts tells us that a minority backend is absent, so stopping early would weaken the 99.9 %
//! promise. It only *extends*: when an address shows more than one outcome, it keeps going up to
//! [`ADAPTIVE_MIXED_ATTEMPTS`] (200) so the pass fraction `p` that the verdicts raise to the 5th
//! power is known to about ±7 % (95 % normal interval `1.96·sqrt(p(1-p)/200) ≤ 0.069`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `apiVersion` of plans and reports.
pub const API_VERSION: &str = "acmecheck.io/v1alpha1";
/// Minimum attempts per address in adaptive mode (see the module docs for the math).
pub const MIN_ADAPTIVE_ATTEMPTS: u32 = 66;
/// Attempts per address in adaptive mode once an address shows mixed outcomes.
pub const ADAPTIVE_MIXED_ATTEMPTS: u32 = 200;
/// Upper limit for `attemptsPerAddress` (keeps a typo from running for hours).
pub const MAX_ATTEMPTS: u32 = 10_000;
/// cert-manager's `http.Client.Timeout`: dial, TLS, all redirects and the body.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Default number of attempts in flight at once (over all targets and addresses).
pub const DEFAULT_CONCURRENCY: u32 = 32;
/// The self-check User-Agent when the plan gives none (cert-manager v1.21.1 on linux/amd64).
pub const DEFAULT_USER_AGENT: &str = "cert-manager-challenges/v1.21.1 (linux/amd64) cert-manager/a9b4d9a1a6d5d8c4a4f5c5b0f3c1f3f6e0a0b6d1";
/// At most this many sample attempts are kept per address (first of each distinct outcome).
pub const MAX_SAMPLES_PER_ADDRESS: usize = 16;
/// Attempts with a PROXY protocol v1 preamble when plain requests to an address end the way a
/// PROXY-protocol listener answers them (closed or reset before a response, or 400).
pub const PROXY_FOLLOWUP_ATTEMPTS: u32 = 5;

// ---------------------------------------------------------------------------------------------
// Plan
// ---------------------------------------------------------------------------------------------

/// What to probe. `apiVersion` must be [`API_VERSION`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbePlan {
    pub api_version: String,
    /// Challenge URLs to probe.
    #[serde(default)]
    pub targets: Vec<Target>,
    #[serde(default)]
    pub options: ProbeOptions,
}

impl ProbePlan {
    pub fn new(targets: Vec<Target>, options: ProbeOptions) -> Self {
        ProbePlan {
            api_version: API_VERSION.to_owned(),
            targets,
            options,
        }
    }
}

/// One HTTP-01 challenge to probe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Target {
    /// Caller's identifier, copied to the report (e.g. `<namespace>/<challenge name>`).
    pub id: String,
    /// `http://<dnsName>/.well-known/acme-challenge/<token>` (built from dnsName+token if empty).
    pub url: String,
    /// `Challenge.spec.dnsName`: what is resolved and sent as `Host`.
    pub dns_name: String,
    /// `Challenge.spec.token`.
    pub token: String,
    /// `Challenge.spec.key`: the exact body a passing response carries.
    pub expected_key: String,
    /// The CA that validates this challenge, when it differs from `options.caProfile` (one
    /// plan, and so one probe pod, covers challenges of several issuers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_profile: Option<CaProfile>,
    /// The Issuer's ACME directory URL (`spec.acme.server`), in the probe pod's plan only: the
    /// probe also sends it one HTTPS request, once per distinct URL and with the plan's proxy
    /// settings, as the controller must to issue at all (the egress witness, see
    /// [`crate::probe::egress`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acme_directory: Option<String>,
}

/// Which ACME server validates, for the `acme` verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaProfile {
    /// Let's Encrypt (Boulder's VA): a primary and the remote perspectives of the date (see
    /// [`crate::probe::perspectives`]); reserved addresses dropped from DNS answers; the first
    /// AAAA, then the first A only after a dial error; redirects 301/302/307/308 to http(s) on
    /// ports 80/443, at most 11, no loops.
    #[default]
    Letsencrypt,
    /// Pebble: 3 parallel validations that must all pass, Go redirect rules, the first address
    /// of its own lookup, no fallback (see [`PebbleSettings`]).
    Pebble,
    /// A private ACME server (step-ca, an internal Boulder): one validation, Go redirect rules.
    Private,
    /// Another public CA (ZeroSSL, Google Trust Services, Buypass, SSL.com, Sectigo, DigiCert):
    /// it validates from the Internet, and refuses non-public names; how it picks addresses,
    /// which redirects it follows and from how many places it validates are not known here, so
    /// its verdict is estimated like one validation with Go's client and says so.
    Public,
}

impl CaProfile {
    /// Public CAs refuse reserved addresses and non-public names; private ones do not.
    pub fn is_public(self) -> bool {
        matches!(self, CaProfile::Letsencrypt | CaProfile::Public)
    }
}

/// How the Pebble that validates is deployed (its config file and environment), when the CA
/// profile is Pebble. Defaults: Pebble's own defaults (`httpPort` 5002 in its sample config is
/// *not* assumed: cert-manager's and most test charts set 80).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PebbleSettings {
    /// `pebble.httpPort` of its config: the port every HTTP-01 validation connects to.
    pub http_port: u16,
    /// `PEBBLE_VA_ALWAYS_VALID=1`: Pebble skips validation and marks every challenge valid.
    pub always_valid: bool,
    /// Pebble runs with `-dnsserver`: it asks that server for AAAA then A and dials the first
    /// (IPv6 first). Without it, Go's `LookupHost` order (RFC 6724: IPv4 first on a host
    /// without IPv6).
    pub dns_server: bool,
}

impl Default for PebbleSettings {
    fn default() -> Self {
        PebbleSettings {
            http_port: 80,
            always_valid: false,
            dns_server: true,
        }
    }
}

/// HTTP proxy settings, as the cert-manager controller's `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProxySettings {
    /// `http://host:port` used for `http://` hops.
    pub http: Option<String>,
    /// `http://host:port` used (with CONNECT) for `https://` hops.
    pub https: Option<String>,
    /// Comma-separated `NO_PROXY` list (hosts, domain suffixes, IPs, CIDRs, `*`).
    pub no_proxy: Option<String>,
}

/// A probe of one specific `ip:port` (a data plane's Service, a NodePort, the solver pod on
/// 8089) with `Host: <host>` and `path`, to attribute who serves the token (P3/P4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DirectTarget {
    /// The [`Target::id`] this direct probe belongs to (its key is the expected body).
    pub id: String,
    /// `ip:port` (IPv6 in brackets).
    pub address: String,
    /// `Host` header; the target's dnsName when empty.
    pub host: String,
    /// Request path; the target URL's path when empty.
    pub path: String,
    /// Free text shown in the report, e.g. `ingress-nginx Service ingress-nginx/controller`.
    pub label: String,
    /// Send a PROXY protocol v1 preamble (`PROXY TCP4 <src> <dst> <sport> <dport>\r\n`)
    /// before every request, as a load balancer with PROXY protocol does.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub proxy_protocol: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProbeOptions {
    /// Fresh connections per resolved address; `None` = adaptive (66, up to 200 when mixed).
    /// An address that mixes passes and failures then gets up to [`ARRIVAL_ORDER_ATTEMPTS`]
    /// more, one at a time (see [`ArrivalOrder`]); they are not counted here.
    pub attempts_per_address: Option<u32>,
    /// Attempts in flight at once, over the whole plan.
    pub concurrency: u32,
    /// Whole-attempt timeout (dial, TLS, redirects, body), like cert-manager's 10 s.
    pub timeout_ms: u64,
    /// `ip:port` DNS servers used *instead of* the system resolver, like cert-manager's
    /// `--acme-http01-solver-nameservers`: then, as cert-manager's dialer, 3 s cover the lookup
    /// and the connect of every hop together (`net.Dialer{Timeout: 3s}`), and redirect hops
    /// are resolved with these servers too.
    pub nameservers: Vec<String>,
    /// Extra `ip:port` resolvers queried for comparison (e.g. public resolvers for a
    /// split-horizon check); their addresses are probed too.
    pub compare_nameservers: Vec<String>,
    /// User-Agent of the self check.
    pub user_agent: String,
    pub proxy: Option<ProxySettings>,
    /// Set when the controller's proxy environment could not be read (an `HTTP_PROXY` set from
    /// a Secret or ConfigMap through `valueFrom`): what is missing. The self-check verdict is
    /// then `unknown` with this reason (attempts still run, without a proxy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_unknown: Option<String>,
    pub ca_profile: CaProfile,
    /// The day the CA validation is forecast for (`YYYY-MM-DD`, UTC): Let's Encrypt's number of
    /// remote perspectives depends on it. Today when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_date: Option<String>,
    /// Let's Encrypt's remote perspectives, overriding the dated table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub letsencrypt_remotes: Option<u32>,
    /// How Pebble is deployed, for the Pebble profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pebble: Option<PebbleSettings>,
    /// Direct probes; one whose `id` is [`EVERY_TARGET`] is asked for every target (with the
    /// target's name and path when its `host` and `path` are empty).
    pub direct_targets: Vec<DirectTarget>,
    /// Vantage label copied into the report (`local` or `in-cluster`).
    pub vantage: Option<String>,
    /// Fresh connections shared by every target (many names on few addresses: `kubectl
    /// acmecheck renewals`); absent: every target gets its own attempts, unbounded overall.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    /// What the vantage checks about itself first (see [`crate::probe::health`]); absent in
    /// plans of earlier versions, then no health is reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthPlan>,
}

/// [`DirectTarget::id`] of a direct probe asked for every target of the plan.
pub const EVERY_TARGET: &str = "*";

/// A plan's connection budget: names on the same address share it. Each name gets `first`
/// fresh connections per address (`--attempts` overrides it), up to `first + more` only where
/// its answers differ, `direct` per data plane asked directly; and no address (`ip:port`)
/// gets more than `cap_per_address` over the whole plan, whatever it is asked for (the
/// arrival-order and PROXY-protocol follow-ups included). One plan is one vantage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    pub first: u32,
    pub more: u32,
    pub direct: u32,
    pub cap_per_address: u32,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            attempts_per_address: None,
            concurrency: DEFAULT_CONCURRENCY,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            nameservers: Vec::new(),
            compare_nameservers: Vec::new(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            proxy: None,
            proxy_unknown: None,
            ca_profile: CaProfile::default(),
            validation_date: None,
            letsencrypt_remotes: None,
            pebble: None,
            direct_targets: Vec::new(),
            vantage: None,
            budget: None,
            health: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/// Stable error classes. A class names *where* an attempt ended, not who is to blame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The name does not exist (NXDOMAIN).
    DnsNxdomain,
    /// The name exists but has no A/AAAA record (NOERROR, no data).
    DnsNoRecords,
    /// The resolver answered SERVFAIL (or another error rcode but REFUSED): it tried and
    /// failed, which for a resolver that answers other names means the name's own DNS servers
    /// (its delegation) fail.
    DnsServfail,
    /// No answer from the resolver in time.
    DnsTimeout,
    /// Any other resolver failure.
    DnsError,
    /// TCP connect did not complete: no answer in time (dropped SYNs: firewall, dead
    /// address), or "no route to host" (nobody has the address).
    ConnectTimeout,
    /// TCP RST on connect (nothing listening).
    ConnectRefused,
    /// The dial failed at once because this vantage cannot reach the address: no route
    /// (`ENETUNREACH`) or no source address of its family (`EADDRNOTAVAIL`,
    /// "cannot assign requested address": a pod without IPv6). A dial error for every
    /// validator (Go moves on to the next address, Boulder falls back to IPv4).
    NetworkUnreachable,
    /// Connection reset after it was established.
    ConnectionReset,
    /// The server closed the connection before a complete response.
    Eof,
    /// TLS handshake failed on an https hop.
    TlsFailure,
    /// An https hop reached a server speaking plain HTTP ("Server only speaks HTTP, not TLS").
    HttpOnHttpsPort,
    /// The response was not HTTP/1.x (garbage, malformed headers, oversized headers).
    HttpProtocol,
    /// The body exceeded the 1 MiB cap (cert-manager reads 1 MiB and compares that).
    BodyTooLarge,
    /// More redirects than the client follows (Go: `stopped after 10 redirects`).
    RedirectLimit,
    /// A redirect no client would follow (unparsable Location, unsupported scheme).
    RedirectInvalid,
    /// The attempt's time ran out after connecting (awaiting headers or reading the body).
    Timeout,
    /// The proxy refused or failed the request.
    ProxyError,
    /// Another local I/O error.
    Io,
    /// The resolver answered REFUSED: it will not answer this question for this client (its
    /// policy: an ACL, a resolver that serves only its own zones, a VPN resolver for internal
    /// names). Go prints `server misbehaving` for it as for SERVFAIL; the rcode tells them apart.
    DnsRefused,
    /// No configured DNS server could be asked at all: none configured, or every one failed at
    /// once (no route, refused, no connection could be made). Not an answer about the name.
    DnsUnreachable,
}

impl ErrorClass {
    /// No connection, or nothing back in time: what a blocked or dead address looks like.
    pub fn is_no_connection(self) -> bool {
        matches!(
            self,
            ErrorClass::ConnectTimeout
                | ErrorClass::ConnectRefused
                | ErrorClass::NetworkUnreachable
                | ErrorClass::Timeout
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::DnsNxdomain => "dns_nxdomain",
            ErrorClass::DnsNoRecords => "dns_no_records",
            ErrorClass::DnsServfail => "dns_servfail",
            ErrorClass::DnsTimeout => "dns_timeout",
            ErrorClass::DnsError => "dns_error",
            ErrorClass::ConnectTimeout => "connect_timeout",
            ErrorClass::ConnectRefused => "connect_refused",
            ErrorClass::NetworkUnreachable => "network_unreachable",
            ErrorClass::ConnectionReset => "connection_reset",
            ErrorClass::Eof => "eof",
            ErrorClass::TlsFailure => "tls_failure",
            ErrorClass::HttpOnHttpsPort => "http_on_https_port",
            ErrorClass::HttpProtocol => "http_protocol",
            ErrorClass::BodyTooLarge => "body_too_large",
            ErrorClass::RedirectLimit => "redirect_limit",
            ErrorClass::RedirectInvalid => "redirect_invalid",
            ErrorClass::Timeout => "timeout",
            ErrorClass::ProxyError => "proxy_error",
            ErrorClass::Io => "io",
            ErrorClass::DnsRefused => "dns_refused",
            ErrorClass::DnsUnreachable => "dns_unreachable",
        }
    }
    /// Failed before any byte of HTTP was exchanged on the first hop (a validator may try
    /// another address).
    pub fn is_dial_failure(self) -> bool {
        matches!(
            self,
            ErrorClass::ConnectTimeout
                | ErrorClass::ConnectRefused
                | ErrorClass::NetworkUnreachable
        )
    }
    pub fn is_dns(self) -> bool {
        matches!(
            self,
            ErrorClass::DnsNxdomain
                | ErrorClass::DnsNoRecords
                | ErrorClass::DnsServfail
                | ErrorClass::DnsTimeout
                | ErrorClass::DnsError
                | ErrorClass::DnsRefused
                | ErrorClass::DnsUnreachable
        )
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the final body compares with the expected key.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum KeyMatch {
    /// Byte-exact (what cert-manager requires).
    Exact,
    /// Equal only after trimming trailing whitespace (passes Let's Encrypt/Pebble, fails cert-manager).
    Trimmed,
    /// Different.
    No,
    /// No body compared (no 200, or the attempt failed).
    #[default]
    #[serde(rename = "n/a")]
    NotApplicable,
}

/// The result of one report: everything one run of a plan saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeReport {
    pub api_version: String,
    /// `local` or `in-cluster` (from the plan's `options.vantage`, default `local`).
    pub vantage: String,
    /// RFC 3339 UTC time the run started.
    pub started_at: String,
    pub duration_ms: u64,
    #[serde(default)]
    pub targets: Vec<TargetReport>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TargetReport {
    pub id: String,
    pub url: String,
    pub dns_name: String,
    pub expected_key: String,
    pub ca_profile: CaProfile,
    pub dns: DnsReport,
    /// One entry per probed address, in resolver order (IPv6 after IPv4 of the same resolver).
    pub addresses: Vec<AddressReport>,
    /// Only when the CA validates on another port than the URL's (Pebble's `httpPort`): the
    /// same addresses probed on that port, what the `acme` verdict is built from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ca_addresses: Vec<AddressReport>,
    pub verdicts: Verdicts,
    pub direct: Vec<DirectResult>,
    /// The egress witness: the one request to the target's `acmeDirectory` (shared by the
    /// targets with the same URL), when the plan asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<EgressReport>,
    /// What this vantage could observe at all (its resolvers, a route per address family, its
    /// proxy), checked beside the targets and shared by them; when the plan asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<VantageHealth>,
}

/// The vantage's own check, asked for by the plan (see [`crate::probe::health`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HealthPlan {
    /// Names that must exist, asked of every resolver the vantage uses: the Issuer's ACME
    /// server, and for this machine the API server's host when it is a name. A resolver that
    /// cannot answer these cannot answer for the challenge either.
    pub names: Vec<String>,
}

/// What one vantage can observe, established before what it observed counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VantageHealth {
    /// `local` or `in-cluster` (the plan's `options.vantage`).
    pub vantage: String,
    /// RFC 3339 UTC time of the check: the vantage's "now" (the age of cert-manager's reason
    /// is measured against it).
    pub checked_at: String,
    /// One entry per resolver the vantage uses (the self check's, then the system resolver when
    /// that is another one).
    pub resolvers: Vec<ResolverHealth>,
    /// `ipv4` and `ipv6`: whether the kernel has a route and a source address.
    pub routes: Vec<RouteHealth>,
    /// The proxy the vantage must use, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyHealth>,
}

impl VantageHealth {
    /// The health of the resolver a [`ResolverAnswer`] names (same label).
    pub fn resolver(&self, label: &str) -> Option<&ResolverHealth> {
        self.resolvers.iter().find(|r| r.resolver == label)
    }
}

/// How a resolver answered for names that must exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResolverState {
    /// It resolved at least one of them.
    Answers,
    /// It answered, but none of them exists for it (NXDOMAIN, no data): a resolver with a view
    /// of its own (internal names only), not the public DNS.
    UnknownNames,
    /// It refused them (REFUSED): its policy does not answer this client or these names.
    Refuses,
    /// It failed for them (SERVFAIL): it cannot resolve names that must exist, so it cannot
    /// recurse at all.
    Fails,
    /// No answer at all: nothing configured, nothing reachable, or no reply in time.
    Unreachable,
    /// No name to ask (no ACME server name, say): not known.
    #[default]
    NotChecked,
}

impl ResolverState {
    pub fn as_str(self) -> &'static str {
        match self {
            ResolverState::Answers => "answers",
            ResolverState::UnknownNames => "unknown-names",
            ResolverState::Refuses => "refuses",
            ResolverState::Fails => "fails",
            ResolverState::Unreachable => "unreachable",
            ResolverState::NotChecked => "not-checked",
        }
    }
}

/// One resolver's check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResolverHealth {
    /// The resolver's label, as [`ResolverAnswer::resolver`] (`system`, `nameservers …`).
    pub resolver: String,
    /// The servers it asks (`ip:port`), from resolv.conf or the plan.
    pub servers: Vec<String>,
    pub state: ResolverState,
    /// The names asked and what came back.
    pub names: Vec<NameCheck>,
}

/// One name that must exist, asked of one resolver.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NameCheck {
    pub name: String,
    /// A and AAAA records, when it resolved.
    pub addresses: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorClass>,
    /// The resolver's messages per record type.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<String>,
}

/// Whether the kernel routes one address family from this vantage (a UDP "connect", no packet
/// sent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteHealth {
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// The address asked about: the ACME server's of that family when known, else a root
    /// name server's (a global address).
    pub destination: String,
    /// The local address the kernel picks; None when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Why there is none (`network is unreachable`: no route; `no source address`: a route but
    /// no address of the family).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The proxy a vantage must use: the controller's `HTTP(S)_PROXY` given in the plan (the probe
/// pod's), or the one this machine's environment names (the probe does not use it: it connects
/// directly, as the CA does).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProxyHealth {
    /// `http://host:port` (no credentials).
    pub proxy: String,
    /// `plan` or `environment`.
    pub source: String,
    /// A TCP connection to it was made (None: not tried).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reached: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One HTTPS request to an ACME directory URL, as the cert-manager controller makes it (same
/// resolver, same proxy settings): whether this vantage can reach the ACME server at all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EgressReport {
    /// The directory URL asked.
    pub url: String,
    /// The proxy the request went through (the plan's `HTTPS_PROXY` for this URL), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// `ip:port` dialled last (the proxy's when proxied; empty when nothing was dialled).
    pub address: String,
    /// HTTP status of the answer: any status means the ACME server (or the proxy) was reached.
    pub status: Option<u16>,
    pub error_class: Option<ErrorClass>,
    /// The error, in Go's wording where one exists.
    pub error: Option<String>,
    /// Fingerprint of whoever answered (`-` when nobody did).
    pub responder: String,
    pub total_ms: u64,
}

impl EgressReport {
    /// An HTTP answer came back over the connection (TLS included for https).
    pub fn reached(&self) -> bool {
        self.status.is_some()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DnsReport {
    /// The resolver the self check would use is first; comparison resolvers follow.
    pub resolvers: Vec<ResolverAnswer>,
    /// The URL host is an IP literal: nothing was resolved.
    pub ip_literal: bool,
    /// Only when the primary resolver returned several A (or AAAA) records: the first A and
    /// the first AAAA of [`DNS_ORDER_LOOKUPS`] further lookups one after the other (fewer when
    /// the resolver is slow; empty
    /// string: none). Pebble and Let's Encrypt dial only the first address of their own
    /// lookup, and servers rotate or shuffle the order of a record set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub first_a: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub first_aaaa: Vec<String>,
    /// [`DNS_ORDER_LOOKUPS`] further lookups with the primary resolver, one after the other
    /// (fewer when it is slow): every validator looks the name up again for every request
    /// (cert-manager's Go resolver has no cache), so an answer that changes or fails now and
    /// then changes the verdicts. Each is the A and AAAA records in the order received, or the
    /// error class of a lookup that returned no address.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<DnsSample>,
    /// The nameserver Go's resolver names in its errors from this vantage (resolv.conf's first,
    /// `ip:53`), for cert-manager's wording of a failed lookup.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub system_server: String,
}

/// One lookup of [`DnsReport::samples`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DnsSample {
    pub a: Vec<String>,
    pub aaaa: Vec<String>,
    /// Set when the lookup returned no address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorClass>,
}

/// Lookups one after the other to record which address comes first (see [`DnsReport::first_a`]):
/// enough for a strict rotation of up to 3 records to repeat [`ROTATION_MIN_REPEATS`] times.
pub const DNS_ORDER_LOOKUPS: usize = 9;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResolverAnswer {
    /// `system` (resolv.conf), `nameservers 10.0.0.53:53,…` (the self check's custom servers),
    /// or `compare 1.1.1.1:53`.
    pub resolver: String,
    /// What role this resolver plays: `primary` (what the self check uses) or `compare`.
    pub role: String,
    pub a: Vec<String>,
    pub aaaa: Vec<String>,
    /// CNAME chain from the query name to the final name (targets in order).
    pub cname: Vec<String>,
    /// Set when neither A nor AAAA resolved.
    pub error: Option<ErrorClass>,
    /// Errors per record type, e.g. `A: dns_timeout`, with the resolver's message.
    pub detail: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AddressReport {
    /// The IP address (no port; the first hop is always port 80 of the URL's port).
    pub address: String,
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// Resolvers that returned this address.
    pub resolved_by: Vec<String>,
    /// The local address this vantage's kernel picks to reach it (what Go's RFC 6724 sort asks
    /// with a UDP "connect"), empty when not looked up.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source_address: String,
    /// This vantage has no route or no source address for it (Go's "Source(D) undefined": the
    /// address sorts last and every dial fails at once).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unroutable: bool,
    pub attempts: u32,
    /// Distinct outcomes with their counts, most frequent first.
    pub outcomes: Vec<OutcomeCount>,
    /// The first attempt of each distinct outcome (at most [`MAX_SAMPLES_PER_ADDRESS`]).
    pub samples: Vec<Attempt>,
    /// Attempts that passed cert-manager's rules / the CA's rules.
    pub cert_manager_passes: u32,
    pub acme_passes: u32,
    /// Median and maximum whole-attempt time in ms.
    pub median_ms: u64,
    pub max_ms: u64,
    /// Only when some attempts passed and some failed (either rule set): further attempts sent
    /// one at a time, in arrival order, and the strict rotation they reveal, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival_order: Option<ArrivalOrder>,
    /// When every plain attempt failed the way a PROXY-protocol listener fails plain requests:
    /// a few more attempts with a PROXY v1 preamble (not counted in the verdicts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with_proxy_protocol: Option<ProxyProtocolProbe>,
    /// The plan's connection budget ([`Budget::cap_per_address`]) was spent before this address
    /// got the attempts it was to get (`attempts` says how many it got, possibly none).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub capped: bool,
}

/// At most this many attempts are sent one at a time to record the arrival order.
pub const ARRIVAL_ORDER_ATTEMPTS: u32 = 30;
/// A sequence is a strict rotation when it repeats with its period at least this many times.
pub const ROTATION_MIN_REPEATS: usize = 3;

/// Attempts sent one at a time (each after the previous one finished). A balancer that rotates
/// strictly over its backends (round-robin, no other traffic) shows a periodic sequence; then
/// requests sent close together land on *consecutive* backends and are not independent draws
/// from the mix, which the verdicts take into account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ArrivalOrder {
    /// One entry per attempt, in order (at most [`ARRIVAL_ORDER_ATTEMPTS`]; fewer when slow).
    pub sequence: Vec<Slot>,
    /// The smallest period with which the (not constant) sequence repeats at least
    /// [`ROTATION_MIN_REPEATS`] times: a strict rotation over that many slots.
    pub period: Option<u32>,
}

/// One attempt of an [`ArrivalOrder`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Slot {
    pub status: Option<u16>,
    pub error_class: Option<ErrorClass>,
    pub responder: String,
    pub cert_manager_pass: bool,
    pub acme_pass: bool,
}

/// Attempts sent with a PROXY protocol v1 preamble, to tell a PROXY-protocol listener from a
/// broken one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProxyProtocolProbe {
    pub attempts: u32,
    /// Attempts that passed cert-manager's rules.
    pub cert_manager_passes: u32,
    /// Attempts that got any HTTP response.
    pub responses: u32,
    pub outcomes: Vec<OutcomeCount>,
}

impl AddressReport {
    pub fn is_ipv6(&self) -> bool {
        self.family == "ipv6"
    }
    /// Distinct responders seen on this address.
    pub fn responders(&self) -> Vec<&str> {
        let mut r: Vec<&str> = self.outcomes.iter().map(|o| o.responder.as_str()).collect();
        r.sort_unstable();
        r.dedup();
        r
    }
}

/// One distinct outcome on one address and how often it happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OutcomeCount {
    /// Final HTTP status (after redirects), if a response arrived.
    pub status: Option<u16>,
    pub error_class: Option<ErrorClass>,
    /// Fingerprint of the final responder (`nginx`, `envoy`, `unknown-1a2b3c`, `-` when none).
    pub responder: String,
    pub key_match: KeyMatch,
    /// Redirect chain as `status url` per redirecting hop.
    pub redirect_chain: Vec<String>,
    /// Under cert-manager's rules / the CA's rules.
    pub cert_manager_pass: bool,
    pub acme_pass: bool,
    /// Why it fails under each rule set (the validator's own wording), empty when it passes.
    pub cert_manager_error: String,
    pub acme_error: String,
    pub count: u32,
}

impl OutcomeCount {
    /// No HTTP answer and [`ErrorClass::is_no_connection`].
    pub fn no_connection(&self) -> bool {
        self.status.is_none() && self.error_class.is_some_and(ErrorClass::is_no_connection)
    }
}

/// One HTTP exchange in a chain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Hop {
    pub url: String,
    /// `ip:port` dialled.
    pub address: String,
    pub status: Option<u16>,
    pub location: Option<String>,
    pub responder: String,
    /// Selected response headers (server, via, content-type, content-length, location, …).
    pub headers: BTreeMap<String, String>,
    pub error_class: Option<ErrorClass>,
    pub error: Option<String>,
    /// A redirect hop's host as resolved for it, in Go's order (the address dialled is the
    /// first that connected): what Boulder, which dials only the first AAAA (else A), would
    /// have picked from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resolved: Vec<String>,
}

/// One attempt in detail (kept as a sample).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attempt {
    /// Sequence number of the attempt on this address (0-based).
    pub index: u32,
    pub status: Option<u16>,
    pub error_class: Option<ErrorClass>,
    /// The underlying error, in Go's wording where one exists.
    pub error: Option<String>,
    pub responder: String,
    pub key_match: KeyMatch,
    /// Decoded body bytes read (capped at 1 MiB + 1).
    pub body_len: u64,
    /// SHA-256 of the bytes read, hex.
    pub body_sha256: String,
    /// First 64 bytes, control characters escaped.
    pub body_prefix: String,
    pub hops: Vec<Hop>,
    pub connect_ms: Option<u64>,
    pub total_ms: u64,
    pub cert_manager_pass: bool,
    pub acme_pass: bool,
    pub cert_manager_error: String,
    pub acme_error: String,
}

/// `selfCheck`: cert-manager's 5-in-a-row; `acme`: the validation of the plan's CA profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Verdicts {
    pub self_check: Verdict,
    pub acme: Verdict,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictOutcome {
    /// Estimated pass probability of one round ≥ [`crate::probe::verdict::PASS_THRESHOLD`].
    Pass,
    /// No observed attempt passed: the round cannot pass.
    Fail,
    /// Some attempts pass, some fail: the round passes with probability `passProbability`.
    Flaky,
    /// Not observable from this vantage (e.g. no IPv6 here while the CA would use IPv6).
    #[default]
    Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Verdict {
    pub outcome: VerdictOutcome,
    /// Estimated probability that one round (5 self-check passes / one CA validation) passes.
    pub pass_probability: f64,
    /// Observed per-request pass fraction the estimate is built from.
    pub per_request_pass: f64,
    /// The text cert-manager (`status.reason`) or the CA would show for the likeliest failure.
    pub reason: String,
    /// How the estimate was made (addresses used, formula).
    pub basis: String,
    /// Set when the estimate is over consecutive slots of a strict rotation (see
    /// [`ArrivalOrder`]) instead of independent draws: what was seen and what it means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation: Option<String>,
}

/// Result of one [`DirectTarget`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DirectResult {
    pub address: String,
    pub host: String,
    pub path: String,
    pub label: String,
    pub attempts: u32,
    pub outcomes: Vec<OutcomeCount>,
    pub samples: Vec<Attempt>,
    /// Attempts that passed cert-manager's rules.
    pub cert_manager_passes: u32,
    /// Whether the attempts above carried a PROXY v1 preamble (asked for by the plan).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub proxy_protocol: bool,
    /// The adaptive follow-up with a PROXY v1 preamble (see [`AddressReport`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with_proxy_protocol: Option<ProxyProtocolProbe>,
    /// The plan's connection cap for this address was spent before this probe got its attempts
    /// (see [`AddressReport::capped`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub capped: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_roundtrip_and_defaults() {
        let json = r#"{"apiVersion":"acmecheck.io/v1alpha1","targets":[{"id":"t","url":"http://a.example/.well-known/acme-challenge/x","dnsName":"a.example","token":"x","expectedKey":"x.y"}],"options":{"caProfile":"pebble","attemptsPerAddress":5}}"#;
        let plan: ProbePlan = serde_json::from_str(json).unwrap();
        assert_eq!(plan.options.ca_profile, CaProfile::Pebble);
        assert_eq!(plan.options.timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(plan.options.attempts_per_address, Some(5));
        assert_eq!(plan.targets[0].expected_key, "x.y");
        let back = serde_json::to_value(&plan).unwrap();
        assert_eq!(back["options"]["caProfile"], "pebble");
        assert_eq!(back["targets"][0]["dnsName"], "a.example");
    }

    #[test]
    fn enums_serialize_as_documented() {
        assert_eq!(
            serde_json::to_value(ErrorClass::DnsNxdomain).unwrap(),
            "dns_nxdomain"
        );
        assert_eq!(
            serde_json::to_value(ErrorClass::BodyTooLarge).unwrap(),
            "body_too_large"
        );
        assert_eq!(
            serde_json::to_value(KeyMatch::NotApplicable).unwrap(),
            "n/a"
        );
        assert_eq!(
            serde_json::to_value(VerdictOutcome::Flaky).unwrap(),
            "flaky"
        );
        for c in [
            ErrorClass::ConnectTimeout,
            ErrorClass::HttpOnHttpsPort,
            ErrorClass::Io,
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }

    #[test]
    fn attempt_count_math() {
        // 66 is the smallest n with 0.9^n <= 0.001.
        assert!(0.9f64.powi(MIN_ADAPTIVE_ATTEMPTS as i32) <= 0.001);
        assert!(0.9f64.powi(MIN_ADAPTIVE_ATTEMPTS as i32 - 1) > 0.001);
    }
}
