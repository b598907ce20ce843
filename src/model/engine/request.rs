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

/// One request in flight, in one 64-byte cache line: a request is touched
/// when it starts and again when it ends, 100 ms later at the usual service
/// times, by which time a large cluster has pushed it out of the cache; a
/// slot straddling two lines cost two misses instead of one.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
pub(crate) struct Request {
    /// Slot generation.
    pub(crate) gen: u32,
    /// The workload source that sent it.
    pub(crate) source: SourceId,
    /// When it reached the ingress.
    pub(crate) arrival: SimTime,
    /// Arrival plus the revision timeout.
    pub(crate) deadline: SimTime,
    /// Service time from a trace, in ns (0 = sample the revision's distribution).
    pub(crate) duration: u64,
    /// When the application started serving it ([`NOT_YET`] before).
    started: SimTime,
    /// When it was handed to a pod's queue-proxy ([`NOT_YET`] before).
    to_pod: SimTime,
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
}

/// An instant not reached yet; no run lasts that long.
const NOT_YET: SimTime = SimTime(u64::MAX);
/// No pod yet; pod ids are creation indices, far below it.
const NO_POD: u32 = u32::MAX;

impl Request {
    /// A request that has just reached the ingress.
    pub(crate) fn new(
        rev: RevId,
        source: SourceId,
        arrival: SimTime,
        deadline: SimTime,
        duration: u64,
    ) -> Self {
        Request {
            gen: 0,
            state: ReqState::Executing,
            rev,
            activator: None,
            pod: NO_POD,
            source,
            arrival,
            deadline,
            duration,
            cold: false,
            timer: false,
            started: NOT_YET,
            to_pod: NOT_YET,
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

    /// When the application started serving it.
    #[inline]
    pub(crate) fn started(&self) -> Option<SimTime> {
        (self.started != NOT_YET).then_some(self.started)
    }

    /// The application starts serving it at `now`.
    #[inline]
    pub(crate) fn set_started(&mut self, now: SimTime) {
        self.started = now;
    }

    /// When it was handed to a pod's queue-proxy.
    #[inline]
    pub(crate) fn handed_to_pod(&self) -> Option<SimTime> {
        (self.to_pod != NOT_YET).then_some(self.to_pod)
    }

    /// It is handed to a pod's queue-proxy at `now`.
    #[inline]
    pub(crate) fn set_to_pod(&mut self, now: SimTime) {
        self.to_pod = now;
    }
}

/// Slots (64 bytes each, 1 MB in all) from which the event loop
/// prefetches a request's slot one event ahead.
const PREFETCH_FROM: usize = 16_384;

/// The table of requests in flight.
#[derive(Default)]
pub(crate) struct Requests {
    slots: Vec<Request>,
    free: Vec<ReqId>,
}

impl Requests {
    /// A table with room for `n` requests before it grows.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Requests {
            slots: Vec::with_capacity(n),
            free: Vec::new(),
        }
    }

    /// Stores `r` in a free slot (bumping that slot's generation).
    #[inline]
    pub(crate) fn alloc(&mut self, r: Request) -> ReqId {
        match self.free.pop() {
            Some(id) => {
                let gen = self.slots[id.idx()].gen.wrapping_add(1);
                self.slots[id.idx()] = Request { gen, ..r };
                id
            }
            None => {
                hugepages::push(&mut self.slots, r);
                ReqId((self.slots.len() - 1) as u32)
            }
        }
    }

    /// Frees the slot; events still pointing at it become stale.
    #[inline]
    pub(crate) fn free(&mut self, id: ReqId) {
        let req = &mut self.slots[id.idx()];
        req.state = ReqState::Free;
        req.gen = req.gen.wrapping_add(1);
        self.free.push(id);
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

    /// Schedules the request's timeout once; a request's deadline never moves
    /// (the activator's timeout is the binding one for proxied requests).
    #[inline]
    pub(crate) fn arm_timer(&mut self, id: ReqId, q: &mut EventQueue<Event>) {
        let req = &mut self.slots[id.idx()];
        if !req.timer {
            req.timer = true;
            // Deadlines are a revision's fixed timeout after admission, so
            // they mostly come in order: the queue's timer lane takes them.
            q.schedule_timer(
                req.deadline,
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
        Request::new(
            RevId(0),
            SourceId(0),
            SimTime::ZERO,
            SimTime::from_secs(5),
            0,
        )
    }

    #[test]
    fn a_slot_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Request>(), 64);
        assert_eq!(std::mem::align_of::<Request>(), 64);
        let mut r = req();
        assert_eq!(
            (r.pod(), r.started(), r.handed_to_pod()),
            (None, None, None)
        );
        r.set_pod(PodId(7));
        r.set_started(SimTime::from_secs(2));
        r.set_to_pod(SimTime::from_secs(1));
        assert_eq!(r.pod(), Some(PodId(7)));
        assert_eq!(r.started(), Some(SimTime::from_secs(2)));
        assert_eq!(r.handed_to_pod(), Some(SimTime::from_secs(1)));
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
        t.arm_timer(a, &mut q);
        t.arm_timer(a, &mut q);
        assert_eq!(q.len(), 1);
        let (at, ev) = q.pop().unwrap();
        assert_eq!(at, SimTime::from_secs(5));
        assert!(matches!(ev, Event::Timeout { req, .. } if req == a));
    }
}
