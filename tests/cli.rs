//! The whole binary against the fake API server: golden tables (80 and 100 columns, no colour)
//! and JSON for every chain scenario, exit codes, and errors a user can act on.
//!
//! Regenerate the golden files after an intended change with `UPDATE_GOLDEN=1 cargo test --test cli`
//! and review the diff.

use acmecheck_testkit::fakeapi::FakeApi;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(kubeconfig: &Path, args: &[&str], columns: u16) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-acmecheck"))
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("COLUMNS", columns.to_string())
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .output()
        .expect("run kubectl-acmecheck");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn api_with(scenario: &str) -> FakeApi {
    let api = FakeApi::spawn().expect("fake API server");
    api.load_dir(Path::new(ROOT).join("tests/fixtures/chain").join(scenario))
        .expect("fixtures");
    api
}

fn golden(name: &str, actual: &str) {
    let path: PathBuf = Path::new(ROOT).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (e, a))| e != a)
            .take(5)
            .map(|(i, (e, a))| format!("line {}:\n  want: {e}\n  got:  {a}", i + 1))
            .collect();
        panic!(
            "{} differs from the golden file:\n{}\n(line counts {} vs {})",
            name,
            diff.join("\n"),
            expected.lines().count(),
            actual.lines().count()
        );
    }
}

/// Scenario, certificate, expected exit code, the first finding's code (None = no finding).
const SCENARIOS: &[(&str, &str, i32, Option<&str>)] = &[
    ("healthy", "web", 0, None),
    ("selfcheck-404", "web", 1, Some("SELF_CHECK_FAILING")),
    ("selfcheck-timeout", "web", 1, Some("SELF_CHECK_FAILING")),
    ("selfcheck-refused", "web", 1, Some("SELF_CHECK_FAILING")),
    ("selfcheck-nosuchhost", "web", 1, Some("SELF_CHECK_FAILING")),
    (
        "wildcard-http01-only",
        "web",
        1,
        Some("WILDCARD_NEEDS_DNS01"),
    ),
    ("class-unserved", "web", 1, Some("INGRESS_CLASS_UNSERVED")),
    (
        "image-pull-backoff",
        "web",
        1,
        Some("SOLVER_POD_NOT_RUNNING"),
    ),
    ("no-endpoints", "web", 1, Some("SOLVER_UNREACHABLE")),
    (
        "httproute-not-accepted",
        "web",
        1,
        Some("HTTPROUTE_NOT_ATTACHED"),
    ),
    ("rate-limited", "web", 1, Some("RATE_LIMITED")),
];

#[test]
fn golden_tables_and_json_for_every_scenario() {
    for (scenario, cert, code, first) in SCENARIOS {
        let api = api_with(scenario);
        let kc = api.kubeconfig_with_namespace("shop").unwrap();
        for columns in [100u16, 80] {
            let out = run(&kc, &[cert, "--no-probe"], columns);
            assert_eq!(out.code, *code, "{scenario}: {}{}", out.stdout, out.stderr);
            assert!(
                !out.stdout.contains('\u{1b}'),
                "{scenario}: colour with NO_COLOR"
            );
            assert!(
                out.stdout
                    .lines()
                    .all(|l| l.chars().count() <= columns as usize),
                "{scenario}: wider than {columns}:\n{}",
                out.stdout
            );
            golden(&format!("{scenario}.{columns}.txt"), &out.stdout);
        }
        let out = run(&kc, &[cert, "--no-probe", "-o", "json"], 100);
        assert_eq!(out.code, *code, "{scenario}: {}", out.stderr);
        let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON report");
        let findings = json["certificates"][0]["findings"].as_array().unwrap();
        let errors: Vec<&serde_json::Value> = findings
            .iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        match first {
            Some(c) => assert_eq!(errors[0]["code"], *c, "{scenario}: {findings:#?}"),
            None => assert!(errors.is_empty(), "{scenario}: {findings:#?}"),
        }
        assert_eq!(json["summary"]["exitCode"], *code);
        golden(&format!("{scenario}.json"), &out.stdout);
    }
}

#[test]
fn body_mismatch_wordings_old_and_new() {
    let api = api_with("body-mismatch");
    let kc = api.kubeconfig_with_namespace("shop").unwrap();
    let out = run(&kc, &["--all", "--no-probe", "-o", "json"], 100);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let wordings: Vec<String> = json["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["challenges"].as_array().unwrap().iter())
        .filter_map(|ch| ch["parsedReason"]["wording"].as_str().map(str::to_owned))
        .collect();
    assert!(
        wordings.contains(&"quoted".to_owned()) || wordings.contains(&"current".to_owned()),
        "{wordings:?}"
    );
}

#[test]
fn missing_certificate_exits_2_with_close_names() {
    let api = api_with("selfcheck-404");
    let kc = api.kubeconfig_with_namespace("shop").unwrap();
    let out = run(&kc, &["wbe", "--no-probe"], 100);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("not found"), "{}", out.stderr);
    assert!(
        out.stderr.contains("web"),
        "suggests the close name: {}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn forbidden_challenges_name_the_permission() {
    let api = api_with("selfcheck-404");
    api.deny("list", "acme.cert-manager.io", "challenges", Some("shop"));
    let kc = api.kubeconfig_with_namespace("shop").unwrap();
    let out = run(&kc, &["web", "--no-probe"], 100);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("challenges"), "{}", out.stderr);
    assert!(out.stderr.contains("list"), "{}", out.stderr);
    assert!(out.stderr.contains("shop"), "{}", out.stderr);
}

#[test]
fn api_server_down() {
    let api = api_with("healthy");
    let kc = api.kubeconfig_with_namespace("shop").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("kubeconfig");
    std::fs::copy(&kc, &copy).unwrap();
    drop(api);
    let out = run(
        &copy,
        &["web", "--no-probe", "--request-timeout", "3s"],
        100,
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with("error:"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("none");
    for args in [
        &["--no-probe"][..],
        &["a", "--all"][..],
        &["a", "-A"][..],
        &["a", "-o", "xml"][..],
    ] {
        let out = run(&kc, args, 100);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn help_documents_exit_codes() {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-acmecheck"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("kubectl acmecheck"), "{text}");
    assert!(
        text.contains("Exit codes:") && text.contains("0  the checks ran and found no problem"),
        "{text}"
    );
    // The README documents the same codes.
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    assert!(
        readme.contains("| 2 | could not diagnose"),
        "README exit codes"
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let api = api_with("class-unserved");
    let kc = api.kubeconfig_with_namespace("shop").unwrap();
    let colour = |args: &[&str], no_color: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-acmecheck"));
        c.args(args)
            .arg("--kubeconfig")
            .arg(&kc)
            .env_remove("NO_COLOR")
            .env_remove("KUBECONFIG");
        if no_color {
            c.env("NO_COLOR", "1");
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).contains('\u{1b}')
    };
    // stdout is a pipe here: auto means no colour, with or without NO_COLOR.
    assert!(!colour(&["web", "--no-probe"], false));
    assert!(!colour(&["web", "--no-probe"], true));
    assert!(colour(&["web", "--no-probe", "--color", "always"], false));
    assert!(!colour(&["web", "--no-probe", "--color", "never"], false));
    // JSON is never coloured.
    assert!(!colour(
        &["web", "--no-probe", "-o", "json", "--color", "always"],
        false
    ));
}
