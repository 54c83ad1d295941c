//! The replay stage as a run uses it (`--replay`, `preflight`): plan every certificate's names,
//! create the stand-ins, wait until the data plane serves them, hand them to the probe stage as
//! challenges of the certificate, and delete everything afterwards.
//!
//! [`start`] leaves each certificate's [`ReplayEvidence`] in `cert.replay` and its stand-ins
//! among `cert.challenges` (so the probe stage probes them from both vantages exactly as a live
//! challenge, direct probes of the stand-in's Service and pod included, and the diagnosis reads
//! their objects as it reads cert-manager's); [`Running::finish`] deletes them. Every object is
//! tracked by the run's [`Tracker`] before its POST, so a signal deletes them too.
//!
//! [`hint`] is the pure part for a run without `--replay`: what `--replay` would create for a
//! failed or backed-off certificate (no API request).

use super::apply::{self, ApplyOptions, Live};
use super::error::ApplyError;
use super::live::leftover_warning;
use super::plan::{CredentialSource, Decision, ReplayPlan, StandIn, plan};
use super::{ReplayInput, ReplayOptions};
use crate::evidence::replay::{
    ReplayEvidence, ReplayProblem, ReplayState, SkippedName, StandInEvidence,
};
use crate::evidence::{CertificateEvidence, ClusterEvidence, condition};
use crate::gather::{Snapshot, context};
use crate::probe::pod::lifecycle::{Progress, Tracker};
use crate::reason::{self, Phase};
use std::time::{Duration, SystemTime};

/// How to run the stage.
#[derive(Debug, Clone)]
pub struct StageOptions {
    /// `--solver-image`: replaces the controller's acmesolver image.
    pub solver_image: Option<String>,
    /// `--replay-timeout`: how long the stand-in pods may take to be ready.
    pub ready_timeout: Duration,
    /// `--replay-wait`: how long to wait for the data plane to serve the stand-in's path.
    pub propagation_wait: Duration,
    /// Lifetime of every stand-in (deadline annotation, `activeDeadlineSeconds`): the whole
    /// run's budget, so a stand-in outlives no run that could still use it.
    pub deadline: Duration,
    /// The User-Agent of the propagation requests (cert-manager's self check's).
    pub user_agent: String,
}

/// What every stand-in differs in from cert-manager's own objects (the plan's notes add what
/// is particular to one stand-in).
pub fn general_notes(deadline_at: &str) -> Vec<String> {
    vec![
        "named acmecheck-solver-<run id>-<n> instead of cm-acme-http-solver-<random>, with no ownerReference to a Challenge".to_owned(),
        "labelled app.kubernetes.io/managed-by=kubectl-acmecheck, app.kubernetes.io/component=replay-solver and acmecheck.io/run-id, never with cert-manager's identity labels (acme.cert-manager.io/http01-solver, http-domain, http-token): cert-manager deletes solver objects it finds by those; the Service selects the pod by the tool's labels".to_owned(),
        "a NetworkPolicy that admits traffic to solver pods by acme.cert-manager.io/http01-solver does not admit the stand-in pod".to_owned(),
        "a random token and key: the CA is not asked, so its own validation is not replayed, only what the self check and the CA would see over HTTP".to_owned(),
        format!("every object carries acmecheck.io/deadline={deadline_at}; the pod has activeDeadlineSeconds; everything is deleted when the run ends"),
    ]
}

/// `kubectl acmecheck web -n shop --replay`: the command that replays a certificate.
pub fn command(cert: &CertificateEvidence) -> String {
    format!(
        "kubectl acmecheck {} -n {} --replay",
        cert.name, cert.namespace
    )
}

/// Seconds since the epoch.
fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The options of the pure plan.
pub fn replay_options(run_id: &str, opts: &StageOptions) -> ReplayOptions {
    ReplayOptions {
        run_id: run_id.to_owned(),
        now_unix: now_unix(),
        deadline: opts.deadline,
        solver_image: opts.solver_image.clone(),
        credentials: CredentialSource::Random,
    }
}

pub(super) fn stand_in_evidence(plan: &ReplayPlan, s: &StandIn) -> StandInEvidence {
    let ns = &plan.namespace;
    let route = s.route_kind.as_str();
    StandInEvidence {
        dns_name: s.dns_name.clone(),
        object_name: s.object_name.clone(),
        challenge_name: if s.challenge_name == s.object_name {
            String::new()
        } else {
            s.challenge_name.clone()
        },
        namespace: String::new(),
        route_kind: route.to_owned(),
        solver_index: s.solver_index,
        objects: vec![
            format!("Pod {ns}/{}", s.object_name),
            format!("Service {ns}/{}", s.object_name),
            format!("{route} {ns}/{}", s.object_name),
        ],
        notes: s.notes.clone(),
    }
}

