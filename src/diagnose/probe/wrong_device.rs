//! WRONG_DEVICE (RC37): a router, firewall or NAS answers instead of the cluster (port
//! forwarding to the wrong host, NAT reflection hitting the router itself, a block page).

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantage;
use crate::probe::plan::{AddressReport, Attempt};

/// Words in a `Server` header or page that name a home router, firewall or NAS UI.
const DEVICES: &[&str] = &[
    "pfsense",
    "opnsense",
    "fritz!box",
    "fritzbox",
    "mikrotik",
    "routeros",
    "synology",
    "diskstation",
    "qnap",
    "unifi",
    "openwrt",
    "luci",
    "dd-wrt",
    "sophos",
    "fortigate",
    "zyxel",
    "tp-link",
    "netgear",
    "asuswrt",
    "acme-protocol",
];

/// The device an attempt names, from the responder id, `Server` header or body prefix.
fn device(responder: &str, a: &Attempt) -> Option<String> {
    if responder == "router-ui" {
        let server = a.hops.last().and_then(|h| h.headers.get("server").cloned());
        return Some(server.unwrap_or_else(|| "router web UI".into()));
    }
    let server = a
        .hops
        .last()
        .and_then(|h| h.headers.get("server"))
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let body = a.body_prefix.to_ascii_lowercase();
    DEVICES
        .iter()
        .find(|d| server.contains(*d) || body.contains(*d))
        .map(|d| (*d).to_owned())
}

fn device_on(a: &AddressReport) -> Option<(String, u32)> {
    a.outcomes.iter().find_map(|o| {
        let sample = a.samples.iter().find(|s| s.responder == o.responder)?;
        device(&o.responder, sample).map(|d| (d, o.count))
    })
}

/// RC37: the request lands on a router/firewall/NAS UI (port forwarding to the wrong host,
/// NAT reflection hitting the router itself, a corporate firewall block page).
pub(crate) fn wrong_device(c: &Vantage) -> Vec<Finding> {
    let Some((a, (what, n))) = c
        .report
        .addresses
        .iter()
        .find_map(|a| device_on(a).map(|d| (a, d)))
    else {
        return vec![];
    };
    vec![
        Finding::new(
            Code::WrongDevice,
            Severity::Error,
            Proof::Proves,
            format!(
                "{} is answered by a router/firewall/NAS ({what}), not by the cluster: {n} of {} requests",
                a.address, a.attempts
            ),
        )
        .challenge(&c.ch.name)
        .evidence(format!("{}  {}", a.address, outcome_summary(a)))
        .fix(format!(
            "forward TCP port 80 on the router that owns {} to the cluster's ingress (node IP/NodePort or load-balancer address), not to the router's own web UI; from inside the LAN enable NAT reflection (hairpin) or resolve the name to the internal address; a firewall block page (acme-protocol) needs an exception for /.well-known/acme-challenge/",
            a.address
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::probe::tests::ctx_codes;
    use crate::probe::plan::{Hop, KeyMatch, OutcomeCount, TargetReport};

    fn answered(server: &str, body: &str, responder: &str) -> TargetReport {
        let mut headers = std::collections::BTreeMap::new();
        headers.insert("server".to_owned(), server.to_owned());
        TargetReport {
            addresses: vec![AddressReport {
                address: "198.51.100.1".into(),
                family: "ipv4".into(),
                attempts: 10,
                outcomes: vec![OutcomeCount {
                    status: Some(200),
                    responder: responder.into(),
                    key_match: KeyMatch::No,
                    count: 10,
                    ..Default::default()
                }],
                samples: vec![Attempt {
                    status: Some(200),
                    responder: responder.into(),
                    body_prefix: body.into(),
                    hops: vec![Hop {
                        headers,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn router_ui_is_the_wrong_device() {
        let r = answered(
            "",
            "<html><head><title>pfSense - Login</title>",
            "unknown-abc",
        );
        let f = ctx_codes(&r);
        assert!(f.iter().any(|f| f.code == Code::WrongDevice), "{f:?}");
        let r = answered("micro_httpd", "<html>", "router-ui");
        assert!(ctx_codes(&r).iter().any(|f| f.code == Code::WrongDevice));
        let r = answered("nginx", "<html><body>shop</body>", "nginx");
        assert!(!ctx_codes(&r).iter().any(|f| f.code == Code::WrongDevice));
    }
}
