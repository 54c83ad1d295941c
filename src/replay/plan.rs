//! [`plan`]: for every name, the stand-in cert-manager's solver would be, or why there is none
//! (pure, apart from drawing random tokens when asked to).

use super::creds::Credentials;
pub use super::input::ReplayInput;
use super::render::{self, Target};
use super::select;
use super::settings::SolverSettings;
use super::{guard, object_name, route};
use crate::evidence::{ClusterEvidence, Solver};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// Where tokens and keys come from.
#[derive(Debug, Clone, Default)]
pub enum CredentialSource {
    /// A fresh pair per stand-in from the system's CSPRNG.
    #[default]
    Random,
    /// Given pairs by name (tests, reproducible dry runs); names without one get a random pair.
    Fixed(BTreeMap<String, Credentials>),
}

/// How to plan.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Labels every object; part of every object name.
    pub run_id: String,
    /// Now, in seconds since the epoch (for the deadline annotation).
    pub now_unix: i64,
    /// Lifetime of the stand-ins: the pod's `activeDeadlineSeconds` and the deadline annotation.
    pub deadline: Duration,
    /// An acmesolver image that replaces the controller's (mirrors, air-gapped clusters).
    pub solver_image: Option<String>,
    pub credentials: CredentialSource,
}

/// The plan for one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayPlan {
    pub namespace: String,
    pub subject: String,
    pub run_id: String,
    /// The deadline annotation's value.
    pub deadline_at: String,
    pub settings: SolverSettings,
    pub items: Vec<PlanItem>,
    /// A shared stand-in's objects (pod, Service, Ingress/HTTPRoute; see [`super::pool`]):
    /// created instead of each item's own, which then only describe the item's name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<Value>,
}

impl ReplayPlan {
    /// The stand-ins to create, in item order.
    pub fn stand_ins(&self) -> impl Iterator<Item = &StandIn> {
        self.items.iter().filter_map(|i| match &i.decision {
            Decision::Replay(s) => Some(&**s),
            Decision::Skip(_) => None,
        })
    }
}

/// One name and what happens to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanItem {
    pub name: String,
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Decision {
    Replay(Box<StandIn>),
    Skip(Skip),
}

/// Why a name gets no stand-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SkipReason {
    /// A cert-manager HTTP-01 challenge for the name is live: never a second solver.
    LiveChallenge,
    /// The issuer could not be read.
    NoIssuer,
    /// The issuer is not an ACME issuer.
    NotAcme,
    /// No solver of the issuer can be used for the name (cert-manager fails the Order too).
    NoSolver,
    /// A wildcard name: the CA offers only DNS-01 for it.
    Wildcard,
    /// The selected solver is DNS-01: nothing to replay over HTTP.
    Dns01,
    /// cert-manager would refuse the solver configuration (its own error is the message).
    InvalidSolver,
    /// An HTTPRoute solver, but cert-manager's Gateway API support or the CRDs are missing.
    GatewayApiDisabled,
    /// The Ingress an edit-in-place solver names does not exist.
    EditInPlaceIngressMissing,
    /// The acmesolver image cert-manager uses is unknown.
    SolverImageUnknown,
    /// No random token could be drawn.
    Randomness,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skip {
    pub reason: SkipReason,
    pub message: String,
}

