//! The cluster side of a lab scenario as cert-manager objects for the fake API server.
//!
//! Start: the chain fixture `tests/fixtures/chain/founding-incident` (one Certificate with one
//! HTTP-01 Challenge in the self check, ingress-nginx and a Cilium Gateway; for
//! `failed-validation`, `tests/fixtures/chain/failed-validation`: the same cluster, the
//! challenge rejected by the CA and its solver gone), rewritten to the
//! lab's name, token and key (identity labels recomputed) with the issuer on a private Pebble
//! ACME server — the lab lives on documentation addresses, which a public CA refuses. Then the
//! lab's addresses: data-plane Services get the ClusterIPs their servers have in the lab, the
//! solver Service 198.51.100.30:8089 and its pod 198.51.100.31, and per scenario what the
//! cluster would show (proxy env, solver nameservers, PROXY protocol annotation, no load balancer
//! when the edge is not the cluster's). Last, the Challenge's state: what cert-manager wrote after
//! one real round of its self check in the lab ([`fake_api`]), or the scenario's recorded round
//! where no lab runs ([`cluster_objects`]); see [`selfcheck`].

use super::selfcheck::{self, State};
use super::{DNS_NAME, ENVOY_V4, KEY, NGINX_V4, TOKEN};
use super::{Lab, POD_V4, PROXY_PORT, PROXY_V4, SOLVER_POD_V4, SOLVER_V4};
use crate::fakeapi::{FakeApi, KubeletConfig};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The chain fixture every lab scenario uses, but [`chain_fixture`]'s exceptions.
pub const CHAIN_FIXTURE: &str = "founding-incident";

/// The chain fixture of a scenario: `failed-validation` has its own (a rejected challenge, its
/// solver gone, the Certificate in backoff); every other scenario starts from [`CHAIN_FIXTURE`].
pub fn chain_fixture(scenario: &str) -> &'static str {
    match scenario {
        "failed-validation" => "failed-validation",
        _ => CHAIN_FIXTURE,
    }
}

/// The cert-manager objects for a lab scenario, as (file name, YAML), without a running lab:
/// the Challenge carries the scenario's kept or recorded state
/// ([`selfcheck::state_without_lab`]); [`fake_api`] runs the round instead.
pub fn cluster_objects(fixtures_root: &Path, scenario: &str) -> Result<Vec<(String, String)>> {
    let mut files = documents(fixtures_root, scenario)?;
    write_state(
        &mut files,
        &selfcheck::state_without_lab(scenario)?,
        scenario,
    );
    render(files)
}

/// The fixture's objects for `scenario`, rewritten to the lab's name, token, key and addresses
/// (the Challenge's state not written yet), as (file name, documents).
fn documents(fixtures_root: &Path, scenario: &str) -> Result<Vec<(String, Vec<Value>)>> {
    let dir = fixtures_root.join(chain_fixture(scenario));
    let mut files: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((name, std::fs::read_to_string(&path)?));
        }
    }
    files.sort();
    let field = |key: &str| {
        files.iter().flat_map(|(_, t)| t.lines()).find_map(|l| {
            l.trim()
                .strip_prefix(key)
                .map(|v| v.trim().trim_matches('\'').to_owned())
        })
    };
    let (Some(name), Some(token), Some(key)) = (field("dnsName:"), field("token:"), field("key:"))
    else {
        bail!(
            "{} has no Challenge with dnsName, token and key",
            dir.display()
        );
    };
    let adler = |s: &str| crate::fakeapi::adler32(s.as_bytes()).to_string();
    let swaps = [
        (key.clone(), KEY.to_owned()),
        (token.clone(), TOKEN.to_owned()),
        (name.clone(), DNS_NAME.to_owned()),
        (
            format!("'{}'", adler(&name)),
            format!("'{}'", adler(DNS_NAME)),
        ),
        (
            format!("'{}'", adler(&token)),
            format!("'{}'", adler(TOKEN)),
        ),
        (
            "https://acme-v02.api.letsencrypt.org/directory".to_owned(),
            "https://pebble.lab.example.test:14000/dir".to_owned(),
        ),
    ];
    let mut out = Vec::new();
    for (file, mut text) in files {
        for (from, to) in &swaps {
            text = text.replace(from.as_str(), to);
        }
        let mut docs: Vec<Value> =
            serde_saphyr::from_multiple(&text).with_context(|| format!("parsing {file}"))?;
        docs.retain(|d| !d.is_null());
        for d in &mut docs {
            adjust(d, scenario);
        }
        super::replay::adjust_file(scenario, &file, &mut docs);
        super::renewals::adjust_file(scenario, &file, &mut docs);
        if docs.is_empty() {
            continue;
        }
        if file.starts_with("00-") {
            // The namespaces the cluster's workloads live in exist too.
            for ns in ["cert-manager", "ingress-nginx"] {
                if !docs.iter().any(|d| kind(d) == ("Namespace", "", ns)) {
                    docs.push(json!({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}}));
                }
            }
        }
        out.push((file, docs));
    }
    Ok(out)
}

