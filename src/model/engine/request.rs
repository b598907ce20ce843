//! The request table shared by the components a request passes through:
//! one slot per request in flight, reused after it ends. Each slot carries a
//! generation so that events scheduled for an earlier occupant (a timeout, a
//! stale queue entry) are recognised and dropped.

use super::event::{ActId, Event, PodId, ReqId, RevId, SourceId};
use crate::sim::{EventQueue, SimTime};

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

/// One request in flight.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request {
    /// Slot generation.
    pub(crate) gen: u32,
    /// Where it is.
    pub(crate) state: ReqState,
    /// The revision the ingress routed it to.
    pub(crate) rev: RevId,
    /// The activator it went through (`None` on the direct path).
    pub(crate) activator: Option<ActId>,
    /// The pod it was handed to, once it was.
    pub(crate) pod: Option<PodId>,
    /// The workload source that sent it.
    pub(crate) source: SourceId,
    /// When it reached the ingress.
    pub(crate) arrival: SimTime,
    /// Arrival plus the revision timeout.
    pub(crate) deadline: SimTime,
    /// Service time from a trace, in ns (0 = sample the revision's distribution).
    pub(crate) duration: u64,
    /// It arrived while no pod of its revision could take it.
    pub(crate) cold: bool,
    /// A Timeout event is pending for this request.
    pub(crate) timer: bool,
    /// When the application started serving it.
    pub(crate) started: Option<SimTime>,
    /// When it was handed to a pod's queue-proxy.
    pub(crate) to_pod: Option<SimTime>,
}

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
            pod: None,
            source,
            arrival,
            deadline,
            duration,
            cold: false,
            timer: false,
            started: None,
            to_pod: None,
        }
    }
}

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
                self.slots.push(r);
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
