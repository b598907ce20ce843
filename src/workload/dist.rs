//! Distributions of non-negative durations (service times, cold starts, think
//! times), in two stages: [`DistSpec`] is what a scenario file says,
//! [`Dist`] is the validated form the engine samples from.

use super::duration::DurationValue;
use super::trace::{self, CsvSource};
use super::WorkloadError;
use crate::sim::SimRng;
use rand::Rng;
use rand_distr::{Exp1, StandardNormal};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// The 99th percentile of the standard normal distribution, Φ⁻¹(0.99).
const Z99: f64 = 2.326_347_874_040_841;

/// A distribution as written in a scenario file, e.g.
/// `{ distribution = "lognormal", mean = "200ms", stddev = "100ms" }`.
/// Durations are Go duration strings or numbers of seconds; shapes are plain
/// numbers.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "distribution", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DistSpec {
    /// Always `value`.
    Constant {
        /// The value.
        value: DurationValue,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean.
        mean: DurationValue,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        /// Lower bound.
        min: DurationValue,
        /// Upper bound (at least `min`).
        max: DurationValue,
    },
    /// Normal with `mean` and `stddev`, truncated at zero (negative draws are
    /// redrawn, so the result is the normal conditioned on being non-negative).
    Normal {
        /// Mean of the untruncated normal (not negative).
        mean: DurationValue,
        /// Standard deviation of the untruncated normal.
        stddev: DurationValue,
    },
    /// Lognormal, given either by `mean` and `stddev` of the distribution
    /// itself, or by `median` and `p99`.
    #[serde(rename_all = "kebab-case")]
    Lognormal {
        /// Mean (with `stddev`).
        mean: Option<DurationValue>,
        /// Standard deviation (with `mean`).
        stddev: Option<DurationValue>,
        /// Median (with `p99`).
        median: Option<DurationValue>,
        /// 99th percentile (with `median`).
        p99: Option<DurationValue>,
    },
    /// Gamma, given by two of `shape`, `scale`, `mean`, or by `mean` and
    /// `stddev`.
    Gamma {
        /// Shape k (dimensionless, positive).
        shape: Option<f64>,
        /// Scale θ.
        scale: Option<DurationValue>,
        /// Mean kθ.
        mean: Option<DurationValue>,
        /// Standard deviation √k·θ (with `mean`).
        stddev: Option<DurationValue>,
    },
    /// Weibull with `shape` k and `scale` λ.
    Weibull {
        /// Shape k (dimensionless, positive).
        shape: f64,
        /// Scale λ.
        scale: DurationValue,
    },
    /// Pareto (type I) with `shape` α and `scale` (the minimum value).
    Pareto {
        /// Shape α (dimensionless, above 1 so the mean is finite).
        shape: f64,
        /// Scale, the smallest possible value.
        scale: DurationValue,
    },
    /// Samples from a column of a CSV file (with a header row), drawn with
    /// linear interpolation between sorted samples.
    Empirical {
        /// CSV file, relative to the scenario file's directory.
        file: String,
        /// Header name of the column (default: the first column).
        column: Option<String>,
        /// Unit of the numbers in the column (default `s`).
        unit: Option<TimeUnit>,
    },
}

/// Unit of plain numbers in a file.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TimeUnit {
    /// Seconds.
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds.
    Us,
    /// Nanoseconds.
    Ns,
}

impl TimeUnit {
    /// Seconds per unit.
    pub fn secs(self) -> f64 {
        match self {
            TimeUnit::S => 1.0,
            TimeUnit::Ms => 1e-3,
            TimeUnit::Us => 1e-6,
            TimeUnit::Ns => 1e-9,
        }
    }
}

