//! `[[cluster.node-pool]]`, `[cluster.autoscaler]` and
//! `cluster.scoring-strategy`: the nodes pods are placed on and the
//! Cluster Autoscaler that adds and removes them.

use super::duration_field;
use super::problems::Problems;
use super::revision::workload_problem;
use crate::kubernetes::cluster_autoscaler::{Expander, Settings};
use crate::kubernetes::quantity::parse_quantity;
use crate::kubernetes::resources::PodRequest;
use crate::kubernetes::scheduler::{NodeShape, ScoringStrategy, DEFAULT_MAX_PODS};
use crate::sim::SimDuration;
use crate::workload::{Dist, DistSpec, DurationValue};
use serde::{Deserialize, Serialize};
use std::path::Path;

use super::raw::ConfigValue;

/// Default time from the autoscaler's request to a Ready node (the FAQ's
/// "typically 3–4 minutes" on GCE, rounded down).
pub const DEFAULT_PROVISIONING_SECS: f64 = 180.0;

/// Default time from the decision to delete a node until it stops being
/// billed (taint, drain of an empty node, VM deletion).
pub const DEFAULT_DELETION_SECS: f64 = 60.0;

/// One `[[cluster.node-pool]]` as written.
#[derive(Clone, Debug, Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawNodePool {
    /// Pool (node group) name.
    pub name: Option<String>,
    /// Allocatable CPU of one node, a quantity (`"3920m"`, `4`).
    pub cpu: Option<ConfigValue>,
    /// Allocatable memory of one node, a quantity (`"14Gi"`).
    pub memory: Option<ConfigValue>,
    /// Fixed node count (the autoscaler leaves the pool alone).
    pub count: Option<u32>,
    /// Fewest nodes the autoscaler keeps.
    pub min: Option<u32>,
    /// Most nodes the autoscaler makes.
    pub max: Option<u32>,
    /// Nodes Ready at the start (default `min`).
    pub initial: Option<u32>,
    /// Price of one node per hour, in any currency.
    pub price_per_hour: Option<f64>,
    /// Seconds from the autoscaler's request until the node is Ready.
    pub provisioning_time: Option<DistSpec>,
    /// Seconds from the decision to delete until the node is gone.
    pub deletion_time: Option<DistSpec>,
    /// The kubelet's `maxPods`.
    pub max_pods: Option<u32>,
}

/// `[cluster.autoscaler]` as written: the Cluster Autoscaler's flags.
#[derive(Clone, Debug, Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawClusterAutoscaler {
    /// `--scan-interval`.
    pub scan_interval: Option<DurationValue>,
    /// `--expander`: `least-waste` or `random`.
    pub expander: Option<String>,
    /// `--max-nodes-total` (0 = no limit).
    pub max_nodes_total: Option<u32>,
    /// `--scale-down-enabled`.
    pub scale_down_enabled: Option<bool>,
    /// `--scale-down-utilization-threshold`.
    pub scale_down_utilization_threshold: Option<f64>,
    /// `--scale-down-unneeded-time`.
    pub scale_down_unneeded_time: Option<DurationValue>,
    /// `--scale-down-delay-after-add`.
    pub scale_down_delay_after_add: Option<DurationValue>,
    /// `--scale-down-delay-after-delete`.
    pub scale_down_delay_after_delete: Option<DurationValue>,
    /// `--scale-down-delay-after-failure`.
    pub scale_down_delay_after_failure: Option<DurationValue>,
    /// `--max-scale-down-parallelism`.
    pub max_scale_down_parallelism: Option<u32>,
    /// `--max-drain-parallelism`.
    pub max_drain_parallelism: Option<u32>,
    /// `--node-delete-delay-after-taint`.
    pub node_delete_delay_after_taint: Option<DurationValue>,
    /// `--max-graceful-termination-sec`, whole seconds.
    pub max_graceful_termination_sec: Option<u64>,
    /// `--unremovable-node-recheck-timeout`.
    pub unremovable_node_recheck_timeout: Option<DurationValue>,
    /// `--new-pod-scale-up-delay`.
    pub new_pod_scale_up_delay: Option<DurationValue>,
}

/// One validated node pool.
#[derive(Clone, Debug)]
pub struct NodePoolSpec {
    /// Pool name.
    pub name: String,
    /// What one node offers.
    pub shape: NodeShape,
    /// Fewest nodes.
    pub min: u32,
    /// Most nodes.
    pub max: u32,
    /// Nodes Ready at the start.
    pub initial: u32,
    /// Price of one node per hour.
    pub price_per_hour: f64,
    /// Request-to-Ready time of a new node, seconds.
    pub provisioning: Dist,
    /// Decision-to-gone time of a deleted node, seconds.
    pub deletion: Dist,
}

