//! Join a [`Snapshot`] into evidence: pure, no I/O.
//!
//! Certificate → CertificateRequest (controller ownerRef UID and
//! `cert-manager.io/certificate-revision == status.revision + 1`) → Order (controller ownerRef to
//! the request) → Challenges (controller ownerRef to the Order), as cert-manager and cmctl link
//! them; then each Challenge's solver Pod/Service/Ingress by the identity labels (Adler-32 of
//! dnsName/token) and the controller owner UID, HTTPRoutes by labels only.

use super::dataplane;
use super::snapshot::Snapshot;
use super::types::controller_uid;
use super::types::{Certificate, CertificateRequest, Challenge, HttpRoute, Issuer, Order};
use crate::evidence::*;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use std::collections::{BTreeMap, HashMap};

pub const SOLVER_LABEL: &str = "acme.cert-manager.io/http01-solver";
pub const DOMAIN_LABEL: &str = "acme.cert-manager.io/http-domain";
pub const TOKEN_LABEL: &str = "acme.cert-manager.io/http-token";
pub const REVISION_ANNOTATION: &str = "cert-manager.io/certificate-revision";

/// Ingress annotations that change how the challenge path is served.
const RELEVANT_ANNOTATION_SUFFIXES: &[&str] = &[
    "/ssl-redirect",
    "/force-ssl-redirect",
    "/whitelist-source-range",
    "/allowlist-source-range",
    "/denylist-source-range",
    "/rewrite-target",
    "/use-regex",
    "/backend-protocol",
    "/use-proxy-protocol",
    "/app-root",
    "/permanent-redirect",
    "/temporal-redirect",
    "/server-snippet",
    "/configuration-snippet",
    "/router.middlewares",
    "/router.entrypoints",
    "/upstream-vhost",
    "/preserve-host",
];

/// zlib Adler-32 (Go `hash/adler32`), the checksum in the solver identity labels.
pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the largest n with 255n(n+1)/2 + (n+1)(MOD-1) < 2^32: no overflow before `%`.
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

fn ts(t: &Option<Time>) -> Option<String> {
    t.as_ref().map(|t| t.0.to_string())
}

fn labels(meta: &ObjectMeta) -> BTreeMap<String, String> {
    meta.labels.clone().unwrap_or_default()
}

fn label<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.labels.as_ref()?.get(key).map(String::as_str)
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// Objects grouped by the UID of their controller ownerReference.
fn by_controller<T>(items: &[T], meta: fn(&T) -> &ObjectMeta) -> HashMap<&str, Vec<&T>> {
    let mut map: HashMap<&str, Vec<&T>> = HashMap::new();
    for item in items {
        if let Some(uid) = controller_uid(meta(item)) {
            map.entry(uid).or_default().push(item);
        }
    }
    map
}

/// Newest first (by creationTimestamp, then name for a stable order).
fn newest_first<T>(items: &mut [&T], meta: fn(&T) -> &ObjectMeta) {
    items.sort_by(|a, b| {
        let (a, b) = (meta(a), meta(b));
        b.creation_timestamp
            .cmp(&a.creation_timestamp)
            .then_with(|| a.name.cmp(&b.name))
    });
}

struct Index<'a> {
    requests: HashMap<&'a str, Vec<&'a CertificateRequest>>,
    orders: HashMap<&'a str, Vec<&'a Order>>,
    challenges: HashMap<&'a str, Vec<&'a Challenge>>,
    pods: HashMap<&'a str, Vec<&'a Pod>>,
    services: HashMap<&'a str, Vec<&'a Service>>,
    ingresses: HashMap<&'a str, Vec<&'a Ingress>>,
    /// Solver pods by namespace (for Service endpoints).
    pods_by_ns: HashMap<&'a str, Vec<&'a Pod>>,
    issuers: HashMap<(&'a str, &'a str), &'a Issuer>,
    cluster_issuers: HashMap<&'a str, &'a Issuer>,
    /// HTTPRoutes by (namespace, domain label, token label).
    routes: HashMap<(&'a str, &'a str, &'a str), Vec<&'a HttpRoute>>,
    /// Ingresses that are not solver Ingresses, by rule host (`*.example.com` as written).
    ingresses_by_host: HashMap<&'a str, Vec<&'a Ingress>>,
}

