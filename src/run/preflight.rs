//! `kubectl acmecheck preflight`: the same stages as a diagnosis for names that have no
//! Certificate yet — gather (the pre-flight's Certificate from the command line or an
//! Ingress/Gateway, its issuer, the cluster) → replay (stand-ins) → probe (both vantages) →
//! diagnose → report — with the stand-ins deleted on every path. Exit codes as for a diagnosis.

use super::{ProbeSettings, Probing, print_stdout, probe_finish_print};
use crate::cli::{Cli, PreflightArgs};
use crate::error::UserError;
use crate::gather::{self, preflight};
use crate::probe::pod::{self, lifecycle::Tracker};
use crate::replay::{self, ReplayInput, stage};

/// The command line that runs this pre-flight again (for the report).
fn command(args: &PreflightArgs, namespace: &str) -> String {
    let mut c = String::from("kubectl acmecheck preflight");
    if let Some(r) = &args.resource {
        c.push(' ');
        c.push_str(r);
    }
    if let Some(i) = &args.issuer {
        c.push_str(&format!(" --issuer {i}"));
        if args.cluster_issuer {
            c.push_str(" --cluster-issuer");
        }
    }
    for h in &args.hosts {
        c.push_str(&format!(" --host {h}"));
    }
    c.push_str(&format!(" -n {namespace}"));
    c
}

fn check(cli: &Cli, args: &PreflightArgs) -> Result<(), UserError> {
    if cli.kube.all_namespaces {
        return Err(UserError::new("a pre-flight checks names in one namespace")
            .hint("use -n NAMESPACE (where the Certificate would live)"));
    }
    if args.resource.is_none() && (args.issuer.is_none() || args.hosts.is_empty()) {
        return Err(UserError::new("nothing to check")
            .hint("kubectl acmecheck preflight ingress/NAME | gateway/NAME, or --issuer NAME [--cluster-issuer] --host HOST [--host ...]"));
    }
    if args.cluster_issuer && args.issuer.is_none() {
        return Err(
            UserError::new("--cluster-issuer says that --issuer names a ClusterIssuer")
                .hint("add --issuer NAME"),
        );
    }
    Ok(())
}

/// Everything `kubectl acmecheck preflight` does. Returns the exit code. SIGINT and SIGTERM
/// delete what the run created, as for a diagnosis.
pub async fn execute(cli: &Cli, args: &PreflightArgs) -> Result<i32, UserError> {
    crate::run::with_signals(async |tracker: &Tracker| run(cli, args, tracker).await).await
}

async fn run(cli: &Cli, args: &PreflightArgs, tracker: &Tracker) -> Result<i32, UserError> {
    check(cli, args)?;
    let (client, namespace) = gather::connect(&cli.kube).await?;
    let target = preflight::Target {
        namespace: namespace.clone(),
        resource: args.resource.clone(),
        issuer: args.issuer.clone(),
        cluster_issuer: args.cluster_issuer,
        hosts: args.hosts.clone(),
    };
    let pf = preflight::fetch(&client, &target).await?;
    let (mut certs, mut cluster) = gather::assemble(&pf.snap);
    let settings = ProbeSettings {
        no_probe: false,
        local_only: args.local_only,
        plan: args.ca.plan_settings(args.attempts),
        pod: args.pod.options(),
    };
    let opts = super::stage_options(&args.replay_flags, &settings, &cluster);
    let run_id = pod::new_run_id();
    let Some(cert) = certs.first_mut() else {
        return Err(UserError::new(
            "the pre-flight's Certificate could not be built",
        ));
    };
    let mut input = ReplayInput::for_certificate(cert, &pf.snap);
    input.subject.clone_from(&pf.subject);
    let plan = replay::plan(&input, &cluster, &stage::replay_options(&run_id, &opts));
    if args.replay_flags.dry_run {
        print_stdout(&replay::manifest::yaml(&plan));
        return Ok(crate::error::exit::OK);
    }
    let s = stage::Stage {
        client: &client,
        tracker,
        snap: &pf.snap,
        opts: &opts,
    };
    let mut running = stage::Running::default();
    if let Some(live) = stage::run_plan(&s, cert, &plan, &command(args, &namespace), true).await {
        running.push(live);
    }
    if let Some(r) = cert.replay.as_mut() {
        r.notes.extend(pf.notes.iter().cloned());
    }
    let probing = Probing::new(&client, &settings, tracker, &run_id);
    Ok(probe_finish_print(&probing, &mut certs, &mut cluster, running, &cli.output).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> (Cli, PreflightArgs) {
        let mut cli = Cli::try_parse_from(args).unwrap();
        match cli.command.take() {
            Some(crate::cli::Command::Preflight(a)) => (cli, *a),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_command_line_is_checked_and_repeated() {
        let (cli, a) = parse(&[
            "kubectl-acmecheck",
            "preflight",
            "--issuer",
            "le",
            "--cluster-issuer",
            "--host",
            "a.example.test",
            "--host",
            "b.example.test",
            "-n",
            "shop",
        ]);
        assert!(check(&cli, &a).is_ok());
        assert_eq!(
            command(&a, "shop"),
            "kubectl acmecheck preflight --issuer le --cluster-issuer --host a.example.test --host b.example.test -n shop"
        );
        let (cli, a) = parse(&[
            "kubectl-acmecheck",
            "preflight",
            "ingress/web",
            "-n",
            "shop",
        ]);
        assert!(check(&cli, &a).is_ok());
        assert_eq!(
            command(&a, "shop"),
            "kubectl acmecheck preflight ingress/web -n shop"
        );
        let (cli, a) = parse(&["kubectl-acmecheck", "preflight", "--host", "a.example.test"]);
        assert!(check(&cli, &a).is_err(), "no issuer");
        let (cli, a) = parse(&["kubectl-acmecheck", "preflight", "ingress/web", "-A"]);
        assert!(check(&cli, &a).is_err(), "-A");
        let (cli, a) = parse(&[
            "kubectl-acmecheck",
            "preflight",
            "ingress/web",
            "--cluster-issuer",
        ]);
        assert!(check(&cli, &a).is_err(), "--cluster-issuer alone");
        let (_, a) = parse(&[
            "kubectl-acmecheck",
            "preflight",
            "gateway/public",
            "--dry-run",
            "--solver-image",
            "mirror/acmesolver:v1",
            "--replay-wait",
            "5s",
            "--local-only",
        ]);
        assert!(a.replay_flags.dry_run && a.local_only);
        assert_eq!(
            a.replay_flags.solver_image.as_deref(),
            Some("mirror/acmesolver:v1")
        );
        assert_eq!(
            a.replay_flags.replay_wait,
            std::time::Duration::from_secs(5)
        );
    }
}
