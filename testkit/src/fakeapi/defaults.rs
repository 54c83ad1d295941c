//! What the API server does to a Service, an Ingress or an HTTPRoute on POST before it stores
//! it: defaulting, the validation errors a client meets first, and the Service's allocations.
//!
//! * Service (kube-apiserver `pkg/apis/core/v1/defaults.go`, the service REST storage's
//!   allocators, `pkg/apis/core/validation`): `type` ClusterIP, `sessionAffinity` None,
//!   `ipFamilies`/`ipFamilyPolicy`, `internalTrafficPolicy` Cluster, ports `protocol` TCP and
//!   `targetPort` = `port`; a ClusterIP from the fake service range [`SERVICE_RANGE`] (unless
//!   `None` or ExternalName); a nodePort in 30000–32767 per port for NodePort and LoadBalancer
//!   (`externalTrafficPolicy` Cluster); `status.loadBalancer: {}`. 422 for a missing `ports`, an
//!   unknown `type`, a taken ClusterIP or nodePort; 500 "range is full" when no address is left.
//! * Ingress (`pkg/apis/networking/validation`): every path needs a `pathType` (422
//!   `pathType must be specified`), `Exact`/`Prefix` paths must be absolute, and the
//!   `kubernetes.io/ingress.class` annotation cannot be combined with `spec.ingressClassName`.
//! * HTTPRoute (the Gateway API CRD's structural-schema defaults): parentRefs `group`/`kind`
//!   (`gateway.networking.k8s.io`/`Gateway`), a rule without `matches` gets
//!   `[{path: {type: PathPrefix, value: /}}]`, a path match's `type`/`value`, backendRefs
//!   `group` "" / `kind` Service / `weight` 1.

use serde_json::{Map, Value, json};

use super::resources::Resource;
use super::status::{self, ApiError};
use super::store::{self, Store};

/// The fake cluster's service range: 126 ClusterIPs from a documentation block no lab host uses.
pub const SERVICE_RANGE: (u8, u8) = (129, 254);
/// The /24 the service range lies in.
pub const SERVICE_NET: &str = "203.0.113";
const NODE_PORTS: std::ops::RangeInclusive<i64> = 30000..=32767;

fn default_key(obj: &mut Map<String, Value>, key: &str, value: Value) {
    if obj.get(key).is_none_or(Value::is_null) {
        obj.insert(key.into(), value);
    }
}

/// Sets the generated name first, as the API server does before it validates.
pub fn generate_name(obj: &mut Value) -> String {
    let meta = store::meta_mut(obj);
    let has_name = meta
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if !has_name
        && let Some(g) = meta.get("generateName").and_then(Value::as_str)
        && !g.is_empty()
    {
        let name = format!("{g}{}", super::util::name_suffix());
        meta.insert("name".into(), json!(name));
    }
    store::name_of(obj).to_string()
}

/// Every ClusterIP and nodePort the store's Services hold.
fn taken(store: &Store, res: usize) -> (Vec<String>, Vec<i64>) {
    let (mut ips, mut ports) = (Vec::new(), Vec::new());
    for s in store.list(res, None, None) {
        if let Some(ip) = s.pointer("/spec/clusterIP").and_then(Value::as_str) {
            ips.push(ip.to_string());
        }
        for p in s
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = p.get("nodePort").and_then(Value::as_i64) {
                ports.push(n);
            }
        }
    }
    (ips, ports)
}

fn range_full(what: &str) -> ApiError {
    ApiError {
        code: 500,
        reason: "InternalError",
        message: format!("Internal error occurred: failed to allocate a {what}: range is full"),
        details: json!({"causes": [{"message": format!("failed to allocate a {what}: range is full")}]}),
    }
}

