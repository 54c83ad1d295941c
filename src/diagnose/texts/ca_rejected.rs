//! CA_REJECTED: the CA validated the challenge and said no (its problem text on the Challenge).

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{parsed, renew_hint};
use crate::diagnose::view::Certificate;
use crate::reason::{self, Phase, Reason};

pub(crate) fn ca_rejected(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    cert.challenges
        .iter()
        .filter(|c| c.is_http01() && reason::phase(c) == Phase::CaValidation)
        .filter_map(|ch| {
            let r = parsed(ch)?;
            let Reason::CaProblem { problem_type, detail, secondary, .. } = &r else { return None };
            if r.is_rate_limited() {
                return None;
            }
            let t = problem_type.as_deref().unwrap_or("error");
            Some(
                Finding::new(
                    Code::CaRejected,
                    Severity::Error,
                    Proof::Proves,
                    format!(
                        "the CA rejected the challenge for {}{}: {t}",
                        ch.dns_name,
                        if *secondary { " from a remote perspective" } else { "" }
                    ),
                )
                .challenge(&ch.name)
                .evidence(format!("CA detail: {detail}"))
                .evidence(format!("Challenge state: {}", ch.state))
                .fix(format!(
                    "the self check passed but the CA did not: look for what only the outside sees (firewall, IPv6/AAAA, redirects to other ports, CDN); {}",
                    renew_hint(cert)
                )),
            )
        })
        .collect()
}
