//! Which under-utilized nodes the Cluster Autoscaler could remove: the
//! removal simulation of its scale-down planner, as pure functions over a
//! snapshot of nodes and the pods bound to them.
//!
//! Follows `cluster-autoscaler`: `core/scaledown/planner/planner.go`
//! (`UpdateClusterState`: the pods of nodes being drained are placed in the
//! snapshot first; `categorizeNodes`: candidates are simulated in order and
//! a removable node stops being a destination for the next ones),
//! `simulator/cluster.go` (`SimulateNodeRemoval`, `findPlaceFor`: every pod
//! of the node must find a place, or the node is unremovable; a successful
//! simulation is kept in the snapshot) and
//! `simulator/scheduling/hinting_simulator.go` (`TrySchedulePods`: each pod
//! goes to the first node that passes the scheduler's Filters, no scoring).

use super::resources::PodRequest;
use super::scheduler::{fits, NodeShape, NodeUsage};

/// One node of the snapshot.
#[derive(Clone, Debug)]
pub struct SnapshotNode {
    /// What it offers.
    pub shape: NodeShape,
    /// What is bound to it.
    pub used: NodeUsage,
    /// Each bound pod's actual and non-zero request.
    pub pods: Vec<(PodRequest, PodRequest)>,
    /// Pods may be moved onto it (Ready, not being deleted).
    pub destination: bool,
}

/// Places `pods` one after the other on the first destination node (other
/// than `except`) that fits, in node order. All or nothing: when a pod
/// finds no place the snapshot is left as it was and `false` returned.
pub fn place_all(
    nodes: &mut [SnapshotNode],
    pods: &[(PodRequest, PodRequest)],
    except: Option<usize>,
) -> bool {
    let mut used: Vec<NodeUsage> = nodes.iter().map(|n| n.used).collect();
    let mut to = Vec::with_capacity(pods.len());
    for &(req, nz) in pods {
        let Some(k) = (0..nodes.len()).find(|&k| {
            nodes[k].destination && Some(k) != except && fits(req, &nodes[k].shape, &used[k])
        }) else {
            return false;
        };
        used[k].add(req, nz);
        to.push(k);
    }
    for (&k, &p) in to.iter().zip(pods) {
        nodes[k].used = used[k];
        nodes[k].pods.push(p);
    }
    true
}

/// `categorizeNodes` over `candidates` (indices into `nodes`, in the order
/// they are evaluated): a candidate whose pods all find a place elsewhere
/// is removable, its pods move in the snapshot and it stops being a
/// destination; any other is unremovable. Returns both lists, in candidate
/// order.
pub fn find_removable(
    nodes: &mut [SnapshotNode],
    candidates: &[usize],
) -> (Vec<usize>, Vec<usize>) {
    let (mut removable, mut unremovable) = (Vec::new(), Vec::new());
    for &c in candidates {
        let pods = std::mem::take(&mut nodes[c].pods);
        if place_all(nodes, &pods, Some(c)) {
            nodes[c].used = NodeUsage::default();
            nodes[c].destination = false;
            removable.push(c);
        } else {
            nodes[c].pods = pods;
            unremovable.push(c);
        }
    }
    (removable, unremovable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(cpu: i64) -> (PodRequest, PodRequest) {
        let r = PodRequest {
            cpu_milli: cpu,
            memory_bytes: 0,
        };
        (r, r)
    }

    fn node(cpu: i64, pods: &[i64]) -> SnapshotNode {
        let mut n = SnapshotNode {
            shape: NodeShape {
                allocatable: PodRequest {
                    cpu_milli: cpu,
                    memory_bytes: 1 << 30,
                },
                max_pods: 110,
            },
            used: NodeUsage::default(),
            pods: Vec::new(),
            destination: true,
        };
        for &p in pods {
            let (r, z) = req(p);
            n.used.add(r, z);
            n.pods.push((r, z));
        }
        n
    }

    /// The rows of `TestFindNodesToRemove` (`simulator/cluster_test.go`):
    /// nodes of 1000m; "empty" has no pod, "drainable" two of 100m,
    /// "non-drainable" one of 100m (upstream it is blocked by its unowned
    /// pod; here by its only destination leaving), "full" one of 1000m.
    #[test]
    fn find_nodes_to_remove_rows_of_upstream() {
        let (empty, drainable, non_drainable, full) = (
            node(1000, &[]),
            node(1000, &[100, 100]),
            node(1000, &[100]),
            node(1000, &[1000]),
        );
        let run = |all: Vec<SnapshotNode>, cands: &[usize]| {
            let mut all = all;
            find_removable(&mut all, cands)
        };
        // "just an empty node, should be removed"
        assert_eq!(run(vec![empty.clone()], &[0]), (vec![0], vec![]));
        // "just a drainable node, but nowhere for pods to go to"
        assert_eq!(run(vec![drainable.clone()], &[0]), (vec![], vec![0]));
        // "drainable node, and a mostly empty node that can take its pods"
        assert_eq!(
            run(vec![drainable.clone(), non_drainable.clone()], &[0, 1]),
            (vec![0], vec![1])
        );
        // "drainable node, and a full node that cannot fit anymore pods"
        assert_eq!(
            run(vec![drainable.clone(), full.clone()], &[0]),
            (vec![], vec![0])
        );
        // "4 nodes, 1 empty, 1 drainable"
        assert_eq!(
            run(vec![empty, drainable, full, non_drainable], &[0, 1]),
            (vec![0, 1], vec![])
        );
    }

    #[test]
    fn a_removed_node_is_no_destination_for_the_next_candidate() {
        let mut nodes = vec![node(1000, &[]), node(1000, &[300]), node(1000, &[300])];
        let (rm, un) = find_removable(&mut nodes, &[0, 1, 2]);
        assert_eq!(rm, [0, 1], "node 1's pod moves to node 2");
        assert_eq!(un, [2], "node 1 is going and node 0 too");
        assert_eq!(nodes[2].used.requested.cpu_milli, 600);
        assert_eq!(nodes[2].pods.len(), 2);
    }

    #[test]
    fn a_node_whose_pods_do_not_all_fit_stays_and_the_snapshot_is_untouched() {
        // 600 + 600 need two places; node 1 has room for one only.
        let mut nodes = vec![node(1000, &[600, 600]), node(1000, &[300])];
        let (rm, un) = find_removable(&mut nodes, &[0]);
        assert!(rm.is_empty());
        assert_eq!(un, [0]);
        assert_eq!(nodes[1].used.requested.cpu_milli, 300, "nothing moved");
        assert_eq!(nodes[0].pods.len(), 2);
    }

    #[test]
    fn pods_go_first_fit_and_a_non_destination_takes_nothing() {
        let mut nodes = vec![node(1000, &[]), node(1000, &[]), node(1000, &[])];
        nodes[0].destination = false;
        assert!(place_all(&mut nodes, &[req(700), req(700), req(200)], None));
        assert_eq!(nodes[0].used.pods, 0);
        assert_eq!(nodes[1].used.requested.cpu_milli, 900, "700 then 200");
        assert_eq!(nodes[2].used.requested.cpu_milli, 700);
        assert!(!place_all(&mut nodes, &[req(400)], None));
    }
}
