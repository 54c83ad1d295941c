//! RFC 3339 UTC ⇄ seconds since 1970, without a date crate, for every stage: the probe's
//! start time, the day Let's Encrypt's perspectives are counted on, the age of cert-manager's
//! reason, the end of an issuance backoff. Pure, except [`now_unix`].
//!
//! The calendar arithmetic is Howard Hinnant's `days_from_civil` / `civil_from_days`
//! (proleptic Gregorian, "chrono-Compatible Low-Level Date Algorithms"), written out here once.

/// Days from 0000-03-01 to 1970-01-01 in Hinnant's shifted calendar.
const EPOCH_SHIFT: i64 = 719_468;
/// Days in a 400-year era.
const ERA_DAYS: i64 = 146_097;

/// Seconds since 1970 on this machine's clock (0 if the clock is before 1970).
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The UTC calendar date `(year, month 1–12, day 1–31)` of a time in seconds since 1970
/// (`civil_from_days`).
pub fn civil(secs: i64) -> (i64, u32, u32) {
    let z = secs.div_euclid(86_400) + EPOCH_SHIFT;
    let era = z.div_euclid(ERA_DAYS);
    let doe = z - era * ERA_DAYS;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day is 1..=31 and month 1..=12 by construction.
    (year, month as u32, day as u32)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (`days_from_civil`); the month is
/// 1–12.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * ERA_DAYS + doe - EPOCH_SHIFT
}

/// `2026-11-28T05:51:11Z`: RFC 3339 UTC with whole seconds, for seconds since 1970.
pub fn rfc3339(secs: i64) -> String {
    let (y, m, d) = civil(secs);
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Seconds since 1970 of an RFC 3339 UTC time (`2026-11-28T05:03:00Z`; `t` for `T`, `z` or
/// `+00:00` for `Z` and a fraction, dropped, are allowed); None for anything else, other
/// offsets included.
pub fn unix_seconds(t: &str) -> Option<i64> {
    let (date, time) = t.split_once(['T', 't'])?;
    let mut d = date.splitn(3, '-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time
        .strip_suffix(['Z', 'z'])
        .or_else(|| time.strip_suffix("+00:00"))?;
    let mut hms = time.splitn(3, ':');
    let h: i64 = hms.next()?.parse().ok()?;
    let min: i64 = hms.next()?.parse().ok()?;
    let sec: i64 = hms.next()?.split('.').next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(y, m, day) * 86_400 + h * 3600 + min * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn leap_days_and_round_trips() {
        assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(unix_seconds("2024-02-29T23:59:59Z"), Some(1_709_251_199));
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_845_071), "2026-11-28T05:51:11Z");
        assert_eq!(civil(1_795_845_071), (2026, 11, 28));
        // Every day of four years, around a century that is not a leap year (2100).
        for day in (47_482..47_482 + 4 * 366).map(|d: i64| d * 86_400 + 3723) {
            assert_eq!(unix_seconds(&rfc3339(day)), Some(day), "{}", rfc3339(day));
        }
        assert_eq!(rfc3339(4_107_542_400), "2100-03-01T00:00:00Z");
        assert_eq!(civil(4_107_542_400 - 86_400), (2100, 2, 28));
    }

    #[test]
    fn fractions_lower_case_and_zero_offset() {
        assert_eq!(unix_seconds("1970-01-01T00:01:00.999Z"), Some(60));
        assert_eq!(unix_seconds("2026-12-06T04:37:52.5Z"), Some(1_796_531_872));
        assert_eq!(unix_seconds("2026-12-06t04:37:52z"), Some(1_796_531_872));
        assert_eq!(
            unix_seconds("2026-12-06T04:37:52+00:00"),
            Some(1_796_531_872)
        );
    }

    #[test]
    fn rejects() {
        for bad in [
            "yesterday",
            "",
            "2026-12-06",
            "2026-12-06T04:37:52",
            "2026-12-06T04:37:52+02:00",
            "2026-13-06T04:37:52Z",
            "2026-12-00T04:37:52Z",
            "2026-12-06T24:00:00Z",
            "2026-12-06T04:60:00Z",
            "2026-12-06T04:37:61Z",
            "2026-12-06T04:37Z",
            "2026-xx-06T04:37:52Z",
        ] {
            assert_eq!(unix_seconds(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_clock_is_after_the_epoch() {
        assert!(now_unix() > 1_700_000_000);
    }
}
