//! What cert-manager writes into the lab's Challenge: one round of its self check, run for real.
//!
//! When a scenario comes up with its cluster objects ([`super::fake_api`]), the Go reference self
//! check (`testkit/go/selfcheck`: Go's `net/http` configured as cert-manager's
//! `pkg/issuer/acme/http/http.go` `testReachability` does, rounds of 5 checks as `Solver.Check`)
//! runs one round from the lab's cluster namespace, the controller's vantage, with the
//! controller's settings from the objects (`--acme-http01-solver-nameservers`, proxy
//! environment, the User-Agent of its version). The Challenge's status is then what
//! cert-manager's Challenge controller writes after that round (cert-manager v1.21.1,
//! `pkg/controller/acmechallenges/sync.go` `Sync`, `readiness.go`
//! `selfCheckReadinessEvaluator.evaluate`):
//!
//! * **a failing round**: `evaluate` returns not ready with the reason
//!   `Waiting for <spec.type> challenge propagation: <err>`; `Sync` stores it, requeues after the
//!   retry period and returns, and its deferred `updateStatus` writes `processing: true`,
//!   `presented: true` (and `presentedAt`) from `Present`, `state: pending` (the ACME challenge's
//!   status from `syncChallengeStatus`) and that reason.
//! * **a passing round**: `Sync` calls `acceptChallenge`: `Accept` (the CA answers the challenge
//!   `processing`: Pebble's `wfe.go` `updateChallenge`, RFC 8555 §7.1.6), then `WaitAuthorization`,
//!   bounded by `authorizationTimeout` (2 min), still inside the same `Sync`. Nothing is written
//!   while it waits: the status write is deferred to the end of `Sync`, so the API keeps the
//!   previous sync's status (for a first round that passes, the one `syncChallengeStatus` wrote:
//!   `presented: false`, no `presentedAt`). The first write that says "waiting on the CA" is that
//!   `Sync`'s own when the CA has not decided in time: `handleAuthorizationError` → `handleError`
//!   treats the deadline as transient (`isTransientACMEError`, v1.21.0+) and leaves state and
//!   reason alone, so the status is `processing: true`, `presented: true`, `presentedAt`,
//!   `state: processing` (what `Accept` returned) and no reason (none was ever set). The lab
//!   writes that state: a challenge whose self check passes and which waits on the CA. (A CA
//!   that decides ends it: `valid` and "Successfully authorized domain", after which the Order
//!   deletes its Challenges, or `invalid` with the CA's words, as in `failed-validation`.)
//!
//! Scenarios whose point is a state of their own keep it ([`kept`]); every other scenario has a
//! [`recorded`] round — what the reference got when the lab was built, checked against a live
//! round by `tests/lab_reasons.rs` — used where objects are made without a running lab
//! ([`super::cluster_objects`], `lab objects`, `lab list`).

use super::{DNS_NAME, Lab, TOKEN};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::Command;
use std::sync::Mutex;

/// The client timeout of the lab's round. cert-manager's is 10 s; in the lab only a black hole
/// answers later than a few milliseconds, and Go's words for a timeout do not carry the
/// duration. It stays above the 3 s dial timeout of the solver-nameservers mode, so that a
/// black hole there still ends as that dial's `i/o timeout`, as it does at 10 s.
pub const ROUND_TIMEOUT: &str = "4s";

/// What one round of cert-manager's self check got (up to 5 checks; the first failure ends it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Round {
    Passed,
    /// The error that ended the round, in cert-manager's words (`testReachability`).
    Failed(String),
}

/// The Challenge state a scenario's objects carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// After a self-check round (see the module documentation).
    SelfCheck(Round),
    /// The CA rejected the challenge: `state: invalid`, the solver cleaned up, and this reason.
    Rejected(String),
    /// No Challenge at all (a pre-flight: no Certificate yet).
    NoChallenge,
}

impl State {
    /// One line for notes and `lab list`: what cert-manager shows.
    pub fn describe(&self) -> String {
        match self {
            State::SelfCheck(Round::Passed) => "self check passes; the challenge waits on the CA \
                 (state processing, no reason)"
                .to_owned(),
            State::SelfCheck(Round::Failed(e)) => {
                format!("Waiting for HTTP-01 challenge propagation: {e}")
            }
            State::Rejected(r) => format!("invalid: {r}"),
            State::NoChallenge => "no Challenge (no Certificate yet)".to_owned(),
        }
    }

