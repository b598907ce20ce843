//! The queue-proxy sidecar of each pod and the user container behind it.
//!
//! Follows `pkg/queue/breaker.go` and `pkg/queue/sharedmain/main.go`: with a
//! positive `containerConcurrency` (cc) a breaker lets cc requests execute
//! and queues up to `10 * cc` more, answering 503 beyond
//! [`queue_proxy_breaker_capacity`]; cc = 0 means no breaker. Freed slots go
//! to waiters first come, first served. The request-count and concurrency
//! stats of `pkg/queue/stats.go` ([`RequestStats`]) are reported once per
//! reporting period for the scraper to read.
//!
//! The user container's service time is drawn here from the revision's
//! distribution (or taken from a trace), stretched by the slowdown model when
//! requests share the container's CPUs. Its random stream is drawn from in
//! the order requests start.

use super::event::{PodId, ReqId};
use super::request::{ReqState, Request, Requests};
use crate::knative::collector::Stat;
use crate::knative::dataplane::queue_proxy_breaker_capacity;
use crate::model::stats::RequestStats;
use crate::sim::{SimDuration, SimRng, SimTime};
use crate::workload::{Dist, Slowdown};
use rand::Rng;
use std::collections::VecDeque;

/// One pod's queue-proxy: what every request touches, in one 64-byte
/// line. A request reaches its pod again 100 ms after it started, when a
/// large cluster has pushed the line out of the cache; the wait queue and
/// the last report live apart, as most requests never wait and only the
/// scraper reads the report.
#[repr(align(64))]
struct Proxy {
    /// Requests the application is serving.
    executing: u32,
    /// Requests admitted by the breaker (executing or queued); its excess
    /// over `executing` is the number of live waiters in the pod's queue.
    in_flight: u32,
    stats: RequestStats,
    /// The pod was deleted and its drain sleep is over: it goes once empty.
    /// Kept here, beside `in_flight`, so that asking whether a pod whose
    /// request just ended can go costs no read of the pod's record.
    drain_slept: bool,
}

/// What the breaker did with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Full: answered 503 at once.
    Overflow,
    /// Given an execution slot: start serving it.
    Start,
    /// Queued for a slot: arm its timeout.
    Queued,
}

/// The queue-proxies of one revision's pods, indexed by pod id, and the
/// revision's application.
///
/// Laid out by use, as with hundreds of revisions each request finds the
/// record out of the cache: a request that starts reads the first two
/// lines (the service time's draw, then the breaker with the deadline), one
/// that ends only the second.
#[repr(C, align(64))]
pub(crate) struct RevisionProxies {
    service: Dist,
    rng: SimRng,
    /// The revision's `timeoutSeconds`: a request's deadline is this long
    /// after its arrival.
    timeout: SimDuration,
    proxies: Vec<Proxy>,
    /// Waiters for an execution slot by pod, with their slot generations;
    /// entries of waiters that timed out stay until they reach the front.
    queues: Vec<VecDeque<(ReqId, u32)>>,
    cc: u32,
    /// `slowdown` is not `Slowdown::None`, and `failure` is set: kept in
    /// the breaker's line so that a request of an application without
    /// either reads no third line.
    slowed: bool,
    fails: bool,
    /// The application's independent 500s: probability and stream, only
    /// when the probability is above 0 (so no draw moves other outputs).
    failure: Option<(f64, SimRng)>,
    slowdown: Slowdown,
    /// Each pod's last closed reporting period, as the scraper reads it.
    last_reports: Vec<Stat>,
}

// The draw's line, then the breaker's.
const _: () = assert!(std::mem::offset_of!(RevisionProxies, timeout) == 64);
const _: () = assert!(std::mem::offset_of!(RevisionProxies, failure) == 128);

impl RevisionProxies {
    /// The proxies of a revision with concurrency limit `cc` and request
    /// timeout `timeout` whose application serves in `service` time,
    /// drawing from `rng`, and fails a request with the probability of
    /// `failure`, drawing from its stream.
    pub(crate) fn new(
        cc: u32,
        timeout: SimDuration,
        service: Dist,
        slowdown: Slowdown,
        rng: SimRng,
        failure: Option<(f64, SimRng)>,
    ) -> Self {
        RevisionProxies {
            service,
            rng,
            timeout,
            proxies: Vec::new(),
            queues: Vec::new(),
            cc,
            slowed: !matches!(slowdown, Slowdown::None),
            fails: failure.is_some(),
            failure,
            slowdown,
            last_reports: Vec::new(),
        }
    }

