//! The pure half of gather: [`Snapshot`] in, evidence out. No I/O.
//!
//! Links objects exactly as cert-manager (and cmctl) do:
//! Certificate → CertificateRequest (controller ownerRef UID + `cert-manager.io/certificate-revision`
//! == `status.revision + 1`) → Order (controller ownerRef) → Challenges (controller ownerRef) →
//! solver Pods/Services/Ingresses (identity labels + controller ownerRef UID == Challenge UID),
//! HTTPRoutes (identity labels only), and the edit-in-place Ingress by name.

use super::cluster;
use super::fetch::{SOLVER_LABEL, Scope, Snapshot};
use super::suggest::identity_label;
use super::types::{
    self, Certificate, CertificateRequest, Challenge, DecodeError, HttpRoute, Issuer, Kind, Order,
    RawMeta,
};
use crate::error::UserError;
use crate::evidence::*;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

pub const DOMAIN_LABEL: &str = "acme.cert-manager.io/http-domain";
pub const TOKEN_LABEL: &str = "acme.cert-manager.io/http-token";
pub const REVISION_ANNOTATION: &str = "cert-manager.io/certificate-revision";
pub const CHALLENGE_PATH: &str = "/.well-known/acme-challenge/";

/// A raw object with its leniently-read identity.
pub(crate) struct Raw<'a> {
    pub meta: RawMeta,
    pub value: &'a Value,
}

pub(crate) fn raws(values: &[Value]) -> Vec<Raw<'_>> {
    values
        .iter()
        .map(|value| Raw {
            meta: RawMeta::of(value),
            value,
        })
        .collect()
}

/// Index of objects by the UID of their controller.
fn by_controller<'a, 'b>(objs: &'b [Raw<'a>]) -> HashMap<&'b str, Vec<&'b Raw<'a>>> {
    let mut m: HashMap<&str, Vec<&Raw>> = HashMap::new();
    for o in objs {
        if let Some((_, uid)) = &o.meta.controller {
            m.entry(uid.as_str()).or_default().push(o);
        }
    }
    m
}

/// A decoded optional object (built-in or Gateway API); malformed ones are skipped with a note.
pub(crate) struct Typed<T> {
    pub meta: RawMeta,
    pub obj: T,
}

pub(crate) fn decode_all<T: serde::de::DeserializeOwned>(
    kind: &Kind,
    values: &[Value],
    notes: &mut Vec<String>,
) -> Vec<Typed<T>> {
    values
        .iter()
        .filter_map(|v| match types::decode::<T>(kind.kind, v) {
            Ok(obj) => Some(Typed {
                meta: RawMeta::of(v),
                obj,
            }),
            Err(e) => {
                notes.push(format!("skipped {e}"));
                None
            }
        })
        .collect()
}

/// A malformed object on the chain stops the run, naming the object and the field.
fn malformed(kind: &Kind, e: DecodeError, meta: &RawMeta) -> UserError {
    let ns = if meta.namespace.is_empty() {
        String::new()
    } else {
        format!(" -n {}", meta.namespace)
    };
    UserError::new(format!("{} is malformed", e.object))
        .why(format!("field {}: {}", e.field, e.message))
        .hint(format!(
            "it does not have the shape cert-manager writes; look at it with: kubectl get {} {}{ns} -o yaml",
            kind.resource_name(),
            meta.name
        ))
}

fn decode_chain<T: serde::de::DeserializeOwned>(kind: &Kind, raw: &Raw) -> Result<T, UserError> {
    types::decode::<T>(kind.kind, raw.value).map_err(|e| malformed(kind, e, &raw.meta))
}

/// Everything assemble reads from, decoded and indexed once.
pub(crate) struct Ctx {
    pub pods: Vec<Typed<Pod>>,
    pub services: Vec<Typed<Service>>,
    pub ingresses: Vec<Typed<Ingress>>,
    pub routes: Vec<Typed<HttpRoute>>,
    pub notes: Vec<String>,
}