/// A validated distribution over non-negative seconds.
#[derive(Clone, Debug)]
pub enum Dist {
    /// Always this many seconds.
    Constant(f64),
    /// Exponential with this mean.
    Exponential {
        /// Mean in seconds.
        mean: f64,
    },
    /// Uniform on `[min, min + width]`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Width of the interval.
        width: f64,
    },
    /// Normal truncated at zero.
    Normal {
        /// Mean of the untruncated normal (not negative).
        mu: f64,
        /// Standard deviation of the untruncated normal (positive).
        sigma: f64,
    },
    /// exp(N(mu, sigma²)).
    Lognormal {
        /// Mean of the log.
        mu: f64,
        /// Standard deviation of the log.
        sigma: f64,
    },
    /// Gamma with shape and scale.
    Gamma {
        /// Shape k.
        shape: f64,
        /// Scale θ in seconds.
        scale: f64,
        /// Sampler built from the two above; boxed, as it is several times
        /// the size of every other variant, and a distribution sits in the
        /// line a request reads (`queue_proxy.rs`).
        sampler: Box<rand_distr::Gamma<f64>>,
    },
    /// Weibull with shape and scale.
    Weibull {
        /// Shape k.
        shape: f64,
        /// Scale λ in seconds.
        scale: f64,
    },
    /// Pareto type I.
    Pareto {
        /// Shape α (> 1).
        shape: f64,
        /// Minimum value in seconds.
        scale: f64,
    },
    /// Interpolated empirical distribution.
    Empirical(Arc<Empirical>),
}

/// Sorted samples of an empirical distribution.
#[derive(Debug)]
pub struct Empirical {
    sorted: Vec<f64>,
    mean: f64,
}

impl Empirical {
    /// Builds from samples in seconds; `None` if there are none or any is
    /// negative or not finite.
    pub fn new(mut samples: Vec<f64>) -> Option<Empirical> {
        if samples.is_empty() || samples.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return None;
        }
        samples.sort_by(f64::total_cmp);
        let n = samples.len();
        // The interpolated quantile function is piecewise linear between
        // order statistics, so its integral (the mean) gives the two end
        // samples half weight.
        let mean = if n == 1 {
            samples[0]
        } else {
            let sum: f64 = samples.iter().sum();
            (sum - 0.5 * (samples[0] + samples[n - 1])) / (n - 1) as f64
        };
        Some(Empirical {
            sorted: samples,
            mean,
        })
    }

    /// The samples, sorted ascending.
    pub fn samples(&self) -> &[f64] {
        &self.sorted
    }

    fn quantile(&self, u: f64) -> f64 {
        let s = &self.sorted;
        if s.len() == 1 {
            return s[0];
        }
        let pos = u * (s.len() - 1) as f64;
        let i = (pos as usize).min(s.len() - 2);
        let frac = pos - i as f64;
        s[i] + frac * (s[i + 1] - s[i])
    }
}

impl Dist {
    /// A distribution that always gives `secs`.
    pub fn constant(secs: f64) -> Dist {
        Dist::Constant(secs.max(0.0))
    }

    /// An exponential distribution with mean `mean_secs`.
    pub fn exponential(mean_secs: f64) -> Dist {
        Dist::Exponential {
            mean: mean_secs.max(0.0),
        }
    }

