//! The request table shared by the components a request passes through:
//! one slot per request in flight, reused after it ends. Each slot carries a
//! generation so that events scheduled for an earlier occupant (a timeout, a
//! stale queue entry) are recognised and dropped.

use super::event::{ActId, Event, PodId, ReqId, RevId, SourceId};
use crate::sim::{hugepages, prefetch, EventQueue, SimTime};

/// Where a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReqState {
    /// The slot is free.
    Free,
    /// Waiting in an activator's throttler queue.
    ActivatorQueued,
    /// Waiting in a queue-proxy's breaker queue.
    QpQueued,
    /// The application is serving it.
    Executing,
}

/// One request in flight, in half a cache line. A request is touched when it
/// starts and again when it ends, 100 ms later at the usual service times, by
/// which time a large cluster has pushed it out of the first caches: with
/// 50,000 requests in flight, 64-byte slots (3.2 MB) overflowed a 2 MiB
/// second-level cache and 32-byte ones (1.6 MB) fit, as long as the
/// requests in flight keep to the lowest slots ([`Requests::bound`]). So
/// the slot holds only what the request's path reads; what the path can
/// derive (the deadline, from the arrival and the revision's timeout) or
/// only rare requests carry (a traced service time, the milestones of a
/// per-request record) lives in [`Requests`]' side tables.
#[derive(Clone, Copy, Debug)]
#[repr(align(32))]
pub(crate) struct Request {
    /// Slot generation.
    pub(crate) gen: u32,
    /// The workload source that sent it.
    pub(crate) source: SourceId,
    /// When it reached the ingress.
    pub(crate) arrival: SimTime,
    /// The pod it was handed to ([`NO_POD`] before).
    pod: u32,
    /// The revision the ingress routed it to.
    pub(crate) rev: RevId,
    /// The activator it went through (`None` on the direct path).
    pub(crate) activator: Option<ActId>,
    /// Where it is.
    pub(crate) state: ReqState,
    /// It arrived while no pod of its revision could take it.
    pub(crate) cold: bool,
    /// A Timeout event is pending for this request.
    pub(crate) timer: bool,
    /// Its service time comes from a trace ([`Requests::duration`]).
    traced: bool,
}

/// An instant not reached yet; no run lasts that long.
const NOT_YET: SimTime = SimTime(u64::MAX);
/// No pod yet; pod ids are creation indices, far below it.
const NO_POD: u32 = u32::MAX;

impl Request {
    /// A request that has just reached the ingress.
    pub(crate) fn new(rev: RevId, source: SourceId, arrival: SimTime) -> Self {
        Request {
            gen: 0,
            state: ReqState::Executing,
            rev,
            activator: None,
            pod: NO_POD,
            source,
            arrival,
            cold: false,
            timer: false,
            traced: false,
        }
    }

    /// The pod it was handed to, once it was.
    #[inline]
    pub(crate) fn pod(&self) -> Option<PodId> {
        (self.pod != NO_POD).then_some(PodId(self.pod))
    }

    /// Hands it to `pod`.
    #[inline]
    pub(crate) fn set_pod(&mut self, pod: PodId) {
        self.pod = pod.0;
    }
}

/// When a request was handed to a pod's queue-proxy and when the
/// application started serving it ([`NOT_YET`] before), kept only for a
/// per-request record.
#[derive(Clone, Copy, Debug)]
struct Milestones {
    to_pod: SimTime,
    started: SimTime,
}

const NO_MILESTONES: Milestones = Milestones {
    to_pod: NOT_YET,
    started: NOT_YET,
};

/// Slots (32 bytes each, 1 MB in all) from which the event loop
/// prefetches a request's slot one event ahead.
const PREFETCH_FROM: usize = 32_768;

