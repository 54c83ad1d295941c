//! The cluster around the chain: IngressClasses, ingress controllers and Gateways with the
//! Services that carry their traffic, and the cert-manager controller. Pure.

use super::assemble::service_evidence;
use super::snapshot::Snapshot;
use super::types::Gateway;
use crate::evidence::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, Service};
use k8s_openapi::api::networking::v1::IngressClass;
use std::collections::BTreeMap;

pub const DEFAULT_CLASS_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";

/// Build the cluster evidence from the snapshot.
pub fn cluster(snap: &Snapshot) -> ClusterEvidence {
    let ingress_classes: Vec<IngressClassEvidence> =
        snap.ingress_classes.iter().map(ingress_class).collect();
    let mut data_planes: Vec<DataPlaneEvidence> = snap
        .deployments
        .iter()
        .filter_map(|d| ingress_controller(d, &snap.ingress_classes, snap))
        .collect();
    data_planes.extend(snap.gateways.iter().map(|g| gateway_plane(g, snap)));
    ClusterEvidence {
        cert_manager_installed: snap.cert_manager_installed,
        gateway_api_installed: snap.gateway_api_installed,
        ingress_classes,
        data_planes,
        gateways: snap.gateways.iter().map(gateway).collect(),
        cert_manager: snap.deployments.iter().find_map(cert_manager),
        unreadable: snap.unreadable.clone(),
        // The client knows it, not the snapshot: set by whoever connected.
        api_server: None,
        now: snap.now,
    }
}

fn ingress_class(c: &IngressClass) -> IngressClassEvidence {
    IngressClassEvidence {
        name: c.metadata.name.clone().unwrap_or_default(),
        controller: c
            .spec
            .as_ref()
            .and_then(|s| s.controller.clone())
            .unwrap_or_default(),
        is_default: c
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
            .is_some_and(|v| v == "true"),
    }
}

/// A flag's value in an argument list: `--flag=value`, `--flag value`, or `--flag` alone
/// (then `Some("")`). Single-dash spellings (`-flag=value`, Go style) count too.
pub fn flag_value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let bare = flag.trim_start_matches('-');
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let name_value = a.trim_start_matches('-');
        if !a.starts_with('-') {
            continue;
        }
        if let Some(v) = name_value.strip_prefix(bare) {
            if let Some(v) = v.strip_prefix('=') {
                return Some(v);
            }
            if v.is_empty() {
                return match it.peek() {
                    Some(next) if !next.starts_with('-') => Some(next.as_str()),
                    _ => Some(""),
                };
            }
        }
    }
    None
}

/// A boolean flag: present without value, or `=true`.
fn flag_on(args: &[String], flag: &str) -> bool {
    flag_value(args, flag).is_some_and(|v| v.is_empty() || v.eq_ignore_ascii_case("true"))
}

fn container_args(c: &Container) -> Vec<String> {
    c.command
        .iter()
        .flatten()
        .chain(c.args.iter().flatten())
        .cloned()
        .collect()
}

/// What the evidence holds for an environment variable the container takes from a Secret or
/// ConfigMap (`valueFrom`): its value is not read, and it is never a proxy URL.
pub const FROM_SOURCE: &str = "<set from a Secret/ConfigMap>";

/// Whether an evidence value is one of the placeholders above (not a real value).
pub fn is_placeholder(v: &str) -> bool {
    v.starts_with('<') && v.ends_with('>')
}

/// The value Go's `os.Getenv` would see for the first of `names` that is set and not empty
/// (`httpproxy.FromEnvironment` reads `HTTP_PROXY`, then `http_proxy`): the last entry of a
/// name wins, as the kubelet builds the environment; `valueFrom` gives [`FROM_SOURCE`].
/// Without an explicit entry, a container with `envFrom` may get the variable from there:
/// then a placeholder naming the sources.
fn env_value(c: &Container, names: &[&str]) -> Option<String> {
    let env = c.env.as_deref().unwrap_or_default();
    for name in names {
        let value = env.iter().rev().find(|e| e.name == *name).map(|e| {
            e.value
                .clone()
                .or_else(|| e.value_from.as_ref().map(|_| FROM_SOURCE.to_owned()))
                .unwrap_or_default()
        });
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            return Some(v);
        }
    }
    let sources: Vec<String> = c
        .env_from
        .iter()
        .flatten()
        .filter_map(|f| {
            f.config_map_ref
                .as_ref()
                .map(|r| format!("ConfigMap {}", r.name))
                .or_else(|| f.secret_ref.as_ref().map(|r| format!("Secret {}", r.name)))
        })
        .collect();
    (!sources.is_empty()).then(|| format!("<may be set by envFrom: {}>", sources.join(", ")))
}

