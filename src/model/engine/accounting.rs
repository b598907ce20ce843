//! What the run measures: request outcomes and latency histograms per
//! revision, one timeseries row per revision per simulated second, and the
//! summary at the end. It observes the other components and never changes
//! them; nothing here follows Knative code.

use super::event::RevId;
use crate::model::report::{
    LatencySummary, Performance, QuantilePoint, RequestCounts, RequestOutcome, RevisionSummary,
    Summary, TimeseriesRow,
};
use crate::sim::{SimDuration, SimTime};
use hdrhistogram::Histogram;

/// Quantiles at which the latency distribution is reported.
const CDF_QUANTILES: &[f64] = &[
    0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999,
    0.9995, 0.9999, 1.0,
];

fn new_histogram() -> Histogram<u64> {
    // Microsecond resolution up to ten hours, three significant digits.
    Histogram::new_with_bounds(1, 36_000_000_000, 3).expect("valid histogram bounds")
}

fn second_histogram() -> Histogram<u64> {
    // Two significant digits keep the per-second histogram small enough to
    // clear every simulated second.
    Histogram::new_with_bounds(1, 36_000_000_000, 2).expect("valid histogram bounds")
}

fn second_quantile(h: &Option<Histogram<u64>>, q: f64) -> f64 {
    match h {
        Some(h) if !h.is_empty() => h.value_at_quantile(q) as f64 / 1000.0,
        _ => 0.0,
    }
}

#[derive(Default)]
struct SecondCounters {
    arrivals: u64,
    completed: u64,
    errors: u64,
    latency: Option<Histogram<u64>>,
}

struct RevisionBooks {
    counts: RequestCounts,
    sec: SecondCounters,
    hist: Histogram<u64>,
    in_flight: u64,
    panic_seconds: u64,
    proxy_seconds: u64,
}

/// What the other components know about a revision at the end of the run.
pub(crate) struct RevisionTotals {
    /// Revision name.
    pub(crate) name: String,
    /// Pods started.
    pub(crate) cold_starts: u64,
    /// Pod-seconds.
    pub(crate) pod_seconds: f64,
    /// Most pods ready at once.
    pub(crate) max_ready: u32,
}

/// The run's books.
#[derive(Default)]
pub(crate) struct Accounting {
    revs: Vec<RevisionBooks>,
    not_found: u64,
    service_panic_seconds: u64,
    service_proxy_seconds: u64,
}

impl Accounting {
    /// Opens the books of the next revision.
    pub(crate) fn add_revision(&mut self) {
        self.revs.push(RevisionBooks {
            counts: RequestCounts::default(),
            sec: SecondCounters::default(),
            hist: new_histogram(),
            in_flight: 0,
            panic_seconds: 0,
            proxy_seconds: 0,
        });
    }

    /// A request was routed to `r`.
    #[inline]
    pub(crate) fn arrived(&mut self, r: RevId) {
        let b = &mut self.revs[r.idx()];
        b.counts.arrived += 1;
        b.sec.arrivals += 1;
        b.in_flight += 1;
    }

    /// A request had no route (404).
    pub(crate) fn not_found(&mut self) {
        self.not_found += 1;
    }

    /// A request of `r` ended after `latency`.
    #[inline]
    pub(crate) fn finished(
        &mut self,
        r: RevId,
        outcome: RequestOutcome,
        latency: SimDuration,
        cold: bool,
    ) {
        let b = &mut self.revs[r.idx()];
        b.in_flight -= 1;
        if cold {
            b.counts.waited_on_cold_start += 1;
        }
        match outcome {
            RequestOutcome::Ok => {
                b.counts.completed += 1;
                b.sec.completed += 1;
                let us = (latency.as_nanos() / 1_000).max(1);
                b.hist.saturating_record(us);
                b.sec
                    .latency
                    .get_or_insert_with(second_histogram)
                    .saturating_record(us);
            }
            RequestOutcome::Overflow => {
                b.counts.status_503 += 1;
                b.sec.errors += 1;
            }
            RequestOutcome::Timeout => {
                b.counts.status_504 += 1;
                b.sec.errors += 1;
            }
            RequestOutcome::AppError => {
                b.counts.status_500 += 1;
                b.sec.errors += 1;
            }
        }
    }

    /// Closes the second ending at `now` for `r`: the row's request fields,
    /// the rest left for the caller. `panic` and `proxy` add to the
    /// revision's seconds in those states.
    pub(crate) fn close_second(
        &mut self,
        r: RevId,
        now: SimTime,
        name: &str,
        panic: bool,
        proxy: bool,
    ) -> TimeseriesRow {
        let b = &mut self.revs[r.idx()];
        b.panic_seconds += panic as u64;
        b.proxy_seconds += proxy as u64;
        let row = TimeseriesRow {
            time_s: now.whole_secs(),
            revision: name.to_string(),
            arrivals: b.sec.arrivals,
            completed: b.sec.completed,
            errors: b.sec.errors,
            p50_ms: second_quantile(&b.sec.latency, 0.5),
            p99_ms: second_quantile(&b.sec.latency, 0.99),
            in_flight: b.in_flight,
            panic: panic as u8,
            activator_in_path: proxy as u8,
            ..TimeseriesRow::default()
        };
        // Keep the histogram's allocation for the next second.
        let hist = b.sec.latency.take();
        b.sec = SecondCounters::default();
        if let Some(mut h) = hist {
            h.reset();
            b.sec.latency = Some(h);
        }
        row
    }

    /// Closes the second for the service as a whole.
    pub(crate) fn close_service_second(&mut self, any_panic: bool, any_proxy: bool) {
        self.service_panic_seconds += any_panic as u64;
        self.service_proxy_seconds += any_proxy as u64;
    }

