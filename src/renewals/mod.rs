//! `kubectl acmecheck renewals`: will every HTTP-01 Certificate still renew? The same stages as
//! a diagnosis, over every Certificate in scope, Ready or not:
//!
//! gather (every kind listed once, whatever the number of Certificates) → which names to check
//! and how ([`select`]: cert-manager's solver selection) → for names without a live challenge,
//! a read-only screen (a random token nobody serves: who answers the challenge path) or, with
//! `--replay`, stand-in solvers → probe (this machine and one probe pod for every name) →
//! diagnose (`diagnose::diagnose`, the screen's rules included) → the renewals report, sorted
//! by renewal time; stand-ins deleted on every path.
//!
//! Exit code: 1 when a Certificate is at risk (or, with `--strict`, unknown), 0 otherwise, 2
//! when the check could not run.

mod progress;
pub mod select;

use crate::cli::{Cli, OutputFormat, RenewalsArgs};
use crate::error::UserError;
use crate::evidence::CertificateEvidence;
use crate::gather;
use crate::probe::plan::Budget;
use crate::probe::pod::{self, lifecycle::Tracker};
use crate::replay::pooled::{self, Planned};
use crate::replay::{self, stage};
use crate::report::renewals::{self as rr, CheckedBy, NameInput};
use crate::run::{ProbeSettings, print_stdout, stage_options, use_color};
use select::{How, NamePlan};

/// Everything `kubectl acmecheck renewals` does. Returns the exit code. SIGINT and SIGTERM
/// delete what the run created, as for a diagnosis.
pub async fn execute(cli: &Cli, args: &RenewalsArgs) -> Result<i32, UserError> {
    crate::run::with_signals(async |tracker: &Tracker| run(cli, args, tracker).await).await
}

fn check(args: &RenewalsArgs) -> Result<(), UserError> {
    if args.replay_flags.dry_run && !args.replay {
        return Err(
            UserError::new("--dry-run prints what --replay would create")
                .hint("add --replay: kubectl acmecheck renewals --replay --dry-run"),
        );
    }
    Ok(())
}

/// `--replay` creates shared stand-ins (a pod, a Service and an Ingress or HTTPRoute each, for
/// every namespace × solver configuration): above `max` of them in one run it stops before
/// creating anything (exit 2).
fn check_stand_ins(planned: &Planned, max: u32) -> Result<(), UserError> {
    let n = planned.pools.len();
    if n > usize::try_from(max).unwrap_or(usize::MAX) {
        return Err(UserError::new(format!(
            "--replay would create {n} stand-in solvers ({} objects), more than --max-stand-ins {max}",
            planned.objects()
        ))
        .why("a stand-in is a pod, a Service and an Ingress or HTTPRoute, shared by the names of one namespace and solver configuration (HTTPRoute solvers: up to 16 names each)")
        .hint("replay one namespace at a time (-n NAMESPACE), raise --max-stand-ins, or drop --replay for the read-only screen"));
    }
    Ok(())
}

/// What the report says about the shared stand-ins (none when nothing is replayed).
fn shared_note(planned: &Planned) -> Option<String> {
    let names: usize = planned.pools.iter().map(|p| p.plan.items.len()).sum();
    let first = planned.pools.first()?;
    let mut places: Vec<&str> = planned
        .pools
        .iter()
        .map(|p| p.plan.namespace.as_str())
        .collect();
    places.sort_unstable();
    places.dedup();
    Some(format!(
        "--replay: {} shared stand-in(s) (a pod, a Service and an Ingress or HTTPRoute each, in namespace(s) {}) served {names} name(s) with random tokens: the plugin's own image ({}) in its solver mode answers as cert-manager's acmesolver for every name, where cert-manager runs one acmesolver pod, Service and route per name; Ingress solvers share one stand-in in the run's namespace, so what only a Certificate's own namespace changes (NetworkPolicies, quotas) is not replayed",
        planned.pools.len(),
        places.join(", "),
        first.plan.settings.image.as_deref().unwrap_or("?"),
    ))
}

