//! A stand-in's failing verdicts, said: no cert-manager text speaks for a stand-in, so without
//! this a failing self check or CA verdict could end without an error finding.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::evidence::{CertificateEvidence, ChallengeEvidence};
use crate::probe::plan::{TargetReport, Verdict, VerdictOutcome};

fn is_failing(v: &Verdict) -> bool {
    matches!(v.outcome, VerdictOutcome::Fail | VerdictOutcome::Flaky)
}

fn verdict_line(vantage: &str, what: &str, v: &Verdict) -> String {
    format!(
        "{vantage}: {what} {} (one round passes with p≈{:.0} %){}{}",
        match v.outcome {
            VerdictOutcome::Fail => "fails",
            VerdictOutcome::Flaky => "is flaky",
            VerdictOutcome::Pass => "passes",
            VerdictOutcome::Unknown => "is unknown",
        },
        v.pass_probability * 100.0,
        if v.reason.is_empty() {
            String::new()
        } else {
            format!(": {}", v.reason)
        },
        if v.basis.is_empty() {
            String::new()
        } else {
            format!(" [{}]", v.basis)
        }
    )
}

/// A stand-in is probed like a live challenge, but no cert-manager text says that its self
/// check or the CA's validation would fail: say it from the probes (the self check as the probe
/// pod sees it, the CA as this machine does; the other vantage when one is missing), so that a
/// failing verdict never ends without an error finding. The cause is in the other findings and
/// in the attribution lines attached to this one; the ranking makes it a consequence of a cause
/// it finds.
pub(crate) fn stand_in_verdicts(
    cert: &CertificateEvidence,
    ch: &ChallengeEvidence,
    local: Option<&TargetReport>,
    inside: Option<&TargetReport>,
) -> Vec<Finding> {
    let Some(r) = cert.replay.as_ref().filter(|r| r.is_stand_in(&ch.name)) else {
        return Vec::new();
    };
    let renew = if r.preflight {
        format!("then run the pre-flight again: {}", r.command)
    } else {
        format!(
            "then let cert-manager try again: cmctl renew {} -n {} (or wait for its backoff to end)",
            cert.name, cert.namespace
        )
    };
    let self_check = inside
        .map(|t| ("in cluster", t))
        .or(local.map(|t| ("this machine", t)))
        .filter(|(_, t)| is_failing(&t.verdicts.self_check));
    let ca = local
        .map(|t| ("this machine", t))
        .or(inside.map(|t| ("in cluster", t)))
        .filter(|(_, t)| is_failing(&t.verdicts.acme));
    let what = if r.preflight { "pre-flight" } else { "replay" };
    let mut out = Vec::new();
    if let Some((vantage, t)) = self_check {
        let mut f = Finding::new(
            Code::SelfCheckFailing,
            Severity::Error,
            Proof::Supports,
            format!(
                "{what}: cert-manager's self check would fail for {} now, on the stand-in solver {}",
                ch.dns_name, ch.name
            ),
        )
        .challenge(&ch.name)
        .evidence(verdict_line(vantage, "self check", &t.verdicts.self_check));
        if let Some((v, t)) = ca {
            f = f.evidence(verdict_line(v, "CA validation", &t.verdicts.acme));
        }
        out.push(f.fix(format!(
            "fix where the path ends (the other findings and the lines above say which data plane answers), {renew}"
        )));
    } else if let Some((vantage, t)) = ca {
        out.push(
            Finding::new(
                Code::CaRejected,
                Severity::Error,
                Proof::Supports,
                format!(
                    "{what}: the CA's validation would fail for {} now, while cert-manager's self check would pass, on the stand-in solver {}",
                    ch.dns_name, ch.name
                ),
            )
            .challenge(&ch.name)
            .evidence(verdict_line(vantage, "CA validation", &t.verdicts.acme))
            .fix(format!(
                "look for what only the outside sees (firewall, IPv6/AAAA, redirects to other ports, a CDN), {renew}"
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::replayed::testdata::replay;
    use crate::diagnose::testdata::assert_complete;
    use crate::evidence::replay::ReplayState;

    #[test]
    fn a_failing_verdict_of_a_stand_in_is_never_silent() {
        let c = replay(ReplayState::Ran);
        let ch = ChallengeEvidence {
            name: "acmecheck-solver-r-0".into(),
            dns_name: "shop.example.test".into(),
            ..Default::default()
        };
        let report = |self_check, acme| {
            let mut t = TargetReport::default();
            t.verdicts.self_check.outcome = self_check;
            t.verdicts.acme.outcome = acme;
            t.verdicts.self_check.reason = "wrong status code '404', expected '200'".into();
            t
        };
        let (fail, pass) = (VerdictOutcome::Fail, VerdictOutcome::Pass);
        let codes = |l: Option<&TargetReport>, i: Option<&TargetReport>| {
            let f = stand_in_verdicts(&c, &ch, l, i);
            assert_complete(&f);
            f.iter().map(|f| f.code).collect::<Vec<_>>()
        };
        let both_fail = report(fail, fail);
        let ok = report(pass, pass);
        let ca_only = report(pass, VerdictOutcome::Flaky);
        assert_eq!(
            codes(Some(&both_fail), Some(&both_fail)),
            [Code::SelfCheckFailing]
        );
        assert_eq!(codes(Some(&ca_only), Some(&ok)), [Code::CaRejected]);
        assert!(codes(Some(&ok), Some(&ok)).is_empty());
        // The self check is judged from inside the cluster when the pod ran.
        assert!(codes(Some(&report(fail, pass)), Some(&ok)).is_empty());
        assert_eq!(
            codes(Some(&report(fail, pass)), None),
            [Code::SelfCheckFailing]
        );
        // Not a stand-in: cert-manager's own texts speak for it.
        let other = ChallengeEvidence {
            name: "web-1-2-3".into(),
            ..ch.clone()
        };
        assert!(stand_in_verdicts(&c, &other, Some(&both_fail), None).is_empty());
    }
}
