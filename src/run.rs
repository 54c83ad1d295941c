//! Wires the stages for the CLI: gather -> (replay: stand-in solvers, with `--replay` and for
//! `preflight`) -> probe (local and in the cluster) -> diagnose, once per certificate (again
//! when the diagnosis asked for solver logs and they were read) -> report, then the stand-ins are
//! deleted. No rule and no ranking happens here.

pub mod preflight;

use crate::cli::{Cli, ColorChoice, OutputFlags, OutputFormat};
use crate::diagnose::{self, Diagnosis, Evidence};
use crate::error::UserError;
use crate::evidence::{CertificateEvidence, ClusterEvidence};
use crate::gather;
use crate::probe::incluster::InCluster;
use crate::probe::pod::{
    self,
    lifecycle::{Signals, Tracker},
};
use crate::probe::targets;
use crate::replay::stage;
use crate::report::{CertificateReport, Report, table, terminal};
use std::io::IsTerminal;

/// The probe stage's output, named here too for the callers of [`build_report`].
pub use crate::probe::Probes;

/// Run the local plans.
pub async fn probe_locally(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    settings: &targets::PlanSettings,
) -> Probes {
    let mut probes = Probes {
        enabled: true,
        ..Default::default()
    };
    if let Some(plan) = targets::local_plan_with(certs, cluster, settings) {
        for t in crate::probe::run_plan(&plan).await.targets {
            probes.local.insert(t.id.clone(), t);
        }
    }
    probes
}

/// Diagnose every certificate: one call into diagnosis each (pure: no I/O).
fn diagnose_all(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    probes: &Probes,
) -> Vec<Diagnosis> {
    certs
        .iter()
        .map(|cert| {
            diagnose::diagnose(&Evidence {
                cert,
                cluster,
                probes,
            })
        })
        .collect()
}

/// The report: each certificate's diagnosis, with both vantages' reports per challenge.
fn report(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    probes: &Probes,
    diagnoses: Vec<Diagnosis>,
) -> Report {
    let reports = certs
        .iter()
        .zip(diagnoses)
        .map(|(cert, diagnosis)| {
            let mut report = CertificateReport::new(cert, diagnosis.findings);
            for ch in &mut report.challenges {
                let id = format!("{}/{}", cert.namespace, ch.name);
                ch.vantages.local = probes.local.get(&id).cloned();
                ch.vantages.in_cluster = probes.in_cluster.target(&id).cloned();
            }
            report
        })
        .collect();
    Report::new(reports, cluster).with_in_cluster(&probes.in_cluster)
}

/// Diagnose every certificate and build the report (pure: no I/O).
pub fn build_report(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    probes: &Probes,
) -> Report {
    report(certs, cluster, probes, diagnose_all(certs, cluster, probes))
}

/// Diagnose every certificate and build the report; when a diagnosis wants solver pod logs (a
/// self check failing at the HTTP level that no proving finding explains), read them first (one
/// request per pod, off the common path) and diagnose again with them.
pub async fn with_solver_logs(
    client: &kube::Client,
    certs: &mut [CertificateEvidence],
    cluster: &mut ClusterEvidence,
    probes: &Probes,
) -> Report {
    let diagnoses = diagnose_all(certs, cluster, probes);
    let mut wanted: Vec<(String, String)> = diagnoses
        .iter()
        .flat_map(|d| d.wanted.solver_logs.iter().cloned())
        .collect();
    // A shared stand-in's pod serves many challenges: one read each.
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return report(certs, cluster, probes, diagnoses);
    }
    gather::logs::attach(client, certs, &mut cluster.unreadable, &wanted).await;
    build_report(certs, cluster, probes)
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