/// The table of requests in flight.
#[derive(Default)]
pub(crate) struct Requests {
    slots: Vec<Request>,
    /// Free slots, reused last in, first out, except those at or above
    /// [`Requests::bound`], which move to `spare` when they come up.
    free: Vec<ReqId>,
    /// Free slots that were above the bound, reused only when `free` is
    /// empty.
    spare: Vec<ReqId>,
    /// Traced service times in ns, by slot; valid where the slot is
    /// `traced`, and only as long as the longest traced slot index.
    durations: Vec<u64>,
    /// Milestones by slot, when a per-request record is kept.
    milestones: Option<Vec<Milestones>>,
}

impl Requests {
    /// A table with room for `n` requests before it grows, that keeps the
    /// milestones of every request when `milestones` is set.
    pub(crate) fn with_capacity(n: usize, milestones: bool) -> Self {
        Requests {
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            spare: Vec::new(),
            durations: Vec::new(),
            milestones: milestones.then(|| Vec::with_capacity(n)),
        }
    }

    /// Stores `r` in a free slot (bumping that slot's generation).
    #[inline]
    pub(crate) fn alloc(&mut self, r: Request) -> ReqId {
        match self.pop_free() {
            Some(id) => {
                let gen = self.slots[id.idx()].gen.wrapping_add(1);
                self.slots[id.idx()] = Request { gen, ..r };
                if let Some(m) = &mut self.milestones {
                    m[id.idx()] = NO_MILESTONES;
                }
                id
            }
            None => {
                hugepages::push(&mut self.slots, r);
                if let Some(m) = &mut self.milestones {
                    hugepages::push(m, NO_MILESTONES);
                }
                ReqId((self.slots.len() - 1) as u32)
            }
        }
    }

    /// The request in slot `id` is served for `ns` nanoseconds, from a
    /// trace, instead of for a draw from its revision's distribution.
    pub(crate) fn set_duration(&mut self, id: ReqId, ns: u64) {
        self.slots[id.idx()].traced = true;
        if self.durations.len() <= id.idx() {
            self.durations.resize(id.idx() + 1, 0);
        }
        self.durations[id.idx()] = ns;
    }

    /// The traced service time of the request in slot `id`, in ns (0 =
    /// sample the revision's distribution).
    #[inline]
    pub(crate) fn duration(&self, id: ReqId) -> u64 {
        if self.slots[id.idx()].traced {
            self.durations[id.idx()]
        } else {
            0
        }
    }

    /// The request in slot `id` is handed to a pod's queue-proxy at `now`.
    #[inline]
    pub(crate) fn set_to_pod(&mut self, id: ReqId, now: SimTime) {
        if let Some(m) = &mut self.milestones {
            m[id.idx()].to_pod = now;
        }
    }

    /// The application starts serving the request in slot `id` at `now`.
    #[inline]
    pub(crate) fn set_started(&mut self, id: ReqId, now: SimTime) {
        if let Some(m) = &mut self.milestones {
            m[id.idx()].started = now;
        }
    }

    /// When the request in slot `id` was handed to a pod's queue-proxy and
    /// when its service started, as far as either happened and milestones
    /// are kept.
    pub(crate) fn milestones(&self, id: ReqId) -> (Option<SimTime>, Option<SimTime>) {
        let m = self
            .milestones
            .as_ref()
            .map_or(NO_MILESTONES, |m| m[id.idx()]);
        let at = |t: SimTime| (t != NOT_YET).then_some(t);
        (at(m.to_pod), at(m.started))
    }

    /// Frees the slot; events still pointing at it become stale.
    #[inline]
    pub(crate) fn free(&mut self, id: ReqId) {
        let req = &mut self.slots[id.idx()];
        req.state = ReqState::Free;
        req.gen = req.gen.wrapping_add(1);
        self.free.push(id);
    }

    /// The lowest slot numbers, a quarter more than the requests in flight
    /// and 1,024 more again: the slots requests are kept to. Reused last in, first out from the
    /// whole table, the slots of a backlog's requests stay in use after
    /// it drains, one request per cache line over tens of megabytes, and
    /// every request's start and end waits on a line of its own.
    #[inline]
    fn bound(&self) -> usize {
        let live = self.slots.len() - self.free.len() - self.spare.len();
        live + live / 4 + 1024
    }

