//! RATE_LIMITED: a rate-limit problem from the ACME server in any text of the chain.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Certificate;
use crate::reason;

pub(crate) fn rate_limited(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let mut texts: Vec<(String, &str)> = Vec::new();
    if let Some(o) = &cert.order
        && let Some(r) = &o.reason
    {
        texts.push((format!("Order {}", o.name), r));
    }
    if let Some(cr) = &cert.request {
        for c in &cr.conditions {
            if let Some(m) = &c.message {
                texts.push((format!("CertificateRequest {} {}", cr.name, c.type_), m));
            }
        }
    }
    for c in &cert.conditions {
        if let Some(m) = &c.message {
            texts.push((format!("Certificate {}", c.type_), m));
        }
    }
    for ch in &cert.challenges {
        if let Some(r) = &ch.reason {
            texts.push((format!("Challenge {}", ch.name), r));
        }
    }
    let Some((source, text)) = texts
        .into_iter()
        .find(|(_, t)| reason::parse(t).is_some_and(|r| r.is_rate_limited()))
    else {
        return vec![];
    };
    let staging = cert
        .issuer
        .as_ref()
        .and_then(|i| i.acme.as_ref())
        .is_some_and(|a| a.server.contains("staging"));
    vec![
        Finding::new(
            Code::RateLimited,
            Severity::Error,
            Proof::Proves,
            "the ACME server rate-limits this account or these names",
        )
        .evidence(format!("{source}: {text}"))
        .fix(format!(
            "stop retrying in a loop (don't delete and recreate the Certificate); fix the root cause {}, then wait for the limit to refill; a paused name has an unpause link in the CA's message",
            if staging { "" } else { "against the staging server first" }
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::codes;
    use crate::diagnose::testdata::stuck;

    #[test]
    fn rate_limited_order() {
        let (mut cert, cluster) = stuck();
        cert.challenges.clear();
        cert.order.as_mut().unwrap().state = "errored".into();
        cert.order.as_mut().unwrap().reason = Some("Failed to create Order: 429 urn:ietf:params:acme:error:rateLimited: too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s".into());
        assert_eq!(
            codes(&cert, &cluster),
            vec![(Code::RateLimited, Proof::Proves)]
        );
    }
}
