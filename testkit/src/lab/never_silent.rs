//! The lab's ACME server and the scenarios of "never silent" (issue 10).
//!
//! Every lab scenario has the ACME directory its Issuer names (`https://pebble.lab.example.test:
//! 14000/dir`, see `objects.rs`) on an "internet" address, [`ACME_V4`], resolved by the public
//! DNS: a cluster reaches its ACME server, so the probe pod's egress witness does too, except
//! where a scenario blocks egress. It is an HTTPS nginx that answers the directory document, not
//! a Pebble: only reachability matters to the witness (the Pebble tests start a real one).
//!
//! | scenario             | what it reproduces                                                |
//! |----------------------|-------------------------------------------------------------------|
//! | gateway-takes-all    | the edge sends all of port 80 to the gateway (404); ingress-nginx, the solver's data plane, serves the key when asked directly |
//! | hairpin-external-lb  | the edge is an external LB in front of NodePorts, which the cluster cannot reach back; the ACME server is reachable |
//! | endpoints-not-ready  | the API says the solver pod is not Ready (no endpoints), yet it answers; the network is healthy |
//! | failed-validation    | the CA rejected the challenge (404), the solver is gone, the Certificate backs off; the edge still sends everything to the gateway |

use super::cluster::{CLUSTER_RANGE, Plane};
use super::{DNS_NAME, EDGE_V4, ENVOY_V4, Lab, NGINX_V4};
use anyhow::Result;

/// The host name of the Issuer's ACME server in the lab's objects.
pub const ACME_HOST: &str = "pebble.lab.example.test";
/// Its address ("internet", outside the cluster's range) and port.
pub const ACME_V4: &str = "192.0.2.41";
pub const ACME_PORT: u16 = 14000;

/// The scenarios of this file, in [`super::SCENARIOS`] order.
pub const NEVER_SILENT_SCENARIOS: &[&str] = &[
    "gateway-takes-all",
    "hairpin-external-lb",
    "endpoints-not-ready",
    "failed-validation",
];

impl Lab {
    /// The ACME directory at [`ACME_V4`]:[`ACME_PORT`] (HTTPS, a self-signed certificate for
    /// [`ACME_HOST`]): `GET /dir` answers a directory document, anything else 404.
    pub fn acme_directory(&mut self) -> Result<()> {
        let ns = self.host("acme", &[ACME_V4])?;
        let (cert, key) = self.self_signed_for("acme", ACME_HOST)?;
        let dir = format!(
            "{{\\\"newNonce\\\":\\\"https://{ACME_HOST}:{ACME_PORT}/nonce-plz\\\",\\\"newAccount\\\":\\\"https://{ACME_HOST}:{ACME_PORT}/sign-me-up\\\",\\\"newOrder\\\":\\\"https://{ACME_HOST}:{ACME_PORT}/order-plz\\\"}}"
        );
        self.nginx(
            "ACME directory",
            &ns,
            &[(
                &format!("{ACME_V4}:{ACME_PORT} ssl"),
                format!(
                    "    ssl_certificate {cert};\n    ssl_certificate_key {key};\n    location = /dir {{ default_type application/json; return 200 \"{dir}\"; }}\n    location / {{ return 404; }}"
                ),
            )],
        )?;
        self.notes.push(format!(
            "ACME directory https://{ACME_HOST}:{ACME_PORT}/dir on {ACME_V4} (the Issuer's server; public DNS)"
        ));
        Ok(())
    }
}

/// Build the servers of one of [`NEVER_SILENT_SCENARIOS`] (the client exists; the cluster
/// namespace is added here). Returns false for a name it does not know.
pub(crate) fn build(lab: &mut Lab, name: &str, d: u32) -> Result<bool> {
    if !NEVER_SILENT_SCENARIOS.contains(&name) {
        return Ok(false);
    }
    lab.dns(&[(DNS_NAME, EDGE_V4)])?;
    lab.gateway_without_route(d)?;
    if name == "failed-validation" {
        // cert-manager removed the solver and its Ingress: ingress-nginx has no route for the
        // challenge any more and answers its own 404 page; no solver runs.
        let ns = lab.host("nginx", &[NGINX_V4])?;
        lab.nginx(
            "ingress-nginx (the solver's route removed)",
            &ns,
            &[(
                &format!("{NGINX_V4}:80"),
                "    location / { return 404; }".to_owned(),
            )],
        )?;
        lab.notes.push(format!(
            "ingress-nginx {NGINX_V4}: no route for the challenge (solver removed), 404"
        ));
    } else {
        lab.solver(d)?;
        lab.ingress_nginx(d, Plane::default())?;
    }
    match name {
        "gateway-takes-all" | "failed-validation" => {
            let edge = lab.host("edge", &[EDGE_V4])?;
            let gateway = format!("{ENVOY_V4}:80");
            lab.haproxy_with(
                &edge,
                &format!("{EDGE_V4}:80"),
                &[],
                &[("gateway", &[("cilium_gateway", &gateway, 1)])],
                "",
            )?;
            lab.cluster(&[])?;
        }
        "hairpin-external-lb" => {
            lab.edge_to_nginx(&[], false, "")?;
            lab.cluster_output(
                "filter",
                &format!("ip daddr {EDGE_V4} drop"),
                &format!(
                    "packets to {EDGE_V4} are dropped (the external LB does not hairpin); the rest of the internet, outside {CLUSTER_RANGE}, is reachable"
                ),
            )?;
        }
        "endpoints-not-ready" => {
            lab.edge_to_nginx(&[], false, "")?;
            lab.cluster(&[])?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}
