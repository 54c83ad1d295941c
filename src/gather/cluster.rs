//! The cluster around the chain: IngressClasses, data planes (ingress controllers and Gateways
//! with the Services that carry their traffic) and the cert-manager controller. Pure.

use super::assemble::{Ctx, Typed, decode_all, flag_value, service_evidence};
use super::fetch::Snapshot;
use super::types::{self, Gateway};
use crate::evidence::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, Service};
use k8s_openapi::api::networking::v1::IngressClass;
use std::collections::BTreeMap;

pub const DEFAULT_CLASS_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";

pub(crate) fn cluster_evidence(
    snap: &Snapshot,
    ctx: &Ctx,
    notes: &mut Vec<String>,
) -> ClusterEvidence {
    let classes: Vec<Typed<IngressClass>> =
        decode_all(&types::INGRESS_CLASSES, &snap.ingress_classes, notes);
    let deployments: Vec<Typed<Deployment>> =
        decode_all(&types::DEPLOYMENTS, &snap.deployments, notes);
    let gateways: Vec<Typed<Gateway>> = decode_all(&types::GATEWAYS, &snap.gateways, notes);

    let ingress_classes: Vec<IngressClassEvidence> = classes
        .iter()
        .map(|c| IngressClassEvidence {
            name: c.meta.name.clone(),
            controller: c
                .obj
                .spec
                .as_ref()
                .and_then(|s| s.controller.clone())
                .unwrap_or_default(),
            is_default: c
                .meta
                .annotations
                .get(DEFAULT_CLASS_ANNOTATION)
                .is_some_and(|v| v == "true"),
        })
        .collect();

    let mut data_planes = Vec::new();
    let mut used_services: Vec<(String, String)> = Vec::new();
    for d in &deployments {
        if let Some(dp) = ingress_controller(d, &ingress_classes, &ctx.services) {
            used_services.extend(
                dp.services
                    .iter()
                    .map(|s| (s.namespace.clone(), s.name.clone())),
            );
            data_planes.push(dp);
        }
    }
    // Controllers run as DaemonSets (or whose workload was not readable) still show through
    // their Services' labels.
    data_planes.extend(service_only_controllers(
        &ctx.services,
        &used_services,
        &ingress_classes,
    ));

    let mut gateway_ev = Vec::new();
    for g in &gateways {
        let (gev, dp) = gateway_evidence(g, ctx);
        gateway_ev.push(gev);
        data_planes.push(dp);
    }

    ClusterEvidence {
        cert_manager_installed: true,
        gateway_api_installed: snap.gateway_api_installed,
        ingress_classes,
        data_planes,
        gateways: gateway_ev,
        cert_manager: deployments
            .iter()
            .find(|d| is_cert_manager(d))
            .map(cert_manager_evidence),
        unreadable: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Ingress controllers
// ---------------------------------------------------------------------------------------------

/// `(image substring, product, default IngressClass controller)`; first match wins.
const PRODUCTS: &[(&str, &str, &str)] = &[
    (
        "nginx-gateway-fabric",
        "nginx-gateway-fabric",
        "gateway.nginx.org/nginx-gateway-controller",
    ),
    (
        "nginx/nginx-gateway",
        "nginx-gateway-fabric",
        "gateway.nginx.org/nginx-gateway-controller",
    ),
    (
        "ingress-nginx/controller",
        "ingress-nginx",
        "k8s.io/ingress-nginx",
    ),
    (
        "nginx-ingress-controller",
        "ingress-nginx",
        "k8s.io/ingress-nginx",
    ),
    (
        "nginx/nginx-ingress",
        "nginx-ingress",
        "nginx.org/ingress-controller",
    ),
    (
        "nginx-plus-ingress",
        "nginx-ingress",
        "nginx.org/ingress-controller",
    ),
    (
        "haproxytech/kubernetes-ingress",
        "haproxy",
        "haproxy.org/ingress-controller/haproxy",
    ),
    (
        "haproxy-ingress",
        "haproxy-ingress",
        "haproxy-ingress.github.io/controller",
    ),
    (
        "projectcontour/contour",
        "contour",
        "projectcontour.io/ingress-controller",
    ),
    (
        "kong/kubernetes-ingress-controller",
        "kong",
        "ingress-controllers.konghq.com/kong",
    ),
    (
        "kong-ingress-controller",
        "kong",
        "ingress-controllers.konghq.com/kong",
    ),
    ("cilium/operator", "cilium", "cilium.io/ingress-controller"),
    ("istio/pilot", "istio", "istio.io/ingress-controller"),
    (
        "envoyproxy/gateway",
        "envoy-gateway",
        "gateway.envoyproxy.io/gatewayclass-controller",
    ),
    (
        "aws-load-balancer-controller",
        "aws-load-balancer-controller",
        "ingress.k8s.aws/alb",
    ),
    (
        "emissary",
        "emissary",
        "getambassador.io/ingress-controller",
    ),
    (
        "datawire/ambassador",
        "emissary",
        "getambassador.io/ingress-controller",
    ),
    ("skipper", "skipper", "zalando.org/skipper"),
    ("traefik", "traefik", "traefik.io/ingress-controller"),
];

/// `app.kubernetes.io/name` values -> product.
const PRODUCT_LABELS: &[(&str, &str)] = &[
    ("ingress-nginx", "ingress-nginx"),
    ("nginx-ingress", "nginx-ingress"),
    ("traefik", "traefik"),
    ("kubernetes-ingress", "haproxy"),
    ("haproxy-ingress", "haproxy-ingress"),
    ("contour", "contour"),
    ("kong", "kong"),
    ("ingress", "kong"),
];

fn product_controller(product: &str) -> Option<&'static str> {
    PRODUCTS
        .iter()
        .find(|(_, p, _)| *p == product)
        .map(|(_, _, c)| *c)
}

fn guess_product(images: &[String], labels: &BTreeMap<String, String>) -> Option<&'static str> {
    for img in images {
        let img = img.to_ascii_lowercase();
        if let Some((_, p, _)) = PRODUCTS.iter().find(|(pat, _, _)| img.contains(pat)) {
            return Some(p);
        }
    }
    let name = labels
        .get("app.kubernetes.io/name")
        .or_else(|| labels.get("app"))?;
    PRODUCT_LABELS
        .iter()
        .find(|(l, _)| l == name)
        .map(|(_, p)| *p)
}

