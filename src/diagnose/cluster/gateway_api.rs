//! GATEWAY_API_DISABLED: the solver uses an HTTPRoute while Gateway API is not served or not
//! enabled in cert-manager.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::open_http01;
use crate::diagnose::view::Certificate;

pub(crate) fn gateway_api_disabled(input: &Certificate) -> Vec<Finding> {
    let (cert, cluster) = (input.cert, input.cluster);
    let mut out = Vec::new();
    for ch in open_http01(cert) {
        if ch
            .solver
            .http01
            .as_ref()
            .and_then(|h| h.gateway_http_route.as_ref())
            .is_none()
        {
            continue;
        }
        let said = ch.reason.as_deref().is_some_and(|r| {
            r.to_ascii_lowercase()
                .contains("gateway api is not enabled")
        });
        let flag_off = cluster
            .cert_manager
            .as_ref()
            .is_some_and(|c| !c.gateway_api_enabled);
        if !(said || flag_off || !cluster.gateway_api_installed) {
            continue;
        }
        let mut f = Finding::new(
            Code::GatewayApiDisabled,
            Severity::Error,
            if said || !cluster.gateway_api_installed {
                Proof::Proves
            } else {
                Proof::Supports
            },
            "the solver uses a Gateway API HTTPRoute, but Gateway API support is off",
        )
        .challenge(&ch.name);
        if !cluster.gateway_api_installed {
            f = f.evidence("the gateway.networking.k8s.io/v1 API is not served by this cluster");
        }
        if let Some(cm) = &cluster.cert_manager {
            f = f.evidence(format!(
                "cert-manager controller {}/{}: Gateway API {}",
                cm.namespace,
                cm.deployment,
                if cm.gateway_api_enabled {
                    "enabled"
                } else {
                    "not enabled (no --enable-gateway-api / ExperimentalGatewayAPISupport)"
                }
            ));
        }
        if said && let Some(r) = &ch.reason {
            f = f.evidence(format!("Challenge reason: {r}"));
        }
        out.push(f.fix(
            "install the Gateway API CRDs, then enable it in cert-manager (Helm: --set config.enableGatewayAPI=true) and restart the controller",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::codes;
    use crate::diagnose::testdata::{ch, stuck};
    use crate::evidence::*;

    #[test]
    fn gateway_api_off() {
        let (mut cert, mut cluster) = stuck();
        let c = ch(&mut cert);
        c.solver.http01 = Some(Http01Solver {
            ingress: None,
            gateway_http_route: Some(Http01GatewayRoute {
                parent_refs: vec![ParentRef {
                    name: "public".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        });
        c.solver_ingresses.clear();
        c.presented = false;
        c.reason = Some("Waiting for HTTP-01 challenge propagation: couldn't Present challenge shop/web-1-123-456: gateway api is not enabled".into());
        cluster.gateway_api_installed = false;
        let got = codes(&cert, &cluster);
        assert_eq!(got, vec![(Code::GatewayApiDisabled, Proof::Proves)]);
    }
}
