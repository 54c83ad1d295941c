//! What a replay needs from the snapshot beyond a certificate's evidence (pure): the
//! Certificate's annotations (cert-manager copies them to the Order, where the HTTP-01 override
//! annotations change the solver), every Challenge in its namespace (the live-challenge guard),
//! the Ingresses an edit-in-place solver names, and the Ingresses that serve a name.

use super::assemble::{host_ingresses_for, ingress_evidence};
use super::snapshot::Snapshot;
use crate::evidence::{ChallengeEvidence, IngressEvidence};
use std::collections::BTreeMap;

/// Annotations cert-manager copies from a Certificate to its CertificateRequest and Order that
/// matter to solver selection (`acme.cert-manager.io/…`); the rest (last-applied
/// configurations, tooling) is left out.
pub fn certificate_annotations(snap: &Snapshot, ns: &str, name: &str) -> BTreeMap<String, String> {
    snap.certificates
        .iter()
        .find(|c| c.namespace() == ns && c.name() == name)
        .and_then(|c| c.metadata.annotations.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k.starts_with("acme.cert-manager.io/"))
        .collect()
}

/// Every Challenge in `ns` (of any Certificate), with the fields the live-challenge guard reads.
pub fn challenges_in(snap: &Snapshot, ns: &str) -> Vec<ChallengeEvidence> {
    snap.challenges
        .iter()
        .filter(|c| c.namespace() == ns)
        .map(|c| ChallengeEvidence {
            name: c.name().to_owned(),
            uid: c.uid().to_owned(),
            dns_name: c.spec.dns_name.clone(),
            wildcard: c.spec.wildcard,
            type_: c.spec.type_.clone(),
            processing: c.status.processing,
            presented: c.status.presented,
            state: c.status.state.clone().unwrap_or_default(),
            ..Default::default()
        })
        .collect()
}

/// The Ingresses `names` in `ns`, as evidence (edit-in-place solvers); missing ones are left
/// out (the plan then says the Ingress does not exist).
pub fn ingresses_named(snap: &Snapshot, ns: &str, names: &[String]) -> Vec<IngressEvidence> {
    snap.ingresses
        .iter()
        .filter(|i| {
            i.metadata.namespace.as_deref() == Some(ns)
                && i.metadata.name.as_ref().is_some_and(|n| names.contains(n))
        })
        .map(|i| ingress_evidence(i, true))
        .collect()
}

/// The other Ingresses with a rule for the stand-in's name (they may capture its path).
pub fn host_ingresses(snap: &Snapshot, ch: &ChallengeEvidence) -> Vec<IngressEvidence> {
    host_ingresses_for(snap, ch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap() -> Snapshot {
        Snapshot::from_yaml(
            r#"
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: web
  namespace: shop
  annotations:
    acme.cert-manager.io/http01-override-ingress-name: web
    kubectl.kubernetes.io/last-applied-configuration: "{}"
spec: {dnsNames: [shop.example.test]}
---
apiVersion: acme.cert-manager.io/v1
kind: Challenge
metadata: {name: old-1, namespace: shop}
spec: {dnsName: shop.example.test, type: HTTP-01, token: t}
status: {state: invalid}
---
apiVersion: acme.cert-manager.io/v1
kind: Challenge
metadata: {name: other-1, namespace: blog}
spec: {dnsName: shop.example.test, type: HTTP-01, token: t}
status: {state: pending, processing: true, presented: true}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  ingressClassName: gce
  rules: [{host: shop.example.test, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
"#,
        )
        .unwrap()
    }

    #[test]
    fn annotations_challenges_and_ingresses_of_a_namespace() {
        let s = snap();
        let a = certificate_annotations(&s, "shop", "web");
        assert_eq!(
            a.into_iter().collect::<Vec<_>>(),
            [(
                "acme.cert-manager.io/http01-override-ingress-name".to_owned(),
                "web".to_owned()
            )]
        );
        assert!(certificate_annotations(&s, "shop", "nope").is_empty());
        let ch = challenges_in(&s, "shop");
        assert_eq!(ch.len(), 1);
        assert_eq!(
            (ch[0].name.as_str(), ch[0].state.as_str(), ch[0].presented),
            ("old-1", "invalid", false)
        );
        let ing = ingresses_named(&s, "shop", &["web".to_owned(), "gone".to_owned()]);
        assert_eq!(ing.len(), 1);
        assert!(ing[0].edit_in_place);
        assert_eq!(ing[0].class_name.as_deref(), Some("gce"));
        let stand_in = ChallengeEvidence {
            dns_name: "shop.example.test".into(),
            ..Default::default()
        };
        let hosts = host_ingresses(&s, &stand_in);
        assert_eq!(hosts.len(), 1);
        assert_eq!(hosts[0].name, "web");
    }
}
