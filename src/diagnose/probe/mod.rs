//! Rules over one vantage's probe report for one challenge (this machine's, or the probe pod's):
//! pure functions over a [`TargetReport`] that name the numbers they saw. One file per finding
//! code (or a few closely related ones); [`findings`] runs them in order.

use super::finding::Finding;
use super::view::Vantage;
use crate::evidence::ChallengeEvidence;
use crate::probe::plan::{CaProfile, TargetReport};

pub mod auth_required;
pub mod body_mismatch;
pub mod cdn_in_front;
pub mod dns;
pub mod inbound_blocked;
pub mod ipv6_broken;
pub mod mixed_backends;
pub mod non_public_name;
pub mod redirects;
pub mod stale_address;
pub mod util;
pub mod wrong_device;

type Rule = fn(&Vantage) -> Vec<Finding>;

/// The rules, in the order their findings are most useful when severities tie.
pub(crate) const RULES: &[Rule] = &[
    dns::dns_not_ready,
    dns::dns_broken,
    wrong_device::wrong_device,
    non_public_name::non_public_name,
    mixed_backends::mixed_backends,
    stale_address::stale_address,
    ipv6_broken::ipv6_broken,
    inbound_blocked::inbound_blocked,
    redirects::https_redirect_unserved,
    redirects::bad_redirect,
    auth_required::auth_required,
    body_mismatch::body_mismatch,
    cdn_in_front::cdn_in_front,
];

/// Run every probe rule for one challenge.
pub fn findings(ch: &ChallengeEvidence, report: &TargetReport, ca: CaProfile) -> Vec<Finding> {
    let ctx = Vantage { ch, report, ca };
    RULES.iter().flat_map(|r| r(&ctx)).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diagnose::finding::Code;
    use crate::diagnose::testdata::{addr, assert_complete, oc};
    use crate::probe::plan::{AddressReport, KeyMatch, ResolverAnswer};

    pub(crate) fn report(addresses: Vec<AddressReport>) -> TargetReport {
        TargetReport {
            url: "http://shop.example.com/.well-known/acme-challenge/tok".into(),
            dns_name: "shop.example.com".into(),
            expected_key: "tok.thumb".into(),
            dns: crate::probe::plan::DnsReport {
                resolvers: vec![ResolverAnswer {
                    resolver: "system".into(),
                    role: "primary".into(),
                    ..Default::default()
                }],
                ip_literal: false,
                ..Default::default()
            },
            addresses,
            ..Default::default()
        }
    }

    pub(crate) fn ch() -> ChallengeEvidence {
        ChallengeEvidence {
            name: "web-1-2-3".into(),
            dns_name: "shop.example.com".into(),
            ..Default::default()
        }
    }

    /// The rules, with every finding checked for evidence, fix and docs link.
    pub(crate) fn findings(
        ch: &ChallengeEvidence,
        r: &TargetReport,
        ca: CaProfile,
    ) -> Vec<Finding> {
        let found = super::findings(ch, r, ca);
        assert_complete(&found);
        found
    }

    pub(crate) fn codes(r: &TargetReport, ca: CaProfile) -> Vec<Code> {
        findings(&ch(), r, ca).into_iter().map(|f| f.code).collect()
    }

    /// Every probe rule (Pebble) on `r` for a challenge named `c`, checked complete.
    pub(crate) fn ctx_codes(r: &TargetReport) -> Vec<Finding> {
        let ch = ChallengeEvidence {
            name: "c".into(),
            dns_name: "shop.example.com".into(),
            ..Default::default()
        };
        let found = super::findings(&ch, r, CaProfile::Pebble);
        assert_complete(&found);
        found
    }

    #[test]
    fn healthy_has_no_findings() {
        let r = report(vec![addr(
            "192.0.2.10",
            vec![oc(Some(200), None, "acmesolver", KeyMatch::Exact, 66)],
        )]);
        assert!(codes(&r, CaProfile::Pebble).is_empty());
    }

    #[test]
    fn auth_body_cdn() {
        let r = report(vec![addr(
            "192.0.2.10",
            vec![oc(Some(401), None, "nginx", KeyMatch::NotApplicable, 66)],
        )]);
        assert_eq!(codes(&r, CaProfile::Pebble), vec![Code::AuthRequired]);
        let r = report(vec![addr(
            "192.0.2.10",
            vec![oc(Some(200), None, "unknown-abc", KeyMatch::No, 66)],
        )]);
        assert_eq!(codes(&r, CaProfile::Pebble), vec![Code::BodyMismatch]);
        let r = report(vec![addr(
            "192.0.2.10",
            vec![oc(Some(200), None, "acmesolver", KeyMatch::Trimmed, 66)],
        )]);
        let f = findings(&ch(), &r, CaProfile::Pebble);
        assert!(f[0].summary.contains("trailing whitespace"));
        let r = report(vec![addr(
            "192.0.2.10",
            vec![oc(
                Some(403),
                None,
                "cloudflare",
                KeyMatch::NotApplicable,
                66,
            )],
        )]);
        assert_eq!(codes(&r, CaProfile::Pebble), vec![Code::CdnInFront]);
    }
}
