//! The Certificate cert-manager's ingress-shim and gateway-shim would create from an Ingress or
//! a Gateway (pure), for `kubectl acmecheck preflight ingress/NAME | gateway/NAME`.
//!
//! After `pkg/controller/certificate-shim/sync.go` in cert-manager's source:
//! * `hasShimAnnotation`: an object is considered only with `cert-manager.io/issuer` or
//!   `cert-manager.io/cluster-issuer`, or (Ingresses only) one of the controller's
//!   `--auto-certificate-annotations` set to a true value (default `kubernetes.io/tls-acme`);
//! * `issuerForIngressLike`: the controller's `--default-issuer-name/-kind/-group` (defaults:
//!   empty, `Issuer`, `cert-manager.io`), then `cert-manager.io/issuer` (kind Issuer),
//!   `cert-manager.io/cluster-issuer` (kind ClusterIssuer), `cert-manager.io/issuer-kind`,
//!   `cert-manager.io/issuer-group`; no name, or `cluster-issuer` with `issuer`, `issuer-kind`
//!   or `issuer-group`, is an error;
//! * `buildCertificates`: an Ingress's `spec.tls[]` blocks with hosts and a secretName (one
//!   Certificate per secret); a Gateway's listeners of protocol HTTPS or TLS, not Passthrough,
//!   not named in `cert-manager.io/ignore-tls-listeners`, with a hostname, TLS mode Terminate
//!   and certificateRefs; `splitHosts` puts IPs in ipAddresses; `translateAnnotations` adds
//!   `cert-manager.io/common-name` and `cert-manager.io/alt-names`, `ip-sans`;
//! * `setIssuerSpecificConfig`: `acme.cert-manager.io/http01-edit-in-place: "true"` →
//!   `http01-override-ingress-name=<Ingress name>`; `acme.cert-manager.io/http01-ingress-class`
//!   and `…/http01-ingress-ingressclassname` → the override annotations; a Gateway →
//!   `http01-parentrefkind: Gateway`, `http01-parentrefname: <Gateway name>`;
//! * the Certificate gets the object's labels (the Order's, for `matchLabels`).
//!
//! A pre-flight checks every name of every Certificate the object would yield at once.

use serde_json::Value;
use std::collections::BTreeMap;

/// The controller's ingress-shim settings (`--default-issuer-*`, `--auto-certificate-annotations`).
#[derive(Debug, Clone, PartialEq)]
pub struct ShimDefaults {
    pub issuer_name: String,
    pub issuer_kind: String,
    pub issuer_group: String,
    pub auto_annotations: Vec<String>,
}

impl Default for ShimDefaults {
    fn default() -> Self {
        ShimDefaults {
            issuer_name: String::new(),
            issuer_kind: "Issuer".into(),
            issuer_group: "cert-manager.io".into(),
            auto_annotations: vec!["kubernetes.io/tls-acme".into()],
        }
    }
}

/// The last value of `--flag=v` / `--flag v` in the controller's args.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let mut out = None;
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let Some(rest) = a.trim_start_matches('-').strip_prefix(name) else {
            continue;
        };
        if !a.starts_with('-') {
            continue;
        }
        if let Some(v) = rest.strip_prefix('=') {
            out = Some(v);
        } else if rest.is_empty()
            && let Some(next) = it.peek()
            && !next.starts_with('-')
        {
            out = Some(next.as_str());
            it.next();
        }
    }
    out
}

impl ShimDefaults {
    /// From the cert-manager controller's command line (defaults where a flag is absent).
    pub fn from_args(args: &[String]) -> ShimDefaults {
        let d = ShimDefaults::default();
        ShimDefaults {
            issuer_name: flag(args, "default-issuer-name").map_or(d.issuer_name, str::to_owned),
            issuer_kind: flag(args, "default-issuer-kind")
                .filter(|v| !v.is_empty())
                .map_or(d.issuer_kind, str::to_owned),
            issuer_group: flag(args, "default-issuer-group")
                .filter(|v| !v.is_empty())
                .map_or(d.issuer_group, str::to_owned),
            auto_annotations: flag(args, "auto-certificate-annotations").map_or(
                d.auto_annotations,
                |v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                },
            ),
        }
    }
}

