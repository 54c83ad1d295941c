//! Both vantages on the lab, before any probe pod exists: the probe engine (`probe --plan -`,
//! the real binary) runs once in the lab's client namespace with the local plan and once in the
//! cluster namespace (pod IP 198.51.100.100, the cluster DNS as resolver) with
//! `in_cluster_plan` over the scenario's cert-manager objects — exactly the plan the probe pod
//! gets. Each scenario must look different from the two sides in the way it is built to.
//! Needs root (network namespaces); with ACMECHECK_SKIP_ROOT_TESTS=1 cargo lists them as
//! ignored.

use acmecheck_testkit::lab::{
    self, DNS_NAME, EDGE_V4, ENVOY_V4, KEY, Lab, NGINX_V4, PROXY_DENIED, PROXY_PORT, PROXY_V4,
    SOLVER_PORT, SOLVER_V4, TOKEN, cli,
};
use kubectl_acmecheck::evidence::{CertificateEvidence, ClusterEvidence};
use kubectl_acmecheck::gather::{self, Snapshot};
use kubectl_acmecheck::probe::plan::*;
use kubectl_acmecheck::probe::targets::{in_cluster_plan, local_plan};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// Attempts per address on each side, and the per-attempt timeout where a side times out.
const ATTEMPTS: u32 = 10;
const SHORT_TIMEOUT_MS: u64 = 800;

struct Views {
    outside: TargetReport,
    inside: TargetReport,
    inside_plan: ProbePlan,
    lab: Lab,
}

/// The scenario's cert-manager objects, joined as the plugin would from the API.
fn evidence(scenario: &str) -> (Vec<CertificateEvidence>, ClusterEvidence) {
    let text: String =
        lab::cluster_objects(&Path::new(ROOT).join("tests/fixtures/chain"), scenario)
            .unwrap()
            .into_iter()
            .map(|(_, t)| format!("{t}\n---\n"))
            .collect();
    gather::assemble(&Snapshot::from_yaml(&text).unwrap())
}

/// Run the real binary's `probe --plan -` in namespace `ns`.
fn probe_in(ns: &str, plan: &ProbePlan) -> TargetReport {
    let plan = serde_json::to_string(plan).unwrap();
    let out = cli::probe_in(env!("CARGO_BIN_EXE_kubectl-acmecheck"), ns, &plan);
    let mut report: ProbeReport = serde_json::from_str(&out).unwrap();
    assert_eq!(report.targets.len(), 1);
    report.targets.remove(0)
}

/// Direct probes from inside of ingress-nginx's and the solver's Services (unless the plan
/// already has them), so each view also says whether the cluster's own entry point works.
#[allow(clippy::needless_update)] // DirectTarget grows options (PROXY protocol) on other branches
fn with_direct_probes(plan: &mut ProbePlan) {
    let t = &plan.targets[0];
    let path = format!("/.well-known/acme-challenge/{}", t.token);
    for (address, label) in [
        (format!("{NGINX_V4}:80"), "ingress-nginx Service"),
        (format!("{SOLVER_V4}:{SOLVER_PORT}"), "solver Service"),
    ] {
        if !plan
            .options
            .direct_targets
            .iter()
            .any(|d| d.address == address)
        {
            plan.options.direct_targets.push(DirectTarget {
                id: t.id.clone(),
                address,
                host: t.dns_name.clone(),
                path: path.clone(),
                label: label.into(),
                ..Default::default()
            });
        }
    }
}

/// Build the lab and probe it from both sides; `timeout_ms` per attempt on both.
fn views(scenario: &str, timeout_ms: u64) -> Option<Views> {
    if lab::skip_without_root(scenario) {
        return None;
    }
    let lab = lab::scenario(scenario, lab::Options::default())
        .unwrap_or_else(|e| panic!("lab {scenario}: {e:#}"));
    let (certs, cluster) = evidence(scenario);
    let mut outside_plan =
        local_plan(&certs, &cluster, Some(ATTEMPTS)).expect("a challenge to probe");
    let mut inside_plan =
        in_cluster_plan(&certs, &cluster, Some(ATTEMPTS)).expect("a challenge to probe");
    outside_plan.options.timeout_ms = timeout_ms;
    inside_plan.options.timeout_ms = timeout_ms;
    with_direct_probes(&mut inside_plan);
    // Both sides at once: the scenario's timeouts are paid once.
    let (cluster_ns, client_ns) = (lab.cluster.clone(), lab.client.clone());
    let p = inside_plan.clone();
    let inside = std::thread::spawn(move || probe_in(&cluster_ns, &p));
    let outside = probe_in(&client_ns, &outside_plan);
    let inside = inside.join().unwrap();
    // Every Service and pod address in the objects has a server in the lab: nothing the pod is
    // asked to probe directly is a dead address (which would cost a connect timeout).
    for d in &inside.direct {
        assert!(
            d.outcomes.iter().all(|o| !matches!(
                o.error_class,
                Some(
                    ErrorClass::ConnectTimeout
                        | ErrorClass::ConnectRefused
                        | ErrorClass::NetworkUnreachable
                )
            )),
            "{scenario}: nothing answers {} ({}): {:#?}",
            d.address,
            d.label,
            d.outcomes
        );
    }
    Some(Views {
        outside,
        inside,
        inside_plan,
        lab,
    })
}

