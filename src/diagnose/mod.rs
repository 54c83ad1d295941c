//! Diagnosis: pure functions from evidence to findings. No I/O happens here.
//!
//! One way through: [`diagnose`] takes all the evidence for one certificate ([`Evidence`]: the
//! certificate's chain with any solver logs read, the cluster, and the probe stage's output for
//! both vantages) and returns the ranked findings plus what further evidence would decide more
//! ([`Diagnosis`]). Its walk runs the rules, which are grouped by the evidence they read:
//!
//! ```text
//! certificate.rs   the walk over cluster/ (API objects) and texts/ (cert-manager's and the
//!                  CA's own texts), in one rule order
//! per challenge    probe/ (one vantage's probe report) on both vantages, merged by merge.rs;
//!                  vantages/ (the two vantages compared, direct probes); attribution lines
//!                  (vantages/attribution.rs) attached to the finding they explain
//! per challenge    joint/ (the challenge's objects with the local probe and solver logs)
//! then             vantages/not_checked.rs (what could not be checked), advice.rs (DNS-01)
//! after the walk   rank.rs: the final step (never silent: a failing verdict or self check
//!                  no rule explains gets vantages/unexplained.rs's finding; then ranking);
//!                  wanted.rs: solver pod logs to read
//! ```
//!
//! Every rule is a pure function from a view of the evidence (view.rs) to findings
//! (finding.rs). Rule files import only finding.rs, view.rs, util.rs, their folder's util.rs
//! and the evidence and probe types, never another rule (tests/architecture.rs checks it).

use crate::evidence::{CertificateEvidence, ClusterEvidence};
use crate::probe::Probes;
use crate::probe::targets::{cert_profile, probe_candidates, probe_id};

pub mod advice;
pub mod certificate;
pub mod cluster;
pub mod finding;
pub mod joint;
pub mod merge;
pub mod probe;
pub mod rank;
pub mod replayed;
pub mod screen;
#[cfg(test)]
pub(crate) mod testdata;
pub mod texts;
pub mod util;
pub mod vantages;
pub mod view;
pub mod wanted;

pub use finding::{Code, DOCS_BASE, Finding, Proof, Severity};
pub use wanted::Wanted;

/// Everything diagnosis reads about one certificate.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// The certificate's chain: issuer, request, order, challenges and their solver resources,
    /// and the solver pods' logs once they were read.
    pub cert: &'a CertificateEvidence,
    /// The cluster around it: classes, data planes, gateways, the controller's settings.
    pub cluster: &'a ClusterEvidence,
    /// The probe stage's output: whether probing ran, each challenge's local report, and the
    /// in-cluster run (its placement and reports, or why it did not run).
    pub probes: &'a Probes,
}

/// What diagnosis says about one certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// The findings, ranked: the root cause first.
    pub findings: Vec<Finding>,
    /// Evidence that would decide more (read it, then diagnose again).
    pub wanted: Wanted,
}

/// Diagnose one certificate: every rule over all its evidence, merged per challenge and
/// vantage, then the final step (ranking) and what further evidence would decide more.
pub fn diagnose(e: &Evidence) -> Diagnosis {
    let Evidence {
        cert: full,
        cluster,
        probes,
    } = *e;
    // Screened names (the renewal screen) are not cert-manager's challenges: the chain's
    // rules never see them, the screen's rules judge them.
    let without_screen;
    let cert = if full.challenges.iter().any(|c| c.screen) {
        let mut c = full.clone();
        c.challenges.retain(|c| !c.screen);
        without_screen = c;
        &without_screen
    } else {
        full
    };
    let mut findings = certificate::findings(&view::Certificate { cert, cluster });
    let profile = cert_profile(cert);
    let (mut urls, mut local_n, mut inside_n) = (Vec::new(), 0, 0);
    let mut probed: Vec<view::Vantages> = Vec::new();
    for ch in probe_candidates(cert) {
        urls.push(ch.challenge_url());
        let id = probe_id(cert, ch);
        let local = probes.local.get(&id);
        let inside = probes.in_cluster.target(&id);
        local_n += usize::from(local.is_some());
        inside_n += usize::from(inside.is_some());
        let view = view::Vantages {
            ch,
            local,
            inside,
            in_cluster: &probes.in_cluster,
            cluster,
            ca: profile,
        };
        // The single-vantage rules on both views, then the cross-vantage rules, folded into
        // what the certificate rules said; a solver that answers when asked directly outranks
        // what the API says about its endpoints; the direct probes' attribution goes to the
        // finding it explains.
        let mut seen = merge::single_vantage(ch, local, inside, profile);
        merge::merge_into(
            &mut seen,
            vantages::findings(ch, local, inside, &probes.in_cluster, cluster, profile),
        );
        merge::merge_into(&mut findings, seen);
        vantages::live_evidence::live_evidence_first(&mut findings, &view);
        merge::attach_attribution(
            &mut findings,
            ch,
            vantages::attribution::attribution(ch, local, inside),
        );
        probed.push(view);
    }
    findings.extend(joint::findings(cert, cluster, |ch| {
        probes.local.get(&probe_id(cert, ch))
    }));
    findings.extend(replayed::replayed(cert, &probes.in_cluster));
    findings.extend(vantages::not_checked::not_checked(
        probes.enabled,
        &probes.in_cluster,
        &urls,
        local_n,
        inside_n,
    ));
    findings.extend(advice::dns01(cert, &findings));
    for ch in full.challenges.iter().filter(|c| c.screen) {
        let id = probe_id(full, ch);
        findings.extend(screen::findings(&view::Vantages {
            ch,
            local: probes.local.get(&id),
            inside: probes.in_cluster.target(&id),
            in_cluster: &probes.in_cluster,
            cluster,
            ca: profile,
        }));
    }
    let witnesses = rank::SelfCheckWitness::of(&probed);
    let mut findings = rank::finish(findings, &probed, &witnesses);
    // After a replay, what the CA said back then follows from what the stand-in shows now
    // (UNEXPLAINED_FAILURE included, which the final step adds): rank again with that.
    if replayed::attribute_history(&mut findings, cert) {
        rank::rank_weighed(&mut findings, &witnesses);
    }
    let wanted = Wanted::after(cert, &findings);
    Diagnosis { findings, wanted }
}

/// How many rules a full run applies to each certificate (cluster objects and texts, probe,
/// joint, DNS-01 advice).
pub fn rule_count() -> usize {
    certificate::RULES.len() + probe::RULES.len() + joint::RULES.len() + 1
}
