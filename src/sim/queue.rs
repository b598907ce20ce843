//! The event queue, keyed by `(time, sequence)`. The sequence number makes
//! events scheduled for the same nanosecond come out in the order they were
//! scheduled (FIFO), which keeps runs reproducible.
//!
//! Keys are unique and never smaller than the last one taken out (nothing
//! is scheduled into the past). A small queue is a binary heap; past
//! [`TO_RADIX`] pending events it becomes a radix heap, and back below
//! [`TO_BINARY`]: an event goes into the bucket of the highest bit in which
//! its key differs from the last key taken, and a bucket is split only when
//! every lower one is empty. A push is an append and each event moves a few
//! times at most, always in sequential passes; a binary heap's sift touches
//! one cache line per level, scattered over a heap that outgrows the cache
//! at thousands of pods, but on a few hundred events it is several times
//! cheaper than the radix heap's bucket splits. Both give the order of any
//! exact min-queue, so switching between them changes nothing.
//!
//! Timers scheduled a fixed delay after the present (request deadlines) come
//! in key order, so [`EventQueue::schedule_timer`] appends them to a FIFO
//! lane instead: a large cluster holds millions of pending deadlines. A
//! source's next arrival also comes after its previous one, so
//! [`EventQueue::schedule_arrival`] has a lane of its own: with one source
//! no arrival touches the heap. An event that would break its lane's order
//! goes to the heap; `pop` takes the smallest key of the three.

use super::SimTime;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

struct Entry<E> {
    /// `time << 64 | seq`: one integer comparison orders by time, then FIFO.
    key: u128,
    event: E,
}

// Reversed, so that std's max-heap pops the smallest key. Keys are unique.
impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// Pending events above which the binary heap becomes a radix heap
/// (callgrind, instructions per request: the binary heap is cheaper at 10
/// pods and at 200 Services, and about even at 1,000 pods once arrivals
/// have their own lane; the radix heap pays off on the tens of thousands
/// of events of 10,000 pods, where a sift's scattered cache lines cost
/// more than its instructions).
const TO_RADIX: usize = 16_384;
/// Pending events below which the radix heap becomes a binary heap again
/// (well below [`TO_RADIX`], so that a queue near the bound does not
/// switch back and forth).
const TO_BINARY: usize = 4_096;

/// The heap beside the timer lane, in the form that is cheaper at its size.
enum Heap<E> {
    Binary(BinaryHeap<Entry<E>>),
    Radix(RadixHeap<E>),
}

impl<E> Heap<E> {
    #[inline]
    fn len(&self) -> usize {
        match self {
            Heap::Binary(h) => h.len(),
            Heap::Radix(h) => h.len,
        }
    }

    /// Adds `e`; `last` is the key most recently popped from the whole
    /// queue, below every pending key.
    #[inline]
    fn push(&mut self, e: Entry<E>, last: u128) {
        match self {
            Heap::Binary(h) => {
                h.push(e);
                if h.len() > TO_RADIX {
                    let mut r = RadixHeap::new();
                    r.last = last;
                    for e in std::mem::take(h).into_vec() {
                        r.push(e);
                    }
                    *self = Heap::Radix(r);
                }
            }
            Heap::Radix(h) => h.push(e),
        }
    }

    #[inline]
    fn min_key(&mut self) -> Option<u128> {
        match self {
            Heap::Binary(h) => h.peek().map(|e| e.key),
            Heap::Radix(h) => h.min_key(),
        }
    }

    fn peek_key(&self) -> Option<u128> {
        match self {
            Heap::Binary(h) => h.peek().map(|e| e.key),
            Heap::Radix(h) => h.peek_key(),
        }
    }

    #[inline]
    fn pop(&mut self) -> Option<Entry<E>> {
        match self {
            Heap::Binary(h) => h.pop(),
            Heap::Radix(h) => {
                let e = h.pop();
                if h.len < TO_BINARY {
                    let all: Vec<Entry<E>> =
                        h.buckets.iter_mut().flat_map(|b| b.drain(..)).collect();
                    *self = Heap::Binary(BinaryHeap::from(all));
                }
                e
            }
        }
    }
}

/// Buckets: 0 holds the key equal to `last`, bucket `b > 0` the keys whose
/// highest bit differing from `last` is bit `b - 1`.
const BUCKETS: usize = 129;

