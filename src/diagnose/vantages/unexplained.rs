//! UNEXPLAINED_FAILURE and the invariant it keeps: whenever a verdict of a probed challenge
//! (the self check or the CA validation, from either vantage) is `fail` or `flaky`, or
//! cert-manager's own reason says the self check fails, the report carries an error finding
//! that explains it. When no rule named a cause for the challenge, this general finding says
//! what was expected, what each vantage observed (status or error, responder, counts, per
//! address), who answered when asked directly, and what to check next. The final step of the
//! diagnosis (`rank::finish`) calls it for every probed challenge, after all other rules.

use super::util::{direct_line, facts, from_the_controller_pod};
use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::{outcome_summary, outcome_text};
use crate::diagnose::view::Vantages;
use crate::probe::plan::{OutcomeCount, TargetReport, Verdict, VerdictOutcome};
use crate::reason;

/// The vantages' names, as the evidence lines of the cross-vantage rules write them.
fn reports<'a>(c: &Vantages<'a>) -> Vec<(&'static str, &'a TargetReport)> {
    [("this machine", c.local), ("in cluster", c.inside)]
        .into_iter()
        .filter_map(|(v, t)| t.map(|t| (v, t)))
        .collect()
}

fn verdicts(t: &TargetReport) -> [(&'static str, &Verdict); 2] {
    [
        ("the self check", &t.verdicts.self_check),
        ("the CA validation", &t.verdicts.acme),
    ]
}

fn fails(v: &Verdict) -> bool {
    matches!(v.outcome, VerdictOutcome::Fail | VerdictOutcome::Flaky)
}

fn outcome_word(v: &Verdict) -> &'static str {
    match v.outcome {
        VerdictOutcome::Pass => "pass",
        VerdictOutcome::Fail => "fail",
        VerdictOutcome::Flaky => "flaky",
        VerdictOutcome::Unknown => "unknown",
    }
}

/// cert-manager's reason says its self check fails: the reason parser reads it as a self-check
/// result (`reason::observation`), or it has the propagation wording around an error the
/// parser does not know (`Waiting for HTTP-01 challenge propagation: <error>`, any casing). Not
/// the `waitInsteadOfSelfCheck` wait.
pub(crate) fn reason_says_failing(c: &Vantages) -> bool {
    if reason::of_challenge(c.ch).is_some_and(|r| r.observation().is_some()) {
        return true;
    }
    let Some(r) = c.ch.reason.as_deref() else {
        return false;
    };
    let r = r.trim().to_ascii_lowercase();
    r.starts_with("waiting for ") && r.contains("challenge propagation: ")
}

/// Some verdict of this challenge fails (or is flaky), from either vantage.
pub(crate) fn verdict_fails(c: &Vantages) -> bool {
    reports(c)
        .iter()
        .any(|(_, t)| verdicts(t).iter().any(|(_, v)| fails(v)))
}

/// An error finding about this challenge that names a cause (not the symptom, not what could
/// not be checked, not this general finding).
fn explained(findings: &[Finding], c: &Vantages) -> bool {
    let about = |f: &&Finding| f.challenge.as_deref() == Some(c.ch.name.as_str());
    let cause = findings.iter().filter(about).any(|f| {
        f.severity == Severity::Error
            && !f.code.is_symptom()
            && !matches!(f.code, Code::NotChecked | Code::UnexplainedFailure)
    });
    // Not probed at all (--no-probe): cert-manager's own reason, as SELF_CHECK_FAILING says it,
    // is all there is, and NOT_CHECKED says why.
    let unprobed = c.local.is_none()
        && c.inside.is_none()
        && findings
            .iter()
            .filter(about)
            .any(|f| f.code == Code::SelfCheckFailing && f.severity == Severity::Error);
    cause || unprobed
}

/// The most frequent failing outcome of a report, and the address it was seen on.
fn dominant_failure(t: &TargetReport) -> Option<(&str, &OutcomeCount)> {
    t.addresses
        .iter()
        .flat_map(|a| a.outcomes.iter().map(move |o| (a.address.as_str(), o)))
        .filter(|(_, o)| !o.cert_manager_pass)
        .max_by_key(|(_, o)| o.count)
}

