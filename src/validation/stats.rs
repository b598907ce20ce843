//! Confidence intervals over independent replications, in the shape the
//! validation report uses; computed by [`crate::sweep::t_interval`].

use crate::sweep::t_interval;
pub use crate::sweep::t_quantile;

/// A mean over replications with its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Mean of the replication values.
    pub mean: f64,
    /// Half-width of the two-sided interval at the requested level.
    pub half_width: f64,
    /// Standard error of the mean.
    pub std_error: f64,
    /// Number of replications.
    pub n: usize,
}

impl Estimate {
    /// The Student-t interval of the mean of `values` (independent
    /// replications) at two-sided `level` (e.g. 0.95). With fewer than two
    /// values the half-width is infinite.
    pub fn from_replications(values: &[f64], level: f64) -> Estimate {
        let i = t_interval(values, level);
        Estimate {
            mean: i.mean,
            half_width: i.half_width.unwrap_or(f64::INFINITY),
            std_error: i.std_error.unwrap_or(f64::INFINITY),
            n: values.len(),
        }
    }

    /// Whether `x` lies inside the interval.
    pub fn contains(&self, x: f64) -> bool {
        (x - self.mean).abs() <= self.half_width
    }

    /// `|mean − x| / x`.
    pub fn relative_error(&self, x: f64) -> f64 {
        (self.mean - x).abs() / x.abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        assert!((t_quantile(9, 0.95) - 2.262).abs() < 1e-3);
        assert!((t_quantile(1000, 0.95) - 1.962).abs() < 1e-3);
    }

    #[test]
    fn interval_of_known_sample() {
        let e = Estimate::from_replications(&[1.0, 2.0, 3.0, 4.0], 0.95);
        assert_eq!(e.mean, 2.5);
        // s = 1.291, se = 0.6455, t(3) = 3.182.
        assert!((e.half_width - 3.182 * 0.6455).abs() < 2e-3);
        assert!(e.contains(4.5) && !e.contains(4.6));
        assert!((e.relative_error(2.0) - 0.25).abs() < 1e-12);
    }
}
