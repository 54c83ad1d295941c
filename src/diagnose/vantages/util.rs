//! Small facts the cross-vantage rules share: pass/fail counts, who owns a load-balancer
//! address, how a direct probe is worded, where the probe pod and the controller are.

use crate::diagnose::util::outcome_text;
use crate::diagnose::view::Vantages;
use crate::evidence::ClusterEvidence;
use crate::probe::incluster::InCluster;
use crate::probe::plan::{
    AddressReport, DirectResult, ErrorClass, OutcomeCount, ProxySettings, TargetReport,
};
use crate::probe::targets::{SOLVER_LABEL, plane_name};

pub(super) fn passes_all(a: &AddressReport) -> bool {
    a.attempts > 0 && a.cert_manager_passes == a.attempts
}

pub(super) fn count(outcomes: &[OutcomeCount], f: impl Fn(&OutcomeCount) -> bool) -> u32 {
    outcomes.iter().filter(|o| f(o)).map(|o| o.count).sum()
}

/// Could not connect (or got nothing back in time): what a missing hairpin looks like.
pub(super) fn no_connection(o: &OutcomeCount) -> bool {
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
