//! The renewals run's probe stage with its progress line on stderr (a terminal only): both
//! vantages as a diagnosis probes them, one probe pod for every name.
//!
//! The line says how many names this machine has probed, and how many of them are at risk so
//! far ([`so_far`]: what this machine's evidence alone already puts at risk, never
//! more than the report will). It is redrawn as each name finishes (the engine's observer)
//! and cleared before the report prints; the report's count, with the probe pod's view and
//! the whole diagnosis, is the truth.

mod so_far;

use crate::evidence::{CertificateEvidence, ClusterEvidence};
use crate::probe::plan::TargetReport;
use crate::probe::pod::lifecycle::{Progress, Tracker};
use crate::run::{ProbeSettings, Probes};
use so_far::{Counts, SoFar};
use std::future::Future;
use tokio::sync::Notify;

/// Both vantages, as a diagnosis probes them (one probe pod for every name), with a progress
/// line on stderr when it is a terminal: names probed from this machine out of all, and how
/// many of them are at risk so far.
pub(super) async fn probe_with_progress(
    client: &kube::Client,
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    settings: &ProbeSettings,
    tracker: &Tracker,
    run_id: &str,
) -> Probes {
    let plan = crate::probe::targets::local_plan_with(certs, cluster, &settings.plan);
    let so_far = SoFar::new(certs, plan.as_ref().map_or(0, |p| p.targets.len()));
    let changed = Notify::new();
    let observe = |t: &TargetReport| {
        so_far.observe(t);
        changed.notify_one();
    };
    let local = async {
        let mut probes = Probes {
            enabled: true,
            ..Default::default()
        };
        if let Some(plan) = &plan {
            for t in crate::probe::run_plan_observed(plan, &observe)
                .await
                .targets
            {
                probes.local.insert(t.id.clone(), t);
            }
        }
        probes
    };
    let pod = crate::run::probe_in_cluster(client, certs, cluster, settings, tracker, run_id);
    let pod_runs = !settings.local_only;
    let (mut probes, in_cluster) = watch(
        async { tokio::join!(local, pod) },
        &changed,
        || line(&so_far.counts(), pod_runs),
        &mut Progress::owner(),
    )
    .await;
    probes.in_cluster = in_cluster;
    probes
}

/// Where the progress line goes: [`Progress`] writes it on stderr when that is a terminal,
/// and nothing otherwise.
pub(super) trait Line {
    fn show(&mut self, text: &str);
    fn clear(&mut self);
}

impl Line for Progress {
    fn show(&mut self, text: &str) {
        Progress::show(self, text);
    }
    fn clear(&mut self) {
        Progress::clear(self);
    }
}

/// Run `work`, showing `text()` first and again each time `changed` is notified; the line is
/// cleared when `work` is done. While the probe pod still runs after this machine's last
/// name, the line shows that last count.
pub(super) async fn watch<T>(
    work: impl Future<Output = T>,
    changed: &Notify,
    text: impl Fn() -> String,
    out: &mut impl Line,
) -> T {
    tokio::pin!(work);
    loop {
        out.show(&text());
        tokio::select! {
            () = changed.notified() => {}
            r = &mut work => {
                out.clear();
                return r;
            }
        }
    }
}

/// `renewals: 37/120 names probed from this machine, 3 at risk so far (2 certificates); the
/// probe pod probes them from inside the cluster`.
pub(super) fn line(c: &Counts, pod_runs: bool) -> String {
    let risk = match (c.names_at_risk, c.certificates_at_risk) {
        (0, _) => "none at risk so far".to_owned(),
        (n, 1) => format!("{n} at risk so far (1 certificate)"),
        (n, k) => format!("{n} at risk so far ({k} certificates)"),
    };
    format!(
        "renewals: {}/{} names probed from this machine, {risk}{}",
        c.done,
        c.total,
        if pod_runs {
            "; the probe pod probes them from inside the cluster"
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(done: usize, total: usize, names: usize, certs: usize) -> Counts {
        Counts {
            done,
            total,
            names_at_risk: names,
            certificates_at_risk: certs,
        }
    }

    #[test]
    fn the_line_says_what_the_count_is() {
        assert_eq!(
            line(&counts(0, 120, 0, 0), true),
            "renewals: 0/120 names probed from this machine, none at risk so far; the probe pod probes them from inside the cluster"
        );
        assert_eq!(
            line(&counts(37, 120, 3, 2), true),
            "renewals: 37/120 names probed from this machine, 3 at risk so far (2 certificates); the probe pod probes them from inside the cluster"
        );
        assert_eq!(
            line(&counts(120, 120, 2, 1), false),
            "renewals: 120/120 names probed from this machine, 2 at risk so far (1 certificate)"
        );
    }

    /// What a [`Line`] was asked to do, in order.
    #[derive(Default)]
    struct Recorded(Vec<String>);

    impl Line for Recorded {
        fn show(&mut self, text: &str) {
            self.0.push(text.to_owned());
        }
        fn clear(&mut self) {
            self.0.push("(cleared)".to_owned());
        }
    }

    /// Each finished name redraws the line; the last one drawn has every name, then it is
    /// cleared before the result is handed back.
    #[tokio::test]
    async fn the_line_follows_each_finished_name_and_is_cleared_at_the_end() {
        let certs: Vec<CertificateEvidence> = vec![];
        let so_far = SoFar::new(&certs, 2);
        let changed = Notify::new();
        let (step, mut steps) = tokio::sync::mpsc::unbounded_channel::<()>();
        let work = async {
            // Each name finishes after the line has been drawn (the test's step).
            for id in ["a/1", "b/2"] {
                steps.recv().await;
                so_far.observe(&TargetReport {
                    id: id.into(),
                    ..Default::default()
                });
                changed.notify_one();
            }
            // The probe pod, done after the last line is drawn.
            steps.recv().await;
            "done"
        };
        let mut out = Recorded::default();
        let text = || {
            // Let the work take one step per line drawn.
            let _ = step.send(());
            line(&so_far.counts(), false)
        };
        let r = watch(work, &changed, text, &mut out).await;
        assert_eq!(r, "done");
        assert_eq!(
            out.0,
            [
                "renewals: 0/2 names probed from this machine, none at risk so far",
                "renewals: 1/2 names probed from this machine, none at risk so far",
                "renewals: 2/2 names probed from this machine, none at risk so far",
                "(cleared)",
            ]
        );
    }
}
