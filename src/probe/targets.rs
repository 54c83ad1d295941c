//! Which challenges to probe and the plans for each vantage (pure: evidence in, plans out).

use crate::evidence::{
    CertificateEvidence, ChallengeEvidence, ClusterEvidence, DataPlaneEvidence, ServiceEvidence,
};
use crate::gather::dataplane::is_placeholder;
use crate::probe::plan::{
    Budget, CaProfile, DEFAULT_USER_AGENT, DirectTarget, EVERY_TARGET, HealthPlan, PebbleSettings,
    ProbeOptions, ProbePlan, ProxySettings, Target,
};
use crate::reason::{self, Phase};
use std::net::{IpAddr, SocketAddr};

/// The key a challenge's probe results are filed under.
pub fn probe_id(cert: &CertificateEvidence, ch: &ChallengeEvidence) -> String {
    format!("{}/{}", cert.namespace, ch.name)
}

/// Challenges worth probing: HTTP-01 in the self-check phase, and those the CA rejected
/// (`invalid`). A rejected challenge's solver is gone, so its URL answers 404 by design, but who
/// answers it, from where and over which address family, and whether port 80 is reachable at
/// all, still tell where the CA's request went. Valid challenges are not probed.
pub fn probe_candidates(cert: &CertificateEvidence) -> impl Iterator<Item = &ChallengeEvidence> {
    cert.challenges
        .iter()
        .filter(|c| c.is_http01() && (reason::phase(c) == Phase::SelfCheck || is_rejected(c)))
}

/// The CA validated the challenge and said no (`status.state: invalid`).
pub fn is_rejected(ch: &ChallengeEvidence) -> bool {
    ch.state == "invalid"
}

/// Which validation rules the issuer's ACME server applies.
pub fn ca_profile(server: &str) -> CaProfile {
    let s = server.to_ascii_lowercase();
    // Other public CAs: validated from the Internet, their own rules not known here (not Let's
    // Encrypt's: no perspective schedule, no AAAA-first claim).
    const PUBLIC: &[&str] = &[
        "zerossl.com",
        "pki.goog",
        "buypass.com",
        "ssl.com",
        "sectigo.com",
        "digicert.com",
    ];
    if s.contains("letsencrypt.org") {
        CaProfile::Letsencrypt
    } else if PUBLIC.iter().any(|p| s.contains(p)) {
        CaProfile::Public
    } else if s.contains("pebble") || s.contains(":14000/") {
        CaProfile::Pebble
    } else {
        CaProfile::Private
    }
}

/// The CA profile of a certificate's issuer (Let's Encrypt when the issuer is unknown).
pub fn cert_profile(cert: &CertificateEvidence) -> CaProfile {
    cert.issuer
        .as_ref()
        .and_then(|i| i.acme.as_ref())
        .map_or(CaProfile::Letsencrypt, |a| ca_profile(&a.server))
}

/// One target per challenge to probe, each with its issuer's CA profile.
pub fn targets(certs: &[CertificateEvidence]) -> Vec<Target> {
    certs
        .iter()
        .flat_map(|cert| {
            let profile = cert_profile(cert);
            probe_candidates(cert).map(move |ch| Target {
                id: probe_id(cert, ch),
                url: ch.challenge_url(),
                dns_name: ch.dns_name.clone(),
                token: ch.token.clone(),
                expected_key: ch.key.clone(),
                ca_profile: Some(profile),
                acme_directory: None,
            })
        })
        .collect()
}

/// cert-manager's self-check User-Agent for the controller's version.
pub fn user_agent(cluster: &ClusterEvidence) -> String {
    cluster
        .cert_manager
        .as_ref()
        .and_then(|c| c.version.as_deref())
        .map(|v| format!("cert-manager-challenges/{v} (linux/amd64) cert-manager/acmecheck"))
        .unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned())
}

