//! `kubectl acmecheck renewals` on the command line, without a cluster: usage errors, the
//! in-cluster config when there is no kubeconfig inside a pod, the help text.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-acmecheck");

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", home.path());
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_documents_the_screen_the_flags_and_the_exit_codes() {
    let (code, out, _) = run(&["renewals", "--help"], &[]);
    assert_eq!(code, 0);
    for s in [
        "--replay",
        "--strict",
        "--max-connections-per-address",
        "[default: 1000]",
        "screened",
        "Exit codes: 0 no certificate at risk",
    ] {
        assert!(out.contains(s), "{s}: {out}");
    }
    let (_, out, _) = run(&["--help"], &[]);
    assert!(out.contains("renewals"), "{out}");
}

#[test]
fn dry_run_needs_replay() {
    let (code, _, err) = run(&["renewals", "--dry-run"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--dry-run prints what --replay would create"),
        "{err}"
    );
}

#[test]
fn inside_a_pod_without_a_kubeconfig_the_in_cluster_config_is_used() {
    // Outside a pod: the kubeconfig error, as before.
    let (code, _, err) = run(&["renewals", "-A"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no kubeconfig found"), "{err}");
    assert!(!err.contains("in-cluster"), "{err}");
    // In a pod (KUBERNETES_SERVICE_HOST) whose ServiceAccount token is not mounted here: the
    // in-cluster config is tried and its failure said, with what to do.
    let (code, _, err) = run(
        &["renewals", "-A"],
        &[
            ("KUBERNETES_SERVICE_HOST", "192.0.2.1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no kubeconfig found, and the in-cluster config cannot be used"),
        "{err}"
    );
    assert!(err.contains("automountServiceAccountToken"), "{err}");
}
