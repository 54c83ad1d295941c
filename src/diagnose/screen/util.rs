//! What the screen's rules share: who answered each fresh connection to the name, attributed
//! to a data plane by the probe pod's direct probes of every data plane (same `Host`, same
//! random-token path).
//!
//! With no solver serving the token, nothing can pass; what the screen can show is *who*
//! answers. An answer (status, responder fingerprint, no redirect) is attributed to the data
//! planes that give exactly that answer when asked directly from inside the cluster. That is
//! the evidence every screen verdict rests on.

use crate::diagnose::util::{outcome_text, plane_label, solver_planes};
use crate::diagnose::view::Vantages;
use crate::probe::plan::{ErrorClass, OutcomeCount, TargetReport};
use crate::probe::targets::{SOLVER_LABEL, plane_name};

/// A data plane asked directly from inside, and how it answered.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlaneAnswer {
    pub(super) plane: String,
    pub(super) status: u16,
    pub(super) responder: String,
    /// It carries the solver's route (the solver's ingress class or parent Gateway).
    pub(super) expected: bool,
    /// `ingress-nginx Service ingress-nginx/ingress-nginx-controller 198.51.100.10:80: 20×404 (nginx)`.
    pub(super) line: String,
}

/// Who answered one outcome of one address.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Who {
    /// Only the solver's data plane answers like that.
    Expected,
    /// Only other data planes answer like that (the first one's name).
    Other(String),
    /// The solver's data plane and another one answer alike: cannot tell them apart.
    Both,
    /// An answer no data plane gave when asked directly.
    Unknown,
    /// A redirect (for a path with no route, not what the solver's route would answer).
    Redirect,
    /// No connection (timeout, refused, unreachable).
    NoConnection,
    /// Another error (reset, TLS, protocol).
    Error,
}

/// One outcome of one address from one vantage.
#[derive(Debug, Clone)]
pub(super) struct Tally {
    pub(super) vantage: &'static str,
    pub(super) address: String,
    pub(super) count: u32,
    pub(super) who: Who,
    /// `20×404 (envoy)`.
    pub(super) text: String,
}

