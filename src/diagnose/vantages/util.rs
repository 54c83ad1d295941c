//! Small facts the cross-vantage rules share: pass/fail counts, who owns a load-balancer
//! address, how a direct probe is worded, where the probe pod and the controller are.

use crate::diagnose::finding::Finding;
use crate::diagnose::util::{outcome_summary, outcome_text};
use crate::diagnose::view::Vantages;
use crate::evidence::ClusterEvidence;
use crate::probe::incluster::InCluster;
use crate::probe::plan::{
    AddressReport, Attempt, DirectResult, EgressReport, ErrorClass, OutcomeCount, ProxySettings,
    TargetReport,
};
use crate::probe::targets::{SOLVER_LABEL, plane_name};
use crate::reason::when::ReasonTime;
use crate::reason::{Failure, Known, Observation, Reason};

pub(super) fn passes_all(a: &AddressReport) -> bool {
    a.attempts > 0 && a.cert_manager_passes == a.attempts
}

pub(super) fn count(outcomes: &[OutcomeCount], f: impl Fn(&OutcomeCount) -> bool) -> u32 {
    outcomes.iter().filter(|o| f(o)).map(|o| o.count).sum()
}

/// Could not connect (or got nothing back in time): what a missing hairpin looks like.
pub(super) fn no_connection(o: &OutcomeCount) -> bool {
    o.no_connection()
}

pub(super) fn unreachable(a: &AddressReport) -> bool {
    a.attempts > 0 && count(&a.outcomes, no_connection) == a.attempts
}

pub(super) fn address<'a>(t: &'a TargetReport, ip: &str) -> Option<&'a AddressReport> {
    t.addresses.iter().find(|a| a.address == ip)
}

/// The object whose load-balancer address an IP is: a data plane's Service, or a Gateway.
pub(super) struct Owner {
    /// How findings name the data plane ([`plane_name`]).
    pub(super) plane: String,
    /// `Service` or `Gateway`.
    pub(super) kind: &'static str,
    pub(super) namespace: String,
    pub(super) name: String,
}

impl Owner {
    /// `Service ingress-nginx/ingress-nginx-controller (ingress-nginx)`.
    pub(super) fn object(&self) -> String {
        if self.kind == "Gateway" {
            format!("Gateway {}/{}", self.namespace, self.name)
        } else {
            format!("Service {}/{} ({})", self.namespace, self.name, self.plane)
        }
    }
    /// The in-cluster name the self check could resolve to instead.
    pub(super) fn internal_name(&self) -> String {
        if self.kind == "Service" {
            format!("{}.{}.svc.cluster.local", self.name, self.namespace)
        } else {
            "<the Gateway's Service>.<namespace>.svc.cluster.local".to_owned()
        }
    }
    /// The command that shows the address in the object's status.
    pub(super) fn status_cmd(&self) -> String {
        let (resource, path) = if self.kind == "Gateway" {
            ("gateway", ".status.addresses")
        } else {
            ("svc", ".status.loadBalancer.ingress")
        };
        format!(
            "kubectl -n {} get {resource} {} -o jsonpath='{{{path}}}'",
            self.namespace, self.name
        )
    }
}

/// The data plane whose Service (or Gateway) has `ip` as its load-balancer address.
pub(super) fn lb_owner(cluster: &ClusterEvidence, ip: &str) -> Option<Owner> {
    for dp in &cluster.data_planes {
        for s in &dp.services {
            if s.lb_addresses.iter().any(|a| a == ip) {
                return Some(Owner {
                    plane: plane_name(dp),
                    kind: "Service",
                    namespace: s.namespace.clone(),
                    name: s.name.clone(),
                });
            }
        }
    }
    cluster
        .gateways
        .iter()
        .find(|g| g.addresses.iter().any(|a| a == ip))
        .map(|g| Owner {
            plane: format!("gateway {}/{}", g.namespace, g.name),
            kind: "Gateway",
            namespace: g.namespace.clone(),
            name: g.name.clone(),
        })
}

pub(super) fn is_cluster_address(cluster: &ClusterEvidence, ip: &str) -> bool {
    lb_owner(cluster, ip).is_some()
}

