//! Rules that join the cluster objects with what one vantage's probe saw and, when they were
//! read, the solver pod's logs: who captured the path, who rewrote the Host, which load
//! balancer the solver sits on, which data plane is stale, `externalTrafficPolicy: Local` with
//! too few nodes, and protocol mix-ups at the edge. Pure; each rule is small.

use super::util::{ingress_class, log_summary, outcome_summary, renew_hint, solver_patch};
use super::view::Joint;
use super::{Code, Finding, Proof, Severity};
use crate::evidence::{
    CertificateEvidence, ChallengeEvidence, ClusterEvidence, DataPlaneEvidence, IngressEvidence,
    ServiceEvidence,
};
use crate::probe::plan::{AddressReport, TargetReport};
use crate::reason::{self, Phase, Reason};

type Rule = fn(&Joint) -> Vec<Finding>;

pub(super) const RULES: &[Rule] = &[
    host_not_preserved,
    path_captured,
    solver_on_other_lb,
    dataplane_stale,
    etp_local_partial,
    edge_protocol_mismatch,
];

/// Run every joint rule for the open HTTP-01 challenges of one certificate; `probe` looks up a
/// challenge's probe report.
pub fn findings<'a>(
    cert: &'a CertificateEvidence,
    cluster: &'a ClusterEvidence,
    probe: impl Fn(&ChallengeEvidence) -> Option<&'a TargetReport>,
) -> Vec<Finding> {
    cert.challenges
        .iter()
        .filter(|c| c.is_http01() && !matches!(reason::phase(c), Phase::Done))
        .flat_map(|ch| {
            let ctx = Joint {
                cert,
                ch,
                cluster,
                probe: probe(ch),
            };
            RULES.iter().flat_map(|r| r(&ctx)).collect::<Vec<_>>()
        })
        .collect()
}

/// Solver pods whose logs can decide something: the self check fails at the HTTP level
/// (a status or a wrong body, so a request may have reached the solver) and no error finding
/// proves a cause for that challenge. `(namespace, pod)` of the first ready pod each.
pub fn solver_logs_wanted(
    cert: &CertificateEvidence,
    findings: &[Finding],
) -> Vec<(String, String)> {
    cert.challenges
        .iter()
        .filter(|c| c.is_http01() && reason::phase(c) == Phase::SelfCheck && c.solver_log.is_none())
        .filter(|c| {
            matches!(
                c.reason.as_deref().and_then(reason::parse),
                Some(Reason::WrongStatus { .. } | Reason::BodyMismatch { .. })
            )
        })
        .filter(|c| {
            !findings.iter().any(|f| {
                f.severity == Severity::Error
                    && f.proof == Proof::Proves
                    && f.challenge.as_deref().is_none_or(|n| n == c.name)
            })
        })
        .filter_map(|c| c.solver_pods.iter().find(|p| p.ready))
        .map(|p| (p.namespace.clone(), p.name.clone()))
        .collect()
}

fn challenge_path(ch: &ChallengeEvidence) -> String {
    format!("/.well-known/acme-challenge/{}", ch.token)
}

// ---------------------------------------------------------------------------------------------

/// RC06: the solver logged requests whose Host is not the challenge's name.
fn host_not_preserved(c: &Joint) -> Vec<Finding> {
    let Some(log) = &c.ch.solver_log else {
        return vec![];
    };
    let Some((host, n)) = log.invalid_hosts.first() else {
        return vec![];
    };
    let kong = solver_planes(c)
        .iter()
        .any(|p| p.product.as_deref() == Some("kong"));
    let fix = if kong {
        solver_patch(
            c.cert,
            &c.ch.solver,
            "ingress/ingressTemplate",
            "{\"metadata\":{\"annotations\":{\"konghq.com/preserve-host\":\"true\"}}}",
        )
    } else {
        format!(
            "make every proxy between the edge and the solver forward the original Host header {} (remove upstream-vhost / Host-rewriting annotations or middlewares on the route for {})",
            c.ch.dns_name, c.ch.dns_name
        )
    };
    vec![
        Finding::new(
            Code::HostNotPreserved,
            Severity::Error,
            Proof::Proves,
            format!(
                "the solver received {n} request(s) with Host {host:?} instead of {:?} and answered 404: a proxy on the way rewrites the Host header",
                c.ch.dns_name
            ),
        )
        .challenge(&c.ch.name)
        .evidence(log_summary(log))
        .evidence(format!("acmesolver compares Host with --domain={} exactly", c.ch.dns_name))
        .fix(fix),
    ]
}

