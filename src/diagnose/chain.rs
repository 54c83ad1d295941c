//! Findings from the chain's own texts and versions (no probing): what the CA said (CAA, DNS,
//! a failing remote perspective), known regressions of the running cert-manager version, and
//! IP identifiers. Registered in [`super::api`]'s rule list; each rule is small and pure.

use super::util::{issuer_kind_cmd, open_http01, parsed, renew_hint, solver_patch};
use super::view::Certificate;
use super::{Code, Finding, Proof, Severity};
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
pub(super) fn caa_forbids(input: &Certificate) -> Vec<Finding> {
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
pub(super) fn dns_broken(input: &Certificate) -> Vec<Finding> {
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
pub(super) fn solver_removed_early(input: &Certificate) -> Vec<Finding> {
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

/// A known regression: cert-manager versions it affects, the symptom text, what to do.
struct Known {
    /// Inclusive `(major, minor, patch)` range.
    from: (u32, u32, u32),
    to: (u32, u32, u32),
    /// Lower-case texts of which one must appear in the Challenge reason or solver pod state.
    symptoms: &'static [&'static str],
    what: &'static str,
    issue: &'static str,
    fix: &'static str,
}

const KNOWN: &[Known] = &[
    Known {
        from: (1, 18, 0),
        to: (99, 0, 0),
        symptoms: &[
            "cannot be used with pathtype exact",
            "only \"implementationspecific\" path type",
        ],
        what: "since v1.18 the solver Ingress uses pathType Exact, which ingress-nginx >= 1.12 (strict-validate-path-type) and GCE refuse for paths with dots",
        issue: "cm#7791, cm#4371",
        fix: "ACMEHTTP01IngressPathTypeExact=false",
    },
    Known {
        from: (1, 9, 0),
        to: (1, 9, 0),
        symptoms: &["violates podsecurity"],
        what: "v1.9.0's solver pod lacks the PodSecurity 'restricted' fields",
        issue: "cm#5338",
        fix: "upgrade",
    },
    Known {
        from: (0, 14, 0),
        to: (0, 14, 99),
        symptoms: &["runasnonroot", "will run as root"],
        what: "the v0.14 acmesolver image runs as root",
        issue: "cm#2726",
        fix: "upgrade",
    },
    Known {
        from: (1, 20, 0),
        to: (99, 0, 0),
        symptoms: &["sectionname must be specified"],
        what: "with Gateway API v1.5 CRDs, a route listing the same Gateway twice needs sectionName on each parentRef",
        issue: "cm PR#8632",
        fix: "sectionName",
    },
];

/// `v1.19.1` → `(1, 19, 1)`; pre-release suffixes are ignored.
pub fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut parts = v.trim_start_matches('v').split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, patch))
}

/// Texts where a symptom can show: the Challenge reason and the solver pods' waiting state.
fn symptom_texts(ch: &ChallengeEvidence) -> Vec<String> {
    let pods = ch.solver_pods.iter().flat_map(|p| {
        [p.waiting_message.clone(), p.unschedulable_message.clone()]
            .into_iter()
            .flatten()
    });
    ch.reason
        .clone()
        .into_iter()
        .chain(pods)
        .map(|t| t.to_ascii_lowercase())
        .collect()
}

fn pitfall_fix(
    k: &Known,
    cert: &CertificateEvidence,
    ch: &ChallengeEvidence,
    ns: &str,
    deploy: &str,
) -> String {
    match k.fix {
        "ACMEHTTP01IngressPathTypeExact=false" => format!(
            "kubectl -n {ns} patch deployment {deploy} --type=json -p '[{{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/args/-\",\"value\":\"--feature-gates=ACMEHTTP01IngressPathTypeExact=false\"}}]' (Helm: --set 'featureGates=ACMEHTTP01IngressPathTypeExact=false'; needs >= v1.18.1), or strict-validate-path-type: \"false\" in the ingress-nginx ConfigMap"
        ),
        "sectionName" => solver_patch(
            cert,
            &ch.solver,
            "gatewayHTTPRoute/parentRefs/0/sectionName",
            "\"<name of the port-80 HTTP listener>\"",
        ),
        _ => format!(
            "upgrade cert-manager (kubectl -n {ns} get deployment {deploy} -o jsonpath='{{.spec.template.spec.containers[0].image}}' shows the running version), or set securityContext in the solver's podTemplate in the {}",
            issuer_kind_cmd(cert)
        ),
    }
}

