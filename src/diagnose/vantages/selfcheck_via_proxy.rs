//! SELFCHECK_VIA_PROXY: the controller's HTTP_PROXY/NO_PROXY send the self check through a
//! proxy that fails it, while the direct path serves the key.

use super::util::{controller_proxy, count, direct_line, plane_results};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantages;
use crate::probe::plan::{DirectResult, ErrorClass, OutcomeCount};
use crate::reason::{self, ConnectionClass, Reason};

fn proxy_style(o: &OutcomeCount) -> bool {
    o.error_class == Some(ErrorClass::ProxyError)
        || matches!(o.status, Some(403 | 407 | 502 | 503 | 504))
}

pub(crate) fn selfcheck_via_proxy(c: &Vantages) -> Vec<Finding> {
    let (Some(cm), Some(proxy)) = (c.cluster.cert_manager.as_ref(), controller_proxy(c)) else {
        return vec![];
    };
    // Direct paths that work: from this machine, or the data planes asked from inside.
    let local_ok = c
        .local
        .map(|t| {
            t.addresses
                .iter()
                .filter(|a| a.cert_manager_passes > 0)
                .count()
        })
        .unwrap_or(0);
    let direct_ok: Vec<&DirectResult> = c
        .inside
        .map(|t| {
            plane_results(t)
                .filter(|d| d.cert_manager_passes > 0)
                .collect()
        })
        .unwrap_or_default();
    if local_ok == 0 && direct_ok.is_empty() {
        return vec![];
    }
    let no_proxy = cm.no_proxy.clone().unwrap_or_default();
    let mut f;
    if let Some(inside) = c.inside {
        let tries: u32 = inside.addresses.iter().map(|a| a.attempts).sum();
        let proxied: u32 = inside
            .addresses
            .iter()
            .map(|a| count(&a.outcomes, proxy_style))
            .sum();
        let passes: u32 = inside.addresses.iter().map(|a| a.cert_manager_passes).sum();
        if tries == 0 || passes > 0 || proxied * 2 < tries {
            return vec![];
        }
        f = Finding::new(
            Code::SelfcheckViaProxy,
            Severity::Error,
            Proof::Proves,
            format!(
                "the controller's HTTP_PROXY ({proxy}) covers {} (NO_PROXY {:?} does not exclude it): through it, {proxied} of {tries} requests from inside fail, while the direct path serves the key",
                c.ch.dns_name, no_proxy
            ),
        )
        .challenge(&c.ch.name);
        for a in &inside.addresses {
            f = f.evidence(format!(
                "in cluster, via {proxy}: {}  {}",
                a.address,
                outcome_summary(a)
            ));
        }
    } else {
        // Without the pod: cert-manager's own reason must show a proxy-style failure.
        let proxy_reason = match c.ch.reason.as_deref().and_then(reason::parse) {
            Some(Reason::ConnectionFailed {
                class: ConnectionClass::Proxy,
                ..
            }) => true,
            Some(Reason::WrongStatus { status }) => matches!(status, 403 | 407 | 502 | 503 | 504),
            _ => false,
        };
        if !proxy_reason {
            return vec![];
        }
        f = Finding::new(
            Code::SelfcheckViaProxy,
            Severity::Error,
            Proof::Supports,
            format!(
                "the controller's HTTP_PROXY ({proxy}) covers {} (NO_PROXY {:?} does not exclude it) and the self check fails the way a proxy answers, while the direct path serves the key",
                c.ch.dns_name, no_proxy
            ),
        )
        .challenge(&c.ch.name)
        .evidence(format!("Challenge {} reason: {}", c.ch.name, c.ch.reason.clone().unwrap_or_default()));
    }
    if let Some(local) = c.local {
        for a in local.addresses.iter().filter(|a| a.cert_manager_passes > 0) {
            f = f.evidence(format!(
                "this machine, direct: {}  {}",
                a.address,
                outcome_summary(a)
            ));
        }
    }
    for d in direct_ok {
        f = f.evidence(direct_line(d));
    }
    let new_no_proxy = if no_proxy.is_empty() {
        c.ch.dns_name.clone()
    } else {
        format!("{no_proxy},{}", c.ch.dns_name)
    };
    vec![f.fix(format!(
        "exclude the name from the proxy for the self check: kubectl -n {} set env deployment/{} NO_PROXY={new_no_proxy} (and no_proxy if set; Helm: the chart's no_proxy value; with a cluster-wide proxy such as OpenShift's, add it to the cluster Proxy's noProxy)",
        cm.namespace, cm.deployment
    ))]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::{codes, run};

    #[test]
    fn self_check_through_the_controllers_proxy() {
        let mut cl = cluster();
        let cm = cl.cert_manager.as_mut().unwrap();
        cm.http_proxy = Some("http://192.0.2.8:3128".into());
        cm.no_proxy = Some(".svc,.cluster.local".into());
        let l = outside_ok();
        let i = inside_edge(vec![status(403, "squid", 66)], vec![nginx_serves()]);
        let f = run(Some(&l), &ran(i.clone()), &cl);
        assert!(
            codes(&f).contains(&Code::SelfcheckViaProxy),
            "{:?}",
            codes(&f)
        );
        let p = f
            .iter()
            .find(|f| f.code == Code::SelfcheckViaProxy)
            .unwrap();
        assert_eq!(p.proof, Proof::Proves);
        assert!(
            p.summary
                .contains("HTTP_PROXY (http://192.0.2.8:3128) covers shop.example.test"),
            "{}",
            p.summary
        );
        assert!(p.fix.contains("kubectl -n cert-manager set env deployment/cert-manager NO_PROXY=.svc,.cluster.local,shop.example.test"), "{}", p.fix);
        // NO_PROXY excludes the domain: the proxy is not in the path.
        cl.cert_manager.as_mut().unwrap().no_proxy = Some(".example.test".into());
        assert!(!codes(&run(Some(&l), &ran(i.clone()), &cl)).contains(&Code::SelfcheckViaProxy));
        // No proxy at all.
        assert!(!codes(&run(Some(&l), &ran(i), &cluster())).contains(&Code::SelfcheckViaProxy));
    }
}
