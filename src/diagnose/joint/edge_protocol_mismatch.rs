//! EDGE_PROTOCOL_MISMATCH (RC19): port 80 reaches a TLS listener: 400 "plain HTTP request was
//! sent to HTTPS port", or a data-plane Service maps port 80 to a TLS target port.

use super::util::solver_planes;
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{outcome_summary, renew_hint};
use crate::diagnose::view::Joint;
use crate::evidence::ServiceEvidence;

/// Bodies of "plain HTTP sent to a TLS port" pages (nginx, Apache).
const PLAIN_TO_TLS: &[&str] = &[
    "plain http request was sent to https port",
    "speaking plain http to an ssl-enabled server port",
];

/// Port 80 of a data-plane Service that targets a TLS port.
fn tls_target(svc: &ServiceEvidence) -> Option<(usize, String)> {
    svc.ports.iter().enumerate().find_map(|(i, p)| {
        let t = p.target_port.as_deref().unwrap_or("");
        (p.port == 80 && ["https", "443", "8443", "websecure"].contains(&t))
            .then(|| (i, t.to_owned()))
    })
}

/// RC19: port 80 reaches a TLS listener (or the reverse): 400 "plain HTTP … HTTPS port".
pub(crate) fn edge_protocol_mismatch(c: &Joint) -> Vec<Finding> {
    let seen = c
        .probe
        .into_iter()
        .flat_map(|t| &t.addresses)
        .find_map(|a| {
            a.samples
                .iter()
                .find(|s| {
                    let b = s.body_prefix.to_ascii_lowercase();
                    PLAIN_TO_TLS.iter().any(|p| b.contains(p))
                })
                .map(|s| (a, s.status))
        });
    let planes = solver_planes(c);
    let mapped = planes
        .iter()
        .flat_map(|p| &p.services)
        .find_map(|s| tls_target(s).map(|t| (s, t)));
    let (severity, proof, summary) = match (seen, &mapped) {
        (Some((a, status)), _) => (
            Severity::Error,
            Proof::Proves,
            format!(
                "{}:80 answers {} \"plain HTTP request sent to HTTPS port\": port 80 is wired to a TLS listener",
                a.address,
                status.map_or("-".into(), |s| s.to_string())
            ),
        ),
        (None, Some((s, (_, t)))) => (
            Severity::Warning,
            Proof::Supports,
            format!(
                "Service {}/{} maps port 80 to targetPort {t}, a TLS port",
                s.namespace, s.name
            ),
        ),
        _ => return vec![],
    };
    let mut f =
        Finding::new(Code::EdgeProtocolMismatch, severity, proof, summary).challenge(&c.ch.name);
    if let Some((a, _)) = seen {
        f = f.evidence(format!("{}  {}", a.address, outcome_summary(a)));
    }
    let fix = match mapped {
        Some((s, (i, t))) => {
            f = f.evidence(format!(
                "Service {}/{} port 80 → targetPort {t}",
                s.namespace, s.name
            ));
            format!(
                "kubectl -n {} patch service {} --type=json -p '[{{\"op\":\"replace\",\"path\":\"/spec/ports/{i}/targetPort\",\"value\":\"http\"}}]'",
                s.namespace, s.name
            )
        }
        None => format!(
            "map the edge's port 80 to the ingress controller's plain-HTTP port (not 443), and talk plain HTTP to the solver route; {}",
            renew_hint(c.cert)
        ),
    };
    vec![f.fix(fix)]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::joint::tests::{code, run};
    use crate::probe::plan::Attempt;

    #[test]
    fn plain_http_to_a_tls_port() {
        let (cert, mut cluster) = base();
        let mut a = addr(
            "203.0.113.10",
            vec![oc(Some(400), None, "nginx", false, 66)],
        );
        a.samples.push(Attempt {
            status: Some(400),
            responder: "nginx".into(),
            body_prefix:
                "<html>\\r\\n<head><title>400 The plain HTTP request was sent to HTTPS port".into(),
            ..Default::default()
        });
        let p = probe(vec![a]);
        let f = code(&run(&cert, &cluster, Some(&p)), Code::EdgeProtocolMismatch).expect("proto");
        assert_eq!((f.severity, f.proof), (Severity::Error, Proof::Proves));
        // The Service maps 80 to https: named in the fix.
        cluster.data_planes[0].services[0].ports[0].target_port = Some("https".into());
        let f = code(&run(&cert, &cluster, Some(&p)), Code::EdgeProtocolMismatch).unwrap();
        assert!(f.fix.contains("/spec/ports/0/targetPort"), "{}", f.fix);
        // The mapping alone is a warning.
        let f = code(&run(&cert, &cluster, None), Code::EdgeProtocolMismatch).unwrap();
        assert_eq!((f.severity, f.proof), (Severity::Warning, Proof::Supports));
        let (cert, cluster) = base();
        assert!(
            code(
                &run(&cert, &cluster, Some(&healthy_probe())),
                Code::EdgeProtocolMismatch
            )
            .is_none()
        );
    }
}
