//! After the walk: order the findings so the root cause comes first, and name what each
//! consequence follows from.

use super::finding::{Code, Finding, Proof, Severity};
use super::vantages::controller_view::weigh;
use super::vantages::unexplained::unexplained;
use super::view::Vantages;
use crate::probe::plan::VerdictOutcome;
use crate::reason::{self, Known, Observation};

/// `(cause, effect)`: when both are present, the effect is a consequence of the cause.
/// Symptoms ([`Code::is_symptom`]) are consequences of whichever cause ranks first.
const CONSEQUENCES: &[(Code, Code)] = &[
    (Code::SolverPodNotRunning, Code::SolverUnreachable),
    (Code::PathCaptured, Code::BodyMismatch),
    (Code::PathCaptured, Code::AuthRequired),
    (Code::PathCaptured, Code::HttpsRedirectUnserved),
    (Code::WrongDevice, Code::BodyMismatch),
    (Code::WrongDevice, Code::HttpsRedirectUnserved),
    (Code::WrongDevice, Code::AuthRequired),
    (Code::EdgeProtocolMismatch, Code::BodyMismatch),
    (Code::EtpLocalPartial, Code::StaleAddress),
    (Code::EtpLocalPartial, Code::InboundBlocked),
    (Code::EtpLocalPartial, Code::MixedBackends),
    (Code::SolverOnOtherLb, Code::StaleAddress),
    (Code::CaaForbids, Code::CaRejected),
    (Code::DnsBroken, Code::CaRejected),
    (Code::DnsBroken, Code::DnsNotReady),
    (Code::SolverRemovedEarly, Code::CaRejected),
    (Code::IpIdentifier, Code::HttprouteNotAttached),
    (Code::IpIdentifier, Code::PresentFailed),
    (Code::WrongDataPlane, Code::CaRejected),
    (Code::InboundBlocked, Code::CaRejected),
    // One cause, two things it blocks: the controller's egress, or its proxy, keeps both the
    // self check and the ACME server out of reach.
    (Code::SelfcheckEgressBlocked, Code::AcmeUnreachable),
    (Code::SelfcheckViaProxy, Code::AcmeUnreachable),
];

fn same_scope(a: &Finding, b: &Finding) -> bool {
    a.challenge.is_none() || b.challenge.is_none() || a.challenge == b.challenge
}

/// The cause in [`CONSEQUENCES`] that explains `f`, if present in `all`.
fn table_cause(f: &Finding, all: &[Finding]) -> Option<Code> {
    CONSEQUENCES
        .iter()
        .find(|(c, e)| *e == f.code && all.iter().any(|o| o.code == *c && same_scope(o, f)))
        .map(|(c, _)| *c)
}

/// What a challenge's witnesses say about cert-manager's own self check, against which a
/// symptom's cause is checked: what the controller's reason proves (`reason::observation`) and
/// whether the probe pod's self check passes.
#[derive(Debug, Clone, Default)]
pub struct SelfCheckWitness {
    pub challenge: String,
    /// What the controller's last self check saw (None: no reason, or one that proves nothing).
    pub seen: Option<Observation>,
    /// The probe pod, with the controller's resolvers and proxy, passes the self check.
    pub pod_passes: bool,
}

impl SelfCheckWitness {
    /// The witnesses of every probed challenge.
    pub fn of(probed: &[Vantages]) -> Vec<SelfCheckWitness> {
        probed
            .iter()
            .map(|c| SelfCheckWitness {
                challenge: c.ch.name.clone(),
                seen: reason::of_challenge(c.ch).and_then(|r| r.observation()),
                pod_passes: c
                    .inside
                    .is_some_and(|i| i.verdicts.self_check.outcome == VerdictOutcome::Pass),
            })
            .collect()
    }
}

/// Causes that can only stop a request before it is answered (no connection, or no address).
const NO_ANSWER: &[Code] = &[
    Code::InboundBlocked,
    Code::HairpinUnreachable,
    Code::SelfcheckEgressBlocked,
    Code::DnsBroken,
    Code::DnsNotReady,
    Code::AcmeUnreachable,
];

