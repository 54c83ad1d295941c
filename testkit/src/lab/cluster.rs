//! The cluster side of the lab: a namespace for the probe pod with its own resolver (the
//! cluster DNS), the in-cluster data planes and cert-manager's solver on addresses that are also
//! their Service ClusterIPs, and the scenarios that need both vantages.
//!
//! | what                                   | address              |
//! |----------------------------------------|----------------------|
//! | probe pod ("cluster" namespace)        | 198.51.100.100       |
//! | cluster DNS (dnsmasq, forwards to 192.0.2.53) | 198.51.100.53 |
//! | ingress-nginx data plane (Service)     | 198.51.100.10:80     |
//! | envoy-style gateway (Service)          | 198.51.100.20:80     |
//! | acmesolver stand-in (Service / pod)    | 198.51.100.30:8089 / 198.51.100.31:8089 |
//! | an HTTP proxy that denies everything   | 198.51.100.40:3128   |
//!
//! The edge (203.0.113.10) is outside the cluster; from inside, kube-proxy's view is imitated
//! with nftables in the cluster namespace where a scenario needs it.

use super::{DNS_NAME, DNS_V4, EDGE_V4, ENVOY_V4, KEY, Lab, NGINX_V4, TOKEN};
use anyhow::{Context, Result};

/// The probe pod's address (the "cluster" namespace).
pub const POD_V4: &str = "198.51.100.100";
/// The cluster DNS (what the pod's resolv.conf names).
pub const CLUSTER_DNS_V4: &str = "198.51.100.53";
/// cert-manager's solver Service (ClusterIP) and pod.
pub const SOLVER_V4: &str = "198.51.100.30";
pub const SOLVER_POD_V4: &str = "198.51.100.31";
pub const SOLVER_PORT: u16 = 8089;
/// A corporate HTTP proxy that denies everything.
pub const PROXY_V4: &str = "198.51.100.40";
pub const PROXY_PORT: u16 = 3128;
/// The cluster's own addresses (pods and Services).
pub const CLUSTER_RANGE: &str = "198.51.100.0/24";
/// The body of the denying proxy's 403.
pub const PROXY_DENIED: &str = "Access denied";

/// An HAProxy server line: (name, addr:port, weight).
pub type Server<'a> = (&'a str, &'a str, u32);
/// An HAProxy backend: (name, servers).
pub type Backend<'a> = (&'a str, &'a [Server<'a>]);

/// How the in-cluster ingress-nginx data plane at [`NGINX_V4`] is set up.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plane<'a> {
    /// Another address it also listens on (e.g. the edge address when it is its own LB).
    pub also_on: Option<&'a str>,
    /// `listen … proxy_protocol`: every connection must start with a PROXY header.
    pub proxy_protocol: bool,
    /// `deny <source>` on the challenge path (ingress-nginx `whitelist-source-range`).
    pub deny: Option<&'a str>,
    /// Route every token under the challenge path to the solver (a replay's stand-in has a
    /// random token), not only cert-manager's fixed one.
    pub any_token: bool,
    /// Route the challenge path of every host, not only [`DNS_NAME`]'s (a shared stand-in's
    /// Ingress has a rule for each of its names).
    pub any_host: bool,
}

impl Lab {
    /// The probe pod's namespace ([`POD_V4`]) whose resolver is a cluster DNS at
    /// [`CLUSTER_DNS_V4`] that answers `overrides` itself and forwards the rest to the public
    /// DNS (same answers unless overridden).
    pub fn cluster(&mut self, overrides: &[(&str, &str)]) -> Result<String> {
        let dns = self.host("cluster-dns", &[CLUSTER_DNS_V4])?;
        self.dnsmasq(&dns, CLUSTER_DNS_V4, overrides, Some(DNS_V4))?;
        let ns = self.host("cluster", &[POD_V4])?;
        self.hosts
            .last()
            .context("cluster host")?
            .set_resolver(CLUSTER_DNS_V4)?;
        self.cluster = ns.clone();
        Ok(ns)
    }