pub(super) fn direct_text(d: &DirectResult) -> String {
    d.outcomes
        .iter()
        .map(outcome_text)
        .collect::<Vec<_>>()
        .join("  ")
}

/// `direct from inside: <label> <address> serves the key: 20×200 key (nginx)` — the one
/// wording for a direct probe, so rules and attribution say it once.
pub(super) fn direct_line(d: &DirectResult) -> String {
    let verdict = if d.attempts > 0 && d.cert_manager_passes == d.attempts {
        "serves the key"
    } else if d.cert_manager_passes > 0 {
        "serves the key only sometimes"
    } else {
        "does not serve the key"
    };
    format!(
        "direct from inside: {} {} {verdict}: {}",
        d.label,
        d.address,
        direct_text(d)
    )
}

pub(super) fn is_solver(d: &DirectResult) -> bool {
    d.label.starts_with(&format!("{SOLVER_LABEL} "))
}

pub(super) fn plane_results(inside: &TargetReport) -> impl Iterator<Item = &DirectResult> {
    inside.direct.iter().filter(|d| !is_solver(d))
}

pub(super) fn pod_where(in_cluster: &InCluster) -> String {
    match in_cluster {
        InCluster::Ran { placement, .. } => {
            format!("the probe pod (namespace {})", placement.namespace)
        }
        _ => "the probe pod".to_owned(),
    }
}

pub(super) fn cm_names(cluster: &ClusterEvidence) -> (String, String) {
    cluster.cert_manager.as_ref().map_or_else(
        || ("cert-manager".to_owned(), "cert-manager".to_owned()),
        |c| (c.namespace.clone(), c.deployment.clone()),
    )
}

/// Every answer came from a router's or firewall's own web interface: the NAT device answered
/// instead of forwarding (RC12's other face).
pub(super) fn router_only(a: &AddressReport) -> bool {
    a.attempts > 0 && a.cert_manager_passes == 0 && a.responders() == ["router-ui"]
}

pub(super) fn forbidden(a: &AddressReport) -> bool {
    a.attempts > 0
        && a.cert_manager_passes == 0
        && count(&a.outcomes, |o| o.status == Some(403)) * 2 >= a.attempts
}

/// The proxy the controller's `HTTP_PROXY`/`NO_PROXY` send the challenge URL to, if any.
pub(super) fn controller_proxy(c: &Vantages) -> Option<String> {
    let cm = c.cluster.cert_manager.as_ref()?;
    let settings = ProxySettings {
        http: cm.http_proxy.clone(),
        https: cm.https_proxy.clone(),
        no_proxy: cm.no_proxy.clone(),
    };
    let url = crate::probe::http::Url::parse(&c.ch.challenge_url()).ok()?;
    crate::probe::http::proxy_for(&settings, &url)
}

/// How a server answers when every response fails the same way: one responder, HTTP answers
/// only, no redirect; the most frequent status, and the body hash of its first sample.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) responder: String,
    pub(super) body_sha256: Option<String>,
}

