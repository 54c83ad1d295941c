//! The resource table: one row per served kind. Everything (routing,
//! discovery, error messages, field selectors, printer columns) is derived
//! from it; there is no per-kind handler code.

use serde_json::{Value, json};

/// A printer column served in `Table` responses (as a CRD's
/// `additionalPrinterColumns`). `json_path` is a tiny JSONPath subset:
/// `.a.b`, `[0]`, `[?(@.type=="Ready")]`. Priority 1 = only with `-o wide`.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: &'static str,
    pub kind: &'static str,
    pub json_path: &'static str,
    pub priority: u8,
}

/// One served resource (group/version/kind/plural and its discovery data).
#[derive(Clone, Debug)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// `status`, `log`, ... (served as `<plural>/<sub>`).
    pub subresources: Vec<String>,
    /// Field selector labels beyond `metadata.name` / `metadata.namespace`.
    pub field_labels: Vec<String>,
    pub columns: Vec<Column>,
}

impl Resource {
    /// `apiVersion` as written in objects: `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `certificates.cert-manager.io`, or just `pods` for the core group —
    /// the "qualified resource" the API server prints in error messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Certificate.cert-manager.io`, or `Pod` — the "qualified kind" used in
    /// Invalid errors.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// Does a DELETE answer with the deleted object (storage with `ReturnDeletedObject`: pods,
    /// services, namespaces) rather than a `Status`? Objects whose deletion is pending
    /// (finalizers, graceful pod deletion) are returned by every kind.
    pub fn returns_deleted_object(&self) -> bool {
        self.group.is_empty() && matches!(self.kind.as_str(), "Pod" | "Service" | "Namespace")
    }

    /// Review kinds (`SelfSubjectAccessReview`) are create-only and not stored.
    pub fn is_review(&self) -> bool {
        self.group == "authorization.k8s.io"
    }

    pub fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.iter().any(|s| s == sub)
    }

    /// The APIResource entries (main + subresources) for discovery.
    pub fn discovery_entries(&self) -> Vec<Value> {
        let mut main = json!({
            "name": self.plural,
            "singularName": self.kind.to_lowercase(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        });
        if self.is_review() {
            main["verbs"] = json!(["create"]);
        }
        if !self.short_names.is_empty() {
            main["shortNames"] = json!(self.short_names);
        }
        if !self.categories.is_empty() {
            main["categories"] = json!(self.categories);
        }
        let mut out = vec![main];
        for sub in &self.subresources {
            let verbs = if sub == "log" {
                json!(["get"])
            } else {
                json!(["get", "patch", "update"])
            };
            out.push(json!({
                "name": format!("{}/{}", self.plural, sub),
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": if sub == "log" { "Pod".to_string() } else { self.kind.clone() },
                "verbs": verbs,
            }));
        }
        out
    }

    /// A resource for a kind that is not in the table (loaded from a fixture
    /// or created through the API with an unknown apiVersion/kind is refused;
    /// this is only used for fixtures). The plural follows the usual English
    /// rules the CRD authors use.
    pub fn guessed(group: &str, version: &str, kind: &str, namespaced: bool) -> Resource {
        let lower = kind.to_lowercase();
        let plural = if lower.ends_with('s') || lower.ends_with('x') || lower.ends_with("ch") {
            format!("{lower}es")
        } else if let Some(stem) = lower.strip_suffix('y') {
            if stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
                format!("{lower}s")
            } else {
                format!("{stem}ies")
            }
        } else {
            format!("{lower}s")
        };
        Resource {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural,
            namespaced,
            short_names: vec![],
            categories: vec![],
            subresources: vec!["status".into()],
            field_labels: vec![],
            columns: vec![],
        }
    }
}

type Row = (
    &'static str,            // group
    &'static str,            // version
    &'static str,            // kind
    &'static str,            // plural
    bool,                    // namespaced
    &'static [&'static str], // shortNames
    &'static [&'static str], // categories
    &'static [&'static str], // subresources
    &'static [&'static str], // extra field selector labels
);

