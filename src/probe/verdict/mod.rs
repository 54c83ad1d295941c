//! Emulated verdicts: from the observed mix of outcomes, how likely is one round of
//! cert-manager's self check, and one validation by the CA, to pass? Pure functions over a
//! [`TargetReport`].
//!
//! * **cert-manager** ([`self_check`]): 5 checks, 2 s apart, each a fresh lookup and a fresh
//!   connection by Go's dialer; any failure ends the round: `P = p⁵`, where `p` is the chance
//!   that one check passes given Go's address order from this vantage (RFC 6724), `dialSerial`
//!   and Happy Eyeballs ([`super::addrsel`]) over every DNS answer sampled.
//! * **Let's Encrypt** ([`ca`]): the primary perspective, then the remote perspectives of the
//!   date ([`super::perspectives`]), at most 1 (2 with 6+ remotes) failing: `P = p·Σₖ≤f
//!   C(n,k)(1−p)ᵏpⁿ⁻ᵏ`. Each perspective drops reserved addresses, dials the first AAAA of its
//!   own lookup, and the first A only after that dial failed.
//! * **Pebble**: three validations in parallel that must all pass, each dialling only the first
//!   address of its own lookup: `P = p³`.
//! * **private** ACME servers: one validation, `P = p`.
//!
//! Each request is modelled as an independent draw from the observed mix. That holds for random
//! balancing, and for round-robin when other traffic shares the balancer. It does not hold for a
//! balancer that rotates strictly over its backends with nothing else in between: requests sent
//! close together then land on *consecutive* backends (behind a 50/50 round-robin, Pebble's 3
//! parallel requests always include the bad backend: never, not p³ = 12.5 %). So when an address
//! shows mixed outcomes, the engine also sends a short run of attempts one at a time
//! ([`super::plan::ArrivalOrder`]); when that run is periodic ([`rotation_period`]), validators
//! that send several requests close together are evaluated over consecutive slots of the
//! rotation, each starting slot equally likely, and the verdict's `rotation` and `reason` say
//! so. The same holds for a DNS server that rotates its answers strictly, for the validators
//! that ask it for every request (cert-manager through the vantage's resolver, Pebble).
//!
//! False alarms: a 50/50 random mix is periodic over 30 attempts with period ≤ 10 with
//! probability < 2⁻¹⁹; a 90/10 random mix with one failure per period of 10 with ≈ 6·10⁻⁴.

mod ca;
mod selfcheck;
#[cfg(test)]
mod tests;

pub use ca::{CaContext, ca};
pub use selfcheck::self_check;

use super::plan::{
    AddressReport, ErrorClass, OutcomeCount, ROTATION_MIN_REPEATS, Slot, Verdict, VerdictOutcome,
};

/// `pass` needs at least this estimated round pass probability.
pub const PASS_THRESHOLD: f64 = 0.99;

pub fn self_check_probability(p: f64) -> f64 {
    p.powi(5)
}

/// The primary passes and at most `allowed` of `remotes` remote perspectives fail.
pub fn quorum_probability(p: f64, remotes: u32, allowed: u32) -> f64 {
    let n = remotes as i32;
    let tail: f64 = (0..=allowed.min(remotes) as i32)
        .map(|k| binomial(n, k) * (1.0 - p).powi(k) * p.powi(n - k))
        .sum();
    p * tail
}

/// Let's Encrypt with 4 remote perspectives and 1 failure allowed (production until
/// 2026-12-14).
pub fn letsencrypt_probability(p: f64) -> f64 {
    quorum_probability(p, 4, 1)
}

pub fn pebble_probability(p: f64) -> f64 {
    p.powi(3)
}

fn binomial(n: i32, k: i32) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

fn frac(n: u32, d: u32) -> f64 {
    if d == 0 {
        0.0
    } else {
        f64::from(n) / f64::from(d)
    }
}

