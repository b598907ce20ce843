//! Predicted against measured: a knsim prediction (one run, or several
//! replications of different seeds) side by side with what knload measured
//! on the real service, one verdict per metric.
//!
//! ```text
//!  PREDICTED_DIR/summary.json          ┐
//!  PREDICTED_DIR/*/summary.json (reps) ┼─▶ Prediction ─┐
//!  (+ timeseries.csv)                  ┘               ├─▶ compare() ─▶ Vec<Row> (verdicts) ─▶ text, JSON, charts
//!  MEASURED.csv | MEASURED.json ──────────▶ Measurement┘
//! ```
//!
//! A predicted value is an interval over replications: the 95% Student-t
//! interval of the mean with two or more, the single value with one. A
//! measured value agrees when it lies inside that interval widened by the
//! tolerance (relative, with an absolute floor for latencies).

pub mod chart;
mod load;

pub use load::{load_measurement, load_prediction, Measurement, Prediction};

use crate::fit::ks;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};
use thiserror::Error;

/// What `knsim compare` could not do.
#[derive(Debug, Error)]
pub enum CompareError {
    /// A file or flag is unusable (exit 2).
    #[error("{path}: {detail}")]
    BadInput {
        /// File or flag.
        path: String,
        /// The rule broken.
        detail: String,
    },
    /// Measured CSV problems.
    #[error(transparent)]
    Measured(#[from] crate::fit::FitError),
    /// Writing results failed (exit 1).
    #[error("{path}: {detail}")]
    Write {
        /// File.
        path: String,
        /// What went wrong.
        detail: String,
    },
}

impl CompareError {
    /// True for problems with the input (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, CompareError::Write { .. })
    }
}

/// How close is close enough.
#[derive(Clone, Debug, Serialize)]
pub struct Tolerances {
    /// Relative widening of each predicted interval (0.25 = 25%).
    pub relative: f64,
    /// Absolute widening of latency intervals, milliseconds (a loopback
    /// measurement has a network cost the model leaves out).
    pub latency_ms: f64,
    /// Absolute widening of error rates, percentage points.
    pub error_points: f64,
    /// Largest acceptable two-sample KS statistic.
    pub ks_d: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            relative: 0.25,
            latency_ms: 2.0,
            error_points: 1.0,
            ks_d: 0.15,
        }
    }
}

/// The verdict on one metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Measured value inside the widened interval.
    Agree,
    /// Outside it.
    Disagree,
    /// One side has no value.
    NotCompared,
}

/// One line of the comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Metric name.
    pub metric: String,
    /// Mean over replications.
    pub predicted: Option<f64>,
    /// Interval over replications (equal ends with one replication).
    pub predicted_low: Option<f64>,
    /// Upper end.
    pub predicted_high: Option<f64>,
    /// What was measured.
    pub measured: Option<f64>,
    /// Accepted range after widening.
    pub accept_low: Option<f64>,
    /// Upper end.
    pub accept_high: Option<f64>,
    /// Outcome.
    pub verdict: Verdict,
    /// Extra detail (KS p-value, sample sizes).
    pub note: String,
}

/// Everything compare found.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Replications behind the prediction.
    pub replications: usize,
    /// Measured requests.
    pub measured_requests: u64,
    /// Tolerances used.
    pub tolerances: Tolerances,
    /// One row per metric.
    pub rows: Vec<Row>,
}

impl Comparison {
    /// True when no metric disagrees.
    pub fn agrees(&self) -> bool {
        self.rows.iter().all(|r| r.verdict != Verdict::Disagree)
    }