/// A known ingress controller: how to recognise it and read its class settings.
struct Product {
    name: &'static str,
    images: &'static [&'static str],
    controller: &'static str,
    controller_flag: Option<&'static str>,
    class_flag: &'static str,
    class_env: Option<&'static str>,
    default_class: Option<&'static str>,
    classless_flag: Option<&'static str>,
    /// Takes class-less Ingresses unless a class is configured (Traefik, Contour).
    classless_without_class: bool,
}

const PRODUCTS: &[Product] = &[
    Product {
        name: "ingress-nginx",
        images: &[
            "ingress-nginx/controller",
            "ingress-nginx/controller-chroot",
            "nginx-ingress-controller",
        ],
        controller: "k8s.io/ingress-nginx",
        controller_flag: Some("--controller-class"),
        class_flag: "--ingress-class",
        class_env: None,
        default_class: Some("nginx"),
        classless_flag: Some("--watch-ingress-without-class"),
        classless_without_class: false,
    },
    Product {
        name: "nginx-ingress",
        images: &["nginx/nginx-ingress", "nginx-plus-ingress"],
        controller: "nginx.org/ingress-controller",
        controller_flag: None,
        class_flag: "-ingress-class",
        class_env: None,
        default_class: Some("nginx"),
        classless_flag: None,
        classless_without_class: false,
    },
    Product {
        name: "traefik",
        images: &["traefik"],
        controller: "traefik.io/ingress-controller",
        controller_flag: None,
        class_flag: "--providers.kubernetesingress.ingressclass",
        class_env: None,
        default_class: None,
        classless_flag: None,
        classless_without_class: true,
    },
    Product {
        name: "haproxy",
        images: &["haproxytech/kubernetes-ingress"],
        controller: "haproxy.org/ingress-controller/haproxy",
        controller_flag: None,
        class_flag: "--ingress.class",
        class_env: None,
        default_class: Some("haproxy"),
        classless_flag: Some("--empty-ingress-class"),
        classless_without_class: false,
    },
    Product {
        name: "haproxy-ingress",
        images: &["haproxy-ingress"],
        controller: "haproxy-ingress.github.io/controller",
        controller_flag: Some("--controller-class"),
        class_flag: "--ingress-class",
        class_env: None,
        default_class: Some("haproxy"),
        classless_flag: Some("--watch-ingress-without-class"),
        classless_without_class: false,
    },
    Product {
        name: "contour",
        images: &["projectcontour/contour"],
        controller: "projectcontour.io/ingress-controller",
        controller_flag: None,
        class_flag: "--ingress-class-name",
        class_env: None,
        default_class: None,
        classless_flag: None,
        classless_without_class: true,
    },
    Product {
        name: "kong",
        images: &[
            "kong/kubernetes-ingress-controller",
            "kong-ingress-controller",
        ],
        controller: "ingress-controllers.konghq.com/kong",
        controller_flag: None,
        class_flag: "--ingress-class",
        class_env: Some("CONTROLLER_INGRESS_CLASS"),
        default_class: Some("kong"),
        classless_flag: None,
        classless_without_class: false,
    },
    Product {
        name: "cilium",
        images: &[
            "cilium/operator",
            "cilium/operator-generic",
            "cilium/operator-aws",
            "cilium/operator-azure",
            "cilium/operator-alibabacloud",
        ],
        controller: "cilium.io/ingress-controller",
        controller_flag: None,
        class_flag: "--ingress-default-class",
        class_env: None,
        default_class: None,
        classless_flag: None,
        classless_without_class: false,
    },
];

