//! When cert-manager wrote a Challenge's reason, and what its age means (issue #14: the
//! reason is a witness, with its time). Pure.
//!
//! The gather stage dates the reason by the `managedFields` entry of cert-manager's controller
//! that owns `status.reason` ([`crate::evidence::StatusWrite`]). cert-manager writes the status
//! only when it changed (`acmechallenges/update.go` `updateStatus` returns early on an equal
//! status), and after a failed self check it checks again after `--dns01-check-retry-period`
//! (10 s by default; `readiness.go` returns it as `retryAfter`, `sync.go` `AddAfter`), the
//! failing request itself taking at most its 10 s client timeout (`http.go`). So:
//!
//! * a reason older than one such cycle has been seen again by the controller since it was
//!   written (a pass would have replaced it: the challenge is accepted and the reason changes),
//!   unless the controller is not running;
//! * a younger one may be the controller's last word before something changed: its next check
//!   is at most a cycle away.

use crate::evidence::ChallengeEvidence;
use crate::time::unix_seconds;

/// cert-manager's default `--dns01-check-retry-period` (it sets the HTTP-01 retry too).
pub const DEFAULT_RETRY_SECS: i64 = 10;
/// The longest a failing self-check request takes (cert-manager's `http.Client.Timeout`).
pub const FAILING_CHECK_SECS: i64 = 10;

/// The reason's time as a witness: when it was written, how old it was when the probes ran,
/// and how long the controller takes to check again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonTime {
    /// RFC 3339 UTC, from the controller's managedFields entry; None: not known.
    pub written: Option<String>,
    /// Seconds between `written` and the probes' time; None when either is not known.
    pub age_secs: Option<i64>,
    /// The retry period plus one failing check: the longest the controller goes without
    /// checking again.
    pub cycle_secs: i64,
}

impl ReasonTime {
    /// `ch`'s reason time, with the controller's arguments (for its retry period) and the time
    /// the probes ran (`now`, RFC 3339).
    pub fn of(ch: &ChallengeEvidence, controller_args: &[String], now: Option<&str>) -> Self {
        let written = ch.status_written.as_ref().map(|w| w.time.clone());
        let age_secs = match (
            written.as_deref().and_then(unix_seconds),
            now.and_then(unix_seconds),
        ) {
            (Some(w), Some(n)) => Some((n - w).max(0)),
            _ => None,
        };
        ReasonTime {
            written,
            age_secs,
            cycle_secs: retry_period_secs(controller_args) + FAILING_CHECK_SECS,
        }
    }

    /// Whether the controller has checked again since it wrote the reason (and so still saw
    /// the same when the probes ran, if it runs): None when the age is not known.
    pub fn rechecked(&self) -> Option<bool> {
        self.age_secs.map(|a| a > self.cycle_secs)
    }

    /// `written 2026-12-06T04:35:02Z, 3 min before the probes ran` / `… when is not known …`.
    pub fn words(&self) -> String {
        match (&self.written, self.age_secs) {
            (Some(w), Some(a)) => format!("written {w}, {} before the probes ran", ago(a)),
            (Some(w), None) => format!("written {w}"),
            (None, _) => "time unknown".to_owned(),
        }
    }

    /// [`ReasonTime::words`], saying why when the time is not known.
    pub fn detail(&self) -> String {
        match self.written {
            Some(_) => self.words(),
            None => "time unknown (the Challenge has no managedFields entry of cert-manager's controller that owns its status.reason)".to_owned(),
        }
    }
}

/// `8 s`, `3 min`, `2 h`, `5 days`.
pub fn ago(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// The controller's `--dns01-check-retry-period` in seconds (Go duration: `10s`, `1m`,
/// `1m30s`, `500ms`), the default when absent or unreadable.
pub fn retry_period_secs(args: &[String]) -> i64 {
    let flag = "--dns01-check-retry-period";
    let value = args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix(flag)
            .and_then(|rest| match rest.strip_prefix('=') {
                Some(v) => Some(v.to_owned()),
                None if rest.is_empty() => args.get(i + 1).cloned(),
                None => None,
            })
    });
    value
        .and_then(|v| go_duration_secs(&v))
        .unwrap_or(DEFAULT_RETRY_SECS)
}

/// Whole seconds of a Go duration made of h, m, s and ms parts (rounded down).
fn go_duration_secs(v: &str) -> Option<i64> {
    let mut total_ms: i64 = 0;
    let mut rest = v.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit_ms, len) = if rest.starts_with("ms") {
            (1, 2)
        } else if rest.starts_with('h') {
            (3_600_000, 1)
        } else if rest.starts_with('m') {
            (60_000, 1)
        } else if rest.starts_with('s') {
            (1000, 1)
        } else {
            return None;
        };
        total_ms = total_ms.checked_add(n.checked_mul(unit_ms)?)?;
        rest = &rest[len..];
    }
    Some(total_ms / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::StatusWrite;

    fn ch(written: Option<&str>) -> ChallengeEvidence {
        ChallengeEvidence {
            status_written: written.map(|t| StatusWrite {
                time: t.into(),
                manager: "cert-manager-challenges".into(),
                operation: "Update".into(),
                subresource: "status".into(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_age_decides_whether_the_controller_has_checked_again() {
        let now = Some("2026-12-06T04:38:00Z");
        let t = ReasonTime::of(&ch(Some("2026-12-06T04:35:00Z")), &[], now);
        assert_eq!((t.age_secs, t.cycle_secs), (Some(180), 20));
        assert_eq!(t.rechecked(), Some(true));
        assert_eq!(
            t.words(),
            "written 2026-12-06T04:35:00Z, 3 min before the probes ran"
        );
        let t = ReasonTime::of(&ch(Some("2026-12-06T04:37:52.5Z")), &[], now);
        assert_eq!((t.age_secs, t.rechecked()), (Some(8), Some(false)));
        // A longer retry period makes the cycle longer.
        let args = ["--dns01-check-retry-period=1m".to_owned()];
        let t = ReasonTime::of(&ch(Some("2026-12-06T04:37:00Z")), &args, now);
        assert_eq!((t.cycle_secs, t.rechecked()), (70, Some(false)));
        // Not dated: nothing is concluded from the time.
        let t = ReasonTime::of(&ch(None), &[], now);
        assert_eq!(t.rechecked(), None);
        assert_eq!(t.words(), "time unknown");
        assert!(
            t.detail()
                .starts_with("time unknown (the Challenge has no managedFields")
        );
        let t = ReasonTime::of(&ch(Some("2026-12-06T04:35:00Z")), &[], None);
        assert_eq!(
            (t.rechecked(), t.words()),
            (None, "written 2026-12-06T04:35:00Z".into())
        );
    }

    #[test]
    fn retry_periods_and_ages_in_words() {
        let p =
            |a: &[&str]| retry_period_secs(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(p(&[]), 10);
        assert_eq!(p(&["--dns01-check-retry-period=1m30s"]), 90);
        assert_eq!(p(&["--dns01-check-retry-period", "30s"]), 30);
        assert_eq!(p(&["--dns01-check-retry-period=soon"]), 10);
        assert_eq!(p(&["--dns01-check-retry-period=1500ms"]), 1);
        assert_eq!(
            [ago(8), ago(180), ago(3 * 3600), ago(5 * 86_400)],
            ["8 s", "3 min", "3 h", "5 days"]
        );
    }
}
