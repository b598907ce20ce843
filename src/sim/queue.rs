//! The event queue, keyed by `(time, sequence)`. The sequence number makes
//! events scheduled for the same nanosecond come out in the order they were
//! scheduled (FIFO), which keeps runs reproducible.
//!
//! Most events go to a 4-ary heap whose 8-byte times sit apart from the
//! events, aligned so that a node's four children share half a cache line:
//! a sift reads one line of times per level, over half the levels of a
//! binary heap, looks at sequence numbers only on equal times, and moves
//! one event per level. At the tens of thousands of pending events of a
//! large cluster the heap outgrows the caches and those lines are what a
//! pop waits for.
//!
//! Timers scheduled a fixed delay after the present (request deadlines) come
//! in key order, so [`EventQueue::schedule_timer`] appends them to a FIFO
//! lane instead: a large cluster holds millions of pending deadlines. A
//! source's next arrival also comes after its previous one, so
//! [`EventQueue::schedule_arrival`] has a lane of its own: with one source
//! no arrival touches the heap. An event that would break its lane's order
//! goes to the heap; `pop` takes the smallest key of the three.

use super::hugepages;
use super::prefetch::prefetch;
use super::SimTime;
use std::collections::VecDeque;

struct Entry<E> {
    /// `time << 64 | seq`: one integer comparison orders by time, then FIFO.
    key: u128,
    event: E,
}

/// Children per node of [`QuadHeap`].
const ARITY: usize = 4;

/// Keys per cache line: the children of two nodes.
const LINE_KEYS: usize = 8;

/// Eight 8-byte times on one cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct KeyLine([u64; LINE_KEYS]);

/// Key slots before the root, so that the children of node `i`, at
/// `4i + 1 ..= 4i + 4`, are slots `4i + 4 ..= 4i + 7`: half a line, and
/// the children of nodes `4h + 1 ..= 4h + 4`, the next level of a sift
/// down, two whole lines.
const ROOT_SLOT: usize = ARITY - 1;

/// An event and its scheduling order, the tie-break between equal times.
/// The order is 32 bits so that a 12-byte event makes a 16-byte slot: a
/// pop moves one slot per level, and at the size of a large cluster's heap
/// those moves are what it waits for.
#[derive(Clone, Copy)]
struct Slot<E> {
    seq: u32,
    event: E,
}

/// A 4-ary min-heap by `(time, seq)` with its times and its events in two
/// parallel arrays. A sift compares the 8-byte times, a node's children on
/// half a cache line, and reads a sequence number only when two times are
/// equal; it moves one slot per level. Times alone, rather than the
/// 16-byte `(time, seq)`, halve what the comparisons keep in the cache.
struct QuadHeap<E> {
    /// Time of node `i` at slot `i + ROOT_SLOT`.
    lines: Vec<KeyLine>,
    slots: Vec<Slot<E>>,
}

/// Whether node `i` comes before node `j`: earlier, or as early and
/// scheduled first.
///
/// # Safety
/// `i` and `j` are nodes of the heap whose time and slot arrays these are.
#[inline(always)]
unsafe fn before<E>(times: *const u64, slots: *const Slot<E>, i: usize, j: usize) -> bool {
    let (x, y) = (*times.add(i), *times.add(j));
    x < y || (x == y && (*slots.add(i)).seq < (*slots.add(j)).seq)
}