    /// One draw, in seconds (never negative). Does not allocate.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => mean * rng.sample::<f64, _>(Exp1),
            Dist::Uniform { min, width } => min + width * rng.random::<f64>(),
            Dist::Normal { mu, sigma } => loop {
                // mu >= 0, so each draw is accepted with probability >= 1/2.
                let x = mu + sigma * rng.sample::<f64, _>(StandardNormal);
                if x >= 0.0 {
                    break x;
                }
            },
            Dist::Lognormal { mu, sigma } => {
                (mu + sigma * rng.sample::<f64, _>(StandardNormal)).exp()
            }
            Dist::Gamma { sampler, .. } => rng.sample(**sampler),
            Dist::Weibull { shape, scale } => scale * rng.sample::<f64, _>(Exp1).powf(1.0 / shape),
            Dist::Pareto { shape, scale } => {
                // 1 - U lies in (0, 1], so the power is finite.
                let u = 1.0 - rng.random::<f64>();
                scale * u.powf(-1.0 / shape)
            }
            Dist::Empirical(e) => e.quantile(rng.random::<f64>()),
        }
    }

    /// The mean in seconds.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => *mean,
            Dist::Uniform { min, width } => min + width / 2.0,
            Dist::Normal { mu, sigma } => {
                let alpha = -mu / sigma;
                let tail = 1.0 - std_normal_cdf(alpha);
                mu + sigma * std_normal_pdf(alpha) / tail
            }
            Dist::Lognormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Gamma { shape, scale, .. } => shape * scale,
            Dist::Weibull { shape, scale } => {
                scale * statrs::function::gamma::gamma(1.0 + 1.0 / shape)
            }
            Dist::Pareto { shape, scale } => shape * scale / (shape - 1.0),
            Dist::Empirical(e) => e.mean,
        }
    }

    /// The same distribution with every value multiplied by `k` (> 0), e.g.
    /// think times under a time `speedup` of 1/k.
    pub fn scaled(&self, k: f64) -> Dist {
        assert!(k.is_finite() && k > 0.0, "scale factor must be positive");
        match self {
            Dist::Constant(v) => Dist::Constant(v * k),
            Dist::Exponential { mean } => Dist::Exponential { mean: mean * k },
            Dist::Uniform { min, width } => Dist::Uniform {
                min: min * k,
                width: width * k,
            },
            Dist::Normal { mu, sigma } => Dist::Normal {
                mu: mu * k,
                sigma: sigma * k,
            },
            Dist::Lognormal { mu, sigma } => Dist::Lognormal {
                mu: mu + k.ln(),
                sigma: *sigma,
            },
            Dist::Gamma { shape, scale, .. } => {
                gamma(*shape, scale * k).expect("scaled gamma stays valid")
            }
            Dist::Weibull { shape, scale } => Dist::Weibull {
                shape: *shape,
                scale: scale * k,
            },
            Dist::Pareto { shape, scale } => Dist::Pareto {
                shape: *shape,
                scale: scale * k,
            },
            Dist::Empirical(e) => Dist::Empirical(Arc::new(
                Empirical::new(e.sorted.iter().map(|x| x * k).collect())
                    .expect("scaled samples stay valid"),
            )),
        }
    }
}

fn gamma(shape: f64, scale: f64) -> Option<Dist> {
    let sampler = rand_distr::Gamma::new(shape, scale).ok()?;
    Some(Dist::Gamma {
        shape,
        scale,
        sampler: Box::new(sampler),
    })
}

fn std_normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

fn std_normal_cdf(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

/// Reads a required duration field.
fn secs(v: &DurationValue, path: &str, field: &str) -> Result<f64, WorkloadError> {
    v.secs(&format!("{path}.{field}"))
}

fn positive(x: f64, path: &str, field: &str, what: &str) -> Result<f64, WorkloadError> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(WorkloadError::invalid(
            format!("{path}.{field}"),
            format!("{what} must be a positive number, got {x}"),
        ))
    }
}

fn both<'a>(
    a: &'a Option<DurationValue>,
    b: &'a Option<DurationValue>,
) -> Option<(&'a DurationValue, &'a DurationValue)> {
    Some((a.as_ref()?, b.as_ref()?))
}

