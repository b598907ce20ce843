//! Placing one pod on a node as the default kube-scheduler does with
//! nothing but resource requests to go by.
//!
//! Follows `pkg/scheduler/framework/plugins/noderesources/fit.go`
//! (`fitsRequest`: the Filter, on actual requests and the pod count),
//! `least_allocated.go` and `most_allocated.go` (the two scoring strategies
//! of NodeResourcesFit, on non-zero requests, in integer arithmetic with
//! `MaxNodeScore = 100`) and `pkg/scheduler/schedule_one.go` (`selectHost`:
//! a uniformly random pick among the top scores by reservoir sampling; no
//! scoring at all when one node is feasible).

use super::resources::PodRequest;
use rand::Rng;

/// `framework.MaxNodeScore`.
pub const MAX_NODE_SCORE: i64 = 100;

/// The kubelet's default `maxPods`.
pub const DEFAULT_MAX_PODS: u32 = 110;

/// What a node offers: its allocatable CPU and memory and its pod limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeShape {
    /// Allocatable CPU (millicores) and memory (bytes).
    pub allocatable: PodRequest,
    /// Most pods the kubelet runs (`maxPods`).
    pub max_pods: u32,
}

/// What is already bound to a node (`framework.NodeInfo` aggregates).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeUsage {
    /// Sum of the pods' actual requests (`Requested`).
    pub requested: PodRequest,
    /// Sum of the pods' non-zero requests (`NonZeroRequested`).
    pub nonzero: PodRequest,
    /// Pods bound.
    pub pods: u32,
}

impl NodeUsage {
    /// Adds a pod of actual request `req` and non-zero request `nz`.
    pub fn add(&mut self, req: PodRequest, nz: PodRequest) {
        self.requested = self.requested + req;
        self.nonzero = self.nonzero + nz;
        self.pods += 1;
    }

    /// Removes a pod added with [`NodeUsage::add`].
    pub fn remove(&mut self, req: PodRequest, nz: PodRequest) {
        self.requested.cpu_milli -= req.cpu_milli;
        self.requested.memory_bytes -= req.memory_bytes;
        self.nonzero.cpu_milli -= nz.cpu_milli;
        self.nonzero.memory_bytes -= nz.memory_bytes;
        self.pods -= 1;
    }
}

/// NodeResourcesFit's `scoringStrategy.type` (resources cpu and memory,
/// weight 1 each, as in the default profile).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScoringStrategy {
    /// Prefer the emptiest node (the default): spreads pods.
    #[default]
    LeastAllocated,
    /// Prefer the fullest node: packs pods, so that empty nodes can go.
    MostAllocated,
}

impl ScoringStrategy {
    /// The name as written in `NodeResourcesFitArgs`.
    pub fn name(self) -> &'static str {
        match self {
            ScoringStrategy::LeastAllocated => "LeastAllocated",
            ScoringStrategy::MostAllocated => "MostAllocated",
        }
    }

    /// Reads a strategy name as `NodeResourcesFitArgs` spells it.
    pub fn parse(s: &str) -> Option<ScoringStrategy> {
        match s {
            "LeastAllocated" => Some(ScoringStrategy::LeastAllocated),
            "MostAllocated" => Some(ScoringStrategy::MostAllocated),
            _ => None,
        }
    }
}

/// `fitsRequest`: the pod count first, then each resource the pod
/// requests; a pod that exactly fills the node fits.
pub fn fits(req: PodRequest, node: &NodeShape, used: &NodeUsage) -> bool {
    if used.pods + 1 > node.max_pods {
        return false;
    }
    let a = node.allocatable;
    let r = used.requested;
    !(req.cpu_milli > 0 && req.cpu_milli > a.cpu_milli - r.cpu_milli
        || req.memory_bytes > 0 && req.memory_bytes > a.memory_bytes - r.memory_bytes)
}

