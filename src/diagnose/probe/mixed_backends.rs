//! MIXED_BACKENDS: one address serves the key on some fresh connections and not on others,
//! from different backends.

use crate::diagnose::finding::{Code, Finding, Proof, Severity};
use crate::diagnose::util::outcome_summary;
use crate::diagnose::view::Vantage;
use crate::probe::plan::{AddressReport, KeyMatch, OutcomeCount};

fn pct(n: u32, d: u32) -> u32 {
    if d == 0 {
        0
    } else {
        (f64::from(n) * 100.0 / f64::from(d)).round() as u32
    }
}

/// The strict rotation seen at an address: its period and one turn, counted per answer in
/// order of first appearance (`9× nginx 200, 1× envoy 404`).
fn rotation(a: &AddressReport) -> Option<(u32, String, usize)> {
    let order = a.arrival_order.as_ref()?;
    let period = order.period?;
    let mut turn: Vec<(String, u32)> = Vec::new();
    for slot in order.sequence.iter().take(period as usize) {
        let what = match (slot.status, slot.error_class) {
            (Some(st), _) => format!("{} {st}", slot.responder),
            (None, Some(e)) => e.as_str().to_owned(),
            (None, None) => "no answer".to_owned(),
        };
        match turn.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => turn.push((what, 1)),
        }
    }
    let turn: Vec<String> = turn.iter().map(|(w, n)| format!("{n}× {w}")).collect();
    Some((period, turn.join(", "), order.sequence.len()))
}

pub(crate) fn mixed_backends(c: &Vantage) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &c.report.addresses {
        let responders = a.responders();
        let serving: Vec<&OutcomeCount> = a
            .outcomes
            .iter()
            .filter(|o| o.key_match == KeyMatch::Exact)
            .collect();
        let failing: Vec<&OutcomeCount> =
            a.outcomes.iter().filter(|o| !o.cert_manager_pass).collect();
        if serving.is_empty() || failing.is_empty() || responders.len() < 2 {
            continue;
        }
        let good: u32 = serving.iter().map(|o| o.count).sum();
        let bad: u32 = failing.iter().map(|o| o.count).sum();
        let good_who = serving[0].responder.clone();
        let bad_who = failing[0].responder.clone();
        let sc = &c.report.verdicts.self_check;
        out.push(
            Finding::new(
                Code::MixedBackends,
                Severity::Error,
                Proof::Proves,
                format!(
                    "{} answers from {} different backends: {} of {} fresh connections reach {good_who}, which serves the key; {bad} get {} from {bad_who}",
                    a.address,
                    responders.len(),
                    good,
                    a.attempts,
                    failing[0].status.map_or_else(|| failing[0].error_class.map_or("no answer".into(), |e| e.as_str().to_owned()), |s| s.to_string()),
                ),
            )
            .challenge(&c.ch.name)
            .evidence(format!("{}  {}", a.address, outcome_summary(a)))
            .evidence(match (&sc.rotation, rotation(a)) {
                // Strict round-robin: the rounds are not independent draws (probe::verdict);
                // said with the verdict's own figure, the independent one only for contrast.
                (Some(_), Some((period, turn, seen))) => format!(
                    "{} rotates strictly over {period} slots ({turn} per turn, seen over {seen} attempts sent one at a time): cert-manager's 5 checks land on consecutive slots, so {} (the self-check verdict); with other traffic on the balancer the draws would be independent: ≈{:.1} %",
                    a.address,
                    match sc.pass_probability {
                        p if p <= 0.0 => "no round passes".to_owned(),
                        p if p >= 1.0 => "every round passes".to_owned(),
                        p => format!("≈{:.1} % of rounds pass", p * 100.0),
                    },
                    (f64::from(good) / f64::from(a.attempts.max(1))).powi(5) * 100.0
                ),
                (Some(note), None) => note.clone(),
                (None, _) => format!(
                    "cert-manager needs 5 passes in a row: ≈{:.1} % of rounds pass ({}% of requests)",
                    sc.pass_probability * 100.0,
                    pct(good, a.attempts)
                ),
            })
            .evidence("a browser with keep-alive sticks to one backend, so the URL can look fine by hand")
            .fix(format!(
                "every backend behind {} must serve /.well-known/acme-challenge/ for {}, or the load balancer in front must send that path to {good_who} only (HAProxy: `acl acme path_beg /.well-known/acme-challenge/` + `use_backend <{good_who} backend> if acme`); remove backends that do not belong",
                a.address, c.ch.dns_name
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::probe::tests::{ch, codes, findings, report};
    use crate::diagnose::testdata::{addr, oc};
    use crate::diagnose::util::outcome_summary;
    use crate::probe::plan::CaProfile;
    use crate::probe::plan::KeyMatch;

    #[test]
    fn founding_incident() {
        let a = addr(
            "192.0.2.10",
            vec![
                oc(Some(200), None, "nginx", KeyMatch::Exact, 13),
                oc(Some(404), None, "envoy", KeyMatch::NotApplicable, 11),
            ],
        );
        assert_eq!(outcome_summary(&a), "13×200 key (nginx)  11×404 (envoy)");
        let r = report(vec![a]);
        let f = findings(&ch(), &r, CaProfile::Pebble);
        assert_eq!(
            f.iter().map(|f| f.code).collect::<Vec<_>>(),
            vec![Code::MixedBackends]
        );
        assert!(f[0].summary.contains("13 of 24"), "{}", f[0].summary);
    }

    #[test]
    fn same_responder_mix_is_not_mixed_backends() {
        let r = report(vec![addr(
            "192.0.2.10",
            vec![
                oc(Some(200), None, "nginx", KeyMatch::Exact, 10),
                oc(Some(404), None, "nginx", KeyMatch::NotApplicable, 10),
            ],
        )]);
        assert!(!codes(&r, CaProfile::Pebble).contains(&Code::MixedBackends));
    }

    #[test]
    fn a_strict_rotation_is_said_once_with_the_verdicts_figure() {
        use crate::probe::plan::{ArrivalOrder, Slot};
        // founding-incident-90-10: nine nginx slots, one envoy slot.
        let mut a = addr(
            "203.0.113.10",
            vec![
                oc(Some(200), None, "nginx", KeyMatch::Exact, 180),
                oc(Some(404), None, "envoy", KeyMatch::No, 20),
            ],
        );
        let slot = |who: &str, st: u16| Slot {
            status: Some(st),
            responder: who.into(),
            cert_manager_pass: st == 200,
            ..Default::default()
        };
        let mut seq: Vec<Slot> = (0..9).map(|_| slot("nginx", 200)).collect();
        seq.push(slot("envoy", 404));
        let seq: Vec<Slot> = seq.iter().cycle().take(30).cloned().collect();
        a.arrival_order = Some(ArrivalOrder {
            sequence: seq,
            period: Some(10),
        });
        let mut r = report(vec![a]);
        r.verdicts.self_check.pass_probability = 0.5;
        r.verdicts.self_check.rotation = Some("the verdict's note".into());
        let f = findings(&ch(), &r, CaProfile::Pebble);
        let line = &f[0].evidence[1];
        assert_eq!(
            line,
            "203.0.113.10 rotates strictly over 10 slots (9× nginx 200, 1× envoy 404 per turn, seen over 30 attempts sent one at a time): cert-manager's 5 checks land on consecutive slots, so ≈50.0 % of rounds pass (the self-check verdict); with other traffic on the balancer the draws would be independent: ≈59.0 %"
        );
    }
}