/// Write `state` into every Challenge of `files`.
/// In the scenarios that date cert-manager's reason ([`super::reason_age_secs`]), the status
/// write carries its time (a managedFields entry, see [`dated`]).
fn write_state(files: &mut [(String, Vec<Value>)], state: &State, scenario: &str) {
    let time = super::reason_age_secs(scenario).map(super::rfc3339_ago);
    for d in files.iter_mut().flat_map(|(_, docs)| docs.iter_mut()) {
        if d["kind"] == "Challenge" {
            state.write(d);
            if let Some(t) = &time {
                dated(d, t);
            }
        }
    }
}

/// The documents as YAML files.
fn render(files: Vec<(String, Vec<Value>)>) -> Result<Vec<(String, String)>> {
    files
        .into_iter()
        .map(|(file, docs)| {
            let yaml = serde_saphyr::to_string_multiple(&docs)
                .with_context(|| format!("writing {file}"))?;
            Ok((file, single_quoted_numbers(&yaml)))
        })
        .collect()
}

/// `"123"` → `'123'` at the end of a line: the fixtures' (and kubectl's) quoting of strings
/// that look like numbers, which callers that rewrite identity labels textually look for.
fn single_quoted_numbers(yaml: &str) -> String {
    yaml.lines()
        .map(|l| {
            let Some(start) = l.trim_end().strip_suffix('"').and_then(|r| r.rfind('"')) else {
                return l.to_owned();
            };
            let inner = &l[start + 1..l.trim_end().len() - 1];
            if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
                format!("{}'{inner}'", &l[..start])
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Write [`cluster_objects`] for `scenario` into `out_dir`; returns the files written.
pub fn cluster_objects_for(
    scenario: &str,
    fixtures_root: &Path,
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir)?;
    cluster_objects(fixtures_root, scenario)?
        .into_iter()
        .map(|(name, text)| {
            let path = out_dir.join(name);
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        })
        .collect()
}

/// The fake API server for a lab scenario: listening on the client namespace's loopback (where
/// the CLI runs, like a cluster API reachable from a laptop), loaded with the scenario's objects,
/// whose Challenge says what cert-manager wrote after one real round of its self check from the
/// cluster namespace ([`selfcheck`]; a [`selfcheck::kept`] state stays as it is); with
/// `kubelet`, its probe pods run in the lab's cluster namespace with pod IP [`POD_V4`]. For
/// the replay scenarios the kubelet also runs the acmesolver stand-in and a Gateway controller
/// stand-in writes HTTPRoute status (see `lab/replay.rs`).
pub fn fake_api(
    lab: &Lab,
    scenario: &str,
    fixtures_root: &Path,
    kubelet: Option<KubeletConfig>,
) -> Result<FakeApi> {
    let mut files = documents(fixtures_root, scenario)?;
    let state = live_state(lab, scenario, &files)?;
    write_state(&mut files, &state, scenario);
    let api = crate::proc::in_netns(&lab.client, FakeApi::spawn)??;
    for (_, yaml) in render(files)? {
        api.load_yaml(&yaml)?;
    }
    // Replay scenarios: the kubelet also runs the acmesolver stand-in (on the solver pod's
    // address), and a Gateway controller stand-in writes HTTPRoute status.
    let replay = super::is_replay_scenario(scenario) || super::renewals::replays(scenario);
    if let Some(cfg) = kubelet {
        let cfg = if replay {
            super::replay_kubelet(cfg)?
        } else {
            cfg
        };
        api.enable_kubelet(KubeletConfig {
            netns: Some(lab.cluster.clone()),
            pod_ip: Some(POD_V4.into()),
            ..cfg
        });
    }
    if replay {
        api.enable_gateway_controller(super::GATEWAY_CONTROLLER);
    }
    Ok(api)
}

/// The Challenge state of `scenario` in this lab: kept, or after a live round.
fn live_state(lab: &Lab, scenario: &str, files: &[(String, Vec<Value>)]) -> Result<State> {
    if let Some((state, _)) = selfcheck::kept(scenario) {
        return Ok(state);
    }
    let docs: Vec<Value> = files.iter().flat_map(|(_, d)| d.iter().cloned()).collect();
    let settings = selfcheck::settings(&docs)?;
    let round = lab
        .self_check_round(&settings)
        .with_context(|| format!("cert-manager's self check in lab scenario {scenario}"))?;
    Ok(State::SelfCheck(round))
}

/// What cert-manager shows in this lab's Challenge (as [`fake_api`] writes it; the round runs
/// once per process), as a note.
pub fn cert_manager_note(lab: &Lab, scenario: &str, fixtures_root: &Path) -> Result<String> {
    if let Some((state, why)) = selfcheck::kept(scenario) {
        return Ok(format!("cert-manager: {} ({why})", state.describe()));
    }
    let files = documents(fixtures_root, scenario)?;
    let state = live_state(lab, scenario, &files)?;
    Ok(format!(
        "cert-manager, after one round of the Go reference self check from the cluster: {}",
        state.describe()
    ))
}

/// A solver pod whose node went NotReady: the pod still runs (and answers), but the API says it
/// is not Ready, so its Service has no ready endpoint.
fn not_ready(pod: &mut Value) {
    if let Some(conds) = pod["status"]["conditions"].as_array_mut() {
        for c in conds {
            if c["type"] == "Ready" || c["type"] == "ContainersReady" {
                c["status"] = json!("False");
                c["reason"] = json!("NodeNotReady");
            }
        }
    }
    if let Some(cs) = pod["status"]["containerStatuses"].as_array_mut() {
        for c in cs {
            c["ready"] = json!(false);
        }
    }
}

/// The managedFields entry a real API server keeps for cert-manager's last status write: the
/// controller's field manager (`cert-manager-challenges`, its User-Agent's prefix) through the
/// status subresource, owning the status fields it writes (`acmechallenges/update.go`).
fn dated(challenge: &mut Value, time: &str) {
    challenge["metadata"]["managedFields"] = json!([{
        "apiVersion": "acme.cert-manager.io/v1",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:status": {".": {}, "f:presented": {}, "f:processing": {},
                                  "f:reason": {}, "f:state": {}}},
        "manager": "cert-manager-challenges",
        "operation": "Update",
        "subresource": "status",
        "time": time,
    }]);
}

