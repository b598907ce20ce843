//! Kolmogorov–Smirnov statistics: the largest gap between two cumulative
//! distribution functions, and the asymptotic Kolmogorov distribution that
//! turns it into a p-value.

/// Survival function of the Kolmogorov distribution, P(K > λ), by its
/// alternating series (converges fast for λ above about 0.3; below that the
/// probability is 1 to double precision).
pub fn kolmogorov_sf(lambda: f64) -> f64 {
    if !lambda.is_finite() || lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    let mut sign = 1.0;
    for k in 1..=100 {
        let kf = k as f64;
        let term = (-2.0 * kf * kf * lambda * lambda).exp();
        sum += sign * term;
        if term < 1e-16 {
            break;
        }
        sign = -sign;
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// p-value of a KS statistic `d` with effective sample size `n_eff`
/// (n for one sample, n·m/(n+m) for two), with Stephens' small-sample
/// correction of the scale.
pub fn ks_p_value(d: f64, n_eff: f64) -> f64 {
    if n_eff <= 0.0 {
        return 1.0;
    }
    let s = n_eff.sqrt();
    kolmogorov_sf((s + 0.12 + 0.11 / s) * d)
}

/// One-sample statistic: sup |F_n(x) − F(x)| of sorted samples against a
/// continuous CDF.
pub fn one_sample(sorted: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &x) in sorted.iter().enumerate() {
        let f = cdf(x);
        d = d
            .max(((i + 1) as f64 / n - f).abs())
            .max((f - i as f64 / n).abs());
    }
    d
}

/// Two-sample statistic: sup |F_a(x) − F_b(x)| of two sorted samples.
pub fn two_sample(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut d) = (0usize, 0usize, 0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        // Step past every tie at x in both samples before comparing, so a
        // shared value does not count as a gap.
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    d
}

/// Statistic of sorted samples against a CDF given by quantile points
/// `(q, x)` (q increasing from 0 to 1, x non-decreasing), linear between
/// points: the simulator reports its latency distribution this way.
pub fn against_quantiles(sorted: &[f64], points: &[(f64, f64)]) -> f64 {
    let cdf = |x: f64| quantile_cdf(points, x);
    let n = sorted.len() as f64;
    let mut d = one_sample(sorted, cdf);
    // The gap can also peak at a knot of the piecewise-linear CDF.
    for &(q, x) in points {
        let below = sorted.partition_point(|&s| s < x) as f64 / n;
        let upto = sorted.partition_point(|&s| s <= x) as f64 / n;
        d = d.max((q - below).abs()).max((q - upto).abs());
    }
    d
}

/// The CDF at `x` of quantile points, linear between them.
pub fn quantile_cdf(points: &[(f64, f64)], x: f64) -> f64 {
    let Some(first) = points.first() else {
        return 0.0;
    };
    if x < first.1 {
        return 0.0;
    }
    for w in points.windows(2) {
        let ((q0, x0), (q1, x1)) = (w[0], w[1]);
        if x < x1 {
            if x1 > x0 {
                return q0 + (q1 - q0) * (x - x0) / (x1 - x0);
            }
            return q1;
        }
    }
    1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kolmogorov_matches_tabulated_critical_values() {
        // Classic table: P(K > 1.358) = 0.05, P(K > 1.628) = 0.01, P(K > 1.224) = 0.10.
        assert!((kolmogorov_sf(1.358) - 0.05).abs() < 5e-4);
        assert!((kolmogorov_sf(1.628) - 0.01).abs() < 2e-4);
        assert!((kolmogorov_sf(1.224) - 0.10).abs() < 5e-4);
        assert_eq!(kolmogorov_sf(0.1), 1.0);
    }

    #[test]
    fn two_sample_statistic_by_hand() {
        // a = {1,2,3,4}, b = {3,4,5,6}: after 2, F_a = 0.5 and F_b = 0.
        assert_eq!(
            two_sample(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0]),
            0.5
        );
        assert_eq!(two_sample(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        assert_eq!(two_sample(&[1.0], &[2.0]), 1.0);
    }

    #[test]
    fn one_sample_against_uniform() {
        // Samples at 0.1..0.9 against U(0,1): the gap is at most 0.1 + 1/9 edges.
        let s: Vec<f64> = (1..=4).map(|i| i as f64 * 0.25 - 0.125).collect();
        let d = one_sample(&s, |x| x.clamp(0.0, 1.0));
        assert!((d - 0.125).abs() < 1e-12, "{d}");
    }

    #[test]
    fn quantile_points_interpolate() {
        let p = [(0.0, 0.0), (0.5, 10.0), (1.0, 30.0)];
        assert_eq!(quantile_cdf(&p, -1.0), 0.0);
        assert_eq!(quantile_cdf(&p, 5.0), 0.25);
        assert_eq!(quantile_cdf(&p, 20.0), 0.75);
        assert_eq!(quantile_cdf(&p, 31.0), 1.0);
        // Samples uniform on [0, 10) put all mass where the points put half.
        let s: Vec<f64> = (0..100).map(|i| i as f64 / 10.0).collect();
        let d = against_quantiles(&s, &p);
        assert!((d - 0.5).abs() < 0.02, "{d}");
    }
}