    /// The cluster namespace (same DNS answers as public) with `rule` in an output chain of
    /// nftables type `kind` (`filter`, or `nat` at kube-proxy's priority).
    pub(crate) fn cluster_output(&mut self, kind: &str, rule: &str, note: &str) -> Result<()> {
        let ns = self.cluster(&[])?;
        let priority = if kind == "nat" { -100 } else { 0 };
        self.nft(
            &ns,
            &format!("chain output {{\n    type {kind} hook output priority {priority};\n    {rule}\n  }}"),
        )?;
        self.notes.push(format!("cluster: {note}"));
        Ok(())
    }

    /// What every cluster's objects name, running: the solver stand-in ([`Lab::solver`]),
    /// ingress-nginx's data plane with the solver's route ([`Lab::ingress_nginx`]) and the
    /// Gateway's data plane without a route for the name, so that the probe pod's direct probes
    /// of their Services reach what the API says exists.
    pub fn cluster_planes(&mut self, delay_ms: u32) -> Result<()> {
        self.solver(delay_ms)?;
        self.ingress_nginx(delay_ms, Plane::default())?;
        self.gateway_without_route(delay_ms)
    }

    /// A stand-in for cert-manager's acmesolver on the solver Service and pod addresses:
    /// the key for `GET /.well-known/acme-challenge/<token>` with `Host: <dnsName>`, Go's
    /// `404 page not found` otherwise, no `Server` header.
    pub fn solver(&mut self, delay_ms: u32) -> Result<()> {
        let ns = self.host("solver", &[SOLVER_V4, SOLVER_POD_V4])?;
        let body = acmesolver(delay_ms);
        self.nginx(
            "acmesolver",
            &ns,
            &[
                (&format!("{SOLVER_V4}:{SOLVER_PORT}"), body.clone()),
                (&format!("{SOLVER_POD_V4}:{SOLVER_PORT}"), body),
            ],
        )?;
        self.notes.push(format!(
            "acmesolver {SOLVER_V4}:{SOLVER_PORT} (pod {SOLVER_POD_V4}): the key for Host {DNS_NAME}, 404 otherwise"
        ));
        Ok(())
    }

    /// ingress-nginx's data plane at [`NGINX_V4`]:80 with the solver Ingress's route: the
    /// challenge path for [`DNS_NAME`] is proxied to the solver Service, the rest is 404.
    /// Returns its namespace.
    pub fn ingress_nginx(&mut self, delay_ms: u32, plane: Plane) -> Result<String> {
        let mut addrs = vec![NGINX_V4];
        addrs.extend(plane.also_on);
        let ns = self.host("nginx", &addrs)?;
        let pp = if plane.proxy_protocol {
            " proxy_protocol"
        } else {
            ""
        };
        let body = nginx_proxying_solver(delay_ms, &plane);
        let servers: Vec<(String, String)> = addrs
            .iter()
            .map(|a| (format!("{a}:80{pp}"), body.clone()))
            .collect();
        let servers: Vec<(&str, String)> = servers
            .iter()
            .map(|(l, b)| (l.as_str(), b.clone()))
            .collect();
        self.nginx("ingress-nginx", &ns, &servers)?;
        self.notes.push(format!(
            "ingress-nginx {}: routes the challenge to the solver{}{}{}",
            addrs.join(", "),
            if plane.proxy_protocol {
                ", expects PROXY protocol"
            } else {
                ""
            },
            plane
                .deny
                .map(|d| format!(", denies {d} (403)"))
                .unwrap_or_default(),
            match (plane.any_token, plane.any_host) {
                (true, true) => " (any token, every host)",
                (true, false) => " (any token)",
                (false, true) => " (every host)",
                (false, false) => "",
            }
        ));
        Ok(ns)
    }

