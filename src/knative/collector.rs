//! Per-revision metric collection: the `collection` of
//! `pkg/autoscaler/metrics/collector.go`, i.e. four bucket windows
//! (concurrency and RPS, each stable and panic) fed by scraper and activator
//! stats, and the `MetricClient` reads the decider makes.

use super::buckets::{Aggregation, MetricBuckets};
use super::config::BUCKET_SIZE;
use super::decider::ScalingMetric;
use super::sample_size::population_mean_sample_size;
use crate::sim::{SimDuration, SimTime};

/// One stat as recorded by the autoscaler (`metrics.Stat`, the fields the
/// collector reads). Counts are per-second rates.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stat {
    /// Time-averaged in-flight requests (queued in the QP included).
    pub average_concurrent_requests: f64,
    /// The part of the above that came through an activator.
    pub average_proxied_concurrent_requests: f64,
    /// Requests per second.
    pub request_count: f64,
    /// The part of the above that came through an activator.
    pub proxied_request_count: f64,
}

/// `computeAverages` of `pkg/autoscaler/metrics/stats_scraper.go`: the
/// revision-wide estimate from the stats of the sampled pods, summed in the
/// given order and scaled by `population / sample size`, where the sample
/// size is [`population_mean_sample_size`]`(population)` (as Knative divides
/// by the planned, not the achieved, sample). Returns `None` for an empty
/// population, which Knative does not record at all; an estimate of all
/// zeros is a real observation and must be recorded.
pub fn scrape_estimate(sampled: &[Stat], population: usize) -> Option<Stat> {
    if population == 0 {
        return None;
    }
    let mut sum = Stat::default();
    for st in sampled {
        sum.average_concurrent_requests += st.average_concurrent_requests;
        sum.average_proxied_concurrent_requests += st.average_proxied_concurrent_requests;
        sum.request_count += st.request_count;
        sum.proxied_request_count += st.proxied_request_count;
    }
    let n = population_mean_sample_size(population) as f64;
    let total = population as f64;
    // Same operation order as Go (x / sample * total) for identical rounding.
    Some(Stat {
        average_concurrent_requests: sum.average_concurrent_requests / n * total,
        average_proxied_concurrent_requests: sum.average_proxied_concurrent_requests / n * total,
        request_count: sum.request_count / n * total,
        proxied_request_count: sum.proxied_request_count / n * total,
    })
}

/// The four bucket windows of one revision.
#[derive(Clone, Debug)]
pub struct Collector {
    concurrency: MetricBuckets,
    concurrency_panic: MetricBuckets,
    rps: MetricBuckets,
    rps_panic: MetricBuckets,
    has_scrape_target: bool,
}

impl Collector {
    /// `newCollection`: 1-s buckets over the stable and panic windows.
    /// `has_scrape_target` is false when TBC = −1 (Knative then leaves the
    /// Metric's scrape target empty and relies on activator stats only).
    pub fn new(
        stable_window: SimDuration,
        panic_window: SimDuration,
        aggregation: Aggregation,
        has_scrape_target: bool,
    ) -> Self {
        let b = |w| MetricBuckets::new(aggregation, w, BUCKET_SIZE);
        Collector {
            concurrency: b(stable_window),
            concurrency_panic: b(panic_window),
            rps: b(stable_window),
            rps_panic: b(panic_window),
            has_scrape_target,
        }
    }

    /// `collection.record`: proxied traffic is subtracted because the
    /// activator reports it itself.
    pub fn record(&mut self, t: SimTime, stat: &Stat) {
        let conc = stat.average_concurrent_requests - stat.average_proxied_concurrent_requests;
        self.concurrency.record(t, conc);
        self.concurrency_panic.record(t, conc);
        let rps = stat.request_count - stat.proxied_request_count;
        self.rps.record(t, rps);
        self.rps_panic.record(t, rps);
    }

    fn read(
        &self,
        stable: &MetricBuckets,
        panic: &MetricBuckets,
        now: SimTime,
    ) -> Option<(f64, f64)> {
        if stable.is_empty(now) && self.has_scrape_target {
            return None;
        }
        Some((stable.window_average(now), panic.window_average(now)))
    }

    /// None = ErrNoData (stable buckets empty and a scrape target exists);
    /// with no scrape target → Some((0,0)).
    pub fn stable_and_panic_concurrency(&self, now: SimTime) -> Option<(f64, f64)> {
        self.read(&self.concurrency, &self.concurrency_panic, now)
    }