    /// Write this state into a Challenge object, as cert-manager's `Sync` leaves it.
    pub fn write(&self, ch: &mut Value) {
        let kind = ch["spec"]["type"].as_str().unwrap_or("HTTP-01").to_owned();
        let status = &mut ch["status"];
        if !status.is_object() {
            *status = json!({});
        }
        match self {
            State::SelfCheck(round) => {
                status["processing"] = json!(true);
                status["presented"] = json!(true);
                match round {
                    Round::Failed(e) => {
                        status["state"] = json!("pending");
                        status["reason"] =
                            json!(format!("Waiting for {kind} challenge propagation: {e}"));
                    }
                    Round::Passed => {
                        status["state"] = json!("processing");
                        if let Some(s) = status.as_object_mut() {
                            s.remove("reason");
                        }
                    }
                }
            }
            State::Rejected(reason) => {
                status["processing"] = json!(false);
                status["presented"] = json!(false);
                status["state"] = json!("invalid");
                status["reason"] = json!(reason);
            }
            State::NoChallenge => {}
        }
    }
}

/// The challenge URL of every scenario.
fn url() -> String {
    format!("http://{DNS_NAME}/.well-known/acme-challenge/{TOKEN}")
}

/// `testReachability`'s words for a request that got no response.
fn get_failed(cause: &str) -> Round {
    let url = url();
    Round::Failed(format!(
        "failed to perform self check GET request '{url}': Get \"{url}\": {cause}"
    ))
}

/// `testReachability`'s words for a status other than 200.
fn status(code: u16) -> Round {
    Round::Failed(format!("wrong status code '{code}', expected '200'"))
}

/// The reason of a Challenge the lab's CA rejected because the name's port 80 answered 404:
/// the lab's Issuer is a Pebble, so Pebble's words (`va/va.go` `fetchHTTP`: the URL with the
/// port it dialed), in the AuthorizationError cert-manager wraps them in
/// (`acmechallenges/sync.go` `handleAuthorizationError`, `third_party/forked/acme`
/// `AuthorizationError.Error`).
pub(crate) fn ca_rejected_404() -> String {
    format!(
        "Error accepting authorization: acme: authorization error for {DNS_NAME}: 403 \
         urn:ietf:params:acme:error:unauthorized: Non-200 status code from HTTP: \
         http://{DNS_NAME}:80/.well-known/acme-challenge/{TOKEN} returned 404"
    )
}

/// Scenarios whose Challenge state is set on purpose rather than from a round: the state and
/// why it is legitimate.
pub fn kept(scenario: &str) -> Option<(State, &'static str)> {
    if super::is_replay_scenario(scenario) {
        // cert-manager's solver is gone (a failed issuance) or not there yet (a pre-flight):
        // no self check runs. `lab/replay.rs` writes the failed chain.
        return Some(match super::replay::failed_reason(scenario) {
            Some(r) => (
                State::Rejected(r),
                "issuance failed and cert-manager removed its solver (the replay scenario's point)",
            ),
            None => (State::NoChallenge, "a pre-flight: nothing issued yet"),
        });
    }
    if super::renewals::without_challenge(scenario) {
        return Some((
            State::NoChallenge,
            "every Certificate is Ready and none has a challenge (a renewal scenario)",
        ));
    }
    match scenario {
        // cert-manager's last write before the solver answered: the round right after Present,
        // while the pod was not Ready, when ingress-nginx (a Service without ready endpoints)
        // answers 503. The pod is Ready now as far as the network goes, but the API says it is
        // not, and cert-manager's next round has not been written yet.
        "endpoints-not-ready" => Some((
            State::SelfCheck(status(503)),
            "an older round, from before the solver answered (kept on purpose)",
        )),
        // The CA saw the gateway's 404 (see `ca_rejected_404`).
        "failed-validation" => Some((
            State::Rejected(ca_rejected_404()),
            "the CA rejected the challenge (kept on purpose)",
        )),
        // cert-manager's own round timed out three minutes ago while the probe pod's (and Go's
        // from the cluster namespace) passes now: the controller's own path differs (issue 14's
        // scenario; see lab/witness.rs).
        "controller-only-timeout" => Some((
            State::SelfCheck(get_failed(&format!(
                "dial tcp {}:80: i/o timeout (Client.Timeout exceeded while awaiting headers)",
                super::EDGE_V4
            ))),
            "the controller's own round, which the probe pod's network does not share (kept on purpose)",
        )),
        _ => None,
    }
}

