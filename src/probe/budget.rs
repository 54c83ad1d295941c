//! The connection ledger of one plan run: how many fresh connections each address (`ip:port`)
//! got, against the plan's [`Budget`]. Without a budget it grants whatever is asked (the
//! engine's own adaptive numbers), so a diagnosis probes as it always did.

use super::plan::{ADAPTIVE_MIXED_ATTEMPTS, Budget, MIN_ADAPTIVE_ATTEMPTS};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

/// Names resolved at the same time in a budgeted plan (each resolution is a few lookups per
/// resolver plus the repeated ones of `dns::resolve_target`): 500 names at once made the lab's
/// cluster DNS (dnsmasq, 150 forwarded queries in flight) answer SERVFAIL, which the screen
/// would have reported as a broken name.
pub const NAMES_RESOLVED_AT_ONCE: usize = 8;

/// Attempts per direct (data-plane / solver) probe without a budget.
pub const DIRECT_ATTEMPTS: u32 = 20;

#[derive(Debug, Default)]
pub struct Ledger {
    budget: Option<Budget>,
    used: Mutex<HashMap<SocketAddr, u32>>,
}

impl Ledger {
    pub fn new(budget: Option<Budget>) -> Ledger {
        Ledger {
            budget,
            used: Mutex::new(HashMap::new()),
        }
    }

    /// Up to `n` more connections to `addr`: all of them without a budget, else what the cap
    /// leaves.
    pub fn grant(&self, addr: SocketAddr, n: u32) -> u32 {
        let Some(b) = self.budget else {
            return n;
        };
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let spent = used.entry(addr).or_default();
        let granted = n.min(b.cap_per_address.saturating_sub(*spent));
        *spent += granted;
        granted
    }

    /// The first batch per address: `--attempts`, else the budget's `first`, else adaptive.
    pub fn first(&self, fixed: Option<u32>) -> u32 {
        match (fixed, self.budget) {
            (Some(n), _) => n,
            (None, Some(b)) => b.first,
            (None, None) => MIN_ADAPTIVE_ATTEMPTS,
        }
    }

    /// How many attempts in all an address whose answers differ may reach (None: no second
    /// batch): adaptive without `--attempts`; with a budget, `first + more`.
    pub fn mixed_total(&self, fixed: Option<u32>) -> Option<u32> {
        match (self.budget, fixed) {
            (Some(b), _) => Some(self.first(fixed) + b.more),
            (None, None) => Some(ADAPTIVE_MIXED_ATTEMPTS),
            (None, Some(_)) => None,
        }
    }

    /// Attempts per direct probe.
    pub fn direct(&self) -> u32 {
        self.budget.map_or(DIRECT_ATTEMPTS, |b| b.direct)
    }

    /// Connections per address so far (budgeted plans only).
    pub fn spent(&self) -> HashMap<SocketAddr, u32> {
        self.used.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_holds_over_every_request_to_an_address() {
        let l = Ledger::new(Some(Budget {
            first: 4,
            more: 16,
            direct: 2,
            cap_per_address: 10,
        }));
        let a: SocketAddr = "203.0.113.10:80".parse().unwrap();
        let b: SocketAddr = "203.0.113.11:80".parse().unwrap();
        assert_eq!(l.first(None), 4);
        assert_eq!(l.first(Some(7)), 7);
        assert_eq!(l.mixed_total(None), Some(20));
        assert_eq!(
            [l.grant(a, 4), l.grant(a, 4), l.grant(a, 4), l.grant(a, 4)],
            [4, 4, 2, 0]
        );
        assert_eq!(l.grant(b, 4), 4, "another address has its own cap");
        assert_eq!(l.spent()[&a], 10);
        assert_eq!(l.direct(), 2);
        // Without a budget, everything asked is granted, as before.
        let free = Ledger::new(None);
        assert_eq!(free.grant(a, 1000), 1000);
        assert_eq!(free.first(None), MIN_ADAPTIVE_ATTEMPTS);
        assert_eq!(free.mixed_total(None), Some(ADAPTIVE_MIXED_ATTEMPTS));
        assert_eq!(free.mixed_total(Some(5)), None);
        assert_eq!(free.direct(), DIRECT_ATTEMPTS);
    }
}