/// A min-queue of unique `u128` keys that are never below the last key
/// popped.
struct RadixHeap<E> {
    last: u128,
    buckets: Vec<Vec<Entry<E>>>,
    /// Bit `b` set when bucket `b` is not empty.
    nonempty: [u64; 3],
    len: usize,
    /// The smallest key of the first non-empty bucket, once searched for,
    /// as (bucket, key); a peek followed by a pop searches once.
    min_cache: Option<(usize, u128)>,
}

#[inline]
fn bucket_of(key: u128, last: u128) -> usize {
    (128 - (key ^ last).leading_zeros()) as usize
}

impl<E> RadixHeap<E> {
    fn new() -> Self {
        RadixHeap {
            last: 0,
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            nonempty: [0; 3],
            len: 0,
            min_cache: None,
        }
    }

    #[inline]
    fn put(&mut self, b: usize, e: Entry<E>) {
        self.buckets[b].push(e);
        self.nonempty[b / 64] |= 1 << (b % 64);
    }

    #[inline]
    fn push(&mut self, e: Entry<E>) {
        debug_assert!(e.key >= self.last, "radix heap key below the last popped");
        let b = bucket_of(e.key, self.last);
        match self.min_cache {
            Some((cb, m)) if b == cb && e.key < m => self.min_cache = Some((cb, e.key)),
            Some((cb, _)) if b < cb => self.min_cache = None,
            _ => {}
        }
        self.put(b, e);
        self.len += 1;
    }

    #[inline]
    fn first_bucket(&self) -> Option<usize> {
        self.nonempty
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
    }

    /// The smallest key, searching the first non-empty bucket at most once.
    #[inline]
    fn min_key(&mut self) -> Option<u128> {
        let b = self.first_bucket()?;
        if b == 0 {
            return Some(self.last);
        }
        if let Some((cb, m)) = self.min_cache {
            if cb == b {
                return Some(m);
            }
        }
        let m = self.buckets[b].iter().map(|e| e.key).min()?;
        self.min_cache = Some((b, m));
        Some(m)
    }

    /// The smallest key without touching the search cache.
    fn peek_key(&self) -> Option<u128> {
        match self.first_bucket()? {
            0 => Some(self.last),
            b => self.buckets[b].iter().map(|e| e.key).min(),
        }
    }

    #[inline]
    fn pop(&mut self) -> Option<Entry<E>> {
        if self.buckets[0].is_empty() {
            let m = self.min_key()?;
            let b = self.first_bucket()?;
            self.min_cache = None;
            self.last = m;
            self.nonempty[b / 64] &= !(1 << (b % 64));
            // Every key of bucket b agrees with `m` above bit b - 1, so each
            // lands in a lower bucket, the smallest in bucket 0.
            let mut moving = std::mem::take(&mut self.buckets[b]);
            for e in moving.drain(..) {
                self.put(bucket_of(e.key, m), e);
            }
            self.buckets[b] = moving;
        }
        let e = self.buckets[0].pop()?;
        if self.buckets[0].is_empty() {
            self.nonempty[0] &= !1;
        }
        self.len -= 1;
        Some(e)
    }
}