    /// A fixed-width table.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let f = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.3}"));
        let mut out = format!(
            "prediction: {} replication(s); measurement: {} requests\n{:<26} {:>11} {:>25} {:>11} {:>25}  verdict\n",
            self.replications,
            self.measured_requests,
            "metric",
            "predicted",
            "interval",
            "measured",
            "accepted"
        );
        for r in &self.rows {
            let iv = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => format!("[{a:.3}, {b:.3}]"),
                _ => "-".into(),
            };
            let v = match r.verdict {
                Verdict::Agree => "ok",
                Verdict::Disagree => "DIFFERS",
                Verdict::NotCompared => "n/a",
            };
            let _ = writeln!(
                out,
                "{:<26} {:>11} {:>25} {:>11} {:>25}  {v}{}",
                r.metric,
                f(r.predicted),
                iv(r.predicted_low, r.predicted_high),
                f(r.measured),
                iv(r.accept_low, r.accept_high),
                if r.note.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", r.note)
                }
            );
        }
        let _ = writeln!(
            out,
            "verdict: {}",
            if self.agrees() {
                "prediction and measurement agree"
            } else {
                "prediction and measurement DIFFER"
            }
        );
        out
    }
}

/// Mean and 95% interval of the mean of `xs` (the value itself for one).
pub fn interval(xs: &[f64]) -> Option<(f64, f64, f64)> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Some((mean, mean, mean));
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .expect("at least one degree of freedom")
        .inverse_cdf(0.975);
    let half = t * (var / n as f64).sqrt();
    Some((mean, mean - half, mean + half))
}

/// A row judging `measured` against replicated predictions `pred`, widened
/// by `rel` (relative) and `abs` (absolute).
fn judge(metric: &str, pred: &[f64], measured: Option<f64>, rel: f64, abs: f64) -> Row {
    let iv = interval(pred);
    let (accept_low, accept_high) = match iv {
        Some((_, lo, hi)) => (
            Some((lo - lo.abs() * rel - abs).max(0.0)),
            Some(hi + hi.abs() * rel + abs),
        ),
        None => (None, None),
    };
    let verdict = match (accept_low, accept_high, measured) {
        (Some(lo), Some(hi), Some(m)) if m >= lo && m <= hi => Verdict::Agree,
        (Some(_), Some(_), Some(_)) => Verdict::Disagree,
        _ => Verdict::NotCompared,
    };
    Row {
        metric: metric.into(),
        predicted: iv.map(|v| v.0),
        predicted_low: iv.map(|v| v.1),
        predicted_high: iv.map(|v| v.2),
        measured,
        accept_low,
        accept_high,
        verdict,
        note: String::new(),
    }
}

