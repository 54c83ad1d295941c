//! Attribution (P3): which data plane serves the token and which does not, from the probe pod's
//! direct probes, as evidence lines the walk attaches to the finding they explain.

use super::util::{direct_text, is_solver, plane_results};
use crate::evidence::ChallengeEvidence;
use crate::probe::plan::{OutcomeCount, TargetReport};

/// The dominant failing outcome of a direct probe, e.g. `404 (envoy)`.
fn failure_text(outcomes: &[OutcomeCount]) -> Option<(String, String)> {
    let o = outcomes.iter().find(|o| !o.cert_manager_pass)?;
    let what = match (o.status, o.error_class) {
        (Some(s), _) => s.to_string(),
        (None, Some(e)) => e.as_str().to_owned(),
        (None, None) => "no answer".to_owned(),
    };
    Some((what, o.responder.clone()))
}

/// Evidence lines that say which data plane serves the token and which does not, from the
/// probe pod's direct probes; the first line names where the failing traffic goes when a
/// failing responder of the challenge URL matches a data plane's answer.
pub(crate) fn attribution(
    ch: &ChallengeEvidence,
    local: Option<&TargetReport>,
    inside: Option<&TargetReport>,
) -> Vec<String> {
    let Some(inside) = inside else {
        return vec![];
    };
    let mut serving: Vec<String> = Vec::new();
    let mut not_serving: Vec<(String, String, String)> = Vec::new(); // (plane, what, responder)
    let mut lines = Vec::new();
    let mut planes: Vec<String> = Vec::new();
    for d in plane_results(inside) {
        let plane = d
            .label
            .split(" Service ")
            .next()
            .and_then(|p| p.split(" pod ").next())
            .unwrap_or(&d.label)
            .to_owned();
        if !planes.contains(&plane) {
            planes.push(plane.clone());
        }
        let text = direct_text(d);
        if d.attempts > 0 && d.cert_manager_passes == d.attempts {
            if !serving.contains(&plane) {
                serving.push(plane.clone());
            }
            lines.push(format!(
                "direct from inside: {} {} serves the key: {text}",
                d.label, d.address
            ));
        } else if let Some((what, who)) = failure_text(&d.outcomes) {
            lines.push(format!(
                "direct from inside: {} {} does not serve the key: {text}",
                d.label, d.address
            ));
            if !not_serving.iter().any(|(p, _, _)| *p == plane) {
                not_serving.push((plane.clone(), what, who));
            }
        }
    }
    for d in inside.direct.iter().filter(|d| is_solver(d)) {
        let verdict = if d.cert_manager_passes > 0 {
            "the solver itself answers the key on 8089"
        } else if d.outcomes.iter().any(|o| o.status.is_some()) {
            "the solver answers on 8089 but not with the key"
        } else {
            "the solver does not answer on 8089"
        };
        lines.push(format!(
            "{verdict}: {} {}  {}",
            d.label,
            d.address,
            direct_text(d)
        ));
    }
    // Responders that fail on the challenge URL (either vantage).
    let failing: Vec<String> = [local, Some(inside)]
        .into_iter()
        .flatten()
        .flat_map(|t| &t.addresses)
        .flat_map(|a| &a.outcomes)
        .filter(|o| !o.cert_manager_pass && o.status.is_some())
        .map(|o| o.responder.clone())
        .collect();
    let culprits: Vec<&(String, String, String)> = not_serving
        .iter()
        .filter(|(_, _, who)| who != "-" && failing.contains(who))
        .collect();
    if let Some((plane, what, who)) = culprits.first() {
        // The same server serves the key to the other vantage on the challenge URL: it has the
        // route, and its failure here is about who asks.
        let serves_local = local.is_some_and(|t| {
            t.addresses
                .iter()
                .flat_map(|a| &a.outcomes)
                .any(|o| o.cert_manager_pass && o.responder == *who)
        });
        let also = if !serving.is_empty() {
            format!("{} serves the key", serving.join(" and "))
        } else if serves_local {
            format!("the same server ({who}) serves the key to this machine")
        } else {
            "no data plane serves the key".to_owned()
        };
        // 401/403 are a denial, not a missing route.
        let why = if what == "401" || what == "403" {
            "which denies the request"
        } else if serves_local {
            "which fails here"
        } else {
            "which has no route"
        };
        lines.insert(
            0,
            format!(
                "traffic for {} reaches {plane}, {why}: {what} ({who}); {also}",
                ch.dns_name
            ),
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::finding::{Code, Finding, Proof, Severity};
    use crate::diagnose::merge::{attach_attribution, single_vantage};
    use crate::probe::plan::CaProfile;

    #[test]
    fn attribution_names_the_data_plane_without_the_route() {
        let l = local(vec![addr(
            EDGE,
            vec![ok("nginx", 100), status(404, "envoy", 100)],
        )]);
        let i = inside(
            vec![addr(
                EDGE,
                vec![ok("nginx", 100), status(404, "envoy", 100)],
            )],
            vec![
                nginx_serves(),
                gateway_404(),
                direct(SOLVER_SVC, "198.51.100.30:8089", vec![ok("acmesolver", 20)]),
            ],
        );
        let lines = attribution(&ch(), Some(&l), Some(&i));
        assert_eq!(
            lines[0],
            "traffic for shop.example.test reaches gateway infra/public (cilium), which has no route: 404 (envoy); ingress-nginx serves the key"
        );
        assert!(lines.contains(&format!("direct from inside: {GW_SVC} 198.51.100.20:80 does not serve the key: 20×404 (envoy)")), "{lines:#?}");
        assert!(lines.contains(&format!("the solver itself answers the key on 8089: {SOLVER_SVC} 198.51.100.30:8089  20×200 key (acmesolver)")), "{lines:#?}");
        let mut f = single_vantage(&ch(), Some(&l), Some(&i), CaProfile::Pebble);
        f.push(
            Finding::new(Code::SelfCheckFailing, Severity::Error, Proof::Proves, "x")
                .challenge("web-1"),
        );
        attach_attribution(&mut f, &ch(), lines);
        assert_eq!(f[0].code, Code::MixedBackends);
        assert!(
            f[0].evidence[1].starts_with("traffic for shop.example.test reaches gateway"),
            "{:?}",
            f[0].evidence
        );
        assert!(f[1].evidence.is_empty(), "attached once");
        // No failing responder matches a data plane: no headline, only the per-plane lines.
        let i = inside(vec![], vec![nginx_serves()]);
        let lines = attribution(&ch(), None, Some(&i));
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("direct from inside"));
    }

    #[test]
    fn a_denial_is_not_a_missing_route() {
        // allowlist: nginx serves the key to this machine and denies the probe pod (403).
        let l = local(vec![addr(EDGE, vec![ok("nginx", 66)])]);
        let i = inside(
            vec![addr(EDGE, vec![status(403, "nginx", 66)])],
            vec![
                direct(
                    NGINX_SVC,
                    "198.51.100.10:80",
                    vec![status(403, "nginx", 20)],
                ),
                gateway_404(),
            ],
        );
        let lines = attribution(&ch(), Some(&l), Some(&i));
        assert_eq!(
            lines[0],
            "traffic for shop.example.test reaches ingress-nginx, which denies the request: 403 (nginx); the same server (nginx) serves the key to this machine"
        );
    }
}
