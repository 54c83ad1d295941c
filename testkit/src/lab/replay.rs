//! Lab scenarios for replay and pre-flight: cert-manager's solver is gone (a failed issuance) or
//! not there yet (no Certificate), so the tool's stand-in is the only thing serving a token.
//!
//! The fake kubelet runs the Go acmesolver stand-in (`testkit/go/acmesolver`) for the solver
//! image inside the lab's cluster namespace, which then also holds the solver Service and pod
//! addresses ([`SOLVER_V4`], [`SOLVER_POD_V4`]): the lab's data planes proxy the challenge path
//! to [`SOLVER_V4`]:8089 as the real ones route it to the stand-in's Service, and a kube-proxy
//! rule in the cluster namespace sends the fake API server's ClusterIPs (port 8089) to the pod
//! address, so the probe pod's direct probes of the stand-in's Service reach it too. One stand-in
//! at a time: they all listen on port 8089 of that one namespace.
//!
//! | scenario | network | cluster objects |
//! |---|---|---|
//! | `replay-founding-incident` | the founding incident (edge round-robin nginx/gateway) | failed issuance: Challenge invalid (the CA's 404), solver gone, Certificate in backoff |
//! | `replay-wrong-backend` | DNS points at the gateway only (404); nginx would route the solver | the same failed issuance |
//! | `preflight-healthy` | edge → ingress-nginx → the stand-in | no Certificate; Ingress `web` (TLS host, cluster-issuer annotation) |
//! | `preflight-class-unserved` | edge → ingress-nginx (routes class `nginx` only) | Ingress `web` asks for class `traefik` (an IngressClass without a controller) |
//! | `preflight-route-not-allowed` | DNS points at the gateway (404) | ClusterIssuer `letsencrypt-gateway` (HTTPRoute solver on Gateway infra/public), whose listeners allow routes from their own namespace only; cert-manager with `--enable-gateway-api` |

use super::cluster::Plane;
use super::{
    CLUSTER_DNS_V4, DNS_NAME, DNS_V4, EDGE_V4, ENVOY_V4, Lab, NGINX_V4, POD_V4, SOLVER_POD_V4,
    SOLVER_PORT, SOLVER_V4,
};
use crate::fakeapi::KubeletConfig;
use anyhow::{Context, Result};
use serde_json::{Value, json};

/// The replay and pre-flight scenarios, with what they reproduce (see the module docs). They
/// are not in [`super::SCENARIOS`]: cert-manager's solver is gone or not there yet, so only a
/// stand-in gives them a token to serve.
pub const REPLAY_SCENARIOS: &[(&str, &str)] = &[
    (
        "replay-founding-incident",
        "the founding incident after issuance failed: Challenge invalid (the CA's 404), solver gone, backoff; a replay's stand-in meets the 50/50 round-robin",
    ),
    (
        "replay-wrong-backend",
        "issuance failed: DNS sends all traffic to the gateway (404) while ingress-nginx routes the solver",
    ),
    (
        "preflight-healthy",
        "no Certificate yet; Ingress web (ingress-nginx, ClusterIssuer) would be served",
    ),
    (
        "preflight-class-unserved",
        "no Certificate yet; Ingress web asks for IngressClass traefik, which no controller serves",
    ),
    (
        "preflight-route-not-allowed",
        "no Certificate yet; an HTTPRoute solver on a Gateway whose listeners allow routes from their own namespace only",
    ),
];

/// Is `name` one of [`REPLAY_SCENARIOS`]?
pub fn is_replay_scenario(name: &str) -> bool {
    REPLAY_SCENARIOS.iter().any(|(n, _)| *n == name)
}

/// The acmesolver image the lab's cert-manager names (`--acme-http01-solver-image`).
pub const ACMESOLVER_IMAGE: &str = "quay.io/jetstack/cert-manager-acmesolver:v1.19.1";
/// The Gateway controller the lab's Gateway class stands for.
pub const GATEWAY_CONTROLLER: &str = "io.cilium/gateway-controller";

/// The kubelet of a replay scenario: `cfg` plus the acmesolver stand-in for
/// [`ACMESOLVER_IMAGE`], whose pods get the solver pod address, as do the pods that run the
/// plugin's image in `solver` mode (`cfg` maps that image to the plugin).
pub fn replay_kubelet(cfg: KubeletConfig) -> Result<KubeletConfig> {
    let mut cfg = cfg.acmesolver(ACMESOLVER_IMAGE)?;
    cfg.image_pod_ips
        .insert(ACMESOLVER_IMAGE.to_owned(), SOLVER_POD_V4.to_owned());
    // The plugin's shared stand-in (`renewals --replay`): the probe image in `solver` mode.
    cfg.arg_pod_ips
        .insert("solver".to_owned(), SOLVER_POD_V4.to_owned());
    Ok(cfg)
}

