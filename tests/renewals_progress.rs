//! The renewals progress line through the whole CLI on the network lab (root): on a terminal
//! (a pseudo-terminal from util-linux `script`) stderr shows names probed from this machine
//! and how many are at risk so far, then the line is cleared before the report; with stderr
//! not a terminal (a pipe) nothing of it is written. Scenario `renewals-replay-wrong-plane`
//! (testkit/src/lab/renewals.rs), namespace `api`: the stand-in's key is not served from this
//! machine (api.example.test resolves to the gateway), so that one name is at risk from here
//! already, while the probe pod still runs. Needs root; with ACMECHECK_SKIP_ROOT_TESTS=1 cargo lists it as ignored.

use acmecheck_testkit::fakeapi::KubeletConfig;
use acmecheck_testkit::lab::cli::LabCli;
use kubectl_acmecheck::image::DEFAULT_PROBE_IMAGE;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-acmecheck");
const SCENARIO: &str = "renewals-replay-wrong-plane";

type Setup = LabCli;

fn setup() -> Option<Setup> {
    LabCli::for_test(
        SCENARIO,
        Some(KubeletConfig::default().image(DEFAULT_PROBE_IMAGE, BIN)),
    )
}

/// The command line of the run, in the lab's client namespace.
fn argv(s: &Setup) -> Vec<String> {
    [
        "ip",
        "netns",
        "exec",
        &s.lab.client,
        BIN,
        "renewals",
        "-n",
        "api",
        "--replay",
        "--replay-wait",
        "3s",
        "--attempts",
        "20",
        "--kubeconfig",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([s.kubeconfig.display().to_string()])
    .collect()
}

fn command(program: &str) -> Command {
    let mut c = Command::new(program);
    c.env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("ACMECHECK_PROBE_IMAGE");
    c
}

/// `'…'` for sh.
fn quoted(a: &str) -> String {
    format!("'{}'", a.replace('\'', r"'\''"))
}

const LINE: &str = "renewals: 1/1 names probed from this machine, 1 at risk so far (1 certificate); the probe pod probes them from inside the cluster";

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn the_line_counts_at_risk_so_far_on_a_terminal_and_is_quiet_otherwise() {
    let Some(s) = setup() else {
        return;
    };
    // Not a terminal: stderr is a pipe; the report on stdout only.
    let args = argv(&s);
    let out = command(&args[0]).args(&args[1..]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("1 certificate, 1 at risk"), "{stdout}");
    for quiet in ["names probed", "at risk so far", "\x1b[2K", "\r"] {
        assert!(!stderr.contains(quiet), "{quiet:?} on a pipe: {stderr:?}");
    }

    // A terminal: `script` gives the run a pseudo-terminal (stdout and stderr both on it) and
    // copies what it wrote to our stdout.
    let line = args.iter().map(|a| quoted(a)).collect::<Vec<_>>().join(" ");
    let out = command("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .output()
        .unwrap_or_else(|e| panic!("script (util-linux) gives the run a terminal: {e}"));
    let tty = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{tty:?}");
    // The first line before any name finished, then the count once this machine's probe of
    // the one name is done (the probe pod still runs then).
    assert!(
        tty.contains("⠿ renewals: 0/1 names probed from this machine, none at risk so far; the probe pod probes them from inside the cluster"),
        "{tty:?}"
    );
    let last = tty
        .rfind(LINE)
        .unwrap_or_else(|| panic!("{LINE:?} not in {tty:?}"));
    // Cleared before the report prints.
    let report = tty
        .find("1 certificate, 1 at risk")
        .unwrap_or_else(|| panic!("no report: {tty:?}"));
    let cleared = tty[last..report].find("\r\x1b[2K");
    assert!(cleared.is_some(), "not cleared: {:?}", &tty[last..]);
    // The report's own count, after the pod's view and the diagnosis, agrees.
    assert!(tty[report..].contains("WRONG_DATA_PLANE"), "{tty:?}");
    if std::env::var_os("RENEWALS_LAB_PRINT").is_some() {
        eprintln!("{tty:?}");
    }
    // Both runs had the probe pod (the line's "the probe pod probes them" is true).
    let pods = s
        .api
        .requests()
        .into_iter()
        .filter(|q| q.method == "POST" && q.path.ends_with("/pods"))
        .count();
    assert_eq!(pods, 4, "stand-in and probe pod, twice");
}