/// A min-queue of events by `(time, insertion order)`.
pub struct EventQueue<E> {
    heap: Heap<E>,
    /// The key most recently popped; every pending key is above it.
    last: u128,
    /// Timers in ascending key order.
    lane: VecDeque<Entry<E>>,
    /// Arrivals in ascending key order.
    arrivals: VecDeque<Entry<E>>,
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
            heap: Heap::Binary(BinaryHeap::new()),
            last: 0,
            lane: VecDeque::new(),
            arrivals: VecDeque::new(),
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
        self.heap.push(e, self.last);
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
            Some(back) if back.key > e.key => self.heap.push(e, self.last),
            _ => self.lane.push_back(e),
        }
    }

    /// Schedules `event` at `time` like [`EventQueue::schedule`] (same
    /// order), cheaper when each such event is scheduled after the one
    /// before it, as one source's arrivals are.
    ///
    /// # Panics
    /// As [`EventQueue::schedule`].
    #[inline]
    pub fn schedule_arrival(&mut self, time: SimTime, event: E) {
        let e = self.entry(time, event);
        match self.arrivals.back() {
            Some(back) if back.key > e.key => self.heap.push(e, self.last),
            _ => self.arrivals.push_back(e),
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
        // Lane keys are unique, so at most one front holds the minimum.
        let heap = self.heap.min_key().unwrap_or(u128::MAX);
        let lane = self.lane.front().map_or(u128::MAX, |e| e.key);
        let arrival = self.arrivals.front().map_or(u128::MAX, |e| e.key);
        let e = if arrival < heap && arrival < lane {
            self.arrivals.pop_front()?
        } else if lane < heap {
            self.lane.pop_front()?
        } else {
            self.heap.pop()?
        };
        self.last = e.key;
        let time = SimTime((e.key >> 64) as u64);
        self.now = time;
        Some((time, e.event))
    }

    /// The time of the earliest pending event.
    pub fn peek_time(&self) -> Option<SimTime> {
        let k = [
            self.heap.peek_key(),
            self.lane.front().map(|e| e.key),
            self.arrivals.front().map(|e| e.key),
        ]
        .into_iter()
        .flatten()
        .min()?;
        Some(SimTime((k >> 64) as u64))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lane.len() + self.arrivals.len()
    }

    /// True when no events are pending.
    pub fn is_empty(&self) -> bool {
        self.heap.len() == 0 && self.lane.is_empty() && self.arrivals.is_empty()
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

    /// A plain binary heap of `(time, scheduling order)`: the order every
    /// queue of the simulator must reproduce.
    #[derive(Default)]
    struct Reference {
        heap: std::collections::BinaryHeap<std::cmp::Reverse<(u64, u64, u32)>>,
        seq: u64,
    }

    impl Reference {
        fn schedule(&mut self, t: SimTime, v: u32) {
            self.heap.push(std::cmp::Reverse((t.0, self.seq, v)));
            self.seq += 1;
        }
        fn pop(&mut self) -> Option<(SimTime, u32)> {
            self.heap.pop().map(|r| (SimTime(r.0 .0), r.0 .2))
        }
    }

    /// Timers in and out of order, mixed with other events at times near
    /// and far (many equal times, zero delays, delays across every bucket),
    /// come out in the order one binary heap gives (time, then scheduling
    /// order).
    #[test]
    fn timers_keep_the_heap_order() {
        let mut x = 0x9E37_79B9u64;
        let mut q = EventQueue::new();
        let mut reference = Reference::default();
        let mut out = Vec::new();
        let mut expected = Vec::new();
        for i in 0..50_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let now = q.now().0;
            // Mostly a fixed delay ahead (in order), sometimes shorter or
            // much longer.
            let delay = match x % 11 {
                0 => x % 50,
                1 => 0,
                2 => (x >> 8) % (1 << (x % 40)),
                _ => 100,
            };
            let t = SimTime(now + delay);
            match x % 5 {
                0 | 1 => q.schedule(t, i),
                2 => q.schedule_arrival(t, i),
                _ => q.schedule_timer(t, i),
            }
            reference.schedule(t, i);
            if x % 2 == 0 {
                let expect = reference.pop();
                assert_eq!(q.peek_time(), expect.map(|e| e.0));
                out.push(q.pop());
                expected.push(expect);
            }
        }
        assert_eq!(q.len(), reference.heap.len());
        out.extend(std::iter::from_fn(|| q.pop().map(Some)));
        expected.extend(std::iter::from_fn(|| reference.pop().map(Some)));
        assert_eq!(out, expected);
        assert!(q.is_empty());
    }

    /// A queue that grows past the radix bound, shrinks below the binary
    /// one and grows again keeps the reference order through each switch.
    #[test]
    fn switching_heaps_keeps_the_order() {
        let mut x = 0x2545_F491u64;
        let mut q = EventQueue::new();
        let mut reference = Reference::default();
        let mut i = 0u32;
        let rounds = [
            (TO_RADIX + 100, TO_RADIX + 100 - TO_BINARY / 2),
            (TO_RADIX, TO_RADIX),
        ];
        for (push, pop) in rounds {
            for _ in 0..push {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let t = SimTime(q.now().0 + x % 1_000_000);
                q.schedule(t, i);
                reference.schedule(t, i);
                i += 1;
            }
            for _ in 0..pop {
                assert_eq!(q.pop(), reference.pop());
            }
            assert_eq!(q.len(), reference.heap.len());
        }
        assert!(matches!(q.heap, Heap::Binary(_)));
        while let Some(e) = reference.pop() {
            assert_eq!(q.pop(), Some(e));
        }
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