/// Snapshot → evidence. Pure: the same snapshot always gives the same evidence.
///
/// Fails only for problems on the chain itself (a selected Certificate, or a CertificateRequest,
/// Order or Challenge that belongs to it, is malformed). Malformed context objects are skipped
/// and listed in `ClusterEvidence::unreadable`.
pub fn assemble(snap: &Snapshot) -> Result<(Vec<CertificateEvidence>, ClusterEvidence), UserError> {
    let mut notes = Vec::new();
    let ctx = Ctx {
        pods: decode_all(&types::PODS, &snap.pods, &mut notes),
        services: decode_all(&types::SERVICES, &snap.services, &mut notes),
        ingresses: decode_all(&types::INGRESSES, &snap.ingresses, &mut notes),
        routes: decode_all(&types::HTTP_ROUTES, &snap.http_routes, &mut notes),
        notes: Vec::new(),
    };
    let mut cluster_ev = cluster::cluster_evidence(snap, &ctx, &mut notes);

    let certs = raws(&snap.certificates);
    let crs = raws(&snap.certificate_requests);
    let orders = raws(&snap.orders);
    let challenges = raws(&snap.challenges);
    let crs_by_owner = by_controller(&crs);
    let orders_by_owner = by_controller(&orders);
    let challenges_by_owner = by_controller(&challenges);
    let issuers = raws(&snap.issuers);
    let cluster_issuers = raws(&snap.cluster_issuers);
    let links = Links {
        crs: &crs_by_owner,
        orders: &orders_by_owner,
        challenges: &challenges_by_owner,
        issuers: &issuers,
        cluster_issuers: &cluster_issuers,
    };

    let mut out = Vec::new();
    for raw in certs.iter().filter(|c| selected(&snap.scope, &c.meta)) {
        let cert: Certificate = decode_chain(&types::CERTIFICATES, raw)?;
        if snap.scope.all && snap.scope.names.is_empty() && is_ready(&cert) {
            continue;
        }
        out.push(certificate_evidence(raw, &cert, &links, snap, &ctx)?);
    }
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));

    let mut unreadable = snap.unreadable.clone();
    unreadable.extend(notes);
    unreadable.extend(ctx.notes);
    cluster_ev.unreadable = unreadable;
    Ok((out, cluster_ev))
}

struct Links<'a, 'b> {
    crs: &'b HashMap<&'b str, Vec<&'b Raw<'a>>>,
    orders: &'b HashMap<&'b str, Vec<&'b Raw<'a>>>,
    challenges: &'b HashMap<&'b str, Vec<&'b Raw<'a>>>,
    issuers: &'b [Raw<'a>],
    cluster_issuers: &'b [Raw<'a>],
}

fn selected(scope: &Scope, meta: &RawMeta) -> bool {
    let ns_ok =
        scope.all_namespaces || meta.namespace == scope.namespace || meta.namespace.is_empty();
    let name_ok = scope.names.is_empty() || scope.names.contains(&meta.name);
    ns_ok && name_ok
}

fn is_ready(cert: &Certificate) -> bool {
    cert.status
        .as_ref()
        .and_then(|s| condition(&s.conditions, "Ready"))
        .is_some_and(|c| c.status == "True")
}

