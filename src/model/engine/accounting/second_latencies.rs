//! One revision's latencies of the current simulated second, and the p50
//! and p99 its timeseries row reports.
//!
//! The row's quantiles are those of a two-digit histogram of the second's
//! values. A histogram per revision cost a clear of its 30 kB of counters
//! every simulated second, which with hundreds of revisions outweighed the
//! requests themselves, so a quiet second keeps its values in a list and
//! selects from it. A busy one does not: at 10,000 pods a second held
//! 500,000 values, a 4 MB list written through and then selected from. Past
//! [`SPILL`] values the list moves into a histogram, which bounds what a
//! busy revision holds for its second and whose clear costs less than a
//! byte per value.

use hdrhistogram::Histogram;

/// Values a second keeps in its list before it moves them into a
/// histogram: 64 kB, and well over any second of a revision with under a
/// few thousand requests per second, the case the list is for.
const SPILL: usize = 8_192;

/// Most values a second's quantiles sort rather than select from.
const SORT_UP_TO: usize = 64;

/// An empty histogram of the shape the per-second quantiles are read from.
pub(super) fn second_histogram() -> Histogram<u64> {
    // Two significant digits, as the per-second p50 and p99 have always
    // been reported.
    Histogram::new_with_bounds(1, 36_000_000_000, 2).expect("valid histogram bounds")
}

/// The second's latencies (µs): a list while there are few, then a
/// histogram.
#[derive(Clone, Default)]
pub(super) struct SecondLatencies {
    us: Vec<u64>,
    /// Kept from second to second once a busy second needed it.
    hist: Option<Box<Histogram<u64>>>,
    /// This second's values are in `hist`, not `us`.
    spilled: bool,
}

impl SecondLatencies {
    #[inline]
    pub(super) fn record(&mut self, us: u64) {
        match &mut self.hist {
            Some(h) if self.spilled => h.saturating_record(us),
            _ => {
                self.us.push(us);
                if self.us.len() == SPILL {
                    self.spill();
                }
            }
        }
    }

    #[cold]
    fn spill(&mut self) {
        let h = self
            .hist
            .get_or_insert_with(|| Box::new(second_histogram()));
        for &v in &self.us {
            h.saturating_record(v);
        }
        self.us.clear();
        self.spilled = true;
    }

    /// Empties it for the next second, keeping its allocations.
    pub(super) fn clear(&mut self) {
        self.us.clear();
        if self.spilled {
            if let Some(h) = &mut self.hist {
                h.reset();
            }
            self.spilled = false;
        }
    }

    /// `value_at_quantile(q)` of a two-digit histogram holding these
    /// values; `shape` is an empty histogram of that shape, used for its
    /// bucket arithmetic (and to hold the values when one is past its
    /// highest trackable value, which it clamps). 0 ms when empty.
    pub(super) fn quantile_ms(&mut self, q: f64, shape: &mut Histogram<u64>) -> f64 {
        if let Some(h) = self.spilled_hist() {
            return h.value_at_quantile(q) as f64 / 1000.0;
        }
        let n = self.us.len();
        if n == 0 {
            return 0.0;
        }
        let v = if self.us.iter().any(|&v| v > shape.high()) {
            for &v in &self.us {
                shape.saturating_record(v);
            }
            let v = shape.value_at_quantile(q);
            shape.reset();
            v
        } else {
            let k = rank(q, n);
            let (_, kth, _) = self.us.select_nth_unstable(k - 1);
            shape.highest_equivalent(*kth)
        };
        v as f64 / 1000.0
    }

