//! The statistics of the agreement tests: does a count of passes out of `n` real trials agree
//! with a forecast? `pass` ⇔ all, `fail` ⇔ none, `flaky` with P ⇔ a two-sided binomial interval
//! with a false-alarm rate of [`ALPHA`], widened by the sampling error of the forecast's own
//! per-request pass fraction (unless P is a fraction of starting slots of a strict rotation).

/// False-alarm rate of each interval (binomial count, and the forecast's per-request fraction).
pub const ALPHA: f64 = 1e-4;

/// What a forecast says, as the interval needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// `pass`, `fail`, `flaky` (anything else has no interval).
    pub outcome: String,
    /// Round pass probability P.
    pub pass_probability: f64,
    /// Per-request pass fraction p.
    pub per_request_pass: f64,
    /// How many attempts p was measured from.
    pub attempts: u32,
    /// P is over consecutive slots of a strict rotation (no sampling error in it).
    pub rotation: bool,
}

/// The range of passing trials (of `n`) that agrees with `f`, where one trial passes with
/// `round(p)` when requests pass independently with `p`. None when the forecast is not one.
pub fn expected_interval(f: &Forecast, n: u32, round: impl Fn(f64) -> f64) -> Option<(u32, u32)> {
    let p_round = f.pass_probability;
    match f.outcome.as_str() {
        "pass" if p_round >= 1.0 => Some((n, n)),
        "fail" => Some((0, 0)),
        "pass" | "flaky" => {
            let (lo, hi) = if f.rotation {
                (p_round, p_round)
            } else {
                let p = f.per_request_pass;
                let m = f64::from(f.attempts.max(1));
                let half = z(ALPHA) * (p * (1.0 - p) / m).sqrt();
                // p sets P through the validator's formula; the forecast's own P sits inside.
                let (a, b) = (round((p - half).max(0.0)), round((p + half).min(1.0)));
                (a.min(p_round), b.max(p_round))
            };
            Some((
                binomial_quantile(n, lo, ALPHA / 2.0),
                binomial_quantile(n, hi, 1.0 - ALPHA / 2.0),
            ))
        }
        _ => None,
    }
}

/// Two-sided standard normal quantile for `alpha` (bisection on erfc; no stats crate).
pub fn z(alpha: f64) -> f64 {
    let tail = |x: f64| 0.5 * erfc(x / std::f64::consts::SQRT_2);
    let (mut lo, mut hi) = (0.0, 10.0);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if tail(mid) > alpha / 2.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
pub fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let y = t
        * (-x * x - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { y } else { 2.0 - y }
}

/// The smallest k with P(X ≤ k) ≥ q for X ~ Binomial(n, p) (exact pmf recursion).
pub fn binomial_quantile(n: u32, p: f64, q: f64) -> u32 {
    if p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    let mut pmf = (1.0 - p).powi(n as i32);
    let mut cdf = pmf;
    for k in 0..n {
        if cdf >= q {
            return k;
        }
        pmf *= f64::from(n - k) / f64::from(k + 1) * p / (1.0 - p);
        cdf += pmf;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_helpers() {
        // Binomial(80, 0.125): mean 10; 0 is below the ALPHA/2 quantile, 10 inside.
        let lo = binomial_quantile(80, 0.125, ALPHA / 2.0);
        let hi = binomial_quantile(80, 0.125, 1.0 - ALPHA / 2.0);
        assert!((1..10).contains(&lo) && (11..30).contains(&hi), "{lo} {hi}");
        assert_eq!(binomial_quantile(10, 1.0, 0.5), 10);
        assert_eq!(binomial_quantile(10, 0.0, 0.5), 0);
        assert!((z(0.05) - 1.96).abs() < 0.01);
        assert!((z(1e-4) - 3.89).abs() < 0.01);
    }

    #[test]
    fn intervals() {
        let f = |outcome: &str, p_round: f64, p: f64, rotation: bool| Forecast {
            outcome: outcome.into(),
            pass_probability: p_round,
            per_request_pass: p,
            attempts: 1000,
            rotation,
        };
        assert_eq!(
            expected_interval(&f("pass", 1.0, 1.0, false), 5, |p| p),
            Some((5, 5))
        );
        assert_eq!(
            expected_interval(&f("fail", 0.0, 0.0, false), 5, |p| p),
            Some((0, 0))
        );
        assert_eq!(
            expected_interval(&f("unknown", 0.0, 0.0, false), 5, |p| p),
            None
        );
        // A strict rotation's P = 0.5 over 1000 rounds: around 500.
        let (lo, hi) = expected_interval(&f("flaky", 0.5, 0.9, true), 1000, |p| p).unwrap();
        assert!(lo > 400 && hi < 600 && lo < 500 && hi > 500, "{lo} {hi}");
        // p^5 with p = 0.5 ± 0.06 over 1000 rounds excludes 0.
        let five = |p: f64| p.powi(5);
        let (lo, _) = expected_interval(&f("flaky", 0.03125, 0.5, false), 1000, five).unwrap();
        assert!(lo >= 1, "{lo}");
    }
}
