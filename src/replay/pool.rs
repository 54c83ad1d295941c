//! Shared stand-ins for `kubectl acmecheck renewals --replay` (pure): the per-name stand-ins of
//! every certificate's plan, pooled so that one pod, one Service and one Ingress or HTTPRoute
//! serve many names — bounded by namespaces × distinct solver configurations, not by names.
//!
//! cert-manager's acmesolver serves one name and token per pod, so a shared stand-in runs the
//! plugin's own image (`kubectl-acmecheck solver`, the acmesolver's answers for every name it
//! is given: `src/solver.rs`). Names are pooled when their solver renders the same objects but
//! for the name, token and key — the same `http01` block after the Order's override
//! annotations, so the same pod template, Service type, class and templates:
//!
//! * Ingress solvers (cert-manager creates the Ingress) go to one namespace, the run's: an
//!   Ingress routes by class and host wherever it is, so a Certificate's namespace changes
//!   what only a namespace can change (its NetworkPolicies, quotas, a controller that watches
//!   some namespaces) — said in the report, and `-n NAMESPACE` places them there;
//! * HTTPRoute solvers and edit-in-place Ingress solvers stay in the Certificate's namespace:
//!   a Gateway listener admits routes by namespace, and the user's Ingress is there.
//!
//! A shared stand-in serves at most [`MAX_NAMES_INGRESS`] names through one Ingress, or
//! [`MAX_NAMES_HTTPROUTE`] through one HTTPRoute (the Gateway API allows 16 hostnames).

use super::plan::{Decision, PlanItem, ReplayPlan, RouteKind, StandIn};
use super::{DNS_NAME_ANNOTATION, LISTEN_PORT, SOLVER_LABEL, object_name};
use crate::probe::pod::RUN_ID_LABEL;
use serde_json::{Value, json};

/// Names one shared stand-in with an Ingress serves (its pod's arguments and the Ingress stay
/// a few hundred kilobytes).
pub const MAX_NAMES_INGRESS: usize = 1000;
/// Names one shared stand-in with an HTTPRoute serves: `spec.hostnames` allows 16.
pub const MAX_NAMES_HTTPROUTE: usize = 16;

/// How to pool.
#[derive(Debug, Clone)]
pub struct PoolOptions<'a> {
    /// The run's id: labels and names every shared object.
    pub run_id: &'a str,
    /// Where pooled Ingress solvers' stand-ins go (the run's namespace).
    pub namespace: &'a str,
    /// The plugin's image (it has the `solver` mode).
    pub image: &'a str,
    /// `--image-pull-secret`s for that image (the probe pod's), added to the pod's own.
    pub image_pull_secrets: &'a [String],
}

/// One shared stand-in: a plan whose `shared` objects are created and whose items are the
/// names it serves; `certs[i]` is the index (in the plans given to [`pool`]) of the
/// certificate of `plan.items[i]`.
#[derive(Debug, Clone)]
pub struct Pooled {
    pub plan: ReplayPlan,
    pub certs: Vec<usize>,
}

/// What names must share to share a stand-in: where it goes and the solver's `http01` block.
fn key(plan: &ReplayPlan, s: &StandIn, opts: &PoolOptions) -> (String, String) {
    let edit_in_place = s
        .solver
        .http01
        .as_ref()
        .and_then(|h| h.ingress.as_ref())
        .and_then(|i| i.name.as_deref())
        .is_some_and(|n| !n.is_empty());
    let namespace = if s.route_kind == RouteKind::Ingress && !edit_in_place {
        opts.namespace
    } else {
        plan.namespace.as_str()
    };
    let http01 = serde_json::to_string(&s.solver.http01).unwrap_or_default();
    (namespace.to_owned(), format!("{:?}|{http01}", s.route_kind))
}

/// The names of one shared stand-in: (certificate index, its stand-in).
type Members<'a> = Vec<(usize, &'a StandIn)>;

/// Pool the stand-ins of `plans` (one plan per certificate; skipped names stay in their plan).
pub fn pool(plans: &[ReplayPlan], opts: &PoolOptions) -> Vec<Pooled> {
    // (namespace, configuration) → members (certificate index, stand-in), in first-seen order.
    let mut groups: Vec<((String, String), Members)> = Vec::new();
    for (c, plan) in plans.iter().enumerate() {
        for s in plan.stand_ins() {
            let k = key(plan, s, opts);
            let max = match s.route_kind {
                RouteKind::Ingress => MAX_NAMES_INGRESS,
                RouteKind::HttpRoute => MAX_NAMES_HTTPROUTE,
            };
            match groups
                .iter_mut()
                .rev()
                .find(|(gk, m)| *gk == k && m.len() < max)
            {
                Some((_, members)) => members.push((c, s)),
                None => groups.push((k, vec![(c, s)])),
            }
        }
    }
    groups
        .into_iter()
        .enumerate()
        .filter_map(|(index, ((namespace, _), members))| {
            let template = plans.get(members.first()?.0)?;
            Some(shared(template, &namespace, index, &members, opts))
        })
        .collect()
}

