//! Node pools, the kube-scheduler and the Cluster Autoscaler, end to end:
//! each test runs a small scenario and reads `cluster.csv` rows and the
//! summary's `cluster` object.

mod cluster_common;
use cluster_common::*;
use knsim::model::simulate;
use knsim::scenario::ScenarioError;
use std::path::Path;

/// One revision held at `min-scale` pods of `cpu` each, no load, nodes of
/// 2 CPU / 8 GiB; `pool` adds to the pool table.
fn scenario(min_scale: u32, cpu: &str, pool: &str, extra: &str) -> String {
    let initial = min_scale.max(1);
    format!(
        r#"
name = "t"
duration = "20m"
{extra}
[[cluster.node-pool]]
name = "p"
cpu = "2"
memory = "8Gi"
provisioning-time = {{ distribution = "constant", value = "60s" }}
deletion-time = {{ distribution = "constant", value = "30s" }}
{pool}
[[revision]]
name = "r1"
service-time = {{ distribution = "constant", value = "10ms" }}
resources = {{ requests = {{ cpu = "{cpu}" }} }}
[revision.annotations]
"autoscaling.knative.dev/min-scale" = "{min_scale}"
"autoscaling.knative.dev/initial-scale" = "{initial}"
[[workload]]
arrival = {{ process = "poisson", rate = 0.0001 }}
"#
    )
}

#[test]
fn a_pod_stays_pending_while_no_node_fits() {
    // 3 CPU never fits a 2-CPU node, however many the autoscaler could add.
    let (s, rows) = run(&scenario(1, "3", "count = 1", ""), &[]);
    let c = cluster(&s);
    assert_eq!(c.unschedulable_events, 1);
    assert_eq!(c.scale_ups, 0, "no pool can help");
    assert_eq!(s.cold_starts, 0);
    assert!(rows
        .iter()
        .all(|r| r.unschedulable_pods == 1 && r.ready_pods == 0));
    assert_eq!(at(&s, 600).pending_pods, 1);
}

#[test]
fn a_node_comes_after_the_scan_and_its_provisioning_time_and_takes_the_pending_pod() {
    // Two pods of 1500m: one per 2-CPU node, so the second waits.
    let (s, rows) = run(&scenario(2, "1500m", "min = 1\nmax = 3", ""), &[]);
    let c = cluster(&s);
    assert_eq!(c.unschedulable_events, 1);
    // The first loop is at 10 s; the node is asked for then, Ready 60 s on.
    assert_eq!(at(&s, 9).nodes_provisioning, 0);
    assert_eq!(at(&s, 11).nodes_provisioning, 1);
    assert_eq!(at(&s, 69).nodes_ready, 1);
    assert_eq!(at(&s, 69).pending_pods, 1);
    assert_eq!(at(&s, 71).nodes_ready, 2);
    assert_eq!(at(&s, 71).pending_pods, 0, "placed as soon as it is Ready");
    assert_eq!(
        c.nodes_added, 1,
        "the upcoming node stops a second scale-up"
    );
    assert_eq!(c.cold_starts_waited_for_node, 1);
    // Sampled at the end of each second: seconds 1 to 69 (the node is
    // Ready at 70 s, before that second's row closes).
    assert_eq!(c.pending_pod_seconds, 69.0);
    // Its start-up begins at binding: ready pods reach 2 only after 70 s.
    let two = rows.iter().find(|r| r.ready_pods == 2).unwrap();
    assert!(two.time_s > 70, "{}", two.time_s);
}

#[test]
fn an_empty_node_goes_after_the_unneeded_time_and_not_before_and_min_holds() {
    // Two nodes and no pods after scale to zero: both are unneeded from the
    // first loop (10 s); one may go once 600 s have passed strictly, the
    // other is the pool's minimum.
    let (s, _) = run(
        &scenario(0, "100m", "min = 1\nmax = 3\ninitial = 2", ""),
        &["duration=30m"],
    );
    let c = cluster(&s);
    assert_eq!(at(&s, 619).nodes_ready, 2);
    assert_eq!(at(&s, 619).nodes_deleting, 0);
    assert_eq!(at(&s, 621).nodes_ready, 1);
    assert_eq!(at(&s, 621).nodes_deleting, 1);
    assert_eq!(
        at(&s, 651).nodes_deleting,
        0,
        "gone after the deletion time"
    );
    assert_eq!(c.nodes_removed, 1);
    assert_eq!(at(&s, 1800).nodes_ready, 1, "min = 1 holds");
    // Billing: 2 nodes until 650 s, then 1.
    assert!((c.node_hours - (650.0 * 2.0 + 1150.0) / 3600.0).abs() < 1e-9);
}

