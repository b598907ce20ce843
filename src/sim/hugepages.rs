//! Transparent huge pages for the tables that outgrow the TLB.
//!
//! A large cluster keeps its in-flight requests, pending events and
//! deadlines in tables of hundreds of megabytes, and the requests touched
//! one after another lie far apart in them. With 4 KiB pages nearly every
//! such touch misses the TLB and waits for a page walk on top of the cache
//! miss. Linux backs a region with 2 MiB pages, which cuts the entries
//! needed 512-fold, when asked to with `madvise(MADV_HUGEPAGE)`; in the
//! kernel's "madvise" mode, a common default, nothing else gets them.
//! Nothing here changes what the simulator computes; where the kernel says
//! no, or off Linux, the advice is simply not taken.

use std::collections::VecDeque;

/// Tables smaller than this stay as they are: the advice only pays once a
/// table spans more pages than the TLB holds.
const MIN_BYTES: usize = 8 << 20;

/// The huge page size on x86-64 and on most aarch64 kernels.
const HUGE_PAGE: usize = 2 << 20;

/// `v.push(x)`, asking for huge pages whenever the push makes `v` move to
/// a larger allocation of at least [`MIN_BYTES`]. Growth is std's doubling.
#[inline]
pub(crate) fn push<T>(v: &mut Vec<T>, x: T) {
    if v.len() == v.capacity() {
        grow(v);
    }
    v.push(x);
}

/// `q.push_back(x)`, asking for huge pages as [`push`] does.
#[inline]
pub(crate) fn push_back<T>(q: &mut VecDeque<T>, x: T) {
    if q.len() == q.capacity() {
        grow_deque(q);
    }
    q.push_back(x);
}

/// Moves `v` to an allocation twice as large. A large one is advised
/// before anything is written to it: pages already in place stay small
/// when `realloc` moves them, so the elements are copied instead.
#[cold]
#[inline(never)]
fn grow<T>(v: &mut Vec<T>) {
    match advised_double(v.capacity()) {
        Ok(mut fresh) => {
            fresh.append(v);
            *v = fresh;
        }
        Err(cap) => v.reserve_exact(cap - v.len()),
    }
}

/// [`grow`] for a deque.
#[cold]
#[inline(never)]
fn grow_deque<T>(q: &mut VecDeque<T>) {
    match advised_double(q.capacity()) {
        Ok(buf) => {
            // From a Vec a VecDeque keeps the Vec's buffer (documented O(1)).
            let mut fresh = VecDeque::from(buf);
            fresh.append(q);
            *q = fresh;
        }
        Err(cap) => q.reserve_exact(cap - q.len()),
    }
}

/// The next capacity after `cap`, doubled: as an empty, advised
/// allocation when it is large enough for huge pages, else as a number.
fn advised_double<T>(cap: usize) -> Result<Vec<T>, usize> {
    let cap = (cap * 2).max(4);
    let bytes = cap.saturating_mul(std::mem::size_of::<T>());
    if bytes < MIN_BYTES {
        return Err(cap);
    }
    let fresh: Vec<T> = Vec::with_capacity(cap);
    advise(fresh.as_ptr().cast::<u8>(), bytes);
    Ok(fresh)
}

/// The whole 2 MiB pages inside `len` bytes from address `at`, as
/// `(start, end)`, if the region is large enough to be worth advising.
fn huge_span(at: usize, len: usize) -> Option<(usize, usize)> {
    if len < MIN_BYTES {
        return None;
    }
    let start = at.next_multiple_of(HUGE_PAGE);
    let end = (at + len) / HUGE_PAGE * HUGE_PAGE;
    (end > start).then_some((start, end))
}

/// Asks for huge pages over the whole 2 MiB pages inside `len` bytes from
/// `ptr`. Returns whether the kernel was asked.
pub(crate) fn advise(ptr: *const u8, len: usize) -> bool {
    let Some((start, end)) = huge_span(ptr as usize, len) else {
        return false;
    };
    #[cfg(target_os = "linux")]
    {
        // SAFETY: [start, end) lies inside one live allocation and is
        // page-aligned; MADV_HUGEPAGE only changes how the kernel backs the
        // pages, never their contents. A refusal (THP disabled, an old
        // kernel) leaves the region as it was, which is correct too.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
        true
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (start, end);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_keep_order_and_grow_by_doubling() {
        let mut v: Vec<u64> = Vec::new();
        let mut caps = Vec::new();
        for i in 0..3_000_000u64 {
            push(&mut v, i);
            if caps.last() != Some(&v.capacity()) {
                caps.push(v.capacity());
            }
        }
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
        for w in caps.windows(2) {
            assert_eq!(w[1], 2 * w[0], "capacities {caps:?}");
        }
    }

    #[test]
    fn a_wrapped_deque_keeps_its_order_through_growth() {
        let mut q: VecDeque<u64> = VecDeque::new();
        let (mut popped, mut grew_large) = (0u64, false);
        for i in 0..3_000_000u64 {
            // Popping every third push keeps the head moving, so that
            // growths find the contents wrapped around the buffer's end.
            if i % 3 == 2 {
                assert_eq!(q.pop_front(), Some(popped));
                popped += 1;
            }
            let before = q.capacity();
            push_back(&mut q, i);
            if q.capacity() != before {
                assert_eq!(q.capacity(), (2 * before).max(4));
                grew_large |= q.capacity() * 8 >= MIN_BYTES;
            }
        }
        assert!(grew_large, "the test never reached the advised growth");
        assert!(q.iter().copied().eq(popped..3_000_000));
    }

    #[test]
    fn only_whole_huge_pages_of_large_regions_are_advised() {
        let h = HUGE_PAGE;
        assert_eq!(huge_span(10 * h, MIN_BYTES - 1), None);
        assert_eq!(
            huge_span(10 * h, MIN_BYTES),
            Some((10 * h, 10 * h + MIN_BYTES))
        );
        // Unaligned ends are trimmed to whole pages inside the region.
        assert_eq!(
            huge_span(10 * h + 4096, MIN_BYTES + h),
            Some((11 * h, 10 * h + MIN_BYTES + h))
        );
        let v = vec![0u8; MIN_BYTES + 2 * h];
        assert_eq!(advise(v.as_ptr(), v.len()), cfg!(target_os = "linux"));
        assert!(!advise(v.as_ptr(), h));
    }
}
