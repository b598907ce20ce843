//! Fitting the simulator's unknowns to measurements: service-time
//! distributions from latencies measured at low load (where queueing is
//! negligible, so a latency is a service time plus a small constant
//! network cost), and cold-start time from the first request of runs that
//! start with no pod.
//!
//! ```text
//!  measured CSV ──read_rows──▶ latencies ──mle::*──▶ Fit per family ──ks, AIC──▶ best ──▶ snippet
//! ```
//!
//! Densities and CDFs come from statrs; the maximum-likelihood estimates
//! are in [`mle`], the goodness-of-fit statistics in [`ks`].

pub mod ks;
pub mod measured;
pub mod mle;

use statrs::distribution::{Continuous, ContinuousCDF, Exp, Gamma, LogNormal, Weibull};
use std::fmt::Write as _;
use thiserror::Error;

/// Bad input to `knsim fit` or `knsim compare`.
#[derive(Debug, Error)]
pub enum FitError {
    /// A file could not be read or parsed as CSV.
    #[error("{path}: {detail}")]
    Io {
        /// File.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// The latency column is missing.
    #[error("{path}: no column `{column}` in the header (found: {found})")]
    NoColumn {
        /// File.
        path: String,
        /// Wanted column.
        column: String,
        /// Header as found.
        found: String,
    },
    /// A cell breaks a rule.
    #[error("{path}:{line}: column {column}: {rule}")]
    Value {
        /// File.
        path: String,
        /// 1-based line.
        line: usize,
        /// Column header.
        column: String,
        /// The rule broken.
        rule: String,
    },
    /// Too few usable samples.
    #[error("{what}: {found} usable sample(s), at least {need} needed")]
    TooFew {
        /// Which samples.
        what: String,
        /// How many there were.
        found: usize,
        /// How many are needed.
        need: usize,
    },
}

/// A candidate family with its fitted parameters (seconds).
#[derive(Clone, Debug, PartialEq)]
pub enum Family {
    /// ln X ~ N(μ, σ²).
    Lognormal {
        /// μ of ln X.
        mu: f64,
        /// σ of ln X.
        sigma: f64,
    },
    /// Gamma with shape k and scale θ.
    Gamma {
        /// Shape k.
        shape: f64,
        /// Scale θ, seconds.
        scale: f64,
    },
    /// Weibull with shape k and scale λ.
    Weibull {
        /// Shape k.
        shape: f64,
        /// Scale λ, seconds.
        scale: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean, seconds.
        mean: f64,
    },
    /// The samples themselves.
    Empirical,
}

impl Family {
    /// Short name as in a scenario's `distribution` key.
    pub fn name(&self) -> &'static str {
        match self {
            Family::Lognormal { .. } => "lognormal",
            Family::Gamma { .. } => "gamma",
            Family::Weibull { .. } => "weibull",
            Family::Exponential { .. } => "exponential",
            Family::Empirical => "empirical",
        }
    }

    /// The same family with every value multiplied by `k` (> 0): a what-if
    /// ("half the service time"). The empirical family is unchanged; scale
    /// its samples instead.
    pub fn scaled(&self, k: f64) -> Family {
        match self {
            Family::Lognormal { mu, sigma } => Family::Lognormal {
                mu: mu + k.ln(),
                sigma: *sigma,
            },
            Family::Gamma { shape, scale } => Family::Gamma {
                shape: *shape,
                scale: scale * k,
            },
            Family::Weibull { shape, scale } => Family::Weibull {
                shape: *shape,
                scale: scale * k,
            },
            Family::Exponential { mean } => Family::Exponential { mean: mean * k },
            Family::Empirical => Family::Empirical,
        }
    }

    /// Free parameters (for AIC).
    fn parameters(&self) -> usize {
        match self {
            Family::Exponential { .. } => 1,
            Family::Empirical => 0,
            _ => 2,
        }
    }