/// What the command line decides about the plans besides the evidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanSettings {
    /// `--attempts`.
    pub attempts: Option<u32>,
    /// `--validation-date` (`YYYY-MM-DD`): the day the CA validation is forecast for.
    pub validation_date: Option<String>,
    /// `--letsencrypt-perspectives`: remote perspectives instead of the dated table.
    pub letsencrypt_remotes: Option<u32>,
    /// `--pebble-http-port`, `--pebble-always-valid`, `--pebble-system-resolver`.
    pub pebble: Option<PebbleSettings>,
    /// The connection budget names on the same address share (`renewals`); the data planes
    /// are then asked directly once per name through one shared direct probe each.
    pub budget: Option<Budget>,
}

impl PlanSettings {
    fn options(&self, user_agent: String, vantage: &str) -> ProbeOptions {
        ProbeOptions {
            attempts_per_address: self.attempts,
            user_agent,
            vantage: Some(vantage.into()),
            validation_date: self.validation_date.clone(),
            letsencrypt_remotes: self.letsencrypt_remotes,
            pebble: self.pebble.clone(),
            budget: self.budget,
            ..Default::default()
        }
    }
}

/// The plan for this machine: the system resolver, no proxy settings from the cluster.
pub fn local_plan(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    attempts: Option<u32>,
) -> Option<ProbePlan> {
    let settings = PlanSettings {
        attempts,
        ..Default::default()
    };
    local_plan_with(certs, cluster, &settings)
}

/// [`local_plan`] with every setting of the command line.
pub fn local_plan_with(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    settings: &PlanSettings,
) -> Option<ProbePlan> {
    let targets = targets(certs);
    if targets.is_empty() {
        return None;
    }
    let mut options = settings.options(user_agent(cluster), "local");
    // Names that must exist for this machine: the ACME servers a public resolver knows (not
    // the cluster's own names), and the API server's host when it is a name.
    let mut names: Vec<String> = acme_hosts(certs)
        .into_iter()
        .filter(|h| !cluster_internal(h))
        .collect();
    if let Some(host) = cluster.api_server.as_deref().and_then(url_host)
        && !names.contains(&host)
    {
        names.push(host);
    }
    options.health = Some(HealthPlan { names });
    Some(ProbePlan::new(targets, options))
}

/// The host of an `https://host[:port]/…` URL, when it is a name (not an IP literal).
fn url_host(url: &str) -> Option<String> {
    let u = crate::probe::http::Url::parse(url).ok()?;
    let host = u.host.trim_start_matches('[').trim_end_matches(']');
    let host = host.to_ascii_lowercase();
    // localhost is the hosts file's, never a DNS server's (RFC 6761 §6.3).
    let local = host == "localhost" || host.ends_with(".localhost");
    (host.parse::<IpAddr>().is_err() && !host.is_empty() && !local).then_some(host)
}

