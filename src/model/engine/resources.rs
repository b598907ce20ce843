//! The resource model of pods: the CPU time and memory each pod uses, which
//! metrics-server scrapes and the HPA reads.
//!
//! A request uses its CPU time evenly over its execution, so a pod's CPU
//! counter grows at the sum of its executing requests' rates. The CPU time
//! of a request is its own draw from `[revision.usage] cpu-per-request`, or
//! by default its service time at one core: the time drawn before the
//! `slowdown` model stretches it, since sharing CPUs spreads the same work
//! over a longer time. A pod whose requests would need more than its CPU
//! limit is throttled: a request starting there runs `demand / limit` times
//! longer, the CPU-sharing rule of the slowdown model with the limit as the
//! cores (a revision with a `slowdown` model is not stretched again: that
//! model already says how its requests share the container's CPUs). That
//! factor is fixed when the request starts, so the requests on a
//! pod can together ask for more than the limit; the counter then grows at
//! the limit, as the CFS quota allows no more. Memory is a baseline plus an amount per request held.
//!
//! Only revisions that are HPA-class or have a `[revision.usage]` table use
//! the model; for the others every call returns at once and nothing is
//! drawn, so their outputs are those of a run without it.

use super::event::{PodId, ReqId};
use crate::kubernetes::resources::PodResources;
use crate::scenario::usage::Usage;
use crate::sim::{SimRng, SimTime};
use crate::workload::Dist;

/// One pod's CPU counter.
#[derive(Clone, Copy, Debug, Default)]
struct PodCpu {
    /// CPU seconds used up to `since`.
    used: f64,
    /// Cores in use since then.
    rate: f64,
    since: SimTime,
    executing: u32,
}

impl PodCpu {
    fn at(&self, now: SimTime) -> f64 {
        self.used + self.rate * (now - self.since).as_secs_f64()
    }

    fn advance(&mut self, now: SimTime) {
        self.used = self.at(now);
        self.since = now;
    }

    /// The counter of a pod whose CPU is capped at `cap` cores: the CFS
    /// quota never lets it use more, whatever its requests ask.
    fn at_capped(&self, now: SimTime, cap: f64) -> f64 {
        self.used + self.rate.min(cap) * (now - self.since).as_secs_f64()
    }

    fn advance_capped(&mut self, now: SimTime, cap: f64) {
        self.used = self.at_capped(now, cap);
        self.since = now;
    }
}

/// The resource model of one revision.
pub(crate) struct RevisionUsage {
    cpu: Option<Dist>,
    rng: SimRng,
    /// The user container's CPU limit, in cores.
    limit_cores: Option<f64>,
    /// Stretch requests beyond the limit (only without a slowdown model,
    /// which already says how requests share the container's CPUs).
    throttle: bool,
    /// CPU request of the whole pod (user container + queue-proxy), in
    /// millicores; `None` when the user container has none.
    request_milli: Option<i64>,
    memory_baseline: i64,
    memory_per_request: i64,
    pods: Vec<PodCpu>,
    /// The revision's counter over all its pods.
    total: PodCpu,
    /// `total` at the end of the last second.
    last_second: f64,
    /// Sum and count of the per-second utilizations.
    util_sum: f64,
    util_seconds: u64,
}

/// The resource model of every revision that uses it.
#[derive(Default)]
pub(crate) struct Resources {
    revs: Vec<Option<RevisionUsage>>,
    /// Cores each executing request uses, by request slot.
    req_rate: Vec<f64>,
}

impl Resources {
    /// Adds the next revision; `usage` is `None` when it does not use the
    /// model. `rng` is drawn from only when `cpu-per-request` is given.
    pub(crate) fn add_revision(
        &mut self,
        usage: Option<&Usage>,
        resources: &PodResources,
        slowdown: bool,
        rng: SimRng,
    ) {
        self.revs.push(usage.map(|u| {
            let user = resources.user;
            let request_milli = user
                .requests
                .cpu_milli
                .map(|c| c + resources.queue_proxy.requests.cpu_milli.unwrap_or(0));
            RevisionUsage {
                cpu: u.cpu_per_request.clone(),
                rng,
                limit_cores: user.limits.cpu_milli.map(|m| m as f64 / 1000.0),
                throttle: !slowdown,
                request_milli,
                memory_baseline: u.memory_baseline,
                memory_per_request: u.memory_per_request,
                pods: Vec::new(),
                total: PodCpu::default(),
                last_second: 0.0,
                util_sum: 0.0,
                util_seconds: 0,
            }
        }));
    }

