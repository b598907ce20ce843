//! What the run measures: request outcomes and latency histograms per
//! revision, one timeseries row per revision per simulated second, and the
//! summary at the end. It observes the other components and never changes
//! them; nothing here follows Knative code.

use super::event::RevId;
use super::latency_hist::LatencyHistogram;
use crate::model::report::{
    BatchMeans, LatencySummary, Performance, QuantilePoint, RequestCounts, RequestOutcome,
    RevisionSummary, Summary, TimeseriesRow, WindowSummary,
};
use crate::model::stats::{batch_interval, lag1_autocorrelation};
use crate::scenario::window::Window;
use crate::sim::{SimDuration, SimTime};
use hdrhistogram::Histogram;

/// Batches a window starts with; see [`batch_means`] for how they merge.
const BATCHES: usize = 20;
/// Fewest batches an interval is given for.
const MIN_BATCHES: usize = 5;
/// Fewest successful requests per batch: below it, neighbours merge.
const MIN_PER_BATCH: u64 = 100;

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
    // Two significant digits, as the per-second p50 and p99 have always
    // been reported.
    Histogram::new_with_bounds(1, 36_000_000_000, 2).expect("valid histogram bounds")
}

/// The second's latencies (µs) in arrival order of completion; quantiles are
/// taken from them as the two-digit histogram of [`second_histogram`] would
/// answer. A histogram per revision cost a clear of its 30 kB of counters
/// every simulated second, which with hundreds of revisions outweighed the
/// requests themselves; a list costs what the second held.
#[derive(Default)]
struct SecondLatencies {
    us: Vec<u64>,
}

impl SecondLatencies {
    #[inline]
    fn record(&mut self, us: u64) {
        self.us.push(us);
    }

    /// `value_at_quantile(q)` of a two-digit histogram holding these
    /// values; `shape` is an empty histogram of that shape, used for its
    /// bucket arithmetic (and to hold the values when one is past its
    /// highest trackable value, which it clamps). 0 ms when empty.
    fn quantile_ms(&mut self, q: f64, shape: &mut Histogram<u64>) -> f64 {
        let n = self.us.len();
        if n == 0 {
            return 0.0;
        }
        let v = if self.us.iter().any(|&v| v > shape.high()) {
            for &v in &self.us {
                shape.saturating_record(v);
            }
            let v = shape.value_at_quantile(q);
            shape.reset();
            v
        } else {
            let k = rank(q, n);
            let (_, kth, _) = self.us.select_nth_unstable(k - 1);
            shape.highest_equivalent(*kth)
        };
        v as f64 / 1000.0
    }

    /// The second's p50 and p99 (ms), each what
    /// [`SecondLatencies::quantile_ms`] answers. A second of a revision
    /// with little traffic holds a handful of values: one sort serves
    /// both quantiles, where two selections cost twice the walk. A busy
    /// second's p99 is selected among the values above its median only,
    /// which the median's selection has already set apart.
    fn p50_p99_ms(&mut self, shape: &mut Histogram<u64>) -> (f64, f64) {
        let n = self.us.len();
        if n == 0 || self.us.iter().any(|&v| v > shape.high()) {
            return (self.quantile_ms(0.5, shape), self.quantile_ms(0.99, shape));
        }
        let (k50, k99) = (rank(0.5, n), rank(0.99, n));
        let (p50, p99) = if n <= SORT_UP_TO {
            self.us.sort_unstable();
            (self.us[k50 - 1], self.us[k99 - 1])
        } else {
            let (_, &mut p50, above) = self.us.select_nth_unstable(k50 - 1);
            // `above` holds the n - k50 largest values, so the k99-th
            // smallest of all is its (k99 - k50)-th smallest; past
            // SORT_UP_TO values the two ranks differ.
            let (_, &mut p99, _) = above.select_nth_unstable(k99 - k50 - 1);
            (p50, p99)
        };
        let ms = |v| shape.highest_equivalent(v) as f64 / 1000.0;
        (ms(p50), ms(p99))
    }
}

/// Most values a second's quantiles sort rather than select from.
const SORT_UP_TO: usize = 64;

/// The 1-based rank of the value a histogram answers for quantile `q` of
/// `n` values: it walks its buckets to the first whose running count
/// reaches ceil(q n) (at least 1), the bucket of that value, and answers
/// that bucket's highest value.
fn rank(q: f64, n: usize) -> usize {
    ((q * n as f64).ceil() as usize).clamp(1, n)
}

#[derive(Default)]
struct SecondCounters {
    arrivals: u64,
    completed: u64,
    errors: u64,
    latency: SecondLatencies,
}