    /// The second's p50 and p99 (ms), each what
    /// [`SecondLatencies::quantile_ms`] answers. A second of a revision
    /// with little traffic holds a handful of values: one sort serves
    /// both quantiles, where two selections cost twice the walk. A busy
    /// second's p99 is selected among the values above its median only,
    /// which the median's selection has already set apart.
    pub(super) fn p50_p99_ms(&mut self, shape: &mut Histogram<u64>) -> (f64, f64) {
        let n = self.us.len();
        if self.spilled || n == 0 || self.us.iter().any(|&v| v > shape.high()) {
            return (self.quantile_ms(0.5, shape), self.quantile_ms(0.99, shape));
        }
        let (k50, k99) = (rank(0.5, n), rank(0.99, n));
        let (p50, p99) = if n <= SORT_UP_TO {
            self.us.sort_unstable();
            (self.us[k50 - 1], self.us[k99 - 1])
        } else {
            let (_, &mut p50, above) = self.us.select_nth_unstable(k50 - 1);
            // `above` holds the n - k50 largest values, so the k99-th
            // smallest of all is its (k99 - k50)-th smallest; past
            // SORT_UP_TO values the two ranks differ.
            let (_, &mut p99, _) = above.select_nth_unstable(k99 - k50 - 1);
            (p50, p99)
        };
        let ms = |v| shape.highest_equivalent(v) as f64 / 1000.0;
        (ms(p50), ms(p99))
    }

    fn spilled_hist(&self) -> Option<&Histogram<u64>> {
        self.hist.as_deref().filter(|_| self.spilled)
    }
}

/// The 1-based rank of the value a histogram answers for quantile `q` of
/// `n` values: it walks its buckets to the first whose running count
/// reaches ceil(q n) (at least 1), the bucket of that value, and answers
/// that bucket's highest value.
fn rank(q: f64, n: usize) -> usize {
    ((q * n as f64).ceil() as usize).clamp(1, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    /// The per-second quantiles equal a two-digit histogram's on the same
    /// values: few and many values, past the spill, ties, bucket edges and
    /// values past the highest trackable one; and a list reused after a
    /// spilled second answers for that second's values alone.
    #[test]
    fn second_quantiles_match_the_histogram() {
        let mut shape = second_histogram();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        // One list through every case, cleared between them as a
        // revision's is between seconds.
        let mut lat = SecondLatencies::default();
        let sizes = [1, 2, 3, 7, 10, 64, 65, 100, 1_001, SPILL - 1, SPILL, 20_000];
        for case in 0..240u64 {
            let n = sizes[case as usize % sizes.len()];
            let mut h = second_histogram();
            lat.clear();
            for _ in 0..n {
                let x = xorshift(&mut x);
                let v = match case % 5 {
                    0 => 1 + x % 300,
                    1 => 1 + x % 200_000,
                    2 => 255 + x % 3,
                    3 => 1u64 << (x % 36),
                    _ if x % 97 == 0 => 40_000_000_000 + x % 1_000,
                    _ => 1 + x % 5_000_000,
                };
                lat.record(v);
                h.saturating_record(v);
            }
            assert_eq!(lat.spilled, n >= SPILL, "case {case} n {n}");
            let mut both = lat.clone();
            for q in [0.5, 0.99, 0.01, 1.0] {
                let want = h.value_at_quantile(q) as f64 / 1000.0;
                assert_eq!(
                    lat.quantile_ms(q, &mut shape),
                    want,
                    "case {case} n {n} q {q}"
                );
            }
            let want = |q| h.value_at_quantile(q) as f64 / 1000.0;
            assert_eq!(
                both.p50_p99_ms(&mut shape),
                (want(0.5), want(0.99)),
                "case {case} n {n}"
            );
            assert!(shape.is_empty());
        }
    }

    #[test]
    fn an_empty_second_after_a_spilled_one_reports_zero() {
        let mut shape = second_histogram();
        let mut lat = SecondLatencies::default();
        for v in 0..SPILL as u64 + 5 {
            lat.record(1_000 + v);
        }
        assert!(lat.p50_p99_ms(&mut shape).0 > 0.0);
        lat.clear();
        assert_eq!(lat.p50_p99_ms(&mut shape), (0.0, 0.0));
        lat.record(200);
        assert_eq!(lat.p50_p99_ms(&mut shape), (0.2, 0.2));
    }
}
