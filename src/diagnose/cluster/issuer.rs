//! ISSUER_NOT_FOUND, ISSUER_NOT_READY, ISSUER_NOT_ACME: the certificate's issuer is missing,
//! not ready, or not an ACME issuer.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::issuer_kind_cmd;
use crate::diagnose::view::Certificate;
use crate::evidence::condition;

pub(crate) fn issuer_problems(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let r = &cert.issuer_ref;
    let who = format!("{} {}", r.kind_or_default(), r.name);
    let Some(issuer) = &cert.issuer else {
        let why = cert
            .issuer_problem
            .clone()
            .unwrap_or_else(|| "not found".into());
        return vec![
            Finding::new(
                Code::IssuerNotFound,
                Severity::Error,
                Proof::Proves,
                format!("the certificate's issuer {who} cannot be used: {why}"),
            )
            .evidence(format!("Certificate {} spec.issuerRef: {who}", cert.name))
            .fix(format!(
                "create the {} or point spec.issuerRef at an existing one: kubectl get issuers,clusterissuers -A",
                r.kind_or_default()
            )),
        ];
    };
    let mut out = Vec::new();
    match condition(&issuer.conditions, "Ready") {
        Some(c) if c.status == "True" => {}
        other => {
            let detail = other
                .map(|c| {
                    format!(
                        "Ready={} {}: {}",
                        c.status,
                        c.reason.as_deref().unwrap_or(""),
                        c.message.as_deref().unwrap_or("")
                    )
                })
                .unwrap_or_else(|| "no Ready condition".into());
            out.push(
                Finding::new(
                    Code::IssuerNotReady,
                    Severity::Error,
                    Proof::Proves,
                    format!("{who} is not ready, so no order can be placed"),
                )
                .evidence(detail)
                .fix(format!(
                    "kubectl describe {} — fix the ACME account (email, server URL, account key Secret)",
                    issuer_kind_cmd(cert)
                )),
            );
        }
    }
    if issuer.acme.is_none() {
        out.push(
            Finding::new(
                Code::IssuerNotAcme,
                Severity::Info,
                Proof::Proves,
                format!("{who} is not an ACME issuer: HTTP-01 does not apply"),
            )
            .evidence(format!("{} has no spec.acme", issuer_kind_cmd(cert)))
            .fix("use kubectl describe certificaterequest to see this issuer's own errors"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::codes;
    use crate::diagnose::testdata::stuck;

    #[test]
    fn issuer_missing_and_not_ready() {
        let (mut cert, cluster) = stuck();
        cert.issuer.as_mut().unwrap().conditions[0].status = "False".into();
        assert!(codes(&cert, &cluster).contains(&(Code::IssuerNotReady, Proof::Proves)));
        cert.issuer = None;
        cert.issuer_problem = Some("clusterissuers.cert-manager.io \"le\" not found".into());
        assert!(codes(&cert, &cluster).contains(&(Code::IssuerNotFound, Proof::Proves)));
    }
}
