//! Never a second solver next to cert-manager's (pure).
//!
//! A name is replayed only when no cert-manager HTTP-01 Challenge for it is live. A Challenge
//! is live while cert-manager may still act on it or its solver objects still exist:
//! * `status.processing` (the challenges controller is working on it),
//! * `status.presented` (its solver pod, Service and Ingress/HTTPRoute are there; cert-manager
//!   sets it back to false once `CleanUp` ran, see `pkg/controller/acmechallenges/sync.go`), or
//! * a state that is not final: empty, `pending` or `processing` (final are `valid`,
//!   `invalid`, `expired`, `errored`: `pkg/acme/util.go`, `IsFinalState`).
//!
//! A stand-in beside a live challenge would serve a second token for the same host behind the
//! same data plane: harmless to the CA, but it would make the run's own evidence ambiguous and
//! could confuse whoever reads the cluster. So the rule is strict.

use crate::evidence::ChallengeEvidence;

/// The states in which cert-manager is done with a Challenge.
const FINAL: &[&str] = &["valid", "invalid", "expired", "errored"];

/// Is this Challenge live in the sense above? DNS-01 Challenges never are (they create no
/// objects a stand-in could meet).
pub fn is_live(ch: &ChallengeEvidence) -> bool {
    ch.is_http01()
        && (ch.processing
            || ch.presented
            || !FINAL.contains(&ch.state.to_ascii_lowercase().as_str()))
}

/// Does `ch` validate `name` (`*.x` is the wildcard authorization of `x`)?
fn for_name(ch: &ChallengeEvidence, name: &str) -> bool {
    match name.strip_prefix("*.") {
        Some(base) => ch.wildcard && ch.dns_name.eq_ignore_ascii_case(base),
        None => !ch.wildcard && ch.dns_name.eq_ignore_ascii_case(name),
    }
}

/// The live cert-manager HTTP-01 Challenge for `name`, if any: then `name` must not be replayed.
pub fn live_challenge<'a>(
    name: &str,
    challenges: &'a [ChallengeEvidence],
) -> Option<&'a ChallengeEvidence> {
    challenges
        .iter()
        .find(|ch| for_name(ch, name) && is_live(ch))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(
        dns: &str,
        ty: &str,
        state: &str,
        processing: bool,
        presented: bool,
    ) -> ChallengeEvidence {
        ChallengeEvidence {
            name: format!("c-{dns}-{state}"),
            dns_name: dns.into(),
            type_: ty.into(),
            state: state.into(),
            processing,
            presented,
            ..Default::default()
        }
    }

    #[test]
    fn live_states_block_replay_final_ones_do_not() {
        let name = "shop.example.com";
        for (c, live) in [
            (ch(name, "HTTP-01", "pending", false, false), true),
            (ch(name, "HTTP-01", "pending", true, true), true),
            (ch(name, "HTTP-01", "", false, false), true),
            (ch(name, "HTTP-01", "processing", true, false), true),
            // Final state, but the solver objects are still there (CleanUp not run yet).
            (ch(name, "HTTP-01", "invalid", false, true), true),
            (ch(name, "HTTP-01", "valid", true, false), true),
            (ch(name, "HTTP-01", "invalid", false, false), false),
            (ch(name, "HTTP-01", "Errored", false, false), false),
            (ch(name, "HTTP-01", "expired", false, false), false),
            (ch(name, "HTTP-01", "valid", false, false), false),
            // DNS-01 creates no solver objects: nothing to collide with.
            (ch(name, "DNS-01", "pending", true, true), false),
        ] {
            let list = [c];
            assert_eq!(
                live_challenge(name, &list).is_some(),
                live,
                "{:?}/{}/{}/{}",
                list[0].type_,
                list[0].state,
                list[0].processing,
                list[0].presented
            );
        }
    }

    #[test]
    fn only_the_same_name_and_wildcardness_counts() {
        let live = ch("shop.example.com", "HTTP-01", "pending", true, true);
        let list = [live.clone()];
        assert!(live_challenge("SHOP.example.com", &list).is_some());
        assert!(live_challenge("www.example.com", &list).is_none());
        assert!(live_challenge("*.shop.example.com", &list).is_none());
        let mut wc = live;
        wc.wildcard = true;
        let list = [wc];
        assert!(live_challenge("shop.example.com", &list).is_none());
        assert!(live_challenge("*.shop.example.com", &list).is_some());
    }
}
