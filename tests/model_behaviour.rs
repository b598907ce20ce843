//! Scenario-level checks of behaviours the Knative specification spells out,
//! run through the whole simulator.

use knsim::model::{simulate, Summary, TimeseriesRow};
use knsim::scenario::{load_scenario_str, Override, Scenario};
use std::path::Path;

fn scenario(text: &str, overrides: &[&str]) -> Scenario {
    let o: Vec<Override> = overrides.iter().map(|s| s.parse().unwrap()).collect();
    load_scenario_str(text, Path::new("test.toml"), "test", Path::new("."), &o)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run(sc: &Scenario, seed: u64) -> (Summary, Vec<TimeseriesRow>) {
    let mut rows = Vec::new();
    let s = simulate(sc, seed, &mut rows);
    (s, rows)
}

fn rows_of<'a>(rows: &'a [TimeseriesRow], rev: &str) -> Vec<&'a TimeseriesRow> {
    rows.iter().filter(|r| r.revision == rev).collect()
}

const ONE_REVISION: &str = r#"
duration = "6m"
[[revision]]
name = "r1"
service-time = { distribution = "exponential", mean = "50ms" }
[[workload]]
arrival = { process = "constant", rate = 5.0 }
end = "120s"
"#;

/// §4.4: traffic stops at T; the decider wants 0 at the first tick after a
/// full stable window of zeros, the PA goes inactive and the fast path removes
/// the last pod at once; the pod then drains for 30 s.
#[test]
fn scale_to_zero_follows_the_spec_timeline() {
    let sc = scenario(ONE_REVISION, &[]);
    let (summary, rows) = run(&sc, 1);
    let r = rows_of(&rows, "r1");
    let last_arrival = 120;
    let zero_at = r
        .iter()
        .find(|x| x.time_s > last_arrival && x.replicas == 0)
        .expect("scaled to zero")
        .time_s;
    // The stable window holds the last non-zero bucket (second 120 or 121)
    // for 60 s; ticks are every 2 s and the reconcile is immediate.
    assert!(
        (last_arrival + 60..=last_arrival + 64).contains(&zero_at),
        "last pod removed at {zero_at}"
    );
    let desired_zero = r
        .iter()
        .find(|x| x.time_s > last_arrival && x.desired_pods == 0)
        .unwrap();
    assert_eq!(
        desired_zero.time_s, zero_at,
        "the fast path applies 0 at once"
    );
    // Draining: terminating for 30 s, then gone.
    let term: Vec<_> = r
        .iter()
        .filter(|x| x.terminating_pods > 0)
        .map(|x| x.time_s)
        .collect();
    assert_eq!(term.first().copied(), Some(zero_at));
    let drained = term.last().unwrap() - term.first().unwrap() + 1;
    assert!((29..=31).contains(&drained), "drained for {drained} s");
    assert_eq!(r.last().unwrap().ready_pods, 0);
    assert_eq!(summary.requests.completed, 600);
}

/// §2.7: with the default target-burst-capacity (211) and CC = 0 (total 100
/// per pod) the SKS stays in Proxy mode until 3 pods are ready.
#[test]
fn activator_stays_in_path_until_three_ready_pods() {
    for (pods, in_path) in [(1, 1u8), (2, 1), (3, 0), (4, 0)] {
        let n = pods.to_string();
        let sc = scenario(
            ONE_REVISION,
            &[
                &format!("revision.0.annotations.\"autoscaling.knative.dev/min-scale\"={n}"),
                &format!("revision.0.annotations.\"autoscaling.knative.dev/max-scale\"={n}"),
                "workload.0.end=6m",
                "revision.0.service-time.mean=1ms",
            ],
        );
        let (_, rows) = run(&sc, 3);
        let tail: Vec<_> = rows.iter().filter(|r| r.time_s > 120).collect();
        assert!(
            tail.iter().all(|r| r.ready_pods == pods),
            "{pods} pods ready"
        );
        assert!(
            tail.iter().all(|r| r.activator_in_path == in_path),
            "with {pods} ready pods the activator in path should be {in_path}"
        );
    }
}