impl Answer {
    /// Same status and responder, and the same body when both bodies are known.
    pub(super) fn same_as(&self, other: &Answer) -> bool {
        self.status == other.status
            && self.responder == other.responder
            && match (&self.body_sha256, &other.body_sha256) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// `404 (envoy)`.
    pub(super) fn text(&self) -> String {
        format!("{} ({})", self.status, self.responder)
    }
}

/// The [`Answer`] of outcomes that all fail the same way, if they do.
pub(super) fn uniform_failure(outcomes: &[OutcomeCount], samples: &[Attempt]) -> Option<Answer> {
    let first = outcomes.first()?;
    let uniform = outcomes.iter().all(|o| {
        !o.cert_manager_pass
            && o.status.is_some()
            && o.redirect_chain.is_empty()
            && o.responder == first.responder
    });
    if !uniform || first.responder == "-" {
        return None;
    }
    let top = outcomes.iter().max_by_key(|o| o.count)?;
    let status = top.status?;
    let body_sha256 = samples
        .iter()
        .find(|s| s.status == Some(status) && s.responder == top.responder)
        .map(|s| s.body_sha256.clone())
        .filter(|h| !h.is_empty());
    Some(Answer {
        status,
        responder: top.responder.clone(),
        body_sha256,
    })
}

/// The egress witness of the pod's report when it went straight out (not through a proxy):
/// only then does it say something about the pod's own egress.
pub(super) fn direct_egress(inside: &TargetReport) -> Option<&EgressReport> {
    inside.egress.as_ref().filter(|e| e.proxy.is_none())
}

/// `the probe pod reached the ACME server https://…/directory: HTTP 200 (nginx) from
/// 192.0.2.41:14000 in 12 ms` or `… could not reach …: connect_timeout (dial tcp …)`.
pub(super) fn egress_line(e: &EgressReport) -> String {
    let via = e
        .proxy
        .as_deref()
        .map(|p| format!(" through the proxy {p}"))
        .unwrap_or_default();
    let at = if e.address.is_empty() {
        String::new()
    } else {
        format!(" ({})", e.address)
    };
    match e.status {
        Some(s) => format!(
            "egress witness: the probe pod reached the ACME server {}{via}{at}: HTTP {s} ({}) in {} ms",
            e.url, e.responder, e.total_ms
        ),
        None => format!(
            "egress witness: the probe pod could not reach the ACME server {}{via}{at}: {}{}",
            e.url,
            e.error_class.map_or("no answer", ErrorClass::as_str),
            e.error
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ),
    }
}

/// An address of the challenge URL and how it answered, from one vantage.
pub(super) struct Seen<'a> {
    pub(super) vantage: &'static str,
    pub(super) addr: &'a AddressReport,
    pub(super) answer: Answer,
}

/// Responders that are not a data plane of the cluster (other rules name them).
const NOT_A_PLANE: &[&str] = &[
    "-",
    "router-ui",
    "cloudflare",
    "aws-alb",
    "gclb",
    "azure-appgw",
    "acmesolver",
];

/// Every address of the challenge URL, from every vantage that probed it, fails the same way:
/// one data plane's answer (one responder, one status, no redirect, the same everywhere), and
/// nothing passes anywhere (a partial failure is another rule's: mixed backends, a stale
/// address, split horizon, source pinning). The answers per vantage and address, if so.
pub(super) fn one_failing_answer<'a>(c: &Vantages<'a>) -> Option<Vec<Seen<'a>>> {
    let reports: Vec<(&'static str, &TargetReport)> =
        [("this machine", c.local), ("in cluster", c.inside)]
            .into_iter()
            .filter_map(|(v, t)| t.map(|t| (v, t)))
            .filter(|(_, t)| !t.addresses.is_empty())
            .collect();
    if reports.is_empty()
        || reports
            .iter()
            .any(|(_, t)| t.addresses.iter().any(|a| a.cert_manager_passes > 0))
    {
        return None;
    }
    let mut seen: Vec<Seen> = Vec::new();
    for (vantage, t) in reports {
        for addr in &t.addresses {
            // Errors, redirects or several responders: not one data plane's answer.
            let answer = uniform_failure(&addr.outcomes, &addr.samples)?;
            seen.push(Seen {
                vantage,
                addr,
                answer,
            });
        }
    }
    let first = &seen.first()?.answer;
    let one = seen.iter().all(|s| s.answer.same_as(first))
        && !NOT_A_PLANE.contains(&first.responder.as_str())
        && !first.responder.starts_with("unknown-")
        && !first.responder.starts_with("go-404");
    one.then_some(seen)
}

/// `all 20 answers from this machine and all 20 from inside the cluster (203.0.113.10)`.
pub(super) fn vantage_counts(seen: &[Seen]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (vantage, from) in [
        ("this machine", "from this machine"),
        ("in cluster", "from inside the cluster"),
    ] {
        let n: u32 = seen
            .iter()
            .filter(|s| s.vantage == vantage)
            .map(|s| s.addr.attempts)
            .sum();
        if n > 0 {
            let what = if parts.is_empty() { " answers" } else { "" };
            parts.push(format!("all {n}{what} {from}"));
        }
    }
    let mut addrs: Vec<&str> = seen.iter().map(|s| s.addr.address.as_str()).collect();
    addrs.sort_unstable();
    addrs.dedup();
    format!("{} ({})", parts.join(" and "), addrs.join(", "))
}