fn certificate_evidence(
    raw: &Raw,
    cert: &Certificate,
    links: &Links,
    snap: &Snapshot,
    ctx: &Ctx,
) -> Result<CertificateEvidence, UserError> {
    let status = cert.status.clone().unwrap_or_default();
    let mut ev = CertificateEvidence {
        namespace: raw.meta.namespace.clone(),
        name: raw.meta.name.clone(),
        uid: raw.meta.uid.clone(),
        dns_names: cert.spec.dns_names.clone(),
        ip_addresses: cert.spec.ip_addresses.clone(),
        common_name: cert.spec.common_name.clone(),
        secret_name: cert.spec.secret_name.clone(),
        issuer_ref: cert.spec.issuer_ref.clone(),
        labels: raw.meta.labels.clone(),
        conditions: status.conditions.clone(),
        revision: status.revision,
        last_failure_time: status.last_failure_time.clone(),
        failed_issuance_attempts: status.failed_issuance_attempts,
        not_after: status.not_after.clone(),
        renewal_time: status.renewal_time.clone(),
        ..Default::default()
    };
    let (issuer, problem) =
        issuer_evidence(&raw.meta.namespace, &cert.spec.issuer_ref, links, snap);
    ev.issuer = issuer;
    ev.issuer_problem = problem;

    // The issuance in flight: the CR for revision status.revision + 1.
    let next = status.revision.unwrap_or(0) + 1;
    let mut candidates: Vec<&Raw> = links
        .crs
        .get(raw.meta.uid.as_str())
        .map(|v| {
            v.iter()
                .copied()
                .filter(|cr| revision_of(&cr.meta) == Some(next))
                .collect()
        })
        .unwrap_or_default();
    sort_newest_first(&mut candidates);
    let Some(cr_raw) = candidates.first() else {
        return Ok(ev);
    };
    ev.duplicate_requests = candidates[1..]
        .iter()
        .map(|c| c.meta.name.clone())
        .collect();
    let cr: CertificateRequest = decode_chain(&types::CERTIFICATE_REQUESTS, cr_raw)?;
    let cr_status = cr.status.unwrap_or_default();
    ev.request = Some(RequestEvidence {
        name: cr_raw.meta.name.clone(),
        uid: cr_raw.meta.uid.clone(),
        revision: revision_of(&cr_raw.meta),
        conditions: cr_status.conditions,
        failure_time: cr_status.failure_time,
    });

    let mut orders: Vec<&Raw> = links
        .orders
        .get(cr_raw.meta.uid.as_str())
        .cloned()
        .unwrap_or_default();
    sort_newest_first(&mut orders);
    let Some(order_raw) = orders.first() else {
        return Ok(ev);
    };
    let order: Order = decode_chain(&types::ORDERS, order_raw)?;
    let ost = order.status.unwrap_or_default();
    ev.order = Some(OrderEvidence {
        name: order_raw.meta.name.clone(),
        uid: order_raw.meta.uid.clone(),
        state: ost.state.unwrap_or_default(),
        reason: ost.reason.filter(|r| !r.is_empty()),
        url: ost.url,
        failure_time: ost.failure_time,
        authorizations: ost
            .authorizations
            .into_iter()
            .map(|a| AuthorizationEvidence {
                url: a.url,
                identifier: a.identifier,
                wildcard: a.wildcard.unwrap_or(false),
                initial_state: a.initial_state,
                challenge_types: a.challenges.into_iter().map(|c| c.type_).collect(),
            })
            .collect(),
    });

    let owned = links
        .challenges
        .get(order_raw.meta.uid.as_str())
        .cloned()
        .unwrap_or_default();
    for ch_raw in owned {
        let ch: Challenge = decode_chain(&types::CHALLENGES, ch_raw)?;
        ev.challenges.push(challenge_evidence(ch_raw, ch, ctx));
    }
    ev.challenges.sort_by(|a, b| {
        (&a.dns_name, a.wildcard, &a.name).cmp(&(&b.dns_name, b.wildcard, &b.name))
    });
    Ok(ev)
}

fn revision_of(meta: &RawMeta) -> Option<i64> {
    meta.annotations
        .get(REVISION_ANNOTATION)
        .and_then(|r| r.trim().parse().ok())
}

/// Newest first (RFC 3339 timestamps sort as strings), then by name for a stable order.
fn sort_newest_first(v: &mut [&Raw]) {
    v.sort_by(|a, b| {
        b.meta
            .creation_timestamp
            .cmp(&a.meta.creation_timestamp)
            .then_with(|| a.meta.name.cmp(&b.meta.name))
    });
}