/// The round the reference self check gets in each scenario (checked against a live round by
/// `tests/lab_reasons.rs`). None for a scenario it does not know.
pub fn recorded(scenario: &str) -> Option<Round> {
    let timeout = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
    Some(match scenario {
        // founding-incident-90-10: a fresh HAProxy's weighted round-robin (9:1) hands its first
        // nine connections to nginx, so the first round of five checks passes (the CA's
        // validation and later rounds meet the gateway).
        "healthy"
        | "founding-incident-90-10"
        | "aaaa-wrong"
        | "redirect-8443"
        | "split-horizon-solver-nameservers"
        | "ipv4-cluster-aaaa-ok"
        | "ipv4-cluster-aaaa-dead"
        | "two-a-one-refusing"
        | "redirect-public-ip"
        | "redirect-303"
        | "private-address"
        | "renewals-healthy"
        | "renewals-wrong-plane" => Round::Passed,
        "founding-incident"
        | "founding-incident-two-addresses"
        | "wrong-backend"
        | "stale-a"
        | "https-redirect-unserved"
        | "split-horizon"
        | "source-pinned"
        | "gateway-takes-all"
        | "no-resolver-here"
        | "refusing-resolver-here" => status(404),
        "basic-auth" => status(401),
        "allowlist" | "selfcheck-via-proxy" => status(403),
        "refused" => get_failed(&format!(
            "dial tcp {}:80: connect: connection refused",
            super::EDGE_V4
        )),
        "dropped" | "hairpin" | "egress-blocked" | "hairpin-external-lb" => get_failed(timeout),
        "proxy-protocol" => get_failed("EOF"),
        _ => return None,
    })
}

/// The state a scenario's objects carry without a running lab: [`kept`], else [`recorded`].
pub fn state_without_lab(scenario: &str) -> Result<State> {
    if let Some((s, _)) = kept(scenario) {
        return Ok(s);
    }
    match recorded(scenario) {
        Some(r) => Ok(State::SelfCheck(r)),
        None => bail!(
            "no recorded self-check round for lab scenario {scenario:?}: add what the Go reference \
             self check gets there to `recorded` in testkit/src/lab/selfcheck.rs \
             (tests/lab_reasons.rs checks it against a live round)"
        ),
    }
}

/// The same round, allowing for the one race in Go's wording: a connect still pending when
/// `Client.Timeout` expires ends as `dial tcp <addr>: i/o timeout` or as `context deadline
/// exceeded`, whichever of the dial's deadline and the client's cancellation fires first (both
/// followed by ` (Client.Timeout exceeded while awaiting headers)`).
pub fn same_round(a: &Round, b: &Round) -> bool {
    fn normal(s: &str) -> String {
        let Some((head, tail)) = s.split_once(": dial tcp ") else {
            return s.to_owned();
        };
        match tail.split_once(": i/o timeout (Client.Timeout") {
            Some((_, rest)) => format!("{head}: context deadline exceeded (Client.Timeout{rest}"),
            None => s.to_owned(),
        }
    }
    match (a, b) {
        (Round::Passed, Round::Passed) => true,
        (Round::Failed(x), Round::Failed(y)) => normal(x) == normal(y),
        _ => false,
    }
}

/// What the controller's self check uses, from the scenario's objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub url: String,
    pub key: String,
    /// `--acme-http01-solver-nameservers`, comma-separated.
    pub nameservers: String,
    /// The controller's proxy environment (HTTP_PROXY, NO_PROXY, … as set).
    pub env: Vec<(String, String)>,
    pub user_agent: String,
}

/// [`Settings`] from the objects: the first HTTP-01 Challenge and the cert-manager controller
/// Deployment (`cert-manager/cert-manager`).
pub fn settings(docs: &[Value]) -> Result<Settings> {
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let ch = docs
        .iter()
        .find(|d| d["kind"] == "Challenge")
        .context("the objects have no Challenge")?;
    let (name, token) = (s(&ch["spec"]["dnsName"]), s(&ch["spec"]["token"]));
    let mut out = Settings {
        url: format!("http://{name}/.well-known/acme-challenge/{token}"),
        key: s(&ch["spec"]["key"]),
        ..Default::default()
    };
    let controller = docs.iter().find(|d| {
        d["kind"] == "Deployment"
            && d["metadata"]["namespace"] == "cert-manager"
            && d["metadata"]["name"] == "cert-manager"
    });
    let container = controller.map(|d| &d["spec"]["template"]["spec"]["containers"][0]);
    if let Some(c) = container {
        for a in c["args"].as_array().into_iter().flatten() {
            if let Some(v) = a
                .as_str()
                .and_then(|a| a.strip_prefix("--acme-http01-solver-nameservers="))
            {
                out.nameservers = v.to_owned();
            }
        }
        for e in c["env"].as_array().into_iter().flatten() {
            let name = s(&e["name"]);
            if name.to_ascii_uppercase().ends_with("_PROXY") {
                out.env.push((name, s(&e["value"])));
            }
        }
    }
    // util.CertManagerUserAgent: cert-manager-<component>/<version> (<os>/<arch>) cert-manager/<commit>.
    let version = container
        .and_then(|c| c["image"].as_str())
        .and_then(|i| i.rsplit_once(':'))
        .map_or("v0.0.0", |(_, tag)| tag);
    out.user_agent = format!("cert-manager-challenges/{version} (linux/amd64) cert-manager/lab");
    Ok(out)
}

