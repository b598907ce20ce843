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
    /// `--max-scale-down-parallelism`: most nodes deleted at once.
    pub max_scale_down_parallelism: u32,
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
            max_scale_down_parallelism: 10,
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

    /// Forgets a node (deleted).
    pub fn forget(&mut self, n: u32) {
        self.since.remove(&n);
    }
}

/// `isScaleDownInCooldown` for the delays the simulator models: the
/// cooldown holds while a delay is not yet over (strictly).
pub fn scale_down_in_cooldown(
    s: &Settings,
    now: SimTime,
    last_scale_up: Option<SimTime>,
    last_delete: Option<SimTime>,
) -> bool {
    last_scale_up.is_some_and(|t| t + s.scale_down_delay_after_add > now)
        || last_delete.is_some_and(|t| t + s.scale_down_delay_after_delete > now)
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
        let up = Some(SimTime::from_secs(100));
        assert!(scale_down_in_cooldown(
            &s,
            SimTime::from_secs(699),
            up,
            None
        ));
        assert!(!scale_down_in_cooldown(
            &s,
            SimTime::from_secs(700),
            up,
            None
        ));
        assert!(!scale_down_in_cooldown(
            &s,
            SimTime::from_secs(0),
            None,
            None
        ));
    }
}
