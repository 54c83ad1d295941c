//! VERSION_PITFALL (RC36): the running cert-manager version is in a known-issue range **and**
//! the matching symptom shows in the Challenge reason or the solver pod's state.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{issuer_kind_cmd, open_http01, solver_patch};
use crate::diagnose::view::Certificate;
use crate::evidence::{CertificateEvidence, ChallengeEvidence};

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
pub(crate) fn version_pitfall(input: &Certificate) -> Vec<Finding> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::has;
    use crate::diagnose::testdata::stuck_with_controller as base;

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
}
