//! The flat metrics of one run: every scalar number of a
//! [`Summary`](crate::model::Summary) except its `performance` block (simulation work, not a result), plus
//! two derived fractions.
//!
//! Naming: a field's path in `summary.json` with `.` replaced by `_`, so
//! `latency.p99_ms` is `latency_p99_ms` and `requests.status_503` is
//! `requests_status_503`; units stay at the end as in the struct.

use crate::model::Summary;

/// Which way a metric should move for the service to be better off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Smaller is better (latency, errors, cost).
    Lower,
    /// Neither direction is a regression by itself (load, bookkeeping).
    Neutral,
}

/// One metric column.
#[derive(Clone, Copy, Debug)]
pub struct MetricDef {
    /// Column name.
    pub name: &'static str,
    /// Unit for display ("" for counts and fractions).
    pub unit: &'static str,
    /// Whether a rise is a regression.
    pub direction: Direction,
    /// Compared against a baseline by default.
    pub gate: bool,
}

const fn m(name: &'static str, unit: &'static str, direction: Direction, gate: bool) -> MetricDef {
    MetricDef {
        name,
        unit,
        direction,
        gate,
    }
}

use Direction::{Lower, Neutral};

/// Every metric, in column order.
pub const METRICS: &[MetricDef] = &[
    m("simulated_seconds", "s", Neutral, false),
    m("requests_arrived", "", Neutral, false),
    m("requests_completed", "", Neutral, false),
    m("requests_status_503", "", Lower, false),
    m("requests_status_504", "", Lower, false),
    m("requests_status_404", "", Lower, false),
    m("requests_in_flight_at_end", "", Neutral, false),
    m("requests_waited_on_cold_start", "", Lower, false),
    m("latency_p50_ms", "ms", Lower, true),
    m("latency_p90_ms", "ms", Lower, true),
    m("latency_p99_ms", "ms", Lower, true),
    m("latency_p999_ms", "ms", Lower, true),
    m("latency_max_ms", "ms", Lower, false),
    m("latency_mean_ms", "ms", Lower, true),
    m("cold_starts", "", Lower, true),
    m("pod_seconds", "s", Lower, true),
    m("max_ready_pods", "", Lower, true),
    m("panic_seconds", "s", Neutral, false),
    m("activator_in_path_seconds", "s", Neutral, false),
    m("error_fraction", "", Lower, true),
    m("cold_start_wait_fraction", "", Lower, true),
];

/// Position of a metric column by name.
pub fn metric_index(name: &str) -> Option<usize> {
    METRICS.iter().position(|d| d.name == name)
}

/// Every metric name, comma-separated (for error messages).
pub fn metric_names() -> String {
    METRICS
        .iter()
        .map(|d| d.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The metrics of a run, in [`METRICS`] order. Counts become exact `f64`s.
///
/// `error_fraction` is (503 + 504) / arrived and `cold_start_wait_fraction`
/// is waited-on-cold-start / arrived; both are 0 when nothing arrived.
pub fn metric_values(s: &Summary) -> Vec<f64> {
    let r = &s.requests;
    let l = &s.latency;
    let frac = |n: u64| {
        if r.arrived == 0 {
            0.0
        } else {
            n as f64 / r.arrived as f64
        }
    };
    let v = vec![
        s.simulated_seconds,
        r.arrived as f64,
        r.completed as f64,
        r.status_503 as f64,
        r.status_504 as f64,
        r.status_404 as f64,
        r.in_flight_at_end as f64,
        r.waited_on_cold_start as f64,
        l.p50_ms,
        l.p90_ms,
        l.p99_ms,
        l.p999_ms,
        l.max_ms,
        l.mean_ms,
        s.cold_starts as f64,
        s.pod_seconds,
        f64::from(s.max_ready_pods),
        s.panic_seconds as f64,
        s.activator_in_path_seconds as f64,
        frac(r.status_503 + r.status_504),
        frac(r.waited_on_cold_start),
    ];
    debug_assert_eq!(v.len(), METRICS.len());
    v
}

/// Writes a number for a CSV cell: the shortest text that reads back as the
/// same `f64`, so files rewritten from parsed values stay byte-identical.
pub fn format_number(x: f64) -> String {
    format!("{x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_line_up_with_names() {
        let mut s = Summary::default();
        s.requests.arrived = 200;
        s.requests.status_503 = 3;
        s.requests.status_504 = 1;
        s.requests.waited_on_cold_start = 10;
        s.latency.p99_ms = 123.5;
        s.pod_seconds = 42.25;
        s.max_ready_pods = 4;
        let v = metric_values(&s);
        let get = |n: &str| v[metric_index(n).unwrap()];
        assert_eq!(get("requests_arrived"), 200.0);
        assert_eq!(get("requests_status_503"), 3.0);
        assert_eq!(get("latency_p99_ms"), 123.5);
        assert_eq!(get("pod_seconds"), 42.25);
        assert_eq!(get("max_ready_pods"), 4.0);
        assert_eq!(get("error_fraction"), 0.02);
        assert_eq!(get("cold_start_wait_fraction"), 0.05);
        assert_eq!(metric_values(&Summary::default())[19], 0.0);
    }

    #[test]
    fn numbers_round_trip_through_text() {
        for x in [0.1 + 0.2, 1.0 / 3.0, 123456789.0, 1e-12, 0.0, 2.5] {
            assert_eq!(format_number(x).parse::<f64>().unwrap(), x);
        }
        assert_eq!(format_number(3.0), "3");
    }
}