/// The shared stand-in `index` for `members`, in `namespace`.
fn shared(
    template: &ReplayPlan,
    namespace: &str,
    index: usize,
    members: &[(usize, &StandIn)],
    opts: &PoolOptions,
) -> Pooled {
    let name = object_name(opts.run_id, index);
    let names: Vec<&str> = members.iter().map(|(_, s)| s.dns_name.as_str()).collect();
    let patch = |obj: &Value| -> Value {
        let mut o = obj.clone();
        o["metadata"]["name"] = json!(name);
        o["metadata"]["namespace"] = json!(namespace);
        o["metadata"]["labels"][SOLVER_LABEL] = json!(name);
        o["metadata"]["labels"][RUN_ID_LABEL] = json!(opts.run_id);
        o["metadata"]["annotations"][DNS_NAME_ANNOTATION] = json!(names.join(","));
        o
    };
    let first = members.first().map(|(_, s)| *s);
    let mut objects = Vec::new();
    if let Some(first) = first {
        let mut pod = patch(&first.pod);
        pod["spec"]["containers"][0]["image"] = json!(opts.image);
        pod["spec"]["containers"][0]["args"] = json!(solver_args(members));
        if !opts.image_pull_secrets.is_empty() {
            let mut secrets = pod["spec"]["imagePullSecrets"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for name in opts.image_pull_secrets {
                let s = json!({ "name": name });
                if !secrets.contains(&s) {
                    secrets.push(s);
                }
            }
            pod["spec"]["imagePullSecrets"] = json!(secrets);
        }
        let mut service = patch(&first.service);
        service["spec"]["selector"] = json!({SOLVER_LABEL: name, RUN_ID_LABEL: opts.run_id});
        let mut route = patch(&first.route);
        route["spec"] = match first.route_kind {
            RouteKind::Ingress => ingress_spec(&first.route, &name, members),
            RouteKind::HttpRoute => http_route_spec(&first.route, &name, namespace, members),
        };
        objects = vec![pod, service, route];
    }
    let items = members
        .iter()
        .enumerate()
        .map(|(i, (_, s))| {
            let mut m = (*s).clone();
            m.object_name.clone_from(&name);
            m.challenge_name = format!("{name}-{i}");
            PlanItem {
                name: s.dns_name.clone(),
                decision: Decision::Replay(Box::new(m)),
            }
        })
        .collect();
    let mut settings = template.settings.clone();
    settings.image = Some(opts.image.to_owned());
    Pooled {
        plan: ReplayPlan {
            namespace: namespace.to_owned(),
            subject: format!("{} name(s) ({name})", members.len()),
            run_id: opts.run_id.to_owned(),
            deadline_at: template.deadline_at.clone(),
            settings,
            items,
            shared: objects,
        },
        certs: members.iter().map(|(c, _)| *c).collect(),
    }
}

/// `kubectl-acmecheck solver` arguments: every member's name, token and key.
fn solver_args(members: &[(usize, &StandIn)]) -> Vec<String> {
    let mut args = vec!["solver".to_owned(), format!("--listen-port={LISTEN_PORT}")];
    args.extend(
        members
            .iter()
            .map(|(_, s)| format!("--serve={}/{}/{}", s.dns_name, s.token, s.key)),
    );
    args
}

/// Every member's Ingress rule (its host and path), to the shared Service.
fn ingress_spec(first: &Value, name: &str, members: &[(usize, &StandIn)]) -> Value {
    let mut spec = first.get("spec").cloned().unwrap_or_else(|| json!({}));
    let rules: Vec<Value> = members
        .iter()
        .filter_map(|(_, s)| s.route.pointer("/spec/rules/0").cloned())
        .map(|mut r| {
            if let Some(paths) = r.pointer_mut("/http/paths").and_then(Value::as_array_mut) {
                for p in paths {
                    p["backend"]["service"]["name"] = json!(name);
                }
            }
            r
        })
        .collect();
    spec["rules"] = json!(rules);
    spec
}

/// One rule matching every member's path, every member's hostname, to the shared Service.
fn http_route_spec(
    first: &Value,
    name: &str,
    namespace: &str,
    members: &[(usize, &StandIn)],
) -> Value {
    let mut spec = first.get("spec").cloned().unwrap_or_else(|| json!({}));
    let mut hostnames: Vec<Value> = Vec::new();
    let mut matches: Vec<Value> = Vec::new();
    for (_, s) in members {
        for h in s
            .route
            .pointer("/spec/hostnames")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !hostnames.contains(h) {
                hostnames.push(h.clone());
            }
        }
        matches.extend(
            s.route
                .pointer("/spec/rules/0/matches")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .cloned(),
        );
    }
    if !hostnames.is_empty() {
        spec["hostnames"] = json!(hostnames);
    }
    let backend = json!([{
        "group": "", "kind": "Service", "name": name,
        "namespace": namespace, "port": LISTEN_PORT, "weight": 1,
    }]);
    spec["rules"] = json!([{"matches": matches, "backendRefs": backend}]);
    spec
}

#[cfg(test)]
pub(crate) mod tests;