fn container_args(c: &Container) -> Vec<String> {
    let mut all = c.command.clone().unwrap_or_default();
    all.extend(c.args.clone().unwrap_or_default());
    all
}

fn bool_flag(args: &[String], name: &str) -> Option<bool> {
    flag_value(args, name).map(|v| v.is_empty() || v.eq_ignore_ascii_case("true"))
}

fn env_value(c: &Container, names: &[&str]) -> Option<String> {
    let env = c.env.clone().unwrap_or_default();
    names.iter().find_map(|n| {
        env.iter()
            .find(|e| e.name == *n)
            .map(|e| match (&e.value, &e.value_from) {
                (Some(v), _) => v.clone(),
                (None, Some(_)) => "(set from a ConfigMap or Secret)".to_string(),
                (None, None) => String::new(),
            })
    })
}

/// Does this Service carry a controller's HTTP traffic (not its admission webhook or metrics)?
fn is_http_service(s: &ServiceEvidence) -> bool {
    s.ports.iter().any(|p| {
        p.port == 80
            || matches!(p.name.as_deref(), Some("http" | "web"))
            || matches!(p.target_port.as_deref(), Some("http" | "web" | "80"))
    })
}

fn template_labels(d: &Deployment) -> BTreeMap<String, String> {
    d.spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

fn ingress_controller(
    d: &Typed<Deployment>,
    classes: &[IngressClassEvidence],
    services: &[Typed<Service>],
) -> Option<DataPlaneEvidence> {
    let pod_spec = d
        .obj
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.clone())
        .unwrap_or_default();
    let images: Vec<String> = pod_spec
        .containers
        .iter()
        .filter_map(|c| c.image.clone())
        .collect();
    let product = guess_product(&images, &d.meta.labels)?;
    let tmpl = template_labels(&d.obj);
    let container = pod_spec
        .containers
        .iter()
        .find(|c| {
            c.image
                .as_deref()
                .is_some_and(|i| guess_product(&[i.to_string()], &BTreeMap::new()) == Some(product))
        })
        .or_else(|| pod_spec.containers.first());
    let args = container.map(container_args).unwrap_or_default();
    let (controller, arg_class, classless) = controller_settings(product, &args, container);
    let mut served: Vec<String> = classes
        .iter()
        .filter(|c| Some(c.controller.as_str()) == controller.as_deref())
        .map(|c| c.name.clone())
        .collect();
    if let Some(c) = arg_class
        && !served.contains(&c)
    {
        served.push(c);
    }
    let ready = d.obj.status.as_ref().map(|s| s.ready_replicas.unwrap_or(0));
    let desired = d.obj.status.as_ref().and_then(|s| s.replicas).unwrap_or(0);
    let svc: Vec<ServiceEvidence> = services
        .iter()
        .filter(|s| s.meta.namespace == d.meta.namespace)
        .filter(|s| {
            let sel = s
                .obj
                .spec
                .as_ref()
                .and_then(|sp| sp.selector.clone())
                .unwrap_or_default();
            !sel.is_empty() && sel.iter().all(|(k, v)| tmpl.get(k) == Some(v))
        })
        .map(|s| {
            let mut ev = service_evidence(s, None);
            // The pods were not read (only solver pods are); the workload says how many are ready.
            ev.ready_endpoints = ready.unwrap_or(0).max(0) as u32;
            ev.not_ready_endpoints = (desired - ready.unwrap_or(0)).max(0) as u32;
            ev.endpoints_unknown = false;
            ev
        })
        .filter(is_http_service)
        .collect();
    Some(DataPlaneEvidence {
        kind: "ingress-controller".into(),
        namespace: d.meta.namespace.clone(),
        name: d.meta.name.clone(),
        product: Some(product.to_string()),
        controller,
        ingress_classes: served,
        watches_classless: classless,
        ready_replicas: ready,
        services: svc,
    })
}