impl DistSpec {
    /// Validates into a [`Dist`]. `path` is the dotted field path used in
    /// errors (e.g. `revision[0].service-time`); `base_dir` resolves relative
    /// file paths (the scenario file's directory).
    pub fn build(&self, path: &str, base_dir: &Path) -> Result<Dist, WorkloadError> {
        match self {
            DistSpec::Constant { value } => Ok(Dist::Constant(secs(value, path, "value")?)),
            DistSpec::Exponential { mean } => {
                let m = secs(mean, path, "mean")?;
                Ok(Dist::Exponential { mean: m })
            }
            DistSpec::Uniform { min, max } => {
                let lo = secs(min, path, "min")?;
                let hi = secs(max, path, "max")?;
                if hi < lo {
                    return Err(WorkloadError::invalid(
                        format!("{path}.max"),
                        format!("max ({hi} s) is below min ({lo} s)"),
                    ));
                }
                Ok(Dist::Uniform {
                    min: lo,
                    width: hi - lo,
                })
            }
            DistSpec::Normal { mean, stddev } => {
                let mu = secs(mean, path, "mean")?;
                let sigma = secs(stddev, path, "stddev")?;
                if sigma == 0.0 {
                    return Ok(Dist::Constant(mu));
                }
                Ok(Dist::Normal { mu, sigma })
            }
            DistSpec::Lognormal {
                mean,
                stddev,
                median,
                p99,
            } => build_lognormal(path, mean, stddev, median, p99),
            DistSpec::Gamma {
                shape,
                scale,
                mean,
                stddev,
            } => build_gamma(path, *shape, scale, mean, stddev),
            DistSpec::Weibull { shape, scale } => {
                let k = positive(*shape, path, "shape", "shape")?;
                let s = secs(scale, path, "scale")?;
                Ok(Dist::Weibull { shape: k, scale: s })
            }
            DistSpec::Pareto { shape, scale } => {
                let a = positive(*shape, path, "shape", "shape")?;
                if a <= 1.0 {
                    return Err(WorkloadError::invalid(
                        format!("{path}.shape"),
                        format!("shape must be above 1 so that the mean is finite, got {a}"),
                    ));
                }
                let s = secs(scale, path, "scale")?;
                Ok(Dist::Pareto { shape: a, scale: s })
            }
            DistSpec::Empirical { file, column, unit } => {
                let fpath = format!("{path}.file");
                let resolved = base_dir.join(file);
                let samples = read_empirical(
                    &resolved,
                    &fpath,
                    column.as_deref(),
                    unit.unwrap_or(TimeUnit::S).secs(),
                )?;
                let e = Empirical::new(samples).ok_or_else(|| WorkloadError::Format {
                    path: fpath.clone(),
                    file: resolved.clone(),
                    line: 0,
                    column: None,
                    column_name: column.clone(),
                    rule: "the column holds no samples".into(),
                })?;
                Ok(Dist::Empirical(Arc::new(e)))
            }
        }
    }
}

fn build_lognormal(
    path: &str,
    mean: &Option<DurationValue>,
    stddev: &Option<DurationValue>,
    median: &Option<DurationValue>,
    p99: &Option<DurationValue>,
) -> Result<Dist, WorkloadError> {
    match (both(mean, stddev), both(median, p99)) {
        (Some((m, s)), None) if median.is_none() && p99.is_none() => {
            let m = positive(secs(m, path, "mean")?, path, "mean", "mean")?;
            let s = secs(s, path, "stddev")?;
            let sigma2 = (1.0 + (s / m).powi(2)).ln();
            Ok(Dist::Lognormal {
                mu: m.ln() - sigma2 / 2.0,
                sigma: sigma2.sqrt(),
            })
        }
        (None, Some((med, p))) if mean.is_none() && stddev.is_none() => {
            let med = positive(secs(med, path, "median")?, path, "median", "median")?;
            let p = secs(p, path, "p99")?;
            if p < med {
                return Err(WorkloadError::invalid(
                    format!("{path}.p99"),
                    format!("p99 ({p} s) is below the median ({med} s)"),
                ));
            }
            Ok(Dist::Lognormal {
                mu: med.ln(),
                sigma: (p / med).ln() / Z99,
            })
        }
        _ => Err(WorkloadError::invalid(
            path,
            "a lognormal needs exactly one of the pairs (mean, stddev) or (median, p99)",
        )),
    }
}

fn build_gamma(
    path: &str,
    shape: Option<f64>,
    scale: &Option<DurationValue>,
    mean: &Option<DurationValue>,
    stddev: &Option<DurationValue>,
) -> Result<Dist, WorkloadError> {
    let k = shape
        .map(|k| positive(k, path, "shape", "shape"))
        .transpose()?;
    let theta = scale
        .as_ref()
        .map(|v| secs(v, path, "scale").and_then(|x| positive(x, path, "scale", "scale")))
        .transpose()?;
    let m = mean
        .as_ref()
        .map(|v| secs(v, path, "mean").and_then(|x| positive(x, path, "mean", "mean")))
        .transpose()?;
    let sd = stddev
        .as_ref()
        .map(|v| secs(v, path, "stddev").and_then(|x| positive(x, path, "stddev", "stddev")))
        .transpose()?;
    let (k, theta) = match (k, theta, m, sd) {
        (Some(k), Some(t), None, None) => (k, t),
        (Some(k), None, Some(m), None) => (k, m / k),
        (None, None, Some(m), Some(s)) => ((m / s).powi(2), s * s / m),
        _ => {
            return Err(WorkloadError::invalid(
                path,
                "a gamma needs exactly one of the pairs (shape, scale), (shape, mean) or (mean, stddev)",
            ))
        }
    };
    gamma(k, theta).ok_or_else(|| {
        WorkloadError::invalid(path, format!("invalid gamma shape {k} / scale {theta}"))
    })
}