    /// CDF at `x` (seconds); None for the empirical family.
    pub fn cdf(&self, x: f64) -> Option<f64> {
        Some(match self {
            Family::Lognormal { mu, sigma } => LogNormal::new(*mu, *sigma).ok()?.cdf(x),
            Family::Gamma { shape, scale } => Gamma::new(*shape, 1.0 / scale).ok()?.cdf(x),
            Family::Weibull { shape, scale } => Weibull::new(*shape, *scale).ok()?.cdf(x),
            Family::Exponential { mean } => Exp::new(1.0 / mean).ok()?.cdf(x),
            Family::Empirical => return None,
        })
    }

    fn ln_pdf(&self, x: f64) -> Option<f64> {
        Some(match self {
            Family::Lognormal { mu, sigma } => LogNormal::new(*mu, *sigma).ok()?.ln_pdf(x),
            Family::Gamma { shape, scale } => Gamma::new(*shape, 1.0 / scale).ok()?.ln_pdf(x),
            Family::Weibull { shape, scale } => Weibull::new(*shape, *scale).ok()?.ln_pdf(x),
            Family::Exponential { mean } => Exp::new(1.0 / mean).ok()?.ln_pdf(x),
            Family::Empirical => return None,
        })
    }

    /// The family's mean, seconds (None for the empirical family).
    pub fn mean(&self) -> Option<f64> {
        Some(match self {
            Family::Lognormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Family::Gamma { shape, scale } => shape * scale,
            Family::Weibull { shape, scale } => {
                scale * statrs::function::gamma::gamma(1.0 + 1.0 / shape)
            }
            Family::Exponential { mean } => *mean,
            Family::Empirical => return None,
        })
    }

    /// The inline table in knsim's distribution syntax (durations as Go
    /// strings in microseconds, so the value survives a round trip).
    /// `file` names the sample file of the empirical family.
    pub fn toml(&self, file: &str) -> String {
        match self {
            Family::Lognormal { mu, sigma } => {
                let mean = (mu + sigma * sigma / 2.0).exp();
                let sd = mean * ((sigma * sigma).exp() - 1.0).sqrt();
                format!(
                    "{{ distribution = \"lognormal\", mean = \"{}\", stddev = \"{}\" }}",
                    dur(mean),
                    dur(sd)
                )
            }
            Family::Gamma { shape, scale } => format!(
                "{{ distribution = \"gamma\", shape = {shape:.4}, scale = \"{}\" }}",
                dur(*scale)
            ),
            Family::Weibull { shape, scale } => format!(
                "{{ distribution = \"weibull\", shape = {shape:.4}, scale = \"{}\" }}",
                dur(*scale)
            ),
            Family::Exponential { mean } => format!(
                "{{ distribution = \"exponential\", mean = \"{}\" }}",
                dur(*mean)
            ),
            Family::Empirical => format!(
                "{{ distribution = \"empirical\", file = \"{file}\", column = \"seconds\" }}"
            ),
        }
    }
}

/// Seconds as a Go duration with microsecond precision ("20.125ms").
fn dur(secs: f64) -> String {
    let us = (secs * 1e6).round();
    if us >= 1e6 {
        format!("{}s", us / 1e6)
    } else if us >= 1e3 {
        format!("{}ms", us / 1e3)
    } else {
        format!("{}us", us.max(1.0))
    }
}

/// One family fitted to the samples, with its goodness of fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// Family and parameters.
    pub family: Family,
    /// Log-likelihood at the estimate (None for empirical).
    pub log_likelihood: Option<f64>,
    /// Akaike information criterion, 2p − 2 ln L (None for empirical).
    pub aic: Option<f64>,
    /// One-sample KS statistic against the fitted CDF (0 for empirical).
    pub ks_d: f64,
    /// Its p-value. The parameters were estimated from the same samples, so
    /// the p-value is conservative (too high); compare fits by D and AIC.
    pub ks_p: f64,
}

/// Fewest samples a fit accepts.
pub const MIN_SAMPLES: usize = 5;

