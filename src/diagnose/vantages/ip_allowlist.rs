//! IP_ALLOWLIST: one vantage gets 403 where the other gets the key: a source-address allow-list.

use super::util::{address, controller_proxy, count, forbidden};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantages;
use crate::probe::plan::AddressReport;

pub(crate) fn ip_allowlist(c: &Vantages) -> Vec<Finding> {
    let (Some(local), Some(inside)) = (c.local, c.inside) else {
        return vec![];
    };
    // Through the controller's HTTP proxy a 403 is the proxy's (SELFCHECK_VIA_PROXY).
    let proxied = controller_proxy(c).is_some();
    let mut out = Vec::new();
    for l in &local.addresses {
        let Some(i) = address(inside, &l.address) else {
            continue;
        };
        let (denied, allowed, denied_side, allowed_side, consequence) = if forbidden(l)
            && i.cert_manager_passes > 0
        {
            (
                l,
                i,
                "this machine",
                "inside the cluster",
                if c.ca.is_public() {
                    "the self check may pass while the CA, validating from several unpublished places on the Internet, gets 403 like this machine"
                } else {
                    "the self check may pass while the ACME server, if it reaches the edge like this machine, gets 403"
                },
            )
        } else if forbidden(i) && l.cert_manager_passes > 0 && !proxied {
            (
                i,
                l,
                "inside the cluster",
                "this machine",
                "cert-manager's self check gets 403 and never passes",
            )
        } else {
            continue;
        };
        let who = |a: &AddressReport| a.responders().join("/");
        let same_server = who(denied) == who(allowed);
        let proof = if same_server {
            Proof::Proves
        } else {
            Proof::Supports
        };
        let mut f = Finding::new(
            Code::IpAllowlist,
            Severity::Error,
            proof,
            format!(
                "{} answers 403 to {denied_side} ({} of {}) but serves the key to {allowed_side} ({} of {}){}: a source-address allow-list; {consequence}",
                l.address,
                count(&denied.outcomes, |o| o.status == Some(403)),
                denied.attempts,
                allowed.cert_manager_passes,
                allowed.attempts,
                if same_server { format!(", the same server ({})", who(denied)) } else { String::new() }
            ),
        )
        .challenge(&c.ch.name)
        .evidence(format!("this machine: {}  {}", l.address, outcome_summary(l)))
        .evidence(format!("in cluster: {}  {}", i.address, outcome_summary(i)));
        let mut ingresses = Vec::new();
        for ing in &c.ch.solver_ingresses {
            for (k, v) in &ing.relevant_annotations {
                let k_l = k.to_ascii_lowercase();
                if k_l.contains("source-range")
                    || k_l.contains("allowlist")
                    || k_l.contains("whitelist")
                    || k_l.contains("denylist")
                {
                    let note = if v.contains("0.0.0.0/0") {
                        " (open to everyone: the 403 comes from elsewhere, e.g. a global whitelist-source-range in the controller's ConfigMap, another Ingress for the host, or the load balancer)"
                    } else {
                        ""
                    };
                    f = f.evidence(format!(
                        "Ingress {}/{}: {k}: {v}{note}",
                        ing.namespace, ing.name
                    ));
                }
            }
            ingresses.push(format!("{}/{}", ing.namespace, ing.name));
        }
        let target = if ingresses.is_empty() {
            "the Ingress or route that serves the challenge".to_owned()
        } else {
            format!("Ingress {}", ingresses.join(", "))
        };
        out.push(f.fix(format!(
            "open /.well-known/acme-challenge/ to every source on {target}: e.g. for ingress-nginx set nginx.ingress.kubernetes.io/whitelist-source-range: \"0.0.0.0/0,::/0\" through the solver's ingressTemplate (the prefix must match the controller's --annotations-prefix), and check global allow-lists (ConfigMap whitelist-source-range, security groups, LB inbound CIDRs); if the edge must stay closed, use DNS-01"
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::{codes, run};

    #[test]
    fn allow_list_on_one_side() {
        let l = outside_ok();
        let i = inside_edge(vec![status(403, "nginx", 66)], vec![]);
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::IpAllowlist]);
        assert_eq!(f[0].proof, Proof::Proves);
        assert!(f[0].summary.contains("answers 403 to inside the cluster (66 of 66) but serves the key to this machine (66 of 66), the same server (nginx)"), "{}", f[0].summary);
        // The reverse: the outside is refused.
        let l = local(vec![addr(EDGE, vec![status(403, "nginx", 66)])]);
        let i = inside_edge(vec![ok("nginx", 66)], vec![]);
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::IpAllowlist]);
        assert!(
            f[0].summary.contains("403 to this machine"),
            "{}",
            f[0].summary
        );
        // 403 from both sides is not one-sided.
        let l = local(vec![addr(EDGE, vec![status(403, "nginx", 66)])]);
        let i = inside_edge(vec![status(403, "nginx", 66)], vec![]);
        assert!(run(Some(&l), &ran(i), &cluster()).is_empty());
    }
}