/// Defaults, validation and allocations of a Service on create.
pub fn service(store: &Store, res: usize, obj: &mut Value) -> Result<(), ApiError> {
    let r: &Resource = &store.resources[res];
    let name = generate_name(obj);
    let (ips, node_ports) = taken(store, res);
    if !obj.get("spec").is_some_and(Value::is_object) {
        obj["spec"] = json!({});
    }
    let spec = obj["spec"]
        .as_object_mut()
        .ok_or_else(|| status::bad_request("spec is not an object"))?;
    default_key(spec, "type", json!("ClusterIP"));
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    const TYPES: [&str; 4] = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if !TYPES.contains(&ty.as_str()) {
        return Err(status::invalid(
            r,
            &name,
            "spec.type",
            "FieldValueNotSupported",
            &format!(
                "{ty:?}: supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
            ),
        ));
    }
    let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
    let no_ports = spec
        .get("ports")
        .and_then(Value::as_array)
        .is_none_or(|p| p.is_empty());
    if no_ports && ty != "ExternalName" && !headless {
        return Err(status::invalid(
            r,
            &name,
            "spec.ports",
            "FieldValueRequired",
            "",
        ));
    }
    default_key(spec, "sessionAffinity", json!("None"));
    if ty != "ExternalName" {
        let wanted = spec
            .get("clusterIP")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let ip = if wanted.is_empty() {
            (SERVICE_RANGE.0..=SERVICE_RANGE.1)
                .map(|i| format!("{SERVICE_NET}.{i}"))
                .find(|ip| !ips.contains(ip))
                .ok_or_else(|| range_full("serviceIP"))?
        } else if wanted != "None" && ips.contains(&wanted) {
            return Err(status::invalid(
                r,
                &name,
                "spec.clusterIPs",
                "FieldValueInvalid",
                &format!(
                    "[]string{{{wanted:?}}}: failed to allocate IP {wanted}: provided IP is already allocated"
                ),
            ));
        } else {
            wanted
        };
        spec.insert("clusterIP".into(), json!(ip));
        spec.insert("clusterIPs".into(), json!([ip]));
        default_key(spec, "ipFamilies", json!(["IPv4"]));
        default_key(spec, "ipFamilyPolicy", json!("SingleStack"));
        default_key(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    let node_port = matches!(ty.as_str(), "NodePort" | "LoadBalancer");
    if node_port {
        default_key(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        default_key(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    let mut used = node_ports;
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for (i, p) in ports.iter_mut().enumerate() {
            let Some(p) = p.as_object_mut() else { continue };
            default_key(p, "protocol", json!("TCP"));
            if let Some(port) = p.get("port").cloned() {
                default_key(p, "targetPort", port);
            }
            if !node_port {
                continue;
            }
            match p.get("nodePort").and_then(Value::as_i64) {
                Some(n) if used.contains(&n) => {
                    return Err(status::invalid(
                        r,
                        &name,
                        &format!("spec.ports[{i}].nodePort"),
                        "FieldValueInvalid",
                        &format!("{n}: provided port is already allocated"),
                    ));
                }
                Some(n) => used.push(n),
                None => {
                    // A random start, then the next free port (the allocator picks at random).
                    let span = NODE_PORTS.end() - NODE_PORTS.start() + 1;
                    let offset = i64::try_from(super::util::random_u64() % 2768).unwrap_or(0);
                    let free = (0..span)
                        .map(|k| NODE_PORTS.start() + (offset + k) % span)
                        .find(|n| !used.contains(n))
                        .ok_or_else(|| range_full("nodePort"))?;
                    used.push(free);
                    p.insert("nodePort".into(), json!(free));
                }
            }
        }
    }
    obj["status"] = json!({"loadBalancer": {}});
    Ok(())
}

/// Validation of an Ingress on create.
pub fn ingress(store: &Store, res: usize, obj: &mut Value) -> Result<(), ApiError> {
    let r: &Resource = &store.resources[res];
    let name = generate_name(obj);
    let class_annotation = obj
        .pointer("/metadata/annotations/kubernetes.io~1ingress.class")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(c) = class_annotation
        && obj
            .pointer("/spec/ingressClassName")
            .and_then(Value::as_str)
            .is_some()
    {
        return Err(status::invalid(
            r,
            &name,
            "annotations.kubernetes.io/ingress.class",
            "FieldValueInvalid",
            &format!("{c:?}: can not be set when the class field is also set"),
        ));
    }
    let rules = obj
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, rule) in rules.iter().enumerate() {
        let paths = rule
            .pointer("/http/paths")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (j, p) in paths.iter().enumerate() {
            let field = format!("spec.rules[{i}].http.paths[{j}]");
            let ty = p.get("pathType").and_then(Value::as_str);
            let Some(ty) = ty else {
                return Err(status::invalid(
                    r,
                    &name,
                    &format!("{field}.pathType"),
                    "FieldValueRequired",
                    "pathType must be specified",
                ));
            };
            let path = p.get("path").and_then(Value::as_str).unwrap_or("");
            if matches!(ty, "Exact" | "Prefix") && !path.starts_with('/') {
                return Err(status::invalid(
                    r,
                    &name,
                    &format!("{field}.path"),
                    "FieldValueInvalid",
                    &format!("{path:?}: must be an absolute path"),
                ));
            }
        }
    }
    Ok(())
}

/// The HTTPRoute CRD's schema defaults.
pub fn http_route(obj: &mut Value) {
    generate_name(obj);
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for pr in spec
        .get_mut("parentRefs")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(pr) = pr.as_object_mut() {
            default_key(pr, "group", json!("gateway.networking.k8s.io"));
            default_key(pr, "kind", json!("Gateway"));
        }
    }
    for rule in spec
        .get_mut("rules")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let Some(rule) = rule.as_object_mut() else {
            continue;
        };
        default_key(
            rule,
            "matches",
            json!([{"path": {"type": "PathPrefix", "value": "/"}}]),
        );
        for m in rule
            .get_mut("matches")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(path) = m.get_mut("path").and_then(Value::as_object_mut) {
                default_key(path, "type", json!("PathPrefix"));
                default_key(path, "value", json!("/"));
            }
        }
        for b in rule
            .get_mut("backendRefs")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(b) = b.as_object_mut() {
                default_key(b, "group", json!(""));
                default_key(b, "kind", json!("Service"));
                default_key(b, "weight", json!(1));
            }
        }
    }
}
