//! BACKEND_PINNED_BY_SOURCE: each vantage always reaches one backend, a different one each, and
//! only one of them serves the key.

use super::util::{address, controller_proxy, forbidden, router_only};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantages;
use crate::probe::plan::AddressReport;

/// One responder and one pass/fail result on every attempt.
fn consistent(a: &AddressReport) -> Option<(&str, bool)> {
    let r = a.responders();
    (a.attempts >= 2
        && r.len() == 1
        && r[0] != "-"
        && (a.cert_manager_passes == 0 || a.cert_manager_passes == a.attempts))
        .then(|| (r[0], a.cert_manager_passes > 0))
}

pub(crate) fn backend_pinned_by_source(c: &Vantages) -> Vec<Finding> {
    let (Some(local), Some(inside)) = (c.local, c.inside) else {
        return vec![];
    };
    // Through the controller's HTTP proxy the other "backend" is the proxy.
    if controller_proxy(c).is_some() {
        return vec![];
    }
    let mut out = Vec::new();
    for l in &local.addresses {
        let Some(i) = address(inside, &l.address) else {
            continue;
        };
        // 403: an allow-list; a router's own page: hairpin NAT.
        if forbidden(l) || forbidden(i) || router_only(l) || router_only(i) {
            continue;
        }
        let (Some((lw, lp)), Some((iw, ip))) = (consistent(l), consistent(i)) else {
            continue;
        };
        if lw == iw || lp == ip {
            continue;
        }
        let (good, bad) = if lp { (lw, iw) } else { (iw, lw) };
        let consequence = if lp {
            "cert-manager's self check, from inside, always lands on the backend without the route and never passes"
        } else {
            "the self check passes from inside, but sources like this machine — and possibly the CA's — land on the backend without the route"
        };
        out.push(
            Finding::new(
                Code::BackendPinnedBySource,
                Severity::Error,
                Proof::Proves,
                format!(
                    "{} sends each source to one backend: all {} connections from this machine reach {lw} ({}), all {} from inside the cluster reach {iw} ({}); {consequence}",
                    l.address,
                    l.attempts,
                    if lp { "serves the key" } else { "does not serve it" },
                    i.attempts,
                    if ip { "serves the key" } else { "does not serve it" },
                ),
            )
            .challenge(&c.ch.name)
            .evidence(format!("this machine: {}  {}", l.address, outcome_summary(l)))
            .evidence(format!("in cluster: {}  {}", i.address, outcome_summary(i)))
            .evidence("each vantage is consistent over all its fresh connections: the balancer picks the backend by source address (source hash, session affinity), not per connection")
            .fix(format!(
                "every backend behind {} must serve /.well-known/acme-challenge/ for {}, or the balancer must send that path to {good} only (HAProxy: `acl acme path_beg /.well-known/acme-challenge/` + `use_backend <{good} backend> if acme`, whatever `balance source`/stick tables do); remove {bad} from the pool if it does not belong",
                l.address, c.ch.dns_name
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::{codes, run};

    #[test]
    fn each_source_pinned_to_one_backend() {
        let l = outside_ok();
        let i = inside_edge(
            vec![status(404, "envoy", 66)],
            vec![nginx_serves(), gateway_404()],
        );
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::BackendPinnedBySource]);
        assert!(f[0].summary.contains("all 66 connections from this machine reach nginx (serves the key), all 66 from inside the cluster reach envoy (does not serve it)"), "{}", f[0].summary);
        // Through the controller's proxy the "other backend" is the proxy.
        let mut cl = cluster();
        cl.cert_manager.as_mut().unwrap().http_proxy = Some("http://192.0.2.8:3128".into());
        let i = inside_edge(vec![status(502, "squid", 66)], vec![]);
        assert!(!codes(&run(Some(&l), &ran(i), &cl)).contains(&Code::BackendPinnedBySource));
        // Both sides on the same responder: not pinning.
        let i = inside_edge(vec![status(404, "nginx", 66)], vec![]);
        assert!(!codes(&run(Some(&l), &ran(i), &cluster())).contains(&Code::BackendPinnedBySource));
    }
}