fn only_address<'a>(t: &'a TargetReport, ip: &str) -> &'a AddressReport {
    assert_eq!(
        t.addresses
            .iter()
            .map(|a| a.address.as_str())
            .collect::<Vec<_>>(),
        [ip],
        "{t:#?}"
    );
    &t.addresses[0]
}

fn all_pass(a: &AddressReport) {
    assert_eq!(a.attempts, ATTEMPTS, "{a:#?}");
    assert_eq!(a.cert_manager_passes, a.attempts, "{a:#?}");
    assert_eq!(a.responders(), ["nginx"], "{a:#?}");
}

/// Every attempt ended the same way: (status, error class, responder).
fn all_same(a: &AddressReport) -> (Option<u16>, Option<ErrorClass>, &str) {
    assert_eq!(a.outcomes.len(), 1, "{a:#?}");
    let o = &a.outcomes[0];
    assert_eq!(o.count, a.attempts);
    (o.status, o.error_class, o.responder.as_str())
}

fn a_records(t: &TargetReport) -> Vec<String> {
    t.dns.resolvers[0].a.clone()
}

fn direct<'a>(t: &'a TargetReport, address: &str) -> &'a DirectResult {
    t.direct
        .iter()
        .find(|d| d.address == address)
        .unwrap_or_else(|| panic!("no direct probe of {address}: {:#?}", t.direct))
}

fn direct_serves_key(t: &TargetReport, address: &str) -> bool {
    let d = direct(t, address);
    d.attempts > 0
        && d.outcomes
            .iter()
            .all(|o| o.status == Some(200) && o.cert_manager_pass)
}

