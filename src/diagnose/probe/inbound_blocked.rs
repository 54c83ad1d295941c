//! INBOUND_BLOCKED: most connections to an address time out or are refused.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantage;
use crate::probe::plan::ErrorClass;

pub(crate) fn inbound_blocked(c: &Vantage) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &c.report.addresses {
        let timeouts: u32 = a
            .outcomes
            .iter()
            .filter(|o| o.error_class == Some(ErrorClass::ConnectTimeout))
            .map(|o| o.count)
            .sum();
        let refused: u32 = a
            .outcomes
            .iter()
            .filter(|o| o.error_class == Some(ErrorClass::ConnectRefused))
            .map(|o| o.count)
            .sum();
        if a.attempts == 0 || (timeouts + refused) * 2 < a.attempts {
            continue;
        }
        let summary = if timeouts >= refused {
            format!(
                "{}:80 drops connections from here: {timeouts} of {} connects timed out (firewall or security group?)",
                a.address, a.attempts
            )
        } else {
            format!(
                "nothing accepts connections on {}:80: {refused} of {} refused",
                a.address, a.attempts
            )
        };
        out.push(
            Finding::new(Code::InboundBlocked, Severity::Error, Proof::Supports, summary)
                .challenge(&c.ch.name)
                .evidence(format!("{}  {}", a.address, outcome_summary(a)))
                .fix(format!(
                    "open TCP port 80 on {} to the whole Internet (the CA validates from several unpublished places), and check the load balancer listens on :80; if port 80 must stay closed, use DNS-01",
                    a.address
                )),
        );
    }
    out
}
