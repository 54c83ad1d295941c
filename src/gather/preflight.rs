//! The reads of a pre-flight (`kubectl acmecheck preflight`): no Certificate exists yet, so the
//! names and the issuer come from the command line or from an Ingress/Gateway through
//! [`super::shim`], and the tool builds the Certificate cert-manager would get. The snapshot
//! then holds that Certificate, its issuer, the namespace's Challenges (the live-challenge
//! guard) and the cluster context a diagnosis reads (Services, Ingresses, HTTPRoutes, classes,
//! Deployments, Gateways); [`super::assemble`] joins it as for any certificate.
//!
//! Requests: the resource (get, when named), challenges, services, ingresses, httproutes,
//! ingressclasses, deployments, gateways (lists, in parallel), then the issuer (get).

use super::fetch::{
    CHALLENGES, DEPLOYMENTS, GATEWAYS, HTTP_ROUTES, INGRESS_CLASSES, INGRESSES, ReadError,
    SERVICES, chain_error, decode_into, get, issuers, list, optional,
};
use super::shim::{self, ShimDefaults, ShimKind};
use super::{Scope, Snapshot};
use crate::error::UserError;
use serde_json::{Value, json};

/// What a pre-flight is about (from the command line).
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub namespace: String,
    /// `ingress/NAME` or `gateway/NAME`.
    pub resource: Option<String>,
    pub issuer: Option<String>,
    pub cluster_issuer: bool,
    pub hosts: Vec<String>,
}

/// What the reads found.
#[derive(Debug, Clone, Default)]
pub struct Preflight {
    /// With the pre-flight's Certificate (named [`CERTIFICATE_NAME`]) and its issuer.
    pub snap: Snapshot,
    /// `preflight of Ingress shop/web through ClusterIssuer letsencrypt-prod`.
    pub subject: String,
    /// What the shim skipped or the command line changed, for the report.
    pub notes: Vec<String>,
}

/// The name of the Certificate a pre-flight stands for (it is never created).
pub const CERTIFICATE_NAME: &str = "preflight";

fn resource_res(kind: ShimKind) -> super::fetch::Res {
    match kind {
        ShimKind::Ingress => INGRESSES,
        ShimKind::Gateway => super::fetch::GATEWAYS,
    }
}

