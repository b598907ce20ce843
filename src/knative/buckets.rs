//! Time-bucketed metric windows: a port of
//! `pkg/autoscaler/aggregation/bucketing.go` (`TimedFloat64Buckets` and
//! `WeightedFloat64Buckets`).
//!
//! Times are kept as signed nanoseconds internally because resizing a window
//! can move `firstWrite` before the start of the run, which Go's wall-clock
//! times allow and `SimTime` does not.

use crate::sim::{SimDuration, SimTime};

/// How a revision's metric buckets are averaged
/// (`autoscaling.knative.dev/metric-aggregation-algorithm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Aggregation {
    /// Plain average over the (possibly partial) window; the default.
    #[default]
    Linear,
    /// Exponentially weighted average, newest bucket heaviest.
    WeightedExponential,
}

/// `weightPrecision`: the weights of a full weighted window sum to this.
const WEIGHT_PRECISION: f64 = 0.9999;
/// `minExponent`: the smallest smoothing coefficient.
const MIN_EXPONENT: f64 = 0.2;
/// Digits kept by the linear average.
const PRECISION: u32 = 6;

/// `roundToNDigits`: rounds half away from zero to `n` decimal digits.
pub fn round_to_n_digits(n: u32, x: f64) -> f64 {
    let p = 10f64.powi(n as i32);
    (x * p).round() / p
}

/// `computeSmoothingCoeff` for a window of `nb` buckets.
pub fn smoothing_coefficient(nb: usize) -> f64 {
    (1.0 - (1.0 - WEIGHT_PRECISION).powf(1.0 / nb as f64)).max(MIN_EXPONENT)
}

fn num_buckets(window: SimDuration, granularity: SimDuration) -> usize {
    // Go: math.Ceil(float64(window) / float64(granularity)); at least one
    // bucket so that a degenerate window cannot divide by zero.
    let nb = (window.as_nanos() as f64 / granularity.as_nanos().max(1) as f64).ceil();
    (nb as usize).max(1)
}

/// Linear window average over time buckets (`TimedFloat64Buckets`).
#[derive(Clone, Debug)]
pub struct TimedFloat64Buckets {
    buckets: Vec<f64>,
    /// Bucket-aligned time of the first write since the last reset (ns).
    first_write: Option<i64>,
    /// Bucket-aligned time of the newest write (ns).
    last_write: Option<i64>,
    granularity: i64,
    /// Whole seconds per bucket, as Go's `int(granularity.Seconds())`.
    granularity_secs: i64,
    window: i64,
    window_total: f64,
}

impl TimedFloat64Buckets {
    /// `NewTimedFloat64Buckets(window, granularity)`: `ceil(window /
    /// granularity)` buckets.
    pub fn new(window: SimDuration, granularity: SimDuration) -> Self {
        let g = granularity.as_nanos().max(1) as i64;
        TimedFloat64Buckets {
            buckets: vec![0.0; num_buckets(window, granularity)],
            first_write: None,
            last_write: None,
            granularity: g,
            granularity_secs: (g / 1_000_000_000).max(1),
            window: window.as_nanos() as i64,
            window_total: 0.0,
        }
    }

    /// Number of buckets in the ring.
    pub fn num_buckets(&self) -> usize {
        self.buckets.len()
    }

    /// The window length.
    pub fn window(&self) -> SimDuration {
        SimDuration(self.window as u64)
    }

    fn truncate(&self, t: i64) -> i64 {
        t - t.rem_euclid(self.granularity)
    }

    /// `timeToIndex`: whole seconds divided by whole seconds per bucket.
    fn index(&self, t: i64) -> i64 {
        t.div_euclid(1_000_000_000) / self.granularity_secs
    }

    fn slot(&self, idx: i64) -> usize {
        idx.rem_euclid(self.buckets.len() as i64) as usize
    }

