//! The HPA class's steady state at a constant load, from the timeseries:
//! the replicas it holds and the CPU utilization of its pods.

use super::experiment::{Check, Experiment, Measure};
use crate::model::TimeseriesRow;
use crate::scenario::Override;
use crate::sim::SimTime;

fn ov(key: &str, value: impl std::fmt::Display) -> Override {
    Override {
        key: key.to_string(),
        value: value.to_string(),
    }
}

/// `ceil(λ · c / (u · R))`: the pods that carry `lambda` req/s of `cpu_s`
/// CPU-seconds each at `target` (a fraction) of a `request`-core request.
pub fn steady_replicas(lambda: f64, cpu_s: f64, target: f64, request: f64) -> f64 {
    (lambda * cpu_s / (target * request)).ceil()
}

/// The HPA experiment: `lambda` req/s of `cpu_ms` each, target `target_pct`
/// of a one-core pod request.
pub(super) fn hpa_steady(
    lambda: f64,
    cpu_ms: f64,
    target_pct: u32,
    minutes: u32,
    reps: usize,
) -> Experiment {
    let target = f64::from(target_pct) / 100.0;
    let n = steady_replicas(lambda, cpu_ms / 1000.0, target, 1.0);
    let util = 100.0 * lambda * cpu_ms / 1000.0 / n;
    Experiment {
        id: format!("hpa-steady-l{lambda}"),
        model: "HPA steady state".into(),
        params: format!(
            "λ={lambda}/s, {cpu_ms} ms CPU per request, 1-core request, target {target_pct} %"
        ),
        scenario: "hpa-steady.toml",
        overrides: vec![
            ov("duration", format!("\"{minutes}m\"")),
            ov("workload.0.arrival.rate", lambda),
            ov("revision.0.service-time.value", format!("\"{cpu_ms}ms\"")),
            ov(
                "revision.0.annotations.\"autoscaling.knative.dev/target\"",
                format!("\"{target_pct}\""),
            ),
        ],
        // The first syncs scale up from one pod and new pods need two
        // scrapes, so a replication may overshoot by a pod; the 5-minute
        // downscale stabilization then holds it. Nine minutes cover both.
        warmup_s: 540.0,
        tail_margin_s: 0.0,
        seeds: (1..=reps as u64).collect(),
        checks: vec![
            Check {
                measure: Measure::MeanReplicas,
                theory: n,
                formula: "⌈λ·c/(u·R)⌉".into(),
                expect_match: true,
            },
            Check {
                measure: Measure::MeanCpuUtilization,
                theory: util,
                formula: format!("100·λ·c/(n·R), in {target_pct} % ± 10 %"),
                expect_match: true,
            },
        ],
    }
}

/// The time average over the rows of seconds in `(from, to]` of the
/// Deployment's replicas or the CPU utilization (NaN for other measures).
pub fn measure_rows(rows: &[TimeseriesRow], m: Measure, from: SimTime, to: SimTime) -> f64 {
    let (a, b) = (from.whole_secs(), to.whole_secs());
    let vals: Vec<f64> = rows
        .iter()
        .filter(|r| r.time_s > a && r.time_s <= b)
        .filter_map(|r| match m {
            Measure::MeanReplicas => Some(f64::from(r.replicas)),
            Measure::MeanCpuUtilization => r.cpu_utilization.flatten(),
            _ => None,
        })
        .collect();
    if vals.is_empty() {
        return f64::NAN;
    }
    vals.iter().sum::<f64>() / vals.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_on_hand_numbers() {
        // 95 req/s × 20 ms = 1.9 cores; at 50 % of 1 core: 3.8 → 4 pods.
        assert_eq!(steady_replicas(95.0, 0.02, 0.5, 1.0), 4.0);
        assert_eq!(steady_replicas(100.0, 0.02, 0.5, 1.0), 4.0);
        assert_eq!(steady_replicas(101.0, 0.02, 0.5, 1.0), 5.0);
    }

    #[test]
    fn rows_are_averaged_inside_the_window() {
        let row = |t: u64, n: u32, u: Option<f64>| TimeseriesRow {
            time_s: t,
            replicas: n,
            cpu_utilization: Some(u),
            ..Default::default()
        };
        let rows = [
            row(1, 1, None),
            row(2, 4, Some(40.0)),
            row(3, 6, Some(50.0)),
        ];
        let (a, b) = (SimTime::from_secs(1), SimTime::from_secs(3));
        assert_eq!(measure_rows(&rows, Measure::MeanReplicas, a, b), 5.0);
        assert_eq!(measure_rows(&rows, Measure::MeanCpuUtilization, a, b), 45.0);
        assert!(measure_rows(&rows, Measure::MeanWait, a, b).is_nan());
    }
}
