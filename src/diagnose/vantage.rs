//! Findings from comparing vantage points: this machine (local) and the probe pod inside the
//! cluster (where cert-manager's self check runs), plus the pod's direct probes of every data
//! plane and of the solver. Pure functions over [`TargetReport`]s and the cluster evidence.
//!
//! The local view stands in for the CA's (outside) view; the in-cluster view for the self
//! check's. Each rule names the numbers it saw per vantage and the objects to change.

use super::util::{outcome_summary, outcome_text, placement_text, problem_kind};
use super::view::Vantages;
use super::{Code, Finding, Proof, Severity};
use crate::evidence::{ChallengeEvidence, ClusterEvidence};
use crate::probe::incluster::InCluster;
use crate::probe::plan::{
    AddressReport, CaProfile, DirectResult, ErrorClass, OutcomeCount, ProxyProtocolProbe,
    ProxySettings, ResolverAnswer, TargetReport,
};
use crate::probe::targets::{SOLVER_LABEL, plane_name};
use crate::reason::{self, ConnectionClass, Reason};

type Rule = fn(&Vantages) -> Vec<Finding>;

const RULES: &[Rule] = &[
    split_horizon,
    hairpin_or_egress,
    egress_blocked_for_the_controller_only,
    ip_allowlist,
    proxy_protocol_mismatch,
    selfcheck_via_proxy,
    backend_pinned_by_source,
    solver_unanswered,
];

/// Single-vantage codes that also describe the self check when seen from inside the cluster.
/// The others are about the CA's view (non-public names, IPv6, CDN, LE redirect rules, inbound
/// firewalls) or are replaced by a cross-vantage rule (DNS from inside: split horizon;
/// timeouts from inside: hairpin/egress).
const INSIDE_CODES: &[Code] = &[
    Code::MixedBackends,
    Code::StaleAddress,
    Code::HttpsRedirectUnserved,
    Code::AuthRequired,
    Code::BodyMismatch,
];

/// The cross-vantage findings for one challenge: `local` is this machine's report, `inside`
/// the probe pod's report for the same challenge (`InCluster::target`), `in_cluster` the run of
/// the pod as a whole (placement, or why it did not run).
pub fn findings(
    ch: &ChallengeEvidence,
    local: Option<&TargetReport>,
    inside: Option<&TargetReport>,
    in_cluster: &InCluster,
    cluster: &ClusterEvidence,
    profile: CaProfile,
) -> Vec<Finding> {
    let ctx = Vantages {
        ch,
        local,
        inside,
        in_cluster,
        cluster,
        ca: profile,
    };
    RULES.iter().flat_map(|r| r(&ctx)).collect()
}

/// The single-vantage probe rules on both views, merged: a finding seen from both vantages is
/// one finding with both vantages' evidence; one seen only from inside says so.
pub fn single_vantage(
    ch: &ChallengeEvidence,
    local: Option<&TargetReport>,
    inside: Option<&TargetReport>,
    profile: CaProfile,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = local
        .map(|t| super::probe::findings(ch, t, profile))
        .unwrap_or_default();
    let seen_inside = inside
        .map(|t| super::probe::findings(ch, t, profile))
        .unwrap_or_default()
        .into_iter()
        .filter(|f| INSIDE_CODES.contains(&f.code));
    // The subject of a probe finding is the first word of its summary (the address, or the name
    // for per-name codes): merge only findings about the same subject, each once.
    let subject = |f: &Finding| f.summary.split(' ').next().unwrap_or("").to_owned();
    let local_count = out.len();
    let mut merged = vec![false; local_count];
    for c in seen_inside {
        let same = (0..local_count).find(|&i| {
            !merged[i]
                && out[i].code == c.code
                && out[i].challenge == c.challenge
                && subject(&out[i]) == subject(&c)
        });
        match same.map(|i| {
            merged[i] = true;
            &mut out[i]
        }) {
            Some(l) => {
                l.summary = format!(
                    "{} (seen from this machine and from inside the cluster)",
                    l.summary
                );
                l.evidence = interleave(&l.evidence, &c.evidence);
            }
            None => {
                let mut c = c;
                c.summary = format!("from inside the cluster: {}", c.summary);
                out.push(c);
            }
        }
    }
    out
}

/// Evidence lines of both vantages, pairwise; a line both share is kept once (naming both
/// vantages when it carries counts).
fn interleave(local: &[String], inside: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..local.len().max(inside.len()) {
        match (local.get(i), inside.get(i)) {
            (Some(l), Some(c)) if l == c && l.contains('×') => {
                out.push(format!("this machine and in cluster: {l}"));
            }
            (Some(l), Some(c)) if l == c => out.push(l.clone()),
            (l, c) => {
                if let Some(l) = l {
                    out.push(format!("this machine: {l}"));
                }
                if let Some(c) = c {
                    out.push(format!("in cluster: {c}"));
                }
            }
        }
    }
    out
}

