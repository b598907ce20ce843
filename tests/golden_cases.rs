//! Every case of `knative-golden-cases.md` (exact values from Knative's own
//! unit tests, v1.23), plus the validation rules and the scale-to-zero
//! timeline of the specification, run against the public `knative` API.

use std::collections::BTreeMap;

use knsim::knative::annotations::RevisionAnnotations;
use knsim::knative::buckets::{round_to_n_digits, Aggregation, TimedFloat64Buckets};
use knsim::knative::collector::{Collector, Stat};
use knsim::knative::config::{AutoscalerConfig, DeploymentConfig};
use knsim::knative::decider::{Decider, DeciderSpec, ScaleResult, ScalingMetric};
use knsim::knative::kpa::{
    active_threshold, compute_active_condition, compute_num_activators, panic_window,
    resolve_metric_target, resolve_revision_scaling, scaler_scale, sks_mode, ActiveCondition,
    PaState, ScalerDecision, ScalerInput, SksMode,
};
use knsim::knative::route::{compute_traffic, validate_traffic, TrafficTarget};
use knsim::knative::sample_size::population_mean_sample_size;
use knsim::knative::FieldError;
use knsim::sim::{SimDuration, SimTime};

// ---------------------------------------------------------------------------
// Part A: Decider Scale() with the upstream test harness defaults.

/// An arbitrary whole-second start, far enough from 0 to look back 70 s.
const T0: u64 = 1000;

fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

fn at(s: u64) -> SimTime {
    SimTime::from_secs(s)
}

/// `newTestAutoscalerWithScalingMetric`: TotalValue = T / 0.75, threshold 2,
/// rates 10/10, stable window 60 s, reachable, no delay window.
fn harness_spec(target: f64, tbc: f64) -> DeciderSpec {
    DeciderSpec {
        target_value: target,
        total_value: target / 0.75,
        target_burst_capacity: tbc,
        panic_threshold: 2.0,
        max_scale_up_rate: 10.0,
        max_scale_down_rate: 10.0,
        stable_window: secs(60),
        scale_down_delay: SimDuration::ZERO,
        reachable: true,
        activation_scale: 0,
        scaling_metric: ScalingMetric::Concurrency,
    }
}

/// The decider is created while one pod is ready.
fn harness(spec: DeciderSpec) -> Decider {
    Decider::new(spec, 1, at(T0))
}

fn ok(desired: i32, ebc: i32) -> ScaleResult {
    ScaleResult {
        desired_pod_count: desired,
        excess_burst_capacity: ebc,
        scale_valid: true,
    }
}

/// One A1 row: a single Scale call at T0.
fn a1(
    spec: DeciderSpec,
    ready: i32,
    stable: f64,
    panic: f64,
    desired: i32,
    ebc: i32,
    panic_after: bool,
) {
    let mut d = harness(spec);
    let r = d.scale(at(T0), Some(ready), Some((stable, panic)));
    assert_eq!(r, ok(desired, ebc));
    assert_eq!(d.in_panic(), panic_after);
}

#[test]
fn a1_01_autoscaler_no_data_at_zero_no_autoscale() {
    a1(harness_spec(10.0, 100.0), 1, 0.0, 0.0, 0, -87, false);
}

#[test]
fn a1_02_autoscaler_stable_mode_unlimited_tbc() {
    a1(harness_spec(181.0, -1.0), 1, 21.0, 26.0, 1, -1, false);
}

#[test]
fn a1_03_autoscaler_0_tbc() {
    a1(harness_spec(10.0, 0.0), 1, 50.0, 49.0, 5, 0, true);
}

#[test]
fn a1_04_autoscaler_stable_mode_no_change() {
    a1(harness_spec(10.0, 100.0), 1, 50.0, 50.0, 5, -137, true);
}

fn already_panicking(spec: DeciderSpec) -> Decider {
    let mut d = harness(spec);
    d.set_panic_state(Some(at(T0 - 5)), 5);
    d
}

#[test]
fn a1_05_autoscaler_panic_stable_larger_than_panic() {
    let mut d = already_panicking(harness_spec(1.0, 100.0));
    let r = d.scale(at(T0), Some(5), Some((50.0, 30.0)));
    assert_eq!(r, ok(50, -124));
    assert!(d.in_panic());
}

#[test]
fn a1_06_autoscaler_panic_stable_less_than_panic() {
    let mut d = already_panicking(harness_spec(1.0, 100.0));
    let r = d.scale(at(T0), Some(5), Some((20.0, 30.0)));
    assert_eq!(r, ok(30, -124));
    assert!(d.in_panic());
}

#[test]
fn a1_07_autoscaler_stable_mode_no_change_already_scaled() {
    a1(harness_spec(10.0, 100.0), 5, 50.0, 50.0, 5, -84, false);
}

