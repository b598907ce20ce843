use super::*;

fn totals(name: &str) -> RevisionTotals {
    RevisionTotals {
        name: name.into(),
        cold_starts: 1,
        pod_seconds: 10.0,
        max_ready: 1,
    }
}

/// The per-second quantiles equal a two-digit histogram's on the same
/// values: few and many values, ties, bucket edges and values past the
/// highest trackable one.
#[test]
fn second_quantiles_match_the_histogram() {
    let mut shape = second_histogram();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for case in 0..400u64 {
        let n = [1, 2, 3, 7, 10, 64, 65, 100, 1_001][case as usize % 9];
        let mut lat = SecondLatencies::default();
        let mut h = second_histogram();
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
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
        let mut both = SecondLatencies { us: lat.us.clone() };
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
fn a_second_row_counts_only_that_second() {
    let mut b = Accounting::new(None, true);
    b.add_revision();
    let r = RevId(0);
    b.arrived(r, SimTime::ZERO);
    b.arrived(r, SimTime::ZERO);
    b.finished(
        r,
        RequestOutcome::Ok,
        SimTime::ZERO,
        SimTime::ZERO + SimDuration::from_millis(20),
        false,
    );
    let row = b.close_second(r, SimTime::from_secs(1), "a", true, false);
    assert_eq!(
        (row.time_s, row.arrivals, row.completed, row.in_flight),
        (1, 2, 1, 1)
    );
    assert_eq!((row.panic, row.activator_in_path), (1, 0));
    assert!((row.p50_ms - 20.0).abs() < 0.2, "{}", row.p50_ms);
    b.finished(
        r,
        RequestOutcome::Timeout,
        SimTime::ZERO,
        SimTime::from_secs(5),
        true,
    );
    let row = b.close_second(r, SimTime::from_secs(2), "a", false, false);
    assert_eq!(
        (row.arrivals, row.completed, row.errors, row.in_flight),
        (0, 0, 1, 0)
    );
    assert_eq!(row.p50_ms, 0.0, "no success this second");
}

/// Books that keep no rows keep no second's latencies, and count the
/// summary's seconds as books that do.
#[test]
fn books_without_rows_count_the_same_seconds() {
    let mut with_rows = Accounting::new(None, true);
    let mut without = Accounting::new(None, false);
    for b in [&mut with_rows, &mut without] {
        b.add_revision();
        for s in 1..=3u64 {
            let start = SimTime::from_secs(s - 1);
            b.arrived(RevId(0), start);
            b.finished(
                RevId(0),
                RequestOutcome::Ok,
                start,
                start + SimDuration::from_millis(10 * s),
                false,
            );
            let at = SimTime::from_secs(s);
            let (panic, proxy) = (s != 2, s == 3);
            if b.rows {
                b.close_second(RevId(0), at, "a", panic, proxy);
            } else {
                b.count_second(RevId(0), at, panic, proxy);
            }
            assert!(b.revs[0].sec.latency.us.is_empty());
            assert_eq!(b.revs[0].sec.arrivals, 0);
        }
    }
    let summary = |b: &mut Accounting| b.summary("x", 1, 3.0, &[totals("a")], 1, 3);
    let (a, b) = (summary(&mut with_rows), summary(&mut without));
    assert_eq!(
        (
            a.revisions[0].panic_seconds,
            a.revisions[0].activator_in_path_seconds
        ),
        (2, 1)
    );
    assert_eq!(
        crate::output::summary_json(&a),
        crate::output::summary_json(&b)
    );
}

#[test]
fn the_summary_adds_revisions_and_404s() {
    let mut b = Accounting::new(None, true);
    b.add_revision();
    b.add_revision();
    for r in [RevId(0), RevId(1), RevId(1), RevId(1)] {
        b.arrived(r, SimTime::ZERO);
        b.finished(
            r,
            RequestOutcome::Ok,
            SimTime::ZERO,
            SimTime::ZERO + SimDuration::from_millis(10),
            false,
        );
    }
    b.arrived(RevId(0), SimTime::ZERO);
    b.finished(
        RevId(0),
        RequestOutcome::Overflow,
        SimTime::ZERO,
        SimTime::ZERO,
        false,
    );
    b.not_found(SimTime::ZERO);
    b.close_second(RevId(0), SimTime::from_secs(1), "a", true, true);
    b.close_service_second(SimTime::from_secs(1), true, true);
    let s = b.summary("x", 7, 60.0, &[totals("a"), totals("b")], 2, 99);
    assert_eq!(s.requests.arrived, 6);
    assert_eq!(
        (
            s.requests.completed,
            s.requests.status_503,
            s.requests.status_404
        ),
        (4, 1, 1)
    );
    assert_eq!(s.revisions[0].observed_share, 0.4);
    assert_eq!(s.revisions[1].requests.completed, 3);
    assert_eq!(s.revisions[0].panic_seconds, 1);
    assert_eq!(
        (s.panic_seconds, s.cold_starts, s.pod_seconds),
        (1, 2, 20.0)
    );
    assert_eq!(s.performance.events_processed, 99);
    assert_eq!(s.latency_distribution.len(), CDF_QUANTILES.len());
}

fn window(start: u64, end: u64) -> Accounting {
    let window = Window {
        start: SimTime::from_secs(start),
        end: SimTime::from_secs(end),
    };
    let mut b = Accounting::new(Some(window), true);
    b.add_revision();
    b
}

/// `per_batch` successes of 10 ms arriving in each of the 20 batches of
/// a 100-s window.
fn filled(per_batch: u64) -> BatchMeans {
    let mut b = window(0, 100);
    for k in 0..BATCHES as u64 {
        for i in 0..per_batch {
            let at = SimTime::ZERO + SimDuration::from_millis(k * 5_000 + i);
            b.arrived(RevId(0), at);
            let ms = 10 + (i % 7) + k % 3;
            b.finished(
                RevId(0),
                RequestOutcome::Ok,
                at,
                at + SimDuration::from_millis(ms),
                false,
            );
        }
    }
    let s = b.summary("x", 1, 100.0, &[totals("a")], 1, 0);
    s.window.unwrap().batch_means
}

#[test]
fn batches_merge_in_pairs_until_each_has_enough_successes() {
    let full = filled(MIN_PER_BATCH);
    assert_eq!((full.batches, full.batch_seconds), (20, 5.0));
    let half = filled(MIN_PER_BATCH / 2);
    assert_eq!((half.batches, half.batch_seconds), (10, 10.0));
    assert_eq!(half.min_batch_completed, MIN_PER_BATCH);
    let m = half.mean_ms.unwrap();
    assert!(m.low <= m.estimate && m.estimate <= m.high);
    assert!((m.estimate - 13.9).abs() < 0.5, "{m:?}");
    let few = filled(10);
    assert_eq!((few.batches, few.min_batch_completed), (0, 40));
    assert!(few.mean_ms.is_none() && few.p99_ms.is_none());
}

#[test]
fn the_window_counts_arrivals_in_it_and_their_late_endings() {
    let mut b = window(10, 20);
    let r = RevId(0);
    let t = |s: u64| SimTime::from_secs(s);
    for (arrive, end, outcome) in [
        (5, 12, RequestOutcome::Ok),
        (10, 11, RequestOutcome::Ok),
        (19, 25, RequestOutcome::Timeout),
        (15, 15, RequestOutcome::Overflow),
        (20, 21, RequestOutcome::Ok),
    ] {
        b.arrived(r, t(arrive));
        b.finished(r, outcome, t(arrive), t(end), arrive == 5);
    }
    b.arrived(r, t(19));
    b.not_found(t(9));
    b.not_found(t(10));
    for sec in 1..=30 {
        b.close_second(r, t(sec), "a", sec > 15, false);
        b.close_service_second(t(sec), sec > 15, false);
    }
    let s = b.summary("x", 1, 30.0, &[totals("a")], 1, 0);
    let q = &s.requests;
    assert_eq!(
        (
            q.arrived,
            q.completed,
            q.status_503,
            q.status_504,
            q.status_404
        ),
        (5, 1, 1, 1, 1)
    );
    assert_eq!((q.in_flight_at_end, q.waited_on_cold_start), (1, 0));
    assert_eq!(s.revisions[0].requests.arrived, 4);
    assert!((s.latency.max_ms - 1000.0).abs() < 1.0);
    // Seconds ending at 16..=20 are in panic and in the window.
    assert_eq!((s.panic_seconds, s.revisions[0].panic_seconds), (5, 5));
    assert_eq!(s.window.unwrap().start_s, 10.0);
}
