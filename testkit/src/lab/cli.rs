//! One harness for the tests that run the whole CLI on the lab (tests/lab_e2e.rs, lab_cli.rs,
//! lab_witness.rs, lab_every_scenario.rs, replay_lab.rs): the lab scenario, the fake API server
//! on the client namespace's loopback with the scenario's objects ([`super::fake_api`]), with a
//! kubelet that runs the built binary as the probe image in the cluster namespace when asked, a
//! kubeconfig for namespace `shop`, and the CLI run in the client namespace (this machine) with
//! `ip netns exec`. The tests pass the binary in (`env!("CARGO_BIN_EXE_kubectl-acmecheck")`):
//! this crate does not depend on the plugin's.

use super::{Lab, Options, fake_api, scenario, skip_without_root};
use crate::fakeapi::{FakeApi, KubeletConfig};
use anyhow::{Context, Result};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The chain fixtures the lab's objects start from (`tests/fixtures/chain` of the plugin).
pub fn chain_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/chain")
}

/// The kubelet of the two-vantage runs: pods of `image` (the probe image the CLI asks for) run
/// `bin`, after `start_delay` in ContainerCreating.
pub fn probe_kubelet(image: &str, bin: &str, start_delay: Duration) -> KubeletConfig {
    KubeletConfig {
        start_delay,
        ..Default::default()
    }
    .image(image, bin)
}

/// A lab scenario with its API server. Dropping it stops the server (and its kubelet's
/// processes), then tears the lab down.
pub struct LabCli {
    // Field order: the API server (and its kubelet's processes) stop before the lab goes.
    pub api: FakeApi,
    pub kubeconfig: PathBuf,
    pub lab: Lab,
}

/// One run of the CLI: it exited 0 or 1 (asserted).
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The report when stdout is JSON, else `Null`.
    pub json: Value,
}

impl LabCli {
    /// Build `scenario`, start its API server (with `kubelet`, the probe pod runs; without, only
    /// `--local-only` runs work) and write its kubeconfig.
    pub fn start(name: &str, kubelet: Option<KubeletConfig>) -> Result<LabCli> {
        let lab = scenario(name, Options::default()).with_context(|| format!("lab {name}"))?;
        let api = fake_api(&lab, name, &chain_fixtures(), kubelet)
            .with_context(|| format!("the fake API server of lab {name}"))?;
        let kubeconfig = api.kubeconfig_with_namespace("shop")?;
        Ok(LabCli {
            api,
            kubeconfig,
            lab,
        })
    }

    /// For a root test: the root check ([`skip_without_root`]), then [`LabCli::start`],
    /// panicking with what failed.
    pub fn for_test(name: &str, kubelet: Option<KubeletConfig>) -> Option<LabCli> {
        if skip_without_root(name) {
            return None;
        }
        Some(LabCli::start(name, kubelet).unwrap_or_else(|e| panic!("{e:#}")))
    }