fn read_empirical(
    file: &Path,
    path: &str,
    column: Option<&str>,
    unit: f64,
) -> Result<Vec<f64>, WorkloadError> {
    let mut src = CsvSource::open(file, path)?;
    let col = match column {
        None => 0,
        Some(name) => src.column_index(name).ok_or_else(|| {
            src.error(
                src.header_line,
                None,
                format!(
                    "no column named {name:?}; the header has {}",
                    src.header_list()
                ),
            )
        })?,
    };
    let col_name = src.header(col).to_string();
    let mut out = Vec::new();
    while let Some(line) = src.next_record()? {
        let cell = src.get(col);
        if cell.is_empty() {
            continue;
        }
        let x = trace::parse_nonneg_f64(cell)
            .map_err(|rule| src.error(line, Some((col, col_name.clone())), rule))?;
        out.push(x * unit);
    }
    Ok(out)
}

/// How a revision's service time grows with its in-flight requests, as
/// written in a scenario file. Off unless configured.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "model", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SlowdownSpec {
    /// Requests share `cores` CPUs: with n requests in flight (including the
    /// new one) each runs `max(1, n / cores)` times slower.
    #[serde(rename_all = "kebab-case")]
    CpuSharing {
        /// CPUs available to the container (positive).
        cores: f64,
    },
    /// Each in-flight request beyond `threshold` adds `per-request` to the
    /// slowdown factor: `1 + per_request * max(0, n - threshold)`.
    #[serde(rename_all = "kebab-case")]
    Linear {
        /// Added factor per extra request (not negative).
        per_request: f64,
        /// In-flight count up to which there is no slowdown (default 1).
        threshold: Option<u32>,
    },
}

/// Validated slowdown model: multiplies a drawn service time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Slowdown {
    /// No slowdown (the default).
    None,
    /// Processor sharing over this many cores.
    CpuSharing {
        /// CPUs.
        cores: f64,
    },
    /// Linear growth beyond a threshold.
    Linear {
        /// Added factor per extra request.
        per_request: f64,
        /// In-flight count without slowdown.
        threshold: u32,
    },
}

impl SlowdownSpec {
    /// Validates; `path` names the field in errors.
    pub fn build(&self, path: &str) -> Result<Slowdown, WorkloadError> {
        match self {
            SlowdownSpec::CpuSharing { cores } => Ok(Slowdown::CpuSharing {
                cores: positive(*cores, path, "cores", "cores")?,
            }),
            SlowdownSpec::Linear {
                per_request,
                threshold,
            } => {
                if !per_request.is_finite() || *per_request < 0.0 {
                    return Err(WorkloadError::invalid(
                        format!("{path}.per-request"),
                        format!("per-request must be a non-negative number, got {per_request}"),
                    ));
                }
                Ok(Slowdown::Linear {
                    per_request: *per_request,
                    threshold: threshold.unwrap_or(1),
                })
            }
        }
    }
}

