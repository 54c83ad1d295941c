//! PROXY_PROTOCOL_MISMATCH: plain requests fail, the same requests with a PROXY protocol v1
//! preamble pass (from either vantage, to the challenge URL or a data plane asked directly).

use super::util::{Owner, count, direct_text, lb_owner};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{outcome_summary, outcome_text};
use crate::diagnose::view::Vantages;
use crate::probe::plan::{OutcomeCount, ProxyProtocolProbe};

fn followup_text(p: &ProxyProtocolProbe) -> String {
    p.outcomes
        .iter()
        .map(outcome_text)
        .collect::<Vec<_>>()
        .join("  ")
}

/// The preamble made a difference: requests pass with it, or plain requests got no response
/// and ones with it did, or plain ones got only 400 and ones with it something else. (A plain
/// 400 that stays 400, e.g. plain HTTP to a TLS port, is not PROXY protocol.)
fn preamble_helps(plain: &[OutcomeCount], p: &ProxyProtocolProbe) -> bool {
    let plain_responses = count(plain, |o| o.status.is_some());
    let plain_400_only =
        plain_responses > 0 && plain.iter().all(|o| o.status.is_none_or(|s| s == 400));
    p.cert_manager_passes > 0
        || (plain_responses == 0 && p.responses > 0)
        || (plain_400_only
            && p.outcomes
                .iter()
                .any(|o| o.status.is_some_and(|s| s != 400)))
}

pub(crate) fn proxy_protocol_mismatch(c: &Vantages) -> Vec<Finding> {
    // (vantage, what, ip, plain outcomes, follow-up, plain got responses)
    let mut seen: Vec<(&str, String, String, String, &ProxyProtocolProbe, bool)> = Vec::new();
    for (vantage, t) in [("this machine", c.local), ("inside the cluster", c.inside)] {
        let Some(t) = t else { continue };
        for a in &t.addresses {
            if let Some(p) = a
                .with_proxy_protocol
                .as_ref()
                .filter(|p| preamble_helps(&a.outcomes, p))
            {
                let answered = a.outcomes.iter().any(|o| o.status.is_some());
                seen.push((
                    vantage,
                    a.address.clone(),
                    a.address.clone(),
                    outcome_summary(a),
                    p,
                    answered,
                ));
            }
        }
        for d in &t.direct {
            if let Some(p) = d
                .with_proxy_protocol
                .as_ref()
                .filter(|p| preamble_helps(&d.outcomes, p))
            {
                let ip = d
                    .address
                    .parse::<std::net::SocketAddr>()
                    .map_or_else(|_| d.address.clone(), |s| s.ip().to_string());
                let answered = d.outcomes.iter().any(|o| o.status.is_some());
                seen.push((
                    vantage,
                    format!("{} ({})", d.label, d.address),
                    ip,
                    direct_text(d),
                    p,
                    answered,
                ));
            }
        }
    }
    let Some((vantage, what, ip, _, p, answered)) = seen.first() else {
        return vec![];
    };
    let owner = lb_owner(c.cluster, ip);
    let mut f = Finding::new(
        Code::ProxyProtocolMismatch,
        Severity::Error,
        Proof::Proves,
        format!(
            "{what} {} plain requests from {vantage} but answers when they start with a PROXY protocol header ({} of {} passed with it): the listener expects PROXY protocol, which {} does not carry",
            if *answered { "answers 400 to" } else { "closes" },
            p.cert_manager_passes,
            p.attempts,
            if *vantage == "inside the cluster" {
                "in-cluster traffic short-circuited by kube-proxy"
            } else {
                "this path"
            }
        ),
    )
    .challenge(&c.ch.name);
    for (v, w, _, plain, p, _) in &seen {
        let v = if *v == "this machine" {
            *v
        } else {
            "in cluster"
        };
        f = f
            .evidence(format!("{v}: {w} plain: {plain}"))
            .evidence(format!(
                "{v}: {w} with PROXY v1 preamble: {}",
                followup_text(p)
            ));
    }
    let service = owner.as_ref().map_or_else(
        || "the ingress controller's LoadBalancer Service".to_owned(),
        Owner::object,
    );
    vec![f.fix(format!(
        "make in-cluster traffic go through the load balancer too, or stop requiring PROXY protocol: have the cloud controller set status.loadBalancer.ingress[].ipMode: Proxy on {service} (Kubernetes ≥ 1.30), or use the provider's hostname workaround (DigitalOcean service.beta.kubernetes.io/do-loadbalancer-hostname, Hetzner load-balancer.hetzner.cloud/hostname, Scaleway service.beta.kubernetes.io/scw-loadbalancer-use-hostname), or disable PROXY protocol on both the LB and the controller (ingress-nginx ConfigMap use-proxy-protocol); or DNS-01"
    ))]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::{codes, run};
    use crate::probe::plan::ErrorClass;

    #[test]
    fn proxy_protocol_plain_fails_preamble_passes() {
        let l = outside_ok();
        let mut a = addr(EDGE, vec![err(ErrorClass::Eof, 66)]);
        a.with_proxy_protocol = Some(ProxyProtocolProbe {
            attempts: 5,
            cert_manager_passes: 5,
            responses: 5,
            outcomes: vec![ok("nginx", 5)],
        });
        let f = run(Some(&l), &ran(inside(vec![a.clone()], vec![])), &cluster());
        assert_eq!(codes(&f), [Code::ProxyProtocolMismatch]);
        assert_eq!(f[0].proof, Proof::Proves);
        assert!(
            f[0].summary.contains("(5 of 5 passed with it)"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].evidence
                .contains(&"in cluster: 203.0.113.10 plain: 66×eof".to_owned()),
            "{:?}",
            f[0].evidence
        );
        assert!(
            f[0].fix
                .contains("ipMode: Proxy on Service ingress-nginx/ingress-nginx-controller"),
            "{}",
            f[0].fix
        );
        // Plain HTTP to a TLS port: 400 with and without the preamble is not PROXY protocol.
        let mut tls_port = addr(EDGE, vec![status(400, "nginx", 66)]);
        tls_port.with_proxy_protocol = Some(ProxyProtocolProbe {
            attempts: 5,
            responses: 5,
            outcomes: vec![status(400, "nginx", 5)],
            ..Default::default()
        });
        assert!(
            run(
                Some(&l),
                &ran(inside(vec![tls_port.clone()], vec![])),
                &cluster()
            )
            .is_empty()
        );
        // 400 plain, 404 with the preamble: the listener does read PROXY protocol.
        tls_port.with_proxy_protocol.as_mut().unwrap().outcomes = vec![status(404, "nginx", 5)];
        let f = run(Some(&l), &ran(inside(vec![tls_port], vec![])), &cluster());
        assert_eq!(codes(&f), [Code::ProxyProtocolMismatch]);
        assert!(
            f[0].summary
                .contains("answers 400 to plain requests from inside the cluster"),
            "{}",
            f[0].summary
        );
        // The preamble did not help either: no finding.
        a.with_proxy_protocol = Some(ProxyProtocolProbe {
            attempts: 5,
            outcomes: vec![err(ErrorClass::Eof, 5)],
            ..Default::default()
        });
        assert!(
            !codes(&run(Some(&l), &ran(inside(vec![a], vec![])), &cluster()))
                .contains(&Code::ProxyProtocolMismatch)
        );
    }
}
