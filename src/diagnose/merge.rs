//! How the walk merges what it collects for one challenge: the single-vantage probe rules on
//! both vantages as one finding per subject, later findings folded into earlier ones with the
//! same code, and the attribution lines attached to the finding they explain.

use super::finding::{Code, Finding};
use super::probe;
use crate::evidence::ChallengeEvidence;
use crate::probe::plan::{CaProfile, TargetReport};

/// Single-vantage codes that also describe the self check when seen from inside the cluster.
/// The others are about the CA's view (non-public names, IPv6, CDN, LE redirect rules, inbound
/// firewalls) or are replaced by a cross-vantage rule (DNS from inside: split horizon;
/// timeouts from inside: hairpin/egress).
const INSIDE_CODES: &[Code] = &[
    Code::MixedBackends,
    Code::StaleAddress,
    Code::HttpsRedirectUnserved,
    Code::AuthRequired,
    Code::BodyMismatch,
];

/// The single-vantage probe rules on both views, merged: a finding seen from both vantages is
/// one finding with both vantages' evidence; one seen only from inside says so.
pub fn single_vantage(
    ch: &ChallengeEvidence,
    local: Option<&TargetReport>,
    inside: Option<&TargetReport>,
    profile: CaProfile,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = local
        .map(|t| probe::findings(ch, t, profile))
        .unwrap_or_default();
    let seen_inside = inside
        .map(|t| probe::findings(ch, t, profile))
        .unwrap_or_default()
        .into_iter()
        .filter(|f| INSIDE_CODES.contains(&f.code));
    // The subject of a probe finding is the first word of its summary (the address, or the name
    // for per-name codes): merge only findings about the same subject, each once.
    let subject = |f: &Finding| f.summary.split(' ').next().unwrap_or("").to_owned();
    let local_count = out.len();
    let mut merged = vec![false; local_count];
    for c in seen_inside {
        let same = (0..local_count).find(|&i| {
            !merged[i]
                && out[i].code == c.code
                && out[i].challenge == c.challenge
                && subject(&out[i]) == subject(&c)
        });
        match same.map(|i| {
            merged[i] = true;
            &mut out[i]
        }) {
            Some(l) => {
                l.summary = format!(
                    "{} (seen from this machine and from inside the cluster)",
                    l.summary
                );
                l.evidence = interleave(&l.evidence, &c.evidence);
            }
            None => {
                let mut c = c;
                c.summary = format!("from inside the cluster: {}", c.summary);
                out.push(c);
            }
        }
    }
    out
}

/// Evidence lines of both vantages, pairwise; a line both share is kept once (naming both
/// vantages when it carries counts).
fn interleave(local: &[String], inside: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..local.len().max(inside.len()) {
        match (local.get(i), inside.get(i)) {
            (Some(l), Some(c)) if l == c && l.contains('×') => {
                out.push(format!("this machine and in cluster: {l}"));
            }
            (Some(l), Some(c)) if l == c => out.push(l.clone()),
            (l, c) => {
                if let Some(l) = l {
                    out.push(format!("this machine: {l}"));
                }
                if let Some(c) = c {
                    out.push(format!("in cluster: {c}"));
                }
            }
        }
    }
    out
}

/// Add findings, folding one with the same code and challenge as a finding that was there
/// before into it (its evidence appended, the stronger proof kept) so nothing is said twice.
/// New findings are not folded into each other (one per address stays one per address).
pub fn merge_into(findings: &mut Vec<Finding>, new: Vec<Finding>) {
    let before = findings.len();
    for f in new {
        match findings[..before]
            .iter_mut()
            .find(|e| e.code == f.code && e.challenge == f.challenge)
        {
            Some(e) => {
                for line in f.evidence {
                    if !e.evidence.contains(&line) {
                        e.evidence.push(line);
                    }
                }
                e.proof = e.proof.min(f.proof);
                e.severity = e.severity.min(f.severity);
                if e.fix.is_empty() {
                    e.fix = f.fix;
                }
            }
            None => findings.push(f),
        }
    }
}

/// Codes that attribution evidence is attached to, best first.
const ATTRIBUTED: &[Code] = &[
    Code::WrongDataPlane,
    Code::MixedBackends,
    Code::BackendPinnedBySource,
    Code::StaleAddress,
    Code::SplitHorizon,
    Code::HairpinUnreachable,
    Code::IngressClassUnserved,
    Code::HttprouteNotAttached,
    Code::SolverUnreachable,
    Code::SelfCheckFailing,
];

