//! Lab scenarios for `kubectl acmecheck renewals`: many Certificates, most of them Ready (no
//! challenge, so their names are screened or replayed), over the lab's data planes.
//!
//! | scenario | network | cluster objects |
//! |---|---|---|
//! | `renewals-healthy` | every name → the edge → ingress-nginx; the solver serves `shop/web`'s live challenge | `shop/web` (live challenge, self check in progress) and Ready Certificates `blog/blog`, `docs/docs` (two names), `api/api` |
//! | `renewals-wrong-plane` | the same, but `api.example.test` resolves to the gateway (404), which carries no solver route | the same |
//! | `renewals-bench` | 500 names over 3 edge addresses, each → ingress-nginx | 500 Ready Certificates in 50 namespaces, no live challenge (benchmark) |
//! | `renewals-replay-healthy` | every name → the edge → ingress-nginx, which routes any token to the solver address | Ready Certificates `shop/web`, `blog/blog`, `docs/docs` (two names), `api/api`, no challenge: `--replay`'s shared stand-in (the plugin in `solver` mode, run by the kubelet) serves them all |
//! | `renewals-replay-wrong-plane` | the same, but `api.example.test` resolves to the gateway (404); ingress-nginx would route the solver | the same |
//! | `renewals-replay-bench` | the benchmark's network, ingress-nginx routing any token to the solver address | the benchmark's 500 Ready Certificates (`--replay` benchmark) |
//!
//! The replay scenarios rely on the shared stand-in: the lab's cluster namespace has one solver
//! address, where one pod serves every name.

use super::cluster::Plane;
use super::{DNS_NAME, EDGE_V4, EDGE2_V4, ENVOY_V4, Lab, NGINX_V4};
use anyhow::Result;
use serde_json::{Value, json};

/// The renewal scenarios, with what they reproduce (see the module docs).
pub const RENEWAL_SCENARIOS: &[(&str, &str)] = &[
    (
        "renewals-healthy",
        "shop/web (live challenge, served) and Ready Certificates blog, docs (two names), api: every name reaches ingress-nginx",
    ),
    (
        "renewals-wrong-plane",
        "the same, but api.example.test resolves to the gateway (404), which carries no solver route",
    ),
    (
        "renewals-bench",
        "500 Ready Certificates in 50 namespaces over 3 edge addresses, all reaching ingress-nginx (benchmark)",
    ),
    (
        "renewals-replay-healthy",
        "Ready Certificates shop/web, blog, docs (two names), api, no challenge; every name reaches ingress-nginx, which routes any token to the solver (--replay)",
    ),
    (
        "renewals-replay-wrong-plane",
        "the same, but api.example.test resolves to the gateway (404) while ingress-nginx would route the solver (--replay)",
    ),
    (
        "renewals-replay-bench",
        "the benchmark's 500 Ready Certificates in 50 namespaces over 3 edge addresses, ingress-nginx routing any token to the solver (--replay benchmark)",
    ),
];

/// The renewal scenarios with no Challenge at all (every Certificate Ready): no self-check round
/// to record (`selfcheck::kept`).
pub fn without_challenge(name: &str) -> bool {
    is_bench(name) || replays(name)
}

/// The benchmark scenarios: 500 Certificates over 3 edge addresses.
pub fn is_bench(name: &str) -> bool {
    name == "renewals-bench" || name == "renewals-replay-bench"
}

/// The renewal scenarios whose checks replay: the kubelet runs the acmesolver stand-in for the
/// solver image, as for the replay scenarios.
pub fn replays(name: &str) -> bool {
    name.starts_with("renewals-replay-")
}

/// The third edge address of the benchmark.
pub const EDGE3_V4: &str = "203.0.113.13";
/// The name that resolves to the gateway in `renewals-wrong-plane`.
pub const WRONG_NAME: &str = "api.example.test";
/// The Ready Certificates of the small scenarios: (namespace, name, dnsNames, renews in days).
pub const READY: &[(&str, &str, &[&str], u64)] = &[
    ("blog", "blog", &["blog.example.test"], 20),
    (
        "docs",
        "docs",
        &["docs.example.test", "www.docs.example.test"],
        10,
    ),
    ("api", "api", &[WRONG_NAME], 4),
];
/// Benchmark size: Certificates, namespaces, edge addresses.
pub const BENCH_CERTS: usize = 500;
pub const BENCH_NAMESPACES: usize = 50;
pub const BENCH_ADDRESSES: [&str; 3] = [EDGE_V4, EDGE2_V4, EDGE3_V4];

/// Is `name` one of [`RENEWAL_SCENARIOS`]?
pub fn is_renewal_scenario(name: &str) -> bool {
    RENEWAL_SCENARIOS.iter().any(|(n, _)| *n == name)
}

/// The benchmark's `i`-th Certificate: (namespace, name, dnsName, edge address).
pub fn bench_cert(i: usize) -> (String, String, String, &'static str) {
    let ns = format!("team{:02}", i % BENCH_NAMESPACES);
    (
        ns.clone(),
        format!("site{i:03}"),
        format!("site{i:03}.{ns}.example.test"),
        BENCH_ADDRESSES[i % BENCH_ADDRESSES.len()],
    )
}