fn image_name(image: &str) -> String {
    // Registry and tag do not matter: match on the repository path.
    let no_digest = image.split('@').next().unwrap_or(image);
    let last_slash = no_digest.rfind('/').map_or(0, |i| i + 1);
    match no_digest[last_slash..].find(':') {
        Some(colon) => no_digest[..last_slash + colon].to_ascii_lowercase(),
        None => no_digest.to_ascii_lowercase(),
    }
}

/// Version from an image tag (`quay.io/jetstack/cert-manager-controller:v1.19.1` → `v1.19.1`).
pub fn image_tag(image: &str) -> Option<String> {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split_once(':')
        .map(|(_, tag)| tag.to_owned())
        .filter(|t| !t.is_empty())
}

fn detect(c: &Container) -> Option<&'static Product> {
    let image = image_name(c.image.as_deref().unwrap_or(""));
    let args = container_args(c);
    if args
        .iter()
        .any(|a| a.ends_with("/nginx-ingress-controller"))
    {
        return PRODUCTS.first();
    }
    // Match whole trailing path segments: `traefik` is Traefik, `traefik/whoami` is not.
    let product = PRODUCTS.iter().find(|p| {
        p.images
            .iter()
            .any(|i| image == *i || image.ends_with(&format!("/{i}")))
    })?;
    // Traefik only takes Ingresses with the kubernetesingress provider on.
    if product.name == "traefik"
        && args.iter().any(|a| a.starts_with("--providers."))
        && !args
            .iter()
            .any(|a| a.starts_with("--providers.kubernetesingress"))
    {
        return None;
    }
    Some(product)
}

fn pod_labels(d: &Deployment) -> BTreeMap<String, String> {
    d.spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

fn ready_replicas(d: &Deployment) -> Option<i32> {
    d.status.as_ref().map(|s| s.ready_replicas.unwrap_or(0))
}

/// A data-plane Service: endpoints estimated from the ready replicas of the Deployments its
/// selector matches (only solver pods are listed, to keep reads cheap).
fn plane_service(s: &Service, deployments: &[Deployment]) -> ServiceEvidence {
    let mut ev = service_evidence(s, &[]);
    if ev.selector.is_empty() {
        return ev;
    }
    for d in deployments
        .iter()
        .filter(|d| d.metadata.namespace.as_deref() == Some(ev.namespace.as_str()))
    {
        let labels = pod_labels(d);
        if ev.selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            let ready = ready_replicas(d).unwrap_or(0).max(0) as u32;
            let wanted = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as u32;
            ev.ready_endpoints += ready;
            ev.not_ready_endpoints += wanted.saturating_sub(ready);
        }
    }
    ev
}

fn ingress_controller(
    d: &Deployment,
    classes: &[IngressClass],
    snap: &Snapshot,
) -> Option<DataPlaneEvidence> {
    let containers = &d.spec.as_ref()?.template.spec.as_ref()?.containers;
    let (c, product) = containers.iter().find_map(|c| Some((c, detect(c)?)))?;
    let args = container_args(c);
    let controller = product
        .controller_flag
        .and_then(|f| flag_value(&args, f))
        .filter(|v| !v.is_empty())
        .unwrap_or(product.controller)
        .to_owned();
    let class_value = flag_value(&args, product.class_flag)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .or_else(|| product.class_env.and_then(|e| env_value(c, &[e])));
    let class_configured = class_value.is_some();
    let class_arg = class_value.or(product.default_class.map(str::to_owned));
    let mut served: Vec<String> = classes
        .iter()
        .filter(|k| k.spec.as_ref().and_then(|s| s.controller.as_deref()) == Some(&controller))
        .filter_map(|k| k.metadata.name.clone())
        .collect();
    if let Some(arg) = class_arg {
        let taken_by_other = classes
            .iter()
            .any(|k| k.metadata.name.as_deref() == Some(arg.as_str()));
        if !taken_by_other && !served.contains(&arg) {
            served.push(arg);
        }
    }
    // Cilium's operator is always deployed; it is an ingress controller only with a class.
    if product.name == "cilium" && served.is_empty() {
        return None;
    }
    let watches_classless = product.classless_flag.is_some_and(|f| flag_on(&args, f))
        || (product.classless_without_class && !class_configured);
    let namespace = d.metadata.namespace.clone().unwrap_or_default();
    let labels = pod_labels(d);
    let services =
        snap.services
            .iter()
            .filter(|s| s.metadata.namespace.as_deref() == Some(namespace.as_str()))
            .filter(|s| {
                let selector = s.spec.as_ref().and_then(|sp| sp.selector.as_ref());
                let by_selector = selector.is_some_and(|sel| {
                    !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
                });
                let cilium = product.name == "cilium"
                    && (s.metadata.name.as_deref() == Some("cilium-ingress")
                        || s.metadata.labels.as_ref().is_some_and(|l| {
                            l.get("cilium.io/ingress").is_some_and(|v| v == "true")
                        }));
                by_selector || cilium
            })
            .map(|s| plane_service(s, &snap.deployments))
            .collect();
    Some(DataPlaneEvidence {
        kind: "ingress-controller".into(),
        namespace,
        name: d.metadata.name.clone().unwrap_or_default(),
        product: Some(product.name.into()),
        controller: Some(controller),
        ingress_classes: served,
        watches_classless,
        ready_replicas: ready_replicas(d),
        services,
    })
}