    /// A free slot, below the bound if there is one; the slots above it
    /// that come up on the way move to `spare`. Each free slot moves at
    /// most once, and only a start pays for the check, not an end.
    #[inline]
    fn pop_free(&mut self) -> Option<ReqId> {
        // Moving a slot from `free` to `spare` leaves the bound as it is.
        let bound = self.bound();
        while let Some(id) = self.free.pop() {
            if id.idx() < bound {
                return Some(id);
            }
            self.spare.push(id);
        }
        self.spare.pop()
    }

    /// Whether the table has outgrown the caches, so that a slot is
    /// worth [`Requests::prefetch`]ing: below this size the slots stay in
    /// the cache and the look ahead would only cost.
    #[inline]
    pub(crate) fn is_large(&self) -> bool {
        self.slots.len() >= PREFETCH_FROM
    }

    /// Starts loading slot `id` into the cache. In a large cluster a
    /// request's slot has left the cache by the time its service ends, and
    /// the load that ends it waited for memory; the event loop calls this
    /// one event ahead.
    #[inline]
    pub(crate) fn prefetch(&self, id: ReqId) {
        if let Some(slot) = self.slots.get(id.idx()) {
            prefetch(slot);
        }
    }

    /// The request in slot `id`.
    #[inline]
    pub(crate) fn get(&self, id: ReqId) -> &Request {
        &self.slots[id.idx()]
    }

