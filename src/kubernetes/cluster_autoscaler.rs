//! The decisions of the Kubernetes Cluster Autoscaler, as pure functions
//! over a snapshot of nodes and pending pods.
//!
//! Follows `cluster-autoscaler`: `estimator/binpacking_estimator.go` and
//! `estimator/decreasing_pod_orderer.go` (how many template nodes a set of
//! pending pods needs, first-fit decreasing), `expander/waste/waste.go` (the
//! least-waste expander), `simulator/utilization/info.go` (a node's
//! utilization: the larger of its CPU and memory request ratios),
//! `core/scaledown/unneeded/nodes.go` (the unneeded-since timer, reset when a
//! node stops being unneeded) and `core/static_autoscaler.go`
//! (`isScaleDownInCooldown`). Defaults are the flag defaults of the FAQ.

use super::resources::PodRequest;
use super::scheduler::{fits, NodeShape, NodeUsage};
use crate::sim::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// `--expander`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Expander {
    /// `least-waste` (the default): the option leaving the least idle CPU
    /// and memory on the new nodes.
    #[default]
    LeastWaste,
    /// `random`.
    Random,
}

impl Expander {
    /// The flag value.
    pub fn name(self) -> &'static str {
        match self {
            Expander::LeastWaste => "least-waste",
            Expander::Random => "random",
        }
    }

    /// Reads a flag value.
    pub fn parse(s: &str) -> Option<Expander> {
        match s {
            "least-waste" => Some(Expander::LeastWaste),
            "random" => Some(Expander::Random),
            _ => None,
        }
    }
}

/// The autoscaler's flags the simulator models, with upstream defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// `--scan-interval`.
    pub scan_interval: SimDuration,
    /// `--expander`.
    pub expander: Expander,
    /// `--max-nodes-total` (0 = no limit).
    pub max_nodes_total: u32,
    /// `--scale-down-enabled`.
    pub scale_down_enabled: bool,
    /// `--scale-down-utilization-threshold`.
    pub scale_down_utilization_threshold: f64,
    /// `--scale-down-unneeded-time`.
    pub scale_down_unneeded_time: SimDuration,
    /// `--scale-down-delay-after-add`.
    pub scale_down_delay_after_add: SimDuration,
    /// `--scale-down-delay-after-delete`.
    pub scale_down_delay_after_delete: SimDuration,
    /// `--scale-down-delay-after-failure`.
    pub scale_down_delay_after_failure: SimDuration,
    /// `--max-scale-down-parallelism`: most nodes deleted at once.
    pub max_scale_down_parallelism: u32,
    /// `--max-drain-parallelism`: most non-empty nodes drained at once.
    pub max_drain_parallelism: u32,
    /// `--node-delete-delay-after-taint`: from the taint to the evictions.
    pub node_delete_delay_after_taint: SimDuration,
    /// `--max-graceful-termination-sec`: the longest the autoscaler waits
    /// for evicted pods to terminate before it deletes the node.
    pub max_graceful_termination: SimDuration,
    /// `--unremovable-node-recheck-timeout`: a node whose pods could not
    /// move is not looked at again for this long.
    pub unremovable_node_recheck_timeout: SimDuration,
    /// `--new-pod-scale-up-delay`: pods younger than this do not trigger a
    /// scale-up.
    pub new_pod_scale_up_delay: SimDuration,
}

/// `unschedulablePodTimeBuffer`: no scale-up while the oldest unschedulable
/// pod is younger than this.
pub const UNSCHEDULABLE_POD_TIME_BUFFER: SimDuration = SimDuration::from_secs(2);

impl Default for Settings {
    fn default() -> Self {
        Settings {
            scan_interval: SimDuration::from_secs(10),
            expander: Expander::LeastWaste,
            max_nodes_total: 0,
            scale_down_enabled: true,
            scale_down_utilization_threshold: 0.5,
            scale_down_unneeded_time: SimDuration::from_secs(600),
            scale_down_delay_after_add: SimDuration::from_secs(600),
            scale_down_delay_after_delete: SimDuration::ZERO,
            scale_down_delay_after_failure: SimDuration::from_secs(180),
            max_scale_down_parallelism: 10,
            max_drain_parallelism: 1,
            node_delete_delay_after_taint: SimDuration::from_secs(5),
            max_graceful_termination: SimDuration::from_secs(600),
            unremovable_node_recheck_timeout: SimDuration::from_secs(300),
            new_pod_scale_up_delay: SimDuration::ZERO,
        }
    }
}

/// The binpacking estimate for one node group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Estimate {
    /// New nodes that received at least one pod.
    pub nodes: u32,
    /// Indices (into the pods given) of the pods placed on them.
    pub pods: Vec<usize>,
}