fn gateway(g: &Gateway) -> GatewayEvidence {
    let mut addresses: Vec<String> = g.status.addresses.iter().map(|a| a.value.clone()).collect();
    if addresses.is_empty() {
        addresses = g.spec.addresses.iter().map(|a| a.value.clone()).collect();
    }
    GatewayEvidence {
        namespace: g.namespace().to_owned(),
        name: g.name().to_owned(),
        gateway_class: g.spec.gateway_class_name.clone(),
        listeners: g
            .spec
            .listeners
            .iter()
            .map(|l| ListenerEvidence {
                name: l.name.clone(),
                port: l.port,
                protocol: l.protocol.clone(),
                hostname: l.hostname.clone(),
                allowed_routes_from: l
                    .allowed_routes
                    .as_ref()
                    .and_then(|a| a.namespaces.as_ref())
                    .and_then(|n| n.from.clone()),
            })
            .collect(),
        addresses,
        conditions: g.status.conditions.clone(),
    }
}

/// Product guessed from the GatewayClass name (GatewayClasses are not read).
fn gateway_product(class: &str) -> Option<String> {
    let class = class.to_ascii_lowercase();
    [
        ("cilium", "cilium"),
        ("istio", "istio"),
        ("envoy", "envoy-gateway"),
        ("eg", "envoy-gateway"),
        ("nginx", "nginx-gateway-fabric"),
        ("traefik", "traefik"),
        ("kong", "kong"),
        ("contour", "contour"),
        ("gke", "gke"),
        ("kgateway", "kgateway"),
    ]
    .iter()
    .find(|(k, _)| class == *k || class.contains(k) && k.len() > 2)
    .map(|(_, p)| (*p).to_owned())
}

/// Does this Service carry the traffic of Gateway `ns/name`? (The labels the common
/// implementations put on the Services they create.)
fn carries_gateway(s: &Service, ns: &str, name: &str) -> bool {
    let labels = s.metadata.labels.clone().unwrap_or_default();
    let is = |k: &str| labels.get(k).is_some_and(|v| v == name);
    let same_ns = s.metadata.namespace.as_deref() == Some(ns);
    (same_ns
        && (is("gateway.networking.k8s.io/gateway-name")
            || is("istio.io/gateway-name")
            || is("io.cilium.gateway/owning-gateway")
            || s.metadata.name.as_deref() == Some(&format!("cilium-gateway-{name}"))))
        || (is("gateway.envoyproxy.io/owning-gateway-name")
            && labels
                .get("gateway.envoyproxy.io/owning-gateway-namespace")
                .is_some_and(|v| v == ns))
}

fn gateway_plane(g: &Gateway, snap: &Snapshot) -> DataPlaneEvidence {
    DataPlaneEvidence {
        kind: "gateway".into(),
        namespace: g.namespace().to_owned(),
        name: g.name().to_owned(),
        product: gateway_product(&g.spec.gateway_class_name),
        controller: None,
        ingress_classes: vec![],
        watches_classless: false,
        ready_replicas: None,
        services: snap
            .services
            .iter()
            .filter(|s| carries_gateway(s, g.namespace(), g.name()))
            .map(|s| plane_service(s, &snap.deployments))
            .collect(),
    }
}

