//! Changes applied while traffic flows: annotations and ConfigMaps picked
//! up by the autoscaler, and revision deletion with draining.

use knsim::model::{simulate, Summary, TimeseriesRow};
use knsim::scenario::load_scenario_str;
use std::path::Path;

const BASE: &str = r#"
service = "app"
seed = 8
duration = "5m"
[[revision]]
name = "app-00001"
containerConcurrency = 10
service-time = { distribution = "constant", value = "100ms" }
[[workload]]
name = "w"
arrival = { process = "poisson", rate = 10.0 }
"#;

fn run(extra: &str) -> (Summary, Vec<TimeseriesRow>) {
    let text = format!("{BASE}{extra}");
    let sc = load_scenario_str(&text, Path::new("c.toml"), "c", Path::new("."), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut rows = Vec::new();
    let s = simulate(&sc, sc.seed, &mut rows);
    (s, rows)
}

fn row<'a>(rows: &'a [TimeseriesRow], rev: &str, t: u64) -> &'a TimeseriesRow {
    rows.iter()
        .find(|r| r.revision == rev && r.time_s == t)
        .unwrap_or_else(|| panic!("no row for {rev} at {t}"))
}

#[test]
fn an_annotation_change_reaches_the_scaler() {
    let (_, before) = run("");
    let (_, rows) = run(r#"[[timeline]]
at = "2m"
annotate = { revision = "app-00001", annotations = { "autoscaling.knative.dev/min-scale" = "4" } }
"#);
    // 10/s × 0.1 s = 1 in flight: one pod without the annotation.
    assert_eq!(row(&before, "app-00001", 200).replicas, 1);
    assert_eq!(row(&rows, "app-00001", 110).replicas, 1);
    for t in [130, 200, 300] {
        assert!(row(&rows, "app-00001", t).replicas >= 4, "at {t}");
    }
}

#[test]
fn a_config_map_change_reaches_every_decider() {
    // containerConcurrency 10 at 5 % is a target of 0.5 per pod: about 1 in
    // flight needs 2 pods. Before the change (70 %, target 7) one pod does.
    let (_, rows) = run(r#"[[timeline]]
at = "2m"
autoscaler = { container-concurrency-target-percentage = 5 }
"#);
    assert_eq!(row(&rows, "app-00001", 110).desired_pods, 1);
    let later: Vec<i32> = (200..=300)
        .map(|t| row(&rows, "app-00001", t).desired_pods)
        .collect();
    assert!(
        later.iter().all(|&d| d >= 2),
        "desired after the change: {later:?}"
    );
}

#[test]
fn a_deleted_revision_drains_and_disappears() {
    let (s, rows) = run(r#"[[timeline]]
at = "1m"
revision = { name = "app-00002", containerConcurrency = 10, service-time = { distribution = "constant", value = "100ms" } }
traffic = [{ revisionName = "app-00001", percent = 100 }, { tag = "next", revisionName = "app-00002", percent = 0 }]
[[timeline]]
at = "3m"
traffic = [{ revisionName = "app-00002", percent = 100 }]
delete-revision = "app-00001"
"#);
    // Nothing lost: in-flight requests of the deleted revision complete.
    assert_eq!(s.requests.status_503 + s.requests.status_504, 0);
    assert_eq!(s.requests.status_404, 0);
    let old = |t| row(&rows, "app-00001", t);
    assert!(old(179).ready_pods >= 1);
    assert!(
        old(181).terminating_pods >= 1,
        "pods drain for the quiet period"
    );
    assert_eq!(old(181).replicas, 0);
    assert_eq!(old(181).ready_pods, 0);
    // 30 s quiet period, then gone.
    assert_eq!(old(215).terminating_pods, 0);
    let after: u64 = rows
        .iter()
        .filter(|r| r.revision == "app-00001" && r.time_s > 180)
        .map(|r| r.arrivals)
        .sum();
    assert_eq!(after, 0);
    assert!(row(&rows, "app-00002", 300).ready_pods >= 1);
}
