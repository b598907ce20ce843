//! The autoscaler's scraper for one revision: once per
//! [`SCRAPE_INTERVAL`](crate::knative::dataplane::SCRAPE_INTERVAL) it reads
//! the last report of a sample of the ready pods and scales the sum up to
//! the whole population.
//!
//! Follows `pkg/autoscaler/metrics/stats_scraper.go`: sample size from
//! [`population_mean_sample_size`], pods older than the stable window
//! preferred (shuffled), topped up with shuffled younger pods. Shuffles draw
//! from the revision's own random stream.

use crate::knative::collector::Stat;
use crate::knative::sample_size::population_mean_sample_size;
use crate::model::engine::event::PodId;
use crate::sim::{SimDuration, SimRng, SimTime};
use rand::Rng;

/// One revision's scraper.
pub(crate) struct Scraper {
    rng: SimRng,
    scratch: Vec<PodId>,
}

impl Scraper {
    /// A scraper drawing its samples from `rng`.
    pub(crate) fn new(rng: SimRng) -> Self {
        Scraper {
            rng,
            scratch: Vec::new(),
        }
    }

    /// Scrapes the `ready` pods at `now`: `started` gives a pod's container
    /// start, `report` its last report. `None` when no pod is ready.
    pub(crate) fn scrape<'a>(
        &mut self,
        now: SimTime,
        stable_window: SimDuration,
        ready: &[PodId],
        started: impl Fn(PodId) -> SimTime,
        report: impl Fn(PodId) -> &'a Stat,
    ) -> Option<Stat> {
        let n_total = ready.len();
        if n_total == 0 {
            return None;
        }
        let n = population_mean_sample_size(n_total);
        let mut sum = Stat::default();
        let mut add = |s: &Stat| {
            sum.average_concurrent_requests += s.average_concurrent_requests;
            sum.average_proxied_concurrent_requests += s.average_proxied_concurrent_requests;
            sum.request_count += s.request_count;
            sum.proxied_request_count += s.proxied_request_count;
        };
        if n >= n_total {
            for &p in ready {
                add(report(p));
            }
        } else {
            let scratch = &mut self.scratch;
            scratch.clear();
            let is_old = |p: PodId| now.saturating_since(started(p)) >= stable_window;
            scratch.extend(ready.iter().copied().filter(|&p| is_old(p)));
            let old = scratch.len();
            shuffle(scratch, &mut self.rng);
            if old < n {
                let start = scratch.len();
                scratch.extend(ready.iter().copied().filter(|&p| !is_old(p)));
                shuffle(&mut scratch[start..], &mut self.rng);
            }
            for &p in &scratch[..n] {
                add(report(p));
            }
        }
        let scale = n_total as f64 / n as f64;
        Some(Stat {
            average_concurrent_requests: sum.average_concurrent_requests * scale,
            average_proxied_concurrent_requests: sum.average_proxied_concurrent_requests * scale,
            request_count: sum.request_count * scale,
            proxied_request_count: sum.proxied_request_count * scale,
        })
    }
}

/// Fisher-Yates, from the back, as Go's `rand.Shuffle`.
fn shuffle(v: &mut [PodId], rng: &mut SimRng) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RngStreams, Stream};

    fn stat(c: f64) -> Stat {
        Stat {
            average_concurrent_requests: c,
            average_proxied_concurrent_requests: 0.0,
            request_count: c,
            proxied_request_count: 0.0,
        }
    }

    fn scraper() -> Scraper {
        Scraper::new(RngStreams::new(3).get(Stream::Scraper, 0))
    }

    #[test]
    fn no_ready_pod_no_sample() {
        let got = scraper().scrape(
            SimTime::ZERO,
            SimDuration::from_secs(60),
            &[],
            |_| SimTime::ZERO,
            |_| unreachable!(),
        );
        assert!(got.is_none());
    }

    #[test]
    fn few_pods_are_all_read_and_summed() {
        let stats = [stat(1.0), stat(2.0), stat(4.0)];
        let ready = [PodId(0), PodId(1), PodId(2)];
        let got = scraper()
            .scrape(
                SimTime::from_secs(1),
                SimDuration::from_secs(60),
                &ready,
                |_| SimTime::ZERO,
                |p| &stats[p.idx()],
            )
            .unwrap();
        assert_eq!(got.average_concurrent_requests, 7.0);
    }

    #[test]
    fn a_sample_of_many_pods_prefers_old_ones_and_scales_to_all() {
        // 100 pods: the 50 old ones report 1, the young ones 1000. A sample
        // smaller than 50 reads only old pods.
        let n = 100;
        assert!(population_mean_sample_size(n) < 50);
        let stats: Vec<Stat> = (0..n)
            .map(|i| stat(if i < 50 { 1.0 } else { 1000.0 }))
            .collect();
        let ready: Vec<PodId> = (0..n as u32).map(PodId).collect();
        let now = SimTime::from_secs(100);
        let started = |p: PodId| {
            if p.idx() < 50 {
                SimTime::ZERO
            } else {
                SimTime::from_secs(90)
            }
        };
        let got = scraper()
            .scrape(now, SimDuration::from_secs(60), &ready, started, |p| {
                &stats[p.idx()]
            })
            .unwrap();
        assert!(
            (got.average_concurrent_requests - n as f64).abs() < 1e-9,
            "{got:?}"
        );
    }
}