/// Compares a prediction with a measurement.
pub fn compare(p: &Prediction, m: &Measurement, tol: &Tolerances) -> Comparison {
    let mut rows = Vec::new();
    let reps = &p.summaries;
    let lat = |f: fn(&crate::model::LatencySummary) -> f64| -> Vec<f64> {
        reps.iter()
            .filter(|s| s.requests.completed > 0)
            .map(|s| f(&s.latency))
            .collect()
    };
    let pairs: [(&str, Vec<f64>, Option<f64>); 4] = [
        ("latency p50 ms", lat(|l| l.p50_ms), m.p50_ms),
        ("latency p90 ms", lat(|l| l.p90_ms), m.p90_ms),
        ("latency p99 ms", lat(|l| l.p99_ms), m.p99_ms),
        ("latency mean ms", lat(|l| l.mean_ms), m.mean_ms),
    ];
    for (name, pred, meas) in pairs {
        rows.push(judge(name, &pred, meas, tol.relative, tol.latency_ms));
    }
    // Two-sample KS: the measured samples against the prediction's pooled
    // CDF, which the summaries give at fixed quantiles.
    let points = p.pooled_quantiles();
    let mut ks_row = Row {
        metric: "latency KS D".into(),
        predicted: None,
        predicted_low: None,
        predicted_high: None,
        measured: None,
        accept_low: Some(0.0),
        accept_high: Some(tol.ks_d),
        verdict: Verdict::NotCompared,
        note: "needs the measured per-request CSV".into(),
    };
    if let (Some(samples), false) = (&m.latencies_ms, points.is_empty()) {
        if !samples.is_empty() {
            let d = ks::against_quantiles(samples, &points);
            let n = samples.len() as f64;
            let mp = reps.iter().map(|s| s.requests.completed).sum::<u64>() as f64;
            let p_value = ks::ks_p_value(d, n * mp / (n + mp));
            ks_row.measured = Some(d);
            ks_row.verdict = if d <= tol.ks_d {
                Verdict::Agree
            } else {
                Verdict::Disagree
            };
            ks_row.note = format!("p {p_value:.3}, n {} vs {}", samples.len(), mp as u64);
        }
    }
    rows.push(ks_row);
    let rate = |f: fn(&crate::model::RequestCounts) -> u64| -> Vec<f64> {
        reps.iter()
            .filter(|s| s.requests.arrived > 0)
            .map(|s| 100.0 * f(&s.requests) as f64 / s.requests.arrived as f64)
            .collect()
    };
    rows.push(judge(
        "503 %",
        &rate(|r| r.status_503),
        m.pct_503,
        tol.relative,
        tol.error_points,
    ));
    rows.push(judge(
        "504 %",
        &rate(|r| r.status_504),
        m.pct_504,
        tol.relative,
        tol.error_points,
    ));
    let arrived: Vec<f64> = reps.iter().map(|s| s.requests.arrived as f64).collect();
    rows.push(judge(
        "requests",
        &arrived,
        Some(m.requests as f64),
        tol.relative,
        0.0,
    ));
    let conc: Vec<f64> = p.mean_in_flight.clone();
    rows.push(judge(
        "mean concurrency",
        &conc,
        m.mean_concurrency,
        tol.relative,
        0.5,
    ));
    // Split: measured shares per class (or target) against the revisions'
    // observed shares, matched by name.
    for (name, share) in &m.shares {
        let pred: Vec<f64> = reps
            .iter()
            .filter_map(|s| {
                s.revisions
                    .iter()
                    .find(|r| &r.name == name)
                    .map(|r| 100.0 * r.observed_share)
            })
            .collect();
        if pred.is_empty() {
            continue;
        }
        rows.push(judge(
            &format!("share % {name}"),
            &pred,
            Some(100.0 * share),
            0.0,
            tol.error_points.max(2.0),
        ));
    }
    let cold: Vec<f64> = reps.iter().map(|s| s.cold_starts as f64).collect();
    let mut cold_row = judge("cold starts", &cold, m.cold_starts, tol.relative, 1.0);
    if m.cold_starts.is_none() {
        cold_row.note = "give --cold-starts N to compare".into();
    }
    rows.push(cold_row);
    Comparison {
        replications: reps.len(),
        measured_requests: m.requests,
        tolerances: tol.clone(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_of_known_values() {
        // mean 2, sd 1, n 3: t(0.975, 2) = 4.303, half = 4.303/sqrt(3) = 2.484.
        let (m, lo, hi) = interval(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(m, 2.0);
        assert!((hi - 4.484).abs() < 1e-3, "{hi}");
        assert!((lo + 0.484).abs() < 1e-3, "{lo}");
        assert_eq!(interval(&[5.0]), Some((5.0, 5.0, 5.0)));
        assert_eq!(interval(&[]), None);
    }

    #[test]
    fn judge_widens_by_relative_and_absolute_tolerance() {
        let r = judge("x", &[10.0], Some(13.4), 0.25, 1.0);
        assert_eq!(r.accept_high, Some(13.5));
        assert_eq!(r.verdict, Verdict::Agree);
        let r = judge("x", &[10.0], Some(13.6), 0.25, 1.0);
        assert_eq!(r.verdict, Verdict::Disagree);
        let r = judge("x", &[10.0], Some(6.4), 0.25, 1.0);
        assert_eq!(r.verdict, Verdict::Disagree);
        let r = judge("x", &[10.0], None, 0.25, 1.0);
        assert_eq!(r.verdict, Verdict::NotCompared);
    }
}
