//! "At risk so far" for the renewals progress line: as each name's probe from this machine
//! finishes, whether that evidence alone already fails what the CA needs.
//!
//! The count never claims more than the final report will: a name counts only when the rule
//! that decides its verdict in the report (`report::renewals`: any error finding about its
//! challenge puts it at risk) would already say so from this machine's report alone, whatever
//! the probe pod adds:
//!
//! * **screened** names (a random token nobody serves, so the key never matches): the screen's
//!   own rules that need no pod (`diagnose::screen::no_answer`): the name has no address here
//!   (DNS_NOT_READY, DNS_BROKEN), or an address takes no connection on any attempt
//!   (INBOUND_BLOCKED). Who answers (WRONG_DATA_PLANE) needs the pod's direct probes: not here.
//! * names probed with a token something serves (a **live** challenge, a **stand-in** with
//!   `--replay`): the CA validation from here fails or is flaky; the diagnosis then always
//!   carries an error finding for it (`diagnose::vantages::unexplained`, never silent).
//!
//! This machine's own trouble is never counted: a lookup its resolver cannot answer
//! (`probe::health::own_trouble`; the verdicts are then `unknown`), an address it has no
//! route or source address for (`AddressReport::unroutable`). The reports the engine hands
//! over are already qualified by the vantage's check (`probe::run_plan_observed`).

use crate::evidence::CertificateEvidence;
use crate::probe::plan::{AddressReport, ErrorClass, TargetReport, VerdictOutcome};
use crate::probe::targets::{probe_candidates, probe_id};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};

/// How a probed name is checked, as far as judging it from here goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::renewals) enum Checked {
    /// The read-only screen: a random token that nothing serves.
    Screen,
    /// A token something serves: cert-manager's live challenge, or a stand-in (`--replay`).
    Token,
}

/// Why a name already fails what the CA needs, from this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::renewals) enum Fails {
    /// No address here, and this machine's resolver answers names that must exist.
    NoAddress,
    /// An address this machine has a route to took no connection on any attempt.
    NoConnection,
    /// The CA validation fails or is flaky from here: the key is not served as the CA needs.
    KeyNotServed,
}

/// An address with a route from here on which every attempt got no connection.
fn dead(a: &AddressReport) -> bool {
    let seen: Vec<_> = a.outcomes.iter().filter(|o| o.count > 0).collect();
    !a.unroutable && !seen.is_empty() && seen.iter().all(|o| o.no_connection())
}

/// The name gave no address because of this machine's resolver, not the name's DNS.
fn own_dns_trouble(t: &TargetReport) -> bool {
    if !t.addresses.is_empty() || t.dns.ip_literal {
        return false;
    }
    let primary = t
        .dns
        .resolvers
        .iter()
        .find(|r| r.role == "primary")
        .or_else(|| t.dns.resolvers.first());
    match (primary, &t.health) {
        (Some(answer), Some(health)) => crate::probe::health::own_trouble(answer, health).is_some(),
        // Not checked: only "no server could be asked" is surely this machine's.
        (answer, None) => answer.and_then(|a| a.error) == Some(ErrorClass::DnsUnreachable),
        (None, Some(_)) => false,
    }
}

/// Whether this machine's report of one name already fails what the CA needs, and why.
pub(in crate::renewals) fn fails_from_here(t: &TargetReport, checked: Checked) -> Option<Fails> {
    if own_dns_trouble(t) {
        return None;
    }
    match checked {
        Checked::Screen if t.addresses.is_empty() && !t.dns.ip_literal => Some(Fails::NoAddress),
        Checked::Screen => t.addresses.iter().any(dead).then_some(Fails::NoConnection),
        Checked::Token => {
            // Part of what the CA would dial is out of this machine's reach: its verdict from
            // here is not the CA's.
            let out_of_reach = t
                .addresses
                .iter()
                .chain(&t.ca_addresses)
                .any(|a| a.unroutable);
            let fails = matches!(
                t.verdicts.acme.outcome,
                VerdictOutcome::Fail | VerdictOutcome::Flaky
            );
            (fails && !out_of_reach).then_some(Fails::KeyNotServed)
        }
    }
}

/// The counts the progress line shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(in crate::renewals) struct Counts {
    /// Names probed from this machine so far, of `total`.
    pub done: usize,
    pub total: usize,
    /// Distinct names (per certificate) at risk from this machine's evidence, and the
    /// certificates they belong to.
    pub names_at_risk: usize,
    pub certificates_at_risk: usize,
}

#[derive(Default)]
struct State {
    done: usize,
    /// (certificate index, DNS name).
    at_risk: BTreeSet<(usize, String)>,
}

/// The running count, fed one finished target report at a time (from any task).
pub(in crate::renewals) struct SoFar {
    /// Target id (`<namespace>/<challenge>`, as the local plan names them) → (certificate
    /// index, how it is checked).
    ids: HashMap<String, (usize, Checked)>,
    total: usize,
    state: Mutex<State>,
}

impl SoFar {
    /// For the local plan of `certs` with `total` targets.
    pub(super) fn new(certs: &[CertificateEvidence], total: usize) -> SoFar {
        let mut ids = HashMap::new();
        for (i, cert) in certs.iter().enumerate() {
            for ch in probe_candidates(cert) {
                let checked = if ch.screen {
                    Checked::Screen
                } else {
                    Checked::Token
                };
                ids.insert(probe_id(cert, ch), (i, checked));
            }
        }
        SoFar {
            ids,
            total,
            state: Mutex::default(),
        }
    }

    /// One target is finished.
    pub(super) fn observe(&self, t: &TargetReport) {
        let risk = self
            .ids
            .get(&t.id)
            .filter(|(_, checked)| fails_from_here(t, *checked).is_some());
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.done += 1;
        if let Some((cert, _)) = risk {
            s.at_risk.insert((*cert, t.dns_name.clone()));
        }
    }

    pub(super) fn counts(&self) -> Counts {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let certs: BTreeSet<usize> = s.at_risk.iter().map(|(c, _)| *c).collect();
        Counts {
            done: s.done,
            total: self.total,
            names_at_risk: s.at_risk.len(),
            certificates_at_risk: certs.len(),
        }
    }
}

#[cfg(test)]
#[path = "so_far_tests.rs"]
mod tests;
