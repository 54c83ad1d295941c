//! IP_ALLOWLIST: one vantage gets 403 where the other gets the key: a source-address allow-list.

use super::util::{address, controller_proxy, count, forbidden};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantages;
use crate::probe::plan::AddressReport;

/// An annotation that restricts sources (`whitelist-source-range`, `allowlist-source-range`,
/// `denylist-source-range`, …).
fn is_allowlist_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    k.contains("source-range")
        || k.contains("allowlist")
        || k.contains("whitelist")
        || k.contains("denylist")
}

/// An allow-list value that admits every IPv4 source (`0.0.0.0/0`, with or without `::/0`).
fn admits_everyone(v: &str) -> bool {
    v.split(',').any(|r| r.trim() == "0.0.0.0/0")
}

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
        // An allow-list annotation on the solver's Ingress that already admits everyone.
        let mut open: Vec<String> = Vec::new();
        for ing in &c.ch.solver_ingresses {
            for (k, v) in &ing.relevant_annotations {
                if !is_allowlist_key(k) {
                    continue;
                }
                let note = if admits_everyone(v) {
                    open.push(format!("{}/{}", ing.namespace, ing.name));
                    " (open to everyone: the 403 comes from elsewhere)"
                } else {
                    ""
                };
                f = f.evidence(format!(
                    "Ingress {}/{}: {k}: {v}{note}",
                    ing.namespace, ing.name
                ));
            }
            ingresses.push(format!("{}/{}", ing.namespace, ing.name));
        }
        // Other Ingresses for the host with an allow-list of their own.
        for ing in &c.ch.host_ingresses {
            for (k, v) in &ing.relevant_annotations {
                if is_allowlist_key(k) && !admits_everyone(v) {
                    f = f.evidence(format!(
                        "another Ingress for {}: {}/{}: {k}: {v}",
                        c.ch.dns_name, ing.namespace, ing.name
                    ));
                }
            }
        }
        let target = if ingresses.is_empty() {
            "the Ingress or route that serves the challenge".to_owned()
        } else {
            format!("Ingress {}", ingresses.join(", "))
        };
        let controller_ns = c
            .cluster
            .data_planes
            .iter()
            .find(|p| p.product.as_deref() == Some("ingress-nginx"))
            .map_or("<controller namespace>", |p| p.namespace.as_str());
        let globals = format!(
            "global allow-lists (the ingress controller's ConfigMap: whitelist-source-range / denylist-source-range, e.g. kubectl -n {controller_ns} get configmap -o yaml | grep source-range), another Ingress for the host, security groups and the load balancer's inbound CIDRs"
        );
        let fix = if open.is_empty() {
            format!(
                "open /.well-known/acme-challenge/ to every source on {target}: e.g. for ingress-nginx set nginx.ingress.kubernetes.io/whitelist-source-range: \"0.0.0.0/0,::/0\" through the solver's ingressTemplate (the prefix must match the controller's --annotations-prefix), and check {globals}; if the edge must stay closed, use DNS-01"
            )
        } else {
            format!(
                "Ingress {} already admits every source, so the denial is not there: check {globals} for a rule that leaves out requests from {denied_side}; if the edge must stay closed, use DNS-01",
                open.join(", ")
            )
        };
        out.push(f.fix(fix));
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

    #[test]
    fn an_open_solver_allow_list_is_not_the_fix() {
        // allowlist: the solver Ingress already says 0.0.0.0/0,::/0.
        let mut ch = ch();
        ch.solver_ingresses = vec![crate::evidence::IngressEvidence {
            namespace: "shop".into(),
            name: "cm-acme-http-solver-q9wrt".into(),
            relevant_annotations: [(
                "nginx.ingress.kubernetes.io/whitelist-source-range".to_owned(),
                "0.0.0.0/0,::/0".to_owned(),
            )]
            .into(),
            ..Default::default()
        }];
        let run_for = |ch: &crate::evidence::ChallengeEvidence| {
            let ic = ran(inside_edge(vec![status(403, "nginx", 66)], vec![]));
            let inside = crate::diagnose::vantages::tests::pod_report(&ic);
            super::super::findings(
                ch,
                Some(&outside_ok()),
                inside,
                &ic,
                &cluster(),
                crate::probe::plan::CaProfile::Pebble,
            )
        };
        let f = run_for(&ch);
        assert_eq!(codes(&f), [Code::IpAllowlist]);
        assert!(
            f[0].fix
                .starts_with("Ingress shop/cm-acme-http-solver-q9wrt already admits every source"),
            "{}",
            f[0].fix
        );
        assert!(!f[0].fix.contains("set nginx.ingress"), "{}", f[0].fix);
        // A narrow allow-list there: setting it open is the fix.
        ch.solver_ingresses[0].relevant_annotations.insert(
            "nginx.ingress.kubernetes.io/whitelist-source-range".into(),
            "192.0.2.0/24".into(),
        );
        let f = run_for(&ch);
        assert!(
            f[0].fix.starts_with("open /.well-known/acme-challenge/"),
            "{}",
            f[0].fix
        );
    }
}