/// Build the servers of one of [`RENEWAL_SCENARIOS`]. Returns false for a name it does not know.
pub(crate) fn build(lab: &mut Lab, name: &str, d: u32) -> Result<bool> {
    match name {
        "renewals-healthy" | "renewals-wrong-plane" => {
            let mut records: Vec<(&str, &str)> = vec![(DNS_NAME, EDGE_V4)];
            for (_, _, names, _) in READY {
                for n in *names {
                    let to = if name == "renewals-wrong-plane" && *n == WRONG_NAME {
                        ENVOY_V4
                    } else {
                        EDGE_V4
                    };
                    records.push((n, to));
                }
            }
            lab.dns(&records)?;
            lab.solver(d)?;
            lab.ingress_nginx(d, Plane::default())?;
            lab.gateway_without_route(d)?;
            lab.edge_to_nginx(&[], false, "")?;
        }
        "renewals-bench" | "renewals-replay-bench" => {
            let certs: Vec<(String, String, String, &str)> =
                (0..BENCH_CERTS).map(bench_cert).collect();
            let records: Vec<(&str, &str)> =
                certs.iter().map(|(_, _, n, a)| (n.as_str(), *a)).collect();
            lab.dns(&records)?;
            lab.ingress_nginx(
                d,
                Plane {
                    any_token: replays(name),
                    any_host: replays(name),
                    ..Default::default()
                },
            )?;
            lab.gateway_without_route(d)?;
            let edge = lab.host("edge", &BENCH_ADDRESSES)?;
            let n = format!("{NGINX_V4}:80");
            for addr in BENCH_ADDRESSES {
                lab.haproxy(&edge, &format!("{addr}:80"), &[("ingress_nginx", &n, 1)])?;
            }
            if replays(name) {
                lab.cluster_hosting_solver()?;
            }
        }
        "renewals-replay-healthy" | "renewals-replay-wrong-plane" => {
            let mut records: Vec<(&str, &str)> = vec![(DNS_NAME, EDGE_V4)];
            for (_, _, names, _) in READY {
                for n in *names {
                    let to = if name.ends_with("wrong-plane") && *n == WRONG_NAME {
                        ENVOY_V4
                    } else {
                        EDGE_V4
                    };
                    records.push((n, to));
                }
            }
            lab.dns(&records)?;
            lab.ingress_nginx(
                d,
                Plane {
                    any_token: true,
                    any_host: true,
                    ..Default::default()
                },
            )?;
            lab.gateway_without_route(d)?;
            lab.edge_to_nginx(&[], false, "")?;
            lab.cluster_hosting_solver()?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A Ready Certificate issued through the lab's ClusterIssuer, renewing in `renews_days` days
/// (cert-manager's default: two thirds of a 90-day certificate's life).
fn ready_certificate(ns: &str, name: &str, names: &[&str], renews_days: u64) -> Value {
    let now = crate::fakeapi::now_secs();
    let day = 86_400;
    let renewal = now + renews_days * day;
    let not_after = renewal + 30 * day;
    let not_before = not_after.saturating_sub(90 * day);
    let at = crate::fakeapi::rfc3339(not_before);
    json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": name, "namespace": ns, "generation": 1},
        "spec": {"secretName": format!("{name}-tls"), "dnsNames": names,
            "issuerRef": {"name": "letsencrypt-prod", "kind": "ClusterIssuer", "group": "cert-manager.io"}},
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "Ready",
                "message": "Certificate is up to date and has not expired",
                "lastTransitionTime": at, "observedGeneration": 1}],
            "notBefore": at,
            "notAfter": crate::fakeapi::rfc3339(not_after),
            "renewalTime": crate::fakeapi::rfc3339(renewal),
            "revision": 1}})
}

fn namespace(ns: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}})
}

/// Change one fixture file's objects (`file` is its name) for a renewal scenario: the benchmark
/// and the replay scenarios have no chain at all; the Ready Certificates and their namespaces
/// are added. (The live challenge of the others says what one round of the reference self check
/// got, as every lab scenario's: `selfcheck.rs`.)
pub(crate) fn adjust_file(scenario: &str, file: &str, docs: &mut Vec<Value>) {
    if !is_renewal_scenario(scenario) {
        return;
    }
    let bench = is_bench(scenario);
    if (bench || replays(scenario)) && (file.starts_with("20-") || file.starts_with("30-")) {
        docs.clear();
        return;
    }
    if !file.starts_with("40-") {
        return;
    }
    if bench {
        for i in 0..BENCH_NAMESPACES {
            docs.push(namespace(&format!("team{i:02}")));
        }
        for i in 0..BENCH_CERTS {
            let (ns, name, dns, _) = bench_cert(i);
            let days = 1 + (i as u64 * 7) % 60;
            docs.push(ready_certificate(&ns, &name, &[dns.as_str()], days));
        }
        return;
    }
    if replays(scenario) {
        docs.push(ready_certificate("shop", "web", &[DNS_NAME], 12));
    }
    for (ns, name, names, days) in READY {
        docs.push(namespace(ns));
        docs.push(ready_certificate(ns, name, names, *days));
    }
}