impl Slowdown {
    /// Factor (≥ 1) for a request that starts with `in_flight` requests in the
    /// revision's container, itself included.
    #[inline]
    pub fn factor(&self, in_flight: u32) -> f64 {
        match *self {
            Slowdown::None => 1.0,
            Slowdown::CpuSharing { cores } => (in_flight as f64 / cores).max(1.0),
            Slowdown::Linear {
                per_request,
                threshold,
            } => 1.0 + per_request * in_flight.saturating_sub(threshold) as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(toml_src: &str) -> Result<Dist, WorkloadError> {
        #[derive(Deserialize)]
        struct W {
            d: DistSpec,
        }
        let w: W = toml::from_str(toml_src).expect("parses");
        w.d.build("svc.service-time", Path::new("."))
    }

    #[test]
    fn parameterisations_give_their_means() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.max(1.0);
        assert!(close(
            build(r#"d = { distribution = "constant", value = "1s" }"#)
                .unwrap()
                .mean(),
            1.0
        ));
        assert!(close(
            build(r#"d = { distribution = "exponential", mean = "50ms" }"#)
                .unwrap()
                .mean(),
            0.05
        ));
        assert!(close(
            build(r#"d = { distribution = "lognormal", mean = "200ms", stddev = "100ms" }"#)
                .unwrap()
                .mean(),
            0.2
        ));
        assert!(close(
            build(r#"d = { distribution = "gamma", mean = 2, stddev = 1 }"#)
                .unwrap()
                .mean(),
            2.0
        ));
        assert!(close(
            build(r#"d = { distribution = "gamma", shape = 2, scale = 3 }"#)
                .unwrap()
                .mean(),
            6.0
        ));
        assert!(close(
            build(r#"d = { distribution = "pareto", shape = 3, scale = 2 }"#)
                .unwrap()
                .mean(),
            3.0
        ));
        assert!(close(
            build(r#"d = { distribution = "weibull", shape = 1, scale = 2 }"#)
                .unwrap()
                .mean(),
            2.0
        ));
        assert!(close(
            build(r#"d = { distribution = "uniform", min = 1, max = "3s" }"#)
                .unwrap()
                .mean(),
            2.0
        ));
    }

    #[test]
    fn bad_parameters_name_the_field() {
        let e = build(r#"d = { distribution = "exponential", mean = -1 }"#).unwrap_err();
        assert_eq!(e.path(), "svc.service-time.mean");
        assert!(e.to_string().contains("negative"), "{e}");
        let e = build(r#"d = { distribution = "lognormal", mean = 1, p99 = 2 }"#).unwrap_err();
        assert!(e.to_string().contains("exactly one of the pairs"), "{e}");
        let e = build(r#"d = { distribution = "pareto", shape = 1, scale = 1 }"#).unwrap_err();
        assert_eq!(e.path(), "svc.service-time.shape");
        let e = build(r#"d = { distribution = "uniform", min = 2, max = 1 }"#).unwrap_err();
        assert_eq!(e.path(), "svc.service-time.max");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct W {
            d: DistSpec,
        }
        let r: Result<W, _> =
            toml::from_str(r#"d = { distribution = "exponential", mean = 1, median = 2 }"#);
        assert!(r.is_err());
        let r: Result<W, _> = toml::from_str(r#"d = { distribution = "cauchy", mean = 1 }"#);
        assert!(r.is_err());
    }

    #[test]
    fn empirical_interpolates_between_sorted_samples() {
        let e = Empirical::new(vec![3.0, 1.0, 2.0]).unwrap();
        assert_eq!(e.quantile(0.0), 1.0);
        assert_eq!(e.quantile(0.25), 1.5);
        assert_eq!(e.quantile(0.75), 2.5);
        assert!(e.quantile(0.999_999) <= 3.0);
        assert_eq!(e.mean, 2.0);
        assert!(Empirical::new(vec![]).is_none());
        assert!(Empirical::new(vec![-1.0]).is_none());
    }

    #[test]
    fn slowdown_factors() {
        let s = SlowdownSpec::CpuSharing { cores: 2.0 }.build("x").unwrap();
        assert_eq!(s.factor(1), 1.0);
        assert_eq!(s.factor(4), 2.0);
        let s = SlowdownSpec::Linear {
            per_request: 0.5,
            threshold: None,
        }
        .build("x")
        .unwrap();
        assert_eq!(s.factor(1), 1.0);
        assert_eq!(s.factor(3), 2.0);
        assert!(SlowdownSpec::CpuSharing { cores: 0.0 }.build("x").is_err());
    }
}
