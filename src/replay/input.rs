//! [`ReplayInput`]: the names to replay and what cert-manager would know when it picks their
//! solver.

use crate::evidence::{
    AuthorizationEvidence, CertificateEvidence, ChallengeEvidence, IngressEvidence, IssuerEvidence,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a replay is about: the names, and what cert-manager would know when it picks a solver.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayInput {
    /// Where the stand-ins go: the Certificate's namespace (cert-manager creates its solver
    /// objects in the Challenge's namespace, which is the Certificate's).
    pub namespace: String,
    /// For people: `Certificate shop/web-tls`, `preflight`.
    pub subject: String,
    /// The names, as the Order would list them (dnsNames, ipAddresses, a qualifying commonName).
    pub names: Vec<String>,
    /// The Certificate's labels (the Order's, for `matchLabels`).
    pub labels: BTreeMap<String, String>,
    /// The Certificate's annotations (the override annotations cert-manager copies to the Order).
    pub annotations: BTreeMap<String, String>,
    pub issuer: Option<IssuerEvidence>,
    /// Why the issuer is missing, when it is.
    pub issuer_problem: Option<String>,
    /// The Order's authorizations, when there is one (which challenge types the CA offers).
    pub authorizations: Vec<AuthorizationEvidence>,
    /// Every known Challenge for these names (this Certificate's and others'): the guard.
    pub challenges: Vec<ChallengeEvidence>,
    /// The Ingresses that edit-in-place solvers name (read them for [`ReplayInput::edit_in_place_names`]);
    /// one missing here is taken as absent.
    pub ingresses: Vec<IngressEvidence>,
}

/// `validation.IsFullyQualifiedDomainName`: lowercase RFC 1123 labels, at least two.
fn is_fqdn(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    s.len() <= 253 && s.split('.').count() >= 2 && s.split('.').all(label_ok)
}

impl ReplayInput {
    /// The input for a Certificate as gathered. Its annotations are not part of the evidence:
    /// set [`ReplayInput::annotations`] from the Certificate for the override annotations.
    pub fn from_certificate(cert: &CertificateEvidence) -> ReplayInput {
        let mut names: Vec<String> = Vec::new();
        let cn = cert
            .common_name
            .iter()
            .filter(|cn| cn.parse::<std::net::IpAddr>().is_ok() || is_fqdn(cn));
        for n in cert.dns_names.iter().chain(&cert.ip_addresses).chain(cn) {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        ReplayInput {
            namespace: cert.namespace.clone(),
            subject: format!("Certificate {}/{}", cert.namespace, cert.name),
            names,
            labels: cert.labels.clone(),
            annotations: BTreeMap::new(),
            issuer: cert.issuer.clone(),
            issuer_problem: cert.issuer_problem.clone(),
            authorizations: cert
                .order
                .as_ref()
                .map(|o| o.authorizations.clone())
                .unwrap_or_default(),
            challenges: cert.challenges.clone(),
            ingresses: Vec::new(),
        }
    }
}

impl ReplayInput {
    /// The input for a Certificate as gathered, completed from the snapshot gather read: its
    /// annotations (the Order's override annotations come from them), every Challenge in its
    /// namespace (the live-challenge guard must see other Certificates' challenges for the same
    /// names too), and the Ingresses its edit-in-place solvers name.
    pub fn for_certificate(
        cert: &CertificateEvidence,
        snap: &crate::gather::Snapshot,
    ) -> ReplayInput {
        use crate::gather::context;
        let mut input = ReplayInput::from_certificate(cert);
        input.annotations = context::certificate_annotations(snap, &cert.namespace, &cert.name);
        for ch in context::challenges_in(snap, &cert.namespace) {
            if !input.challenges.iter().any(|c| c.name == ch.name) {
                input.challenges.push(ch);
            }
        }
        let names = input.edit_in_place_names();
        input.ingresses = context::ingresses_named(snap, &cert.namespace, &names);
        input
    }
}
