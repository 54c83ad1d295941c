//! The renewals run's probe stage with its progress line on stderr (a terminal only): both
//! vantages as a diagnosis probes them, one probe pod for every name.

use crate::evidence::{CertificateEvidence, ClusterEvidence};
use crate::probe::pod::lifecycle::Tracker;
use crate::run::{ProbeSettings, Probes};

/// Both vantages, as a diagnosis probes them (one probe pod for every name), with a progress
/// line on stderr when it is a terminal: names probed from this machine out of all.
pub(super) async fn probe_with_progress(
    client: &kube::Client,
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    settings: &ProbeSettings,
    tracker: &Tracker,
    run_id: &str,
) -> Probes {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let done = AtomicUsize::new(0);
    let plan = crate::probe::targets::local_plan_with(certs, cluster, &settings.plan);
    let total = plan.as_ref().map_or(0, |p| p.targets.len());
    let local = async {
        let mut probes = Probes {
            enabled: true,
            ..Default::default()
        };
        if let Some(plan) = &plan {
            for t in crate::probe::run_plan_counting(plan, &done).await.targets {
                probes.local.insert(t.id.clone(), t);
            }
        }
        probes
    };
    let pod = crate::run::probe_in_cluster(client, certs, cluster, settings, tracker, run_id);
    let mut progress = crate::probe::pod::lifecycle::Progress::new();
    let both = async { tokio::join!(local, pod) };
    tokio::pin!(both);
    let (mut probes, in_cluster) = loop {
        progress.show(&format!(
            "renewals: {}/{total} names probed from this machine{}",
            done.load(Ordering::Relaxed),
            if settings.local_only {
                ""
            } else {
                "; the probe pod probes them from inside the cluster"
            }
        ));
        tokio::select! {
            r = &mut both => break r,
            () = tokio::time::sleep(std::time::Duration::from_millis(250)) => {}
        }
    };
    progress.clear();
    probes.in_cluster = in_cluster;
    probes
}