/// One raw HTTP/1.0 request from inside `ns`, optionally after a PROXY v1 header; returns what
/// came back (empty when the server closed without answering).
fn raw_request(ns: &str, to: &str, proxy_header: bool) -> String {
    let to: std::net::SocketAddr = to.parse().unwrap();
    acmecheck_testkit::proc::in_netns(ns, move || {
        let mut s = std::net::TcpStream::connect_timeout(&to, Duration::from_secs(2)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut req = String::new();
        if proxy_header {
            req.push_str(&format!(
                "PROXY TCP4 {} {} 40000 {}\r\n",
                lab::POD_V4,
                to.ip(),
                to.port()
            ));
        }
        req.push_str(&format!(
            "GET /.well-known/acme-challenge/{TOKEN} HTTP/1.0\r\nHost: {DNS_NAME}\r\n\r\n"
        ));
        s.write_all(req.as_bytes()).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
    .unwrap()
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn hairpin_inside_times_out_outside_passes() {
    let Some(v) = views("hairpin", SHORT_TIMEOUT_MS) else {
        return;
    };
    all_pass(only_address(&v.outside, EDGE_V4));
    // The cluster DNS gives the same answer; the address just cannot be reached from inside.
    assert_eq!(a_records(&v.inside), [EDGE_V4]);
    // (through the pod's own resolv.conf: the cluster DNS, which forwards)
    assert_eq!(v.inside.dns.resolvers[0].resolver, "system");
    let (status, class, _) = all_same(only_address(&v.inside, EDGE_V4));
    assert_eq!((status, class), (None, Some(ErrorClass::ConnectTimeout)));
    // Inside, the cluster's own entry point serves the key.
    assert!(
        direct_serves_key(&v.inside, &format!("{NGINX_V4}:80")),
        "{:#?}",
        v.inside.direct
    );
    assert!(direct_serves_key(
        &v.inside,
        &format!("{SOLVER_V4}:{SOLVER_PORT}")
    ));
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn split_horizon_cluster_dns_answers_the_gateway_which_fails() {
    let Some(v) = views("split-horizon", 2_000) else {
        return;
    };
    assert_eq!(a_records(&v.outside), [EDGE_V4]);
    assert_eq!(a_records(&v.inside), [ENVOY_V4]);
    all_pass(only_address(&v.outside, EDGE_V4));
    assert_eq!(
        all_same(only_address(&v.inside, ENVOY_V4)),
        (Some(404), None, "envoy")
    );
    assert_eq!(v.inside.addresses[0].cert_manager_passes, 0);
    // The controller has no --acme-http01-solver-nameservers: the plan uses the pod's resolver.
    assert!(v.inside_plan.options.nameservers.is_empty());
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn split_horizon_with_the_solver_nameservers_sees_the_public_answer() {
    let Some(v) = views("split-horizon-solver-nameservers", 2_000) else {
        return;
    };
    // The controller's --acme-http01-solver-nameservers reach the pod's plan and its resolver.
    assert_eq!(
        v.inside_plan.options.nameservers,
        [format!("{}:53", lab::DNS_V4)]
    );
    assert_eq!(a_records(&v.inside), [EDGE_V4]);
    all_pass(only_address(&v.inside, EDGE_V4));
    all_pass(only_address(&v.outside, EDGE_V4));
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn allowlist_answers_403_to_the_cluster_only() {
    let Some(v) = views("allowlist", 2_000) else {
        return;
    };
    all_pass(only_address(&v.outside, EDGE_V4));
    // The same server (nginx) denies the cluster's source address.
    assert_eq!(
        all_same(only_address(&v.inside, EDGE_V4)),
        (Some(403), None, "nginx")
    );
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn proxy_protocol_plain_fails_inside_with_preamble_passes() {
    let Some(v) = views("proxy-protocol", 2_000) else {
        return;
    };
    all_pass(only_address(&v.outside, EDGE_V4));
    let inside = only_address(&v.inside, EDGE_V4);
    assert_eq!(inside.cert_manager_passes, 0, "{inside:#?}");
    assert!(
        inside.outcomes.iter().all(|o| o.status.is_none()
            && matches!(
                o.error_class,
                Some(ErrorClass::Eof | ErrorClass::ConnectionReset)
            )),
        "{inside:#?}"
    );
    // The engine's own follow-up with a PROXY v1 header passes from inside.
    let followup = inside
        .with_proxy_protocol
        .as_ref()
        .expect("a PROXY protocol follow-up");
    assert!(
        followup.attempts > 0 && followup.cert_manager_passes == followup.attempts,
        "{followup:#?}"
    );
    // From inside, the edge address is nginx itself (kube-proxy): plain fails, PROXY v1 passes.
    let edge = format!("{EDGE_V4}:80");
    assert_eq!(raw_request(&v.lab.cluster, &edge, false), "");
    let with = raw_request(&v.lab.cluster, &edge, true);
    assert!(
        with.starts_with("HTTP/1.1 200") && with.ends_with(KEY),
        "{with}"
    );
    // The ClusterIP is the same listener.
    assert_eq!(
        raw_request(&v.lab.cluster, &format!("{NGINX_V4}:80"), false),
        ""
    );
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn selfcheck_via_proxy_gets_the_proxys_403() {
    let Some(v) = views("selfcheck-via-proxy", 2_000) else {
        return;
    };
    let proxy = v
        .inside_plan
        .options
        .proxy
        .clone()
        .expect("the controller's proxy env");
    assert_eq!(
        proxy.http.as_deref(),
        Some(format!("http://{PROXY_V4}:{PROXY_PORT}").as_str())
    );
    all_pass(only_address(&v.outside, EDGE_V4));
    let inside: Vec<&OutcomeCount> = v
        .inside
        .addresses
        .iter()
        .flat_map(|a| &a.outcomes)
        .collect();
    assert!(!inside.is_empty());
    assert!(
        inside
            .iter()
            .all(|o| o.status == Some(403) && !o.cert_manager_pass),
        "{inside:#?}"
    );
    let body = &v.inside.addresses[0].samples[0].body_prefix;
    assert!(body.contains(PROXY_DENIED), "{body:?}");
    // Without the proxy the same namespace passes: the proxy is the difference.
    let mut plain = v.inside_plan.clone();
    plain.options.proxy = None;
    all_pass(only_address(&probe_in(&v.lab.cluster, &plain), EDGE_V4));
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn egress_blocked_reaches_only_the_cluster() {
    let Some(v) = views("egress-blocked", SHORT_TIMEOUT_MS) else {
        return;
    };
    all_pass(only_address(&v.outside, EDGE_V4));
    assert_eq!(a_records(&v.inside), [EDGE_V4], "the cluster DNS is inside");
    let (status, class, _) = all_same(only_address(&v.inside, EDGE_V4));
    assert_eq!((status, class), (None, Some(ErrorClass::ConnectTimeout)));
    assert!(direct_serves_key(&v.inside, &format!("{NGINX_V4}:80")));
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn source_pinned_one_responder_per_side() {
    let Some(v) = views("source-pinned", 2_000) else {
        return;
    };
    all_pass(only_address(&v.outside, EDGE_V4));
    assert_eq!(
        all_same(only_address(&v.inside, EDGE_V4)),
        (Some(404), None, "envoy")
    );
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn founding_incident_from_both_sides() {
    let Some(v) = views("founding-incident", 2_000) else {
        return;
    };
    for (side, t) in [("outside", &v.outside), ("inside", &v.inside)] {
        let a = only_address(t, EDGE_V4);
        assert_eq!(a.responders(), ["envoy", "nginx"], "{side}: {a:#?}");
        assert!(
            a.cert_manager_passes > 0 && a.cert_manager_passes < a.attempts,
            "{side}: {a:#?}"
        );
    }
    // Asked directly, nginx serves the key and the gateway has no route.
    assert!(direct_serves_key(&v.inside, &format!("{NGINX_V4}:80")));
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn healthy_passes_from_both_sides() {
    let Some(v) = views("healthy", 2_000) else {
        return;
    };
    all_pass(only_address(&v.outside, EDGE_V4));
    all_pass(only_address(&v.inside, EDGE_V4));
    assert!(direct_serves_key(
        &v.inside,
        &format!("{SOLVER_V4}:{SOLVER_PORT}")
    ));
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn the_solver_answers_only_for_its_host() {
    if lab::skip_without_root("solver") {
        return;
    }
    let lab = lab::scenario("healthy", lab::Options::default()).unwrap();
    let ask = |host: &str| {
        let (to, host) = (format!("{SOLVER_V4}:{SOLVER_PORT}"), host.to_owned());
        acmecheck_testkit::proc::in_netns(&lab.cluster, move || {
            let mut s = std::net::TcpStream::connect(to).unwrap();
            write!(
                s,
                "GET /.well-known/acme-challenge/{TOKEN} HTTP/1.0\r\nHost: {host}\r\n\r\n"
            )
            .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        })
        .unwrap()
    };
    let ok = ask(DNS_NAME);
    assert!(ok.starts_with("HTTP/1.1 200") && ok.ends_with(KEY), "{ok}");
    assert!(!ok.to_ascii_lowercase().contains("\nserver:"), "{ok}");
    let other = ask("other.example.test");
    assert!(
        other.starts_with("HTTP/1.1 404") && other.ends_with("404 page not found\n"),
        "{other}"
    );
}

/// Issue 11: in an IPv4-only cluster (pods without IPv6) the AAAA cannot be used at all — the
/// connect fails at once with EADDRNOTAVAIL, a dial error in Go's words, and this vantage
/// has no source address for it — so the self check passes over IPv4, as Go's does.
#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn ipv4_only_cluster_uses_the_a_record() {
    let Some(v) = views("ipv4-cluster-aaaa-ok", 2_000) else {
        return;
    };
    // Outside, with IPv6: both addresses serve the key.
    assert_eq!(v.outside.addresses.len(), 2, "{:#?}", v.outside.addresses);
    for a in &v.outside.addresses {
        all_pass(a);
        assert!(!a.unroutable && !a.source_address.is_empty(), "{a:#?}");
    }
    let v6 = v
        .inside
        .addresses
        .iter()
        .find(|a| a.is_ipv6())
        .expect("the AAAA");
    assert!(v6.unroutable && v6.source_address.is_empty(), "{v6:#?}");
    assert_eq!(
        all_same(v6),
        (None, Some(ErrorClass::NetworkUnreachable), "-")
    );
    assert_eq!(
        v6.samples[0].error.as_deref(),
        Some("dial tcp [2001:db8::10]:80: connect: cannot assign requested address")
    );
    assert_eq!(v.inside.verdicts.self_check.outcome, VerdictOutcome::Pass);
    assert_eq!(v.outside.verdicts.self_check.outcome, VerdictOutcome::Pass);
}
