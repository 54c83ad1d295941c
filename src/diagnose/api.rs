//! Findings available from the Kubernetes API alone (no network probing).
//!
//! Each rule is a small pure function over [`Certificate`]; [`findings`] runs them in order. Rules
//! return findings for what they can prove, and "supports" findings for what they can only
//! suggest (the probe stage then proves or disproves them).

use super::util::{ingress_class, issuer_kind_cmd, open_http01, parsed, renew_hint, solver_patch};
use super::view::Certificate;
use super::{Code, Finding, Proof, Severity};
use crate::evidence::{ChallengeEvidence, ClusterEvidence, RouteEvidence, Solver, condition};
use crate::reason::{self, Phase, Reason};

type Rule = fn(&Certificate) -> Vec<Finding>;

/// The rules, in the order their findings are most useful when severities tie.
pub(super) const RULES: &[Rule] = &[
    issuer_problems,
    rate_limited,
    wildcard_needs_dns01,
    no_matching_solver,
    solver_config,
    gateway_api_disabled,
    present_failed,
    solver_pod_not_running,
    solver_unreachable,
    ingress_class_unserved,
    duplicate_controller,
    httproute_not_attached,
    solver_pod_stale,
    ca_rejected,
    self_check_failing,
    challenge_not_scheduled,
    self_check_skipped,
    issuance_backoff,
    super::chain::caa_forbids,
    super::chain::dns_broken,
    super::chain::solver_removed_early,
    super::chain::version_pitfall,
    super::chain::ip_identifier,
];

/// Run every API rule for one certificate.
pub fn findings(input: &Certificate) -> Vec<Finding> {
    RULES.iter().flat_map(|rule| rule(input)).collect()
}

// ---------------------------------------------------------------------------------------------
// Issuer
// ---------------------------------------------------------------------------------------------

