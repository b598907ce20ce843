//! A run's timeseries turned into per-revision columns, bucketed for long runs.

use super::{RunData, MAX_POINTS};
use crate::model::TimeseriesRow;
use crate::plot::error::PlotError;

/// One revision's columns, one entry per (possibly bucketed) step.
#[derive(Clone, Debug, Default)]
pub(super) struct RevSeries {
    pub(super) name: String,
    /// End of each step, seconds.
    pub(super) t: Vec<f64>,
    pub(super) arrivals: Vec<f64>,
    pub(super) completed: Vec<f64>,
    pub(super) errors: Vec<f64>,
    pub(super) p50: Vec<Option<f64>>,
    pub(super) p99: Vec<Option<f64>>,
    pub(super) in_flight: Vec<f64>,
    pub(super) activator_queue: Vec<f64>,
    pub(super) desired: Vec<Option<f64>>,
    pub(super) ready: Vec<f64>,
    pub(super) pending: Vec<f64>,
    /// Per second, never bucketed: shading needs exact edges.
    pub(super) t_full: Vec<f64>,
    pub(super) panic: Vec<bool>,
    pub(super) activator: Vec<bool>,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

pub(super) fn max(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

fn bucket<T: Copy, U>(xs: &[T], width: usize, f: impl Fn(&[T]) -> U) -> Vec<U> {
    xs.chunks(width).map(f).collect()
}

fn opt_mean(xs: &[Option<f64>]) -> Option<f64> {
    let v: Vec<f64> = xs.iter().flatten().copied().collect();
    (!v.is_empty()).then(|| mean(&v))
}

fn opt_max(xs: &[Option<f64>]) -> Option<f64> {
    let v: Vec<f64> = xs.iter().flatten().copied().collect();
    (!v.is_empty()).then(|| max(&v))
}

impl RevSeries {
    pub(super) fn from_rows(name: &str, rows: &[&TimeseriesRow]) -> Self {
        // A zero percentile means the second had no successful request.
        let lat = |v: f64| (v > 0.0).then_some(v);
        let t: Vec<f64> = rows.iter().map(|r| r.time_s as f64).collect();
        RevSeries {
            name: name.to_string(),
            t: t.clone(),
            arrivals: rows.iter().map(|r| r.arrivals as f64).collect(),
            completed: rows.iter().map(|r| r.completed as f64).collect(),
            errors: rows.iter().map(|r| r.errors as f64).collect(),
            p50: rows.iter().map(|r| lat(r.p50_ms)).collect(),
            p99: rows.iter().map(|r| lat(r.p99_ms)).collect(),
            in_flight: rows.iter().map(|r| r.in_flight as f64).collect(),
            activator_queue: rows.iter().map(|r| r.activator_queue as f64).collect(),
            // −1 means the decider has not decided yet.
            desired: rows
                .iter()
                .map(|r| (r.desired_pods >= 0).then_some(r.desired_pods as f64))
                .collect(),
            ready: rows.iter().map(|r| r.ready_pods as f64).collect(),
            pending: rows.iter().map(|r| r.pending_pods as f64).collect(),
            t_full: t,
            panic: rows.iter().map(|r| r.panic != 0).collect(),
            activator: rows.iter().map(|r| r.activator_in_path != 0).collect(),
        }
    }

    /// Aggregates `width` seconds into one step: rates and queue lengths
    /// are averaged, pod counts and p99 take the bucket's maximum (peaks are
    /// what matter there), p50 averages the seconds that had requests.
    pub(super) fn bucketed(&self, width: usize) -> Self {
        if width <= 1 {
            return self.clone();
        }
        RevSeries {
            name: self.name.clone(),
            t: bucket(&self.t, width, |c| c[c.len() - 1]),
            arrivals: bucket(&self.arrivals, width, mean),
            completed: bucket(&self.completed, width, mean),
            errors: bucket(&self.errors, width, mean),
            p50: bucket(&self.p50, width, opt_mean),
            p99: bucket(&self.p99, width, opt_max),
            in_flight: bucket(&self.in_flight, width, mean),
            activator_queue: bucket(&self.activator_queue, width, mean),
            desired: bucket(&self.desired, width, opt_max),
            ready: bucket(&self.ready, width, max),
            pending: bucket(&self.pending, width, max),
            t_full: self.t_full.clone(),
            panic: self.panic.clone(),
            activator: self.activator.clone(),
        }
    }
}

/// Everything the run charts share.
pub(super) struct Prepared {
    pub(super) revs: Vec<RevSeries>,
    /// Seconds per drawn step (1 unless the run is long).
    pub(super) step: usize,
    pub(super) duration: f64,
    /// Totals over revisions, per step.
    pub(super) t: Vec<f64>,
    pub(super) arrivals: Vec<f64>,
    pub(super) completed: Vec<f64>,
    pub(super) errors: Vec<f64>,
    pub(super) shares: Vec<f64>,
}

pub(super) fn prepare(data: &RunData) -> Result<Prepared, PlotError> {
    if data.rows.is_empty() {
        return Err(PlotError::NoData("timeseries.csv has no rows".into()));
    }
    // Revision order: the summary's (scenario order), then any name only the
    // timeseries knows, in order of first appearance.
    let mut names: Vec<String> = data
        .summary
        .revisions
        .iter()
        .map(|r| r.name.clone())
        .collect();
    for r in &data.rows {
        if !names.contains(&r.revision) {
            names.push(r.revision.clone());
        }
    }
    let seconds = data
        .rows
        .iter()
        .map(|r| r.time_s)
        .collect::<std::collections::BTreeSet<_>>();
    let step = seconds.len().div_ceil(MAX_POINTS).max(1);
    let secs: Vec<u64> = seconds.into_iter().collect();
    let mut revs = Vec::new();
    for n in &names {
        let own: std::collections::BTreeMap<u64, &TimeseriesRow> = data
            .rows
            .iter()
            .filter(|r| &r.revision == n)
            .map(|r| (r.time_s, r))
            .collect();
        if own.is_empty() {
            continue;
        }
        // A revision created (or deleted) mid-run has no rows while it does
        // not exist: give it empty seconds so every series shares one time axis.
        let absent: Vec<TimeseriesRow> = secs
            .iter()
            .filter(|t| !own.contains_key(t))
            .map(|&t| TimeseriesRow {
                time_s: t,
                revision: n.clone(),
                ..TimeseriesRow::default()
            })
            .collect();
        let mut rows: Vec<&TimeseriesRow> = own.values().copied().chain(absent.iter()).collect();
        rows.sort_by_key(|r| r.time_s);
        revs.push(RevSeries::from_rows(n, &rows).bucketed(step));
    }
    // Totals per second first, then bucketed the same way as revisions.
    let mut arr = vec![0.0; secs.len()];
    let mut comp = vec![0.0; secs.len()];
    let mut err = vec![0.0; secs.len()];
    for r in &data.rows {
        let i = secs.binary_search(&r.time_s).expect("second is in the set");
        arr[i] += r.arrivals as f64;
        comp[i] += r.completed as f64;
        err[i] += r.errors as f64;
    }
    let t_full: Vec<f64> = secs.iter().map(|&s| s as f64).collect();
    let duration = data
        .summary
        .simulated_seconds
        .max(*t_full.last().expect("rows are not empty"));
    Ok(Prepared {
        step,
        duration,
        t: bucket(&t_full, step, |c| c[c.len() - 1]),
        arrivals: bucket(&arr, step, mean),
        completed: bucket(&comp, step, mean),
        errors: bucket(&err, step, mean),
        shares: data
            .summary
            .revisions
            .iter()
            .map(|r| r.observed_share)
            .collect(),
        revs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Summary;

    /// A revision created mid-run has no rows before it exists; its series
    /// must still line up with the others' seconds (the traffic-share chart
    /// sums revisions window by window).
    #[test]
    fn late_revision_series_share_the_time_axis() {
        let mut rows = Vec::new();
        for t in 1..=6u64 {
            rows.push(TimeseriesRow {
                time_s: t,
                revision: "old".into(),
                arrivals: if t <= 3 { 10 } else { 0 },
                ..Default::default()
            });
            if t > 3 {
                rows.push(TimeseriesRow {
                    time_s: t,
                    revision: "new".into(),
                    arrivals: 10,
                    ..Default::default()
                });
            }
        }
        let data = RunData {
            summary: Summary::default(),
            rows,
        };
        let p = prepare(&data).unwrap();
        assert_eq!(p.revs.len(), 2);
        let new = p.revs.iter().find(|r| r.name == "new").unwrap();
        assert_eq!(new.t, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(new.arrivals, vec![0.0, 0.0, 0.0, 10.0, 10.0, 10.0]);
    }

    #[test]
    fn bucketing_averages_rates_and_keeps_peaks() {
        let rows: Vec<TimeseriesRow> = (1..=4)
            .map(|s| TimeseriesRow {
                time_s: s,
                revision: "r".into(),
                arrivals: s,
                ready_pods: if s == 2 { 5 } else { 1 },
                p99_ms: if s == 3 { 0.0 } else { s as f64 },
                ..Default::default()
            })
            .collect();
        let refs: Vec<&TimeseriesRow> = rows.iter().collect();
        let b = RevSeries::from_rows("r", &refs).bucketed(2);
        assert_eq!(b.t, vec![2.0, 4.0]);
        assert_eq!(b.arrivals, vec![1.5, 3.5]);
        assert_eq!(b.ready, vec![5.0, 1.0]);
        assert_eq!(b.p99, vec![Some(2.0), Some(4.0)]);
        // Shading keeps per-second resolution.
        assert_eq!(b.panic.len(), 4);
    }
}