/// Annotations with which another Ingress for the host captures the challenge path.
const CAPTURING: &[&str] = &[
    "/rewrite-target",
    "/use-regex",
    "/app-root",
    "/permanent-redirect",
    "/temporal-redirect",
    "/auth-url",
    "/auth-type",
    "/server-snippet",
    "/configuration-snippet",
    "/router.middlewares",
];

/// How `ing` captures `path` for `host`: a conflicting path, or a catch-all with a capturing
/// annotation. None when it does not.
fn capture(ing: &IngressEvidence, host: &str, path: &str) -> Option<String> {
    let annotations: Vec<String> = ing
        .relevant_annotations
        .iter()
        .filter(|(k, _)| CAPTURING.iter().any(|s| k.ends_with(s)))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let wildcard = host.split_once('.').map(|(_, p)| format!("*.{p}"));
    for r in ing
        .rules
        .iter()
        .filter(|r| r.host == host || Some(&r.host) == wildcard.as_ref())
    {
        let kind = r.path_type.as_deref().unwrap_or("ImplementationSpecific");
        let svc = r.service.as_deref().unwrap_or("-");
        if r.path == path && !ing.edit_in_place {
            return Some(format!(
                "Ingress {}/{} also routes {path} ({kind}) for {host}, to Service {svc}",
                ing.namespace, ing.name
            ));
        }
        let prefix = r.path.is_empty() || path.starts_with(&r.path) || r.path.contains(".*");
        if prefix && !annotations.is_empty() {
            return Some(format!(
                "Ingress {}/{} routes {} ({kind}) for {} to Service {svc} with {}",
                ing.namespace,
                ing.name,
                if r.path.is_empty() { "/" } else { &r.path },
                r.host,
                annotations.join(", ")
            ));
        }
    }
    None
}

/// The class an Ingress is served under: its own, else the default IngressClass.
fn effective_class<'a>(ing: &'a IngressEvidence, cluster: &'a ClusterEvidence) -> Option<&'a str> {
    ingress_class(ing).or_else(|| {
        cluster
            .ingress_classes
            .iter()
            .find(|k| k.is_default)
            .map(|k| k.name.as_str())
    })
}

/// Probe outcomes that show an application answered (not the solver, not a plain 404).
fn app_answers(probe: Option<&TargetReport>) -> Vec<String> {
    probe
        .into_iter()
        .flat_map(|t| &t.addresses)
        .filter(|a| {
            a.outcomes.iter().any(|o| {
                !o.cert_manager_pass
                    && matches!(o.status, Some(s) if s != 404 && s < 500)
                    && !o.responder.starts_with("acmesolver")
            })
        })
        .map(|a| format!("{}  {}", a.address, outcome_summary(a)))
        .collect()
}

/// RC05: another Ingress for the same host captures `/.well-known/acme-challenge/<token>`.
fn path_captured(c: &Joint) -> Vec<Finding> {
    let path = challenge_path(c.ch);
    let solver_class =
        c.ch.solver_ingresses
            .iter()
            .find(|i| !i.edit_in_place)
            .and_then(|i| effective_class(i, c.cluster));
    let captures: Vec<(&IngressEvidence, String)> =
        c.ch.host_ingresses
            .iter()
            .chain(c.ch.solver_ingresses.iter().filter(|i| i.edit_in_place))
            .filter(|i| {
                let class = effective_class(i, c.cluster);
                solver_class.is_none() || class.is_none() || class == solver_class
            })
            .filter_map(|i| capture(i, &c.ch.dns_name, &path).map(|how| (i, how)))
            .collect();
    let log_proof = c.ch.solver_log.as_ref().and_then(|l| {
        let rewritten = l.invalid_paths.first().map(|(p, n)| {
            format!("the solver received {n} request(s) for path {p:?} instead of {path:?}")
        });
        let health = (l.health_checks > 0 && l.served == 0).then(|| {
            format!("the solver received {} request(s) rewritten to / (answered 200 with an empty body)", l.health_checks)
        });
        rewritten.or(health)
    });
    if captures.is_empty() && log_proof.is_none() {
        return vec![];
    }
    let apps = app_answers(c.probe);
    let proof = if log_proof.is_some() || (!captures.is_empty() && !apps.is_empty()) {
        Proof::Proves
    } else {
        Proof::Supports
    };
    let mut f = Finding::new(
        Code::PathCaptured,
        Severity::Error,
        proof,
        match (&log_proof, captures.first()) {
            (Some(l), _) => {
                format!("the challenge path is rewritten before it reaches the solver: {l}")
            }
            (None, Some((i, _))) => format!(
                "{} other Ingress(es) for {} can capture {path}, e.g. {}/{}",
                captures.len(),
                c.ch.dns_name,
                i.namespace,
                i.name
            ),
            (None, None) => String::new(),
        },
    )
    .challenge(&c.ch.name);
    for (_, how) in &captures {
        f = f.evidence(how.clone());
    }
    for a in apps {
        f = f.evidence(format!("answered by something other than the solver: {a}"));
    }
    if let Some(l) = &c.ch.solver_log {
        f = f.evidence(log_summary(l));
    }
    let fix = match captures.first() {
        Some((i, _)) if i.edit_in_place => format!(
            "stop editing Ingress {}/{} in place (its annotations apply to the challenge path): remove `name` from the solver in the {} so cert-manager creates its own Ingress",
            i.namespace,
            i.name,
            super::util::issuer_kind_cmd(c.cert)
        ),
        Some((i, _)) => format!(
            "kubectl -n {} edit ingress {} — take the capturing annotation or the conflicting path away from {} for host {} (move the rewrite/regex/redirect/auth to an Ingress for the application's own paths, so /.well-known/acme-challenge/ is matched by the solver's Exact path only)",
            i.namespace, i.name, path, c.ch.dns_name
        ),
        None => "remove rewrite-target / path-rewriting middlewares from the route that carries /.well-known/acme-challenge/ to the solver".to_owned(),
    };
    vec![f.fix(fix)]
}

