//! The whole tool on the lab: fake API server (inside the client namespace, like a cluster API
//! reachable from the laptop) + real network + `kubectl-acmecheck <cert>`. The first finding
//! must name the scenario's root cause; the founding incident's table is a golden file at 100
//! and 80 columns. Needs root.

use acmecheck_testkit::lab::cli::{self, LabCli};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_kubectl-acmecheck");

/// The scenario with its API server (no kubelet: `--local-only` runs).
fn setup(scenario: &str) -> Option<LabCli> {
    LabCli::for_test(scenario, None)
}

/// `kubectl-acmecheck args` in the client namespace at `columns`: (exit code, stdout).
fn acmecheck(s: &LabCli, args: &[&str], columns: u16) -> (i32, String) {
    let r = s.output(
        s.command(BIN, args)
            .env("COLUMNS", columns.to_string())
            // The golden's lines are box drawing, which needs a UTF-8 locale (ASCII otherwise).
            .env("LC_ALL", "C.UTF-8"),
    );
    (r.code, r.stdout)
}

/// Scenario → the first error finding's code (None: no error finding, exit 0).
const EXPECTED: &[(&str, Option<&str>)] = &[
    ("healthy", None),
    ("founding-incident", Some("MIXED_BACKENDS")),
    ("founding-incident-90-10", Some("MIXED_BACKENDS")),
    ("stale-a", Some("STALE_ADDRESS")),
    ("aaaa-wrong", Some("IPV6_BROKEN")),
    ("https-redirect-unserved", Some("HTTPS_REDIRECT_UNSERVED")),
    ("basic-auth", Some("AUTH_REQUIRED")),
    ("refused", Some("INBOUND_BLOCKED")),
    // Without the probe pod: the responder is not what the solver's data plane answers as.
    ("gateway-takes-all", Some("WRONG_DATA_PLANE")),
    ("failed-validation", Some("WRONG_DATA_PLANE")),
    // Without the pod nothing contradicts the API: its finding stands.
    ("endpoints-not-ready", Some("SOLVER_UNREACHABLE")),
];

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn the_first_finding_names_the_root_cause() {
    for (scenario, want) in EXPECTED {
        let Some(s) = setup(scenario) else { return };
        let (code, out) = acmecheck(
            &s,
            &[
                "web",
                "-n",
                "shop",
                "--local-only",
                "-o",
                "json",
                "--attempts",
                "40",
            ],
            100,
        );
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        if code == 0 {
            cli::every_verdict_passes(&json);
        }
        let findings = json["certificates"][0]["findings"].as_array().unwrap();
        let errors: Vec<&str> = findings
            .iter()
            .filter(|f| f["severity"] == "error")
            .filter_map(|f| f["code"].as_str())
            .collect();
        match want {
            Some(c) => {
                assert_eq!(errors.first(), Some(c), "{scenario}: {errors:?}");
                assert_eq!(code, 1, "{scenario}");
            }
            None => {
                assert!(errors.is_empty(), "{scenario}: {errors:?}");
                assert_eq!(code, 0, "{scenario}");
            }
        }
        // The probe's view is in the report.
        assert!(
            json["certificates"][0]["challenges"][0]["vantages"]["local"]["addresses"].is_array(),
            "{scenario}"
        );
    }
}

#[test]
#[cfg_attr(acmecheck_skip_root_tests, ignore = "needs root")]
fn founding_incident_table_is_readable_at_100_and_80_columns() {
    let Some(s) = setup("founding-incident") else {
        return;
    };
    let (_, json) = acmecheck(
        &s,
        &["web", "-n", "shop", "--local-only", "-o", "json"],
        100,
    );
    let report: kubectl_acmecheck::report::Report = serde_json::from_str(&json).unwrap();
    for columns in [100u16, 80] {
        let (code, out) = acmecheck(&s, &["web", "-n", "shop", "--local-only"], columns);
        assert_eq!(code, 1);
        // Only what must be copied whole (a command, a URL) may be wider.
        let wide = kubectl_acmecheck::report::overflow::too_wide(&report, &out, columns.into());
        assert!(wide.is_empty(), "wider than {columns}: {wide:#?}\n{out}");
        let path =
            Path::new(ROOT).join(format!("tests/golden/lab-founding-incident.{columns}.txt"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &out).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
        assert_eq!(out, want, "golden {}", path.display());
    }
}