fn skip(reason: SkipReason, message: impl Into<String>) -> Decision {
    Decision::Skip(Skip {
        reason,
        message: message.into(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RouteKind {
    Ingress,
    #[serde(rename = "HTTPRoute")]
    HttpRoute,
}

impl RouteKind {
    /// The object's kind: `Ingress`, `HTTPRoute`.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Ingress => "Ingress",
            RouteKind::HttpRoute => "HTTPRoute",
        }
    }
}

/// The stand-in for one name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StandIn {
    pub dns_name: String,
    /// The name of its pod, Service and Ingress/HTTPRoute.
    pub object_name: String,
    /// The name of its challenge in the report: the object name, or `<object name>-<n>` for
    /// the n-th name of a shared stand-in.
    pub challenge_name: String,
    /// The issuer's solver it stands in for (index in `spec.acme.solvers`), after the Order's
    /// override annotations.
    pub solver_index: usize,
    pub solver: Solver,
    pub token: String,
    pub key: String,
    pub pod: Value,
    pub service: Value,
    pub route_kind: RouteKind,
    pub route: Value,
    /// Where this stand-in differs from what cert-manager would create (beyond the differences
    /// every stand-in has, see the module docs).
    pub notes: Vec<String>,
}

/// The solver cert-manager would use for `name`, after the override annotations; or the skip.
fn selected(input: &ReplayInput, name: &str) -> Result<(usize, Solver), Decision> {
    let Some(issuer) = &input.issuer else {
        return Err(skip(
            SkipReason::NoIssuer,
            input
                .issuer_problem
                .clone()
                .unwrap_or_else(|| "the issuer could not be read".to_owned()),
        ));
    };
    let Some(acme) = &issuer.acme else {
        return Err(skip(
            SkipReason::NotAcme,
            format!("{} {} is not an ACME issuer", issuer.kind, issuer.name),
        ));
    };
    let offered = select::offered_types(name, &input.authorizations);
    let picked = select::pick(name, &offered, &acme.solvers, &input.labels);
    let wildcard = name.starts_with("*.");
    let Some(index) = picked else {
        return Err(if wildcard {
            skip(
                SkipReason::Wildcard,
                format!(
                    "{name} is a wildcard name: the CA validates it only over DNS-01, and {} {} has no DNS-01 solver for it (cert-manager: no configured challenge solvers can be used for this challenge)",
                    issuer.kind, issuer.name
                ),
            )
        } else {
            skip(
                SkipReason::NoSolver,
                format!(
                    "no solver of {} {} matches {name} (cert-manager: no configured challenge solvers can be used for this challenge)",
                    issuer.kind, issuer.name
                ),
            )
        });
    };
    let mut solver = acme.solvers[index].clone();
    let is_http = solver.http01.is_some() && offered.iter().any(|t| t == "http-01");
    if !is_http {
        return Err(if wildcard {
            skip(
                SkipReason::Wildcard,
                format!(
                    "{name} is a wildcard name: the CA validates it only over DNS-01 (solver #{index} of {} {}); there is no HTTP-01 solver to replay",
                    issuer.kind, issuer.name
                ),
            )
        } else {
            skip(
                SkipReason::Dns01,
                format!(
                    "{name} gets solver #{index} of {} {}, a DNS-01 solver: there is no HTTP-01 solver to replay",
                    issuer.kind, issuer.name
                ),
            )
        });
    }
    select::apply_overrides(&mut solver, &input.annotations, &input.namespace).map_err(|e| {
        skip(
            SkipReason::InvalidSolver,
            format!(
                "cert-manager would refuse solver #{index} of {} {} for {name}: {e}",
                issuer.kind, issuer.name
            ),
        )
    })?;
    Ok((index, solver))
}

/// The solver cert-manager would use for `name` (after the Order's override annotations), or
/// why a name gets none: the plan's own selection, for callers that only classify names
/// (`kubectl acmecheck renewals`: which names are HTTP-01).
pub fn solver_for(input: &ReplayInput, name: &str) -> Result<(usize, Solver), Skip> {
    selected(input, name).map_err(|d| match d {
        Decision::Skip(s) => s,
        Decision::Replay(_) => Skip {
            reason: SkipReason::NoSolver,
            message: String::new(),
        },
    })
}

impl ReplayInput {
    /// The Ingresses (in [`ReplayInput::namespace`]) that the selected solvers edit in place:
    /// read these into [`ReplayInput::ingresses`] before planning.
    pub fn edit_in_place_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for name in &self.names {
            if let Ok((_, solver)) = selected(self, name)
                && let Some(n) = solver
                    .http01
                    .and_then(|h| h.ingress)
                    .and_then(|i| i.name)
                    .filter(|n| !n.is_empty())
                && !out.contains(&n)
            {
                out.push(n);
            }
        }
        out
    }
}

/// RFC 3339 for the deadline annotation.
fn rfc3339(unix: i64) -> String {
    k8s_openapi::jiff::Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| unix.to_string())
}

/// The plan: one item per name, in input order. Pure, apart from random tokens
/// ([`CredentialSource::Random`]).
pub fn plan(input: &ReplayInput, cluster: &ClusterEvidence, opts: &ReplayOptions) -> ReplayPlan {
    let settings = SolverSettings::from_controller(
        cluster.cert_manager.as_ref(),
        opts.solver_image.as_deref(),
    );
    let deadline_secs = opts.deadline.as_secs().max(1);
    let deadline_at = rfc3339(
        opts.now_unix
            .saturating_add(i64::try_from(deadline_secs).unwrap_or(i64::MAX)),
    );
    let ctx = Ctx {
        input,
        cluster,
        opts,
        settings: &settings,
        deadline_seconds: deadline_secs,
        deadline_at: &deadline_at,
    };
    let mut items = Vec::new();
    let mut index = 0;
    for name in &input.names {
        let decision = match decide(&ctx, name, index) {
            Ok(stand_in) => {
                index += 1;
                Decision::Replay(Box::new(stand_in))
            }
            Err(d) => d,
        };
        items.push(PlanItem {
            name: name.clone(),
            decision,
        });
    }
    ReplayPlan {
        namespace: input.namespace.clone(),
        subject: input.subject.clone(),
        run_id: opts.run_id.clone(),
        deadline_at,
        settings,
        items,
        shared: Vec::new(),
    }
}

/// What every decision of one plan shares.
struct Ctx<'a> {
    input: &'a ReplayInput,
    cluster: &'a ClusterEvidence,
    opts: &'a ReplayOptions,
    settings: &'a SolverSettings,
    deadline_seconds: u64,
    deadline_at: &'a str,
}

