//! Gradual rollout (config-network `rollout-duration`, the
//! `serving.knative.dev/rollout-duration` annotation) and what happens to
//! the revision traffic leaves.

use knsim::model::{simulate, TimeseriesRow};
use knsim::scenario::{load_scenario, load_scenario_str, Override, Scenario};
use std::path::{Path, PathBuf};

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn canary(overrides: &[&str]) -> Scenario {
    let o: Vec<Override> = overrides.iter().map(|s| s.parse().unwrap()).collect();
    load_scenario(&scenarios().join("canary-rollout.toml"), &o).expect("scenario loads")
}

fn run(sc: &Scenario) -> Vec<TimeseriesRow> {
    let mut rows = Vec::new();
    let s = simulate(sc, sc.seed, &mut rows);
    assert_eq!(s.requests.status_404, 0);
    rows
}

fn arrivals(rows: &[TimeseriesRow], rev: &str, from: u64, to: u64) -> u64 {
    rows.iter()
        .filter(|r| r.revision == rev && (from..=to).contains(&r.time_s))
        .map(|r| r.arrivals)
        .sum()
}

fn first_ready(rows: &[TimeseriesRow], rev: &str) -> u64 {
    rows.iter()
        .find(|r| r.revision == rev && r.ready_pods > 0)
        .map(|r| r.time_s)
        .expect("the revision becomes ready")
}

/// The new revision's share at `t` when it became ready at `t0`, by §6.2 /
/// rollout.go: 1 % at once; the ingress is ready 1 s later, which fixes
/// 99 steps of 1 % every (duration − 1)/99 s.
fn expected_share(t: f64, t0: f64, duration: f64) -> f64 {
    if t < t0 {
        return 0.0;
    }
    let step = (duration - 1.0) / 99.0;
    let first = t0 + 1.0;
    if t < first + step {
        return 0.01;
    }
    let k = ((t - first) / step).floor();
    ((1.0 + k) / 100.0).min(1.0)
}

fn mean_share(a: f64, b: f64, t0: f64, duration: f64) -> f64 {
    let n = 1000;
    (0..n)
        .map(|i| expected_share(a + (b - a) * (i as f64 + 0.5) / n as f64, t0, duration))
        .sum::<f64>()
        / n as f64
}

#[test]
fn rollout_shares_follow_knative_steps() {
    let sc = canary(&[]);
    let rows = run(&sc);
    let ready = first_ready(&rows, "shop-00002");
    assert!((61..75).contains(&ready), "ready at {ready}");
    // Before the new revision is ready the old one has everything.
    assert_eq!(arrivals(&rows, "shop-00002", 1, ready - 1), 0);
    // The ready instant lies in the second that closes at `ready`.
    let (lo, hi) = ((ready - 1) as f64, ready as f64);
    let mut checked = 0;
    let mut w = ready + 1;
    while w + 10 <= ready + 205 {
        let (a, b) = (w, w + 9);
        let new = arrivals(&rows, "shop-00002", a, b);
        let all = new + arrivals(&rows, "shop-00001", a, b);
        let observed = new as f64 / all as f64;
        // Rows count arrivals in (t-1, t].
        let e1 = mean_share((a - 1) as f64, b as f64, lo, 200.0);
        let e2 = mean_share((a - 1) as f64, b as f64, hi, 200.0);
        let (emin, emax) = (e1.min(e2), e1.max(e2));
        let sd = |p: f64| (p * (1.0 - p) / all as f64).sqrt();
        assert!(
            observed >= emin - 5.0 * sd(emin) - 1e-3 && observed <= emax + 5.0 * sd(emax) + 1e-3,
            "window {a}..={b}: share {observed:.4}, expected {emin:.4}..{emax:.4}"
        );
        checked += 1;
        w += 10;
    }
    assert!(checked >= 19);
    // Done after the duration: everything on the new revision.
    assert_eq!(arrivals(&rows, "shop-00001", ready + 202, 360), 0);
    // Midway the split is near 50/50, not all-or-nothing.
    let mid = arrivals(&rows, "shop-00002", ready + 95, ready + 105) as f64
        / (arrivals(&rows, "shop-00001", ready + 95, ready + 105)
            + arrivals(&rows, "shop-00002", ready + 95, ready + 105)) as f64;
    assert!((0.4..0.6).contains(&mid), "midway share {mid}");
}

#[test]
fn without_a_rollout_duration_traffic_moves_at_once() {
    let sc = canary(&["network.rollout-duration=0"]);
    let rows = run(&sc);
    let ready = first_ready(&rows, "shop-00002");
    assert_eq!(arrivals(&rows, "shop-00001", ready + 1, 360), 0);
    assert!(arrivals(&rows, "shop-00002", ready + 1, 360) > 10_000);
}

#[test]
fn the_service_annotation_overrides_config_network() {
    // Same rollout, driven by a Service manifest whose annotation asks for
    // 100 s while config-network says 200 s.
    let dir = tempfile::tempdir().unwrap();
    let svc = |name: &str| {
        format!(
            "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: shop\n  \
             annotations:\n    serving.knative.dev/rollout-duration: 100s\nspec:\n  template:\n    \
             metadata:\n      name: {name}\n    spec:\n      containerConcurrency: 50\n      \
             containers:\n        - image: shop:{name}\n"
        )
    };
    std::fs::write(dir.path().join("v1.yaml"), svc("shop-v1")).unwrap();
    std::fs::write(dir.path().join("v2.yaml"), svc("shop-v2")).unwrap();
    let text = r#"
duration = "5m"
seed = 4
manifests = ["v1.yaml"]
[network]
rollout-duration = "200"
[app]
service-time = { distribution = "lognormal", mean = "40ms", stddev = "20ms" }
[[timeline]]
at = "1m"
apply = "v2.yaml"
[[workload]]
name = "shoppers"
arrival = { process = "poisson", rate = 200.0 }
"#;
    let sc = load_scenario_str(text, Path::new("ann.toml"), "ann", dir.path(), &[]).unwrap();
    assert_eq!(sc.service, "shop");
    let rows = run(&sc);
    let ready = first_ready(&rows, "shop-v2");
    // 100 s → steps of 99/99 = 1 s: about half-way after 50 s, done after 101 s.
    let share = |a: u64, b: u64| {
        let n = arrivals(&rows, "shop-v2", a, b) as f64;
        n / (n + arrivals(&rows, "shop-v1", a, b) as f64)
    };
    let half = share(ready + 48, ready + 52);
    assert!((0.4..0.6).contains(&half), "share {half} at +50 s");
    assert_eq!(arrivals(&rows, "shop-v1", ready + 103, 300), 0);
}

#[test]
fn the_old_revision_becomes_unreachable_and_min_scale_stops_holding_it() {
    let sc = canary(&[r#"revision.0.annotations."autoscaling.knative.dev/min-scale"=3"#]);
    let rows = run(&sc);
    let at = |t: u64| {
        rows.iter()
            .find(|r| r.revision == "shop-00001" && r.time_s == t)
            .expect("row exists")
            .replicas
    };
    // Held at min-scale while routed...
    assert!(at(55) >= 3, "replicas {} before the rollout", at(55));
    // ...and scaled to zero once the route no longer references it.
    assert_eq!(at(360), 0);
    let ready = first_ready(&rows, "shop-00002");
    assert!(
        (ready + 150..=360).all(|t| at(t) <= 3),
        "never above min-scale once traffic is gone"
    );
}
