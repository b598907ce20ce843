//! Means with Student-t confidence intervals, per-configuration summaries and
//! the cost/latency Pareto front.

use super::grid::Plan;
use super::metrics::METRICS;
use super::RunRecord;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Confidence level of every interval knsim reports.
pub const CONFIDENCE: f64 = 0.95;

/// A sample mean and its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanCi {
    /// Sample mean.
    pub mean: f64,
    /// Half-width of the 95 % interval; `None` with fewer than two samples.
    pub half_width: Option<f64>,
}

impl MeanCi {
    /// Lower end of the interval.
    pub fn low(&self) -> Option<f64> {
        self.half_width.map(|h| self.mean - h)
    }

    /// Upper end of the interval.
    pub fn high(&self) -> Option<f64> {
        self.half_width.map(|h| self.mean + h)
    }
}

/// A sample mean with its standard error and Student-t interval; the one
/// interval computation behind sweeps, `knsim check` and `validate-model`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TInterval {
    /// Sample mean (NaN for no samples).
    pub mean: f64,
    /// Standard error of the mean, s / √n; `None` with fewer than two samples.
    pub std_error: Option<f64>,
    /// Half-width of the interval; `None` with fewer than two samples.
    pub half_width: Option<f64>,
}

/// Mean and two-sided confidence interval at `level` (e.g. 0.95) of `xs`
/// from Student's t with n − 1 degrees of freedom: mean ± t((1 + level)/2,
/// n−1) · s / √n, with `s` the sample standard deviation. Summed in the
/// given order, so equal inputs give bit-identical results.
pub fn t_interval(xs: &[f64], level: f64) -> TInterval {
    let n = xs.len() as f64;
    let mean = if xs.is_empty() {
        f64::NAN
    } else {
        xs.iter().sum::<f64>() / n
    };
    if xs.len() < 2 {
        return TInterval {
            mean,
            std_error: None,
            half_width: None,
        };
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    let se = (var / n).sqrt();
    TInterval {
        mean,
        std_error: Some(se),
        half_width: Some(t_quantile(xs.len() - 1, level) * se),
    }
}

/// The two-sided Student-t critical value at `level` with `df` degrees of
/// freedom.
pub fn t_quantile(df: usize, level: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("df >= 1")
        .inverse_cdf(0.5 + level / 2.0)
}

/// Mean and two-sided 95 % confidence interval of `xs` ([`t_interval`] at
/// [`CONFIDENCE`]).
///
/// # Panics
/// On an empty slice (a configuration always has at least one run).
pub fn mean_ci(xs: &[f64]) -> MeanCi {
    assert!(!xs.is_empty(), "mean of no samples");
    let i = t_interval(xs, CONFIDENCE);
    MeanCi {
        mean: i.mean,
        half_width: i.half_width,
    }
}

/// The runs of one configuration, summarised.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigSummary {
    /// Configuration index.
    pub config: usize,
    /// One value per axis.
    pub values: Vec<String>,
    /// Runs summarised.
    pub runs: usize,
    /// One entry per metric, in [`METRICS`] order.
    pub metrics: Vec<MeanCi>,
    /// Not beaten on both cost and the chosen latency metric.
    pub pareto: bool,
}

impl ConfigSummary {
    /// The summary of metric `index`.
    pub fn metric(&self, index: usize) -> MeanCi {
        self.metrics[index]
    }
}

