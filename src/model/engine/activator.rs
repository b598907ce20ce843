//! The activator replicas: which of them serve a revision, their throttler
//! queues, load balancing over probed pods, and the concurrency stats they
//! send to the autoscaler.
//!
//! Follows `pkg/activator/net/throttler.go` (a queue per revision, released
//! while a pod has capacity, `assignSlice` dividing pods among the activators
//! of a subset), `pkg/activator/net/lb_policy.go` (power of two choices for
//! `containerConcurrency` 0, first available for cc 1-3, round robin
//! otherwise), `pkg/activator/net/revision_backends.go` (pods become
//! routable when a probe finds them), `pkg/activator/handler/` with
//! `pkg/activator/stat_reporter.go` (the first-request stat and the
//! once-a-second report, less the request that triggered the first one),
//! and the subset of activators the KPA puts in the path
//! (`pkg/reconciler/serverlessservice/resources`; each revision's subset
//! starts at an offset hashed from its name).
//!
//! Load balancing over more than one pod draws from the revision's own random
//! stream, in dispatch order.

use super::event::{ActId, PodId, ReqId, RevId};
use super::pod_loads::PodLoads;
use super::request::{ReqState, Request, Requests};
use crate::knative::collector::Stat;
use crate::model::stats::RequestStats;
use crate::sim::{SimRng, SimTime};
use rand::Rng;
use std::collections::VecDeque;

/// One activator's view of one revision: its throttler queue, per-pod
/// reservations and its concurrency reporter entry.
///
/// Laid out by use: the pod loads fill the first cache line; the reporter,
/// which every request through the activator counts in and out, with the
/// queue's counters, the second; the queue and the assignment's key, which
/// a request passing through reads, the third.
#[derive(Default)]
#[repr(C, align(64))]
struct View {
    loads: PodLoads,
    reporter: Option<Reporter>,
    queued: u32,
    dispatching: bool,
    queue: VecDeque<(ReqId, u32)>,
    /// The path's `version` the assignment was made at.
    assigned_key: u64,
}

// Three lines for a view, two for a path: see their field order.
const _: () = assert!(std::mem::size_of::<View>() == 192);
const _: () = assert!(std::mem::size_of::<Path>() == 128);

struct Reporter {
    stats: RequestStats,
    first_adjust: bool,
}

/// What every activator shares about one revision. What a request reads
/// comes first, in one cache line.
#[repr(C, align(64))]
struct Path {
    /// Pods an activator probe has found, ascending.
    routable: Vec<PodId>,
    /// Changes with `routable` and with the subset: an assignment made at
    /// another version is out of date.
    version: u64,
    /// Picks so far: the round robin's position after the subset changes.
    subset_rr: u64,
    cc: u32,
    /// `subset_rr` modulo the subset's size, kept up to date so that a pick
    /// needs no division.
    subset_pos: u32,
    subset_len: u32,
    subset_offset: u32,
    /// How many of the subset's activators come before the offset, having
    /// wrapped round past the last one.
    subset_wrapped: u32,
    /// Requests queued over all activators.
    queued: u64,
    rng: SimRng,
}

impl Path {
    /// The subset's `i`-th activator in ascending order: the subset is
    /// `subset_len` consecutive activators from the offset, and those that
    /// wrapped round past the last come first.
    #[inline]
    fn member(&self, i: u32) -> ActId {
        let a = if i < self.subset_wrapped {
            i
        } else {
            self.subset_offset + i - self.subset_wrapped
        };
        ActId(a as u16)
    }

    /// Where `a` is in the subset, if it serves the revision.
    fn position(&self, a: ActId) -> Option<usize> {
        let a = a.0 as u32;
        let w = self.subset_wrapped;
        if a < w {
            Some(a as usize)
        } else if a >= self.subset_offset && a - self.subset_offset < self.subset_len - w {
            Some((w + a - self.subset_offset) as usize)
        } else {
            None
        }
    }
}

/// Every activator replica.
pub(crate) struct Activators {
    /// The view of activator `a` on revision `r` at `r * n_acts + a`: one
    /// flat table, so a request's several visits each cost one index, not
    /// two dependent loads.
    views: Vec<View>,
    n_acts: usize,
    paths: Vec<Path>,
}