impl<'a> Index<'a> {
    fn new(s: &'a Snapshot) -> Self {
        let mut pods_by_ns: HashMap<&str, Vec<&Pod>> = HashMap::new();
        for p in &s.pods {
            pods_by_ns
                .entry(p.metadata.namespace.as_deref().unwrap_or(""))
                .or_default()
                .push(p);
        }
        let mut routes: HashMap<(&str, &str, &str), Vec<&HttpRoute>> = HashMap::new();
        for r in &s.httproutes {
            if let (Some(d), Some(t)) = (
                label(&r.metadata, DOMAIN_LABEL),
                label(&r.metadata, TOKEN_LABEL),
            ) && label(&r.metadata, SOLVER_LABEL) == Some("true")
            {
                routes.entry((r.namespace(), d, t)).or_default().push(r);
            }
        }
        let mut ingresses_by_host: HashMap<&str, Vec<&Ingress>> = HashMap::new();
        for i in s
            .ingresses
            .iter()
            .filter(|i| label(&i.metadata, SOLVER_LABEL) != Some("true"))
        {
            let mut hosts: Vec<&str> = i
                .spec
                .iter()
                .flat_map(|sp| sp.rules.iter().flatten())
                .filter_map(|r| r.host.as_deref())
                .collect();
            hosts.sort_unstable();
            hosts.dedup();
            for h in hosts {
                ingresses_by_host.entry(h).or_default().push(i);
            }
        }
        Index {
            ingresses_by_host,
            requests: by_controller(&s.requests, |o| &o.metadata),
            orders: by_controller(&s.orders, |o| &o.metadata),
            challenges: by_controller(&s.challenges, |o| &o.metadata),
            pods: by_controller(&s.pods, |o| &o.metadata),
            services: by_controller(&s.services, |o| &o.metadata),
            ingresses: by_controller(&s.ingresses, |o| &o.metadata),
            pods_by_ns,
            issuers: s
                .issuers
                .iter()
                .map(|i| ((i.namespace(), i.name()), i))
                .collect(),
            cluster_issuers: s.cluster_issuers.iter().map(|i| (i.name(), i)).collect(),
            routes,
        }
    }
}

/// Join the snapshot into per-certificate evidence and the shared cluster evidence.
pub fn assemble(snap: &Snapshot) -> (Vec<CertificateEvidence>, ClusterEvidence) {
    let idx = Index::new(snap);
    let certs = snap
        .certificates
        .iter()
        .map(|c| certificate(c, snap, &idx))
        .collect();
    (certs, dataplane::cluster(snap))
}

fn certificate(c: &Certificate, snap: &Snapshot, idx: &Index) -> CertificateEvidence {
    let mut ev = CertificateEvidence {
        namespace: c.namespace().to_owned(),
        name: c.name().to_owned(),
        uid: c.uid().to_owned(),
        dns_names: c.spec.dns_names.clone(),
        ip_addresses: c.spec.ip_addresses.clone(),
        common_name: c.spec.common_name.clone(),
        secret_name: c.spec.secret_name.clone(),
        issuer_ref: c.spec.issuer_ref.clone(),
        labels: labels(&c.metadata),
        conditions: c.status.conditions.clone(),
        revision: c.status.revision,
        last_failure_time: c.status.last_failure_time.clone(),
        failed_issuance_attempts: c.status.failed_issuance_attempts,
        not_after: c.status.not_after.clone(),
        renewal_time: c.status.renewal_time.clone(),
        ..Default::default()
    };
    match issuer(c, snap, idx) {
        Ok(i) => ev.issuer = Some(i),
        Err(why) => ev.issuer_problem = Some(why),
    }

    let next = (c.status.revision.unwrap_or(0) + 1).to_string();
    let mut requests: Vec<&CertificateRequest> = idx
        .requests
        .get(c.uid())
        .map(|v| {
            v.iter()
                .copied()
                .filter(|r| annotation(&r.metadata, REVISION_ANNOTATION) == Some(next.as_str()))
                .collect()
        })
        .unwrap_or_default();
    newest_first(&mut requests, |o| &o.metadata);
    if requests.len() > 1 {
        ev.duplicate_requests = requests.iter().map(|r| r.name().to_owned()).collect();
    }
    let Some(cr) = requests.first() else {
        return ev;
    };
    ev.request = Some(RequestEvidence {
        name: cr.name().to_owned(),
        uid: cr.uid().to_owned(),
        revision: annotation(&cr.metadata, REVISION_ANNOTATION).and_then(|r| r.parse().ok()),
        conditions: cr.status.conditions.clone(),
        failure_time: cr.status.failure_time.clone(),
    });

    let mut orders: Vec<&Order> = idx.orders.get(cr.uid()).cloned().unwrap_or_default();
    newest_first(&mut orders, |o| &o.metadata);
    let Some(order) = orders.first() else {
        return ev;
    };
    ev.order = Some(order_evidence(order));

    let mut challenges: Vec<&Challenge> =
        idx.challenges.get(order.uid()).cloned().unwrap_or_default();
    challenges.sort_by(|a, b| {
        (a.spec.dns_name.as_str(), a.name()).cmp(&(b.spec.dns_name.as_str(), b.name()))
    });
    ev.challenges = challenges
        .into_iter()
        .map(|ch| challenge(ch, snap, idx))
        .collect();
    ev
}

