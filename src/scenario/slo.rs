//! The `[slo]` section: service-level objectives that `knsim check` judges,
//! typed and validated with the rest of the scenario so that `knsim validate`
//! reports a bad objective exactly as `check` would.
//!
//! ```toml
//! [slo]
//! p99-latency = "800ms"              # latency_p99_ms <= 800
//! max-error-fraction = "0.5%"        # (503 + 504) / arrived
//! [slo.max]                          # any metric of runs.csv, upper bound
//! requests_status_504 = 0
//! [slo.min]                          # any metric of runs.csv, lower bound
//! requests_completed = 1000
//! ```

use super::error::{Origin, Problem};
use crate::metrics::{metric_index, metric_names, METRICS};
use crate::sim::parse_go_duration;

/// Which side of the limit passes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// Pass when the measured mean is at most this.
    AtMost(f64),
    /// Pass when the measured mean is at least this.
    AtLeast(f64),
}

/// How an objective's numbers are best shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueFormat {
    /// Milliseconds.
    Millis,
    /// A fraction, shown as a percentage.
    Fraction,
    /// A plain number with the metric's unit.
    Plain,
}

/// One service-level objective.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// The key as written in `[slo]`, e.g. `p99-latency` or `max.requests_status_503`.
    pub key: String,
    /// Metric index in [`METRICS`].
    pub metric: usize,
    /// The limit.
    pub bound: Bound,
    /// How to show values.
    pub format: ValueFormat,
}

/// The objectives of a scenario.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Slo {
    /// In a fixed order: the named objectives, then `max.*`, then `min.*`.
    pub objectives: Vec<Objective>,
}

enum Kind {
    Latency,
    Fraction,
    Number,
}

/// The named objectives: key, metric, how the value is written.
const NAMED: &[(&str, &str, Kind)] = &[
    ("p50-latency", "latency_p50_ms", Kind::Latency),
    ("p90-latency", "latency_p90_ms", Kind::Latency),
    ("p99-latency", "latency_p99_ms", Kind::Latency),
    ("p999-latency", "latency_p999_ms", Kind::Latency),
    ("max-latency", "latency_max_ms", Kind::Latency),
    ("mean-latency", "latency_mean_ms", Kind::Latency),
    ("max-error-fraction", "error_fraction", Kind::Fraction),
    (
        "max-cold-start-wait-fraction",
        "cold_start_wait_fraction",
        Kind::Fraction,
    ),
    ("max-cold-starts", "cold_starts", Kind::Number),
    ("max-pod-seconds", "pod_seconds", Kind::Number),
    ("max-ready-pods", "max_ready_pods", Kind::Number),
    ("max-node-hours", "cluster_node_hours", Kind::Number),
    ("max-cost", "cluster_cost", Kind::Number),
];

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

fn parse_kind(kind: &Kind, v: &toml::Value) -> Result<f64, String> {
    match kind {
        Kind::Latency => match v {
            toml::Value::String(s) => parse_go_duration(s).map(|d| d.as_millis_f64()),
            _ => Err("must be a duration such as \"500ms\"".into()),
        },
        Kind::Fraction => {
            let f = match v {
                toml::Value::String(s) => parse_percent(s),
                _ => number(v),
            }
            .ok_or("must be a fraction such as 0.01 or a percentage such as \"1%\"")?;
            if (0.0..=1.0).contains(&f) {
                Ok(f)
            } else {
                Err("must be between 0 and 1 (0 % and 100 %)".into())
            }
        }
        Kind::Number => match number(v) {
            Some(f) if f >= 0.0 => Ok(f),
            _ => Err("must be a number of at least 0".into()),
        },
    }
}

/// `"5%"` → 0.05.
pub(crate) fn parse_percent(s: &str) -> Option<f64> {
    let p: f64 = s.trim().strip_suffix('%')?.trim().parse().ok()?;
    p.is_finite().then_some(p / 100.0)
}

impl Slo {
    /// Interprets a raw `[slo]` table. Problems name the field as
    /// `slo.<key>`; `locate` turns a field into its origin.
    pub fn from_table(
        table: &toml::Table,
        locate: &dyn Fn(&str) -> Origin,
    ) -> Result<Slo, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut push = |field: String, rule: String| {
            problems.push(Problem {
                origin: locate(&field),
                field,
                rule,
            })
        };
        let mut objectives = Vec::new();
        for (key, metric, kind) in NAMED {
            let Some(v) = table.get(*key) else { continue };
            match parse_kind(kind, v) {
                Ok(limit) => objectives.push(Objective {
                    key: key.to_string(),
                    metric: metric_index(metric).expect("named objectives use real metrics"),
                    bound: Bound::AtMost(limit),
                    format: match kind {
                        Kind::Latency => ValueFormat::Millis,
                        Kind::Fraction => ValueFormat::Fraction,
                        Kind::Number => ValueFormat::Plain,
                    },
                }),
                Err(rule) => push(format!("slo.{key}"), rule),
            }
        }
        for (side, upper) in [("max", true), ("min", false)] {
            let Some(v) = table.get(side) else { continue };
            let Some(t) = v.as_table() else {
                push(
                    format!("slo.{side}"),
                    format!("must be a table of metric = limit, e.g. [slo.{side}]"),
                );
                continue;
            };
            for (name, v) in t {
                let field = format!("slo.{side}.{name}");
                let Some(metric) = metric_index(name) else {
                    push(field, format!("not a metric; one of {}", metric_names()));
                    continue;
                };
                let Some(limit) = number(v) else {
                    push(field, "must be a number".into());
                    continue;
                };
                let format = if METRICS[metric].name.ends_with("_fraction") {
                    ValueFormat::Fraction
                } else {
                    ValueFormat::Plain
                };
                objectives.push(Objective {
                    key: format!("{side}.{name}"),
                    metric,
                    bound: if upper {
                        Bound::AtMost(limit)
                    } else {
                        Bound::AtLeast(limit)
                    },
                    format,
                });
            }
        }
        for key in table.keys() {
            if key != "max" && key != "min" && !NAMED.iter().any(|(k, _, _)| k == key) {
                push(
                    format!("slo.{key}"),
                    format!(
                        "unknown objective; use one of {}, or [slo.max] / [slo.min] with a metric name",
                        NAMED.iter().map(|(k, _, _)| *k).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
        if problems.is_empty() {
            Ok(Slo { objectives })
        } else {
            Err(problems)
        }
    }
}