/// NodeResourcesFit's score of placing a pod of non-zero request `pod_nz`
/// on a node: each resource scored in `[0, 100]` by the strategy, then
/// their weighted mean with integer division. A resource the node has none
/// of is left out of the mean.
pub fn score(s: ScoringStrategy, node: &NodeShape, used: &NodeUsage, pod_nz: PodRequest) -> i64 {
    let pairs = [
        (
            node.allocatable.cpu_milli,
            used.nonzero.cpu_milli + pod_nz.cpu_milli,
        ),
        (
            node.allocatable.memory_bytes,
            used.nonzero.memory_bytes + pod_nz.memory_bytes,
        ),
    ];
    let (mut sum, mut weights) = (0i64, 0i64);
    for (alloc, req) in pairs {
        if alloc == 0 {
            continue;
        }
        let r = match s {
            ScoringStrategy::LeastAllocated if req > alloc => 0,
            ScoringStrategy::LeastAllocated => (alloc - req) * MAX_NODE_SCORE / alloc,
            ScoringStrategy::MostAllocated => req.min(alloc) * MAX_NODE_SCORE / alloc,
        };
        sum += r;
        weights += 1;
    }
    if weights == 0 {
        0
    } else {
        sum / weights
    }
}

/// One node as the scheduler sees it.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    /// Its shape.
    pub shape: NodeShape,
    /// What is bound to it.
    pub used: NodeUsage,
}

/// One scheduling cycle for a pod of actual request `req` and non-zero
/// request `nz`: Filter, then (with two or more feasible nodes) Score and
/// `selectHost`. Returns the chosen index into `nodes`, or `None` when no
/// node fits (the pod stays Pending, Unschedulable). Draws from `rng` only
/// on a tie.
pub fn schedule<R: Rng>(
    req: PodRequest,
    nz: PodRequest,
    nodes: &[Candidate],
    strategy: ScoringStrategy,
    rng: &mut R,
) -> Option<usize> {
    let mut feasible = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| fits(req, &n.shape, &n.used))
        .map(|(i, _)| i)
        .peekable();
    let first = feasible.next()?;
    if feasible.peek().is_none() {
        return Some(first);
    }
    let scored = std::iter::once(first)
        .chain(feasible)
        .map(|i| (i, score(strategy, &nodes[i].shape, &nodes[i].used, nz)));
    select_host(scored, rng)
}