/// Nodes, the scheduler's strategy and the Cluster Autoscaler; present only
/// when the scenario has node pools.
#[derive(Clone, Debug)]
pub struct NodesSpec {
    /// Node pools, in scenario order.
    pub pools: Vec<NodePoolSpec>,
    /// The Cluster Autoscaler's settings.
    pub autoscaler: Settings,
    /// NodeResourcesFit's scoring strategy.
    pub scoring: ScoringStrategy,
}

fn quantity(p: &mut Problems, field: &str, v: &Option<ConfigValue>, memory: bool) -> i64 {
    let Some(v) = v else {
        p.push(field, "is required");
        return 0;
    };
    match parse_quantity(&v.as_knative_string()) {
        Ok(q) => {
            let n = if memory { q.value() } else { q.milli_value() };
            if n <= 0 {
                p.push(field, "must be greater than 0");
            }
            n
        }
        Err(e) => {
            p.push(field, e.to_string());
            0
        }
    }
}

fn dist(p: &mut Problems, field: &str, v: &Option<DistSpec>, default: f64, base: &Path) -> Dist {
    match v {
        None => Dist::constant(default),
        Some(s) => s.build(field, base).unwrap_or_else(|e| {
            let (f, r) = workload_problem(&e);
            p.push(f, r);
            Dist::constant(default)
        }),
    }
}

/// Validates the node pools and the autoscaler; `None` when there are no
/// node pools (then `[cluster.autoscaler]` and the scoring strategy must be
/// absent too, so that a setting is never silently ignored).
pub(super) fn build_nodes(
    p: &mut Problems,
    pools: &[RawNodePool],
    ca: &Option<RawClusterAutoscaler>,
    scoring: &Option<String>,
    max_pods: Option<u32>,
    base: &Path,
) -> Option<NodesSpec> {
    if pools.is_empty() {
        if ca.is_some() {
            p.push(
                "cluster.autoscaler",
                "needs at least one [[cluster.node-pool]]",
            );
        }
        if scoring.is_some() {
            p.push(
                "cluster.scoring-strategy",
                "needs at least one [[cluster.node-pool]]",
            );
        }
        return None;
    }
    if max_pods.is_some() {
        p.push(
            "cluster.max-pods",
            "cannot be combined with [[cluster.node-pool]] (node pools bound the pods already)",
        );
    }
    let mut out = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for (i, r) in pools.iter().enumerate() {
        let at = |f: &str| format!("cluster.node-pool[{i}].{f}");
        let name = r.name.clone().unwrap_or_else(|| format!("pool-{i}"));
        if !names.insert(name.clone()) {
            p.push(at("name"), format!("{name:?} is used by another pool"));
        }
        let cpu = quantity(p, &at("cpu"), &r.cpu, false);
        let memory = quantity(p, &at("memory"), &r.memory, true);
        let (min, max) = match (r.count, r.min, r.max) {
            (Some(c), None, None) => (c, c),
            (Some(_), _, _) => {
                p.push(at("count"), "cannot be combined with min or max");
                (0, 0)
            }
            (None, min, Some(max)) => (min.unwrap_or(0), max),
            (None, _, None) => {
                p.push(at("max"), "is required unless count is given");
                (0, 0)
            }
        };
        if min > max {
            p.push(at("min"), format!("must not be above max ({max})"));
        }
        let initial = r.initial.unwrap_or(min);
        if initial < min || initial > max {
            p.push(
                at("initial"),
                format!("must be between min ({min}) and max ({max})"),
            );
        }
        let price = r.price_per_hour.unwrap_or(0.0);
        if !price.is_finite() || price < 0.0 {
            p.push(at("price-per-hour"), "must be a non-negative number");
        }
        let max_pods = r.max_pods.unwrap_or(DEFAULT_MAX_PODS);
        if max_pods == 0 {
            p.push(at("max-pods"), "must be at least 1");
        }
        out.push(NodePoolSpec {
            name,
            shape: NodeShape {
                allocatable: PodRequest {
                    cpu_milli: cpu,
                    memory_bytes: memory,
                },
                max_pods,
            },
            min,
            max,
            initial,
            price_per_hour: price,
            provisioning: dist(
                p,
                &at("provisioning-time"),
                &r.provisioning_time,
                DEFAULT_PROVISIONING_SECS,
                base,
            ),
            deletion: dist(
                p,
                &at("deletion-time"),
                &r.deletion_time,
                DEFAULT_DELETION_SECS,
                base,
            ),
        });
    }
    let scoring = match scoring.as_deref() {
        None => ScoringStrategy::default(),
        Some(s) => ScoringStrategy::parse(s).unwrap_or_else(|| {
            p.push(
                "cluster.scoring-strategy",
                format!("{s:?} is not LeastAllocated or MostAllocated"),
            );
            ScoringStrategy::default()
        }),
    };
    let autoscaler = build_autoscaler(p, ca.as_ref().cloned().unwrap_or_default());
    Some(NodesSpec {
        pools: out,
        autoscaler,
        scoring,
    })
}