    /// The run's summary; `totals` are in revision order.
    pub(crate) fn summary(
        &self,
        scenario: &str,
        seed: u64,
        simulated_seconds: f64,
        totals: &[RevisionTotals],
        max_ready_total: u32,
        events: u64,
    ) -> Summary {
        let total_arrived: u64 = self.revs.iter().map(|b| b.counts.arrived).sum();
        let mut all = new_histogram();
        let mut sum = RequestCounts::default();
        let mut revisions = Vec::new();
        let mut pod_seconds = 0.0;
        let mut cold = 0;
        for (b, t) in self.revs.iter().zip(totals) {
            let mut counts = b.counts.clone();
            counts.in_flight_at_end = b.in_flight;
            add_counts(&mut sum, &counts);
            all.add(&b.hist).expect("same histogram bounds");
            pod_seconds += t.pod_seconds;
            cold += t.cold_starts;
            revisions.push(RevisionSummary {
                name: t.name.clone(),
                observed_share: if total_arrived > 0 {
                    counts.arrived as f64 / total_arrived as f64
                } else {
                    0.0
                },
                requests: counts,
                latency: latency(&b.hist),
                cold_starts: t.cold_starts,
                pod_seconds: t.pod_seconds,
                max_ready_pods: t.max_ready,
                panic_seconds: b.panic_seconds,
                activator_in_path_seconds: b.proxy_seconds,
            });
        }
        sum.status_404 = self.not_found;
        sum.arrived += self.not_found;
        Summary {
            scenario: scenario.to_string(),
            seed,
            simulated_seconds,
            requests: sum,
            latency: latency(&all),
            cold_starts: cold,
            pod_seconds,
            max_ready_pods: max_ready_total,
            panic_seconds: self.service_panic_seconds,
            activator_in_path_seconds: self.service_proxy_seconds,
            revisions,
            latency_distribution: if all.is_empty() {
                Vec::new()
            } else {
                CDF_QUANTILES
                    .iter()
                    .map(|&q| QuantilePoint {
                        quantile: q,
                        latency_ms: all.value_at_quantile(q) as f64 / 1000.0,
                    })
                    .collect()
            },
            performance: Performance {
                events_processed: events,
            },
            eventing: None,
        }
    }
}

fn add_counts(t: &mut RequestCounts, c: &RequestCounts) {
    t.arrived += c.arrived;
    t.completed += c.completed;
    t.status_503 += c.status_503;
    t.status_504 += c.status_504;
    t.status_500 += c.status_500;
    t.status_404 += c.status_404;
    t.in_flight_at_end += c.in_flight_at_end;
    t.waited_on_cold_start += c.waited_on_cold_start;
}

fn latency(h: &Histogram<u64>) -> LatencySummary {
    if h.is_empty() {
        return LatencySummary::default();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    LatencySummary {
        p50_ms: ms(h.value_at_quantile(0.5)),
        p90_ms: ms(h.value_at_quantile(0.9)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        p999_ms: ms(h.value_at_quantile(0.999)),
        max_ms: ms(h.max()),
        mean_ms: h.mean() / 1000.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(name: &str) -> RevisionTotals {
        RevisionTotals {
            name: name.into(),
            cold_starts: 1,
            pod_seconds: 10.0,
            max_ready: 1,
        }
    }

    #[test]
    fn a_second_row_counts_only_that_second() {
        let mut b = Accounting::default();
        b.add_revision();
        let r = RevId(0);
        b.arrived(r);
        b.arrived(r);
        b.finished(r, RequestOutcome::Ok, SimDuration::from_millis(20), false);
        let row = b.close_second(r, SimTime::from_secs(1), "a", true, false);
        assert_eq!(
            (row.time_s, row.arrivals, row.completed, row.in_flight),
            (1, 2, 1, 1)
        );
        assert_eq!((row.panic, row.activator_in_path), (1, 0));
        assert!((row.p50_ms - 20.0).abs() < 0.2, "{}", row.p50_ms);
        b.finished(r, RequestOutcome::Timeout, SimDuration::from_secs(5), true);
        let row = b.close_second(r, SimTime::from_secs(2), "a", false, false);
        assert_eq!(
            (row.arrivals, row.completed, row.errors, row.in_flight),
            (0, 0, 1, 0)
        );
        assert_eq!(row.p50_ms, 0.0, "no success this second");
    }

    #[test]
    fn the_summary_adds_revisions_and_404s() {
        let mut b = Accounting::default();
        b.add_revision();
        b.add_revision();
        for r in [RevId(0), RevId(1), RevId(1), RevId(1)] {
            b.arrived(r);
            b.finished(r, RequestOutcome::Ok, SimDuration::from_millis(10), false);
        }
        b.arrived(RevId(0));
        b.finished(RevId(0), RequestOutcome::Overflow, SimDuration::ZERO, false);
        b.not_found();
        b.close_second(RevId(0), SimTime::from_secs(1), "a", true, true);
        b.close_service_second(true, true);
        let s = b.summary("x", 7, 60.0, &[totals("a"), totals("b")], 2, 99);
        assert_eq!(s.requests.arrived, 6);
        assert_eq!(
            (
                s.requests.completed,
                s.requests.status_503,
                s.requests.status_404
            ),
            (4, 1, 1)
        );
        assert_eq!(s.revisions[0].observed_share, 0.4);
        assert_eq!(s.revisions[1].requests.completed, 3);
        assert_eq!(s.revisions[0].panic_seconds, 1);
        assert_eq!(
            (s.panic_seconds, s.cold_starts, s.pod_seconds),
            (1, 2, 20.0)
        );
        assert_eq!(s.performance.events_processed, 99);
        assert_eq!(s.latency_distribution.len(), CDF_QUANTILES.len());
    }
}
