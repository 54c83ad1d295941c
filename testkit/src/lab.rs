//! A network lab of real daemons in Linux network namespaces.
//!
//! Every host is a namespace with one interface on a shared bridge (the "internet", itself in a
//! namespace). Addresses come only from the documentation ranges 192.0.2.0/24,
//! 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32, reachable on-link; there is no default
//! route, so nothing can leave the lab. Daemons are real: HAProxy, nginx (with the headers-more
//! and echo modules to imitate other data planes) and dnsmasq. Dropping a [`Lab`] kills every
//! daemon by PID and deletes every namespace, also when the test failed.
//!
//! [`scenario`] builds the named scenarios the probe tests, the benchmark and the demo share.

use crate::proc::{Daemon, Netns, run, wait_tcp};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub mod agreement;
pub mod cli;
mod cluster;
mod fidelity;
mod never_silent;
mod objects;
mod renewals;
mod replay;
pub mod selfcheck;
mod witness;
pub use cluster::*;
pub use fidelity::{DEAD_V6, EDGE_V6, FIDELITY_SCENARIOS, PRIVATE_V4, REFUSING_V4};
pub use never_silent::{ACME_HOST, ACME_PORT, ACME_V4, NEVER_SILENT_SCENARIOS};
pub use objects::{cert_manager_note, cluster_objects, cluster_objects_for, fake_api};
pub use renewals::{
    BENCH_ADDRESSES, BENCH_CERTS, BENCH_NAMESPACES, EDGE3_V4, READY, RENEWAL_SCENARIOS, WRONG_NAME,
    bench_cert, is_renewal_scenario,
};
pub use replay::{
    ACMESOLVER_IMAGE, GATEWAY_CONTROLLER, REPLAY_SCENARIOS, is_replay_scenario, replay_kubelet,
};
pub use witness::{
    DEAD_RESOLVER_V4, REFUSING_RESOLVER_V4, WITNESS_SCENARIOS, reason_age_secs, rfc3339_ago,
};

static LAB_COUNTER: AtomicU32 = AtomicU32::new(0);
static NFT_FILES: AtomicU32 = AtomicU32::new(0);

/// The challenge every scenario serves.
pub const DNS_NAME: &str = "shop.example.test";
pub const TOKEN: &str = "GyBCgvtZQEY1tQV2BRXQ7yAr5LafxpnvzwbhEO0cTgk";
pub const KEY: &str =
    "GyBCgvtZQEY1tQV2BRXQ7yAr5LafxpnvzwbhEO0cTgk.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

/// Well-known lab addresses.
pub const CLIENT_V4: &str = "192.0.2.2";
pub const CLIENT_V6: &str = "2001:db8::2";
pub const DNS_V4: &str = "192.0.2.53";
pub const EDGE_V4: &str = "203.0.113.10";
pub const EDGE2_V4: &str = "203.0.113.11";
pub const NGINX_V4: &str = "198.51.100.10";
pub const ENVOY_V4: &str = "198.51.100.20";

/// The root check of every test that needs root (network namespaces). As root it returns false
/// and the test runs. Without root it panics and says what to do: a root test never passes by
/// skipping itself. To leave the root tests out on a machine without root, run `cargo test` with
/// `ACMECHECK_SKIP_ROOT_TESTS=1`: build.rs then sets `--cfg acmecheck_skip_root_tests`, every root
/// test carries `#[cfg_attr(acmecheck_skip_root_tests, ignore = "...")]`, and cargo counts them
/// as *ignored* without running them (tests/root_tests.rs checks that none lacks the attribute).
/// It keeps its `bool` so callers keep their `if skip_without_root(..) { return }` shape; it never
/// returns true.
pub fn skip_without_root(what: &str) -> bool {
    require_root(what);
    false
}