impl<E: Copy> QuadHeap<E> {
    fn new() -> Self {
        QuadHeap {
            lines: Vec::new(),
            slots: Vec::new(),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.slots.len()
    }

    #[inline]
    fn peek_key(&self) -> Option<u128> {
        let root = self.slots.first()?;
        Some(join(self.lines[0].0[ROOT_SLOT], u64::from(root.seq)))
    }

    #[inline]
    fn peek(&self) -> Option<&E> {
        self.slots.first().map(|s| &s.event)
    }

    /// The sequence numbers of every node, for renumbering in place.
    fn seqs_mut(&mut self) -> impl Iterator<Item = &mut u32> {
        self.slots.iter_mut().map(|s| &mut s.seq)
    }

    /// Node `i`'s time slot; valid to read and write for `i < len`, and
    /// for `i` up to the end of the last line.
    #[inline]
    fn times(&mut self) -> *mut u64 {
        // SAFETY: a heap with a node has at least one line, of ROOT_SLOT + 1
        // slots.
        unsafe { self.lines.as_mut_ptr().cast::<u64>().add(ROOT_SLOT) }
    }

    #[inline]
    fn push(&mut self, key: u128, event: E) {
        let i = self.slots.len();
        if (i + ROOT_SLOT) / LINE_KEYS == self.lines.len() {
            hugepages::push(&mut self.lines, KeyLine([u64::MAX; LINE_KEYS]));
        }
        let (time, seq) = split(key);
        debug_assert!(seq <= u64::from(u32::MAX), "sequence numbers are 32 bits");
        let slot = Slot {
            seq: seq as u32,
            event,
        };
        hugepages::push(&mut self.slots, slot);
        self.sift_up(i, time, slot);
    }

    /// Moves `time` and `slot` up from node `i`, a hole, to their place.
    #[inline]
    fn sift_up(&mut self, mut i: usize, time: u64, slot: Slot<E>) {
        let times = self.times();
        let slots = self.slots.as_mut_ptr();
        // SAFETY: `i < len` and parents are below their children.
        unsafe {
            while i > 0 {
                let parent = (i - 1) / ARITY;
                let pt = *times.add(parent);
                if pt < time || (pt == time && (*slots.add(parent)).seq < slot.seq) {
                    break;
                }
                *times.add(i) = pt;
                *slots.add(i) = *slots.add(parent);
                i = parent;
            }
            *times.add(i) = time;
            *slots.add(i) = slot;
        }
    }

    /// Removes the earliest event. As std's heap does, the hole at the
    /// root goes down to a leaf along the earlier children and the last
    /// node goes up from there: it belongs near the bottom, so that costs
    /// one comparison per level where sifting it down would cost two.
    #[inline]
    fn pop(&mut self) -> Option<(u128, E)> {
        let last = self.slots.pop()?;
        let n = self.slots.len();
        let times = self.times();
        // SAFETY: slot n was the last node's; every other index below is
        // below n (`first + 3 < n` for a full set of children, `j < n`
        // otherwise, and `hole` is always a former child index). Slots at n
        // and above are never read as nodes, so the last time stays there.
        unsafe {
            let last_time = *times.add(n);
            if n == 0 {
                return Some((join(last_time, u64::from(last.seq)), last.event));
            }
            let top_time = *times;
            let slots = self.slots.as_mut_ptr();
            let top = *slots;
            let mut hole = 0;
            loop {
                let first = hole * ARITY + 1;
                let c = if first + ARITY <= n {
                    prefetch_grandchildren(times, first, n);
                    earliest_by_time(times, first)
                        .unwrap_or_else(|| earliest(times, slots, first, first + ARITY))
                } else if first < n {
                    earliest(times, slots, first, n)
                } else {
                    break;
                };
                *times.add(hole) = *times.add(c);
                *slots.add(hole) = *slots.add(c);
                hole = c;
            }
            self.sift_up(hole, last_time, last);
            Some((join(top_time, u64::from(top.seq)), top.event))
        }
    }
}

/// The earliest of the four children from `first` on, chosen without
/// branches on their times (which child is earliest is a coin toss);
/// `None` when two of the times compared are equal, which is rare and asks
/// for the sequence numbers.
///
/// # Safety
/// Nodes `first ..= first + 3` are in the heap whose times these are.
#[inline(always)]
unsafe fn earliest_by_time(times: *const u64, first: usize) -> Option<usize> {
    let t = times.add(first);
    let (t0, t1, t2, t3) = (*t, *t.add(1), *t.add(2), *t.add(3));
    let a = first + usize::from(t1 < t0);
    let b = first + 2 + usize::from(t3 < t2);
    let (ta, tb) = (*times.add(a), *times.add(b));
    if (t1 == t0) | (t3 == t2) | (tb == ta) {
        None
    } else if tb < ta {
        Some(b)
    } else {
        Some(a)
    }
}

/// The earliest of nodes `from .. to` by `(time, seq)`.
///
/// # Safety
/// `from < to` and the nodes are in the heap whose arrays these are.
#[inline]
unsafe fn earliest<E>(times: *const u64, slots: *const Slot<E>, from: usize, to: usize) -> usize {
    let mut c = from;
    for j in from + 1..to {
        if before(times, slots, j, c) {
            c = j;
        }
    }
    c
}

/// `(time, seq)` as one key that orders as the pair does.
#[inline(always)]
fn join(time: u64, seq: u64) -> u128 {
    (u128::from(time) << 64) | u128::from(seq)
}

#[inline(always)]
fn split(key: u128) -> (u64, u64) {
    ((key >> 64) as u64, key as u64)
}

/// Starts loading the two lines of times that hold the children of nodes
/// `first ..= first + 3`: the next level of a sift down, whichever of
/// those nodes it takes. In a heap larger than the first-level cache each
/// level is a load that waits on the comparison before it; this overlaps
/// the wait for the next level with the comparison of this one.
#[inline(always)]
fn prefetch_grandchildren(times: *mut u64, first: usize, n: usize) {
    let from = first * ARITY + 1;
    if from >= n {
        return;
    }
    // Near the bottom the lines may lie past the last node, even past the
    // allocation: the addresses are only prefetched.
    let line = times.wrapping_add(from).cast::<u8>();
    prefetch(line);
    prefetch(line.wrapping_add(64));
}

/// Where the earliest pending event is.
#[derive(Clone, Copy)]
enum Front {
    Arrivals,
    Lane,
    Heap,
}

/// A min-queue of events by `(time, insertion order)`.
pub struct EventQueue<E> {
    heap: QuadHeap<E>,
    /// Timers in ascending key order.
    lane: VecDeque<Entry<E>>,
    /// Arrivals in ascending key order.
    arrivals: VecDeque<Entry<E>>,
    next_seq: u32,
    /// The sequence number at which the pending events are renumbered.
    seq_limit: u32,
    now: SimTime,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        EventQueue {
            heap: QuadHeap::new(),
            lane: VecDeque::new(),
            arrivals: VecDeque::new(),
            next_seq: 0,
            seq_limit: u32::MAX,
            now: SimTime::ZERO,
        }
    }

