//! The probe section of one challenge in the table: DNS per vantage, every address with both
//! vantages side by side, the verdicts, the probe pod's direct probes, where the pod ran, and
//! the path as a picture ([`super::picture`]).

use super::layout::{Sheet, Text, sheet};
use super::picture::picture;
use super::table::{Look, Style, wrap};
use super::{InClusterSummary, Vantages};
use crate::diagnose::util::{outcome_text, placement_text, problem_kind};
use crate::probe::plan::{
    AddressReport, CaProfile, DirectResult, OutcomeCount, ProxyProtocolProbe, TargetReport,
    Verdict, VerdictOutcome,
};
use std::fmt::Write as _;

pub(super) fn verdict_line(v: &Verdict) -> String {
    let what = match v.outcome {
        VerdictOutcome::Pass => "pass",
        VerdictOutcome::Fail => "fail",
        VerdictOutcome::Flaky => "flaky",
        VerdictOutcome::Unknown => "unknown",
    };
    // Over consecutive slots of a strict rotation (the findings explain it); short for 80 columns.
    if v.rotation.is_some() && v.outcome != VerdictOutcome::Pass {
        return match v.outcome {
            VerdictOutcome::Flaky => format!(
                "{what} (≈{:.1} %, strict round-robin)",
                v.pass_probability * 100.0
            ),
            _ => format!("{what} (strict round-robin)"),
        };
    }
    if v.outcome == VerdictOutcome::Flaky {
        format!(
            "{what} (≈{:.1} % of rounds pass)",
            v.pass_probability * 100.0
        )
    } else {
        what.to_owned()
    }
}

fn dns_answer(r: &crate::probe::plan::ResolverAnswer) -> String {
    match r.error {
        Some(e) => e.as_str().to_owned(),
        None => {
            let mut parts = Vec::new();
            if !r.cname.is_empty() {
                parts.push(format!("CNAME {}", r.cname.join(" → ")));
            }
            if !r.a.is_empty() {
                parts.push(format!("A {}", r.a.join(", ")));
            }
            if !r.aaaa.is_empty() {
                parts.push(format!("AAAA {}", r.aaaa.join(", ")));
            }
            parts.join("; ")
        }
    }
}

fn outcome_lines(outcomes: &[OutcomeCount]) -> Vec<String> {
    outcomes.iter().map(outcome_text).collect()
}

fn followup_line(p: &ProxyProtocolProbe) -> String {
    format!(
        "with PROXY header: {}",
        outcome_lines(&p.outcomes).join("  ")
    )
}

/// One vantage's cell for one address: outcomes one per line, the PROXY follow-up, and the
/// resolver when it is not the one the vantage's validator uses.
fn address_cell(t: &TargetReport, a: &AddressReport) -> String {
    let mut lines = outcome_lines(&a.outcomes);
    if let Some(p) = &a.with_proxy_protocol {
        lines.push(followup_line(p));
    }
    let primary = t
        .dns
        .resolvers
        .iter()
        .find(|r| r.role == "primary")
        .map(|r| r.resolver.as_str());
    if !a.resolved_by.is_empty() && !a.resolved_by.iter().any(|r| Some(r.as_str()) == primary) {
        lines.push(format!("(via {})", a.resolved_by.join(", ")));
    }
    lines.join("\n")
}

fn ca_rules(t: &TargetReport) -> &'static str {
    match t.ca_profile {
        CaProfile::Letsencrypt => "Let's Encrypt rules",
        CaProfile::Pebble => "Pebble rules",
        CaProfile::Private => "private ACME server",
        CaProfile::Public => "another public CA, its rules not known",
    }
}