    /// `Record`: adds `v` to the bucket of `t`, zeroing the buckets skipped
    /// since the last write (or everything after a window of silence); values
    /// a full window older than the newest write are dropped.
    pub fn record(&mut self, t: SimTime, v: f64) {
        let now = t.as_nanos() as i64;
        let bt = self.truncate(now);
        let write_idx = self.index(now);
        if self.last_write != Some(bt) {
            // An unset last write is Go's zero time: infinitely long ago.
            let fresh = self.last_write.is_none_or(|lw| bt + self.window > lw);
            if !fresh {
                return;
            }
            if self.first_write.is_none_or(|fw| fw > bt) {
                self.first_write = Some(bt);
            }
            if self.last_write.is_none_or(|lw| bt > lw) {
                match self.last_write {
                    Some(lw) if bt - lw < self.window => {
                        // Bounded by the ring size because bt − lw < window.
                        for i in self.index(lw) + 1..=write_idx {
                            let s = self.slot(i);
                            self.window_total -= self.buckets[s];
                            self.buckets[s] = 0.0;
                        }
                    }
                    _ => {
                        self.first_write = Some(bt);
                        self.buckets.fill(0.0);
                        self.window_total = 0.0;
                    }
                }
                self.last_write = Some(bt);
            }
        }
        let s = self.slot(write_idx);
        self.buckets[s] += v;
        self.window_total += v;
    }

    /// `WindowAverage`: the average over the buckets written since the first
    /// write (at most a window), excluding trailing buckets with no data yet;
    /// 0 after a full window without data. Rounded to 6 digits.
    pub fn window_average(&self, now: SimTime) -> f64 {
        let now = self.truncate(now.as_nanos() as i64);
        let (Some(lw), Some(fw)) = (self.last_write, self.first_write) else {
            return 0.0;
        };
        let nb = self.buckets.len() as i64;
        let written = ((lw - fw) / self.granularity) + 1;
        let d = now - lw;
        if d <= 0 {
            let num_b = written.min(nb) as f64;
            round_to_n_digits(PRECISION, self.window_total / num_b)
        } else if d < self.window {
            let st = self.index(lw);
            let e = self.index(now);
            let mut ret = self.window_total;
            for i in st + 1..=e {
                ret -= self.buckets[self.slot(i)];
            }
            let num_b = written.min(nb - (e - st)) as f64;
            round_to_n_digits(PRECISION, ret / num_b)
        } else {
            0.0
        }
    }

    /// `IsEmpty`: no data for more than a window.
    pub fn is_empty(&self, now: SimTime) -> bool {
        let now = self.truncate(now.as_nanos() as i64);
        self.is_empty_truncated(now)
    }

    fn is_empty_truncated(&self, now: i64) -> bool {
        self.last_write.is_none_or(|lw| now - lw > self.window)
    }

    /// `ResizeWindow` as seen from the time of the newest write: the data is
    /// kept whenever anything was ever written. Knative decides this against
    /// the wall clock; use [`Self::resize_window_at`] to give that time.
    pub fn resize_window(&mut self, w: SimDuration) {
        let now = self.last_write.unwrap_or(0).max(0) as u64;
        self.resize_window_at(SimTime(now), w);
    }

    /// `ResizeWindow(w)` called at `now`: if data was written within the old
    /// window, the newest `min(old, new)` buckets are kept and `firstWrite`
    /// is moved back to cover the old window; otherwise everything resets.
    /// A no-op when the window is unchanged.
    pub fn resize_window_at(&mut self, now: SimTime, w: SimDuration) {
        let w_ns = w.as_nanos() as i64;
        if w_ns == self.window {
            return;
        }
        let g = SimDuration(self.granularity as u64);
        let nbn = num_buckets(w, g);
        let mut fresh = vec![0.0; nbn];
        let mut total = 0.0;
        let now = self.truncate(now.as_nanos() as i64);
        match self.last_write {
            Some(lw) if now - lw <= self.window => {
                let old = self.buckets.len();
                let mut t_idx = self.index(lw);
                for _ in 0..nbn.min(old) {
                    let oi = t_idx.rem_euclid(old as i64) as usize;
                    let ni = t_idx.rem_euclid(nbn as i64) as usize;
                    fresh[ni] = self.buckets[oi];
                    total += self.buckets[oi];
                    t_idx -= 1;
                }
                self.first_write = Some(lw - (old as i64 - 1) * self.granularity);
            }
            _ => self.first_write = None,
        }
        self.window = w_ns;
        self.buckets = fresh;
        self.window_total = total;
    }

