//! Gates for CI: service-level objectives from a scenario's `[slo]` section,
//! and comparison against a committed baseline.
//!
//! ```toml
//! [slo]
//! p99-latency = "800ms"              # latency_p99_ms <= 800
//! max-error-fraction = "0.5%"        # (503 + 504) / arrived
//! max-cold-start-wait-fraction = 0.05
//! max-pod-seconds = 900
//! [slo.max]                          # any metric of runs.csv, upper bound
//! requests_status_504 = 0
//! [slo.min]                          # any metric of runs.csv, lower bound
//! requests_completed = 1000
//! ```
//!
//! Every objective is judged on the mean over the replications.

use crate::model::Summary;
use crate::scenario::slo::parse_percent;
pub use crate::scenario::slo::{Bound, Objective, Slo, ValueFormat};
use crate::sweep::{
    metric_index, metric_names, metric_values, ConfigSummary, Direction, MeanCi, SweepError,
    METRICS,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Why a gate could not be evaluated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// A baseline file could not be read.
    #[error("cannot read baseline {}: {source}", path.display())]
    BaselineRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A baseline file is not a knsim baseline.
    #[error("baseline {}: {rule}", path.display())]
    BaselineParse {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        rule: String,
    },
    /// A baseline file could not be written.
    #[error("cannot write baseline {}: {source}", path.display())]
    BaselineWrite {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A metric name is not one of [`METRICS`].
    #[error("{name}: not a metric; one of {}", metric_names())]
    UnknownMetric {
        /// The name as given.
        name: String,
    },
    /// A tolerance is malformed.
    #[error("--tolerance {spec}: {rule}")]
    BadTolerance {
        /// As given.
        spec: String,
        /// What is wrong.
        rule: String,
    },
    /// `knsim check` was given nothing to judge.
    #[error("{}: nothing to check: the scenario has no [slo] section and neither --baseline nor --write-baseline was given", path.display())]
    NothingToCheck {
        /// The scenario file.
        path: PathBuf,
    },
    /// Running the scenario failed.
    #[error(transparent)]
    Sweep(#[from] SweepError),
}

impl GateError {
    /// True when the error is in the user's input rather than a failure to
    /// read or write results.
    pub fn is_bad_input(&self) -> bool {
        match self {
            GateError::BaselineWrite { .. } => false,
            GateError::Sweep(e) => e.is_bad_input(),
            _ => true,
        }
    }
}

impl Slo {
    /// Judges each objective on the mean of `summary`.
    pub fn evaluate(&self, summary: &ConfigSummary) -> Vec<Verdict> {
        self.objectives
            .iter()
            .map(|o| {
                let measured = summary.metric(o.metric);
                let pass = match o.bound {
                    Bound::AtMost(l) => measured.mean <= l,
                    Bound::AtLeast(l) => measured.mean >= l,
                };
                Verdict {
                    objective: o.clone(),
                    measured,
                    pass,
                }
            })
            .collect()
    }
}

/// An objective and how the run did against it.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The objective.
    pub objective: Objective,
    /// Mean (and 95 % interval) over the replications.
    pub measured: MeanCi,
    /// Whether the mean is within the limit.
    pub pass: bool,
}

/// A relative tolerance: `5%` or `0.05`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance(pub f64);

impl Default for Tolerance {
    /// 5 %.
    fn default() -> Self {
        Tolerance(0.05)
    }
}

impl FromStr for Tolerance {
    type Err = GateError;
    fn from_str(s: &str) -> Result<Self, GateError> {
        let bad = |rule: &str| GateError::BadTolerance {
            spec: s.to_string(),
            rule: rule.to_string(),
        };
        let f = if s.trim().ends_with('%') {
            parse_percent(s).ok_or_else(|| bad("expected a percentage such as 5%"))?
        } else {
            let f: f64 = s
                .trim()
                .parse()
                .map_err(|_| bad("expected a percentage such as 5% or a fraction such as 0.05"))?;
            if f >= 1.0 {
                return Err(bad(
                    "a bare number is a fraction (0.05 = 5%); write 5% for five percent",
                ));
            }
            f
        };
        if !(f >= 0.0 && f.is_finite()) {
            return Err(bad("must be 0 or more"));
        }
        Ok(Tolerance(f))
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rounded so that 7% does not print as 7.000000000000001%.
        write!(f, "{}%", (self.0 * 100.0 * 1e9).round() / 1e9)
    }
}

/// A recorded result to compare later runs with: the mean of every metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// knsim version that recorded it.
    pub knsim_version: String,
    /// Scenario name.
    pub scenario: String,
    /// Seed of replication 0.
    pub seed: u64,
    /// Replications averaged.
    pub reps: usize,
    /// Metric name → mean over the replications.
    pub metrics: BTreeMap<String, f64>,
}