/// Fits every candidate family to `samples` (seconds, any order). Samples
/// that are zero are dropped first: no candidate has mass there.
pub fn fit_all(samples: &[f64], what: &str) -> Result<Vec<Fit>, FitError> {
    let mut x: Vec<f64> = samples.iter().copied().filter(|v| *v > 0.0).collect();
    if x.len() < MIN_SAMPLES {
        return Err(FitError::TooFew {
            what: what.into(),
            found: x.len(),
            need: MIN_SAMPLES,
        });
    }
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let (mu, sigma) = mle::lognormal(&x);
    let (gk, gt) = mle::gamma(&x);
    let (wk, wl) = mle::weibull(&x);
    let families = [
        Family::Lognormal { mu, sigma },
        Family::Gamma {
            shape: gk,
            scale: gt,
        },
        Family::Weibull {
            shape: wk,
            scale: wl,
        },
        Family::Exponential {
            mean: mle::exponential(&x),
        },
    ];
    let mut fits: Vec<Fit> = families
        .into_iter()
        .map(|family| {
            let ll: f64 = x
                .iter()
                .map(|&v| family.ln_pdf(v).unwrap_or(f64::NAN))
                .sum();
            let d = ks::one_sample(&x, |v| family.cdf(v).unwrap_or(0.0));
            let aic = 2.0 * family.parameters() as f64 - 2.0 * ll;
            Fit {
                family,
                log_likelihood: Some(ll),
                aic: Some(aic),
                ks_d: d,
                ks_p: ks::ks_p_value(d, n),
            }
        })
        .collect();
    fits.push(Fit {
        family: Family::Empirical,
        log_likelihood: None,
        aic: None,
        ks_d: 0.0,
        ks_p: 1.0,
    });
    Ok(fits)
}

/// The best fit: the parametric family of lowest AIC whose KS p-value is at
/// least `alpha`; the empirical distribution when none is.
pub fn best(fits: &[Fit], alpha: f64) -> &Fit {
    fits.iter()
        .filter(|f| f.aic.is_some_and(f64::is_finite) && f.ks_p >= alpha)
        .min_by(|a, b| {
            a.aic
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.aic.unwrap_or(f64::INFINITY))
        })
        .or_else(|| fits.iter().find(|f| f.family == Family::Empirical))
        .expect("fit_all always includes the empirical distribution")
}

/// A table of every fit, best first by AIC.
pub fn table(fits: &[Fit], chosen: &Fit) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:>12} {:>14} {:>8} {:>9}  parameters",
        "family", "mean", "AIC", "KS D", "KS p"
    );
    for f in fits {
        let mean = f
            .family
            .mean()
            .map_or("-".into(), |m| format!("{:.3}ms", m * 1e3));
        let aic = f.aic.map_or("-".into(), |a| format!("{a:.1}"));
        let mark = if f == chosen { "  <- best" } else { "" };
        let params = match &f.family {
            Family::Empirical => "the samples".to_string(),
            fam => fam.toml("samples.csv"),
        };
        let _ = writeln!(
            out,
            "{:<12} {:>12} {:>14} {:>8.4} {:>9.4}  {params}{mark}",
            f.family.name(),
            mean,
            aic,
            f.ks_d,
            f.ks_p
        );
    }
    out
}