/// Render the report in the chosen format; the table for this terminal (width, height, locale),
/// with the path picture unless `picture` is false (`--no-picture`).
pub fn render(report: &Report, format: OutputFormat, color: bool, picture: bool) -> String {
    match format {
        OutputFormat::Json => {
            let mut s = report.to_json();
            s.push('\n');
            s
        }
        OutputFormat::Yaml => report.to_yaml(),
        OutputFormat::Table | OutputFormat::Wide => {
            let width = terminal::width();
            let mut text = table::render_with(
                report,
                table::Style {
                    width,
                    color,
                    wide: format == OutputFormat::Wide,
                },
                terminal::look(picture),
            );
            text.push_str(&crate::report::replay::render_text(report, width));
            text
        }
    }
}

/// How the probe stage runs, from the command line of a diagnosis or a pre-flight.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    pub no_probe: bool,
    pub local_only: bool,
    /// `--attempts` and the CA forecast's flags.
    pub plan: targets::PlanSettings,
    pub pod: crate::probe::pod::PodOptions,
}

impl ProbeSettings {
    fn from_cli(cli: &Cli) -> Self {
        ProbeSettings {
            no_probe: cli.no_probe,
            local_only: cli.local_only,
            plan: cli.plan_settings(),
            pod: cli.pod.options(),
        }
    }
}

/// The replay stage's options from its flags; the stand-ins' deadline covers the whole run.
pub fn stage_options(
    flags: &crate::cli::ReplayFlags,
    probe: &ProbeSettings,
    cluster: &ClusterEvidence,
) -> stage::StageOptions {
    let probe_budget = probe.pod.timeout + pod::lifecycle::deadline_grace(probe.pod.timeout);
    stage::StageOptions {
        solver_image: flags.solver_image.clone(),
        ready_timeout: flags.replay_timeout,
        propagation_wait: flags.replay_wait,
        deadline: flags.replay_timeout
            + flags.replay_wait
            + probe_budget
            + std::time::Duration::from_secs(60),
        user_agent: targets::user_agent(cluster),
    }
}

/// Everything `kubectl acmecheck <certificates>` does. Returns the exit code.
///
/// SIGINT and SIGTERM are caught from the start: the run stops, deletes the probe pod and the
/// replay's stand-ins it created (or is creating), and exits 130 or 143.
pub async fn execute(cli: &Cli) -> Result<i32, UserError> {
    with_signals(async |tracker: &Tracker| diagnose_and_report(cli, tracker).await).await
}

/// Run `work` with SIGINT and SIGTERM caught from the start: on a signal the work stops, what
/// it created (tracked by the [`Tracker`] it is given) is deleted, and the exit code is 130 or
/// 143. Every subcommand that creates objects runs through here.
pub async fn with_signals(
    work: impl AsyncFnOnce(&Tracker) -> Result<i32, UserError>,
) -> Result<i32, UserError> {
    let mut signals = Signals::install().map_err(|e| {
        UserError::new("cannot install the SIGINT/SIGTERM handlers").why(e.to_string())
    })?;
    let tracker = Tracker::default();
    tokio::select! {
        r = work(&tracker) => r,
        sig = signals.recv() => Ok(interrupted(sig, &tracker).await),
    }
}

/// How the interruption message names a deleted object: `probe pod ns/name`, `pod ns/name`
/// (a replay stand-in), `service ns/name`, ...
fn deleted_name(id: &str) -> String {
    if id.contains(' ') {
        return id.to_owned();
    }
    let name = id.rsplit('/').next().unwrap_or(id);
    if name.starts_with(pod::POD_PREFIX) {
        format!("probe pod {id}")
    } else {
        format!("pod {id}")
    }
}

/// After a signal: delete the tracked probe pod and stand-ins, say so, and return 128 + the
/// signal number.
pub(crate) async fn interrupted(sig: i32, tracker: &Tracker) -> i32 {
    let (name, code) = if sig == 2 {
        ("SIGINT", crate::error::exit::SIGINT)
    } else {
        ("SIGTERM", crate::error::exit::SIGTERM)
    };
    let (deleted, failed) = tracker.cleanup().await;
    for id in &deleted {
        eprintln!("interrupted ({name}): deleted {}", deleted_name(id));
    }
    for f in &failed {
        eprintln!(
            "interrupted ({name}): could not delete {}\n  hint: kubectl acmecheck cleanup -A",
            deleted_name(f)
        );
    }
    if deleted.is_empty() && failed.is_empty() {
        eprintln!("interrupted ({name})");
    }
    code
}

