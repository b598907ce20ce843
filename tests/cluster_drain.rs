//! The Cluster Autoscaler removing under-utilized nodes that still hold
//! pods: the removal simulation, the drain (taint, eviction, replacement
//! pods that cold-start elsewhere) and the limits around it, end to end
//! through `cluster.csv` rows and the summary's `cluster` object.

mod cluster_common;
use cluster_common::*;
use knsim::model::Summary;

/// The first second with a node being deleted or drained.
fn first_deletion(s: &Summary) -> f64 {
    s.cluster_rows
        .iter()
        .find(|r| r.nodes_deleting > 0)
        .map_or(f64::INFINITY, |r| r.time)
}

/// `pods` pods of `cpu` each held by min-scale, spread by LeastAllocated over
/// the pool's 2-CPU nodes; `rate` requests per second of `service` each.
fn scenario(pods: u32, cpu: &str, pool: &str, extra: &str, rate: f64, service: &str) -> String {
    let initial = pods.max(1);
    format!(
        r#"
name = "t"
duration = "20m"
[[cluster.node-pool]]
name = "p"
cpu = "2"
memory = "8Gi"
provisioning-time = {{ distribution = "constant", value = "60s" }}
deletion-time = {{ distribution = "constant", value = "30s" }}
{pool}
{extra}
[[revision]]
name = "r1"
service-time = {{ distribution = "constant", value = "{service}" }}
resources = {{ requests = {{ cpu = "{cpu}" }} }}
[revision.annotations]
"autoscaling.knative.dev/min-scale" = "{pods}"
"autoscaling.knative.dev/initial-scale" = "{initial}"
[[workload]]
arrival = {{ process = "poisson", rate = {rate} }}
"#
    )
}

fn idle(pods: u32, cpu: &str, pool: &str, extra: &str) -> String {
    scenario(pods, cpu, pool, extra, 0.0001, "10ms")
}

#[test]
fn a_node_whose_pods_fit_elsewhere_is_drained_after_the_unneeded_time_and_not_before() {
    // Two 500m pods, one per node (525m with the queue-proxy: 26 % each).
    // From the first loop (10 s) the first node's pod fits on the second, so
    // the first node is unneeded; the second is not (its only destination is
    // leaving). Strictly after 600 s, at the loop of 620 s, the first node is
    // tainted; 5 s later its pod is evicted and replaced at once on the
    // other node; the evicted pod drains for 30 s (it was routable), then the
    // node's 30 s deletion time runs.
    let (s, rows) = run(&idle(2, "500m", "min = 1\nmax = 3\ninitial = 2", ""), &[]);
    let c = cluster(&s);
    assert_eq!(
        at(&s, 619).nodes_deleting,
        0,
        "not before the unneeded time"
    );
    assert_eq!(at(&s, 619).nodes_ready, 2);
    assert_eq!(at(&s, 621).nodes_deleting, 1);
    assert_eq!(at(&s, 621).nodes_ready, 1, "tainted: no longer takes pods");
    assert_eq!(at(&s, 684).nodes_deleting, 1, "drain 30 s + deletion 30 s");
    assert_eq!(at(&s, 686).nodes_deleting, 0);
    assert_eq!(c.nodes_drained, 1);
    assert_eq!(c.nodes_removed, 1);
    assert_eq!(c.pods_evicted, 1);
    // The replacement is a new pod on the remaining node: a cold start.
    assert_eq!(c.eviction_cold_starts, 1);
    assert_eq!(s.cold_starts, 3);
    let end = at(&s, 1200);
    assert_eq!(end.nodes_ready, 1);
    assert_eq!(
        end.cpu_requested_milli,
        2 * 525,
        "both pods on the one node"
    );
    assert_eq!(rows.last().unwrap().ready_pods, 2);
    // The evicted pod's replacement was bound at 625 s and took its start-up
    // time: ready pods dipped to one in between.
    assert!(rows
        .iter()
        .any(|r| r.time_s > 625 && r.time_s < 700 && r.ready_pods == 1));
    // Billing: two nodes until the drained one is gone at 685 s.
    assert!((c.node_hours - (685.0 + 1200.0) / 3600.0).abs() < 1e-9);
}