/// Cold-start samples: per run, the first request's latency (earliest
/// timestamp) less the median latency of the run's later requests, which
/// stands for the service time and network cost the first request also
/// paid. Only successful requests count.
pub fn cold_start_samples(runs: &[(String, Vec<measured::Row>)]) -> Result<Vec<f64>, FitError> {
    let mut out = Vec::with_capacity(runs.len());
    for (path, rows) in runs {
        let mut ok: Vec<&measured::Row> = rows
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect();
        if ok.len() < 2 {
            return Err(FitError::TooFew {
                what: format!("{path}: successful requests"),
                found: ok.len(),
                need: 2,
            });
        }
        ok.sort_by(|a, b| a.timestamp_s.total_cmp(&b.timestamp_s));
        let mut rest: Vec<f64> = ok[1..].iter().map(|r| r.latency_s).collect();
        rest.sort_by(f64::total_cmp);
        let median = rest[rest.len() / 2];
        out.push((ok[0].latency_s - median).max(0.0));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::Distribution;

    fn sample(d: impl Distribution<f64>, n: usize) -> Vec<f64> {
        let mut rng = crate::sim::SimRng::seed_from_u64(17);
        (0..n).map(|_| d.sample(&mut rng)).collect()
    }

    #[test]
    fn the_generating_family_wins() {
        let x = sample(
            rand_distr::LogNormal::new((0.02f64).ln(), 0.6).unwrap(),
            5000,
        );
        let fits = fit_all(&x, "test").unwrap();
        assert_eq!(best(&fits, 0.01).family.name(), "lognormal");
        let x = sample(rand_distr::Weibull::new(0.05, 3.0).unwrap(), 5000);
        let fits = fit_all(&x, "test").unwrap();
        assert_eq!(best(&fits, 0.01).family.name(), "weibull");
        let x = sample(rand_distr::Gamma::new(4.0, 0.005).unwrap(), 5000);
        let fits = fit_all(&x, "test").unwrap();
        assert_eq!(best(&fits, 0.01).family.name(), "gamma");
    }

    #[test]
    fn a_mixture_no_family_fits_falls_back_to_empirical() {
        let mut x = sample(rand_distr::Normal::new(0.010, 0.0005).unwrap(), 3000);
        x.extend(sample(rand_distr::Normal::new(0.100, 0.001).unwrap(), 3000));
        let fits = fit_all(&x, "test").unwrap();
        assert_eq!(best(&fits, 0.01).family, Family::Empirical);
    }

    #[test]
    fn snippets_parse_back_into_the_same_distribution() {
        let base = std::path::Path::new(".");
        for fam in [
            Family::Lognormal {
                mu: (0.02f64).ln(),
                sigma: 0.5,
            },
            Family::Gamma {
                shape: 2.5,
                scale: 0.004,
            },
            Family::Weibull {
                shape: 1.7,
                scale: 0.03,
            },
            Family::Exponential { mean: 0.015 },
        ] {
            let text = format!("d = {}", fam.toml("x.csv"));
            let t: toml::Table = toml::from_str(&text).unwrap();
            let spec: crate::workload::DistSpec = t["d"].clone().try_into().unwrap();
            let d = spec.build("d", base).unwrap();
            let want = fam.mean().unwrap();
            assert!(
                ((d.mean() - want) / want).abs() < 1e-3,
                "{text}: {} vs {want}",
                d.mean()
            );
        }
    }

    #[test]
    fn scaling_multiplies_the_mean() {
        for fam in [
            Family::Lognormal {
                mu: -4.0,
                sigma: 0.5,
            },
            Family::Gamma {
                shape: 2.0,
                scale: 0.01,
            },
            Family::Weibull {
                shape: 1.5,
                scale: 0.02,
            },
            Family::Exponential { mean: 0.03 },
        ] {
            let (a, b) = (fam.mean().unwrap(), fam.scaled(0.5).mean().unwrap());
            assert!((b / a - 0.5).abs() < 1e-12, "{fam:?}");
        }
    }

    #[test]
    fn too_few_samples_is_an_error() {
        assert!(matches!(
            fit_all(&[0.1, 0.2, 0.0, 0.3], "x"),
            Err(FitError::TooFew { found: 3, .. })
        ));
    }

    #[test]
    fn cold_start_is_first_latency_less_the_median() {
        let row = |t: f64, l: f64| measured::Row {
            timestamp_s: t,
            latency_s: l,
            status: 200,
            target: String::new(),
            class: String::new(),
        };
        let runs = vec![(
            "a".to_string(),
            vec![
                row(1.0, 0.02),
                row(0.0, 2.52),
                row(2.0, 0.02),
                row(3.0, 0.03),
            ],
        )];
        let s = cold_start_samples(&runs).unwrap();
        assert!((s[0] - 2.5).abs() < 1e-12, "{s:?}");
    }
}