/// IngressClass controllers that create one cloud load balancer per Ingress.
fn per_ingress_lb(class: &str, cluster: &ClusterEvidence) -> bool {
    let controller = cluster
        .ingress_classes
        .iter()
        .find(|k| k.name == class)
        .map(|k| k.controller.as_str())
        .unwrap_or("");
    class == "gce"
        || class == "alb"
        || controller.contains("ingress.k8s.aws")
        || controller.contains("gce")
}

/// RC07: the solver Ingress got its own load-balancer address, which DNS does not point at.
fn solver_on_other_lb(c: &Joint) -> Vec<Finding> {
    let Some(ans) = c
        .probe
        .and_then(|p| p.dns.resolvers.iter().find(|a| a.role == "primary"))
    else {
        return vec![];
    };
    let dns: Vec<&String> = ans.a.iter().chain(&ans.aaaa).chain(&ans.cname).collect();
    if dns.is_empty() {
        return vec![];
    }
    let shared: Vec<&String> = c
        .cluster
        .data_planes
        .iter()
        .flat_map(|p| &p.services)
        .flat_map(|s| &s.lb_addresses)
        .collect();
    let mut out = Vec::new();
    for ing in
        c.ch.solver_ingresses
            .iter()
            .filter(|i| !i.edit_in_place && !i.lb_addresses.is_empty())
    {
        if ing.lb_addresses.iter().any(|a| dns.contains(&a)) {
            continue;
        }
        let class = effective_class(ing, c.cluster).unwrap_or("");
        let dedicated = per_ingress_lb(class, c.cluster)
            || !ing.lb_addresses.iter().any(|a| shared.contains(&a));
        if !dedicated {
            continue;
        }
        let app =
            c.ch.host_ingresses
                .iter()
                .find(|i| i.lb_addresses.iter().any(|a| dns.contains(&a)));
        let mut f = Finding::new(
            Code::SolverOnOtherLb,
            Severity::Error,
            Proof::Proves,
            format!(
                "the solver Ingress {} has its own load balancer {}, but {} resolves to {}",
                ing.name,
                ing.lb_addresses.join(", "),
                c.ch.dns_name,
                dns.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .challenge(&c.ch.name)
        .evidence(format!(
            "Ingress {}/{} class {class:?}: status.loadBalancer {}",
            ing.namespace,
            ing.name,
            ing.lb_addresses.join(", ")
        ))
        .evidence(format!(
            "DNS ({}): {}",
            ans.resolver,
            dns.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if let Some(a) = app {
            f = f.evidence(format!(
                "Ingress {}/{} (the application's) has {}",
                a.namespace,
                a.name,
                a.lb_addresses.join(", ")
            ));
        }
        let target = app.map_or(
            "<the Ingress that owns the address in DNS>".to_owned(),
            |a| a.name.clone(),
        );
        let fix = if class == "alb" || class.contains("aws") {
            solver_patch(
                c.cert,
                &c.ch.solver,
                "ingress/ingressTemplate",
                "{\"metadata\":{\"annotations\":{\"alb.ingress.kubernetes.io/group.name\":\"<group of the application's Ingress>\"}}}",
            )
        } else {
            solver_patch(
                c.cert,
                &c.ch.solver,
                "ingress/name",
                &format!("\"{target}\""),
            )
        };
        out.push(f.fix(format!(
            "{fix} (so the challenge path joins the load balancer DNS points at), or use DNS-01"
        )));
    }
    out
}

/// Data planes that carry the solver's route: ingress controllers for its class, Gateways in
/// its HTTPRoute's parentRefs.
fn solver_planes<'a>(c: &Joint<'a>) -> Vec<&'a DataPlaneEvidence> {
    let classes: Vec<&str> =
        c.ch.solver_ingresses
            .iter()
            .filter_map(|i| effective_class(i, c.cluster))
            .collect();
    c.cluster
        .data_planes
        .iter()
        .filter(|p| {
            let by_class = p.kind == "ingress-controller"
                && classes.iter().any(|k| {
                    p.ingress_classes.iter().any(|pc| pc == k)
                        || c.cluster.ingress_classes.iter().any(|ic| {
                            ic.name == *k && Some(&ic.controller) == p.controller.as_ref()
                        })
                });
            let by_route = p.kind == "gateway"
                && c.ch
                    .solver_routes
                    .iter()
                    .flat_map(|r| {
                        r.parent_refs.iter().map(move |pr| {
                            (
                                pr.namespace.as_deref().unwrap_or(&r.namespace),
                                pr.name.as_str(),
                            )
                        })
                    })
                    .any(|(ns, name)| ns == p.namespace && name == p.name);
            by_class || by_route
        })
        .collect()
}

/// How to look at a data plane's logs and restart it.
fn plane_fix(p: &DataPlaneEvidence) -> String {
    if p.kind == "gateway" {
        format!(
            "kubectl describe gateway {} -n {} and the logs of its implementation's pods; restart them after fixing what blocks the configuration",
            p.name, p.namespace
        )
    } else {
        format!(
            "kubectl logs deploy/{n} -n {ns} --all-containers | grep -iE 'error|reload|invalid' (an unrelated bad object can block every reload), fix it, then kubectl rollout restart deployment {n} -n {ns}",
            n = p.name,
            ns = p.namespace
        )
    }
}

/// One address where the same responder sometimes serves the key and sometimes does not.
fn same_responder_mix(a: &AddressReport) -> Option<(String, u32, u32)> {
    let who = a.responders();
    let [who] = who.as_slice() else { return None };
    let good: u32 = a
        .outcomes
        .iter()
        .filter(|o| o.cert_manager_pass)
        .map(|o| o.count)
        .sum();
    let bad: u32 = a
        .outcomes
        .iter()
        .filter(|o| !o.cert_manager_pass && o.status.is_some())
        .map(|o| o.count)
        .sum();
    (good > 0 && bad > 0).then(|| ((*who).to_owned(), good, bad))
}

/// RC10: the controller took the solver route but its proxies do not (all) serve it.
fn dataplane_stale(c: &Joint) -> Vec<Finding> {
    let planes = solver_planes(c);
    let accepted =
        c.ch.solver_ingresses
            .iter()
            .any(|i| !i.lb_addresses.is_empty());
    let down = planes
        .iter()
        .find(|p| p.kind == "ingress-controller" && p.ready_replicas == Some(0));
    let mix = c
        .probe
        .into_iter()
        .flat_map(|t| &t.addresses)
        .find_map(|a| same_responder_mix(a).map(|m| (a, m)));
    let (proof, summary, mut lines) = match (down, mix) {
        (Some(p), _) if accepted => (
            Proof::Proves,
            format!(
                "ingress controller {}/{} has 0 ready replicas, yet the solver Ingress was given an address: nothing serves the route",
                p.namespace, p.name
            ),
            vec![],
        ),
        (_, Some((a, (who, good, bad)))) => (
            Proof::Supports,
            format!(
                "{} answers as {who} every time, but only {good} of {} fresh connections get the key ({bad} do not): some replicas of the data plane have not loaded the solver route",
                a.address, a.attempts
            ),
            vec![format!("{}  {}", a.address, outcome_summary(a))],
        ),
        _ => return vec![],
    };
    for p in &planes {
        lines.push(format!(
            "{} {}/{}: {} ready replica(s)",
            p.kind,
            p.namespace,
            p.name,
            p.ready_replicas.map_or("unknown".into(), |n| n.to_string())
        ));
    }
    let target = down.copied().or(planes.first().copied());
    let fix = target.map_or_else(
        || "check the data plane's logs for reload errors and restart its pods".to_owned(),
        plane_fix,
    );
    let mut f =
        Finding::new(Code::DataplaneStale, Severity::Error, proof, summary).challenge(&c.ch.name);
    for l in lines {
        f = f.evidence(l);
    }
    vec![f.fix(fix)]
}

/// LoadBalancer/NodePort Services with `externalTrafficPolicy: Local` among the solver's planes.
fn local_services<'a>(planes: &[&'a DataPlaneEvidence]) -> Vec<&'a ServiceEvidence> {
    planes
        .iter()
        .flat_map(|p| &p.services)
        .filter(|s| s.external_traffic_policy.as_deref() == Some("Local"))
        .filter(|s| s.type_ == "LoadBalancer" || s.type_ == "NodePort")
        .collect()
}

