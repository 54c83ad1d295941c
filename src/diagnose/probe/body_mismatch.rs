//! BODY_MISMATCH: 200, but the body is not the key (cert-manager compares exactly; trailing
//! whitespace passes only the CA).

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantage;
use crate::probe::plan::KeyMatch;

pub(crate) fn body_mismatch(c: &Vantage) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &c.report.addresses {
        let Some(o) = a.outcomes.iter().find(|o| {
            o.status == Some(200) && matches!(o.key_match, KeyMatch::No | KeyMatch::Trimmed)
        }) else {
            continue;
        };
        let sample = a
            .samples
            .iter()
            .find(|s| s.status == Some(200) && s.key_match == o.key_match);
        let (summary, fix) = if o.key_match == KeyMatch::Trimmed {
            (
                format!(
                    "{} answers the key with trailing whitespace: the CA accepts it, cert-manager's exact comparison does not",
                    a.address
                ),
                "serve the key exactly, without a trailing newline (whatever answers instead of cert-manager's solver adds it)",
            )
        } else {
            (
                format!(
                    "{} answers 200 with a body that is not the key ({} of {} requests, responder {})",
                    a.address, o.count, a.attempts, o.responder
                ),
                "another application owns the challenge path (catch-all, rewrite to /, CDN or load-balancer page): route /.well-known/acme-challenge/ to the solver Service and remove rewrites for it",
            )
        };
        let mut f = Finding::new(Code::BodyMismatch, Severity::Error, Proof::Proves, summary)
            .challenge(&c.ch.name)
            .evidence(format!("{}  {}", a.address, outcome_summary(a)));
        if let Some(s) = sample {
            f = f.evidence(format!(
                "got {} bytes starting {:?}; expected {:?}",
                s.body_len, s.body_prefix, c.report.expected_key
            ));
        }
        out.push(f.fix(fix));
    }
    out
}