/// An Ingress or a Gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShimKind {
    Ingress,
    Gateway,
}

impl ShimKind {
    pub fn name(self) -> &'static str {
        match self {
            ShimKind::Ingress => "Ingress",
            ShimKind::Gateway => "Gateway",
        }
    }
}

/// `ingress/web`, `ingresses.networking.k8s.io/web`, `ing/web`, `gateway/public`, `gtw/public`.
pub fn parse_resource(s: &str) -> Result<(ShimKind, String), String> {
    let (kind, name) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?} is not KIND/NAME (ingress/NAME or gateway/NAME)"))?;
    let kind = match kind.to_ascii_lowercase().as_str() {
        "ingress"
        | "ingresses"
        | "ing"
        | "ingress.networking.k8s.io"
        | "ingresses.networking.k8s.io" => ShimKind::Ingress,
        "gateway"
        | "gateways"
        | "gtw"
        | "gateway.gateway.networking.k8s.io"
        | "gateways.gateway.networking.k8s.io" => ShimKind::Gateway,
        other => {
            return Err(format!(
                "{other:?} is not a kind a pre-flight reads: use ingress/NAME or gateway/NAME"
            ));
        }
    };
    if name.is_empty() || name.contains('/') {
        return Err(format!("{s:?} has no valid NAME after the kind"));
    }
    Ok((kind, name.to_owned()))
}

/// What the shim would put in the Certificate(s), merged into one pre-flight.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShimCertificate {
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    pub common_name: Option<String>,
    /// `(name, kind, group)` of the issuer, when one is set.
    pub issuer: Option<(String, String, String)>,
    /// Why the issuer could not be determined (cert-manager's words).
    pub issuer_error: Option<String>,
    /// The object has none of the annotations that make the shim act.
    pub ignored: bool,
    /// The annotations the Certificate gets (HTTP-01 overrides).
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// The secrets (one Certificate each).
    pub secrets: Vec<String>,
    /// TLS blocks or listeners the shim skips, and why.
    pub skipped: Vec<String>,
}

fn ann(v: &Value) -> BTreeMap<String, String> {
    v.pointer("/metadata/annotations")
        .and_then(|a| serde_json::from_value(a.clone()).ok())
        .unwrap_or_default()
}

/// Go's `strconv.ParseBool`.
fn parse_bool(v: &str) -> bool {
    matches!(v, "1" | "t" | "T" | "true" | "TRUE" | "True")
}

fn issuer_for(
    a: &BTreeMap<String, String>,
    d: &ShimDefaults,
) -> Result<(String, String, String), String> {
    let (mut name, mut kind, mut group) = (
        d.issuer_name.clone(),
        d.issuer_kind.clone(),
        d.issuer_group.clone(),
    );
    let issuer = a.get("cert-manager.io/issuer");
    let cluster = a.get("cert-manager.io/cluster-issuer");
    let kind_ann = a.get("cert-manager.io/issuer-kind");
    let group_ann = a.get("cert-manager.io/issuer-group");
    if let Some(n) = issuer {
        name = n.clone();
        kind = "Issuer".into();
    }
    if let Some(n) = cluster {
        name = n.clone();
        kind = "ClusterIssuer".into();
    }
    if let Some(k) = kind_ann {
        kind = k.clone();
    }
    if let Some(g) = group_ann {
        group = g.clone();
    }
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push("failed to determine issuer name to be used for ingress resource".to_owned());
    }
    let both = |a: &str, b: &str| format!("both {a:?} and {b:?} may not be set");
    if issuer.is_some() && cluster.is_some() {
        errs.push(both(
            "cert-manager.io/issuer",
            "cert-manager.io/cluster-issuer",
        ));
    }
    if cluster.is_some() && group_ann.is_some() {
        errs.push(both(
            "cert-manager.io/cluster-issuer",
            "cert-manager.io/issuer-group",
        ));
    }
    if cluster.is_some() && kind_ann.is_some() {
        errs.push(both(
            "cert-manager.io/cluster-issuer",
            "cert-manager.io/issuer-kind",
        ));
    }
    if errs.is_empty() {
        Ok((name, kind, group))
    } else {
        Err(errs.join(", "))
    }
}