/// How each name ended up being checked, for the report.
fn name_inputs(cert: &CertificateEvidence, plan: &[NamePlan], replayed: bool) -> Vec<NameInput> {
    let mut screen_index = 0;
    plan.iter()
        .map(|n| {
            let (checked_by, challenge, note) = match &n.how {
                How::Live(ch) => (CheckedBy::Live, Some(ch.clone()), None),
                How::Unsolvable(why) => (CheckedBy::Unsolvable, None, Some(why.clone())),
                How::NotHttp01(why) => (CheckedBy::NotHttp01, None, Some(why.clone())),
                How::Check(_) if replayed => {
                    let r = cert.replay.as_ref();
                    let stand_in = r
                        .and_then(|r| r.stand_ins.iter().find(|s| s.dns_name == n.name))
                        .filter(|s| cert.challenges.iter().any(|c| c.name == s.challenge()));
                    let note = match (stand_in, r) {
                        (Some(_), _) => None,
                        (None, Some(r)) => Some(
                            r.problem
                                .as_ref()
                                .map(|p| format!("no stand-in: {}", p.message))
                                .or_else(|| {
                                    r.skipped
                                        .iter()
                                        .find(|s| s.name == n.name)
                                        .map(|s| format!("not replayed: {}", s.message))
                                })
                                .unwrap_or_else(|| "no stand-in ran".to_owned()),
                        ),
                        (None, None) => Some("no stand-in ran".to_owned()),
                    };
                    (
                        CheckedBy::Replay,
                        stand_in.map(|s| s.challenge().to_owned()),
                        note,
                    )
                }
                How::Check(_) => {
                    let name = select::screen_name(cert, screen_index);
                    screen_index += 1;
                    let screened = cert.challenges.iter().any(|c| c.screen && c.name == name);
                    let note = (!screened).then(|| "could not be screened".to_owned());
                    (CheckedBy::Screen, screened.then_some(name), note)
                }
            };
            NameInput {
                name: n.name.clone(),
                checked_by,
                challenge,
                note,
            }
        })
        .collect()
}

/// `--replay --dry-run`: the shared stand-ins as YAML, and the names that get none; nothing
/// is created.
fn dry_run(planned: &Planned, certs: &[CertificateEvidence]) -> String {
    let mut out = String::new();
    for (cert, plan) in certs.iter().zip(&planned.plans) {
        for item in &plan.items {
            if let replay::Decision::Skip(s) = &item.decision {
                out.push_str(&format!(
                    "# {}/{}: {}: not replayed: {}\n",
                    cert.namespace, cert.name, item.name, s.message
                ));
            }
        }
    }
    for p in &planned.pools {
        out.push_str(&replay::manifest::yaml(&p.plan));
    }
    out
}

/// Fresh connections per name and address first, more where its answers differ.
pub const FIRST_PER_NAME: u32 = 4;
pub const MORE_WHERE_ANSWERS_DIFFER: u32 = 16;
/// Fresh connections per name to each data plane asked directly from the probe pod.
pub const DIRECT_PER_NAME: u32 = 2;