    /// Whether revision `r` uses the model.
    #[inline]
    pub(crate) fn active(&self, r: usize) -> bool {
        self.revs[r].is_some()
    }

    /// The pod's CPU request (user container + queue-proxy), millicores.
    pub(crate) fn request_milli(&self, r: usize) -> Option<i64> {
        self.revs[r].as_ref().and_then(|u| u.request_milli)
    }

    /// Request `id` starts on `pod` at `now` with `base` seconds of work at
    /// one core, taking `wall` seconds: records its CPU rate and returns a
    /// longer wall time if the pod's CPU limit throttles it.
    pub(crate) fn start(
        &mut self,
        r: usize,
        id: ReqId,
        pod: PodId,
        now: SimTime,
        base: f64,
        wall: f64,
    ) -> Option<f64> {
        let u = self.revs[r].as_mut()?;
        let cpu = match &u.cpu {
            Some(d) => d.sample(&mut u.rng),
            None => base,
        };
        if u.pods.len() <= pod.idx() {
            u.pods.resize(pod.idx() + 1, PodCpu::default());
        }
        let cap = u.limit_cores.unwrap_or(f64::INFINITY);
        let p = &mut u.pods[pod.idx()];
        let before = p.rate.min(cap);
        let mut wall = wall;
        let mut rate = if wall > 0.0 { cpu / wall } else { 0.0 };
        if let (Some(limit), true) = (u.limit_cores, u.throttle) {
            let demand = p.rate + rate;
            if demand > limit && rate > 0.0 {
                // Throttled by the CFS quota: every request on the pod gets
                // limit/demand of what it asks; the new one is stretched.
                wall *= demand / limit;
                rate = cpu / wall;
            }
        }
        p.advance_capped(now, cap);
        p.rate += rate;
        p.executing += 1;
        u.total.advance(now);
        u.total.rate += p.rate.min(cap) - before;
        let slot = id.idx();
        if self.req_rate.len() <= slot {
            self.req_rate.resize(slot + 1, 0.0);
        }
        self.req_rate[slot] = rate;
        Some(wall)
    }

    /// Request `id` on `pod` stopped executing at `now`.
    pub(crate) fn done(&mut self, r: usize, id: ReqId, pod: PodId, now: SimTime) {
        let Some(u) = self.revs[r].as_mut() else {
            return;
        };
        let rate = std::mem::take(&mut self.req_rate[id.idx()]);
        let cap = u.limit_cores.unwrap_or(f64::INFINITY);
        let p = &mut u.pods[pod.idx()];
        let before = p.rate.min(cap);
        p.advance_capped(now, cap);
        p.executing -= 1;
        // Sums of floats do not cancel exactly: an idle pod uses nothing.
        p.rate = if p.executing == 0 {
            0.0
        } else {
            (p.rate - rate).max(0.0)
        };
        u.total.advance(now);
        u.total.rate = (u.total.rate + p.rate.min(cap) - before).max(0.0);
    }

    /// The pod's cumulative CPU seconds at `now`.
    pub(crate) fn cpu_seconds(&self, r: usize, pod: PodId, now: SimTime) -> f64 {
        self.revs[r].as_ref().map_or(0.0, |u| {
            let cap = u.limit_cores.unwrap_or(f64::INFINITY);
            u.pods.get(pod.idx()).map_or(0.0, |p| p.at_capped(now, cap))
        })
    }

    /// The pod's working set with `in_flight` requests held.
    pub(crate) fn working_set(&self, r: usize, in_flight: u32) -> i64 {
        self.revs[r].as_ref().map_or(0, |u| {
            crate::knative::hpa::metrics_server::working_set_bytes(
                u.memory_baseline,
                u.memory_per_request,
                in_flight,
            )
        })
    }

