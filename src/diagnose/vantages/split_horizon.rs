//! SPLIT_HORIZON: cluster DNS answers the name differently from this machine's resolver, and
//! the in-cluster answer does not serve the key (or does not resolve).

use super::util::{cm_names, passes_all};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantages;
use crate::probe::health::own_trouble;
use crate::probe::plan::{AddressReport, ErrorClass, ResolverAnswer, TargetReport};

fn primary(t: &TargetReport) -> Option<&ResolverAnswer> {
    t.dns.resolvers.iter().find(|a| a.role == "primary")
}

fn answer_set(a: &ResolverAnswer) -> Vec<String> {
    let mut v: Vec<String> = a.a.iter().chain(&a.aaaa).cloned().collect();
    v.sort();
    v
}

fn answer_text(a: &ResolverAnswer) -> String {
    match a.error {
        Some(e) => e.as_str().to_owned(),
        None => answer_set(a).join(", "),
    }
}

fn joined(v: &[String]) -> String {
    v.join(", ")
}

pub(crate) fn split_horizon(c: &Vantages) -> Vec<Finding> {
    let (Some(local), Some(inside)) = (c.local, c.inside) else {
        return vec![];
    };
    let (Some(la), Some(ia)) = (primary(local), primary(inside)) else {
        return vec![];
    };
    if la.error.is_some() || local.dns.ip_literal {
        return vec![];
    }
    // The pod's own resolver trouble (none reachable, refusing or failing for names that must
    // exist) is a limitation of that vantage (vantage_limits.rs), not cluster DNS's answer.
    if inside
        .health
        .as_ref()
        .is_some_and(|h| own_trouble(ia, h).is_some())
    {
        return vec![];
    }
    let (lset, iset) = (answer_set(la), answer_set(ia));
    if lset == iset && ia.error.is_none() {
        return vec![];
    }
    let local_ok: Vec<&AddressReport> = local
        .addresses
        .iter()
        .filter(|a| a.cert_manager_passes > 0)
        .collect();
    let only_inside: Vec<&AddressReport> = inside
        .addresses
        .iter()
        .filter(|a| !lset.contains(&a.address))
        .collect();
    let failing: Vec<&AddressReport> = only_inside
        .iter()
        .copied()
        .filter(|a| !passes_all(a))
        .collect();
    // A different answer that works is no problem; an answer error from inside is one.
    if ia.error.is_none() && failing.is_empty() {
        return vec![];
    }
    let proof = if local_ok.is_empty() {
        Proof::Supports
    } else {
        Proof::Proves
    };
    let summary = match ia.error {
        Some(ErrorClass::DnsRefused) => format!(
            "cluster DNS refuses to resolve {} (REFUSED: a policy of that resolver, not the domain's DNS; cert-manager's self check sees it as `server misbehaving`) while this machine's resolver answers {}: the self check never reaches the entry point the CA uses",
            c.ch.dns_name,
            joined(&lset)
        ),
        Some(e) => format!(
            "cluster DNS cannot resolve {} ({e}) while this machine's resolver answers {}: the self check never reaches the entry point the CA uses",
            c.ch.dns_name,
            joined(&lset)
        ),
        None => format!(
            "cluster DNS answers {} with {}, this machine's resolver with {}: from inside, {} of {} requests to {} pass, so the self check tests another entry point than the CA",
            c.ch.dns_name,
            joined(&iset),
            joined(&lset),
            failing.iter().map(|a| a.cert_manager_passes).sum::<u32>(),
            failing.iter().map(|a| a.attempts).sum::<u32>(),
            failing
                .iter()
                .map(|a| a.address.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut f = Finding::new(Code::SplitHorizon, Severity::Error, proof, summary)
        .challenge(&c.ch.name)
        .evidence(format!(
            "DNS: this machine ({}) {}; in cluster ({}) {}",
            la.resolver,
            answer_text(la),
            ia.resolver,
            answer_text(ia)
        ));
    for a in &failing {
        f = f.evidence(format!("in cluster: {}  {}", a.address, outcome_summary(a)));
    }
    for a in &local_ok {
        f = f.evidence(format!(
            "this machine: {}  {}",
            a.address,
            outcome_summary(a)
        ));
    }
    let (ns, deploy) = cm_names(c.cluster);
    let current = c
        .cluster
        .cert_manager
        .as_ref()
        .map(|m| m.solver_nameservers.clone())
        .unwrap_or_default();
    let fix = if current.is_empty() {
        format!(
            "let the self check resolve with public resolvers (only the self check, not other lookups): kubectl -n {ns} patch deployment {deploy} --type json -p '[{{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/args/-\",\"value\":\"--acme-http01-solver-nameservers=1.1.1.1:53,8.8.8.8:53\"}}]' (Helm: extraArgs); or serve the challenge on the internal entry point too; or DNS-01"
        )
    } else {
        format!(
            "the self check already uses --acme-http01-solver-nameservers={} and they give the internal answer: point them at resolvers with the public view (kubectl -n {ns} edit deployment {deploy}), or serve the challenge on the internal entry point too; or DNS-01",
            current.join(",")
        )
    };
    vec![f.fix(fix)]
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::diagnose::vantages::tests::{codes, run};

    #[test]
    fn split_horizon_dns() {
        let internal = "198.51.100.50";
        let l = outside_ok();
        let i = inside(vec![addr(internal, vec![status(404, "nginx", 66)])], vec![]);
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::SplitHorizon]);
        let s = &f[0];
        assert_eq!(s.proof, Proof::Proves);
        assert!(
            s.summary
                .contains("with 198.51.100.50, this machine's resolver with 203.0.113.10"),
            "{}",
            s.summary
        );
        assert!(
            s.summary.contains("0 of 66 requests to 198.51.100.50 pass"),
            "{}",
            s.summary
        );
        assert!(s.fix.starts_with("let the self check resolve"), "{}", s.fix);
        assert!(s.fix.contains("kubectl -n cert-manager patch deployment cert-manager --type json -p '[{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/args/-\",\"value\":\"--acme-http01-solver-nameservers=1.1.1.1:53,8.8.8.8:53\"}]'"), "{}", s.fix);
        // Cluster DNS has no record at all.
        let i = report("system", &[], vec![]);
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::SplitHorizon]);
        assert!(
            f[0].summary
                .contains("cannot resolve shop.example.test (dns_nxdomain)"),
            "{}",
            f[0].summary
        );
        // REFUSED by cluster DNS: its policy, and said so.
        let mut i = report("system", &[], vec![]);
        i.dns.resolvers[0].error = Some(ErrorClass::DnsRefused);
        let f = run(Some(&l), &ran(i.clone()), &cluster());
        assert_eq!(codes(&f), [Code::SplitHorizon]);
        assert!(
            f[0].summary
                .starts_with("cluster DNS refuses to resolve shop.example.test (REFUSED: a policy of that resolver"),
            "{}",
            f[0].summary
        );
        // The pod reaches no resolver at all: a limitation of the pod, not split horizon.
        i.dns.resolvers[0].error = Some(ErrorClass::DnsTimeout);
        let i = with_health(
            i,
            "in-cluster",
            crate::probe::plan::ResolverState::Unreachable,
        );
        let f = run(Some(&l), &ran(i), &cluster());
        assert_eq!(codes(&f), [Code::NotChecked]);
        // Nameservers already set: the fix says to change them.
        let mut cl = cluster();
        cl.cert_manager.as_mut().unwrap().solver_nameservers = vec!["198.51.100.53:53".into()];
        let i = inside(vec![addr(internal, vec![status(404, "nginx", 66)])], vec![]);
        let f = run(Some(&l), &ran(i), &cl);
        assert!(
            f[0].fix
                .contains("already uses --acme-http01-solver-nameservers=198.51.100.53:53"),
            "{}",
            f[0].fix
        );
        // A different answer that works is not a problem.
        let i = inside(vec![addr(internal, vec![ok("nginx", 66)])], vec![]);
        assert!(run(Some(&l), &ran(i), &cluster()).is_empty());
    }
}