fn dial_failures(a: &AddressReport) -> u32 {
    a.outcomes
        .iter()
        .filter(|o| o.error_class.is_some_and(|e| e.is_dial_failure()))
        .map(|o| o.count)
        .sum()
}

/// RC14: `externalTrafficPolicy: Local`, and some addresses (or connections) get through while
/// others are dropped or refused — nodes without a ready controller pod.
fn etp_local_partial(c: &Joint) -> Vec<Finding> {
    let planes = solver_planes(c);
    let Some(svc) = local_services(&planes).into_iter().next() else {
        return vec![];
    };
    let Some(t) = c.probe else { return vec![] };
    let passing = t.addresses.iter().any(|a| a.cert_manager_passes > 0);
    let dropped: Vec<&AddressReport> = t
        .addresses
        .iter()
        .filter(|a| dial_failures(a) > 0)
        .collect();
    if !passing || dropped.is_empty() {
        return vec![];
    }
    let mut f = Finding::new(
        Code::EtpLocalPartial,
        Severity::Error,
        Proof::Supports,
        format!(
            "Service {}/{} has externalTrafficPolicy: Local with {} ready endpoint(s); {} of {} probed address(es) drop or refuse connections — nodes without a controller pod do not answer",
            svc.namespace,
            svc.name,
            svc.ready_endpoints,
            dropped.len(),
            t.addresses.len()
        ),
    )
    .challenge(&c.ch.name);
    for a in &t.addresses {
        f = f.evidence(format!("{}  {}", a.address, outcome_summary(a)));
    }
    let ports: Vec<String> = svc
        .ports
        .iter()
        .filter_map(|p| p.node_port.map(|n| format!("{}→NodePort {n}", p.port)))
        .collect();
    if !ports.is_empty() {
        f = f.evidence(format!("Service ports: {}", ports.join(", ")));
    }
    vec![f.fix(format!(
        "kubectl -n {} patch service {} -p '{{\"spec\":{{\"externalTrafficPolicy\":\"Cluster\"}}}}' (loses the client IP), or run the controller on every node the edge sends to (DaemonSet), or make the edge health-check the Service's healthCheckNodePort",
        svc.namespace, svc.name
    ))]
}

