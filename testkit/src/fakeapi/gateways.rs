//! A stand-in for a Gateway API controller, behind
//! [`FakeApi::enable_gateway_controller`](super::FakeApi::enable_gateway_controller): what a
//! real one (Cilium, Envoy Gateway, …) writes into an HTTPRoute's `status.parents` once it has
//! looked at the route, so that tests see the status a cluster would show.
//!
//! For every HTTPRoute without `status.parents`, each `parentRef` of kind Gateway (the default)
//! whose Gateway exists gets one entry with `controllerName` and two conditions, after the Gateway
//! API's rules (gateway.networking.k8s.io/v1 `ListenerConditionReason`, `RouteConditionReason`):
//! * `Accepted`: a listener that matches the ref's `sectionName`/`port`, speaks HTTP or HTTPS,
//!   allows the route's namespace (`allowedRoutes.namespaces.from`: `Same` — the default —,
//!   `All`, or `Selector` with `matchLabels` on the Namespace's labels) and, when it has a
//!   hostname, matches one of the route's hostnames (`*.` wildcards) → `True/Accepted`; else
//!   `False/NotAllowedByListeners` (or `NoMatchingListenerHostname`);
//! * `ResolvedRefs`: every backendRef Service exists in its namespace → `True/ResolvedRefs`,
//!   else `False/BackendNotFound`.
//!
//! Routes are reconciled once (a route that has status is left alone). Parents that do not
//! exist get no entry, as real controllers only report for Gateways they own.

use std::sync::Arc;

use serde_json::{Value, json};

use super::server::{Shared, lock};
use super::store::{Store, UpdateMode};
use super::util;

const GW_API: &str = "gateway.networking.k8s.io/v1";