/// Panics with what to do unless the process is root; see [`skip_without_root`].
pub fn require_root(what: &str) {
    if !crate::proc::is_root() {
        panic!(
            "{what} needs root (it creates network namespaces): run the tests as root, or run \
             `cargo test` with ACMECHECK_SKIP_ROOT_TESTS=1 so that cargo lists every root test as \
             ignored (a test that reaches this point under that variable lacks its \
             #[cfg_attr(acmecheck_skip_root_tests, ignore)] attribute)"
        );
    }
}

/// Fields are dropped in order: daemons first, then hosts, then the bridge.
pub struct Lab {
    daemons: Vec<Daemon>,
    hosts: Vec<Netns>,
    hub: Netns,
    dir: PathBuf,
    id: u32,
    next_if: u32,
    /// The namespace of the cluster's probe pod (pod IP [`POD_V4`], resolver: the cluster DNS).
    pub cluster: String,
    /// The namespace the probe runs in (the "user's machine").
    pub client: String,
    /// Human-readable notes of what was built (for the demo and failure messages).
    pub notes: Vec<String>,
    /// See [`Options::key_thumbprint`].
    key_thumbprint: Option<String>,
    /// See [`Options::balance_random`].
    balance_random: bool,
    /// The scenario and options this lab was built from (the key of cached self-check rounds).
    built_as: String,
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.daemons.clear();
        self.hosts.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Lab {
    pub fn new() -> Result<Lab> {
        if !crate::proc::is_root() {
            bail!(
                "the network lab needs root (network namespaces); run the tests as root or set ACMECHECK_SKIP_ROOT_TESTS=1"
            );
        }
        crate::proc::sweep_stale();
        let id = LAB_COUNTER.fetch_add(1, Ordering::SeqCst);
        let hub = Netns::create(&format!("{id}-hub"))?;
        hub.exec("ip", &["link", "add", "br0", "type", "bridge"])?;
        hub.exec("ip", &["link", "set", "br0", "up"])?;
        let dir = std::env::temp_dir().join(format!("acmecheck-lab-{}-{id}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Lab {
            daemons: Vec::new(),
            hosts: Vec::new(),
            hub,
            dir,
            id,
            next_if: 0,
            cluster: String::new(),
            client: String::new(),
            notes: Vec::new(),
            key_thumbprint: None,
            balance_random: false,
            built_as: String::new(),
        })
    }

    /// Add a host with these addresses (IPv4 or IPv6) on the bridge; returns its namespace name.
    pub fn host(&mut self, name: &str, addrs: &[&str]) -> Result<String> {
        for a in addrs {
            check_lab_address(a)?;
        }
        let ns = Netns::create(&format!("{}-{name}", self.id))?;
        let idx = self.next_if;
        self.next_if += 1;
        let peer = format!("v{idx}");
        self.hub.exec(
            "ip",
            &[
                "link", "add", &peer, "type", "veth", "peer", "name", "eth0", "netns", &ns.name,
            ],
        )?;
        self.hub
            .exec("ip", &["link", "set", &peer, "master", "br0", "up"])?;
        ns.exec("ip", &["link", "set", "eth0", "up"])?;
        for a in addrs {
            if a.contains(':') {
                ns.exec(
                    "ip",
                    &[
                        "-6",
                        "addr",
                        "add",
                        &format!("{a}/64"),
                        "dev",
                        "eth0",
                        "nodad",
                    ],
                )?;
            } else {
                ns.exec("ip", &["addr", "add", &format!("{a}/32"), "dev", "eth0"])?;
            }
        }
        // On-link routes to the documentation ranges only: no default route, no way out.
        for net in ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"] {
            ns.exec("ip", &["route", "add", net, "dev", "eth0"])?;
        }
        if addrs.iter().any(|a| a.contains(':')) {
            let _ = ns.exec(
                "ip",
                &["-6", "route", "add", "2001:db8::/32", "dev", "eth0"],
            );
        }
        let name = ns.name.clone();
        self.hosts.push(ns);
        Ok(name)
    }