/// `(controller string, class named by a flag, takes class-less Ingresses)` from the flags.
fn controller_settings(
    product: &str,
    args: &[String],
    container: Option<&Container>,
) -> (Option<String>, Option<String>, bool) {
    let default = product_controller(product).map(str::to_string);
    let nonempty = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_string);
    match product {
        "ingress-nginx" => (
            nonempty(flag_value(args, "--controller-class")).or(default),
            nonempty(flag_value(args, "--ingress-class")),
            bool_flag(args, "--watch-ingress-without-class").unwrap_or(false),
        ),
        "nginx-ingress" => {
            let class = nonempty(flag_value(args, "-ingress-class"))
                .or(nonempty(flag_value(args, "--ingress-class")));
            (default, class, false)
        }
        "traefik" => {
            let class = nonempty(flag_value(
                args,
                "--providers.kubernetesingress.ingressclass",
            ));
            let classless = class.is_none();
            (default, class, classless)
        }
        "haproxy" => (
            default,
            nonempty(flag_value(args, "--ingress.class")),
            bool_flag(args, "--empty-ingress-class").unwrap_or(false),
        ),
        "contour" => {
            let class = nonempty(flag_value(args, "--ingress-class-name"));
            let classless = class.is_none();
            (default, class, classless)
        }
        "kong" => {
            let class = nonempty(flag_value(args, "--ingress-class"))
                .or_else(|| container.and_then(|c| env_value(c, &["CONTROLLER_INGRESS_CLASS"])));
            (default, class, false)
        }
        _ => (default, None, false),
    }
}