/// §2.2 step 6-7: panic ends only after a full stable window without an
/// over-threshold tick, and the pod count never decreases while panicking.
#[test]
fn panic_lasts_a_stable_window_after_the_burst() {
    let text = r#"
duration = "5m"
[autoscaler]
stable-window = "30s"
[[revision]]
name = "r1"
containerConcurrency = 10
service-time = { distribution = "constant", value = "100ms" }
[revision.annotations]
"autoscaling.knative.dev/min-scale" = "1"
[[workload]]
arrival = { process = "schedule", interpolation = "step", points = [["0s", 10], ["100s", 400], ["110s", 10]] }
"#;
    let sc = scenario(text, &[]);
    let (_, rows) = run(&sc, 5);
    let r = rows_of(&rows, "r1");
    let panic_secs: Vec<u64> = r
        .iter()
        .filter(|x| x.panic == 1 && x.time_s > 60)
        .map(|x| x.time_s)
        .collect();
    let start = *panic_secs.first().expect("the burst triggers panic");
    let end = *panic_secs.last().unwrap();
    assert!((100..=104).contains(&start), "panic started at {start}");
    // The last over-threshold tick, as far as the rows show it (panic
    // concurrency of the last decision against ready pods, target 7).
    let last_over = r
        .iter()
        .filter(|x| (x.panic_concurrency / 7.0).ceil() / f64::from(x.ready_pods.max(1)) >= 2.0)
        .map(|x| x.time_s)
        .max()
        .unwrap();
    assert!(
        last_over >= 105,
        "the burst should keep panic going: last over-threshold at {last_over}"
    );
    // Panic ends at the first tick strictly more than 30 s after it.
    let after = end - last_over;
    assert!(
        (29..=33).contains(&after),
        "panic ended {after} s after the last over-threshold tick"
    );
    // Contiguous, and desired never falls while in panic.
    assert_eq!(panic_secs.len() as u64, end - start + 1);
    let in_panic: Vec<_> = r.iter().filter(|x| x.panic == 1 && x.time_s > 60).collect();
    for w in in_panic.windows(2) {
        assert!(
            w[1].desired_pods >= w[0].desired_pods,
            "desired fell in panic at {}",
            w[1].time_s
        );
    }
}

const GREETER: &str = r#"
duration = "5m"
service = "greeter"
[[revision]]
name = "greeter-v1"
service-time = { distribution = "constant", value = "10ms" }
[[revision]]
name = "greeter-v2"
service-time = { distribution = "constant", value = "10ms" }
[[traffic]]
tag = "current"
revisionName = "greeter-v2"
percent = 50
[[traffic]]
tag = "prev"
revisionName = "greeter-v1"
percent = 50
[[traffic]]
tag = "latest"
latestRevision = true
percent = 0
[[workload]]
name = "main"
arrival = { process = "poisson", rate = 40.0 }
"#;

/// §6.2: a tag address routes 100 % to its revision whatever its percent,
/// and the default route splits by percent.
#[test]
fn tag_addresses_get_all_of_their_revisions_traffic() {
    let sc = scenario(GREETER, &["workload.0.tag=prev"]);
    let (s, _) = run(&sc, 9);
    assert!(s.requests.arrived > 10_000);
    assert_eq!(s.revisions[0].requests.arrived, s.requests.arrived);
    assert_eq!(s.revisions[1].requests.arrived, 0);
    // latest (0 % in the main split) resolves to the newest revision.
    let sc = scenario(GREETER, &["workload.0.tag=latest"]);
    let (s, _) = run(&sc, 9);
    assert_eq!(s.revisions[1].requests.arrived, s.requests.arrived);
}

#[test]
fn default_route_splits_by_percent_within_binomial_bounds() {
    let sc = scenario(GREETER, &[]);
    for seed in 1..=5 {
        let (s, _) = run(&sc, seed);
        let n = s.requests.arrived as f64;
        let k = s.revisions[0].requests.arrived as f64;
        // 4.5 standard deviations of a binomial(n, 1/2).
        let sd = (n * 0.25).sqrt();
        assert!((k - n / 2.0).abs() < 4.5 * sd, "seed {seed}: {k} of {n}");
    }
}

