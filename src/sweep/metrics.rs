//! The flat metrics of one run, in the order of the catalogue in
//! [`crate::metrics`], and how they are written to CSV.

pub use crate::metrics::{metric_index, metric_names, Direction, MetricDef, METRICS};
use crate::model::Summary;

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
        s.cluster.as_ref().map_or(0.0, |c| c.node_hours),
        s.cluster.as_ref().map_or(0.0, |c| c.cost),
        s.cluster.as_ref().map_or(0.0, |c| f64::from(c.peak_nodes)),
        s.cluster.as_ref().map_or(0.0, |c| c.pending_pod_seconds),
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