/// `BinpackingNodeEstimator.Estimate` for pods of the same controller
/// shape: pods in decreasing order of `cpu/alloc.cpu + mem/alloc.mem`
/// (stable, so equal pods keep their queue order), each placed on the
/// first new node it fits, else on a fresh template node, at most
/// `max_nodes` of them. A pod that does not fit an empty template is
/// skipped; once a fresh node stays empty the rest of its group would not
/// help either.
pub fn estimate(pods: &[PodRequest], template: &NodeShape, max_nodes: u32) -> Estimate {
    let a = template.allocatable;
    let ratio = |p: &PodRequest| {
        let c = if a.cpu_milli > 0 {
            p.cpu_milli as f64 / a.cpu_milli as f64
        } else {
            0.0
        };
        let m = if a.memory_bytes > 0 {
            p.memory_bytes as f64 / a.memory_bytes as f64
        } else {
            0.0
        };
        c + m
    };
    let mut order: Vec<usize> = (0..pods.len()).collect();
    order.sort_by(|&x, &y| ratio(&pods[y]).total_cmp(&ratio(&pods[x])));
    let mut nodes: Vec<NodeUsage> = Vec::new();
    let mut placed = Vec::new();
    for i in order {
        let p = pods[i];
        if let Some(n) = nodes.iter_mut().find(|n| fits(p, template, n)) {
            n.add(p, p);
            placed.push(i);
            continue;
        }
        if !fits(p, template, &NodeUsage::default()) || nodes.len() as u32 >= max_nodes {
            continue;
        }
        let mut n = NodeUsage::default();
        n.add(p, p);
        nodes.push(n);
        placed.push(i);
    }
    placed.sort_unstable();
    Estimate {
        nodes: nodes.len() as u32,
        pods: placed,
    }
}

/// The least-waste expander's score of adding `nodes` nodes of capacity
/// `capacity` for pods requesting `requested` in total: idle CPU fraction
/// plus idle memory fraction. Lower is better.
pub fn waste(capacity: PodRequest, nodes: u32, requested: PodRequest) -> f64 {
    let avail_cpu = capacity.cpu_milli as f64 * nodes as f64;
    let avail_mem = capacity.memory_bytes as f64 * nodes as f64;
    let frac = |avail: f64, used: i64| {
        if avail > 0.0 {
            (avail - used as f64) / avail
        } else {
            0.0
        }
    };
    frac(avail_cpu, requested.cpu_milli) + frac(avail_mem, requested.memory_bytes)
}

/// `Calculate`: the larger of a node's CPU and memory request ratios. A
/// node without allocatable CPU or memory counts as fully used, so it is
/// never removed for being idle.
pub fn utilization(requested: PodRequest, allocatable: PodRequest) -> f64 {
    if allocatable.cpu_milli <= 0 || allocatable.memory_bytes <= 0 {
        return 1.0;
    }
    let c = requested.cpu_milli as f64 / allocatable.cpu_milli as f64;
    let m = requested.memory_bytes as f64 / allocatable.memory_bytes as f64;
    c.max(m)
}

/// The unneeded-since timer of every node, keyed by node id.
#[derive(Clone, Debug, Default)]
pub struct Unneeded {
    since: BTreeMap<u32, SimTime>,
}

impl Unneeded {
    /// Replaces the set of unneeded nodes with `nodes` (found unneeded in
    /// the loop at `now`): a node keeps its old timestamp, a new one starts
    /// at `now`, a node no longer unneeded loses its timer.
    pub fn update(&mut self, nodes: &[u32], now: SimTime) {
        let mut next = BTreeMap::new();
        for &n in nodes {
            next.insert(n, self.since.get(&n).copied().unwrap_or(now));
        }
        self.since = next;
    }

    /// Whether node `n` has been unneeded for strictly longer than `after`.
    pub fn removable(&self, n: u32, now: SimTime, after: SimDuration) -> bool {
        self.since.get(&n).is_some_and(|&t| t + after < now)
    }

    /// Whether node `n` was unneeded in the last loop.
    pub fn contains(&self, n: u32) -> bool {
        self.since.contains_key(&n)
    }

    /// Forgets a node (deleted).
    pub fn forget(&mut self, n: u32) {
        self.since.remove(&n);
    }
}

/// When the autoscaler last scaled up, deleted a node and failed to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LastActions {
    /// Last successful scale-up.
    pub scale_up: Option<SimTime>,
    /// Last node deletion started.
    pub delete: Option<SimTime>,
    /// Last failed scale-down.
    pub failure: Option<SimTime>,
}

