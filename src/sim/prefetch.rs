//! A hint to start loading a cache line, for the places where the
//! simulator knows an address well before it reads from it.

/// Starts loading the cache line holding `p` into every cache level. The
/// pointer is never dereferenced, so it may be dangling or past the end of
/// an allocation (compute it with `wrapping_add`); a prefetch cannot fault.
/// A no-op off x86-64.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing architecturally and cannot fault;
    // SSE, which it needs, is part of every x86_64 target.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