/// RC36: the running version is in a known-issue range **and** the matching symptom shows.
pub(super) fn version_pitfall(input: &Certificate) -> Vec<Finding> {
    let Some(cm) = &input.cluster.cert_manager else {
        return vec![];
    };
    let Some(version) = cm.version.as_deref().and_then(parse_version) else {
        return vec![];
    };
    let gate_off = cm
        .feature_gates
        .as_deref()
        .is_some_and(|g| g.contains("ACMEHTTP01IngressPathTypeExact=false"));
    let mut out = Vec::new();
    for ch in open_http01(input.cert) {
        let texts = symptom_texts(ch);
        let hit = KNOWN.iter().find(|k| {
            (k.from..=k.to).contains(&version)
                && !(gate_off && k.fix.starts_with("ACMEHTTP01"))
                && k.symptoms
                    .iter()
                    .any(|s| texts.iter().any(|t| t.contains(s)))
        });
        let Some(k) = hit else { continue };
        out.push(
            Finding::new(
                Code::VersionPitfall,
                Severity::Warning,
                Proof::Proves,
                format!(
                    "cert-manager {} has a known issue that matches this failure ({})",
                    cm.version.as_deref().unwrap_or(""),
                    k.issue
                ),
            )
            .challenge(&ch.name)
            .evidence(format!("{}: {}", k.issue, k.what))
            .evidence(format!(
                "controller {}/{} runs {}{}",
                cm.namespace,
                cm.deployment,
                cm.image.as_deref().unwrap_or("(image unknown)"),
                cm.feature_gates
                    .as_deref()
                    .map(|g| format!(", --feature-gates={g}"))
                    .unwrap_or_default()
            ))
            .evidence(format!(
                "symptom in Challenge {}: {}",
                ch.name,
                ch.reason.as_deref().unwrap_or("(solver pod state)")
            ))
            .fix(pitfall_fix(
                k,
                input.cert,
                ch,
                &cm.namespace,
                &cm.deployment,
            )),
        );
    }
    out
}