/// The evidence of a plan (before anything ran): what it would create and what it skips.
pub fn planned(plan: &ReplayPlan, command: &str, preflight: bool) -> ReplayEvidence {
    let stand_ins: Vec<StandInEvidence> = plan
        .stand_ins()
        .map(|s| stand_in_evidence(plan, s))
        .collect();
    let skipped = plan
        .items
        .iter()
        .filter_map(|i| match &i.decision {
            Decision::Skip(s) => Some(SkippedName {
                name: i.name.clone(),
                reason: serde_json::to_value(s.reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                message: s.message.clone(),
            }),
            Decision::Replay(_) => None,
        })
        .collect();
    let mut notes = general_notes(&plan.deadline_at);
    notes.extend(plan.settings.notes.iter().cloned());
    ReplayEvidence {
        state: if stand_ins.is_empty() {
            ReplayState::NothingToReplay
        } else {
            ReplayState::Planned
        },
        preflight,
        subject: plan.subject.clone(),
        namespace: plan.namespace.clone(),
        run_id: plan.run_id.clone(),
        command: command.to_owned(),
        image: plan.settings.image.clone(),
        stand_ins,
        skipped,
        notes,
        problem: None,
        propagation: None,
    }
}

/// Did issuance fail at validation for this certificate, so that nothing cert-manager runs now
/// can be probed: an HTTP-01 Challenge the CA has judged or an invalid Order, or a recorded
/// failure (backoff) whose Order is gone; with no live HTTP-01 challenge left and the
/// certificate not Ready.
pub fn issuance_failed(cert: &CertificateEvidence) -> bool {
    let ready = condition(&cert.conditions, "Ready").is_some_and(|c| c.status == "True");
    if ready {
        return false;
    }
    let live = cert
        .challenges
        .iter()
        .any(|ch| super::guard::is_live(ch) && reason::phase(ch) != Phase::CaValidation);
    if live {
        return false;
    }
    let judged = cert
        .challenges
        .iter()
        .any(|ch| ch.is_http01() && reason::phase(ch) == Phase::CaValidation);
    // An Order that is invalid failed at validation; one that errored failed before or after
    // it (rate limits, account, finalization): replay would not show what went wrong.
    let order_invalid = cert.order.as_ref().is_some_and(|o| o.state == "invalid");
    let backed_off_without_order = cert.last_failure_time.is_some() && cert.order.is_none();
    judged || order_invalid || backed_off_without_order
}

/// For a run without `--replay`: when issuance failed and replay is the only way to probe
/// anything, what `--replay` would create (pure: a plan with throw-away tokens, no request).
pub fn hint(
    cert: &CertificateEvidence,
    cluster: &ClusterEvidence,
    snap: &Snapshot,
    opts: &StageOptions,
) -> Option<ReplayEvidence> {
    if !issuance_failed(cert) {
        return None;
    }
    let input = ReplayInput::for_certificate(cert, snap);
    let p = plan(&input, cluster, &replay_options("<run-id>", opts));
    let mut ev = planned(&p, &command(cert), false);
    // No run yet: the deadline is relative to when it starts.
    ev.notes = general_notes(&format!("<the run's start + {}s>", opts.deadline.as_secs()));
    ev.notes.extend(p.settings.notes.iter().cloned());
    (ev.state == ReplayState::Planned).then_some(ev)
}

/// The problem of a failed apply, as evidence.
pub(super) fn problem(e: &ApplyError) -> ReplayProblem {
    ReplayProblem {
        kind: e.kind_name().to_owned(),
        message: e.message.clone(),
        hint: match &e.kind {
            super::error::ApplyErrorKind::Forbidden(d) => format!("{}; {}", e.hint, d.rule),
            _ => e.hint.clone(),
        },
        also_hits_cert_manager: e.also_hits_cert_manager(),
        object_kind: e.object_kind.clone(),
        left_behind: e.leftovers.clone(),
    }
}

/// The stand-ins of a run, running. [`Running::finish`] deletes them.
#[derive(Debug, Default)]
pub struct Running {
    lives: Vec<Live>,
}

/// The run id of the `i`-th certificate's plan (object names stay unique within a run).
pub(super) fn run_id_for(base: &str, i: usize) -> String {
    if i == 0 {
        base.to_owned()
    } else {
        format!("{base}-{i}")
    }
}

/// What every plan of a run shares.
pub struct Stage<'a> {
    pub client: &'a kube::Client,
    /// The run's tracker: a signal deletes what it holds.
    pub tracker: &'a Tracker,
    /// What gather read (annotations, Challenges, Ingresses).
    pub snap: &'a Snapshot,
    pub opts: &'a StageOptions,
}