/// `selectHost`: the highest score; among equal scores each is kept with
/// probability `1/count`, so the pick is uniform over the ties.
pub fn select_host<R: Rng>(
    scored: impl Iterator<Item = (usize, i64)>,
    rng: &mut R,
) -> Option<usize> {
    let mut best: Option<(usize, i64)> = None;
    let mut ties = 0u32;
    for (i, s) in scored {
        match best {
            Some((_, b)) if s < b => {}
            Some((_, b)) if s == b => {
                ties += 1;
                if rng.random_range(0..ties) == 0 {
                    best = Some((i, s));
                }
            }
            _ => {
                best = Some((i, s));
                ties = 1;
            }
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RngStreams, Stream};

    const GI: i64 = 1 << 30;

    fn req(cpu: i64, mem: i64) -> PodRequest {
        PodRequest {
            cpu_milli: cpu,
            memory_bytes: mem,
        }
    }

    fn node(cpu: i64, mem: i64) -> NodeShape {
        NodeShape {
            allocatable: req(cpu, mem),
            max_pods: DEFAULT_MAX_PODS,
        }
    }

    fn used(cpu: i64, mem: i64, pods: u32) -> NodeUsage {
        NodeUsage {
            requested: req(cpu, mem),
            nonzero: req(cpu, mem),
            pods,
        }
    }

    #[test]
    fn fit_checks_each_requested_resource_and_the_pod_count() {
        // fit_test.go TestEnoughRequests cases, reduced to cpu and memory.
        let n = node(10, 20);
        assert!(fits(req(0, 0), &n, &used(10, 20, 1)), "no request");
        assert!(fits(req(1, 1), &n, &used(5, 5, 1)), "room for both");
        assert!(!fits(req(2, 1), &n, &used(9, 5, 1)), "too much cpu");
        assert!(!fits(req(1, 2), &n, &used(5, 19, 1)), "too much memory");
        assert!(fits(req(5, 10), &n, &used(5, 10, 1)), "equal edge fits");
        let full = NodeShape { max_pods: 1, ..n };
        assert!(!fits(req(0, 0), &full, &used(0, 0, 1)), "too many pods");
    }

    #[test]
    fn least_allocated_scores_follow_the_upstream_table() {
        // least_allocated_test.go "nothing scheduled, resources requested,
        // differently sized machines": (25+50)/2=37 and (50+50)/2=50.
        let pod = req(3000, 5000);
        let s = |n| score(ScoringStrategy::LeastAllocated, &n, &used(0, 0, 0), pod);
        assert_eq!(s(node(4000, 10000)), 37);
        assert_eq!(s(node(6000, 10000)), 50);
        // Requests above allocatable score 0 for that resource.
        let over = score(
            ScoringStrategy::LeastAllocated,
            &node(4000, 10000),
            &used(3000, 0, 1),
            pod,
        );
        assert_eq!(over, 50 / 2);
    }

    #[test]
    fn most_allocated_scores_follow_the_upstream_table() {
        // most_allocated_test.go "nothing scheduled, resources requested,
        // differently sized machines": (75+50)/2=62 and (50+50)/2=50.
        let pod = req(3000, 5000);
        let m = ScoringStrategy::MostAllocated;
        assert_eq!(score(m, &node(4000, 10000), &used(0, 0, 0), pod), 62);
        assert_eq!(score(m, &node(6000, 10000), &used(0, 0, 0), pod), 50);
        // Over-request is clamped to 100, not 0.
        assert_eq!(
            score(m, &node(4000, 10000), &used(5000, 10000, 1), pod),
            100
        );
    }

    #[test]
    fn each_strategy_places_the_pod_where_it_should() {
        let nodes = [
            Candidate {
                shape: node(4000, 16 * GI),
                used: used(3000, 12 * GI, 3),
            },
            Candidate {
                shape: node(4000, 16 * GI),
                used: used(500, 2 * GI, 1),
            },
        ];
        let mut rng = RngStreams::new(1).get(Stream::Placement, 0);
        let p = req(500, GI);
        let least = schedule(p, p, &nodes, ScoringStrategy::LeastAllocated, &mut rng);
        let most = schedule(p, p, &nodes, ScoringStrategy::MostAllocated, &mut rng);
        assert_eq!(least, Some(1), "LeastAllocated spreads to the emptier node");
        assert_eq!(most, Some(0), "MostAllocated packs onto the fuller node");
        // A pod that fits nowhere is not placed.
        assert_eq!(
            schedule(
                req(4000, GI),
                p,
                &nodes,
                ScoringStrategy::LeastAllocated,
                &mut rng
            ),
            None
        );
    }

    #[test]
    fn ties_are_broken_uniformly_and_reproducibly() {
        let nodes = [Candidate {
            shape: node(4000, 16 * GI),
            used: NodeUsage::default(),
        }; 3];
        let p = req(100, GI);
        let mut counts = [0u32; 3];
        let mut rng = RngStreams::new(7).get(Stream::Placement, 0);
        for _ in 0..3000 {
            let i = schedule(p, p, &nodes, ScoringStrategy::LeastAllocated, &mut rng).unwrap();
            counts[i] += 1;
        }
        for c in counts {
            assert!((900..1100).contains(&c), "{counts:?}");
        }
        let mut a = RngStreams::new(7).get(Stream::Placement, 0);
        let mut b = RngStreams::new(7).get(Stream::Placement, 0);
        for _ in 0..50 {
            assert_eq!(
                schedule(p, p, &nodes, ScoringStrategy::LeastAllocated, &mut a),
                schedule(p, p, &nodes, ScoringStrategy::LeastAllocated, &mut b)
            );
        }
    }
}