pub(super) fn seen_lines(f: Finding, seen: &[Seen]) -> Finding {
    seen.iter().fold(f, |f, s| {
        f.evidence(format!(
            "{}: {}  {}",
            s.vantage,
            s.addr.address,
            outcome_summary(s.addr)
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// cert-manager's reason as a witness (issue 14)
// ---------------------------------------------------------------------------------------------

/// The controller's reason as a witness: what it proves and when it was written.
pub(super) struct Witness {
    pub(super) reason: Reason,
    pub(super) seen: Observation,
    pub(super) time: ReasonTime,
}

pub(super) fn witness(c: &Vantages) -> Option<Witness> {
    let reason = crate::reason::of_challenge(c.ch)?;
    let seen = reason.observation()?;
    let now = [c.inside, c.local]
        .into_iter()
        .flatten()
        .find_map(|t| t.health.as_ref().map(|h| h.checked_at.clone()));
    let args = c
        .cluster
        .cert_manager
        .as_ref()
        .map(|m| m.args.clone())
        .unwrap_or_default();
    Some(Witness {
        time: ReasonTime::of(c.ch, &args, now.as_deref()),
        reason,
        seen,
    })
}

/// What cert-manager's last self check got, as a noun phrase: `HTTP 404`, `a timeout
/// (203.0.113.10:80)`.
pub(super) fn got(r: &Reason) -> String {
    match r {
        Reason::WrongStatus { status } => format!("HTTP {status}"),
        Reason::BodyMismatch { .. } => "HTTP 200 with another body than the key".to_owned(),
        Reason::BodyReadFailed { .. } => "HTTP 200, then its body could not be read".to_owned(),
        Reason::ConnectionFailed {
            class,
            address: Some(a),
            ..
        } => format!("a {} ({a})", class.label()),
        Reason::ConnectionFailed { class, .. } => format!("a {}", class.label()),
        other => other.short(),
    }
}

/// What the facts of the controller's observation are, in words.
pub(super) fn facts(o: &Observation, host: &str) -> String {
    let misbehaving = o.failure == Some(Failure::ResolverMisbehaving);
    match (o.resolved, o.connected, o.answered) {
        (_, _, Known::Yes) => {
            format!("so {host} resolved and port 80 answered from the controller")
        }
        (Known::Yes, Known::No, _) => {
            format!("so {host} resolved from the controller, but it could not connect")
        }
        (Known::No, _, _) if misbehaving => format!(
            "so the controller's resolver failed for {host} (Go's `server misbehaving` is SERVFAIL or REFUSED alike)"
        ),
        (Known::No, _, _) => format!("so the controller could not resolve {host}"),
        _ => "where it stalled is not known".to_owned(),
    }
}

/// How to test the controller pod's own path by hand: an ephemeral container (`kubectl debug`)
/// joins the pod's network namespace, so it sees the pod's node, the NetworkPolicies that
/// select it and its DNS configuration (a pod's resolv.conf is the same in all its
/// containers); not its proxy variables. A curl from the node tests none of that.
pub(super) fn from_the_controller_pod(c: &Vantages) -> String {
    let (ns, deploy) = cm_names(c.cluster);
    let selector: Vec<String> = c
        .cluster
        .cert_manager
        .as_ref()
        .map(|m| {
            m.pod_labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect()
        })
        .unwrap_or_default();
    let pods = if selector.is_empty() {
        format!("kubectl -n {ns} get pods (deployment {deploy}'s pod)")
    } else {
        format!("kubectl -n {ns} get pods -l {}", selector.join(","))
    };
    format!(
        "from inside the controller pod's own network: {pods}, then kubectl -n {ns} debug -it <pod> --image=curlimages/curl -- curl -sv {} (an ephemeral container shares the pod's network and DNS, not its proxy variables)",
        c.ch.challenge_url()
    )
}

/// A solver Service the API shows without a ready endpoint: its namespace and evidence line.
pub(super) fn no_ready_endpoint(
    ch: &crate::evidence::ChallengeEvidence,
) -> Option<(String, String)> {
    ch.solver_services
        .iter()
        .find(|s| s.ready_endpoints == 0)
        .map(|s| {
            (
                s.namespace.clone(),
                format!(
                    "Service {}/{}: {} ready, {} not ready endpoint(s)",
                    s.namespace, s.name, s.ready_endpoints, s.not_ready_endpoints
                ),
            )
        })
}
