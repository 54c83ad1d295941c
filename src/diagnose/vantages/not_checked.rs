//! NOT_CHECKED for the run: what could not be checked because probing was off, the probe pod
//! did not run, or some challenge URLs were probed from one vantage only.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{placement_text, problem_kind};
use crate::probe::incluster::InCluster;

/// What the cross-vantage rules could not check, when the in-cluster view is missing.
const UNCHECKED: &str = "not checked from inside the cluster: hairpin NAT, split-horizon DNS, PROXY protocol on in-cluster paths, the controller's proxy and egress, and which data plane serves the token";

/// `curl -sv <url>` for each challenge URL, to run by hand.
fn curls(urls: &[String]) -> String {
    urls.iter()
        .map(|u| format!("curl -sv {u}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Say what the run could not see for a certificate: the URLs of the challenges to probe
/// (`urls`), of which `local` were probed from this machine and `inside` from the probe pod.
pub(crate) fn not_checked(
    enabled: bool,
    in_cluster: &InCluster,
    urls: &[String],
    local: usize,
    inside: usize,
) -> Option<Finding> {
    let candidates = urls.len();
    if candidates == 0 {
        return None;
    }
    if !enabled {
        return Some(
            Finding::new(
                Code::NotChecked,
                Severity::Info,
                Proof::Supports,
                "the challenge URL was not probed (--no-probe)",
            )
            .evidence("checked: the cert-manager objects, the solver resources, classes, data planes and the controller's settings; not checked: DNS, the HTTP path, both vantages")
            .fix("run without --no-probe to see what the self check and the CA see"),
        );
    }
    let by_hand = format!(
        "to compare by hand, from a pod in the cluster: {}",
        curls(urls)
    );
    match in_cluster {
        InCluster::NotRequested => Some(
            Finding::new(
                Code::NotChecked,
                Severity::Info,
                Proof::Supports,
                format!("probed {local} of {candidates} challenge URL(s) from this machine only (--local-only); cert-manager's self check runs inside the cluster"),
            )
            .evidence(UNCHECKED)
            .fix(format!("run without --local-only to start the short-lived probe pod; {by_hand}")),
        ),
        InCluster::Failed { placement, problem } => {
            let mut f = Finding::new(
                Code::NotChecked,
                Severity::Info,
                Proof::Supports,
                format!(
                    "the in-cluster probe pod did not run ({}): {}; the local vantage was still used ({local} of {candidates} challenge URL(s) probed from this machine)",
                    problem_kind(problem.kind),
                    problem.message
                ),
            )
            .evidence(UNCHECKED);
            if let Some(p) = placement {
                f = f.evidence(format!("probe pod: {}", placement_text(p)));
            }
            let fix = if problem.hint.is_empty() {
                by_hand
            } else {
                format!("{}; {by_hand}", problem.hint)
            };
            Some(f.fix(fix))
        }
        InCluster::Ran { placement, .. } if inside < candidates => Some(
            Finding::new(
                Code::NotChecked,
                Severity::Info,
                Proof::Supports,
                format!("the probe pod reported on {inside} of {candidates} challenge URL(s); the others were probed from this machine only"),
            )
            .evidence(format!("probe pod: {}", placement_text(placement)))
            .evidence(UNCHECKED)
            .fix(by_hand),
        ),
        InCluster::Ran { .. } if local < candidates => Some(
            Finding::new(
                Code::NotChecked,
                Severity::Info,
                Proof::Supports,
                format!("probed {local} of {candidates} challenge URL(s) from this machine; the CA's view (from outside) is estimated from it"),
            )
            .fix(format!("from a machine outside the cluster: {}", curls(urls))),
        ),
        InCluster::Ran { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::probe::incluster::{Placement, Problem, ProblemKind};

    #[test]
    fn what_could_not_be_checked() {
        let url = |n: usize| -> Vec<String> {
            (0..n)
                .map(|i| format!("http://shop{i}.example.test/.well-known/acme-challenge/tok{i}"))
                .collect()
        };
        assert!(not_checked(true, &InCluster::NotRequested, &url(0), 0, 0).is_none());
        let f = not_checked(false, &InCluster::NotRequested, &url(1), 0, 0).unwrap();
        assert!(f.summary.contains("--no-probe"));
        let f = not_checked(true, &InCluster::NotRequested, &url(2), 2, 0).unwrap();
        // --local-only: the fix names the URLs, no placeholders.
        assert!(
            f.fix.ends_with("curl -sv http://shop0.example.test/.well-known/acme-challenge/tok0; curl -sv http://shop1.example.test/.well-known/acme-challenge/tok1"),
            "{}",
            f.fix
        );
        assert!(!f.fix.contains("<dnsName>"), "{}", f.fix);
        assert!(
            f.summary
                .contains("probed 2 of 2 challenge URL(s) from this machine only (--local-only)"),
            "{}",
            f.summary
        );
        assert!(f.evidence[0].contains("hairpin NAT, split-horizon DNS"));
        let failed = InCluster::Failed {
            placement: Some(Placement {
                namespace: "cert-manager".into(),
                pod: "acmecheck-probe-1".into(),
                node: None,
                why: "cert-manager's namespace".into(),
            }),
            problem: Problem {
                kind: ProblemKind::ImagePull,
                message:
                    "image \"registry.example/acmecheck:v0.2.0\" could not be pulled: ErrImagePull"
                        .into(),
                hint: "use --probe-image to point at a mirror".into(),
            },
        };
        let f = not_checked(true, &failed, &url(1), 1, 0).unwrap();
        assert!(f.summary.starts_with("the in-cluster probe pod did not run (image pull failed): image \"registry.example/acmecheck:v0.2.0\" could not be pulled: ErrImagePull; the local vantage was still used"), "{}", f.summary);
        assert!(
            f.fix.starts_with("use --probe-image to point at a mirror"),
            "{}",
            f.fix
        );
        assert!(
            f.evidence.contains(
                &"probe pod: cert-manager/acmecheck-probe-1 (cert-manager's namespace)".to_owned()
            ),
            "{:?}",
            f.evidence
        );
        let both = ran(local(vec![]));
        assert!(not_checked(true, &both, &url(1), 1, 1).is_none());
        assert!(
            not_checked(true, &both, &url(2), 2, 1)
                .unwrap()
                .summary
                .contains("reported on 1 of 2")
        );
    }
}