fn as_json(s: Summary) -> String {
    serde_json::to_string(&s).unwrap()
}

#[test]
fn same_seed_same_results_and_other_seed_differs() {
    let sc = scenario(GREETER, &[]);
    let (a, ra) = run(&sc, 77);
    let (b, rb) = run(&sc, 77);
    assert_eq!(as_json(a.clone()), as_json(b));
    assert_eq!(ra, rb);
    let (c, _) = run(&sc, 78);
    assert_ne!(as_json(a), as_json(c));
}

/// Common random numbers: an autoscaler setting changes how many pods start
/// (and so how many cold-start draws happen) but not the arrival stream.
#[test]
fn autoscaler_settings_do_not_shift_the_arrival_stream() {
    let base = scenario(GREETER, &[]);
    let tuned = scenario(
        GREETER,
        &[
            "autoscaler.stable-window=20s",
            "autoscaler.target-burst-capacity=0",
        ],
    );
    let (a, ra) = run(&base, 4);
    let (b, rb) = run(&tuned, 4);
    assert_eq!(a.requests.arrived, b.requests.arrived);
    let arrivals = |rows: &[TimeseriesRow]| {
        rows.iter()
            .map(|r| (r.time_s, r.arrivals))
            .collect::<Vec<_>>()
    };
    assert_eq!(arrivals(&ra), arrivals(&rb));
    assert_ne!(ra, rb, "the settings should change something");
}

/// One pod, CC = 1, served directly (TBC 0), and one second of traffic at 60 s.
const ONE_FIXED_POD: &str = r#"
duration = "100s"
[autoscaler]
target-burst-capacity = 0
[[revision]]
name = "r1"
containerConcurrency = 1
service-time = { distribution = "constant", value = "1s" }
[revision.annotations]
"autoscaling.knative.dev/min-scale" = "1"
"autoscaling.knative.dev/max-scale" = "1"
[[workload]]
arrival = { process = "constant", rate = 20.0 }
start = "60s"
end = "61s"
"#;

/// §5.1: with CC = 1 one pod holds one executing + 10 queued requests; the
/// next one is answered 503 at once.
#[test]
fn queue_proxy_breaker_rejects_beyond_eleven_times_cc() {
    let sc = scenario(ONE_FIXED_POD, &[]);
    let (s, rows) = run(&sc, 1);
    // Serve mode by then (TBC 0, one ready pod): 20 arrive in one second,
    // 11 fit in the breaker.
    assert!(rows
        .iter()
        .filter(|r| r.time_s > 30 && r.time_s < 60)
        .all(|r| r.activator_in_path == 0));
    assert_eq!(s.requests.arrived, 20);
    assert_eq!(s.requests.status_503, 9);
    assert_eq!(s.requests.completed, 11);
    // FIFO: the k-th admitted request waits k-1 service times.
    assert!(
        (s.latency.max_ms - (11_000.0 - 10.0 * 50.0)).abs() < 20.0,
        "max {}",
        s.latency.max_ms
    );
}

/// §5.3: requests waiting longer than timeoutSeconds get 504.
#[test]
fn requests_past_the_revision_timeout_get_504() {
    let sc = scenario(
        ONE_FIXED_POD,
        &[
            "revision.0.timeoutSeconds=3",
            "workload.0.arrival.rate=10.0",
        ],
    );
    let (s, _) = run(&sc, 1);
    // One pod serves a request a second; requests queued more than 3 s time out.
    assert_eq!(s.requests.arrived, 10);
    assert_eq!(s.requests.completed + s.requests.status_504, 10);
    assert!(
        (3..=4).contains(&s.requests.completed),
        "{} completed",
        s.requests.completed
    );
    assert!(s.latency.max_ms <= 3000.0);
}

