//! Scenarios where the validators' own rules decide (issue 11): Go's address selection and
//! dialing in an IPv4-only pod, several A records, redirects Let's Encrypt treats differently
//! from Go, and a private address in public DNS.
//!
//! | scenario | DNS for the name | what answers |
//! |---|---|---|
//! | `ipv4-cluster-aaaa-ok` | A 203.0.113.10, AAAA 2001:db8::10 | the edge serves the key on both; the cluster has no IPv6 at all (`disable_ipv6`: connects to an AAAA fail with EADDRNOTAVAIL) |
//! | `ipv4-cluster-aaaa-dead` | A 203.0.113.10, AAAA 2001:db8::dead | nobody has the AAAA ("no route to host" from hosts with IPv6); the cluster as above |
//! | `two-a-one-refusing` | A 203.0.113.10, A 203.0.113.12 | the second host refuses port 80 |
//! | `redirect-public-ip` | A 203.0.113.10 | a 302 to `http://203.0.113.11/…` (an IP host), which serves the key |
//! | `redirect-303` | A 203.0.113.10 | a 303 to `/acme/<token>`, which serves the key |
//! | `private-address` | A 203.0.113.10, A 10.0.0.5 | 10.0.0.5 is a DNS record only: no lab host has it and no namespace routes 10/8 (it fails at once with "network is unreachable"; nothing leaves the lab) |
//!
//! The lab's addresses are documentation ranges, which IANA lists as special-purpose: Let's
//! Encrypt's rules refuse all of them (and `.test` names in redirects), as Boulder would. What
//! these scenarios check against real references is cert-manager's self check (the Go
//! reference) and Pebble; the public-CA filter is unit-tested over address strings.

use super::{DNS_NAME, EDGE_V4, EDGE2_V4, KEY, Lab, nginx_serving_key};
use anyhow::{Context, Result};

/// The edge's IPv6 address (serves the key in `ipv4-cluster-aaaa-ok`).
pub const EDGE_V6: &str = "2001:db8::10";
/// An IPv6 address nobody has.
pub const DEAD_V6: &str = "2001:db8::dead";
/// A host with nothing listening on port 80.
pub const REFUSING_V4: &str = "203.0.113.12";
/// A private address published in the name's public DNS (a DNS record only).
pub const PRIVATE_V4: &str = "10.0.0.5";

/// The scenarios of this module (see [`super::SCENARIOS`]).
pub const FIDELITY_SCENARIOS: &[&str] = &[
    "ipv4-cluster-aaaa-ok",
    "ipv4-cluster-aaaa-dead",
    "two-a-one-refusing",
    "redirect-public-ip",
    "redirect-303",
    "private-address",
];

impl Lab {
    /// The cluster namespace without IPv6 at all, as in most IPv4-only clusters' pods (the
    /// container runtime disables it): a connect to an IPv6 address fails at once with
    /// EADDRNOTAVAIL ("cannot assign requested address").
    pub fn ipv4_only_cluster(&mut self) -> Result<String> {
        let ns = self.cluster(&[])?;
        crate::proc::run_in(
            &ns,
            "sysctl",
            &[
                "-q",
                "-w",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
                "net.ipv6.conf.lo.disable_ipv6=1",
                "net.ipv6.conf.eth0.disable_ipv6=1",
            ],
        )
        .context("disabling IPv6 in the cluster namespace")?;
        self.notes
            .push("cluster: no IPv6 (disable_ipv6), like an IPv4-only cluster's pods".into());
        Ok(ns)
    }

    /// The thumbprint part of the key this lab serves (`<token>.<thumbprint>`).
    fn thumbprint(&self) -> String {
        self.key_thumbprint.clone().unwrap_or_else(|| {
            KEY.split_once('.')
                .map_or(String::new(), |(_, t)| t.to_owned())
        })
    }
}

/// Build one of [`FIDELITY_SCENARIOS`] (the client exists). Returns false for another name.
pub(crate) fn build(lab: &mut Lab, name: &str, d: u32) -> Result<bool> {
    if !FIDELITY_SCENARIOS.contains(&name) {
        return Ok(false);
    }
    // The cluster's own planes answer as in its objects (direct probes from the pod).
    lab.cluster_planes(d)?;
    match name {
        "ipv4-cluster-aaaa-ok" => {
            lab.dns(&[(DNS_NAME, EDGE_V4), (DNS_NAME, EDGE_V6)])?;
            let edge = lab.host("edge", &[EDGE_V4, EDGE_V6])?;
            let key = nginx_serving_key(d);
            lab.nginx(
                "edge (IPv4 and IPv6)",
                &edge,
                &[
                    (&format!("{EDGE_V4}:80"), key.clone()),
                    (&format!("[{EDGE_V6}]:80"), key),
                ],
            )?;
            lab.ipv4_only_cluster()?;
        }
        "ipv4-cluster-aaaa-dead" => {
            lab.dns(&[(DNS_NAME, EDGE_V4), (DNS_NAME, DEAD_V6)])?;
            lab.edge_serving_key(d)?;
            lab.notes.push(format!("nobody has {DEAD_V6}"));
            lab.ipv4_only_cluster()?;
        }
        "two-a-one-refusing" => {
            lab.dns(&[(DNS_NAME, EDGE_V4), (DNS_NAME, REFUSING_V4)])?;
            lab.edge_serving_key(d)?;
            lab.host("refusing", &[REFUSING_V4])?;
            lab.notes
                .push(format!("{REFUSING_V4}: a host with nothing on port 80"));
        }
        "redirect-public-ip" => {
            lab.dns(&[(DNS_NAME, EDGE_V4)])?;
            let edge = lab.host("edge", &[EDGE_V4, EDGE2_V4])?;
            lab.nginx(
                "nginx redirecting to an IP host",
                &edge,
                &[
                    (
                        &format!("{EDGE_V4}:80"),
                        format!("    location / {{ return 302 http://{EDGE2_V4}$request_uri; }}"),
                    ),
                    (&format!("{EDGE2_V4}:80"), nginx_serving_key(d)),
                ],
            )?;
        }
        "redirect-303" => {
            lab.dns(&[(DNS_NAME, EDGE_V4)])?;
            let edge = lab.host("edge", &[EDGE_V4])?;
            let thumb = lab.thumbprint();
            lab.nginx(
                "nginx answering 303 to another path",
                &edge,
                &[(
                    &format!("{EDGE_V4}:80"),
                    format!(
                        "    location ~ \"^/\\.well-known/acme-challenge/(?<t>[-_A-Za-z0-9]+)$\" {{ return 303 /acme/$t; }}\n    location ~ \"^/acme/(?<acme_token>[-_A-Za-z0-9]+)$\" {{ return 200 \"$acme_token.{thumb}\"; }}\n    location / {{ return 404; }}"
                    ),
                )],
            )?;
        }
        "private-address" => {
            lab.dns(&[(DNS_NAME, EDGE_V4), (DNS_NAME, PRIVATE_V4)])?;
            lab.edge_serving_key(d)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}