/// RC39: a certificate for an IP address. The solver route must have no hostnames and the
/// Ingress rule no host; older cert-manager versions put the IP there and the API refuses.
pub(super) fn ip_identifier(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let mut out = Vec::new();
    for ch in open_http01(cert).filter(|c| c.dns_name.parse::<std::net::IpAddr>().is_ok()) {
        let ip = ch.dns_name.as_str();
        let in_route = ch
            .solver_routes
            .iter()
            .find(|r| r.hostnames.iter().any(|h| h == ip));
        let in_ingress = ch
            .solver_ingresses
            .iter()
            .find(|i| i.rules.iter().any(|r| r.host == ip));
        let reason_says = ch.reason.as_deref().is_some_and(|r| {
            let r = r.to_ascii_lowercase();
            r.contains("hostname") && (r.contains("invalid") || r.contains("must"))
        });
        let (proof, severity, detail) = match (in_route, in_ingress) {
            (Some(r), _) => (
                Proof::Proves,
                Severity::Error,
                format!(
                    "HTTPRoute {}/{} lists the IP in spec.hostnames, which Gateway API does not allow",
                    r.namespace, r.name
                ),
            ),
            (None, Some(i)) => (
                Proof::Proves,
                Severity::Error,
                format!(
                    "Ingress {}/{} has a rule with host {ip}; an IP identifier needs a rule without host",
                    i.namespace, i.name
                ),
            ),
            _ if reason_says => (
                Proof::Proves,
                Severity::Error,
                format!("Challenge reason: {}", ch.reason.as_deref().unwrap_or("")),
            ),
            _ => (
                Proof::Supports,
                Severity::Info,
                "the solver objects have no host field set to the IP (as they should)".to_owned(),
            ),
        };
        out.push(
            Finding::new(
                Code::IpIdentifier,
                severity,
                proof,
                format!("{ip} is an IP identifier: the CA connects to {ip}:80 directly, no DNS and no Host-based routing"),
            )
            .challenge(&ch.name)
            .evidence(detail)
            .evidence(format!("Certificate {} spec.ipAddresses: {}", cert.name, cert.ip_addresses.join(", ")))
            .fix(format!(
                "use a cert-manager release that creates the solver route without hostnames for IP identifiers (cm#8442); make sure {ip}:80 reaches a data plane whose default (host-less) route serves /.well-known/acme-challenge/, and that the ACME server issues for IPs (Let's Encrypt: only with the short-lived profile): curl -sv http://{ip}/.well-known/acme-challenge/{}",
                ch.token
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::api::findings;
    use super::*;
    use crate::evidence::*;

    /// The shared stuck fixture, with the controller's version known.
    fn base() -> (CertificateEvidence, ClusterEvidence) {
        let (cert, mut cluster) = crate::diagnose::testdata::stuck();
        cluster.cert_manager = Some(CertManagerEvidence {
            namespace: "cert-manager".into(),
            deployment: "cert-manager".into(),
            image: Some("quay.io/jetstack/cert-manager-controller:v1.19.1".into()),
            version: Some("v1.19.1".into()),
            ..Default::default()
        });
        (cert, cluster)
    }

    fn invalid(cert: &mut CertificateEvidence, reason: &str) {
        let ch = &mut cert.challenges[0];
        ch.state = "invalid".into();
        ch.processing = false;
        ch.reason = Some(reason.into());
    }

    fn has(cert: &CertificateEvidence, cluster: &ClusterEvidence, code: Code) -> Option<Finding> {
        let found = findings(&Certificate { cert, cluster });
        crate::diagnose::testdata::assert_complete(&found);
        found.into_iter().find(|f| f.code == code)
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

    #[test]
    fn version_pitfall_needs_version_and_symptom() {
        let (mut cert, mut cluster) = base();
        let ch = &mut cert.challenges[0];
        ch.presented = false;
        ch.reason = Some("Error presenting challenge: admission webhook \"validate.nginx.ingress.kubernetes.io\" denied the request: ingress contains invalid paths: path /.well-known/acme-challenge/tok cannot be used with pathType Exact".into());
        let f = has(&cert, &cluster, Code::VersionPitfall).expect("pitfall");
        assert!(
            f.fix
                .contains("kubectl -n cert-manager patch deployment cert-manager"),
            "{}",
            f.fix
        );
        // Gate already off, or an older version: not this pitfall.
        cluster.cert_manager.as_mut().unwrap().feature_gates =
            Some("ACMEHTTP01IngressPathTypeExact=false".into());
        assert!(has(&cert, &cluster, Code::VersionPitfall).is_none());
        cluster.cert_manager.as_mut().unwrap().feature_gates = None;
        cluster.cert_manager.as_mut().unwrap().version = Some("v1.17.2".into());
        assert!(has(&cert, &cluster, Code::VersionPitfall).is_none());
        // The version alone is not enough.
        let (cert, cluster) = base();
        assert!(has(&cert, &cluster, Code::VersionPitfall).is_none());
        assert_eq!(parse_version("v1.18.0-beta.1"), Some((1, 18, 0)));
        assert_eq!(parse_version("latest"), None);
    }

    #[test]
    fn ip_identifier_with_hostnames_in_the_route() {
        let (mut cert, cluster) = base();
        cert.ip_addresses = vec!["192.0.2.7".into()];
        let ch = &mut cert.challenges[0];
        ch.dns_name = "192.0.2.7".into();
        ch.solver_routes.push(RouteEvidence {
            namespace: "shop".into(),
            name: "cm-acme-http-solver-r".into(),
            hostnames: vec!["192.0.2.7".into()],
            ..Default::default()
        });
        let f = has(&cert, &cluster, Code::IpIdentifier).expect("ip");
        assert_eq!((f.severity, f.proof), (Severity::Error, Proof::Proves));
        cert.challenges[0].solver_routes[0].hostnames.clear();
        let f = has(&cert, &cluster, Code::IpIdentifier).expect("ip info");
        assert_eq!(f.severity, Severity::Info);
        let (cert, cluster) = base();
        assert!(has(&cert, &cluster, Code::IpIdentifier).is_none());
    }
}