fn stable_hash(s: &str) -> u64 {
    // FNV-1a: stable across platforms and versions, unlike std's hasher.
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

impl Activators {
    /// `n` activator replicas serving no revision yet.
    pub(crate) fn new(n: usize) -> Self {
        Activators {
            views: Vec::new(),
            n_acts: n,
            paths: Vec::new(),
        }
    }

    /// Activator replicas in the cluster.
    pub(crate) fn count(&self) -> usize {
        self.n_acts
    }

    /// Where the view of `a` on `r` is in `views`.
    #[inline]
    fn vi(&self, a: ActId, r: RevId) -> usize {
        r.idx() * self.n_acts + a.idx()
    }

    /// Adds the next revision, named `name`, with concurrency limit `cc`;
    /// load balancing draws from `rng`. Its subset is empty until
    /// [`Activators::set_subset_size`].
    pub(crate) fn add_revision(&mut self, name: &str, cc: u32, rng: SimRng) {
        let n = self.n_acts;
        self.paths.push(Path {
            routable: Vec::new(),
            version: 0,
            subset_rr: 0,
            cc,
            subset_pos: 0,
            subset_len: 0,
            subset_offset: (stable_hash(name) % n.max(1) as u64) as u32,
            subset_wrapped: 0,
            queued: 0,
            rng,
        });
        self.views.extend((0..n).map(|_| View::default()));
    }

    /// Puts `k` activators (at least one, at most all) in the revision's
    /// path, consecutive from its offset.
    pub(crate) fn set_subset_size(&mut self, r: RevId, k: u32) {
        let total = self.n_acts;
        let p = &mut self.paths[r.idx()];
        let k = (k as usize).clamp(1, total);
        let offset = p.subset_offset as usize;
        p.subset_len = k as u32;
        p.subset_wrapped = (offset + k).saturating_sub(total) as u32;
        p.subset_pos = (p.subset_rr % k as u64) as u32;
        p.version += 1;
    }

    /// Activators in the revision's path.
    pub(crate) fn subset_len(&self, r: RevId) -> u32 {
        self.paths[r.idx()].subset_len
    }

    /// The activator the ingress sends the revision's next request to
    /// (round robin over its subset).
    #[inline]
    pub(crate) fn pick(&mut self, r: RevId) -> ActId {
        let p = &mut self.paths[r.idx()];
        // The subset is `subset_len` activators from the offset on, sorted:
        // those that wrapped round past the last come first.
        let i = p.subset_pos;
        let a = p.member(i);
        p.subset_pos = if i + 1 < p.subset_len { i + 1 } else { 0 };
        p.subset_rr = p.subset_rr.wrapping_add(1);
        a
    }

    /// The reporter counts a request in; returns true for the revision's
    /// first request at this activator since it last reported idle, which
    /// sends the autoscaler an immediate stat.
    #[inline]
    pub(crate) fn count_in(&mut self, a: ActId, r: RevId, now: SimTime) -> bool {
        let i = self.vi(a, r);
        let v = &mut self.views[i];
        let first = v.reporter.is_none();
        let rep = v.reporter.get_or_insert_with(|| Reporter {
            stats: RequestStats::new(now),
            first_adjust: true,
        });
        rep.stats.request_in(now, false);
        first
    }

    /// The stat a revision's first request sends at once.
    pub(crate) fn first_request_stat() -> Stat {
        Stat {
            average_concurrent_requests: 1.0,
            average_proxied_concurrent_requests: 0.0,
            request_count: 1.0,
            proxied_request_count: 0.0,
        }
    }

    /// Queues request `id` at activator `a` (marking it cold when no pod of
    /// its revision is routable).
    #[inline]
    pub(crate) fn enqueue(&mut self, a: ActId, id: ReqId, req: &mut Request) {
        let r = req.rev;
        let i = self.vi(a, r);
        let p = &mut self.paths[r.idx()];
        if p.routable.is_empty() {
            req.cold = true;
        }
        let v = &mut self.views[i];
        v.queue.push_back((id, req.gen));
        v.queued += 1;
        p.queued += 1;
        req.state = ReqState::ActivatorQueued;
    }

    /// Starts releasing queued requests of `r` at `a`; false if there is
    /// nothing to release or a release is already under way (a request that
    /// fails at once re-enters through [`Activators::release`]).
    #[inline]
    pub(crate) fn begin_dispatch(&mut self, a: ActId, r: RevId) -> bool {
        let i = self.vi(a, r);
        let v = &self.views[i];
        if v.queued == 0 || self.paths[r.idx()].routable.is_empty() || v.dispatching {
            return false;
        }
        self.views[i].dispatching = true;
        if self.paths[r.idx()].cc > 0 {
            self.refresh_assignment(a, r);
        }
        true
    }

    /// The next queued request and the pod the throttler gives it, if the
    /// throttler has capacity.
    #[inline(always)]
    pub(crate) fn next_dispatch(
        &mut self,
        a: ActId,
        r: RevId,
        reqs: &Requests,
    ) -> Option<(ReqId, PodId)> {
        // Most releases find nothing queued: that answer takes no call.
        if self.views[self.vi(a, r)].queued == 0 {
            return None;
        }
        self.dispatch_queued(a, r, reqs)
    }

    /// [`Activators::next_dispatch`] with requests queued.
    #[inline(never)]
    fn dispatch_queued(&mut self, a: ActId, r: RevId, reqs: &Requests) -> Option<(ReqId, PodId)> {
        let pod = self.choose_pod(a, r)?;
        let i = self.vi(a, r);
        let v = &mut self.views[i];
        let id = loop {
            let (id, gen) = v.queue.pop_front().expect("queued > 0");
            if reqs.is(id, gen, ReqState::ActivatorQueued) {
                break id;
            }
        };
        v.queued -= 1;
        self.paths[r.idx()].queued -= 1;
        self.reserve(a, r, pod);
        Some((id, pod))
    }

    /// A request that need not wait goes straight to a pod: with nothing of
    /// its revision queued at `a`, no release under way and a pod with
    /// capacity, it is the request a release right after
    /// [`Activators::enqueue`] would take, to the pod (and with the draws)
    /// that release would choose. The release stays open, as it would be
    /// while the request is handed on; [`Activators::next_dispatch`] and
    /// [`Activators::end_dispatch`] close it. `None` changes nothing.
    #[inline(always)]
    pub(crate) fn pass_through(&mut self, a: ActId, req: &mut Request) -> Option<PodId> {
        let r = req.rev;
        let i = self.vi(a, r);
        let v = &self.views[i];
        if v.queued != 0 || v.dispatching || self.paths[r.idx()].routable.is_empty() {
            return None;
        }
        if self.paths[r.idx()].cc > 0 {
            self.refresh_assignment(a, r);
        }
        let pod = self.choose_pod(a, r)?;
        let i = self.vi(a, r);
        let v = &mut self.views[i];
        v.dispatching = true;
        // Nothing live is queued: what the queue holds is stale.
        v.queue.clear();
        self.reserve(a, r, pod);
        req.state = ReqState::ActivatorQueued;
        Some(pod)
    }

    /// A request released from `a` takes one of `pod`'s slots.
    #[inline(always)]
    fn reserve(&mut self, a: ActId, r: RevId, pod: PodId) {
        let i = self.vi(a, r);
        let cc = self.paths[r.idx()].cc;
        self.views[i].loads.reserve(pod, cc);
    }

    /// Ends a release started by [`Activators::begin_dispatch`].
    #[inline]
    pub(crate) fn end_dispatch(&mut self, a: ActId, r: RevId, reqs: &Requests) {
        let i = self.vi(a, r);
        let v = &mut self.views[i];
        v.dispatching = false;
        // Drop timed-out entries at the head so the queue does not hold them.
        while let Some(&(id, gen)) = v.queue.front() {
            if reqs.is(id, gen, ReqState::ActivatorQueued) {
                break;
            }
            v.queue.pop_front();
        }
    }

    /// Brings `a`'s assignment of `r`'s pods up to date; nearly always it
    /// is, and every request asks.
    #[inline(always)]
    fn refresh_assignment(&mut self, a: ActId, r: RevId) {
        let key = self.paths[r.idx()].version;
        let v = &self.views[self.vi(a, r)];
        if v.assigned_key != key || v.loads.assigned().is_empty() {
            self.reassign(a, r, key);
        }
    }

    /// Assigns `a` its share of `r`'s routable pods, as of `key`, their
    /// versions.
    #[cold]
    #[inline(never)]
    fn reassign(&mut self, a: ActId, r: RevId, key: u64) {
        let p = &self.paths[r.idx()];
        let i = self.vi(a, r);
        let v = &mut self.views[i];
        let pods = &p.routable;
        let idx = p.position(a);
        let n_act = p.subset_len as usize;
        let mut assigned = Vec::with_capacity(v.loads.assigned().len());
        match idx {
            Some(i) if n_act > 1 => {
                let n = pods.len();
                if n_act > n {
                    assigned.push(pods[i % n]);
                } else {
                    let size = n / n_act;
                    assigned.extend_from_slice(&pods[i * size..i * size + size]);
                    let remnants = n % n_act;
                    if i < remnants {
                        assigned.push(pods[n - remnants + i]);
                    }
                }
            }
            _ => assigned.extend_from_slice(pods),
        }
        v.assigned_key = key;
        v.loads.assign(assigned, p.cc);
    }

    /// The load-balancing policy, chosen by containerConcurrency.
    #[inline(always)]
    fn choose_pod(&mut self, a: ActId, r: RevId) -> Option<PodId> {
        let i = self.vi(a, r);
        let p = &mut self.paths[r.idx()];
        let v = &mut self.views[i];
        let load = |v: &View, pod: PodId| v.loads.load(pod);
        match p.cc {
            0 => {
                // Power of two choices over all pods; no capacity limit.
                let n = p.routable.len();
                if n == 1 {
                    return Some(p.routable[0]);
                }
                let i = p.rng.random_range(0..n);
                let mut j = p.rng.random_range(0..n - 1);
                if j >= i {
                    j += 1;
                }
                let (pi, pj) = (p.routable[i], p.routable[j]);
                let (li, lj) = (load(v, pi), load(v, pj));
                Some(if li < lj {
                    pi
                } else if lj < li {
                    pj
                } else if p.rng.random_bool(0.5) {
                    pi
                } else {
                    pj
                })
            }
            // First free in assignment order, and round robin: the same
            // pods a scan of `assigned` would find, from the free set.
            1..=3 => v.loads.first_free(),
            _ => v.loads.next_round_robin(),
        }
    }

    /// A request queued at `a` timed out before it was released.
    #[inline]
    pub(crate) fn abandon(&mut self, a: ActId, r: RevId) {
        let i = self.vi(a, r);
        self.views[i].queued -= 1;
        self.paths[r.idx()].queued -= 1;
    }

    /// A request that went through `a` ended: the reporter counts it out
    /// and its pod's reservation is returned.
    #[inline(always)]
    pub(crate) fn release(&mut self, a: ActId, r: RevId, pod: Option<PodId>, now: SimTime) {
        let i = self.vi(a, r);
        let v = &mut self.views[i];
        if let Some(rep) = v.reporter.as_mut() {
            rep.stats.request_out(now, false);
        }
        if let Some(pod) = pod {
            v.loads.release(pod, self.paths[r.idx()].cc);
        }
    }

    /// Activator `a` closes its reporting period for `r`: the stat it sends,
    /// if it is tracking the revision (it stops once idle).
    pub(crate) fn report(&mut self, a: ActId, r: RevId, now: SimTime) -> Option<Stat> {
        let i = self.vi(a, r);
        let v = &mut self.views[i];
        let rep = v.reporter.as_mut()?;
        let s = rep.stats.report(now);
        let adj = if rep.first_adjust { 1.0 } else { 0.0 };
        rep.first_adjust = false;
        let stat = Stat {
            average_concurrent_requests: (s.average_concurrent_requests - adj).max(0.0),
            average_proxied_concurrent_requests: 0.0,
            request_count: s.request_count - adj,
            proxied_request_count: 0.0,
        };
        if s.average_concurrent_requests == 0.0 && rep.stats.concurrency() == 0 {
            v.reporter = None;
        }
        Some(stat)
    }

    /// A probe found pod `pod` of `r`.
    pub(crate) fn add_routable(&mut self, r: RevId, pod: PodId) {
        let p = &mut self.paths[r.idx()];
        let pos = p.routable.partition_point(|&x| x < pod);
        p.routable.insert(pos, pod);
        p.version += 1;
    }

    /// Pod `pod` of `r` is being deleted: no new requests go to it.
    pub(crate) fn remove_routable(&mut self, r: RevId, pod: PodId) {
        let p = &mut self.paths[r.idx()];
        p.routable.retain(|&x| x != pod);
        p.version += 1;
    }

    /// Requests of `r` queued over all activators.
    pub(crate) fn queued(&self, r: RevId) -> u64 {
        self.paths[r.idx()].queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::engine::event::SourceId;
    use crate::sim::{RngStreams, Stream};

    const R: RevId = RevId(0);

    fn activators(n: usize, cc: u32, pods: u32) -> Activators {
        let mut a = Activators::new(n);
        a.add_revision(
            "hello-00001",
            cc,
            RngStreams::new(1).get(Stream::LoadBalancing, 0),
        );
        a.set_subset_size(R, n as u32);
        for p in 0..pods {
            a.add_routable(R, PodId(p));
        }
        a
    }

    fn queue(a: &mut Activators, act: ActId, reqs: &mut Requests, n: usize) -> Vec<ReqId> {
        (0..n)
            .map(|_| {
                let id = reqs.alloc(Request::new(R, SourceId(0), SimTime::ZERO));
                a.enqueue(act, id, reqs.get_mut(id));
                id
            })
            .collect()
    }

    fn dispatch(a: &mut Activators, act: ActId, reqs: &Requests) -> Vec<(ReqId, PodId)> {
        let mut out = Vec::new();
        if a.begin_dispatch(act, R) {
            while let Some(x) = a.next_dispatch(act, R, reqs) {
                out.push(x);
            }
            a.end_dispatch(act, R, reqs);
        }
        out
    }

    #[test]
    fn the_subset_is_clamped_to_the_cluster_and_used_round_robin() {
        let mut a = activators(3, 0, 0);
        a.set_subset_size(R, 10);
        assert_eq!(a.subset_len(R), 3);
        a.set_subset_size(R, 0);
        assert_eq!(a.subset_len(R), 1);
        a.set_subset_size(R, 2);
        let picks: Vec<ActId> = (0..4).map(|_| a.pick(R)).collect();
        assert_eq!(picks[0], picks[2]);
        assert_ne!(picks[0], picks[1]);
    }

    /// The picks go round robin over the subset in ascending order, the
    /// round carried on by count when the subset's size changes, for every
    /// offset, wrapped round past the last activator or not.
    #[test]
    fn picks_follow_the_sorted_subset_across_resizes() {
        for n in 1..=7usize {
            for name in ["a", "hello-00001", "orders-00003", "s17"] {
                let mut a = Activators::new(n);
                a.add_revision(name, 10, RngStreams::new(1).get(Stream::LoadBalancing, 0));
                let offset = (stable_hash(name) % n as u64) as usize;
                let mut count = 0usize;
                for k in [1, n, 2, n.saturating_sub(1), 3] {
                    a.set_subset_size(R, k as u32);
                    let k = k.clamp(1, n);
                    let mut subset: Vec<usize> = (0..k).map(|i| (offset + i) % n).collect();
                    subset.sort_unstable();
                    for x in 0..n {
                        let want = subset.iter().position(|&s| s == x);
                        assert_eq!(
                            a.paths[0].position(ActId(x as u16)),
                            want,
                            "n {n}, {name}, k {k}"
                        );
                    }
                    for _ in 0..2 * k + 1 {
                        let want = subset[count % k];
                        assert_eq!(a.pick(R), ActId(want as u16), "n {n}, {name}, k {k}");
                        count += 1;
                    }
                }
            }
        }
    }

    #[test]
    fn the_throttler_holds_requests_beyond_pod_capacity() {
        // cc = 1 over two pods: two requests go, the third waits.
        let mut a = activators(1, 1, 2);
        let mut reqs = Requests::default();
        let ids = queue(&mut a, ActId(0), &mut reqs, 3);
        let out = dispatch(&mut a, ActId(0), &reqs);
        assert_eq!(out, vec![(ids[0], PodId(0)), (ids[1], PodId(1))]);
        assert_eq!(a.queued(R), 1);
        // The first one ends: its pod's slot goes to the waiter.
        a.release(ActId(0), R, Some(PodId(0)), SimTime::ZERO);
        assert_eq!(dispatch(&mut a, ActId(0), &reqs), vec![(ids[2], PodId(0))]);
    }

    /// containerConcurrency above 3: round robin (Knative's
    /// `newRoundRobinPolicy`), each choice starting after the last pod
    /// chosen, skipping full pods and wrapping round.
    #[test]
    fn round_robin_starts_after_the_last_choice_and_skips_full_pods() {
        let mut a = activators(1, 4, 3);
        let mut reqs = Requests::default();
        let act = ActId(0);
        let pods = |out: Vec<(ReqId, PodId)>| out.iter().map(|(_, p)| p.0).collect::<Vec<_>>();
        queue(&mut a, act, &mut reqs, 12);
        let first = pods(dispatch(&mut a, act, &reqs));
        assert_eq!(first, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
        // All full; the last choice was pod 2. Pod 2 frees a slot: pods 0
        // and 1 are full, so the next request wraps round to pod 2.
        a.release(act, R, Some(PodId(2)), SimTime::ZERO);
        queue(&mut a, act, &mut reqs, 1);
        assert_eq!(pods(dispatch(&mut a, act, &reqs)), [2]);
        // After pod 2 the search starts at pod 0; with 0 and 2 free, 0
        // comes first, then 1 is full and 2 follows.
        a.release(act, R, Some(PodId(0)), SimTime::ZERO);
        a.release(act, R, Some(PodId(2)), SimTime::ZERO);
        queue(&mut a, act, &mut reqs, 2);
        assert_eq!(pods(dispatch(&mut a, act, &reqs)), [0, 2]);
        // Pod 1 frees a slot: the search starts after pod 2, at 0 (full),
        // and finds 1.
        a.release(act, R, Some(PodId(1)), SimTime::ZERO);
        queue(&mut a, act, &mut reqs, 1);
        assert_eq!(pods(dispatch(&mut a, act, &reqs)), [1]);
    }

    #[test]
    fn requests_wait_while_no_pod_is_routable_and_count_as_cold() {
        let mut a = activators(1, 0, 0);
        let mut reqs = Requests::default();
        let ids = queue(&mut a, ActId(0), &mut reqs, 2);
        assert!(reqs.get(ids[0]).cold);
        assert!(dispatch(&mut a, ActId(0), &reqs).is_empty());
        a.add_routable(R, PodId(5));
        let out = dispatch(&mut a, ActId(0), &reqs);
        assert_eq!(out, vec![(ids[0], PodId(5)), (ids[1], PodId(5))]);
    }

    #[test]
    fn pods_are_divided_among_the_activators_of_a_subset() {
        // Five pods over two activators: 2 + 2, the remnant to the first.
        let mut a = activators(2, 10, 5);
        let mut reqs = Requests::default();
        let mut seen = [BTreeSet::new(), BTreeSet::new()];
        for act in 0..2 {
            queue(&mut a, ActId(act), &mut reqs, 50);
            for (_, p) in dispatch(&mut a, ActId(act), &reqs) {
                seen[act as usize].insert(p.0);
            }
        }
        assert_eq!(seen[0], BTreeSet::from([0, 1, 4]));
        assert_eq!(seen[1], BTreeSet::from([2, 3]));
    }

    #[test]
    fn the_first_report_leaves_out_the_first_request_stat() {
        let mut a = activators(1, 0, 0);
        assert!(a.count_in(ActId(0), R, SimTime::ZERO));
        assert!(!a.count_in(ActId(0), R, SimTime::ZERO));
        let s = a.report(ActId(0), R, SimTime::from_secs(1)).unwrap();
        assert_eq!(s.request_count, 1.0, "two in, one already reported");
        a.release(ActId(0), R, None, SimTime::from_secs(1));
        a.release(ActId(0), R, None, SimTime::from_secs(1));
        a.report(ActId(0), R, SimTime::from_secs(2));
        // Idle for a whole period: the activator stops tracking the revision.
        assert!(a.report(ActId(0), R, SimTime::from_secs(3)).is_none());
    }

    /// The released requests are no longer waiting.
    fn drop_waiting(waiting: &mut Vec<(ActId, ReqId)>, out: &[(ReqId, PodId)]) {
        waiting.retain(|(_, w)| out.iter().all(|(id, _)| id != w));
    }

    #[test]
    fn passing_through_takes_the_pod_a_release_would() {
        // Two activators over seven pods; arrivals, releases and timeouts in
        // random order. One side always queues and releases, the other
        // passes through whenever it can: same requests to the same pods.
        for cc in [0, 1, 2, 10] {
            let mut plain = activators(2, cc, 7);
            let mut fast = activators(2, cc, 7);
            let (mut rp, mut rf) = (Requests::default(), Requests::default());
            let mut rng = RngStreams::new(9).get(Stream::LoadBalancing, 1);
            let mut running: Vec<(ActId, PodId)> = Vec::new();
            let mut waiting: Vec<(ActId, ReqId)> = Vec::new();
            let mut passed = 0;
            for step in 0..20_000 {
                let act = ActId(rng.random_range(0..2));
                let op = rng.random_range(0..10);
                let (act, out) = if op < 5 || running.is_empty() {
                    let new = Request::new(R, SourceId(0), SimTime::ZERO);
                    let (ip, i_f) = (rp.alloc(new), rf.alloc(new));
                    assert_eq!(ip, i_f);
                    plain.enqueue(act, ip, rp.get_mut(ip));
                    let out = dispatch(&mut plain, act, &rp);
                    let got = match fast.pass_through(act, rf.get_mut(i_f)) {
                        Some(pod) => {
                            passed += 1;
                            let mut v = vec![(i_f, pod)];
                            while let Some(x) = fast.next_dispatch(act, R, &rf) {
                                v.push(x);
                            }
                            fast.end_dispatch(act, R, &rf);
                            v
                        }
                        None => {
                            fast.enqueue(act, i_f, rf.get_mut(i_f));
                            dispatch(&mut fast, act, &rf)
                        }
                    };
                    assert_eq!(out, got, "cc {cc}, step {step}");
                    waiting.push((act, ip));
                    (act, out)
                } else if op < 9 {
                    let (act, pod) = running.swap_remove(rng.random_range(0..running.len()));
                    plain.release(act, R, Some(pod), SimTime::ZERO);
                    fast.release(act, R, Some(pod), SimTime::ZERO);
                    let out = dispatch(&mut plain, act, &rp);
                    assert_eq!(out, dispatch(&mut fast, act, &rf), "cc {cc}, step {step}");
                    (act, out)
                } else {
                    // The oldest waiter times out; its slot is reused later.
                    if let Some(&(act, id)) = waiting.first() {
                        waiting.remove(0);
                        plain.abandon(act, R);
                        fast.abandon(act, R);
                        rp.free(id);
                        rf.free(id);
                    }
                    (act, Vec::new())
                };
                drop_waiting(&mut waiting, &out);
                for &(id, pod) in &out {
                    running.push((act, pod));
                    rp.get_mut(id).state = ReqState::Executing;
                    rf.get_mut(id).state = ReqState::Executing;
                }
                assert_eq!(plain.queued(R), fast.queued(R));
            }
            assert!(passed > 100, "cc {cc}: only {passed} passed through");
        }
    }

    use std::collections::BTreeSet;
}