/// Attach the attribution lines to the most fitting finding of this challenge: the headline
/// (`traffic for … reaches …`) right after its first evidence line, the rest at the end.
pub fn attach_attribution(findings: &mut [Finding], ch: &ChallengeEvidence, lines: Vec<String>) {
    if lines.is_empty() {
        return;
    }
    let Some(f) = ATTRIBUTED.iter().find_map(|code| {
        findings
            .iter()
            .position(|f| f.code == *code && f.challenge.as_deref().is_none_or(|c| c == ch.name))
    }) else {
        return;
    };
    let f = &mut findings[f];
    // WRONG_DATA_PLANE's summary already says where the traffic goes.
    let headline = f.code != Code::WrongDataPlane;
    let mut rest = lines.into_iter();
    // After the leading per-vantage lines (`this machine: …`, `in cluster: …`), at least one.
    let mut at = f
        .evidence
        .iter()
        .take_while(|l| l.starts_with("this machine") || l.starts_with("in cluster"))
        .count()
        .max(1)
        .min(f.evidence.len());
    for line in rest.by_ref() {
        if f.evidence.contains(&line) {
            continue;
        }
        if line.starts_with("traffic for ") {
            if !headline {
                continue;
            }
            f.evidence.insert(at, line);
            at += 1;
        } else {
            f.evidence.push(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::finding::{Proof, Severity};
    use crate::diagnose::vantages::testdata::*;
    use crate::diagnose::vantages::tests::codes;

    #[test]
    fn mixed_backends_from_both_sides_is_one_finding() {
        let mixed = |n| addr(EDGE, vec![ok("nginx", n), status(404, "envoy", 200 - n)]);
        let l = local(vec![mixed(100)]);
        let i = inside(vec![mixed(98)], vec![nginx_serves(), gateway_404()]);
        let f = single_vantage(&ch(), Some(&l), Some(&i), CaProfile::Pebble);
        assert_eq!(codes(&f), [Code::MixedBackends]);
        assert!(
            f[0].summary
                .ends_with("(seen from this machine and from inside the cluster)")
        );
        assert_eq!(
            f[0].evidence[0],
            "this machine: 203.0.113.10  100×200 key (nginx)  100×404 (envoy)"
        );
        assert_eq!(
            f[0].evidence[1],
            "in cluster: 203.0.113.10  98×200 key (nginx)  102×404 (envoy)"
        );
        // Seen only from inside: one finding that says so.
        let l = outside_ok();
        let f = single_vantage(&ch(), Some(&l), Some(&i), CaProfile::Pebble);
        assert_eq!(codes(&f), [Code::MixedBackends]);
        assert!(
            f[0].summary.starts_with("from inside the cluster: "),
            "{}",
            f[0].summary
        );
        // Codes about the CA's view are not taken from inside (private addresses inside are fine).
        let i = inside(vec![addr("198.51.100.10", vec![ok("nginx", 66)])], vec![]);
        let f = single_vantage(&ch(), Some(&l), Some(&i), CaProfile::Letsencrypt);
        assert_eq!(codes(&f), [Code::NonPublicName], "from this machine only");
        assert!(!f[0].summary.starts_with("from inside"), "{}", f[0].summary);
    }

    #[test]
    fn inside_findings_merge_per_address_once() {
        let mixed = |ip: &str| addr(ip, vec![ok("nginx", 100), status(404, "envoy", 100)]);
        let l = local(vec![mixed(EDGE)]);
        let i = inside(vec![mixed(EDGE), mixed("203.0.113.11")], vec![]);
        let f = single_vantage(&ch(), Some(&l), Some(&i), CaProfile::Pebble);
        assert_eq!(codes(&f), [Code::MixedBackends, Code::MixedBackends]);
        assert!(
            f[0].summary.starts_with("203.0.113.10 ")
                && f[0].summary.ends_with("from inside the cluster)"),
            "{}",
            f[0].summary
        );
        assert!(
            f[1].summary
                .starts_with("from inside the cluster: 203.0.113.11 "),
            "{}",
            f[1].summary
        );
    }

    #[test]
    fn merging_folds_into_earlier_findings_only() {
        let mut f = vec![
            Finding::new(
                Code::SolverUnreachable,
                Severity::Error,
                Proof::Proves,
                "api",
            )
            .challenge("web-1")
            .evidence("no endpoints"),
        ];
        merge_into(
            &mut f,
            vec![
                Finding::new(
                    Code::SolverUnreachable,
                    Severity::Error,
                    Proof::Supports,
                    "direct",
                )
                .challenge("web-1")
                .evidence("direct: 20×connect_timeout"),
                Finding::new(Code::MixedBackends, Severity::Error, Proof::Proves, "a")
                    .challenge("web-1"),
                Finding::new(Code::MixedBackends, Severity::Error, Proof::Proves, "b")
                    .challenge("web-1"),
            ],
        );
        assert_eq!(
            codes(&f),
            [
                Code::SolverUnreachable,
                Code::MixedBackends,
                Code::MixedBackends
            ]
        );
        assert_eq!(f[0].proof, Proof::Proves);
        assert_eq!(
            f[0].evidence,
            ["no endpoints", "direct: 20×connect_timeout"]
        );
    }
}