impl Lab {
    /// The cluster namespace (probe pod [`POD_V4`], cluster DNS forwarding to the public one)
    /// that also holds the solver addresses, where the kubelet runs the stand-in acmesolver,
    /// with kube-proxy's rule for the fake API server's ClusterIPs on port 8089.
    pub fn cluster_hosting_solver(&mut self) -> Result<String> {
        let dns = self.host("cluster-dns", &[CLUSTER_DNS_V4])?;
        self.dnsmasq(&dns, CLUSTER_DNS_V4, &[], Some(DNS_V4))?;
        let ns = self.host("cluster", &[POD_V4, SOLVER_V4, SOLVER_POD_V4])?;
        self.hosts
            .last()
            .context("cluster host")?
            .set_resolver(CLUSTER_DNS_V4)?;
        self.cluster = ns.clone();
        let services = format!("{}.128/25", crate::fakeapi::SERVICE_NET);
        self.nft(
            &ns,
            &format!(
                "chain output {{\n    type nat hook output priority -100;\n    ip daddr {services} tcp dport {SOLVER_PORT} dnat ip to {SOLVER_POD_V4}:{SOLVER_PORT}\n  }}"
            ),
        )?;
        self.notes.push(format!(
            "cluster: the stand-in acmesolver runs here (pod {SOLVER_POD_V4}, Service {SOLVER_V4}); ClusterIPs {services}:{SOLVER_PORT} go to the pod (kube-proxy)"
        ));
        Ok(ns)
    }
}

/// Build the servers of one of [`REPLAY_SCENARIOS`]. Returns false for a name it does not know.
pub(crate) fn build(lab: &mut Lab, name: &str, d: u32) -> Result<bool> {
    if !is_replay_scenario(name) {
        return Ok(false);
    }
    let routes_solver = Plane {
        any_token: true,
        ..Default::default()
    };
    match name {
        "replay-founding-incident" => {
            lab.dns(&[(DNS_NAME, EDGE_V4)])?;
            lab.ingress_nginx(d, routes_solver)?;
            lab.gateway_without_route(d)?;
            let edge = lab.host("edge", &[EDGE_V4])?;
            let (n, e) = (format!("{NGINX_V4}:80"), format!("{ENVOY_V4}:80"));
            lab.haproxy(
                &edge,
                &format!("{EDGE_V4}:80"),
                &[("ingress_nginx", &n, 1), ("cilium_gateway", &e, 1)],
            )?;
        }
        "replay-wrong-backend" | "preflight-route-not-allowed" => {
            lab.dns(&[(DNS_NAME, ENVOY_V4)])?;
            lab.ingress_nginx(d, routes_solver)?;
            lab.gateway_without_route(d)?;
        }
        "preflight-healthy" => {
            lab.dns(&[(DNS_NAME, EDGE_V4)])?;
            lab.ingress_nginx(d, routes_solver)?;
            lab.gateway_without_route(d)?;
            lab.edge_to_nginx(&[], false, "")?;
        }
        "preflight-class-unserved" => {
            lab.dns(&[(DNS_NAME, EDGE_V4)])?;
            // Routes cert-manager's fixed token only: nothing routes a class-traefik Ingress.
            lab.ingress_nginx(d, Plane::default())?;
            lab.gateway_without_route(d)?;
            lab.edge_to_nginx(&[], false, "")?;
        }
        _ => return Ok(false),
    }
    lab.cluster_hosting_solver()?;
    Ok(true)
}

fn kind(d: &Value) -> &str {
    d["kind"].as_str().unwrap_or("")
}

/// The reason of the Challenge cert-manager gave up on in a failed-issuance replay scenario: the
/// lab's CA (a Pebble) got a 404 on port 80 (the edge's gateway half, or the gateway DNS points
/// at), in Pebble's words as in `failed-validation`; None for a pre-flight (no Certificate, no
/// Challenge).
pub(crate) fn failed_reason(scenario: &str) -> Option<String> {
    match scenario {
        "replay-wrong-backend" | "replay-founding-incident" => {
            Some(super::selfcheck::ca_rejected_404())
        }
        _ => None,
    }
}