    /// `windowTotal`: the sum of all buckets in the ring.
    pub fn sum(&self) -> f64 {
        self.window_total
    }

    /// The value of the ring slot that time `t` maps to (for tests and
    /// inspection; slots older than the window may hold newer data).
    pub fn bucket_at(&self, t: SimTime) -> f64 {
        self.buckets[self.slot(self.index(t.as_nanos() as i64))]
    }

    /// Start of the averaging range (`firstWrite`), None when unset. A time
    /// before the start of the run (possible after a resize) reads as 0.
    pub fn first_write(&self) -> Option<SimTime> {
        self.first_write.map(|t| SimTime(t.max(0) as u64))
    }

    /// Bucket-aligned time of the newest write (`lastWrite`).
    pub fn last_write(&self) -> Option<SimTime> {
        self.last_write.map(|t| SimTime(t.max(0) as u64))
    }
}

/// Exponentially weighted window average (`WeightedFloat64Buckets`).
#[derive(Clone, Debug)]
pub struct WeightedFloat64Buckets {
    inner: TimedFloat64Buckets,
    smoothing: f64,
}

impl WeightedFloat64Buckets {
    /// `NewWeightedFloat64Buckets(window, granularity)`.
    pub fn new(window: SimDuration, granularity: SimDuration) -> Self {
        let inner = TimedFloat64Buckets::new(window, granularity);
        let smoothing = smoothing_coefficient(inner.num_buckets());
        WeightedFloat64Buckets { inner, smoothing }
    }

    /// The smoothing coefficient alpha.
    pub fn smoothing_coefficient(&self) -> f64 {
        self.smoothing
    }

    /// Same as the linear `Record`.
    pub fn record(&mut self, t: SimTime, v: f64) {
        self.inner.record(t, v);
    }

    /// `WindowAverage`: `Σ bucket[lastWrite − i] · α(1−α)^(i + nz)` over the
    /// buckets still inside the window, where `nz` counts empty buckets since
    /// the last write. Not normalised and not rounded, as upstream.
    pub fn window_average(&self, now: SimTime) -> f64 {
        let b = &self.inner;
        let now = b.truncate(now.as_nanos() as i64);
        if b.is_empty_truncated(now) {
            return 0.0;
        }
        let Some(lw) = b.last_write else {
            return 0.0;
        };
        let total_b = b.buckets.len() as i64;
        let mut num_b = total_b;
        let mut multiplier = self.smoothing;
        if now > lw {
            let num_z = (now - lw) / b.granularity;
            multiplier *= (1.0 - self.smoothing).powf(num_z as f64);
            num_b -= num_z;
        }
        let start = b.index(lw) + total_b;
        let mut ret = 0.0;
        for i in 0..num_b.max(0) {
            ret += b.buckets[b.slot(start - i)] * multiplier;
            multiplier *= 1.0 - self.smoothing;
        }
        ret
    }

    /// Same as the linear `IsEmpty`.
    pub fn is_empty(&self, now: SimTime) -> bool {
        self.inner.is_empty(now)
    }

    /// `ResizeWindow`, also recomputing alpha; see
    /// [`TimedFloat64Buckets::resize_window`].
    pub fn resize_window(&mut self, w: SimDuration) {
        self.inner.resize_window(w);
        self.smoothing = smoothing_coefficient(self.inner.num_buckets());
    }

    /// `ResizeWindow` called at `now`.
    pub fn resize_window_at(&mut self, now: SimTime, w: SimDuration) {
        self.inner.resize_window_at(now, w);
        self.smoothing = smoothing_coefficient(self.inner.num_buckets());
    }

    /// `windowTotal` of the underlying ring.
    pub fn sum(&self) -> f64 {
        self.inner.sum()
    }
}

/// Either kind of bucket window, chosen per revision by its aggregation
/// annotation.
#[derive(Clone, Debug)]
pub enum MetricBuckets {
    /// Linear averaging.
    Linear(TimedFloat64Buckets),
    /// Weighted exponential averaging.
    Weighted(WeightedFloat64Buckets),
}