/// Summarises `records` per configuration (configurations without runs are
/// left out) and marks the Pareto front of `cost` against `latency` (metric
/// indexes). Records are taken in run order, so the result does not depend on
/// the order runs finished in.
pub fn summarize(
    plan: &Plan,
    records: &[RunRecord],
    cost: usize,
    latency: usize,
) -> Vec<ConfigSummary> {
    let mut by_config: Vec<Vec<&RunRecord>> = vec![Vec::new(); plan.configs()];
    for r in records {
        by_config[r.config].push(r);
    }
    let mut out: Vec<ConfigSummary> = by_config
        .into_iter()
        .enumerate()
        .filter(|(_, rs)| !rs.is_empty())
        .map(|(config, mut rs)| {
            rs.sort_by_key(|r| r.run);
            let metrics = (0..METRICS.len())
                .map(|m| mean_ci(&rs.iter().map(|r| r.metrics[m]).collect::<Vec<_>>()))
                .collect();
            ConfigSummary {
                config,
                values: plan.values(config).into_iter().map(String::from).collect(),
                runs: rs.len(),
                metrics,
                pareto: false,
            }
        })
        .collect();
    let points: Vec<(f64, f64)> = out
        .iter()
        .map(|s| (s.metrics[cost].mean, s.metrics[latency].mean))
        .collect();
    for (s, on) in out.iter_mut().zip(pareto_front(&points)) {
        s.pareto = on;
    }
    out
}

/// For each point (cost, latency), whether no other point is at least as good
/// on both and strictly better on one (both minimised). Points with a NaN
/// coordinate are never on the front.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<bool> {
    let dominates =
        |a: (f64, f64), b: (f64, f64)| a.0 <= b.0 && a.1 <= b.1 && (a.0 < b.0 || a.1 < b.1);
    points
        .iter()
        .map(|&p| !(p.0.is_nan() || p.1.is_nan() || points.iter().any(|&q| dominates(q, p))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_matches_a_textbook_case() {
        // 1..5: mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776445 (tables give
        // 2.776), half-width = 2.776445 * sqrt(2.5) / sqrt(5) = 1.963243.
        let ci = mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(ci.mean, 3.0);
        let h = ci.half_width.unwrap();
        assert!((h - 1.963243).abs() < 1e-6, "{h}");
        assert!((ci.low().unwrap() - 1.036757).abs() < 1e-6);
        // Two samples: t(0.975, 1) = 12.7062, s = |a - b| / sqrt 2, so the
        // half-width is 12.7062 * |a - b| / 2.
        let ci = mean_ci(&[10.0, 12.0]);
        assert!((ci.half_width.unwrap() - 12.7062).abs() < 1e-3);
        // With many samples t approaches the normal's 1.96.
        let xs: Vec<f64> = (0..10_000).map(|i| f64::from(i % 2)).collect();
        let h = mean_ci(&xs).half_width.unwrap();
        let normal = 1.959964 * (0.25f64 * 10_000.0 / 9_999.0).sqrt() / 100.0;
        assert!((h - normal).abs() < 1e-5, "{h} vs {normal}");
    }

    #[test]
    fn degenerate_samples() {
        assert_eq!(mean_ci(&[7.0]).half_width, None);
        assert_eq!(mean_ci(&[7.0, 7.0, 7.0]).half_width, Some(0.0));
    }

    #[test]
    fn intervals_cover_the_true_mean_about_95_percent_of_the_time() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Normal};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(99);
        let normal = Normal::new(10.0, 3.0).unwrap();
        let trials = 4000;
        let covered = (0..trials)
            .filter(|_| {
                let xs: Vec<f64> = (0..4).map(|_| normal.sample(&mut rng)).collect();
                let ci = mean_ci(&xs);
                ci.low().unwrap() <= 10.0 && 10.0 <= ci.high().unwrap()
            })
            .count();
        let rate = covered as f64 / trials as f64;
        // Binomial sd at 4000 trials is 0.0034; allow about 4 sd.
        assert!((rate - 0.95).abs() < 0.014, "coverage {rate}");
    }

    #[test]
    fn pareto_front_keeps_the_unbeaten() {
        let pts = [
            (10.0, 100.0), // cheapest
            (20.0, 50.0),  // trade-off
            (30.0, 50.0),  // same latency as the one before, costlier: beaten
            (40.0, 10.0),  // fastest
            (25.0, 80.0),  // beaten by (20, 50)
            (10.0, 100.0), // a tie with the first: neither beats the other
            (f64::NAN, 1.0),
        ];
        assert_eq!(
            pareto_front(&pts),
            [true, true, false, true, false, true, false]
        );
    }
}
