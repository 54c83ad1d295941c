//! WILDCARD_NEEDS_DNS01: a `*.` name and no DNS-01 solver of the issuer that applies to it.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::issuer_kind_cmd;
use crate::diagnose::view::Certificate;
use crate::evidence::Solver;

/// Does a DNS-01 solver of the issuer apply to `name` (a `*.` name)?
fn dns01_solver_for(
    solvers: &[Solver],
    name: &str,
    labels: &std::collections::BTreeMap<String, String>,
) -> bool {
    solvers.iter().filter(|s| s.dns01.is_some()).any(|s| {
        let Some(sel) = &s.selector else { return true };
        let labels_ok = sel
            .match_labels
            .as_ref()
            .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
        let names_ok = sel
            .dns_names
            .as_ref()
            .is_none_or(|n| n.is_empty() || n.iter().any(|d| d == name));
        let base = name.trim_start_matches("*.");
        let zones_ok = sel.dns_zones.as_ref().is_none_or(|z| {
            z.is_empty()
                || z.iter()
                    .any(|zone| base == zone || base.ends_with(&format!(".{zone}")))
        });
        labels_ok && names_ok && zones_ok
    })
}

pub(crate) fn wildcard_needs_dns01(input: &Certificate) -> Vec<Finding> {
    let cert = input.cert;
    let Some(acme) = cert.issuer.as_ref().and_then(|i| i.acme.as_ref()) else {
        return vec![];
    };
    cert.dns_names
        .iter()
        .filter(|n| n.starts_with("*."))
        .filter(|n| !dns01_solver_for(&acme.solvers, n, &cert.labels))
        .map(|name| {
            let mut f = Finding::new(
                Code::WildcardNeedsDns01,
                Severity::Error,
                Proof::Proves,
                format!("{name} is a wildcard: ACME CAs validate wildcards only with DNS-01, and the issuer has no DNS-01 solver for it"),
            )
            .evidence(format!(
                "{}: {} solver(s), none with dns01 matching {name}",
                issuer_kind_cmd(cert),
                acme.solvers.len()
            ));
            if let Some(o) = &cert.order
                && let Some(a) = o.authorizations.iter().find(|a| a.wildcard)
            {
                f = f.evidence(format!(
                    "Order {}: authorization for {} offers only {}",
                    o.name,
                    a.identifier,
                    a.challenge_types.join(", ")
                ));
            }
            f.fix(format!(
                "add a DNS-01 solver for the wildcard to the {}, e.g.\n  solvers:\n  - selector: {{dnsNames: [\"{name}\"]}}\n    dns01: {{<your DNS provider>: ...}}\nHTTP-01 can keep serving the other names.",
                issuer_kind_cmd(cert)
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::certificate::tests::codes;
    use crate::diagnose::testdata::stuck;
    use crate::evidence::*;

    #[test]
    fn wildcard_without_dns01_solver() {
        let (mut cert, cluster) = stuck();
        cert.dns_names = vec!["*.example.com".into(), "example.com".into()];
        assert!(codes(&cert, &cluster).contains(&(Code::WildcardNeedsDns01, Proof::Proves)));
        // A DNS-01 solver selected for the zone fixes it.
        let acme = cert.issuer.as_mut().unwrap().acme.as_mut().unwrap();
        acme.solvers.push(Solver {
            selector: Some(SolverSelector {
                dns_zones: Some(vec!["example.com".into()]),
                ..Default::default()
            }),
            dns01: Some(serde_json::json!({"cloudflare": {}})),
            ..Default::default()
        });
        assert!(
            !codes(&cert, &cluster)
                .iter()
                .any(|(c, _)| *c == Code::WildcardNeedsDns01)
        );
    }
}