#[test]
fn a1_08_autoscaler_stable_mode_increase_with_small_scale_up_rate() {
    let mut s = harness_spec(1.0, 1982.0);
    s.max_scale_up_rate = 1.1;
    a1(s, 2, 3.0, 3.1, 3, -1983, true);
}

#[test]
fn a1_09_autoscaler_stable_mode_decrease_with_small_scale_down_rate() {
    let mut s = harness_spec(10.0, 1982.0);
    s.max_scale_down_rate = 1.1;
    a1(s, 100, 1.0, 1.0, 90, -650, false);
}

#[test]
fn a1_10_autoscaler_stable_mode_decrease_non_reachable() {
    let mut s = harness_spec(10.0, 1982.0);
    s.max_scale_down_rate = 1.1;
    s.reachable = false;
    a1(s, 100, 1.0, 1.0, 1, -650, false);
}

#[test]
fn a1_11_autoscaler_panic_mode_double_pod_count() {
    a1(harness_spec(10.0, 84.0), 1, 50.0, 100.0, 10, -171, true);
}

const INVALID: ScaleResult = ScaleResult {
    desired_pod_count: 0,
    excess_burst_capacity: 0,
    scale_valid: false,
};

#[test]
fn a2_01_autoscaler_no_data_no_autoscale() {
    let mut d = harness(harness_spec(10.0, 100.0));
    assert_eq!(d.scale(at(T0), Some(1), None), INVALID);
    // Nothing changed: a later valid call behaves like a fresh decider.
    assert!(!d.in_panic());
}

#[test]
fn a2_02_cant_count_pods() {
    let mut d = harness(harness_spec(10.0, 81.0));
    assert_eq!(d.scale(at(T0), None, Some((1000.0, 888.0))), INVALID);
    assert!(!d.in_panic());
}

#[test]
fn a2_03_autoscaler_use_one_pod_as_minimum_if_endpoints_not_found() {
    a1(harness_spec(10.0, 81.0), 0, 1000.0, 888.0, 10, -969, true);
}

#[test]
fn a3_01_autoscaler_panic_then_unpanic_scale_down() {
    let mut d = harness(harness_spec(10.0, 93.0));
    let p = T0;
    assert_eq!(d.scale(at(p), Some(1), Some((100.0, 100.0))), ok(10, -180));
    assert!(d.in_panic());
    assert_eq!(
        d.scale(at(p), Some(10), Some((100.0, 1000.0))),
        ok(100, -960)
    );
    assert_eq!(d.panic_time(), Some(at(p)));
    assert_eq!(d.scale(at(p + 30), Some(10), Some((1.0, 1.0))), ok(100, 39));
    assert!(d.in_panic());
    assert_eq!(d.scale(at(p + 61), Some(10), Some((1.0, 1.0))), ok(1, 39));
    assert!(!d.in_panic());
}

#[test]
fn a3_02_autoscaler_rate_limit_scale_up() {
    let mut d = harness(harness_spec(10.0, 61.0));
    assert_eq!(
        d.scale(at(T0), Some(1), Some((1000.0, 1001.0))),
        ok(10, -1049)
    );
    assert_eq!(
        d.scale(at(T0 + 2), Some(10), Some((1000.0, 1001.0))),
        ok(100, -929)
    );
}

#[test]
fn a3_03_autoscaler_rate_limit_scale_down() {
    let mut d = harness(harness_spec(10.0, 61.0));
    assert_eq!(d.scale(at(T0), Some(100), Some((1.0, 1.0))), ok(10, 1271));
    assert!(!d.in_panic());
    assert_eq!(d.scale(at(T0 + 2), Some(10), Some((1.0, 1.0))), ok(1, 71));
    assert!(!d.in_panic());
}

#[test]
fn a3_07_autoscaler_activation_scale() {
    let mut s = harness_spec(10.0, 75.0);
    s.activation_scale = 2;
    let mut d = harness(s);
    assert_eq!(d.scale(at(T0), Some(1), Some((0.0, 0.0))), ok(0, -62));
    assert_eq!(d.scale(at(T0 + 2), Some(1), Some((1.0, 0.0))), ok(2, -62));
}

#[test]
fn a3_08_autoscaler_stable_mode_no_traffic_scale_to_zero() {
    let mut d = harness(harness_spec(10.0, 75.0));
    assert_eq!(d.scale(at(T0), Some(1), Some((1.0, 0.0))), ok(1, -62));
    assert_eq!(d.scale(at(T0 + 2), Some(1), Some((0.0, 0.0))), ok(0, -62));
}

#[test]
fn a3_09_autoscaler_stable_mode_increase_with_concurrency_default() {
    let mut d = harness(harness_spec(10.0, 101.0));
    assert_eq!(d.scale(at(T0), Some(1), Some((50.0, 10.0))), ok(5, -98));
    assert!(!d.in_panic());
    assert_eq!(
        d.scale(at(T0 + 2), Some(1), Some((100.0, 10.0))),
        ok(10, -98)
    );
}

