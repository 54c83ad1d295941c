//! Wires gather -> probe -> diagnose -> report for the CLI.

use crate::cli::{Cli, ColorChoice, OutputFormat};
use crate::diagnose::{self, Code, Finding, Proof, Severity, api};
use crate::error::UserError;
use crate::evidence::{CertificateEvidence, ClusterEvidence};
use crate::gather;
use crate::probe::plan::TargetReport;
use crate::probe::targets::{self, cert_profile, probe_candidates, probe_id};
use crate::report::{CertificateReport, Report, table};
use std::collections::HashMap;
use std::io::IsTerminal;

/// What the probe stage produced for one run.
#[derive(Debug, Default)]
pub struct Probes {
    /// Whether probing ran at all (false with `--no-probe`).
    pub enabled: bool,
    /// Local-vantage reports keyed by `<namespace>/<challenge>`.
    pub local: HashMap<String, TargetReport>,
    /// The probe pod's view (or why there is none).
    pub in_cluster: crate::probe::incluster::InCluster,
}

/// Run the local plans.
pub async fn probe_locally(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    attempts: Option<u32>,
) -> Probes {
    let mut probes = Probes {
        enabled: true,
        ..Default::default()
    };
    if let Some(plan) = targets::local_plan(certs, cluster, attempts) {
        for t in crate::probe::run_plan(&plan).await.targets {
            probes.local.insert(t.id.clone(), t);
        }
    }
    probes
}

/// Diagnose every certificate and build the report (pure: no I/O).
pub fn build_report(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    probes: &Probes,
) -> Report {
    let reports = certs
        .iter()
        .map(|cert| {
            let mut findings = api::findings(&api::Input { cert, cluster });
            let profile = cert_profile(cert);
            let mut probed = 0;
            for ch in probe_candidates(cert) {
                if let Some(t) = probes.local.get(&probe_id(cert, ch)) {
                    findings.extend(diagnose::probe::findings(ch, t, profile));
                    probed += 1;
                }
            }
            findings.extend(diagnose::joint::findings(cert, cluster, |ch| {
                probes.local.get(&probe_id(cert, ch))
            }));
            let candidates = probe_candidates(cert).count();
            if candidates > 0 {
                findings.push(not_checked(probes.enabled, probed));
            }
            findings.extend(diagnose::advice::dns01(cert, &findings));
            diagnose::rank(&mut findings);
            let mut report = CertificateReport::new(cert, findings);
            for ch in &mut report.challenges {
                let id = format!("{}/{}", cert.namespace, ch.name);
                ch.vantages.local = probes.local.get(&id).cloned();
                ch.vantages.in_cluster = probes.in_cluster.target(&id).cloned();
            }
            report
        })
        .collect();
    Report::new(reports, cluster)
}

/// Read solver pod logs only when they can decide something (a self check failing at the HTTP
/// level that no proving finding explains; one request per pod, off the common path), and
/// diagnose again with them. Returns `report` unchanged when no log is wanted.
pub async fn with_solver_logs(
    client: &kube::Client,
    certs: &mut [CertificateEvidence],
    cluster: &mut ClusterEvidence,
    probes: &Probes,
    report: Report,
) -> Report {
    let wanted: Vec<(String, String)> = certs
        .iter()
        .zip(&report.certificates)
        .flat_map(|(c, r)| diagnose::joint::solver_logs_wanted(c, &r.findings))
        .collect();
    if wanted.is_empty() {
        return report;
    }
    gather::logs::attach(client, certs, &mut cluster.unreadable, &wanted).await;
    build_report(certs, cluster, probes)
}

/// Say what the run could not see.
fn not_checked(enabled: bool, probed: usize) -> Finding {
    if !enabled {
        return Finding::new(
            Code::NotChecked,
            Severity::Info,
            Proof::Supports,
            "the challenge URL was not probed (--no-probe)",
        )
        .evidence("checked: the cert-manager objects, the solver resources, classes, data planes and the controller's settings; not checked: DNS, the HTTP path, both vantages")
        .fix("run without --no-probe to see what the self check and the CA see");
    }
    Finding::new(
        Code::NotChecked,
        Severity::Info,
        Proof::Supports,
        format!("probed {probed} challenge URL(s) from this machine only; cert-manager's self check runs inside the cluster"),
    )
    .evidence("the in-cluster vantage (probe pod) is not part of this version: hairpin NAT, split-horizon DNS and egress policies are not checked")
    .fix("to compare by hand, from a pod in the cluster: curl -sv http://<dnsName>/.well-known/acme-challenge/<token>")
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

/// Run a future on a fresh multi-threaded runtime (the CLI's one entry into async code).
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, UserError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| UserError::new("cannot start the async runtime").why(e.to_string()))?;
    Ok(runtime.block_on(f))
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

/// Everything `kubectl acmecheck <certificates>` does. Returns the exit code.
pub async fn execute(cli: &Cli) -> Result<i32, UserError> {
    if cli.certificates.is_empty() && !cli.all {
        return Err(UserError::new("no certificate named")
            .hint("name one or more certificates (kubectl acmecheck web-tls) or use --all"));
    }
    if cli.all && !cli.certificates.is_empty() {
        return Err(
            UserError::new("--all checks every certificate that is not Ready")
                .hint("use either certificate names or --all, not both"),
        );
    }
    if cli.kube.all_namespaces && !cli.all {
        return Err(UserError::new(
            "a certificate cannot be looked up by name across all namespaces",
        )
        .hint("use -n NAMESPACE with names, or --all -A"));
    }
    let (client, namespace) = gather::connect(&cli.kube).await?;
    let scope = gather::Scope {
        namespace,
        names: cli.certificates.clone(),
        all: cli.all,
        all_namespaces: cli.kube.all_namespaces,
    };
    let (mut certs, mut cluster) = gather::gather(client.clone(), &scope).await?;
    tracing::debug!(certificates = certs.len(), "gathered");
    let probes = if cli.no_probe {
        Probes::default()
    } else {
        probe_locally(&certs, &cluster, cli.attempts).await
    };
    let report = build_report(&certs, &cluster, &probes);
    let report = with_solver_logs(&client, &mut certs, &mut cluster, &probes, report).await;
    print_stdout(&render(
        &report,
        cli.output.output,
        use_color(cli.output.color),
    ));
    Ok(report.summary.exit_code)
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
        let report = build_report(&f.certificates, &f.cluster, &Probes::default());
        let codes: Vec<_> = report.certificates[0]
            .findings
            .iter()
            .map(|f| f.code.to_string())
            .collect();
        assert_eq!(
            codes,
            [
                "INGRESS_CLASS_UNSERVED",
                "SELF_CHECK_FAILING",
                "NOT_CHECKED"
            ]
        );
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