#[test]
fn the_unneeded_time_is_a_setting() {
    let (s, _) = run(
        &scenario(
            0,
            "100m",
            "min = 1\nmax = 3\ninitial = 2",
            "[cluster.autoscaler]\nscale-down-unneeded-time = \"2m\"",
        ),
        &[],
    );
    assert_eq!(at(&s, 139).nodes_ready, 2);
    assert_eq!(at(&s, 141).nodes_ready, 1);
}

#[test]
fn max_per_pool_and_in_total_hold() {
    // Eight pods of 1500m want eight nodes; the pool stops at 3.
    let (s, _) = run(&scenario(8, "1500m", "min = 1\nmax = 3", ""), &[]);
    let c = cluster(&s);
    assert_eq!(c.peak_nodes, 3);
    assert_eq!(at(&s, 600).pending_pods, 5);
    // --max-nodes-total caps below the pool's max.
    let (s, _) = run(
        &scenario(
            8,
            "1500m",
            "min = 1\nmax = 3",
            "[cluster.autoscaler]\nmax-nodes-total = 2",
        ),
        &[],
    );
    assert_eq!(cluster(&s).peak_nodes, 2);
}

#[test]
fn most_allocated_packs_so_a_node_empties_and_least_allocated_spreads() {
    // Two 500m pods on two 2-CPU nodes: packed, one node is empty and goes
    // without a drain; spread, each node keeps a pod, so one node goes only
    // by draining: its pod is evicted and cold-starts on the other.
    let pool = "min = 1\nmax = 2\ninitial = 2";
    let most = scenario(
        2,
        "500m",
        pool,
        "[cluster]\nscoring-strategy = \"MostAllocated\"",
    );
    let least = scenario(2, "500m", pool, "");
    let (s, _) = run(&most, &[]);
    assert_eq!(cluster(&s).nodes_removed, 1);
    assert_eq!(at(&s, 1200).cpu_requested_milli, 2 * 525);
    assert_eq!(cluster(&s).nodes_drained, 0);
    assert_eq!(cluster(&s).eviction_cold_starts, 0);
    let (s, _) = run(&least, &[]);
    assert_eq!(cluster(&s).nodes_removed, 1);
    assert_eq!(cluster(&s).nodes_drained, 1);
    assert_eq!(cluster(&s).eviction_cold_starts, 1);
    assert_eq!(at(&s, 600).nodes_ready, 2, "spread until the drain");
    assert_eq!(at(&s, 1200).nodes_ready, 1);
}

#[test]
fn runs_with_nodes_are_reproducible() {
    let text = scenario(8, "700m", "min = 1\nmax = 4", "");
    let sc = load(&text, &[]).unwrap();
    let a = simulate(&sc, 9, &mut Vec::new());
    let b = simulate(&sc, 9, &mut Vec::new());
    assert_eq!(a, b);
    assert_eq!(a.cluster_rows, b.cluster_rows);
}

#[test]
fn without_node_pools_there_is_no_cluster_output() {
    let text = r#"
duration = "1m"
[[revision]]
service-time = { distribution = "constant", value = "10ms" }
[[workload]]
arrival = { process = "poisson", rate = 5.0 }
"#;
    let (s, _) = run(text, &[]);
    assert!(s.cluster.is_none());
    assert!(s.cluster_rows.is_empty());
    assert!(!knsim::output::summary_json(&s).contains("\"cluster\""));
}

fn problems(text: &str) -> Vec<String> {
    match load(text, &[]) {
        Err(ScenarioError::Invalid { problems, .. }) => {
            problems.iter().map(|p| p.to_string()).collect()
        }
        Err(e) => vec![e.to_string()],
        Ok(_) => panic!("expected problems"),
    }
}

#[test]
fn bad_pools_and_settings_are_named_with_their_rule() {
    let p = problems(&scenario(
        1,
        "1",
        "count = 2\nmin = 1",
        "[cluster]\nmax-pods = 4\n[cluster.autoscaler]\nexpander = \"cheapest\"",
    ));
    let all = p.join("\n");
    assert!(all.contains("cluster.node-pool[0].count"), "{all}");
    assert!(all.contains("cannot be combined with min or max"), "{all}");
    assert!(all.contains("cluster.max-pods"), "{all}");
    assert!(all.contains("cluster.autoscaler.expander"), "{all}");
    let p = problems(&scenario(1, "1", "max = 2", "").replace("cpu = \"2\"", "cpu = \"2 cores\""));
    assert!(p.join("\n").contains("cluster.node-pool[0].cpu"), "{p:?}");
    let text = "duration = \"1m\"\n[cluster.autoscaler]\nscan-interval = \"5s\"\n[[revision]]\n";
    let p = problems(text);
    assert!(
        p.join("\n")
            .contains("needs at least one [[cluster.node-pool]]"),
        "{p:?}"
    );
}