impl Baseline {
    /// The baseline of a summarised check.
    pub fn from_summary(scenario: &str, seed: u64, reps: usize, s: &ConfigSummary) -> Baseline {
        Baseline {
            knsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: scenario.to_string(),
            seed,
            reps,
            metrics: METRICS
                .iter()
                .zip(&s.metrics)
                .map(|(d, m)| (d.name.to_string(), m.mean))
                .collect(),
        }
    }

    /// The baseline of one `knsim run`: its summary's metrics, one replication.
    pub fn from_run_summary(s: &Summary) -> Baseline {
        Baseline {
            knsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: s.scenario.clone(),
            seed: s.seed,
            reps: 1,
            metrics: METRICS
                .iter()
                .zip(metric_values(s))
                .map(|(d, v)| (d.name.to_string(), v))
                .collect(),
        }
    }

    /// Reads a baseline file: one written by [`Baseline::write`], or the
    /// `summary.json` of a `knsim run`.
    pub fn read(path: &Path) -> Result<Baseline, GateError> {
        let text = std::fs::read_to_string(path).map_err(|source| GateError::BaselineRead {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str::<Baseline>(&text).or_else(|e| {
            serde_json::from_str::<Summary>(&text)
                .map(|s| Baseline::from_run_summary(&s))
                .map_err(|_| GateError::BaselineParse {
                    path: path.to_path_buf(),
                    rule: format!(
                        "neither a baseline from --write-baseline nor a run's summary.json ({e})"
                    ),
                })
        })
    }

    /// Writes it as pretty JSON, atomically.
    pub fn write(&self, path: &Path) -> Result<(), GateError> {
        let mut s = serde_json::to_string_pretty(self).expect("baseline serialises");
        s.push('\n');
        crate::output::write_atomic(path, s.as_bytes()).map_err(|source| GateError::BaselineWrite {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Compares `current` with this baseline on `metrics` (indexes into
    /// [`METRICS`]). A metric where lower is better regresses when it rises
    /// above `baseline + tolerance·|baseline|`; any other metric when it moves
    /// by more than that either way. `path` is for messages.
    pub fn compare(
        &self,
        path: &Path,
        current: &ConfigSummary,
        metrics: &[usize],
        tolerance: Tolerance,
    ) -> Result<Vec<Comparison>, GateError> {
        metrics
            .iter()
            .map(|&m| {
                let def = &METRICS[m];
                let base = *self
                    .metrics
                    .get(def.name)
                    .ok_or_else(|| GateError::BaselineParse {
                        path: path.to_path_buf(),
                        rule: format!("has no metric {}", def.name),
                    })?;
                let now = current.metric(m).mean;
                let slack = tolerance.0 * base.abs();
                let pass = match def.direction {
                    Direction::Lower => now <= base + slack,
                    Direction::Neutral => (now - base).abs() <= slack,
                };
                Ok(Comparison {
                    metric: m,
                    baseline: base,
                    current: now,
                    two_sided: def.direction == Direction::Neutral,
                    pass,
                })
            })
            .collect()
    }
}

/// The metrics compared with a baseline when none are named: the
/// lower-is-better ones of [`METRICS`] marked `gate`.
pub fn default_gate_metrics() -> Vec<usize> {
    (0..METRICS.len()).filter(|&i| METRICS[i].gate).collect()
}

/// Metric names to indexes.
pub fn metric_indexes(names: &[String]) -> Result<Vec<usize>, GateError> {
    names
        .iter()
        .map(|n| metric_index(n).ok_or_else(|| GateError::UnknownMetric { name: n.clone() }))
        .collect()
}

/// One metric against its baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Metric index.
    pub metric: usize,
    /// Baseline mean.
    pub baseline: f64,
    /// Current mean.
    pub current: f64,
    /// Whether a fall beyond the tolerance also fails.
    pub two_sided: bool,
    /// Within tolerance.
    pub pass: bool,
}

impl Comparison {
    /// Relative change, `None` when the baseline is 0.
    pub fn change(&self) -> Option<f64> {
        (self.baseline != 0.0).then(|| (self.current - self.baseline) / self.baseline.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Origin, Problem};
    use crate::sweep::{mean_ci, MeanCi};

    fn table(s: &str) -> toml::Table {
        toml::from_str(s).unwrap()
    }

    fn parse(s: &str) -> Result<Slo, Vec<Problem>> {
        Slo::from_table(&table(s), &|_| Origin::Unknown)
    }

    fn summary_with(values: &[(&str, f64)]) -> ConfigSummary {
        let mut metrics = vec![
            MeanCi {
                mean: 0.0,
                half_width: None
            };
            METRICS.len()
        ];
        for (n, v) in values {
            metrics[metric_index(n).unwrap()] = mean_ci(&[*v]);
        }
        ConfigSummary {
            config: 0,
            values: vec![],
            runs: 1,
            metrics,
            pareto: true,
        }
    }

    #[test]
    fn named_and_generic_objectives_parse() {
        let slo = parse(
            r#"
            p99-latency = "1.5s"
            max-error-fraction = "0.5%"
            max-cold-start-wait-fraction = 0.05
            max-pod-seconds = 900
            [max]
            requests_status_504 = 0
            [min]
            requests_completed = 1000
            "#,
        )
        .unwrap();
        let got: Vec<(&str, Bound)> = slo
            .objectives
            .iter()
            .map(|o| (METRICS[o.metric].name, o.bound))
            .collect();
        assert_eq!(
            got,
            [
                ("latency_p99_ms", Bound::AtMost(1500.0)),
                ("error_fraction", Bound::AtMost(0.005)),
                ("cold_start_wait_fraction", Bound::AtMost(0.05)),
                ("pod_seconds", Bound::AtMost(900.0)),
                ("requests_status_504", Bound::AtMost(0.0)),
                ("requests_completed", Bound::AtLeast(1000.0)),
            ]
        );
    }

    #[test]
    fn every_bad_entry_is_reported() {
        let errs = parse(
            r#"
            p99-latency = 500
            max-error-fraction = "150%"
            p42-latency = "1s"
            max-pod-seconds = -1
            [max]
            nonsense = 1
            "#,
        )
        .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "slo.p99-latency",
                "slo.max-error-fraction",
                "slo.max-pod-seconds",
                "slo.max.nonsense",
                "slo.p42-latency"
            ]
        );
    }

    #[test]
    fn errors_point_at_the_line() {
        let text = "duration = \"1m\"\n[slo]\np99-latency = 5\n";
        assert_eq!(
            crate::scenario::locate_field(text, &[], "slo.p99-latency"),
            Origin::Position { line: 3, column: 1 }
        );
        let o: crate::scenario::Override = "slo.p99-latency=5".parse().unwrap();
        assert!(matches!(
            crate::scenario::locate_field(text, &[o], "slo.p99-latency"),
            Origin::Override(_)
        ));
    }

    #[test]
    fn verdicts_compare_the_mean_with_the_limit() {
        let slo = parse("p99-latency = \"100ms\"\n[min]\nrequests_completed = 10").unwrap();
        let at_limit = summary_with(&[("latency_p99_ms", 100.0), ("requests_completed", 10.0)]);
        assert!(slo.evaluate(&at_limit).iter().all(|v| v.pass));
        let worse = summary_with(&[("latency_p99_ms", 100.5), ("requests_completed", 9.0)]);
        assert!(slo.evaluate(&worse).iter().all(|v| !v.pass));
    }

    #[test]
    fn tolerances_parse() {
        assert_eq!("5%".parse::<Tolerance>().unwrap(), Tolerance(0.05));
        assert_eq!("0.1".parse::<Tolerance>().unwrap(), Tolerance(0.1));
        assert_eq!("0%".parse::<Tolerance>().unwrap(), Tolerance(0.0));
        assert_eq!("7%".parse::<Tolerance>().unwrap().to_string(), "7%");
        assert_eq!("0.125".parse::<Tolerance>().unwrap().to_string(), "12.5%");
        for bad in ["5", "x%", "-1%", "abc"] {
            assert!(bad.parse::<Tolerance>().is_err(), "{bad}");
        }
    }

    #[test]
    fn baseline_comparison_applies_the_tolerance() {
        let base = summary_with(&[("latency_p99_ms", 200.0), ("requests_arrived", 1000.0)]);
        let b = Baseline::from_summary("s", 1, 1, &base);
        let ms = metric_indexes(&["latency_p99_ms".into(), "requests_arrived".into()]).unwrap();
        let p = Path::new("b.json");
        let check = |p99: f64, arrived: f64| -> Vec<bool> {
            let now = summary_with(&[("latency_p99_ms", p99), ("requests_arrived", arrived)]);
            b.compare(p, &now, &ms, Tolerance(0.05))
                .unwrap()
                .iter()
                .map(|c| c.pass)
                .collect()
        };
        assert_eq!(check(210.0, 1000.0), [true, true]);
        assert_eq!(check(210.1, 1000.0), [false, true]);
        // Lower-is-better metrics may improve freely; neutral ones may not move.
        assert_eq!(check(10.0, 900.0), [true, false]);
        assert_eq!(check(200.0, 1040.0), [true, true]);
        let mut partial = b.clone();
        partial.metrics.remove("latency_p99_ms");
        assert!(partial.compare(p, &base, &ms, Tolerance(0.05)).is_err());
    }
}