/// Every value of a repeated flag (`--f=a --f b,c` → a, b, c), as pflag's `StringSliceVar`
/// accumulates them; single-dash spellings count too.
fn flag_values(args: &[String], flag: &str) -> Vec<String> {
    let bare = flag.trim_start_matches('-');
    let mut out = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        if !a.starts_with('-') {
            continue;
        }
        let Some(v) = a.trim_start_matches('-').strip_prefix(bare) else {
            continue;
        };
        let value = if let Some(v) = v.strip_prefix('=') {
            v.to_owned()
        } else if v.is_empty() {
            match it.peek() {
                Some(next) if !next.starts_with('-') => it.next().cloned().unwrap_or_default(),
                _ => String::new(),
            }
        } else {
            continue;
        };
        out.extend(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
    }
    out
}

/// cert-manager's `--acme-http01-solver-nameservers`, every occurrence (a `StringSliceVar`).
/// The same setting in the controller's config file (`acmeHTTP01Config.solverNameservers`) is
/// not read: the file lives in a ConfigMap this tool does not fetch.
fn solver_nameservers(args: &[String]) -> Vec<String> {
    flag_values(args, "--acme-http01-solver-nameservers")
}

fn is_cert_manager_controller(d: &Deployment) -> bool {
    let labels = d.metadata.labels.clone().unwrap_or_default();
    let l = |k: &str, v: &str| labels.get(k).is_some_and(|x| x == v);
    (l("app.kubernetes.io/name", "cert-manager") || l("app", "cert-manager"))
        && l("app.kubernetes.io/component", "controller")
}