fn issuer_evidence(
    namespace: &str,
    r: &IssuerRef,
    links: &Links,
    snap: &Snapshot,
) -> (Option<IssuerEvidence>, Option<String>) {
    if let Some(group) = r
        .group
        .as_deref()
        .filter(|g| !g.is_empty() && *g != "cert-manager.io")
    {
        return (
            None,
            Some(format!(
                "issuerRef points at an external issuer ({group}/{}), not a cert-manager ACME Issuer; it is not checked",
                r.kind_or_default()
            )),
        );
    }
    let cluster = r.is_cluster_issuer();
    let key = if cluster {
        format!("ClusterIssuer {}", r.name)
    } else {
        format!("Issuer {namespace}/{}", r.name)
    };
    let (list, kind) = if cluster {
        (links.cluster_issuers, &types::CLUSTER_ISSUERS)
    } else {
        (links.issuers, &types::ISSUERS)
    };
    let found = list
        .iter()
        .find(|i| i.meta.name == r.name && (cluster || i.meta.namespace == namespace));
    let Some(raw) = found else {
        let why = snap
            .issuer_problems
            .get(&key)
            .cloned()
            .unwrap_or_else(|| format!("{key} not found"));
        return (None, Some(why));
    };
    match types::decode::<Issuer>(kind.kind, raw.value) {
        Ok(iss) => {
            let status = iss.status.unwrap_or_default();
            let ev = IssuerEvidence {
                kind: kind.kind.to_string(),
                name: raw.meta.name.clone(),
                namespace: (!cluster).then(|| raw.meta.namespace.clone()),
                conditions: status.conditions,
                acme: iss.spec.acme,
            };
            let problem = ev
                .acme
                .is_none()
                .then(|| format!("{key} is not an ACME issuer (no spec.acme)"));
            (Some(ev), problem)
        }
        Err(e) => (None, Some(e.to_string())),
    }
}

// ---------------------------------------------------------------------------------------------
// Challenges and their solver resources
// ---------------------------------------------------------------------------------------------

fn challenge_evidence(raw: &Raw, ch: Challenge, ctx: &Ctx) -> ChallengeEvidence {
    let st = ch.status.unwrap_or_default();
    let spec = ch.spec;
    let ns = raw.meta.namespace.as_str();
    let uid = raw.meta.uid.as_str();
    let identity: BTreeMap<String, String> = [
        (SOLVER_LABEL.to_string(), "true".to_string()),
        (DOMAIN_LABEL.to_string(), identity_label(&spec.dns_name)),
        (TOKEN_LABEL.to_string(), identity_label(&spec.token)),
    ]
    .into();
    let ours = |m: &RawMeta| m.namespace == ns && m.has_labels(&identity) && m.controlled_by(uid);

    let solver_pods: Vec<PodEvidence> = ctx
        .pods
        .iter()
        .filter(|p| ours(&p.meta))
        .map(|p| pod_evidence(p, Some((&spec.dns_name, &spec.token, &spec.key))))
        .collect();
    let solver_services: Vec<ServiceEvidence> = ctx
        .services
        .iter()
        .filter(|s| ours(&s.meta))
        .map(|s| service_evidence(s, Some(&ctx.pods)))
        .collect();
    let mut solver_ingresses: Vec<IngressEvidence> = ctx
        .ingresses
        .iter()
        .filter(|i| ours(&i.meta))
        .map(|i| ingress_evidence(i, None))
        .collect();
    let edit_name = spec
        .solver
        .http01
        .as_ref()
        .and_then(|h| h.ingress.as_ref())
        .and_then(|i| i.name.clone())
        .filter(|n| !n.is_empty());
    if let Some(name) = edit_name
        && let Some(ing) = ctx
            .ingresses
            .iter()
            .find(|i| i.meta.namespace == ns && i.meta.name == name)
    {
        solver_ingresses.push(ingress_evidence(ing, Some(&spec.dns_name)));
    }
    let solver_routes: Vec<RouteEvidence> = ctx
        .routes
        .iter()
        .filter(|r| r.meta.namespace == ns && r.meta.has_labels(&identity))
        .map(route_evidence)
        .collect();

    ChallengeEvidence {
        name: raw.meta.name.clone(),
        uid: uid.to_string(),
        dns_name: spec.dns_name,
        wildcard: spec.wildcard,
        type_: spec.type_,
        token: spec.token,
        key: spec.key,
        url: spec.url,
        authorization_url: spec.authorization_url,
        solver: spec.solver,
        processing: st.processing,
        presented: st.presented,
        presented_at: st.presented_at,
        state: st.state.unwrap_or_default(),
        reason: st.reason.filter(|r| !r.is_empty()),
        creation_timestamp: raw.meta.creation_timestamp.clone(),
        solver_pods,
        solver_services,
        solver_ingresses,
        solver_routes,
    }
}

/// The value of `--name=value` or `--name value` in an argument list.
pub(crate) fn flag_value<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix(name) {
            if let Some(v) = v.strip_prefix('=') {
                return Some(v);
            }
            if v.is_empty() {
                return it
                    .next()
                    .map(String::as_str)
                    .filter(|n| !n.starts_with("--"))
                    .or(Some(""));
            }
        }
    }
    None
}