fn issuer_problems(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let r = &cert.issuer_ref;
    let who = format!("{} {}", r.kind_or_default(), r.name);
    let Some(issuer) = &cert.issuer else {
        let why = cert
            .issuer_problem
            .clone()
            .unwrap_or_else(|| "not found".into());
        return vec![
            Finding::new(
                Code::IssuerNotFound,
                Severity::Error,
                Proof::Proves,
                format!("the certificate's issuer {who} cannot be used: {why}"),
            )
            .evidence(format!("Certificate {} spec.issuerRef: {who}", cert.name))
            .fix(format!(
                "create the {} or point spec.issuerRef at an existing one: kubectl get issuers,clusterissuers -A",
                r.kind_or_default()
            )),
        ];
    };
    let mut out = Vec::new();
    match condition(&issuer.conditions, "Ready") {
        Some(c) if c.status == "True" => {}
        other => {
            let detail = other
                .map(|c| {
                    format!(
                        "Ready={} {}: {}",
                        c.status,
                        c.reason.as_deref().unwrap_or(""),
                        c.message.as_deref().unwrap_or("")
                    )
                })
                .unwrap_or_else(|| "no Ready condition".into());
            out.push(
                Finding::new(
                    Code::IssuerNotReady,
                    Severity::Error,
                    Proof::Proves,
                    format!("{who} is not ready, so no order can be placed"),
                )
                .evidence(detail)
                .fix(format!(
                    "kubectl describe {} — fix the ACME account (email, server URL, account key Secret)",
                    issuer_kind_cmd(cert)
                )),
            );
        }
    }
    if issuer.acme.is_none() {
        out.push(
            Finding::new(
                Code::IssuerNotAcme,
                Severity::Info,
                Proof::Proves,
                format!("{who} is not an ACME issuer: HTTP-01 does not apply"),
            )
            .evidence(format!("{} has no spec.acme", issuer_kind_cmd(cert)))
            .fix("use kubectl describe certificaterequest to see this issuer's own errors"),
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Order / solver selection
// ---------------------------------------------------------------------------------------------

/// Does a DNS-01 solver of the issuer apply to `name` (a `*.` name)?
fn dns01_solver_for(
    solvers: &[Solver],
    name: &str,
    labels: &std::collections::BTreeMap<String, String>,
) -> bool {
    solvers.iter().filter(|s| s.dns01.is_some()).any(|s| {
        let Some(sel) = &s.selector else { return true };
        let labels_ok = sel
            .match_labels
            .as_ref()
            .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
        let names_ok = sel
            .dns_names
            .as_ref()
            .is_none_or(|n| n.is_empty() || n.iter().any(|d| d == name));
        let base = name.trim_start_matches("*.");
        let zones_ok = sel.dns_zones.as_ref().is_none_or(|z| {
            z.is_empty()
                || z.iter()
                    .any(|zone| base == zone || base.ends_with(&format!(".{zone}")))
        });
        labels_ok && names_ok && zones_ok
    })
}

fn wildcard_needs_dns01(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let Some(acme) = cert.issuer.as_ref().and_then(|i| i.acme.as_ref()) else {
        return vec![];
    };
    cert.dns_names
        .iter()
        .filter(|n| n.starts_with("*."))
        .filter(|n| !dns01_solver_for(&acme.solvers, n, &cert.labels))
        .map(|name| {
            let mut f = Finding::new(
                Code::WildcardNeedsDns01,
                Severity::Error,
                Proof::Proves,
                format!("{name} is a wildcard: ACME CAs validate wildcards only with DNS-01, and the issuer has no DNS-01 solver for it"),
            )
            .evidence(format!(
                "{}: {} solver(s), none with dns01 matching {name}",
                issuer_kind_cmd(cert),
                acme.solvers.len()
            ));
            if let Some(o) = &cert.order
                && let Some(a) = o.authorizations.iter().find(|a| a.wildcard)
            {
                f = f.evidence(format!(
                    "Order {}: authorization for {} offers only {}",
                    o.name,
                    a.identifier,
                    a.challenge_types.join(", ")
                ));
            }
            f.fix(format!(
                "add a DNS-01 solver for the wildcard to the {}, e.g.\n  solvers:\n  - selector: {{dnsNames: [\"{name}\"]}}\n    dns01: {{<your DNS provider>: ...}}\nHTTP-01 can keep serving the other names.",
                issuer_kind_cmd(cert)
            ))
        })
        .collect()
}

fn no_matching_solver(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let Some(order) = &cert.order else {
        return vec![];
    };
    let no_solver = order
        .reason
        .as_deref()
        .and_then(reason::parse)
        .is_some_and(|r| matches!(r, Reason::NoSolver { .. }));
    let wildcard_only = cert.dns_names.iter().all(|n| n.starts_with("*."));
    if !no_solver || wildcard_only {
        return vec![];
    }
    let uncovered: Vec<_> = order
        .authorizations
        .iter()
        .filter(|a| !a.wildcard && a.initial_state.as_deref() != Some("valid"))
        .filter(|a| !cert.challenges.iter().any(|c| c.dns_name == a.identifier))
        .map(|a| a.identifier.clone())
        .collect();
    vec![
        Finding::new(
            Code::NoMatchingSolver,
            Severity::Error,
            Proof::Proves,
            "no solver of the issuer matches this certificate's names or labels",
        )
        .evidence(format!(
            "Order {}: {}",
            order.name,
            order.reason.as_deref().unwrap_or("")
        ))
        .evidence(format!(
            "names without a challenge: {}",
            uncovered.join(", ")
        ))
        .fix(format!(
            "check the selectors (matchLabels, dnsNames, dnsZones) of the solvers in the {}",
            issuer_kind_cmd(cert)
        )),
    ]
}

fn solver_config(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let mut out = Vec::new();
    for ch in open_http01(cert) {
        let http01 = ch.solver.http01.as_ref();
        let ing = http01.and_then(|h| h.ingress.as_ref());
        let both = ing.is_some_and(|i| i.class.is_some() && i.ingress_class_name.is_some());
        let reason_says = ch
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("ingressClassName and class cannot be set"));
        if both || reason_says {
            out.push(
                Finding::new(
                    Code::SolverConfig,
                    Severity::Error,
                    Proof::Proves,
                    "the solver sets both class and ingressClassName; cert-manager refuses it",
                )
                .challenge(&ch.name)
                .evidence(format!(
                    "Challenge {} spec.solver.http01.ingress: class={:?} ingressClassName={:?}",
                    ch.name,
                    ing.and_then(|i| i.class.as_deref()).unwrap_or(""),
                    ing.and_then(|i| i.ingress_class_name.as_deref()).unwrap_or("")
                ))
                .fix(format!(
                    "keep one: remove `class` from the solver in the {} (and any acme.cert-manager.io/http01-override-ingress-* annotation on the Certificate)",
                    issuer_kind_cmd(cert)
                )),
            );
        }
        if let Some(route) = http01.and_then(|h| h.gateway_http_route.as_ref())
            && route.parent_refs.is_empty()
        {
            out.push(
                Finding::new(
                    Code::SolverConfig,
                    Severity::Error,
                    Proof::Proves,
                    "the gatewayHTTPRoute solver has no parentRefs: the route attaches to no Gateway",
                )
                .challenge(&ch.name)
                .evidence(format!("Challenge {} spec.solver.http01.gatewayHTTPRoute.parentRefs: []", ch.name))
                .fix(solver_patch(
                    cert,
                    &ch.solver,
                    "gatewayHTTPRoute/parentRefs",
                    "[{\"name\":\"<gateway>\",\"namespace\":\"<ns>\",\"kind\":\"Gateway\"}]",
                )),
            );
        }
    }
    out
}

fn gateway_api_disabled(input: &Certificate) -> Vec<Finding> {
    let (cert, cluster) = (input.cert, input.cluster);
    let mut out = Vec::new();
    for ch in open_http01(cert) {
        if ch
            .solver
            .http01
            .as_ref()
            .and_then(|h| h.gateway_http_route.as_ref())
            .is_none()
        {
            continue;
        }
        let said = ch.reason.as_deref().is_some_and(|r| {
            r.to_ascii_lowercase()
                .contains("gateway api is not enabled")
        });
        let flag_off = cluster
            .cert_manager
            .as_ref()
            .is_some_and(|c| !c.gateway_api_enabled);
        if !(said || flag_off || !cluster.gateway_api_installed) {
            continue;
        }
        let mut f = Finding::new(
            Code::GatewayApiDisabled,
            Severity::Error,
            if said || !cluster.gateway_api_installed {
                Proof::Proves
            } else {
                Proof::Supports
            },
            "the solver uses a Gateway API HTTPRoute, but Gateway API support is off",
        )
        .challenge(&ch.name);
        if !cluster.gateway_api_installed {
            f = f.evidence("the gateway.networking.k8s.io/v1 API is not served by this cluster");
        }
        if let Some(cm) = &cluster.cert_manager {
            f = f.evidence(format!(
                "cert-manager controller {}/{}: Gateway API {}",
                cm.namespace,
                cm.deployment,
                if cm.gateway_api_enabled {
                    "enabled"
                } else {
                    "not enabled (no --enable-gateway-api / ExperimentalGatewayAPISupport)"
                }
            ));
        }
        if said && let Some(r) = &ch.reason {
            f = f.evidence(format!("Challenge reason: {r}"));
        }
        out.push(f.fix(
            "install the Gateway API CRDs, then enable it in cert-manager (Helm: --set config.enableGatewayAPI=true) and restart the controller",
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Present: solver pod, Service, Ingress, HTTPRoute
// ---------------------------------------------------------------------------------------------

fn present_detail(ch: &ChallengeEvidence) -> Option<String> {
    match parsed(ch)? {
        Reason::PresentFailed { detail } => Some(detail),
        _ => None,
    }
}

fn is_ingress_rejection(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    d.contains("admission webhook") && d.contains("ingress")
        || d.contains("cannot be used with pathtype exact")
}

fn is_pod_rejection(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    d.contains("violates podsecurity")
        || d.contains("exceeded quota")
        || (d.contains("pods \"cm-acme-http-solver") && d.contains("forbidden"))
}

fn present_failed(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let mut out = Vec::new();
    for ch in open_http01(cert) {
        let Some(detail) = present_detail(ch) else {
            continue;
        };
        let evidence = format!(
            "Challenge {} reason: {}",
            ch.name,
            ch.reason.as_deref().unwrap_or("")
        );
        if is_ingress_rejection(&detail) {
            out.push(
                Finding::new(
                    Code::SolverIngressRejected,
                    Severity::Error,
                    Proof::Proves,
                    "the API server refused the solver Ingress (admission webhook)",
                )
                .challenge(&ch.name)
                .evidence(evidence)
                .fix(if detail.contains("pathType Exact") {
                    "ingress-nginx >= 1.12 rejects pathType Exact paths containing dots: set the cert-manager feature gate ACMEHTTP01IngressPathTypeExact=false (cert-manager >= 1.18.1), or strict-validate-path-type: \"false\" in the ingress-nginx ConfigMap".to_owned()
                } else {
                    "read the webhook's message above; exempt Ingresses labelled acme.cert-manager.io/http01-solver=true or change the solver's ingressTemplate".to_owned()
                }),
            );
        } else if is_pod_rejection(&detail) {
            out.push(
                Finding::new(
                    Code::SolverPodNotRunning,
                    Severity::Error,
                    Proof::Proves,
                    "the solver pod cannot be created (admission or quota)",
                )
                .challenge(&ch.name)
                .evidence(evidence)
                .fix("allow the solver pod: relax the namespace's PodSecurity level or quota, or set securityContext/resources in the solver's podTemplate"),
            );
        } else if !detail
            .to_ascii_lowercase()
            .contains("gateway api is not enabled")
            && !detail.contains("ingressClassName and class cannot be set")
        {
            out.push(
                Finding::new(
                    Code::PresentFailed,
                    Severity::Error,
                    Proof::Proves,
                    "cert-manager cannot create the solver resources",
                )
                .challenge(&ch.name)
                .evidence(evidence)
                .fix(format!(
                    "kubectl describe challenge {} -n {} — the message names the object and the refusal",
                    ch.name, cert.namespace
                )),
            );
        }
    }
    out
}

const POD_BLOCKING_WAIT_REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "CrashLoopBackOff",
];

fn solver_pod_not_running(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let mut out = Vec::new();
    for ch in open_http01(cert).filter(|c| c.presented && reason::phase(c) == Phase::SelfCheck) {
        if ch.solver_pods.is_empty() {
            out.push(
                Finding::new(
                    Code::SolverPodNotRunning,
                    Severity::Error,
                    Proof::Supports,
                    "the challenge is presented but no solver pod exists",
                )
                .challenge(&ch.name)
                .evidence(format!(
                    "no pod with acme.cert-manager.io/http01-solver=true owned by Challenge {}",
                    ch.name
                ))
                .fix(format!(
                    "kubectl get events -n {} --field-selector involvedObject.name={} ; cert-manager recreates the pod on each self check, so a refusal shows there",
                    cert.namespace, ch.name
                )),
            );
        }
        for pod in &ch.solver_pods {
            let waiting = pod
                .waiting_reason
                .as_deref()
                .filter(|r| POD_BLOCKING_WAIT_REASONS.contains(r));
            let problem = if let Some(w) = waiting {
                Some(format!(
                    "container waiting: {w}{}",
                    pod.waiting_message
                        .as_deref()
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default()
                ))
            } else if let Some(m) = &pod.unschedulable_message {
                Some(format!("unschedulable: {m}"))
            } else if pod.phase == "Failed" {
                Some("pod phase Failed".to_owned())
            } else {
                None
            };
            let Some(problem) = problem else { continue };
            let fix = if waiting.is_some_and(|w| w.contains("Image")) {
                format!(
                    "the solver image {} cannot be pulled: mirror it and set --acme-http01-solver-image on cert-manager, or add imagePullSecrets to the solver's podTemplate",
                    pod.image.as_deref().unwrap_or("(unknown)")
                )
            } else if pod.unschedulable_message.is_some() {
                "give the solver pod a place to run: tolerations / nodeSelector / affinity in the solver's podTemplate".to_owned()
            } else {
                format!("kubectl describe pod {} -n {}", pod.name, pod.namespace)
            };
            out.push(
                Finding::new(
                    Code::SolverPodNotRunning,
                    Severity::Error,
                    Proof::Proves,
                    format!("solver pod {} is not running: {problem}", pod.name),
                )
                .challenge(&ch.name)
                .evidence(format!(
                    "Pod {}/{} phase {}",
                    pod.namespace, pod.name, pod.phase
                ))
                .fix(fix),
            );
        }
    }
    out
}

fn solver_pod_stale(input: &Certificate) -> Vec<Finding> {
    open_http01(input.cert)
        .flat_map(|ch| {
            ch.solver_pods.iter().filter(|p| !p.args_match).map(|p| {
                Finding::new(
                    Code::SolverPodStale,
                    Severity::Warning,
                    Proof::Supports,
                    format!(
                        "solver pod {} serves another token or domain than the challenge",
                        p.name
                    ),
                )
                .challenge(&ch.name)
                .evidence(format!(
                    "pod args --domain/--token/--key differ from Challenge {}",
                    ch.name
                ))
                .fix(format!(
                    "kubectl delete pod {} -n {} (cert-manager recreates it)",
                    p.name, p.namespace
                ))
            })
        })
        .collect()
}

fn solver_unreachable(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let mut out = Vec::new();
    for ch in open_http01(cert).filter(|c| c.presented && reason::phase(c) == Phase::SelfCheck) {
        let pods_ready = ch.solver_pods.iter().any(|p| p.ready);
        for svc in ch.solver_services.iter().filter(|s| s.ready_endpoints == 0) {
            let (proof, why) = if pods_ready {
                (
                    Proof::Proves,
                    "the solver pod is ready, but the Service selects no ready pod".to_owned(),
                )
            } else {
                (
                    Proof::Supports,
                    "a consequence of the solver pod not being ready".to_owned(),
                )
            };
            out.push(
                Finding::new(
                    Code::SolverUnreachable,
                    Severity::Error,
                    proof,
                    format!("solver Service {} has no ready endpoints ({why})", svc.name),
                )
                .challenge(&ch.name)
                .evidence(format!(
                    "Service {}/{}: {} ready, {} not ready endpoint(s)",
                    svc.namespace, svc.name, svc.ready_endpoints, svc.not_ready_endpoints
                ))
                .fix(if pods_ready {
                    format!("kubectl describe service {} -n {} — compare its selector with the solver pod's labels (podTemplate labels must not override the acme.cert-manager.io/* ones)", svc.name, svc.namespace)
                } else {
                    "fix the solver pod first (see SOLVER_POD_NOT_RUNNING)".to_owned()
                }),
            );
        }
        if ch.solver_services.is_empty() && !ch.solver_pods.is_empty() {
            out.push(
                Finding::new(
                    Code::SolverUnreachable,
                    Severity::Error,
                    Proof::Supports,
                    "the challenge is presented but its solver Service is missing",
                )
                .challenge(&ch.name)
                .evidence(format!(
                    "no Service with acme.cert-manager.io/http01-solver=true owned by Challenge {} (solver pod {} exists)",
                    ch.name, ch.solver_pods[0].name
                ))
                .fix(format!(
                    "kubectl get events -n {} --field-selector involvedObject.name={}",
                    cert.namespace, ch.name
                )),
            );
        }
    }
    out
}

/// IngressClass names some running data plane serves.
pub(super) fn served_classes(cluster: &ClusterEvidence) -> Vec<String> {
    let mut served: Vec<String> = cluster
        .data_planes
        .iter()
        .filter(|d| d.kind == "ingress-controller")
        .flat_map(|d| d.ingress_classes.iter().cloned())
        .collect();
    for class in &cluster.ingress_classes {
        let implemented = cluster
            .data_planes
            .iter()
            .any(|d| d.controller.as_deref() == Some(class.controller.as_str()));
        if implemented && !served.contains(&class.name) {
            served.push(class.name.clone());
        }
    }
    served
}

fn class_list(cluster: &ClusterEvidence) -> String {
    if cluster.ingress_classes.is_empty() {
        return "none".into();
    }
    cluster
        .ingress_classes
        .iter()
        .map(|c| {
            format!(
                "{} ({}{})",
                c.name,
                c.controller,
                if c.is_default { ", default" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn ingress_class_unserved(input: &Certificate) -> Vec<Finding> {
    let (cert, cluster) = (input.cert, input.cluster);
    let classes_readable = !cluster
        .unreadable
        .iter()
        .any(|u| u.contains("ingressclasses"));
    if !classes_readable {
        return vec![];
    }
    let served = served_classes(cluster);
    let planes_known = cluster
        .data_planes
        .iter()
        .any(|d| d.kind == "ingress-controller");
    let suggestion = served.first().cloned().or_else(|| {
        cluster
            .ingress_classes
            .iter()
            .find(|c| c.is_default)
            .map(|c| c.name.clone())
    });
    let mut out = Vec::new();
    for ch in open_http01(cert) {
        for ing in ch.solver_ingresses.iter().filter(|i| !i.edit_in_place) {
            let class = ingress_class(ing);
            let exists = class.is_some_and(|c| cluster.ingress_classes.iter().any(|k| k.name == c));
            let is_served = class.is_some_and(|c| served.iter().any(|s| s == c));
            let finding = match class {
                Some(c) if !exists && !is_served => Some((
                    Proof::Proves,
                    format!(
                        "solver Ingress {} asks for IngressClass {c:?}, which does not exist and no controller serves",
                        ing.name
                    ),
                )),
                Some(c) if !is_served && planes_known => Some((
                    Proof::Supports,
                    format!(
                        "IngressClass {c:?} exists, but no running controller for it was found"
                    ),
                )),
                None => {
                    let default = cluster
                        .ingress_classes
                        .iter()
                        .filter(|k| k.is_default)
                        .count();
                    let classless = cluster.data_planes.iter().any(|d| d.watches_classless);
                    (default == 0 && !classless).then(|| (
                        Proof::Proves,
                        format!("solver Ingress {} has no class, there is no default IngressClass and no controller takes class-less Ingresses", ing.name),
                    ))
                }
                _ => None,
            };
            let Some((proof, summary)) = finding else {
                continue;
            };
            let value = suggestion
                .as_deref()
                .unwrap_or("<class of the controller behind your DNS name>");
            out.push(
                Finding::new(Code::IngressClassUnserved, Severity::Error, proof, summary)
                    .challenge(&ch.name)
                    .evidence(format!(
                        "Ingress {}/{}: ingressClassName={:?}, kubernetes.io/ingress.class={:?}",
                        ing.namespace,
                        ing.name,
                        ing.class_name.as_deref().unwrap_or(""),
                        ing.class_annotation.as_deref().unwrap_or("")
                    ))
                    .evidence(format!("IngressClasses: {}", class_list(cluster)))
                    .evidence(if ing.lb_addresses.is_empty() {
                        "the solver Ingress has no load-balancer address: no controller picked it up".to_owned()
                    } else {
                        format!("the solver Ingress has address {}", ing.lb_addresses.join(", "))
                    })
                    .fix(solver_patch(cert, &ch.solver, "ingress/ingressClassName", &format!("\"{value}\""))),
            );
        }
    }
    out
}

fn duplicate_controller(input: &Certificate) -> Vec<Finding> {
    let (cert, cluster) = (input.cert, input.cluster);
    if open_http01(cert).next().is_none() {
        return vec![];
    }
    let mut out = Vec::new();
    let defaults: Vec<_> = cluster
        .ingress_classes
        .iter()
        .filter(|c| c.is_default)
        .collect();
    if defaults.len() > 1 {
        let names: Vec<_> = defaults.iter().map(|c| c.name.as_str()).collect();
        out.push(
            Finding::new(
                Code::DuplicateController,
                Severity::Warning,
                Proof::Proves,
                format!("{} IngressClasses are marked default: class-less Ingresses are refused or served by the wrong controller", defaults.len()),
            )
            .evidence(format!("default IngressClasses: {}", names.join(", ")))
            .fix(format!(
                "keep one default: kubectl annotate ingressclass {} ingressclass.kubernetes.io/is-default-class-",
                names[1..].join(" ")
            )),
        );
    }
    // Two ingress controllers serving the same class.
    let planes: Vec<_> = cluster
        .data_planes
        .iter()
        .filter(|d| d.kind == "ingress-controller")
        .collect();
    let mut seen = std::collections::BTreeMap::<&str, Vec<String>>::new();
    for p in &planes {
        for class in &p.ingress_classes {
            seen.entry(class.as_str())
                .or_default()
                .push(format!("{}/{}", p.namespace, p.name));
        }
    }
    for (class, owners) in seen.into_iter().filter(|(_, o)| o.len() > 1) {
        out.push(
            Finding::new(
                Code::DuplicateController,
                Severity::Warning,
                Proof::Proves,
                format!("{} controllers serve IngressClass {class:?}; only one of them may be behind the public address", owners.len()),
            )
            .evidence(format!("controllers for {class:?}: {}", owners.join(", ")))
            .fix("give each controller its own class (and controller value / election id), set the solver's ingressClassName explicitly, and remove the stale controller"),
        );
    }
    out
}

fn route_problem(
    route: &RouteEvidence,
    cluster: &ClusterEvidence,
) -> Option<(Proof, String, Vec<String>)> {
    let mut evidence = Vec::new();
    for parent in &route.parents {
        for c in parent
            .conditions
            .iter()
            .filter(|c| c.type_ == "Accepted" || c.type_ == "ResolvedRefs")
        {
            evidence.push(format!(
                "parent {}: {}={} {} {}",
                parent.parent_ref.name,
                c.type_,
                c.status,
                c.reason.as_deref().unwrap_or(""),
                c.message.as_deref().unwrap_or("")
            ));
            if c.status != "True" {
                return Some((
                    Proof::Proves,
                    format!(
                        "solver HTTPRoute {} is not attached: {} is {} ({})",
                        route.name,
                        c.type_,
                        c.status,
                        c.reason.as_deref().unwrap_or("no reason")
                    ),
                    evidence,
                ));
            }
        }
    }
    for r in &route.parent_refs {
        let ns = r.namespace.as_deref().unwrap_or(&route.namespace);
        let Some(gw) = cluster
            .gateways
            .iter()
            .find(|g| g.name == r.name && g.namespace == ns)
        else {
            if cluster.gateway_api_installed {
                return Some((
                    Proof::Proves,
                    format!(
                        "solver HTTPRoute {} points at Gateway {ns}/{} which does not exist",
                        route.name, r.name
                    ),
                    evidence,
                ));
            }
            continue;
        };
        let http80 = gw.listeners.iter().any(|l| {
            l.protocol.eq_ignore_ascii_case("HTTP")
                && l.port == 80
                && r.section_name.as_ref().is_none_or(|s| s == &l.name)
        });
        if !http80 {
            evidence.push(format!(
                "Gateway {ns}/{} listeners: {}",
                gw.name,
                gw.listeners
                    .iter()
                    .map(|l| format!("{} {}:{}", l.name, l.protocol, l.port))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return Some((
                Proof::Proves,
                format!(
                    "Gateway {ns}/{} has no HTTP listener on port 80 for the solver route",
                    gw.name
                ),
                evidence,
            ));
        }
    }
    if route.parents.is_empty() {
        evidence.push(format!(
            "HTTPRoute {}/{} status.parents: [] (parentRefs: {})",
            route.namespace,
            route.name,
            route
                .parent_refs
                .iter()
                .map(|r| format!(
                    "{}/{}",
                    r.namespace.as_deref().unwrap_or(&route.namespace),
                    r.name
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return Some((
            Proof::Supports,
            format!(
                "no Gateway has reported status for solver HTTPRoute {} (not attached yet?)",
                route.name
            ),
            evidence,
        ));
    }
    None
}

fn httproute_not_attached(input: &Certificate) -> Vec<Finding> {
    let (cert, cluster) = (input.cert, input.cluster);
    let mut out = Vec::new();
    for ch in open_http01(cert) {
        for route in &ch.solver_routes {
            let Some((proof, summary, evidence)) = route_problem(route, cluster) else {
                continue;
            };
            let mut f = Finding::new(Code::HttprouteNotAttached, Severity::Error, proof, summary)
                .challenge(&ch.name);
            for e in evidence {
                f = f.evidence(e);
            }
            let gateways: Vec<String> = route
                .parent_refs
                .iter()
                .map(|r| {
                    format!(
                        "kubectl get gateway {} -n {} -o yaml",
                        r.name,
                        r.namespace.as_deref().unwrap_or(&route.namespace)
                    )
                })
                .collect();
            out.push(f.fix(format!(
                "attach the route to an HTTP listener on port 80: set parentRefs[].sectionName to that listener (in the {}) and allow routes from namespace {} (allowedRoutes.namespaces.from: All or a selector); the listener hostname must cover {}; see kubectl describe httproute {} -n {}{}",
                issuer_kind_cmd(cert),
                route.namespace,
                ch.dns_name,
                route.name,
                route.namespace,
                gateways.iter().map(|g| format!("; {g}")).collect::<String>()
            )));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Self check, CA, scheduling, backoff
// ---------------------------------------------------------------------------------------------

fn challenge_not_scheduled(input: &Certificate) -> Vec<Finding> {
    open_http01(input.cert)
        .filter(|c| reason::phase(c) == Phase::Scheduling)
        .map(|ch| {
            Finding::new(
                Code::ChallengeNotScheduled,
                Severity::Warning,
                Proof::Supports,
                format!("challenge for {} is waiting for cert-manager's scheduler", ch.dns_name),
            )
            .challenge(&ch.name)
            .evidence("processing=false, no state yet")
            .fix(format!(
                "cert-manager runs one challenge per DNS name at a time, cluster-wide (and at most 60): kubectl get challenges -A | grep {}",
                ch.dns_name
            ))
        })
        .collect()
}

fn self_check_failing(input: &Certificate) -> Vec<Finding> {
    open_http01(input.cert)
        .filter(|c| reason::phase(c) == Phase::SelfCheck)
        .filter_map(|ch| {
            let r = parsed(ch)?;
            if matches!(r, Reason::WaitingWithoutSelfCheck { .. } | Reason::Other { .. }) {
                return None;
            }
            let mut f = Finding::new(
                Code::SelfCheckFailing,
                Severity::Error,
                Proof::Supports,
                format!("cert-manager's self check for {} fails: {}", ch.dns_name, r.short()),
            )
            .challenge(&ch.name)
            .evidence(format!("Challenge {} reason: {}", ch.name, ch.reason.as_deref().unwrap_or("")));
            if let Some(log) = &ch.solver_log {
                f = f.evidence(super::util::log_summary(log));
                if log.requests == 0 && log.lines > 0 {
                    f = f.evidence("no request reached the solver: the self check ends at whatever answers in front of it (edge, controller default backend, another route)");
                }
            }
            Some(
                f.fix(format!(
                    "the probe findings show why; to see it by hand, from a pod in the cluster: curl -sv {}",
                    ch.challenge_url()
                )),
            )
        })
        .collect()
}

fn self_check_skipped(input: &Certificate) -> Vec<Finding> {
    open_http01(input.cert)
        .filter_map(|ch| {
            let wait = ch.solver.wait_instead_of_self_check.as_ref()?;
            Some(
                Finding::new(
                    Code::SelfCheckSkipped,
                    Severity::Info,
                    Proof::Proves,
                    format!("the self check is replaced by a {wait} wait (waitInsteadOfSelfCheck)"),
                )
                .challenge(&ch.name)
                .evidence(format!("Challenge {} spec.solver.waitInsteadOfSelfCheck: {wait}", ch.name))
                .fix("nothing to fix; a wrong guess costs a failed authorization at the CA, so check the probe results before it fires"),
            )
        })
        .collect()
}

fn ca_rejected(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    cert.challenges
        .iter()
        .filter(|c| c.is_http01() && reason::phase(c) == Phase::CaValidation)
        .filter_map(|ch| {
            let r = parsed(ch)?;
            let Reason::CaProblem { problem_type, detail, secondary, .. } = &r else { return None };
            if r.is_rate_limited() {
                return None;
            }
            let t = problem_type.as_deref().unwrap_or("error");
            Some(
                Finding::new(
                    Code::CaRejected,
                    Severity::Error,
                    Proof::Proves,
                    format!(
                        "the CA rejected the challenge for {}{}: {t}",
                        ch.dns_name,
                        if *secondary { " from a remote perspective" } else { "" }
                    ),
                )
                .challenge(&ch.name)
                .evidence(format!("CA detail: {detail}"))
                .evidence(format!("Challenge state: {}", ch.state))
                .fix(format!(
                    "the self check passed but the CA did not: look for what only the outside sees (firewall, IPv6/AAAA, redirects to other ports, CDN); {}",
                    renew_hint(cert)
                )),
            )
        })
        .collect()
}

fn rate_limited(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let mut texts: Vec<(String, &str)> = Vec::new();
    if let Some(o) = &cert.order
        && let Some(r) = &o.reason
    {
        texts.push((format!("Order {}", o.name), r));
    }
    if let Some(cr) = &cert.request {
        for c in &cr.conditions {
            if let Some(m) = &c.message {
                texts.push((format!("CertificateRequest {} {}", cr.name, c.type_), m));
            }
        }
    }
    for c in &cert.conditions {
        if let Some(m) = &c.message {
            texts.push((format!("Certificate {}", c.type_), m));
        }
    }
    for ch in &cert.challenges {
        if let Some(r) = &ch.reason {
            texts.push((format!("Challenge {}", ch.name), r));
        }
    }
    let Some((source, text)) = texts
        .into_iter()
        .find(|(_, t)| reason::parse(t).is_some_and(|r| r.is_rate_limited()))
    else {
        return vec![];
    };
    let staging = cert
        .issuer
        .as_ref()
        .and_then(|i| i.acme.as_ref())
        .is_some_and(|a| a.server.contains("staging"));
    vec![
        Finding::new(
            Code::RateLimited,
            Severity::Error,
            Proof::Proves,
            "the ACME server rate-limits this account or these names",
        )
        .evidence(format!("{source}: {text}"))
        .fix(format!(
            "stop retrying in a loop (don't delete and recreate the Certificate); fix the root cause {}, then wait for the limit to refill; a paused name has an unpause link in the CA's message",
            if staging { "" } else { "against the staging server first" }
        )),
    ]
}

fn issuance_backoff(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let ready = condition(&cert.conditions, "Ready").is_some_and(|c| c.status == "True");
    if ready || cert.request.is_some() {
        return vec![];
    }
    let Some(when) = &cert.last_failure_time else {
        return vec![];
    };
    let attempts = cert.failed_issuance_attempts.unwrap_or(1).max(1);
    let wait_h = 2u64.saturating_pow((attempts - 1).clamp(0, 5) as u32);
    vec![
        Finding::new(
            Code::IssuanceBackoff,
            Severity::Warning,
            Proof::Proves,
            format!("issuance failed at {when} (attempt {attempts}); cert-manager waits about {wait_h}h before the next try"),
        )
        .evidence(format!("Certificate status.lastFailureTime={when}, failedIssuanceAttempts={attempts}, no CertificateRequest in flight"))
        .fix(format!("fix the cause, {}", renew_hint(cert))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::*;

    /// The rules, with every finding checked for evidence, fix and docs link.
    fn findings(input: &Certificate) -> Vec<Finding> {
        let found = super::findings(input);
        crate::diagnose::testdata::assert_complete(&found);
        found
    }

    use crate::diagnose::testdata::stuck;

    fn codes(cert: &CertificateEvidence, cluster: &ClusterEvidence) -> Vec<(Code, Proof)> {
        findings(&Certificate { cert, cluster })
            .iter()
            .map(|f| (f.code, f.proof))
            .collect()
    }

    fn ch(cert: &mut CertificateEvidence) -> &mut ChallengeEvidence {
        &mut cert.challenges[0]
    }

    #[test]
    fn healthy_solver_only_reports_the_self_check() {
        let (cert, cluster) = stuck();
        assert_eq!(
            codes(&cert, &cluster),
            vec![(Code::SelfCheckFailing, Proof::Supports)]
        );
    }

    #[test]
    fn issued_certificate_has_no_findings() {
        let (mut cert, cluster) = stuck();
        cert.conditions[0].status = "True".into();
        cert.request = None;
        cert.order = None;
        cert.challenges.clear();
        assert!(codes(&cert, &cluster).is_empty());
    }

    #[test]
    fn issuer_missing_and_not_ready() {
        let (mut cert, cluster) = stuck();
        cert.issuer.as_mut().unwrap().conditions[0].status = "False".into();
        assert!(codes(&cert, &cluster).contains(&(Code::IssuerNotReady, Proof::Proves)));
        cert.issuer = None;
        cert.issuer_problem = Some("clusterissuers.cert-manager.io \"le\" not found".into());
        assert!(codes(&cert, &cluster).contains(&(Code::IssuerNotFound, Proof::Proves)));
    }

    #[test]
    fn wildcard_without_dns01_solver() {
        let (mut cert, cluster) = stuck();
        cert.dns_names = vec!["*.example.com".into(), "example.com".into()];
        assert!(codes(&cert, &cluster).contains(&(Code::WildcardNeedsDns01, Proof::Proves)));
        // A DNS-01 solver selected for the zone fixes it.
        let acme = cert.issuer.as_mut().unwrap().acme.as_mut().unwrap();
        acme.solvers.push(Solver {
            selector: Some(SolverSelector {
                dns_zones: Some(vec!["example.com".into()]),
                ..Default::default()
            }),
            dns01: Some(serde_json::json!({"cloudflare": {}})),
            ..Default::default()
        });
        assert!(
            !codes(&cert, &cluster)
                .iter()
                .any(|(c, _)| *c == Code::WildcardNeedsDns01)
        );
    }

    #[test]
    fn unserved_ingress_class() {
        let (mut cert, cluster) = stuck();
        ch(&mut cert).solver_ingresses[0].class_name = Some("nginx-002".into());
        ch(&mut cert).solver_ingresses[0].lb_addresses.clear();
        let found = findings(&Certificate {
            cert: &cert,
            cluster: &cluster,
        });
        let f = found
            .iter()
            .find(|f| f.code == Code::IngressClassUnserved)
            .expect("finding");
        assert_eq!(f.proof, Proof::Proves);
        assert!(
            f.fix
                .contains("/spec/acme/solvers/0/http01/ingress/ingressClassName"),
            "{}",
            f.fix
        );
        assert!(f.fix.contains("\"nginx\""), "{}", f.fix);
    }

    #[test]
    fn classless_ingress_without_default() {
        let (mut cert, mut cluster) = stuck();
        ch(&mut cert).solver_ingresses[0].class_name = None;
        assert!(
            !codes(&cert, &cluster)
                .iter()
                .any(|(c, _)| *c == Code::IngressClassUnserved)
        );
        cluster.ingress_classes[0].is_default = false;
        assert!(codes(&cert, &cluster).contains(&(Code::IngressClassUnserved, Proof::Proves)));
    }

    #[test]
    fn image_pull_backoff() {
        let (mut cert, cluster) = stuck();
        let pod = &mut ch(&mut cert).solver_pods[0];
        pod.phase = "Pending".into();
        pod.ready = false;
        pod.waiting_reason = Some("ImagePullBackOff".into());
        pod.image = Some("quay.io/jetstack/cert-manager-acmesolver:v1.19.1".into());
        ch(&mut cert).solver_services[0].ready_endpoints = 0;
        let c = codes(&cert, &cluster);
        assert!(c.contains(&(Code::SolverPodNotRunning, Proof::Proves)));
        // The empty Service is a consequence, not a second root cause.
        assert!(c.contains(&(Code::SolverUnreachable, Proof::Supports)));
    }

    #[test]
    fn service_without_endpoints_while_pod_ready() {
        let (mut cert, cluster) = stuck();
        ch(&mut cert).solver_services[0].ready_endpoints = 0;
        assert!(codes(&cert, &cluster).contains(&(Code::SolverUnreachable, Proof::Proves)));
    }

    #[test]
    fn httproute_not_accepted() {
        let (mut cert, cluster) = stuck();
        ch(&mut cert).solver_ingresses.clear();
        ch(&mut cert).solver_routes.push(RouteEvidence {
            namespace: "shop".into(),
            name: "cm-acme-http-solver-route".into(),
            parent_refs: vec![ParentRef {
                name: "public".into(),
                namespace: Some("gw".into()),
                ..Default::default()
            }],
            parents: vec![RouteParentEvidence {
                parent_ref: ParentRef {
                    name: "public".into(),
                    ..Default::default()
                },
                controller_name: "io.cilium/gateway-controller".into(),
                conditions: vec![Condition {
                    type_: "Accepted".into(),
                    status: "False".into(),
                    reason: Some("NotAllowedByListeners".into()),
                    ..Default::default()
                }],
            }],
            ..Default::default()
        });
        assert!(codes(&cert, &cluster).contains(&(Code::HttprouteNotAttached, Proof::Proves)));
    }

    #[test]
    fn present_errors_are_classified() {
        let (mut cert, cluster) = stuck();
        let c = ch(&mut cert);
        c.presented = false;
        c.reason = Some("Error presenting challenge: admission webhook \"validate.nginx.ingress.kubernetes.io\" denied the request: ingress contains invalid paths: path /.well-known/acme-challenge/tok cannot be used with pathType Exact".into());
        assert_eq!(
            codes(&cert, &cluster),
            vec![(Code::SolverIngressRejected, Proof::Proves)]
        );
        ch(&mut cert).reason = Some("Error presenting challenge: pods \"cm-acme-http-solver-x\" is forbidden: violates PodSecurity \"restricted:latest\"".into());
        assert_eq!(
            codes(&cert, &cluster),
            vec![(Code::SolverPodNotRunning, Proof::Proves)]
        );
        ch(&mut cert).reason = Some("Error presenting challenge: something else".into());
        assert_eq!(
            codes(&cert, &cluster),
            vec![(Code::PresentFailed, Proof::Proves)]
        );
    }

    #[test]
    fn rate_limited_order() {
        let (mut cert, cluster) = stuck();
        cert.challenges.clear();
        cert.order.as_mut().unwrap().state = "errored".into();
        cert.order.as_mut().unwrap().reason = Some("Failed to create Order: 429 urn:ietf:params:acme:error:rateLimited: too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s".into());
        assert_eq!(
            codes(&cert, &cluster),
            vec![(Code::RateLimited, Proof::Proves)]
        );
    }

    #[test]
    fn ca_rejection_and_backoff() {
        let (mut cert, cluster) = stuck();
        let c = ch(&mut cert);
        c.state = "invalid".into();
        c.processing = false;
        c.reason = Some("Error accepting authorization: acme: authorization error for shop.example.com: 403 urn:ietf:params:acme:error:connection: 2001:db8::10: Fetching http://shop.example.com/.well-known/acme-challenge/tok: Timeout during connect (likely firewall problem)".into());
        assert_eq!(
            codes(&cert, &cluster),
            vec![(Code::CaRejected, Proof::Proves)]
        );
        cert.request = None;
        cert.last_failure_time = Some("2026-11-28T05:00:00Z".into());
        cert.failed_issuance_attempts = Some(3);
        let found = findings(&Certificate {
            cert: &cert,
            cluster: &cluster,
        });
        let f = found
            .iter()
            .find(|f| f.code == Code::IssuanceBackoff)
            .expect("backoff");
        assert!(f.summary.contains("4h"), "{}", f.summary);
    }

    #[test]
    fn scheduling_and_skipped_self_check() {
        let (mut cert, cluster) = stuck();
        let c = ch(&mut cert);
        c.processing = false;
        c.presented = false;
        c.state = String::new();
        c.reason = None;
        c.solver.wait_instead_of_self_check = Some("5m".into());
        let got = codes(&cert, &cluster);
        assert!(got.contains(&(Code::ChallengeNotScheduled, Proof::Supports)));
        assert!(got.contains(&(Code::SelfCheckSkipped, Proof::Proves)));
    }

    #[test]
    fn two_defaults_and_two_controllers_for_one_class() {
        let (cert, mut cluster) = stuck();
        cluster.ingress_classes.push(IngressClassEvidence {
            name: "traefik".into(),
            controller: "traefik.io/ingress-controller".into(),
            is_default: true,
        });
        let mut second = cluster.data_planes[0].clone();
        second.name = "ingress-nginx-old".into();
        cluster.data_planes.push(second);
        let dups = codes(&cert, &cluster)
            .iter()
            .filter(|(c, _)| *c == Code::DuplicateController)
            .count();
        assert_eq!(dups, 2);
    }

    #[test]
    fn gateway_api_off() {
        let (mut cert, mut cluster) = stuck();
        let c = ch(&mut cert);
        c.solver.http01 = Some(Http01Solver {
            ingress: None,
            gateway_http_route: Some(Http01GatewayRoute {
                parent_refs: vec![ParentRef {
                    name: "public".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        });
        c.solver_ingresses.clear();
        c.presented = false;
        c.reason = Some("Waiting for HTTP-01 challenge propagation: couldn't Present challenge shop/web-1-123-456: gateway api is not enabled".into());
        cluster.gateway_api_installed = false;
        let got = codes(&cert, &cluster);
        assert_eq!(got, vec![(Code::GatewayApiDisabled, Proof::Proves)]);
    }
}
