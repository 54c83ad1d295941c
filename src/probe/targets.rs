//! Which challenges to probe and the plans for each vantage (pure: evidence in, plans out).

use crate::evidence::{CertificateEvidence, ChallengeEvidence, ClusterEvidence};
use crate::probe::plan::{
    CaProfile, DEFAULT_USER_AGENT, ProbeOptions, ProbePlan, ProxySettings, Target,
};
use crate::reason::{self, Phase};

/// The key a challenge's probe results are filed under.
pub fn probe_id(cert: &CertificateEvidence, ch: &ChallengeEvidence) -> String {
    format!("{}/{}", cert.namespace, ch.name)
}

/// Challenges worth probing: HTTP-01 in the self-check phase. Finished or failed challenges
/// have had their solver removed, so a probe would see 404 by design.
pub fn probe_candidates(cert: &CertificateEvidence) -> impl Iterator<Item = &ChallengeEvidence> {
    cert.challenges
        .iter()
        .filter(|c| c.is_http01() && reason::phase(c) == Phase::SelfCheck)
}

/// Which validation rules the issuer's ACME server applies.
pub fn ca_profile(server: &str) -> CaProfile {
    let s = server.to_ascii_lowercase();
    const PUBLIC: &[&str] = &[
        "letsencrypt.org",
        "zerossl.com",
        "pki.goog",
        "buypass.com",
        "ssl.com",
        "sectigo.com",
        "digicert.com",
    ];
    if PUBLIC.iter().any(|p| s.contains(p)) {
        CaProfile::Letsencrypt
    } else if s.contains("pebble") || s.contains(":14000/") {
        CaProfile::Pebble
    } else {
        CaProfile::Private
    }
}

/// The CA profile of a certificate's issuer (Let's Encrypt when the issuer is unknown).
pub fn cert_profile(cert: &CertificateEvidence) -> CaProfile {
    cert.issuer
        .as_ref()
        .and_then(|i| i.acme.as_ref())
        .map_or(CaProfile::Letsencrypt, |a| ca_profile(&a.server))
}

/// One target per challenge to probe, each with its issuer's CA profile.
pub fn targets(certs: &[CertificateEvidence]) -> Vec<Target> {
    certs
        .iter()
        .flat_map(|cert| {
            let profile = cert_profile(cert);
            probe_candidates(cert).map(move |ch| Target {
                id: probe_id(cert, ch),
                url: ch.challenge_url(),
                dns_name: ch.dns_name.clone(),
                token: ch.token.clone(),
                expected_key: ch.key.clone(),
                ca_profile: Some(profile),
            })
        })
        .collect()
}

/// cert-manager's self-check User-Agent for the controller's version.
pub fn user_agent(cluster: &ClusterEvidence) -> String {
    cluster
        .cert_manager
        .as_ref()
        .and_then(|c| c.version.as_deref())
        .map(|v| format!("cert-manager-challenges/{v} (linux/amd64) cert-manager/acmecheck"))
        .unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned())
}

/// The plan for this machine: the system resolver, no proxy settings from the cluster.
pub fn local_plan(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    attempts: Option<u32>,
) -> Option<ProbePlan> {
    let targets = targets(certs);
    (!targets.is_empty()).then(|| {
        ProbePlan::new(
            targets,
            ProbeOptions {
                attempts_per_address: attempts,
                user_agent: user_agent(cluster),
                vantage: Some("local".into()),
                ..Default::default()
            },
        )
    })
}

/// The plan for the probe pod: the self check's resolvers (`--acme-http01-solver-nameservers`)
/// and proxy environment, as the cert-manager controller has them.
pub fn in_cluster_plan(
    certs: &[CertificateEvidence],
    cluster: &ClusterEvidence,
    attempts: Option<u32>,
) -> Option<ProbePlan> {
    let targets = targets(certs);
    if targets.is_empty() {
        return None;
    }
    let cm = cluster.cert_manager.as_ref();
    let proxy = cm
        .filter(|c| c.http_proxy.is_some() || c.https_proxy.is_some())
        .map(|c| ProxySettings {
            http: c.http_proxy.clone(),
            https: c.https_proxy.clone(),
            no_proxy: c.no_proxy.clone(),
        });
    Some(ProbePlan::new(
        targets,
        ProbeOptions {
            attempts_per_address: attempts,
            user_agent: user_agent(cluster),
            nameservers: cm.map(|c| c.solver_nameservers.clone()).unwrap_or_default(),
            proxy,
            vantage: Some("in-cluster".into()),
            ..Default::default()
        },
    ))
}
