//! The catalogue of run metrics: every scalar number of a
//! [`Summary`](crate::model::Summary) except its `performance` block
//! (simulation work, not a result), plus two derived fractions, with the
//! direction in which each is better.
//!
//! Naming: a field's path in `summary.json` with `.` replaced by `_`, so
//! `latency.p99_ms` is `latency_p99_ms` and `requests.status_503` is
//! `requests_status_503`; units stay at the end as in the struct.
//!
//! A leaf module: scenario validation (the `[slo]` section) and sweeps both
//! name metrics, and neither has to import the other to do so.

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
    // Nodes (0 without node pools).
    m("cluster_node_hours", "h", Lower, false),
    m("cluster_cost", "", Lower, false),
    m("cluster_peak_nodes", "", Lower, false),
    m("cluster_pending_pod_seconds", "s", Lower, false),
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