    /// Whether the application answers a request it served with its own
    /// error (500), drawn from the failure stream.
    #[inline]
    pub(crate) fn app_fails(&mut self) -> bool {
        if !self.fails {
            return false;
        }
        match &mut self.failure {
            Some((p, rng)) => rng.random::<f64>() < *p,
            None => false,
        }
    }

    /// Gives every pod up to `pods` (exclusive) a queue-proxy created at `now`.
    pub(crate) fn ensure_pods(&mut self, pods: usize, now: SimTime) {
        while self.proxies.len() < pods {
            self.proxies.push(Proxy {
                executing: 0,
                in_flight: 0,
                stats: RequestStats::new(now),
                drain_slept: false,
            });
            self.queues.push(VecDeque::new());
            self.last_reports.push(Stat::default());
        }
    }

    /// The pod's containers started at `t`: its stats start from there.
    pub(crate) fn container_started(&mut self, pod: PodId, t: SimTime) {
        self.proxies[pod.idx()].stats = RequestStats::new(t);
    }

    /// A request reaches the pod's breaker.
    #[inline(always)]
    pub(crate) fn receive(
        &mut self,
        pod: PodId,
        id: ReqId,
        req: &mut Request,
        now: SimTime,
    ) -> Admission {
        let cc = self.cc;
        let proxied = req.activator.is_some();
        req.set_pod(pod);
        let p = &mut self.proxies[pod.idx()];
        p.stats.request_in(now, proxied);
        if cc > 0 && p.in_flight >= queue_proxy_breaker_capacity(cc) {
            // Breaker full: the request still produced an In/Out pair.
            p.stats.request_out(now, proxied);
            return Admission::Overflow;
        }
        let live_waiters = p.in_flight > p.executing;
        p.in_flight += 1;
        if cc == 0 || p.executing < cc {
            p.executing += 1;
            Admission::Start
        } else {
            let queue = &mut self.queues[pod.idx()];
            if !live_waiters {
                // Only stale entries left, which `done` no longer drains.
                queue.clear();
            }
            queue.push_back((id, req.gen));
            req.state = ReqState::QpQueued;
            Admission::Queued
        }
    }

    /// When a request of this revision that arrived at `arrival` is cut off.
    #[inline]
    pub(crate) fn deadline(&self, arrival: SimTime) -> SimTime {
        arrival + self.timeout
    }

    /// The application starts serving `req`, for `traced` ns if that is
    /// above 0 (a trace's service time) and for a draw from the revision's
    /// distribution otherwise: returns when it ends and whether its
    /// deadline cuts it off first. `usage` sees the pod, the request's work
    /// at one core and its wall time so far (both in seconds), and may
    /// stretch the wall time (a CPU limit); `None` leaves it as it is.
    #[inline]
    pub(crate) fn start(
        &mut self,
        req: &mut Request,
        traced: u64,
        now: SimTime,
        usage: impl FnOnce(PodId, f64, f64) -> Option<f64>,
    ) -> (SimTime, bool) {
        req.state = ReqState::Executing;
        let pod = req.pod().expect("a started request has a pod");
        let service = if traced > 0 {
            let d = SimDuration(traced);
            let s = d.as_secs_f64();
            usage(pod, s, s).map_or(d, SimDuration::from_secs_f64)
        } else {
            let base = self.service.sample(&mut self.rng);
            let mut secs = base;
            if self.slowed {
                // Requests executing in the same container share its CPUs.
                secs *= self.slowdown.factor(self.proxies[pod.idx()].executing);
            }
            SimDuration::from_secs_f64(usage(pod, base, secs).unwrap_or(secs))
        };
        let done = now + service;
        let deadline = self.deadline(req.arrival);
        if done > deadline {
            (deadline, true)
        } else {
            (done, false)
        }
    }

