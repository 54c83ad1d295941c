//! Which solver of an Issuer a name gets, and the Order's override annotations (pure).
//!
//! Written after cert-manager's `pkg/util/solverpicker/solverpicker.go` (`Pick`), the selectors
//! in `pkg/controller/acmeorders/selectors/` (`labels.go`, `dns_names.go`, `dns_zones.go`, which
//! count zone labels with miekg/dns `CompareDomainName` and `CountLabel`), and
//! `pkg/controller/acmeorders/util.go` (`partialChallengeSpecForAuthorization`,
//! `applyIngressParameterAnnotationOverrides`, `applyGatewayAPIAnnotationParentRefOverride`).
//!
//! The rules, in cert-manager's order:
//! * a solver is a candidate only when the authorization offers its type (`http-01`, `dns-01`);
//! * a solver without a selector is taken only when nothing is selected yet (first one wins);
//! * a selector must match in all three parts (`matchLabels` against the Order's labels, which
//!   are the Certificate's; `dnsNames` exactly; `dnsZones` by whole labels from the right);
//! * among matches: a `dnsNames` match beats none; then more matching zone labels; then more
//!   matching labels; ties keep the earlier solver.

use crate::evidence::{AuthorizationEvidence, ParentRef, Solver};
use std::collections::BTreeMap;

pub const OVERRIDE_INGRESS_NAME: &str = "acme.cert-manager.io/http01-override-ingress-name";
pub const OVERRIDE_INGRESS_CLASS: &str = "acme.cert-manager.io/http01-override-ingress-class";
pub const OVERRIDE_INGRESS_CLASS_NAME: &str =
    "acme.cert-manager.io/http01-override-ingress-ingressclassname";
pub const PARENT_REF_NAME: &str = "acme.cert-manager.io/http01-parentrefname";
pub const PARENT_REF_KIND: &str = "acme.cert-manager.io/http01-parentrefkind";
pub const PARENT_REF_NAMESPACE: &str = "acme.cert-manager.io/http01-parentrefnamespace";

/// Label start offsets, as miekg/dns `Split`: a `.` escaped by an odd number of backslashes
/// does not separate, and a trailing `.` stays part of the last label.
fn split(s: &str) -> Vec<usize> {
    let b = s.as_bytes();
    let mut idx = vec![0];
    for i in 0..b.len().saturating_sub(1) {
        if b[i] != b'.' {
            continue;
        }
        let backslashes = b[..i].iter().rev().take_while(|&&c| c == b'\\').count();
        if backslashes % 2 == 0 {
            idx.push(i + 1);
        }
    }
    idx
}