/// The chain after a failed issuance, as cert-manager leaves it: the Challenge invalid with the
/// CA's text (not processing, not presented: its solver is deleted), the Order invalid, the
/// CertificateRequest failed, the Certificate's Issuing condition failed with a backoff.
fn failed_chain(docs: &mut [Value], reason: &str) {
    let now = crate::fakeapi::now_secs();
    let failed_at = crate::fakeapi::rfc3339(now.saturating_sub(600));
    let order_name = docs
        .iter()
        .find(|d| kind(d) == "Order")
        .and_then(|d| d["metadata"]["name"].as_str())
        .unwrap_or("")
        .to_owned();
    let why = format!(
        "Failed to wait for order resource \"{order_name}\" to become ready: order is in \"invalid\" state: "
    );
    for d in docs.iter_mut() {
        match kind(d) {
            "Certificate" => {
                d["status"] = json!({
                    "conditions": [
                        {"type": "Ready", "status": "False", "reason": "DoesNotExist",
                         "message": "Issuing certificate as Secret does not exist",
                         "lastTransitionTime": failed_at, "observedGeneration": 1},
                        {"type": "Issuing", "status": "False", "reason": "Failed",
                         "message": format!("The certificate request has failed to complete and will be retried: {why}"),
                         "lastTransitionTime": failed_at, "observedGeneration": 1},
                    ],
                    "lastFailureTime": failed_at,
                    "failedIssuanceAttempts": 1,
                });
            }
            "CertificateRequest" => {
                d["status"]["conditions"] = json!([
                    {"type": "Approved", "status": "True", "reason": "cert-manager.io",
                     "message": "Certificate request has been approved by cert-manager.io",
                     "lastTransitionTime": failed_at},
                    {"type": "Ready", "status": "False", "reason": "Failed", "message": why,
                     "lastTransitionTime": failed_at},
                ]);
                d["status"]["failureTime"] = json!(failed_at);
            }
            "Order" => {
                d["status"]["state"] = json!("invalid");
                d["status"]["failureTime"] = json!(failed_at);
            }
            "Challenge" => {
                d["status"] = json!({
                    "processing": false,
                    "presented": false,
                    "state": "invalid",
                    "reason": reason,
                });
            }
            _ => {}
        }
    }
}

/// The Ingress a pre-flight reads: one TLS host, the lab's ClusterIssuer.
fn web_ingress(extra: &[(&str, &str)]) -> Value {
    let mut annotations = serde_json::Map::new();
    annotations.insert(
        "cert-manager.io/cluster-issuer".into(),
        json!("letsencrypt-prod"),
    );
    for (k, v) in extra {
        annotations.insert((*k).into(), json!(v));
    }
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "shop", "annotations": annotations,
            "labels": {"app.kubernetes.io/name": "web"}},
        "spec": {"ingressClassName": "nginx",
            "tls": [{"hosts": [DNS_NAME], "secretName": "web-tls"}],
            "rules": [{"host": DNS_NAME, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}})
}

/// Change one fixture file's objects (`file` is its name) for a replay scenario.
pub(crate) fn adjust_file(scenario: &str, file: &str, docs: &mut Vec<Value>) {
    if !is_replay_scenario(scenario) {
        return;
    }
    let preflight = scenario.starts_with("preflight-");
    if file.starts_with("30-") || (preflight && file.starts_with("20-")) {
        // cert-manager's solver objects are gone; a pre-flight has no Certificate at all.
        docs.clear();
        return;
    }
    if file.starts_with("20-")
        && let Some(reason) = failed_reason(scenario)
    {
        failed_chain(docs, &reason);
    }
    if file.starts_with("10-") && scenario == "preflight-route-not-allowed" {
        docs.push(json!({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
            "metadata": {"name": "letsencrypt-gateway"},
            "spec": {"acme": {"server": "https://pebble.lab.example.test:14000/dir",
                "privateKeySecretRef": {"name": "letsencrypt-gateway-account-key"},
                "solvers": [{"http01": {"gatewayHTTPRoute": {"parentRefs": [
                    {"name": "public", "namespace": "infra", "kind": "Gateway"}]}}}]}},
            "status": {"conditions": [{"type": "Ready", "status": "True",
                "reason": "ACMEAccountRegistered", "message": "The ACME account was registered with the ACME server"}]}}));
    }
    if !file.starts_with("40-") {
        return;
    }
    match scenario {
        "preflight-healthy" => docs.push(web_ingress(&[])),
        "preflight-class-unserved" => {
            docs.push(web_ingress(&[(
                "acme.cert-manager.io/http01-ingress-ingressclassname",
                "traefik",
            )]));
            docs.push(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                "metadata": {"name": "traefik"},
                "spec": {"controller": "traefik.io/ingress-controller"}}),
            );
        }
        "preflight-route-not-allowed" => {
            for d in docs.iter_mut() {
                if kind(d) == "Gateway" {
                    for l in d["spec"]["listeners"].as_array_mut().into_iter().flatten() {
                        l["allowedRoutes"] = json!({"namespaces": {"from": "Same"}});
                    }
                }
                if kind(d) == "Deployment"
                    && d["metadata"]["name"] == "cert-manager"
                    && let Some(args) =
                        d["spec"]["template"]["spec"]["containers"][0]["args"].as_array_mut()
                {
                    args.push(json!("--enable-gateway-api"));
                }
            }
        }
        _ => {}
    }
}