/// `expect`: the Challenge's `(dnsName, token, key)` to compare with the solver's args.
pub(crate) fn pod_evidence(p: &Typed<Pod>, expect: Option<(&str, &str, &str)>) -> PodEvidence {
    let spec = p.obj.spec.clone().unwrap_or_default();
    let status = p.obj.status.clone().unwrap_or_default();
    let container = spec
        .containers
        .iter()
        .find(|c| c.name == "acmesolver")
        .or_else(|| spec.containers.first());
    let statuses = status.container_statuses.clone().unwrap_or_default();
    let cstatus = container
        .and_then(|c| statuses.iter().find(|s| s.name == c.name))
        .or_else(|| statuses.first());
    let waiting = statuses
        .iter()
        .filter_map(|s| s.state.as_ref().and_then(|st| st.waiting.clone()))
        .next();
    let conds = status.conditions.clone().unwrap_or_default();
    let cond = |t: &str| conds.iter().find(|c| c.type_ == t);
    let unschedulable = cond("PodScheduled")
        .filter(|c| c.status == "False")
        .map(|c| {
            c.message
                .clone()
                .or(c.reason.clone())
                .unwrap_or_else(|| "not scheduled".into())
        });
    let args: Vec<String> = container.and_then(|c| c.args.clone()).unwrap_or_default();
    let args_match = match expect {
        Some((domain, token, key)) => {
            flag_value(&args, "--domain") == Some(domain)
                && flag_value(&args, "--token") == Some(token)
                && flag_value(&args, "--key") == Some(key)
        }
        None => true,
    };
    PodEvidence {
        namespace: p.meta.namespace.clone(),
        name: p.meta.name.clone(),
        phase: status.phase.clone().unwrap_or_default(),
        ready: cond("Ready").is_some_and(|c| c.status == "True"),
        node_name: spec.node_name.clone(),
        pod_ip: status.pod_ip.clone(),
        image: container.and_then(|c| c.image.clone()),
        waiting_reason: waiting.as_ref().and_then(|w| w.reason.clone()),
        waiting_message: waiting.as_ref().and_then(|w| w.message.clone()),
        unschedulable_message: unschedulable,
        restart_count: cstatus.map(|s| s.restart_count).unwrap_or(0),
        args_match,
    }
}

/// `pods`: when given, endpoints are computed from the pods matching the selector the way the
/// endpoints controller does (non-terminal pods with an IP; ready ones are ready endpoints).
pub(crate) fn service_evidence(s: &Typed<Service>, pods: Option<&[Typed<Pod>]>) -> ServiceEvidence {
    let spec = s.obj.spec.clone().unwrap_or_default();
    let selector = spec.selector.clone().unwrap_or_default();
    let mut lb: Vec<String> = s
        .obj
        .status
        .as_ref()
        .and_then(|st| st.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| i.ip.or(i.hostname))
        .collect();
    lb.extend(spec.external_ips.clone().unwrap_or_default());
    let mut ev = ServiceEvidence {
        namespace: s.meta.namespace.clone(),
        name: s.meta.name.clone(),
        type_: spec.type_.clone().unwrap_or_else(|| "ClusterIP".into()),
        cluster_ip: spec.cluster_ip.clone().filter(|ip| !ip.is_empty()),
        ports: spec
            .ports
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|p| ServicePortEvidence {
                name: p.name,
                port: p.port,
                target_port: p.target_port.map(|t| match t {
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => {
                        i.to_string()
                    }
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s,
                }),
                node_port: p.node_port,
                protocol: p.protocol.unwrap_or_else(|| "TCP".into()),
            })
            .collect(),
        lb_addresses: lb,
        external_traffic_policy: spec.external_traffic_policy.clone(),
        selector: selector.clone(),
        ..Default::default()
    };
    match pods {
        Some(pods) if !selector.is_empty() => {
            for p in pods
                .iter()
                .filter(|p| p.meta.namespace == ev.namespace && p.meta.has_labels(&selector))
            {
                let pe = pod_evidence(p, None);
                let terminal = pe.phase == "Succeeded" || pe.phase == "Failed";
                let Some(ip) = pe.pod_ip.filter(|ip| !ip.is_empty() && !terminal) else {
                    continue;
                };
                if pe.ready {
                    ev.ready_endpoints += 1;
                    ev.endpoint_addresses.push(ip);
                } else {
                    ev.not_ready_endpoints += 1;
                }
            }
        }
        _ => ev.endpoints_unknown = true,
    }
    ev
}

