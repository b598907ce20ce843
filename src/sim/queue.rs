//! The event queue: a binary heap keyed by `(time, sequence)`. The sequence
//! number makes events scheduled for the same nanosecond come out in the order
//! they were scheduled (FIFO), which keeps runs reproducible.
//!
//! Timers scheduled a fixed delay after the present (request deadlines) come
//! in key order, so [`EventQueue::schedule_timer`] appends them to a FIFO
//! lane instead of the heap: a large cluster holds millions of pending
//! deadlines, and keeping them out of the heap keeps every other event's
//! push and pop at the heap's small size. A timer that would break the
//! lane's order goes to the heap; `pop` takes the smaller key of the two, so
//! the order is exactly the one a single heap gives.

use super::SimTime;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

struct Entry<E> {
    /// `time << 64 | seq`: one integer comparison orders by time, then FIFO.
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    // BinaryHeap is a max-heap: invert so the earliest key is on top.
    fn cmp(&self, o: &Self) -> Ordering {
        o.key.cmp(&self.key)
    }
}

/// A min-queue of events by `(time, insertion order)`.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    /// Timers in ascending key order.
    lane: VecDeque<Entry<E>>,
    next_seq: u64,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            lane: VecDeque::new(),
            next_seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// The time of the event most recently popped.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `time`.
    ///
    /// # Panics
    /// Scheduling into the past is a bug in the model, not bad input.
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let e = self.entry(time, event);
        self.heap.push(e);
    }

    /// Schedules `event` at `time` like [`EventQueue::schedule`] (same
    /// order), cheaper when timers come in order of their times, as
    /// deadlines a fixed delay ahead do.
    ///
    /// # Panics
    /// As [`EventQueue::schedule`].
    pub fn schedule_timer(&mut self, time: SimTime, event: E) {
        let e = self.entry(time, event);
        match self.lane.back() {
            Some(last) if last.key > e.key => self.heap.push(e),
            _ => self.lane.push_back(e),
        }
    }

    fn entry(&mut self, time: SimTime, event: E) -> Entry<E> {
        assert!(
            time >= self.now,
            "event scheduled in the past: {time} < now {}",
            self.now
        );
        let seq = self.next_seq;
        self.next_seq += 1;
        Entry {
            key: (u128::from(time.0) << 64) | u128::from(seq),
            event,
        }
    }

    /// Removes and returns the earliest event, advancing `now` to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let from_lane = match (self.heap.peek(), self.lane.front()) {
            (Some(h), Some(l)) => l.key < h.key,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        let e = if from_lane {
            self.lane.pop_front()?
        } else {
            self.heap.pop()?
        };
        let time = SimTime((e.key >> 64) as u64);
        self.now = time;
        Some((time, e.event))
    }

    /// The time of the earliest pending event.
    pub fn peek_time(&self) -> Option<SimTime> {
        let h = self.heap.peek().map(|e| e.key);
        let l = self.lane.front().map(|e| e.key);
        let k = match (h, l) {
            (Some(h), Some(l)) => h.min(l),
            (k, None) | (None, k) => k?,
        };
        Some(SimTime((k >> 64) as u64))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lane.len()
    }

    /// True when no events are pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.lane.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_time_then_fifo() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(5), 'a');
        q.schedule(SimTime(1), 'b');
        q.schedule(SimTime(5), 'c');
        q.schedule(SimTime(1), 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c']);
    }

    /// Timers in and out of order, mixed with other events, come out in
    /// the order one heap gives (time, then scheduling order).
    #[test]
    fn timers_keep_the_heap_order() {
        let mut x = 0x9E37_79B9u64;
        let mut q = EventQueue::new();
        let mut reference = EventQueue::new();
        let mut out = Vec::new();
        let mut expected = Vec::new();
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let now = q.now().0;
            // Mostly a fixed delay ahead (in order), sometimes shorter.
            let t = SimTime(now + if x % 7 == 0 { x % 50 } else { 100 });
            if x % 3 == 0 {
                q.schedule(t, i);
                reference.schedule(t, i);
            } else {
                q.schedule_timer(t, i);
                reference.schedule(t, i);
            }
            if x % 2 == 0 {
                assert_eq!(q.peek_time(), reference.peek_time());
                out.push(q.pop());
                expected.push(reference.pop());
            }
        }
        assert_eq!(q.len(), reference.len());
        out.extend(std::iter::from_fn(|| q.pop().map(Some)));
        expected.extend(std::iter::from_fn(|| reference.pop().map(Some)));
        assert_eq!(out, expected);
        assert!(q.is_empty());
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn scheduling_into_the_past_is_a_bug() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(10), ());
        q.pop();
        q.schedule(SimTime(9), ());
    }
}