/// The probes of one challenge: DNS per vantage, every address with both vantages side by side,
/// the verdicts (self check from inside when there is an inside view, the CA from outside), the
/// pod's direct probes, and where the pod ran or why it did not.
pub(super) fn probes(
    out: &mut String,
    v: &Vantages,
    in_cluster: Option<&InClusterSummary>,
    style: Style,
    look: Look,
) {
    let views: Vec<(&str, &TargetReport)> = [
        ("this machine", v.local.as_ref()),
        ("in cluster", v.in_cluster.as_ref()),
    ]
    .into_iter()
    .filter_map(|(l, t)| t.map(|t| (l, t)))
    .collect();
    let Some((_, first)) = views.first() else {
        return;
    };
    // The URL itself is in -o json/yaml (vantages.*.url); its token would not fit 80 columns.
    let _ = writeln!(
        out,
        "Probes of http://{}/.well-known/acme-challenge/…",
        first.dns_name
    );
    for (label, t) in &views {
        for r in &t.dns.resolvers {
            let _ = writeln!(out, "  DNS {label} ({}): {}", r.resolver, dns_answer(r));
        }
    }
    let mut addresses: Vec<&str> = Vec::new();
    for (_, t) in &views {
        for a in &t.addresses {
            if !addresses.contains(&a.address.as_str()) {
                addresses.push(&a.address);
            }
        }
    }
    if !addresses.is_empty() {
        let mut headers = vec!["ADDRESS"];
        for (label, _) in &views {
            headers.push(if *label == "this machine" {
                "THIS MACHINE"
            } else {
                "IN CLUSTER (probe pod)"
            });
        }
        let rows = addresses
            .into_iter()
            .map(|ip| {
                let mut row = vec![Text::from(ip)];
                for (_, t) in &views {
                    row.push(Text::from(
                        t.addresses
                            .iter()
                            .find(|a| a.address == ip)
                            .map_or_else(|| "not resolved here".to_owned(), |a| address_cell(t, a)),
                    ));
                }
                row
            })
            .collect();
        out.push_str(&sheet(
            &Sheet { headers, rows },
            usize::from(style.width),
            style.color,
        ));
    }
    verdicts(out, v, usize::from(style.width));
    if let Some(inside) = &v.in_cluster
        && !inside.direct.is_empty()
    {
        direct_table(out, inside, style);
    }
    match in_cluster {
        Some(s) if s.state == "ran" => {
            if let Some(p) = &s.placement {
                wrap(
                    out,
                    "  probe pod: ",
                    13,
                    &placement_text(p),
                    usize::from(style.width),
                );
            }
        }
        Some(s) => {
            let why = s.problem.as_ref().map_or_else(String::new, |p| {
                format!("{}: {}", problem_kind(p.kind), p.message)
            });
            wrap(
                out,
                "  probe pod: ",
                13,
                &format!("did not run ({why}); this machine's view only"),
                usize::from(style.width),
            );
        }
        None => wrap(
            out,
            "  probe pod: ",
            13,
            "not run (--local-only); this machine's view only",
            usize::from(style.width),
        ),
    }
    if look.picture {
        let drawn = picture(
            v.local.as_ref(),
            v.in_cluster.as_ref(),
            look.charset,
            usize::from(style.width),
            "  ",
        );
        if !drawn.is_empty() {
            out.push_str(
                "  Path: who looked, the address, who answered (share of fresh connections)\n",
            );
            out.push_str(&drawn);
        }
    }
}

/// The self check is judged from inside when there is an inside view (that is where
/// cert-manager runs); the CA from outside (this machine) when there is one.
fn verdicts(out: &mut String, v: &Vantages, width: usize) {
    let mut say = |text: String| wrap(out, "  ", 4, &text, width);
    let (local, inside) = (v.local.as_ref(), v.in_cluster.as_ref());
    let (sc, sc_where) = match (local, inside) {
        (_, Some(i)) => (i, "cert-manager, in cluster"),
        (Some(l), None) => (l, "estimated from this machine"),
        (None, None) => return,
    };
    say(format!(
        "self check ({sc_where}): {}",
        verdict_line(&sc.verdicts.self_check)
    ));
    if let (Some(l), Some(i)) = (local, inside)
        && l.verdicts.self_check.outcome != i.verdicts.self_check.outcome
    {
        say(format!(
            "  from this machine it would be {}",
            verdict_line(&l.verdicts.self_check)
        ));
    }
    let (ca, ca_where) = match (local, inside) {
        (Some(l), Some(_)) => (l, ", from outside"),
        (Some(l), None) => (l, ""),
        (None, _) => (sc, ", estimated from inside"),
    };
    say(format!(
        "CA validation ({}{ca_where}): {}",
        ca_rules(ca),
        verdict_line(&ca.verdicts.acme)
    ));
}

/// The probe pod's direct probes: each data plane and the solver, `Host: <dnsName>`.
fn direct_table(out: &mut String, t: &TargetReport, style: Style) {
    let _ = writeln!(
        out,
        "  Asked directly from the probe pod (Host: {}, challenge path):",
        t.dns_name
    );
    let rows = t
        .direct
        .iter()
        .map(|d| {
            vec![
                Text::from(format!("{}\n{}", d.label, d.address)),
                Text::from(direct_cell(d)),
            ]
        })
        .collect();
    let s = Sheet {
        headers: vec!["TARGET", "RESULTS"],
        rows,
    };
    out.push_str(&sheet(&s, usize::from(style.width), style.color));
}

fn direct_cell(d: &DirectResult) -> String {
    let mut lines = outcome_lines(&d.outcomes);
    if d.proxy_protocol {
        lines.push("(sent with a PROXY header)".to_owned());
    }
    if let Some(p) = &d.with_proxy_protocol {
        lines.push(followup_line(p));
    }
    if lines.is_empty() {
        lines.push(
            d.samples
                .first()
                .and_then(|s| s.error.clone())
                .unwrap_or_else(|| "not probed".to_owned()),
        );
    }
    lines.join("\n")
}