/// ASCII case-insensitive equality (miekg/dns `equal`).
fn equal(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// How many labels `a` and `b` share from the right (miekg/dns `CompareDomainName`).
pub fn compare_domain_name(a: &str, b: &str) -> usize {
    if a == "." || b == "." {
        return 0;
    }
    let (la, lb) = (split(a), split(b));
    let (mut ja, mut jb) = (la.len() - 1, lb.len() - 1);
    if !equal(&a[la[ja]..], &b[lb[jb]..]) {
        return 0;
    }
    let mut n = 1;
    while ja > 0 && jb > 0 {
        if !equal(&a[la[ja - 1]..la[ja]], &b[lb[jb - 1]..lb[jb]]) {
            break;
        }
        n += 1;
        ja -= 1;
        jb -= 1;
    }
    n
}

/// The number of labels (miekg/dns `CountLabel`; the root has none).
pub fn count_label(s: &str) -> usize {
    if s == "." { 0 } else { split(s).len() }
}

/// `(matches, score)` of each selector part, as the `Selector.Matches` implementations.
fn labels_match(
    required: Option<&BTreeMap<String, String>>,
    labels: &BTreeMap<String, String>,
) -> (bool, usize) {
    match required {
        None => (true, 0),
        Some(r) if r.is_empty() => (true, 0),
        Some(r) if r.iter().all(|(k, v)| labels.get(k) == Some(v)) => (true, r.len()),
        Some(_) => (false, 0),
    }
}

fn dns_names_match(allowed: Option<&Vec<String>>, name: &str) -> (bool, usize) {
    match allowed {
        None => (true, 0),
        Some(a) if a.is_empty() => (true, 0),
        Some(a) if a.iter().any(|n| n == name) => (true, 1),
        Some(_) => (false, 0),
    }
}

fn dns_zones_match(zones: Option<&Vec<String>>, name: &str) -> (bool, usize) {
    let Some(zones) = zones.filter(|z| !z.is_empty()) else {
        return (true, 0);
    };
    let best = zones
        .iter()
        .filter(|z| compare_domain_name(z, name) == count_label(z))
        .map(|z| count_label(z))
        .max()
        .unwrap_or(0);
    (best > 0, best)
}

/// The challenge types the CA offers for a name: what the Order's authorization lists, else
/// what ACME servers offer (RFC 8555 §7.1.3: wildcard names only get `dns-01`).
pub fn offered_types(name: &str, authorizations: &[AuthorizationEvidence]) -> Vec<String> {
    let (identifier, wildcard) = match name.strip_prefix("*.") {
        Some(base) => (base, true),
        None => (name, false),
    };
    if let Some(a) = authorizations.iter().find(|a| {
        a.identifier == identifier && a.wildcard == wildcard && !a.challenge_types.is_empty()
    }) {
        return a
            .challenge_types
            .iter()
            .map(|t| t.to_ascii_lowercase())
            .collect();
    }
    if wildcard {
        vec!["dns-01".to_owned()]
    } else {
        vec!["http-01".to_owned(), "dns-01".to_owned()]
    }
}

/// The index of the solver cert-manager picks for `domain` (`*.` + identifier for a wildcard),
/// or None (cert-manager: "no configured challenge solvers can be used for this challenge").
pub fn pick(
    domain: &str,
    offered: &[String],
    solvers: &[Solver],
    order_labels: &BTreeMap<String, String>,
) -> Option<usize> {
    let offers = |t: &str| offered.iter().any(|o| o == t);
    // (index, labels, dnsNames, dnsZones) of the selected solver.
    let mut selected: Option<(usize, usize, usize, usize)> = None;
    for (i, s) in solvers.iter().enumerate() {
        let usable =
            (s.http01.is_some() && offers("http-01")) || (s.dns01.is_some() && offers("dns-01"));
        if !usable {
            continue;
        }
        let Some(sel) = &s.selector else {
            if selected.is_none() {
                selected = Some((i, 0, 0, 0));
            }
            continue;
        };
        let (lm, nl) = labels_match(sel.match_labels.as_ref(), order_labels);
        let (nm, nn) = dns_names_match(sel.dns_names.as_ref(), domain);
        let (zm, nz) = dns_zones_match(sel.dns_zones.as_ref(), domain);
        if !(lm && nm && zm) {
            continue;
        }
        let Some((_, sl, sn, sz)) = selected else {
            selected = Some((i, nl, nn, nz));
            continue;
        };
        let this = (i, nl, nn, nz);
        let better = match (sn > 0, nn > 0) {
            (false, true) => true,
            (true, false) => false,
            // Both or neither match dnsNames: the zone decides, then the labels.
            _ if nz != sz => nz > sz,
            _ => nl > sl,
        };
        if better {
            selected = Some(this);
        }
    }
    selected.map(|(i, ..)| i)
}

/// The Order's override annotations applied to the picked solver, as cert-manager does before
/// it writes `Challenge.spec.solver`. `Err` carries cert-manager's own message.
pub fn apply_overrides(
    solver: &mut Solver,
    annotations: &BTreeMap<String, String>,
    namespace: &str,
) -> Result<(), String> {
    let Some(http01) = solver.http01.as_mut() else {
        return Ok(());
    };
    if let Some(ing) = http01.ingress.as_mut() {
        let name = annotations.get(OVERRIDE_INGRESS_NAME);
        let class = annotations.get(OVERRIDE_INGRESS_CLASS);
        let class_name = annotations.get(OVERRIDE_INGRESS_CLASS_NAME);
        let n = [name, class, class_name]
            .iter()
            .filter(|a| a.is_some())
            .count();
        if n > 1 {
            return Err("may not specify more than one of: name, class, ingressClassName override annotations".to_owned());
        }
        if n == 1 {
            ing.class = class.cloned();
            ing.ingress_class_name = class_name.cloned();
            ing.name = name.cloned();
        }
    }
    if let Some(route) = http01.gateway_http_route.as_mut() {
        let name = annotations.get(PARENT_REF_NAME);
        let kind = annotations.get(PARENT_REF_KIND);
        match (name, kind) {
            (Some(name), Some(kind)) => {
                let ns = annotations
                    .get(PARENT_REF_NAMESPACE)
                    .filter(|n| !n.is_empty())
                    .map_or(namespace, String::as_str);
                route.parent_refs.retain(|pr| {
                    let same = pr.namespace.as_deref() == Some(ns)
                        && &pr.name == name
                        && pr.kind.as_ref().is_none_or(|k| k == kind);
                    !same
                });
                route.parent_refs.push(ParentRef {
                    name: name.clone(),
                    namespace: Some(ns.to_owned()),
                    kind: Some(kind.clone()),
                    ..Default::default()
                });
            }
            (None, None) => {}
            _ => {
                return Err(
                    "cannot specify only one of parentRefName, parentRefKind override annotations"
                        .to_owned(),
                );
            }
        }
        if route.parent_refs.is_empty() {
            return Err(
                "must specify parentRefs either through annotations or solver config".to_owned(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