/// Pods beyond the cluster's capacity stay Pending.
#[test]
fn cluster_capacity_keeps_extra_pods_pending() {
    let text = r#"
duration = "3m"
[cluster]
max-pods = 3
[[revision]]
name = "r1"
containerConcurrency = 1
service-time = { distribution = "constant", value = "200ms" }
[[workload]]
arrival = { process = "poisson", rate = 50.0 }
"#;
    let sc = scenario(text, &[]);
    let (s, rows) = run(&sc, 2);
    assert!(rows.iter().all(|r| r.ready_pods + r.terminating_pods <= 3));
    assert!(rows.iter().any(|r| r.unschedulable_pods > 0));
    assert_eq!(s.max_ready_pods, 3);
}

/// §2.5, §3.7, §4.6: at zero, the activator's immediate first-request stat
/// Pokes the decider, which scales from zero at once instead of at its next
/// 2-s tick; the request waits exactly one cold start (constant phases: 0.5 s
/// scheduling, 3.5 s to app ready; the kubelet's first probe, held open by
/// the queue-proxy, makes the pod Ready the moment the app is, and a Ready
/// endpoint needs no activator probe): 4.001 s.
#[test]
fn first_request_at_zero_pokes_the_decider() {
    let text = r#"
duration = "8m"
[[revision]]
name = "r1"
service-time = { distribution = "constant", value = "1ms" }
[[workload]]
name = "early"
arrival = { process = "constant", rate = 5.0 }
end = "60s"
[[workload]]
name = "lone"
arrival = { process = "constant", rate = 1.0 }
start = "300.3s"
end = "301s"
"#;
    for seed in 1..=4 {
        let sc = scenario(text, &[]);
        let (s, rows) = run(&sc, seed);
        let at = |t: u64| rows.iter().find(|r| r.time_s == t).unwrap();
        assert_eq!(at(300).replicas, 0, "at zero before the lone request");
        assert_eq!(at(301).replicas, 1, "scaled from zero in the same second");
        assert_eq!(s.requests.arrived, 301);
        // The lone request completes at 300.3 + 4.001 s, in the row of second 305
        // (per-second percentiles have two significant digits: within 1 %).
        let lone = at(305);
        assert_eq!(lone.completed, 1);
        assert!(
            (3995.0..=4045.0).contains(&lone.p50_ms),
            "seed {seed}: the lone request took {} ms; a tick-driven scale-up would add up to 2 s",
            lone.p50_ms
        );
    }
}

/// The optional CPU-sharing slowdown: with one core, n requests executing
/// together each take n times longer; off by default.
#[test]
fn cpu_sharing_slowdown_stretches_service_times() {
    let text = r#"
duration = "3m"
[autoscaler]
target-burst-capacity = 0
[[revision]]
name = "r1"
service-time = { distribution = "constant", value = "100ms" }
[revision.annotations]
"autoscaling.knative.dev/min-scale" = "1"
"autoscaling.knative.dev/max-scale" = "1"
[[workload]]
arrival = { process = "closed-loop", clients = 4 }
start = "60s"
"#;
    let (plain, _) = run(&scenario(text, &[]), 1);
    assert!(
        (plain.latency.p50_ms - 100.0).abs() < 1.0,
        "{}",
        plain.latency.p50_ms
    );
    let slowed = scenario(
        text,
        &["revision.0.slowdown={ model = \"cpu-sharing\", cores = 1.0 }"],
    );
    let (s, _) = run(&slowed, 1);
    // Four clients keep four requests executing: each runs 4x slower.
    assert!(
        (s.latency.p50_ms - 400.0).abs() < 4.0,
        "{}",
        s.latency.p50_ms
    );
    assert!(s.requests.completed < plain.requests.completed / 3);
}

