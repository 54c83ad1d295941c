//! The replay stage of `kubectl acmecheck renewals --replay`: every certificate's names
//! planned as for a single replay, pooled into shared stand-ins ([`super::pool`]), created
//! together, waited for together (one propagation wait for every name), and handed to the probe
//! stage as challenges of their certificates — so the objects created grow with namespaces ×
//! solver configurations, not with names. [`plan_all`] is pure (the count is checked before
//! anything is created); [`start`] creates; [`super::stage::Running::finish`] deletes.

use super::apply::{self, ApplyOptions, Live};
use super::live::leftover_warning;
use super::plan::{ReplayPlan, plan};
use super::pool::{self, PoolOptions, Pooled};
use super::stage::{self, Running, Stage, StageOptions};
use super::{ReplayInput, propagation, status};
use crate::evidence::replay::{ReplayEvidence, ReplayState};
use crate::evidence::{CertificateEvidence, ClusterEvidence};
use crate::gather::{Snapshot, context};
use crate::probe::pod::lifecycle::Progress;

/// What a renewals replay would create.
#[derive(Debug, Clone)]
pub struct Planned {
    /// One plan per certificate (in the order given): which names get a stand-in, which not.
    pub plans: Vec<ReplayPlan>,
    /// The shared stand-ins serving them.
    pub pools: Vec<Pooled>,
}

impl Planned {
    /// Objects the stand-ins are (pods, Services, Ingresses/HTTPRoutes).
    pub fn objects(&self) -> usize {
        self.pools.iter().map(|p| p.plan.shared.len()).sum()
    }
}

/// Plan every certificate's names, then pool them. `namespace` is the run's (where pooled
/// Ingress stand-ins go); `pod` has the plugin's image (the shared stand-in runs its `solver`
/// mode) and its pull secrets.
pub fn plan_all(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    snap: &Snapshot,
    opts: &StageOptions,
    run_id: &str,
    namespace: &str,
    pod: &crate::probe::pod::PodOptions,
) -> Planned {
    let image = pod.image.as_str();
    let plans: Vec<ReplayPlan> = certs
        .iter()
        .enumerate()
        .map(|(i, cert)| {
            let input = ReplayInput::for_certificate(cert, snap);
            let mut o = stage::replay_options(&stage::run_id_for(run_id, i), opts);
            // The acmesolver image is not used: the shared stand-in runs the plugin's.
            o.solver_image = Some(image.to_owned());
            plan(&input, cluster, &o)
        })
        .collect();
    let pools = pool::pool(
        &plans,
        &PoolOptions {
            run_id,
            namespace,
            image,
            image_pull_secrets: &pod.image_pull_secrets,
        },
    );
    Planned { plans, pools }
}

/// What differs for every name a shared stand-in serves.
fn shared_note(live: &Live) -> String {
    let route = live
        .solvers
        .first()
        .map_or("Ingress", |s| s.route_kind.as_str());
    let name = live.solvers.first().map_or("", |s| s.object_name.as_str());
    format!(
        "served by a shared stand-in (pod, Service and {route} {}/{name}) for {} name(s): the plugin's own image in its solver mode answers as cert-manager's acmesolver for each name and token, where cert-manager runs one acmesolver pod, Service and {route} per name",
        live.namespace,
        live.solvers.len()
    )
}

/// What differs when the shared stand-in runs outside the Certificate's namespace.
fn placement_note(cert: &CertificateEvidence, live: &Live) -> Option<String> {
    (live.namespace != cert.namespace).then(|| format!(
        "the stand-in runs in namespace {}, not in the Certificate's namespace {}: what only that namespace changes (its NetworkPolicies, ResourceQuotas, a controller that watches some namespaces) is not replayed; kubectl acmecheck renewals -n {} --replay places it there",
        live.namespace, cert.namespace, cert.namespace
    ))
}

/// What [`start`] leaves running, and the requests its propagation wait sent per address.
#[derive(Debug, Default)]
pub struct Started {
    pub running: Running,
    pub wait_requests: std::collections::BTreeMap<String, u32>,
}

