//! ACME_UNREACHABLE: the probe pod, placed and configured like the cert-manager controller
//! (namespace, node, resolvers, proxy settings), cannot reach the Issuer's ACME server at all
//! (the egress witness, `probe::egress`). Then no issuance can work, whatever the challenge URL
//! does.

use super::util::{cm_names, egress_line, pod_where};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::view::Vantages;
use crate::probe::plan::{ErrorClass, ResolverState};

pub(crate) fn acme_unreachable(c: &Vantages) -> Vec<Finding> {
    let Some(e) = c.inside.and_then(|i| i.egress.as_ref()) else {
        return vec![];
    };
    if e.reached() {
        return vec![];
    }
    // A lookup that failed because the pod reaches no resolver (or its resolver refuses or
    // fails for every name that must exist) is the pod's limitation (vantage_limits.rs); the
    // controller's own reason tells whether it shares it.
    let pod_resolver_down = c.inside.and_then(|i| i.health.as_ref()).is_some_and(|h| {
        h.resolvers.iter().any(|r| {
            r.resolver == "system"
                && matches!(
                    r.state,
                    ResolverState::Unreachable | ResolverState::Refuses | ResolverState::Fails
                )
        })
    });
    if pod_resolver_down && e.error_class.is_some_and(ErrorClass::is_dns) {
        return vec![];
    }
    let (ns, deploy) = cm_names(c.cluster);
    let pod = pod_where(c.in_cluster);
    let host = crate::probe::http::Url::parse(&e.url)
        .map(|u| u.host)
        .unwrap_or_else(|_| e.url.clone());
    let why = match (e.error_class, &e.proxy) {
        (Some(ErrorClass::ProxyError), Some(p)) => format!(
            "the controller's HTTPS_PROXY {p} did not connect it: fix the proxy (or its allow-list for {host}), or exclude what it must not handle with NO_PROXY"
        ),
        (Some(c), _) if c.is_dns() => format!(
            "the name {host} does not resolve from namespace {ns}: check the cluster DNS (and its upstream resolvers) and that egress UDP/TCP 53 is allowed for the controller"
        ),
        (_, Some(p)) => format!(
            "through the controller's HTTPS_PROXY {p}: check that the proxy lets {host}:443 through"
        ),
        _ => format!(
            "allow egress TCP 443 to {host} for the cert-manager controller: kubectl -n {ns} get networkpolicy (Helm: networkPolicy.egress of deployment {deploy}; Cilium/Calico policies too), a firewall or security group on the nodes, or set HTTPS_PROXY on the controller where only a proxy may go out"
        ),
    };
    let f = Finding::new(
        Code::AcmeUnreachable,
        Severity::Error,
        Proof::Proves,
        format!(
            "the controller's namespace ({ns}) cannot reach the ACME server {}: {pod} got {} — cert-manager cannot issue from there at all (no order, no challenge acceptance, no certificate)",
            e.url,
            e.error_class.map_or("no answer", ErrorClass::as_str)
        ),
    )
    .evidence(egress_line(e))
    .evidence("the probe pod asks the directory URL once, as the controller does before every ACME request (its resolver, its HTTPS_PROXY/NO_PROXY)");
    vec![f.fix(why)]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::{codes, run};
    use crate::probe::plan::EgressReport;

    fn witness(
        status: Option<u16>,
        class: Option<ErrorClass>,
        proxy: Option<&str>,
    ) -> EgressReport {
        EgressReport {
            url: "https://acme-v02.api.letsencrypt.org/directory".into(),
            proxy: proxy.map(str::to_owned),
            address: "192.0.2.41:443".into(),
            status,
            error_class: class,
            error: class.map(|_| "dial tcp 192.0.2.41:443: i/o timeout".to_owned()),
            responder: "-".into(),
            total_ms: 10_000,
        }
    }

    #[test]
    fn blocked_egress_to_the_acme_server() {
        let l = outside_ok();
        let mut i = inside_edge(vec![ok("nginx", 66)], vec![nginx_serves()]);
        i.egress = Some(witness(None, Some(ErrorClass::ConnectTimeout), None));
        let f = run(Some(&l), &ran(i.clone()), &cluster());
        assert_eq!(codes(&f), [Code::AcmeUnreachable]);
        assert!(
            f[0].challenge.is_none(),
            "one finding per certificate, not per challenge"
        );
        assert!(
            f[0].summary.starts_with("the controller's namespace (cert-manager) cannot reach the ACME server https://acme-v02.api.letsencrypt.org/directory: the probe pod (namespace cert-manager) got connect_timeout"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].fix
                .contains("allow egress TCP 443 to acme-v02.api.letsencrypt.org"),
            "{}",
            f[0].fix
        );
        assert!(
            f[0].evidence[0].starts_with("egress witness: the probe pod could not reach the ACME server https://acme-v02.api.letsencrypt.org/directory (192.0.2.41:443): connect_timeout"),
            "{}",
            f[0].evidence[0]
        );
        // DNS and proxy failures say where to look.
        i.egress = Some(witness(None, Some(ErrorClass::DnsNxdomain), None));
        let f = run(Some(&l), &ran(i.clone()), &cluster());
        assert!(
            f[0].fix
                .contains("does not resolve from namespace cert-manager"),
            "{}",
            f[0].fix
        );
        i.egress = Some(witness(
            None,
            Some(ErrorClass::ProxyError),
            Some("http://192.0.2.8:3128"),
        ));
        let f = run(Some(&l), &ran(i.clone()), &cluster());
        assert!(
            f[0].fix.starts_with(
                "the controller's HTTPS_PROXY http://192.0.2.8:3128 did not connect it"
            ),
            "{}",
            f[0].fix
        );
        // Any answer is a reached server: no finding.
        i.egress = Some(witness(Some(404), None, None));
        assert!(run(Some(&l), &ran(i), &cluster()).is_empty());
    }
}