/// The general finding for a challenge whose failure no rule explains; None when a rule does,
/// or nothing fails.
pub(crate) fn unexplained(findings: &[Finding], c: &Vantages) -> Option<Finding> {
    let verdict_fail = verdict_fails(c);
    if !(verdict_fail || reason_says_failing(c)) || explained(findings, c) {
        return None;
    }
    let host = &c.ch.dns_name;
    let seen = reports(c);
    let got: Vec<String> = seen
        .iter()
        .filter_map(|(v, t)| {
            dominant_failure(t).map(|(a, o)| format!("{} on {a} {}", outcome_text(o), from(v)))
        })
        .collect();
    let summary = if verdict_fail {
        // `the self check and the CA validation fail from this machine and from inside …`
        let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
        for (v, t) in &seen {
            let named = |o: VerdictOutcome| -> Vec<&str> {
                verdicts(t)
                    .into_iter()
                    .filter(|(_, x)| x.outcome == o)
                    .map(|(n, _)| n)
                    .collect()
            };
            let (fail, flaky) = (named(VerdictOutcome::Fail), named(VerdictOutcome::Flaky));
            let mut parts = Vec::new();
            if !fail.is_empty() {
                let verb = if fail.len() > 1 { "fail" } else { "fails" };
                parts.push(format!("{} {verb}", fail.join(" and ")));
            }
            if !flaky.is_empty() {
                let verb = if flaky.len() > 1 { "are" } else { "is" };
                parts.push(format!("{} {verb} flaky", flaky.join(" and ")));
            }
            if parts.is_empty() {
                continue;
            }
            let phrase = parts.join(", ");
            match groups.iter_mut().find(|(p, _)| *p == phrase) {
                Some((_, vs)) => vs.push(from(v)),
                None => groups.push((phrase, vec![from(v)])),
            }
        }
        let what: Vec<String> = groups
            .iter()
            .map(|(p, vs)| format!("{p} {}", vs.join(" and ")))
            .collect();
        format!(
            "{} for {host}: expected HTTP 200 with the key, got {}; no rule names a more specific cause",
            what.join("; "),
            if got.is_empty() {
                "no failing answer".to_owned()
            } else {
                got.join(" and ")
            }
        )
    } else if seen.is_empty() {
        format!("cert-manager's self check for {host} fails, and no rule names a cause")
    } else if passing(&seen).is_empty() {
        // Every vantage that ran could not look (its verdicts are unknown: NOT_CHECKED says
        // why): cert-manager's own reason is the only witness.
        let r = reason::of_challenge(c.ch);
        let proven = r
            .as_ref()
            .and_then(|r| r.observation())
            .map(|o| format!(", {}", facts(&o, host)))
            .unwrap_or_default();
        format!(
            "cert-manager's self check for {host} fails ({}{proven}), and no probe could observe it: {}; cert-manager's own reason is the only witness",
            r.map_or_else(|| "its reason".to_owned(), |r| r.short()),
            seen.iter()
                .map(|(v, _)| if *v == "this machine" {
                    "this machine could not look"
                } else {
                    "the probe pod could not look"
                })
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else if c.inside.is_none() {
        // Only this machine looked (--local-only, or the pod could not run).
        let o = reason::of_challenge(c.ch).and_then(|r| r.observation());
        use reason::Known::{No, Yes};
        match o.filter(|o| o.resolved == Yes && o.connected == No) {
            Some(o) => format!(
                "cert-manager's self check for {host} cannot connect ({}), yet this machine gets the key: the pattern of a cluster that cannot reach its own public address (no hairpin) or of egress blocked for the controller; the probe pod tells them apart, and it did not run",
                o.address.as_deref().unwrap_or("port 80")
            ),
            None => format!(
                "cert-manager's self check for {host} fails, but the key is served now from this machine; the cluster's view is missing (the probe pod did not run), so whether the controller's path differs or the failure has passed is open"
            ),
        }
    } else {
        format!(
            "cert-manager's self check for {host} fails, but the key is served now {}: the failure is on the controller's own path, or it was transient",
            passing(&seen).join(" and ")
        )
    };
    let mut f = Finding::new(Code::UnexplainedFailure, Severity::Error, Proof::Supports, summary)
        .challenge(&c.ch.name)
        .evidence(format!(
            "expected: HTTP 200 with exactly the key ({} bytes) at {}, as cert-manager's self check and the CA require",
            c.ch.key.len(),
            c.ch.challenge_url()
        ));
    if let Some(r) = c.ch.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        f = f.evidence(format!("cert-manager says: {r}"));
    }
    for (v, t) in &seen {
        let [(_, sc), (_, ca)] = verdicts(t);
        f = f.evidence(format!(
            "{v}: self check {}, CA validation {}",
            outcome_word(sc),
            outcome_word(ca)
        ));
        if t.addresses.is_empty() {
            let dns = t
                .dns
                .resolvers
                .iter()
                .find_map(|r| r.error)
                .map_or("no address", |e| e.as_str());
            f = f.evidence(format!("{v}: {host} gave no address to probe ({dns})"));
        }
        for a in &t.addresses {
            f = f.evidence(format!(
                "{v}: {} ({}) {}",
                a.address,
                a.family,
                outcome_summary(a)
            ));
        }
    }
    match c.inside.filter(|i| !i.direct.is_empty()) {
        Some(i) => {
            for d in &i.direct {
                f = f.evidence(direct_line(d));
            }
        }
        None => {
            f = f.evidence(
                "nobody was asked directly: that needs the probe pod (it was not run, or could not run)",
            );
        }
    }
    Some(f.fix(next_steps(c, &seen, verdict_fail)))
}

/// The vantages whose self-check verdict passes (`from this machine`, …).
fn passing(seen: &[(&'static str, &TargetReport)]) -> Vec<&'static str> {
    seen.iter()
        .filter(|(_, t)| t.verdicts.self_check.outcome == VerdictOutcome::Pass)
        .map(|(v, _)| from(v))
        .collect()
}

fn from(vantage: &str) -> &'static str {
    if vantage == "this machine" {
        "from this machine"
    } else {
        "from inside the cluster"
    }
}

/// What to check next, from the most telling failure seen.
fn next_steps(c: &Vantages, seen: &[(&'static str, &TargetReport)], verdict_fail: bool) -> String {
    let host = &c.ch.dns_name;
    let url = c.ch.challenge_url();
    let by_hand =
        format!("then compare by hand: curl -sv {url} from outside and from a pod in the cluster");
    if !verdict_fail && !seen.is_empty() && passing(seen).is_empty() {
        return format!(
            "see NOT_CHECKED for what kept each vantage from looking, and look from where it can: from a pod in the cluster, curl -sv {url} (the self check's side), and from outside, curl -sv {url} with a working resolver (the CA's side)"
        );
    }
    if !verdict_fail && !seen.is_empty() {
        // The reports are filed under `<namespace>/<challenge>`.
        let ns = seen
            .iter()
            .find_map(|(_, t)| t.id.split_once('/').map(|(ns, _)| ns.to_owned()))
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "<namespace>".to_owned());
        if c.inside.is_none() {
            return format!(
                "run again with the probe pod (without --local-only; see NOT_CHECKED if it could not run) to see the cluster's side, or look by hand {}",
                from_the_controller_pod(c)
            );
        }
        return format!(
            "cert-manager repeats the self check about every 10 s: kubectl -n {ns} get challenge {} -w; if its reason stays, the controller's path differs from the probe pod's (its node, NetworkPolicies that select its labels, its proxy settings): look {}",
            c.ch.name,
            from_the_controller_pod(c)
        );
    }
    let failure = seen
        .iter()
        .filter_map(|(v, t)| dominant_failure(t).map(|(a, o)| (*v, a, o)))
        .next();
    let step = match failure {
        Some((v, _, o)) if o.status == Some(200) => format!(
            "something answers 200 {} with another body than the key: find which server that is ({}) and why it does not pass the request to the solver",
            from(v),
            o.responder
        ),
        Some((v, _, o)) if o.status.is_some() => format!(
            "find which server answers {} for {host} {} (the DNS record and the load balancer in front of the cluster decide it) and give it a route for /.well-known/acme-challenge/ to the solver's Service, or send the traffic to the data plane that has the route (compare with the direct answers)",
            outcome_text(o).split_once('×').map_or("", |(_, w)| w),
            from(v)
        ),
        Some((v, _, o)) if o.error_class.is_some_and(|e| e.is_dns()) => format!(
            "a redirect's host does not resolve {} ({}): check its DNS record",
            from(v),
            o.error_class.map_or("", |e| e.as_str())
        ),
        Some((v, a, o)) => format!(
            "port 80 of {a} cannot be reached {} ({}): check the firewall, security group or load-balancer listener in front of it",
            from(v),
            o.error_class.map_or("no answer", |e| e.as_str())
        ),
        None => format!("{host} gave no address to probe: check its DNS records"),
    };
    format!("{step}; {by_hand}")
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;
    use crate::probe::incluster::InCluster;

    const REASON_404: &str =
        "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'";

    fn failing(mut t: TargetReport) -> TargetReport {
        t.verdicts.self_check.outcome = VerdictOutcome::Fail;
        t.verdicts.acme.outcome = VerdictOutcome::Fail;
        t
    }

    fn passing(mut t: TargetReport) -> TargetReport {
        t.verdicts.self_check.outcome = VerdictOutcome::Pass;
        t.verdicts.acme.outcome = VerdictOutcome::Pass;
        t
    }

    fn general(
        findings: &[Finding],
        ch: &crate::evidence::ChallengeEvidence,
        local: Option<&TargetReport>,
        ic: &InCluster,
    ) -> Option<Finding> {
        let cl = cluster();
        unexplained(
            findings,
            &Vantages {
                ch,
                local,
                inside: crate::diagnose::vantages::tests::pod_report(ic),
                in_cluster: ic,
                cluster: &cl,
                ca: crate::probe::plan::CaProfile::Pebble,
            },
        )
    }

    #[test]
    fn a_failing_verdict_nobody_explains_gets_the_general_finding() {
        let l = failing(local(vec![addr(EDGE, vec![status(404, "apache", 20)])]));
        let i = failing(inside_edge(
            vec![status(404, "apache", 20)],
            vec![gateway_404()],
        ));
        let ic = ran(i);
        let f = general(&[], &ch(), Some(&l), &ic).expect("the general finding");
        assert_eq!(
            (f.code, f.severity),
            (Code::UnexplainedFailure, Severity::Error)
        );
        assert!(
            f.summary.starts_with("the self check and the CA validation fail from this machine and from inside the cluster for shop.example.test: expected HTTP 200 with the key, got 20×404 (apache) on 203.0.113.10 from this machine and 20×404 (apache) on 203.0.113.10 from inside the cluster"),
            "{}",
            f.summary
        );
        for line in [
            "this machine: self check fail, CA validation fail",
            "this machine: 203.0.113.10 (ipv4) 20×404 (apache)",
            "in cluster: self check fail, CA validation fail",
            "direct from inside: gateway infra/public (cilium) Service infra/cilium-gateway-public 198.51.100.20:80 does not serve the key: 20×404 (envoy)",
        ] {
            assert!(
                f.evidence.iter().any(|e| e == line),
                "{line}: {:#?}",
                f.evidence
            );
        }
        assert!(f.evidence[0].starts_with("expected: HTTP 200 with exactly the key (9 bytes)"));
        assert!(
            f.fix.starts_with(
                "find which server answers 404 (apache) for shop.example.test from this machine"
            ),
            "{}",
            f.fix
        );
        // A rule that names a cause for this challenge explains it; the symptom does not.
        let cause = Finding::new(Code::MixedBackends, Severity::Error, Proof::Proves, "x")
            .challenge("web-1");
        assert!(general(&[cause], &ch(), Some(&l), &ic).is_none());
        let symptom = Finding::new(
            Code::SelfCheckFailing,
            Severity::Error,
            Proof::Supports,
            "x",
        )
        .challenge("web-1");
        assert!(general(&[symptom], &ch(), Some(&l), &ic).is_some());
        let elsewhere = Finding::new(Code::MixedBackends, Severity::Error, Proof::Proves, "x")
            .challenge("other-1");
        assert!(general(&[elsewhere], &ch(), Some(&l), &ic).is_some());
        // Without the pod: nobody was asked directly, and it says so; a time-out says which port.
        let l = failing(local(vec![addr(
            EDGE,
            vec![err(crate::probe::plan::ErrorClass::ConnectTimeout, 20)],
        )]));
        let f = general(&[], &ch(), Some(&l), &InCluster::NotRequested).unwrap();
        assert!(
            f.evidence
                .iter()
                .any(|e| e.starts_with("nobody was asked directly")),
            "{:#?}",
            f.evidence
        );
        assert!(
            f.fix.starts_with(
                "port 80 of 203.0.113.10 cannot be reached from this machine (connect_timeout)"
            ),
            "{}",
            f.fix
        );
    }

    #[test]
    fn cert_managers_reason_alone_is_a_failure_too() {
        let mut c = ch();
        c.reason = Some(REASON_404.into());
        let l = passing(outside_ok());
        let ic = ran(passing(inside_edge(vec![ok("nginx", 20)], vec![])));
        let f = general(&[], &c, Some(&l), &ic).unwrap();
        assert!(
            f.summary.ends_with("fails, but the key is served now from this machine and from inside the cluster: the failure is on the controller's own path, or it was transient"),
            "{}",
            f.summary
        );
        assert!(
            f.evidence
                .contains(&format!("cert-manager says: {REASON_404}"))
        );
        assert!(f.fix.starts_with("cert-manager repeats the self check about every 10 s: kubectl -n shop get challenge web-1 -w"), "{}", f.fix);
        // Not probed at all: cert-manager's reason, as SELF_CHECK_FAILING says it, is all there is.
        let symptom = Finding::new(
            Code::SelfCheckFailing,
            Severity::Error,
            Proof::Supports,
            "x",
        )
        .challenge("web-1");
        assert!(general(&[symptom], &c, None, &InCluster::NotRequested).is_none());
        assert!(general(&[], &c, None, &InCluster::NotRequested).is_some());
        // The wait of waitInsteadOfSelfCheck is not a failure; nothing failing, nothing to say.
        c.reason =
            Some("Waiting 4m30s before accepting HTTP-01 challenge without self-check".into());
        assert!(general(&[], &c, Some(&l), &ic).is_none());
        let mut flaky = l.clone();
        flaky.verdicts.self_check.outcome = VerdictOutcome::Flaky;
        assert!(
            general(&[], &c, Some(&flaky), &ic).is_some(),
            "flaky counts as failing"
        );
    }

    /// Without the pod: no word about its path; a controller's timeout where this machine gets
    /// the key is the hairpin/egress pattern; the by-hand check runs in the controller's network.
    #[test]
    fn without_the_pod_it_names_no_pod_and_the_timeout_pattern() {
        let mut c = ch();
        let url = c.challenge_url();
        c.reason = Some(format!(
            "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request '{url}': Get \"{url}\": dial tcp 203.0.113.10:80: i/o timeout"
        ));
        let l = passing(outside_ok());
        let f = general(&[], &c, Some(&l), &InCluster::NotRequested).unwrap();
        assert_eq!(
            f.summary,
            "cert-manager's self check for shop.example.test cannot connect (203.0.113.10:80), yet this machine gets the key: the pattern of a cluster that cannot reach its own public address (no hairpin) or of egress blocked for the controller; the probe pod tells them apart, and it did not run"
        );
        let fix = format!(
            "run again with the probe pod (without --local-only; see NOT_CHECKED if it could not run) to see the cluster's side, or look by hand from inside the controller pod's own network: kubectl -n cert-manager get pods (deployment cert-manager's pod), then kubectl -n cert-manager debug -it <pod> --image=curlimages/curl -- curl -sv {url}"
        );
        assert!(f.fix.starts_with(&fix), "{}", f.fix);
        c.reason = Some(REASON_404.into());
        let f = general(&[], &c, Some(&l), &InCluster::NotRequested).unwrap();
        assert!(f.summary.ends_with("the cluster's view is missing (the probe pod did not run), so whether the controller's path differs or the failure has passed is open"), "{}", f.summary);
    }
}
