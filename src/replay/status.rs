//! What the data plane's controller wrote about a stand-in's route: one GET per Ingress or
//! HTTPRoute after the propagation wait. An HTTPRoute's `status.parents` (Accepted,
//! ResolvedRefs, per Gateway) says whether a Gateway took it — a listener that does not allow
//! the namespace answers `Accepted=False NotAllowedByListeners` there; an Ingress's
//! `status.loadBalancer` says which address its controller serves it on.

use super::apply::kinds;
use super::live::Live;
use super::plan::RouteKind;
use crate::evidence::RouteParentEvidence;
use kube::api::{Api, DynamicObject};
use serde_json::Value;

/// Read every stand-in route's status into `live`. Returns what could not be read (a note per
/// route; the run goes on without it).
pub async fn read_route_status(client: &kube::Client, live: &mut Live) -> Vec<String> {
    let [routes, ingresses, _, _] = kinds();
    let mut notes = Vec::new();
    let ns = live.namespace.clone();
    // One GET per route object: a shared stand-in's route serves many names.
    let mut read: std::collections::HashMap<String, Option<DynamicObject>> =
        std::collections::HashMap::new();
    for s in &mut live.solvers {
        let ar = match s.route_kind {
            RouteKind::Ingress => &ingresses,
            RouteKind::HttpRoute => &routes,
        };
        if !read.contains_key(&s.object_name) {
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, ar);
            let got = match api.get(&s.object_name).await {
                Ok(o) => Some(o),
                Err(e) => {
                    let why = match e {
                        kube::Error::Api(s) => s.message.clone(),
                        other => other.to_string(),
                    };
                    notes.push(format!(
                        "could not read the status of the stand-in {} {ns}/{}: {why}",
                        ar.kind, s.object_name
                    ));
                    None
                }
            };
            read.insert(s.object_name.clone(), got);
        }
        let Some(Some(obj)) = read.get(&s.object_name) else {
            continue;
        };
        match s.route_kind {
            RouteKind::HttpRoute => {
                s.route_parents = obj
                    .data
                    .pointer("/status/parents")
                    .and_then(|p| {
                        serde_json::from_value::<Vec<RouteParentEvidence>>(p.clone()).ok()
                    })
                    .unwrap_or_default();
            }
            RouteKind::Ingress => {
                s.route_lb_addresses = obj
                    .data
                    .pointer("/status/loadBalancer/ingress")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|e| {
                        e.get("ip")
                            .or_else(|| e.get("hostname"))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .collect();
            }
        }
    }
    notes
}