#[test]
fn a3_10_autoscaler_stable_mode_decrease() {
    let mut d = harness(harness_spec(10.0, 98.0));
    assert_eq!(d.scale(at(T0), Some(8), Some((100.0, 100.0))), ok(10, -92));
    assert!(!d.in_panic());
    assert_eq!(d.scale(at(T0 + 2), Some(8), Some((50.0, 50.0))), ok(5, -42));
}

#[test]
fn a3_11_autoscaler_update_target() {
    let mut d = harness(harness_spec(10.0, 77.0));
    assert_eq!(d.scale(at(T0), Some(1), Some((100.0, 101.0))), ok(10, -165));
    assert!(d.in_panic());
    d.update(harness_spec(1.0, 71.0));
    assert_eq!(d.spec().total_value, 1.0 / 0.75);
    assert_eq!(
        d.scale(at(T0 + 2), Some(10), Some((100.0, 101.0))),
        ok(100, -159)
    );
}

#[test]
fn a3_12_autoscaler_metrics_with_rps() {
    let mut s = harness_spec(10.0, 100.0);
    s.scaling_metric = ScalingMetric::Rps;
    let mut d = harness(s);
    assert_eq!(d.scale(at(T0), Some(1), Some((100.0, 99.0))), ok(10, -186));
    assert!(d.in_panic());
}

#[test]
fn a3_12b_autoscaler_stable_mode_increase_with_rps() {
    let mut s = harness_spec(10.0, 101.0);
    s.scaling_metric = ScalingMetric::Rps;
    let mut d = harness(s);
    assert_eq!(
        d.scale(at(T0), Some(1), Some((50.0, 50.0)))
            .desired_pod_count,
        5
    );
    assert_eq!(
        d.scale(at(T0 + 2), Some(1), Some((100.0, 99.0)))
            .desired_pod_count,
        10
    );
}

/// The RPS pair reaches the decider through the collector's metric switch.
#[test]
fn a3_12c_rps_through_the_collector() {
    let mut s = harness_spec(10.0, 100.0);
    s.scaling_metric = ScalingMetric::Rps;
    let mut c = Collector::new(secs(60), secs(6), Aggregation::Linear, true);
    c.record(
        at(T0),
        &Stat {
            average_concurrent_requests: 1.0,
            request_count: 100.0,
            ..Stat::default()
        },
    );
    let mut d = harness(s.clone());
    let r = d.scale(
        at(T0),
        Some(1),
        c.stable_and_panic(at(T0), s.scaling_metric),
    );
    assert_eq!(r.desired_pod_count, 10);
}

// ---------------------------------------------------------------------------
// Part B: metric aggregation.

fn linear(window: u64) -> TimedFloat64Buckets {
    TimedFloat64Buckets::new(secs(window), secs(1))
}

#[test]
fn b1_timed_buckets_window_average() {
    let t = T0;
    let mut b = linear(5);
    b.record(at(t), 1.0);
    assert_eq!(b.window_average(at(t)), 1.0);
    for (i, v) in [2.0, 3.0, 4.0, 5.0].into_iter().enumerate() {
        b.record(at(t + 1 + i as u64), v);
    }
    assert_eq!(b.window_average(at(t + 4)), 3.0);
    assert_eq!(
        b.window_average(at(t) + SimDuration::from_millis(3600)),
        3.0
    );
    assert_eq!(b.window_average(at(t + 6)), 4.0);
    assert_eq!(b.window_average(at(t + 10)), 0.0);
    b.record(at(t + 6), 91.0);
    assert_eq!(b.window_average(at(t + 6)), 20.6);

    let t1 = t + 60;
    b.record(at(t1), 1984.0);
    assert_eq!(b.window_average(at(t1)), 1984.0);
    b.record(at(t1 - 3), 4.0);
    assert_eq!(b.window_average(at(t1)), 497.0);

    let t2 = t1 + 1;
    b.record(at(t2), 5.0);
    assert_eq!(b.window_average(at(t2)), 398.6);
    b.record(at(t2 - 3), 10.0);
    assert_eq!(b.window_average(at(t2)), 400.6);
    b.record(at(t2 - 6), 10.0);
    assert_eq!(b.window_average(at(t2)), 400.6);
    b.record(at(t2 - 5), 10.0);
    assert_eq!(b.window_average(at(t2)), 400.6);
    b.record(at(t2 + 5), 10.0);
    assert_eq!(b.window_average(at(t2 + 5)), 10.0);
}

#[test]
fn b2_descending_record() {
    let mut b = linear(5);
    for i in (0..=8).rev() {
        b.record(at(T0 + i), 5.0);
    }
    assert_eq!(b.window_average(at(T0 + 5)), 5.0);
}