fn check_flags(cli: &Cli) -> Result<(), UserError> {
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
    if cli.replay_flags.dry_run && !cli.replay {
        return Err(
            UserError::new("--dry-run prints what --replay would create")
                .hint("add --replay: kubectl acmecheck NAME --replay --dry-run"),
        );
    }
    if cli.replay && cli.no_probe {
        return Err(UserError::new(
            "--replay creates stand-in solvers to probe them, and --no-probe probes nothing",
        )
        .hint("drop one of the two (--replay --dry-run shows what a replay would create)"));
    }
    Ok(())
}

/// `--replay --dry-run`: every certificate's plan as YAML; no write, no probe pod.
fn dry_run(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    snap: &gather::Snapshot,
    opts: &stage::StageOptions,
) -> String {
    let run_id = pod::new_run_id();
    let mut out = String::new();
    for (i, cert) in certs.iter().enumerate() {
        let input = crate::replay::ReplayInput::for_certificate(cert, snap);
        let id = if i == 0 {
            run_id.clone()
        } else {
            format!("{run_id}-{i}")
        };
        let plan = crate::replay::plan(&input, cluster, &stage::replay_options(&id, opts));
        out.push_str(&crate::replay::manifest::yaml(&plan));
    }
    out
}

async fn diagnose_and_report(cli: &Cli, tracker: &Tracker) -> Result<i32, UserError> {
    check_flags(cli)?;
    let (client, namespace, server) = gather::connect_with_server(&cli.kube).await?;
    let scope = gather::Scope {
        namespace,
        names: cli.certificates.clone(),
        all: cli.all,
        all_namespaces: cli.kube.all_namespaces,
    };
    let (mut certs, mut cluster, snap) =
        gather::gather_with_snapshot(client.clone(), &scope).await?;
    tracing::debug!(certificates = certs.len(), "gathered");
    // This machine's resolver must answer for the API server's host when it is a name.
    cluster.api_server = Some(server);
    let settings = ProbeSettings::from_cli(cli);
    let opts = stage_options(&cli.replay_flags, &settings, &cluster);
    if cli.replay && cli.replay_flags.dry_run {
        print_stdout(&dry_run(&certs, &cluster, &snap, &opts));
        return Ok(crate::error::exit::OK);
    }
    let run_id = pod::new_run_id();
    let running = if cli.replay {
        let s = stage::Stage {
            client: &client,
            tracker,
            snap: &snap,
            opts: &opts,
        };
        stage::start(&s, &mut certs, &cluster, &run_id).await
    } else {
        for cert in &mut certs {
            cert.replay = stage::hint(cert, &cluster, &snap, &opts);
        }
        stage::Running::default()
    };
    let probing = Probing::new(&client, &settings, tracker, &run_id);
    Ok(probe_finish_print(&probing, &mut certs, &mut cluster, running, &cli.output).await)
}

/// What the probe stage of one run needs besides the evidence: the cluster's client, the
/// probe settings, the tracker that deletes what the run creates on a signal, and the run's id.
pub(crate) struct Probing<'a> {
    client: &'a kube::Client,
    settings: &'a ProbeSettings,
    tracker: &'a Tracker,
    run_id: &'a str,
}

impl<'a> Probing<'a> {
    pub(crate) fn new(
        client: &'a kube::Client,
        settings: &'a ProbeSettings,
        tracker: &'a Tracker,
        run_id: &'a str,
    ) -> Self {
        Probing {
            client,
            settings,
            tracker,
            run_id,
        }
    }
}

