//! CERT_MANAGER_MISSING for one Certificate: it is not Ready and cert-manager has left no trace
//! on it — no condition at all, no CertificateRequest, no Order, no Challenge. cert-manager's
//! readiness controller sets `Ready` on every Certificate it sees
//! (`pkg/controller/certificates/readiness`), so a Certificate without conditions has not been
//! seen: the controller is down, does not watch this namespace, or the Certificate was created a
//! moment ago.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Certificate;

pub(crate) fn not_acted_on(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    if !cert.conditions.is_empty()
        || cert.request.is_some()
        || cert.order.is_some()
        || !cert.challenges.is_empty()
    {
        return vec![];
    }
    let cm = input.cluster.cert_manager.as_ref();
    let (ns, deploy) = cm.map_or(("cert-manager", "cert-manager"), |c| {
        (c.namespace.as_str(), c.deployment.as_str())
    });
    let (severity, proof, controller) = match cm.map(|c| c.ready_replicas) {
        None => (
            Severity::Error,
            Proof::Supports,
            "no cert-manager controller Deployment was found (or Deployments could not be listed)"
                .to_owned(),
        ),
        Some(Some(n)) if n <= 0 => (
            Severity::Error,
            Proof::Proves,
            format!("the cert-manager controller {ns}/{deploy} has no ready replica"),
        ),
        Some(n) => (
            Severity::Warning,
            Proof::Supports,
            format!(
                "the cert-manager controller {ns}/{deploy} has {} ready replica(s): it runs, but has not acted on this Certificate (it may watch only some namespaces (--namespace), or the Certificate is seconds old)",
                n.unwrap_or(0)
            ),
        ),
    };
    vec![
        Finding::new(
            Code::CertManagerMissing,
            severity,
            proof,
            format!(
                "cert-manager has not acted on Certificate {}/{}: it has no condition, no CertificateRequest, no Order and no Challenge",
                cert.namespace, cert.name
            ),
        )
        .evidence("Certificate status.conditions is empty (cert-manager sets Ready on every Certificate it sees)")
        .evidence(controller)
        .fix(format!(
            "check that the controller runs and watches namespace {}: kubectl -n {ns} get deploy {deploy}; kubectl -n {ns} logs deploy/{deploy} | grep {}/{}; kubectl -n {ns} get deploy {deploy} -o jsonpath='{{.spec.template.spec.containers[0].args}}' (look for --namespace)",
            cert.namespace, cert.namespace, cert.name
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::findings;
    use crate::diagnose::testdata::stuck_with_controller;

    #[test]
    fn a_certificate_cert_manager_never_touched() {
        let (mut cert, mut cluster) = stuck_with_controller();
        // `--all -A`: not Ready, nothing at all.
        cert.conditions.clear();
        cert.request = None;
        cert.order = None;
        cert.challenges.clear();
        let run = |cert: &crate::evidence::CertificateEvidence,
                   cluster: &crate::evidence::ClusterEvidence| {
            findings(&Certificate { cert, cluster })
                .into_iter()
                .find(|f| f.code == Code::CertManagerMissing)
        };
        let f = run(&cert, &cluster).expect("not acted on");
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            f.summary
                .starts_with("cert-manager has not acted on Certificate shop/web"),
            "{}",
            f.summary
        );
        if let Some(cm) = cluster.cert_manager.as_mut() {
            cm.ready_replicas = Some(0);
        }
        assert_eq!(
            run(&cert, &cluster).map(|f| f.severity),
            Some(Severity::Error)
        );
        cluster.cert_manager = None;
        assert_eq!(
            run(&cert, &cluster).map(|f| f.severity),
            Some(Severity::Error)
        );
        // Any trace of cert-manager (a Ready condition): not this.
        cert.conditions.push(crate::evidence::Condition {
            type_: "Ready".into(),
            status: "False".into(),
            reason: Some("DoesNotExist".into()),
            ..Default::default()
        });
        assert!(run(&cert, &cluster).is_none());
    }
}