#[test]
fn b2_timed_buckets_holes() {
    let mut b = linear(5);
    for i in 0..5 {
        b.record(at(T0 + i), (i + 1) as f64);
    }
    assert_eq!(b.sum(), 15.0);
    assert_eq!(b.window_average(at(T0 + 4)), 3.0);
    b.record(at(T0 + 8), 2.0);
    assert_eq!(b.sum(), 7.0);
    assert_eq!(b.bucket_at(at(T0 + 4)), 5.0);
    assert_eq!(b.bucket_at(at(T0 + 8)), 2.0);
    for hole in 5..8 {
        assert_eq!(b.bucket_at(at(T0 + hole)), 0.0);
    }
}

#[test]
fn b2_timed_buckets_simple() {
    let mut b = TimedFloat64Buckets::new(secs(120), secs(1));
    b.record(at(T0), 1.0);
    b.record(at(T0) + SimDuration::from_millis(100), 10.0);
    b.record(at(T0 + 1), 1.0);
    b.record(at(T0 + 3), 1.0);
    assert_eq!(b.bucket_at(at(T0)), 11.0);
    assert_eq!(b.bucket_at(at(T0 + 1)), 1.0);
    assert_eq!(b.bucket_at(at(T0 + 2)), 0.0);
    assert_eq!(b.bucket_at(at(T0 + 3)), 1.0);
    assert_eq!(b.sum(), 13.0);

    let mut b = TimedFloat64Buckets::new(secs(120), secs(5));
    b.record(at(T0), 1.0);
    b.record(at(T0 + 3), 11.0);
    b.record(at(T0 + 6), 1.0);
    assert_eq!(b.bucket_at(at(T0)), 12.0);
    assert_eq!(b.bucket_at(at(T0 + 5)), 1.0);
    assert_eq!(b.sum(), 13.0);
}

#[test]
fn b2_timed_buckets_many_reps() {
    let mut b = linear(60);
    for p in 0..5u64 {
        for t in 0..5u64 {
            b.record(at(T0 + p), (p + t) as f64);
        }
    }
    let totals: Vec<f64> = (0..5).map(|p| b.bucket_at(at(T0 + p))).collect();
    assert_eq!(totals, [10.0, 15.0, 20.0, 25.0, 30.0]);
    assert_eq!(b.sum(), 100.0);

    let mut b = linear(60);
    for (p, second) in [0u64, 3, 2, 1, 4].into_iter().enumerate() {
        for t in 0..5u64 {
            b.record(at(T0 + second), (p as u64 + t) as f64);
        }
    }
    assert_eq!(b.sum(), 100.0);
}

#[test]
fn b2_timed_buckets_resize_window() {
    let mut b = linear(5);
    for i in 0..6u64 {
        b.record(at(T0 + i), (i + 1) as f64);
    }
    assert_eq!(b.sum(), 20.0);
    assert_eq!(b.window_average(at(T0 + 5)), 4.0);

    b.resize_window(secs(10));
    assert_eq!(b.num_buckets(), 10);
    assert_eq!(b.sum(), 20.0);
    assert_eq!(b.window_average(at(T0 + 5)), 4.0);

    b.record(at(T0 + 6), 7.0);
    assert_eq!(b.sum(), 27.0);
    assert_eq!(b.window_average(at(T0 + 6)), 4.5);

    b.resize_window(secs(4));
    assert_eq!(b.num_buckets(), 4);
    assert_eq!(b.sum(), 22.0);
    assert_eq!(b.window_average(at(T0 + 6)), 5.5);

    let before = (b.sum(), b.first_write(), b.window_average(at(T0 + 6)));
    b.resize_window(secs(4));
    assert_eq!(
        (b.sum(), b.first_write(), b.window_average(at(T0 + 6))),
        before
    );
}

#[test]
fn b2_timed_buckets_window_update_3s_granularity() {
    let mut b = TimedFloat64Buckets::new(secs(5), secs(3));
    assert_eq!(b.num_buckets(), 2);
    b.resize_window(secs(10));
    assert_eq!(b.num_buckets(), 4);
    b.resize_window(secs(4));
    assert_eq!(b.num_buckets(), 2);
}

#[test]
fn b2_timed_buckets_window_update_no_op() {
    let start = at(T0);
    let mut b = linear(5);
    b.record(start, 19.82);
    assert_eq!(b.first_write(), b.last_write());
    assert_eq!(b.first_write(), Some(start));
    b.resize_window_at(start + secs(60), secs(10));
    assert_eq!(b.first_write(), None);
    assert_eq!(b.sum(), 0.0);
}

#[test]
fn b2_round_to_n_digits() {
    assert_eq!(round_to_n_digits(6, 3.6e-17), 0.0);
    assert_eq!(round_to_n_digits(3, -3.6e-17), 0.0);
    assert_eq!(round_to_n_digits(3, 0.0004), 0.0);
    assert_eq!(round_to_n_digits(3, 1.2345), 1.235);
    assert_eq!(round_to_n_digits(4, 1.2345), 1.2345);
    assert_eq!(round_to_n_digits(6, 12345.0), 12345.0);
}

fn default_collector() -> Collector {
    Collector::new(secs(60), secs(6), Aggregation::Linear, true)
}

