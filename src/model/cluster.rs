//! What a run reports about nodes when the scenario has node pools: the
//! summary's `cluster` object and the rows of `cluster.csv`.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One node pool's totals.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ClusterPoolSummary {
    /// Pool name.
    pub name: String,
    /// Node-hours billed: from the autoscaler's request until the node is
    /// gone (or the run ends).
    pub node_hours: f64,
    /// `node_hours × price-per-hour`.
    pub cost: f64,
    /// Most nodes at once (provisioning, ready or being deleted).
    pub peak_nodes: u32,
    /// Mean nodes over the run's seconds.
    pub mean_nodes: f64,
}

/// The summary's `cluster` object.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ClusterSummary {
    /// Node-hours of all pools.
    pub node_hours: f64,
    /// Cost of all pools.
    pub cost: f64,
    /// Most nodes at once.
    pub peak_nodes: u32,
    /// Mean nodes.
    pub mean_nodes: f64,
    /// Seconds pods spent waiting for a node, summed over pods.
    pub pending_pod_seconds: f64,
    /// Pods that found no node when they were created.
    pub unschedulable_events: u64,
    /// Pods that started only after waiting for a node (cold starts that
    /// waited for room or a new node).
    pub cold_starts_waited_for_node: u64,
    /// Scale-ups of the Cluster Autoscaler.
    pub scale_ups: u64,
    /// Nodes it asked for.
    pub nodes_added: u64,
    /// Nodes it removed.
    pub nodes_removed: u64,
    /// Nodes it removed with pods on them (drained: tainted, pods evicted,
    /// then deleted); counted when the drain starts.
    pub nodes_drained: u64,
    /// Pods evicted from drained nodes.
    pub pods_evicted: u64,
    /// Cold starts of the pods created to replace evicted ones.
    pub eviction_cold_starts: u64,
    /// Mean CPU requested by pods on Ready nodes, millicores.
    pub mean_cpu_requested_milli: f64,
    /// Mean allocatable CPU of Ready nodes, millicores.
    pub mean_cpu_allocatable_milli: f64,
    /// Mean memory requested, bytes.
    pub mean_memory_requested_bytes: f64,
    /// Mean allocatable memory, bytes.
    pub mean_memory_allocatable_bytes: f64,
    /// Requested over allocatable CPU, over the whole run.
    pub cpu_requested_ratio: f64,
    /// Requested over allocatable memory, over the whole run.
    pub memory_requested_ratio: f64,
    /// Per pool, in scenario order.
    pub pools: Vec<ClusterPoolSummary>,
}

/// One simulated second of the cluster (a row of `cluster.csv`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ClusterRow {
    /// End of the second, simulated seconds.
    pub time: f64,
    /// Ready nodes.
    pub nodes_ready: u32,
    /// Nodes asked for, not yet Ready.
    pub nodes_provisioning: u32,
    /// Nodes being deleted.
    pub nodes_deleting: u32,
    /// Pods waiting for a node.
    pub pending_pods: u32,
    /// CPU requested on Ready nodes, millicores.
    pub cpu_requested_milli: i64,
    /// Allocatable CPU of Ready nodes, millicores.
    pub cpu_allocatable_milli: i64,
    /// Memory requested on Ready nodes, bytes.
    pub memory_requested_bytes: i64,
    /// Allocatable memory of Ready nodes, bytes.
    pub memory_allocatable_bytes: i64,
    /// Cost of all nodes so far (every pool's node-hours to the end of this
    /// second times its price), so that the last row is the summary's cost.
    pub cost: f64,
    /// Per pool: (ready, provisioning).
    pub pools: Vec<(u32, u32)>,
}

/// `cluster.csv`: one row per simulated second; `cost` is cumulative, and the
/// per-pool columns are `ready.<pool>` and `provisioning.<pool>`.
pub fn cluster_csv(pools: &[String], rows: &[ClusterRow]) -> String {
    let mut s = String::from(
        "time,nodes_ready,nodes_provisioning,nodes_deleting,pending_pods,\
         cpu_requested_milli,cpu_allocatable_milli,memory_requested_bytes,memory_allocatable_bytes,cost",
    );
    for p in pools {
        let _ = write!(s, ",ready.{p},provisioning.{p}");
    }
    s.push('\n');
    for r in rows {
        let _ = write!(
            s,
            "{},{},{},{},{},{},{},{},{},{}",
            r.time,
            r.nodes_ready,
            r.nodes_provisioning,
            r.nodes_deleting,
            r.pending_pods,
            r.cpu_requested_milli,
            r.cpu_allocatable_milli,
            r.memory_requested_bytes,
            r.memory_allocatable_bytes,
            r.cost
        );
        for (ready, prov) in &r.pools {
            let _ = write!(s, ",{ready},{prov}");
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_has_a_column_pair_per_pool() {
        let row = ClusterRow {
            time: 1.0,
            nodes_ready: 3,
            pending_pods: 2,
            cost: 0.25,
            pools: vec![(2, 0), (1, 1)],
            ..ClusterRow::default()
        };
        let csv = cluster_csv(&["a".into(), "b".into()], &[row]);
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].ends_with(",cost,ready.a,provisioning.a,ready.b,provisioning.b"));
        assert_eq!(lines[1], "1,3,0,0,2,0,0,0,0,0.25,2,0,1,1");
    }
}