    /// A queue that renumbers its pending events once `limit` sequence
    /// numbers are used, so tests can reach the renumbering.
    #[cfg(test)]
    fn with_seq_limit(limit: u32) -> Self {
        EventQueue {
            seq_limit: limit,
            ..Self::new()
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
        self.heap.push(e.key, e.event);
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
            Some(back) if back.key > e.key => self.heap.push(e.key, e.event),
            _ => hugepages::push_back(&mut self.lane, e),
        }
    }

    /// Schedules `event` at `time` like [`EventQueue::schedule`] (same
    /// order), cheaper when each such event is scheduled after the one
    /// before it, as one source's arrivals are.
    ///
    /// # Panics
    /// As [`EventQueue::schedule`].
    #[inline(always)]
    pub fn schedule_arrival(&mut self, time: SimTime, event: E) {
        let e = self.entry(time, event);
        match self.arrivals.back() {
            Some(back) if back.key > e.key => self.heap.push(e.key, e.event),
            _ => hugepages::push_back(&mut self.arrivals, e),
        }
    }

    fn entry(&mut self, time: SimTime, event: E) -> Entry<E> {
        assert!(
            time >= self.now,
            "event scheduled in the past: {time} < now {}",
            self.now
        );
        if self.next_seq >= self.seq_limit {
            self.renumber();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        Entry {
            key: (u128::from(time.0) << 64) | u128::from(seq),
            event,
        }
    }

    /// Gives the pending events the sequence numbers `0..len` in the order
    /// of their old ones, and the next event `len`. Only the order of
    /// sequence numbers matters (between equal times), and it is kept, so
    /// neither the heap nor the lanes change shape. This happens once per
    /// four billion events scheduled, and keeps the numbers to 32 bits.
    #[cold]
    fn renumber(&mut self) {
        let low = |key: u128| key as u64 as u32;
        let mut old: Vec<u32> = self.heap.seqs_mut().map(|s| *s).collect();
        old.extend(self.lane.iter().chain(&self.arrivals).map(|e| low(e.key)));
        old.sort_unstable();
        let rank = |seq: u32| -> u32 {
            // Every number looked up is one of `old`, and there are fewer
            // pending events than sequence numbers.
            old.binary_search(&seq).unwrap_or_else(|i| i) as u32
        };
        for s in self.heap.seqs_mut() {
            *s = rank(*s);
        }
        for e in self.lane.iter_mut().chain(self.arrivals.iter_mut()) {
            e.key = (e.key >> 64 << 64) | u128::from(rank(low(e.key)));
        }
        self.next_seq = old.len() as u32;
    }

    /// Which of the three holds the earliest event, and its key
    /// (`u128::MAX` with all three empty, a key no event has).
    #[inline]
    fn front(&self) -> (Front, u128) {
        // Lane keys are unique, so at most one front holds the minimum.
        let heap = self.heap.peek_key().unwrap_or(u128::MAX);
        let lane = self.lane.front().map_or(u128::MAX, |e| e.key);
        let arrival = self.arrivals.front().map_or(u128::MAX, |e| e.key);
        if arrival < heap && arrival < lane {
            (Front::Arrivals, arrival)
        } else if lane < heap {
            (Front::Lane, lane)
        } else {
            (Front::Heap, heap)
        }
    }

    /// Removes and returns the earliest event, advancing `now` to its time.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let e = match self.front().0 {
            Front::Arrivals => self.arrivals.pop_front()?,
            Front::Lane => self.lane.pop_front()?,
            Front::Heap => {
                let (key, event) = self.heap.pop()?;
                Entry { key, event }
            }
        };
        let time = SimTime((e.key >> 64) as u64);
        self.now = time;
        Some((time, e.event))
    }

    /// The event [`EventQueue::pop`] would return next, left in place: a
    /// caller can start loading what that event will touch while it
    /// handles the current one.
    #[inline]
    pub fn peek(&self) -> Option<&E> {
        match self.front().0 {
            Front::Arrivals => self.arrivals.front().map(|e| &e.event),
            Front::Lane => self.lane.front().map(|e| &e.event),
            Front::Heap => self.heap.peek(),
        }
    }

    /// The time of the earliest pending event.
    pub fn peek_time(&self) -> Option<SimTime> {
        let (_, key) = self.front();
        (key != u128::MAX).then_some(SimTime((key >> 64) as u64))
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

    /// One step of a xorshift generator: cheap, reproducible test input.
    fn xorshift(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
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
            xorshift(&mut x);
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
                assert_eq!(q.peek().copied(), expect.map(|e| e.1));
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

    /// Renumbering keeps the order: with a small limit the pending events
    /// are renumbered dozens of times, among them events scheduled at the
    /// start for the same far instant as events scheduled much later,
    /// which must still come out first.
    #[test]
    fn renumbering_keeps_the_order() {
        const FAR: u64 = 1 << 40;
        let mut x = 0x5851_F42Du64;
        let mut q = EventQueue::with_seq_limit(4_000);
        let mut reference = Reference::default();
        for i in 0..3u32 {
            q.schedule(SimTime(FAR), i);
            reference.schedule(SimTime(FAR), i);
        }
        for i in 3..200_003u32 {
            xorshift(&mut x);
            let now = q.now().0;
            let t = match x % 500 {
                0 => SimTime(FAR),
                1..=40 => SimTime(now),
                _ => SimTime(now + 100 + x % 7),
            };
            match x % 3 {
                0 => q.schedule(t, i),
                1 => q.schedule_arrival(t, i),
                _ => q.schedule_timer(t, i),
            }
            reference.schedule(t, i);
            // About 400 far events and up to 1,500 near ones stay pending,
            // well under the limit.
            while q.len() > 1_500 - (x % 2) as usize * 700 {
                assert_eq!(q.pop(), reference.pop());
            }
        }
        assert!(q.now().0 < FAR, "the far events are still pending");
        // 200,000 sequence numbers were handed out under a limit of 4,000.
        assert!(q.next_seq < 4_000);
        while let Some(e) = reference.pop() {
            assert_eq!(q.pop(), Some(e));
        }
        assert!(q.is_empty());
    }

    /// A queue that grows to tens of thousands of events (many lines of
    /// keys), shrinks and grows again keeps the reference order.
    #[test]
    fn a_large_queue_keeps_the_order() {
        let mut x = 0x2545_F491u64;
        let mut q = EventQueue::new();
        let mut reference = Reference::default();
        let mut i = 0u32;
        let rounds = [(20_000, 18_000), (20_000, 20_000)];
        for (push, pop) in rounds {
            for _ in 0..push {
                xorshift(&mut x);
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
        while let Some(e) = reference.pop() {
            assert_eq!(q.pop(), Some(e));
        }
        assert!(q.is_empty());
    }

    /// The 4-ary heap on its own, with keys in any order (it does not rely
    /// on keys staying above the last one popped): random runs of pushes
    /// and pops, at sizes where the last node has one to four children,
    /// pop what `std`'s heap pops.
    #[test]
    fn quad_heap_pops_the_minimum() {
        let mut x = 0x853C_49E6u64;
        let mut next = move || xorshift(&mut x);
        let mut q = QuadHeap::new();
        let mut reference = std::collections::BinaryHeap::new();
        for i in 0..40_000u32 {
            // Phases that grow and shrink the heap, so that every shape of
            // the last level is popped through.
            let grow = (i / 2_000) % 2 == 0;
            let r = next();
            if r % 8 < if grow { 5 } else { 3 } {
                // Small keys tie in time often; the index keeps them unique.
                let key = (u128::from(r % 1_000) << 64) | u128::from(i);
                q.push(key, i);
                reference.push(std::cmp::Reverse((key, i)));
            } else {
                assert_eq!(q.pop(), reference.pop().map(|r| r.0));
            }
            assert_eq!(q.len(), reference.len());
            assert_eq!(q.peek_key(), reference.peek().map(|r| r.0 .0));
        }
        while let Some(r) = reference.pop() {
            assert_eq!(q.pop(), Some(r.0));
        }
        assert_eq!(q.pop(), None);
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