fn outcome(p_round: f64, p: f64) -> VerdictOutcome {
    if p <= 0.0 || p_round <= 0.0 {
        VerdictOutcome::Fail
    } else if p_round >= PASS_THRESHOLD {
        VerdictOutcome::Pass
    } else {
        VerdictOutcome::Flaky
    }
}

/// An attempt that failed to connect on its first hop: (fast, slow) — refused or unreachable,
/// or a black hole.
fn first_hop_dial(o: &OutcomeCount) -> (bool, bool) {
    let first_hop = o.redirect_chain.is_empty() && o.status.is_none();
    match o.error_class {
        Some(ErrorClass::ConnectRefused | ErrorClass::NetworkUnreachable) if first_hop => {
            (true, false)
        }
        Some(ErrorClass::ConnectTimeout) if first_hop => (false, true),
        _ => (false, false),
    }
}

fn dial_failures(a: &AddressReport) -> u32 {
    a.outcomes
        .iter()
        .filter(|o| {
            let (fast, slow) = first_hop_dial(o);
            fast || slow
        })
        .map(|o| o.count)
        .sum()
}

/// This vantage cannot reach the address at all: it has no source address for it (reports
/// without that record: every attempt failed as unreachable).
fn unreachable_here(a: &AddressReport) -> bool {
    a.unroutable
        || (a.source_address.is_empty()
            && a.attempts > 0
            && a.outcomes
                .iter()
                .filter(|o| o.count > 0)
                .all(|o| o.error_class == Some(ErrorClass::NetworkUnreachable)))
}

/// An IPv6 address this vantage cannot reach: it has no IPv6 at all, so what a validator with
/// IPv6 sees there is not observable from here. (An unreachable IPv4 address — a private one
/// in public DNS — is unreachable for a validator too.)
fn no_ipv6_here(a: &AddressReport) -> bool {
    a.is_ipv6() && unreachable_here(a)
}

/// The smallest period `k ≥ 2` with which a sequence that is not constant repeats at least
/// [`ROTATION_MIN_REPEATS`] times (`seq[i] == seq[i - k]` for every `i ≥ k`): a strict rotation.
pub fn rotation_period<T: PartialEq>(seq: &[T]) -> Option<usize> {
    if seq.windows(2).all(|w| w[0] == w[1]) {
        return None;
    }
    (2..=seq.len() / ROTATION_MIN_REPEATS).find(|&k| (k..seq.len()).all(|i| seq[i] == seq[i - k]))
}

/// Whether a burst passes, given the pass flags of its requests in order.
type Round = Box<dyn Fn(&[bool]) -> bool>;

/// A validator that sends `requests` requests close together, passing when `round` does for
/// the pass flags of the slots they land on (in request order).
struct Burst {
    who: String,
    requests: usize,
    round: Round,
}

impl Burst {
    fn self_check() -> Burst {
        Burst {
            who: "cert-manager's 5 checks (2 s apart)".into(),
            requests: 5,
            round: Box::new(|w| w.iter().all(|p| *p)),
        }
    }

    /// The primary, then `remotes` perspectives of which `allowed` may fail.
    fn letsencrypt(remotes: u32, allowed: u32) -> Burst {
        Burst {
            who: format!("Let's Encrypt's primary and {remotes} remote perspectives"),
            requests: 1 + remotes as usize,
            round: Box::new(move |w| {
                w[0] && w[1..].iter().filter(|p| !**p).count() <= allowed as usize
            }),
        }
    }

    fn pebble() -> Burst {
        Burst {
            who: "Pebble's 3 parallel requests".into(),
            requests: 3,
            round: Box::new(|w| w.iter().all(|p| *p)),
        }
    }

    /// The chance that a burst passes when its requests pass with `ps` (in request order;
    /// independent).
    fn probability(&self, ps: &[f64]) -> f64 {
        // Sum over every pass/fail pattern (2^requests, at most 2^7 here).
        let n = ps.len().min(16);
        (0u32..1 << n)
            .map(|mask| {
                let pattern: Vec<bool> = (0..n).map(|i| mask & (1 << i) != 0).collect();
                if !(self.round)(&pattern) {
                    return 0.0;
                }
                pattern
                    .iter()
                    .zip(ps)
                    .map(|(pass, p)| if *pass { *p } else { 1.0 - p })
                    .product::<f64>()
            })
            .sum()
    }
}