/// Causes that only show as an answer: a status, a redirect or the wrong body.
const ANSWER_ONLY: &[Code] = &[
    Code::WrongDataPlane,
    Code::PathCaptured,
    Code::WrongDevice,
    Code::BodyMismatch,
    Code::AuthRequired,
    Code::HttpsRedirectUnserved,
    Code::BadRedirect,
    Code::IpAllowlist,
    Code::HostNotPreserved,
    Code::EdgeProtocolMismatch,
];

/// Causes about the controller's own path, that hold while the probe pod passes.
const CONTROLLER_ONLY: &[Code] = &[Code::ControllerDisagrees, Code::SelfcheckEgressBlocked];

/// Can `cause` produce the failing self check the witnesses describe? A cause the probe pod
/// shows cannot explain the controller's failure when the pod passes; a refused or dropped
/// connection cannot produce an HTTP status; a wrong answer cannot produce a timeout.
fn can_produce(cause: Code, w: Option<&SelfCheckWitness>) -> bool {
    let Some(w) = w else { return true };
    if w.pod_passes && !CONTROLLER_ONLY.contains(&cause) {
        return false;
    }
    match &w.seen {
        Some(o) if o.answered == Known::Yes => !NO_ANSWER.contains(&cause),
        Some(o) if o.connected == Known::No || o.resolved == Known::No => {
            let needs_an_address = matches!(cause, Code::InboundBlocked | Code::HairpinUnreachable);
            !(ANSWER_ONLY.contains(&cause) || o.resolved == Known::No && needs_an_address)
        }
        _ => true,
    }
}

/// What explains each finding: the table, and for symptoms the weightiest error cause in scope
/// that can produce what the witnesses saw ([`can_produce`]).
fn causes(all: &[Finding], witnesses: &[SelfCheckWitness]) -> Vec<Option<Code>> {
    let table: Vec<Option<Code>> = all.iter().map(|f| table_cause(f, all)).collect();
    all.iter()
        .zip(&table)
        .map(|(f, t)| {
            if t.is_some() || !f.code.is_symptom() {
                return *t;
            }
            let w = witnesses
                .iter()
                .find(|w| f.challenge.as_deref() == Some(w.challenge.as_str()));
            all.iter()
                .zip(&table)
                .filter(|(o, ot)| {
                    ot.is_none()
                        && !o.code.is_symptom()
                        && o.severity == Severity::Error
                        && o.contradicted_by.is_none()
                        && same_scope(o, f)
                        && can_produce(o.code, w)
                })
                .min_by_key(|(o, _)| weight(o))
                .map(|(o, _)| o.code)
        })
        .collect()
}

/// The final step of every diagnosis, after the walk. Checks that must hold for every
/// diagnosis (whatever the rules said) belong here, before the ranking, so that what they add
/// is ranked with the rest.
///
/// Never silent: for every probed challenge (`probed`: each with both vantages' reports)
/// whose verdict fails or is flaky from either vantage, or whose cert-manager reason says the
/// self check fails, some error finding must explain it; when no rule did, the general
/// UNEXPLAINED_FAILURE says what was expected and what each vantage saw. An error finding
/// makes the exit code 1.
///
/// The witnesses are weighed too (issue 14): a finding that rests on the probe pod not
/// reaching the name is contradicted when cert-manager's own self check got an answer
/// (`vantages/controller_view.rs`).
pub(super) fn finish(
    mut findings: Vec<Finding>,
    probed: &[Vantages],
    witnesses: &[SelfCheckWitness],
) -> Vec<Finding> {
    for c in probed {
        if let Some(f) = unexplained(&findings, c) {
            findings.push(f);
        }
        weigh(&mut findings, c);
    }
    rank_weighed(&mut findings, witnesses);
    findings
}

/// How much a finding weighs as a witness, lightest first: a proof from a healthy vantage,
/// then the controller's own observation (what cert-manager's self check got, against the
/// probe pod), then what only supports, then what a witness contradicts.
fn weight(f: &Finding) -> u8 {
    match (f.contradicted_by, f.code, f.proof) {
        (Some(_), _, _) => 3,
        (None, Code::ControllerDisagrees, _) => 1,
        (None, _, Proof::Proves) => 0,
        (None, _, Proof::Supports) => 2,
    }
}

