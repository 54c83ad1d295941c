//! Advice drawn from the other findings: when HTTP-01 is the wrong tool (failure-modes.md §6),
//! recommend DNS-01 with the reasons and the issuer change to make. Pure.

use super::{Code, Finding, Proof, Severity};
use crate::evidence::CertificateEvidence;

/// Findings that make DNS-01 the better method, and why. Not AUTH_REQUIRED: exempting the
/// challenge path from authentication is the fix there, and HTTP-01 then works.
const REASONS: &[(Code, &str)] = &[
    (
        Code::NonPublicName,
        "the name is not publicly resolvable or reachable, and DNS-01 needs no inbound traffic",
    ),
    (
        Code::InboundBlocked,
        "port 80 is not open to the Internet, and the CA validates from several unpublished places",
    ),
    (
        Code::CdnInFront,
        "a CDN or proxy answers for the name, and DNS-01 does not depend on it",
    ),
    (
        Code::IpAllowlist,
        "source-IP allow-lists would have to admit every CA perspective",
    ),
];

/// Recommend DNS-01 when any finding in `REASONS` is present and the issuer has no DNS-01
/// solver yet. Wildcards already say so in `WILDCARD_NEEDS_DNS01`.
pub fn dns01(cert: &CertificateEvidence, findings: &[Finding]) -> Option<Finding> {
    let acme = cert.issuer.as_ref()?.acme.as_ref()?;
    if acme.solvers.iter().any(|s| s.dns01.is_some()) {
        return None;
    }
    let reasons: Vec<&str> = REASONS
        .iter()
        .filter(|(code, _)| findings.iter().any(|f| f.code == *code))
        .map(|(_, why)| *why)
        .collect();
    if reasons.is_empty() {
        return None;
    }
    let issuer = if cert.issuer_ref.is_cluster_issuer() {
        format!("clusterissuer {}", cert.issuer_ref.name)
    } else {
        format!("issuer {} -n {}", cert.issuer_ref.name, cert.namespace)
    };
    let names = cert
        .dns_names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    // DNS-01's own propagation check asks the cluster's resolvers unless told otherwise: with
    // split-horizon DNS it must be pointed at public ones, and `-only` alone does not do that.
    let split = if findings.iter().any(|f| f.code == Code::SplitHorizon) {
        "\nthe cluster's DNS has its own view of the zone (split horizon): also run cert-manager with --dns01-recursive-nameservers=<public resolver>:53 and --dns01-recursive-nameservers-only, so its DNS-01 check asks public resolvers"
    } else {
        ""
    };
    let mut f = Finding::new(
        Code::Dns01Advised,
        Severity::Info,
        Proof::Supports,
        "consider DNS-01 for this certificate: HTTP-01 fights the network here",
    );
    for r in reasons {
        f = f.evidence(r);
    }
    Some(f.fix(format!(
        "add a DNS-01 solver to the {issuer} (needs a DNS provider cert-manager supports, or a webhook, and its credentials):\n  solvers:\n  - selector: {{dnsNames: [{names}]}}\n    dns01: {{<provider>: ...}}{split}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::*;

    fn cert(dns01: bool) -> CertificateEvidence {
        CertificateEvidence {
            namespace: "shop".into(),
            name: "web".into(),
            dns_names: vec!["shop.example.com".into()],
            issuer_ref: IssuerRef {
                name: "le".into(),
                kind: Some("ClusterIssuer".into()),
                group: None,
            },
            issuer: Some(IssuerEvidence {
                acme: Some(AcmeIssuer {
                    solvers: vec![Solver {
                        dns01: dns01.then(|| serde_json::json!({"route53": {}})),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The advice, checked for evidence, fix and docs link.
    fn dns01(cert: &CertificateEvidence, findings: &[Finding]) -> Option<Finding> {
        let a = super::dns01(cert, findings);
        crate::diagnose::testdata::assert_complete(a.as_slice());
        a
    }

    fn f(code: Code) -> Finding {
        Finding::new(code, Severity::Error, Proof::Supports, "x")
    }

    #[test]
    fn advised_for_blocked_inbound_and_private_names() {
        let a = dns01(
            &cert(false),
            &[f(Code::InboundBlocked), f(Code::NonPublicName)],
        )
        .expect("advice");
        assert_eq!(a.evidence.len(), 2);
        assert!(
            a.fix.contains("clusterissuer le") && a.fix.contains("\"shop.example.com\""),
            "{}",
            a.fix
        );
    }

    #[test]
    fn split_horizon_names_both_flags_and_auth_is_no_reason() {
        let a = dns01(&cert(false), &[f(Code::InboundBlocked)]).expect("advice");
        assert!(!a.fix.contains("--dns01-recursive"), "{}", a.fix);
        let a = dns01(
            &cert(false),
            &[f(Code::InboundBlocked), f(Code::SplitHorizon)],
        )
        .expect("advice");
        assert!(
            a.fix
                .contains("--dns01-recursive-nameservers=<public resolver>:53")
                && a.fix.contains("--dns01-recursive-nameservers-only"),
            "{}",
            a.fix
        );
        // basic-auth: the fix is to exempt the challenge path, not DNS-01.
        assert!(dns01(&cert(false), &[f(Code::AuthRequired)]).is_none());
    }

    #[test]
    fn not_advised_without_a_reason_or_with_dns01_already() {
        assert!(dns01(&cert(false), &[f(Code::MixedBackends)]).is_none());
        assert!(dns01(&cert(true), &[f(Code::InboundBlocked)]).is_none());
    }
}