impl SecondCounters {
    /// Zero for the next second, keeping the latency list's allocation.
    fn reset(&mut self) {
        self.arrivals = 0;
        self.completed = 0;
        self.errors = 0;
        self.latency.us.clear();
    }
}

struct RevisionBooks {
    counts: RequestCounts,
    sec: SecondCounters,
    hist: LatencyHistogram,
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

/// The books of the measurement window: the same counts as the whole
/// run's, for requests arriving in it, plus per-batch latencies.
struct WindowBooks {
    window: Window,
    revs: Vec<WindowRevision>,
    not_found: u64,
    panic_seconds: u64,
    proxy_seconds: u64,
    /// Successful latencies (µs) by batch of arrival time.
    batches: Vec<LatencyHistogram>,
    /// Exact latency sums (µs) by batch, for the batch means.
    batch_sums: Vec<u128>,
}

struct WindowRevision {
    counts: RequestCounts,
    hist: LatencyHistogram,
    in_flight: u64,
    panic_seconds: u64,
    proxy_seconds: u64,
}

impl WindowBooks {
    fn batch(&self, arrival: SimTime) -> usize {
        let off = (arrival - self.window.start).as_nanos() as u128;
        let len = self.window.len().as_nanos().max(1) as u128;
        ((off * BATCHES as u128 / len) as usize).min(BATCHES - 1)
    }
}

/// The run's books.
pub(crate) struct Accounting {
    revs: Vec<RevisionBooks>,
    /// An empty two-digit histogram: the bucket arithmetic of the
    /// per-second quantiles.
    second_shape: Histogram<u64>,
    not_found: u64,
    service_panic_seconds: u64,
    service_proxy_seconds: u64,
    window: Option<Box<WindowBooks>>,
    /// Per-second rows are wanted: keep each second's latencies for their
    /// quantiles.
    rows: bool,
}

impl Accounting {
    /// Books that also count the requests arriving in `window` apart, and
    /// that close per-second rows if `rows`.
    pub(crate) fn new(window: Option<Window>, rows: bool) -> Self {
        Accounting {
            rows,
            window: window.map(|w| {
                Box::new(WindowBooks {
                    window: w,
                    revs: Vec::new(),
                    not_found: 0,
                    panic_seconds: 0,
                    proxy_seconds: 0,
                    batches: (0..BATCHES)
                        .map(|_| LatencyHistogram::new(new_histogram()))
                        .collect(),
                    batch_sums: vec![0; BATCHES],
                })
            }),
            revs: Vec::new(),
            second_shape: second_histogram(),
            not_found: 0,
            service_panic_seconds: 0,
            service_proxy_seconds: 0,
        }
    }

    /// Whether these books close per-second rows: the sink's
    /// [`TimeseriesSink::wants_rows`](crate::model::TimeseriesSink::wants_rows).
    pub(crate) fn keeps_rows(&self) -> bool {
        self.rows
    }

    /// Opens the books of the next revision.
    pub(crate) fn add_revision(&mut self) {
        self.revs.push(RevisionBooks {
            counts: RequestCounts::default(),
            sec: SecondCounters::default(),
            hist: LatencyHistogram::new(new_histogram()),
            in_flight: 0,
            panic_seconds: 0,
            proxy_seconds: 0,
        });
        if let Some(w) = &mut self.window {
            w.revs.push(WindowRevision {
                counts: RequestCounts::default(),
                hist: LatencyHistogram::new(new_histogram()),
                in_flight: 0,
                panic_seconds: 0,
                proxy_seconds: 0,
            });
        }
    }

    /// A request was routed to `r` at `now`.
    #[inline]
    pub(crate) fn arrived(&mut self, r: RevId, now: SimTime) {
        let b = &mut self.revs[r.idx()];
        b.counts.arrived += 1;
        b.sec.arrivals += 1;
        b.in_flight += 1;
        if let Some(w) = &mut self.window {
            if w.window.contains(now) {
                let wr = &mut w.revs[r.idx()];
                wr.counts.arrived += 1;
                wr.in_flight += 1;
            }
        }
    }

    /// A request had no route (404) at `now`.
    pub(crate) fn not_found(&mut self, now: SimTime) {
        self.not_found += 1;
        if let Some(w) = &mut self.window {
            w.not_found += w.window.contains(now) as u64;
        }
    }