fn build_autoscaler(p: &mut Problems, r: RawClusterAutoscaler) -> Settings {
    let d = Settings::default();
    let dur = |p: &mut Problems, f: &str, v: &Option<DurationValue>, def| {
        duration_field(p, &format!("cluster.autoscaler.{f}"), v, def)
    };
    let scan_interval = dur(p, "scan-interval", &r.scan_interval, d.scan_interval);
    if scan_interval.as_nanos() == 0 {
        p.push("cluster.autoscaler.scan-interval", "must be greater than 0");
    }
    let expander = match r.expander.as_deref() {
        None => d.expander,
        Some(s) => Expander::parse(s).unwrap_or_else(|| {
            p.push(
                "cluster.autoscaler.expander",
                format!("{s:?} is not least-waste or random"),
            );
            d.expander
        }),
    };
    let threshold = r
        .scale_down_utilization_threshold
        .unwrap_or(d.scale_down_utilization_threshold);
    if !(0.0..=1.0).contains(&threshold) {
        p.push(
            "cluster.autoscaler.scale-down-utilization-threshold",
            "must be between 0 and 1",
        );
    }
    let parallelism = r
        .max_scale_down_parallelism
        .unwrap_or(d.max_scale_down_parallelism);
    if parallelism == 0 {
        p.push(
            "cluster.autoscaler.max-scale-down-parallelism",
            "must be at least 1",
        );
    }
    let drain_parallelism = r.max_drain_parallelism.unwrap_or(d.max_drain_parallelism);
    if drain_parallelism == 0 {
        p.push(
            "cluster.autoscaler.max-drain-parallelism",
            "must be at least 1",
        );
    }
    Settings {
        scan_interval: if scan_interval.as_nanos() == 0 {
            d.scan_interval
        } else {
            scan_interval
        },
        expander,
        max_nodes_total: r.max_nodes_total.unwrap_or(d.max_nodes_total),
        scale_down_enabled: r.scale_down_enabled.unwrap_or(d.scale_down_enabled),
        scale_down_utilization_threshold: threshold,
        scale_down_unneeded_time: dur(
            p,
            "scale-down-unneeded-time",
            &r.scale_down_unneeded_time,
            d.scale_down_unneeded_time,
        ),
        scale_down_delay_after_add: dur(
            p,
            "scale-down-delay-after-add",
            &r.scale_down_delay_after_add,
            d.scale_down_delay_after_add,
        ),
        scale_down_delay_after_delete: dur(
            p,
            "scale-down-delay-after-delete",
            &r.scale_down_delay_after_delete,
            d.scale_down_delay_after_delete,
        ),
        scale_down_delay_after_failure: dur(
            p,
            "scale-down-delay-after-failure",
            &r.scale_down_delay_after_failure,
            d.scale_down_delay_after_failure,
        ),
        max_scale_down_parallelism: parallelism.max(1),
        max_drain_parallelism: drain_parallelism.max(1),
        node_delete_delay_after_taint: dur(
            p,
            "node-delete-delay-after-taint",
            &r.node_delete_delay_after_taint,
            d.node_delete_delay_after_taint,
        ),
        max_graceful_termination: r
            .max_graceful_termination_sec
            .map_or(d.max_graceful_termination, SimDuration::from_secs),
        unremovable_node_recheck_timeout: dur(
            p,
            "unremovable-node-recheck-timeout",
            &r.unremovable_node_recheck_timeout,
            d.unremovable_node_recheck_timeout,
        ),
        new_pod_scale_up_delay: dur(
            p,
            "new-pod-scale-up-delay",
            &r.new_pod_scale_up_delay,
            d.new_pod_scale_up_delay,
        ),
    }
}