/// Everything the screen's rules read, computed once per name.
#[derive(Debug, Clone, Default)]
pub(super) struct Facts {
    /// The data planes that would carry the solver's route.
    pub(super) expected: Vec<String>,
    pub(super) planes: Vec<PlaneAnswer>,
    pub(super) tallies: Vec<Tally>,
    /// (vantage, error class) when the name did not resolve there.
    pub(super) dns_failures: Vec<(&'static str, ErrorClass)>,
    /// The vantages that probed the name.
    pub(super) vantages: Vec<&'static str>,
    /// (vantage, address) that the run's connection cap left short.
    pub(super) capped: Vec<(&'static str, String)>,
    /// Why a vantage's failed lookup is its own trouble (its resolver), not the name's
    /// (`probe::health`): that vantage then says nothing about the name.
    pub(super) own_trouble: Vec<String>,
}

pub(super) const LOCAL: &str = "this machine";
pub(super) const INSIDE: &str = "in cluster";

/// How each data plane answered when asked directly (its most frequent HTTP answer).
fn plane_answers(inside: Option<&TargetReport>, expected: &[String]) -> Vec<PlaneAnswer> {
    let Some(inside) = inside else {
        return vec![];
    };
    inside
        .direct
        .iter()
        .filter(|d| !d.label.starts_with(&format!("{SOLVER_LABEL} ")))
        .filter_map(|d| {
            let top = d
                .outcomes
                .iter()
                .filter(|o| o.status.is_some() && o.redirect_chain.is_empty())
                .max_by_key(|o| o.count)?;
            let plane = plane_label(d).to_owned();
            let texts: Vec<String> = d.outcomes.iter().map(outcome_text).collect();
            Some(PlaneAnswer {
                expected: expected.contains(&plane),
                line: format!("{} {}: {}", d.label, d.address, texts.join("  ")),
                plane,
                status: top.status?,
                responder: top.responder.clone(),
            })
        })
        .collect()
}

fn attribute(o: &OutcomeCount, planes: &[PlaneAnswer]) -> Who {
    let Some(status) = o.status else {
        return if o.error_class.is_some_and(ErrorClass::is_no_connection) {
            Who::NoConnection
        } else {
            Who::Error
        };
    };
    if !o.redirect_chain.is_empty() {
        return Who::Redirect;
    }
    if o.responder == "-" {
        return Who::Unknown;
    }
    let same: Vec<&PlaneAnswer> = planes
        .iter()
        .filter(|p| p.status == status && p.responder == o.responder)
        .collect();
    let expected = same.iter().any(|p| p.expected);
    match same.iter().find(|p| !p.expected) {
        None if expected => Who::Expected,
        None => Who::Unknown,
        Some(_) if expected => Who::Both,
        Some(p) => Who::Other(p.plane.clone()),
    }
}

/// The facts of one screened name.
pub(super) fn facts(c: &Vantages) -> Facts {
    let expected: Vec<String> = solver_planes(c.ch, c.cluster)
        .into_iter()
        .map(plane_name)
        .collect();
    let planes = plane_answers(c.inside, &expected);
    let mut f = Facts {
        expected,
        planes,
        ..Default::default()
    };
    for (vantage, report) in [(LOCAL, c.local), (INSIDE, c.inside)] {
        let Some(report) = report else {
            continue;
        };
        if report.addresses.is_empty() {
            let primary = report.dns.resolvers.first();
            let own = primary
                .zip(report.health.as_ref())
                .and_then(|(answer, health)| crate::probe::health::own_trouble(answer, health));
            if let Some(why) = own {
                f.own_trouble.push(why);
                continue;
            }
            let class = primary
                .and_then(|r| r.error)
                .unwrap_or(ErrorClass::DnsError);
            f.dns_failures.push((vantage, class));
        }
        f.vantages.push(vantage);
        for d in report.direct.iter().filter(|d| d.capped) {
            f.capped.push((vantage, d.address.clone()));
        }
        for a in &report.addresses {
            // No route or source address here for its family: the vantage's trouble, not the
            // name's (the CA and the other vantage may well connect).
            if a.unroutable {
                f.own_trouble.push(format!(
                    "{} has no route to {} (its address family): not a fact about the name",
                    if vantage == LOCAL {
                        "this machine"
                    } else {
                        "the probe pod"
                    },
                    a.address
                ));
                continue;
            }
            if a.capped {
                f.capped.push((vantage, a.address.clone()));
            }
            for o in &a.outcomes {
                f.tallies.push(Tally {
                    vantage,
                    address: a.address.clone(),
                    count: o.count,
                    who: attribute(o, &f.planes),
                    text: outcome_text(o),
                });
            }
        }
    }
    f
}

impl Facts {
    /// Addresses (vantage, address) where no attempt got a connection.
    pub(super) fn dead_addresses(&self) -> Vec<(&'static str, &str)> {
        let mut out: Vec<(&'static str, &str)> = Vec::new();
        for t in &self.tallies {
            let key = (t.vantage, t.address.as_str());
            let all_dead = self
                .tallies
                .iter()
                .filter(|o| o.vantage == t.vantage && o.address == t.address)
                .all(|o| o.who == Who::NoConnection);
            if all_dead && !out.contains(&key) {
                out.push(key);
            }
        }
        out
    }

    /// Answers from another data plane.
    pub(super) fn others(&self) -> impl Iterator<Item = &Tally> {
        self.tallies
            .iter()
            .filter(|t| matches!(t.who, Who::Other(_)))
    }

    /// Some answer or its absence puts the renewal at risk (another rule says which).
    pub(super) fn at_risk(&self) -> bool {
        !self.dns_failures.is_empty()
            || !self.dead_addresses().is_empty()
            || self.others().next().is_some()
    }

    /// Every answer, from both vantages, is the solver's data plane's alone, and every address
    /// was tried from both.
    pub(super) fn all_expected(&self) -> bool {
        // An address a vantage could not try (no route here) is unknown, not expected.
        self.vantages.len() == 2
            && self.own_trouble.is_empty()
            && !self.tallies.is_empty()
            && self.tallies.iter().all(|t| t.who == Who::Expected)
    }

    /// `this machine 203.0.113.10: 20×404 (nginx)`.
    pub(super) fn lines(&self) -> Vec<String> {
        self.tallies
            .iter()
            .map(|t| format!("{} {}: {}", t.vantage, t.address, t.text))
            .collect()
    }

    /// `asked directly from inside: ...` per data plane.
    pub(super) fn plane_lines(&self) -> Vec<String> {
        self.planes
            .iter()
            .map(|p| {
                let role = if p.expected {
                    " (would carry the solver's route)"
                } else {
                    ""
                };
                format!("asked directly from inside{role}: {}", p.line)
            })
            .collect()
    }
}
