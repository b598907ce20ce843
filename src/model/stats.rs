//! Time-weighted request statistics, as Knative's `RequestStats` keeps them in
//! the queue-proxy and in the activator's concurrency reporter; and the
//! batch-means arithmetic behind a windowed summary's intervals.

use super::report::Interval;
use crate::knative::collector::Stat;
use crate::sim::SimTime;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The 95 % Student-t interval of the mean of `xs` (n − 1 degrees of
/// freedom), treating each value as one independent batch; `None` with
/// fewer than two values.
pub fn batch_interval(xs: &[f64]) -> Option<Interval> {
    if xs.len() < 2 {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .expect("n >= 2")
        .inverse_cdf(0.975);
    let h = t * (var / n).sqrt();
    Some(Interval {
        estimate: mean,
        half_width: h,
        low: mean - h,
        high: mean + h,
    })
}

/// Lag-1 autocorrelation of `xs`; `None` with fewer than three values or no
/// variation.
pub fn lag1_autocorrelation(xs: &[f64]) -> Option<f64> {
    if xs.len() < 3 {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let den: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
    if den == 0.0 {
        return None;
    }
    let num: f64 = xs.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
    Some(num / den)
}

/// Integrates in-flight counts over time between reports.
#[derive(Clone, Debug, Default)]
pub struct RequestStats {
    concurrency: u32,
    proxied_concurrency: u32,
    /// ∫ concurrency dt, in request·nanoseconds.
    integral: u64,
    proxied_integral: u64,
    requests: u32,
    proxied_requests: u32,
    last_change: SimTime,
    period_start: SimTime,
}

impl RequestStats {
    /// Stats whose first period starts at `now`.
    pub fn new(now: SimTime) -> Self {
        RequestStats {
            last_change: now,
            period_start: now,
            ..Default::default()
        }
    }

    #[inline]
    fn advance(&mut self, now: SimTime) {
        let dt = now.as_nanos() - self.last_change.as_nanos();
        if dt > 0 {
            self.integral += self.concurrency as u64 * dt;
            self.proxied_integral += self.proxied_concurrency as u64 * dt;
            self.last_change = now;
        }
    }

    /// A request entered (`ReqIn`).
    #[inline]
    pub fn request_in(&mut self, now: SimTime, proxied: bool) {
        self.advance(now);
        self.concurrency += 1;
        self.requests += 1;
        if proxied {
            self.proxied_concurrency += 1;
            self.proxied_requests += 1;
        }
    }

    /// A request left (`ReqOut`).
    #[inline]
    pub fn request_out(&mut self, now: SimTime, proxied: bool) {
        self.advance(now);
        self.concurrency -= 1;
        if proxied {
            self.proxied_concurrency -= 1;
        }
    }

    /// Current in-flight count.
    pub fn concurrency(&self) -> u32 {
        self.concurrency
    }

    /// Closes the period at `now` and returns its averages; counts are per
    /// second of the 1-s reporting period, as the queue-proxy divides them by
    /// its reporting period rather than by the measured elapsed time.
    pub fn report(&mut self, now: SimTime) -> Stat {
        self.advance(now);
        let elapsed = now.as_nanos().saturating_sub(self.period_start.as_nanos());
        let (avg, proxied) = if elapsed == 0 {
            (0.0, 0.0)
        } else {
            (
                self.integral as f64 / elapsed as f64,
                self.proxied_integral as f64 / elapsed as f64,
            )
        };
        let stat = Stat {
            average_concurrent_requests: avg,
            average_proxied_concurrent_requests: proxied,
            request_count: self.requests as f64,
            proxied_request_count: self.proxied_requests as f64,
        };
        self.integral = 0;
        self.proxied_integral = 0;
        self.requests = 0;
        self.proxied_requests = 0;
        self.period_start = now;
        stat
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimDuration;

    #[test]
    fn batch_interval_is_the_t_interval_of_the_batch_values() {
        // mean 3, s² = 2.5, se = √0.5; t(0.975, 4) = 2.776445.
        let i = batch_interval(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert!((i.estimate - 3.0).abs() < 1e-12);
        assert!((i.half_width - 2.776445 * 0.5f64.sqrt()).abs() < 1e-5);
        assert!((i.low + i.half_width - 3.0).abs() < 1e-12);
        assert!(batch_interval(&[1.0]).is_none());
    }

    #[test]
    fn lag1_autocorrelation_sees_trends_and_alternation() {
        let trend = lag1_autocorrelation(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert!(trend > 0.4, "{trend}");
        let alt = lag1_autocorrelation(&[1.0, -1.0, 1.0, -1.0, 1.0, -1.0]).unwrap();
        assert!(alt < -0.7, "{alt}");
        assert!(lag1_autocorrelation(&[2.0, 2.0, 2.0]).is_none());
    }

    #[test]
    fn averages_are_time_weighted_and_include_proxied_share() {
        let t0 = SimTime::from_secs(10);
        let mut s = RequestStats::new(t0);
        s.request_in(t0, false);
        s.request_in(t0 + SimDuration::from_millis(500), true);
        s.request_out(t0 + SimDuration::from_millis(750), true);
        let r = s.report(t0 + SimDuration::from_secs(1));
        // 1 for the whole second + 1 for a quarter second.
        assert!((r.average_concurrent_requests - 1.25).abs() < 1e-12);
        assert!((r.average_proxied_concurrent_requests - 0.25).abs() < 1e-12);
        assert_eq!(r.request_count, 2.0);
        assert_eq!(r.proxied_request_count, 1.0);
        // Concurrency persists into the next period; counts reset.
        let r2 = s.report(t0 + SimDuration::from_secs(2));
        assert_eq!(r2.average_concurrent_requests, 1.0);
        assert_eq!(r2.request_count, 0.0);
    }
}