/// Add findings, folding one with the same code and challenge as a finding that was there
/// before into it (its evidence appended, the stronger proof kept) so nothing is said twice.
/// New findings are not folded into each other (one per address stays one per address).
pub fn merge_into(findings: &mut Vec<Finding>, new: Vec<Finding>) {
    let before = findings.len();
    for f in new {
        match findings[..before]
            .iter_mut()
            .find(|e| e.code == f.code && e.challenge == f.challenge)
        {
            Some(e) => {
                for line in f.evidence {
                    if !e.evidence.contains(&line) {
                        e.evidence.push(line);
                    }
                }
                e.proof = e.proof.min(f.proof);
                e.severity = e.severity.min(f.severity);
                if e.fix.is_empty() {
                    e.fix = f.fix;
                }
            }
            None => findings.push(f),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small facts
// ---------------------------------------------------------------------------------------------

fn passes_all(a: &AddressReport) -> bool {
    a.attempts > 0 && a.cert_manager_passes == a.attempts
}

fn count(outcomes: &[OutcomeCount], f: impl Fn(&OutcomeCount) -> bool) -> u32 {
    outcomes.iter().filter(|o| f(o)).map(|o| o.count).sum()
}

/// Could not connect (or got nothing back in time): what a missing hairpin looks like.
fn no_connection(o: &OutcomeCount) -> bool {
    o.status.is_none()
        && matches!(
            o.error_class,
            Some(
                ErrorClass::ConnectTimeout
                    | ErrorClass::ConnectRefused
                    | ErrorClass::NetworkUnreachable
                    | ErrorClass::Timeout
            )
        )
}

fn unreachable(a: &AddressReport) -> bool {
    a.attempts > 0 && count(&a.outcomes, no_connection) == a.attempts
}

fn address<'a>(t: &'a TargetReport, ip: &str) -> Option<&'a AddressReport> {
    t.addresses.iter().find(|a| a.address == ip)
}

fn primary(t: &TargetReport) -> Option<&ResolverAnswer> {
    t.dns.resolvers.iter().find(|a| a.role == "primary")
}

fn answer_set(a: &ResolverAnswer) -> Vec<String> {
    let mut v: Vec<String> = a.a.iter().chain(&a.aaaa).cloned().collect();
    v.sort();
    v
}

fn answer_text(a: &ResolverAnswer) -> String {
    match a.error {
        Some(e) => e.as_str().to_owned(),
        None => answer_set(a).join(", "),
    }
}

/// The object whose load-balancer address an IP is: a data plane's Service, or a Gateway.
struct Owner {
    /// How findings name the data plane ([`plane_name`]).
    plane: String,
    /// `Service` or `Gateway`.
    kind: &'static str,
    namespace: String,
    name: String,
}

impl Owner {
    /// `Service ingress-nginx/ingress-nginx-controller (ingress-nginx)`.
    fn object(&self) -> String {
        if self.kind == "Gateway" {
            format!("Gateway {}/{}", self.namespace, self.name)
        } else {
            format!("Service {}/{} ({})", self.namespace, self.name, self.plane)
        }
    }
    /// The in-cluster name the self check could resolve to instead.
    fn internal_name(&self) -> String {
        if self.kind == "Service" {
            format!("{}.{}.svc.cluster.local", self.name, self.namespace)
        } else {
            "<the Gateway's Service>.<namespace>.svc.cluster.local".to_owned()
        }
    }
    /// The command that shows the address in the object's status.
    fn status_cmd(&self) -> String {
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
fn lb_owner(cluster: &ClusterEvidence, ip: &str) -> Option<Owner> {
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

fn is_cluster_address(cluster: &ClusterEvidence, ip: &str) -> bool {
    lb_owner(cluster, ip).is_some()
}

fn direct_text(d: &DirectResult) -> String {
    d.outcomes
        .iter()
        .map(outcome_text)
        .collect::<Vec<_>>()
        .join("  ")
}

/// `direct from inside: <label> <address> serves the key: 20×200 key (nginx)` — the one
/// wording for a direct probe, so rules and attribution say it once.
fn direct_line(d: &DirectResult) -> String {
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

fn is_solver(d: &DirectResult) -> bool {
    d.label.starts_with(&format!("{SOLVER_LABEL} "))
}

fn plane_results(inside: &TargetReport) -> impl Iterator<Item = &DirectResult> {
    inside.direct.iter().filter(|d| !is_solver(d))
}

fn pod_where(in_cluster: &InCluster) -> String {
    match in_cluster {
        InCluster::Ran { placement, .. } => {
            format!("the probe pod (namespace {})", placement.namespace)
        }
        _ => "the probe pod".to_owned(),
    }
}

fn cm_names(cluster: &ClusterEvidence) -> (String, String) {
    cluster.cert_manager.as_ref().map_or_else(
        || ("cert-manager".to_owned(), "cert-manager".to_owned()),
        |c| (c.namespace.clone(), c.deployment.clone()),
    )
}

fn joined(v: &[String]) -> String {
    v.join(", ")
}

// ---------------------------------------------------------------------------------------------
// SPLIT_HORIZON
// ---------------------------------------------------------------------------------------------

fn split_horizon(c: &Vantages) -> Vec<Finding> {
    let (Some(local), Some(inside)) = (c.local, c.inside) else {
        return vec![];
    };
    let (Some(la), Some(ia)) = (primary(local), primary(inside)) else {
        return vec![];
    };
    if la.error.is_some() || local.dns.ip_literal {
        return vec![];
    }
    let (lset, iset) = (answer_set(la), answer_set(ia));
    if lset == iset && ia.error.is_none() {
        return vec![];
    }
    let local_ok: Vec<&AddressReport> = local
        .addresses
        .iter()
        .filter(|a| a.cert_manager_passes > 0)
        .collect();
    let only_inside: Vec<&AddressReport> = inside
        .addresses
        .iter()
        .filter(|a| !lset.contains(&a.address))
        .collect();
    let failing: Vec<&AddressReport> = only_inside
        .iter()
        .copied()
        .filter(|a| !passes_all(a))
        .collect();
    // A different answer that works is no problem; an answer error from inside is one.
    if ia.error.is_none() && failing.is_empty() {
        return vec![];
    }
    let proof = if local_ok.is_empty() {
        Proof::Supports
    } else {
        Proof::Proves
    };
    let summary = match ia.error {
        Some(e) => format!(
            "cluster DNS cannot resolve {} ({e}) while this machine's resolver answers {}: the self check never reaches the entry point the CA uses",
            c.ch.dns_name,
            joined(&lset)
        ),
        None => format!(
            "cluster DNS answers {} with {}, this machine's resolver with {}: from inside, {} of {} requests to {} pass, so the self check tests another entry point than the CA",
            c.ch.dns_name,
            joined(&iset),
            joined(&lset),
            failing.iter().map(|a| a.cert_manager_passes).sum::<u32>(),
            failing.iter().map(|a| a.attempts).sum::<u32>(),
            failing
                .iter()
                .map(|a| a.address.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut f = Finding::new(Code::SplitHorizon, Severity::Error, proof, summary)
        .challenge(&c.ch.name)
        .evidence(format!(
            "DNS: this machine ({}) {}; in cluster ({}) {}",
            la.resolver,
            answer_text(la),
            ia.resolver,
            answer_text(ia)
        ));
    for a in &failing {
        f = f.evidence(format!("in cluster: {}  {}", a.address, outcome_summary(a)));
    }
    for a in &local_ok {
        f = f.evidence(format!(
            "this machine: {}  {}",
            a.address,
            outcome_summary(a)
        ));
    }
    let (ns, deploy) = cm_names(c.cluster);
    let current = c
        .cluster
        .cert_manager
        .as_ref()
        .map(|m| m.solver_nameservers.clone())
        .unwrap_or_default();
    let fix = if current.is_empty() {
        format!(
            "let the self check resolve with public resolvers (only the self check, not other lookups): kubectl -n {ns} patch deployment {deploy} --type json -p '[{{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/args/-\",\"value\":\"--acme-http01-solver-nameservers=1.1.1.1:53,8.8.8.8:53\"}}]' (Helm: extraArgs); or serve the challenge on the internal entry point too; or DNS-01"
        )
    } else {
        format!(
            "the self check already uses --acme-http01-solver-nameservers={} and they give the internal answer: point them at resolvers with the public view (kubectl -n {ns} edit deployment {deploy}), or serve the challenge on the internal entry point too; or DNS-01",
            current.join(",")
        )
    };
    vec![f.fix(fix)]
}

// ---------------------------------------------------------------------------------------------
// HAIRPIN_UNREACHABLE / SELFCHECK_EGRESS_BLOCKED
// ---------------------------------------------------------------------------------------------

/// Addresses that pass from this machine and cannot be connected to from inside.
fn outside_only<'a>(
    local: &'a TargetReport,
    inside: &'a TargetReport,
) -> Vec<(&'a AddressReport, &'a AddressReport)> {
    inside
        .addresses
        .iter()
        .filter(|i| unreachable(i) || router_only(i))
        .filter_map(|i| {
            address(local, &i.address)
                .filter(|l| l.cert_manager_passes > 0)
                .map(|l| (l, i))
        })
        .collect()
}

/// Every answer came from a router's or firewall's own web interface: the NAT device answered
/// instead of forwarding (RC12's other face).
fn router_only(a: &AddressReport) -> bool {
    a.attempts > 0 && a.cert_manager_passes == 0 && a.responders() == ["router-ui"]
}

/// Some address that is not the cluster's own is reachable from the pod (any challenge).
fn other_public_reachable(c: &Vantages, except: &[&str]) -> Option<String> {
    let InCluster::Ran { targets, .. } = c.in_cluster else {
        return None;
    };
    targets
        .values()
        .flat_map(|t| &t.addresses)
        .find(|a| {
            !except.contains(&a.address.as_str())
                && !is_cluster_address(c.cluster, &a.address)
                && a.outcomes.iter().any(|o| o.status.is_some())
                && !router_only(a)
        })
        .map(|a| a.address.clone())
}

fn hairpin_or_egress(c: &Vantages) -> Vec<Finding> {
    let (Some(local), Some(inside)) = (c.local, c.inside) else {
        return vec![];
    };
    let pairs = outside_only(local, inside);
    if pairs.is_empty() {
        return vec![];
    }
    let pod = pod_where(c.in_cluster);
    let planes: Vec<&DirectResult> = plane_results(inside).collect();
    let direct_answers = planes
        .iter()
        .any(|d| d.outcomes.iter().any(|o| o.status.is_some()));
    let lines = |f: Finding, pairs: &[(&AddressReport, &AddressReport)]| {
        pairs.iter().fold(f, |f, (l, i)| {
            f.evidence(format!(
                "this machine: {}  {}",
                l.address,
                outcome_summary(l)
            ))
            .evidence(format!("in cluster: {}  {}", i.address, outcome_summary(i)))
        })
    };
    let mut out = Vec::new();
    // The probe pod reached nothing at all, not even Services inside the cluster.
    if !planes.is_empty() && !direct_answers && inside.addresses.iter().all(unreachable) {
        let (ns, _) = cm_names(c.cluster);
        let f = Finding::new(
            Code::SelfcheckEgressBlocked,
            Severity::Error,
            Proof::Supports,
            format!(
                "{pod} could connect to nothing: not {} (which passes from this machine) and not the data planes' Services inside the cluster ({} direct probes, no answer)",
                c.ch.dns_name,
                planes.len()
            ),
        )
        .challenge(&c.ch.name);
        let f = planes
            .iter()
            .fold(lines(f, &pairs), |f, d| f.evidence(direct_line(d)));
        out.push(f.fix(format!(
            "an egress NetworkPolicy (or a Cilium/Calico policy) in namespace {ns} blocks the pods there: allow egress TCP 80/443 to the entry-point addresses and UDP/TCP 53 to cluster DNS for the cert-manager controller (kubectl -n {ns} get networkpolicy)"
        )));
        return out;
    }
    let (own, foreign): (Vec<_>, Vec<_>) = pairs
        .iter()
        .partition(|(l, _)| is_cluster_address(c.cluster, &l.address));
    if let Some((l, i)) = own.first() {
        let Some(owner) = lb_owner(c.cluster, &l.address) else {
            return out;
        };
        let plane = owner.plane.clone();
        let served: Vec<&&DirectResult> = planes
            .iter()
            .filter(|d| d.label.starts_with(&format!("{plane} ")) && d.cert_manager_passes > 0)
            .collect();
        let proof = if served.is_empty() {
            Proof::Supports
        } else {
            Proof::Proves
        };
        let timeouts = i.attempts - i.cert_manager_passes;
        let mut f = Finding::new(
            Code::HairpinUnreachable,
            Severity::Error,
            proof,
            format!(
                "{} is the load-balancer address of {}, yet from inside the cluster {timeouts} of {} connections to it fail while {} of {} from this machine pass{}",
                l.address,
                owner.object(),
                i.attempts,
                l.cert_manager_passes,
                l.attempts,
                if served.is_empty() {
                    String::new()
                } else {
                    format!("; asked directly, {plane} serves the key inside the cluster")
                }
            ),
        )
        .challenge(&c.ch.name);
        f = lines(f, &own);
        for d in served {
            f = f.evidence(direct_line(d));
        }
        out.push(f.fix(format!(
            "in-cluster traffic to a LoadBalancer address is normally short-circuited by kube-proxy; here it is not: check `{}` (ipMode: Proxy sends it out to the load balancer, which must hairpin it back) and kube-proxy's mode (`kubectl -n kube-system get cm kube-proxy -o yaml`: ipvs needs the LB IPs bound, `masqueradeAll: true` helps with hairpin; kubelet `--hairpin-mode=hairpin-veth`; an AWS NLB that preserves client IPs cannot hairpin: annotate the Service with `service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: preserve_client_ip.enabled=false`); or make the self check resolve {} inside the cluster to the data plane's Service (CoreDNS `rewrite name {} {}`); or (cert-manager ≥ 1.21) `waitInsteadOfSelfCheck` once the outside path is proven",
            owner.status_cmd(), c.ch.dns_name, c.ch.dns_name, owner.internal_name()
        )));
    }
    if foreign.is_empty() {
        return out;
    }
    let foreign_ips: Vec<&str> = foreign.iter().map(|(l, _)| l.address.as_str()).collect();
    let served: Vec<&&DirectResult> = planes
        .iter()
        .filter(|d| d.cert_manager_passes > 0)
        .collect();
    let fails: u32 = foreign
        .iter()
        .map(|(_, i)| i.attempts - i.cert_manager_passes)
        .sum();
    let tries: u32 = foreign.iter().map(|(_, i)| i.attempts).sum();
    match other_public_reachable(c, &foreign_ips) {
        Some(other) => {
            let mut f = Finding::new(
                Code::HairpinUnreachable,
                Severity::Error,
                Proof::Proves,
                format!(
                    "{} passes from this machine but cannot be reached from inside the cluster ({fails} of {tries} connections fail), while {other} outside the cluster is reachable from there: whatever forwards {} into the cluster (router or load balancer, not a Service of this cluster) does not hairpin",
                    foreign_ips.join(", "),
                    foreign_ips.join(", ")
                ),
            )
            .challenge(&c.ch.name);
            f = lines(f, &foreign);
            for d in served {
                f = f.evidence(direct_line(d));
            }
            out.push(f.fix(format!(
                "enable NAT reflection / hairpin NAT on the device that owns {}; or let the self check resolve {} to the internal entry point (CoreDNS rewrite/hosts, or --acme-http01-solver-nameservers pointing at a resolver with the internal view); or (cert-manager ≥ 1.21) waitInsteadOfSelfCheck; or DNS-01",
                foreign_ips.join(", "),
                c.ch.dns_name
            )));
        }
        None => {
            let (ns, deploy) = cm_names(c.cluster);
            let mut f = Finding::new(
                Code::SelfcheckEgressBlocked,
                Severity::Error,
                Proof::Supports,
                format!(
                    "{pod} cannot reach {} ({fails} of {tries} connections fail) although it passes from this machine, and no address outside the cluster was reachable from there{}",
                    foreign_ips.join(", "),
                    if served.is_empty() {
                        String::new()
                    } else {
                        format!("; Services inside the cluster answer ({} direct probe(s) serve the key)", served.len())
                    }
                ),
            )
            .challenge(&c.ch.name);
            f = lines(f, &foreign).evidence(format!(
                "{} is not a load-balancer address of this cluster; if it is a router's public address that forwards port 80 inside (NAT), this is missing hairpin NAT instead (HAIRPIN_UNREACHABLE)",
                foreign_ips.join(", ")
            ));
            out.push(f.fix(format!(
                "allow egress TCP 80 (and 443 for redirects) to {} for the cert-manager controller (kubectl -n {ns} get networkpolicy; Helm networkPolicy.egress of deployment {deploy}), and UDP/TCP 53 to cluster DNS; if a router forwards {} into the cluster, enable NAT reflection on it instead",
                foreign_ips.join(", "),
                foreign_ips.join(", ")
            )));
        }
    }
    out
}

/// The probe pod passes with the controller's resolvers and proxy, but cert-manager's own
/// self check reports a connection timeout: only the controller's pods are cut off.
fn egress_blocked_for_the_controller_only(c: &Vantages) -> Vec<Finding> {
    let Some(inside) = c.inside else {
        return vec![];
    };
    let Some(Reason::ConnectionFailed {
        class: ConnectionClass::Timeout | ConnectionClass::Unreachable,
        detail,
        ..
    }) = c.ch.reason.as_deref().and_then(reason::parse)
    else {
        return vec![];
    };
    if inside.addresses.is_empty() || !inside.addresses.iter().all(passes_all) {
        return vec![];
    }
    let (ns, deploy) = cm_names(c.cluster);
    let pod = pod_where(c.in_cluster);
    let mut f = Finding::new(
        Code::SelfcheckEgressBlocked,
        Severity::Error,
        Proof::Proves,
        format!(
            "{pod}, with the controller's resolvers and proxy settings, passes {} of {} requests, but cert-manager's own self check cannot connect: egress from the controller pods is blocked",
            inside.addresses.iter().map(|a| a.cert_manager_passes).sum::<u32>(),
            inside.addresses.iter().map(|a| a.attempts).sum::<u32>()
        ),
    )
    .challenge(&c.ch.name)
    .evidence(format!("Challenge {} reason: {detail}", c.ch.name));
    for a in &inside.addresses {
        f = f.evidence(format!("in cluster: {}  {}", a.address, outcome_summary(a)));
    }
    vec![f.fix(format!(
        "an egress policy selects the controller pods (label app.kubernetes.io/component=controller) but not the probe pod: allow egress TCP 80/443 to {} and UDP/TCP 53 to cluster DNS (kubectl -n {ns} get networkpolicy -o yaml; Helm networkPolicy.egress for deployment {deploy})",
        inside
            .addresses
            .iter()
            .map(|a| a.address.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))]
}

// ---------------------------------------------------------------------------------------------
// IP_ALLOWLIST
// ---------------------------------------------------------------------------------------------

fn forbidden(a: &AddressReport) -> bool {
    a.attempts > 0
        && a.cert_manager_passes == 0
        && count(&a.outcomes, |o| o.status == Some(403)) * 2 >= a.attempts
}

fn ip_allowlist(c: &Vantages) -> Vec<Finding> {
    let (Some(local), Some(inside)) = (c.local, c.inside) else {
        return vec![];
    };
    // Through the controller's HTTP proxy a 403 is the proxy's (SELFCHECK_VIA_PROXY).
    let proxied = controller_proxy(c).is_some();
    let mut out = Vec::new();
    for l in &local.addresses {
        let Some(i) = address(inside, &l.address) else {
            continue;
        };
        let (denied, allowed, denied_side, allowed_side, consequence) = if forbidden(l)
            && i.cert_manager_passes > 0
        {
            (
                l,
                i,
                "this machine",
                "inside the cluster",
                if c.ca.is_public() {
                    "the self check may pass while the CA, validating from several unpublished places on the Internet, gets 403 like this machine"
                } else {
                    "the self check may pass while the ACME server, if it reaches the edge like this machine, gets 403"
                },
            )
        } else if forbidden(i) && l.cert_manager_passes > 0 && !proxied {
            (
                i,
                l,
                "inside the cluster",
                "this machine",
                "cert-manager's self check gets 403 and never passes",
            )
        } else {
            continue;
        };
        let who = |a: &AddressReport| a.responders().join("/");
        let same_server = who(denied) == who(allowed);
        let proof = if same_server {
            Proof::Proves
        } else {
            Proof::Supports
        };
        let mut f = Finding::new(
            Code::IpAllowlist,
            Severity::Error,
            proof,
            format!(
                "{} answers 403 to {denied_side} ({} of {}) but serves the key to {allowed_side} ({} of {}){}: a source-address allow-list; {consequence}",
                l.address,
                count(&denied.outcomes, |o| o.status == Some(403)),
                denied.attempts,
                allowed.cert_manager_passes,
                allowed.attempts,
                if same_server { format!(", the same server ({})", who(denied)) } else { String::new() }
            ),
        )
        .challenge(&c.ch.name)
        .evidence(format!("this machine: {}  {}", l.address, outcome_summary(l)))
        .evidence(format!("in cluster: {}  {}", i.address, outcome_summary(i)));
        let mut ingresses = Vec::new();
        for ing in &c.ch.solver_ingresses {
            for (k, v) in &ing.relevant_annotations {
                let k_l = k.to_ascii_lowercase();
                if k_l.contains("source-range")
                    || k_l.contains("allowlist")
                    || k_l.contains("whitelist")
                    || k_l.contains("denylist")
                {
                    let note = if v.contains("0.0.0.0/0") {
                        " (open to everyone: the 403 comes from elsewhere, e.g. a global whitelist-source-range in the controller's ConfigMap, another Ingress for the host, or the load balancer)"
                    } else {
                        ""
                    };
                    f = f.evidence(format!(
                        "Ingress {}/{}: {k}: {v}{note}",
                        ing.namespace, ing.name
                    ));
                }
            }
            ingresses.push(format!("{}/{}", ing.namespace, ing.name));
        }
        let target = if ingresses.is_empty() {
            "the Ingress or route that serves the challenge".to_owned()
        } else {
            format!("Ingress {}", ingresses.join(", "))
        };
        out.push(f.fix(format!(
            "open /.well-known/acme-challenge/ to every source on {target}: e.g. for ingress-nginx set nginx.ingress.kubernetes.io/whitelist-source-range: \"0.0.0.0/0,::/0\" through the solver's ingressTemplate (the prefix must match the controller's --annotations-prefix), and check global allow-lists (ConfigMap whitelist-source-range, security groups, LB inbound CIDRs); if the edge must stay closed, use DNS-01"
        )));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// PROXY_PROTOCOL_MISMATCH
// ---------------------------------------------------------------------------------------------

fn followup_text(p: &ProxyProtocolProbe) -> String {
    p.outcomes
        .iter()
        .map(outcome_text)
        .collect::<Vec<_>>()
        .join("  ")
}

/// The preamble made a difference: requests pass with it, or plain requests got no response
/// and ones with it did, or plain ones got only 400 and ones with it something else. (A plain
/// 400 that stays 400, e.g. plain HTTP to a TLS port, is not PROXY protocol.)
fn preamble_helps(plain: &[OutcomeCount], p: &ProxyProtocolProbe) -> bool {
    let plain_responses = count(plain, |o| o.status.is_some());
    let plain_400_only =
        plain_responses > 0 && plain.iter().all(|o| o.status.is_none_or(|s| s == 400));
    p.cert_manager_passes > 0
        || (plain_responses == 0 && p.responses > 0)
        || (plain_400_only
            && p.outcomes
                .iter()
                .any(|o| o.status.is_some_and(|s| s != 400)))
}

fn proxy_protocol_mismatch(c: &Vantages) -> Vec<Finding> {
    // (vantage, what, ip, plain outcomes, follow-up, plain got responses)
    let mut seen: Vec<(&str, String, String, String, &ProxyProtocolProbe, bool)> = Vec::new();
    for (vantage, t) in [("this machine", c.local), ("inside the cluster", c.inside)] {
        let Some(t) = t else { continue };
        for a in &t.addresses {
            if let Some(p) = a
                .with_proxy_protocol
                .as_ref()
                .filter(|p| preamble_helps(&a.outcomes, p))
            {
                let answered = a.outcomes.iter().any(|o| o.status.is_some());
                seen.push((
                    vantage,
                    a.address.clone(),
                    a.address.clone(),
                    outcome_summary(a),
                    p,
                    answered,
                ));
            }
        }
        for d in &t.direct {
            if let Some(p) = d
                .with_proxy_protocol
                .as_ref()
                .filter(|p| preamble_helps(&d.outcomes, p))
            {
                let ip = d
                    .address
                    .parse::<std::net::SocketAddr>()
                    .map_or_else(|_| d.address.clone(), |s| s.ip().to_string());
                let answered = d.outcomes.iter().any(|o| o.status.is_some());
                seen.push((
                    vantage,
                    format!("{} ({})", d.label, d.address),
                    ip,
                    direct_text(d),
                    p,
                    answered,
                ));
            }
        }
    }
    let Some((vantage, what, ip, _, p, answered)) = seen.first() else {
        return vec![];
    };
    let owner = lb_owner(c.cluster, ip);
    let mut f = Finding::new(
        Code::ProxyProtocolMismatch,
        Severity::Error,
        Proof::Proves,
        format!(
            "{what} {} plain requests from {vantage} but answers when they start with a PROXY protocol header ({} of {} passed with it): the listener expects PROXY protocol, which {} does not carry",
            if *answered { "answers 400 to" } else { "closes" },
            p.cert_manager_passes,
            p.attempts,
            if *vantage == "inside the cluster" {
                "in-cluster traffic short-circuited by kube-proxy"
            } else {
                "this path"
            }
        ),
    )
    .challenge(&c.ch.name);
    for (v, w, _, plain, p, _) in &seen {
        let v = if *v == "this machine" {
            *v
        } else {
            "in cluster"
        };
        f = f
            .evidence(format!("{v}: {w} plain: {plain}"))
            .evidence(format!(
                "{v}: {w} with PROXY v1 preamble: {}",
                followup_text(p)
            ));
    }
    let service = owner.as_ref().map_or_else(
        || "the ingress controller's LoadBalancer Service".to_owned(),
        Owner::object,
    );
    vec![f.fix(format!(
        "make in-cluster traffic go through the load balancer too, or stop requiring PROXY protocol: have the cloud controller set status.loadBalancer.ingress[].ipMode: Proxy on {service} (Kubernetes ≥ 1.30), or use the provider's hostname workaround (DigitalOcean service.beta.kubernetes.io/do-loadbalancer-hostname, Hetzner load-balancer.hetzner.cloud/hostname, Scaleway service.beta.kubernetes.io/scw-loadbalancer-use-hostname), or disable PROXY protocol on both the LB and the controller (ingress-nginx ConfigMap use-proxy-protocol); or DNS-01"
    ))]
}

// ---------------------------------------------------------------------------------------------
// SELFCHECK_VIA_PROXY
// ---------------------------------------------------------------------------------------------

fn proxy_style(o: &OutcomeCount) -> bool {
    o.error_class == Some(ErrorClass::ProxyError)
        || matches!(o.status, Some(403 | 407 | 502 | 503 | 504))
}

/// The proxy the controller's `HTTP_PROXY`/`NO_PROXY` send the challenge URL to, if any.
fn controller_proxy(c: &Vantages) -> Option<String> {
    let cm = c.cluster.cert_manager.as_ref()?;
    let settings = ProxySettings {
        http: cm.http_proxy.clone(),
        https: cm.https_proxy.clone(),
        no_proxy: cm.no_proxy.clone(),
    };
    let url = crate::probe::http::Url::parse(&c.ch.challenge_url()).ok()?;
    crate::probe::http::proxy_for(&settings, &url)
}

fn selfcheck_via_proxy(c: &Vantages) -> Vec<Finding> {
    let (Some(cm), Some(proxy)) = (c.cluster.cert_manager.as_ref(), controller_proxy(c)) else {
        return vec![];
    };
    // Direct paths that work: from this machine, or the data planes asked from inside.
    let local_ok = c
        .local
        .map(|t| {
            t.addresses
                .iter()
                .filter(|a| a.cert_manager_passes > 0)
                .count()
        })
        .unwrap_or(0);
    let direct_ok: Vec<&DirectResult> = c
        .inside
        .map(|t| {
            plane_results(t)
                .filter(|d| d.cert_manager_passes > 0)
                .collect()
        })
        .unwrap_or_default();
    if local_ok == 0 && direct_ok.is_empty() {
        return vec![];
    }
    let no_proxy = cm.no_proxy.clone().unwrap_or_default();
    let mut f;
    if let Some(inside) = c.inside {
        let tries: u32 = inside.addresses.iter().map(|a| a.attempts).sum();
        let proxied: u32 = inside
            .addresses
            .iter()
            .map(|a| count(&a.outcomes, proxy_style))
            .sum();
        let passes: u32 = inside.addresses.iter().map(|a| a.cert_manager_passes).sum();
        if tries == 0 || passes > 0 || proxied * 2 < tries {
            return vec![];
        }
        f = Finding::new(
            Code::SelfcheckViaProxy,
            Severity::Error,
            Proof::Proves,
            format!(
                "the controller's HTTP_PROXY ({proxy}) covers {} (NO_PROXY {:?} does not exclude it): through it, {proxied} of {tries} requests from inside fail, while the direct path serves the key",
                c.ch.dns_name, no_proxy
            ),
        )
        .challenge(&c.ch.name);
        for a in &inside.addresses {
            f = f.evidence(format!(
                "in cluster, via {proxy}: {}  {}",
                a.address,
                outcome_summary(a)
            ));
        }
    } else {
        // Without the pod: cert-manager's own reason must show a proxy-style failure.
        let proxy_reason = match c.ch.reason.as_deref().and_then(reason::parse) {
            Some(Reason::ConnectionFailed {
                class: ConnectionClass::Proxy,
                ..
            }) => true,
            Some(Reason::WrongStatus { status }) => matches!(status, 403 | 407 | 502 | 503 | 504),
            _ => false,
        };
        if !proxy_reason {
            return vec![];
        }
        f = Finding::new(
            Code::SelfcheckViaProxy,
            Severity::Error,
            Proof::Supports,
            format!(
                "the controller's HTTP_PROXY ({proxy}) covers {} (NO_PROXY {:?} does not exclude it) and the self check fails the way a proxy answers, while the direct path serves the key",
                c.ch.dns_name, no_proxy
            ),
        )
        .challenge(&c.ch.name)
        .evidence(format!("Challenge {} reason: {}", c.ch.name, c.ch.reason.clone().unwrap_or_default()));
    }
    if let Some(local) = c.local {
        for a in local.addresses.iter().filter(|a| a.cert_manager_passes > 0) {
            f = f.evidence(format!(
                "this machine, direct: {}  {}",
                a.address,
                outcome_summary(a)
            ));
        }
    }
    for d in direct_ok {
        f = f.evidence(direct_line(d));
    }
    let new_no_proxy = if no_proxy.is_empty() {
        c.ch.dns_name.clone()
    } else {
        format!("{no_proxy},{}", c.ch.dns_name)
    };
    vec![f.fix(format!(
        "exclude the name from the proxy for the self check: kubectl -n {} set env deployment/{} NO_PROXY={new_no_proxy} (and no_proxy if set; Helm: the chart's no_proxy value; with a cluster-wide proxy such as OpenShift's, add it to the cluster Proxy's noProxy)",
        cm.namespace, cm.deployment
    ))]
}

// ---------------------------------------------------------------------------------------------
// BACKEND_PINNED_BY_SOURCE
// ---------------------------------------------------------------------------------------------

/// One responder and one pass/fail result on every attempt.
fn consistent(a: &AddressReport) -> Option<(&str, bool)> {
    let r = a.responders();
    (a.attempts >= 2
        && r.len() == 1
        && r[0] != "-"
        && (a.cert_manager_passes == 0 || a.cert_manager_passes == a.attempts))
        .then(|| (r[0], a.cert_manager_passes > 0))
}

fn backend_pinned_by_source(c: &Vantages) -> Vec<Finding> {
    let (Some(local), Some(inside)) = (c.local, c.inside) else {
        return vec![];
    };
    // Through the controller's HTTP proxy the other "backend" is the proxy.
    if controller_proxy(c).is_some() {
        return vec![];
    }
    let mut out = Vec::new();
    for l in &local.addresses {
        let Some(i) = address(inside, &l.address) else {
            continue;
        };
        // 403: an allow-list; a router's own page: hairpin NAT.
        if forbidden(l) || forbidden(i) || router_only(l) || router_only(i) {
            continue;
        }
        let (Some((lw, lp)), Some((iw, ip))) = (consistent(l), consistent(i)) else {
            continue;
        };
        if lw == iw || lp == ip {
            continue;
        }
        let (good, bad) = if lp { (lw, iw) } else { (iw, lw) };
        let consequence = if lp {
            "cert-manager's self check, from inside, always lands on the backend without the route and never passes"
        } else {
            "the self check passes from inside, but sources like this machine — and possibly the CA's — land on the backend without the route"
        };
        out.push(
            Finding::new(
                Code::BackendPinnedBySource,
                Severity::Error,
                Proof::Proves,
                format!(
                    "{} sends each source to one backend: all {} connections from this machine reach {lw} ({}), all {} from inside the cluster reach {iw} ({}); {consequence}",
                    l.address,
                    l.attempts,
                    if lp { "serves the key" } else { "does not serve it" },
                    i.attempts,
                    if ip { "serves the key" } else { "does not serve it" },
                ),
            )
            .challenge(&c.ch.name)
            .evidence(format!("this machine: {}  {}", l.address, outcome_summary(l)))
            .evidence(format!("in cluster: {}  {}", i.address, outcome_summary(i)))
            .evidence("each vantage is consistent over all its fresh connections: the balancer picks the backend by source address (source hash, session affinity), not per connection")
            .fix(format!(
                "every backend behind {} must serve /.well-known/acme-challenge/ for {}, or the balancer must send that path to {good} only (HAProxy: `acl acme path_beg /.well-known/acme-challenge/` + `use_backend <{good} backend> if acme`, whatever `balance source`/stick tables do); remove {bad} from the pool if it does not belong",
                l.address, c.ch.dns_name
            )),
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The solver asked directly (P4)
// ---------------------------------------------------------------------------------------------

fn solver_unanswered(c: &Vantages) -> Vec<Finding> {
    let Some(inside) = c.inside else {
        return vec![];
    };
    let solver: Vec<&DirectResult> = inside.direct.iter().filter(|d| is_solver(d)).collect();
    if solver.is_empty()
        || solver
            .iter()
            .any(|d| d.outcomes.iter().any(|o| o.status.is_some()))
    {
        return vec![];
    }
    // A data plane that serves the key reaches the solver: a policy that admits only the
    // ingress controller keeps the probe pod out, which is fine (the attribution says so).
    if plane_results(inside).any(|d| d.cert_manager_passes > 0) {
        return vec![];
    }
    let pod = pod_where(c.in_cluster);
    let mut f = Finding::new(
        Code::SolverUnreachable,
        Severity::Error,
        Proof::Supports,
        format!(
            "cert-manager's solver does not answer {pod} on port 8089: {} direct probe(s), {} attempts, no response",
            solver.len(),
            solver.iter().map(|d| d.attempts).sum::<u32>()
        ),
    )
    .challenge(&c.ch.name);
    for d in &solver {
        f = f.evidence(direct_line(d));
    }
    let ns =
        c.ch.solver_pods
            .first()
            .map_or("<namespace>", |p| p.namespace.as_str());
    vec![f.fix(format!(
        "check that the solver pod is Ready and that no NetworkPolicy in {ns} denies ingress on TCP 8089 (kubectl -n {ns} get pods,endpointslices,networkpolicy -l acme.cert-manager.io/http01-solver=true); the ingress controller must be allowed to reach it"
    ))]
}

// ---------------------------------------------------------------------------------------------
// Attribution: which data plane serves the token (P3)
// ---------------------------------------------------------------------------------------------

/// The dominant failing outcome of a direct probe, e.g. `404 (envoy)`.
fn failure_text(outcomes: &[OutcomeCount]) -> Option<(String, String)> {
    let o = outcomes.iter().find(|o| !o.cert_manager_pass)?;
    let what = match (o.status, o.error_class) {
        (Some(s), _) => s.to_string(),
        (None, Some(e)) => e.as_str().to_owned(),
        (None, None) => "no answer".to_owned(),
    };
    Some((what, o.responder.clone()))
}

/// Evidence lines that say which data plane serves the token and which does not, from the
/// probe pod's direct probes; the first line names where the failing traffic goes when a
/// failing responder of the challenge URL matches a data plane's answer.
pub fn attribution(
    ch: &ChallengeEvidence,
    local: Option<&TargetReport>,
    inside: Option<&TargetReport>,
) -> Vec<String> {
    let Some(inside) = inside else {
        return vec![];
    };
    let mut serving: Vec<String> = Vec::new();
    let mut not_serving: Vec<(String, String, String)> = Vec::new(); // (plane, what, responder)
    let mut lines = Vec::new();
    let mut planes: Vec<String> = Vec::new();
    for d in plane_results(inside) {
        let plane = d
            .label
            .split(" Service ")
            .next()
            .and_then(|p| p.split(" pod ").next())
            .unwrap_or(&d.label)
            .to_owned();
        if !planes.contains(&plane) {
            planes.push(plane.clone());
        }
        let text = direct_text(d);
        if d.attempts > 0 && d.cert_manager_passes == d.attempts {
            if !serving.contains(&plane) {
                serving.push(plane.clone());
            }
            lines.push(format!(
                "direct from inside: {} {} serves the key: {text}",
                d.label, d.address
            ));
        } else if let Some((what, who)) = failure_text(&d.outcomes) {
            lines.push(format!(
                "direct from inside: {} {} does not serve the key: {text}",
                d.label, d.address
            ));
            if !not_serving.iter().any(|(p, _, _)| *p == plane) {
                not_serving.push((plane.clone(), what, who));
            }
        }
    }
    for d in inside.direct.iter().filter(|d| is_solver(d)) {
        let verdict = if d.cert_manager_passes > 0 {
            "the solver itself answers the key on 8089"
        } else if d.outcomes.iter().any(|o| o.status.is_some()) {
            "the solver answers on 8089 but not with the key"
        } else {
            "the solver does not answer on 8089"
        };
        lines.push(format!(
            "{verdict}: {} {}  {}",
            d.label,
            d.address,
            direct_text(d)
        ));
    }
    // Responders that fail on the challenge URL (either vantage).
    let failing: Vec<String> = [local, Some(inside)]
        .into_iter()
        .flatten()
        .flat_map(|t| &t.addresses)
        .flat_map(|a| &a.outcomes)
        .filter(|o| !o.cert_manager_pass && o.status.is_some())
        .map(|o| o.responder.clone())
        .collect();
    let culprits: Vec<&(String, String, String)> = not_serving
        .iter()
        .filter(|(_, _, who)| who != "-" && failing.contains(who))
        .collect();
    if let Some((plane, what, who)) = culprits.first() {
        let also = if serving.is_empty() {
            "no data plane serves the key".to_owned()
        } else {
            format!("{} serves the key", serving.join(" and "))
        };
        lines.insert(
            0,
            format!(
                "traffic for {} reaches {plane}, which has no route: {what} ({who}); {also}",
                ch.dns_name
            ),
        );
    }
    lines
}

/// Codes that attribution evidence is attached to, best first.
const ATTRIBUTED: &[Code] = &[
    Code::MixedBackends,
    Code::BackendPinnedBySource,
    Code::StaleAddress,
    Code::SplitHorizon,
    Code::HairpinUnreachable,
    Code::IngressClassUnserved,
    Code::HttprouteNotAttached,
    Code::SolverUnreachable,
    Code::SelfCheckFailing,
];

/// Attach the attribution lines to the most fitting finding of this challenge: the headline
/// (`traffic for … reaches …`) right after its first evidence line, the rest at the end.
pub fn attach_attribution(findings: &mut [Finding], ch: &ChallengeEvidence, lines: Vec<String>) {
    if lines.is_empty() {
        return;
    }
    let Some(f) = ATTRIBUTED.iter().find_map(|code| {
        findings
            .iter()
            .position(|f| f.code == *code && f.challenge.as_deref().is_none_or(|c| c == ch.name))
    }) else {
        return;
    };
    let f = &mut findings[f];
    let mut rest = lines.into_iter();
    // After the leading per-vantage lines (`this machine: …`, `in cluster: …`), at least one.
    let mut at = f
        .evidence
        .iter()
        .take_while(|l| l.starts_with("this machine") || l.starts_with("in cluster"))
        .count()
        .max(1)
        .min(f.evidence.len());
    for line in rest.by_ref() {
        if f.evidence.contains(&line) {
            continue;
        }
        if line.starts_with("traffic for ") {
            f.evidence.insert(at, line);
            at += 1;
        } else {
            f.evidence.push(line);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What could not be checked
// ---------------------------------------------------------------------------------------------

/// What the cross-vantage rules could not check, when the in-cluster view is missing.
const UNCHECKED: &str = "not checked from inside the cluster: hairpin NAT, split-horizon DNS, PROXY protocol on in-cluster paths, the controller's proxy and egress, and which data plane serves the token";

/// Say what the run could not see for a certificate: `candidates` challenges to probe, of
/// which `local` were probed from this machine and `inside` from the probe pod.
pub fn not_checked(
    enabled: bool,
    in_cluster: &InCluster,
    candidates: usize,
    local: usize,
    inside: usize,
) -> Option<Finding> {
    if candidates == 0 {
        return None;
    }
    if !enabled {
        return Some(
            Finding::new(
                Code::NotChecked,
                Severity::Info,
                Proof::Supports,
                "the challenge URL was not probed (--no-probe)",
            )
            .evidence("checked: the cert-manager objects, the solver resources, classes, data planes and the controller's settings; not checked: DNS, the HTTP path, both vantages")
            .fix("run without --no-probe to see what the self check and the CA see"),
        );
    }
    let by_hand = "to compare by hand, from a pod in the cluster: curl -sv http://<dnsName>/.well-known/acme-challenge/<token>";
    match in_cluster {
        InCluster::NotRequested => Some(
            Finding::new(
                Code::NotChecked,
                Severity::Info,
                Proof::Supports,
                format!("probed {local} of {candidates} challenge URL(s) from this machine only (--local-only); cert-manager's self check runs inside the cluster"),
            )
            .evidence(UNCHECKED)
            .fix(format!("run without --local-only to start the short-lived probe pod; {by_hand}")),
        ),
        InCluster::Failed { placement, problem } => {
            let mut f = Finding::new(
                Code::NotChecked,
                Severity::Info,
                Proof::Supports,
                format!(
                    "the in-cluster probe pod did not run ({}): {}; the local vantage was still used ({local} of {candidates} challenge URL(s) probed from this machine)",
                    problem_kind(problem.kind),
                    problem.message
                ),
            )
            .evidence(UNCHECKED);
            if let Some(p) = placement {
                f = f.evidence(format!("probe pod: {}", placement_text(p)));
            }
            let fix = if problem.hint.is_empty() {
                by_hand.to_owned()
            } else {
                format!("{}; {by_hand}", problem.hint)
            };
            Some(f.fix(fix))
        }
        InCluster::Ran { placement, .. } if inside < candidates => Some(
            Finding::new(
                Code::NotChecked,
                Severity::Info,
                Proof::Supports,
                format!("the probe pod reported on {inside} of {candidates} challenge URL(s); the others were probed from this machine only"),
            )
            .evidence(format!("probe pod: {}", placement_text(placement)))
            .evidence(UNCHECKED)
            .fix(by_hand),
        ),
        InCluster::Ran { .. } if local < candidates => Some(
            Finding::new(
                Code::NotChecked,
                Severity::Info,
                Proof::Supports,
                format!("probed {local} of {candidates} challenge URL(s) from this machine; the CA's view (from outside) is estimated from it"),
            )
            .fix("from a machine outside the cluster: curl -sv http://<dnsName>/.well-known/acme-challenge/<token>"),
        ),
        InCluster::Ran { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::PodEvidence;
    use crate::probe::incluster::Problem;
    use crate::probe::incluster::{Placement, ProblemKind};
    use crate::probe::plan::{DnsReport, KeyMatch};
    use std::collections::HashMap;

    const NAME: &str = "shop.example.test";
    const EDGE: &str = "203.0.113.10";

    fn oc(status: Option<u16>, err: Option<ErrorClass>, who: &str, count: u32) -> OutcomeCount {
        let pass = status == Some(200) && who != "wrong";
        OutcomeCount {
            status,
            error_class: err,
            responder: who.into(),
            key_match: if pass {
                KeyMatch::Exact
            } else {
                KeyMatch::NotApplicable
            },
            cert_manager_pass: pass,
            acme_pass: pass,
            count,
            ..Default::default()
        }
    }
    fn ok(who: &str, n: u32) -> OutcomeCount {
        oc(Some(200), None, who, n)
    }
    fn status(s: u16, who: &str, n: u32) -> OutcomeCount {
        oc(Some(s), None, who, n)
    }
    fn err(e: ErrorClass, n: u32) -> OutcomeCount {
        oc(None, Some(e), "-", n)
    }

    fn addr(ip: &str, outcomes: Vec<OutcomeCount>) -> AddressReport {
        AddressReport {
            address: ip.into(),
            family: "ipv4".into(),
            attempts: outcomes.iter().map(|o| o.count).sum(),
            cert_manager_passes: count(&outcomes, |o| o.cert_manager_pass),
            acme_passes: count(&outcomes, |o| o.acme_pass),
            outcomes,
            ..Default::default()
        }
    }

    fn direct(label: &str, address: &str, outcomes: Vec<OutcomeCount>) -> DirectResult {
        DirectResult {
            address: address.into(),
            host: NAME.into(),
            label: label.into(),
            attempts: outcomes.iter().map(|o| o.count).sum(),
            cert_manager_passes: count(&outcomes, |o| o.cert_manager_pass),
            outcomes,
            ..Default::default()
        }
    }

    const NGINX_SVC: &str = "ingress-nginx Service ingress-nginx/ingress-nginx-controller";
    const GW_SVC: &str = "gateway infra/public (cilium) Service infra/cilium-gateway-public";
    const SOLVER_SVC: &str = "solver Service shop/cm-acme-http-solver-xyz";

    /// A report whose primary resolver answered `dns` (empty: NXDOMAIN).
    fn report(resolver: &str, dns: &[&str], addresses: Vec<AddressReport>) -> TargetReport {
        TargetReport {
            id: "shop/web-1".into(),
            url: ch().challenge_url(),
            dns_name: NAME.into(),
            expected_key: "tok.thumb".into(),
            dns: DnsReport {
                resolvers: vec![ResolverAnswer {
                    resolver: resolver.into(),
                    role: "primary".into(),
                    a: dns.iter().map(|s| s.to_string()).collect(),
                    error: dns.is_empty().then_some(ErrorClass::DnsNxdomain),
                    ..Default::default()
                }],
                ip_literal: false,
                ..Default::default()
            },
            addresses,
            ..Default::default()
        }
    }

    fn local(addresses: Vec<AddressReport>) -> TargetReport {
        let dns: Vec<String> = addresses.iter().map(|a| a.address.clone()).collect();
        let dns: Vec<&str> = dns.iter().map(String::as_str).collect();
        report("system", &dns, addresses)
    }

    /// This machine: the edge serves the key on all 66 attempts.
    fn outside_ok() -> TargetReport {
        local(vec![addr(EDGE, vec![ok("nginx", 66)])])
    }

    /// The pod: the edge address answers `outcomes`.
    fn inside_edge(outcomes: Vec<OutcomeCount>, direct: Vec<DirectResult>) -> TargetReport {
        inside(vec![addr(EDGE, outcomes)], direct)
    }

    fn inside(addresses: Vec<AddressReport>, direct: Vec<DirectResult>) -> TargetReport {
        let dns: Vec<String> = addresses.iter().map(|a| a.address.clone()).collect();
        let dns: Vec<&str> = dns.iter().map(String::as_str).collect();
        let mut r = report("system", &dns, addresses);
        r.direct = direct;
        r
    }

    fn ran(t: TargetReport) -> InCluster {
        ran_all(vec![t])
    }

    fn ran_all(ts: Vec<TargetReport>) -> InCluster {
        InCluster::Ran {
            placement: Placement {
                namespace: "cert-manager".into(),
                pod: "acmecheck-probe-1".into(),
                node: Some("node-a".into()),
                why: "cert-manager's namespace, like the self check".into(),
            },
            targets: ts
                .into_iter()
                .map(|t| (t.id.clone(), t))
                .collect::<HashMap<_, _>>(),
        }
    }

    fn ch() -> ChallengeEvidence {
        ChallengeEvidence {
            name: "web-1".into(),
            dns_name: NAME.into(),
            type_: "HTTP-01".into(),
            token: "tok".into(),
            key: "tok.thumb".into(),
            solver_pods: vec![PodEvidence {
                namespace: "shop".into(),
                name: "cm-acme-http-solver-abc".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn cluster() -> ClusterEvidence {
        crate::probe::targets::tests::cluster()
    }

    fn run(local: Option<&TargetReport>, ic: &InCluster, cl: &ClusterEvidence) -> Vec<Finding> {
        findings(&ch(), local, pod_report(ic), ic, cl, CaProfile::Pebble)
    }

    /// The pod's report for `ch()`, looked up by its id as `run::build_report` does.
    fn pod_report(ic: &InCluster) -> Option<&TargetReport> {
        ic.target("shop/web-1")
    }

    fn codes(f: &[Finding]) -> Vec<Code> {
        f.iter().map(|f| f.code).collect()
    }

    fn nginx_serves() -> DirectResult {
        direct(NGINX_SVC, "198.51.100.10:80", vec![ok("nginx", 20)])
    }
    fn gateway_404() -> DirectResult {
        direct(GW_SVC, "198.51.100.20:80", vec![status(404, "envoy", 20)])
    }

    #[test]
    fn healthy_from_both_sides_has_no_cross_vantage_finding() {
        let l = outside_ok();
        let i = inside_edge(
            vec![ok("nginx", 66)],
            vec![
                nginx_serves(),
                direct(SOLVER_SVC, "198.51.100.30:8089", vec![ok("acmesolver", 20)]),
            ],
        );
        assert!(run(Some(&l), &ran(i), &cluster()).is_empty());
        // No in-cluster view: nothing to compare.
        assert!(run(Some(&l), &InCluster::NotRequested, &cluster()).is_empty());
    }

    #[test]
    fn hairpin_on_the_clusters_own_load_balancer() {
        let l = outside_ok();
        let i = inside_edge(
            vec![err(ErrorClass::ConnectTimeout, 66)],
            vec![nginx_serves(), gateway_404()],
        );
        let f = run(Some(&l), &ran(i.clone()), &cluster());
        assert_eq!(codes(&f), [Code::HairpinUnreachable]);
        let h = &f[0];
        assert_eq!(h.proof, Proof::Proves);
        assert!(
            h.summary
                .contains("66 of 66 connections to it fail while 66 of 66 from this machine pass"),
            "{}",
            h.summary
        );
        assert!(
            h.summary
                .contains("Service ingress-nginx/ingress-nginx-controller"),
            "{}",
            h.summary
        );
        assert!(
            h.evidence
                .iter()
                .any(|e| e == "in cluster: 203.0.113.10  66×connect_timeout"),
            "{:?}",
            h.evidence
        );
        assert!(
            h.fix
                .contains("kubectl -n ingress-nginx get svc ingress-nginx-controller"),
            "{}",
            h.fix
        );
        // A Gateway's own address: the Gateway is named, and how to read its status.
        let mut cl = cluster();
        cl.gateways[0].addresses = vec!["203.0.113.20".into()];
        let l2 = local(vec![addr("203.0.113.20", vec![ok("envoy", 66)])]);
        let i2 = inside(
            vec![addr(
                "203.0.113.20",
                vec![err(ErrorClass::ConnectTimeout, 66)],
            )],
            vec![],
        );
        let f = run(Some(&l2), &ran(i2), &cl);
        assert_eq!(
            (f[0].code, f[0].proof),
            (Code::HairpinUnreachable, Proof::Supports)
        );
        assert!(
            f[0].summary
                .contains("load-balancer address of Gateway infra/public, yet"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].fix
                .contains("kubectl -n infra get gateway public -o jsonpath='{.status.addresses}'"),
            "{}",
            f[0].fix
        );
        // Without a direct answer from that data plane it only supports.
        let mut weaker = i;
        weaker.direct = vec![gateway_404()];
        let f = run(Some(&l), &ran(weaker), &cluster());
        assert_eq!(
            (f[0].code, f[0].proof),
            (Code::HairpinUnreachable, Proof::Supports)
        );
    }

    #[test]
    fn a_foreign_address_is_hairpin_only_when_other_outside_addresses_work_from_inside() {
        let foreign = "192.0.2.77";
        let l = local(vec![addr(foreign, vec![ok("nginx", 66)])]);
        let i = inside(
            vec![addr(foreign, vec![err(ErrorClass::ConnectTimeout, 66)])],
            vec![nginx_serves()],
        );
        let f = run(Some(&l), &ran(i.clone()), &cluster());
        assert_eq!(codes(&f), [Code::SelfcheckEgressBlocked]);
        assert_eq!(f[0].proof, Proof::Supports);
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e.contains("HAIRPIN_UNREACHABLE")),
            "{:?}",
            f[0].evidence
        );
        // Another challenge's outside address answers from inside: egress works, the NAT does not.
        let mut other = inside(
            vec![addr("192.0.2.88", vec![status(404, "apache", 66)])],
            vec![],
        );
        other.id = "shop/other-1".into();
        other.url = "http://other.example.test/.well-known/acme-challenge/x".into();
        let f = run(Some(&l), &ran_all(vec![i, other]), &cluster());
        assert_eq!(codes(&f), [Code::HairpinUnreachable]);
        assert_eq!(f[0].proof, Proof::Proves);
        assert!(
            f[0].summary
                .contains("192.0.2.88 outside the cluster is reachable"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn the_routers_own_page_from_inside_is_hairpin() {
        let foreign = "192.0.2.77";
        let l = local(vec![addr(foreign, vec![ok("nginx", 66)])]);
        let i = inside(
            vec![addr(foreign, vec![status(401, "router-ui", 66)])],
            vec![nginx_serves()],
        );
        let mut other = inside(
            vec![addr("192.0.2.88", vec![status(404, "apache", 66)])],
            vec![],
        );
        other.id = "shop/other-1".into();
        other.url = "http://other.example.test/.well-known/acme-challenge/x".into();
        let f = run(Some(&l), &ran_all(vec![i, other]), &cluster());
        assert_eq!(codes(&f), [Code::HairpinUnreachable]);
        assert!(
            f[0].summary.contains("(66 of 66 connections fail)"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn a_probe_pod_that_reaches_nothing_is_egress() {
        let l = outside_ok();
        let i = inside_edge(
            vec![err(ErrorClass::ConnectTimeout, 66)],
            vec![direct(
                NGINX_SVC,
                "198.51.100.10:80",
                vec![err(ErrorClass::ConnectTimeout, 20)],
            )],
        );
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::SelfcheckEgressBlocked]);
        assert!(
            f[0].summary.contains("could connect to nothing"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].fix
                .contains("kubectl -n cert-manager get networkpolicy")
                || f[0].fix.contains("namespace cert-manager"),
            "{}",
            f[0].fix
        );
    }

    #[test]
    fn the_pod_passes_but_the_controller_times_out() {
        let mut c = ch();
        c.reason = Some(format!(
            "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request '{0}': Get \"{0}\": dial tcp 203.0.113.10:80: i/o timeout",
            c.challenge_url()
        ));
        let l = outside_ok();
        let i = inside_edge(vec![ok("nginx", 66)], vec![]);
        let ic = ran(i);
        let f = findings(
            &c,
            Some(&l),
            pod_report(&ic),
            &ic,
            &cluster(),
            CaProfile::Pebble,
        );
        assert_eq!(codes(&f), [Code::SelfcheckEgressBlocked]);
        assert_eq!(f[0].proof, Proof::Proves);
        assert!(f[0].summary.contains("passes 66 of 66"), "{}", f[0].summary);
        // A 404 reason is not an egress problem.
        c.reason = Some(
            "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'"
                .into(),
        );
        let i = inside_edge(vec![ok("nginx", 66)], vec![]);
        let ic = ran(i);
        assert!(
            findings(
                &c,
                Some(&l),
                pod_report(&ic),
                &ic,
                &cluster(),
                CaProfile::Pebble
            )
            .is_empty()
        );
    }

    #[test]
    fn split_horizon_dns() {
        let internal = "198.51.100.50";
        let l = outside_ok();
        let i = inside(vec![addr(internal, vec![status(404, "nginx", 66)])], vec![]);
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::SplitHorizon]);
        let s = &f[0];
        assert_eq!(s.proof, Proof::Proves);
        assert!(
            s.summary
                .contains("with 198.51.100.50, this machine's resolver with 203.0.113.10"),
            "{}",
            s.summary
        );
        assert!(
            s.summary.contains("0 of 66 requests to 198.51.100.50 pass"),
            "{}",
            s.summary
        );
        assert!(s.fix.starts_with("let the self check resolve"), "{}", s.fix);
        assert!(s.fix.contains("kubectl -n cert-manager patch deployment cert-manager --type json -p '[{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/args/-\",\"value\":\"--acme-http01-solver-nameservers=1.1.1.1:53,8.8.8.8:53\"}]'"), "{}", s.fix);
        // Cluster DNS has no record at all.
        let i = report("system", &[], vec![]);
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::SplitHorizon]);
        assert!(
            f[0].summary
                .contains("cannot resolve shop.example.test (dns_nxdomain)"),
            "{}",
            f[0].summary
        );
        // Nameservers already set: the fix says to change them.
        let mut cl = cluster();
        cl.cert_manager.as_mut().unwrap().solver_nameservers = vec!["198.51.100.53:53".into()];
        let i = inside(vec![addr(internal, vec![status(404, "nginx", 66)])], vec![]);
        let f = run(Some(&l), &ran(i), &cl);
        assert!(
            f[0].fix
                .contains("already uses --acme-http01-solver-nameservers=198.51.100.53:53"),
            "{}",
            f[0].fix
        );
        // A different answer that works is not a problem.
        let i = inside(vec![addr(internal, vec![ok("nginx", 66)])], vec![]);
        assert!(run(Some(&l), &ran(i), &cluster()).is_empty());
    }

    #[test]
    fn allow_list_on_one_side() {
        let l = outside_ok();
        let i = inside_edge(vec![status(403, "nginx", 66)], vec![]);
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::IpAllowlist]);
        assert_eq!(f[0].proof, Proof::Proves);
        assert!(f[0].summary.contains("answers 403 to inside the cluster (66 of 66) but serves the key to this machine (66 of 66), the same server (nginx)"), "{}", f[0].summary);
        // The reverse: the outside is refused.
        let l = local(vec![addr(EDGE, vec![status(403, "nginx", 66)])]);
        let i = inside_edge(vec![ok("nginx", 66)], vec![]);
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::IpAllowlist]);
        assert!(
            f[0].summary.contains("403 to this machine"),
            "{}",
            f[0].summary
        );
        // 403 from both sides is not one-sided.
        let l = local(vec![addr(EDGE, vec![status(403, "nginx", 66)])]);
        let i = inside_edge(vec![status(403, "nginx", 66)], vec![]);
        assert!(run(Some(&l), &ran(i), &cluster()).is_empty());
    }

    #[test]
    fn proxy_protocol_plain_fails_preamble_passes() {
        let l = outside_ok();
        let mut a = addr(EDGE, vec![err(ErrorClass::Eof, 66)]);
        a.with_proxy_protocol = Some(ProxyProtocolProbe {
            attempts: 5,
            cert_manager_passes: 5,
            responses: 5,
            outcomes: vec![ok("nginx", 5)],
        });
        let f = run(Some(&l), &ran(inside(vec![a.clone()], vec![])), &cluster());
        assert_eq!(codes(&f), [Code::ProxyProtocolMismatch]);
        assert_eq!(f[0].proof, Proof::Proves);
        assert!(
            f[0].summary.contains("(5 of 5 passed with it)"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].evidence
                .contains(&"in cluster: 203.0.113.10 plain: 66×eof".to_owned()),
            "{:?}",
            f[0].evidence
        );
        assert!(
            f[0].fix
                .contains("ipMode: Proxy on Service ingress-nginx/ingress-nginx-controller"),
            "{}",
            f[0].fix
        );
        // Plain HTTP to a TLS port: 400 with and without the preamble is not PROXY protocol.
        let mut tls_port = addr(EDGE, vec![status(400, "nginx", 66)]);
        tls_port.with_proxy_protocol = Some(ProxyProtocolProbe {
            attempts: 5,
            responses: 5,
            outcomes: vec![status(400, "nginx", 5)],
            ..Default::default()
        });
        assert!(
            run(
                Some(&l),
                &ran(inside(vec![tls_port.clone()], vec![])),
                &cluster()
            )
            .is_empty()
        );
        // 400 plain, 404 with the preamble: the listener does read PROXY protocol.
        tls_port.with_proxy_protocol.as_mut().unwrap().outcomes = vec![status(404, "nginx", 5)];
        let f = run(Some(&l), &ran(inside(vec![tls_port], vec![])), &cluster());
        assert_eq!(codes(&f), [Code::ProxyProtocolMismatch]);
        assert!(
            f[0].summary
                .contains("answers 400 to plain requests from inside the cluster"),
            "{}",
            f[0].summary
        );
        // The preamble did not help either: no finding.
        a.with_proxy_protocol = Some(ProxyProtocolProbe {
            attempts: 5,
            outcomes: vec![err(ErrorClass::Eof, 5)],
            ..Default::default()
        });
        assert!(
            !codes(&run(Some(&l), &ran(inside(vec![a], vec![])), &cluster()))
                .contains(&Code::ProxyProtocolMismatch)
        );
    }

    #[test]
    fn self_check_through_the_controllers_proxy() {
        let mut cl = cluster();
        let cm = cl.cert_manager.as_mut().unwrap();
        cm.http_proxy = Some("http://192.0.2.8:3128".into());
        cm.no_proxy = Some(".svc,.cluster.local".into());
        let l = outside_ok();
        let i = inside_edge(vec![status(403, "squid", 66)], vec![nginx_serves()]);
        let f = run(Some(&l), &ran(i.clone()), &cl);
        assert!(
            codes(&f).contains(&Code::SelfcheckViaProxy),
            "{:?}",
            codes(&f)
        );
        let p = f
            .iter()
            .find(|f| f.code == Code::SelfcheckViaProxy)
            .unwrap();
        assert_eq!(p.proof, Proof::Proves);
        assert!(
            p.summary
                .contains("HTTP_PROXY (http://192.0.2.8:3128) covers shop.example.test"),
            "{}",
            p.summary
        );
        assert!(p.fix.contains("kubectl -n cert-manager set env deployment/cert-manager NO_PROXY=.svc,.cluster.local,shop.example.test"), "{}", p.fix);
        // NO_PROXY excludes the domain: the proxy is not in the path.
        cl.cert_manager.as_mut().unwrap().no_proxy = Some(".example.test".into());
        assert!(!codes(&run(Some(&l), &ran(i.clone()), &cl)).contains(&Code::SelfcheckViaProxy));
        // No proxy at all.
        assert!(!codes(&run(Some(&l), &ran(i), &cluster())).contains(&Code::SelfcheckViaProxy));
    }

    #[test]
    fn each_source_pinned_to_one_backend() {
        let l = outside_ok();
        let i = inside_edge(
            vec![status(404, "envoy", 66)],
            vec![nginx_serves(), gateway_404()],
        );
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::BackendPinnedBySource]);
        assert!(f[0].summary.contains("all 66 connections from this machine reach nginx (serves the key), all 66 from inside the cluster reach envoy (does not serve it)"), "{}", f[0].summary);
        // Through the controller's proxy the "other backend" is the proxy.
        let mut cl = cluster();
        cl.cert_manager.as_mut().unwrap().http_proxy = Some("http://192.0.2.8:3128".into());
        let i = inside_edge(vec![status(502, "squid", 66)], vec![]);
        assert!(!codes(&run(Some(&l), &ran(i), &cl)).contains(&Code::BackendPinnedBySource));
        // Both sides on the same responder: not pinning.
        let i = inside_edge(vec![status(404, "nginx", 66)], vec![]);
        assert!(!codes(&run(Some(&l), &ran(i), &cluster())).contains(&Code::BackendPinnedBySource));
    }

    #[test]
    fn solver_that_does_not_answer() {
        let l = outside_ok();
        let i = inside_edge(
            vec![ok("nginx", 66)],
            vec![direct(
                SOLVER_SVC,
                "198.51.100.30:8089",
                vec![err(ErrorClass::ConnectTimeout, 20)],
            )],
        );
        let f = run(Some(&l), &ran(i.clone()), &cluster());
        assert_eq!(codes(&f), [Code::SolverUnreachable]);
        // A data plane serves the key, so it reaches the solver: only the probe pod is kept out.
        let mut i = i;
        i.direct.push(nginx_serves());
        assert!(run(Some(&l), &ran(i), &cluster()).is_empty());
        assert!(
            f[0].summary
                .contains("1 direct probe(s), 20 attempts, no response"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn mixed_backends_from_both_sides_is_one_finding() {
        let mixed = |n| addr(EDGE, vec![ok("nginx", n), status(404, "envoy", 200 - n)]);
        let l = local(vec![mixed(100)]);
        let i = inside(vec![mixed(98)], vec![nginx_serves(), gateway_404()]);
        let f = single_vantage(&ch(), Some(&l), Some(&i), CaProfile::Pebble);
        assert_eq!(codes(&f), [Code::MixedBackends]);
        assert!(
            f[0].summary
                .ends_with("(seen from this machine and from inside the cluster)")
        );
        assert_eq!(
            f[0].evidence[0],
            "this machine: 203.0.113.10  100×200 key (nginx)  100×404 (envoy)"
        );
        assert_eq!(
            f[0].evidence[1],
            "in cluster: 203.0.113.10  98×200 key (nginx)  102×404 (envoy)"
        );
        // Seen only from inside: one finding that says so.
        let l = outside_ok();
        let f = single_vantage(&ch(), Some(&l), Some(&i), CaProfile::Pebble);
        assert_eq!(codes(&f), [Code::MixedBackends]);
        assert!(
            f[0].summary.starts_with("from inside the cluster: "),
            "{}",
            f[0].summary
        );
        // Codes about the CA's view are not taken from inside (private addresses inside are fine).
        let i = inside(vec![addr("198.51.100.10", vec![ok("nginx", 66)])], vec![]);
        let f = single_vantage(&ch(), Some(&l), Some(&i), CaProfile::Letsencrypt);
        assert_eq!(codes(&f), [Code::NonPublicName], "from this machine only");
        assert!(!f[0].summary.starts_with("from inside"), "{}", f[0].summary);
    }

    #[test]
    fn inside_findings_merge_per_address_once() {
        let mixed = |ip: &str| addr(ip, vec![ok("nginx", 100), status(404, "envoy", 100)]);
        let l = local(vec![mixed(EDGE)]);
        let i = inside(vec![mixed(EDGE), mixed("203.0.113.11")], vec![]);
        let f = single_vantage(&ch(), Some(&l), Some(&i), CaProfile::Pebble);
        assert_eq!(codes(&f), [Code::MixedBackends, Code::MixedBackends]);
        assert!(
            f[0].summary.starts_with("203.0.113.10 ")
                && f[0].summary.ends_with("from inside the cluster)"),
            "{}",
            f[0].summary
        );
        assert!(
            f[1].summary
                .starts_with("from inside the cluster: 203.0.113.11 "),
            "{}",
            f[1].summary
        );
    }

    #[test]
    fn attribution_names_the_data_plane_without_the_route() {
        let l = local(vec![addr(
            EDGE,
            vec![ok("nginx", 100), status(404, "envoy", 100)],
        )]);
        let i = inside(
            vec![addr(
                EDGE,
                vec![ok("nginx", 100), status(404, "envoy", 100)],
            )],
            vec![
                nginx_serves(),
                gateway_404(),
                direct(SOLVER_SVC, "198.51.100.30:8089", vec![ok("acmesolver", 20)]),
            ],
        );
        let lines = attribution(&ch(), Some(&l), Some(&i));
        assert_eq!(
            lines[0],
            "traffic for shop.example.test reaches gateway infra/public (cilium), which has no route: 404 (envoy); ingress-nginx serves the key"
        );
        assert!(lines.contains(&format!("direct from inside: {GW_SVC} 198.51.100.20:80 does not serve the key: 20×404 (envoy)")), "{lines:#?}");
        assert!(lines.contains(&format!("the solver itself answers the key on 8089: {SOLVER_SVC} 198.51.100.30:8089  20×200 key (acmesolver)")), "{lines:#?}");
        let mut f = single_vantage(&ch(), Some(&l), Some(&i), CaProfile::Pebble);
        f.push(
            Finding::new(Code::SelfCheckFailing, Severity::Error, Proof::Proves, "x")
                .challenge("web-1"),
        );
        attach_attribution(&mut f, &ch(), lines);
        assert_eq!(f[0].code, Code::MixedBackends);
        assert!(
            f[0].evidence[1].starts_with("traffic for shop.example.test reaches gateway"),
            "{:?}",
            f[0].evidence
        );
        assert!(f[1].evidence.is_empty(), "attached once");
        // No failing responder matches a data plane: no headline, only the per-plane lines.
        let i = inside(vec![], vec![nginx_serves()]);
        let lines = attribution(&ch(), None, Some(&i));
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("direct from inside"));
    }

    #[test]
    fn merging_folds_into_earlier_findings_only() {
        let mut f = vec![
            Finding::new(
                Code::SolverUnreachable,
                Severity::Error,
                Proof::Proves,
                "api",
            )
            .challenge("web-1")
            .evidence("no endpoints"),
        ];
        merge_into(
            &mut f,
            vec![
                Finding::new(
                    Code::SolverUnreachable,
                    Severity::Error,
                    Proof::Supports,
                    "direct",
                )
                .challenge("web-1")
                .evidence("direct: 20×connect_timeout"),
                Finding::new(Code::MixedBackends, Severity::Error, Proof::Proves, "a")
                    .challenge("web-1"),
                Finding::new(Code::MixedBackends, Severity::Error, Proof::Proves, "b")
                    .challenge("web-1"),
            ],
        );
        assert_eq!(
            codes(&f),
            [
                Code::SolverUnreachable,
                Code::MixedBackends,
                Code::MixedBackends
            ]
        );
        assert_eq!(f[0].proof, Proof::Proves);
        assert_eq!(
            f[0].evidence,
            ["no endpoints", "direct: 20×connect_timeout"]
        );
    }

    #[test]
    fn what_could_not_be_checked() {
        assert!(not_checked(true, &InCluster::NotRequested, 0, 0, 0).is_none());
        let f = not_checked(false, &InCluster::NotRequested, 1, 0, 0).unwrap();
        assert!(f.summary.contains("--no-probe"));
        let f = not_checked(true, &InCluster::NotRequested, 2, 2, 0).unwrap();
        assert!(
            f.summary
                .contains("probed 2 of 2 challenge URL(s) from this machine only (--local-only)"),
            "{}",
            f.summary
        );
        assert!(f.evidence[0].contains("hairpin NAT, split-horizon DNS"));
        let failed = InCluster::Failed {
            placement: Some(Placement {
                namespace: "cert-manager".into(),
                pod: "acmecheck-probe-1".into(),
                node: None,
                why: "cert-manager's namespace".into(),
            }),
            problem: Problem {
                kind: ProblemKind::ImagePull,
                message:
                    "image \"registry.example/acmecheck:v0.2.0\" could not be pulled: ErrImagePull"
                        .into(),
                hint: "use --probe-image to point at a mirror".into(),
            },
        };
        let f = not_checked(true, &failed, 1, 1, 0).unwrap();
        assert!(f.summary.starts_with("the in-cluster probe pod did not run (image pull failed): image \"registry.example/acmecheck:v0.2.0\" could not be pulled: ErrImagePull; the local vantage was still used"), "{}", f.summary);
        assert!(
            f.fix.starts_with("use --probe-image to point at a mirror"),
            "{}",
            f.fix
        );
        assert!(
            f.evidence.contains(
                &"probe pod: cert-manager/acmecheck-probe-1 (cert-manager's namespace)".to_owned()
            ),
            "{:?}",
            f.evidence
        );
        let both = ran(local(vec![]));
        assert!(not_checked(true, &both, 1, 1, 1).is_none());
        assert!(
            not_checked(true, &both, 2, 2, 1)
                .unwrap()
                .summary
                .contains("reported on 1 of 2")
        );
    }
}
