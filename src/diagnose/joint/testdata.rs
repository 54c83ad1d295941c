//! Fixtures of the joint rules' tests: outcomes, a local probe report, the stuck certificate,
//! an application Ingress.

pub use crate::diagnose::testdata::addr;
use crate::evidence::{CertificateEvidence, ClusterEvidence, IngressEvidence, IngressRuleEvidence};
use crate::probe::plan::{
    AddressReport, DnsReport, ErrorClass, KeyMatch, OutcomeCount, ResolverAnswer, TargetReport,
};

/// An outcome that passes (200 + key) or not.
pub fn oc(
    status: Option<u16>,
    err: Option<ErrorClass>,
    who: &str,
    pass: bool,
    n: u32,
) -> OutcomeCount {
    let km = if pass { KeyMatch::Exact } else { KeyMatch::No };
    crate::diagnose::testdata::oc(status, err, who, km, n)
}

pub fn probe(addresses: Vec<AddressReport>) -> TargetReport {
    TargetReport {
        dns: DnsReport {
            resolvers: vec![ResolverAnswer {
                resolver: "system".into(),
                role: "primary".into(),
                a: addresses.iter().map(|a| a.address.clone()).collect(),
                ..Default::default()
            }],
            ip_literal: false,
            ..Default::default()
        },
        addresses,
        ..Default::default()
    }
}

/// The shared stuck-in-self-check fixture (nginx solver Ingress, one ingress-nginx plane).
pub fn base() -> (CertificateEvidence, ClusterEvidence) {
    crate::diagnose::testdata::stuck()
}

pub fn healthy_probe() -> TargetReport {
    probe(vec![addr(
        "203.0.113.10",
        vec![oc(Some(200), None, "acmesolver", true, 66)],
    )])
}

pub fn app_ingress(
    annotation: Option<(&str, &str)>,
    path: &str,
    path_type: &str,
) -> IngressEvidence {
    IngressEvidence {
        namespace: "shop".into(),
        name: "web".into(),
        class_name: Some("nginx".into()),
        rules: vec![IngressRuleEvidence {
            host: "shop.example.com".into(),
            path: path.into(),
            path_type: Some(path_type.into()),
            service: Some("web".into()),
            port: Some(80),
        }],
        relevant_annotations: annotation
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ..Default::default()
    }
}
