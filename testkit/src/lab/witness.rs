//! The scenarios of "weigh the witnesses" (issue 14): the user's machine with a resolver that
//! cannot be reached or that refuses, against the same cluster as `gateway-takes-all` (the
//! reason says 404, the gateway answers 404 and ingress-nginx serves the key when asked
//! directly); and a controller whose own self check times out while the probe pod passes.
//! cert-manager's reason is dated (a managedFields entry of `cert-manager-challenges` for the
//! status subresource, see `objects.rs`) a few minutes before the lab was built.
//!
//! | scenario                | what it reproduces                                                 |
//! |-------------------------|--------------------------------------------------------------------|
//! | no-resolver-here        | gateway-takes-all; this machine's resolv.conf names 192.0.2.98, where nothing answers |
//! | refusing-resolver-here  | gateway-takes-all; this machine's resolver (dnsmasq 192.0.2.54) refuses every question |
//! | controller-only-timeout | the edge serves the key from everywhere; cert-manager's reason (3 min old) is a connect timeout |

use super::{DNS_NAME, Lab};
use anyhow::{Context, Result};

/// Where this machine's resolv.conf points in `no-resolver-here`: an on-link address no host
/// has (queries are dropped unanswered).
pub const DEAD_RESOLVER_V4: &str = "192.0.2.98";
/// The refusing resolver of `refusing-resolver-here`.
pub const REFUSING_RESOLVER_V4: &str = "192.0.2.54";

/// The scenarios of this file, in [`super::SCENARIOS`] order.
pub const WITNESS_SCENARIOS: &[&str] = &[
    "no-resolver-here",
    "refusing-resolver-here",
    "controller-only-timeout",
];

/// How long before the lab was built cert-manager wrote the scenario's reason (seconds).
pub fn reason_age_secs(scenario: &str) -> Option<u64> {
    match scenario {
        "no-resolver-here" | "refusing-resolver-here" => Some(120),
        "controller-only-timeout" => Some(180),
        _ => None,
    }
}

impl Lab {
    /// Point this machine's (the client namespace's) resolv.conf at `nameserver`.
    pub fn client_resolver(&mut self, nameserver: &str) -> Result<()> {
        let client = self.client.clone();
        self.hosts
            .iter()
            .find(|h| h.name == client)
            .context("the client host")?
            .set_resolver(nameserver)?;
        self.notes
            .push(format!("this machine's resolver: {nameserver}"));
        Ok(())
    }

    /// dnsmasq on `addr`:53 in a host of its own that answers nothing: no records, no upstream,
    /// so it answers every question REFUSED (dnsmasq 2.90 without servers).
    pub fn refusing_resolver(&mut self, addr: &str) -> Result<()> {
        let ns = self.host("refusing-dns", &[addr])?;
        self.dnsmasq(&ns, addr, &[], None)?;
        if let Some(last) = self.notes.last_mut() {
            *last = format!("dnsmasq {addr}: no records, no upstream: REFUSED for every question");
        }
        Ok(())
    }
}

/// Build one of [`WITNESS_SCENARIOS`] (the client exists). Returns false for a name it does
/// not know.
pub(crate) fn build(lab: &mut Lab, name: &str, d: u32) -> Result<bool> {
    match name {
        "no-resolver-here" | "refusing-resolver-here" => {
            super::never_silent::build(lab, "gateway-takes-all", d)?;
            if name == "no-resolver-here" {
                lab.client_resolver(DEAD_RESOLVER_V4)?;
            } else {
                lab.refusing_resolver(REFUSING_RESOLVER_V4)?;
                lab.client_resolver(REFUSING_RESOLVER_V4)?;
            }
        }
        "controller-only-timeout" => {
            lab.dns(&[(DNS_NAME, super::EDGE_V4)])?;
            lab.solver(d)?;
            lab.ingress_nginx(d, super::Plane::default())?;
            lab.gateway_without_route(d)?;
            lab.edge_to_nginx(&[], false, "")?;
            lab.cluster(&[])?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// RFC 3339 UTC for `secs` before now.
pub fn rfc3339_ago(secs: u64) -> String {
    crate::fakeapi::rfc3339(crate::fakeapi::now_secs().saturating_sub(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        let t = rfc3339_ago(0);
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
        assert!(rfc3339_ago(3600) < t);
    }
}