/// The end of a diagnosis and of a pre-flight: probe, diagnose and build the report
/// ([`probe_and_report`]), delete the stand-ins (`running`), then print the report in the
/// chosen format. Nothing here returns early, so the stand-ins are deleted on every path (and
/// by the tracker on a signal). Returns the exit code.
pub(crate) async fn probe_finish_print(
    probing: &Probing<'_>,
    certs: &mut [CertificateEvidence],
    cluster: &mut ClusterEvidence,
    running: stage::Running,
    output: &OutputFlags,
) -> i32 {
    let report = probe_and_report(
        probing.client,
        certs,
        cluster,
        probing.settings,
        probing.tracker,
        probing.run_id,
    )
    .await;
    running.finish().await;
    print_stdout(&render(
        &report,
        output.output,
        use_color(output.color),
        !output.no_picture,
    ));
    report.summary.exit_code
}

/// Probe (both vantages, unless told otherwise), diagnose and build the report.
pub async fn probe_and_report(
    client: &kube::Client,
    certs: &mut [CertificateEvidence],
    cluster: &mut ClusterEvidence,
    settings: &ProbeSettings,
    tracker: &Tracker,
    run_id: &str,
) -> Report {
    let probes = if settings.no_probe {
        Probes::default()
    } else {
        let local = probe_locally(certs, cluster, &settings.plan);
        let pod = probe_in_cluster(client, certs, cluster, settings, tracker, run_id);
        let (mut probes, in_cluster) = tokio::join!(local, pod);
        probes.in_cluster = in_cluster;
        probes
    };
    with_solver_logs(client, certs, cluster, &probes).await
}