/// Annotation names (after the `prefix/`) that change how a challenge path is served.
const RELEVANT_ANNOTATIONS: &[&str] = &[
    "ssl-redirect",
    "force-ssl-redirect",
    "whitelist-source-range",
    "allowlist-source-range",
    "denylist-source-range",
    "rewrite-target",
    "use-regex",
    "backend-protocol",
    "use-proxy-protocol",
    "permanent-redirect",
    "temporal-redirect",
    "app-root",
    "configuration-snippet",
    "server-snippet",
    "router.middlewares",
    "router.entrypoints",
    "router.tls",
    "allow-http",
];

fn relevant(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.starts_with("auth-") || RELEVANT_ANNOTATIONS.contains(&name)
}

/// `only_host`: for an edited-in-place Ingress, keep only the rules for the challenge's host.
pub(crate) fn ingress_evidence(i: &Typed<Ingress>, only_host: Option<&str>) -> IngressEvidence {
    let spec = i.obj.spec.clone().unwrap_or_default();
    let mut rules = Vec::new();
    for rule in spec.rules.clone().unwrap_or_default() {
        let host = rule.host.clone().unwrap_or_default();
        if only_host.is_some_and(|h| h != host) {
            continue;
        }
        for path in rule.http.map(|h| h.paths).unwrap_or_default() {
            let svc = path.backend.service;
            rules.push(IngressRuleEvidence {
                host: host.clone(),
                path: path.path.unwrap_or_default(),
                path_type: Some(path.path_type).filter(|p| !p.is_empty()),
                service: svc.as_ref().map(|s| s.name.clone()),
                port: svc.and_then(|s| s.port).and_then(|p| p.number),
            });
        }
    }
    IngressEvidence {
        namespace: i.meta.namespace.clone(),
        name: i.meta.name.clone(),
        class_name: spec.ingress_class_name.clone(),
        class_annotation: i
            .meta
            .annotations
            .get("kubernetes.io/ingress.class")
            .cloned(),
        rules,
        lb_addresses: i
            .obj
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.clone())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|x| x.ip.or(x.hostname))
            .collect(),
        edit_in_place: only_host.is_some(),
        relevant_annotations: i
            .meta
            .annotations
            .iter()
            .filter(|(k, _)| relevant(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn route_evidence(r: &Typed<HttpRoute>) -> RouteEvidence {
    RouteEvidence {
        namespace: r.meta.namespace.clone(),
        name: r.meta.name.clone(),
        hostnames: r.obj.spec.hostnames.clone(),
        parent_refs: r.obj.spec.parent_refs.clone(),
        parents: r
            .obj
            .status
            .clone()
            .unwrap_or_default()
            .parents
            .into_iter()
            .map(|p| RouteParentEvidence {
                parent_ref: p.parent_ref,
                controller_name: p.controller_name,
                conditions: p.conditions,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_in_both_forms() {
        let args: Vec<String> = [
            "--listen-port=8089",
            "--domain=a.example",
            "--token",
            "tok",
            "--key=k.t",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(flag_value(&args, "--domain"), Some("a.example"));
        assert_eq!(flag_value(&args, "--token"), Some("tok"));
        assert_eq!(flag_value(&args, "--key"), Some("k.t"));
        assert_eq!(flag_value(&args, "--nope"), None);
        let args = vec!["--enable-gateway-api".to_string()];
        assert_eq!(flag_value(&args, "--enable-gateway-api"), Some(""));
    }

    #[test]
    fn relevant_annotations() {
        assert!(relevant("nginx.ingress.kubernetes.io/ssl-redirect"));
        assert!(relevant("nginx.ingress.kubernetes.io/auth-url"));
        assert!(relevant("traefik.ingress.kubernetes.io/router.middlewares"));
        assert!(!relevant("kubernetes.io/ingress.class"));
        assert!(!relevant("meta.helm.sh/release-name"));
    }
}