fn slot_label(s: &Slot) -> String {
    let what = s
        .status
        .map(|c| c.to_string())
        .or(s.error_class.map(|e| e.as_str().to_owned()))
        .unwrap_or_else(|| "-".to_owned());
    format!("{} {what}", s.responder)
}

/// When `a` rotates strictly: the round pass probability of `burst` over consecutive slots
/// (each starting slot equally likely) and the explanation, given the `independent` estimate.
fn over_rotation(
    a: &AddressReport,
    burst: &Burst,
    cert_manager: bool,
    independent: f64,
) -> Option<(f64, String)> {
    let order = a.arrival_order.as_ref()?;
    let k = order.period? as usize;
    let cycle = order.sequence.get(..k)?;
    let pass = |s: &Slot| {
        if cert_manager {
            s.cert_manager_pass
        } else {
            s.acme_pass
        }
    };
    let passing = (0..k)
        .filter(|&start| {
            let window: Vec<bool> = (0..burst.requests)
                .map(|i| pass(&cycle[(start + i) % k]))
                .collect();
            (burst.round)(&window)
        })
        .count();
    let pattern: Vec<String> = cycle.iter().map(slot_label).collect();
    let note = format!(
        "{} rotates strictly over {k} slots ({}; {} attempts sent one at a time): {} land on {} consecutive slots, and {passing} of {k} starting slots pass; other traffic sharing the balancer would make them independent draws instead (flaky, ≈{:.1} % of rounds)",
        a.address,
        pattern.join(", "),
        order.sequence.len(),
        burst.who,
        burst.requests,
        independent * 100.0
    );
    Some((passing as f64 / k as f64, note))
}

/// Apply a detected rotation of the single address `a` to `v` (round probability, outcome,
/// reason, basis).
fn apply_rotation(
    v: &mut Verdict,
    a: &AddressReport,
    burst: &Burst,
    cert_manager: bool,
    failure: impl FnOnce() -> String,
) {
    let Some((p_round, note)) = over_rotation(a, burst, cert_manager, v.pass_probability) else {
        return;
    };
    v.pass_probability = p_round;
    v.outcome = outcome(p_round, v.per_request_pass);
    v.basis = format!(
        "P over consecutive slots of a strict rotation: {p_round:.3} (independent draws: {})",
        v.basis
    );
    v.reason = if v.outcome == VerdictOutcome::Pass {
        String::new()
    } else {
        format!("{}; {note}", failure())
    };
    v.rotation = Some(note);
}

/// Over a DNS server's strict rotation of answers (`slots`: each answer's per-request pass
/// probability, one period), the chance that `burst`'s consecutive lookups pass.
fn over_dns_rotation(slots: &[f64], burst: &Burst) -> f64 {
    let k = slots.len();
    if k == 0 {
        return 0.0;
    }
    (0..k)
        .map(|s| {
            let ps: Vec<f64> = (0..burst.requests).map(|i| slots[(s + i) % k]).collect();
            burst.probability(&ps)
        })
        .sum::<f64>()
        / k as f64
}

/// How one address behaves in every attempt, when that is fixed.
#[derive(Debug, Clone, PartialEq)]
enum Behaviour {
    Pass,
    /// Connects and fails.
    Fail,
    /// Never connects (a validator moves on, or fails when it does not).
    NoDial,
    /// Rotates strictly over backends: the pass flags of one period.
    Rotate(Vec<bool>),
}