/// Set up one plan for `cert`: create, wait for the pods, wait for the route, read its status,
/// and put the stand-ins among the certificate's challenges; `cert.replay` says how it went.
/// `command` runs this replay again; `preflight` marks a pre-flight. Returns the running
/// stand-ins, if any.
pub async fn run_plan(
    stage: &Stage<'_>,
    cert: &mut CertificateEvidence,
    p: &ReplayPlan,
    command: &str,
    preflight: bool,
) -> Option<Live> {
    let mut ev = planned(p, command, preflight);
    if ev.state == ReplayState::NothingToReplay {
        cert.replay = Some(ev);
        return None;
    }
    let applied = apply::apply(
        stage.client,
        p,
        stage.tracker,
        &ApplyOptions {
            ready_timeout: stage.opts.ready_timeout,
        },
    )
    .await;
    let mut live = match applied {
        Ok(live) => live,
        Err(e) => {
            if e.is_forbidden() {
                ev.state = ReplayState::Forbidden;
                eprintln!("warning: replay: {e}");
            } else {
                ev.state = ReplayState::Failed;
            }
            ev.problem = Some(problem(&e));
            cert.replay = Some(ev);
            return None;
        }
    };
    if let Some(w) = leftover_warning(&live.leftovers) {
        eprintln!("{w}");
    }
    let mut progress = Progress::new();
    let propagation = super::propagation::wait(
        &live.solvers,
        stage.opts.propagation_wait,
        &stage.opts.user_agent,
        |t| progress.show(t),
    )
    .await;
    progress.clear();
    ev.notes
        .extend(super::status::read_route_status(stage.client, &mut live).await);
    ev.propagation = Some(propagation);
    ev.state = ReplayState::Ran;
    for s in &live.solvers {
        let mut ch = s.as_challenge();
        ch.host_ingresses = context::host_ingresses(stage.snap, &ch);
        cert.challenges.push(ch);
    }
    cert.replay = Some(ev);
    Some(live)
}

/// Replay every certificate's names that have no live challenge. `base_run_id` names the run
/// (the probe pod's run id). Certificates are replayed one after the other.
pub async fn start(
    stage: &Stage<'_>,
    certs: &mut [CertificateEvidence],
    cluster: &ClusterEvidence,
    base_run_id: &str,
) -> Running {
    let mut running = Running::default();
    for (i, cert) in certs.iter_mut().enumerate() {
        let input = ReplayInput::for_certificate(cert, stage.snap);
        let p = plan(
            &input,
            cluster,
            &replay_options(&run_id_for(base_run_id, i), stage.opts),
        );
        let cmd = command(cert);
        if let Some(live) = run_plan(stage, cert, &p, &cmd, false).await {
            running.lives.push(live);
        }
    }
    running
}

impl Running {
    /// Whether anything runs.
    pub fn is_empty(&self) -> bool {
        self.lives.is_empty()
    }

    /// Add the stand-ins of another plan.
    pub fn push(&mut self, live: Live) {
        self.lives.push(live);
    }