    /// A request of `r` that arrived at `arrival` ended at `now`.
    #[inline(always)]
    pub(crate) fn finished(
        &mut self,
        r: RevId,
        outcome: RequestOutcome,
        arrival: SimTime,
        now: SimTime,
        cold: bool,
    ) {
        let latency = now - arrival;
        let us = (latency.as_nanos() / 1_000).max(1);
        let b = &mut self.revs[r.idx()];
        b.in_flight -= 1;
        if cold {
            b.counts.waited_on_cold_start += 1;
        }
        match outcome {
            RequestOutcome::Ok => {
                b.counts.completed += 1;
                b.sec.completed += 1;
                b.hist.record(us);
                if self.rows {
                    b.sec.latency.record(us);
                }
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
        if let Some(w) = &mut self.window {
            if w.window.contains(arrival) {
                let k = w.batch(arrival);
                let wr = &mut w.revs[r.idx()];
                wr.in_flight -= 1;
                wr.counts.waited_on_cold_start += cold as u64;
                match outcome {
                    RequestOutcome::Ok => {
                        wr.counts.completed += 1;
                        wr.hist.record(us);
                        w.batches[k].record(us);
                        w.batch_sums[k] += us as u128;
                    }
                    RequestOutcome::Overflow => wr.counts.status_503 += 1,
                    RequestOutcome::Timeout => wr.counts.status_504 += 1,
                    RequestOutcome::AppError => wr.counts.status_500 += 1,
                }
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
        self.count_second(r, now, panic, proxy);
        let b = &mut self.revs[r.idx()];
        let (p50_ms, p99_ms) = b.sec.latency.p50_p99_ms(&mut self.second_shape);
        let row = TimeseriesRow {
            time_s: now.whole_secs(),
            revision: name.to_string(),
            arrivals: b.sec.arrivals,
            completed: b.sec.completed,
            errors: b.sec.errors,
            p50_ms,
            p99_ms,
            in_flight: b.in_flight,
            panic: panic as u8,
            activator_in_path: proxy as u8,
            ..TimeseriesRow::default()
        };
        b.sec.reset();
        row
    }

    /// [`Accounting::close_second`] without the row, for books that keep
    /// none: the summary's seconds in panic and with the activator in path.
    pub(crate) fn count_second(&mut self, r: RevId, now: SimTime, panic: bool, proxy: bool) {
        if let Some(w) = &mut self.window {
            if w.window.has_second(now) {
                let wr = &mut w.revs[r.idx()];
                wr.panic_seconds += panic as u64;
                wr.proxy_seconds += proxy as u64;
            }
        }
        let b = &mut self.revs[r.idx()];
        b.panic_seconds += panic as u64;
        b.proxy_seconds += proxy as u64;
        if !self.rows {
            b.sec.reset();
        }
    }

    /// Closes the second ending at `now` for the service as a whole.
    pub(crate) fn close_service_second(&mut self, now: SimTime, any_panic: bool, any_proxy: bool) {
        self.service_panic_seconds += any_panic as u64;
        self.service_proxy_seconds += any_proxy as u64;
        if let Some(w) = &mut self.window {
            if w.window.has_second(now) {
                w.panic_seconds += any_panic as u64;
                w.proxy_seconds += any_proxy as u64;
            }
        }
    }

    /// Records every pending latency.
    fn settle(&mut self) {
        for b in &mut self.revs {
            b.hist.settle();
        }
        if let Some(w) = &mut self.window {
            for b in &mut w.revs {
                b.hist.settle();
            }
            for h in &mut w.batches {
                h.settle();
            }
        }
    }

    /// The latency of the successful requests of `revs` together, those
    /// arriving in the window when there is one; after
    /// [`Accounting::summary`].
    pub(crate) fn merged_latency(&self, revs: &[RevId]) -> LatencySummary {
        let mut all = new_histogram();
        for r in revs {
            let hist = match &self.window {
                Some(w) => &w.revs[r.idx()].hist,
                None => &self.revs[r.idx()].hist,
            };
            all.add(hist.settled()).expect("same histogram bounds");
        }
        latency(&all)
    }

    /// The run's summary; `totals` are in revision order. Settles the
    /// latency histograms, which [`Accounting::merged_latency`] reads.
    pub(crate) fn summary(
        &mut self,
        scenario: &str,
        seed: u64,
        simulated_seconds: f64,
        totals: &[RevisionTotals],
        max_ready_total: u32,
        events: u64,
    ) -> Summary {
        self.settle();
        let mut s = self.whole_run_summary(
            scenario,
            seed,
            simulated_seconds,
            totals,
            max_ready_total,
            events,
        );
        if let Some(w) = &self.window {
            window_summary(&mut s, w);
        }
        s
    }

    fn whole_run_summary(
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
            sum.add(&counts);
            all.add(b.hist.settled()).expect("same histogram bounds");
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
                latency: latency(b.hist.settled()),
                cold_starts: t.cold_starts,
                pod_seconds: t.pod_seconds,
                max_ready_pods: t.max_ready,
                panic_seconds: b.panic_seconds,
                activator_in_path_seconds: b.proxy_seconds,
                hpa: None,
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
            latency_distribution: distribution(&all),
            performance: Performance {
                events_processed: events,
            },
            window: None,
            services: Vec::new(),
            cluster: None,
            cluster_rows: Vec::new(),
            eventing: None,
        }
    }
}

/// Replaces the whole run's request counts, latencies and panic/proxy
/// seconds of `s` by the window's, and adds the window's description.
fn window_summary(s: &mut Summary, w: &WindowBooks) {
    let total_arrived: u64 = w.revs.iter().map(|b| b.counts.arrived).sum();
    let mut all = new_histogram();
    let mut sum = RequestCounts::default();
    for (rs, b) in s.revisions.iter_mut().zip(&w.revs) {
        let mut counts = b.counts.clone();
        counts.in_flight_at_end = b.in_flight;
        sum.add(&counts);
        all.add(b.hist.settled()).expect("same histogram bounds");
        rs.observed_share = if total_arrived > 0 {
            counts.arrived as f64 / total_arrived as f64
        } else {
            0.0
        };
        rs.requests = counts;
        rs.latency = latency(b.hist.settled());
        rs.panic_seconds = b.panic_seconds;
        rs.activator_in_path_seconds = b.proxy_seconds;
    }
    sum.status_404 = w.not_found;
    sum.arrived += w.not_found;
    s.requests = sum;
    s.latency = latency(&all);
    s.latency_distribution = distribution(&all);
    s.panic_seconds = w.panic_seconds;
    s.activator_in_path_seconds = w.proxy_seconds;
    s.window = Some(WindowSummary {
        start_s: w.window.start.as_secs_f64(),
        end_s: w.window.end.as_secs_f64(),
        whole_run_fields: ["cold_starts", "pod_seconds", "max_ready_pods"]
            .iter()
            .map(|f| f.to_string())
            .collect(),
        batch_means: batch_means(
            w.batches
                .iter()
                .map(|h| h.settled().clone())
                .collect::<Vec<_>>(),
            &w.batch_sums,
            w.window.len(),
        ),
    });
}

/// Batch means over the window: [`BATCHES`] equal-time batches by arrival,
/// neighbours merged in pairs (20 → 10 → 5) while a batch has fewer than
/// [`MIN_PER_BATCH`] successes; no intervals below [`MIN_BATCHES`] batches.
fn batch_means(mut hists: Vec<Histogram<u64>>, sums: &[u128], len: SimDuration) -> BatchMeans {
    let mut sums: Vec<u128> = sums.to_vec();
    let min_len = |h: &[Histogram<u64>]| h.iter().map(|h| h.len()).min().unwrap_or(0);
    while hists.len() / 2 >= MIN_BATCHES && min_len(&hists) < MIN_PER_BATCH {
        let mut merged = Vec::with_capacity(hists.len() / 2);
        for pair in hists.chunks(2) {
            let mut h = pair[0].clone();
            if let Some(b) = pair.get(1) {
                h.add(b).expect("same histogram bounds");
            }
            merged.push(h);
        }
        hists = merged;
        sums = sums.chunks(2).map(|c| c.iter().sum()).collect();
    }
    let min = min_len(&hists);
    let mut out = BatchMeans {
        batches: 0,
        batch_seconds: len.as_secs_f64() / hists.len() as f64,
        min_batch_completed: min,
        ..BatchMeans::default()
    };
    if min < MIN_PER_BATCH {
        return out;
    }
    let ms = |us: u64| us as f64 / 1000.0;
    let means: Vec<f64> = hists
        .iter()
        .zip(&sums)
        .map(|(h, &s)| s as f64 / h.len() as f64 / 1000.0)
        .collect();
    let q = |q: f64| -> Vec<f64> { hists.iter().map(|h| ms(h.value_at_quantile(q))).collect() };
    out.batches = hists.len() as u32;
    out.mean_ms = batch_interval(&means);
    out.p50_ms = batch_interval(&q(0.5));
    out.p99_ms = batch_interval(&q(0.99));
    out.lag1_autocorrelation = lag1_autocorrelation(&means);
    out
}

fn distribution(all: &Histogram<u64>) -> Vec<QuantilePoint> {
    if all.is_empty() {
        return Vec::new();
    }
    CDF_QUANTILES
        .iter()
        .map(|&q| QuantilePoint {
            quantile: q,
            latency_ms: all.value_at_quantile(q) as f64 / 1000.0,
        })
        .collect()
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
mod tests;
