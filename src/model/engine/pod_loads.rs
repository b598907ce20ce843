//! One activator's reservations on the pods of one revision, and which pods
//! of its assignment have room: the capacity side of the throttler.
//!
//! Follows `pkg/activator/net/throttler.go`: a pod tracker per pod counts
//! the requests the activator has sent it (its breaker), whether or not the
//! pod is still in the activator's assigned slice, and a release looks for
//! an assigned pod below `containerConcurrency`, first available for cc 1-3
//! and round robin from after the last choice otherwise
//! (`pkg/activator/net/lb_policy.go`).
//!
//! The whole record is one cache line: with many revisions, each request
//! finds its revision's records evicted since its last visit, so every line
//! the throttler reads per request is a miss (docs/performance.md,
//! "Seventeenth round").

use super::event::PodId;

/// A pod's load, and its position in the assignment.
#[derive(Clone, Copy)]
struct PodEntry {
    /// Requests this activator has sent the pod and not yet seen end.
    load: u32,
    /// Position in `assigned`; [`UNASSIGNED`] for pods outside it.
    pos: u32,
}

const UNASSIGNED: u32 = u32::MAX;
const EMPTY: PodEntry = PodEntry {
    load: 0,
    pos: UNASSIGNED,
};

/// Per-pod loads and a bit set of the assigned positions whose pod is below
/// its limit, so that a release finds the next free pod in a word scan, and
/// a full throttler says so in O(1), instead of a scan over every pod.
/// 64 bytes: the first 64 positions' bits are held inline, the rest apart.
#[derive(Default)]
pub(super) struct PodLoads {
    /// Free bits of positions 0-63.
    first: u64,
    n_free: u32,
    /// Where the next round-robin search starts.
    rr_next: u32,
    /// The pods this activator may send to, in assignment order.
    assigned: Box<[PodId]>,
    /// By revision-local pod index; grows to the highest pod seen.
    pods: Box<[PodEntry]>,
    /// Free bits of positions 64 and up.
    rest: Box<[u64]>,
}

const _: () = assert!(std::mem::size_of::<PodLoads>() == 64);

impl PodLoads {
    /// Requests in flight to `pod` from this activator.
    #[inline]
    pub(super) fn load(&self, pod: PodId) -> u32 {
        self.pods.get(pod.idx()).map_or(0, |e| e.load)
    }

    /// The current assignment.
    #[inline]
    pub(super) fn assigned(&self) -> &[PodId] {
        &self.assigned
    }

    /// Makes room for `pod` in the table.
    fn grow_to(&mut self, pod: PodId) {
        if self.pods.len() <= pod.idx() {
            let mut v = std::mem::take(&mut self.pods).into_vec();
            let n = (pod.idx() + 1).max(2 * v.len());
            v.resize(n, EMPTY);
            self.pods = v.into_boxed_slice();
        }
    }

    /// Replaces the assignment with `assigned` (the free set follows the
    /// pods' loads against `cc`); returns the previous one.
    pub(super) fn assign(&mut self, assigned: Vec<PodId>, cc: u32) -> Box<[PodId]> {
        let old = std::mem::replace(&mut self.assigned, assigned.into_boxed_slice());
        for pod in old.iter() {
            if let Some(e) = self.pods.get_mut(pod.idx()) {
                e.pos = UNASSIGNED;
            }
        }
        let len = self.assigned.len();
        self.first = 0;
        self.rest = vec![0; len.div_ceil(64).saturating_sub(1)].into_boxed_slice();
        self.n_free = 0;
        for i in 0..len {
            let pod = self.assigned[i];
            self.grow_to(pod);
            let e = &mut self.pods[pod.idx()];
            e.pos = i as u32;
            if e.load < cc {
                *self.word_mut(i / 64) |= 1 << (i % 64);
                self.n_free += 1;
            }
        }
        if self.rr_next as usize >= len {
            self.rr_next = 0;
        }
        old
    }

    #[inline(always)]
    fn word(&self, w: usize) -> u64 {
        if w == 0 {
            self.first
        } else {
            self.rest[w - 1]
        }
    }

    #[inline(always)]
    fn word_mut(&mut self, w: usize) -> &mut u64 {
        if w == 0 {
            &mut self.first
        } else {
            &mut self.rest[w - 1]
        }
    }

    /// One more request to `pod`.
    #[inline(always)]
    pub(super) fn reserve(&mut self, pod: PodId, cc: u32) {
        self.grow_to(pod);
        let e = &mut self.pods[pod.idx()];
        e.load += 1;
        let (load, pos) = (e.load, e.pos);
        self.update(pos, load, cc);
    }