/// Order findings so that the root cause comes first: errors before warnings before info,
/// causes before their consequences and symptoms, then by weight ([`weight`]); stable
/// otherwise (rule order is meaningful). Marks each consequence with the code that explains
/// it.
pub fn rank(findings: &mut [Finding]) {
    rank_weighed(findings, &[]);
}

/// [`rank`], a symptom following only a cause that can produce what `witnesses` saw.
pub fn rank_weighed(findings: &mut [Finding], witnesses: &[SelfCheckWitness]) {
    let found = causes(findings, witnesses);
    for (f, c) in findings.iter_mut().zip(found) {
        // A cause named before ranking (a replay's, see replayed.rs) stays when the table
        // names none.
        f.consequence_of = c.or(f.consequence_of);
    }
    findings.sort_by_key(|f| {
        (
            f.severity,
            f.consequence_of.is_some(),
            weight(f),
            f.code.is_symptom(),
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::finding::Proof;

    fn f(code: Code, severity: Severity, proof: Proof, challenge: Option<&str>) -> Finding {
        let mut f = Finding::new(code, severity, proof, "x");
        f.challenge = challenge.map(str::to_owned);
        f
    }

    #[test]
    fn rank_puts_causes_first_and_names_them() {
        let mut v = vec![
            f(
                Code::SelfCheckFailing,
                Severity::Error,
                Proof::Supports,
                Some("a"),
            ),
            f(
                Code::SolverUnreachable,
                Severity::Error,
                Proof::Supports,
                Some("a"),
            ),
            f(
                Code::BodyMismatch,
                Severity::Error,
                Proof::Proves,
                Some("a"),
            ),
            f(
                Code::PathCaptured,
                Severity::Error,
                Proof::Supports,
                Some("a"),
            ),
            f(
                Code::SolverPodNotRunning,
                Severity::Error,
                Proof::Proves,
                Some("a"),
            ),
            f(
                Code::VersionPitfall,
                Severity::Warning,
                Proof::Proves,
                Some("a"),
            ),
        ];
        rank(&mut v);
        let order: Vec<(Code, Option<Code>)> =
            v.iter().map(|f| (f.code, f.consequence_of)).collect();
        assert_eq!(
            order,
            [
                (Code::SolverPodNotRunning, None),
                (Code::PathCaptured, None),
                (Code::BodyMismatch, Some(Code::PathCaptured)),
                (Code::SolverUnreachable, Some(Code::SolverPodNotRunning)),
                (Code::SelfCheckFailing, Some(Code::SolverPodNotRunning)),
                (Code::VersionPitfall, None),
            ]
        );
        // Without a cause in scope nothing is called a consequence.
        let mut v = vec![
            f(
                Code::SelfCheckFailing,
                Severity::Error,
                Proof::Supports,
                Some("a"),
            ),
            f(
                Code::MixedBackends,
                Severity::Error,
                Proof::Proves,
                Some("b"),
            ),
            f(
                Code::BodyMismatch,
                Severity::Error,
                Proof::Proves,
                Some("a"),
            ),
        ];
        rank(&mut v);
        assert_eq!(v[0].code, Code::MixedBackends);
        assert_eq!(v[2].consequence_of, Some(Code::BodyMismatch));
        assert_eq!(v[1].consequence_of, None);
        let json = serde_json::to_value(&v[2]).unwrap();
        assert_eq!(json["consequenceOf"], "BODY_MISMATCH");
        assert!(
            json["docs"]
                .as_str()
                .unwrap()
                .ends_with("docs/findings/SELF_CHECK_FAILING.md")
        );
    }

    /// Issue 14: a proof from a healthy vantage first, then the controller's own observation,
    /// then supports, then what a witness contradicts (also when it was a proof).
    #[test]
    fn witnesses_are_weighed() {
        let mut contradicted = f(
            Code::HairpinUnreachable,
            Severity::Error,
            Proof::Supports,
            Some("a"),
        );
        contradicted.contradicted_by = Some(Code::ControllerDisagrees);
        let mut v = vec![
            contradicted,
            f(
                Code::SplitHorizon,
                Severity::Error,
                Proof::Supports,
                Some("a"),
            ),
            f(
                Code::ControllerDisagrees,
                Severity::Error,
                Proof::Supports,
                Some("a"),
            ),
            f(
                Code::SelfCheckFailing,
                Severity::Error,
                Proof::Supports,
                Some("a"),
            ),
            f(
                Code::WrongDataPlane,
                Severity::Error,
                Proof::Proves,
                Some("a"),
            ),
        ];
        rank(&mut v);
        let order: Vec<Code> = v.iter().map(|f| f.code).collect();
        assert_eq!(
            order,
            [
                Code::WrongDataPlane,
                Code::ControllerDisagrees,
                Code::SplitHorizon,
                Code::HairpinUnreachable,
                Code::SelfCheckFailing,
            ]
        );
        // The symptom follows the weightiest cause, not the contradicted one.
        assert_eq!(v[4].consequence_of, Some(Code::WrongDataPlane));
        v.retain(|f| f.code != Code::WrongDataPlane);
        rank(&mut v);
        assert_eq!(v[0].code, Code::ControllerDisagrees);
        let symptom = v.iter().find(|f| f.code == Code::SelfCheckFailing).unwrap();
        assert_eq!(symptom.consequence_of, Some(Code::ControllerDisagrees));
    }

    fn witness(reason: &str, pod_passes: bool) -> SelfCheckWitness {
        SelfCheckWitness {
            challenge: "a".into(),
            seen: reason::parse(reason).and_then(|r| r.observation()),
            pod_passes,
        }
    }

    fn symptom_of(codes: &[(Code, Proof)], w: &SelfCheckWitness) -> Option<Code> {
        let mut v: Vec<Finding> = codes
            .iter()
            .map(|(c, p)| f(*c, Severity::Error, *p, Some("a")))
            .chain([f(
                Code::SelfCheckFailing,
                Severity::Error,
                Proof::Supports,
                Some("a"),
            )])
            .collect();
        rank_weighed(&mut v, std::slice::from_ref(w));
        v.iter()
            .find(|f| f.code == Code::SelfCheckFailing)
            .and_then(|f| f.consequence_of)
    }

    /// A consequence is one its cause can produce (the reviewer's cases: refused and dropped
    /// with a 404 reason, aaaa-wrong and redirect-8443 where the pod passes).
    #[test]
    fn a_symptom_follows_only_a_cause_that_can_produce_it() {
        let got_404 =
            "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'";
        let timeout = "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request 'http://a.example/.well-known/acme-challenge/t': Get \"http://a.example/.well-known/acme-challenge/t\": dial tcp 203.0.113.10:80: i/o timeout";
        assert_eq!(
            witness(got_404, false).seen.map(|o| o.answered),
            Some(Known::Yes)
        );
        // Refused or dropped connections cannot produce a 404.
        let w = witness(got_404, false);
        assert_eq!(
            symptom_of(&[(Code::InboundBlocked, Proof::Proves)], &w),
            None
        );
        assert_eq!(
            symptom_of(
                &[
                    (Code::InboundBlocked, Proof::Proves),
                    (Code::WrongDataPlane, Proof::Supports)
                ],
                &w
            ),
            Some(Code::WrongDataPlane)
        );
        // A wrong answer cannot produce a timeout; a blocked path can.
        let w = witness(timeout, false);
        assert_eq!(
            symptom_of(&[(Code::WrongDataPlane, Proof::Proves)], &w),
            None
        );
        assert_eq!(
            symptom_of(&[(Code::HairpinUnreachable, Proof::Supports)], &w),
            Some(Code::HairpinUnreachable)
        );
        // The pod passes: what the probes show (IPV6_BROKEN outside) does not explain the
        // controller's failure; only the controller's own path does.
        let w = witness(got_404, true);
        assert_eq!(symptom_of(&[(Code::Ipv6Broken, Proof::Proves)], &w), None);
        assert_eq!(
            symptom_of(
                &[
                    (Code::Ipv6Broken, Proof::Proves),
                    (Code::ControllerDisagrees, Proof::Supports)
                ],
                &w
            ),
            Some(Code::ControllerDisagrees)
        );
        // Without a witness (or one that proves nothing) any cause in scope may explain it.
        let w = SelfCheckWitness {
            challenge: "a".into(),
            ..Default::default()
        };
        assert_eq!(
            symptom_of(&[(Code::InboundBlocked, Proof::Proves)], &w),
            Some(Code::InboundBlocked)
        );
    }
}