/// Read the resource, the context and the issuer, and build the pre-flight's Certificate.
pub async fn fetch(client: &kube::Client, target: &Target) -> Result<Preflight, UserError> {
    let ns = target.namespace.as_str();
    let resource = match &target.resource {
        Some(r) => Some(shim::parse_resource(r).map_err(|e| {
            UserError::new(e).hint("kubectl acmecheck preflight ingress/NAME | gateway/NAME, or --issuer NAME --host HOST")
        })?),
        None => None,
    };
    let get_resource = async {
        match &resource {
            Some((kind, name)) => Some(get(client, &resource_res(*kind), Some(ns), name).await),
            None => None,
        }
    };
    let (obj, challenges, services, ingresses, routes, classes, deployments, gateways) = tokio::join!(
        get_resource,
        list(client, &CHALLENGES, Some(ns), None),
        list(client, &SERVICES, None, None),
        list(client, &INGRESSES, None, None),
        list(client, &HTTP_ROUTES, None, None),
        list(client, &INGRESS_CLASSES, None, None),
        list(client, &DEPLOYMENTS, None, None),
        list(client, &GATEWAYS, None, None),
    );
    let mut snap = Snapshot {
        cert_manager_installed: true,
        now: super::fetch::unix_now(),
        ..Snapshot::default()
    };
    // The Challenges decide which names may be replayed: without them, nothing is.
    let items = challenges.map_err(|e| chain_error(e, "list", &CHALLENGES, Some(ns)))?;
    decode_into(&mut snap, CHALLENGES.kind, items)?;
    snap.gateway_api_installed = !matches!(
        (&routes, &gateways),
        (Err(ReadError::NoSuchResource), _) | (_, Err(ReadError::NoSuchResource))
    );
    for (r, result) in [
        (&SERVICES, services),
        (&INGRESSES, ingresses),
        (&HTTP_ROUTES, routes),
        (&INGRESS_CLASSES, classes),
        (&DEPLOYMENTS, deployments),
        (&GATEWAYS, gateways),
    ] {
        let items = optional(&mut snap, r, None, result)?;
        decode_into(&mut snap, r.kind, items)?;
    }
    let cluster = super::dataplane::cluster(&snap);
    let defaults = ShimDefaults::from_args(
        cluster
            .cert_manager
            .as_ref()
            .map(|c| c.args.as_slice())
            .unwrap_or(&[]),
    );
    let mut notes = Vec::new();
    let mut cert = shim::ShimCertificate::default();
    let mut subject = String::from("preflight");
    if let (Some((kind, name)), Some(result)) = (&resource, obj) {
        let r = resource_res(*kind);
        let obj: Value = match result {
            Ok(v) => v,
            Err(ReadError::ObjectNotFound) => {
                return Err(
                    UserError::new(format!("{} {ns}/{name} not found", kind.name())).hint(format!(
                        "see them with kubectl get {} -n {ns}",
                        r.resource()
                    )),
                );
            }
            Err(e) => return Err(chain_error(e, "get", &r, Some(ns))),
        };
        cert = shim::certificate(*kind, &obj, &defaults);
        subject = format!("preflight of {} {ns}/{name}", kind.name());
        notes.extend(cert.skipped.iter().cloned());
        if cert.ignored {
            let msg = format!(
                "cert-manager's {} ignores {} {ns}/{name}: it has no cert-manager.io/issuer or cert-manager.io/cluster-issuer annotation{}",
                if *kind == ShimKind::Ingress {
                    "ingress-shim"
                } else {
                    "gateway-shim"
                },
                kind.name(),
                if *kind == ShimKind::Ingress {
                    format!(
                        " and none of {} set to \"true\"",
                        defaults.auto_annotations.join(", ")
                    )
                } else {
                    String::new()
                }
            );
            if target.issuer.is_none() {
                return Err(UserError::new(msg).hint(format!(
                    "annotate it (kubectl annotate {} {name} -n {ns} cert-manager.io/cluster-issuer=NAME), or name the issuer here with --issuer NAME [--cluster-issuer]",
                    r.resource()
                )));
            }
            notes.push(format!("{msg}; checked with --issuer as if it had one"));
        }
    }
    if let Some(i) = &target.issuer {
        let kind = if target.cluster_issuer {
            "ClusterIssuer"
        } else {
            "Issuer"
        };
        cert.issuer = Some((i.clone(), kind.to_owned(), "cert-manager.io".to_owned()));
        cert.issuer_error = None;
    }
    for h in &target.hosts {
        let h = h.trim().trim_end_matches('.');
        let list = if h.parse::<std::net::IpAddr>().is_ok() {
            &mut cert.ip_addresses
        } else {
            &mut cert.dns_names
        };
        if !h.is_empty() && !list.iter().any(|x| x == h) {
            list.push(h.to_owned());
        }
    }
    let Some((issuer, kind, group)) = cert.issuer.clone() else {
        let why = cert
            .issuer_error
            .clone()
            .unwrap_or_else(|| "no issuer named".to_owned());
        return Err(
            UserError::new(format!("cannot tell which issuer to check: {why}"))
                .hint("name it with --issuer NAME (add --cluster-issuer for a ClusterIssuer)"),
        );
    };
    if cert.dns_names.is_empty() && cert.ip_addresses.is_empty() {
        return Err(UserError::new(match &target.resource {
            Some(r) => format!("{r} names no host that cert-manager would put in a Certificate"),
            None => "no names to check".to_owned(),
        })
        .hint("give the names with --host HOST (repeatable)"));
    }
    subject = format!("{subject} through {kind} {issuer}");
    let mut status_message = format!(
        "no Certificate: a pre-flight of {} through {kind} {issuer}",
        cert.dns_names
            .iter()
            .chain(&cert.ip_addresses)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !cert.secrets.is_empty() {
        status_message.push_str(&format!(
            " (cert-manager would create a Certificate per secret: {})",
            cert.secrets.join(", ")
        ));
    }
    let obj = json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": CERTIFICATE_NAME, "namespace": ns,
            "labels": cert.labels, "annotations": cert.annotations},
        "spec": {"dnsNames": cert.dns_names, "ipAddresses": cert.ip_addresses,
            "commonName": cert.common_name,
            "secretName": cert.secrets.first().cloned().unwrap_or_default(),
            "issuerRef": {"name": issuer, "kind": kind, "group": group}},
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Preflight",
            "message": status_message}]},
    });
    snap.add("Certificate", obj)?;
    let scope = Scope {
        namespace: ns.to_owned(),
        names: vec![CERTIFICATE_NAME.to_owned()],
        all: false,
        all_namespaces: false,
    };
    issuers(client, &scope, &mut snap).await?;
    Ok(Preflight {
        snap,
        subject,
        notes,
    })
}