fn issuer(c: &Certificate, snap: &Snapshot, idx: &Index) -> Result<IssuerEvidence, String> {
    let r = &c.spec.issuer_ref;
    if r.name.is_empty() {
        return Err("the certificate has no spec.issuerRef.name".into());
    }
    if let Some(g) = r
        .group
        .as_deref()
        .filter(|g| !g.is_empty() && *g != "cert-manager.io")
    {
        return Err(format!(
            "it is an external issuer ({} of group {g}), not a cert-manager ACME issuer",
            r.kind_or_default()
        ));
    }
    let (found, error, namespace) = if r.is_cluster_issuer() {
        (
            idx.cluster_issuers.get(r.name.as_str()).copied(),
            snap.cluster_issuers_error.as_ref(),
            None,
        )
    } else if r.kind_or_default() == "Issuer" {
        (
            idx.issuers.get(&(c.namespace(), r.name.as_str())).copied(),
            snap.issuers_error.as_ref(),
            Some(c.namespace().to_owned()),
        )
    } else {
        return Err(format!("unknown issuer kind {:?}", r.kind_or_default()));
    };
    match (found, error) {
        (Some(i), _) => Ok(IssuerEvidence {
            kind: r.kind_or_default().to_owned(),
            name: i.name().to_owned(),
            namespace,
            conditions: i.status.conditions.clone(),
            acme: i.spec.acme.clone(),
        }),
        (None, Some(err)) => Err(err.clone()),
        (None, None) => Err(match namespace {
            Some(ns) => format!("Issuer {:?} not found in namespace {ns:?}", r.name),
            None => format!("ClusterIssuer {:?} not found", r.name),
        }),
    }
}

fn order_evidence(o: &Order) -> OrderEvidence {
    OrderEvidence {
        name: o.name().to_owned(),
        uid: o.uid().to_owned(),
        state: o.status.state.clone().unwrap_or_default(),
        reason: o.status.reason.clone().filter(|r| !r.is_empty()),
        url: o.status.url.clone(),
        failure_time: o.status.failure_time.clone(),
        authorizations: o
            .status
            .authorizations
            .iter()
            .map(|a| AuthorizationEvidence {
                url: a.url.clone(),
                identifier: a.identifier.clone(),
                wildcard: a.wildcard.unwrap_or(false),
                initial_state: a.initial_state.clone(),
                challenge_types: a.challenges.iter().map(|c| c.type_.clone()).collect(),
            })
            .collect(),
    }
}

/// The `managedFields` entry that owns `status.reason` (`f:status` → `f:reason`), cert-manager's
/// controller's first (its manager name starts with `cert-manager`), through the status
/// subresource first, the latest of equals. Entries without a time say nothing.
pub(crate) fn status_written(meta: &ObjectMeta) -> Option<StatusWrite> {
    let entries = meta.managed_fields.as_deref()?;
    entries
        .iter()
        .filter(|e| {
            e.fields_v1.as_ref().is_some_and(|f| {
                f.0.get("f:status")
                    .and_then(|s| s.get("f:reason"))
                    .is_some()
            })
        })
        .filter_map(|e| {
            let time = e.time.as_ref()?.0.to_string();
            let manager = e.manager.clone().unwrap_or_default();
            let subresource = e.subresource.clone().unwrap_or_default();
            let rank = (
                manager.starts_with("cert-manager"),
                subresource == "status",
                time.clone(),
            );
            Some((
                rank,
                StatusWrite {
                    time,
                    manager,
                    operation: e.operation.clone().unwrap_or_default(),
                    subresource,
                },
            ))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, w)| w)
}