    /// A request to `pod` ended.
    #[inline(always)]
    pub(super) fn release(&mut self, pod: PodId, cc: u32) {
        let e = &mut self.pods[pod.idx()];
        e.load -= 1;
        let (load, pos) = (e.load, e.pos);
        self.update(pos, load, cc);
    }

    /// Records that the pod at `pos` now has `load`.
    #[inline(always)]
    fn update(&mut self, pos: u32, load: u32, cc: u32) {
        if pos == UNASSIGNED {
            return;
        }
        let (w, b) = (pos as usize / 64, 1u64 << (pos % 64));
        let word = self.word_mut(w);
        let was = *word & b != 0;
        let is = load < cc;
        if was != is {
            *word ^= b;
            if is {
                self.n_free += 1;
            } else {
                self.n_free -= 1;
            }
        }
    }

    /// The first assigned pod with room (cc 1-3).
    #[inline]
    pub(super) fn first_free(&self) -> Option<PodId> {
        self.next_from(0).map(|i| self.assigned[i])
    }

    /// The next assigned pod with room from after the last choice, wrapping
    /// round (cc above 3).
    #[inline]
    pub(super) fn next_round_robin(&mut self) -> Option<PodId> {
        let n = self.assigned.len();
        let i = self.next_from(self.rr_next as usize)?;
        self.rr_next = if i + 1 < n { i as u32 + 1 } else { 0 };
        Some(self.assigned[i])
    }

    /// The first free position at or after `start`, wrapping round.
    #[inline]
    fn next_from(&self, start: usize) -> Option<usize> {
        let len = self.assigned.len();
        if self.n_free == 0 || len == 0 {
            return None;
        }
        // Callers pass a position of the set; a division only otherwise.
        let start = if start < len { start } else { start % len };
        let nw = len.div_ceil(64);
        let (w0, b0) = (start / 64, start % 64);
        let first = self.word(w0) & (!0u64 << b0);
        if first != 0 {
            return Some(w0 * 64 + first.trailing_zeros() as usize);
        }
        for k in 1..=nw {
            let w = (w0 + k) % nw;
            // Back at the first word: only the bits before `start` are left.
            let word = if w == w0 {
                self.word(w) & !(!0u64 << b0)
            } else {
                self.word(w)
            };
            if word != 0 {
                return Some(w * 64 + word.trailing_zeros() as usize);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The free set against a plain scan over the assignment, through
    /// random reservations, releases and reassignments, over assignments
    /// of 1 to 200 pods (one word, several, and the inline word alone).
    #[test]
    fn the_free_set_finds_what_a_scan_would() {
        use crate::sim::{RngStreams, Stream};
        use rand::Rng;
        let mut rng = RngStreams::new(3).get(Stream::LoadBalancing, 0);
        for cc in [1u32, 2, 4] {
            let mut l = PodLoads::default();
            let mut loads = vec![0u32; 300];
            let mut rr = 0usize;
            for step in 0..20_000 {
                if step % 997 == 0 {
                    let n = rng.random_range(1..=200usize);
                    let start = rng.random_range(0..100u32);
                    let pods: Vec<PodId> = (start..start + n as u32).map(PodId).collect();
                    l.assign(pods, cc);
                    if rr >= n {
                        rr = 0;
                    }
                }
                let assigned: Vec<PodId> = l.assigned().to_vec();
                let scan_first = assigned.iter().copied().find(|p| loads[p.idx()] < cc);
                assert_eq!(l.first_free(), scan_first, "cc {cc}, step {step}");
                let n = assigned.len();
                let scan_rr = (0..n)
                    .map(|k| (rr + k) % n)
                    .find(|&i| loads[assigned[i].idx()] < cc);
                match rng.random_range(0..3) {
                    0 | 1 => {
                        let got = l.next_round_robin();
                        assert_eq!(got, scan_rr.map(|i| assigned[i]), "cc {cc}, step {step}");
                        if let Some(i) = scan_rr {
                            rr = if i + 1 < n { i + 1 } else { 0 };
                            l.reserve(assigned[i], cc);
                            loads[assigned[i].idx()] += 1;
                        }
                    }
                    _ => {
                        // Any pod with a request out, assigned or not.
                        let busy: Vec<usize> = (0..loads.len()).filter(|&p| loads[p] > 0).collect();
                        if !busy.is_empty() {
                            let p = busy[rng.random_range(0..busy.len())];
                            l.release(PodId(p as u32), cc);
                            loads[p] -= 1;
                        }
                    }
                }
                for (p, &want) in loads.iter().enumerate() {
                    assert_eq!(l.load(PodId(p as u32)), want);
                }
            }
        }
    }
}