#[test]
fn a_node_whose_pods_fit_nowhere_else_is_not_drained() {
    // A threshold of 0.7 makes both 1125m nodes (56 %) candidates, but
    // neither pod fits beside the other (2250m > 2000m): nothing moves.
    let extra = "[cluster.autoscaler]\nscale-down-utilization-threshold = 0.7";
    let pool = "min = 1\nmax = 3\ninitial = 2";
    let (s, _) = run(&idle(2, "1100m", pool, extra), &[]);
    let c = cluster(&s);
    assert_eq!(c.nodes_drained, 0);
    assert_eq!(c.nodes_removed, 0);
    assert_eq!(c.pods_evicted, 0);
    assert_eq!(at(&s, 1200).nodes_ready, 2);
    // The same threshold with pods that fit together: one node goes.
    let (s, _) = run(&idle(2, "900m", pool, extra), &[]);
    assert_eq!(cluster(&s).nodes_drained, 1);
    assert_eq!(at(&s, 1200).nodes_ready, 1);
}

#[test]
fn the_pool_minimum_holds_and_one_node_drains_at_a_time() {
    // Three pods, one per node, all nodes at 26 %.
    let (s, _) = run(&idle(3, "500m", "min = 2\nmax = 3\ninitial = 3", ""), &[]);
    let c = cluster(&s);
    assert_eq!(c.nodes_drained, 1, "3 nodes, min 2: one may go");
    assert_eq!(at(&s, 1200).nodes_ready, 2);
    assert_eq!(at(&s, 1200).cpu_requested_milli, 3 * 525);
    // With min 1 two nodes could go at 620 s, but --max-drain-parallelism
    // (1) drains one at a time.
    let (s, _) = run(&idle(3, "500m", "min = 1\nmax = 3\ninitial = 3", ""), &[]);
    assert_eq!(at(&s, 621).nodes_deleting, 1);
    let (s, _) = run(
        &idle(
            3,
            "500m",
            "min = 1\nmax = 3\ninitial = 3",
            "[cluster.autoscaler]\nmax-drain-parallelism = 2",
        ),
        &[],
    );
    assert_eq!(at(&s, 621).nodes_deleting, 2);
    assert_eq!(cluster(&s).pods_evicted, 2);
}

#[test]
fn a_drain_waits_for_the_delay_after_a_scale_up() {
    // Six 700m pods at the start on two nodes that hold two each: the loop
    // at 10 s adds a node. Idle, the revision then scales down to its two
    // min-scale pods, on two of the three nodes. With a 2-minute unneeded
    // time the empty node and one drained node could go within minutes,
    // but scale-down-delay-after-add holds both until 10 s + 10 m.
    let text = scenario(
        2,
        "700m",
        "min = 1\nmax = 4\ninitial = 2",
        "[cluster.autoscaler]\nscale-down-unneeded-time = \"2m\"",
        0.0001,
        "10ms",
    )
    .replace(
        r#""autoscaling.knative.dev/initial-scale" = "2""#,
        r#""autoscaling.knative.dev/initial-scale" = "6""#,
    );
    let (s, _) = run(&text, &[]);
    let c = cluster(&s);
    assert_eq!(c.scale_ups, 1);
    assert_eq!(at(&s, 609).nodes_deleting, 0);
    assert_eq!(at(&s, 611).nodes_deleting, 2, "the empty node and a drain");
    assert_eq!(c.nodes_drained, 1);
    assert_eq!(c.nodes_removed, 2);
    assert_eq!(at(&s, 1200).nodes_ready, 1, "the two pods end on one node");
    let (s, _) = run(&text, &["cluster.autoscaler.scale-down-delay-after-add=0s"]);
    assert!(first_deletion(&s) < 400.0, "{}", first_deletion(&s));
    assert_eq!(cluster(&s).nodes_drained, 1);
    assert_eq!(cluster(&s).nodes_removed, 2);
}