fn challenge(ch: &Challenge, snap: &Snapshot, idx: &Index) -> ChallengeEvidence {
    let mut ev = ChallengeEvidence {
        name: ch.name().to_owned(),
        uid: ch.uid().to_owned(),
        dns_name: ch.spec.dns_name.clone(),
        wildcard: ch.spec.wildcard,
        type_: ch.spec.type_.clone(),
        token: ch.spec.token.clone(),
        key: ch.spec.key.clone(),
        url: ch.spec.url.clone(),
        authorization_url: ch.spec.authorization_url.clone(),
        solver: ch.spec.solver.clone(),
        processing: ch.status.processing,
        presented: ch.status.presented,
        presented_at: ch.status.presented_at.clone(),
        state: ch.status.state.clone().unwrap_or_default(),
        reason: ch.status.reason.clone().filter(|r| !r.is_empty()),
        creation_timestamp: ts(&ch.metadata.creation_timestamp),
        status_written: status_written(&ch.metadata),
        ..Default::default()
    };
    if !ev.is_http01() {
        return ev;
    }
    let domain = adler32(ch.spec.dns_name.as_bytes()).to_string();
    let token = adler32(ch.spec.token.as_bytes()).to_string();
    let is_solver = |meta: &ObjectMeta| {
        label(meta, SOLVER_LABEL) == Some("true")
            && label(meta, DOMAIN_LABEL) == Some(domain.as_str())
            && label(meta, TOKEN_LABEL) == Some(token.as_str())
    };
    let pods: Vec<&Pod> = owned(&idx.pods, ch.uid());
    ev.solver_pods = pods
        .iter()
        .filter(|p| is_solver(&p.metadata))
        .map(|p| pod_evidence(p, ch))
        .collect();
    let services: Vec<&Service> = owned(&idx.services, ch.uid());
    let ns_pods = idx
        .pods_by_ns
        .get(ch.namespace())
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    ev.solver_services = services
        .iter()
        .filter(|s| is_solver(&s.metadata))
        .map(|s| service_evidence(s, ns_pods))
        .collect();
    let ingresses: Vec<&Ingress> = owned(&idx.ingresses, ch.uid());
    ev.solver_ingresses = ingresses
        .iter()
        .filter(|i| is_solver(&i.metadata))
        .map(|i| ingress_evidence(i, false))
        .collect();
    let edit_in_place = ch
        .spec
        .solver
        .http01
        .as_ref()
        .and_then(|h| h.ingress.as_ref())
        .and_then(|i| i.name.as_deref())
        .filter(|n| !n.is_empty());
    if let Some(name) = edit_in_place
        && let Some(ing) = snap.ingresses.iter().find(|i| {
            i.metadata.name.as_deref() == Some(name)
                && i.metadata.namespace.as_deref() == Some(ch.namespace())
        })
    {
        ev.solver_ingresses.push(ingress_evidence(ing, true));
    }
    ev.host_ingresses = host_ingresses(&ev, idx);
    ev.solver_routes = idx
        .routes
        .get(&(ch.namespace(), domain.as_str(), token.as_str()))
        .map(|rs| rs.iter().map(|r| route_evidence(r)).collect())
        .unwrap_or_default();
    ev
}

/// [`host_ingresses`] for a challenge that is not in the snapshot (a replay's stand-in).
pub(crate) fn host_ingresses_for(snap: &Snapshot, ev: &ChallengeEvidence) -> Vec<IngressEvidence> {
    host_ingresses(ev, &Index::new(snap))
}

/// Non-solver Ingresses with a rule for the challenge's name (exact or `*.` wildcard host),
/// except the edit-in-place one, which is already a solver Ingress.
fn host_ingresses(ev: &ChallengeEvidence, idx: &Index) -> Vec<IngressEvidence> {
    let wildcard = ev
        .dns_name
        .split_once('.')
        .map(|(_, parent)| format!("*.{parent}"));
    let mut found: Vec<&Ingress> = [Some(ev.dns_name.as_str()), wildcard.as_deref()]
        .into_iter()
        .flatten()
        .filter_map(|h| idx.ingresses_by_host.get(h))
        .flatten()
        .copied()
        .filter(|i| {
            !ev.solver_ingresses.iter().any(|s| {
                s.edit_in_place
                    && Some(s.name.as_str()) == i.metadata.name.as_deref()
                    && Some(s.namespace.as_str()) == i.metadata.namespace.as_deref()
            })
        })
        .collect();
    found.sort_by_key(|i| (i.metadata.namespace.clone(), i.metadata.name.clone()));
    found.dedup_by_key(|i| (i.metadata.namespace.clone(), i.metadata.name.clone()));
    found
        .into_iter()
        .map(|i| ingress_evidence(i, false))
        .collect()
}

