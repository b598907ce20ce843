//! Time-weighted request statistics, as Knative's `RequestStats` keeps them in
//! the queue-proxy and in the activator's concurrency reporter.

use crate::knative::collector::Stat;
use crate::sim::SimTime;

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