    /// HAProxy in `ns` on `bind` with frontend `rules` (e.g. `use_backend …`) and named
    /// backends of weighted servers (name, addr:port, weight) balanced round-robin; the first
    /// backend is the default. `server_opts` go on every server line (e.g. `send-proxy`).
    pub fn haproxy_with(
        &mut self,
        ns: &str,
        bind: &str,
        rules: &[&str],
        backends: &[Backend],
        server_opts: &str,
    ) -> Result<()> {
        let n = self.daemons.len();
        let mut conf = String::from(
            "global\n  maxconn 2000\ndefaults\n  mode http\n  timeout connect 3s\n  timeout client 15s\n  timeout server 15s\n",
        );
        conf.push_str(&format!("frontend edge\n  bind {bind}\n"));
        for r in rules {
            conf.push_str(&format!("  {r}\n"));
        }
        if let Some((first, _)) = backends.first() {
            conf.push_str(&format!("  default_backend {first}\n"));
        }
        for (name, servers) in backends {
            conf.push_str(&format!("backend {name}\n  balance roundrobin\n"));
            for (s, addr, w) in *servers {
                conf.push_str(&format!("  server {s} {addr} weight {w} {server_opts}\n"));
            }
        }
        let file = self.path(&format!("haproxy-{n}.cfg"));
        std::fs::write(&file, conf)?;
        let file = file.display().to_string();
        self.start("haproxy", ns, "haproxy", &["-db", "-f", &file], Some(bind))?;
        let backends = backends
            .iter()
            .map(|(b, servers)| {
                let list = servers
                    .iter()
                    .map(|(s, a, _)| format!("{s} {a}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("{b}: {list}")
            })
            .collect::<Vec<_>>()
            .join("; ");
        let extra = [rules.join("; "), server_opts.to_owned()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        self.notes.push(format!(
            "HAProxy {bind}: {backends}{}",
            if extra.is_empty() {
                String::new()
            } else {
                format!(" ({extra})")
            }
        ));
        Ok(())
    }

    /// The edge host ([`EDGE_V4`]) with HAProxy forwarding port 80 to the in-cluster
    /// ingress-nginx (backend `nginx`, the default), with frontend `rules`, a second backend
    /// `gateway` (the envoy-style gateway) when `with_gateway`, and `server_opts`.
    pub(crate) fn edge_to_nginx(
        &mut self,
        rules: &[&str],
        with_gateway: bool,
        server_opts: &str,
    ) -> Result<String> {
        let edge = self.host("edge", &[EDGE_V4])?;
        let (n, e) = (format!("{NGINX_V4}:80"), format!("{ENVOY_V4}:80"));
        let nginx: &[Server] = &[("ingress_nginx", &n, 1)];
        let gateway: &[Server] = &[("cilium_gateway", &e, 1)];
        let mut backends: Vec<Backend> = vec![("nginx", nginx)];
        if with_gateway {
            backends.push(("gateway", gateway));
        }
        self.haproxy_with(
            &edge,
            &format!("{EDGE_V4}:80"),
            rules,
            &backends,
            server_opts,
        )?;
        Ok(edge)
    }

    /// An HTTP proxy at [`PROXY_V4`]:[`PROXY_PORT`] answering every request `403 Access denied`.
    fn denying_proxy(&mut self) -> Result<()> {
        let ns = self.host("proxy", &[PROXY_V4])?;
        self.nginx(
            "http proxy (denies)",
            &ns,
            &[(
                &format!("{PROXY_V4}:{PROXY_PORT}"),
                format!(
                    "    more_set_headers \"Server: squid\";\n    location / {{ return 403 \"{PROXY_DENIED}\\n\"; }}"
                ),
            )],
        )?;
        self.notes.push(format!(
            "HTTP proxy {PROXY_V4}:{PROXY_PORT}: 403 {PROXY_DENIED} for everything"
        ));
        Ok(())
    }
}

/// cert-manager's acmesolver: the key only for the right Host and path.
fn acmesolver(delay_ms: u32) -> String {
    let answer = if delay_ms > 0 {
        format!(
            "echo_sleep {}; echo -n \"{KEY}\";",
            f64::from(delay_ms) / 1000.0
        )
    } else {
        format!("return 200 \"{KEY}\";")
    };
    format!(
        "    more_clear_headers Server;\n    location = /.well-known/acme-challenge/{TOKEN} {{ if ($host != \"{DNS_NAME}\") {{ return 404 \"404 page not found\\n\"; }} {answer} }}\n    location / {{ return 404 \"404 page not found\\n\"; }}"
    )
}

/// ingress-nginx with the solver Ingress's rule: host + exact path to the solver Service (every
/// token under the challenge path with `any_token`).
fn nginx_proxying_solver(delay_ms: u32, plane: &Plane) -> String {
    let deny = plane
        .deny
        .map(|d| format!("deny {d}; "))
        .unwrap_or_default();
    let not_found = if delay_ms > 0 {
        format!(
            "echo_sleep {}; echo_status 404; echo -n \"<html><center>nginx</center></html>\";",
            f64::from(delay_ms) / 1000.0
        )
    } else {
        "return 404;".to_owned()
    };
    let location = if plane.any_token {
        "^~ /.well-known/acme-challenge/".to_owned()
    } else {
        format!("= /.well-known/acme-challenge/{TOKEN}")
    };
    let host_check = if plane.any_host {
        String::new()
    } else {
        format!("if ($host != \"{DNS_NAME}\") {{ return 404; }} ")
    };
    format!(
        "    location {location} {{ {deny}{host_check}proxy_pass http://{SOLVER_V4}:{SOLVER_PORT}; proxy_set_header Host $host; }}\n    location / {{ {not_found} }}"
    )
}

/// The scenarios made for two vantages (see [`super::SCENARIOS`]).
pub const VANTAGE_SCENARIOS: &[&str] = &[
    "hairpin",
    "split-horizon",
    "split-horizon-solver-nameservers",
    "allowlist",
    "proxy-protocol",
    "selfcheck-via-proxy",
    "egress-blocked",
    "source-pinned",
];

/// Build the servers of one of [`VANTAGE_SCENARIOS`] (the client exists; the cluster
/// namespace is added here). Returns false for a name it does not know.
pub(crate) fn build(lab: &mut Lab, name: &str, d: u32) -> Result<bool> {
    if !VANTAGE_SCENARIOS.contains(&name) {
        return Ok(false);
    }
    lab.dns(&[(DNS_NAME, EDGE_V4)])?;
    lab.solver(d)?;
    // The Gateway is in every cluster's objects: its Service answers (404) when asked directly.
    lab.gateway_without_route(d)?;
    match name {
        "hairpin" => {
            lab.ingress_nginx(d, Plane::default())?;
            lab.edge_to_nginx(&[], false, "")?;
            lab.cluster_output(
                "filter",
                &format!("ip daddr {EDGE_V4} drop"),
                &format!("packets to {EDGE_V4} are dropped (no hairpin NAT)"),
            )?;
        }
        "split-horizon" | "split-horizon-solver-nameservers" => {
            lab.ingress_nginx(d, Plane::default())?;
            lab.edge_to_nginx(&[], false, "")?;
            lab.cluster(&[(DNS_NAME, ENVOY_V4)])?;
        }
        "allowlist" => {
            lab.ingress_nginx(
                d,
                Plane {
                    also_on: Some(EDGE_V4),
                    deny: Some(POD_V4),
                    ..Default::default()
                },
            )?;
            lab.cluster(&[])?;
        }
        "proxy-protocol" => {
            lab.ingress_nginx(
                d,
                Plane {
                    proxy_protocol: true,
                    ..Default::default()
                },
            )?;
            lab.edge_to_nginx(&[], false, "send-proxy")?;
            lab.cluster_output(
                "nat",
                &format!("ip daddr {EDGE_V4} tcp dport 80 dnat ip to {NGINX_V4}:80"),
                &format!("{EDGE_V4}:80 goes straight to {NGINX_V4}:80 (kube-proxy, ipMode VIP), without PROXY header"),
            )?;
        }
        "selfcheck-via-proxy" => {
            lab.ingress_nginx(d, Plane::default())?;
            lab.edge_to_nginx(&[], false, "")?;
            lab.denying_proxy()?;
            lab.cluster(&[])?;
        }
        "egress-blocked" => {
            lab.ingress_nginx(d, Plane::default())?;
            lab.edge_to_nginx(&[], false, "")?;
            lab.cluster_output(
                "filter",
                &format!("oif \"lo\" accept\n    ip daddr != {CLUSTER_RANGE} drop"),
                &format!("egress only to {CLUSTER_RANGE}"),
            )?;
        }
        "source-pinned" => {
            lab.ingress_nginx(d, Plane::default())?;
            let rule = format!("use_backend gateway if {{ src {CLUSTER_RANGE} }}");
            lab.edge_to_nginx(&[&rule], true, "")?;
            lab.cluster(&[])?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}
