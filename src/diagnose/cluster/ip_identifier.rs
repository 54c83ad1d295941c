//! IP_IDENTIFIER (RC39): a certificate for an IP address. The solver route must have no
//! hostnames and the Ingress rule no host; older cert-manager versions put the IP there and the
//! API refuses.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::open_http01;
use crate::diagnose::view::Certificate;

/// RC39: a certificate for an IP address. The solver route must have no hostnames and the
/// Ingress rule no host; older cert-manager versions put the IP there and the API refuses.
pub(crate) fn ip_identifier(input: &Certificate) -> Vec<Finding> {
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
    use super::*;
    use crate::diagnose::certificate::tests::has;
    use crate::diagnose::testdata::stuck_with_controller as base;
    use crate::evidence::RouteEvidence;

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
