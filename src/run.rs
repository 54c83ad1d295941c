//! Wires gather -> probe -> diagnose -> report for the CLI.

use crate::cli::{ColorChoice, OutputFormat};
use crate::diagnose::{self, api};
use crate::evidence::{CertificateEvidence, ClusterEvidence};
use crate::report::{CertificateReport, Report, table};
use std::io::IsTerminal;

/// Diagnose every certificate and build the report (pure: no I/O).
pub fn build_report(certs: &[CertificateEvidence], cluster: &ClusterEvidence) -> Report {
    let reports = certs
        .iter()
        .map(|cert| {
            let mut findings = api::findings(&api::Input { cert, cluster });
            diagnose::rank(&mut findings);
            CertificateReport::new(cert, findings)
        })
        .collect();
    Report::new(reports, cluster)
}

/// Whether to colour stdout: `always`/`never` win; `auto` means a terminal and no NO_COLOR.
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

/// Table width: the terminal's, else $COLUMNS, else 100.
pub fn table_width() -> u16 {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<u16>().ok())
    {
        return w.max(40);
    }
    if std::io::stdout().is_terminal()
        && let Some((w, _)) = comfy_table::Table::new().width().map(|w| (w, 0))
    {
        return w.max(40);
    }
    100
}

/// Print to stdout; a closed pipe (`| head`) is not an error.
pub fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// Render the report in the chosen format.
pub fn render(report: &Report, format: OutputFormat, color: bool) -> String {
    match format {
        OutputFormat::Json => {
            let mut s = report.to_json();
            s.push('\n');
            s
        }
        OutputFormat::Yaml => report.to_yaml(),
        OutputFormat::Table | OutputFormat::Wide => table::render(
            report,
            table::Style {
                width: table_width(),
                color,
                wide: format == OutputFormat::Wide,
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Fixture {
        certificates: Vec<CertificateEvidence>,
        cluster: ClusterEvidence,
    }

    fn fixture(name: &str) -> Fixture {
        let path = format!(
            "{}/tests/fixtures/evidence/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn unserved_class_is_the_root_cause_of_a_404() {
        let f = fixture("selfcheck-404");
        let report = build_report(&f.certificates, &f.cluster);
        let codes: Vec<_> = report.certificates[0]
            .findings
            .iter()
            .map(|f| f.code.to_string())
            .collect();
        assert_eq!(codes, ["INGRESS_CLASS_UNSERVED", "SELF_CHECK_FAILING"]);
        assert_eq!(report.summary.exit_code, 1);
        let text = table::render(
            &report,
            table::Style {
                width: 100,
                color: false,
                wide: false,
            },
        );
        println!("{text}");
        assert!(
            text.contains("INGRESS_CLASS_UNSERVED (root cause)"),
            "{text}"
        );
    }
}