    /// The application answered a request on `pod`: frees its slot and
    /// returns the next live waiter, already given that slot.
    #[inline(always)]
    pub(crate) fn done(
        &mut self,
        pod: PodId,
        proxied: bool,
        now: SimTime,
        reqs: &Requests,
    ) -> Option<ReqId> {
        let p = &mut self.proxies[pod.idx()];
        p.stats.request_out(now, proxied);
        p.executing -= 1;
        p.in_flight -= 1;
        if p.in_flight == p.executing {
            // No live waiter, so no need to touch the queue: what stale
            // entries it holds are cleared when the next waiter comes.
            return None;
        }
        let queue = &mut self.queues[pod.idx()];
        while let Some((id, gen)) = queue.pop_front() {
            if reqs.is(id, gen, ReqState::QpQueued) {
                p.executing += 1;
                return Some(id);
            }
        }
        None
    }

    /// A queued request on `pod` timed out (its stale queue entry is skipped
    /// later).
    #[inline]
    pub(crate) fn abandon(&mut self, pod: PodId, proxied: bool, now: SimTime) {
        let p = &mut self.proxies[pod.idx()];
        p.stats.request_out(now, proxied);
        p.in_flight -= 1;
    }

    /// Requests the pod's breaker holds.
    #[inline]
    pub(crate) fn in_flight(&self, pod: PodId) -> u32 {
        self.proxies[pod.idx()].in_flight
    }

    /// The deleted pod's drain sleep is over.
    pub(crate) fn drain_slept(&mut self, pod: PodId) {
        self.proxies[pod.idx()].drain_slept = true;
    }

    /// Whether the pod, empty and past its drain sleep, can go.
    #[inline]
    pub(crate) fn may_go(&self, pod: PodId) -> bool {
        let p = &self.proxies[pod.idx()];
        p.in_flight == 0 && p.drain_slept
    }

    /// Closes the pod's reporting period.
    pub(crate) fn report(&mut self, pod: PodId, now: SimTime) {
        self.last_reports[pod.idx()] = self.proxies[pod.idx()].stats.report(now);
    }

    /// The pod's last report, as the scraper reads it.
    pub(crate) fn last_report(&self, pod: PodId) -> &Stat {
        &self.last_reports[pod.idx()]
    }