/// §2.4: scale-down-delay holds the desired scale at its maximum over the
/// delay window, so scaling to zero happens that much later.
#[test]
fn scale_down_delay_postpones_scale_to_zero() {
    let zero_at = |overrides: &[&str]| {
        let sc = scenario(ONE_REVISION, overrides);
        let (_, rows) = run(&sc, 1);
        rows.iter()
            .find(|x| x.time_s > 120 && x.replicas == 0)
            .map(|x| x.time_s)
    };
    let plain = zero_at(&[]).expect("scales to zero");
    let delayed = zero_at(&["autoscaler.scale-down-delay=30s"]).expect("scales to zero later");
    assert!(
        (28..=34).contains(&(delayed - plain)),
        "plain {plain}, delayed {delayed}"
    );
}

/// §4.3: with enable-scale-to-zero = false the last pod stays.
#[test]
fn disabled_scale_to_zero_keeps_one_pod() {
    let sc = scenario(ONE_REVISION, &["autoscaler.enable-scale-to-zero=false"]);
    let (_, rows) = run(&sc, 1);
    let tail: Vec<_> = rows.iter().filter(|x| x.time_s > 200).collect();
    assert!(tail.iter().all(|x| x.replicas == 1 && x.ready_pods == 1));
    assert!(
        tail.iter().all(|x| x.desired_pods == 0),
        "the decider still wants 0"
    );
}

/// §2.6: NumActivators is max(2, ceil((ready·total + TBC)/capacity)), capped by
/// the activator pods the cluster has. One ready pod, CC = 0, defaults:
/// ceil((100 + 211)/100) = 4.
#[test]
fn activator_subset_is_num_activators_capped_by_the_cluster() {
    for (cluster, expected) in [(1u32, 1u32), (3, 3), (10, 4)] {
        let sc = scenario(ONE_REVISION, &[&format!("cluster.activators={cluster}")]);
        let (_, rows) = run(&sc, 1);
        let steady: Vec<_> = rows
            .iter()
            .filter(|x| x.time_s > 30 && x.time_s < 110)
            .collect();
        assert!(steady.iter().all(|x| x.ready_pods == 1));
        assert!(
            steady.iter().all(|x| x.num_activators == expected),
            "{cluster} activators in the cluster: expected a subset of {expected}"
        );
    }
}

/// §5.2, §9.9: the activator's queue has no practical limit; requests buffered
/// while no pod can serve end with 504 at the revision timeout, not 503.
#[test]
fn requests_buffered_at_the_activator_time_out_with_504() {
    let text = r#"
duration = "2m"
[cluster.pod-startup]
app-init = { distribution = "constant", value = "20s" }
[[revision]]
name = "r1"
timeoutSeconds = 5
service-time = { distribution = "constant", value = "10ms" }
[[workload]]
arrival = { process = "constant", rate = 10.0 }
"#;
    let (s, _) = run(&scenario(text, &[]), 1);
    // The first pod is routable after 0.5 + 1.5 + 1 + 20 = 23 s: everything
    // that arrived before 18 s waited more than 5 s.
    assert_eq!(s.requests.status_503, 0);
    assert!(
        (175..=185).contains(&s.requests.status_504),
        "{} timed out",
        s.requests.status_504
    );
    assert!(s.latency.max_ms <= 5_000.0);
}

/// §1.3: with metric "rps" the decider scales on requests per second (target
/// × 0.7 utilisation), not on concurrency, which is tiny here.
#[test]
fn rps_metric_scales_on_request_rate() {
    let text = r#"
duration = "4m"
[[revision]]
name = "r1"
service-time = { distribution = "constant", value = "1ms" }
[[workload]]
arrival = { process = "poisson", rate = 70.0 }
"#;
    let steady = |overrides: &[&str]| {
        let (_, rows) = run(&scenario(text, overrides), 2);
        rows.iter()
            .filter(|x| x.time_s > 180)
            .map(|x| x.desired_pods)
            .max()
            .unwrap()
    };
    assert_eq!(steady(&[]), 1, "concurrency 0.07 wants one pod");
    let rps = steady(&[
        "revision.0.annotations.\"autoscaling.knative.dev/metric\"=rps",
        "revision.0.annotations.\"autoscaling.knative.dev/target\"=10",
    ]);
    // 70 req/s at a target of 7 req/s per pod.
    assert!((9..=12).contains(&rps), "rps metric wants {rps} pods");
}