fn owned<'a, T>(map: &HashMap<&str, Vec<&'a T>>, uid: &str) -> Vec<&'a T> {
    map.get(uid).cloned().unwrap_or_default()
}

fn arg_value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .find_map(|a| a.strip_prefix(flag).and_then(|rest| rest.strip_prefix('=')))
}

pub(crate) fn pod_evidence(p: &Pod, ch: &Challenge) -> PodEvidence {
    let spec = p.spec.as_ref();
    let status = p.status.as_ref();
    let container = spec.and_then(|s| {
        s.containers
            .iter()
            .find(|c| c.name == "acmesolver")
            .or(s.containers.first())
    });
    let args: &[String] = container.and_then(|c| c.args.as_deref()).unwrap_or(&[]);
    let args_match = [
        ("--domain", &ch.spec.dns_name),
        ("--token", &ch.spec.token),
        ("--key", &ch.spec.key),
    ]
    .iter()
    .all(|(flag, want)| arg_value(args, flag).is_none_or(|v| v == want.as_str()));
    let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let ready = conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    let unschedulable_message = conditions
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .map(|c| {
            c.message
                .clone()
                .or_else(|| c.reason.clone())
                .unwrap_or_else(|| "not scheduled".into())
        });
    let statuses: Vec<_> = status
        .into_iter()
        .flat_map(|s| {
            s.init_container_statuses
                .iter()
                .flatten()
                .chain(s.container_statuses.iter().flatten())
        })
        .collect();
    let waiting = statuses
        .iter()
        .find_map(|cs| cs.state.as_ref().and_then(|s| s.waiting.as_ref()));
    PodEvidence {
        namespace: p.metadata.namespace.clone().unwrap_or_default(),
        name: p.metadata.name.clone().unwrap_or_default(),
        phase: status.and_then(|s| s.phase.clone()).unwrap_or_default(),
        ready,
        node_name: spec.and_then(|s| s.node_name.clone()),
        pod_ip: status.and_then(|s| s.pod_ip.clone()),
        image: container.and_then(|c| c.image.clone()),
        waiting_reason: waiting.and_then(|w| w.reason.clone()),
        waiting_message: waiting.and_then(|w| w.message.clone()),
        unschedulable_message,
        restart_count: statuses.iter().map(|cs| cs.restart_count).sum(),
        args_match,
    }
}

fn selector_matches(
    selector: &BTreeMap<String, String>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    !selector.is_empty()
        && labels.is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)))
}