    /// Delete every stand-in (routes, then Services, then pods). Says on stderr what could not
    /// be deleted, with the command that removes it later; returns those.
    pub async fn finish(self) -> Vec<String> {
        let mut failed = Vec::new();
        for live in self.lives {
            let ns = live.namespace.clone();
            let t = live.teardown().await;
            for f in &t.failed {
                eprintln!(
                    "warning: replay: could not delete {f}\n  hint: kubectl acmecheck cleanup -n {ns}"
                );
            }
            failed.extend(t.failed);
        }
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{
        AcmeIssuer, CertManagerEvidence, ChallengeEvidence, Condition, Http01Ingress, Http01Solver,
        IssuerEvidence, Solver,
    };

    fn cert(state: &str, presented: bool) -> CertificateEvidence {
        CertificateEvidence {
            namespace: "shop".into(),
            name: "web".into(),
            dns_names: vec!["shop.example.test".into()],
            conditions: vec![Condition {
                type_: "Ready".into(),
                status: "False".into(),
                ..Default::default()
            }],
            issuer: Some(IssuerEvidence {
                kind: "ClusterIssuer".into(),
                name: "le".into(),
                acme: Some(AcmeIssuer {
                    server: "https://acme-v02.api.letsencrypt.org/directory".into(),
                    solvers: vec![Solver {
                        http01: Some(Http01Solver {
                            ingress: Some(Http01Ingress {
                                ingress_class_name: Some("nginx".into()),
                                ..Default::default()
                            }),
                            gateway_http_route: None,
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            }),
            challenges: vec![ChallengeEvidence {
                name: "web-1-2-3".into(),
                dns_name: "shop.example.test".into(),
                type_: "HTTP-01".into(),
                state: state.into(),
                presented,
                processing: presented,
                reason: (state == "invalid").then(|| "Error accepting authorization: acme: authorization error for shop.example.test: 403 urn:ietf:params:acme:error:unauthorized: Invalid response from http://shop.example.test/.well-known/acme-challenge/x: 404".to_owned()),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn cluster() -> ClusterEvidence {
        ClusterEvidence {
            cert_manager_installed: true,
            cert_manager: Some(CertManagerEvidence {
                namespace: "cert-manager".into(),
                version: Some("v1.19.1".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn opts() -> StageOptions {
        StageOptions {
            solver_image: None,
            ready_timeout: Duration::from_secs(120),
            propagation_wait: Duration::from_secs(20),
            deadline: Duration::from_secs(400),
            user_agent: "ua".into(),
        }
    }

    #[test]
    fn a_failed_certificate_gets_the_command_and_what_it_would_create() {
        let c = cert("invalid", false);
        assert!(issuance_failed(&c));
        let h = hint(&c, &cluster(), &Snapshot::default(), &opts()).unwrap();
        assert_eq!(h.state, ReplayState::Planned);
        assert_eq!(h.command, "kubectl acmecheck web -n shop --replay");
        assert_eq!(h.stand_ins.len(), 1);
        assert_eq!(
            h.stand_ins[0].objects,
            [
                "Pod shop/acmecheck-solver-<run-id>-0",
                "Service shop/acmecheck-solver-<run-id>-0",
                "Ingress shop/acmecheck-solver-<run-id>-0"
            ]
        );
        assert_eq!(
            h.image.as_deref(),
            Some("quay.io/jetstack/cert-manager-acmesolver:v1.19.1")
        );
        assert!(h.notes.iter().any(|n| n.contains("NetworkPolicy")));
    }

    #[test]
    fn no_hint_while_cert_manager_works_or_when_ready() {
        // Self check in progress: the live challenge is the one to probe.
        assert!(!issuance_failed(&cert("pending", true)));
        assert!(
            hint(
                &cert("pending", true),
                &cluster(),
                &Snapshot::default(),
                &opts()
            )
            .is_none()
        );
        let mut ready = cert("invalid", false);
        ready.conditions[0].status = "True".into();
        assert!(!issuance_failed(&ready));
        // Backed off without a Challenge left: still a hint.
        let mut backoff = cert("", false);
        backoff.challenges.clear();
        backoff.last_failure_time = Some("2026-12-01T10:00:00Z".into());
        assert!(issuance_failed(&backoff));
        // An Order that errored (a rate limit, the account) failed before validation.
        let mut errored = cert("", false);
        errored.challenges.clear();
        errored.last_failure_time = Some("2026-12-01T10:00:00Z".into());
        errored.order = Some(crate::evidence::OrderEvidence {
            state: "errored".into(),
            ..Default::default()
        });
        assert!(!issuance_failed(&errored));
        // No solver can be replayed (DNS-01 only): no hint.
        let mut dns = cert("invalid", false);
        if let Some(a) = dns.issuer.as_mut().and_then(|i| i.acme.as_mut()) {
            a.solvers = vec![Solver {
                dns01: Some(serde_json::json!({"cloudflare": {}})),
                ..Default::default()
            }];
        }
        assert!(hint(&dns, &cluster(), &Snapshot::default(), &opts()).is_none());
    }

    #[test]
    fn run_ids_keep_object_names_unique() {
        assert_eq!(run_id_for("abc", 0), "abc");
        assert_eq!(run_id_for("abc", 2), "abc-2");
        assert_ne!(
            super::super::object_name(&run_id_for("abc", 0), 1),
            super::super::object_name(&run_id_for("abc", 1), 0)
        );
    }
}
