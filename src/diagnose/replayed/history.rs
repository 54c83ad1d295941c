//! After a replay, what the CA (or the self check) said about a name back then follows from
//! what the replay shows for it now.

use crate::diagnose::finding::{Code, Finding, Severity};
use crate::evidence::CertificateEvidence;
use crate::evidence::replay::ReplayState;

/// Findings that restate what the CA or cert-manager's self check said about a challenge
/// cert-manager has given up on (the CA's rejection, the self check's failure).
const HISTORY: &[Code] = &[Code::CaRejected, Code::SelfCheckFailing];

/// After a replay: what the CA (or the self check) said about a name back then is a consequence
/// of what the replay shows for that name now — its stand-in's first error finding, causes
/// with proof before symptoms — so the replay's finding ranks first. Sets `consequence_of`,
/// which the ranking keeps. Returns whether it marked anything.
pub(crate) fn attribute_history(findings: &mut [Finding], cert: &CertificateEvidence) -> bool {
    let Some(r) = cert.replay.as_ref().filter(|r| r.state == ReplayState::Ran) else {
        return false;
    };
    let cause_for = |dns_name: &str, findings: &[Finding]| {
        let stand_ins: Vec<&str> = r
            .stand_ins
            .iter()
            .filter(|s| s.dns_name.eq_ignore_ascii_case(dns_name))
            .map(|s| s.challenge())
            .collect();
        findings
            .iter()
            .filter(|f| {
                f.severity == Severity::Error
                    && f.code != Code::NotChecked
                    && f.challenge
                        .as_deref()
                        .is_some_and(|c| stand_ins.contains(&c))
            })
            .min_by_key(|f| (f.proof, f.code.is_symptom()))
            .map(|f| f.code)
    };
    let causes: Vec<Option<Code>> = findings
        .iter()
        .map(|f| {
            let ch = f.challenge.as_deref()?;
            if !HISTORY.contains(&f.code) || r.is_stand_in(ch) {
                return None;
            }
            let name = cert
                .challenges
                .iter()
                .find(|c| c.name == ch)
                .map(|c| c.dns_name.as_str())?;
            cause_for(name, findings)
        })
        .collect();
    let mut changed = false;
    for (f, c) in findings.iter_mut().zip(causes) {
        if c.is_some() && f.consequence_of != c {
            f.consequence_of = c;
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::finding::Proof;
    use crate::diagnose::replayed::testdata::replay;

    #[test]
    fn the_cas_old_rejection_follows_from_what_the_replay_proves() {
        let mut c = replay(ReplayState::Ran);
        c.challenges = vec![crate::evidence::ChallengeEvidence {
            name: "web-1-2-3".into(),
            dns_name: "shop.example.test".into(),
            ..Default::default()
        }];
        let f =
            |code, proof, ch: &str| Finding::new(code, Severity::Error, proof, "x").challenge(ch);
        let mut v = vec![
            f(Code::CaRejected, Proof::Proves, "web-1-2-3"),
            f(Code::NotChecked, Proof::Proves, "acmecheck-solver-r-0"),
            f(Code::MixedBackends, Proof::Proves, "acmecheck-solver-r-0"),
        ];
        attribute_history(&mut v, &c);
        assert_eq!(v[0].consequence_of, Some(Code::MixedBackends));
        assert_eq!(v[2].consequence_of, None);
        // A symptom on the stand-in explains it too, when nothing better does.
        let mut v = vec![
            f(Code::CaRejected, Proof::Proves, "web-1-2-3"),
            f(
                Code::SelfCheckFailing,
                Proof::Supports,
                "acmecheck-solver-r-0",
            ),
        ];
        attribute_history(&mut v, &c);
        assert_eq!(v[0].consequence_of, Some(Code::SelfCheckFailing));
        // Nothing wrong on the stand-in (the replay passes now): the CA's word stands.
        let mut v = vec![
            f(Code::CaRejected, Proof::Proves, "web-1-2-3"),
            f(Code::NotChecked, Proof::Supports, "acmecheck-solver-r-0"),
        ];
        attribute_history(&mut v, &c);
        assert_eq!(v[0].consequence_of, None);
        // Without a replay that ran, nothing changes.
        let mut v = vec![
            f(Code::CaRejected, Proof::Proves, "web-1-2-3"),
            f(Code::MixedBackends, Proof::Proves, "acmecheck-solver-r-0"),
        ];
        attribute_history(&mut v, &replay(ReplayState::Planned));
        assert_eq!(v[0].consequence_of, None);
    }
}