    /// Closes a second: the revision's CPU use over it as a percentage of
    /// what `pods` pods request (`None` without a CPU request or pods).
    pub(crate) fn close_second(&mut self, r: usize, now: SimTime, pods: usize) -> Option<f64> {
        let u = self.revs[r].as_mut()?;
        let total = u.total.at(now);
        let used = total - u.last_second;
        u.last_second = total;
        let req = u.request_milli? as f64 / 1000.0 * pods as f64;
        if req <= 0.0 {
            return None;
        }
        // Hundredths of a percent: the float noise of the sums below that
        // would only clutter the CSV.
        let pct = (used / req * 10_000.0).round() / 100.0;
        u.util_sum += pct;
        u.util_seconds += 1;
        Some(pct)
    }

    /// Mean of the per-second utilizations so far (0 if none).
    pub(crate) fn mean_utilization(&self, r: usize) -> f64 {
        self.revs[r]
            .as_ref()
            .filter(|u| u.util_seconds > 0)
            .map_or(0.0, |u| u.util_sum / u.util_seconds as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubernetes::resources::{ContainerResources, ResourceList};
    use crate::sim::{RngStreams, Stream};

    fn model(limit_milli: Option<i64>) -> Resources {
        let res = PodResources {
            user: ContainerResources {
                requests: ResourceList {
                    cpu_milli: Some(500),
                    memory_bytes: None,
                },
                limits: ResourceList {
                    cpu_milli: limit_milli,
                    memory_bytes: None,
                },
            },
            queue_proxy: ContainerResources {
                requests: ResourceList {
                    cpu_milli: Some(25),
                    memory_bytes: None,
                },
                ..Default::default()
            },
        };
        let mut m = Resources::default();
        let rng = RngStreams::new(1).get(Stream::Resources, 0);
        m.add_revision(None, &res, false, rng.clone());
        m.add_revision(
            Some(&Usage {
                cpu_per_request: None,
                memory_baseline: 100,
                memory_per_request: 10,
            }),
            &res,
            false,
            rng,
        );
        m
    }

    fn at(s: f64) -> SimTime {
        SimTime::from_secs_f64(s)
    }

    #[test]
    fn revisions_without_the_model_are_untouched() {
        let mut m = model(None);
        assert!(!m.active(0));
        assert_eq!(m.start(0, ReqId(0), PodId(0), at(0.0), 1.0, 2.0), None);
        assert_eq!(m.close_second(0, at(1.0), 1), None);
    }

    #[test]
    fn a_request_uses_its_base_time_spread_over_its_wall_time() {
        let mut m = model(None);
        // 0.1 s of work stretched to 0.4 s by sharing: 0.25 cores.
        assert_eq!(m.start(1, ReqId(3), PodId(0), at(0.0), 0.1, 0.4), Some(0.4));
        assert!((m.cpu_seconds(1, PodId(0), at(0.2)) - 0.05).abs() < 1e-12);
        m.done(1, ReqId(3), PodId(0), at(0.4));
        let used = m.cpu_seconds(1, PodId(0), at(5.0));
        assert!((used - 0.1).abs() < 1e-12, "{used}");
        // 0.1 CPU-seconds in the first second over one pod's 525m request.
        let u = m.close_second(1, at(1.0), 1).unwrap();
        assert_eq!(u, 19.05, "0.1 / 0.525 to hundredths of a percent");
        assert_eq!(m.request_milli(1), Some(525));
    }

    #[test]
    fn a_cpu_limit_stretches_requests_beyond_it() {
        let mut m = model(Some(1000));
        // Two requests of one core each: the second finds 1 core in use
        // and, at a 1-core limit, runs twice as long.
        assert_eq!(m.start(1, ReqId(0), PodId(0), at(0.0), 1.0, 1.0), Some(1.0));
        assert_eq!(m.start(1, ReqId(1), PodId(0), at(0.0), 1.0, 1.0), Some(2.0));
        // They ask for 1.5 cores; the quota lets the pod use one.
        let used = m.cpu_seconds(1, PodId(0), at(1.0));
        assert!((used - 1.0).abs() < 1e-12, "{used}");
        m.done(1, ReqId(0), PodId(0), at(1.0));
        let used = m.cpu_seconds(1, PodId(0), at(2.0));
        assert!((used - 1.5).abs() < 1e-12, "{used}");
    }

    #[test]
    fn memory_is_a_baseline_plus_per_request() {
        let m = model(None);
        assert_eq!(m.working_set(1, 3), 130);
        assert_eq!(m.working_set(0, 3), 0);
    }
}