/// The in-cluster vantage: one probe pod for every challenge (unless `--local-only`).
pub(crate) async fn probe_in_cluster(
    client: &kube::Client,
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    settings: &ProbeSettings,
    tracker: &Tracker,
    run_id: &str,
) -> InCluster {
    if settings.local_only {
        return InCluster::NotRequested;
    }
    let Some(plan) = targets::in_cluster_plan_with(certs, cluster, &settings.plan) else {
        return InCluster::NotRequested;
    };
    let opts = &settings.pod;
    let places = pod::spec::placement(certs, cluster, opts, run_id);
    let ctx = pod::lifecycle::Context {
        client,
        opts,
        run_id,
        tracker,
    };
    let result = pod::lifecycle::run(&ctx, &plan, places, cluster.cert_manager.as_ref()).await;
    if let InCluster::Failed { problem, .. } = &result {
        eprintln!(
            "warning: in-cluster probe: {}\n  hint: {}",
            problem.message, problem.hint
        );
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::plan::TargetReport;
    use crate::probe::targets::probe_id;
    use std::collections::HashMap;

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

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct VantageFixture {
        root_cause: String,
        #[serde(default)]
        challenge_reason: Option<String>,
        #[serde(default)]
        cert_manager: Option<serde_json::Value>,
        local: Option<TargetReport>,
        in_cluster: Option<TargetReport>,
        placement: Option<crate::probe::incluster::Placement>,
        #[serde(default)]
        problem: Option<crate::probe::incluster::Problem>,
    }

    /// The lab's cert-manager objects, joined offline like the gather stage does.
    fn lab_evidence() -> (Vec<CertificateEvidence>, ClusterEvidence) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chain");
        let files = acmecheck_testkit::lab::cluster_objects(&root, "founding-incident").unwrap();
        let text: Vec<&str> = files.iter().map(|(_, t)| t.as_str()).collect();
        gather::assemble(&gather::Snapshot::from_yaml(&text.join("\n---\n")).unwrap())
    }

    fn golden(name: &str, actual: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, actual).unwrap();
            return;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
        if let Some((i, (w, a))) = want
            .lines()
            .zip(actual.lines())
            .enumerate()
            .find(|(_, (w, a))| w != a)
        {
            panic!(
                "{} line {}:\n  want: {w}\n  got:  {a}",
                path.display(),
                i + 1
            );
        }
        assert_eq!(actual, want, "golden {} (line count)", path.display());
    }

    /// Every tests/fixtures/vantage scenario: the root cause first, the JSON valid against the
    /// schema with both vantages in it, and the table (golden) within 80 and 100 columns.
    #[test]
    fn vantage_fixtures_name_their_root_cause() {
        let dir = format!("{}/tests/fixtures/vantage", env!("CARGO_MANIFEST_DIR"));
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../docs/report-schema.json")).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        assert!(names.len() >= 8, "{names:?}");
        for file in names {
            let name = file.trim_end_matches(".json");
            let f: VantageFixture =
                serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{file}")).unwrap())
                    .unwrap();
            let (mut certs, cluster) = lab_evidence();
            let ch = &mut certs[0].challenges[0];
            if let Some(r) = f.challenge_reason {
                ch.reason = Some(r);
            }
            let id = probe_id(&certs[0], &certs[0].challenges[0]);
            let mut cluster_json = serde_json::to_value(&cluster).unwrap();
            if let Some(serde_json::Value::Object(patch)) = f.cert_manager {
                for (k, v) in patch {
                    cluster_json["certManager"][k] = v;
                }
            }
            let cluster: ClusterEvidence = serde_json::from_value(cluster_json).unwrap();
            // The recorded direct probes carry the labels the in-cluster plan gives these objects.
            let plan = targets::in_cluster_plan(&certs, &cluster, None).unwrap();
            for d in f.in_cluster.iter().flat_map(|t| &t.direct) {
                assert!(
                    plan.options
                        .direct_targets
                        .iter()
                        .any(|p| p.label == d.label && p.host == d.host && p.path == d.path),
                    "{name}: {} not in the plan: {:#?}",
                    d.label,
                    plan.options.direct_targets
                );
            }
            let in_cluster = match (f.in_cluster, f.problem) {
                (Some(t), _) => crate::probe::incluster::InCluster::Ran {
                    placement: f.placement.unwrap(),
                    targets: HashMap::from([(id.clone(), t)]),
                },
                (None, Some(problem)) => crate::probe::incluster::InCluster::Failed {
                    placement: f.placement,
                    problem,
                },
                (None, None) => crate::probe::incluster::InCluster::NotRequested,
            };
            let probes = Probes {
                enabled: true,
                local: f.local.into_iter().map(|t| (id.clone(), t)).collect(),
                in_cluster,
            };
            let report = build_report(&certs, &cluster, &probes);
            let findings = &report.certificates[0].findings;
            assert_eq!(
                findings[0].code.to_string(),
                f.root_cause,
                "{name}: {findings:#?}"
            );
            for (i, f) in findings.iter().enumerate() {
                assert!(
                    findings[..i]
                        .iter()
                        .all(|e| (e.code, &e.challenge) != (f.code, &f.challenge)),
                    "{name}: {} twice",
                    f.code
                );
            }
            let yaml: crate::report::Report = serde_saphyr::from_str(&report.to_yaml()).unwrap();
            assert_eq!(yaml, report, "{name}: YAML round trip");
            let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
            let mut errors = Vec::new();
            errors.extend(crate::report::schema_errors_with(&schema, &json));
            assert!(errors.is_empty(), "{name}: {errors:#?}");
            for columns in [100u16, 80] {
                let text = table::render(
                    &report,
                    table::Style {
                        width: columns,
                        color: false,
                        wide: false,
                    },
                );
                // Only what must be copied whole (a command, a URL) may be wider.
                let wide = crate::report::overflow::too_wide(&report, &text, columns.into());
                assert!(wide.is_empty(), "{name}: wider than {columns}: {wide:#?}");
                golden(&format!("vantage-{name}.{columns}.txt"), &text);
            }
        }
    }
}
