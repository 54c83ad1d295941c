//! Who answered, for the picture: a fingerprint (`nginx`) and the data plane it belongs to
//! (`ingress-nginx`), as the probe pod's direct probes attribute it. A backend is named after
//! the data plane whose direct probe got the same answer from the same fingerprint, when
//! exactly one did; and one fingerprint has one name in the whole picture ([`names`]).

use crate::probe::plan::{DirectResult, OutcomeCount, TargetReport};
use crate::probe::targets::SOLVER_LABEL;

/// `nginx (ingress-nginx)`: the fingerprint, and its data plane: the one whose direct probe got
/// this very answer ([`plane_for`]), else the one the picture ties the fingerprint to
/// ([`names`]).
pub(super) fn who(o: &OutcomeCount, direct: &[DirectResult], names: &[(String, String)]) -> String {
    if o.responder == "-" || o.responder.is_empty() {
        return "no answer".to_owned();
    }
    let plane = plane_for(o, direct).or_else(|| {
        names
            .iter()
            .find(|(f, _)| *f == o.responder)
            .map(|(_, p)| p.clone())
    });
    match plane {
        Some(plane) if plane != o.responder => format!("{} ({plane})", o.responder),
        _ => o.responder.clone(),
    }
}

/// The one data plane whose direct probe got the same answer (status and body) from the same
/// fingerprint as `o`; none when no plane or several did.
fn plane_for(o: &OutcomeCount, direct: &[DirectResult]) -> Option<String> {
    o.status?;
    let mut planes: Vec<String> = Vec::new();
    for d in direct {
        let same = d.outcomes.iter().any(|x| {
            x.responder == o.responder && x.status == o.status && x.key_match == o.key_match
        });
        let plane = plane_of(&d.label);
        if same && !planes.contains(&plane) {
            planes.push(plane);
        }
    }
    match <[String; 1]>::try_from(planes) {
        Ok([plane]) => Some(plane),
        Err(_) => None,
    }
}

/// Fingerprint → data plane, for the whole picture, so that one server has one name from both
/// vantages: a fingerprint is tied to a plane when every outcome of it (from either vantage)
/// that [`plane_for`] names names that plane, and no other plane's direct probe answered with
/// that fingerprint at all.
pub(super) fn names(
    views: &[(&str, &TargetReport)],
    direct: &[DirectResult],
) -> Vec<(String, String)> {
    let mut named: Vec<(String, Option<String>)> = Vec::new();
    let outcomes = views
        .iter()
        .flat_map(|(_, t)| &t.addresses)
        .flat_map(|a| &a.outcomes)
        .filter(|o| o.count > 0);
    for o in outcomes {
        let Some(plane) = plane_for(o, direct) else {
            continue;
        };
        match named.iter_mut().find(|(f, _)| *f == o.responder) {
            // Two planes for one fingerprint: none.
            Some((_, slot)) if slot.as_ref() != Some(&plane) => *slot = None,
            Some(_) => {}
            None => named.push((o.responder.clone(), Some(plane))),
        }
    }
    named
        .into_iter()
        .filter_map(|(f, plane)| {
            let plane = plane?;
            let others = direct.iter().any(|d| {
                plane_of(&d.label) != plane && d.outcomes.iter().any(|x| x.responder == f)
            });
            (!others).then_some((f, plane))
        })
        .collect()
}

/// The data plane a direct probe's label names: `ingress-nginx Service ns/name` →
/// `ingress-nginx`; `gateway infra/public (cilium) pod 10.0.0.5` →
/// `gateway infra/public, cilium` (inside the parentheses the picture adds).
fn plane_of(label: &str) -> String {
    let plane = label
        .split(" Service ")
        .next()
        .and_then(|p| p.split(" pod ").next())
        .unwrap_or(label);
    if plane == SOLVER_LABEL {
        return "cert-manager solver".to_owned();
    }
    match plane.strip_suffix(')').and_then(|p| p.split_once(" (")) {
        Some((name, product)) => format!("{name}, {product}"),
        None => plane.to_owned(),
    }
}