const ALL: &[&str] = &["all"];
const CM: &[&str] = &["cert-manager"];
const CM_ACME: &[&str] = &["cert-manager", "cert-manager-acme"];
const GW: &[&str] = &["gateway-api"];
const ST: &[&str] = &["status"];
const NONE: &[&str] = &[];
const ISSUER_REF: &[&str] = &[
    "spec.issuerRef.group",
    "spec.issuerRef.kind",
    "spec.issuerRef.name",
];

/// The built-in table.
#[rustfmt::skip]
const TABLE: &[Row] = &[
    ("", "v1", "Namespace", "namespaces", false, &["ns"], NONE, ST, &["status.phase"]),
    ("", "v1", "Node", "nodes", false, &["no"], NONE, ST, &["spec.unschedulable"]),
    (
        "", "v1", "Pod", "pods", true, &["po"], ALL, &["status", "log"],
        &[
            "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
            "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
            "status.podIP", "status.nominatedNodeName",
        ],
    ),
    ("", "v1", "Service", "services", true, &["svc"], ALL, ST, NONE),
    ("", "v1", "Endpoints", "endpoints", true, &["ep"], NONE, NONE, NONE),
    (
        "", "v1", "Event", "events", true, &["ev"], NONE, NONE,
        &[
            "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
            "involvedObject.uid", "involvedObject.apiVersion",
            "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
            "reportingComponent", "source", "type",
        ],
    ),
    ("", "v1", "Secret", "secrets", true, NONE, NONE, NONE, &["type"]),
    ("", "v1", "ConfigMap", "configmaps", true, &["cm"], NONE, NONE, NONE),
    ("", "v1", "ServiceAccount", "serviceaccounts", true, &["sa"], NONE, NONE, NONE),
    ("apps", "v1", "Deployment", "deployments", true, &["deploy"], ALL, ST, NONE),
    ("apps", "v1", "DaemonSet", "daemonsets", true, &["ds"], ALL, ST, NONE),
    ("apps", "v1", "ReplicaSet", "replicasets", true, &["rs"], ALL, ST, NONE),
    ("apps", "v1", "StatefulSet", "statefulsets", true, &["sts"], ALL, ST, NONE),
    ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true, NONE, NONE, NONE, NONE),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", true, &["ing"], NONE, ST, NONE),
    ("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false, NONE, NONE, NONE, NONE),
    ("gateway.networking.k8s.io", "v1", "Gateway", "gateways", true, &["gtw"], GW, ST, NONE),
    ("gateway.networking.k8s.io", "v1", "GatewayClass", "gatewayclasses", false, &["gc"], GW, ST, NONE),
    ("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes", true, NONE, GW, ST, NONE),
    ("cert-manager.io", "v1", "Certificate", "certificates", true, &["cert", "certs"], CM, ST, NONE),
    ("cert-manager.io", "v1", "CertificateRequest", "certificaterequests", true, &["cr", "crs"], CM, ST, NONE),
    ("cert-manager.io", "v1", "Issuer", "issuers", true, &["iss"], CM, ST, ISSUER_REF),
    ("cert-manager.io", "v1", "ClusterIssuer", "clusterissuers", false, &["ciss"], CM, ST, NONE),
    ("acme.cert-manager.io", "v1", "Order", "orders", true, NONE, CM_ACME, ST, ISSUER_REF),
    ("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false, NONE, NONE, NONE, NONE),
    ("acme.cert-manager.io", "v1", "Challenge", "challenges", true, NONE, CM_ACME, ST, ISSUER_REF),
];

const fn col(
    name: &'static str,
    kind: &'static str,
    json_path: &'static str,
    priority: u8,
) -> Column {
    Column {
        name,
        kind,
        json_path,
        priority,
    }
}

const READY: &str = r#".status.conditions[?(@.type=="Ready")].status"#;
const READY_MSG: &str = r#".status.conditions[?(@.type=="Ready")].message"#;

/// Printer columns for the kinds whose `kubectl get` output a diagnosis
/// session reads (the CRDs' `additionalPrinterColumns`, and the built-in
/// printers' most useful columns). Name is always first and Age last.
fn columns_for(kind: &str) -> Vec<Column> {
    match kind {
        "Certificate" => vec![
            col("Ready", "string", READY, 0),
            col("Secret", "string", ".spec.secretName", 0),
            col("Issuer", "string", ".spec.issuerRef.name", 1),
            col("Status", "string", READY_MSG, 1),
            col("Expiration", "string", ".status.notAfter", 1),
        ],
        "CertificateRequest" => vec![
            col(
                "Approved",
                "string",
                r#".status.conditions[?(@.type=="Approved")].status"#,
                0,
            ),
            col(
                "Denied",
                "string",
                r#".status.conditions[?(@.type=="Denied")].status"#,
                0,
            ),
            col("Ready", "string", READY, 0),
            col("Issuer", "string", ".spec.issuerRef.name", 0),
            col("Requester", "string", ".spec.username", 0),
            col("Status", "string", READY_MSG, 1),
        ],
        "Issuer" | "ClusterIssuer" => vec![
            col("Ready", "string", READY, 0),
            col("Status", "string", READY_MSG, 1),
        ],
        "Order" => vec![
            col("State", "string", ".status.state", 0),
            col("Issuer", "string", ".spec.issuerRef.name", 1),
            col("Reason", "string", ".status.reason", 1),
        ],
        "Challenge" => vec![
            col("State", "string", ".status.state", 0),
            col("Domain", "string", ".spec.dnsName", 0),
            col("Reason", "string", ".status.reason", 1),
        ],
        // The built-in pod printer: READY/STATUS/RESTARTS are computed
        // (`pods::printer_cells`), Age comes before the wide columns.
        "Pod" => vec![
            col("Ready", "pod-ready", "", 0),
            col("Status", "pod-status", "", 0),
            col("Restarts", "pod-restarts", "", 0),
            col("Age", "age", ".metadata.creationTimestamp", 0),
            col("IP", "or-none", ".status.podIP", 1),
            col("Node", "or-none", ".spec.nodeName", 1),
        ],
        "Service" => vec![
            col("Type", "string", ".spec.type", 0),
            col("Cluster-IP", "string", ".spec.clusterIP", 0),
        ],
        "Ingress" => vec![
            col("Class", "string", ".spec.ingressClassName", 0),
            col("Hosts", "string", ".spec.rules[*].host", 0),
            col("Address", "string", ".status.loadBalancer.ingress[*].ip", 0),
        ],
        "IngressClass" => vec![col("Controller", "string", ".spec.controller", 0)],
        "HTTPRoute" => vec![col("Hostnames", "string", ".spec.hostnames", 0)],
        "Gateway" => vec![
            col("Class", "string", ".spec.gatewayClassName", 0),
            col("Address", "string", ".status.addresses[*].value", 0),
            col(
                "Programmed",
                "string",
                r#".status.conditions[?(@.type=="Programmed")].status"#,
                0,
            ),
        ],
        "GatewayClass" => vec![
            col("Controller", "string", ".spec.controllerName", 0),
            col(
                "Accepted",
                "string",
                r#".status.conditions[?(@.type=="Accepted")].status"#,
                0,
            ),
        ],
        "Deployment" => vec![
            col("Ready", "string", ".status.readyReplicas", 0),
            col("Available", "string", ".status.availableReplicas", 0),
        ],
        "Namespace" => vec![col("Status", "string", ".status.phase", 0)],
        // Events have no Name/Age columns (see `table::own_layout`).
        "Event" => vec![
            col("Last Seen", "age", ".lastTimestamp", 0),
            col("Type", "string", ".type", 0),
            col("Reason", "string", ".reason", 0),
            col("Object", "object", ".involvedObject", 0),
            col("Message", "string", ".message", 0),
        ],
        _ => vec![],
    }
}

/// The built-in resources, in table order.
pub fn builtin() -> Vec<Resource> {
    let strings = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    TABLE
        .iter()
        .map(
            |&(group, version, kind, plural, namespaced, short, cats, subs, fields)| Resource {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
                plural: plural.into(),
                namespaced,
                short_names: strings(short),
                categories: strings(cats),
                subresources: strings(subs),
                field_labels: strings(fields),
                columns: columns_for(kind),
            },
        )
        .collect()
}