/// The run's connection budget: names on the same address share `cap` per vantage.
fn budget(cap: u32) -> Budget {
    Budget {
        first: FIRST_PER_NAME,
        more: MORE_WHERE_ANSWERS_DIFFER,
        direct: DIRECT_PER_NAME,
        cap_per_address: cap,
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Running inside a Kubernetes pod (a CronJob): the in-cluster config's environment.
fn in_a_pod() -> bool {
    std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
}

async fn run(cli: &Cli, args: &RenewalsArgs, tracker: &Tracker) -> Result<i32, UserError> {
    check(args)?;
    let (client, namespace) = gather::connect(&cli.kube).await?;
    // Where shared stand-ins of Ingress solvers go: the namespace of the run.
    let run_namespace = namespace.clone();
    let scope = gather::Scope {
        namespace,
        names: vec![],
        all: false,
        all_namespaces: cli.kube.all_namespaces,
    };
    let (all, mut cluster, snap) = gather::gather_with_snapshot(client.clone(), &scope).await?;
    let mut certs = Vec::new();
    let mut plans = Vec::new();
    for cert in all {
        if let Some(p) = select::names(&cert, &snap) {
            certs.push(cert);
            plans.push(p);
        }
    }
    tracing::debug!(certificates = certs.len(), "covered");
    let mut plan = args.ca.plan_settings(args.attempts);
    plan.budget = Some(budget(args.max_connections_per_address));
    let settings = ProbeSettings {
        no_probe: false,
        local_only: args.local_only,
        plan,
        pod: args.pod.options(),
    };
    let opts = stage_options(&args.replay_flags, &settings, &cluster);
    let run_id = pod::new_run_id();
    let planned = args.replay.then(|| {
        pooled::plan_all(
            &certs,
            &cluster,
            &snap,
            &opts,
            &run_id,
            &run_namespace,
            &settings.pod,
        )
    });
    if let Some(p) = &planned {
        if args.replay_flags.dry_run {
            print_stdout(&dry_run(p, &certs));
            return Ok(crate::error::exit::OK);
        }
        check_stand_ins(p, args.max_stand_ins)?;
    }
    let mut notes = Vec::new();
    if in_a_pod() {
        notes.push("running inside the cluster (in-cluster config): \"this machine\" is a pod too, so the outside vantage (the CA's view from the Internet) is missing; run it from outside the cluster as well to see what the CA sees".to_owned());
    }
    let started = if let Some(planned) = planned {
        notes.extend(shared_note(&planned));
        let s = stage::Stage {
            client: &client,
            tracker,
            snap: &snap,
            opts: &opts,
        };
        pooled::start(&s, &mut certs, planned).await
    } else {
        for (cert, plan) in certs.iter_mut().zip(&plans) {
            for (name, why) in select::add_screens(cert, plan, &snap) {
                notes.push(format!("{name} could not be screened: {why}"));
            }
        }
        pooled::Started::default()
    };
    let running = started.running;
    // From here on nothing returns early: the stand-ins are deleted below on every path (and
    // by the tracker on a signal).
    let probes =
        progress::probe_with_progress(&client, &certs, &cluster, &settings, tracker, &run_id).await;
    let report = crate::run::with_solver_logs(&client, &mut certs, &mut cluster, &probes).await;
    running.finish().await;
    let names: Vec<Vec<NameInput>> = certs
        .iter()
        .zip(&plans)
        .map(|(c, p)| name_inputs(c, p, args.replay))
        .collect();
    let r = rr::build(rr::Input {
        report: &report,
        certs: &certs,
        names: &names,
        replay: args.replay,
        strict: args.strict,
        // The gather's now: ACMECHECK_NOW when set (reports that must not change with the
        // clock), else this machine's.
        now_unix: snap.now.unwrap_or_else(now_unix),
        notes,
        cap_per_address: args.max_connections_per_address,
        replay_wait: started.wait_requests,
    });
    let text = match cli.output.output {
        OutputFormat::Json => r.to_json() + "\n",
        OutputFormat::Yaml => r.to_yaml(),
        OutputFormat::Table | OutputFormat::Wide => rr::render_text(
            &r,
            crate::report::terminal::width(),
            use_color(cli.output.color),
        ),
    };
    print_stdout(&text);
    Ok(r.summary.exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::pool::tests::{cert, ingress, planned};

    #[test]
    fn replay_stops_before_creating_more_stand_ins_than_allowed() {
        // Three solver configurations: three shared stand-ins, whatever the number of names.
        let certs: Vec<CertificateEvidence> = (0..30)
            .map(|i| {
                let name = format!("n{i}.example.test");
                cert(
                    &format!("ns{i}"),
                    "c",
                    &[&name],
                    ingress(&format!("class{}", i % 3)),
                )
            })
            .collect();
        let p = planned(&certs);
        assert!(check_stand_ins(&p, 3).is_ok());
        let e = check_stand_ins(&p, 2).unwrap_err().to_string();
        assert!(
            e.contains("--replay would create 3 stand-in solvers (9 objects)"),
            "{e}"
        );
        assert!(e.contains("-n NAMESPACE"), "{e}");
    }
}