fn add_host(c: &mut ShimCertificate, h: &str) {
    if h.parse::<std::net::IpAddr>().is_ok() {
        if !c.ip_addresses.iter().any(|x| x == h) {
            c.ip_addresses.push(h.to_owned());
        }
    } else if !c.dns_names.iter().any(|x| x == h) {
        c.dns_names.push(h.to_owned());
    }
}

fn ingress_blocks(v: &Value, c: &mut ShimCertificate) {
    let blocks = v
        .pointer("/spec/tls")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, b) in blocks.iter().enumerate() {
        let hosts: Vec<&str> = b
            .get("hosts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let secret = b.get("secretName").and_then(Value::as_str).unwrap_or("");
        if hosts.is_empty() || secret.is_empty() {
            c.skipped.push(format!(
                "spec.tls[{i}] is skipped by ingress-shim: {}",
                if hosts.is_empty() {
                    "no hosts"
                } else {
                    "no secretName"
                }
            ));
            continue;
        }
        c.secrets.push(secret.to_owned());
        for h in hosts {
            add_host(c, h);
        }
    }
}

fn gateway_listeners(v: &Value, a: &BTreeMap<String, String>, c: &mut ShimCertificate) {
    let ignored: Vec<&str> = a
        .get("cert-manager.io/ignore-tls-listeners")
        .map(|s| s.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let listeners = v
        .pointer("/spec/listeners")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for l in &listeners {
        let name = l.get("name").and_then(Value::as_str).unwrap_or("");
        let protocol = l.get("protocol").and_then(Value::as_str).unwrap_or("");
        let mode = l.pointer("/tls/mode").and_then(Value::as_str);
        if protocol != "HTTPS" && protocol != "TLS" {
            continue;
        }
        if mode == Some("Passthrough") || ignored.contains(&name) {
            continue;
        }
        let hostname = l.get("hostname").and_then(Value::as_str).unwrap_or("");
        let refs: Vec<&str> = l
            .pointer("/tls/certificateRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("name").and_then(Value::as_str))
            .collect();
        let why = if hostname.is_empty() {
            Some("the hostname cannot be empty")
        } else if refs.is_empty() {
            Some("listener has no certificateRefs")
        } else if mode != Some("Terminate") {
            Some("the TLS mode must be Terminate")
        } else {
            None
        };
        if let Some(why) = why {
            c.skipped.push(format!(
                "listener {name:?} is skipped by gateway-shim: {why}"
            ));
            continue;
        }
        for r in refs {
            if !c.secrets.iter().any(|s| s == r) {
                c.secrets.push(r.to_owned());
            }
        }
        add_host(c, hostname);
    }
}

/// The Certificate the shim would create from `obj` (an Ingress or a Gateway as the API
/// returns it), with the controller's `defaults`.
pub fn certificate(kind: ShimKind, obj: &Value, defaults: &ShimDefaults) -> ShimCertificate {
    let a = ann(obj);
    let mut c = ShimCertificate {
        labels: obj
            .pointer("/metadata/labels")
            .and_then(|l| serde_json::from_value(l.clone()).ok())
            .unwrap_or_default(),
        ..Default::default()
    };
    c.labels.remove("applyset.kubernetes.io/part-of");
    let auto = kind == ShimKind::Ingress
        && defaults
            .auto_annotations
            .iter()
            .any(|k| a.get(k).is_some_and(|v| parse_bool(v)));
    c.ignored = !(a.contains_key("cert-manager.io/issuer")
        || a.contains_key("cert-manager.io/cluster-issuer")
        || auto);
    match issuer_for(&a, defaults) {
        Ok(i) => c.issuer = Some(i),
        Err(e) => c.issuer_error = Some(e),
    }
    match kind {
        ShimKind::Ingress => ingress_blocks(obj, &mut c),
        ShimKind::Gateway => gateway_listeners(obj, &a, &mut c),
    }
    if let Some(cn) = a.get("cert-manager.io/common-name") {
        c.common_name = Some(cn.clone());
    }
    for extra in ["cert-manager.io/alt-names", "cert-manager.io/ip-sans"] {
        for h in a.get(extra).into_iter().flat_map(|v| v.split(',')) {
            let h = h.trim();
            if !h.is_empty() {
                add_host(&mut c, h);
            }
        }
    }
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if a.get("acme.cert-manager.io/http01-edit-in-place")
        .is_some_and(|v| v == "true")
    {
        c.annotations.insert(
            "acme.cert-manager.io/http01-override-ingress-name".into(),
            name.to_owned(),
        );
    }
    for (from, to) in [
        (
            "acme.cert-manager.io/http01-ingress-class",
            "acme.cert-manager.io/http01-override-ingress-class",
        ),
        (
            "acme.cert-manager.io/http01-ingress-ingressclassname",
            "acme.cert-manager.io/http01-override-ingress-ingressclassname",
        ),
    ] {
        if let Some(v) = a.get(from).filter(|v| !v.is_empty()) {
            c.annotations.insert(to.into(), v.clone());
        }
    }
    if kind == ShimKind::Gateway {
        c.annotations.insert(
            "acme.cert-manager.io/http01-parentrefkind".into(),
            "Gateway".into(),
        );
        c.annotations.insert(
            "acme.cert-manager.io/http01-parentrefname".into(),
            name.to_owned(),
        );
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ingress(annotations: Value) -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "shop", "annotations": annotations,
            "labels": {"app": "web", "applyset.kubernetes.io/part-of": "x"}},
        "spec": {"ingressClassName": "nginx", "tls": [
            {"hosts": ["shop.example.test", "www.example.test"], "secretName": "web-tls"},
            {"hosts": ["192.0.2.7"], "secretName": "ip-tls"},
            {"hosts": [], "secretName": "empty"},
            {"hosts": ["api.example.test"]}
        ]}})
    }

    #[test]
    fn ingress_shim_hosts_issuer_and_overrides() {
        let c = certificate(
            ShimKind::Ingress,
            &ingress(json!({
                "cert-manager.io/cluster-issuer": "letsencrypt-prod",
                "acme.cert-manager.io/http01-edit-in-place": "true",
                "acme.cert-manager.io/http01-ingress-class": "",
                "cert-manager.io/alt-names": "alt.example.test"
            })),
            &ShimDefaults::default(),
        );
        assert!(!c.ignored);
        assert_eq!(
            c.issuer,
            Some((
                "letsencrypt-prod".into(),
                "ClusterIssuer".into(),
                "cert-manager.io".into()
            ))
        );
        assert_eq!(
            c.dns_names,
            ["shop.example.test", "www.example.test", "alt.example.test"]
        );
        assert_eq!(c.ip_addresses, ["192.0.2.7"]);
        assert_eq!(c.secrets, ["web-tls", "ip-tls"]);
        assert_eq!(c.skipped.len(), 2, "{:?}", c.skipped);
        // Empty override values are ignored, as setIssuerSpecificConfig does.
        assert_eq!(
            c.annotations.into_iter().collect::<Vec<_>>(),
            [(
                "acme.cert-manager.io/http01-override-ingress-name".to_owned(),
                "web".to_owned()
            )]
        );
        assert_eq!(c.labels.keys().collect::<Vec<_>>(), ["app"]);
    }

    #[test]
    fn the_issuer_as_issuer_for_ingress_like_decides_it() {
        let d = ShimDefaults::default();
        let issuer = |a: Value| certificate(ShimKind::Ingress, &ingress(a), &d);
        // tls-acme alone: the default issuer, which is empty by default.
        let c = issuer(json!({"kubernetes.io/tls-acme": "true"}));
        assert!(!c.ignored);
        assert_eq!(
            c.issuer_error.as_deref(),
            Some("failed to determine issuer name to be used for ingress resource")
        );
        let d2 = ShimDefaults::from_args(&[
            "--default-issuer-name=le".into(),
            "--default-issuer-kind".into(),
            "ClusterIssuer".into(),
        ]);
        let c = certificate(
            ShimKind::Ingress,
            &ingress(json!({"kubernetes.io/tls-acme": "true"})),
            &d2,
        );
        assert_eq!(
            c.issuer,
            Some((
                "le".into(),
                "ClusterIssuer".into(),
                "cert-manager.io".into()
            ))
        );
        // Without any shim annotation cert-manager ignores the object.
        assert!(issuer(json!({})).ignored);
        assert!(issuer(json!({"kubernetes.io/tls-acme": "false"})).ignored);
        let c =
            issuer(json!({"cert-manager.io/issuer": "a", "cert-manager.io/cluster-issuer": "b"}));
        assert!(
            c.issuer_error
                .as_deref()
                .is_some_and(|e| e.contains("may not be set")),
            "{c:?}"
        );
        let c = issuer(
            json!({"cert-manager.io/issuer": "a", "cert-manager.io/issuer-kind": "AWSPCAIssuer", "cert-manager.io/issuer-group": "awspca.cert-manager.io"}),
        );
        assert_eq!(
            c.issuer,
            Some((
                "a".into(),
                "AWSPCAIssuer".into(),
                "awspca.cert-manager.io".into()
            ))
        );
        let custom =
            ShimDefaults::from_args(&["--auto-certificate-annotations=example.com/tls".into()]);
        assert_eq!(custom.auto_annotations, ["example.com/tls"]);
        let c = certificate(
            ShimKind::Ingress,
            &ingress(json!({"kubernetes.io/tls-acme": "true"})),
            &custom,
        );
        assert!(c.ignored);
    }

    #[test]
    fn gateway_shim_listeners_and_parent_ref() {
        let gw = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "public", "namespace": "infra", "annotations": {
            "cert-manager.io/issuer": "le", "cert-manager.io/ignore-tls-listeners": "skipme"}},
        "spec": {"listeners": [
            {"name": "http", "protocol": "HTTP", "port": 80, "hostname": "plain.example.test"},
            {"name": "https", "protocol": "HTTPS", "port": 443, "hostname": "shop.example.test",
             "tls": {"mode": "Terminate", "certificateRefs": [{"name": "shop-tls"}]}},
            {"name": "pass", "protocol": "TLS", "port": 8443, "hostname": "p.example.test",
             "tls": {"mode": "Passthrough"}},
            {"name": "skipme", "protocol": "HTTPS", "port": 443, "hostname": "skip.example.test",
             "tls": {"mode": "Terminate", "certificateRefs": [{"name": "s"}]}},
            {"name": "nohost", "protocol": "HTTPS", "port": 443,
             "tls": {"mode": "Terminate", "certificateRefs": [{"name": "n"}]}}
        ]}});
        let c = certificate(ShimKind::Gateway, &gw, &ShimDefaults::default());
        assert_eq!(c.dns_names, ["shop.example.test"]);
        assert_eq!(c.secrets, ["shop-tls"]);
        assert_eq!(c.skipped.len(), 1, "{:?}", c.skipped);
        assert_eq!(
            c.annotations
                .get("acme.cert-manager.io/http01-parentrefname")
                .map(String::as_str),
            Some("public")
        );
        assert_eq!(
            c.annotations
                .get("acme.cert-manager.io/http01-parentrefkind")
                .map(String::as_str),
            Some("Gateway")
        );
        // tls-acme does not count for Gateways.
        let mut gw2 = gw.clone();
        gw2["metadata"]["annotations"] = json!({"kubernetes.io/tls-acme": "true"});
        assert!(certificate(ShimKind::Gateway, &gw2, &ShimDefaults::default()).ignored);
    }

    #[test]
    fn resources() {
        assert_eq!(
            parse_resource("ingress/web"),
            Ok((ShimKind::Ingress, "web".into()))
        );
        assert_eq!(
            parse_resource("ingresses.networking.k8s.io/web"),
            Ok((ShimKind::Ingress, "web".into()))
        );
        assert_eq!(
            parse_resource("gtw/public"),
            Ok((ShimKind::Gateway, "public".into()))
        );
        assert!(parse_resource("web").is_err());
        assert!(parse_resource("service/web").is_err());
        assert!(parse_resource("ingress/").is_err());
    }
}