/// The distinct host names of the ACME servers the certificates' issuers use.
fn acme_hosts(certs: &[CertificateEvidence]) -> Vec<String> {
    let mut hosts: Vec<String> = certs
        .iter()
        .filter_map(|c| c.issuer.as_ref()?.acme.as_ref())
        .filter_map(|a| url_host(&a.server))
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

/// A name only the cluster's DNS knows (a Service name, `*.cluster.local`, a bare name).
fn cluster_internal(host: &str) -> bool {
    let h = host.trim_end_matches('.');
    !h.contains('.')
        || [".svc", ".cluster.local", ".local"]
            .iter()
            .any(|s| h.ends_with(s))
}

/// The plan for the probe pod: the self check's resolvers (`--acme-http01-solver-nameservers`)
/// and proxy environment, as the cert-manager controller has them.
pub fn in_cluster_plan(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    attempts: Option<u32>,
) -> Option<ProbePlan> {
    let settings = PlanSettings {
        attempts,
        ..Default::default()
    };
    in_cluster_plan_with(certs, cluster, &settings)
}

/// Why the controller's proxy settings cannot be emulated, if they cannot: a variable whose
/// value comes from a Secret or ConfigMap (`valueFrom`, `envFrom`) is not read, and its
/// placeholder must never become a proxy URL.
fn proxy_unknown(
    http: Option<&str>,
    https: Option<&str>,
    no_proxy: Option<&str>,
) -> Option<String> {
    let unread: Vec<String> = [
        ("HTTP_PROXY", http),
        ("HTTPS_PROXY", https),
        ("NO_PROXY", no_proxy),
    ]
    .into_iter()
    .filter_map(|(name, v)| {
        v.filter(|v| is_placeholder(v))
            .map(|v| format!("{name} {v}"))
    })
    .collect();
    (!unread.is_empty()).then(|| {
        format!(
            "the cert-manager controller's proxy environment is not fully known ({}; the tool does not read Secrets or ConfigMaps)",
            unread.join(", ")
        )
    })
}

/// [`in_cluster_plan`] with every setting of the command line.
pub fn in_cluster_plan_with(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    settings: &PlanSettings,
) -> Option<ProbePlan> {
    let mut targets = targets(certs);
    if targets.is_empty() {
        return None;
    }
    let cm = cluster.cert_manager.as_ref();
    let unknown = cm.and_then(|c| {
        proxy_unknown(
            c.http_proxy.as_deref(),
            c.https_proxy.as_deref(),
            c.no_proxy.as_deref(),
        )
    });
    // The witness must go out the way the controller does: not when its proxy is unknown.
    if unknown.is_none() {
        with_acme_directories(&mut targets, certs);
    }
    let proxy = cm
        .filter(|c| c.http_proxy.is_some() || c.https_proxy.is_some())
        .filter(|_| unknown.is_none())
        .map(|c| ProxySettings {
            http: c.http_proxy.clone(),
            https: c.https_proxy.clone(),
            no_proxy: c.no_proxy.clone(),
        });
    let direct_targets = if settings.budget.is_some() {
        shared_direct_targets(certs, cluster)
    } else {
        certs
            .iter()
            .flat_map(|cert| probe_candidates(cert).map(move |ch| (probe_id(cert, ch), ch)))
            .flat_map(|(id, ch)| direct_targets(&id, ch, cluster))
            .collect()
    };
    let mut options = settings.options(user_agent(cluster), "in-cluster");
    options.nameservers = cm.map(|c| c.solver_nameservers.clone()).unwrap_or_default();
    options.proxy = proxy;
    options.proxy_unknown = unknown;
    options.direct_targets = direct_targets;
    // The controller's ACME servers must resolve from its namespace.
    options.health = Some(HealthPlan {
        names: acme_hosts(certs),
    });
    Some(ProbePlan::new(targets, options))
}

/// The egress witness of the probe pod's plan: each target asks its issuer's ACME directory
/// (`spec.acme.server`), which the controller must reach to issue at all.
fn with_acme_directories(targets: &mut [Target], certs: &[CertificateEvidence]) {
    for cert in certs {
        let Some(server) = cert
            .issuer
            .as_ref()
            .and_then(|i| i.acme.as_ref())
            .map(|a| a.server.as_str())
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        for ch in probe_candidates(cert) {
            let id = probe_id(cert, ch);
            for t in targets.iter_mut().filter(|t| t.id == id) {
                t.acme_directory = Some(server.to_owned());
            }
        }
    }
}

/// With a budget (many names): each data plane's direct probe once in the plan, for every
/// target ([`EVERY_TARGET`], the target's own name and path), and each solver's per challenge.
/// The plan stays small (a 500-name plan would otherwise carry thousands of direct probes);
/// the probes asked are the same.
fn shared_direct_targets(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
) -> Vec<DirectTarget> {
    let mut out: Vec<DirectTarget> = Vec::new();
    for cert in certs {
        for ch in probe_candidates(cert) {
            for d in direct_targets(&probe_id(cert, ch), ch, cluster) {
                if d.label.starts_with(&format!("{SOLVER_LABEL} ")) {
                    out.push(d);
                } else if !out
                    .iter()
                    .any(|o| o.id == EVERY_TARGET && o.address == d.address)
                {
                    out.push(DirectTarget {
                        id: EVERY_TARGET.to_owned(),
                        host: String::new(),
                        path: String::new(),
                        ..d
                    });
                }
            }
        }
    }
    out
}

/// Ready endpoints (pods) asked directly per data-plane Service, besides its ClusterIP.
pub const MAX_ENDPOINTS_PER_SERVICE: usize = 2;
/// Direct probes per challenge at most (each is [`crate::probe::engine`]'s 20 attempts).
pub const MAX_DIRECT_PER_CHALLENGE: usize = 10;
/// The port cert-manager's acmesolver listens on.
pub const SOLVER_PORT: u16 = 8089;

/// How reports and findings name a data plane: `ingress-nginx`,
/// `gateway infra/public (cilium)`, `ingress controller traefik/traefik`.
pub fn plane_name(dp: &DataPlaneEvidence) -> String {
    match (dp.kind.as_str(), dp.product.as_deref()) {
        ("gateway", Some(p)) => format!("gateway {}/{} ({p})", dp.namespace, dp.name),
        ("gateway", None) => format!("gateway {}/{}", dp.namespace, dp.name),
        (_, Some(p)) => p.to_owned(),
        (_, None) => format!("ingress controller {}/{}", dp.namespace, dp.name),
    }
}

/// The label prefix of direct probes of cert-manager's solver.
pub const SOLVER_LABEL: &str = "solver";

fn socket(ip: &str, port: u16) -> Option<String> {
    let ip: IpAddr = ip.parse().ok()?;
    Some(SocketAddr::new(ip, port).to_string())
}

/// The Service port that carries plain HTTP: port 80, else the one named `http`.
fn http_port(s: &ServiceEvidence) -> Option<&crate::evidence::ServicePortEvidence> {
    s.ports
        .iter()
        .find(|p| p.port == 80)
        .or_else(|| s.ports.iter().find(|p| p.name.as_deref() == Some("http")))
}

/// Direct probes for one challenge, from inside the cluster, with `Host: <dnsName>` and the
/// challenge path (P3/P4): every data plane's Service on its HTTP port (ClusterIP) and up to
/// [`MAX_ENDPOINTS_PER_SERVICE`] of its ready pods when the target port is a number, then the
/// solver's Service and pod on 8089. Bounded by [`MAX_DIRECT_PER_CHALLENGE`]; no address twice.
/// NodePorts are not asked: the evidence has no node addresses, and a NodePort reaches the same
/// pods as the ClusterIP.
pub fn direct_targets(
    id: &str,
    ch: &ChallengeEvidence,
    cluster: &ClusterEvidence,
) -> Vec<DirectTarget> {
    let path = format!("/.well-known/acme-challenge/{}", ch.token);
    let mut out: Vec<DirectTarget> = Vec::new();
    let mut add = |address: Option<String>, label: String| {
        if let Some(address) = address
            && out.len() < MAX_DIRECT_PER_CHALLENGE
            && !out.iter().any(|d| d.address == address)
        {
            out.push(DirectTarget {
                id: id.to_owned(),
                address,
                host: ch.dns_name.clone(),
                path: path.clone(),
                label,
                proxy_protocol: false,
            });
        }
    };
    // Solver first: whether it answers at all decides how to read the data planes' answers.
    for s in &ch.solver_services {
        let port = s
            .ports
            .first()
            .and_then(|p| u16::try_from(p.port).ok())
            .unwrap_or(SOLVER_PORT);
        if let Some(ip) = s.cluster_ip.as_deref() {
            add(
                socket(ip, port),
                format!("{SOLVER_LABEL} Service {}/{}", s.namespace, s.name),
            );
        }
    }
    for p in ch.solver_pods.iter().take(1) {
        if let Some(ip) = p.pod_ip.as_deref() {
            add(
                socket(ip, SOLVER_PORT),
                format!("{SOLVER_LABEL} pod {}/{}", p.namespace, p.name),
            );
        }
    }
    for dp in &cluster.data_planes {
        let name = plane_name(dp);
        for s in &dp.services {
            let Some(port) = http_port(s) else {
                continue;
            };
            let Ok(service_port) = u16::try_from(port.port) else {
                continue;
            };
            if let Some(ip) = s.cluster_ip.as_deref() {
                add(
                    socket(ip, service_port),
                    format!("{name} Service {}/{}", s.namespace, s.name),
                );
            }
            let target = port
                .target_port
                .as_deref()
                .and_then(|t| t.parse::<u16>().ok());
            if let Some(target) = target {
                for ep in s.endpoint_addresses.iter().take(MAX_ENDPOINTS_PER_SERVICE) {
                    add(socket(ep, target), format!("{name} pod {ep}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::evidence::{CertManagerEvidence, PodEvidence, ServicePortEvidence, Solver};

    fn port(name: &str, port: i32, target: &str) -> ServicePortEvidence {
        ServicePortEvidence {
            name: Some(name.into()),
            port,
            target_port: Some(target.into()),
            ..Default::default()
        }
    }

    fn svc(
        ns: &str,
        name: &str,
        ip: &str,
        ports: Vec<ServicePortEvidence>,
        eps: &[&str],
    ) -> ServiceEvidence {
        ServiceEvidence {
            namespace: ns.into(),
            name: name.into(),
            cluster_ip: Some(ip.into()),
            ports,
            endpoint_addresses: eps.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn evidence() -> (CertificateEvidence, ClusterEvidence) {
        let ch = ChallengeEvidence {
            name: "web-1".into(),
            dns_name: "shop.example.test".into(),
            type_: "HTTP-01".into(),
            token: "tok".into(),
            key: "tok.thumb".into(),
            presented: true,
            processing: true,
            state: "pending".into(),
            reason: Some("Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'".into()),
            solver: Solver::default(),
            solver_services: vec![svc("shop", "cm-acme-http-solver-xyz", "198.51.100.30", vec![port("http", 8089, "8089")], &[])],
            solver_pods: vec![PodEvidence {
                namespace: "shop".into(),
                name: "cm-acme-http-solver-abc".into(),
                pod_ip: Some("198.51.100.31".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let cert = CertificateEvidence {
            namespace: "shop".into(),
            name: "web".into(),
            challenges: vec![ch],
            ..Default::default()
        };
        (cert, cluster())
    }

    /// ingress-nginx (LB 203.0.113.10, one ready pod) and a Cilium Gateway (three pods,
    /// numeric target port) with the lab's ClusterIPs; cert-manager in `cert-manager`.
    pub(crate) fn cluster() -> ClusterEvidence {
        let mut nginx = svc(
            "ingress-nginx",
            "ingress-nginx-controller",
            "198.51.100.10",
            vec![port("http", 80, "http"), port("https", 443, "https")],
            &["198.51.100.11"],
        );
        nginx.lb_addresses = vec!["203.0.113.10".into()];
        ClusterEvidence {
            data_planes: vec![
                DataPlaneEvidence {
                    kind: "ingress-controller".into(),
                    namespace: "ingress-nginx".into(),
                    name: "ingress-nginx-controller".into(),
                    product: Some("ingress-nginx".into()),
                    services: vec![nginx],
                    ..Default::default()
                },
                DataPlaneEvidence {
                    kind: "gateway".into(),
                    namespace: "infra".into(),
                    name: "public".into(),
                    product: Some("cilium".into()),
                    services: vec![svc(
                        "infra",
                        "cilium-gateway-public",
                        "198.51.100.20",
                        vec![port("port-80", 80, "8080")],
                        &["198.51.100.21", "198.51.100.22", "198.51.100.23"],
                    )],
                    ..Default::default()
                },
            ],
            gateways: vec![crate::evidence::GatewayEvidence {
                namespace: "infra".into(),
                name: "public".into(),
                ..Default::default()
            }],
            cert_manager: Some(CertManagerEvidence {
                namespace: "cert-manager".into(),
                deployment: "cert-manager".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn other_public_cas_are_not_lets_encrypt() {
        assert_eq!(
            ca_profile("https://acme-v02.api.letsencrypt.org/directory"),
            CaProfile::Letsencrypt
        );
        for server in [
            "https://acme.zerossl.com/v2/DV90",
            "https://dv.acme-v02.api.pki.goog/directory",
            "https://api.buypass.com/acme/directory",
            "https://acme.ssl.com/sslcom-dv-rsa",
            "https://acme.sectigo.com/v2/DV",
            "https://acme.digicert.com/v2/acme/directory/",
        ] {
            assert_eq!(ca_profile(server), CaProfile::Public, "{server}");
            assert!(ca_profile(server).is_public());
        }
        assert_eq!(
            ca_profile("https://pebble.lab.example.test:14000/dir"),
            CaProfile::Pebble
        );
        assert_eq!(
            ca_profile("https://ca.internal.example/acme/acme/directory"),
            CaProfile::Private
        );
    }

    #[test]
    fn direct_targets_for_every_data_plane_and_the_solver() {
        let (cert, cluster) = evidence();
        let plan = in_cluster_plan(std::slice::from_ref(&cert), &cluster, None).unwrap();
        let d = &plan.options.direct_targets;
        let got: Vec<(&str, &str)> = d
            .iter()
            .map(|d| (d.address.as_str(), d.label.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "198.51.100.30:8089",
                    "solver Service shop/cm-acme-http-solver-xyz"
                ),
                (
                    "198.51.100.31:8089",
                    "solver pod shop/cm-acme-http-solver-abc"
                ),
                (
                    "198.51.100.10:80",
                    "ingress-nginx Service ingress-nginx/ingress-nginx-controller"
                ),
                // A named target port (`http`) gives no pod port: only the Service.
                (
                    "198.51.100.20:80",
                    "gateway infra/public (cilium) Service infra/cilium-gateway-public"
                ),
                (
                    "198.51.100.21:8080",
                    "gateway infra/public (cilium) pod 198.51.100.21"
                ),
                (
                    "198.51.100.22:8080",
                    "gateway infra/public (cilium) pod 198.51.100.22"
                ),
            ]
        );
        for t in d {
            assert_eq!(t.id, "shop/web-1");
            assert_eq!(t.host, "shop.example.test");
            assert_eq!(t.path, "/.well-known/acme-challenge/tok");
            assert!(!t.proxy_protocol);
        }
        // The local plan asks nothing directly (ClusterIPs mean nothing outside the cluster).
        let local = local_plan(std::slice::from_ref(&cert), &cluster, None).unwrap();
        assert!(local.options.direct_targets.is_empty());
    }

    /// With a budget, the data planes are asked once per name through shared direct probes.
    #[test]
    fn a_budget_shares_the_data_planes_direct_probes() {
        let (cert, cluster) = evidence();
        let mut other = cert.clone();
        other.name = "api".into();
        other.challenges[0].name = "api-1".into();
        let s = PlanSettings {
            budget: Some(Budget {
                first: 4,
                more: 16,
                direct: 2,
                cap_per_address: 1000,
            }),
            ..Default::default()
        };
        let plan = in_cluster_plan_with(&[cert, other], &cluster, &s).unwrap();
        assert_eq!(plan.options.budget, s.budget);
        let d = &plan.options.direct_targets;
        let shared: Vec<&str> = d
            .iter()
            .filter(|t| t.id == EVERY_TARGET)
            .map(|t| t.address.as_str())
            .collect();
        assert_eq!(
            shared,
            [
                "198.51.100.10:80",
                "198.51.100.20:80",
                "198.51.100.21:8080",
                "198.51.100.22:8080"
            ]
        );
        assert!(
            d.iter()
                .filter(|t| t.id == EVERY_TARGET)
                .all(|t| t.host.is_empty() && t.path.is_empty())
        );
        // The solvers stay per challenge.
        assert_eq!(
            d.iter().filter(|t| t.label.starts_with("solver ")).count(),
            4
        );
    }

    /// D6 — a proxy variable set from a Secret/ConfigMap is never turned into a proxy URL:
    /// the plan carries no proxy and says the self check's path is unknown.
    #[test]
    fn unread_proxy_environment_is_unknown_never_a_url() {
        let (cert, mut cluster) = evidence();
        if let Some(cm) = cluster.cert_manager.as_mut() {
            cm.http_proxy = Some(crate::gather::dataplane::FROM_SOURCE.into());
            cm.no_proxy = Some(".svc".into());
        }
        let plan = in_cluster_plan(std::slice::from_ref(&cert), &cluster, None).unwrap();
        assert_eq!(plan.options.proxy, None);
        let why = plan.options.proxy_unknown.unwrap_or_default();
        assert!(
            why.contains("HTTP_PROXY <set from a Secret/ConfigMap>"),
            "{why}"
        );
        // A literal value is used as is.
        if let Some(cm) = cluster.cert_manager.as_mut() {
            cm.http_proxy = Some("proxy.corp:3128".into());
        }
        let plan = in_cluster_plan(std::slice::from_ref(&cert), &cluster, None).unwrap();
        assert_eq!(plan.options.proxy_unknown, None);
        assert_eq!(
            plan.options.proxy.and_then(|p| p.http).as_deref(),
            Some("proxy.corp:3128")
        );
    }

    /// Each vantage checks its resolvers with names that must exist: the ACME servers (this
    /// machine: not the cluster's own names) and this machine also the API server's host.
    #[test]
    fn health_names_per_vantage() {
        let (cert, mut cluster) = evidence();
        let issued_by = |server: &str| {
            let mut c = cert.clone();
            c.issuer = Some(crate::evidence::IssuerEvidence {
                acme: Some(crate::evidence::AcmeIssuer {
                    server: server.into(),
                    ..Default::default()
                }),
                ..Default::default()
            });
            c
        };
        let certs = [
            issued_by("https://acme-v02.api.letsencrypt.org/directory"),
            issued_by("https://step-ca.pki.svc:9000/acme/acme/directory"),
            issued_by("https://192.0.2.41:14000/dir"),
        ];
        cluster.api_server = Some("https://API.example.com:6443".into());
        let local = local_plan(&certs, &cluster, None).unwrap();
        assert_eq!(
            local.options.health.unwrap().names,
            ["acme-v02.api.letsencrypt.org", "api.example.com"]
        );
        let inside = in_cluster_plan(&certs, &cluster, None).unwrap();
        assert_eq!(
            inside.options.health.unwrap().names,
            ["acme-v02.api.letsencrypt.org", "step-ca.pki.svc"]
        );
        // An API server given by address, or localhost (the hosts file's), adds nothing.
        for server in ["https://127.0.0.1:6443", "https://localhost:6443"] {
            cluster.api_server = Some(server.into());
            let local = local_plan(&certs[..1], &cluster, None).unwrap();
            assert_eq!(
                local.options.health.unwrap().names,
                ["acme-v02.api.letsencrypt.org"]
            );
        }
    }

    #[test]
    fn settings_reach_both_plans() {
        let (cert, cluster) = evidence();
        let s = PlanSettings {
            attempts: Some(7),
            validation_date: Some("2026-12-15".into()),
            letsencrypt_remotes: Some(6),
            pebble: Some(PebbleSettings {
                http_port: 5002,
                ..Default::default()
            }),
            budget: None,
        };
        for plan in [
            local_plan_with(std::slice::from_ref(&cert), &cluster, &s).unwrap(),
            in_cluster_plan_with(std::slice::from_ref(&cert), &cluster, &s).unwrap(),
        ] {
            assert_eq!(plan.options.attempts_per_address, Some(7));
            assert_eq!(plan.options.validation_date.as_deref(), Some("2026-12-15"));
            assert_eq!(plan.options.letsencrypt_remotes, Some(6));
            assert_eq!(
                plan.options.pebble.as_ref().map(|p| p.http_port),
                Some(5002)
            );
        }
    }

    #[test]
    fn direct_targets_are_bounded_and_skip_headless_services() {
        let (cert, mut cluster) = evidence();
        let many: Vec<DataPlaneEvidence> = (0..20)
            .map(|i| DataPlaneEvidence {
                kind: "ingress-controller".into(),
                namespace: "x".into(),
                name: format!("c{i}"),
                services: vec![svc(
                    "x",
                    &format!("c{i}"),
                    &format!("192.0.2.{i}"),
                    vec![port("http", 80, "80")],
                    &[],
                )],
                ..Default::default()
            })
            .collect();
        cluster.data_planes.extend(many);
        cluster.data_planes[0].services[0].cluster_ip = Some("None".into());
        let d = direct_targets("shop/web-1", &cert.challenges[0], &cluster);
        assert_eq!(d.len(), MAX_DIRECT_PER_CHALLENGE);
        assert!(
            d.iter()
                .all(|t| !t.label.starts_with("ingress-nginx Service"))
        );
    }
}