#[test]
fn b4_metric_collector_record() {
    let now = at(T0);
    let mut c = default_collector();
    assert_eq!(c.stable_and_panic_concurrency(now), None);
    assert_eq!(c.stable_and_panic_rps(now), None);
    c.record(
        at(T0 - 70),
        &Stat {
            average_concurrent_requests: 100.0,
            request_count: 100.0,
            ..Stat::default()
        },
    );
    c.record(
        now,
        &Stat {
            average_concurrent_requests: 20.0,
            average_proxied_concurrent_requests: 10.0,
            request_count: 30.0,
            proxied_request_count: 20.0,
        },
    );
    assert_eq!(c.stable_and_panic_concurrency(now), Some((10.0, 10.0)));
    assert_eq!(c.stable_and_panic_rps(now), Some((10.0, 10.0)));
}

#[test]
fn b4_metric_collector_aggregate() {
    let mut c = Collector::new(secs(6), secs(2), Aggregation::Linear, true);
    for i in 0..10u64 {
        let v = (i + 5) as f64;
        c.record(
            at(T0 + i),
            &Stat {
                average_concurrent_requests: v,
                request_count: v,
                ..Stat::default()
            },
        );
    }
    assert_eq!(
        c.stable_and_panic_concurrency(at(T0 + 9)),
        Some((11.5, 13.5))
    );
    assert_eq!(c.stable_and_panic_rps(at(T0 + 9)), Some((11.5, 13.5)));
}

#[test]
fn b4_metric_collector_scraper_moving_time() {
    let mut c = default_collector();
    let stat = Stat {
        average_concurrent_requests: 10.0,
        request_count: 20.0,
        ..Stat::default()
    };
    for k in 0..3u64 {
        c.record(at(T0) + SimDuration::from_millis(100 * k), &stat);
    }
    for k in 0..4u64 {
        c.record(at(T0 + 1) + SimDuration::from_millis(200 * k), &stat);
    }
    assert_eq!(
        c.stable_and_panic_concurrency(at(T0 + 1)),
        Some((35.0, 35.0))
    );
    assert_eq!(c.stable_and_panic_rps(at(T0 + 1)), Some((70.0, 70.0)));
}

// ---------------------------------------------------------------------------
// Part C: scraper sample size.

#[test]
fn c_population_mean_sample_size() {
    let table = [
        (0, 0),
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 4),
        (5, 4),
        (10, 7),
        (20, 9),
        (50, 12),
        (100, 14),
        (1000, 16),
        (10000, 16),
    ];
    for (n, want) in table {
        assert_eq!(population_mean_sample_size(n), want, "population {n}");
    }
}

// ---------------------------------------------------------------------------
// Part D: KPA reconciler.

#[test]
fn d1_compute_activator_num() {
    for (ready, tbc, want) in [
        (0, 200.0, 2),
        (1, 200.0, 3),
        (100, 0.0, 2),
        (5, -1.0, 5),
        (15, 200.0, 17),
    ] {
        assert_eq!(
            compute_num_activators(ready, 100.0, tbc, 100.0),
            want,
            "ready {ready}, tbc {tbc}"
        );
    }
}

/// The upstream test config: utilization 1.0, CC default 100, RPS default
/// 200, RPS utilization 0.7.
fn d3_config(fraction: f64) -> AutoscalerConfig {
    AutoscalerConfig {
        container_concurrency_target_fraction: fraction,
        container_concurrency_target_default: 100.0,
        rps_target_default: 200.0,
        target_utilization: 0.7,
        ..AutoscalerConfig::default()
    }
}

/// Name, config, containerConcurrency, annotations, (target, total).
type D3Case = (
    &'static str,
    AutoscalerConfig,
    u32,
    RevisionAnnotations,
    (f64, f64),
);

