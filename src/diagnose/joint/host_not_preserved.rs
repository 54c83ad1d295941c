//! HOST_NOT_PRESERVED (RC06): the solver logged requests whose Host is not the challenge's name.

use super::util::solver_planes;
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{log_summary, solver_patch};
use crate::diagnose::view::Joint;

/// RC06: the solver logged requests whose Host is not the challenge's name.
pub(crate) fn host_not_preserved(c: &Joint) -> Vec<Finding> {
    let Some(log) = &c.ch.solver_log else {
        return vec![];
    };
    let Some((host, n)) = log.invalid_hosts.first() else {
        return vec![];
    };
    let kong = solver_planes(c)
        .iter()
        .any(|p| p.product.as_deref() == Some("kong"));
    let fix = if kong {
        solver_patch(
            c.cert,
            &c.ch.solver,
            "ingress/ingressTemplate",
            "{\"metadata\":{\"annotations\":{\"konghq.com/preserve-host\":\"true\"}}}",
        )
    } else {
        format!(
            "make every proxy between the edge and the solver forward the original Host header {} (remove upstream-vhost / Host-rewriting annotations or middlewares on the route for {})",
            c.ch.dns_name, c.ch.dns_name
        )
    };
    vec![
        Finding::new(
            Code::HostNotPreserved,
            Severity::Error,
            Proof::Proves,
            format!(
                "the solver received {n} request(s) with Host {host:?} instead of {:?} and answered 404: a proxy on the way rewrites the Host header",
                c.ch.dns_name
            ),
        )
        .challenge(&c.ch.name)
        .evidence(log_summary(log))
        .evidence(format!("acmesolver compares Host with --domain={} exactly", c.ch.dns_name))
        .fix(fix),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::joint::tests::{code, run};
    use crate::evidence::SolverLogEvidence;

    #[test]
    fn host_rewritten_on_the_way() {
        let (mut cert, mut cluster) = base();
        cert.challenges[0].solver_log = Some(SolverLogEvidence {
            namespace: "shop".into(),
            pod: "cm-acme-http-solver-abc".into(),
            requests: 9,
            invalid_hosts: vec![("10.32.3.80".into(), 9)],
            ..Default::default()
        });
        let f = code(&run(&cert, &cluster, None), Code::HostNotPreserved).expect("host");
        assert_eq!(f.proof, Proof::Proves);
        assert!(f.summary.contains("10.32.3.80"), "{}", f.summary);
        // On Kong the fix is the preserve-host annotation through the solver's ingressTemplate.
        cluster.data_planes[0].product = Some("kong".into());
        let f = code(&run(&cert, &cluster, None), Code::HostNotPreserved).unwrap();
        assert!(
            f.fix.contains("konghq.com/preserve-host") && f.fix.contains("clusterissuer le"),
            "{}",
            f.fix
        );
        // Logs without wrong hosts: nothing.
        cert.challenges[0]
            .solver_log
            .as_mut()
            .unwrap()
            .invalid_hosts
            .clear();
        assert!(code(&run(&cert, &cluster, None), Code::HostNotPreserved).is_none());
    }
}