    /// The client host (192.0.2.2, 2001:db8::2), using the lab's DNS server.
    pub fn client(&mut self) -> Result<String> {
        let ns = self.host("client", &[CLIENT_V4, CLIENT_V6])?;
        self.hosts
            .last()
            .context("client host")?
            .set_resolver(DNS_V4)?;
        self.client = ns.clone();
        Ok(ns)
    }

    pub(crate) fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    pub(crate) fn start(
        &mut self,
        name: &str,
        ns: &str,
        cmd: &str,
        args: &[&str],
        wait: Option<&str>,
    ) -> Result<()> {
        let mut d = Daemon::start(name, Some(ns), cmd, args)?;
        if let Some(addr) = wait {
            wait_tcp(ns, addr, Duration::from_secs(10), &mut d)?;
        }
        self.daemons.push(d);
        Ok(())
    }

    /// dnsmasq on 192.0.2.53 answering `records` (name, address), the Issuer's ACME server
    /// ([`ACME_HOST`] → [`ACME_V4`]), and nothing else.
    pub fn dns(&mut self, records: &[(&str, &str)]) -> Result<()> {
        let ns = self.host("dns", &[DNS_V4])?;
        let mut all = records.to_vec();
        all.push((ACME_HOST, ACME_V4));
        self.dnsmasq(&ns, DNS_V4, &all, None)
    }

    /// dnsmasq in `ns` on `addr`:53 answering `records` (name, address) itself and forwarding
    /// every other question to `forward` (or answering nothing else when None).
    pub fn dnsmasq(
        &mut self,
        ns: &str,
        addr: &str,
        records: &[(&str, &str)],
        forward: Option<&str>,
    ) -> Result<()> {
        self.dnsmasq_with(ns, addr, records, forward, &[])
    }