impl MetricBuckets {
    /// Buckets of the kind `agg` asks for.
    pub fn new(agg: Aggregation, window: SimDuration, granularity: SimDuration) -> Self {
        match agg {
            Aggregation::Linear => {
                MetricBuckets::Linear(TimedFloat64Buckets::new(window, granularity))
            }
            Aggregation::WeightedExponential => {
                MetricBuckets::Weighted(WeightedFloat64Buckets::new(window, granularity))
            }
        }
    }

    /// `Record`.
    pub fn record(&mut self, t: SimTime, v: f64) {
        match self {
            MetricBuckets::Linear(b) => b.record(t, v),
            MetricBuckets::Weighted(b) => b.record(t, v),
        }
    }

    /// `WindowAverage`.
    pub fn window_average(&self, now: SimTime) -> f64 {
        match self {
            MetricBuckets::Linear(b) => b.window_average(now),
            MetricBuckets::Weighted(b) => b.window_average(now),
        }
    }

    /// `IsEmpty`.
    pub fn is_empty(&self, now: SimTime) -> bool {
        match self {
            MetricBuckets::Linear(b) => b.is_empty(now),
            MetricBuckets::Weighted(b) => b.is_empty(now),
        }
    }

    /// `ResizeWindow` from the time of the newest write.
    pub fn resize_window(&mut self, w: SimDuration) {
        match self {
            MetricBuckets::Linear(b) => b.resize_window(w),
            MetricBuckets::Weighted(b) => b.resize_window(w),
        }
    }

    /// `ResizeWindow` at `now`.
    pub fn resize_window_at(&mut self, now: SimTime, w: SimDuration) {
        match self {
            MetricBuckets::Linear(b) => b.resize_window_at(now, w),
            MetricBuckets::Weighted(b) => b.resize_window_at(now, w),
        }
    }

    /// `windowTotal`.
    pub fn sum(&self) -> f64 {
        match self {
            MetricBuckets::Linear(b) => b.sum(),
            MetricBuckets::Weighted(b) => b.sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SimDuration = SimDuration::from_secs(1);

    fn t(s: u64) -> SimTime {
        SimTime::from_secs(s)
    }

    #[test]
    fn record_at_time_zero_counts_as_first_write() {
        // SimTime starts at 0, which must not be mistaken for "never written".
        let mut b = TimedFloat64Buckets::new(SimDuration::from_secs(5), S);
        assert!(b.is_empty(t(0)));
        b.record(t(0), 3.0);
        assert!(!b.is_empty(t(0)));
        assert_eq!(b.window_average(t(0)), 3.0);
    }

    #[test]
    fn smoothing_coefficients() {
        let r = |nb| round_to_n_digits(6, smoothing_coefficient(nb));
        assert_eq!(r(5), 0.841511);
        assert_eq!(round_to_n_digits(5, smoothing_coefficient(6)), 0.78456);
        assert_eq!(r(10), 0.601893);
        assert_eq!(round_to_n_digits(5, smoothing_coefficient(40)), 0.20567);
        assert_eq!(smoothing_coefficient(60), 0.2);
    }

    #[test]
    fn weighted_average_weights_newest_most() {
        // [10, 10, 5, 5] with newest last, alpha for 4 buckets.
        let mut b = WeightedFloat64Buckets::new(SimDuration::from_secs(4), S);
        for (i, v) in [10.0, 10.0, 5.0, 5.0].into_iter().enumerate() {
            b.record(t(100 + i as u64), v);
        }
        let a = b.smoothing_coefficient();
        let want = 5.0 * a
            + 5.0 * a * (1.0 - a)
            + 10.0 * a * (1.0 - a).powi(2)
            + 10.0 * a * (1.0 - a).powi(3);
        assert!((b.window_average(t(103)) - want).abs() < 1e-12);
        // One empty second shifts every weight by (1 − a) and drops the oldest.
        let want1 =
            5.0 * a * (1.0 - a) + 5.0 * a * (1.0 - a).powi(2) + 10.0 * a * (1.0 - a).powi(3);
        assert!((b.window_average(t(104)) - want1).abs() < 1e-12);
        assert_eq!(b.window_average(t(108)), 0.0);
        assert!(b.is_empty(t(108)));
    }
}