#[test]
fn d3_resolve_metric_target() {
    let none = RevisionAnnotations::default();
    let target = |t: f64| RevisionAnnotations {
        target: Some(t),
        ..RevisionAnnotations::default()
    };
    let tu = |p: f64| RevisionAnnotations {
        target_utilization_percentage: Some(p),
        ..RevisionAnnotations::default()
    };
    let rps = |a: RevisionAnnotations| RevisionAnnotations {
        metric: ScalingMetric::Rps,
        ..a
    };
    let cc_default_2 = AutoscalerConfig {
        container_concurrency_target_default: 2.0,
        ..d3_config(0.3)
    };
    let cases: Vec<D3Case> = vec![
        ("defaults", d3_config(1.0), 0, none.clone(), (100.0, 100.0)),
        (
            "CC 0, util 0.8",
            d3_config(0.8),
            0,
            none.clone(),
            (80.0, 100.0),
        ),
        (
            "CC 0, util 0.3, CC-default 2",
            cc_default_2,
            0,
            none.clone(),
            (0.6, 2.0),
        ),
        (
            "CC 12, util 0.8, TU 75",
            d3_config(0.8),
            12,
            tu(75.0),
            (9.0, 12.0),
        ),
        (
            "CC 10, util 0.8",
            d3_config(0.8),
            10,
            none.clone(),
            (8.0, 10.0),
        ),
        (
            "CC 1, util 0.8",
            d3_config(0.8),
            1,
            none.clone(),
            (0.8, 1.0),
        ),
        (
            "target 1, util 0.001",
            d3_config(0.001),
            0,
            target(1.0),
            (0.01, 1.0),
        ),
        (
            "target 10, util 0.75",
            d3_config(0.75),
            0,
            target(10.0),
            (7.5, 10.0),
        ),
        (
            "CC 10 + target 1",
            d3_config(1.0),
            10,
            target(1.0),
            (1.0, 1.0),
        ),
        (
            "target 500",
            d3_config(1.0),
            0,
            target(500.0),
            (500.0, 500.0),
        ),
        (
            "CC 1 + target 10",
            d3_config(1.0),
            1,
            target(10.0),
            (1.0, 1.0),
        ),
        (
            "RPS, CC 1",
            d3_config(1.0),
            1,
            rps(none.clone()),
            (140.0, 200.0),
        ),
        (
            "RPS, target 1",
            d3_config(1.0),
            0,
            rps(target(1.0)),
            (0.7, 1.0),
        ),
        (
            "RPS, TU 75",
            d3_config(1.0),
            0,
            rps(tu(75.0)),
            (150.0, 200.0),
        ),
        (
            "RPS, target 300",
            d3_config(1.0),
            0,
            rps(target(300.0)),
            (210.0, 300.0),
        ),
    ];
    for (name, cfg, cc, ann, want) in cases {
        assert_eq!(resolve_metric_target(&cfg, cc, &ann), want, "{name}");
    }
}

#[test]
fn d3_panic_window() {
    assert_eq!(panic_window(secs(60), 10.0), secs(6));
    assert_eq!(panic_window(secs(10), 10.0), secs(1));
    assert_eq!(panic_window(secs(600), 10.0), secs(60));
    assert_eq!(panic_window(secs(60), 50.0), secs(30));
    assert_eq!(panic_window(secs(60), 51.0), secs(31));

    let r = resolve_revision_scaling(
        &AutoscalerConfig::default(),
        &DeploymentConfig::default(),
        0,
        &RevisionAnnotations::default(),
    );
    assert_eq!((r.stable_window, r.panic_window), (secs(60), secs(6)));
}

// ---------------------------------------------------------------------------
// Validation: bad values are rejected with Knative's rule.

fn kv(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn v_configmap_stable_window_5s() {
    let e = AutoscalerConfig::from_map(&kv(&[("stable-window", "5s")])).unwrap_err();
    assert_eq!(
        e,
        vec![FieldError::new(
            "stable-window",
            "stable-window = 5s, must be in [6s; 1h0m0s] range"
        )]
    );
}

#[test]
fn v_annotation_window_5s() {
    let e = RevisionAnnotations::parse(
        &kv(&[("autoscaling.knative.dev/window", "5s")]),
        &AutoscalerConfig::default(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        vec![FieldError::new(
            "autoscaling.knative.dev/window",
            "expected 6s <= 5s <= 1h0m0s"
        )]
    );
}

#[test]
fn v_annotation_panic_threshold_100() {
    let e = RevisionAnnotations::parse(
        &kv(&[("autoscaling.knative.dev/panic-threshold-percentage", "100")]),
        &AutoscalerConfig::default(),
    )
    .unwrap_err();
    assert_eq!(e[0].rule, "expected 110 <= 100 <= 1000");
}

#[test]
fn v_max_scale_below_min_scale() {
    let e = RevisionAnnotations::parse(
        &kv(&[
            ("autoscaling.knative.dev/min-scale", "4"),
            ("autoscaling.knative.dev/max-scale", "2"),
        ]),
        &AutoscalerConfig::default(),
    )
    .unwrap_err();
    assert_eq!(e[0].path, "autoscaling.knative.dev/max-scale");
    assert_eq!(e[0].rule, "max-scale=2 is less than min-scale=4");
    let e = AutoscalerConfig::from_map(&kv(&[("min-scale", "4"), ("max-scale", "2")])).unwrap_err();
    assert_eq!(e[0].rule, "min-scale (4) must be less than max-scale (2)");
}

#[test]
fn v_initial_scale_zero_without_allow_zero() {
    let e = RevisionAnnotations::parse(
        &kv(&[("autoscaling.knative.dev/initial-scale", "0")]),
        &AutoscalerConfig::default(),
    )
    .unwrap_err();
    assert_eq!(e[0].path, "autoscaling.knative.dev/initial-scale");
    assert!(e[0].rule.contains("not allowed by cluster"));
    let e = AutoscalerConfig::from_map(&kv(&[("initial-scale", "0")])).unwrap_err();
    assert_eq!(e[0].path, "initial-scale");
}

fn rev(name: &str, pct: i64) -> TrafficTarget {
    TrafficTarget {
        revision_name: Some(name.into()),
        percent: Some(pct),
        ..TrafficTarget::default()
    }
}

#[test]
fn v_traffic_duplicate_tags() {
    let mut a = rev("r1", 50);
    a.tag = Some("blue".into());
    let mut b = rev("r2", 50);
    b.tag = Some("blue".into());
    let e = validate_traffic(&[a, b], "spec.traffic");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].path, "spec.traffic[1].tag");
    assert!(e[0].rule.starts_with("Multiple definitions for \"blue\""));
}

