//! AUTH_REQUIRED: authentication (401/407) covers the challenge path.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantage;

pub(crate) fn auth_required(c: &Vantage) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &c.report.addresses {
        let n: u32 = a
            .outcomes
            .iter()
            .filter(|o| matches!(o.status, Some(401 | 407)))
            .map(|o| o.count)
            .sum();
        if n == 0 {
            continue;
        }
        let challenge = a
            .samples
            .iter()
            .find(|s| matches!(s.status, Some(401 | 407)))
            .and_then(|s| s.hops.last())
            .and_then(|h| h.headers.get("www-authenticate").cloned());
        let mut f = Finding::new(
            Code::AuthRequired,
            Severity::Error,
            Proof::Proves,
            format!(
                "{} asks for authentication on the challenge path ({n} of {} requests got 401)",
                a.address, a.attempts
            ),
        )
        .challenge(&c.ch.name)
        .evidence(format!("{}  {}", a.address, outcome_summary(a)));
        if let Some(ch) = challenge {
            f = f.evidence(format!("WWW-Authenticate: {ch}"));
        }
        out.push(f.fix("exclude /.well-known/acme-challenge/ from authentication (no auth-* annotations on the Ingress that serves it — beware edit-in-place — and no global auth for that path), or use DNS-01"));
        break;
    }
    out
}