/// Create the shared stand-ins, wait for them, and put them among their certificates'
/// challenges; each certificate's `replay` says how it went. Returns what runs.
pub async fn start(
    stage: &Stage<'_>,
    certs: &mut [CertificateEvidence],
    planned: Planned,
) -> Started {
    let Planned { plans, pools } = planned;
    let image = pools.first().and_then(|p| p.plan.settings.image.clone());
    let mut evs: Vec<ReplayEvidence> = certs
        .iter()
        .zip(&plans)
        .map(|(c, p)| {
            let mut ev = stage::planned(p, &stage::command(c), false);
            ev.stand_ins.clear();
            ev.image.clone_from(&image);
            ev
        })
        .collect();
    let mut lives: Vec<(usize, Live)> = Vec::new();
    let mut warned = false;
    for (k, pooled) in pools.iter().enumerate() {
        let applied = apply::apply(
            stage.client,
            &pooled.plan,
            stage.tracker,
            &ApplyOptions {
                ready_timeout: stage.opts.ready_timeout,
            },
        )
        .await;
        match applied {
            Ok(live) => {
                if let Some(w) = leftover_warning(&live.leftovers) {
                    eprintln!("{w}");
                }
                lives.push((k, live));
            }
            Err(e) => {
                if e.is_forbidden() && !warned {
                    eprintln!("warning: replay: {e}");
                    warned = true;
                }
                for &c in &pooled.certs {
                    if let Some(ev) = evs.get_mut(c) {
                        ev.state = if e.is_forbidden() {
                            ReplayState::Forbidden
                        } else {
                            ReplayState::Failed
                        };
                        ev.problem = Some(stage::problem(&e));
                    }
                }
            }
        }
    }
    // One wait for every name of every shared stand-in.
    let solvers: Vec<_> = lives.iter().flat_map(|(_, l)| &l.solvers).collect();
    let mut progress = Progress::new();
    let waited = propagation::wait_each(
        &solvers,
        stage.opts.propagation_wait,
        &stage.opts.user_agent,
        |t| progress.show(t),
    )
    .await;
    progress.clear();
    let mut owner = Vec::with_capacity(solvers.len());
    let mut running = Running::default();
    for (k, mut live) in lives {
        let route_notes = status::read_route_status(stage.client, &mut live).await;
        let certs_of = &pools[k].certs;
        let shared = shared_note(&live);
        for (j, s) in live.solvers.iter().enumerate() {
            let Some((c, cert)) = certs_of.get(j).and_then(|&c| Some((c, certs.get_mut(c)?)))
            else {
                owner.push(usize::MAX);
                continue;
            };
            owner.push(c);
            let ev = &mut evs[c];
            let mut e = stage::stand_in_evidence(&pools[k].plan, &s.stand_in);
            if live.namespace != cert.namespace {
                e.namespace.clone_from(&live.namespace);
            }
            e.notes.push(shared.clone());
            e.notes.extend(placement_note(cert, &live));
            ev.stand_ins.push(e);
            for n in &route_notes {
                if !ev.notes.contains(n) {
                    ev.notes.push(n.clone());
                }
            }
            let mut ch = s.as_challenge();
            ch.host_ingresses = context::host_ingresses(stage.snap, &ch);
            cert.challenges.push(ch);
        }
        running.push(live);
    }
    for (c, (cert, mut ev)) in certs.iter_mut().zip(evs).enumerate() {
        if ev.problem.is_none() && !ev.stand_ins.is_empty() {
            ev.state = ReplayState::Ran;
            ev.propagation = Some(waited.summary(|i| owner.get(i) == Some(&c)));
        }
        cert.replay = Some(ev);
    }
    Started {
        running,
        wait_requests: waited.requests,
    }
}

#[cfg(test)]
mod tests {
    use crate::replay::pool::tests::{cert, ingress, planned};

    #[test]
    fn many_certificates_in_many_namespaces_share_one_stand_in() {
        let certs: Vec<_> = (0..40)
            .map(|i| {
                let (a, b) = (format!("a{i}.example.test"), format!("b{i}.example.test"));
                cert(
                    &format!("team{}", i % 10),
                    &format!("c{i}"),
                    &[&a, &b],
                    ingress("nginx"),
                )
            })
            .collect();
        let p = planned(&certs);
        assert_eq!(p.plans.len(), 40);
        assert_eq!(p.pools.len(), 1, "one configuration → one stand-in");
        assert_eq!(p.objects(), 3);
        let pooled = &p.pools[0];
        assert_eq!(pooled.plan.namespace, "ops");
        assert_eq!(pooled.plan.items.len(), 80);
        assert_eq!(pooled.certs[..3], [0, 0, 1]);
    }
}