fn behaviour(a: &AddressReport, cert_manager: bool) -> Option<Behaviour> {
    if a.attempts == 0 {
        return None;
    }
    let dials = dial_failures(a);
    let passes = if cert_manager {
        a.cert_manager_passes
    } else {
        a.acme_passes
    };
    if dials == a.attempts {
        return Some(Behaviour::NoDial);
    }
    if dials > 0 {
        return None;
    }
    if passes == a.attempts {
        return Some(Behaviour::Pass);
    }
    if passes == 0 {
        return Some(Behaviour::Fail);
    }
    let order = a.arrival_order.as_ref()?;
    let k = order.period? as usize;
    let cycle = order.sequence.get(..k)?;
    Some(Behaviour::Rotate(
        cycle
            .iter()
            .map(|s| {
                if cert_manager {
                    s.cert_manager_pass
                } else {
                    s.acme_pass
                }
            })
            .collect(),
    ))
}

/// Over one period of a DNS rotation (`orders`: each answer's addresses in the order the
/// validator tries them; a validator with `fallback` moves past addresses that never connect)
/// where every address is fixed or rotates strictly over its backends: the chance that
/// `burst` passes, each starting point of every rotation equally likely (each address's
/// rotation advances once per request that lands on it). None when some address is neither,
/// or when no address rotates (then [`over_dns_rotation`] says the same).
fn joint_rotation(
    orders: &[Option<Vec<&AddressReport>>],
    burst: &Burst,
    cert_manager: bool,
    fallback: bool,
) -> Option<f64> {
    let mut addrs: Vec<(&str, Behaviour)> = Vec::new();
    for a in orders.iter().flatten().flatten() {
        if !addrs.iter().any(|(x, _)| *x == a.address) {
            addrs.push((a.address.as_str(), behaviour(a, cert_manager)?));
        }
    }
    if !addrs.iter().any(|(_, b)| matches!(b, Behaviour::Rotate(_))) {
        return None;
    }
    let index = |a: &AddressReport| addrs.iter().position(|(x, _)| *x == a.address);
    let deciders: Vec<Option<usize>> = orders
        .iter()
        .map(|o| {
            let v = o.as_ref()?;
            if fallback {
                v.iter()
                    .filter_map(|a| index(a))
                    .find(|&i| addrs[i].1 != Behaviour::NoDial)
            } else {
                v.first().and_then(|a| index(a))
            }
        })
        .collect();
    let periods: Vec<usize> = addrs
        .iter()
        .map(|(_, b)| match b {
            Behaviour::Rotate(c) => c.len().max(1),
            _ => 1,
        })
        .collect();
    let k = orders.len().max(1);
    let combos = periods
        .iter()
        .try_fold(k, |acc, p| acc.checked_mul(*p))
        .filter(|c| *c <= 100_000)?;
    let mut passing = 0usize;
    for combo in 0..combos {
        let start = combo % k;
        let mut rest = combo / k;
        let offsets: Vec<usize> = periods
            .iter()
            .map(|p| {
                let o = rest % p;
                rest /= p;
                o
            })
            .collect();
        let mut uses = vec![0usize; addrs.len()];
        let window: Vec<bool> = (0..burst.requests)
            .map(|r| match deciders[(start + r) % k] {
                None => false,
                Some(i) => {
                    let pass = match &addrs[i].1 {
                        Behaviour::Pass => true,
                        Behaviour::Fail | Behaviour::NoDial => false,
                        Behaviour::Rotate(c) => c[(offsets[i] + uses[i]) % c.len()],
                    };
                    uses[i] += 1;
                    pass
                }
            })
            .collect();
        passing += usize::from((burst.round)(&window));
    }
    Some(passing as f64 / combos as f64)
}

/// The most frequent failure text among `addrs` for one rule set.
fn likeliest_failure(addrs: &[&AddressReport], cert_manager: bool) -> String {
    addrs
        .iter()
        .flat_map(|a| &a.outcomes)
        .filter(|o| {
            if cert_manager {
                !o.cert_manager_pass
            } else {
                !o.acme_pass
            }
        })
        .max_by_key(|o| o.count)
        .map(|o| {
            if cert_manager {
                o.cert_manager_error.clone()
            } else {
                o.acme_error.clone()
            }
        })
        .unwrap_or_default()
}
