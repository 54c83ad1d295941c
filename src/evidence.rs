//! The evidence model: everything the gather and probe stages learned, as plain data.
//!
//! This is the contract between the I/O stages and the pure [`crate::diagnose`] stage. It is
//! serialisable so that diagnosis rules are tested with JSON fixtures and so that `-o json` can
//! carry the raw facts behind every finding.

use serde::{Deserialize, Serialize};

pub mod replay;
pub use replay::ReplayEvidence;

/// A Kubernetes-style condition (`type`, `status`, `reason`, `message`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

/// Find a condition by type.
pub fn condition<'a>(conds: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conds.iter().find(|c| c.type_ == type_)
}

/// `spec.issuerRef` as cert-manager stores it (empty kind = Issuer, empty group = cert-manager.io).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct IssuerRef {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl IssuerRef {
    pub fn is_cluster_issuer(&self) -> bool {
        self.kind.as_deref() == Some("ClusterIssuer")
    }
    /// `Issuer` or `ClusterIssuer` (empty kind means `Issuer`).
    pub fn kind_or_default(&self) -> &str {
        match self.kind.as_deref() {
            Some(k) if !k.is_empty() => k,
            _ => "Issuer",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ACME solver configuration (a copy of `Issuer.spec.acme.solvers[]`, also `Challenge.spec.solver`)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Solver {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<SolverSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http01: Option<Http01Solver>,
    /// DNS-01 configuration, kept opaque: only its presence matters here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns01: Option<serde_json::Value>,
    /// v1.21+: skip the self check and wait this long (a Go duration string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_instead_of_self_check: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct SolverSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<std::collections::BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_zones: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Http01Solver {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Http01Ingress>,
    #[serde(rename = "gatewayHTTPRoute", skip_serializing_if = "Option::is_none")]
    pub gateway_http_route: Option<Http01GatewayRoute>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Http01Ingress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress_class_name: Option<String>,
    /// Old style: becomes the `kubernetes.io/ingress.class` annotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Edit-in-place: the name of an existing Ingress to add the challenge path to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress_template: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Http01GatewayRoute {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parent_refs: Vec<ParentRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    /// Same shape as `http01.ingress.podTemplate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<serde_json::Value>,
}

/// Gateway API `ParentReference`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct ParentRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
}

// ---------------------------------------------------------------------------------------------
// The chain: Certificate -> CertificateRequest -> Order -> Challenges
// ---------------------------------------------------------------------------------------------

/// Everything known about one Certificate and the issuance in flight for it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct CertificateEvidence {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    pub common_name: Option<String>,
    pub secret_name: String,
    pub issuer_ref: IssuerRef,
    pub labels: std::collections::BTreeMap<String, String>,
    pub conditions: Vec<Condition>,
    /// `status.revision` (None before the first issuance).
    pub revision: Option<i64>,
    pub last_failure_time: Option<String>,
    pub failed_issuance_attempts: Option<i64>,
    pub not_after: Option<String>,
    pub renewal_time: Option<String>,
    /// The Issuer/ClusterIssuer named by `issuerRef`; None when it could not be read.
    pub issuer: Option<IssuerEvidence>,
    /// Why the issuer is missing (not found, forbidden, not cert-manager.io group, ...).
    pub issuer_problem: Option<String>,
    /// The CertificateRequest for revision `status.revision + 1` (the issuance in flight).
    pub request: Option<RequestEvidence>,
    /// More than one CertificateRequest matched the next revision (cert-manager would refuse too).
    pub duplicate_requests: Vec<String>,
    pub order: Option<OrderEvidence>,
    pub challenges: Vec<ChallengeEvidence>,
    /// What a replay (`--replay`, `preflight`) did, or would do, for this certificate's names;
    /// its stand-ins are among `challenges`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<ReplayEvidence>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct IssuerEvidence {
    /// `Issuer` or `ClusterIssuer`.
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub conditions: Vec<Condition>,
    /// `spec.acme`; None for CA/SelfSigned/Vault/... issuers.
    pub acme: Option<AcmeIssuer>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct AcmeIssuer {
    pub server: String,
    pub email: Option<String>,
    pub solvers: Vec<Solver>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestEvidence {
    pub name: String,
    pub uid: String,
    pub revision: Option<i64>,
    pub conditions: Vec<Condition>,
    pub failure_time: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderEvidence {
    pub name: String,
    pub uid: String,
    /// `valid|ready|pending|processing|invalid|expired|errored` or empty.
    pub state: String,
    pub reason: Option<String>,
    pub url: Option<String>,
    pub failure_time: Option<String>,
    pub authorizations: Vec<AuthorizationEvidence>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthorizationEvidence {
    pub url: String,
    pub identifier: String,
    pub wildcard: bool,
    pub initial_state: Option<String>,
    /// Challenge types the ACME server offered (`http-01`, `dns-01`, ...).
    pub challenge_types: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ChallengeEvidence {
    pub name: String,
    pub uid: String,
    pub dns_name: String,
    pub wildcard: bool,
    /// `HTTP-01` or `DNS-01`.
    #[serde(rename = "type")]
    pub type_: String,
    pub token: String,
    /// The key authorization the solver must serve (`<token>.<thumbprint>`).
    pub key: String,
    pub url: String,
    pub authorization_url: String,
    pub solver: Solver,
    pub processing: bool,
    pub presented: bool,
    pub presented_at: Option<String>,
    pub state: String,
    pub reason: Option<String>,
    pub creation_timestamp: Option<String>,
    /// When cert-manager's controller last changed this Challenge's status, so `reason` has
    /// been what it is since then at least: the `time` of its `metadata.managedFields` entry
    /// that owns `status.reason`. None when the object carries no such entry (time unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_written: Option<StatusWrite>,
    /// Solver resources found by identity labels + controller owner UID.
    pub solver_pods: Vec<PodEvidence>,
    pub solver_services: Vec<ServiceEvidence>,
    pub solver_ingresses: Vec<IngressEvidence>,
    pub solver_routes: Vec<RouteEvidence>,
    /// Other Ingresses (not this challenge's solver) with a rule for `dns_name`: they can
    /// capture the challenge path (rewrites, regex, redirects, auth, a conflicting path).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub host_ingresses: Vec<IngressEvidence>,
    /// What the solver pod logged, when its logs were read (only when they can decide).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solver_log: Option<SolverLogEvidence>,
    /// Not a cert-manager Challenge: the read-only renewal screen of a name without a live
    /// challenge (`kubectl acmecheck renewals` without `--replay`). Its token is random and no
    /// solver serves it, so the probes show who answers the challenge path for the name, not
    /// whether a solver would pass (see `diagnose::screen`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub screen: bool,
}

/// A `metadata.managedFields` entry that owns a Challenge's `status.reason`: who wrote the
/// status last and when. The API server updates `time` whenever the manager changes a field it
/// owns (and cert-manager writes the status only when it changed, `acmechallenges/update.go`
/// `updateStatus`), so the reason has not changed since `time`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct StatusWrite {
    /// RFC 3339 UTC.
    pub time: String,
    /// `cert-manager-challenges` (the field manager is the controller's User-Agent prefix,
    /// `pkg/util/useragent.go` `PrefixFromUserAgent`; `cert-manager` before v1.8).
    pub manager: String,
    /// `Update` (UpdateStatus) or `Apply` (the ServerSideApply feature gate).
    pub operation: String,
    /// `status` for a write through the status subresource; empty when the entry is the main
    /// resource's (then it may cover other fields too, and `time` is when any of them changed).
    pub subresource: String,
}

/// Requests the acmesolver logged (failure-modes.md §4 K6), counted from its log lines
/// (`got successful challenge request`, `invalid host`, `invalid token`, `invalid base_path`,
/// `responding OK to health check`). The log is untrusted input: values are cut short.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SolverLogEvidence {
    pub namespace: String,
    pub pod: String,
    /// Log lines read (the tail) and whether the read was cut by the size limit.
    pub lines: u32,
    pub truncated: bool,
    /// Requests the solver answered (one outcome line each).
    pub requests: u32,
    /// 200 + key.
    pub served: u32,
    /// `/` or `/healthz`: 200 with an empty body (a rewrite to `/` ends here).
    pub health_checks: u32,
    /// Wrong Host: `(host the solver saw, count)`.
    pub invalid_hosts: Vec<(String, u32)>,
    /// Wrong base path: `(path the solver saw, count)`.
    pub invalid_paths: Vec<(String, u32)>,
    /// Right host and path, wrong token: `(token, count)`.
    pub invalid_tokens: Vec<(String, u32)>,
    /// `(User-Agent, count)` over every logged request.
    pub user_agents: Vec<(String, u32)>,
}

impl ChallengeEvidence {
    pub fn is_http01(&self) -> bool {
        self.type_.eq_ignore_ascii_case("HTTP-01")
    }
    /// `http://<dnsName>/.well-known/acme-challenge/<token>`, IPv6 literals bracketed.
    pub fn challenge_url(&self) -> String {
        let host = if self.dns_name.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("[{}]", self.dns_name)
        } else {
            self.dns_name.clone()
        };
        format!("http://{host}/.well-known/acme-challenge/{}", self.token)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct PodEvidence {
    pub namespace: String,
    pub name: String,
    pub phase: String,
    pub ready: bool,
    pub node_name: Option<String>,
    pub pod_ip: Option<String>,
    pub image: Option<String>,
    /// First container waiting reason (`ErrImagePull`, `ImagePullBackOff`, ...) and its message.
    pub waiting_reason: Option<String>,
    pub waiting_message: Option<String>,
    /// `PodScheduled=False` reason/message (`Unschedulable`).
    pub unschedulable_message: Option<String>,
    pub restart_count: i32,
    /// False when the solver pod's `--domain/--token/--key` args disagree with the Challenge.
    pub args_match: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceEvidence {
    pub namespace: String,
    pub name: String,
    /// `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`.
    #[serde(rename = "type")]
    pub type_: String,
    pub cluster_ip: Option<String>,
    pub ports: Vec<ServicePortEvidence>,
    /// Load-balancer addresses (`status.loadBalancer.ingress[].ip|hostname`) and externalIPs.
    pub lb_addresses: Vec<String>,
    pub external_traffic_policy: Option<String>,
    pub selector: std::collections::BTreeMap<String, String>,
    /// Ready endpoints (ready pods matched by the selector), not-ready ones.
    pub ready_endpoints: u32,
    pub not_ready_endpoints: u32,
    /// Ready endpoint addresses (pod IPs) — used for direct probes.
    pub endpoint_addresses: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ServicePortEvidence {
    pub name: Option<String>,
    pub port: i32,
    pub target_port: Option<String>,
    pub node_port: Option<i32>,
    pub protocol: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct IngressEvidence {
    pub namespace: String,
    pub name: String,
    /// `spec.ingressClassName`.
    pub class_name: Option<String>,
    /// `kubernetes.io/ingress.class` annotation.
    pub class_annotation: Option<String>,
    pub rules: Vec<IngressRuleEvidence>,
    pub lb_addresses: Vec<String>,
    /// True when this is the user's Ingress edited in place (`http01.ingress.name`).
    pub edit_in_place: bool,
    /// Annotations that change how the challenge path is served (redirects, auth, allow-lists,
    /// rewrites, whitelist-source-range).
    pub relevant_annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct IngressRuleEvidence {
    pub host: String,
    pub path: String,
    pub path_type: Option<String>,
    pub service: Option<String>,
    pub port: Option<i32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteEvidence {
    pub namespace: String,
    pub name: String,
    pub hostnames: Vec<String>,
    pub parent_refs: Vec<ParentRef>,
    /// `status.parents[]`: one entry per parent that reported.
    pub parents: Vec<RouteParentEvidence>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteParentEvidence {
    pub parent_ref: ParentRef,
    pub controller_name: String,
    pub conditions: Vec<Condition>,
}

// ---------------------------------------------------------------------------------------------
// The cluster around the chain (read once per run, shared by every certificate)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterEvidence {
    /// Whether the cert-manager and Gateway API CRDs are served.
    pub cert_manager_installed: bool,
    pub gateway_api_installed: bool,
    pub ingress_classes: Vec<IngressClassEvidence>,
    /// Ingress controllers and Gateways that expose port 80 (their data-plane Services).
    pub data_planes: Vec<DataPlaneEvidence>,
    pub gateways: Vec<GatewayEvidence>,
    pub cert_manager: Option<CertManagerEvidence>,
    /// Things that could not be read (e.g. forbidden), said plainly: "could not list
    /// ingressclasses: forbidden (needs list on ingressclasses.networking.k8s.io)".
    pub unreadable: Vec<String>,
    /// The API server's URL from the kubeconfig (`https://api.example.com:6443`), when known:
    /// its host is a name this machine's resolver must answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_server: Option<String>,
    /// When gather read the cluster, in seconds since 1970 (UTC): the "now" diagnosis compares
    /// the objects' times with (a backoff that has ended). None when unknown (fixtures): then
    /// no rule says whether a time is past.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct IngressClassEvidence {
    pub name: String,
    /// `spec.controller`, e.g. `k8s.io/ingress-nginx`.
    pub controller: String,
    pub is_default: bool,
}

/// A data plane: an ingress controller or a Gateway implementation, with the Service(s) that
/// carry its traffic.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct DataPlaneEvidence {
    /// `ingress-controller` or `gateway`.
    pub kind: String,
    pub namespace: String,
    /// Workload or Gateway name.
    pub name: String,
    /// Product guessed from image/labels/controllerName: `ingress-nginx`, `traefik`, `cilium`, ...
    pub product: Option<String>,
    /// IngressClass controller string or GatewayClass controllerName it implements.
    pub controller: Option<String>,
    /// IngressClass names it serves (ingress controllers).
    pub ingress_classes: Vec<String>,
    /// Whether it also takes Ingresses without a class (`--watch-ingress-without-class`).
    pub watches_classless: bool,
    pub ready_replicas: Option<i32>,
    pub services: Vec<ServiceEvidence>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayEvidence {
    pub namespace: String,
    pub name: String,
    pub gateway_class: String,
    pub listeners: Vec<ListenerEvidence>,
    pub addresses: Vec<String>,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ListenerEvidence {
    pub name: String,
    pub port: i32,
    pub protocol: String,
    pub hostname: Option<String>,
    /// `allowedRoutes.namespaces.from`: `Same` (default), `All`, `Selector`.
    pub allowed_routes_from: Option<String>,
}

/// The cert-manager controller, whose pod runs the self check.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct CertManagerEvidence {
    pub namespace: String,
    pub deployment: String,
    pub image: Option<String>,
    /// Version from the image tag (`v1.19.1`).
    pub version: Option<String>,
    pub args: Vec<String>,
    /// `--acme-http01-solver-nameservers` (ip:port list).
    pub solver_nameservers: Vec<String>,
    pub gateway_api_enabled: bool,
    pub feature_gates: Option<String>,
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Option<String>,
    pub dns_policy: Option<String>,
    pub dns_config: Option<serde_json::Value>,
    pub host_aliases: Option<serde_json::Value>,
    pub node_name: Option<String>,
    pub ready_replicas: Option<i32>,
    /// The Deployment's `spec.selector.matchLabels`: the labels of the controller's pods (the
    /// probe pod asks the scheduler to sit next to them).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub pod_labels: std::collections::BTreeMap<String, String>,
}