#[test]
fn the_report_has_a_cluster_page_read_back_from_the_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let sc = knsim::scenario::load_scenario(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/cluster-small.toml"),
        &[],
    )
    .unwrap();
    let mut ts = knsim::output::CsvTimeseries::create(&dir.path().join("timeseries.csv")).unwrap();
    let s = simulate(&sc, sc.seed, &mut ts);
    ts.finish().unwrap();
    std::fs::write(
        dir.path().join("summary.json"),
        knsim::output::summary_json(&s),
    )
    .unwrap();
    let c = cluster(&s);
    let names: Vec<String> = c.pools.iter().map(|p| p.name.clone()).collect();
    std::fs::write(
        dir.path().join("cluster.csv"),
        knsim::model::cluster::cluster_csv(&names, &s.cluster_rows),
    )
    .unwrap();
    // The bundled scenario shows what it promises.
    assert!(c.unschedulable_events > 0 && c.scale_ups > 0 && c.nodes_removed > 0);
    knsim::plot::write_run_plots(dir.path()).unwrap();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("<h2 id=\"cluster\">Cluster</h2>"));
    let svg = std::fs::read_to_string(dir.path().join("cluster.svg")).unwrap();
    for panel in [
        "Nodes",
        "Pods waiting for a node",
        "Requested / allocatable on Ready nodes",
        "Node cost so far",
    ] {
        assert!(svg.contains(&format!("\n{panel}\n")), "{panel}");
    }
    assert!(svg.contains("node-hours × price per hour"));
    assert!(html.contains(&format!("Peak {} nodes", c.peak_nodes)));

    // A cell that is not a number is named, not read as 0.
    let path = dir.path().join("cluster.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[3].split(',').map(str::to_string).collect();
    cells[4] = "many".into();
    lines[3] = cells.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = knsim::plot::write_run_plots(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("row 3") && err.contains("pending_pods") && err.contains("many"),
        "{err}"
    );
}

/// The last `cost` of `cluster.csv` is the summary's cost, and it never
/// falls.
#[test]
fn the_cost_column_adds_up_to_the_summary() {
    let text = scenario(
        0,
        "1500m",
        "min = 1\nmax = 4\ninitial = 2\nprice-per-hour = 0.5",
        "",
    )
    .replace(
        r#""autoscaling.knative.dev/initial-scale" = "1""#,
        r#""autoscaling.knative.dev/initial-scale" = "3""#,
    );
    let (s, _) = run(&text, &[]);
    let c = cluster(&s);
    assert!(
        c.cost > 0.0 && c.nodes_added > 0 && c.nodes_removed > 0,
        "{c:?}"
    );
    let last = s.cluster_rows.last().unwrap();
    assert!(
        (last.cost - c.cost).abs() < 1e-9,
        "{} vs {}",
        last.cost,
        c.cost
    );
    assert!(s.cluster_rows.windows(2).all(|w| w[1].cost >= w[0].cost));
    // Two nodes until the first scan asks for a third at 10 s, at 0.5 an
    // hour; a node asked for costs from then on, provisioning included.
    assert!((at(&s, 9).cost - 2.0 * 9.0 / 3600.0 * 0.5).abs() < 1e-12);
    let third = 2.0 * 20.0 + (20.0 - 10.0);
    assert!((at(&s, 20).cost - third / 3600.0 * 0.5).abs() < 1e-12);
}

#[test]
fn scale_down_waits_for_the_delay_after_a_scale_up() {
    // Three pods of 1500m at the start, two nodes: the third waits, so the
    // loop at 10 s adds a node. The pods then scale to zero and all nodes
    // are idle; with a 2-minute unneeded time they could go by about 4
    // minutes, but scale-down-delay-after-add holds them until 10 s + 10 m.
    let text = scenario(
        0,
        "1500m",
        "min = 1\nmax = 4\ninitial = 2",
        "[cluster.autoscaler]\nscale-down-unneeded-time = \"2m\"",
    )
    .replace(
        r#""autoscaling.knative.dev/initial-scale" = "1""#,
        r#""autoscaling.knative.dev/initial-scale" = "3""#,
    );
    let (s, _) = run(&text, &[]);
    assert_eq!(cluster(&s).scale_ups, 1);
    assert_eq!(at(&s, 609).nodes_deleting, 0);
    assert_eq!(at(&s, 611).nodes_deleting, 2, "down to min = 1 at once");
    let (s, _) = run(&text, &["cluster.autoscaler.scale-down-delay-after-add=0s"]);
    let first = s
        .cluster_rows
        .iter()
        .find(|r| r.nodes_deleting > 0)
        .unwrap();
    assert!(first.time < 400.0, "{}", first.time);
}
