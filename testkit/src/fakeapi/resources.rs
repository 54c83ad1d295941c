//! The data-driven resource table: every kind the fake serves is one row here.

/// One served resource: what discovery advertises and how paths map to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDef {
    /// API group, `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Lower-case plural used in paths (`certificates`).
    pub plural: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Field selector keys accepted on LIST/WATCH besides `metadata.name` and
    /// `metadata.namespace` (dotted JSON paths into the object).
    pub selectable_fields: &'static [&'static str],
    /// Subresources served (`status`, `log`).
    pub subresources: &'static [&'static str],
}

impl ResourceDef {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group`, or `plural` for the core group (as error messages print it).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Lower-case singular name, as discovery reports it.
    pub fn singular(&self) -> String {
        self.kind.to_ascii_lowercase()
    }
}

const CM: &[&str] = &["cert-manager"];
const CM_ACME: &[&str] = &["cert-manager", "cert-manager-acme"];
const ALL: &[&str] = &["all"];
const NONE: &[&str] = &[];
const STATUS: &[&str] = &["status"];
const ISSUER_REF: &[&str] = &[
    "spec.issuerRef.group",
    "spec.issuerRef.kind",
    "spec.issuerRef.name",
];

macro_rules! res {
    ($g:expr, $v:expr, $k:expr, $p:expr, $ns:expr, $short:expr, $cat:expr, $sel:expr, $sub:expr) => {
        ResourceDef {
            group: $g,
            version: $v,
            kind: $k,
            plural: $p,
            namespaced: $ns,
            short_names: $short,
            categories: $cat,
            selectable_fields: $sel,
            subresources: $sub,
        }
    };
}

/// The built-in table. Add a row to serve another kind.
pub fn builtin() -> Vec<ResourceDef> {
    vec![
        res!(
            "",
            "v1",
            "Namespace",
            "namespaces",
            false,
            &["ns"],
            NONE,
            &["status.phase"],
            STATUS
        ),
        res!(
            "",
            "v1",
            "Node",
            "nodes",
            false,
            &["no"],
            NONE,
            &["spec.unschedulable"],
            STATUS
        ),
        res!(
            "",
            "v1",
            "Pod",
            "pods",
            true,
            &["po"],
            ALL,
            &[
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            ],
            &["status", "log"]
        ),
        res!(
            "",
            "v1",
            "Service",
            "services",
            true,
            &["svc"],
            ALL,
            NONE,
            STATUS
        ),
        res!(
            "",
            "v1",
            "Endpoints",
            "endpoints",
            true,
            &["ep"],
            NONE,
            NONE,
            NONE
        ),
        res!(
            "",
            "v1",
            "ConfigMap",
            "configmaps",
            true,
            &["cm"],
            NONE,
            NONE,
            NONE
        ),
        res!(
            "",
            "v1",
            "Event",
            "events",
            true,
            &["ev"],
            NONE,
            &[
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            ],
            NONE
        ),
        res!(
            "apps",
            "v1",
            "Deployment",
            "deployments",
            true,
            &["deploy"],
            ALL,
            NONE,
            STATUS
        ),
        res!(
            "apps",
            "v1",
            "DaemonSet",
            "daemonsets",
            true,
            &["ds"],
            ALL,
            NONE,
            STATUS
        ),
        res!(
            "discovery.k8s.io",
            "v1",
            "EndpointSlice",
            "endpointslices",
            true,
            NONE,
            NONE,
            NONE,
            NONE
        ),
        res!(
            "networking.k8s.io",
            "v1",
            "Ingress",
            "ingresses",
            true,
            &["ing"],
            NONE,
            NONE,
            STATUS
        ),
        res!(
            "networking.k8s.io",
            "v1",
            "IngressClass",
            "ingressclasses",
            false,
            NONE,
            NONE,
            NONE,
            NONE
        ),
        res!(
            "gateway.networking.k8s.io",
            "v1",
            "Gateway",
            "gateways",
            true,
            &["gtw"],
            NONE,
            NONE,
            STATUS
        ),
        res!(
            "gateway.networking.k8s.io",
            "v1",
            "GatewayClass",
            "gatewayclasses",
            false,
            &["gc"],
            NONE,
            NONE,
            STATUS
        ),
        res!(
            "gateway.networking.k8s.io",
            "v1",
            "HTTPRoute",
            "httproutes",
            true,
            NONE,
            NONE,
            NONE,
            STATUS
        ),
        res!(
            "cert-manager.io",
            "v1",
            "Certificate",
            "certificates",
            true,
            &["cert", "certs"],
            CM,
            NONE,
            STATUS
        ),
        res!(
            "cert-manager.io",
            "v1",
            "CertificateRequest",
            "certificaterequests",
            true,
            &["cr", "crs"],
            CM,
            NONE,
            STATUS
        ),
        res!(
            "cert-manager.io",
            "v1",
            "Issuer",
            "issuers",
            true,
            &["iss"],
            CM,
            ISSUER_REF,
            STATUS
        ),
        res!(
            "cert-manager.io",
            "v1",
            "ClusterIssuer",
            "clusterissuers",
            false,
            &["ciss"],
            CM,
            NONE,
            STATUS
        ),
        res!(
            "acme.cert-manager.io",
            "v1",
            "Order",
            "orders",
            true,
            NONE,
            CM_ACME,
            ISSUER_REF,
            STATUS
        ),
        res!(
            "acme.cert-manager.io",
            "v1",
            "Challenge",
            "challenges",
            true,
            NONE,
            CM_ACME,
            ISSUER_REF,
            STATUS
        ),
    ]
}
