//! The screen's DNS and connection findings: the name does not resolve from a vantage
//! (DNS_NOT_READY, DNS_BROKEN), or an address it resolves to takes no connection on port 80
//! from this machine (INBOUND_BLOCKED) or from inside the cluster only (HAIRPIN_UNREACHABLE).
//! None of this depends on a solver: a renewal's validation would meet it as well.

use super::util::{Facts, INSIDE, LOCAL};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantages;
use crate::probe::plan::ErrorClass;

pub(super) fn no_answer(c: &Vantages, f: &Facts) -> Vec<Finding> {
    let host = &c.ch.dns_name;
    let mut out = Vec::new();
    for (vantage, class) in &f.dns_failures {
        let code = match class {
            ErrorClass::DnsNxdomain | ErrorClass::DnsNoRecords => Code::DnsNotReady,
            _ => Code::DnsBroken,
        };
        out.push(
            Finding::new(
                code,
                Severity::Error,
                Proof::Proves,
                format!(
                    "renewal at risk: {host} does not resolve from {vantage} ({})",
                    class.as_str()
                ),
            )
            .challenge(&c.ch.name)
            .fix(format!(
                "publish an A (or AAAA) record for {host} that points at the data plane carrying the solver's route; check with `dig +short {host}`"
            )),
        );
    }
    let dead = f.dead_addresses();
    let outside: Vec<&str> = dead
        .iter()
        .filter(|(v, _)| *v == LOCAL)
        .map(|(_, a)| *a)
        .collect();
    let inside: Vec<&str> = dead
        .iter()
        .filter(|(v, a)| *v == INSIDE && !outside.contains(a))
        .map(|(_, a)| *a)
        .collect();
    if !outside.is_empty() {
        let mut finding = Finding::new(
            Code::InboundBlocked,
            Severity::Error,
            Proof::Supports,
            format!(
                "renewal at risk: port 80 of {} ({host}) takes no connection from this machine: the CA could not connect either",
                outside.join(", ")
            ),
        )
        .challenge(&c.ch.name);
        for l in f.lines() {
            finding = finding.evidence(l);
        }
        out.push(finding.fix(format!(
            "open port 80 of {} to the Internet (firewall, security group, the load balancer's listener), or point {host} at an address that takes connections",
            outside.join(", ")
        )));
    }
    if !inside.is_empty() {
        let mut finding = Finding::new(
            Code::HairpinUnreachable,
            Severity::Error,
            Proof::Supports,
            format!(
                "renewal at risk: port 80 of {} ({host}) takes no connection from inside the cluster: cert-manager's self check would not either",
                inside.join(", ")
            ),
        )
        .challenge(&c.ch.name);
        for l in f.lines() {
            finding = finding.evidence(l);
        }
        out.push(finding.fix(
            "let the cluster reach its own public address (hairpin NAT on the load balancer, or a cluster DNS override to the ingress Service), or allow the controller's egress to it",
        ));
    }
    out
}