/// The stand-in for `name` (the `index`-th of the plan), or why there is none.
fn decide(ctx: &Ctx, name: &str, index: usize) -> Result<StandIn, Decision> {
    let Ctx {
        input,
        cluster,
        opts,
        settings,
        deadline_seconds,
        deadline_at,
    } = *ctx;
    if let Some(ch) = guard::live_challenge(name, &input.challenges) {
        return Err(skip(
            SkipReason::LiveChallenge,
            format!(
                "cert-manager's Challenge {} for {name} is live (state {:?}{}): its own solver is the one to probe; no second solver is created next to it",
                ch.name,
                if ch.state.is_empty() {
                    "unset"
                } else {
                    ch.state.as_str()
                },
                if ch.presented { ", presented" } else { "" }
            ),
        ));
    }
    let (solver_index, solver) = selected(input, name)?;
    let http01 = solver.http01.clone().unwrap_or_default();
    // Present: the Ingress solver when both are set (pkg/issuer/acme/http/http.go).
    let which = match (&http01.ingress, &http01.gateway_http_route) {
        (Some(i), _) => Ok(i),
        (None, Some(g)) => Err(g),
        (None, None) => {
            return Err(skip(
                SkipReason::InvalidSolver,
                format!(
                    "solver #{solver_index} for {name} has neither http01.ingress nor http01.gatewayHTTPRoute (cert-manager: no Ingress nor Gateway HTTP01 solvers were specified)"
                ),
            ));
        }
    };
    let route_kind = if which.is_ok() {
        RouteKind::Ingress
    } else {
        RouteKind::HttpRoute
    };
    if route_kind == RouteKind::HttpRoute {
        if settings.gateway_api_enabled == Some(false) {
            return Err(skip(
                SkipReason::GatewayApiDisabled,
                format!(
                    "solver #{solver_index} for {name} uses gatewayHTTPRoute, but the cert-manager controller runs without --enable-gateway-api (cert-manager: gateway api is not enabled)"
                ),
            ));
        }
        if !cluster.gateway_api_installed {
            return Err(skip(
                SkipReason::GatewayApiDisabled,
                format!(
                    "solver #{solver_index} for {name} uses gatewayHTTPRoute, but the Gateway API CRDs (gateway.networking.k8s.io/v1 HTTPRoute) are not served"
                ),
            ));
        }
    }
    let Some(image) = settings.image.clone() else {
        return Err(skip(
            SkipReason::SolverImageUnknown,
            "the acmesolver image cert-manager uses is unknown (no --acme-http01-solver-image on the controller and no version tag on its image): name it explicitly",
        ));
    };
    let edit_in_place = which
        .ok()
        .and_then(|i| i.name.clone())
        .filter(|n| !n.is_empty());
    let existing = match &edit_in_place {
        Some(n) => match input
            .ingresses
            .iter()
            .find(|i| &i.name == n && i.namespace == input.namespace)
        {
            Some(i) => Some(i),
            None => {
                return Err(skip(
                    SkipReason::EditInPlaceIngressMissing,
                    format!(
                        "solver #{solver_index} for {name} edits Ingress {}/{n} in place, and it does not exist: cert-manager's Present fails the same way",
                        input.namespace
                    ),
                ));
            }
        },
        None => None,
    };
    let creds = match &opts.credentials {
        CredentialSource::Fixed(m) if m.contains_key(name) => Ok(m[name].clone()),
        _ => Credentials::random(),
    }
    .map_err(|e| skip(SkipReason::Randomness, e))?;
    let object_name = object_name(&opts.run_id, index);
    let t = Target {
        object_name: &object_name,
        namespace: &input.namespace,
        run_id: &opts.run_id,
        dns_name: name,
        token: &creds.token,
        key: &creds.key,
        deadline_seconds,
        deadline_at,
    };
    let mut notes = Vec::new();
    let invalid = |e: String| {
        skip(
            SkipReason::InvalidSolver,
            format!("solver #{solver_index} for {name}: {e}"),
        )
    };
    let pod = render::pod(&t, &http01, settings, &image, &mut notes).map_err(invalid)?;
    let service = render::service(&t, &http01, settings);
    let route = match (which, existing) {
        (Ok(_), Some(existing)) => route::edit_in_place_ingress(&t, existing, settings, &mut notes),
        (Ok(cfg), None) => route::ingress(&t, cfg, settings, &mut notes).map_err(invalid)?,
        (Err(cfg), _) => route::http_route(&t, cfg, settings, &mut notes),
    };
    Ok(StandIn {
        dns_name: name.to_owned(),
        challenge_name: object_name.clone(),
        object_name: object_name.clone(),
        solver_index,
        solver,
        token: creds.token,
        key: creds.key,
        pod,
        service,
        route_kind,
        route,
        notes,
    })
}

#[cfg(test)]
mod tests;