/// A Service with its endpoints computed from the given pods, the way the endpoints controller
/// does: pods matching the selector that have an IP and are not terminal; ready ones count as
/// ready addresses.
pub(crate) fn service_evidence(s: &Service, pods: &[&Pod]) -> ServiceEvidence {
    let spec = s.spec.as_ref();
    let selector = spec.and_then(|s| s.selector.clone()).unwrap_or_default();
    let mut ev = ServiceEvidence {
        namespace: s.metadata.namespace.clone().unwrap_or_default(),
        name: s.metadata.name.clone().unwrap_or_default(),
        type_: spec
            .and_then(|s| s.type_.clone())
            .unwrap_or_else(|| "ClusterIP".into()),
        cluster_ip: spec.and_then(|s| s.cluster_ip.clone()),
        ports: spec
            .and_then(|s| s.ports.as_ref())
            .map(|ports| {
                ports
                    .iter()
                    .map(|p| ServicePortEvidence {
                        name: p.name.clone(),
                        port: p.port,
                        target_port: p.target_port.as_ref().map(|t| match t {
                            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => {
                                i.to_string()
                            }
                            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(
                                s,
                            ) => s.clone(),
                        }),
                        node_port: p.node_port,
                        protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        lb_addresses: lb_addresses(
            s.status
                .as_ref()
                .and_then(|st| st.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_deref()),
        ),
        external_traffic_policy: spec.and_then(|s| s.external_traffic_policy.clone()),
        selector,
        ..Default::default()
    };
    if let Some(ips) = spec.and_then(|s| s.external_ips.as_ref()) {
        for ip in ips {
            if !ev.lb_addresses.contains(ip) {
                ev.lb_addresses.push(ip.clone());
            }
        }
    }
    let namespace = ev.namespace.clone();
    for p in pods
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(namespace.as_str()))
        .filter(|p| selector_matches(&ev.selector, p.metadata.labels.as_ref()))
    {
        let status = p.status.as_ref();
        let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("");
        let Some(ip) = status.and_then(|s| s.pod_ip.as_ref()) else {
            continue;
        };
        if phase == "Succeeded" || phase == "Failed" || p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let ready = status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if ready {
            ev.ready_endpoints += 1;
            ev.endpoint_addresses.push(ip.clone());
        } else {
            ev.not_ready_endpoints += 1;
        }
    }
    ev
}

/// A load-balancer status entry: an IP or a hostname.
pub(crate) trait LbEntry {
    fn address(&self) -> Option<&String>;
}

impl LbEntry for k8s_openapi::api::core::v1::LoadBalancerIngress {
    fn address(&self) -> Option<&String> {
        self.ip.as_ref().or(self.hostname.as_ref())
    }
}

impl LbEntry for k8s_openapi::api::networking::v1::IngressLoadBalancerIngress {
    fn address(&self) -> Option<&String> {
        self.ip.as_ref().or(self.hostname.as_ref())
    }
}

/// `status.loadBalancer.ingress[].ip|hostname`.
pub(crate) fn lb_addresses<T: LbEntry>(ingress: Option<&[T]>) -> Vec<String> {
    ingress
        .unwrap_or_default()
        .iter()
        .filter_map(LbEntry::address)
        .filter(|a| !a.is_empty())
        .cloned()
        .collect()
}

pub(crate) fn ingress_evidence(i: &Ingress, edit_in_place: bool) -> IngressEvidence {
    let spec = i.spec.as_ref();
    let mut rules = Vec::new();
    for r in spec.and_then(|s| s.rules.as_ref()).into_iter().flatten() {
        let host = r.host.clone().unwrap_or_default();
        for p in r.http.iter().flat_map(|h| h.paths.iter()) {
            let svc = p.backend.service.as_ref();
            rules.push(IngressRuleEvidence {
                host: host.clone(),
                path: p.path.clone().unwrap_or_default(),
                path_type: Some(p.path_type.clone()).filter(|t| !t.is_empty()),
                service: svc.map(|s| s.name.clone()),
                port: svc.and_then(|s| s.port.as_ref()).and_then(|p| p.number),
            });
        }
    }
    let relevant_annotations = i
        .metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(k, _)| {
            RELEVANT_ANNOTATION_SUFFIXES.iter().any(|s| k.ends_with(s)) || k.contains("/auth-")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    IngressEvidence {
        namespace: i.metadata.namespace.clone().unwrap_or_default(),
        name: i.metadata.name.clone().unwrap_or_default(),
        class_name: spec.and_then(|s| s.ingress_class_name.clone()),
        class_annotation: annotation(&i.metadata, "kubernetes.io/ingress.class").map(str::to_owned),
        rules,
        lb_addresses: lb_addresses(
            i.status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_deref()),
        ),
        edit_in_place,
        relevant_annotations,
    }
}

fn route_evidence(r: &HttpRoute) -> RouteEvidence {
    RouteEvidence {
        namespace: r.namespace().to_owned(),
        name: r.name().to_owned(),
        hostnames: r.spec.hostnames.clone(),
        parent_refs: r.spec.parent_refs.clone(),
        parents: r.status.parents.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler32_known_values() {
        assert_eq!(adler32(b"Wikipedia"), 300_286_872);
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"a"), 0x0062_0062);
        assert_eq!(adler32(b"abc"), 0x024d_0127);
        // Long input crosses the 5552-byte reduction boundary.
        let long = vec![0xffu8; 100_000];
        let naive = {
            let (mut a, mut b) = (1u64, 0u64);
            for &x in &long {
                a = (a + u64::from(x)) % 65521;
                b = (b + a) % 65521;
            }
            ((b << 16) | a) as u32
        };
        assert_eq!(adler32(&long), naive);
    }

    #[test]
    fn arg_values() {
        let args: Vec<String> = ["--listen-port=8089", "--domain=www.example.com"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(arg_value(&args, "--domain"), Some("www.example.com"));
        assert_eq!(arg_value(&args, "--token"), None);
    }
}