/// Rounds already run in this process, by scenario, options and settings: a lab built again
/// is the same network, and a black hole costs [`ROUND_TIMEOUT`].
static ROUNDS: Mutex<Option<HashMap<String, Round>>> = Mutex::new(None);

impl Lab {
    /// One round of the Go reference self check from the cluster namespace with `s` (once per
    /// process for the same scenario, options and settings).
    pub fn self_check_round(&self, s: &Settings) -> Result<Round> {
        let key = format!("{} {s:?}", self.built_as);
        if let Some(r) = ROUNDS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(HashMap::new)
            .get(&key)
        {
            return Ok(r.clone());
        }
        let round = run_round(&self.cluster, s)?;
        ROUNDS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(HashMap::new)
            .insert(key, round.clone());
        Ok(round)
    }
}

/// `testkit/go/selfcheck` in namespace `ns` with `s`: `rounds` rounds without cert-manager's
/// 2 s sleeps, `timeout` (a Go duration) per request, and of the proxy environment only what
/// `s.env` sets.
pub fn reference_command(ns: &str, s: &Settings, rounds: u32, timeout: &str) -> Result<Command> {
    let bin = crate::gobuild::build("selfcheck")?;
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns])
        .arg(&bin)
        .args(["-url", &s.url, "-key", &s.key])
        .args([
            "-rounds",
            &rounds.to_string(),
            "-sleep",
            "0s",
            "-timeout",
            timeout,
        ])
        .args(["-nameservers", &s.nameservers, "-user-agent", &s.user_agent]);
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
        "REQUEST_METHOD",
    ] {
        cmd.env_remove(name);
    }
    for (k, v) in &s.env {
        cmd.env(k, v);
    }
    Ok(cmd)
}

/// Run one round of `testkit/go/selfcheck` in namespace `ns`.
pub fn run_round(ns: &str, s: &Settings) -> Result<Round> {
    let mut cmd = reference_command(ns, s, 1, ROUND_TIMEOUT)?;
    let out = cmd
        .output()
        .context("running the reference self check (testkit/go/selfcheck)")?;
    if !out.status.success() {
        bail!(
            "the reference self check failed in {ns}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("round").is_some())
        .with_context(|| format!("the reference self check printed no round: {stdout}"))?;
    Ok(match line["error"].as_str() {
        Some(e) if !e.is_empty() => Round::Failed(e.to_owned()),
        _ if line["passed"] == true => Round::Passed,
        _ => bail!("the reference self check's round neither passed nor failed: {line}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_has_a_state_without_a_lab() {
        for (name, _) in super::super::SCENARIOS
            .iter()
            .chain(super::super::REPLAY_SCENARIOS)
        {
            state_without_lab(name).unwrap_or_else(|e| panic!("{e:#}"));
        }
        assert!(state_without_lab("no-such-scenario").is_err());
    }

    #[test]
    fn the_go_timeout_race_is_the_same_round() {
        let url = url();
        let a = Round::Failed(format!(
            "failed to perform self check GET request '{url}': Get \"{url}\": dial tcp 203.0.113.10:80: i/o timeout (Client.Timeout exceeded while awaiting headers)"
        ));
        let b = recorded("hairpin").unwrap();
        assert!(same_round(&a, &b), "{a:?} {b:?}");
        assert!(!same_round(&a, &Round::Passed));
        assert!(!same_round(&status(404), &status(403)));
    }

    #[test]
    fn replay_scenarios_keep_their_failed_chain() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/chain");
        let challenges = |scenario: &str| -> Vec<Value> {
            super::super::cluster_objects(&root, scenario)
                .unwrap()
                .iter()
                .flat_map(|(_, y)| serde_saphyr::from_multiple::<Value>(y).unwrap())
                .filter(|d| d["kind"] == "Challenge")
                .collect()
        };
        let ch = challenges("replay-wrong-backend");
        assert_eq!(ch.len(), 1);
        let st = &ch[0]["status"];
        assert_eq!(
            (&st["state"], &st["processing"]),
            (&json!("invalid"), &json!(false))
        );
        // The lab's CA is a Pebble: its words, as in failed-validation.
        assert_eq!(st["reason"], json!(ca_rejected_404()));
        assert!(challenges("preflight-healthy").is_empty());
    }

    #[test]
    fn states_as_cert_manager_writes_them() {
        let mut ch =
            json!({"spec": {"type": "HTTP-01"}, "status": {"presentedAt": "t", "reason": "old"}});
        State::SelfCheck(Round::Passed).write(&mut ch);
        assert_eq!(
            ch["status"],
            json!({"presentedAt": "t", "processing": true, "presented": true, "state": "processing"})
        );
        State::SelfCheck(status(404)).write(&mut ch);
        assert_eq!(
            ch["status"]["reason"],
            "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'"
        );
        assert_eq!(ch["status"]["state"], "pending");
    }
}