fn kind(d: &Value) -> (&str, &str, &str) {
    fn s(v: &Value) -> &str {
        v.as_str().unwrap_or("")
    }
    (
        s(&d["kind"]),
        s(&d["metadata"]["namespace"]),
        s(&d["metadata"]["name"]),
    )
}

fn set_cluster_ip(d: &mut Value, ip: &str) {
    d["spec"]["clusterIP"] = json!(ip);
    d["spec"]["clusterIPs"] = json!([ip]);
}

/// One object of the fixture, moved onto the lab's addresses for `scenario`.
fn adjust(d: &mut Value, scenario: &str) {
    let (kind, ns, name) = kind(d);
    let (kind, ns, name) = (kind.to_owned(), ns.to_owned(), name.to_owned());
    match (kind.as_str(), ns.as_str(), name.as_str()) {
        ("Service", "ingress-nginx", "ingress-nginx-controller") => {
            set_cluster_ip(d, NGINX_V4);
            match scenario {
                // The edge is an external balancer in front of NodePorts, not this Service's LB.
                "egress-blocked" | "hairpin-external-lb" => {
                    d["spec"]["type"] = json!("NodePort");
                    d["status"]["loadBalancer"] = json!({});
                }
                "proxy-protocol" => {
                    d["metadata"]["annotations"] = json!({
                        "service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol": "true"
                    });
                }
                _ => {}
            }
        }
        ("Service", "infra", "cilium-gateway-public") => set_cluster_ip(d, ENVOY_V4),
        ("Service", _, n) if n.starts_with("cm-acme-http-solver-") => set_cluster_ip(d, SOLVER_V4),
        ("Pod", _, n) if n.starts_with("cm-acme-http-solver-") => {
            d["status"]["podIP"] = json!(SOLVER_POD_V4);
            d["status"]["podIPs"] = json!([{ "ip": SOLVER_POD_V4 }]);
            if scenario == "endpoints-not-ready" {
                not_ready(d);
            }
        }
        ("Deployment", "cert-manager", "cert-manager")
            if scenario == "split-horizon-solver-nameservers" =>
        {
            if let Some(args) =
                d["spec"]["template"]["spec"]["containers"][0]["args"].as_array_mut()
            {
                args.push(json!(format!(
                    "--acme-http01-solver-nameservers={}:53",
                    super::DNS_V4
                )));
            }
        }
        ("Deployment", "cert-manager", "cert-manager") if scenario == "selfcheck-via-proxy" => {
            let proxy = format!("http://{PROXY_V4}:{PROXY_PORT}");
            if let Some(env) = d["spec"]["template"]["spec"]["containers"][0]["env"].as_array_mut()
            {
                env.extend([
                    json!({"name": "HTTP_PROXY", "value": proxy}),
                    json!({"name": "HTTPS_PROXY", "value": proxy}),
                    json!({"name": "NO_PROXY", "value": ".cluster.local,.svc,198.51.100.0/24,127.0.0.1"}),
                ]);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(scenario: &str) -> Vec<Value> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/chain");
        cluster_objects(&root, scenario)
            .unwrap()
            .iter()
            .flat_map(|(_, y)| serde_saphyr::from_multiple::<Value>(y).unwrap())
            .collect()
    }

    fn find<'a>(docs: &'a [Value], k: &str, n: &str) -> &'a Value {
        docs.iter()
            .find(|d| kind(d).0 == k && kind(d).2.starts_with(n))
            .unwrap_or_else(|| panic!("no {k} {n}"))
    }

    #[test]
    fn lab_addresses_and_identity_survive_the_yaml_round_trip() {
        let docs = objects("founding-incident");
        let svc = find(&docs, "Service", "ingress-nginx-controller");
        assert_eq!(svc["spec"]["clusterIP"], NGINX_V4);
        assert_eq!(
            svc["status"]["loadBalancer"]["ingress"][0]["ip"],
            super::super::EDGE_V4
        );
        assert_eq!(
            find(&docs, "Service", "cilium-gateway")["spec"]["clusterIP"],
            ENVOY_V4
        );
        let solver = find(&docs, "Service", "cm-acme-http-solver-");
        assert_eq!(solver["spec"]["clusterIP"], SOLVER_V4);
        assert_eq!(solver["spec"]["ports"][0]["port"], 8089);
        // Label values that look like numbers stay strings (quoted as in the fixtures).
        let label = &solver["metadata"]["labels"]["acme.cert-manager.io/http-token"];
        let adler = crate::fakeapi::adler32(TOKEN.as_bytes());
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/chain");
        let all: String = cluster_objects(&root, "founding-incident")
            .unwrap()
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert!(all.contains(&format!("acme.cert-manager.io/http-token: '{adler}'")));
        assert_eq!(
            label,
            &json!(crate::fakeapi::adler32(TOKEN.as_bytes()).to_string())
        );
        let pod = find(&docs, "Pod", "cm-acme-http-solver-");
        assert_eq!(pod["status"]["podIP"], SOLVER_POD_V4);
        let ch = find(&docs, "Challenge", "");
        assert_eq!(ch["spec"]["key"], KEY);
        assert_eq!(ch["spec"]["dnsName"], DNS_NAME);
        // No address outside the documentation ranges is left for a probe to dial.
        let text = serde_json::to_string(&docs).unwrap();
        assert!(
            !text.contains("\"10.96.") && !text.contains("\"10.244."),
            "{text}"
        );
    }

    #[test]
    fn per_scenario_cluster_state() {
        // A passing round: accepted, the challenge waits on the CA.
        let healthy = objects("healthy");
        let status = &find(&healthy, "Challenge", "")["status"];
        assert!(status.get("reason").is_none(), "{status}");
        assert_eq!(status["state"], "processing");
        assert_eq!(status["presented"], true);
        // A failing round: its error, in cert-manager's words.
        let hairpin = objects("hairpin");
        let status = &find(&hairpin, "Challenge", "")["status"];
        let r = status["reason"].as_str().unwrap().to_owned();
        assert!(
            r.starts_with("Waiting for HTTP-01 challenge propagation: failed to perform self check GET request")
                && r.ends_with("(Client.Timeout exceeded while awaiting headers)"),
            "{r}"
        );
        assert_eq!(status["state"], "pending");
        assert_eq!(status["processing"], true);
        let egress = objects("egress-blocked");
        let svc = find(&egress, "Service", "ingress-nginx-controller");
        assert_eq!(svc["status"]["loadBalancer"], json!({}));
        let proxied = objects("selfcheck-via-proxy");
        let env = &find(&proxied, "Deployment", "cert-manager")["spec"]["template"]["spec"]["containers"]
            [0]["env"];
        assert!(
            env.as_array()
                .unwrap()
                .iter()
                .any(|e| e["name"] == "HTTP_PROXY"
                    && e["value"] == format!("http://{PROXY_V4}:{PROXY_PORT}"))
        );
        // The API says the solver pod is not Ready: its Service has no ready endpoint.
        let stale = objects("endpoints-not-ready");
        let pod = find(&stale, "Pod", "cm-acme-http-solver-");
        let ready = pod["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        assert_eq!(ready["status"], "False");
        // After a failed validation: no solver resources, the challenge invalid with the
        // lab's CA (Pebble) words, the Certificate in backoff.
        let failed = objects("failed-validation");
        assert!(
            !failed
                .iter()
                .any(|d| kind(d).2.starts_with("cm-acme-http-solver-")),
            "the solver is gone"
        );
        let ch = find(&failed, "Challenge", "");
        assert_eq!(ch["status"]["state"], "invalid");
        assert!(
            ch["status"]["reason"].as_str().unwrap().ends_with(&format!(
                "http://{DNS_NAME}:80/.well-known/acme-challenge/{TOKEN} returned 404"
            )),
            "{}",
            ch["status"]["reason"]
        );
        assert_eq!(ch["spec"]["dnsName"], DNS_NAME);
        let cert = find(&failed, "Certificate", "web");
        assert_eq!(cert["status"]["failedIssuanceAttempts"], 2);
        // Other scenarios have no proxy.
        let env = &find(&hairpin, "Deployment", "cert-manager")["spec"]["template"]["spec"]["containers"]
            [0]["env"];
        assert!(!env.to_string().contains("PROXY"));
    }
}