    /// [`Lab::dnsmasq`] with `extra` dnsmasq arguments (e.g. `--address=/name/` for NXDOMAIN).
    pub fn dnsmasq_with(
        &mut self,
        ns: &str,
        addr: &str,
        records: &[(&str, &str)],
        forward: Option<&str>,
        extra: &[&str],
    ) -> Result<()> {
        let n = self.daemons.len();
        let mut args = vec![
            "--keep-in-foreground".to_owned(),
            "--no-resolv".into(),
            "--no-hosts".into(),
            "--bind-interfaces".into(),
            format!("--listen-address={addr}"),
            "--port=53".into(),
            "--user=root".into(),
            format!(
                "--pid-file={}",
                self.path(&format!("dnsmasq-{n}.pid")).display()
            ),
            "--log-facility=-".into(),
        ];
        if let Some(upstream) = forward {
            args.push(format!("--server={upstream}"));
        }
        for (name, a) in records {
            args.push(format!("--host-record={name},{a}"));
        }
        args.extend(extra.iter().map(|e| (*e).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.start("dnsmasq", ns, "dnsmasq", &args, Some(&format!("{addr}:53")))?;
        let answers = records
            .iter()
            .map(|(n, a)| format!("{n} → {a}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.notes.push(match forward {
            Some(up) if records.is_empty() => format!("dnsmasq {addr}: forwards to {up}"),
            Some(up) => format!("dnsmasq {addr}: {answers}; forwards the rest to {up}"),
            None => format!("dnsmasq {addr}: {answers}"),
        });
        Ok(())
    }

    /// nginx in `ns` with one `server {}` body per (listen, body).
    pub fn nginx(&mut self, label: &str, ns: &str, servers: &[(&str, String)]) -> Result<()> {
        let n = self.daemons.len();
        let d = self.dir.display();
        let mut conf = format!(
            "load_module /usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so;\n\
             load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;\n\
             worker_processes 1;\ndaemon off;\npid {d}/nginx-{n}.pid;\nerror_log {d}/nginx-{n}.err warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  server_tokens off;\n  default_type text/plain;\n\
               client_body_temp_path {d}/cb-{n};\n  proxy_temp_path {d}/pt-{n};\n  fastcgi_temp_path {d}/ft-{n};\n\
               uwsgi_temp_path {d}/ut-{n};\n  scgi_temp_path {d}/st-{n};\n"
        );
        for (listen, body) in servers {
            let body = match &self.key_thumbprint {
                Some(t) => stateless_key(body, t),
                None => body.clone(),
            };
            conf.push_str(&format!(
                "  server {{\n    listen {listen};\n    server_name _;\n{body}\n  }}\n"
            ));
        }
        conf.push_str("}\n");
        let file = self.path(&format!("nginx-{n}.conf"));
        std::fs::write(&file, conf)?;
        let file = file.display().to_string();
        let first = servers
            .first()
            .map(|(l, _)| l.split_whitespace().next().unwrap_or("").to_owned());
        // `listen` takes ip:port in every scenario; a bare port would be 0.0.0.0:port.
        let wait = first.map(|l| {
            if l.contains(':') {
                l
            } else {
                format!("0.0.0.0:{l}")
            }
        });
        self.start(
            &format!("nginx {label}"),
            ns,
            "nginx",
            &["-c", &file, "-e", &format!("{d}/nginx-{n}.err")],
            wait.as_deref(),
        )?;
        Ok(())
    }

    /// HAProxy in `ns` balancing `bind` over weighted `servers` (name, addr, weight):
    /// round-robin, or random (one draw per request) with [`Options::balance_random`].
    pub fn haproxy(&mut self, ns: &str, bind: &str, servers: &[(&str, &str, u32)]) -> Result<()> {
        let n = self.daemons.len();
        let (balance, how) = if self.balance_random {
            ("random(1)", "random")
        } else {
            ("roundrobin", "round-robin")
        };
        let mut conf = String::from(
            "global\n  maxconn 2000\ndefaults\n  mode http\n  timeout connect 3s\n  timeout client 15s\n  timeout server 15s\n",
        );
        conf.push_str(&format!("frontend edge\n  bind {bind}\n  default_backend planes\nbackend planes\n  balance {balance}\n"));
        // `random` is a consistent hash on a random key: with weights 1/1 the ring's few points
        // split far from 50/50, so scale the weights up to HAProxy's maximum (256).
        let max = servers.iter().map(|s| s.2).max().unwrap_or(1).max(1);
        let scale = if self.balance_random { 256 / max } else { 1 };
        for (name, addr, weight) in servers {
            let weight = weight * scale;
            conf.push_str(&format!("  server {name} {addr} weight {weight}\n"));
        }
        let file = self.path(&format!("haproxy-{n}.cfg"));
        std::fs::write(&file, conf)?;
        let file = file.display().to_string();
        self.start("haproxy", ns, "haproxy", &["-db", "-f", &file], Some(bind))?;
        self.notes.push(format!(
            "HAProxy {bind}: {how} over {}",
            servers
                .iter()
                .map(|(n, a, w)| format!("{n} {a} (weight {w})"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(())
    }

    /// The edge host (203.0.113.10) with an ingress-nginx-like server that serves the key.
    pub(crate) fn edge_serving_key(&mut self, delay_ms: u32) -> Result<String> {
        let edge = self.host("edge", &[EDGE_V4])?;
        self.nginx(
            "ingress-nginx",
            &edge,
            &[(&format!("{EDGE_V4}:80"), nginx_serving_key(delay_ms))],
        )?;
        Ok(edge)
    }

    /// The Gateway host (198.51.100.20): an envoy-style data plane with no route for the name.
    pub(crate) fn gateway_without_route(&mut self, delay_ms: u32) -> Result<()> {
        let envoy = self.host("envoy", &[ENVOY_V4])?;
        self.nginx(
            "cilium-gateway (envoy)",
            &envoy,
            &[(&format!("{ENVOY_V4}:80"), envoy_404(delay_ms))],
        )
    }

    /// A host at `addr` with an old web server that no longer has the site (Apache-like 404).
    fn old_server(&mut self, name: &str, addr: &str, listen: &str) -> Result<()> {
        let old = self.host(name, &[addr])?;
        self.nginx(
            &format!("old server {addr}"),
            &old,
            &[(listen, old_server_404())],
        )
    }

    /// Drop every TCP packet to `port` in `ns` (a firewall that does not answer).
    pub fn drop_port(&mut self, ns: &str, port: u16) -> Result<()> {
        self.nft(
            ns,
            &format!("chain input {{\n    type filter hook input priority 0;\n    tcp dport {port} drop\n  }}"),
        )
    }

    /// Load nftables `chains` into a table `inet lab` of namespace `ns`.
    pub fn nft(&mut self, ns: &str, chains: &str) -> Result<()> {
        let n = NFT_FILES.fetch_add(1, Ordering::SeqCst);
        let file = self.path(&format!("nft-{n}.rules"));
        std::fs::write(&file, format!("table inet lab {{\n  {chains}\n}}\n"))?;
        crate::proc::run_in(ns, "nft", &["-f", &file.display().to_string()])?;
        Ok(())
    }

    /// A self-signed certificate and key for https servers.
    pub fn self_signed(&self) -> Result<(String, String)> {
        self.self_signed_for("tls", DNS_NAME)
    }

    /// A self-signed certificate for `cn`, in `<name>.crt` and `<name>.key` of the lab's
    /// directory.
    pub fn self_signed_for(&self, name: &str, cn: &str) -> Result<(String, String)> {
        let (cert, key) = (
            self.path(&format!("{name}.crt")),
            self.path(&format!("{name}.key")),
        );
        run(
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN={cn}"),
                "-keyout",
                &key.display().to_string(),
                "-out",
                &cert.display().to_string(),
            ],
        )?;
        Ok((cert.display().to_string(), key.display().to_string()))
    }
}

fn check_lab_address(a: &str) -> Result<()> {
    let ok = ["192.0.2.", "198.51.100.", "203.0.113."]
        .iter()
        .any(|p| a.starts_with(p))
        || a.to_ascii_lowercase().starts_with("2001:db8:");
    if !ok {
        bail!("{a} is outside the lab's documentation ranges");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// nginx personalities
// ---------------------------------------------------------------------------------------------

/// An ingress-nginx-like data plane that routes the challenge to the solver (here: answers the
/// key itself, byte-exact, no newline) and answers everything else with nginx's 404 page.
///
/// `return` answers in nginx's rewrite phase, before access checks; `echo` answers in the content
/// phase, after them (and can sleep): `content_phase` (or a delay) selects the echo variant.
pub fn nginx_serving_key(delay_ms: u32) -> String {
    nginx_key(delay_ms, false)
}

/// Stateless key serving: the key-serving location answers every token under
/// `/.well-known/acme-challenge/` with `<token>.<thumbprint>`, as an ACME client's solver does for
/// each of its authorizations (the Pebble tests need a fresh authorization, so a fresh token, per
/// validation). `body` is a server body from [`nginx_serving_key`] or `nginx_key`.
pub fn stateless_key(body: &str, thumbprint: &str) -> String {
    body.replace(
        &format!("location = /.well-known/acme-challenge/{TOKEN} "),
        "location ~ \"^/\\.well-known/acme-challenge/(?<acme_token>[-_A-Za-z0-9]+)$\" ",
    )
    .replace(KEY, &format!("$acme_token.{thumbprint}"))
}

fn nginx_key(delay_ms: u32, content_phase: bool) -> String {
    if delay_ms > 0 || content_phase {
        let s = f64::from(delay_ms) / 1000.0;
        format!(
            "    location = /.well-known/acme-challenge/{TOKEN} {{ echo_sleep {s}; echo -n \"{KEY}\"; }}\n    location / {{ echo_sleep {s}; echo_status 404; echo -n \"<html><center>nginx</center></html>\"; }}"
        )
    } else {
        format!(
            "    location = /.well-known/acme-challenge/{TOKEN} {{ return 200 \"{KEY}\"; }}\n    location / {{ return 404; }}"
        )
    }
}

/// An envoy-like data plane with no route for the host: `server: envoy`, 404, empty body.
pub fn envoy_404(delay_ms: u32) -> String {
    let sleep = if delay_ms > 0 {
        format!("echo_sleep {};", f64::from(delay_ms) / 1000.0)
    } else {
        String::new()
    };
    format!(
        "    more_set_headers \"Server: envoy\";\n    location / {{ {sleep} echo_status 404; echo -n \"\"; }}"
    )
}

/// An old server that no longer has the site: Apache-looking 404.
fn old_server_404() -> String {
    "    more_set_headers \"Server: Apache/2.4.57 (Debian)\";\n    location / { echo_status 404; echo -n \"<html><body><h1>Not Found</h1></body></html>\"; }".to_owned()
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

/// Every scenario name [`scenario`] knows, with what it reproduces, except the replay scenarios
/// ([`REPLAY_SCENARIOS`]): those have no cert-manager solver to agree on (their tests create a
/// stand-in).
pub const SCENARIOS: &[(&str, &str)] = &[
    ("healthy", "the edge serves the key"),
    (
        "founding-incident",
        "HAProxy round-robin 50/50 between nginx (serves the key) and an envoy-style gateway (404)",
    ),
    (
        "founding-incident-90-10",
        "the same with weights 90/10: the gateway takes one connection in ten",
    ),
    (
        "founding-incident-two-addresses",
        "the founding incident behind two A records of the same HAProxy (benchmark)",
    ),
    (
        "wrong-backend",
        "DNS points at the gateway only, which answers 404",
    ),
    (
        "stale-a",
        "two A records; the second is an old server answering 404",
    ),
    (
        "aaaa-wrong",
        "the A record serves the key, the AAAA record points at another server (404)",
    ),
    (
        "https-redirect-unserved",
        "http redirects to https, whose server has no challenge route (404)",
    ),
    (
        "redirect-8443",
        "http redirects to port 8443, which serves the key",
    ),
    ("basic-auth", "basic authentication on every path (401)"),
    ("refused", "nothing listens on port 80"),
    ("dropped", "a firewall drops packets to port 80"),
    (
        "hairpin",
        "the edge forwards to the cluster's ingress-nginx, but the cluster cannot reach the edge address (no hairpin NAT)",
    ),
    (
        "split-horizon",
        "public DNS answers the edge, cluster DNS answers the gateway's address, which has no route (404)",
    ),
    (
        "split-horizon-solver-nameservers",
        "split-horizon, fixed: the controller's --acme-http01-solver-nameservers name the public DNS",
    ),
    (
        "allowlist",
        "ingress-nginx is its own load balancer and denies the cluster's source address (403) on the challenge path",
    ),
    (
        "proxy-protocol",
        "edge HAProxy sends PROXY v1 to ingress-nginx; inside, the edge address goes straight to nginx (kube-proxy) without it",
    ),
    (
        "selfcheck-via-proxy",
        "the controller's HTTP_PROXY is a proxy that answers 403 Access denied to everything",
    ),
    (
        "egress-blocked",
        "the cluster reaches nothing outside its own range 198.51.100.0/24",
    ),
    (
        "source-pinned",
        "the edge sends outside sources to nginx (serves the key), the cluster's to the gateway (404)",
    ),
    (
        "ipv4-cluster-aaaa-ok",
        "A and AAAA both serve the key; the cluster has no IPv6 (EADDRNOTAVAIL)",
    ),
    (
        "ipv4-cluster-aaaa-dead",
        "the A serves the key, nobody has the AAAA; the cluster has no IPv6 (EADDRNOTAVAIL)",
    ),
    (
        "two-a-one-refusing",
        "two A records; the second host refuses port 80",
    ),
    (
        "redirect-public-ip",
        "http redirects (302) to an IP host, which serves the key",
    ),
    (
        "redirect-303",
        "http answers 303 to another path, which serves the key",
    ),
    (
        "private-address",
        "the public DNS also publishes a private address (10.0.0.5, unreachable everywhere)",
    ),
    (
        "gateway-takes-all",
        "the edge sends all of port 80 to the gateway (404); ingress-nginx, the solver's data plane, serves the key when asked directly",
    ),
    (
        "hairpin-external-lb",
        "an external LB in front of NodePorts that the cluster cannot reach back (no hairpin); the ACME server is reachable from the cluster",
    ),
    (
        "endpoints-not-ready",
        "the API says the solver pod is not Ready (no endpoints), yet it answers; cert-manager's last self check got 503",
    ),
    (
        "failed-validation",
        "the CA rejected the challenge (404), the solver is gone, the Certificate backs off; the edge sends port 80 to the gateway",
    ),
    (
        "no-resolver-here",
        "gateway-takes-all, and this machine's resolv.conf names a server where nothing answers",
    ),
    (
        "refusing-resolver-here",
        "gateway-takes-all, and this machine's resolver (dnsmasq) refuses every question",
    ),
    (
        "controller-only-timeout",
        "the edge serves the key from everywhere, yet cert-manager's own self check (its reason, 3 min old) timed out connecting",
    ),
];

/// Options for building a scenario.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Added to every backend response (benchmark: 20 ms).
    pub delay_ms: u32,
    /// Serve every token statelessly as `<token>.<thumbprint>` instead of the fixed
    /// [`TOKEN`]/[`KEY`] (see [`stateless_key`]).
    pub key_thumbprint: Option<String>,
    /// HAProxy balances at random (each request an independent draw) instead of round-robin.
    pub balance_random: bool,
}

/// Build a named scenario: client, DNS, the servers and the cluster namespace. The probe runs
/// in `lab.client` (outside) and `lab.cluster` (the probe pod's vantage).
pub fn scenario(name: &str, opts: Options) -> Result<Lab> {
    let mut lab = Lab::new()?;
    lab.built_as = format!("{name} {opts:?}");
    lab.key_thumbprint = opts.key_thumbprint.clone();
    lab.balance_random = opts.balance_random;
    lab.client()?;
    let d = opts.delay_ms;
    match name {
        "healthy" => {
            lab.dns(&[(DNS_NAME, EDGE_V4)])?;
            lab.solver(d)?;
            lab.ingress_nginx(d, Plane::default())?;
            lab.gateway_without_route(d)?;
            lab.edge_to_nginx(&[], false, "")?;
        }
        "founding-incident" | "founding-incident-90-10" | "founding-incident-two-addresses" => {
            let (wn, we) = if name.ends_with("90-10") {
                (9, 1)
            } else {
                (1, 1)
            };
            let two = name.ends_with("two-addresses");
            let edges: &[&str] = if two {
                &[EDGE_V4, EDGE2_V4]
            } else {
                &[EDGE_V4]
            };
            let records: Vec<(&str, &str)> = edges.iter().map(|e| (DNS_NAME, *e)).collect();
            lab.dns(&records)?;
            lab.solver(d)?;
            lab.ingress_nginx(d, Plane::default())?;
            lab.gateway_without_route(d)?;
            let edge = lab.host("edge", edges)?;
            let (n, e) = (format!("{NGINX_V4}:80"), format!("{ENVOY_V4}:80"));
            for addr in edges {
                lab.haproxy(
                    &edge,
                    &format!("{addr}:80"),
                    &[("ingress_nginx", &n, wn), ("cilium_gateway", &e, we)],
                )?;
            }
        }
        "wrong-backend" => {
            lab.dns(&[(DNS_NAME, ENVOY_V4)])?;
            lab.cluster_planes(d)?;
        }
        "stale-a" => {
            lab.dns(&[(DNS_NAME, EDGE_V4), (DNS_NAME, "203.0.113.99")])?;
            lab.cluster_planes(d)?;
            lab.edge_serving_key(d)?;
            lab.old_server("old", "203.0.113.99", "203.0.113.99:80")?;
        }
        "aaaa-wrong" => {
            lab.dns(&[(DNS_NAME, EDGE_V4), (DNS_NAME, "2001:db8::99")])?;
            lab.cluster_planes(d)?;
            lab.edge_serving_key(d)?;
            lab.old_server("old6", "2001:db8::99", "[2001:db8::99]:80")?;
        }
        "https-redirect-unserved" => {
            lab.dns(&[(DNS_NAME, EDGE_V4)])?;
            lab.cluster_planes(d)?;
            let edge = lab.host("edge", &[EDGE_V4])?;
            let (cert, key) = lab.self_signed()?;
            lab.nginx(
                "nginx with forced https",
                &edge,
                &[
                    (&format!("{EDGE_V4}:80"), "    location / { return 308 https://$host$request_uri; }".to_owned()),
                    (&format!("{EDGE_V4}:443 ssl"), format!("    ssl_certificate {cert};\n    ssl_certificate_key {key};\n    location / {{ return 404; }}")),
                ],
            )?;
        }
        "redirect-8443" => {
            lab.dns(&[(DNS_NAME, EDGE_V4)])?;
            lab.cluster_planes(d)?;
            let edge = lab.host("edge", &[EDGE_V4])?;
            lab.nginx(
                "nginx redirecting to :8443",
                &edge,
                &[
                    (
                        &format!("{EDGE_V4}:80"),
                        "    location / { return 302 http://$host:8443$request_uri; }".to_owned(),
                    ),
                    (&format!("{EDGE_V4}:8443"), nginx_serving_key(d)),
                ],
            )?;
        }
        "basic-auth" => {
            lab.dns(&[(DNS_NAME, EDGE_V4)])?;
            lab.cluster_planes(d)?;
            let edge = lab.host("edge", &[EDGE_V4])?;
            let htpasswd = lab.path("htpasswd");
            std::fs::write(&htpasswd, "admin:{PLAIN}secret\n")?;
            let body = format!(
                "    auth_basic \"Restricted\";\n    auth_basic_user_file {};\n{}",
                htpasswd.display(),
                nginx_key(d, true)
            );
            lab.nginx(
                "nginx with basic auth",
                &edge,
                &[(&format!("{EDGE_V4}:80"), body)],
            )?;
        }
        "refused" => {
            lab.dns(&[(DNS_NAME, EDGE_V4)])?;
            lab.cluster_planes(d)?;
            lab.host("edge", &[EDGE_V4])?;
        }
        "dropped" => {
            lab.dns(&[(DNS_NAME, EDGE_V4)])?;
            lab.cluster_planes(d)?;
            let edge = lab.edge_serving_key(d)?;
            lab.drop_port(&edge, 80)?;
        }
        other if cluster::build(&mut lab, other, d)? => {}
        other if fidelity::build(&mut lab, other, d)? => {}
        other if never_silent::build(&mut lab, other, d)? => {}
        other if replay::build(&mut lab, other, d)? => {}
        other if witness::build(&mut lab, other, d)? => {}
        other if renewals::build(&mut lab, other, d)? => {}
        other => bail!(
            "unknown scenario {other:?}; known: {}",
            SCENARIOS
                .iter()
                .chain(REPLAY_SCENARIOS)
                .chain(RENEWAL_SCENARIOS)
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
    if lab.cluster.is_empty() {
        lab.cluster(&[])?;
    }
    // The Issuer's ACME server, which a cluster reaches (the probe pod's egress witness).
    lab.acme_directory()?;
    Ok(lab)
}