/// `isScaleDownInCooldown` (global delays): the cooldown holds while a
/// delay is not yet over (strictly).
pub fn scale_down_in_cooldown(s: &Settings, now: SimTime, last: LastActions) -> bool {
    last.scale_up
        .is_some_and(|t| t + s.scale_down_delay_after_add > now)
        || last
            .delete
            .is_some_and(|t| t + s.scale_down_delay_after_delete > now)
        || last
            .failure
            .is_some_and(|t| t + s.scale_down_delay_after_failure > now)
}

/// `ScaleDownBudgetProcessor.CropNodes` for node groups without atomic
/// scale-down: of `empty` and `drain` removable nodes, how many of each
/// start now, given the deletions already under way. Empty nodes come
/// first, up to `max-scale-down-parallelism` in total; non-empty ones take
/// what is left, at most `max-drain-parallelism` draining at once.
pub fn crop(
    s: &Settings,
    empty: usize,
    drain: usize,
    empty_in_progress: usize,
    drain_in_progress: usize,
) -> (usize, usize) {
    let parallelism = (s.max_scale_down_parallelism as usize)
        .saturating_sub(empty_in_progress + drain_in_progress);
    let drain_budget = (s.max_drain_parallelism as usize).saturating_sub(drain_in_progress);
    let e = empty.min(parallelism);
    let d = drain.min(drain_budget.min(parallelism - e));
    (e, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubernetes::scheduler::DEFAULT_MAX_PODS;

    fn req(cpu: i64, mem: i64) -> PodRequest {
        PodRequest {
            cpu_milli: cpu,
            memory_bytes: mem,
        }
    }

    fn shape(cpu: i64, mem: i64, max_pods: u32) -> NodeShape {
        NodeShape {
            allocatable: req(cpu, mem),
            max_pods,
        }
    }

    #[test]
    fn binpacking_needs_ceil_of_pods_over_pods_per_node() {
        // 10 pods of 350m on 1000m nodes, 2 per node -> 5 nodes.
        let pods = [req(350, 1000); 10];
        let e = estimate(&pods, &shape(1000, 1 << 30, DEFAULT_MAX_PODS), 1000);
        assert_eq!(e.nodes, 5);
        assert_eq!(e.pods.len(), 10);
        // The pod count limits too: 3 pods per node of maxPods 3.
        let e = estimate(&[req(1, 1); 10], &shape(1000, 1000, 3), 1000);
        assert_eq!(e.nodes, 4);
    }

    #[test]
    fn binpacking_puts_big_pods_first_and_honours_the_node_limit() {
        // Decreasing order: the 600m pods open nodes, the 400m ones fill them.
        let pods = [req(400, 0), req(600, 0), req(400, 0), req(600, 0)];
        let e = estimate(&pods, &shape(1000, 1 << 30, 110), 1000);
        assert_eq!(e.nodes, 2);
        let e = estimate(&pods, &shape(1000, 1 << 30, 110), 1);
        assert_eq!(e.nodes, 1);
        assert_eq!(e.pods, [0, 1], "one 600m and one 400m pod on the one node");
        // A pod bigger than the template is never placed.
        let e = estimate(&[req(2000, 0)], &shape(1000, 1 << 30, 110), 10);
        assert_eq!(e, Estimate::default());
    }

    #[test]
    fn least_waste_prefers_the_shape_the_pods_fill() {
        // The same pods on a bigger machine waste more.
        let pods = req(1500, 3 << 30);
        let small = waste(req(2000, 4 << 30), 1, pods);
        let big = waste(req(8000, 32 << 30), 1, pods);
        assert!((small - 0.5).abs() < 1e-12, "{small}");
        assert!(small < big);
    }

    #[test]
    fn utilization_is_the_larger_ratio() {
        assert_eq!(utilization(req(500, 1 << 29), req(1000, 1 << 30)), 0.5);
        assert_eq!(utilization(req(100, 3 << 28), req(1000, 1 << 30)), 0.75);
        assert_eq!(utilization(req(0, 0), req(0, 1)), 1.0);
    }

    #[test]
    fn the_unneeded_timer_keeps_its_start_and_resets_when_needed_again() {
        let ten = SimDuration::from_secs(600);
        let mut u = Unneeded::default();
        u.update(&[1, 2], SimTime::from_secs(10));
        u.update(&[1, 2], SimTime::from_secs(20));
        assert!(
            !u.removable(1, SimTime::from_secs(610), ten),
            "not strictly after"
        );
        assert!(u.removable(1, SimTime::from_secs(620), ten));
        u.update(&[1], SimTime::from_secs(300));
        u.update(&[1, 2], SimTime::from_secs(310));
        assert!(
            !u.removable(2, SimTime::from_secs(620), ten),
            "timer restarted"
        );
        assert!(u.removable(2, SimTime::from_secs(920), ten));
    }

    #[test]
    fn cooldown_after_a_scale_up_ends_exactly_at_the_delay() {
        let s = Settings::default();
        let up = LastActions {
            scale_up: Some(SimTime::from_secs(100)),
            ..LastActions::default()
        };
        assert!(scale_down_in_cooldown(&s, SimTime::from_secs(699), up));
        assert!(!scale_down_in_cooldown(&s, SimTime::from_secs(700), up));
        let none = LastActions::default();
        assert!(!scale_down_in_cooldown(&s, SimTime::from_secs(0), none));
    }

    #[test]
    fn cooldown_after_a_failure_lasts_three_minutes_and_after_delete_none() {
        let s = Settings::default();
        let fail = LastActions {
            failure: Some(SimTime::from_secs(100)),
            ..LastActions::default()
        };
        assert!(scale_down_in_cooldown(&s, SimTime::from_secs(279), fail));
        assert!(!scale_down_in_cooldown(&s, SimTime::from_secs(280), fail));
        let del = LastActions {
            delete: Some(SimTime::from_secs(100)),
            ..LastActions::default()
        };
        assert!(!scale_down_in_cooldown(&s, SimTime::from_secs(100), del));
        let s = Settings {
            scale_down_delay_after_delete: SimDuration::from_secs(60),
            ..Settings::default()
        };
        assert!(scale_down_in_cooldown(&s, SimTime::from_secs(159), del));
    }

    /// Every row of `budgets_test.go` (`TestCropNodesToBudgets`) without an
    /// atomic node group: (empty, drain, empty and drain deletions in
    /// progress) -> (empty, drain) started, with parallelism 10 and drain
    /// parallelism 5 as there.
    #[test]
    fn budgets_crop_as_upstream() {
        let s = Settings {
            max_scale_down_parallelism: 10,
            max_drain_parallelism: 5,
            ..Settings::default()
        };
        type Row = ((usize, usize, usize, usize), (usize, usize));
        let rows: [Row; 27] = [
            ((0, 0, 0, 0), (0, 0)),    // no nodes
            ((10, 0, 0, 0), (10, 0)),  // empty nodes within max limit
            ((11, 0, 0, 0), (10, 0)),  // empty nodes exceeding max limit
            ((8, 0, 1, 1), (8, 0)),    // empty, deletions in progress, within budget
            ((10, 0, 1, 1), (8, 0)),   // ... exceeding budget
            ((10, 0, 5, 5), (0, 0)),   // ... 0 budget left
            ((10, 0, 50, 50), (0, 0)), // ... budget exceeded
            ((0, 5, 0, 0), (0, 5)),    // drain nodes within max limit
            ((0, 10, 0, 0), (0, 5)),   // multiple drain node groups
            ((0, 6, 0, 0), (0, 5)),    // drain nodes exceeding max limit
            ((0, 3, 1, 2), (0, 3)),    // drain, deletions in progress, within budget
            ((0, 5, 1, 2), (0, 3)),    // ... exceeding drain budget
            ((0, 5, 1, 5), (0, 0)),    // ... 0 drain budget left
            ((0, 5, 1, 50), (0, 0)),   // ... drain budget exceeded
            ((0, 4, 7, 1), (0, 2)),    // ... exceeding overall budget
            ((0, 4, 10, 0), (0, 0)),   // ... 0 overall budget left
            ((0, 4, 50, 0), (0, 0)),   // ... overall budget exceeded
            ((5, 5, 0, 0), (5, 5)),    // empty&drain within max limits
            ((8, 8, 0, 0), (8, 2)),    // empty&drain exceeding overall limit
            ((2, 8, 0, 0), (2, 5)),    // empty&drain exceeding drain limit
            ((5, 5, 10, 0), (0, 0)),   // ... 0 overall budget left
            ((5, 5, 50, 0), (0, 0)),   // ... overall budget exceeded
            ((5, 5, 0, 5), (5, 0)),    // ... 0 drain budget left
            ((5, 5, 0, 9), (1, 0)),    // ... drain budget exceeded (sanity check)
            ((5, 2, 5, 3), (2, 0)),    // ... only empty nodes fit
            ((1, 2, 5, 3), (1, 1)),    // ... both empty&drain nodes fit
            ((4, 5, 1, 3), (4, 2)),    // ... drain budget exceeded
        ];
        for ((e, d, ep, dp), want) in rows {
            assert_eq!(crop(&s, e, d, ep, dp), want, "{e} {d} {ep} {dp}");
        }
        // Defaults: one drain at a time.
        let d = Settings::default();
        assert_eq!(crop(&d, 3, 4, 0, 0), (3, 1));
        assert_eq!(crop(&d, 0, 4, 0, 1), (0, 0));
    }
}