    /// `bin args --kubeconfig <this lab's>` in the client namespace, without colour and
    /// without the caller's KUBECONFIG and ACMECHECK_PROBE_IMAGE.
    pub fn command(&self, bin: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.lab.client, bin])
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .env("NO_COLOR", "1")
            .env_remove("KUBECONFIG")
            .env_remove("ACMECHECK_PROBE_IMAGE");
        c
    }

    /// Run `cmd` (from [`LabCli::command`]) after clearing the API server's request log, so
    /// that `api.requests()` are this run's.
    pub fn output(&self, cmd: &mut Command) -> Run {
        self.api.clear_requests();
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = out.status.code().unwrap_or(-1);
        assert!(code == 0 || code == 1, "exit {code}: {stderr}");
        let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        Run {
            code,
            stdout,
            stderr,
            json,
        }
    }

    /// `bin args` ([`LabCli::command`]) with the environment `env` added: its report (stdout
    /// must be JSON).
    pub fn run_env(&self, bin: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(bin, args);
        cmd.envs(env.iter().copied());
        let r = self.output(&mut cmd);
        if let Err(e) = serde_json::from_str::<Value>(&r.stdout) {
            panic!("{e}: {}", r.stdout);
        }
        r
    }

    /// [`LabCli::run_env`] without more environment.
    pub fn run(&self, bin: &str, args: &[&str]) -> Run {
        self.run_env(bin, args, &[])
    }

    /// The objects of `kinds` (apiVersion, kind) the tool labelled as its own, in every
    /// namespace: `Pod shop/name`.
    pub fn managed(&self, kinds: &[(&str, &str)]) -> Vec<String> {
        kinds
            .iter()
            .flat_map(|(av, kind)| {
                self.api
                    .list(av, kind)
                    .into_iter()
                    .filter(|o| {
                        o["metadata"]["labels"]["app.kubernetes.io/managed-by"]
                            == "kubectl-acmecheck"
                    })
                    .map(move |o| {
                        format!(
                            "{kind} {}/{}",
                            o["metadata"]["namespace"].as_str().unwrap_or(""),
                            o["metadata"]["name"].as_str().unwrap_or("")
                        )
                    })
            })
            .collect()
    }
}

impl Run {
    /// The first certificate's findings, in report order.
    pub fn findings(&self) -> &Vec<Value> {
        self.json["certificates"][0]["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("no findings: {:#}", self.json))
    }

    /// Codes of the first certificate's error findings, in report order.
    pub fn error_codes(&self) -> Vec<&str> {
        self.findings()
            .iter()
            .filter(|f| f["severity"] == "error")
            .filter_map(|f| f["code"].as_str())
            .collect()
    }

    /// The first error finding.
    pub fn first_error(&self) -> &Value {
        self.findings()
            .iter()
            .find(|f| f["severity"] == "error")
            .unwrap_or_else(|| panic!("no error finding: {:#}", self.json))
    }

    /// The first challenge's `local` or `inCluster` vantage (asserted to be there).
    pub fn vantage(&self, which: &str) -> &Value {
        let v = &self.json["certificates"][0]["challenges"][0]["vantages"][which];
        assert!(v.is_object(), "no {which} vantage: {:#}", self.json);
        v
    }
}

/// A vantage's (selfCheck, acme) verdict outcomes.
pub fn verdicts(v: &Value) -> (&str, &str) {
    (
        v["verdicts"]["selfCheck"]["outcome"].as_str().unwrap_or(""),
        v["verdicts"]["acme"]["outcome"].as_str().unwrap_or(""),
    )
}

/// Never silent, for a run that exited 0: no verdict fails (or is flaky, or unknown) from
/// either vantage, for any challenge.
pub fn every_verdict_passes(report: &Value) {
    for cert in list(report, "certificates") {
        for ch in list(cert, "challenges") {
            for (side, v) in ch["vantages"].as_object().into_iter().flatten() {
                for which in ["selfCheck", "acme"] {
                    let outcome = &v["verdicts"][which]["outcome"];
                    assert_eq!(
                        outcome, "pass",
                        "exit 0 with {side} {which} {outcome}: {:#}",
                        cert["findings"]
                    );
                }
            }
        }
    }
}

/// The array `v[what]`, which must be there.
fn list<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    v[what]
        .as_array()
        .unwrap_or_else(|| panic!("no {what}: {v:#}"))
}

/// `bin probe --plan -` (the probe engine, as the probe pod runs it) in namespace `ns` with
/// `plan` (JSON) on its stdin: its stdout, the probe report (asserted to succeed).
pub fn probe_in(bin: &str, ns: &str, plan: &str) -> String {
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, bin, "probe", "--plan", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {bin} probe in {ns}: {e}"));
    child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(plan.as_bytes()))
        .unwrap_or_else(|| panic!("no stdin"))
        .unwrap_or_else(|e| panic!("writing the plan: {e}"));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{bin} probe in {ns}: {e}"));
    assert!(
        out.status.success(),
        "probe in {ns} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