    /// `StableAndPanicRPS`, with the same no-data rule.
    pub fn stable_and_panic_rps(&self, now: SimTime) -> Option<(f64, f64)> {
        self.read(&self.rps, &self.rps_panic, now)
    }

    /// The pair the decider scales on for `metric`.
    pub fn stable_and_panic(&self, now: SimTime, metric: ScalingMetric) -> Option<(f64, f64)> {
        match metric {
            ScalingMetric::Rps => self.stable_and_panic_rps(now),
            ScalingMetric::Concurrency => self.stable_and_panic_concurrency(now),
        }
    }

    /// `updateMetric`: resize the windows (data kept, see
    /// [`MetricBuckets::resize_window`]) and update the scrape target.
    pub fn update_windows(
        &mut self,
        stable: SimDuration,
        panic: SimDuration,
        has_scrape_target: bool,
    ) {
        self.concurrency.resize_window(stable);
        self.concurrency_panic.resize_window(panic);
        self.rps.resize_window(stable);
        self.rps_panic.resize_window(panic);
        self.has_scrape_target = has_scrape_target;
    }

    /// `updateMetric` at a known time: as Knative, buckets with no write
    /// within their old window are reset instead of copied.
    pub fn update_windows_at(
        &mut self,
        now: SimTime,
        stable: SimDuration,
        panic: SimDuration,
        has_scrape_target: bool,
    ) {
        self.concurrency.resize_window_at(now, stable);
        self.concurrency_panic.resize_window_at(now, panic);
        self.rps.resize_window_at(now, stable);
        self.rps_panic.resize_window_at(now, panic);
        self.has_scrape_target = has_scrape_target;
    }

    /// Whether the Metric has a scrape target (TBC ≠ −1).
    pub fn has_scrape_target(&self) -> bool {
        self.has_scrape_target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_scrape_target_reads_zero_instead_of_no_data() {
        let c = Collector::new(
            SimDuration::from_secs(60),
            SimDuration::from_secs(6),
            Aggregation::Linear,
            false,
        );
        assert_eq!(
            c.stable_and_panic_concurrency(SimTime::from_secs(5)),
            Some((0.0, 0.0))
        );
        let c = Collector::new(
            SimDuration::from_secs(60),
            SimDuration::from_secs(6),
            Aggregation::Linear,
            true,
        );
        assert_eq!(c.stable_and_panic_rps(SimTime::from_secs(5)), None);
    }

    #[test]
    fn scrape_estimate_extrapolates_the_sample() {
        assert_eq!(scrape_estimate(&[], 0), None);
        let pod = Stat {
            average_concurrent_requests: 2.0,
            request_count: 4.0,
            ..Stat::default()
        };
        // Three pods: all sampled, exact sum.
        let e = scrape_estimate(&[pod; 3], 3).unwrap();
        assert_eq!(
            (e.average_concurrent_requests, e.request_count),
            (6.0, 12.0)
        );
        // Ten pods: seven sampled, extrapolated × 10/7.
        let e = scrape_estimate(&[pod; 7], 10).unwrap();
        assert_eq!(e.average_concurrent_requests, 14.0 / 7.0 * 10.0);
        assert_eq!(
            scrape_estimate(&[Stat::default()], 1),
            Some(Stat::default())
        );
    }

    #[test]
    fn metric_selects_the_pair() {
        let mut c = Collector::new(
            SimDuration::from_secs(60),
            SimDuration::from_secs(6),
            Aggregation::Linear,
            true,
        );
        let stat = Stat {
            average_concurrent_requests: 3.0,
            request_count: 8.0,
            ..Stat::default()
        };
        c.record(SimTime::from_secs(10), &stat);
        let now = SimTime::from_secs(10);
        assert_eq!(
            c.stable_and_panic(now, ScalingMetric::Concurrency),
            Some((3.0, 3.0))
        );
        assert_eq!(
            c.stable_and_panic(now, ScalingMetric::Rps),
            Some((8.0, 8.0))
        );
        // After a full stable window of silence there is no data again.
        assert_eq!(
            c.stable_and_panic(SimTime::from_secs(71), ScalingMetric::Rps),
            None
        );
    }
}
