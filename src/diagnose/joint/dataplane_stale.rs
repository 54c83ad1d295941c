//! DATAPLANE_STALE (RC10): the controller took the solver route but its proxies do not (all)
//! serve it.

use super::util::solver_planes;
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Joint;
use crate::evidence::DataPlaneEvidence;
use crate::probe::plan::AddressReport;

/// How to look at a data plane's logs and restart it.
fn plane_fix(p: &DataPlaneEvidence) -> String {
    if p.kind == "gateway" {
        format!(
            "kubectl describe gateway {} -n {} and the logs of its implementation's pods; restart them after fixing what blocks the configuration",
            p.name, p.namespace
        )
    } else {
        format!(
            "kubectl logs deploy/{n} -n {ns} --all-containers | grep -iE 'error|reload|invalid' (an unrelated bad object can block every reload), fix it, then kubectl rollout restart deployment {n} -n {ns}",
            n = p.name,
            ns = p.namespace
        )
    }
}

/// One address where the same responder sometimes serves the key and sometimes does not.
fn same_responder_mix(a: &AddressReport) -> Option<(String, u32, u32)> {
    let who = a.responders();
    let [who] = who.as_slice() else { return None };
    let good: u32 = a
        .outcomes
        .iter()
        .filter(|o| o.cert_manager_pass)
        .map(|o| o.count)
        .sum();
    let bad: u32 = a
        .outcomes
        .iter()
        .filter(|o| !o.cert_manager_pass && o.status.is_some())
        .map(|o| o.count)
        .sum();
    (good > 0 && bad > 0).then(|| ((*who).to_owned(), good, bad))
}

/// RC10: the controller took the solver route but its proxies do not (all) serve it.
pub(crate) fn dataplane_stale(c: &Joint) -> Vec<Finding> {
    let planes = solver_planes(c);
    let accepted =
        c.ch.solver_ingresses
            .iter()
            .any(|i| !i.lb_addresses.is_empty());
    let down = planes
        .iter()
        .find(|p| p.kind == "ingress-controller" && p.ready_replicas == Some(0));
    let mix = c
        .probe
        .into_iter()
        .flat_map(|t| &t.addresses)
        .find_map(|a| same_responder_mix(a).map(|m| (a, m)));
    let (proof, summary, mut lines) = match (down, mix) {
        (Some(p), _) if accepted => (
            Proof::Proves,
            format!(
                "ingress controller {}/{} has 0 ready replicas, yet the solver Ingress was given an address: nothing serves the route",
                p.namespace, p.name
            ),
            vec![],
        ),
        (_, Some((a, (who, good, bad)))) => (
            Proof::Supports,
            format!(
                "{} answers as {who} every time, but only {good} of {} fresh connections get the key ({bad} do not): some replicas of the data plane have not loaded the solver route",
                a.address, a.attempts
            ),
            vec![format!("{}  {}", a.address, outcome_summary(a))],
        ),
        _ => return vec![],
    };
    for p in &planes {
        lines.push(format!(
            "{} {}/{}: {} ready replica(s)",
            p.kind,
            p.namespace,
            p.name,
            p.ready_replicas.map_or("unknown".into(), |n| n.to_string())
        ));
    }
    let target = down.copied().or(planes.first().copied());
    let fix = target.map_or_else(
        || "check the data plane's logs for reload errors and restart its pods".to_owned(),
        plane_fix,
    );
    let mut f =
        Finding::new(Code::DataplaneStale, Severity::Error, proof, summary).challenge(&c.ch.name);
    for l in lines {
        f = f.evidence(l);
    }
    vec![f.fix(fix)]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::joint::tests::{code, run};

    #[test]
    fn stale_data_plane() {
        let (cert, mut cluster) = base();
        cluster.data_planes[0].ready_replicas = Some(0);
        let f = code(&run(&cert, &cluster, None), Code::DataplaneStale).expect("down");
        assert_eq!(f.proof, Proof::Proves);
        assert!(
            f.fix.contains(
                "kubectl rollout restart deployment ingress-nginx-controller -n ingress-nginx"
            ),
            "{}",
            f.fix
        );
        // Same responder, sometimes the key, sometimes 404: some replicas are stale.
        let (cert, cluster) = base();
        let p = probe(vec![addr(
            "203.0.113.10",
            vec![
                oc(Some(200), None, "nginx", true, 40),
                oc(Some(404), None, "nginx", false, 26),
            ],
        )]);
        let f = code(&run(&cert, &cluster, Some(&p)), Code::DataplaneStale).expect("mix");
        assert_eq!(f.proof, Proof::Supports);
        // Two responders is MIXED_BACKENDS' case, not this one.
        let p = probe(vec![addr(
            "203.0.113.10",
            vec![
                oc(Some(200), None, "nginx", true, 40),
                oc(Some(404), None, "envoy", false, 26),
            ],
        )]);
        assert!(code(&run(&cert, &cluster, Some(&p)), Code::DataplaneStale).is_none());
    }
}
