//! What the CA said on the chain (no probing): CAA_FORBIDS (a CAA record), DNS_BROKEN (the CA's
//! resolvers fail) and SOLVER_REMOVED_EARLY (a remote perspective got 404 after the primary
//! passed).

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{parsed, renew_hint};
use crate::diagnose::view::Certificate;
use crate::evidence::{CertificateEvidence, ChallengeEvidence};
use crate::reason::{self, Reason};

/// CA problems written on the chain: `(where, problem type, detail, secondary, challenge)`.
struct CaText<'a> {
    source: String,
    problem_type: String,
    detail: String,
    secondary: bool,
    challenge: Option<&'a ChallengeEvidence>,
}

fn ca_texts(cert: &CertificateEvidence) -> Vec<CaText<'_>> {
    let from_challenges = cert.challenges.iter().filter_map(|ch| {
        let r = parsed(ch)?;
        Some((format!("Challenge {}", ch.name), r, Some(ch)))
    });
    let from_order = cert.order.iter().filter_map(|o| {
        let r = o.reason.as_deref().and_then(reason::parse)?;
        Some((format!("Order {}", o.name), r, None))
    });
    from_challenges
        .chain(from_order)
        .filter_map(|(source, r, challenge)| match r {
            Reason::CaProblem {
                problem_type,
                detail,
                secondary,
                ..
            } => Some(CaText {
                source,
                problem_type: problem_type.unwrap_or_default(),
                detail,
                secondary,
                challenge,
            }),
            _ => None,
        })
        .collect()
}

fn scoped(f: Finding, ch: Option<&ChallengeEvidence>) -> Finding {
    match ch {
        Some(c) => f.challenge(&c.name),
        None => f,
    }
}

/// The name a CA text is about: the challenge's, else the certificate's first.
fn subject<'a>(t: &'a CaText, cert: &'a CertificateEvidence) -> &'a str {
    t.challenge
        .map(|c| c.dns_name.as_str())
        .or(cert.dns_names.first().map(String::as_str))
        .unwrap_or("")
}

/// A rule over the CA's words: the first CA text `matches` accepts becomes the finding `build`
/// makes (given the text and the name it is about), with the text as first evidence line.
fn ca_rule(
    cert: &CertificateEvidence,
    matches: impl Fn(&CaText) -> bool,
    build: impl Fn(&CaText, &str) -> Finding,
) -> Vec<Finding> {
    let Some(t) = ca_texts(cert).into_iter().find(|t| matches(t)) else {
        return vec![];
    };
    let mut f = build(&t, subject(&t, cert));
    f.evidence.insert(0, format!("{}: {}", t.source, t.detail));
    vec![scoped(f, t.challenge)]
}

/// RC32: `urn:…:caa` / `CAA record for <name> prevents issuance`.
pub(crate) fn caa_forbids(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    ca_rule(
        cert,
        |t| t.problem_type == "caa" || t.detail.to_ascii_lowercase().contains("prevents issuance"),
        |_, name| {
            Finding::new(
                Code::CaaForbids,
                Severity::Error,
                Proof::Proves,
                format!("a CAA record for {name} (or a parent domain) does not allow this CA to issue"),
            )
            .fix(format!(
                "find the record: dig +short CAA {name} (then each parent domain up to the TLD); add the CA's identity, e.g. `{name}. CAA 0 issue \"letsencrypt.org\"` (drop accounturi= / validationmethods= that exclude this account or http-01), then {}",
                renew_hint(cert)
            ))
        },
    )
}

/// RC25 from the CA's words: `DNS problem: SERVFAIL looking up A|AAAA|CAA for …`.
pub(crate) fn dns_broken(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    ca_rule(
        cert,
        |t| {
            let d = t.detail.to_ascii_lowercase();
            d.contains("dns problem")
                && ["servfail", "refused", "timed out", "timeout", "dnssec"]
                    .iter()
                    .any(|w| d.contains(w))
        },
        |_, name| {
            Finding::new(
                Code::DnsBroken,
                Severity::Error,
                Proof::Proves,
                format!("the CA's resolvers cannot resolve {name}: its DNS servers fail (not a missing record)"),
            )
            .fix(format!(
                "check every authoritative server and DNSSEC: dig +dnssec {name} A; dig {name} CAA; dig +trace {name} — a SERVFAIL on the CAA query (also of a parent domain) blocks issuance too; fix the nameservers or DS records, then {}",
                renew_hint(cert)
            ))
        },
    )
}