#[test]
fn deletions_wait_for_the_delay_after_a_delete() {
    // Three idle nodes, min 1, one deletion at a time: the second starts in
    // the loop that sees the first node gone (650 s), or, with a 5-minute
    // delay after delete, in the first loop at 620 s + 300 s.
    let pool = "min = 1\nmax = 3\ninitial = 3";
    let extra = "[cluster.autoscaler]\nmax-scale-down-parallelism = 1";
    let second = |s: &Summary| {
        s.cluster_rows
            .iter()
            .find(|r| r.time > 621.0 && r.nodes_deleting > 0 && r.nodes_ready == 1)
            .map_or(f64::INFINITY, |r| r.time)
    };
    let (s, _) = run(&idle(0, "100m", pool, extra), &[]);
    assert_eq!(cluster(&s).nodes_removed, 2);
    assert_eq!(second(&s), 650.0);
    let (s, _) = run(
        &idle(0, "100m", pool, extra),
        &["cluster.autoscaler.scale-down-delay-after-delete=5m"],
    );
    assert_eq!(second(&s), 920.0);
}

#[test]
fn requests_in_flight_on_an_evicted_pod_complete() {
    // Requests of 2 s arrive all along, so the pods hold some when the
    // first node is drained at 625 s; none is lost or cut short.
    let (s, _) = run(
        &scenario(2, "500m", "min = 1\nmax = 3\ninitial = 2", "", 3.0, "2s"),
        &[],
    );
    let c = cluster(&s);
    assert_eq!(c.pods_evicted, 1);
    let r = &s.requests;
    assert!(r.arrived > 3000, "{}", r.arrived);
    assert_eq!(r.completed + r.in_flight_at_end, r.arrived);
    assert_eq!(r.status_503 + r.status_504 + r.status_500, 0);
}

#[test]
fn drained_runs_are_reproducible() {
    let text = idle(3, "500m", "min = 1\nmax = 3\ninitial = 3", "");
    let (a, ra) = run(&text, &[]);
    let (b, rb) = run(&text, &[]);
    assert_eq!(a, b);
    assert_eq!(ra, rb);
}

#[test]
fn a_node_found_unremovable_is_not_looked_at_again_for_the_recheck_timeout() {
    // Two Services of one 1100m pod each, one per node (56 %, under a 0.7
    // threshold): neither pod fits beside the other, so both nodes are
    // unremovable from the loop at 10 s. The second Service then scales to
    // zero, so its node empties within two minutes; it becomes unneeded
    // only when the 5-minute recheck is over (310 s), and goes 10 minutes
    // after that. With no recheck timeout it goes 10 minutes after
    // emptying.
    let text = r#"
name = "t"
duration = "20m"
[[cluster.node-pool]]
name = "p"
cpu = "2"
memory = "8Gi"
min = 1
max = 2
initial = 2
deletion-time = { distribution = "constant", value = "30s" }
[cluster.autoscaler]
scale-down-utilization-threshold = 0.7
[[service]]
name = "kept"
[[service.revision]]
name = "kept-1"
service-time = { distribution = "constant", value = "10ms" }
resources = { requests = { cpu = "1100m" } }
annotations = { "autoscaling.knative.dev/min-scale" = "1" }
[[service.workload]]
name = "w-kept"
arrival = { process = "poisson", rate = 0.0001 }
[[service]]
name = "idle"
[[service.revision]]
name = "idle-1"
service-time = { distribution = "constant", value = "10ms" }
resources = { requests = { cpu = "1100m" } }
[[service.workload]]
name = "w-idle"
arrival = { process = "poisson", rate = 0.0001 }
"#;
    let (s, _) = run(text, &[]);
    let empty_at = s
        .cluster_rows
        .iter()
        .find(|r| r.cpu_requested_milli == 1125)
        .map(|r| r.time)
        .unwrap();
    assert!(empty_at < 200.0, "{empty_at}");
    assert_eq!(first_deletion(&s), 920.0, "310 s + 600 s, the next loop");
    assert_eq!(cluster(&s).nodes_drained, 0);
    let (s, _) = run(
        text,
        &["cluster.autoscaler.unremovable-node-recheck-timeout=0s"],
    );
    let first = first_deletion(&s);
    assert!(
        first > empty_at + 600.0 && first <= empty_at + 620.0,
        "{first}"
    );
}