fn service_only_controllers(
    services: &[Typed<Service>],
    used: &[(String, String)],
    classes: &[IngressClassEvidence],
) -> Vec<DataPlaneEvidence> {
    let mut out: Vec<DataPlaneEvidence> = Vec::new();
    for s in services {
        if used.contains(&(s.meta.namespace.clone(), s.meta.name.clone())) {
            continue;
        }
        let Some(product) = guess_product(&[], &s.meta.labels) else {
            continue;
        };
        let ev = service_evidence(s, None);
        if !is_http_service(&ev) {
            continue;
        }
        let name = s
            .meta
            .labels
            .get("app.kubernetes.io/instance")
            .cloned()
            .unwrap_or_else(|| s.meta.name.clone());
        if let Some(dp) = out
            .iter_mut()
            .find(|d| d.namespace == s.meta.namespace && d.name == name)
        {
            dp.services.push(ev);
            continue;
        }
        let controller = product_controller(product).map(str::to_string);
        out.push(DataPlaneEvidence {
            kind: "ingress-controller".into(),
            namespace: s.meta.namespace.clone(),
            name,
            product: Some(product.to_string()),
            ingress_classes: classes
                .iter()
                .filter(|c| Some(c.controller.as_str()) == controller.as_deref())
                .map(|c| c.name.clone())
                .collect(),
            controller,
            watches_classless: false,
            ready_replicas: None,
            services: vec![ev],
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Gateways
// ---------------------------------------------------------------------------------------------

/// `(gatewayClassName substring, product, controllerName)`.
const GATEWAY_PRODUCTS: &[(&str, &str, &str)] = &[
    ("cilium", "cilium", "io.cilium/gateway-controller"),
    ("istio", "istio", "istio.io/gateway-controller"),
    (
        "envoy",
        "envoy-gateway",
        "gateway.envoyproxy.io/gatewayclass-controller",
    ),
    (
        "eg",
        "envoy-gateway",
        "gateway.envoyproxy.io/gatewayclass-controller",
    ),
    (
        "nginx",
        "nginx-gateway-fabric",
        "gateway.nginx.org/nginx-gateway-controller",
    ),
    ("traefik", "traefik", "traefik.io/gateway-controller"),
    ("contour", "contour", "projectcontour.io/gateway-controller"),
    ("kong", "kong", "konghq.com/kic-gateway-controller"),
    ("gke", "gke", "networking.gke.io/gateway"),
];

fn gateway_evidence(g: &Typed<Gateway>, ctx: &Ctx) -> (GatewayEvidence, DataPlaneEvidence) {
    let ns = g.meta.namespace.as_str();
    let name = g.meta.name.as_str();
    let status = g.obj.status.clone().unwrap_or_default();
    let mut addresses: Vec<String> = status.addresses.iter().map(|a| a.value.clone()).collect();
    if addresses.is_empty() {
        addresses = g
            .obj
            .spec
            .addresses
            .iter()
            .map(|a| a.value.clone())
            .collect();
    }
    let gev = GatewayEvidence {
        namespace: ns.to_string(),
        name: name.to_string(),
        gateway_class: g.obj.spec.gateway_class_name.clone(),
        listeners: g
            .obj
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
        conditions: status.conditions,
    };
    let class = gev.gateway_class.to_ascii_lowercase();
    let known = GATEWAY_PRODUCTS.iter().find(|(pat, _, _)| {
        if pat.len() <= 2 {
            class == *pat || class.starts_with(&format!("{pat}-"))
        } else {
            class.contains(pat)
        }
    });
    // A route's status names the controller that actually serves this Gateway.
    let reported = ctx
        .routes
        .iter()
        .flat_map(|r| r.obj.status.iter().flat_map(|s| s.parents.iter()))
        .find(|p| {
            p.parent_ref.name == name
                && p.parent_ref.kind.as_deref().is_none_or(|k| k == "Gateway")
                && p.parent_ref.namespace.as_deref().unwrap_or(ns) == ns
                && !p.controller_name.is_empty()
        });
    let controller = reported
        .map(|p| p.controller_name.clone())
        .or_else(|| known.map(|k| k.2.to_string()));
    let product = known.map(|k| k.1.to_string()).or_else(|| {
        controller
            .as_deref()
            .and_then(|c| GATEWAY_PRODUCTS.iter().find(|k| k.2 == c))
            .map(|k| k.1.to_string())
    });
    let services = ctx
        .services
        .iter()
        .filter(|s| carries_gateway(s, ns, name, &g.meta.uid))
        .map(|s| service_evidence(s, None))
        .collect();
    let dp = DataPlaneEvidence {
        kind: "gateway".into(),
        namespace: ns.to_string(),
        name: name.to_string(),
        product,
        controller,
        ingress_classes: Vec::new(),
        watches_classless: false,
        ready_replicas: None,
        services,
    };
    (gev, dp)
}

/// The Services implementations create for a Gateway: owned by it, or labelled with its name.
fn carries_gateway(s: &Typed<Service>, ns: &str, name: &str, uid: &str) -> bool {
    let l = &s.meta.labels;
    let same_ns = s.meta.namespace == ns;
    let owned = !uid.is_empty()
        && s.meta
            .owners
            .iter()
            .any(|(k, _, u)| k == "Gateway" && u == uid);
    let labelled = |key: &str| l.get(key).is_some_and(|v| v == name);
    owned
        || (same_ns
            && (labelled("gateway.networking.k8s.io/gateway-name")
                || labelled("io.cilium.gateway/owning-gateway")))
        || (labelled("gateway.envoyproxy.io/owning-gateway-name")
            && l.get("gateway.envoyproxy.io/owning-gateway-namespace")
                .is_some_and(|v| v == ns))
}

// ---------------------------------------------------------------------------------------------
// cert-manager
// ---------------------------------------------------------------------------------------------

fn is_cert_manager(d: &Typed<Deployment>) -> bool {
    let l = &d.meta.labels;
    let by_labels = l
        .get("app.kubernetes.io/name")
        .is_some_and(|v| v == "cert-manager")
        && l.get("app.kubernetes.io/component")
            .is_some_and(|v| v == "controller");
    by_labels
        || cert_manager_container(d).is_some_and(|c| {
            c.image
                .as_deref()
                .is_some_and(|i| i.contains("cert-manager-controller"))
        })
}

fn cert_manager_container(d: &Typed<Deployment>) -> Option<Container> {
    let spec = d.obj.spec.as_ref()?.template.spec.as_ref()?;
    spec.containers
        .iter()
        .find(|c| {
            c.name == "cert-manager-controller"
                || c.image
                    .as_deref()
                    .is_some_and(|i| i.contains("cert-manager-controller"))
        })
        .or_else(|| spec.containers.first())
        .cloned()
}

/// `quay.io/jetstack/cert-manager-controller:v1.19.1@sha256:…` -> `v1.19.1`.
pub fn image_tag(image: &str) -> Option<String> {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split_once(':')
        .map(|(_, t)| t.to_string())
        .filter(|t| !t.is_empty())
}

fn cert_manager_evidence(d: &Typed<Deployment>) -> CertManagerEvidence {
    let c = cert_manager_container(d);
    let pod = d
        .obj
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.clone())
        .unwrap_or_default();
    let args = c.as_ref().map(container_args).unwrap_or_default();
    let image = c.as_ref().and_then(|c| c.image.clone());
    let feature_gates = flag_value(&args, "--feature-gates").map(str::to_string);
    let env = |names: &[&str]| c.as_ref().and_then(|c| env_value(c, names));
    CertManagerEvidence {
        namespace: d.meta.namespace.clone(),
        deployment: d.meta.name.clone(),
        version: image.as_deref().and_then(image_tag),
        image,
        solver_nameservers: flag_value(&args, "--acme-http01-solver-nameservers")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        gateway_api_enabled: bool_flag(&args, "--enable-gateway-api").unwrap_or(false),
        feature_gates,
        http_proxy: env(&["HTTP_PROXY", "http_proxy"]),
        https_proxy: env(&["HTTPS_PROXY", "https_proxy"]),
        no_proxy: env(&["NO_PROXY", "no_proxy"]),
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
        ready_replicas: d.obj.status.as_ref().map(|s| s.ready_replicas.unwrap_or(0)),
        args,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags() {
        assert_eq!(
            image_tag("quay.io/jetstack/cert-manager-controller:v1.19.1").as_deref(),
            Some("v1.19.1")
        );
        assert_eq!(
            image_tag("registry:5000/cert-manager-controller:v1.18.0@sha256:abc").as_deref(),
            Some("v1.18.0")
        );
        assert_eq!(image_tag("registry:5000/cert-manager-controller"), None);
    }

    #[test]
    fn products_from_images_and_labels() {
        let none = BTreeMap::new();
        let p = |i: &str| guess_product(&[i.to_string()], &none);
        assert_eq!(
            p("registry.k8s.io/ingress-nginx/controller:v1.12.1@sha256:x"),
            Some("ingress-nginx")
        );
        assert_eq!(p("docker.io/traefik:v3.3"), Some("traefik"));
        assert_eq!(
            p("ghcr.io/nginx/nginx-gateway-fabric:2.0"),
            Some("nginx-gateway-fabric")
        );
        assert_eq!(p("haproxytech/kubernetes-ingress:3.1"), Some("haproxy"));
        assert_eq!(p("quay.io/cilium/operator-generic:v1.17"), Some("cilium"));
        assert_eq!(p("nginx:1.27"), None);
        let labels: BTreeMap<String, String> = [(
            "app.kubernetes.io/name".to_string(),
            "ingress-nginx".to_string(),
        )]
        .into();
        assert_eq!(guess_product(&[], &labels), Some("ingress-nginx"));
    }
}