#[test]
fn v_traffic_percents_sum_to_90() {
    let e = validate_traffic(&[rev("r1", 50), rev("r2", 40)], "spec.traffic");
    assert_eq!(
        e,
        vec![FieldError::new(
            "spec.traffic",
            "Traffic targets sum to 90, want 100"
        )]
    );
}

#[test]
fn v_traffic_revision_name_with_latest_revision_true() {
    let mut t = rev("r1", 100);
    t.latest_revision = Some(true);
    let e = validate_traffic(&[t], "spec.traffic");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].path, "spec.traffic[0].latestRevision");
}

#[test]
fn v_traffic_bad_tag() {
    let mut t = rev("r1", 100);
    t.tag = Some("Foo_bar".into());
    let e = validate_traffic(&[t], "spec.traffic");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].path, "spec.traffic[0].tag");
    assert!(e[0].rule.contains("not a DNS 1035 label"));
}

#[test]
fn v_tag_host_gets_its_revision_whole() {
    let mut canary = rev("r2", 10);
    canary.tag = Some("canary".into());
    let c = compute_traffic(&[rev("r1", 90), canary], None).unwrap();
    assert_eq!(c.default, vec![("r1".into(), 90), ("r2".into(), 10)]);
    assert_eq!(c.tags["canary"], "r2");
}

// ---------------------------------------------------------------------------
// scaler.scale: the §4.3 closed form and the §4.4 timeline.

fn scaler_input(now: u64, desired: i32, state: PaState, since: u64) -> ScalerInput {
    ScalerInput {
        now: at(now),
        desired_scale: desired,
        condition: ActiveCondition {
            state,
            since: at(since),
        },
        reachable: true,
        min_scale: 0,
        max_scale: 0,
        initial_scale: 1,
        scale_target_initialized: true,
        enable_scale_to_zero: true,
        stable_window: secs(60),
        grace_period: secs(30),
        retention: SimDuration::ZERO,
        activation_timeout: secs(630),
        tbc: 211.0,
        proxy_for: Some(secs(500)),
    }
}

fn dec(want: i32, apply: bool, requeue: Option<u64>) -> ScalerDecision {
    ScalerDecision {
        want,
        apply,
        requeue_after: requeue.map(secs),
    }
}

#[test]
fn s_active_less_than_stable_window_holds_one_pod() {
    let i = scaler_input(T0 + 45, 0, PaState::Active, T0);
    assert_eq!(scaler_scale(&i), dec(1, true, Some(15)));
}

#[test]
fn s_active_for_stable_window_wants_zero_without_applying() {
    let i = scaler_input(T0 + 60, 0, PaState::Active, T0);
    assert_eq!(scaler_scale(&i), dec(0, false, Some(3)));
    let mut serve = i;
    serve.proxy_for = None;
    assert_eq!(scaler_scale(&serve), dec(0, false, None));
}

#[test]
fn s_inactive_with_activator_in_path_for_grace_scales_to_zero() {
    // Fast path: just inactive, but proxying for longer than the grace.
    let i = scaler_input(T0, 0, PaState::Inactive, T0);
    assert_eq!(scaler_scale(&i), dec(0, true, None));
    // Proxying for only 10 s: wait the remaining 20 s of grace.
    let mut i = scaler_input(T0 + 5, 0, PaState::Inactive, T0);
    i.proxy_for = Some(secs(10));
    assert_eq!(scaler_scale(&i), dec(0, false, Some(20)));
    i.proxy_for = None;
    assert_eq!(scaler_scale(&i), dec(0, false, Some(30)));
    // Inactive for the whole grace period: zero regardless of the SKS.
    let mut i = scaler_input(T0 + 30, 0, PaState::Inactive, T0);
    i.proxy_for = None;
    assert_eq!(scaler_scale(&i), dec(0, true, None));
}

#[test]
fn s_last_pod_retention() {
    let mut i = scaler_input(T0 + 40, 0, PaState::Inactive, T0);
    i.retention = secs(90);
    assert_eq!(scaler_scale(&i), dec(0, false, Some(50)));
    i.now = at(T0 + 90);
    assert_eq!(scaler_scale(&i), dec(0, true, None));
    // Retention counts only for reachable revisions.
    let mut i = scaler_input(T0 + 40, 0, PaState::Inactive, T0);
    i.retention = secs(90);
    i.reachable = false;
    assert_eq!(scaler_scale(&i), dec(0, true, None));
}