fn s(v: &Value, p: &str) -> String {
    v.pointer(p)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Does a listener hostname (`*.example.com` or exact) match a route hostname?
fn host_matches(listener: &str, route: &str) -> bool {
    match listener.strip_prefix("*.") {
        Some(suffix) => route
            .strip_suffix(suffix)
            .is_some_and(|p| p.ends_with('.') && p.len() > 1),
        None => listener.eq_ignore_ascii_case(route),
    }
}

fn namespace_labels(st: &Store, ns: &str) -> serde_json::Map<String, Value> {
    st.find_kind("v1", "Namespace")
        .and_then(|r| st.get(r, "", ns))
        .and_then(|n| {
            n.pointer("/metadata/labels")
                .and_then(Value::as_object)
                .cloned()
        })
        .unwrap_or_default()
}

/// `Accepted` for one parent: (status, reason, message).
fn accepted(st: &Store, gw: &Value, parent: &Value, route: &Value) -> (bool, &'static str, String) {
    let route_ns = s(route, "/metadata/namespace");
    let gw_ns = s(gw, "/metadata/namespace");
    let section = parent.get("sectionName").and_then(Value::as_str);
    let port = parent.get("port").and_then(Value::as_i64);
    let hostnames: Vec<String> = route
        .pointer("/spec/hostnames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|h| h.as_str().map(str::to_owned))
        .collect();
    let mut hostname_miss = false;
    let listeners = gw
        .pointer("/spec/listeners")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for l in &listeners {
        if section.is_some_and(|sn| Some(sn) != l.get("name").and_then(Value::as_str))
            || port.is_some_and(|p| Some(p) != l.get("port").and_then(Value::as_i64))
        {
            continue;
        }
        let protocol = s(l, "/protocol");
        if protocol != "HTTP" && protocol != "HTTPS" {
            continue;
        }
        let from = l
            .pointer("/allowedRoutes/namespaces/from")
            .and_then(Value::as_str)
            .unwrap_or("Same");
        let allowed = match from {
            "All" => true,
            "Selector" => {
                let labels = namespace_labels(st, &route_ns);
                l.pointer("/allowedRoutes/namespaces/selector/matchLabels")
                    .and_then(Value::as_object)
                    .is_some_and(|want| want.iter().all(|(k, v)| labels.get(k) == Some(v)))
            }
            _ => route_ns == gw_ns,
        };
        if !allowed {
            continue;
        }
        if let Some(h) = l.get("hostname").and_then(Value::as_str)
            && !hostnames.is_empty()
            && !hostnames.iter().any(|r| host_matches(h, r))
        {
            hostname_miss = true;
            continue;
        }
        return (true, "Accepted", "Accepted HTTPRoute".to_owned());
    }
    if hostname_miss {
        (
            false,
            "NoMatchingListenerHostname",
            "No matching listener hostname".to_owned(),
        )
    } else {
        (
            false,
            "NotAllowedByListeners",
            format!(
                "HTTPRoute is not allowed to attach to the Gateway {gw_ns}/{}: no listener allows routes from namespace {route_ns:?}",
                s(gw, "/metadata/name")
            ),
        )
    }
}

fn resolved(st: &Store, route: &Value) -> (bool, &'static str, String) {
    let ns = s(route, "/metadata/namespace");
    let services = st.find_kind("v1", "Service");
    for rule in route
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for b in rule
            .get("backendRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = s(b, "/name");
            let bns = b
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or(&ns)
                .to_owned();
            if services.is_none_or(|r| st.get(r, &bns, &name).is_none()) {
                return (
                    false,
                    "BackendNotFound",
                    format!("Service {bns}/{name} not found"),
                );
            }
        }
    }
    (
        true,
        "ResolvedRefs",
        "Resolved all the Object references for the Route".to_owned(),
    )
}

fn condition(
    t: &str,
    (ok, reason, message): (bool, &str, String),
    generation: i64,
    now: &str,
) -> Value {
    json!({"type": t, "status": if ok { "True" } else { "False" }, "reason": reason,
        "message": message, "observedGeneration": generation, "lastTransitionTime": now})
}

/// Write status into every HTTPRoute that has none. Returns whether anything changed.
fn reconcile(st: &mut Store, controller: &str) -> bool {
    let (Some(routes), Some(gateways)) = (
        st.find_kind(GW_API, "HTTPRoute"),
        st.find_kind(GW_API, "Gateway"),
    ) else {
        return false;
    };
    let mut changed = false;
    for route in st.list(routes, None, None) {
        let has_status = route
            .pointer("/status/parents")
            .and_then(Value::as_array)
            .is_some_and(|p| !p.is_empty());
        if has_status || route.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let route_ns = s(&route, "/metadata/namespace");
        let generation = route
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let now = util::now_rfc3339();
        let mut parents = Vec::new();
        for p in route
            .pointer("/spec/parentRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if p.get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k != "Gateway")
            {
                continue;
            }
            let gw_ns = p
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or(&route_ns);
            let Some(gw) = st.get(gateways, gw_ns, &s(p, "/name")) else {
                continue;
            };
            parents.push(json!({
                "parentRef": p,
                "controllerName": controller,
                "conditions": [
                    condition("Accepted", accepted(st, &gw, p, &route), generation, &now),
                    condition("ResolvedRefs", resolved(st, &route), generation, &now),
                ],
            }));
        }
        if parents.is_empty() {
            continue;
        }
        let mut new = (*route).clone();
        new["status"] = json!({"parents": parents});
        let name = s(&route, "/metadata/name");
        if st
            .update(routes, &route_ns, &name, new, UpdateMode::Whole, false)
            .is_ok()
        {
            changed = true;
        }
    }
    changed
}

/// The controller's loop: reconcile on every change of the store.
pub async fn run(shared: Arc<Shared>, controller: String) {
    let mut rx = shared.tick.subscribe();
    loop {
        rx.borrow_and_update();
        let changed = reconcile(&mut lock(&shared.store), &controller);
        if changed {
            shared.notify();
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_hostnames() {
        assert!(host_matches("*.example.com", "shop.example.com"));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(host_matches("shop.example.com", "SHOP.example.com"));
        assert!(!host_matches("shop.example.com", "www.example.com"));
    }
}
