//! Fixed numbers of Knative's data plane that the cluster model follows:
//! the queue-proxy's breaker and drain (`pkg/queue/sharedmain/main.go`,
//! `pkg/queue/breaker.go`), the activator's probing and stat reporting
//! (`pkg/activator/net/revision_backends.go`, `cmd/activator/main.go`) and
//! the autoscaler's scrape tick (`pkg/autoscaler/metrics/collector.go`).
//! The decider's tick is [`super::decider::TICK_INTERVAL`] and the
//! activation-timeout buffer [`super::kpa::ACTIVATION_TIMEOUT_BUFFER`].

use crate::sim::SimDuration;

/// The queue-proxy's breaker queue holds this many requests per unit of
/// `containerConcurrency` beyond the executing ones (`QueueDepth: 10 * cc`).
pub const QUEUE_PROXY_QUEUE_DEPTH_PER_CC: u32 = 10;

/// Requests one queue-proxy admits at once (executing plus queued) for a
/// positive `containerConcurrency`: `MaxConcurrency + QueueDepth`, i.e.
/// `11 * cc`. A request beyond it is answered 503. `cc == 0` means no breaker
/// (unlimited); the function then returns 0 and callers must not use it as
/// a limit. Saturates instead of overflowing.
pub const fn queue_proxy_breaker_capacity(cc: u32) -> u32 {
    cc.saturating_mul(QUEUE_PROXY_QUEUE_DEPTH_PER_CC + 1)
}

/// After SIGTERM the queue-proxy keeps serving this long before it shuts
/// down (`drainSleepDuration`, networking's default drain timeout).
pub const QUEUE_PROXY_DRAIN: SimDuration = SimDuration::from_secs(30);

/// The queue-proxy's stats reporter publishes one sample per second
/// (`reportingPeriod`).
pub const QUEUE_PROXY_REPORTING_PERIOD: SimDuration = SimDuration::from_secs(1);

/// The activator probes a pod it has not yet seen ready this often
/// (`probeFrequency`).
pub const ACTIVATOR_PROBE_PERIOD: SimDuration = SimDuration::from_millis(200);

/// The activator sends its concurrency stats to the autoscaler once a second
/// (`reportingPeriod` in the activator's main).
pub const ACTIVATOR_REPORTING_PERIOD: SimDuration = SimDuration::from_secs(1);

/// The autoscaler scrapes each revision's pods once a second
/// (`scrapeTickInterval`).
pub const SCRAPE_INTERVAL: SimDuration = SimDuration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_admits_eleven_per_unit_of_concurrency() {
        assert_eq!(queue_proxy_breaker_capacity(1), 11);
        assert_eq!(queue_proxy_breaker_capacity(10), 110);
        assert_eq!(queue_proxy_breaker_capacity(0), 0);
    }

    #[test]
    fn breaker_capacity_saturates() {
        assert_eq!(queue_proxy_breaker_capacity(u32::MAX), u32::MAX);
    }
}
