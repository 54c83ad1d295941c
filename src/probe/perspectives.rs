//! How many places Let's Encrypt validates from, as a dated fact.
//!
//! Boulder runs the primary perspective first and then every remote one; the validation passes
//! when the primary passes and at most `maxAllowedFailures(remotes)` remotes fail (`va/va.go`
//! `maxAllowedFailures`, the "Quorum Requirements" table of the CA/Browser Forum Baseline
//! Requirements §3.2.2.9: 2–5 remotes allow 1 failure, 6 or more allow 2). How many remotes
//! there are is Let's Encrypt's deployment, not Boulder's code, and it changes:
//!
//! | from | remotes | source |
//! |---|---|---|
//! | February 2020 | 3 | Let's Encrypt's multi-perspective validation launch |
//! | March 2024 | 4 | Let's Encrypt community announcement: "1 from the primary datacenter and 4 from remote perspectives" |
//! | 2026-12-15 | 5 | Baseline Requirements phase-in, quoted in Boulder `va/va.go` `doRemoteOperation`: "Dec 15, 2026: MUST implement using at least 5 perspectives" (the minimum; Let's Encrypt may run more) |
//!
//! Month-precise entries start on the 1st. `--letsencrypt-perspectives` overrides the table.
//! Not modelled: the passing remotes must span two Regional Internet Registries (`requiredRIRs`),
//! which matters only when failures depend on where the request comes from.

/// A calendar day (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Day {
    /// `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Day, String> {
        let bad = || format!("{s:?} is not a date (want YYYY-MM-DD)");
        let mut it = s.trim().splitn(3, '-');
        let (Some(y), Some(m), Some(d)) = (it.next(), it.next(), it.next()) else {
            return Err(bad());
        };
        let (year, month, day) = (
            y.parse::<i32>().map_err(|_| bad())?,
            m.parse::<u32>().map_err(|_| bad())?,
            d.parse::<u32>().map_err(|_| bad())?,
        );
        if y.len() != 4 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err(bad());
        }
        Ok(Day { year, month, day })
    }

    /// The UTC day of a Unix time.
    pub fn from_unix(secs: i64) -> Day {
        let (year, month, day) = crate::time::civil(secs);
        Day {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month,
            day,
        }
    }

    /// Today (UTC) from the system clock.
    pub fn today() -> Day {
        Day::from_unix(crate::time::now_unix())
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// (from, remote perspectives, what says so), oldest first.
const LETSENCRYPT: &[(Day, u32, &str)] = &[
    (
        Day {
            year: 2020,
            month: 2,
            day: 1,
        },
        3,
        "multi-perspective validation since February 2020",
    ),
    (
        Day {
            year: 2024,
            month: 3,
            day: 1,
        },
        4,
        "production since March 2024",
    ),
    (
        Day {
            year: 2026,
            month: 12,
            day: 15,
        },
        5,
        "Baseline Requirements minimum from 2026-12-15",
    ),
];

/// Boulder's `maxAllowedFailures`.
pub fn max_allowed_failures(remotes: u32) -> u32 {
    match remotes {
        0 | 1 => 0,
        2..=5 => 1,
        _ => 2,
    }
}

/// Let's Encrypt's perspectives on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Perspectives {
    pub remotes: u32,
    pub allowed_failures: u32,
    /// Where the count comes from, for the verdict's basis.
    pub why: String,
}

/// The perspectives for `day`, or `remotes` when given (the `--letsencrypt-perspectives` flag).
pub fn letsencrypt(day: Day, remotes: Option<u32>) -> Perspectives {
    let (remotes, why) = match remotes {
        Some(n) => (n, format!("{n} remote perspectives as configured")),
        None => {
            let (remotes, what) = LETSENCRYPT
                .iter()
                .rev()
                .find(|(from, _, _)| *from <= day)
                .map_or((0, "before multi-perspective validation"), |(_, n, w)| {
                    (*n, *w)
                });
            (
                remotes,
                format!("{remotes} remote perspectives on {day}: {what}"),
            )
        }
    };
    Perspectives {
        remotes,
        allowed_failures: max_allowed_failures(remotes),
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    /// Boulder `va/va.go` `maxAllowedFailures`: 2–5 remotes allow 1 failure, 6+ allow 2.
    #[test]
    fn quorum_as_boulder() {
        assert_eq!(
            (2..=8).map(max_allowed_failures).collect::<Vec<_>>(),
            [1, 1, 1, 1, 2, 2, 2]
        );
        assert_eq!(max_allowed_failures(0), 0);
    }

    /// The dated table: 4 remotes today (2026-12-06), 5 from 2026-12-15 (Boulder
    /// `doRemoteOperation`'s phase-in), an override wins. No clock involved.
    #[test]
    fn perspectives_by_date() {
        let today = letsencrypt(day("2026-12-06"), None);
        assert_eq!((today.remotes, today.allowed_failures), (4, 1));
        assert!(today.why.contains("2026-12-06") && today.why.contains("March 2024"));
        assert_eq!(letsencrypt(day("2026-12-14"), None).remotes, 4);
        let later = letsencrypt(day("2026-12-15"), None);
        assert_eq!((later.remotes, later.allowed_failures), (5, 1));
        assert_eq!(letsencrypt(day("2023-06-01"), None).remotes, 3);
        assert_eq!(letsencrypt(day("2019-01-01"), None).remotes, 0);
        let six = letsencrypt(day("2026-12-06"), Some(6));
        assert_eq!((six.remotes, six.allowed_failures), (6, 2));
    }

    #[test]
    fn days() {
        assert_eq!(Day::from_unix(0).to_string(), "1970-01-01");
        assert_eq!(Day::from_unix(1_795_845_071).to_string(), "2026-11-28");
        assert!(Day::parse("2026-13-01").is_err());
        assert!(Day::parse("26-12-01").is_err());
        assert!(day("2026-12-06") < day("2026-12-15"));
    }
}