#[test]
fn s_activation_timeout() {
    let i = scaler_input(T0 + 630, 0, PaState::Activating, T0);
    assert_eq!(scaler_scale(&i), dec(-1, false, Some(630)));
    let i = scaler_input(T0 + 631, 0, PaState::Activating, T0);
    assert_eq!(scaler_scale(&i), dec(0, true, None));
    // No decision yet while activating: −1 is bounded to 0 and waits.
    let i = scaler_input(T0 + 10, -1, PaState::Activating, T0);
    assert_eq!(scaler_scale(&i), dec(-1, false, Some(630)));
}

#[test]
fn s_unknown_scale_and_bounds() {
    let i = scaler_input(T0, -1, PaState::Active, T0);
    assert_eq!(scaler_scale(&i), dec(-1, false, None));
    let mut i = scaler_input(T0, 7, PaState::Active, T0);
    i.max_scale = 5;
    assert_eq!(scaler_scale(&i), dec(5, true, None));
    let mut i = scaler_input(T0, 0, PaState::Active, T0);
    i.min_scale = 2;
    assert_eq!(scaler_scale(&i), dec(2, true, None));
    // Unreachable: min-scale is ignored, so 0 goes through the
    // scale-to-zero gate (active for 0 s → hold one pod for the window).
    i.reachable = false;
    assert_eq!(scaler_scale(&i), dec(1, true, Some(60)));
    let mut i = scaler_input(T0, 1, PaState::Activating, T0);
    i.initial_scale = 3;
    i.scale_target_initialized = false;
    assert_eq!(scaler_scale(&i), dec(3, true, None));
    i.scale_target_initialized = true;
    assert_eq!(scaler_scale(&i), dec(1, true, None));
    let mut i = scaler_input(T0 + 100, 0, PaState::Active, T0);
    i.enable_scale_to_zero = false;
    assert_eq!(scaler_scale(&i), dec(1, true, None));
}

/// §4.4 with defaults: one pod, CC 0 (target 70, total 100), TBC 211;
/// traffic stops at T. The decider wants 0 once the last busy second leaves
/// the 60-s window; the PA then goes inactive and, the activator being in
/// the path already (EBC < 0), the pod is removed at the next reconcile.
#[test]
fn s_scale_to_zero_timeline() {
    let cfg = AutoscalerConfig::default();
    let rs = resolve_revision_scaling(
        &cfg,
        &DeploymentConfig::default(),
        0,
        &RevisionAnnotations::default(),
    );
    assert_eq!(
        (rs.decider.target_value, rs.decider.total_value),
        (70.0, 100.0)
    );
    let mut collector = Collector::new(
        rs.stable_window,
        rs.panic_window,
        rs.aggregation,
        rs.has_scrape_target,
    );
    let mut decider = Decider::new(rs.decider.clone(), 1, at(0));
    let became_ready = 10;
    let mut cond = ActiveCondition {
        state: PaState::Active,
        since: at(became_ready),
    };
    let traffic_stops = 100;
    let mut first_zero = None;
    for s in became_ready..400 {
        let conc = if s < traffic_stops { 5.0 } else { 0.0 };
        collector.record(
            at(s),
            &Stat {
                average_concurrent_requests: conc,
                request_count: conc,
                ..Stat::default()
            },
        );
        if s % 2 == 0 {
            let r = decider.scale(
                at(s),
                Some(1),
                collector.stable_and_panic(at(s), ScalingMetric::Concurrency),
            );
            assert!(r.scale_valid);
            assert!(r.excess_burst_capacity < 0, "activator stays in path");
            if r.desired_pod_count == 0 {
                first_zero = Some(s);
                break;
            }
            assert_eq!(r.desired_pod_count, 1, "at {s}");
        }
    }
    // The last busy bucket (T−1) leaves the window at T−1+60.
    let zero_at = first_zero.expect("decider never wanted zero");
    assert_eq!(zero_at, traffic_stops + 60);
    assert_eq!(sks_mode(1, -111), SksMode::Proxy);

    // Reconcile 1: active ≥ stable window → want 0, not applied; PA inactive.
    let mut input = scaler_input(zero_at, 0, cond.state, became_ready);
    input.proxy_for = Some(at(zero_at) - at(0));
    let d = scaler_scale(&input);
    assert_eq!(d, dec(0, false, Some(3)));
    let min_ready = active_threshold(0, 1, true, true);
    cond = compute_active_condition(cond, at(zero_at), d.want, 1, min_ready);
    assert_eq!(
        cond,
        ActiveCondition {
            state: PaState::Inactive,
            since: at(zero_at)
        }
    );

    // Reconcile 2 (triggered by the status change): fast path to zero.
    input.condition = cond;
    assert_eq!(scaler_scale(&input), dec(0, true, None));
}