    /// The request in slot `id`, mutably.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: ReqId) -> &mut Request {
        &mut self.slots[id.idx()]
    }

    /// The occupant `gen` of slot `id` is still there and in `state`.
    #[inline]
    pub(crate) fn is(&self, id: ReqId, gen: u32, state: ReqState) -> bool {
        let r = &self.slots[id.idx()];
        r.gen == gen && r.state == state
    }

    /// Schedules the request's timeout, at `deadline`, once; a request's
    /// deadline never moves (the activator's timeout is the binding one for
    /// proxied requests).
    #[inline]
    pub(crate) fn arm_timer(&mut self, id: ReqId, deadline: SimTime, q: &mut EventQueue<Event>) {
        let req = &mut self.slots[id.idx()];
        if !req.timer {
            req.timer = true;
            // Deadlines are a revision's fixed timeout after admission, so
            // they mostly come in order: the queue's timer lane takes them.
            q.schedule_timer(
                deadline,
                Event::Timeout {
                    req: id,
                    gen: req.gen,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> Request {
        Request::new(RevId(0), SourceId(0), SimTime::ZERO)
    }

    #[test]
    fn a_slot_is_half_a_cache_line() {
        assert_eq!(std::mem::size_of::<Request>(), 32);
        assert_eq!(std::mem::align_of::<Request>(), 32);
        let mut r = req();
        assert_eq!(r.pod(), None);
        r.set_pod(PodId(7));
        assert_eq!(r.pod(), Some(PodId(7)));
    }

    #[test]
    fn milestones_are_kept_only_when_asked_for_and_reset_with_the_slot() {
        let mut kept = Requests::with_capacity(4, true);
        let mut not = Requests::with_capacity(4, false);
        for t in [&mut kept, &mut not] {
            let a = t.alloc(req());
            assert_eq!(t.milestones(a), (None, None));
            t.set_to_pod(a, SimTime::from_secs(1));
            t.set_started(a, SimTime::from_secs(2));
        }
        let a = ReqId(0);
        assert_eq!(
            kept.milestones(a),
            (Some(SimTime::from_secs(1)), Some(SimTime::from_secs(2)))
        );
        assert_eq!(not.milestones(a), (None, None));
        kept.free(a);
        let b = kept.alloc(req());
        assert_eq!(b, a);
        assert_eq!(kept.milestones(b), (None, None));
    }

    #[test]
    fn a_traced_duration_belongs_to_its_occupant_only() {
        let mut t = Requests::default();
        let a = t.alloc(req());
        let b = t.alloc(req());
        assert_eq!((t.duration(a), t.duration(b)), (0, 0));
        t.set_duration(b, 250);
        assert_eq!((t.duration(a), t.duration(b)), (0, 250));
        t.free(b);
        let c = t.alloc(req());
        assert_eq!(c, b);
        assert_eq!(t.duration(c), 0, "a new occupant samples its own");
    }

    /// After a backlog of 100,000 requests drains, freed in an order
    /// scattered over the table, the requests that follow take the lowest
    /// slots, and a steady churn keeps them there.
    #[test]
    fn after_a_backlog_requests_keep_to_the_lowest_slots() {
        let mut t = Requests::default();
        const N: u32 = 100_000;
        let ids: Vec<ReqId> = (0..N).map(|_| t.alloc(req())).collect();
        assert_eq!(ids.last(), Some(&ReqId(N - 1)));
        // 7,919 is prime, so this visits every slot once, far apart.
        for i in 0..N {
            t.free(ids[(i as usize * 7_919) % N as usize]);
        }
        let mut live: Vec<ReqId> = (0..2_000).map(|_| t.alloc(req())).collect();
        let bound = 2_000 + 2_000 / 4 + 1024;
        assert!(
            live.iter().all(|id| id.idx() < bound),
            "{:?}",
            live.iter().max()
        );
        // A churn of ends and starts, the oldest request ending first.
        for _ in 0..20_000 {
            t.free(live.remove(0));
            live.push(t.alloc(req()));
        }
        assert!(
            live.iter().all(|id| id.idx() < bound),
            "{:?}",
            live.iter().max()
        );
        // Every slot is either in flight or free exactly once.
        let mut seen: Vec<u32> = live.iter().map(|id| id.0).collect();
        seen.extend(t.free.iter().chain(&t.spare).map(|id| id.0));
        seen.sort_unstable();
        assert_eq!(seen, (0..N).collect::<Vec<_>>());
    }

    /// Slots above the bound are reused once none below it is free: a
    /// burst past the bound still gets slots, never a second grown table.
    #[test]
    fn slots_above_the_bound_serve_a_burst() {
        let mut t = Requests::default();
        let ids: Vec<ReqId> = (0..10_000).map(|_| t.alloc(req())).collect();
        for &id in ids.iter().rev() {
            t.free(id);
        }
        let burst: Vec<ReqId> = (0..10_000).map(|_| t.alloc(req())).collect();
        assert_eq!(t.slots.len(), 10_000, "no slot was added");
        let mut got: Vec<u32> = burst.iter().map(|id| id.0).collect();
        got.sort_unstable();
        assert_eq!(got, (0..10_000).collect::<Vec<_>>());
    }

    #[test]
    fn a_reused_slot_has_a_new_generation() {
        let mut t = Requests::default();
        let a = t.alloc(req());
        let gen = t.get(a).gen;
        t.free(a);
        assert!(!t.is(a, gen, ReqState::Executing));
        let b = t.alloc(req());
        assert_eq!(a, b);
        assert_ne!(t.get(b).gen, gen);
        assert!(t.is(b, t.get(b).gen, ReqState::Executing));
    }

    #[test]
    fn the_timer_is_armed_once_at_the_deadline() {
        let mut t = Requests::default();
        let mut q = EventQueue::new();
        let a = t.alloc(req());
        t.arm_timer(a, SimTime::from_secs(5), &mut q);
        t.arm_timer(a, SimTime::from_secs(6), &mut q);
        assert_eq!(q.len(), 1);
        let (at, ev) = q.pop().unwrap();
        assert_eq!(at, SimTime::from_secs(5));
        assert!(matches!(ev, Event::Timeout { req, .. } if req == a));
    }
}