/// RC34 (rare, unconfirmed by maintainers): the primary perspective passed, a remote one got
/// 404. Only supported: event timestamps are not read, and mixed backends look the same.
pub(crate) fn solver_removed_early(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    ca_rule(
        cert,
        |t| {
            t.secondary
                && t.detail.contains("404")
                && t.problem_type != "caa"
                && t.problem_type != "dns"
        },
        |t, _| {
            Finding::new(
                Code::SolverRemovedEarly,
                Severity::Warning,
                Proof::Supports,
                "the CA's primary perspective passed and a remote perspective got 404: the solver may have been removed before every perspective fetched the token",
            )
            .evidence("the cluster's events (when the solver Pod/Ingress was deleted) were not read; mixed backends or a stale address produce the same text")
            .fix(format!(
                "compare the times: kubectl get events -n {} --sort-by=.lastTimestamp | grep -E 'cm-acme-http-solver|{}'; if the solver went away before the Challenge turned invalid, report it to cert-manager (cm#7659); otherwise look for backends that do not serve the token",
                cert.namespace,
                t.challenge.map_or(cert.name.as_str(), |c| c.name.as_str())
            ))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::has;
    use crate::diagnose::testdata::stuck_with_controller as base;

    fn invalid(cert: &mut CertificateEvidence, reason: &str) {
        let ch = &mut cert.challenges[0];
        ch.state = "invalid".into();
        ch.processing = false;
        ch.reason = Some(reason.into());
    }

    const PREFIX: &str =
        "Error accepting authorization: acme: authorization error for shop.example.com: ";

    /// `(CA problem after the prefix, code, whether the rule fires)`: each rule's positive
    /// text and a neighbour it must leave alone.
    const CA_TEXTS: &[(&str, Code, bool)] = &[
        (
            "403 urn:ietf:params:acme:error:caa: CAA record for shop.example.com prevents issuance",
            Code::CaaForbids,
            true,
        ),
        (
            "403 urn:ietf:params:acme:error:connection: 192.0.2.1: Fetching http://shop.example.com/.well-known/acme-challenge/tok: Timeout during connect (likely firewall problem)",
            Code::CaaForbids,
            false,
        ),
        (
            "400 urn:ietf:params:acme:error:dns: DNS problem: SERVFAIL looking up CAA for example.com - the domain's nameservers may be malfunctioning",
            Code::DnsBroken,
            true,
        ),
        (
            "400 urn:ietf:params:acme:error:dns: DNS problem: NXDOMAIN looking up A for shop.example.com - check that a DNS record exists for this domain",
            Code::DnsBroken,
            false,
        ),
        (
            "403 urn:ietf:params:acme:error:unauthorized: During secondary validation: 192.0.2.1: Invalid response from http://shop.example.com/.well-known/acme-challenge/tok: 404",
            Code::SolverRemovedEarly,
            true,
        ),
        (
            "403 urn:ietf:params:acme:error:unauthorized: 192.0.2.1: Invalid response from http://shop.example.com/.well-known/acme-challenge/tok: 404",
            Code::SolverRemovedEarly,
            false,
        ),
    ];

    #[test]
    fn ca_text_rules_fire_on_their_text_only() {
        for (text, code, fires) in CA_TEXTS {
            let (mut cert, cluster) = base();
            invalid(&mut cert, &format!("{PREFIX}{text}"));
            let found = has(&cert, &cluster, *code);
            assert_eq!(found.is_some(), *fires, "{code} on {text}");
            if let Some(f) = found {
                assert!(f.fix.contains("-n shop"), "{}", f.fix);
                assert!(
                    f.evidence[0].starts_with("Challenge web-"),
                    "{:?}",
                    f.evidence
                );
            }
        }
        // Only the rare cause is merely supported.
        let (mut cert, cluster) = base();
        invalid(&mut cert, &format!("{PREFIX}{}", CA_TEXTS[4].0));
        let f = has(&cert, &cluster, Code::SolverRemovedEarly).unwrap();
        assert_eq!((f.severity, f.proof), (Severity::Warning, Proof::Supports));
    }
}