fn cert_manager(d: &Deployment) -> Option<CertManagerEvidence> {
    if !is_cert_manager_controller(d) {
        return None;
    }
    let pod = d.spec.as_ref()?.template.spec.as_ref()?;
    let c = pod
        .containers
        .iter()
        .find(|c| c.name == "cert-manager-controller")
        .or(pod.containers.first())?;
    let args = c.args.clone().unwrap_or_default();
    let feature_gates = flag_value(&args, "--feature-gates")
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let gate_on = feature_gates.as_deref().is_some_and(|g| {
        g.split(',').any(|kv| {
            kv.trim()
                .eq_ignore_ascii_case("ExperimentalGatewayAPISupport=true")
        })
    });
    Some(CertManagerEvidence {
        namespace: d.metadata.namespace.clone().unwrap_or_default(),
        deployment: d.metadata.name.clone().unwrap_or_default(),
        image: c.image.clone(),
        version: c.image.as_deref().and_then(image_tag),
        solver_nameservers: solver_nameservers(&args),
        gateway_api_enabled: flag_on(&args, "--enable-gateway-api") || gate_on,
        feature_gates,
        http_proxy: env_value(c, &["HTTP_PROXY", "http_proxy"]),
        https_proxy: env_value(c, &["HTTPS_PROXY", "https_proxy"]),
        no_proxy: env_value(c, &["NO_PROXY", "no_proxy"]),
        dns_policy: pod.dns_policy.clone(),
        dns_config: pod
            .dns_config
            .as_ref()
            .and_then(|v| serde_json::to_value(v).ok()),
        host_aliases: pod
            .host_aliases
            .as_ref()
            .and_then(|v| serde_json::to_value(v).ok()),
        node_name: None,
        ready_replicas: ready_replicas(d),
        args,
        pod_labels: d
            .spec
            .as_ref()
            .and_then(|s| s.selector.match_labels.clone())
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags() {
        let args = s(&[
            "/nginx-ingress-controller",
            "--ingress-class=public",
            "--watch-ingress-without-class",
            "--controller-class",
            "k8s.io/public",
            "-ingress-class=x",
        ]);
        assert_eq!(flag_value(&args, "--ingress-class"), Some("public"));
        assert_eq!(
            flag_value(&args, "--controller-class"),
            Some("k8s.io/public")
        );
        assert!(flag_on(&args, "--watch-ingress-without-class"));
        assert!(!flag_on(&args, "--enable-gateway-api"));
        assert_eq!(flag_value(&args, "--ingress-class-by-name"), None);
    }

    /// pflag `StringSliceVar` (cert-manager's `--acme-http01-solver-nameservers`): repeated
    /// flags and comma lists accumulate.
    #[test]
    fn repeated_solver_nameservers() {
        let args = s(&[
            "--acme-http01-solver-nameservers=192.0.2.53:53",
            "--v=2",
            "--acme-http01-solver-nameservers",
            "198.51.100.53:53, 203.0.113.53:53",
        ]);
        assert_eq!(
            solver_nameservers(&args),
            ["192.0.2.53:53", "198.51.100.53:53", "203.0.113.53:53"]
        );
        assert!(solver_nameservers(&s(&["--v=2"])).is_empty());
    }

    /// Go's `httpproxy.FromEnvironment`: HTTP_PROXY before http_proxy, an empty value is
    /// unset; the kubelet keeps the last of duplicate names; valueFrom and envFrom are never
    /// taken for a value.
    #[test]
    fn proxy_environment() {
        use k8s_openapi::api::core::v1::{
            ConfigMapEnvSource, EnvFromSource, EnvVar, EnvVarSource, SecretKeySelector,
        };
        let var = |n: &str, v: &str| EnvVar {
            name: n.into(),
            value: Some(v.into()),
            ..Default::default()
        };
        let mut c = Container {
            name: "c".into(),
            env: Some(vec![
                var("http_proxy", "http://lower:1"),
                var("HTTP_PROXY", "http://first:1"),
                var("HTTP_PROXY", "http://last:1"),
                var("HTTPS_PROXY", ""),
                var("https_proxy", "http://lower-https:1"),
            ]),
            ..Default::default()
        };
        let http = |c: &Container| env_value(c, &["HTTP_PROXY", "http_proxy"]);
        assert_eq!(http(&c).as_deref(), Some("http://last:1"));
        assert_eq!(
            env_value(&c, &["HTTPS_PROXY", "https_proxy"]).as_deref(),
            Some("http://lower-https:1")
        );
        c.env = Some(vec![EnvVar {
            name: "HTTP_PROXY".into(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: "proxy".into(),
                    key: "url".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }]);
        assert_eq!(http(&c).as_deref(), Some(FROM_SOURCE));
        c.env = None;
        c.env_from = Some(vec![EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: "proxy-env".into(),
                ..Default::default()
            }),
            ..Default::default()
        }]);
        let v = http(&c).unwrap_or_default();
        assert!(
            is_placeholder(&v) && v.contains("ConfigMap proxy-env"),
            "{v}"
        );
    }

    #[test]
    fn images() {
        assert_eq!(
            image_tag("quay.io/jetstack/cert-manager-controller:v1.19.1"),
            Some("v1.19.1".into())
        );
        assert_eq!(
            image_tag("localhost:5000/cert-manager-controller:v1.18.0@sha256:abc"),
            Some("v1.18.0".into())
        );
        assert_eq!(image_tag("localhost:5000/cert-manager-controller"), None);
        assert_eq!(
            image_name("registry.k8s.io/ingress-nginx/controller:v1.12.1@sha256:x"),
            "registry.k8s.io/ingress-nginx/controller"
        );
        assert_eq!(gateway_product("cilium").as_deref(), Some("cilium"));
        assert_eq!(gateway_product("eg").as_deref(), Some("envoy-gateway"));
        assert_eq!(gateway_product("my-class"), None);
        let container = |image: &str| Container {
            name: "c".into(),
            image: Some(image.into()),
            ..Default::default()
        };
        let product = |image: &str| detect(&container(image)).map(|p| p.name);
        assert_eq!(product("traefik:v3.1.2"), Some("traefik"));
        assert_eq!(product("docker.io/traefik/traefik:v3.1"), Some("traefik"));
        assert_eq!(product("traefik/whoami:v1.10"), None);
        assert_eq!(
            product("registry.k8s.io/ingress-nginx/controller:v1.12.1"),
            Some("ingress-nginx")
        );
        assert_eq!(
            product("quay.io/cilium/operator-generic:v1.16.3"),
            Some("cilium")
        );
        assert_eq!(
            product("kong/kubernetes-ingress-controller:3.3"),
            Some("kong")
        );
        assert_eq!(product("nginx:1.27"), None);
    }
}
