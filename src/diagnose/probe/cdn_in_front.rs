//! CDN_IN_FRONT: a CDN or WAF answers for the name instead of the cluster.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantage;

const CDNS: &[&str] = &["cloudflare", "gclb", "aws-alb", "azure-appgw"];

pub(crate) fn cdn_in_front(c: &Vantage) -> Vec<Finding> {
    let Some((a, who)) = c.report.addresses.iter().find_map(|a| {
        a.outcomes
            .iter()
            .find(|o| CDNS.contains(&o.responder.as_str()))
            .map(|o| (a, o.responder.clone()))
    }) else {
        return vec![];
    };
    // The CDN's own answers fail the challenge: it is the cause, not a remark.
    let failing = a
        .outcomes
        .iter()
        .any(|o| o.responder == who && !o.cert_manager_pass && o.status.is_some());
    vec![
        Finding::new(
            Code::CdnInFront,
            if failing {
                Severity::Error
            } else {
                Severity::Warning
            },
            Proof::Proves,
            format!("{} is answered by {who}, a proxy/CDN in front of the cluster", a.address),
        )
        .challenge(&c.ch.name)
        .evidence(format!("{}  {}", a.address, outcome_summary(a)))
        .fix("make the proxy pass /.well-known/acme-challenge/ through unchanged over plain http (no 'always use https', no WAF/bot rules on it), or use DNS-01"),
    ]
}