    /// The pod is gone: drop what its queue still holds.
    pub(crate) fn pod_gone(&mut self, pod: PodId) {
        self.queues[pod.idx()] = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::engine::event::{RevId, SourceId};
    use crate::sim::{RngStreams, Stream};

    fn proxies(cc: u32) -> RevisionProxies {
        let rng = RngStreams::new(1).get(Stream::ServiceTime, 0);
        let timeout = SimDuration::from_secs(10);
        let mut p =
            RevisionProxies::new(cc, timeout, Dist::Constant(1.0), Slowdown::None, rng, None);
        p.ensure_pods(1, SimTime::ZERO);
        p
    }

    fn add(reqs: &mut Requests) -> ReqId {
        reqs.alloc(Request::new(RevId(0), SourceId(0), SimTime::ZERO))
    }

    /// One CC-1 pod (10 s timeout) that has admitted one request, which
    /// arrived at 0.
    fn one_admitted() -> (RevisionProxies, Requests, ReqId) {
        let mut p = proxies(1);
        let mut reqs = Requests::default();
        let id = add(&mut reqs);
        p.receive(PodId(0), id, reqs.get_mut(id), SimTime::ZERO);
        (p, reqs, id)
    }

    /// A deleted pod may go only once its drain sleep is over and its last
    /// request has ended, in either order.
    #[test]
    fn a_pod_may_go_once_drained_and_empty() {
        let (mut p, reqs, _) = one_admitted();
        assert!(!p.may_go(PodId(0)), "neither drained nor empty");
        p.drain_slept(PodId(0));
        assert!(!p.may_go(PodId(0)), "a request is left");
        p.done(PodId(0), false, SimTime::from_secs(1), &reqs);
        assert!(p.may_go(PodId(0)));
        let mut fresh = proxies(1);
        assert!(!fresh.may_go(PodId(0)), "empty but not drained");
        fresh.drain_slept(PodId(0));
        assert!(fresh.may_go(PodId(0)));
    }

    #[test]
    fn breaker_runs_cc_queues_ten_cc_and_rejects_the_rest() {
        let mut p = proxies(1);
        let mut reqs = Requests::default();
        let now = SimTime::ZERO;
        let mut got = Vec::new();
        for _ in 0..12 {
            let id = add(&mut reqs);
            got.push(p.receive(PodId(0), id, reqs.get_mut(id), now));
        }
        assert_eq!(got[0], Admission::Start);
        assert!(got[1..11].iter().all(|a| *a == Admission::Queued));
        assert_eq!(got[11], Admission::Overflow);
        assert_eq!(p.in_flight(PodId(0)), 11);
    }

    #[test]
    fn a_freed_slot_goes_to_the_oldest_live_waiter() {
        let mut p = proxies(1);
        let mut reqs = Requests::default();
        let now = SimTime::ZERO;
        let ids: Vec<_> = (0..3).map(|_| add(&mut reqs)).collect();
        for &id in &ids {
            p.receive(PodId(0), id, reqs.get_mut(id), now);
        }
        // The first waiter timed out; the second gets the slot.
        p.abandon(PodId(0), false, now);
        reqs.free(ids[1]);
        assert_eq!(p.done(PodId(0), false, now, &reqs), Some(ids[2]));
        assert_eq!(p.in_flight(PodId(0)), 1);
    }

    #[test]
    fn the_hot_part_of_a_proxy_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Proxy>(), 64);
        assert_eq!(std::mem::align_of::<Proxy>(), 64);
    }

    #[test]
    fn stale_waiters_are_never_served_and_do_not_pile_up() {
        let mut p = proxies(1);
        let mut reqs = Requests::default();
        let now = SimTime::ZERO;
        let first = add(&mut reqs);
        assert_eq!(
            p.receive(PodId(0), first, reqs.get_mut(first), now),
            Admission::Start
        );
        // Three waiters time out while the first request runs.
        for _ in 0..3 {
            let id = add(&mut reqs);
            assert_eq!(
                p.receive(PodId(0), id, reqs.get_mut(id), now),
                Admission::Queued
            );
            p.abandon(PodId(0), false, now);
            reqs.free(id);
        }
        assert_eq!(p.done(PodId(0), false, now, &reqs), None);
        assert_eq!(p.in_flight(PodId(0)), 0);
        // A new request runs, the next one waits behind it, and only that
        // live waiter is handed the slot.
        let runs = add(&mut reqs);
        assert_eq!(
            p.receive(PodId(0), runs, reqs.get_mut(runs), now),
            Admission::Start
        );
        let waits = add(&mut reqs);
        assert_eq!(
            p.receive(PodId(0), waits, reqs.get_mut(waits), now),
            Admission::Queued
        );
        assert_eq!(p.queues[0].len(), 1, "the stale entries were dropped");
        assert_eq!(p.done(PodId(0), false, now, &reqs), Some(waits));
        assert_eq!(p.done(PodId(0), false, now, &reqs), None);
        assert_eq!(p.in_flight(PodId(0)), 0);
    }

    #[test]
    fn zero_concurrency_never_queues() {
        let mut p = proxies(0);
        let mut reqs = Requests::default();
        for _ in 0..1000 {
            let id = add(&mut reqs);
            let a = p.receive(PodId(0), id, reqs.get_mut(id), SimTime::ZERO);
            assert_eq!(a, Admission::Start);
        }
    }

    #[test]
    fn service_is_cut_off_at_the_deadline() {
        let (mut p, mut reqs, id) = one_admitted();
        let (at, cut) = p.start(reqs.get_mut(id), 0, SimTime::from_secs(2), |_, _, _| None);
        assert_eq!((at, cut), (SimTime::from_secs(3), false));
        let (at, cut) = p.start(
            reqs.get_mut(id),
            0,
            SimTime::from_secs(9) + SimDuration::from_millis(500),
            |_, _, _| None,
        );
        assert_eq!((at, cut), (SimTime::from_secs(10), true));
    }

    /// A trace's service time replaces the draw, and the deadline (arrival
    /// plus the revision's 10 s timeout) still cuts it off.
    #[test]
    fn a_traced_service_time_is_served_as_recorded() {
        let (mut p, mut reqs, id) = one_admitted();
        let traced = SimDuration::from_millis(2_500).as_nanos();
        let (at, cut) = p.start(
            reqs.get_mut(id),
            traced,
            SimTime::from_secs(1),
            |_, _, _| None,
        );
        assert_eq!(
            (at, cut),
            (SimTime::from_secs(3) + SimDuration::from_millis(500), false)
        );
        let (at, cut) = p.start(
            reqs.get_mut(id),
            traced,
            SimTime::from_secs(8),
            |_, _, _| None,
        );
        assert_eq!((at, cut), (SimTime::from_secs(10), true));
    }
}