/// Bodies of "plain HTTP sent to a TLS port" pages (nginx, Apache).
const PLAIN_TO_TLS: &[&str] = &[
    "plain http request was sent to https port",
    "speaking plain http to an ssl-enabled server port",
];

/// Port 80 of a data-plane Service that targets a TLS port.
fn tls_target(svc: &ServiceEvidence) -> Option<(usize, String)> {
    svc.ports.iter().enumerate().find_map(|(i, p)| {
        let t = p.target_port.as_deref().unwrap_or("");
        (p.port == 80 && ["https", "443", "8443", "websecure"].contains(&t))
            .then(|| (i, t.to_owned()))
    })
}

/// RC19: port 80 reaches a TLS listener (or the reverse): 400 "plain HTTP … HTTPS port".
fn edge_protocol_mismatch(c: &Joint) -> Vec<Finding> {
    let seen = c
        .probe
        .into_iter()
        .flat_map(|t| &t.addresses)
        .find_map(|a| {
            a.samples
                .iter()
                .find(|s| {
                    let b = s.body_prefix.to_ascii_lowercase();
                    PLAIN_TO_TLS.iter().any(|p| b.contains(p))
                })
                .map(|s| (a, s.status))
        });
    let planes = solver_planes(c);
    let mapped = planes
        .iter()
        .flat_map(|p| &p.services)
        .find_map(|s| tls_target(s).map(|t| (s, t)));
    let (severity, proof, summary) = match (seen, &mapped) {
        (Some((a, status)), _) => (
            Severity::Error,
            Proof::Proves,
            format!(
                "{}:80 answers {} \"plain HTTP request sent to HTTPS port\": port 80 is wired to a TLS listener",
                a.address,
                status.map_or("-".into(), |s| s.to_string())
            ),
        ),
        (None, Some((s, (_, t)))) => (
            Severity::Warning,
            Proof::Supports,
            format!(
                "Service {}/{} maps port 80 to targetPort {t}, a TLS port",
                s.namespace, s.name
            ),
        ),
        _ => return vec![],
    };
    let mut f =
        Finding::new(Code::EdgeProtocolMismatch, severity, proof, summary).challenge(&c.ch.name);
    if let Some((a, _)) = seen {
        f = f.evidence(format!("{}  {}", a.address, outcome_summary(a)));
    }
    let fix = match mapped {
        Some((s, (i, t))) => {
            f = f.evidence(format!(
                "Service {}/{} port 80 → targetPort {t}",
                s.namespace, s.name
            ));
            format!(
                "kubectl -n {} patch service {} --type=json -p '[{{\"op\":\"replace\",\"path\":\"/spec/ports/{i}/targetPort\",\"value\":\"http\"}}]'",
                s.namespace, s.name
            )
        }
        None => format!(
            "map the edge's port 80 to the ingress controller's plain-HTTP port (not 443), and talk plain HTTP to the solver route; {}",
            renew_hint(c.cert)
        ),
    };
    vec![f.fix(fix)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::*;
    use crate::probe::plan::{
        Attempt, DnsReport, ErrorClass, KeyMatch, OutcomeCount, ResolverAnswer,
    };

    use crate::diagnose::testdata::addr;

    /// An outcome that passes (200 + key) or not.
    fn oc(
        status: Option<u16>,
        err: Option<ErrorClass>,
        who: &str,
        pass: bool,
        n: u32,
    ) -> OutcomeCount {
        let km = if pass { KeyMatch::Exact } else { KeyMatch::No };
        crate::diagnose::testdata::oc(status, err, who, km, n)
    }

    fn probe(addresses: Vec<AddressReport>) -> TargetReport {
        TargetReport {
            dns: DnsReport {
                resolvers: vec![ResolverAnswer {
                    resolver: "system".into(),
                    role: "primary".into(),
                    a: addresses.iter().map(|a| a.address.clone()).collect(),
                    ..Default::default()
                }],
                ip_literal: false,
                ..Default::default()
            },
            addresses,
            ..Default::default()
        }
    }

    /// The shared stuck-in-self-check fixture (nginx solver Ingress, one ingress-nginx plane).
    fn base() -> (CertificateEvidence, ClusterEvidence) {
        crate::diagnose::testdata::stuck()
    }

    fn run(
        cert: &CertificateEvidence,
        cluster: &ClusterEvidence,
        p: Option<&TargetReport>,
    ) -> Vec<Finding> {
        let found = findings(cert, cluster, |_| p);
        crate::diagnose::testdata::assert_complete(&found);
        found
    }

    fn code(found: &[Finding], c: Code) -> Option<Finding> {
        found.iter().find(|f| f.code == c).cloned()
    }

    fn healthy_probe() -> TargetReport {
        probe(vec![addr(
            "203.0.113.10",
            vec![oc(Some(200), None, "acmesolver", true, 66)],
        )])
    }

    #[test]
    fn healthy_challenge_has_no_joint_findings() {
        let (cert, cluster) = base();
        assert!(run(&cert, &cluster, Some(&healthy_probe())).is_empty());
        assert!(run(&cert, &cluster, None).is_empty());
    }

    #[test]
    fn host_rewritten_on_the_way() {
        let (mut cert, mut cluster) = base();
        cert.challenges[0].solver_log = Some(SolverLogEvidence {
            namespace: "shop".into(),
            pod: "cm-acme-http-solver-abc".into(),
            requests: 9,
            invalid_hosts: vec![("10.32.3.80".into(), 9)],
            ..Default::default()
        });
        let f = code(&run(&cert, &cluster, None), Code::HostNotPreserved).expect("host");
        assert_eq!(f.proof, Proof::Proves);
        assert!(f.summary.contains("10.32.3.80"), "{}", f.summary);
        // On Kong the fix is the preserve-host annotation through the solver's ingressTemplate.
        cluster.data_planes[0].product = Some("kong".into());
        let f = code(&run(&cert, &cluster, None), Code::HostNotPreserved).unwrap();
        assert!(
            f.fix.contains("konghq.com/preserve-host") && f.fix.contains("clusterissuer le"),
            "{}",
            f.fix
        );
        // Logs without wrong hosts: nothing.
        cert.challenges[0]
            .solver_log
            .as_mut()
            .unwrap()
            .invalid_hosts
            .clear();
        assert!(code(&run(&cert, &cluster, None), Code::HostNotPreserved).is_none());
    }

    fn app_ingress(
        annotation: Option<(&str, &str)>,
        path: &str,
        path_type: &str,
    ) -> IngressEvidence {
        IngressEvidence {
            namespace: "shop".into(),
            name: "web".into(),
            class_name: Some("nginx".into()),
            rules: vec![IngressRuleEvidence {
                host: "shop.example.com".into(),
                path: path.into(),
                path_type: Some(path_type.into()),
                service: Some("web".into()),
                port: Some(80),
            }],
            relevant_annotations: annotation
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn rewrite_on_a_catch_all_captures_the_path() {
        let (mut cert, cluster) = base();
        cert.challenges[0].host_ingresses = vec![app_ingress(
            Some(("nginx.ingress.kubernetes.io/rewrite-target", "/")),
            "/",
            "Prefix",
        )];
        let f = code(&run(&cert, &cluster, None), Code::PathCaptured).expect("captured");
        assert_eq!(f.proof, Proof::Supports);
        assert!(
            f.fix.contains("kubectl -n shop edit ingress web"),
            "{}",
            f.fix
        );
        // The probe sees the application's page: proved.
        let p = probe(vec![addr(
            "203.0.113.10",
            vec![oc(Some(200), None, "nginx", false, 66)],
        )]);
        let f = code(&run(&cert, &cluster, Some(&p)), Code::PathCaptured).unwrap();
        assert_eq!(f.proof, Proof::Proves);
        // Without the annotation a Prefix "/" does not beat the solver's Exact path.
        cert.challenges[0].host_ingresses = vec![app_ingress(None, "/", "Prefix")];
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::PathCaptured).is_none());
        // Another class (another controller) does not capture.
        let mut other = app_ingress(
            Some(("nginx.ingress.kubernetes.io/rewrite-target", "/")),
            "/",
            "Prefix",
        );
        other.class_name = Some("traefik".into());
        cert.challenges[0].host_ingresses = vec![other];
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::PathCaptured).is_none());
    }

    #[test]
    fn exact_conflict_and_rewritten_path_in_the_logs() {
        let (mut cert, cluster) = base();
        cert.challenges[0].host_ingresses = vec![app_ingress(
            None,
            "/.well-known/acme-challenge/tok",
            "Exact",
        )];
        assert!(code(&run(&cert, &cluster, None), Code::PathCaptured).is_some());
        let (mut cert, cluster) = base();
        cert.challenges[0].solver_log = Some(SolverLogEvidence {
            requests: 5,
            invalid_paths: vec![("/tok".into(), 5)],
            ..Default::default()
        });
        let f = code(&run(&cert, &cluster, None), Code::PathCaptured).expect("rewritten");
        assert_eq!(f.proof, Proof::Proves);
        assert!(f.summary.contains("\"/tok\""), "{}", f.summary);
    }

    #[test]
    fn solver_ingress_on_its_own_load_balancer() {
        let (mut cert, mut cluster) = base();
        cluster.ingress_classes[0] = IngressClassEvidence {
            name: "gce".into(),
            controller: "k8s.io/ingress-gce".into(),
            is_default: false,
        };
        cluster.data_planes.clear();
        let ch = &mut cert.challenges[0];
        ch.solver_ingresses[0].class_name = Some("gce".into());
        ch.solver_ingresses[0].lb_addresses = vec!["198.51.100.77".into()];
        let mut app = app_ingress(None, "/", "Prefix");
        app.lb_addresses = vec!["203.0.113.10".into()];
        ch.host_ingresses = vec![app];
        let p = probe(vec![addr(
            "203.0.113.10",
            vec![oc(Some(404), None, "gclb", false, 66)],
        )]);
        let f = code(&run(&cert, &cluster, Some(&p)), Code::SolverOnOtherLb).expect("other lb");
        assert!(
            f.fix.contains("/http01/ingress/name") && f.fix.contains("\"web\""),
            "{}",
            f.fix
        );
        // Same address as DNS: fine.
        cert.challenges[0].solver_ingresses[0].lb_addresses = vec!["203.0.113.10".into()];
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::SolverOnOtherLb).is_none());
    }

    #[test]
    fn shared_controller_address_behind_an_edge_is_not_another_lb() {
        // DNS points at an external edge; the solver Ingress shows the controller's own LB.
        let (cert, cluster) = base();
        let p = probe(vec![addr(
            "192.0.2.5",
            vec![oc(Some(200), None, "nginx", true, 66)],
        )]);
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::SolverOnOtherLb).is_none());
    }

    #[test]
    fn stale_data_plane() {
        let (cert, mut cluster) = base();
        cluster.data_planes[0].ready_replicas = Some(0);
        let f = code(&run(&cert, &cluster, None), Code::DataplaneStale).expect("down");
        assert_eq!(f.proof, Proof::Proves);
        assert!(
            f.fix.contains(
                "kubectl rollout restart deployment ingress-nginx-controller -n ingress-nginx"
            ),
            "{}",
            f.fix
        );
        // Same responder, sometimes the key, sometimes 404: some replicas are stale.
        let (cert, cluster) = base();
        let p = probe(vec![addr(
            "203.0.113.10",
            vec![
                oc(Some(200), None, "nginx", true, 40),
                oc(Some(404), None, "nginx", false, 26),
            ],
        )]);
        let f = code(&run(&cert, &cluster, Some(&p)), Code::DataplaneStale).expect("mix");
        assert_eq!(f.proof, Proof::Supports);
        // Two responders is MIXED_BACKENDS' case, not this one.
        let p = probe(vec![addr(
            "203.0.113.10",
            vec![
                oc(Some(200), None, "nginx", true, 40),
                oc(Some(404), None, "envoy", false, 26),
            ],
        )]);
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::DataplaneStale).is_none());
    }

    #[test]
    fn etp_local_with_nodes_that_drop() {
        let (cert, mut cluster) = base();
        cluster.data_planes[0].services[0].external_traffic_policy = Some("Local".into());
        let p = probe(vec![
            addr("192.0.2.11", vec![oc(Some(200), None, "nginx", true, 66)]),
            addr(
                "192.0.2.12",
                vec![oc(None, Some(ErrorClass::ConnectTimeout), "-", false, 66)],
            ),
        ]);
        let f = code(&run(&cert, &cluster, Some(&p)), Code::EtpLocalPartial).expect("etp");
        assert!(
            f.fix
                .contains("kubectl -n ingress-nginx patch service ingress-nginx-controller"),
            "{}",
            f.fix
        );
        // Founding incident shape (ETP Local, but a 404 from another backend): not this.
        let p = probe(vec![addr(
            "203.0.113.10",
            vec![
                oc(Some(200), None, "nginx", true, 33),
                oc(Some(404), None, "envoy", false, 33),
            ],
        )]);
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::EtpLocalPartial).is_none());
        // ETP Cluster: not this either.
        cluster.data_planes[0].services[0].external_traffic_policy = Some("Cluster".into());
        let p = probe(vec![
            addr("192.0.2.11", vec![oc(Some(200), None, "nginx", true, 66)]),
            addr(
                "192.0.2.12",
                vec![oc(None, Some(ErrorClass::ConnectTimeout), "-", false, 66)],
            ),
        ]);
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::EtpLocalPartial).is_none());
    }

    #[test]
    fn plain_http_to_a_tls_port() {
        let (cert, mut cluster) = base();
        let mut a = addr(
            "203.0.113.10",
            vec![oc(Some(400), None, "nginx", false, 66)],
        );
        a.samples.push(Attempt {
            status: Some(400),
            responder: "nginx".into(),
            body_prefix:
                "<html>\\r\\n<head><title>400 The plain HTTP request was sent to HTTPS port".into(),
            ..Default::default()
        });
        let p = probe(vec![a]);
        let f = code(&run(&cert, &cluster, Some(&p)), Code::EdgeProtocolMismatch).expect("proto");
        assert_eq!((f.severity, f.proof), (Severity::Error, Proof::Proves));
        // The Service maps 80 to https: named in the fix.
        cluster.data_planes[0].services[0].ports[0].target_port = Some("https".into());
        let f = code(&run(&cert, &cluster, Some(&p)), Code::EdgeProtocolMismatch).unwrap();
        assert!(f.fix.contains("/spec/ports/0/targetPort"), "{}", f.fix);
        // The mapping alone is a warning.
        let f = code(&run(&cert, &cluster, None), Code::EdgeProtocolMismatch).unwrap();
        assert_eq!((f.severity, f.proof), (Severity::Warning, Proof::Supports));
        let (cert, cluster) = base();
        assert!(
            code(
                &run(&cert, &cluster, Some(&healthy_probe())),
                Code::EdgeProtocolMismatch
            )
            .is_none()
        );
    }

    #[test]
    fn logs_are_wanted_only_when_they_can_decide() {
        let (cert, _) = base();
        assert_eq!(
            solver_logs_wanted(&cert, &[]),
            [("shop".to_owned(), "cm-acme-http-solver-abc".to_owned())]
        );
        let proven = Finding::new(Code::MixedBackends, Severity::Error, Proof::Proves, "x");
        assert!(solver_logs_wanted(&cert, &[proven]).is_empty());
        let mut timeout = cert.clone();
        timeout.challenges[0].reason = Some("Waiting for HTTP-01 challenge propagation: failed to perform self check GET request 'http://shop.example.com/.well-known/acme-challenge/tok': Get \"http://shop.example.com/.well-known/acme-challenge/tok\": dial tcp 203.0.113.10:80: i/o timeout".into());
        assert!(solver_logs_wanted(&timeout, &[]).is_empty());
        let mut read = cert;
        read.challenges[0].solver_log = Some(SolverLogEvidence::default());
        assert!(solver_logs_wanted(&read, &[]).is_empty());
    }
}
